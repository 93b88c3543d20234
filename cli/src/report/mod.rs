//! A certification or enrollment session as something a person can look at: a
//! self-contained HTML page ([`Report::write_html`]) or one PNG picture
//! ([`Report::write_png`]).
//!
//! The session code fills a [`Report`] — plain data, no engine types beyond
//! [`Language`] and [`Rect`] — from the session's updates: a few downscaled frames with the
//! face box and landmarks ([`ReportFrame::from_image`] does the downscaling), the
//! instructions as they changed, the mouth aperture and the speech envelope over time, where
//! each challenge digit was heard and when the spoken prompt played, and the verdict with
//! its evidence. All times are seconds on the session's time line (the first frame at 0).
//!
//! The HTML page has the verdict, the evidence table, the frames (inline PNG, with the box
//! in green and the landmarks in blue), an SVG chart of mouth aperture against speech
//! envelope with the digit windows and the prompt window shaded, and the instruction
//! timeline. All text is HTML-escaped. Headings follow [`Report::language`].
//!
//! The PNG has the frames as a strip on top, the same chart below and the verdict line
//! at the bottom. Its text is drawn with the built-in 8×8 bitmap font ([`crate::draw`]),
//! which has Latin, Greek and Hiragana but no Chinese: labels are English, and a verdict
//! message the font cannot draw is left out (the reason id is always shown).
//!
//! In the chart each curve is scaled to its own maximum: it compares timing and shape
//! (does the mouth open when the voice is heard?), not magnitudes.
//!
//! The code is split by output: `html` writes the page, `png` draws the picture, and
//! `chart` holds what both charts share (the time axis, the scaled curves, the colours)
//! with the SVG and the raster drawing of the chart.

mod chart;
mod html;
mod png;

use crate::annotate::{BOX, MESH};
use crate::draw;
use image::imageops::FilterType;
use image::RgbImage;
use lifecert_core::image::geometry::Rect;
use lifecert_core::text::messages::Language;
use std::io::{self, Cursor};
use std::path::PathBuf;
use thiserror::Error;

/// Longest side of a thumbnail as drawn; larger thumbnails are downscaled when rendered.
pub const MAX_THUMBNAIL_SIDE: u32 = 320;
/// Suggested longest side for [`ReportFrame::from_image`], pixels.
pub const THUMBNAIL_SIDE: u32 = 160;

/// Why a report could not be written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A picture could not be encoded as PNG.
    #[error("cannot encode PNG: {0}")]
    Encode(#[from] image::ImageError),
}

/// The outcome shown at the top of the page and at the bottom of the PNG.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Whether the certification (or enrollment) succeeded.
    pub passed: bool,
    /// The stable reason id (e.g. `"face_mismatch"`, `"passed"`), shown verbatim.
    pub reason: String,
    /// The message the person was shown, in [`Report::language`].
    pub message: String,
}

/// One moment of the session, as a small picture.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFrame {
    /// Time of the frame, seconds.
    pub t_s: f32,
    /// The frame, already downscaled (see [`ReportFrame::from_image`]); a thumbnail larger
    /// than [`MAX_THUMBNAIL_SIDE`] is downscaled again when drawn.
    pub thumbnail: RgbImage,
    /// The tracked face's box, in thumbnail pixels.
    pub face_box: Option<Rect>,
    /// Landmark points to draw (e.g. the 468 FaceMesh points, or only the lips), in
    /// thumbnail pixels; may be empty.
    pub mesh: Vec<(f32, f32)>,
    /// The instruction on screen at that moment, as shown to the person.
    pub instruction: String,
}

impl ReportFrame {
    /// Builds a report frame from a full-size `image`: downscales it so that its longer
    /// side is at most `max_side` pixels (e.g. [`THUMBNAIL_SIDE`]; never upscales) and
    /// scales `face_box` and `mesh`, given in `image` pixels, with it.
    pub fn from_image(
        image: &RgbImage,
        max_side: u32,
        t_s: f32,
        face_box: Option<Rect>,
        mesh: &[(f32, f32)],
        instruction: impl Into<String>,
    ) -> ReportFrame {
        let (thumbnail, s) = downscale(image, max_side.max(1));
        ReportFrame {
            t_s,
            thumbnail,
            face_box: face_box.map(|b| scale_rect(b, s)),
            mesh: mesh.iter().map(|&(x, y)| (x * s, y * s)).collect(),
            instruction: instruction.into(),
        }
    }
}

