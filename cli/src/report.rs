//! A certification or enrolment session as something a person can look at: a
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

use crate::annotate::{BOX, MESH};
use crate::draw::{self, can_draw, draw_text, fill_rect, line, text_width};
use base64::Engine as _;
use image::imageops::FilterType;
use image::{Rgb, RgbImage};
use lifecert_core::image::geometry::{Point, Rect};
use lifecert_core::text::messages::Language;
use std::fmt::Write as _;
use std::io::{self, Cursor};
use std::path::{Path, PathBuf};
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
    /// Whether the certification (or enrolment) succeeded.
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

fn finite_pairs(series: &[(f32, f32)]) -> Vec<(f32, f32)> {
    series
        .iter()
        .copied()
        .filter(|(t, v)| t.is_finite() && v.is_finite())
        .collect()
}

/// The time axis: from min(0, earliest time) to the latest time in the report.
fn time_range(r: &Report) -> (f32, f32) {
    let mut times: Vec<f32> = Vec::new();
    times.extend(r.frames.iter().map(|f| f.t_s));
    times.extend(r.instructions.iter().map(|i| i.0));
    times.extend(r.mouth_aperture.iter().map(|p| p.0));
    times.extend(r.speech_envelope.iter().map(|p| p.0));
    for w in &r.digit_windows {
        times.extend([w.0, w.1]);
    }
    if let Some((a, b)) = r.prompt_window {
        times.extend([a, b]);
    }
    let finite = times.into_iter().filter(|t| t.is_finite());
    let (lo, hi) = finite.fold((0.0f32, f32::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    if hi > lo {
        (lo, hi)
    } else {
        (lo, lo + 1.0)
    }
}

/// A tick spacing giving at most about a dozen ticks over `span` seconds.
fn tick_step(span: f32) -> f32 {
    const STEPS: [f32; 13] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 12.0)
        .unwrap_or(span / 10.0)
}

/// Series values scaled to [0, 1] by the series' maximum.
fn normalised(series: &[(f32, f32)]) -> Vec<(f32, f32)> {
    let pts = finite_pairs(series);
    let max = pts.iter().map(|p| p.1.abs()).fold(0.0f32, f32::max);
    pts.into_iter()
        .map(|(t, v)| {
            (
                t,
                if max > 0.0 {
                    (v / max).clamp(0.0, 1.0)
                } else {
                    0.0
                },
            )
        })
        .collect()
}

fn fmt_time(t: f32) -> String {
    let t = if t.abs() < 0.005 { 0.0 } else { t };
    format!("{t:.2} s")
}

const MOUTH_CSS: &str = "#d62728";
const SPEECH_CSS: &str = "#1f77b4";
const MOUTH_RGB: Rgb<u8> = Rgb([214, 39, 40]);
const SPEECH_RGB: Rgb<u8> = Rgb([31, 119, 180]);
const PROMPT_RGB: Rgb<u8> = Rgb([120, 170, 255]);
const DIGIT_RGB: Rgb<u8> = Rgb([255, 170, 60]);
const INSTRUCTION_RGB: Rgb<u8> = Rgb([150, 150, 150]);

impl Report {
    /// The chart as an inline SVG element.
    fn svg_chart(&self) -> String {
        let l = labels(self.language);
        let (w, h) = (960.0f32, 280.0f32);
        let (left, right, top, bottom) = (50.0f32, 20.0f32, 34.0f32, 44.0f32);
        let (t0, t1) = time_range(self);
        let pw = w - left - right;
        let ph = h - top - bottom;
        let x = |t: f32| left + (t - t0) / (t1 - t0) * pw;
        let y = |v: f32| top + (1.0 - v) * ph;
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}">"#,
            escape_html(l.chart)
        );
        let _ = write!(
            s,
            r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>"##
        );
        if let Some((a, b)) = self
            .prompt_window
            .filter(|(a, b)| a.is_finite() && b.is_finite())
        {
            let (xa, xb) = (x(a.min(b)), x(a.max(b)));
            let _ = write!(
                s,
                r##"<rect class="prompt" x="{xa:.1}" y="{top}" width="{:.1}" height="{ph}" fill="#cfe0ff" opacity="0.7"><title>{}: {} – {}</title></rect><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#3060c0">{}</text>"##,
                (xb - xa).max(1.0),
                escape_html(l.prompt),
                fmt_time(a),
                fmt_time(b),
                (xa + xb) / 2.0,
                top - 20.0,
                escape_html(l.prompt)
            );
        }
        for (a, b, label) in &self.digit_windows {
            if !(a.is_finite() && b.is_finite()) {
                continue;
            }
            let (xa, xb) = (x(a.min(*b)), x(a.max(*b)));
            let _ = write!(
                s,
                r##"<rect class="digit" x="{xa:.1}" y="{top}" width="{:.1}" height="{ph}" fill="#ffd9a8" opacity="0.8"><title>{}: {} – {}</title></rect><text x="{:.1}" y="{:.1}" font-size="13" font-weight="bold" text-anchor="middle" fill="#a05a00">{}</text>"##,
                (xb - xa).max(1.0),
                escape_html(label),
                fmt_time(*a),
                fmt_time(*b),
                (xa + xb) / 2.0,
                top - 6.0,
                escape_html(label)
            );
        }
        for (t, text) in self.instructions.iter().filter(|i| i.0.is_finite()) {
            let xt = x(*t);
            let _ = write!(
                s,
                r##"<line x1="{xt:.1}" y1="{top}" x2="{xt:.1}" y2="{:.1}" stroke="#888" stroke-dasharray="3,3"><title>{}: {}</title></line>"##,
                top + ph,
                fmt_time(*t),
                escape_html(text)
            );
        }
        for (series, colour, name) in [
            (&self.mouth_aperture, MOUTH_CSS, l.mouth),
            (&self.speech_envelope, SPEECH_CSS, l.speech),
        ] {
            let pts = normalised(series);
            if pts.is_empty() {
                continue;
            }
            let mut points = String::new();
            for (t, v) in pts {
                let _ = write!(points, "{:.1},{:.1} ", x(t), y(v));
            }
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}</title></polyline>"#,
                points.trim_end(),
                escape_html(name)
            );
        }
        let step = tick_step(t1 - t0);
        let mut k = (t0 / step).ceil() as i64;
        while (k as f32) * step <= t1 + 1e-4 {
            let t = k as f32 * step;
            let xt = x(t);
            let _ = write!(
                s,
                r##"<line x1="{xt:.1}" y1="{:.1}" x2="{xt:.1}" y2="{:.1}" stroke="#666"/><text x="{xt:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
                top + ph,
                top + ph + 4.0,
                top + ph + 16.0,
                format_tick(t, step)
            );
            k += 1;
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
            left + pw / 2.0,
            h - 6.0,
            escape_html(l.time)
        );
        let _ = write!(
            s,
            r#"<text x="{left}" y="{:.1}" font-size="12"><tspan fill="{MOUTH_CSS}">■ {}</tspan>  <tspan fill="{SPEECH_CSS}">■ {}</tspan></text>"#,
            h - 6.0,
            escape_html(l.mouth),
            escape_html(l.speech)
        );
        s.push_str("</svg>");
        s
    }

    /// The whole report as one self-contained HTML document (no external resources).
    pub fn to_html(&self) -> Result<String, ReportError> {
        let l = labels(self.language);
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut s = String::new();
        let title = escape_html(&self.title);
        let _ = write!(
            s,
            r#"<!DOCTYPE html>
<html lang="{}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 1.5em; color: #222; }}
.verdict {{ padding: .8em 1em; border-radius: 6px; color: #fff; font-size: 1.1em; }}
.passed {{ background: #1b7f2a; }} .failed {{ background: #b3261e; }}
.verdict code {{ background: rgba(255,255,255,.2); padding: 0 .3em; border-radius: 3px; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; }}
.strip {{ display: flex; flex-wrap: wrap; gap: 8px; }}
figure {{ margin: 0; width: min-content; }} figcaption {{ font-size: .8em; }}
.timeline td:first-child {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
</style>
</head>
<body>
<h1>{title}</h1>
"#,
            escape_html(self.language.tag())
        );
        let v = &self.verdict;
        let _ = writeln!(
            s,
            "<section class=\"verdict {}\"><strong>{}</strong> <code>{}</code><p>{}</p></section>",
            if v.passed { "passed" } else { "failed" },
            escape_html(if v.passed { l.passed } else { l.failed }),
            escape_html(&v.reason),
            escape_html(&v.message)
        );
        let _ = writeln!(s, "<h2>{}</h2>", escape_html(l.evidence));
        if self.evidence.is_empty() {
            let _ = writeln!(s, "<p>{}</p>", escape_html(l.none));
        } else {
            s.push_str("<table class=\"evidence\">\n");
            for (k, val) in &self.evidence {
                let _ = writeln!(
                    s,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    escape_html(k),
                    escape_html(val)
                );
            }
            s.push_str("</table>\n");
        }
        let _ = write!(
            s,
            "<h2>{}</h2>\n<div class=\"strip\">\n",
            escape_html(l.frames)
        );
        for frame in &self.frames {
            let png = png_bytes(&annotated(frame, None))?;
            let _ = writeln!(
                s,
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}<br>{}</figcaption></figure>",
                escape_html(&fmt_time(frame.t_s)),
                b64.encode(&png),
                escape_html(&fmt_time(frame.t_s)),
                escape_html(&frame.instruction)
            );
        }
        s.push_str("</div>\n");
        let _ = write!(
            s,
            "<h2>{}</h2>\n{}\n",
            escape_html(l.chart),
            self.svg_chart()
        );
        let _ = writeln!(s, "<h2>{}</h2>", escape_html(l.instructions));
        if self.instructions.is_empty() {
            let _ = writeln!(s, "<p>{}</p>", escape_html(l.none));
        } else {
            s.push_str("<table class=\"timeline\">\n");
            for (t, text) in &self.instructions {
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    escape_html(&fmt_time(*t)),
                    escape_html(text)
                );
            }
            s.push_str("</table>\n");
        }
        s.push_str("</body>\n</html>\n");
        Ok(s)
    }

    /// Writes [`Report::to_html`] to `path`.
    pub fn write_html(&self, path: &Path) -> Result<(), ReportError> {
        let html = self.to_html()?;
        std::fs::write(path, html).map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The report as one picture: title, frame strip, chart, verdict line.
    pub fn render_png(&self) -> RgbImage {
        const W: u32 = 1200;
        const PAD: u32 = 10;
        const THUMB_H: u32 = 120;
        const CAPTION_H: u32 = 14;
        const CHART_H: u32 = 300;
        const VERDICT_H: u32 = 44;
        const TITLE_H: u32 = 28;
        let white = Rgb([255, 255, 255]);
        let black = Rgb([20, 20, 20]);
        // Lay the thumbnails out in rows first, to know the height.
        let thumbs: Vec<(RgbImage, f32)> = self
            .frames
            .iter()
            .map(|f| (annotated(f, Some(THUMB_H)), f.t_s))
            .collect();
        let mut placed = Vec::with_capacity(thumbs.len());
        let (mut px, mut py) = (PAD, TITLE_H + PAD);
        for (img, t) in &thumbs {
            if px + img.width() > W - PAD && px > PAD {
                px = PAD;
                py += THUMB_H + CAPTION_H + PAD;
            }
            placed.push((px, py, img, *t));
            px += img.width() + PAD;
        }
        let strip_bottom = if thumbs.is_empty() {
            TITLE_H + PAD
        } else {
            py + THUMB_H + CAPTION_H + PAD
        };
        let chart_top = strip_bottom;
        let height = chart_top + CHART_H + VERDICT_H;
        let mut canvas = RgbImage::from_pixel(W, height, white);
        let title = if can_draw(&self.title) && !self.title.is_empty() {
            self.title.clone()
        } else {
            "lifecert report".to_owned()
        };
        draw_text(&mut canvas, PAD, 6, &title, 2, black);
        for (x, y, img, t) in placed {
            image::imageops::overlay(&mut canvas, img, i64::from(x), i64::from(y));
            draw_text(&mut canvas, x, y + THUMB_H + 3, &fmt_time(t), 1, black);
        }
        self.draw_chart(&mut canvas, chart_top, CHART_H);
        // Verdict line.
        let v = &self.verdict;
        let band = if v.passed {
            Rgb([27, 127, 42])
        } else {
            Rgb([179, 38, 30])
        };
        let vy = chart_top + CHART_H;
        fill_rect(
            &mut canvas,
            0,
            i64::from(vy),
            i64::from(W),
            i64::from(height),
            band,
            1.0,
        );
        let mut text = format!(
            "{}  [{}]",
            if v.passed { EN.passed } else { EN.failed },
            v.reason
        );
        if !v.message.is_empty() && can_draw(&v.message) {
            text.push_str("  ");
            text.push_str(&v.message);
        }
        let max_chars = ((W - 2 * PAD) / (draw::GLYPH * 2)) as usize;
        let text: String = text.chars().take(max_chars).collect();
        draw_text(&mut canvas, PAD, vy + 14, &text, 2, white);
        canvas
    }

    /// Draws the chart into `canvas` between `top` and `top + height`.
    fn draw_chart(&self, canvas: &mut RgbImage, top: u32, height: u32) {
        let black = Rgb([20, 20, 20]);
        let (left, right) = (60.0f32, 20.0f32);
        let (pt, pb) = (top as f32 + 36.0, (top + height) as f32 - 36.0);
        let pw = canvas.width() as f32 - left - right;
        let (t0, t1) = time_range(self);
        let x = |t: f32| left + (t - t0) / (t1 - t0) * pw;
        let y = |v: f32| pb - v * (pb - pt);
        let fill = |c: &mut RgbImage, a: f32, b: f32, colour: Rgb<u8>, alpha: f32| {
            fill_rect(
                c,
                x(a.min(b)).round() as i64,
                pt.round() as i64,
                (x(a.max(b)).round() as i64).max(x(a.min(b)).round() as i64 + 1),
                pb.round() as i64,
                colour,
                alpha,
            );
        };
        if let Some((a, b)) = self
            .prompt_window
            .filter(|(a, b)| a.is_finite() && b.is_finite())
        {
            fill(canvas, a, b, PROMPT_RGB, 0.35);
            let xm = (x(a) + x(b)) / 2.0;
            let w = text_width("prompt", 1) as f32;
            draw_text(
                canvas,
                (xm - w / 2.0).max(0.0) as u32,
                (pt - 12.0) as u32,
                "prompt",
                1,
                Rgb([48, 96, 192]),
            );
        }
        for (a, b, label) in &self.digit_windows {
            if !(a.is_finite() && b.is_finite()) {
                continue;
            }
            fill(canvas, *a, *b, DIGIT_RGB, 0.4);
            let xm = (x(*a) + x(*b)) / 2.0;
            let w = text_width(label, 2) as f32;
            draw_text(
                canvas,
                (xm - w / 2.0).max(0.0) as u32,
                (pt - 18.0) as u32,
                label,
                2,
                Rgb([160, 90, 0]),
            );
        }
        for (t, _) in self.instructions.iter().filter(|i| i.0.is_finite()) {
            let xt = x(*t);
            let mut yy = pt;
            while yy < pb {
                line(
                    canvas,
                    Point::new(xt, yy),
                    Point::new(xt, (yy + 3.0).min(pb)),
                    INSTRUCTION_RGB,
                    1,
                );
                yy += 6.0;
            }
        }
        for (series, colour) in [
            (&self.mouth_aperture, MOUTH_RGB),
            (&self.speech_envelope, SPEECH_RGB),
        ] {
            let pts = normalised(series);
            for pair in pts.windows(2) {
                line(
                    canvas,
                    Point::new(x(pair[0].0), y(pair[0].1)),
                    Point::new(x(pair[1].0), y(pair[1].1)),
                    colour,
                    2,
                );
            }
        }
        // Frame and axis.
        let frame_colour = Rgb([120, 120, 120]);
        draw::rect_outline(canvas, left, pt, left + pw, pb, frame_colour, 1);
        let step = tick_step(t1 - t0);
        let mut k = (t0 / step).ceil() as i64;
        while (k as f32) * step <= t1 + 1e-4 {
            let t = k as f32 * step;
            let xt = x(t);
            line(
                canvas,
                Point::new(xt, pb),
                Point::new(xt, pb + 4.0),
                frame_colour,
                1,
            );
            let label = format_tick(t, step);
            let w = text_width(&label, 1) as f32;
            draw_text(
                canvas,
                (xt - w / 2.0).max(0.0) as u32,
                pb as u32 + 8,
                &label,
                1,
                black,
            );
            k += 1;
        }
        draw_text(
            canvas,
            (left + pw / 2.0) as u32 - text_width("time (s)", 1) / 2,
            pb as u32 + 22,
            "time (s)",
            1,
            black,
        );
        // Legend, right-aligned above the plot.
        let legend = [
            ("mouth aperture", MOUTH_RGB),
            ("speech envelope", SPEECH_RGB),
            ("instruction change", INSTRUCTION_RGB),
        ];
        let legend_width: u32 = legend
            .iter()
            .map(|(name, _)| 14 + text_width(name, 1) + 20)
            .sum();
        let mut lx = (left + pw) as u32 - legend_width.min((left + pw) as u32);
        for (name, colour) in legend {
            fill_rect(
                canvas,
                i64::from(lx),
                i64::from(top + 4),
                i64::from(lx + 10),
                i64::from(top + 12),
                colour,
                1.0,
            );
            draw_text(canvas, lx + 14, top + 4, name, 1, black);
            lx += 14 + text_width(name, 1) + 20;
        }
    }

    /// Writes [`Report::render_png`] to `path` as PNG.
    pub fn write_png(&self, path: &Path) -> Result<(), ReportError> {
        let bytes = png_bytes(&self.render_png())?;
        std::fs::write(path, bytes).map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// A tick label: whole seconds without decimals, else one decimal.
fn format_tick(t: f32, step: f32) -> String {
    if step >= 1.0 {
        format!("{}", t.round() as i64)
    } else {
        format!("{t:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
