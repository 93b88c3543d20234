//! ID documents uploaded as photos (Qinghai flow: the retiree uploads the two sides of the
//! resident ID card, JPG or PNG, at most 1 MB each).
//!
//! [`IdDocumentChecker::check_upload`] takes the bytes exactly as picked from the gallery or
//! taken by the camera and returns a [`CheckedDocument`]: a metadata-free JPEG that fits the
//! upload limit, plus, for the portrait side, the portrait's face descriptor so that it can
//! be matched to the live face.
//!
//! # Sides
//! [`DocumentSide::Front`] is the side with the portrait (人像面; on the mainland card it
//! carries name, sex, ethnicity, birth date, address and ID number). [`DocumentSide::Back`]
//! is the national-emblem side (国徽面: issuing authority and validity period). The front
//! must show exactly one portrait; the back must show none — a face on the back means the
//! wrong picture was chosen (the front twice, or a selfie).
//!
//! # Format and size
//! * The format is sniffed from the magic bytes, never from a file name: JPEG
//!   (`FF D8 FF`) and PNG (`89 50 4E 47 0D 0A 1A 0A`) are accepted; GIF, BMP, WebP,
//!   HEIC/HEIF, AVIF, TIFF and PDF are recognised and refused with
//!   [`IdDocumentError::UnsupportedFormat`] (so a shell can convert, e.g. an iPhone's HEIC,
//!   and try again); anything else is [`IdDocumentError::NotAnImage`].
//! * "1 MB" is read as **10⁶ bytes** ([`DEFAULT_MAX_UPLOAD_BYTES`]), the SI megabyte. The
//!   provincial rule does not say which megabyte it means; 10⁶ is the stricter reading
//!   (2²⁰ = 1 048 576 is larger), so a file that meets it is accepted by a server that
//!   means either.
//! * Every upload is decoded (with the [`crate::image::decode`] limits: at most
//!   [`crate::image::decode::MAX_IMAGE_SIDE`] pixels a side), turned upright by its EXIF
//!   orientation, and **re-encoded** as a baseline JPEG — also when it was already small
//!   enough. Re-encoding from pixels is the one sure way to drop every piece of metadata
//!   (EXIF with GPS position, camera serial numbers and capture time, XMP, IPTC, comments,
//!   maker notes, embedded thumbnails): the `image` crate's JPEG encoder writes only a JFIF
//!   header, and we never hand it EXIF or an ICC profile. It also bakes the EXIF orientation
//!   into the pixels, so the server sees the card upright whatever viewer it uses. The price
//!   is one generation of JPEG loss on inputs that were JPEG already (slight at quality
//!   92: the portrait descriptor of a re-encoded page moves by about 0.05), and PNG scans
//!   become JPEG. Small, low-quality JPEGs may grow (a 10 kB specimen became 20 kB) —
//!   still far under the limit.
//! * To fit the limit, the picture is first shrunk to at most
//!   [`IdDocumentConfig::max_side`] pixels on its long side, then encoded at each of
//!   [`IdDocumentConfig::jpeg_qualities`] in turn; if even the lowest quality is too large,
//!   the picture is shrunk by [`IdDocumentConfig::downscale_step`] and the qualities are
//!   tried again, down to [`IdDocumentConfig::min_side`]. Only then is the upload refused
//!   ([`IdDocumentError::TooLargeToFit`]) — with the defaults that cannot happen (a
//!   640-pixel JPEG at quality 50, even of pure noise, is far below 1 MB). Measured: phone
//!   photos of a card (4000×3000, 2.3–2.8 MB) come out 1920×1440 at quality 92 in
//!   0.6–0.78 MB.
//! * Before anything is decoded, the header is checked against the decoding budget of
//!   [`crate::image::decode`] (side, total pixels, decoded bytes, metadata): a small file that
//!   claims a huge picture is refused as [`IdDocumentError::TooManyPixels`] or
//!   [`IdDocumentError::ImageTooLarge`] without a pixel being decoded.
//! * A JPEG is first decoded in full by a strict decoder: missing scan data (an interrupted
//!   transfer, even one with an end-of-image marker appended) and any other decoding error
//!   is refused as [`IdDocumentError::Corrupt`]. The lenient decoder used for the picture
//!   itself would fill the missing rows silently, and an end-of-image marker proves nothing:
//!   anyone can append one.
//! * Transparency in a PNG is dropped (the colour channels are kept as stored).
//!
//! # Faces
//! The faces are searched with the [`Analyzer`] on the upright picture after the
//! [`IdDocumentConfig::max_side`] shrink (the picture that is encoded first). A card
//! portrait is small — a fifth of the card's width, less when the card does not fill the
//! frame — and the whole-picture search (the detector sees the picture shrunk to 128×128)
//! either misses it or boxes it badly. So when the whole-picture search finds nothing, or
//! only faces smaller than [`IdDocumentConfig::tiled_below`] (a quarter of the long side),
//! the search is repeated with the tiled detector
//! ([`crate::api::config::DetectorConfig::tiles`] = [`IdDocumentConfig::fallback_tiles`], 3 by
//! default), which also looks at overlapping tiles of the picture, and its faces are used
//! (unless it finds none: then the whole-picture result stands). In practice every card
//! is searched with tiles; a selfie uploaded by mistake is not. The same search runs on the
//! back, so that a front uploaded as the back is caught. Measured on a passport page pasted
//! into a 4000×3000 photo (searched at 1920×1440): with 3 tiles the portrait is found and
//! matches its holder down to a page 35 % as wide as the photo (portrait ≈ 100 pixels;
//! missed at 30 %), with 4 tiles down to 25 %. Shells should frame the card (an outline on
//! the camera preview) so that it fills most of the picture.
//!
//! Passports and many ID cards (Hong Kong's, for one) print a second, smaller copy of the
//! portrait (a "ghost image"); the tiled search finds the Czech specimen's, a third of the
//! portrait's size. On the front, a face whose size (square root of its box
//! area) is below [`IdDocumentConfig::secondary_portrait_ratio`] (0.6) times that of the
//! largest face is taken for such a secondary portrait and not counted; the largest face is
//! the portrait. Two faces of similar size are refused
//! ([`IdDocumentError::SeveralFacesOnFront`]). On the back any face at all is refused.
//!
//! The portrait is described with [`Analyzer::describe`]; compare its descriptor with the
//! live face's with [`crate::face::descriptor::Descriptor::distance`]. No quality gate is applied
//! to the portrait: a printed card portrait is small and flat-lit by design.