/// A session timeline to render. See the module docs; every field may be empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Heading, e.g. "Certification 2025 — 张** (subject ab12…)".
    pub title: String,
    /// Language of the texts (sets the page's `lang` and its headings).
    pub language: Language,
    /// The outcome.
    pub verdict: Verdict,
    /// Evidence as name/value pairs, in display order (e.g. `("av_sync", "0.62")`).
    pub evidence: Vec<(String, String)>,
    /// Frames to show, in time order.
    pub frames: Vec<ReportFrame>,
    /// Each instruction with the time it appeared, in time order.
    pub instructions: Vec<(f32, String)>,
    /// Mouth aperture over time (`(t_s, aperture)`).
    pub mouth_aperture: Vec<(f32, f32)>,
    /// Speech energy envelope over time (`(t_s, energy)`).
    pub speech_envelope: Vec<(f32, f32)>,
    /// Where each challenge digit was heard: `(start_s, end_s, label)`, e.g. the digit.
    pub digit_windows: Vec<(f32, f32, String)>,
    /// When the spoken prompt played (`(start_s, end_s)`).
    pub prompt_window: Option<(f32, f32)>,
}

/// Headings and legend texts in one language.
struct Labels {
    evidence: &'static str,
    frames: &'static str,
    chart: &'static str,
    instructions: &'static str,
    passed: &'static str,
    failed: &'static str,
    mouth: &'static str,
    speech: &'static str,
    prompt: &'static str,
    time: &'static str,
    none: &'static str,
}

const EN: Labels = Labels {
    evidence: "Evidence",
    frames: "Frames",
    chart: "Mouth and voice",
    instructions: "Instructions over time",
    passed: "PASSED",
    failed: "FAILED",
    mouth: "mouth aperture",
    speech: "speech envelope",
    prompt: "prompt",
    time: "time (s)",
    none: "none",
};

fn labels(language: Language) -> &'static Labels {
    const ZH_HANS: Labels = Labels {
        evidence: "证据",
        frames: "画面",
        chart: "口型与语音",
        instructions: "提示时间线",
        passed: "通过",
        failed: "未通过",
        mouth: "口型张开度",
        speech: "语音能量",
        prompt: "播报提示",
        time: "时间（秒）",
        none: "无",
    };
    const ZH_HANT: Labels = Labels {
        evidence: "證據",
        frames: "畫面",
        chart: "口型與語音",
        instructions: "提示時間線",
        passed: "通過",
        failed: "未通過",
        mouth: "口型張開度",
        speech: "語音能量",
        prompt: "播報提示",
        time: "時間（秒）",
        none: "無",
    };
    match language {
        Language::ZhHans => &ZH_HANS,
        Language::ZhHant => &ZH_HANT,
        Language::En => &EN,
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn scale_rect(r: Rect, s: f32) -> Rect {
    Rect::new(r.x * s, r.y * s, r.width * s, r.height * s)
}

/// `image` with its longer side at most `max_side`, and the scale factor applied.
fn downscale(image: &RgbImage, max_side: u32) -> (RgbImage, f32) {
    let (w, h) = image.dimensions();
    let long = w.max(h);
    if long <= max_side || w == 0 || h == 0 {
        return (image.clone(), 1.0);
    }
    let s = max_side as f32 / long as f32;
    let nw = ((w as f32 * s).round() as u32).max(1);
    let nh = ((h as f32 * s).round() as u32).max(1);
    (
        image::imageops::resize(image, nw, nh, FilterType::Triangle),
        s,
    )
}

/// The frame's thumbnail at `height` pixels (or as given, capped at
/// [`MAX_THUMBNAIL_SIDE`]) with the face box and landmarks drawn.
fn annotated(frame: &ReportFrame, height: Option<u32>) -> RgbImage {
    let (w, h) = frame.thumbnail.dimensions();
    let (mut img, s) = match height {
        Some(target) if h > 0 && w > 0 => {
            let s = target as f32 / h as f32;
            let nw = ((w as f32 * s).round() as u32).clamp(1, 2 * MAX_THUMBNAIL_SIDE);
            (
                image::imageops::resize(&frame.thumbnail, nw, target, FilterType::Triangle),
                s,
            )
        }
        _ => downscale(&frame.thumbnail, MAX_THUMBNAIL_SIDE),
    };
    for &(x, y) in &frame.mesh {
        let (x, y) = (x * s, y * s);
        if x.is_finite() && y.is_finite() {
            draw::put(&mut img, x.round() as i64, y.round() as i64, MESH);
        }
    }
    if let Some(b) = frame.face_box {
        let b = scale_rect(b, s);
        draw::rect_outline(&mut img, b.x, b.y, b.right(), b.bottom(), BOX, 1);
    }
    img
}

fn png_bytes(img: &RgbImage) -> Result<Vec<u8>, ReportError> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)?;
    Ok(out)
}

