use super::*;
use image::imageops;

const PACKED: [PixelFormat; 3] = [PixelFormat::Rgb8, PixelFormat::Rgba8, PixelFormat::Bgra8];
const YUV: [PixelFormat; 3] = [PixelFormat::Nv21, PixelFormat::Nv12, PixelFormat::I420];
const ROTATIONS: [Rotation; 4] = [
    Rotation::Deg0,
    Rotation::Deg90,
    Rotation::Deg180,
    Rotation::Deg270,
];
/// Byte written into row padding and gaps between planes: must never be read.
const JUNK: u8 = 0xA5;

/// A smooth colour gradient (chroma varies slowly and strongly) with sharp-edged
/// shapes that change only brightness (R, G and B by the same amount), so chroma stays
/// smooth and 4:2:0 subsampling loses little. Never clips.
fn picture(w: u32, h: u32) -> RgbImage {
    // Gradients span at least 32 pixels, so tiny pictures have smooth chroma too.
    let (fw, fh) = (f64::from(w.max(32) - 1), f64::from(h.max(32) - 1));
    let (cx, cy) = (0.6 * f64::from(w - 1), 0.4 * f64::from(h - 1));
    let radius = 0.25 * f64::from(w.min(h));
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f64 / fw, y as f64 / fh);
        let mut px = [
            50.0 + 150.0 * fx,
            60.0 + 80.0 * (fx + fy) / 2.0,
            190.0 - 140.0 * fy,
        ];
        let mut lift = 0.0;
        if (w * 3 / 20..w * 9 / 20).contains(&x) && (h / 5..h * 7 / 10).contains(&y) {
            lift += 45.0; // a rectangle
        }
        let (dx, dy) = (x as f64 - cx, y as f64 - cy);
        if dx * dx + dy * dy < radius * radius {
            lift -= 40.0; // a disc
        }
        if (x + y) % 9 < 2 {
            lift += 8.0; // fine diagonal stripes
        }
        for c in &mut px {
            *c += lift;
        }
        image::Rgb(px.map(|c| c.round().clamp(0.0, 255.0) as u8))
    })
}

/// [`picture`] plus sharp coloured shapes and per-pixel texture, so that nearly every
/// pixel differs from its neighbours: any misplaced pixel shows.
fn detailed_picture(w: u32, h: u32) -> RgbImage {
    let mut img = picture(w, h);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let hash = x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663);
        px.0[0] = px.0[0].wrapping_add((hash % 7) as u8);
        px.0[1] = px.0[1].wrapping_add((hash % 5) as u8 * 3);
        if x < w / 3 && y > h / 2 {
            px.0 = [230, 20, 40]; // a red block
        }
        if x == w - 1 || y == 0 {
            px.0[2] = 255 - px.0[2]; // mark the right column and top row
        }
    }
    img
}

/// BT.601 limited-range RGB → YUV, unrounded.
fn rgb_to_yuv(p: [u8; 3]) -> [f64; 3] {
    let [r, g, b] = p.map(f64::from);
    [
        16.0 + 0.256_788 * r + 0.504_129 * g + 0.097_906 * b,
        128.0 - 0.148_223 * r - 0.290_993 * g + 0.439_216 * b,
        128.0 + 0.439_216 * r - 0.367_788 * g - 0.071_427 * b,
    ]
}

