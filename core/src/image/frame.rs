//! Camera frames as phone cameras deliver them, and their conversion into the upright RGB
//! image the face models use.
//!
//! A [`Frame`] borrows a pixel buffer (nothing is copied) and describes it: its size, its
//! [`PixelFormat`], where each plane lies in the buffer ([`PlaneLayout`]), the clockwise
//! [`Rotation`] that makes it upright and whether the upright picture must be mirrored.
//! Everything is validated when the frame is built, so [`Frame::to_rgb`] cannot fail and
//! never reads out of bounds.
//!
//! # Buffer layout
//!
//! The whole frame lives in one byte slice. Each plane is described by a [`PlaneLayout`]:
//! the byte `offset` of its first row in the slice and its `row_stride` (bytes from the
//! start of one row to the start of the next, at least the bytes of one row; the padding
//! past a row's pixels is never read). The last row of a plane only needs its pixel bytes,
//! not a full stride, as Android's `Image.Plane` buffers end right after the last pixel.
//!
//! | format | planes (in order) | bytes per row of each plane | rows |
//! | --- | --- | --- | --- |
//! | [`Rgba8`](PixelFormat::Rgba8), [`Bgra8`](PixelFormat::Bgra8) | pixels | `4 × w` | `h` |
//! | [`Rgb8`](PixelFormat::Rgb8) | pixels | `3 × w` | `h` |
//! | [`Nv21`](PixelFormat::Nv21) | Y, VU interleaved | `w`, `2 × ⌈w/2⌉` | `h`, `⌈h/2⌉` |
//! | [`Nv12`](PixelFormat::Nv12) | Y, UV interleaved | `w`, `2 × ⌈w/2⌉` | `h`, `⌈h/2⌉` |
//! | [`I420`](PixelFormat::I420) | Y, U, V | `w`, `⌈w/2⌉`, `⌈w/2⌉` | `h`, `⌈h/2⌉`, `⌈h/2⌉` |
//!
//! Odd widths and heights are fine: the chroma planes then cover `⌈w/2⌉ × ⌈h/2⌉` samples
//! and the last chroma column/row serves a single luma column/row. Planes may appear in
//! any order in the buffer and may even overlap; they only have to be inside it.
//!
//! Three constructors cover the usual cases: [`Frame::packed`] (planes back to back, no
//! row padding), [`Frame::with_strides`] (padded rows, planes back to back: each plane
//! starts right after the previous one's `row_stride × rows` bytes) and
//! [`Frame::with_planes`] (explicit offset and stride for every plane).
//!
//! # Orientation
//!
//! [`Frame::to_rgb`] produces the picture as a person holding the phone sees it:
//!
//! 1. the buffer is rotated **clockwise** by the frame's [`Rotation`] — the meaning of
//!    Android CameraX's `ImageInfo.rotationDegrees` ("rotate the image clockwise by this
//!    many degrees to get it upright"); for 90° and 270° the output's width and height are
//!    the buffer's height and width ([`Frame::upright_size`]);
//! 2. then, if the frame is `mirrored`, the **upright** picture is flipped horizontally
//!    (its left and right columns swap), which is the front camera's selfie mirror.
//!
//! Both steps are an index mapping done in the same single pass as the colour
//! conversion: no intermediate image is made.
//!
//! # Colour
//!
//! YUV frames are decoded with the ITU-R BT.601 matrix in limited ("video") range, which
//! is what Android camera NV21/YUV_420_888 frames and iOS `420v` buffers carry:
//!
//! ```text
//! R = 1.164383·(Y−16)                   + 1.596027·(V−128)
//! G = 1.164383·(Y−16) − 0.391762·(U−128) − 0.812968·(V−128)
//! B = 1.164383·(Y−16) + 2.017232·(U−128)
//! ```
//!
//! computed in 16-bit fixed point, rounded to nearest and clamped to 0..=255. Chroma is
//! upsampled by nearest neighbour (each U/V sample serves its 2 × 2 block of pixels).
//! Alpha in RGBA/BGRA frames is ignored.