use crate::face::analyzer::{Analyzer, FaceConfig};
use crate::face::descriptor::Descriptor;
use crate::face::error::FaceError;
use crate::face::observation::FaceObservation;
use crate::image::decode::{
    decode_image, read_header, DecodeError, ImageLimitError, MAX_ENCODED_BYTES, MAX_IMAGE_SIDE,
};
use crate::image::geometry::Rect;
use crate::model::assets::ModelSource;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use thiserror::Error;

/// The default upload limit: 1 MB read as 10⁶ bytes (the stricter of 10⁶ and 2²⁰, see the
/// module documentation).
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 1_000_000;

/// Settings for ID-document uploads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdDocumentConfig {
    /// The service's limit per uploaded file, bytes: every [`CheckedDocument::jpeg`] is at
    /// most this large. Default [`DEFAULT_MAX_UPLOAD_BYTES`] = 1 000 000 (1 MB as 10⁶,
    /// not 2²⁰: the stricter reading, accepted whichever the server means). At least
    /// 10 000.
    pub max_upload_bytes: usize,
    /// The largest input that is decoded and re-encoded at all, bytes; larger inputs are
    /// refused with [`IdDocumentError::InputTooLarge`] before decoding. Default
    /// [`MAX_ENCODED_BYTES`] (64 MiB, the decoder's own limit), which covers the 20–30 MB
    /// JPEGs of 100-megapixel phone cameras and uncompressed PNG scans.
    pub max_input_bytes: usize,
    /// JPEG qualities tried in turn (strictly decreasing, each 1–100) until the result
    /// fits. Default `[92, 85, 78, 70, 60, 50]`: 92 loses little; below 50 JPEG blocking
    /// shows around small print (the ID number), so the picture is shrunk instead.
    pub jpeg_qualities: Vec<u8>,
    /// Long side of the picture before encoding, pixels: larger pictures are shrunk to this
    /// first. Default 1920: a card filling 60 % of the frame keeps about 1150 pixels across
    /// its 85.6 mm, over 300 dpi, and a 12-megapixel photo of a card, shrunk to
    /// 1920×1440, fits 1 MB at quality 92 (measured 0.6–0.78 MB). Between `min_side` and
    /// [`crate::image::decode::MAX_IMAGE_SIDE`].
    pub max_side: u32,
    /// When no quality fits, the long side is multiplied by this and the qualities are
    /// tried again. Default 0.8. In `[0.5, 0.95]`.
    pub downscale_step: f32,
    /// The picture is never shrunk below this long side to fit; if nothing fits then,
    /// the upload is refused with [`IdDocumentError::TooLargeToFit`]. Default 640 (the
    /// card's text is still legible). At least 64.
    pub min_side: u32,
    /// Tiles per side of the tiled face search, run when the whole-picture search finds no
    /// face or only small ones ([`crate::api::config::DetectorConfig::tiles`]). Default 3; 1
    /// turns the tiled search off. In `[1, 4]`.
    pub fallback_tiles: u32,
    /// The tiled search also runs when the largest face of the whole-picture search is
    /// smaller than this fraction of the picture's long side (its box side; default 0.25,
    /// i.e. under 32 pixels of the detector's 128-pixel input). At that size the
    /// whole-picture boxes are unreliable: a card portrait 178 pixels wide in a 1920-pixel
    /// photo was boxed at 394 pixels, and its descriptor lay 0.63 from the holder's photo
    /// (no match) instead of the 0.34 the tiled search gives. Card portraits are nearly
    /// always this small, so in practice documents are searched with tiles. `0` restricts
    /// the tiled search to pictures where the whole-picture search finds nothing. In
    /// `[0, 1]`.
    pub tiled_below: f32,
    /// On the front, faces smaller than this fraction of the largest face (by the square
    /// root of the box area) are taken for secondary "ghost" portraits and not counted.
    /// Default 0.6: the one ghost image the detector finds on the specimens (Czech
    /// passport) is 0.33 of its portrait, while two people on one picture are of about
    /// the same size. In `(0, 1]`.
    pub secondary_portrait_ratio: f32,
}

