//! Helpers shared by the integration tests: where the evaluation data is, one analyzer.
#![allow(dead_code)]

pub mod discovery;
pub mod framing;
pub mod grid;
pub mod media;
pub mod shell;
pub mod subject;

use lifecert_core::{Analyzer, Config, Engine};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The shared evaluation data directory (`LIFECERT_EVAL_DATA`, default `../shared/data`
/// relative to the repository root), or `None` after recording the skip: it panics when
/// `CI` is set (a missing data set fails CI); locally the skip is counted by `scripts/test.sh`.
#[allow(unused_imports)] // not every test binary reads the data
pub use lifecert_test_support::eval_data;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled public-domain sample photo (one frontal face).
pub fn astronaut() -> image::RgbImage {
    lifecert_core::image::decode::load_image(&repo_root().join("samples/astronaut.png")).unwrap()
}

/// One analyzer with the embedded models, shared by all tests of a binary.
pub fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| Analyzer::new(Config::default()).expect("embedded models load"))
}

/// One production engine (`Config::default()`: the positioning gate on, embedded models),
/// shared by all tests of a binary.
pub fn production_engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(Engine::new(Config::default()).expect("embedded models load")))
        .clone()
}

/// Everything directly in `dir` (e.g. the people folders of `faces_identity/`), sorted.
pub fn entries(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Image files (jpg/jpeg/png) directly in `dir`, sorted.
pub fn images_in(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension()
                    .and_then(|e| e.to_str())
                    .map(|e| e.to_ascii_lowercase())
                    .as_deref(),
                Some("jpg" | "jpeg" | "png")
            )
        })
        .collect();
    out.sort();
    out
}

/// Rotates `img` clockwise by `degrees` about its centre onto a square canvas of its long
/// side (edge pixels extend into the corners).
pub fn rotate(img: &image::RgbImage, degrees: f32) -> image::RgbImage {
    use lifecert_core::image::warp::{warp_into, Affine};
    let (w, h) = img.dimensions();
    let side = w.max(h);
    // Output pixel → source pixel is the inverse (counter-clockwise) rotation.
    let map = Affine::square_crop(
        w as f32 / 2.0,
        h as f32 / 2.0,
        side as f32,
        -degrees.to_radians(),
        side,
    );
    let mut buf = vec![0.0f32; (side * side * 3) as usize];
    warp_into(img, &map, side, 1.0, 0.0, &mut buf);
    image::RgbImage::from_fn(side, side, |x, y| {
        let i = ((y * side + x) * 3) as usize;
        image::Rgb([buf[i] as u8, buf[i + 1] as u8, buf[i + 2] as u8])
    })
}

/// `f` applied to every item on two workers (the machine's cores), results in order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break done };
            done.push((i, f(item)));
        }
    };
    let mut all = std::thread::scope(|s| {
        let other = s.spawn(work);
        let mut all = work();
        all.extend(other.join().unwrap());
        all
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}