fn to_byte(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// A frame buffer in `format` for `img`, with `pad` junk bytes after every row and
/// `gap` junk bytes before the first plane and between planes. Chroma is the 2 × 2
/// average. Returns the buffer and the plane layouts.
fn encode(
    img: &RgbImage,
    format: PixelFormat,
    pad: usize,
    gap: usize,
) -> (Vec<u8>, Vec<PlaneLayout>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let shapes = format.plane_shapes(w, h);
    let mut layouts = Vec::new();
    let mut offset = gap;
    for &(rows, row_bytes) in &shapes[..format.plane_count()] {
        layouts.push(PlaneLayout::new(offset, row_bytes + pad));
        offset += rows * (row_bytes + pad) + gap;
    }
    let mut data = vec![JUNK; offset];
    let px = |x: usize, y: usize| img.get_pixel(x as u32, y as u32).0;
    let mut set = |plane: usize, x: usize, y: usize, v: u8| {
        let l = layouts[plane];
        data[l.offset + y * l.row_stride + x] = v;
    };
    match format {
        PixelFormat::Rgb8 | PixelFormat::Rgba8 | PixelFormat::Bgra8 => {
            for y in 0..h {
                for x in 0..w {
                    let [r, g, b] = px(x, y);
                    let bytes = match format {
                        PixelFormat::Rgb8 => vec![r, g, b],
                        PixelFormat::Rgba8 => vec![r, g, b, 0x7F],
                        _ => vec![b, g, r, 0x7F],
                    };
                    for (i, &v) in bytes.iter().enumerate() {
                        set(0, x * bytes.len() + i, y, v);
                    }
                }
            }
        }
        PixelFormat::Nv21 | PixelFormat::Nv12 | PixelFormat::I420 => {
            for y in 0..h {
                for x in 0..w {
                    set(0, x, y, to_byte(rgb_to_yuv(px(x, y))[0]));
                }
            }
            for cy in 0..h.div_ceil(2) {
                for cx in 0..w.div_ceil(2) {
                    let (mut u, mut v, mut n) = (0.0, 0.0, 0.0);
                    for y in 2 * cy..(2 * cy + 2).min(h) {
                        for x in 2 * cx..(2 * cx + 2).min(w) {
                            let yuv = rgb_to_yuv(px(x, y));
                            u += yuv[1];
                            v += yuv[2];
                            n += 1.0;
                        }
                    }
                    let (u, v) = (to_byte(u / n), to_byte(v / n));
                    match format {
                        PixelFormat::Nv21 => {
                            set(1, 2 * cx, cy, v);
                            set(1, 2 * cx + 1, cy, u);
                        }
                        PixelFormat::Nv12 => {
                            set(1, 2 * cx, cy, u);
                            set(1, 2 * cx + 1, cy, v);
                        }
                        _ => {
                            set(1, cx, cy, u);
                            set(2, cx, cy, v);
                        }
                    }
                }
            }
        }
    }
    (data, layouts)
}

/// Rotates counter-clockwise by `rotation`: what a sideways-held camera delivers for
/// an upright scene, to be tagged with `rotation`.
fn rotate_ccw(img: &RgbImage, rotation: Rotation) -> RgbImage {
    match rotation {
        Rotation::Deg0 => img.clone(),
        Rotation::Deg90 => imageops::rotate270(img),
        Rotation::Deg180 => imageops::rotate180(img),
        Rotation::Deg270 => imageops::rotate90(img),
    }
}

/// Rotates clockwise by `rotation`.
fn rotate_cw(img: &RgbImage, rotation: Rotation) -> RgbImage {
    rotate_ccw(
        img,
        Rotation::from_degrees(-(rotation.degrees() as i32)).unwrap(),
    )
}

/// (mean, max) absolute channel difference.
fn diff(a: &RgbImage, b: &RgbImage) -> (f64, u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    let (mut sum, mut max) = (0u64, 0u8);
    for (&p, &q) in a.as_raw().iter().zip(b.as_raw()) {
        let d = p.abs_diff(q);
        sum += u64::from(d);
        max = max.max(d);
    }
    (sum as f64 / a.as_raw().len() as f64, max)
}

const SIZES: [(u32, u32); 8] = [
    (1, 1),
    (2, 1),
    (1, 3),
    (7, 5),
    (8, 6),
    (33, 17),
    (64, 48),
    (101, 77),
];

#[test]
fn packed_formats_round_trip_exactly() {
    for (w, h) in SIZES {
        let img = detailed_picture(w, h);
        for format in PACKED {
            for (pad, gap) in [(0, 0), (5, 0), (3, 11)] {
                let (data, planes) = encode(&img, format, pad, gap);
                let frame = Frame::with_planes(&data, w, h, format, &planes, Rotation::Deg0, false)
                    .unwrap();
                assert_eq!(
                    frame.to_rgb(),
                    img,
                    "{format:?} {w}x{h} pad {pad} gap {gap}"
                );
                if gap == 0 {
                    let strided = Frame::with_strides(
                        &data,
                        w,
                        h,
                        format,
                        &[planes[0].row_stride],
                        Rotation::Deg0,
                        false,
                    )
                    .unwrap();
                    assert_eq!(strided.planes(), &planes[..]);
                    assert_eq!(strided.to_rgb(), img);
                }
                if (pad, gap) == (0, 0) {
                    let tight = Frame::packed(&data, w, h, format, Rotation::Deg0, false).unwrap();
                    assert_eq!(tight.planes(), &planes[..]);
                    assert_eq!(tight.to_rgb(), img);
                }
            }
        }
    }
}

#[test]
fn yuv_formats_round_trip_within_tolerance() {
    for (w, h) in SIZES {
        let img = picture(w, h);
        for format in YUV {
            for (pad, gap) in [(0, 0), (3, 0), (5, 9)] {
                let (data, planes) = encode(&img, format, pad, gap);
                let frame = Frame::with_planes(&data, w, h, format, &planes, Rotation::Deg0, false)
                    .unwrap();
                let (mean, max) = diff(&frame.to_rgb(), &img);
                let what = format!("{format:?} {w}x{h} pad {pad} gap {gap}");
                assert!(mean < 3.0, "{what}: mean abs error {mean}");
                assert!(max < 12, "{what}: max abs error {max}");
                if gap == 0 {
                    let strides: Vec<usize> = planes.iter().map(|p| p.row_stride).collect();
                    let strided =
                        Frame::with_strides(&data, w, h, format, &strides, Rotation::Deg0, false)
                            .unwrap();
                    assert_eq!(strided.planes(), &planes[..], "{what}");
                    assert_eq!(strided.to_rgb(), frame.to_rgb(), "{what}");
                }
                if (pad, gap) == (0, 0) {
                    let tight = Frame::packed(&data, w, h, format, Rotation::Deg0, false).unwrap();
                    assert_eq!(tight.planes(), &planes[..], "{what}");
                    assert_eq!(tight.to_rgb(), frame.to_rgb(), "{what}");
                }
            }
        }
    }
}

/// Guards the tolerance test: the picture's chroma is strong enough that reading the
/// chroma in the wrong order is far outside the tolerance.
#[test]
fn nv21_and_nv12_chroma_order_matters() {
    let img = picture(64, 48);
    let (data, _) = encode(&img, PixelFormat::Nv21, 0, 0);
    let wrong = Frame::packed(&data, 64, 48, PixelFormat::Nv12, Rotation::Deg0, false)
        .unwrap()
        .to_rgb();
    let (mean, max) = diff(&wrong, &img);
    assert!(mean > 10.0 && max > 40, "mean {mean}, max {max}");
}

#[test]
fn yuv_decodes_bt601_limited_range() {
    // (Y, U, V) → expected RGB, from the BT.601 limited-range definition.
    let cases: [([u8; 3], [u8; 3]); 6] = [
        ([16, 128, 128], [0, 0, 0]),
        ([235, 128, 128], [255, 255, 255]),
        ([126, 128, 128], [128, 128, 128]),
        ([81, 90, 240], [255, 0, 0]),
        ([145, 54, 34], [0, 255, 0]),
        ([41, 240, 110], [0, 0, 255]),
    ];
    for ([y, u, v], expected) in cases {
        for format in YUV {
            let (w, h) = (3u32, 3u32);
            let (cw, ch) = (2usize, 2usize);
            let mut data = vec![y; 9];
            match format {
                PixelFormat::Nv21 => data.extend([v, u].repeat(cw * ch)),
                PixelFormat::Nv12 => data.extend([u, v].repeat(cw * ch)),
                _ => {
                    data.extend(vec![u; cw * ch]);
                    data.extend(vec![v; cw * ch]);
                }
            }
            let rgb = Frame::packed(&data, w, h, format, Rotation::Deg0, false)
                .unwrap()
                .to_rgb();
            for px in rgb.pixels() {
                for (got, want) in px.0.iter().zip(expected) {
                    assert!(
                        got.abs_diff(want) <= 2,
                        "{format:?} YUV {y},{u},{v}: got {:?}, want {expected:?}",
                        px.0
                    );
                }
            }
        }
    }
    // Exact fixed-point results at the range ends and a mid grey.
    assert_eq!(Chroma::new(128, 128).rgb(16), [0, 0, 0]);
    assert_eq!(Chroma::new(128, 128).rgb(235), [255, 255, 255]);
    assert_eq!(Chroma::new(128, 128).rgb(126), [128, 128, 128]);
    assert_eq!(Chroma::new(0, 255).rgb(0), [184, 0, 0]);
    assert_eq!(Chroma::new(255, 0).rgb(255), [74, 255, 255]);
}

#[test]
fn fixed_point_matches_the_bt601_formula() {
    for y in (0..=255u8).step_by(3) {
        for u in (0..=255u8).step_by(5) {
            for v in (0..=255u8).step_by(5) {
                let (l, d, e) = (
                    f64::from(y) - 16.0,
                    f64::from(u) - 128.0,
                    f64::from(v) - 128.0,
                );
                let want = [
                    1.164_383 * l + 1.596_027 * e,
                    1.164_383 * l - 0.391_762 * d - 0.812_968 * e,
                    1.164_383 * l + 2.017_232 * d,
                ]
                .map(to_byte);
                let got = Chroma::new(u, v).rgb(y);
                for (g, w) in got.iter().zip(want) {
                    assert!(g.abs_diff(w) <= 1, "YUV {y},{u},{v}: {got:?} vs {want:?}");
                }
            }
        }
    }
}

#[test]
fn rotation_is_clockwise_then_mirror() {
    // A 3×2 buffer:  a b c
    //                d e f
    let [a, b, c, d, e, f] = [10u8, 20, 30, 40, 50, 60];
    let data: Vec<u8> = [a, b, c, d, e, f].iter().flat_map(|&v| [v, 0, 0]).collect();
    let expect = |rotation, mirrored, w: u32, rows: &[&[u8]]| {
        let frame = Frame::packed(&data, 3, 2, PixelFormat::Rgb8, rotation, mirrored).unwrap();
        let rgb = frame.to_rgb();
        assert_eq!(rgb.dimensions(), (w, rows.len() as u32));
        assert_eq!(frame.upright_size(), rgb.dimensions());
        let got: Vec<u8> = rgb.pixels().map(|p| p.0[0]).collect();
        assert_eq!(got, rows.concat(), "{rotation:?} mirrored {mirrored}");
    };
    expect(Rotation::Deg0, false, 3, &[&[a, b, c], &[d, e, f]]);
    expect(Rotation::Deg0, true, 3, &[&[c, b, a], &[f, e, d]]);
    // Clockwise 90°: the left column, read bottom-up, becomes the top row.
    expect(Rotation::Deg90, false, 2, &[&[d, a], &[e, b], &[f, c]]);
    expect(Rotation::Deg90, true, 2, &[&[a, d], &[b, e], &[c, f]]);
    expect(Rotation::Deg180, false, 3, &[&[f, e, d], &[c, b, a]]);
    expect(Rotation::Deg180, true, 3, &[&[d, e, f], &[a, b, c]]);
    // Clockwise 270°: the right column, read top-down, becomes the top row.
    expect(Rotation::Deg270, false, 2, &[&[c, f], &[b, e], &[a, d]]);
    expect(Rotation::Deg270, true, 2, &[&[f, c], &[e, b], &[d, a]]);
}

#[test]
fn rotated_buffers_come_back_upright() {
    for (w, h) in SIZES {
        let upright = detailed_picture(w, h);
        let flipped = imageops::flip_horizontal(&upright);
        for rotation in ROTATIONS {
            let sideways = rotate_ccw(&upright, rotation);
            let (bw, bh) = sideways.dimensions();
            for format in PACKED {
                let (data, planes) = encode(&sideways, format, 3, 1);
                for (mirrored, expected) in [(false, &upright), (true, &flipped)] {
                    let frame =
                        Frame::with_planes(&data, bw, bh, format, &planes, rotation, mirrored)
                            .unwrap();
                    assert_eq!(frame.upright_size(), (w, h));
                    assert_eq!(
                        &frame.to_rgb(),
                        expected,
                        "{format:?} {w}x{h} {rotation:?} mirrored {mirrored}"
                    );
                }
            }
        }
    }
}

#[test]
fn yuv_rotation_and_mirror_map_pixels_like_packed() {
    for (w, h) in SIZES {
        let upright = picture(w, h);
        for rotation in ROTATIONS {
            let sideways = rotate_ccw(&upright, rotation);
            let (bw, bh) = sideways.dimensions();
            for format in YUV {
                let (data, planes) = encode(&sideways, format, 2, 3);
                let frame = |rotation, mirrored| {
                    Frame::with_planes(&data, bw, bh, format, &planes, rotation, mirrored).unwrap()
                };
                let what = format!("{format:?} {w}x{h} {rotation:?}");
                // Rotating while converting = converting, then rotating.
                let plain = frame(Rotation::Deg0, false).to_rgb();
                let rotated = frame(rotation, false).to_rgb();
                assert_eq!(rotated, rotate_cw(&plain, rotation), "{what}");
                assert_eq!(
                    frame(rotation, true).to_rgb(),
                    imageops::flip_horizontal(&rotated),
                    "{what} mirrored"
                );
                let (mean, max) = diff(&rotated, &upright);
                assert!(mean < 3.0 && max < 12, "{what}: mean {mean}, max {max}");
            }
        }
    }
}

#[test]
fn upright_size_swaps_for_quarter_turns() {
    let data = vec![0u8; 6 * 4 * 3 / 2];
    for (rotation, size) in [
        (Rotation::Deg0, (6, 4)),
        (Rotation::Deg90, (4, 6)),
        (Rotation::Deg180, (6, 4)),
        (Rotation::Deg270, (4, 6)),
    ] {
        for mirrored in [false, true] {
            let frame = Frame::packed(&data, 6, 4, PixelFormat::Nv21, rotation, mirrored).unwrap();
            assert_eq!(frame.upright_size(), size);
            assert_eq!(frame.to_rgb().dimensions(), size);
            assert_eq!((frame.width(), frame.height()), (6, 4));
            assert_eq!(frame.rotation(), rotation);
            assert_eq!(frame.mirrored(), mirrored);
            assert_eq!(frame.format(), PixelFormat::Nv21);
        }
    }
}

#[test]
fn from_rgb_image_borrows_and_round_trips() {
    let img = detailed_picture(13, 9);
    let frame = Frame::from_rgb_image(&img).unwrap();
    assert_eq!(frame.format(), PixelFormat::Rgb8);
    assert_eq!(frame.rotation(), Rotation::Deg0);
    assert!(!frame.mirrored());
    assert_eq!(frame.planes(), &[PlaneLayout::new(0, 39)]);
    assert!(std::ptr::eq(frame.data(), img.as_raw().as_slice()));
    assert_eq!(frame.to_rgb(), img);
    assert_eq!(
        Frame::from_rgb_image(&RgbImage::new(0, 5)).unwrap_err(),
        FrameError::ZeroSize {
            width: 0,
            height: 5
        }
    );
}

#[test]
fn planes_may_be_out_of_order_or_overlap() {
    let img = picture(9, 7);
    let (data, planes) = encode(&img, PixelFormat::I420, 1, 2);
    let expected = Frame::with_planes(
        &data,
        9,
        7,
        PixelFormat::I420,
        &planes,
        Rotation::Deg0,
        false,
    )
    .unwrap()
    .to_rgb();
    // Same bytes rearranged: V plane first, then U, then Y.
    let (y, u, v) = (planes[0], planes[1], planes[2]);
    let plane_bytes = |l: PlaneLayout, rows: usize| &data[l.offset..l.offset + l.row_stride * rows];
    let mut moved = Vec::new();
    moved.extend_from_slice(plane_bytes(v, 4));
    moved.extend_from_slice(plane_bytes(u, 4));
    moved.extend_from_slice(plane_bytes(y, 7));
    let moved_planes = [
        PlaneLayout::new(u.row_stride * 4 + v.row_stride * 4, y.row_stride),
        PlaneLayout::new(v.row_stride * 4, u.row_stride),
        PlaneLayout::new(0, v.row_stride),
    ];
    let frame = Frame::with_planes(
        &moved,
        9,
        7,
        PixelFormat::I420,
        &moved_planes,
        Rotation::Deg0,
        false,
    )
    .unwrap();
    assert_eq!(frame.to_rgb(), expected);

    // Overlapping planes: U and V share bytes (a grey picture), Y overlaps them too.
    let grey = [128u8; 16];
    let shared = [
        PlaneLayout::new(0, 4),
        PlaneLayout::new(0, 2),
        PlaneLayout::new(0, 2),
    ];
    let frame = Frame::with_planes(
        &grey,
        4,
        4,
        PixelFormat::I420,
        &shared,
        Rotation::Deg0,
        false,
    )
    .unwrap();
    assert!(frame.to_rgb().pixels().all(|p| p.0 == [130, 130, 130]));
}

#[test]
fn last_row_needs_no_full_stride() {
    // Android's plane buffers end right after the last pixel of the last row.
    let (w, h, y_stride, c_stride) = (5u32, 3u32, 8usize, 8usize);
    let c_offset = y_stride * 3;
    let needed = c_offset + c_stride + 6; // 2 chroma rows of 3 VU pairs
    let planes = [
        PlaneLayout::new(0, y_stride),
        PlaneLayout::new(c_offset, c_stride),
    ];
    let data = vec![128u8; needed];
    let frame = Frame::with_planes(
        &data,
        w,
        h,
        PixelFormat::Nv21,
        &planes,
        Rotation::Deg0,
        false,
    );
    assert!(frame.is_ok());
    assert_eq!(
        Frame::with_planes(
            &data[..needed - 1],
            w,
            h,
            PixelFormat::Nv21,
            &planes,
            Rotation::Deg0,
            false
        )
        .unwrap_err(),
        FrameError::BufferTooShort {
            needed,
            actual: needed - 1
        }
    );
}

// ---- errors: one test per kind ----

#[test]
fn zero_size_is_rejected() {
    let data = [0u8; 64];
    for (w, h) in [(0, 4), (4, 0), (0, 0)] {
        for format in PACKED.into_iter().chain(YUV) {
            let err = Frame::packed(&data, w, h, format, Rotation::Deg0, false).unwrap_err();
            assert_eq!(
                err,
                FrameError::ZeroSize {
                    width: w,
                    height: h
                }
            );
        }
        let err = Frame::with_planes(
            &data,
            w,
            h,
            PixelFormat::Rgb8,
            &[PlaneLayout::new(0, 12)],
            Rotation::Deg0,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err,
            FrameError::ZeroSize {
                width: w,
                height: h
            }
        );
    }
}

#[test]
fn too_large_is_rejected() {
    for (w, h) in [
        (MAX_SIDE + 1, 1),
        (1, MAX_SIDE + 1),
        (u32::MAX, u32::MAX),
        (u32::MAX, 2),
        (2, u32::MAX),
    ] {
        for format in PACKED.into_iter().chain(YUV) {
            let err = Frame::packed(&[], w, h, format, Rotation::Deg0, false).unwrap_err();
            assert_eq!(
                err,
                FrameError::TooLarge {
                    width: w,
                    height: h,
                    max: MAX_SIDE
                }
            );
        }
    }
    // The maximum itself is fine.
    let data = vec![0u8; MAX_SIDE as usize * 4];
    let frame = Frame::packed(
        &data,
        MAX_SIDE,
        1,
        PixelFormat::Rgba8,
        Rotation::Deg90,
        false,
    )
    .unwrap();
    assert_eq!(frame.to_rgb().dimensions(), (1, MAX_SIDE));
}

#[test]
fn bad_stride_is_rejected() {
    let data = vec![0u8; 4096];
    let cases: [(PixelFormat, Vec<PlaneLayout>, usize, usize, usize); 6] = [
        // (format, planes, bad plane, its stride, minimum)
        (PixelFormat::Rgb8, vec![PlaneLayout::new(0, 20)], 0, 20, 21),
        (PixelFormat::Rgba8, vec![PlaneLayout::new(0, 27)], 0, 27, 28),
        (
            PixelFormat::Nv21,
            vec![PlaneLayout::new(0, 6), PlaneLayout::new(100, 8)],
            0,
            6,
            7,
        ),
        (
            PixelFormat::Nv12,
            vec![PlaneLayout::new(0, 7), PlaneLayout::new(100, 7)],
            1,
            7,
            8,
        ),
        (
            PixelFormat::I420,
            vec![
                PlaneLayout::new(0, 7),
                PlaneLayout::new(100, 3),
                PlaneLayout::new(200, 4),
            ],
            1,
            3,
            4,
        ),
        (
            PixelFormat::I420,
            vec![
                PlaneLayout::new(0, 7),
                PlaneLayout::new(100, 4),
                PlaneLayout::new(200, 0),
            ],
            2,
            0,
            4,
        ),
    ];
    for (format, planes, plane, stride, min) in cases {
        let err =
            Frame::with_planes(&data, 7, 5, format, &planes, Rotation::Deg0, false).unwrap_err();
        assert_eq!(
            err,
            FrameError::BadStride { plane, stride, min },
            "{format:?}"
        );
    }
    let err = Frame::with_strides(
        &data,
        7,
        5,
        PixelFormat::Nv21,
        &[7, 7],
        Rotation::Deg0,
        false,
    )
    .unwrap_err();
    assert_eq!(
        err,
        FrameError::BadStride {
            plane: 1,
            stride: 7,
            min: 8
        }
    );
}

#[test]
fn buffer_too_short_is_rejected_for_every_plane_kind() {
    let (w, h) = (7u32, 5u32);
    // Tight sizes: packed 7×5×bpp; Y 35; NV chroma 3 rows × 8; I420 U/V 3 rows × 4.
    for (format, needed) in [
        (PixelFormat::Rgb8, 105),
        (PixelFormat::Rgba8, 140),
        (PixelFormat::Bgra8, 140),
        (PixelFormat::Nv21, 35 + 24),
        (PixelFormat::Nv12, 35 + 24),
        (PixelFormat::I420, 35 + 12 + 12),
    ] {
        let data = vec![0u8; needed];
        assert!(Frame::packed(&data, w, h, format, Rotation::Deg0, false).is_ok());
        let err =
            Frame::packed(&data[..needed - 1], w, h, format, Rotation::Deg0, false).unwrap_err();
        assert_eq!(
            err,
            FrameError::BufferTooShort {
                needed,
                actual: needed - 1
            },
            "{format:?}"
        );
    }
    // Each plane can be the one that does not fit; `needed` is the end of the furthest.
    let data = vec![0u8; 100];
    let cases: [(PixelFormat, Vec<PlaneLayout>, usize); 5] = [
        // Y plane past the end (chroma first in the buffer).
        (
            PixelFormat::Nv21,
            vec![PlaneLayout::new(90, 7), PlaneLayout::new(0, 8)],
            90 + 4 * 7 + 7,
        ),
        // VU plane past the end.
        (
            PixelFormat::Nv21,
            vec![PlaneLayout::new(0, 7), PlaneLayout::new(80, 8)],
            80 + 2 * 8 + 8,
        ),
        // UV plane past the end by its last row's pixels only.
        (
            PixelFormat::Nv12,
            vec![PlaneLayout::new(0, 7), PlaneLayout::new(73, 10)],
            73 + 2 * 10 + 8,
        ),
        // U plane past the end.
        (
            PixelFormat::I420,
            vec![
                PlaneLayout::new(0, 7),
                PlaneLayout::new(95, 4),
                PlaneLayout::new(40, 4),
            ],
            95 + 2 * 4 + 4,
        ),
        // V plane past the end.
        (
            PixelFormat::I420,
            vec![
                PlaneLayout::new(0, 7),
                PlaneLayout::new(40, 4),
                PlaneLayout::new(60, 40),
            ],
            60 + 2 * 40 + 4,
        ),
    ];
    for (format, planes, needed) in cases {
        let err =
            Frame::with_planes(&data, w, h, format, &planes, Rotation::Deg0, false).unwrap_err();
        assert_eq!(
            err,
            FrameError::BufferTooShort {
                needed,
                actual: 100
            },
            "{format:?} {planes:?}"
        );
    }
}

#[test]
fn wrong_plane_count_is_rejected() {
    let data = vec![0u8; 1024];
    let one = [PlaneLayout::new(0, 16)];
    let two = [PlaneLayout::new(0, 16), PlaneLayout::new(256, 16)];
    let four = [PlaneLayout::new(0, 16); 4];
    for (format, planes) in [
        (PixelFormat::Rgb8, &two[..]),
        (PixelFormat::Bgra8, &[][..]),
        (PixelFormat::Nv21, &one[..]),
        (PixelFormat::Nv12, &four[..3]),
        (PixelFormat::I420, &two[..]),
        (PixelFormat::I420, &four[..]),
    ] {
        let expected = FrameError::WrongPlaneCount {
            format,
            expected: format.plane_count(),
            actual: planes.len(),
        };
        let err =
            Frame::with_planes(&data, 4, 4, format, planes, Rotation::Deg0, false).unwrap_err();
        assert_eq!(err, expected);
        let strides: Vec<usize> = planes.iter().map(|p| p.row_stride).collect();
        let err =
            Frame::with_strides(&data, 4, 4, format, &strides, Rotation::Deg0, false).unwrap_err();
        assert_eq!(err, expected);
    }
}

#[test]
fn bad_rotation_is_rejected() {
    for degrees in [1, 45, -45, 89, 91, 450, -450, 720, i32::MAX, i32::MIN] {
        assert_eq!(
            Rotation::from_degrees(degrees).unwrap_err(),
            FrameError::BadRotation(degrees)
        );
        assert_eq!(
            Rotation::try_from(degrees).unwrap_err(),
            FrameError::BadRotation(degrees)
        );
    }
    for (degrees, rotation) in [
        (0, Rotation::Deg0),
        (90, Rotation::Deg90),
        (180, Rotation::Deg180),
        (270, Rotation::Deg270),
        (360, Rotation::Deg0),
        (-90, Rotation::Deg270),
        (-180, Rotation::Deg180),
        (-270, Rotation::Deg90),
        (-360, Rotation::Deg0),
    ] {
        assert_eq!(Rotation::from_degrees(degrees).unwrap(), rotation);
    }
    for rotation in ROTATIONS {
        assert_eq!(
            Rotation::from_degrees(rotation.degrees() as i32).unwrap(),
            rotation
        );
    }
}

#[test]
fn overflowing_layouts_are_rejected() {
    let data = vec![0u8; 64];
    // Huge strides: (rows − 1) × stride overflows.
    for (format, planes, plane) in [
        (PixelFormat::Rgb8, vec![PlaneLayout::new(0, usize::MAX)], 0),
        (
            PixelFormat::Nv21,
            vec![PlaneLayout::new(0, 4), PlaneLayout::new(16, usize::MAX)],
            1,
        ),
        (
            PixelFormat::I420,
            vec![
                PlaneLayout::new(0, 4),
                PlaneLayout::new(16, 2),
                PlaneLayout::new(20, usize::MAX - 1),
            ],
            2,
        ),
        // Huge offset: offset + row overflows.
        (
            PixelFormat::Rgba8,
            vec![PlaneLayout::new(usize::MAX, 16)],
            0,
        ),
        (
            PixelFormat::Nv12,
            vec![
                PlaneLayout::new(usize::MAX - 10, 4),
                PlaneLayout::new(16, 4),
            ],
            0,
        ),
    ] {
        let err =
            Frame::with_planes(&data, 4, 4, format, &planes, Rotation::Deg0, false).unwrap_err();
        assert_eq!(err, FrameError::LayoutOverflow { plane }, "{format:?}");
    }
    // Back-to-back planes whose offsets overflow.
    let err = Frame::with_strides(
        &data,
        4,
        4,
        PixelFormat::I420,
        &[usize::MAX / 2, 2, 2],
        Rotation::Deg0,
        false,
    )
    .unwrap_err();
    assert_eq!(err, FrameError::LayoutOverflow { plane: 0 });
    // In range but far beyond the buffer.
    let err = Frame::with_planes(
        &data,
        4,
        4,
        PixelFormat::Rgb8,
        &[PlaneLayout::new(0, usize::MAX / 4)],
        Rotation::Deg0,
        false,
    )
    .unwrap_err();
    assert_eq!(
        err,
        FrameError::BufferTooShort {
            needed: 3 * (usize::MAX / 4) + 12,
            actual: 64
        }
    );
    // Overflow-inducing dimensions are caught as too large, before any arithmetic.
    let err = Frame::with_strides(
        &data,
        u32::MAX,
        u32::MAX,
        PixelFormat::Rgba8,
        &[usize::MAX],
        Rotation::Deg0,
        false,
    )
    .unwrap_err();
    assert!(matches!(err, FrameError::TooLarge { .. }));
    // A single-row plane never uses its stride, so even usize::MAX is fine there.
    let frame = Frame::with_planes(
        &data,
        4,
        1,
        PixelFormat::Rgb8,
        &[PlaneLayout::new(0, usize::MAX)],
        Rotation::Deg0,
        false,
    );
    assert!(frame.is_ok());
}

#[test]
fn errors_read_clearly() {
    let err =
        Frame::packed(&[0u8; 10], 4, 4, PixelFormat::Rgb8, Rotation::Deg0, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "buffer too short: 48 bytes needed, 10 given"
    );
    assert_eq!(
        Rotation::from_degrees(45).unwrap_err().to_string(),
        "rotation must be a multiple of 90 degrees between -360 and 360, got 45"
    );
}