impl Default for IdDocumentConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_input_bytes: MAX_ENCODED_BYTES,
            jpeg_qualities: vec![92, 85, 78, 70, 60, 50],
            max_side: 1920,
            downscale_step: 0.8,
            min_side: 640,
            fallback_tiles: 3,
            tiled_below: 0.25,
            secondary_portrait_ratio: 0.6,
        }
    }
}

impl IdDocumentConfig {
    /// Checks that every value lies in its documented range.
    pub fn validate(&self) -> Result<(), IdDocumentError> {
        let bad = |m: String| Err(IdDocumentError::Config(format!("id_document.{m}")));
        if self.max_upload_bytes < 10_000 {
            return bad(format!(
                "max_upload_bytes = {} is below 10000",
                self.max_upload_bytes
            ));
        }
        if self.max_input_bytes == 0 || self.max_input_bytes > MAX_ENCODED_BYTES {
            return bad(format!(
                "max_input_bytes = {} is outside [1, {MAX_ENCODED_BYTES}]",
                self.max_input_bytes
            ));
        }
        if self.jpeg_qualities.is_empty()
            || self.jpeg_qualities.iter().any(|q| !(1..=100).contains(q))
            || self.jpeg_qualities.windows(2).any(|w| w[1] >= w[0])
        {
            return bad(format!(
                "jpeg_qualities = {:?} must be strictly decreasing values in [1, 100]",
                self.jpeg_qualities
            ));
        }
        if self.min_side < 64 || self.min_side > self.max_side || self.max_side > MAX_IMAGE_SIDE {
            return bad(format!(
                "min_side = {} and max_side = {} must satisfy 64 <= min_side <= max_side <= {MAX_IMAGE_SIDE}",
                self.min_side, self.max_side
            ));
        }
        if !(0.5..=0.95).contains(&self.downscale_step) {
            return bad(format!(
                "downscale_step = {} is outside [0.5, 0.95]",
                self.downscale_step
            ));
        }
        if !(1..=4).contains(&self.fallback_tiles) {
            return bad(format!(
                "fallback_tiles = {} is outside [1, 4]",
                self.fallback_tiles
            ));
        }
        if !(0.0..=1.0).contains(&self.tiled_below) {
            return bad(format!(
                "tiled_below = {} is outside [0, 1]",
                self.tiled_below
            ));
        }
        if !(self.secondary_portrait_ratio > 0.0 && self.secondary_portrait_ratio <= 1.0) {
            return bad(format!(
                "secondary_portrait_ratio = {} is outside (0, 1]",
                self.secondary_portrait_ratio
            ));
        }
        Ok(())
    }
}

/// Which side of the ID card a picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentSide {
    /// The portrait side (人像面): must show exactly one portrait.
    Front,
    /// The national-emblem side (国徽面): must show no face.
    Back,
}

/// An accepted input format (sniffed from the magic bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentFormat {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
}

