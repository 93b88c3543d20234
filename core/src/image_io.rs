//! Decoding encoded still images (JPEG, PNG) as uploaded or read from disk: size limits,
//! EXIF orientation honoured, result converted to upright RGB.

use crate::error::{Error, Result};
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};
use std::io::Cursor;
use std::path::Path;

/// Largest accepted side of a decoded image, pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Largest accepted encoded input, bytes (uploads are checked against tighter limits
/// where a flow demands it).
pub const MAX_ENCODED_BYTES: usize = 64 * 1024 * 1024;

/// Decodes a JPEG or PNG held in memory, applying its EXIF orientation.
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage> {
    let _span = tracing::debug_span!("decode_image", bytes = bytes.len()).entered();
    if bytes.len() > MAX_ENCODED_BYTES {
        return Err(Error::ImageDecode(format!(
            "{} bytes is more than the {} accepted",
            bytes.len(),
            MAX_ENCODED_BYTES
        )));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::ImageDecode(e.to_string()))?;
    if reader.format().is_none() {
        return Err(Error::ImageDecode("not a JPEG or PNG image".into()));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Error::ImageDecode(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .map_err(|e| Error::ImageDecode(e.to_string()))?;
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| Error::ImageDecode(e.to_string()))?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}

/// Reads and decodes an image file (see [`decode_image`]).
pub fn load_image(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    decode_image(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_images_are_typed_errors() {
        assert!(matches!(
            decode_image(b"not an image"),
            Err(Error::ImageDecode(_))
        ));
        let mut png = Vec::new();
        RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]))
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(decode_image(&png).unwrap().dimensions(), (8, 8));
        assert!(matches!(
            decode_image(&png[..png.len() / 2]),
            Err(Error::ImageDecode(_))
        ));
    }
}
