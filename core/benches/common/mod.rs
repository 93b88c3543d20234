//! What the benchmarks share: a typical preview frame.

use image::RgbImage;
use std::path::PathBuf;

/// The bundled sample portrait centred on a 640×480 grey canvas (a typical preview frame).
pub fn frame_640x480() -> RgbImage {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let face =
        lifecert_core::image::decode::load_image(&root.join("samples/astronaut.png")).unwrap();
    let face = image::imageops::resize(&face, 480, 480, image::imageops::FilterType::Triangle);
    let mut canvas = RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90]));
    image::imageops::overlay(&mut canvas, &face, 80, 0);
    canvas
}