use image::RgbImage;
use serde::{Deserialize, Serialize};

/// The largest width or height, in pixels, that a [`Frame`] accepts.
pub const MAX_SIDE: u32 = 16_384;

/// How the pixels of a [`Frame`] are stored. See the [module docs](self) for the plane
/// layout of each format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PixelFormat {
    /// Packed 8-bit R, G, B, A, 4 bytes per pixel (e.g. Android `Bitmap.Config.ARGB_8888`
    /// in memory, CameraX `OUTPUT_IMAGE_FORMAT_RGBA_8888`). Alpha is ignored. One plane.
    Rgba8,
    /// Packed 8-bit B, G, R, A, 4 bytes per pixel (e.g. iOS `kCVPixelFormatType_32BGRA`).
    /// Alpha is ignored. One plane.
    Bgra8,
    /// Packed 8-bit R, G, B, 3 bytes per pixel (e.g. a decoded JPEG/PNG). One plane.
    Rgb8,
    /// YUV 4:2:0 semi-planar with V first (Android's default camera format,
    /// `ImageFormat.NV21`). Two planes: Y (one byte per pixel), then interleaved V, U pairs
    /// at half resolution (`⌈w/2⌉ × ⌈h/2⌉` pairs). BT.601 limited range.
    Nv21,
    /// YUV 4:2:0 semi-planar with U first (e.g. iOS
    /// `kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange`). Two planes: Y, then interleaved
    /// U, V pairs at half resolution. BT.601 limited range.
    Nv12,
    /// YUV 4:2:0 planar. Three planes: Y, U, V; U and V are `⌈w/2⌉ × ⌈h/2⌉`, one byte per
    /// sample. BT.601 limited range.
    I420,
}

impl PixelFormat {
    /// The number of planes a frame of this format has (1 for packed RGB formats, 2 for
    /// NV21/NV12, 3 for I420), which is the number of [`PlaneLayout`]s or row strides
    /// [`Frame::with_planes`] and [`Frame::with_strides`] expect.
    pub const fn plane_count(self) -> usize {
        match self {
            PixelFormat::Rgba8 | PixelFormat::Bgra8 | PixelFormat::Rgb8 => 1,
            PixelFormat::Nv21 | PixelFormat::Nv12 => 2,
            PixelFormat::I420 => 3,
        }
    }

    /// Whether this is one of the YUV 4:2:0 formats.
    pub const fn is_yuv(self) -> bool {
        self.plane_count() > 1
    }

    /// `(rows, bytes per row)` of each plane of a `width × height` frame; entries past
    /// [`plane_count`](Self::plane_count) are `(0, 0)`. Cannot overflow for sizes up to
    /// [`MAX_SIDE`].
    fn plane_shapes(self, width: usize, height: usize) -> [(usize, usize); 3] {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        match self {
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => [(height, 4 * width), (0, 0), (0, 0)],
            PixelFormat::Rgb8 => [(height, 3 * width), (0, 0), (0, 0)],
            PixelFormat::Nv21 | PixelFormat::Nv12 => [(height, width), (ch, 2 * cw), (0, 0)],
            PixelFormat::I420 => [(height, width), (ch, cw), (ch, cw)],
        }
    }
}

/// The clockwise rotation to apply to a frame's buffer to make it upright, as Android
/// CameraX's `ImageInfo.rotationDegrees` ("rotate the image clockwise by this many degrees
/// to get it upright"). A phone held in portrait with a landscape sensor typically gives
/// [`Deg90`](Rotation::Deg90) for the back camera and [`Deg270`](Rotation::Deg270) for
/// the front one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Rotation {
    /// The buffer is already upright.
    #[default]
    Deg0,
    /// Rotate the buffer 90° clockwise (its left column becomes the top row).
    Deg90,
    /// Rotate the buffer 180°.
    Deg180,
    /// Rotate the buffer 270° clockwise, i.e. 90° counter-clockwise (its right column
    /// becomes the top row).
    Deg270,
}

