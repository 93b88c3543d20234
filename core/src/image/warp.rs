//! Resampling the upright RGB image into model input tensors: letterboxing for the detector
//! and rotated square crops for the landmark model (and later the descriptor chip).

use crate::image::geometry::Rect;
use image::RgbImage;

/// A 2-D affine map `p' = [a b; c d]·p + [tx, ty]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Row 0, column 0.
    pub a: f32,
    /// Row 0, column 1.
    pub b: f32,
    /// Row 1, column 0.
    pub c: f32,
    /// Row 1, column 1.
    pub d: f32,
    /// Horizontal translation.
    pub tx: f32,
    /// Vertical translation.
    pub ty: f32,
}

impl Affine {
    /// The map that sends the output square `[0, size)²` onto the square of side `side`
    /// centred on `(cx, cy)` and rotated by `angle` radians (clockwise in image coordinates,
    /// where y grows downwards).
    pub fn square_crop(cx: f32, cy: f32, side: f32, angle: f32, size: u32) -> Self {
        let s = side / size as f32;
        let (sin, cos) = angle.sin_cos();
        let half = size as f32 / 2.0;
        // p_src = centre + R(angle)·s·(p_out − half)
        let a = cos * s;
        let b = -sin * s;
        let c = sin * s;
        let d = cos * s;
        Self {
            a,
            b,
            c,
            d,
            tx: cx - a * half - b * half,
            ty: cy - c * half - d * half,
        }
    }

    /// Applies the map to a point.
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.a * x + self.b * y + self.tx,
            self.c * x + self.d * y + self.ty,
        )
    }

    /// The linear scale factor (square root of the determinant's magnitude).
    pub fn scale(&self) -> f32 {
        (self.a * self.d - self.b * self.c).abs().sqrt()
    }
}

/// Samples an image at pixel-centre coordinates with bilinear interpolation; outside the
/// image the nearest edge pixel is used. Reads the packed RGB bytes directly: the row stride
/// and the clamping bounds are computed once per image, not on every pixel read.
struct Sampler<'a> {
    raw: &'a [u8],
    stride: usize,
    max_x: i32,
    max_y: i32,
}

impl<'a> Sampler<'a> {
    fn new(img: &'a RgbImage) -> Self {
        Self {
            raw: img.as_raw(),
            stride: img.width() as usize * 3,
            max_x: img.width() as i32 - 1,
            max_y: img.height() as i32 - 1,
        }
    }

    #[inline(always)]
    fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let fx = x - 0.5;
        let fy = y - 0.5;
        let x0f = floor(fx);
        let y0f = floor(fy);
        let wx = fx - x0f;
        let wy = fy - y0f;
        let x0 = (x0f as i32).clamp(0, self.max_x) as usize * 3;
        let x1 = (x0f as i32 + 1).clamp(0, self.max_x) as usize * 3;
        let y0 = (y0f as i32).clamp(0, self.max_y) as usize * self.stride;
        let y1 = (y0f as i32 + 1).clamp(0, self.max_y) as usize * self.stride;
        let raw = self.raw;
        let (i00, i10, i01, i11) = (y0 + x0, y0 + x1, y1 + x0, y1 + x1);
        let mut out = [0.0f32; 3];
        for (ch, o) in out.iter_mut().enumerate() {
            let top = raw[i00 + ch] as f32 * (1.0 - wx) + raw[i10 + ch] as f32 * wx;
            let bottom = raw[i01 + ch] as f32 * (1.0 - wx) + raw[i11 + ch] as f32 * wx;
            *o = top * (1.0 - wy) + bottom * wy;
        }
        out
    }
}

/// `v.floor()` without the libm call `f32::floor` is on baseline x86-64 (no SSE4.1
/// `roundss`): 3 % of a tracked frame was `floorf`. Exact: below 2^23 in magnitude through
/// the integer conversion, above it every float is already an integer.
#[inline(always)]
fn floor(v: f32) -> f32 {
    if v.abs() < 8_388_608.0 {
        let t = v as i32 as f32;
        if t > v {
            t - 1.0
        } else {
            t
        }
    } else {
        v.floor()
    }
}