/// Why an upload was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IdDocumentError {
    /// The upload has no bytes.
    #[error("the upload is empty")]
    Empty,
    /// The bytes are not an image format we know.
    #[error("the upload is not an image")]
    NotAnImage,
    /// An image, but not JPEG or PNG.
    #[error("{format} images are not accepted; JPEG or PNG only")]
    UnsupportedFormat {
        /// The format recognised: `GIF`, `BMP`, `WebP`, `HEIC`, `AVIF`, `TIFF` or `PDF`.
        format: &'static str,
    },
    /// A JPEG or PNG that cannot be decoded: damaged or truncated.
    #[error("the image is damaged or incomplete: {0}")]
    Corrupt(String),
    /// The input is larger than [`IdDocumentConfig::max_input_bytes`].
    #[error("the upload has {bytes} bytes, more than the {max} accepted")]
    InputTooLarge {
        /// Size of the input.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The image has a side longer than [`crate::image::decode::MAX_IMAGE_SIDE`].
    #[error("the image is {width}×{height} pixels; at most {max_side} a side are accepted")]
    TooManyPixels {
        /// Stored width.
        width: u32,
        /// Stored height.
        height: u32,
        /// The limit.
        max_side: u32,
    },
    /// The picture would exceed the decoding budget of [`crate::image::decode`] (total pixels
    /// or decoded bytes): refused from its header, before decoding.
    #[error("the image is too large to decode: {0}")]
    ImageTooLarge(ImageLimitError),
    /// Even at the smallest size and lowest quality allowed the JPEG exceeds the limit.
    #[error("the image cannot be made to fit {limit} bytes (smallest attempt {smallest} bytes)")]
    TooLargeToFit {
        /// [`IdDocumentConfig::max_upload_bytes`].
        limit: usize,
        /// The smallest encoding reached.
        smallest: usize,
    },
    /// The JPEG encoder failed.
    #[error("the image could not be re-encoded: {0}")]
    Encode(String),
    /// The front shows no face.
    #[error("no portrait was found on the front of the document")]
    NoFaceOnFront,
    /// The front shows several faces of similar size.
    #[error("the front shows {count} faces of similar size; exactly one portrait is expected")]
    SeveralFacesOnFront {
        /// Faces counted (secondary portraits excluded).
        count: usize,
    },
    /// The back shows a face: the front, or a photo, was chosen instead of the back.
    #[error("the back of the document shows {count} face(s); it should show none")]
    FaceOnBack {
        /// Faces found.
        count: usize,
    },
    /// The face analysis failed (a model error).
    #[error(transparent)]
    Face(#[from] FaceError),
    /// Reading the picture failed otherwise than by its content (an I/O error).
    #[error(transparent)]
    Decode(DecodeError),
    /// A setting of the ID-document check holds a value outside its documented range.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl IdDocumentError {
    /// The id of the sentence that tells the person what to do about this refused photo (JPG
    /// or PNG only, at most 1 MB, a clear front, the back the right way round), or `None`
    /// for an internal failure that no new photo fixes.
    pub fn message_id(&self) -> Option<&'static str> {
        match self {
            Self::UnsupportedFormat { .. } | Self::NotAnImage => Some("id_photo_format"),
            Self::InputTooLarge { .. }
            | Self::TooManyPixels { .. }
            | Self::ImageTooLarge(_)
            | Self::TooLargeToFit { .. } => Some("id_photo_too_large"),
            Self::Empty | Self::Corrupt(_) => Some("id_photo_unreadable"),
            Self::NoFaceOnFront | Self::SeveralFacesOnFront { .. } => Some("id_photo_no_portrait"),
            Self::FaceOnBack { .. } => Some("id_photo_back_has_face"),
            Self::Encode(_) | Self::Face(_) | Self::Decode(_) | Self::Config(_) => None,
        }
    }
}

impl From<crate::model::error::ModelError> for IdDocumentError {
    fn from(e: crate::model::error::ModelError) -> Self {
        Self::Face(e.into())
    }
}

/// The portrait found on the front.
#[derive(Debug, Clone)]
pub struct Portrait {
    /// The portrait's face box in the pixels of [`CheckedDocument::jpeg`].
    pub bbox: Rect,
    /// Detector score.
    pub score: f32,
    /// The portrait's face descriptor (compare with the live face's).
    pub descriptor: Descriptor,
}

/// An accepted upload, re-encoded.
#[derive(Clone)]
pub struct CheckedDocument {
    /// The side checked.
    pub side: DocumentSide,
    /// The input's format.
    pub input_format: DocumentFormat,
    /// The input's size, bytes.
    pub input_bytes: usize,
    /// The input's size after EXIF orientation, pixels (width, height).
    pub input_size: (u32, u32),
    /// The document to upload: an upright baseline JPEG with no metadata, at most
    /// [`IdDocumentConfig::max_upload_bytes`].
    pub jpeg: Vec<u8>,
    /// Size of `jpeg`, pixels (width, height).
    pub size: (u32, u32),
    /// JPEG quality used.
    pub jpeg_quality: u8,
    /// The portrait (front only).
    pub portrait: Option<Portrait>,
    /// Faces smaller than [`IdDocumentConfig::secondary_portrait_ratio`] of the portrait,
    /// taken for ghost images and not counted (front only).
    pub secondary_portraits: usize,
    /// Whether the tiled search ran (the whole-picture search found no face, or only small
    /// ones; see [`IdDocumentConfig::tiled_below`]).
    pub tiled_search: bool,
}

impl fmt::Debug for CheckedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedDocument")
            .field("side", &self.side)
            .field("input_format", &self.input_format)
            .field("input_bytes", &self.input_bytes)
            .field("input_size", &self.input_size)
            .field("jpeg", &format_args!("<{} bytes>", self.jpeg.len()))
            .field("size", &self.size)
            .field("jpeg_quality", &self.jpeg_quality)
            .field("portrait", &self.portrait)
            .field("secondary_portraits", &self.secondary_portraits)
            .field("tiled_search", &self.tiled_search)
            .finish()
    }
}

/// Checks ID-document uploads. Holds an [`Analyzer`] for the whole-picture search and, when
/// the fallback is on, a second one with the tiled detector. `Send + Sync`.
#[derive(Debug, Clone)]
pub struct IdDocumentChecker {
    config: IdDocumentConfig,
    analyzer: Analyzer,
    tiled: Option<Analyzer>,
}

impl IdDocumentChecker {
    /// A checker with the embedded models: `face` for the whole-picture search, `config` for
    /// the rest.
    pub fn new(face: FaceConfig, config: IdDocumentConfig) -> Result<Self, IdDocumentError> {
        Self::with_models(face, config, &ModelSource::Embedded)
    }