impl Rotation {
    /// The rotation for a clockwise angle in degrees. Accepts the multiples of 90 from
    /// −360 to 360 and normalises them (−90 → [`Deg270`](Rotation::Deg270), 360 →
    /// [`Deg0`](Rotation::Deg0)); anything else is [`FrameError::BadRotation`].
    pub fn from_degrees(degrees: i32) -> Result<Rotation, FrameError> {
        if !(-360..=360).contains(&degrees) || degrees % 90 != 0 {
            return Err(FrameError::BadRotation(degrees));
        }
        Ok(match degrees.rem_euclid(360) {
            0 => Rotation::Deg0,
            90 => Rotation::Deg90,
            180 => Rotation::Deg180,
            _ => Rotation::Deg270,
        })
    }

    /// The clockwise angle in degrees: 0, 90, 180 or 270.
    pub const fn degrees(self) -> u32 {
        match self {
            Rotation::Deg0 => 0,
            Rotation::Deg90 => 90,
            Rotation::Deg180 => 180,
            Rotation::Deg270 => 270,
        }
    }

    /// Whether the rotation swaps width and height (90° and 270°).
    pub const fn swaps_dimensions(self) -> bool {
        matches!(self, Rotation::Deg90 | Rotation::Deg270)
    }
}

impl TryFrom<i32> for Rotation {
    type Error = FrameError;

    /// Same as [`Rotation::from_degrees`].
    fn try_from(degrees: i32) -> Result<Self, Self::Error> {
        Rotation::from_degrees(degrees)
    }
}

/// Where one plane of a [`Frame`] lies in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PlaneLayout {
    /// Byte offset of the plane's first row from the start of the buffer.
    pub offset: usize,
    /// Bytes from the start of one row to the start of the next (Android's
    /// `Image.Plane.getRowStride()`); at least the bytes of one row of the plane.
    pub row_stride: usize,
}

impl PlaneLayout {
    /// A plane starting at byte `offset` whose rows are `row_stride` bytes apart.
    pub const fn new(offset: usize, row_stride: usize) -> PlaneLayout {
        PlaneLayout { offset, row_stride }
    }
}

/// Why a [`Frame`] could not be built. Planes are numbered from 0 in the order given in
/// the [module docs](self) (e.g. for NV21: 0 = Y, 1 = VU).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The width or the height is zero.
    #[error("frame size {width}x{height} is empty")]
    ZeroSize {
        /// The width given.
        width: u32,
        /// The height given.
        height: u32,
    },

    /// The width or the height exceeds [`MAX_SIDE`].
    #[error("frame size {width}x{height} exceeds the maximum of {max} pixels per side")]
    TooLarge {
        /// The width given.
        width: u32,
        /// The height given.
        height: u32,
        /// The largest side accepted ([`MAX_SIDE`]).
        max: u32,
    },

    /// The number of planes (layouts or strides) given does not match the format.
    #[error("{format:?} frames have {expected} plane(s), but {actual} were given")]
    WrongPlaneCount {
        /// The frame's format.
        format: PixelFormat,
        /// The planes the format has ([`PixelFormat::plane_count`]).
        expected: usize,
        /// The planes given.
        actual: usize,
    },

    /// A plane's row stride is smaller than one row of its pixels.
    #[error("plane {plane}: row stride {stride} is smaller than a row of {min} bytes")]
    BadStride {
        /// The plane (0-based).
        plane: usize,
        /// The row stride given.
        stride: usize,
        /// The bytes in one row of that plane.
        min: usize,
    },

    /// A plane's offset and stride put its end beyond what a `usize` can address.
    #[error("plane {plane}: offset and row stride overflow the address space")]
    LayoutOverflow {
        /// The plane (0-based).
        plane: usize,
    },

    /// The buffer ends before the last byte that some plane needs.
    #[error("buffer too short: {needed} bytes needed, {actual} given")]
    BufferTooShort {
        /// The buffer length needed (one past the last byte any plane uses).
        needed: usize,
        /// The buffer length given.
        actual: usize,
    },

    /// A rotation that is not a multiple of 90 degrees between −360 and 360.
    #[error("rotation must be a multiple of 90 degrees between -360 and 360, got {0}")]
    BadRotation(i32),
}