/// Fills `out` (HWC, `size`×`size`×3, row-major) with `img` warped through `map`
/// (output pixel → source pixel), each channel transformed by `scale·v + offset`.
///
/// When the map shrinks the image by more than 2×, each output pixel averages a small grid
/// of bilinear samples so that large faces are not aliased (callers shrinking a whole frame
/// should reduce it with [`box_reduce`] first, which is much cheaper).
pub fn warp_into(
    img: &RgbImage,
    map: &Affine,
    size: u32,
    scale: f32,
    offset: f32,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), (size * size * 3) as usize);
    let n = (map.scale() / 2.0).ceil().clamp(1.0, 4.0) as u32;
    let inv_n = 1.0 / n as f32;
    let weight = scale / (n * n) as f32;
    let sampler = Sampler::new(img);
    if n == 1 {
        // One bilinear sample per output pixel (every crop that does not shrink the image
        // by more than 2×): the same arithmetic as below without the sample grid.
        for (v, row) in out.chunks_exact_mut(size as usize * 3).enumerate() {
            let oy = v as f32 + 0.5;
            for (u, px) in row.chunks_exact_mut(3).enumerate() {
                let (x, y) = map.apply(u as f32 + 0.5, oy);
                let p = sampler.sample(x, y);
                px[0] = p[0] * weight + offset;
                px[1] = p[1] * weight + offset;
                px[2] = p[2] * weight + offset;
            }
        }
        return;
    }
    for v in 0..size {
        for u in 0..size {
            let mut acc = [0.0f32; 3];
            for sy in 0..n {
                for sx in 0..n {
                    let ox = u as f32 + (sx as f32 + 0.5) * inv_n;
                    let oy = v as f32 + (sy as f32 + 0.5) * inv_n;
                    let (x, y) = map.apply(ox, oy);
                    let p = sampler.sample(x, y);
                    acc[0] += p[0];
                    acc[1] += p[1];
                    acc[2] += p[2];
                }
            }
            let i = ((v * size + u) * 3) as usize;
            out[i] = acc[0] * weight + offset;
            out[i + 1] = acc[1] * weight + offset;
            out[i + 2] = acc[2] * weight + offset;
        }
    }
}

/// Where a letterboxed image sits inside the square model input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Model pixels per source pixel.
    pub scale: f32,
    /// Horizontal padding on the left, model pixels.
    pub pad_x: f32,
    /// Vertical padding on the top, model pixels.
    pub pad_y: f32,
}

impl Letterbox {
    /// Fits a `width`×`height` image into a `size`×`size` square, centred, aspect kept.
    pub fn fit(width: u32, height: u32, size: u32) -> Self {
        let scale = size as f32 / width.max(height) as f32;
        Self {
            scale,
            pad_x: (size as f32 - width as f32 * scale) / 2.0,
            pad_y: (size as f32 - height as f32 * scale) / 2.0,
        }
    }

    /// Maps a model-input pixel coordinate back to the source image.
    pub fn to_source(&self, x: f32, y: f32) -> (f32, f32) {
        ((x - self.pad_x) / self.scale, (y - self.pad_y) / self.scale)
    }

    /// The map from model-input pixels to source pixels, for [`warp_into`].
    pub fn affine(&self) -> Affine {
        let inv = 1.0 / self.scale;
        Affine {
            a: inv,
            b: 0.0,
            c: 0.0,
            d: inv,
            tx: -self.pad_x * inv,
            ty: -self.pad_y * inv,
        }
    }
}

/// Letterboxes `img` into a `size`×`size` HWC buffer; padding is filled with `pad_value`
/// (already in the transformed range), pixels with `scale·v + offset`.
pub fn letterbox_into(
    img: &RgbImage,
    size: u32,
    scale: f32,
    offset: f32,
    pad_value: f32,
    out: &mut [f32],
) -> Letterbox {
    let whole = Rect::new(0.0, 0.0, img.width() as f32, img.height() as f32);
    letterbox_region_into(img, whole, size, scale, offset, pad_value, out)
}

