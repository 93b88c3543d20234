//! Decoding encoded still images (JPEG, PNG, WebP) as uploaded or read from disk: size
//! limits, EXIF orientation honoured, result converted to upright RGB.
//!
//! # Budget
//! Every limit is checked **before** the pixels are decoded, from the header alone
//! ([`read_header`]), so a small file that claims a huge picture (a 522 kB PNG of
//! 8192 × 8192 16-bit RGBA pixels would take 512 MiB decoded) costs nothing:
//!
//! * at most [`MAX_ENCODED_BYTES`] of input;
//! * at most [`MAX_IMAGE_SIDE`] pixels a side and [`MAX_IMAGE_PIXELS`] pixels in all;
//! * at most [`MAX_DECODED_BYTES`] for the decoder's output buffer (deep-colour and alpha
//!   formats take more than 3 bytes a pixel);
//! * at most [`MAX_METADATA_BYTES`] for what the decoder keeps besides the pixels (a PNG's
//!   compressed ICC profile or text chunks, which it would otherwise inflate without bound).
//!
//! [`load_image`] reads regular files only (a FIFO or `/dev/zero` is refused before it is
//! opened) and never more than [`MAX_ENCODED_BYTES`] + 1 bytes, whatever the file claims.

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use std::io::{Cursor, Read};
use std::path::Path;

/// Largest accepted side of a decoded image, pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Largest accepted picture, pixels (width × height): 50 megapixels, which admits the
/// full-resolution photos of 50-megapixel phone cameras (8160 × 6120) and refuses the
/// 67-megapixel square a side limit alone would allow.
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;
/// Largest decoder output buffer, bytes: three bytes a pixel at [`MAX_IMAGE_PIXELS`]
/// (8-bit RGB). A 16-bit or alpha picture is accepted up to as many bytes, i.e. fewer
/// pixels.
pub const MAX_DECODED_BYTES: u64 = 3 * MAX_IMAGE_PIXELS;
/// Most bytes the decoder may allocate besides the pixel buffer (ICC profile, text and EXIF
/// chunks, line buffers), 16 MiB: real ICC profiles are a few kilobytes to a megabyte.
pub const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;
/// Largest accepted encoded input, bytes (uploads are checked against tighter limits
/// where a flow demands it).
pub const MAX_ENCODED_BYTES: usize = 64 * 1024 * 1024;

/// An encoded image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a JPEG, PNG or WebP image the decoder can read.
    #[error("could not decode image: {0}")]
    Decode(String),

    /// The image (or its file) is larger than the decoder's budget: refused before its
    /// pixels are decoded.
    #[error("image too large: {0}")]
    TooLarge(#[from] ImageLimitError),

    /// Reading the file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Why an image is refused before its pixels are decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageLimitError {
    /// The encoded input (file or buffer) is larger than [`MAX_ENCODED_BYTES`].
    #[error("{bytes} bytes is more than the {max} accepted")]
    EncodedBytes {
        /// Size of the input (at least this; a file is not read past the limit).
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A side is longer than [`MAX_IMAGE_SIDE`].
    #[error("the image is {width}×{height} pixels; at most {max} a side are accepted")]
    Side {
        /// Stored width.
        width: u32,
        /// Stored height.
        height: u32,
        /// The limit.
        max: u32,
    },
    /// More pixels than [`MAX_IMAGE_PIXELS`].
    #[error("the image is {width}×{height} pixels; at most {max} pixels are accepted")]
    Pixels {
        /// Stored width.
        width: u32,
        /// Stored height.
        height: u32,
        /// The limit.
        max: u64,
    },
    /// The decoded picture would need more than [`MAX_DECODED_BYTES`].
    #[error(
        "the {width}×{height} image would take {bytes} bytes decoded; at most {max} are accepted"
    )]
    DecodedBytes {
        /// Stored width.
        width: u32,
        /// Stored height.
        height: u32,
        /// Bytes of the decoder's output buffer.
        bytes: u64,
        /// The limit.
        max: u64,
    },
}