    /// A checker with the models from `source`.
    pub fn with_models(
        face: FaceConfig,
        config: IdDocumentConfig,
        source: &ModelSource,
    ) -> Result<Self, IdDocumentError> {
        Self::from_analyzer(Analyzer::with_models(face, source)?, config, source)
    }

    /// A checker sharing an existing analyzer (cheap: its models are reference-counted)
    /// for the whole-picture search, with `config`. Only the tiled analyzer, if the
    /// fallback is on, is loaded from `source`.
    pub fn from_analyzer(
        analyzer: Analyzer,
        config: IdDocumentConfig,
        source: &ModelSource,
    ) -> Result<Self, IdDocumentError> {
        let _span = tracing::info_span!("id_document_checker").entered();
        config.validate()?;
        let tiled = if config.fallback_tiles > analyzer.config().detector.tiles {
            let mut tiled_config = analyzer.config().clone();
            tiled_config.detector.tiles = config.fallback_tiles;
            Some(Analyzer::with_models(tiled_config, source)?)
        } else {
            None
        };
        Ok(Self {
            config,
            analyzer,
            tiled,
        })
    }

    /// The ID-document settings in use.
    pub fn config(&self) -> &IdDocumentConfig {
        &self.config
    }

    /// The analyzer of the whole-picture search.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Checks one uploaded side of the ID card (see the module documentation): format,
    /// decoding, faces, and re-encoding to an upright, metadata-free JPEG within the limit.
    pub fn check_upload(
        &self,
        bytes: &[u8],
        side: DocumentSide,
    ) -> Result<CheckedDocument, IdDocumentError> {
        let _span = tracing::info_span!("check_id_document", ?side, bytes = bytes.len()).entered();
        let format = sniff_format(bytes)?;
        if bytes.len() > self.config.max_input_bytes {
            return Err(IdDocumentError::InputTooLarge {
                bytes: bytes.len(),
                max: self.config.max_input_bytes,
            });
        }
        read_header(bytes).map_err(|e| match e {
            DecodeError::TooLarge(ImageLimitError::Side { width, height, .. }) => {
                IdDocumentError::TooManyPixels {
                    width,
                    height,
                    max_side: MAX_IMAGE_SIDE,
                }
            }
            DecodeError::TooLarge(limit) => IdDocumentError::ImageTooLarge(limit),
            DecodeError::Decode(reason) => IdDocumentError::Corrupt(reason),
            other => IdDocumentError::Decode(other),
        })?;
        if format == DocumentFormat::Jpeg {
            check_jpeg_complete(bytes)?;
        }
        let upright = decode_image(bytes).map_err(|e| match e {
            DecodeError::Decode(reason) => IdDocumentError::Corrupt(reason),
            other => IdDocumentError::Decode(other),
        })?;
        let input_size = upright.dimensions();
        let working = shrink_to(&upright, self.config.max_side);

        let (faces, tiled_search) = self.find_faces(&working)?;
        let (portrait_face, secondary_portraits) = match side {
            DocumentSide::Back if !faces.is_empty() => {
                return Err(IdDocumentError::FaceOnBack { count: faces.len() })
            }
            DocumentSide::Back => (None, 0),
            DocumentSide::Front => {
                let (portrait, secondary) =
                    pick_portrait(&faces, self.config.secondary_portrait_ratio)?;
                (Some(portrait), secondary)
            }
        };
        let portrait_descriptor = match portrait_face {
            Some(face) => Some((face, self.analyzer.describe(&working, face)?)),
            None => None,
        };

        let encoded = fit_jpeg(&working, &self.config)?;
        let scale = encoded.size.0 as f32 / working.width() as f32;
        let portrait = portrait_descriptor.map(|(face, descriptor)| {
            let b = face.detection.bbox;
            Portrait {
                bbox: Rect::new(b.x * scale, b.y * scale, b.width * scale, b.height * scale),
                score: face.detection.score,
                descriptor,
            }
        });
        tracing::debug!(
            input_bytes = bytes.len(),
            output_bytes = encoded.bytes.len(),
            quality = encoded.quality,
            width = encoded.size.0,
            height = encoded.size.1,
            "id document re-encoded"
        );
        Ok(CheckedDocument {
            side,
            input_format: format,
            input_bytes: bytes.len(),
            input_size,
            jpeg: encoded.bytes,
            size: encoded.size,
            jpeg_quality: encoded.quality,
            portrait,
            secondary_portraits,
            tiled_search,
        })
    }