/// Like [`letterbox_into`] for the sub-rectangle `region` of `img`; the returned
/// [`Letterbox`] maps model pixels to coordinates relative to `region`'s top-left corner.
pub fn letterbox_region_into(
    img: &RgbImage,
    region: Rect,
    size: u32,
    scale: f32,
    offset: f32,
    pad_value: f32,
    out: &mut [f32],
) -> Letterbox {
    let lb = Letterbox::fit(
        region.width.max(1.0) as u32,
        region.height.max(1.0) as u32,
        size,
    );
    let mut map = lb.affine();
    map.tx += region.x;
    map.ty += region.y;
    // Shrinking a whole frame to the model input: average k×k blocks first (cheap, and no
    // aliasing), then resample the small image bilinearly.
    let k = (1.0 / lb.scale).floor() as u32;
    if k >= 2 {
        let x0 = region.x.max(0.0).floor() as u32;
        let y0 = region.y.max(0.0).floor() as u32;
        let x1 = region.right().ceil() as u32;
        let y1 = region.bottom().ceil() as u32;
        let reduced = box_reduce(img, x0, y0, x1, y1, k);
        // Reduced pixel (u, v) covers source pixels [x0 + k·u, x0 + k·(u+1)).
        let inv_k = 1.0 / k as f32;
        let reduced_map = Affine {
            a: map.a * inv_k,
            b: map.b * inv_k,
            c: map.c * inv_k,
            d: map.d * inv_k,
            tx: (map.tx - x0 as f32) * inv_k,
            ty: (map.ty - y0 as f32) * inv_k,
        };
        warp_into(&reduced, &reduced_map, size, scale, offset, out);
    } else {
        warp_into(img, &map, size, scale, offset, out);
    }
    // Overwrite the padding bands (the warp clamped edge pixels into them).
    let x0 = lb.pad_x.round() as u32;
    let x1 = (size as f32 - lb.pad_x).round() as u32;
    let y0 = lb.pad_y.round() as u32;
    let y1 = (size as f32 - lb.pad_y).round() as u32;
    for v in 0..size {
        for u in 0..size {
            if u < x0 || u >= x1 || v < y0 || v >= y1 {
                let i = ((v * size + u) * 3) as usize;
                out[i..i + 3].fill(pad_value);
            }
        }
    }
    lb
}