/// What an encoded image's header says, read without decoding its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// The container format (JPEG, PNG or WebP).
    pub format: ImageFormat,
    /// Stored width (before EXIF orientation), pixels.
    pub width: u32,
    /// Stored height (before EXIF orientation), pixels.
    pub height: u32,
    /// Bytes of the decoder's output buffer (width × height × bytes per pixel).
    pub decoded_bytes: u64,
}

/// Checks a stored size and decoded buffer size against the budget (see the module docs).
pub fn check_budget(width: u32, height: u32, decoded_bytes: u64) -> Result<(), ImageLimitError> {
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(ImageLimitError::Side {
            width,
            height,
            max: MAX_IMAGE_SIDE,
        });
    }
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(ImageLimitError::Pixels {
            width,
            height,
            max: MAX_IMAGE_PIXELS,
        });
    }
    if decoded_bytes > MAX_DECODED_BYTES {
        return Err(ImageLimitError::DecodedBytes {
            width,
            height,
            bytes: decoded_bytes,
            max: MAX_DECODED_BYTES,
        });
    }
    Ok(())
}

fn decode_error(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Decode(e.to_string())
}

/// A decoder for `bytes` with the header read and the budget checked, but no pixels
/// decoded yet.
fn budgeted_decoder(bytes: &[u8]) -> Result<(ImageFormat, impl ImageDecoder + '_), DecodeError> {
    if bytes.len() > MAX_ENCODED_BYTES {
        return Err(ImageLimitError::EncodedBytes {
            bytes: bytes.len() as u64,
            max: MAX_ENCODED_BYTES as u64,
        }
        .into());
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(decode_error)?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => f,
        _ => return Err(DecodeError::Decode("not a JPEG, PNG or WebP image".into())),
    };
    // No side limits here: the header must be read to say which limit an image breaks
    // (`check_budget` below); reading it allocates no pixels.
    let mut limits = Limits::default();
    limits.max_image_width = None;
    limits.max_image_height = None;
    // Passed to the PNG decoder as its allocation limit while it reads the chunks before
    // the pixels: this is what bounds an inflated ICC profile.
    limits.max_alloc = Some(MAX_METADATA_BYTES);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => DecodeError::Decode(format!(
            "the image exceeds the decoder's limits ({e}): at most {MAX_METADATA_BYTES} bytes \
             of metadata"
        )),
        other => decode_error(other),
    })?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(DecodeError::Decode(format!(
            "the image is {width}×{height} pixels"
        )));
    }
    check_budget(width, height, decoder.total_bytes())?;
    Ok((format, decoder))
}

/// Reads the header of a JPEG, PNG or WebP held in memory and checks the budget (see the
/// module docs) without decoding any pixel.
pub fn read_header(bytes: &[u8]) -> Result<ImageHeader, DecodeError> {
    let (format, decoder) = budgeted_decoder(bytes)?;
    let (width, height) = decoder.dimensions();
    Ok(ImageHeader {
        format,
        width,
        height,
        decoded_bytes: decoder.total_bytes(),
    })
}

/// Decodes a JPEG, PNG or WebP held in memory, applying its EXIF orientation. The budget
/// (see the module docs) is checked from the header first.
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    let _span = tracing::debug_span!("decode_image", bytes = bytes.len()).entered();
    let (_, mut decoder) = budgeted_decoder(bytes)?;
    let orientation = decoder.orientation().map_err(decode_error)?;
    let img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    // `into_rgb8` keeps an RGB8 buffer as it is (no copy); other layouts are converted
    // and their buffer dropped.
    let mut img = DynamicImage::ImageRgb8(img.into_rgb8());
    img.apply_orientation(orientation);
    Ok(img.into_rgb8())
}