/// A camera frame: a borrowed pixel buffer plus its size, format, plane layout and
/// orientation. Validated on construction, so [`to_rgb`](Frame::to_rgb) always succeeds.
///
/// ```
/// # use lifecert_core::image::frame::{Frame, PixelFormat, Rotation};
/// // A 640×480 NV21 frame from a portrait-held front camera.
/// let data = vec![128u8; 640 * 480 * 3 / 2];
/// let frame = Frame::packed(&data, 640, 480, PixelFormat::Nv21, Rotation::Deg270, true)?;
/// assert_eq!(frame.upright_size(), (480, 640));
/// let rgb = frame.to_rgb();
/// assert_eq!(rgb.dimensions(), (480, 640));
/// # Ok::<(), lifecert_core::image::frame::FrameError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    format: PixelFormat,
    /// The first `format.plane_count()` entries are meaningful.
    planes: [PlaneLayout; 3],
    rotation: Rotation,
    mirrored: bool,
}

impl std::fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("planes", &self.planes())
            .field("rotation", &self.rotation)
            .field("mirrored", &self.mirrored)
            .field("data_len", &self.data.len())
            .finish()
    }
}

impl<'a> Frame<'a> {
    /// A frame whose planes are tightly packed: no row padding (each row stride is the
    /// bytes of one row), the first plane at offset 0 and each further plane right after
    /// the previous one. This is how `ImageFormat.NV21` byte arrays and plain RGB(A)
    /// buffers come. The buffer may be longer than needed.
    pub fn packed(
        data: &'a [u8],
        width: u32,
        height: u32,
        format: PixelFormat,
        rotation: Rotation,
        mirrored: bool,
    ) -> Result<Frame<'a>, FrameError> {
        check_size(width, height)?;
        let shapes = format.plane_shapes(width as usize, height as usize);
        let mut strides = [0usize; 3];
        for (stride, &(_, row_bytes)) in strides.iter_mut().zip(&shapes) {
            *stride = row_bytes;
        }
        Frame::with_strides(
            data,
            width,
            height,
            format,
            &strides[..format.plane_count()],
            rotation,
            mirrored,
        )
    }

    /// A frame whose rows may be padded but whose planes lie back to back: the first
    /// plane at offset 0 and each further plane right after the previous one's
    /// `row_stride × rows` bytes (e.g. the NV21 chroma plane at `y_stride × height`).
    /// `row_strides` has one entry per plane ([`PixelFormat::plane_count`]).
    pub fn with_strides(
        data: &'a [u8],
        width: u32,
        height: u32,
        format: PixelFormat,
        row_strides: &[usize],
        rotation: Rotation,
        mirrored: bool,
    ) -> Result<Frame<'a>, FrameError> {
        check_size(width, height)?;
        check_plane_count(format, row_strides.len())?;
        let shapes = format.plane_shapes(width as usize, height as usize);
        let mut planes = [PlaneLayout::default(); 3];
        let mut offset = 0usize;
        for (plane, (&row_stride, &(rows, _))) in row_strides.iter().zip(&shapes).enumerate() {
            planes[plane] = PlaneLayout { offset, row_stride };
            offset = row_stride
                .checked_mul(rows)
                .and_then(|size| size.checked_add(offset))
                .ok_or(FrameError::LayoutOverflow { plane })?;
        }
        Frame::with_planes(
            data,
            width,
            height,
            format,
            &planes[..format.plane_count()],
            rotation,
            mirrored,
        )
    }

    /// A frame with an explicit [`PlaneLayout`] for every plane, in the order given in
    /// the [module docs](self) (e.g. Y, U, V for I420). Planes may lie in any order in
    /// the buffer and may overlap, as long as every byte they use is inside `data`.
    pub fn with_planes(
        data: &'a [u8],
        width: u32,
        height: u32,
        format: PixelFormat,
        planes: &[PlaneLayout],
        rotation: Rotation,
        mirrored: bool,
    ) -> Result<Frame<'a>, FrameError> {
        check_size(width, height)?;
        check_plane_count(format, planes.len())?;
        let shapes = format.plane_shapes(width as usize, height as usize);
        let mut needed = 0usize;
        for (plane, (layout, &(rows, row_bytes))) in planes.iter().zip(&shapes).enumerate() {
            if layout.row_stride < row_bytes {
                return Err(FrameError::BadStride {
                    plane,
                    stride: layout.row_stride,
                    min: row_bytes,
                });
            }
            // One past the last byte of the plane: the last row needs only its pixels.
            let end = (rows - 1)
                .checked_mul(layout.row_stride)
                .and_then(|n| n.checked_add(row_bytes))
                .and_then(|n| n.checked_add(layout.offset))
                .ok_or(FrameError::LayoutOverflow { plane })?;
            needed = needed.max(end);
        }
        if data.len() < needed {
            return Err(FrameError::BufferTooShort {
                needed,
                actual: data.len(),
            });
        }
        let mut stored = [PlaneLayout::default(); 3];
        stored[..planes.len()].copy_from_slice(planes);
        Ok(Frame {
            data,
            width,
            height,
            format,
            planes: stored,
            rotation,
            mirrored,
        })
    }

    /// An upright, unmirrored [`Rgb8`](PixelFormat::Rgb8) frame over an image's pixels
    /// (no copy). Fails only for an empty or oversized image.
    pub fn from_rgb_image(img: &'a RgbImage) -> Result<Frame<'a>, FrameError> {
        let (width, height) = img.dimensions();
        Frame::packed(
            img.as_raw(),
            width,
            height,
            PixelFormat::Rgb8,
            Rotation::Deg0,
            false,
        )
    }

    /// The buffer's width in pixels (before rotation).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The buffer's height in pixels (before rotation).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// The clockwise rotation that makes the buffer upright.
    pub fn rotation(&self) -> Rotation {
        self.rotation
    }

    /// Whether the upright picture is flipped horizontally (selfie mirror).
    pub fn mirrored(&self) -> bool {
        self.mirrored
    }

    /// The layout of each plane, one per plane of the format.
    pub fn planes(&self) -> &[PlaneLayout] {
        &self.planes[..self.format.plane_count()]
    }

    /// The borrowed pixel buffer.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// `(width, height)` of the upright picture that [`to_rgb`](Frame::to_rgb) returns:
    /// the buffer's size, swapped for 90° and 270° rotations.
    pub fn upright_size(&self) -> (u32, u32) {
        if self.rotation.swaps_dimensions() {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }

    /// Converts the frame to the upright 8-bit RGB picture: colour conversion (BT.601
    /// limited range for YUV, see the [module docs](self)), then clockwise rotation by
    /// [`rotation`](Frame::rotation), then, if [`mirrored`](Frame::mirrored), a
    /// horizontal flip of the upright picture — all in a single pass. The result is
    /// [`upright_size`](Frame::upright_size).
    pub fn to_rgb(&self) -> RgbImage {
        let _span = tracing::trace_span!(
            "frame_to_rgb",
            width = self.width,
            height = self.height,
            format = ?self.format,
            rotation = self.rotation.degrees(),
            mirrored = self.mirrored,
        )
        .entered();
        let (out_w, out_h) = self.upright_size();
        let mut image = RgbImage::new(out_w, out_h);
        let out: &mut [u8] = &mut image;
        let map = self.out_map();
        match self.format {
            PixelFormat::Rgb8 => self.packed_rows::<3, 0, 1, 2>(out, map),
            PixelFormat::Rgba8 => self.packed_rows::<4, 0, 1, 2>(out, map),
            PixelFormat::Bgra8 => self.packed_rows::<4, 2, 1, 0>(out, map),
            PixelFormat::Nv21 => self.semi_planar_rows::<false>(out, map),
            PixelFormat::Nv12 => self.semi_planar_rows::<true>(out, map),
            PixelFormat::I420 => self.planar_rows(out, map),
        }
        image
    }

    /// Where buffer pixel `(x, y)` lands in the upright output, as `(column, row)`.
    /// Affine in `(x, y)`, so it is also meaningful just outside the buffer.
    fn upright_coords(&self, x: isize, y: isize) -> (isize, isize) {
        let (w, h) = (self.width as isize, self.height as isize);
        let (u, v) = match self.rotation {
            Rotation::Deg0 => (x, y),
            Rotation::Deg90 => (h - 1 - y, x),
            Rotation::Deg180 => (w - 1 - x, h - 1 - y),
            Rotation::Deg270 => (y, w - 1 - x),
        };
        if self.mirrored {
            let out_w = self.upright_size().0 as isize;
            (out_w - 1 - u, v)
        } else {
            (u, v)
        }
    }

    /// The rotation and mirror as a linear map from buffer `(x, y)` to output pixel index.
    fn out_map(&self) -> OutMap {
        let out_w = self.upright_size().0 as isize;
        let index = |x, y| {
            let (u, v) = self.upright_coords(x, y);
            v * out_w + u
        };
        let base = index(0, 0);
        OutMap {
            base,
            dx: index(1, 0) - base,
            dy: index(0, 1) - base,
        }
    }

    /// Row `row` of plane `plane`, `len` bytes. In bounds: checked by the constructor.
    fn row(&self, plane: usize, row: usize, len: usize) -> &'a [u8] {
        let layout = self.planes[plane];
        let start = layout.offset + row * layout.row_stride;
        &self.data[start..start + len]
    }

    /// Converts a packed frame of `BPP` bytes per pixel with red, green and blue at byte
    /// `R`, `G`, `B` of each pixel.
    fn packed_rows<const BPP: usize, const R: usize, const G: usize, const B: usize>(
        &self,
        out: &mut [u8],
        map: OutMap,
    ) {
        let (w, h) = (self.width as usize, self.height as usize);
        for y in 0..h {
            let mut dst = map.row(y);
            for px in self.row(0, y, w * BPP).chunks_exact(BPP) {
                dst.put(out, [px[R], px[G], px[B]]);
            }
        }
    }

    /// Converts NV12 (`U_FIRST`) or NV21.
    fn semi_planar_rows<const U_FIRST: bool>(&self, out: &mut [u8], map: OutMap) {
        let (w, h) = (self.width as usize, self.height as usize);
        let chroma_len = 2 * w.div_ceil(2);
        for y in 0..h {
            let mut dst = map.row(y);
            let luma = self.row(0, y, w);
            let chroma = self.row(1, y / 2, chroma_len);
            for (lumas, pair) in luma.chunks(2).zip(chroma.chunks_exact(2)) {
                let (u, v) = if U_FIRST {
                    (pair[0], pair[1])
                } else {
                    (pair[1], pair[0])
                };
                let c = Chroma::new(u, v);
                for &l in lumas {
                    dst.put(out, c.rgb(l));
                }
            }
        }
    }

    /// Converts I420.
    fn planar_rows(&self, out: &mut [u8], map: OutMap) {
        let (w, h) = (self.width as usize, self.height as usize);
        let chroma_len = w.div_ceil(2);
        for y in 0..h {
            let mut dst = map.row(y);
            let luma = self.row(0, y, w);
            let us = self.row(1, y / 2, chroma_len);
            let vs = self.row(2, y / 2, chroma_len);
            for ((lumas, &u), &v) in luma.chunks(2).zip(us).zip(vs) {
                let c = Chroma::new(u, v);
                for &l in lumas {
                    dst.put(out, c.rgb(l));
                }
            }
        }
    }
}