/// Averages `k`×`k` blocks of the part `[x0, x1) × [y0, y1)` of `img` (clamped to the
/// image); a partial block at the right or bottom edge averages the pixels it has.
pub fn box_reduce(img: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32, k: u32) -> RgbImage {
    let k = k.max(1);
    let x1 = x1.min(img.width()).max(x0.min(img.width()));
    let y1 = y1.min(img.height()).max(y0.min(img.height()));
    let x0 = x0.min(x1);
    let y0 = y0.min(y1);
    let (w, h) = ((x1 - x0).div_ceil(k).max(1), (y1 - y0).div_ceil(k).max(1));
    let mut sums = vec![[0u32; 4]; w as usize];
    let mut out = RgbImage::new(w, h);
    let raw = img.as_raw();
    let stride = img.width() as usize * 3;
    for by in 0..h {
        sums.iter_mut().for_each(|s| *s = [0; 4]);
        let ys = y0 + by * k;
        for y in ys..(ys + k).min(y1) {
            let row = &raw[y as usize * stride..(y as usize + 1) * stride];
            // Block by block: no division per pixel.
            for (bx, s) in sums.iter_mut().enumerate() {
                let xs = x0 + bx as u32 * k;
                let xe = (xs + k).min(x1);
                if xs >= xe {
                    continue;
                }
                for p in row[xs as usize * 3..xe as usize * 3].chunks_exact(3) {
                    s[0] += p[0] as u32;
                    s[1] += p[1] as u32;
                    s[2] += p[2] as u32;
                }
                s[3] += xe - xs;
            }
        }
        for (bx, s) in sums.iter().enumerate() {
            let n = s[3].max(1);
            let px = image::Rgb([(s[0] / n) as u8, (s[1] / n) as u8, (s[2] / n) as u8]);
            out.put_pixel(bx as u32, by, px);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_crop_maps_centre_and_rotates_clockwise() {
        let m = Affine::square_crop(100.0, 50.0, 40.0, std::f32::consts::FRAC_PI_2, 20);
        let (x, y) = m.apply(10.0, 10.0);
        assert!((x - 100.0).abs() < 1e-4 && (y - 50.0).abs() < 1e-4);
        // The output's +x direction maps to the source's +y (clockwise by 90° in y-down).
        let (x2, y2) = m.apply(20.0, 10.0);
        assert!((x2 - 100.0).abs() < 1e-3 && (y2 - 70.0).abs() < 1e-3);
        assert!((m.scale() - 2.0).abs() < 1e-5);
    }

    #[test]
    fn letterbox_round_trips_coordinates() {
        let lb = Letterbox::fit(640, 480, 128);
        assert!((lb.scale - 0.2).abs() < 1e-6);
        assert!((lb.pad_y - 16.0).abs() < 1e-6 && lb.pad_x.abs() < 1e-6);
        let a = lb.affine();
        let (x, y) = a.apply(64.0, 64.0);
        assert!((x - 320.0).abs() < 1e-3 && (y - 240.0).abs() < 1e-3);
        assert_eq!(lb.to_source(64.0, 64.0), (x, y));
    }

    #[test]
    fn box_reduce_averages_blocks_and_keeps_partial_edges() {
        let img = RgbImage::from_fn(5, 3, |x, _| image::Rgb([(x * 10) as u8, 0, 255]));
        let r = box_reduce(&img, 0, 0, 5, 3, 2);
        assert_eq!(r.dimensions(), (3, 2));
        assert_eq!(r.get_pixel(0, 0).0, [5, 0, 255]);
        assert_eq!(r.get_pixel(2, 1).0, [40, 0, 255]);
        assert_eq!(box_reduce(&img, 4, 0, 99, 99, 2).dimensions(), (1, 2));
    }

    #[test]
    fn letterbox_of_a_large_image_matches_the_small_one() {
        // A smooth picture shrunk 8× through the box-reduce path and directly.
        let big = RgbImage::from_fn(1024, 768, |x, y| {
            image::Rgb([(x / 4) as u8, (y / 3) as u8, 100])
        });
        let mut a = vec![0.0; 128 * 128 * 3];
        letterbox_into(&big, 128, 1.0, 0.0, -1.0, &mut a);
        let small = RgbImage::from_fn(128, 96, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 8 / 3) as u8, 100])
        });
        let mut b = vec![0.0; 128 * 128 * 3];
        letterbox_into(&small, 128, 1.0, 0.0, -1.0, &mut b);
        let max = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(max <= 4.0, "max difference {max}");
    }

    #[test]
    fn warp_of_uniform_image_is_uniform() {
        let img = RgbImage::from_pixel(50, 30, image::Rgb([200, 100, 0]));
        let mut out = vec![0.0; 16 * 16 * 3];
        let lb = letterbox_into(&img, 16, 1.0 / 255.0, 0.0, -1.0, &mut out);
        assert!(lb.pad_y > 0.0);
        // Centre pixel carries the colour, top-left lies in the padding.
        let c = ((8 * 16 + 8) * 3) as usize;
        assert!((out[c] - 200.0 / 255.0).abs() < 1e-5);
        assert!((out[c + 1] - 100.0 / 255.0).abs() < 1e-5);
        assert_eq!(out[0], -1.0);
    }

    /// The bilinear sample as defined: `get_pixel` with clamped coordinates.
    fn reference_sample(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
        let (w, h) = (img.width() as i32, img.height() as i32);
        let (fx, fy) = (x - 0.5, y - 0.5);
        let (x0f, y0f) = (fx.floor(), fy.floor());
        let (wx, wy) = (fx - x0f, fy - y0f);
        let px = |xi: i32, yi: i32| {
            img.get_pixel(xi.clamp(0, w - 1) as u32, yi.clamp(0, h - 1) as u32)
                .0
        };
        let (p00, p10) = (px(x0f as i32, y0f as i32), px(x0f as i32 + 1, y0f as i32));
        let (p01, p11) = (
            px(x0f as i32, y0f as i32 + 1),
            px(x0f as i32 + 1, y0f as i32 + 1),
        );
        let mut out = [0.0f32; 3];
        for ch in 0..3 {
            let top = p00[ch] as f32 * (1.0 - wx) + p10[ch] as f32 * wx;
            let bottom = p01[ch] as f32 * (1.0 - wx) + p11[ch] as f32 * wx;
            out[ch] = top * (1.0 - wy) + bottom * wy;
        }
        out
    }

    fn noise_image(w: u32, h: u32) -> RgbImage {
        let mut state = 12345u32;
        RgbImage::from_fn(w, h, |_, _| {
            let mut next = || {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            };
            image::Rgb([next(), next(), next()])
        })
    }

    #[test]
    fn sampler_equals_the_definition_inside_and_outside_the_image() {
        let img = noise_image(37, 23);
        let sampler = Sampler::new(&img);
        for i in 0..2000 {
            let x = -5.0 + (i % 50) as f32 * 0.97 + (i as f32) * 0.0013;
            let y = -4.0 + (i / 50) as f32 * 0.83;
            assert_eq!(
                sampler.sample(x, y),
                reference_sample(&img, x, y),
                "({x}, {y})"
            );
        }
    }

    #[test]
    fn box_reduce_averages_blocks_with_partial_edges() {
        let img = noise_image(23, 17);
        for (x0, y0, x1, y1, k) in [
            (0, 0, 23, 17, 4),
            (3, 2, 20, 16, 3),
            (5, 5, 5, 9, 2),
            (0, 0, 23, 17, 1),
        ] {
            let out = box_reduce(&img, x0, y0, x1, y1, k);
            for (bx, by, p) in out.enumerate_pixels() {
                let (xs, ys) = (x0 + bx * k, y0 + by * k);
                let mut sum = [0u32; 3];
                let mut n = 0;
                for y in ys..(ys + k).min(y1) {
                    for x in xs..(xs + k).min(x1) {
                        let q = img.get_pixel(x, y).0;
                        (0..3).for_each(|c| sum[c] += q[c] as u32);
                        n += 1;
                    }
                }
                let n = n.max(1);
                assert_eq!(
                    p.0,
                    [(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8]
                );
            }
        }
    }

    #[test]
    fn floor_without_libm_is_exact() {
        for v in [
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999_999_8,
            -2.999_999_8,
            1e-30,
            -1e-30,
            8_388_607.5,
            -8_388_607.5,
            8_388_608.0,
            -8_388_609.0,
            3e9,
            -3e9,
            1e30,
            -1e30,
        ] {
            assert_eq!(floor(v), v.floor(), "{v}");
        }
        for i in -20_000..20_000 {
            let v = i as f32 * 0.013_7;
            assert_eq!(floor(v), v.floor(), "{v}");
        }
    }

    /// The one-sample path of `warp_into` gives what the definition gives: one bilinear
    /// sample at each output pixel's centre, scaled and offset.
    #[test]
    fn a_rotated_crop_equals_the_definition() {
        let img = noise_image(97, 71);
        for (cx, cy, side, angle) in [
            (48.0, 35.0, 60.0, 0.3),
            (10.0, 60.0, 60.0, -2.0),
            (50.0, 30.0, 40.0, 0.0),
        ] {
            let map = Affine::square_crop(cx, cy, side, angle, 32);
            assert!(map.scale() <= 2.0);
            let mut out = vec![0.0f32; 32 * 32 * 3];
            warp_into(&img, &map, 32, 1.0 / 255.0, -0.5, &mut out);
            for v in 0..32u32 {
                for u in 0..32u32 {
                    let (x, y) = map.apply(u as f32 + 0.5, v as f32 + 0.5);
                    let p = reference_sample(&img, x, y);
                    let i = ((v * 32 + u) * 3) as usize;
                    for ch in 0..3 {
                        assert_eq!(
                            out[i + ch],
                            p[ch] * (1.0 / 255.0) + -0.5,
                            "({u}, {v}) ch {ch}"
                        );
                    }
                }
            }
        }
    }
}
