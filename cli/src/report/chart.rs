//! The chart of mouth aperture against speech envelope, shared by the page and the picture:
//! the time axis and its ticks, each curve scaled to its own maximum, the colours, and the
//! chart drawn as inline SVG ([`Report::svg_chart`]) or into the PNG ([`Report::draw_chart`]).

use super::{escape_html, fmt_time, labels, Report};
use crate::draw::{self, draw_text, fill_rect, line, text_width};
use image::{Rgb, RgbImage};
use lifecert_core::image::geometry::Point;
use std::fmt::Write as _;

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
pub(super) fn tick_step(span: f32) -> f32 {
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

/// A tick label: whole seconds without decimals, else one decimal.
pub(super) fn format_tick(t: f32, step: f32) -> String {
    if step >= 1.0 {
        format!("{}", t.round() as i64)
    } else {
        format!("{t:.1}")
    }
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
    pub(super) fn svg_chart(&self) -> String {
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

    /// Draws the chart into `canvas` between `top` and `top + height`.
    pub(super) fn draw_chart(&self, canvas: &mut RgbImage, top: u32, height: u32) {
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
}