fn fmt_time(t: f32) -> String {
    let t = if t.abs() < 0.005 { 0.0 } else { t };
    format!("{t:.2} s")
}

#[cfg(test)]
mod tests {
    use super::chart::{format_tick, tick_step};
    use super::*;
    use image::Rgb;

    fn sample() -> Report {
        let frame = RgbImage::from_pixel(640, 480, Rgb([90, 90, 90]));
        Report {
            title: "Certification <test> & \"quotes\"".into(),
            language: Language::En,
            verdict: Verdict {
                passed: false,
                reason: "digits_not_heard".into(),
                message: "We could not hear the digits <again>".into(),
            },
            evidence: vec![("av_sync".into(), "0.12".into())],
            frames: vec![ReportFrame::from_image(
                &frame,
                THUMBNAIL_SIDE,
                0.5,
                Some(Rect::new(200.0, 100.0, 240.0, 280.0)),
                &[(320.0, 240.0)],
                "Read the digits <aloud>",
            )],
            instructions: vec![(0.0, "Hold still".into()), (1.0, "Read 3 7 1".into())],
            mouth_aperture: (0..50)
                .map(|i| (i as f32 * 0.04, (i as f32 * 0.3).sin().abs()))
                .collect(),
            speech_envelope: (0..50)
                .map(|i| (i as f32 * 0.04, (i as f32 * 0.3 + 0.2).sin().abs()))
                .collect(),
            digit_windows: vec![(1.2, 1.5, "3".into()), (1.6, 1.9, "7".into())],
            prompt_window: Some((0.2, 1.0)),
        }
    }

    #[test]
    fn frames_are_downscaled_with_their_geometry() {
        let r = sample();
        let f = &r.frames[0];
        assert_eq!(f.thumbnail.dimensions(), (160, 120));
        assert_eq!(f.face_box, Some(Rect::new(50.0, 25.0, 60.0, 70.0)));
        assert_eq!(f.mesh, vec![(80.0, 60.0)]);
        let drawn = annotated(f, None);
        assert_eq!(drawn.get_pixel(50, 25).0, BOX.0);
        assert_eq!(drawn.get_pixel(80, 60).0, MESH.0);
    }

    #[test]
    fn html_escapes_every_text() {
        let html = sample().to_html().unwrap();
        assert!(html.contains("Certification &lt;test&gt; &amp; &quot;quotes&quot;"));
        assert!(html.contains("Read the digits &lt;aloud&gt;"));
        assert!(!html.contains("<test>"));
        assert!(!html.contains("<again>"));
        assert!(html.contains("data:image/png;base64,"));
        assert_eq!(html.matches("class=\"digit\"").count(), 2);
        assert!(html.contains("class=\"prompt\""));
    }

    #[test]
    fn empty_and_non_finite_reports_still_render() {
        let mut r = sample();
        r.frames.clear();
        r.mouth_aperture = vec![(f32::NAN, 1.0), (0.5, f32::INFINITY)];
        r.speech_envelope.clear();
        r.digit_windows = vec![(f32::NAN, 1.0, "x".into())];
        r.prompt_window = None;
        r.instructions.clear();
        r.language = Language::ZhHans;
        let html = r.to_html().unwrap();
        assert!(html.contains("lang=\"zh-Hans\""));
        assert!(html.contains("未通过"));
        let png = r.render_png();
        assert_eq!(png.width(), 1200);
    }

    #[test]
    fn ticks_stay_readable() {
        assert_eq!(tick_step(3.0), 0.5);
        assert_eq!(tick_step(0.5), 0.1);
        assert_eq!(tick_step(100.0), 10.0);
        assert_eq!(format_tick(2.0, 1.0), "2");
        assert_eq!(format_tick(0.5, 0.5), "0.5");
    }
}
