//! Camera frames end to end: every pixel format and every rotation tag gives the same faces
//! as the upright RGB picture.

mod common;

use common::{analyzer, astronaut};
use image::RgbImage;
use lifecert_core::{Detection, Frame, PixelFormat, Rotation};

/// BT.601 limited-range Y, U, V of an RGB pixel (what phone cameras produce).
fn yuv(p: [u8; 3]) -> (u8, u8, u8) {
    let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
    let y = 16.0 + 0.256_788 * r + 0.504_129 * g + 0.097_906 * b;
    let u = 128.0 - 0.148_223 * r - 0.290_993 * g + 0.439_216 * b;
    let v = 128.0 + 0.439_216 * r - 0.367_788 * g - 0.071_427 * b;
    let q = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    (q(y), q(u), q(v))
}

/// Encodes `img` in `format` with `pad` bytes of padding at the end of every row.
fn encode(img: &RgbImage, format: PixelFormat, pad: usize) -> (Vec<u8>, Vec<usize>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = |x: usize, y: usize| img.get_pixel(x as u32, y as u32).0;
    match format {
        PixelFormat::Rgb8 | PixelFormat::Rgba8 | PixelFormat::Bgra8 => {
            let bpp = if format == PixelFormat::Rgb8 { 3 } else { 4 };
            let stride = w * bpp + pad;
            let mut data = vec![0u8; stride * h];
            for y in 0..h {
                for x in 0..w {
                    let [r, g, b] = px(x, y);
                    let o = y * stride + x * bpp;
                    match format {
                        PixelFormat::Rgb8 => data[o..o + 3].copy_from_slice(&[r, g, b]),
                        PixelFormat::Rgba8 => data[o..o + 4].copy_from_slice(&[r, g, b, 255]),
                        _ => data[o..o + 4].copy_from_slice(&[b, g, r, 255]),
                    }
                }
            }
            (data, vec![stride])
        }
        PixelFormat::Nv21 | PixelFormat::Nv12 | PixelFormat::I420 => {
            let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
            let y_stride = w + pad;
            let mut y_plane = vec![0u8; y_stride * h];
            let mut u = vec![0u8; cw * ch];
            let mut v = vec![0u8; cw * ch];
            for y in 0..h {
                for x in 0..w {
                    y_plane[y * y_stride + x] = yuv(px(x, y)).0;
                }
            }
            for cy in 0..ch {
                for cx in 0..cw {
                    // Average the 2×2 block's chroma, as camera pipelines do.
                    let (mut su, mut sv, mut n) = (0u32, 0u32, 0u32);
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let (x, y) = (2 * cx + dx, 2 * cy + dy);
                        if x < w && y < h {
                            let (_, pu, pv) = yuv(px(x, y));
                            su += pu as u32;
                            sv += pv as u32;
                            n += 1;
                        }
                    }
                    u[cy * cw + cx] = (su / n) as u8;
                    v[cy * cw + cx] = (sv / n) as u8;
                }
            }
            let mut data = y_plane;
            if format == PixelFormat::I420 {
                let c_stride = cw + pad;
                for plane in [&u, &v] {
                    for row in plane.chunks(cw) {
                        data.extend_from_slice(row);
                        data.extend(std::iter::repeat_n(0u8, pad));
                    }
                }
                (data, vec![y_stride, c_stride, c_stride])
            } else {
                let c_stride = 2 * cw + pad;
                for cy in 0..ch {
                    for cx in 0..cw {
                        let (a, b) = (u[cy * cw + cx], v[cy * cw + cx]);
                        if format == PixelFormat::Nv21 {
                            data.extend_from_slice(&[b, a]);
                        } else {
                            data.extend_from_slice(&[a, b]);
                        }
                    }
                    data.extend(std::iter::repeat_n(0u8, pad));
                }
                (data, vec![y_stride, c_stride])
            }
        }
    }
}

fn detect(frame: &Frame<'_>) -> Vec<Detection> {
    analyzer()
        .analyze(frame)
        .unwrap()
        .faces
        .into_iter()
        .map(|f| f.detection)
        .collect()
}

fn assert_same_face(what: &str, got: &[Detection], want: &Detection, tolerance: f32) {
    assert_eq!(got.len(), 1, "{what}: {} faces", got.len());
    let (a, b) = (got[0].bbox, want.bbox);
    for (g, w) in [
        (a.x, b.x),
        (a.y, b.y),
        (a.right(), b.right()),
        (a.bottom(), b.bottom()),
    ] {
        assert!((g - w).abs() <= tolerance, "{what}: box {a:?} vs {b:?}");
    }
    for (g, w) in got[0].keypoints.iter().zip(want.keypoints) {
        assert!(
            g.distance(w) <= tolerance,
            "{what}: keypoint {g:?} vs {w:?}"
        );
    }
}

#[test]
fn every_pixel_format_gives_the_same_detection_as_rgb8() {
    let img = astronaut();
    let reference = detect(&Frame::from_rgb_image(&img).unwrap());
    assert_eq!(reference.len(), 1);
    for format in [
        PixelFormat::Rgb8,
        PixelFormat::Rgba8,
        PixelFormat::Bgra8,
        PixelFormat::Nv21,
        PixelFormat::Nv12,
        PixelFormat::I420,
    ] {
        let (data, strides) = encode(&img, format, 24);
        let frame = Frame::with_strides(
            &data,
            img.width(),
            img.height(),
            format,
            &strides,
            Rotation::Deg0,
            false,
        )
        .unwrap();
        // Packed formats are lossless; YUV loses a little colour (chroma subsampling).
        let tolerance = if format.is_yuv() { 2.0 } else { 0.01 };
        assert_same_face(
            &format!("{format:?}"),
            &detect(&frame),
            &reference[0],
            tolerance,
        );
    }
}

/// What a sensor mounted `degrees` clockwise from upright delivers: the upright picture
/// rotated counter-clockwise by `degrees`.
fn sensor_buffer(img: &RgbImage, degrees: u32) -> RgbImage {
    match degrees {
        0 => img.clone(),
        90 => image::imageops::rotate270(img),
        180 => image::imageops::rotate180(img),
        270 => image::imageops::rotate90(img),
        _ => unreachable!(),
    }
}

#[test]
fn rotated_and_mirrored_buffers_give_the_upright_boxes() {
    let img = astronaut();
    let upright = detect(&Frame::from_rgb_image(&img).unwrap());
    assert_eq!(upright.len(), 1);
    // A front camera delivers the mirror image of the scene; the mirror flag undoes it.
    let mirrored_scene = image::imageops::flip_horizontal(&img);
    for degrees in [90, 180, 270] {
        for (format, mirror) in [
            (PixelFormat::Rgb8, false),
            (PixelFormat::Nv21, false),
            (PixelFormat::Nv21, true),
        ] {
            let sensor = sensor_buffer(if mirror { &mirrored_scene } else { &img }, degrees);
            let (data, strides) = encode(&sensor, format, 0);
            let frame = Frame::with_strides(
                &data,
                sensor.width(),
                sensor.height(),
                format,
                &strides,
                Rotation::from_degrees(degrees as i32).unwrap(),
                mirror,
            )
            .unwrap();
            assert_eq!(frame.upright_size(), img.dimensions());
            let what = format!("{format:?} rotated {degrees}° mirror={mirror}");
            let tolerance = if format.is_yuv() { 3.0 } else { 2.0 };
            assert_same_face(&what, &detect(&frame), &upright[0], tolerance);
        }
    }
}