/// Checks the frame size: non-zero and at most [`MAX_SIDE`] per side.
fn check_size(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::ZeroSize { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(FrameError::TooLarge {
            width,
            height,
            max: MAX_SIDE,
        });
    }
    Ok(())
}

fn check_plane_count(format: PixelFormat, actual: usize) -> Result<(), FrameError> {
    let expected = format.plane_count();
    if actual != expected {
        return Err(FrameError::WrongPlaneCount {
            format,
            expected,
            actual,
        });
    }
    Ok(())
}

/// Output pixel index of buffer pixel `(x, y)` is `base + x·dx + y·dy`.
#[derive(Debug, Clone, Copy)]
struct OutMap {
    base: isize,
    dx: isize,
    dy: isize,
}

impl OutMap {
    /// The cursor at the output pixel of buffer pixel `(0, y)`, stepping along the row.
    #[inline]
    fn row(self, y: usize) -> Cursor {
        Cursor {
            pos: self.base + y as isize * self.dy,
            step: self.dx,
        }
    }
}

/// Walks the output pixels of one buffer row.
struct Cursor {
    pos: isize,
    step: isize,
}

impl Cursor {
    /// Writes one pixel and advances. `pos` stays inside the output for every pixel of the
    /// row by construction of [`OutMap`]; it may step just outside after the last one,
    /// where it is never used.
    #[inline(always)]
    fn put(&mut self, out: &mut [u8], rgb: [u8; 3]) {
        let i = self.pos as usize * 3;
        out[i..i + 3].copy_from_slice(&rgb);
        self.pos += self.step;
    }
}