    /// Faces in `image`: the whole-picture search, then, if that found none or only small
    /// ones, the tiled search, whose result replaces it unless it is empty. Also says
    /// whether the tiled search ran.
    fn find_faces(&self, image: &RgbImage) -> Result<(Vec<FaceObservation>, bool), FaceError> {
        let faces = self.analyzer.analyze_image(image)?;
        let Some(tiled) = &self.tiled else {
            return Ok((faces, false));
        };
        let long = image.width().max(image.height()) as f32;
        let largest = faces.iter().map(face_size).fold(0.0f32, f32::max);
        if !faces.is_empty() && largest >= self.config.tiled_below * long {
            return Ok((faces, false));
        }
        let _span = tracing::debug_span!("tiled_face_search", whole = faces.len()).entered();
        let tiled_faces = tiled.analyze_image(image)?;
        if tiled_faces.is_empty() {
            Ok((faces, true))
        } else {
            Ok((tiled_faces, true))
        }
    }
}

/// Size of a face: square root of its box area.
fn face_size(face: &FaceObservation) -> f32 {
    face.detection.bbox.area().max(0.0).sqrt()
}

/// The portrait among `faces` (the largest) and the number of secondary portraits, or why
/// there is none.
fn pick_portrait(
    faces: &[FaceObservation],
    ratio: f32,
) -> Result<(&FaceObservation, usize), IdDocumentError> {
    let largest = faces
        .iter()
        .max_by(|a, b| face_size(a).total_cmp(&face_size(b)))
        .ok_or(IdDocumentError::NoFaceOnFront)?;
    let threshold = ratio * face_size(largest);
    let main = faces.iter().filter(|f| face_size(f) >= threshold).count();
    if main > 1 {
        return Err(IdDocumentError::SeveralFacesOnFront { count: main });
    }
    Ok((largest, faces.len() - main))
}

/// The format named by the magic bytes.
pub fn sniff_format(bytes: &[u8]) -> Result<DocumentFormat, IdDocumentError> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.is_empty() {
        return Err(IdDocumentError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(DocumentFormat::Jpeg);
    }
    if bytes.starts_with(PNG) {
        return Ok(DocumentFormat::Png);
    }
    let other = if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("GIF")
    } else if is_bmp(bytes) {
        Some("BMP")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("WebP")
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        match &bytes[8..12] {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs"
            | b"mif1" | b"msf1" => Some("HEIC"),
            b"avif" | b"avis" => Some("AVIF"),
            _ => None,
        }
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("TIFF")
    } else if bytes.starts_with(b"%PDF-") {
        Some("PDF")
    } else {
        None
    };
    match other {
        Some(format) => Err(IdDocumentError::UnsupportedFormat { format }),
        None => Err(IdDocumentError::NotAnImage),
    }
}

/// `BM` followed, at offset 14, by one of the known DIB header sizes.
fn is_bmp(bytes: &[u8]) -> bool {
    bytes.len() >= 18
        && bytes.starts_with(b"BM")
        && matches!(
            u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]),
            12 | 16 | 40 | 52 | 56 | 64 | 108 | 124
        )
}

/// Refuses a JPEG that does not decode cleanly or whose image data is incomplete, as
/// [`IdDocumentError::Corrupt`]. Decodes the whole picture twice (its pixels are then
/// dropped): check the header against the budget first ([`crate::image::decode::read_header`]),
/// as [`IdDocumentChecker::check_upload`] does.
///
/// An end-of-image marker proves nothing — anyone can append one to a cut transfer — and
/// the decoder `image` uses (zune-jpeg) fills data missing before a marker with zero bits
/// and carries on, in strict mode too. So the check is:
/// 1. the marker segments are walked, scan after scan (entropy-coded data skipped up to the
///    next marker), to the end-of-image marker that ends the picture: none is `Corrupt`;
/// 2. the picture is decoded in strict mode: any decoder error is `Corrupt`;
/// 3. it is decoded again with 64 one-bits inserted just before that end marker. A complete
///    scan never reads them (its last block ends before), so the picture is the same bit
///    for bit; a scan that ends early reads them instead of zeros — a code of all ones is
///    no valid Huffman code — so the picture differs or does not decode: `Corrupt`.
///
/// Data after the end of the picture (a motion photo's video) is allowed.
pub fn check_jpeg_complete(bytes: &[u8]) -> Result<(), IdDocumentError> {
    let _span = tracing::debug_span!("check_jpeg_complete", bytes = bytes.len()).entered();
    let corrupt = |what: String| IdDocumentError::Corrupt(what);
    let end = jpeg_end_of_image(bytes)
        .ok_or_else(|| corrupt("the JPEG is truncated (no end of image after its scans)".into()))?;
    let strict = zune_decode(bytes, true)
        .map_err(|e| corrupt(format!("the JPEG does not decode cleanly: {e}")))?;
    let mut probe = Vec::with_capacity(bytes.len() + 16);
    probe.extend_from_slice(&bytes[..end]);
    probe.extend(std::iter::repeat_n([0xFF, 0x00], 8).flatten());
    probe.extend_from_slice(&bytes[end..]);
    match zune_decode(&probe, false) {
        Ok(pixels) if pixels == strict => Ok(()),
        _ => Err(corrupt(
            "the JPEG's image data is incomplete (a scan ends before its last block)".into(),
        )),
    }
}

