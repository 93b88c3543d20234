//! The report as one PNG picture: title, frame strip, the chart and the verdict line, in
//! the built-in bitmap font (English labels).

use super::{annotated, fmt_time, png_bytes, Report, ReportError, EN};
use crate::draw::{self, can_draw, draw_text, fill_rect};
use image::{Rgb, RgbImage};
use std::path::Path;

impl Report {
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

    /// Writes [`Report::render_png`] to `path` as PNG.
    pub fn write_png(&self, path: &Path) -> Result<(), ReportError> {
        let bytes = png_bytes(&self.render_png())?;
        std::fs::write(path, bytes).map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}