/// Fixed-point BT.601 limited-range YUV → RGB (coefficients × 2^16).
const YUV_SHIFT: u32 = 16;
/// 255 / 219: limited-range luma 16..=235 to 0..=255.
const Y_SCALE: i32 = 76_309;
/// 1.596027 = 1.402 × 255 / 224.
const V_TO_R: i32 = 104_597;
/// 0.391762 = 0.344136 × 255 / 224.
const U_TO_G: i32 = 25_675;
/// 0.812968 = 0.714136 × 255 / 224.
const V_TO_G: i32 = 53_279;
/// 2.017232 = 1.772 × 255 / 224.
const U_TO_B: i32 = 132_201;
/// Half of 2^16: rounds to nearest on the final shift.
const YUV_ROUND: i32 = 1 << (YUV_SHIFT - 1);

/// The chroma contributions of one U, V sample, shared by the pixels it covers.
#[derive(Debug, Clone, Copy)]
struct Chroma {
    r: i32,
    g: i32,
    b: i32,
}

impl Chroma {
    #[inline(always)]
    fn new(u: u8, v: u8) -> Chroma {
        let (d, e) = (i32::from(u) - 128, i32::from(v) - 128);
        Chroma {
            r: V_TO_R * e,
            g: -U_TO_G * d - V_TO_G * e,
            b: U_TO_B * d,
        }
    }

    #[inline(always)]
    fn rgb(self, y: u8) -> [u8; 3] {
        let l = (i32::from(y) - 16) * Y_SCALE + YUV_ROUND;
        [
            clamp_u8(l + self.r),
            clamp_u8(l + self.g),
            clamp_u8(l + self.b),
        ]
    }
}

#[inline(always)]
fn clamp_u8(fixed: i32) -> u8 {
    (fixed >> YUV_SHIFT).clamp(0, 255) as u8
}

#[cfg(test)]
mod tests;