/// The pixels of a JPEG decoded by zune-jpeg (the decoder `image` uses), strict or lenient.
fn zune_decode(bytes: &[u8], strict: bool) -> Result<Vec<u8>, String> {
    use zune_core::bytestream::ZCursor;
    use zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(strict)
        .set_max_width(MAX_IMAGE_SIDE as usize)
        .set_max_height(MAX_IMAGE_SIDE as usize);
    zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options)
        .decode()
        .map_err(|e| format!("{e:?}"))
}

/// The offset of the end-of-image marker (`FF D9`) that ends a JPEG's picture: marker
/// segments are skipped by their declared lengths (so a thumbnail inside EXIF does not
/// count), each scan's entropy-coded data up to the next marker that is neither a stuffed
/// `FF 00`, a fill byte nor a restart marker; `None` when the bytes end first.
fn jpeg_end_of_image(bytes: &[u8]) -> Option<usize> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    loop {
        // At a marker: FF (fill FFs) code.
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        while *bytes.get(i + 1)? == 0xFF {
            i += 1;
        }
        let marker = *bytes.get(i + 1)?;
        match marker {
            0xD9 => return Some(i),
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
                if len < 2 {
                    return None;
                }
                i = i.checked_add(2 + len)?;
                if marker == 0xDA {
                    // Entropy-coded data up to the next real marker.
                    loop {
                        let at = i + bytes.get(i..)?.iter().position(|&b| b == 0xFF)?;
                        match *bytes.get(at + 1)? {
                            0x00 | 0xD0..=0xD7 => i = at + 2,
                            0xFF => i = at + 1,
                            _ => {
                                i = at;
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `image` shrunk (never enlarged) so that its long side is at most `side`.
fn shrink_to(image: &RgbImage, side: u32) -> Cow<'_, RgbImage> {
    let (w, h) = image.dimensions();
    let long = w.max(h);
    if long <= side {
        return Cow::Borrowed(image);
    }
    let scale = side as f32 / long as f32;
    let nw = ((w as f32 * scale).round() as u32).max(1);
    let nh = ((h as f32 * scale).round() as u32).max(1);
    let _span = tracing::debug_span!("shrink", from = long, to = side).entered();
    Cow::Owned(image::imageops::resize(
        image,
        nw,
        nh,
        FilterType::CatmullRom,
    ))
}

/// A JPEG that fits.
struct Encoded {
    bytes: Vec<u8>,
    size: (u32, u32),
    quality: u8,
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, IdDocumentError> {
    let _span = tracing::trace_span!("encode_jpeg", quality).entered();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .map_err(|e| IdDocumentError::Encode(e.to_string()))?;
    Ok(out)
}

/// Encodes `image` as a JPEG within `config.max_upload_bytes`: each quality in turn, then
/// smaller and smaller down to `config.min_side`.
fn fit_jpeg(image: &RgbImage, config: &IdDocumentConfig) -> Result<Encoded, IdDocumentError> {
    let _span = tracing::debug_span!("fit_jpeg", limit = config.max_upload_bytes).entered();
    let long = image.width().max(image.height());
    let mut side = long;
    let mut smallest = usize::MAX;
    loop {
        let scaled = shrink_to(image, side);
        for &quality in &config.jpeg_qualities {
            let bytes = encode_jpeg(&scaled, quality)?;
            if bytes.len() <= config.max_upload_bytes {
                return Ok(Encoded {
                    bytes,
                    size: scaled.dimensions(),
                    quality,
                });
            }
            smallest = smallest.min(bytes.len());
        }
        let next = (side as f32 * config.downscale_step).round() as u32;
        if side <= config.min_side.min(long) || next == 0 {
            return Err(IdDocumentError::TooLargeToFit {
                limit: config.max_upload_bytes,
                smallest,
            });
        }
        side = next.max(config.min_side.min(long));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_of(img: &RgbImage) -> Vec<u8> {
        encode_jpeg(img, 90).unwrap()
    }

    #[test]
    fn formats_are_sniffed_from_magic_bytes() {
        assert!(matches!(sniff_format(b""), Err(IdDocumentError::Empty)));
        assert!(matches!(
            sniff_format(b"hello, world"),
            Err(IdDocumentError::NotAnImage)
        ));
        assert_eq!(
            sniff_format(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(),
            DocumentFormat::Jpeg
        );
        assert_eq!(
            sniff_format(b"\x89PNG\r\n\x1a\n....").unwrap(),
            DocumentFormat::Png
        );
        let cases: [(&[u8], &str); 7] = [
            (b"GIF89a\x01\x00\x01\x00", "GIF"),
            (b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0", "BMP"),
            (b"RIFF\x10\0\0\0WEBPVP8 ", "WebP"),
            (b"\0\0\0\x18ftypheic\0\0\0\0", "HEIC"),
            (b"\0\0\0\x1cftypavif\0\0\0\0", "AVIF"),
            (b"II*\0\x08\0\0\0", "TIFF"),
            (b"%PDF-1.7\n", "PDF"),
        ];
        for (bytes, name) in cases {
            match sniff_format(bytes) {
                Err(IdDocumentError::UnsupportedFormat { format }) => assert_eq!(format, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        // "BM" text is not a bitmap.
        assert!(matches!(
            sniff_format(b"BMW owners club newsletter"),
            Err(IdDocumentError::NotAnImage)
        ));
    }

    #[test]
    fn truncated_jpegs_are_refused_even_with_an_end_marker_appended() {
        let img = RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 7]));
        let jpeg = jpeg_of(&img);
        check_jpeg_complete(&jpeg).unwrap();
        // Trailing data after the end (motion photos append a video) is fine.
        let mut trailer = jpeg.clone();
        trailer.extend_from_slice(b"\0\0\0\x18ftypmp42 video follows");
        check_jpeg_complete(&trailer).unwrap();
        assert!(matches!(
            check_jpeg_complete(&jpeg[..jpeg.len() - 2]),
            Err(IdDocumentError::Corrupt(_))
        ));
        for cut in [jpeg.len() - 40, jpeg.len() * 6 / 10, jpeg.len() / 2, 40, 4] {
            assert!(
                matches!(
                    check_jpeg_complete(&jpeg[..cut]),
                    Err(IdDocumentError::Corrupt(_))
                ),
                "cut at {cut}"
            );
            // The probe's case: cut, then `FF D9` appended to fool a trailer check.
            let mut faked = jpeg[..cut].to_vec();
            faked.extend_from_slice(&[0xFF, 0xD9]);
            assert!(
                matches!(
                    check_jpeg_complete(&faked),
                    Err(IdDocumentError::Corrupt(_))
                ),
                "cut at {cut} with FF D9 appended"
            );
        }
        // An `FF D9` inside an APP segment (an EXIF thumbnail's end) does not count.
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0x00, 0x00];
        fake.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x04, 0x00, 0x00, 0x12, 0x34]);
        assert_eq!(jpeg_end_of_image(&fake), None);
        assert_eq!(jpeg_end_of_image(&jpeg), Some(jpeg.len() - 2));
    }

    #[test]
    fn fitting_lowers_quality_then_size_and_gives_up_with_a_typed_error() {
        // Noise does not compress: the worst case for the size limit.
        let mut state = 0x2545_f491_u32;
        let noise = RgbImage::from_fn(900, 700, |_, _| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let b = state.to_le_bytes();
            image::Rgb([b[0], b[1], b[2]])
        });
        let mut config = IdDocumentConfig {
            max_upload_bytes: 200_000,
            ..IdDocumentConfig::default()
        };
        let fit = fit_jpeg(&noise, &config).unwrap();
        assert!(fit.bytes.len() <= 200_000);
        assert!(fit.size.0 < 900, "had to shrink: {:?}", fit.size);
        let aspect = fit.size.0 as f32 / fit.size.1 as f32;
        assert!(
            (aspect - 900.0 / 700.0).abs() < 0.01,
            "aspect kept: {:?}",
            fit.size
        );
        let decoded = image::load_from_memory(&fit.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), fit.size);

        config.max_upload_bytes = 10_000;
        config.min_side = 640;
        match fit_jpeg(&noise, &config) {
            Err(IdDocumentError::TooLargeToFit { limit, smallest }) => {
                assert_eq!(limit, 10_000);
                assert!(smallest > limit);
            }
            other => panic!("{:?}", other.map(|e| e.size)),
        }

        // A small, smooth picture fits at the first quality, unchanged in size.
        let smooth = RgbImage::from_fn(300, 200, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let fit = fit_jpeg(&smooth, &IdDocumentConfig::default()).unwrap();
        assert_eq!(fit.quality, 92);
        assert_eq!(fit.size, (300, 200));
    }

    #[test]
    fn config_defaults_are_valid_and_bad_values_are_refused() {
        IdDocumentConfig::default().validate().unwrap();
        let bad = [
            IdDocumentConfig {
                max_upload_bytes: 100,
                ..Default::default()
            },
            IdDocumentConfig {
                jpeg_qualities: vec![],
                ..Default::default()
            },
            IdDocumentConfig {
                jpeg_qualities: vec![80, 90],
                ..Default::default()
            },
            IdDocumentConfig {
                jpeg_qualities: vec![0],
                ..Default::default()
            },
            IdDocumentConfig {
                min_side: 4000,
                ..Default::default()
            },
            IdDocumentConfig {
                max_side: 10_000,
                ..Default::default()
            },
            IdDocumentConfig {
                downscale_step: 1.0,
                ..Default::default()
            },
            IdDocumentConfig {
                fallback_tiles: 0,
                ..Default::default()
            },
            IdDocumentConfig {
                secondary_portrait_ratio: 0.0,
                ..Default::default()
            },
            IdDocumentConfig {
                tiled_below: 1.5,
                ..Default::default()
            },
            IdDocumentConfig {
                max_input_bytes: MAX_ENCODED_BYTES + 1,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(
                matches!(c.validate(), Err(IdDocumentError::Config(_))),
                "{c:?}"
            );
        }
        let config = IdDocumentConfig {
            fallback_tiles: 9,
            ..Default::default()
        };
        assert!(config.validate().is_err());
    }
}