/// Reads a regular file of at most `max_bytes` bytes. Anything else — a directory, a FIFO,
/// a device such as `/dev/zero` — is refused before it is opened (special files report a
/// length of 0 and could be read forever), and the read stops one byte past the limit
/// whatever the file system claims.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, DecodeError> {
    let io = |source: std::io::Error| DecodeError::Io {
        path: path.display().to_string(),
        source,
    };
    let not_regular = || {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    };
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // Checked again on the opened file: the path may have been replaced meanwhile.
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let too_large = |bytes: u64| {
        DecodeError::TooLarge(ImageLimitError::EncodedBytes {
            bytes,
            max: max_bytes,
        })
    };
    if meta.len() > max_bytes {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads and decodes an image file (see [`decode_image`] and [`read_regular_file`]).
pub fn load_image(path: &Path) -> Result<RgbImage, DecodeError> {
    let bytes = read_regular_file(path, MAX_ENCODED_BYTES as u64)?;
    decode_image(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(img: &DynamicImage) -> Vec<u8> {
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        png
    }

    #[test]
    fn garbage_and_truncated_images_are_typed_errors() {
        assert!(matches!(
            decode_image(b"not an image"),
            Err(DecodeError::Decode(_))
        ));
        let png = png_of(&RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3])).into());
        assert_eq!(decode_image(&png).unwrap().dimensions(), (8, 8));
        assert!(matches!(
            decode_image(&png[..png.len() / 2]),
            Err(DecodeError::Decode(_))
        ));
    }

    /// The PNG header of a `width`×`height` picture of `color_type` (2 = RGB, 6 = RGBA) at
    /// `depth` bits, with one empty IDAT: enough for the header to be read, not decoded.
    fn png_header_only(width: u32, height: u32, depth: u8, color_type: u8) -> Vec<u8> {
        use lifecert_test_support::png_chunk as chunk;
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[depth, color_type, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(
            &mut out,
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        );
        chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn the_budget_refuses_huge_pictures_from_the_header_alone() {
        // 8192×8192 16-bit RGBA: within the side limit, 67 megapixels, 512 MiB decoded.
        let huge = png_header_only(8192, 8192, 16, 6);
        assert!(huge.len() < 100);
        match decode_image(&huge) {
            Err(DecodeError::TooLarge(ImageLimitError::Pixels { width: 8192, .. })) => {}
            other => panic!("{:?}", other.map(|i| i.dimensions())),
        }
        // 6000×6000 16-bit RGB: 36 megapixels, but 216 MB decoded.
        match read_header(&png_header_only(6000, 6000, 16, 2)) {
            Err(DecodeError::TooLarge(ImageLimitError::DecodedBytes { bytes, .. })) => {
                assert_eq!(bytes, 6000 * 6000 * 6)
            }
            other => panic!("{other:?}"),
        }
        // 8-bit RGB at the same size is within the budget (the header says so; the
        // truncated pixel data then fails to decode, as a typed error).
        let header = read_header(&png_header_only(6000, 6000, 8, 2)).unwrap();
        assert_eq!((header.width, header.height), (6000, 6000));
        assert_eq!(header.decoded_bytes, 6000 * 6000 * 3);
        assert!(matches!(
            decode_image(&png_header_only(6000, 6000, 8, 2)),
            Err(DecodeError::Decode(_))
        ));
        assert!(matches!(
            read_header(&png_header_only(9000, 10, 8, 2)),
            Err(DecodeError::TooLarge(ImageLimitError::Side { .. }))
        ));
        assert!(check_budget(8160, 6120, 8160 * 6120 * 3).is_ok());
    }

    #[test]
    fn special_and_oversized_files_are_refused_without_reading_them() {
        let dir = std::env::temp_dir().join(format!("lifecert-image-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("small.bin");
        std::fs::write(&file, [7u8; 100]).unwrap();
        assert_eq!(read_regular_file(&file, 100).unwrap().len(), 100);
        assert!(matches!(
            read_regular_file(&file, 99),
            Err(DecodeError::TooLarge(ImageLimitError::EncodedBytes {
                bytes: 100,
                max: 99
            }))
        ));
        assert!(matches!(
            read_regular_file(&dir, 99),
            Err(DecodeError::Io { .. })
        ));
        #[cfg(unix)]
        {
            // A character device that never ends: refused, not read.
            match load_image(Path::new("/dev/zero")) {
                Err(DecodeError::Io { source, .. }) => {
                    assert_eq!(source.kind(), std::io::ErrorKind::InvalidInput)
                }
                other => panic!("{:?}", other.map(|i| i.dimensions())),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
