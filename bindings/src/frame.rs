//! Camera frames as the shells hand them over, turned into the core's validated
//! [`lifecert_core::Frame`].
//!
//! # The copy
//! uniffi passes `Vec<u8>` (Kotlin `ByteArray`, Swift `Data`, Python `bytes`) by value: the
//! generated code writes the bytes into a buffer owned by Rust and the scaffolding reads
//! them into a fresh `Vec<u8>`, so a frame crosses the boundary at the price of about two
//! copies of its bytes (≈ 0.46 MB for a 640×480 NV21 frame). The core then reads the
//! buffer in place. See `bindings/README.md` for the measured cost per frame.
//!
//! The sessions also take the bytes as a borrowed `&[u8]` argument next to a
//! [`FrameLayout`] (`push_frame_bytes`): uniffi then hands Rust a pointer to the foreign
//! buffer for the duration of the call, with no copy at all (Kotlin: a *direct*
//! `java.nio.ByteBuffer`, such as CameraX's `ImageProxy.PlaneProxy.buffer`; Swift: `Data`;
//! Python: `bytes`). uniffi allows a borrowed slice only as a plain argument, never inside a
//! record, which is why it cannot be a field of [`FrameInput`].

use crate::error::LifecertError;
pub use lifecert_core::image::frame::PixelFormat;
use lifecert_core::image::frame::{Frame, Rotation};

/// How the pixels of a [`FrameInput`] are stored. Plane order and sizes are documented in
/// `lifecert_core::image::frame`.
#[uniffi::remote(Enum)]
pub enum PixelFormat {
    /// Packed R, G, B, A bytes (Android `Bitmap.Config.ARGB_8888` in memory, CameraX
    /// `OUTPUT_IMAGE_FORMAT_RGBA_8888`). Alpha is ignored. One plane.
    Rgba8,
    /// Packed B, G, R, A bytes (iOS `kCVPixelFormatType_32BGRA`). One plane.
    Bgra8,
    /// Packed R, G, B bytes (a decoded JPEG/PNG). One plane.
    Rgb8,
    /// YUV 4:2:0, Y plane then interleaved V, U at half resolution (Android
    /// `ImageFormat.NV21`). Two planes.
    Nv21,
    /// YUV 4:2:0, Y plane then interleaved U, V at half resolution (iOS
    /// `420YpCbCr8BiPlanarVideoRange`). Two planes.
    Nv12,
    /// YUV 4:2:0, Y, U and V planes. Three planes.
    I420,
}

/// One camera frame: the pixel bytes and how to read them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FrameInput {
    /// The pixel bytes, all planes in one buffer, one plane right after the other. Copied
    /// across the boundary (see the module docs).
    pub data: Vec<u8>,
    /// Width of the buffer in pixels (before rotation).
    pub width: u32,
    /// Height of the buffer in pixels (before rotation).
    pub height: u32,
    /// How the pixels are stored.
    pub format: PixelFormat,
    /// Bytes from the start of one row to the next, one entry per plane (Android
    /// `Image.Plane.getRowStride()`); empty when the rows have no padding.
    pub row_strides: Vec<u32>,
    /// Clockwise rotation that makes the buffer upright: 0, 90, 180 or 270 (negative
    /// multiples of 90 down to −360 are accepted), as CameraX's `rotationDegrees`.
    pub rotation_degrees: i32,
    /// Whether the upright picture must be flipped left–right (the front camera's selfie
    /// mirror).
    pub mirrored: bool,
}

impl FrameInput {
    /// The core's view of this frame, validated (size, strides, buffer length, rotation).
    pub(crate) fn to_core(&self) -> Result<Frame<'_>, LifecertError> {
        core_frame(
            &self.data,
            self.width,
            self.height,
            self.format,
            &self.row_strides,
            self.rotation_degrees,
            self.mirrored,
        )
    }
}

/// How to read a pixel buffer passed on its own (everything of a [`FrameInput`] but the
/// bytes), for the sessions' `push_frame_bytes`, whose buffer is borrowed without a copy.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FrameLayout {
    /// Width of the buffer in pixels (before rotation).
    pub width: u32,
    /// Height of the buffer in pixels (before rotation).
    pub height: u32,
    /// How the pixels are stored.
    pub format: PixelFormat,
    /// Bytes from the start of one row to the next, one entry per plane; empty when the
    /// rows have no padding.
    pub row_strides: Vec<u32>,
    /// Clockwise rotation that makes the buffer upright: 0, 90, 180 or 270 (negative
    /// multiples of 90 down to −360 are accepted).
    pub rotation_degrees: i32,
    /// Whether the upright picture must be flipped left–right (the selfie mirror).
    pub mirrored: bool,
}

impl FrameLayout {
    /// The core's view of `data` read with this layout, validated like
    /// [`FrameInput::to_core`].
    pub(crate) fn frame<'a>(&self, data: &'a [u8]) -> Result<Frame<'a>, LifecertError> {
        core_frame(
            data,
            self.width,
            self.height,
            self.format,
            &self.row_strides,
            self.rotation_degrees,
            self.mirrored,
        )
    }
}

fn core_frame<'a>(
    data: &'a [u8],
    width: u32,
    height: u32,
    format: PixelFormat,
    row_strides: &[u32],
    rotation_degrees: i32,
    mirrored: bool,
) -> Result<Frame<'a>, LifecertError> {
    let rotation = Rotation::from_degrees(rotation_degrees)?;
    let frame = if row_strides.is_empty() {
        Frame::packed(data, width, height, format, rotation, mirrored)?
    } else {
        let strides: Vec<usize> = row_strides.iter().map(|&s| s as usize).collect();
        Frame::with_strides(data, width, height, format, &strides, rotation, mirrored)?
    };
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(data: Vec<u8>, format: PixelFormat, strides: Vec<u32>, rotation: i32) -> FrameInput {
        FrameInput {
            data,
            width: 4,
            height: 2,
            format,
            row_strides: strides,
            rotation_degrees: rotation,
            mirrored: true,
        }
    }

    #[test]
    fn frames_are_validated_by_the_core() {
        let ok = input(vec![0; 24], PixelFormat::Rgb8, vec![], 90);
        let frame = ok.to_core().unwrap();
        assert_eq!(frame.upright_size(), (2, 4));
        assert!(frame.mirrored());
        // Padded rows: 16-byte stride, the last row needs only its 12 pixel bytes.
        let padded = input(vec![0; 28], PixelFormat::Rgb8, vec![16], 0);
        assert_eq!(padded.to_core().unwrap().planes()[0].row_stride, 16);

        for (bad, needle) in [
            (
                input(vec![0; 23], PixelFormat::Rgb8, vec![], 0),
                "too short",
            ),
            (
                input(vec![0; 24], PixelFormat::Rgb8, vec![], 45),
                "rotation",
            ),
            (
                input(vec![0; 24], PixelFormat::Rgb8, vec![12, 12], 0),
                "plane",
            ),
            (input(vec![0; 24], PixelFormat::Rgb8, vec![8], 0), "stride"),
            (
                input(vec![0; 11], PixelFormat::Nv21, vec![], 0),
                "too short",
            ),
        ] {
            match bad.to_core() {
                Err(LifecertError::BadInput { reason }) => {
                    assert!(reason.contains(needle), "{reason}")
                }
                other => panic!("expected BadInput for {needle}, got {other:?}"),
            }
        }
    }
}
