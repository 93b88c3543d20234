//! Drawing primitives on RGB images: lines, dots, filled and translucent rectangles, and
//! text in the public-domain 8×8 bitmap font (`font8x8`). Used by the annotated pictures
//! ([`crate::annotate`]) and the PNG report ([`crate::report`]).
//!
//! Everything clips at the image border, so callers may draw partly outside it.

use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage};
use lifecert_core::image::geometry::Point;

/// Width and height of one glyph of the bitmap font at scale 1, pixels.
pub const GLYPH: u32 = 8;

/// Sets one pixel if it lies inside the image.
pub fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

/// Mixes `c` into one pixel with opacity `alpha` (0 = unchanged, 1 = `c`), if inside.
pub fn blend(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>, alpha: f32) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        let a = alpha.clamp(0.0, 1.0);
        let p = img.get_pixel_mut(x as u32, y as u32);
        for (dst, src) in p.0.iter_mut().zip(c.0) {
            *dst = (f32::from(*dst) * (1.0 - a) + f32::from(src) * a).round() as u8;
        }
    }
}

/// Draws a straight line (Bresenham) of the given thickness.
pub fn line(img: &mut RgbImage, a: Point, b: Point, c: Rgb<u8>, thickness: i64) {
    if ![a.x, a.y, b.x, b.y].iter().all(|v| v.is_finite()) {
        return;
    }
    let (mut x0, mut y0) = (a.x.round() as i64, a.y.round() as i64);
    let (x1, y1) = (b.x.round() as i64, b.y.round() as i64);
    let dx = (x1 - x0).abs();
    let dy = -(y1 - y0).abs();
    let sx = if x0 < x1 { 1 } else { -1 };
    let sy = if y0 < y1 { 1 } else { -1 };
    let mut err = dx + dy;
    let r = thickness / 2;
    let mut steps = 0;
    loop {
        for oy in -r..=r {
            for ox in -r..=r {
                put(img, x0 + ox, y0 + oy, c);
            }
        }
        if (x0 == x1 && y0 == y1) || steps > 100_000 {
            break;
        }
        steps += 1;
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x0 += sx;
        }
        if e2 <= dx {
            err += dx;
            y0 += sy;
        }
    }
}

/// Draws a filled dot.
pub fn dot(img: &mut RgbImage, p: Point, radius: i64, c: Rgb<u8>) {
    if !(p.x.is_finite() && p.y.is_finite()) {
        return;
    }
    let (cx, cy) = (p.x.round() as i64, p.y.round() as i64);
    for y in -radius..=radius {
        for x in -radius..=radius {
            if x * x + y * y <= radius * radius {
                put(img, cx + x, cy + y, c);
            }
        }
    }
}

/// Draws the outline of the axis-aligned rectangle with corners `(x0, y0)`, `(x1, y1)`.
pub fn rect_outline(img: &mut RgbImage, x0: f32, y0: f32, x1: f32, y1: f32, c: Rgb<u8>, t: i64) {
    let corners = [
        Point::new(x0, y0),
        Point::new(x1, y0),
        Point::new(x1, y1),
        Point::new(x0, y1),
    ];
    for i in 0..4 {
        line(img, corners[i], corners[(i + 1) % 4], c, t);
    }
}

/// Fills the rectangle `[x0, x1) × [y0, y1)` with `c` mixed in at opacity `alpha`
/// (1 = opaque).
pub fn fill_rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb<u8>, alpha: f32) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            if alpha >= 1.0 {
                img.put_pixel(x as u32, y as u32, c);
            } else {
                blend(img, x, y, c, alpha);
            }
        }
    }
}

/// The glyph for `ch` from the font's Basic Latin, Latin-1, Greek, box-drawing, block and
/// Hiragana tables, or `None` when the font has no such character (e.g. Chinese).
fn glyph(ch: char) -> Option<[u8; 8]> {
    font8x8::BASIC_FONTS
        .get(ch)
        .or_else(|| font8x8::LATIN_FONTS.get(ch))
        .or_else(|| font8x8::GREEK_FONTS.get(ch))
        .or_else(|| font8x8::BOX_FONTS.get(ch))
        .or_else(|| font8x8::BLOCK_FONTS.get(ch))
        .or_else(|| font8x8::HIRAGANA_FONTS.get(ch))
        .or_else(|| font8x8::MISC_FONTS.get(ch))
}

/// Whether every character of `text` has a glyph in the bitmap font (Latin, Greek,
/// Hiragana; not Chinese).
pub fn can_draw(text: &str) -> bool {
    text.chars().all(|ch| glyph(ch).is_some())
}

/// Width of `text` drawn at `scale`, pixels (one glyph cell per character).
pub fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * GLYPH * scale
}

/// Draws `text` with the 8×8 public-domain bitmap font, each font pixel `scale` wide, with
/// its top-left corner at `(x, y)`. A character the font lacks (e.g. Chinese) is drawn as
/// `?`; use [`can_draw`] to check first.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32, c: Rgb<u8>) {
    let mut pen = x;
    let fallback = glyph('?').unwrap_or([0; 8]);
    for ch in text.chars() {
        let bitmap = glyph(ch).unwrap_or(fallback);
        for (row, bits) in bitmap.iter().enumerate() {
            for col in 0..GLYPH {
                if bits & (1 << col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            put(
                                img,
                                i64::from(pen + col * scale + dx),
                                i64::from(y + row as u32 * scale + dy),
                                c,
                            );
                        }
                    }
                }
            }
        }
        pen += GLYPH * scale;
    }
}

/// Splits `text` into lines of at most `width` characters at spaces (long words are cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let current = lines.last_mut().expect("lines is never empty");
        let needed =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if needed <= width || current.is_empty() {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        } else {
            lines.push(word.to_owned());
        }
    }
    lines
        .into_iter()
        .flat_map(|l| {
            let chars: Vec<char> = l.chars().collect();
            if chars.is_empty() {
                return vec![String::new()];
            }
            chars
                .chunks(width)
                .map(|c| c.iter().collect())
                .collect::<Vec<String>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_drawn_and_unknown_characters_become_question_marks() {
        let mut img = RgbImage::new(40, 10);
        draw_text(&mut img, 0, 0, "Hi", 1, Rgb([255, 255, 255]));
        assert!(img.pixels().any(|p| p.0 == [255, 255, 255]));
        assert!(can_draw("Café"));
        assert!(!can_draw("请眨眼"));
        let mut q = RgbImage::new(8, 8);
        let mut cjk = RgbImage::new(8, 8);
        draw_text(&mut q, 0, 0, "?", 1, Rgb([9, 9, 9]));
        draw_text(&mut cjk, 0, 0, "眨", 1, Rgb([9, 9, 9]));
        assert_eq!(q, cjk);
        assert_eq!(text_width("abc", 2), 48);
    }

    #[test]
    fn wrapping_keeps_words_and_cuts_long_ones() {
        assert_eq!(
            wrap("move a bit closer", 8),
            vec!["move a", "bit", "closer"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
    }

    #[test]
    fn translucent_fill_mixes_and_clips() {
        let mut img = RgbImage::from_pixel(4, 4, Rgb([0, 0, 0]));
        fill_rect(&mut img, -2, -2, 2, 2, Rgb([200, 100, 0]), 0.5);
        assert_eq!(img.get_pixel(0, 0).0, [100, 50, 0]);
        assert_eq!(img.get_pixel(3, 3).0, [0, 0, 0]);
        line(
            &mut img,
            Point::new(f32::NAN, 0.0),
            Point::new(1.0, 1.0),
            Rgb([1, 1, 1]),
            1,
        );
    }
}
