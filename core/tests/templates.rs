//! Face templates on real photos: calibration of the match threshold on `faces_identity/`
//! (FMR, FNMR and EER printed), the enrollment quality gate, bounded refresh against
//! impostors, and sealed / issued templates holding real faces.
//!
//! # Calibration protocols
//! Every photo is analysed as it is and as two "jittered" copies (rotated by a few degrees,
//! rescaled, shifted, re-exposed), which stand in for the frames of one capture session.
//! * **pairs** — one photo against another (the descriptor distance alone);
//! * **session** — a template enrolled from a photo and its two copies, against every other
//!   photo (the production case: enrollment takes three frames of one capture);
//! * **multi** — a template enrolled from three different photos of a person, against each
//!   held-out photo of that person and every photo of the others.
//!
//! Genuine = same folder, impostor = different folders. The photos are not enrollment
//! captures (many are turned or pitched beyond the gate), so the calibration templates are
//! built with the quality gate opened; `the_enrollment_gate_on_real_photos` tests the gate.

mod common;

use common::{analyzer, astronaut, eval_data, images_in};
use image::RgbImage;
use lifecert_core::capture::quality::{self, MotionTracker};
use lifecert_core::crypto::sealing::{SealError, SealingKey, SigningKeyPair};
use lifecert_core::face::descriptor::Descriptor;
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::image::decode::load_image;
use lifecert_core::image::warp::{warp_into, Affine};
use lifecert_core::matching::sealed_template::{
    open_template, open_verified_issued, seal_issued, seal_template, IssuedTemplate,
};
use lifecert_core::matching::templates::{
    check_enrollment_quality, descriptor_model, FaceTemplate, MatchingConfig, MatchingError,
    RefreshRefusal, RejectReason, SampleQuality, TemplateBuilder, TemplateError,
};
use lifecert_core::model::assets::ModelInfo;
use lifecert_core::Config;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// One photo of the evaluation set, described.
struct Photo {
    person: String,
    file: String,
    /// Quality of the photo as it is (the default gate is applied to it for the report).
    quality: SampleQuality,
    /// Descriptor of the photo as it is.
    probe: Descriptor,
    /// The photo and its jittered copies (up to three descriptors).
    session: Vec<Descriptor>,
}

/// The photo resampled: rotated by `degrees`, zoomed by `1 / scale`, shifted by `dx` pixels,
/// with its exposure multiplied by `gain`.
fn jitter(img: &RgbImage, degrees: f32, scale: f32, dx: f32, gain: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let side = w.max(h);
    let map = Affine::square_crop(
        w as f32 / 2.0 + dx,
        h as f32 / 2.0,
        side as f32 * scale,
        -degrees.to_radians(),
        side,
    );
    let mut buf = vec![0.0f32; (side * side * 3) as usize];
    warp_into(img, &map, side, 1.0, 0.0, &mut buf);
    RgbImage::from_fn(side, side, |x, y| {
        let i = ((y * side + x) * 3) as usize;
        let q = |v: f32| (v * gain).round().clamp(0.0, 255.0) as u8;
        image::Rgb([q(buf[i]), q(buf[i + 1]), q(buf[i + 2])])
    })
}

/// The two jittered copies that make a "session" with the original.
fn session_copies(img: &RgbImage) -> [RgbImage; 2] {
    [
        jitter(img, 4.0, 0.95, 3.0, 0.9),
        jitter(img, -3.0, 1.05, -2.0, 1.1),
    ]
}

/// The largest face of `img`: its quality and descriptor.
fn describe(img: &RgbImage) -> Option<(SampleQuality, Descriptor)> {
    let faces = analyzer().analyze_image(img).unwrap();
    let m = quality::measure(
        img,
        &faces,
        &mut MotionTracker::new(),
        Duration::ZERO,
        &Config::default().guidance.quality,
    );
    let index = m.primary.as_ref()?.index;
    let q = SampleQuality::from_measurements(&m)?;
    Some((q, analyzer().describe(img, &faces[index]).unwrap()))
}

/// A photo of the set; the 150×150 `bbt_*` crops are padded into a 300×300 grey canvas to
/// give the detector some context.
fn load_photo(path: &Path) -> RgbImage {
    let img = load_image(path).unwrap();
    if img.width() <= 160 {
        let mut canvas = RgbImage::from_pixel(300, 300, image::Rgb([128, 128, 128]));
        image::imageops::overlay(&mut canvas, &img, 75, 75);
        canvas
    } else {
        img
    }
}

/// Every photo of `faces_identity/`, described once per test binary.
fn photos(data: &Path) -> &'static [Photo] {
    static PHOTOS: OnceLock<Vec<Photo>> = OnceLock::new();
    PHOTOS.get_or_init(|| {
        let root = data.join("faces_identity");
        let people = common::entries(&root);
        let mut out = Vec::new();
        for dir in people {
            let person = dir.file_name().unwrap().to_string_lossy().into_owned();
            for path in images_in(&dir) {
                let img = load_photo(&path);
                let Some((quality, probe)) = describe(&img) else {
                    eprintln!("no face: {}", path.display());
                    continue;
                };
                let mut session = vec![probe.clone()];
                for copy in session_copies(&img) {
                    if let Some((_, d)) = describe(&copy) {
                        session.push(d);
                    }
                }
                out.push(Photo {
                    person: person.clone(),
                    file: path.file_name().unwrap().to_string_lossy().into_owned(),
                    quality,
                    probe,
                    session,
                });
            }
        }
        out
    })
}

/// The configuration for templates of photos that are not enrollment captures: the default
/// matching settings, the quality gate opened.
fn open_gate() -> Config {
    let mut c = Config::default();
    let g = &mut c.guidance;
    (g.max_yaw_deg, g.max_pitch_deg, g.max_roll_deg) = (90.0, 90.0, 90.0);
    (g.min_face_luma, g.max_face_luma) = (0.0, 256.0);
    g.min_sharpness = 0.0;
    g.min_eye_luma_ratio = 0.0;
    g.max_mouth_luma_ratio = f32::MAX;
    g.min_mouth_redness = f32::MIN;
    c.matching.min_interocular_px = 1.0;
    c
}

fn model() -> ModelInfo {
    descriptor_model(analyzer()).unwrap()
}

/// A template of `descriptors`, gate opened (the photo's primary face is the person).
fn template_from(
    descriptors: &[Descriptor],
    quality: SampleQuality,
) -> Result<FaceTemplate, TemplateError> {
    let mut b = TemplateBuilder::for_model(model(), open_gate())?;
    let q = SampleQuality {
        significant_faces: 1,
        ..quality
    };
    for d in descriptors {
        b.add_sample(d.clone(), q)?;
    }
    b.build(1_700_000_000)
}

/// Genuine and impostor distances of one protocol.
#[derive(Default)]
struct Scores {
    genuine: Vec<f32>,
    impostor: Vec<f32>,
}

impl Scores {
    fn push(&mut self, same: bool, d: f32) {
        if same {
            self.genuine.push(d);
        } else {
            self.impostor.push(d);
        }
    }

    /// (FMR, false matches) at `t`: impostors with distance ≤ t.
    fn fmr(&self, t: f32) -> (f64, usize) {
        let n = self.impostor.iter().filter(|&&d| d <= t).count();
        (n as f64 / self.impostor.len() as f64, n)
    }

    /// (FNMR, false non-matches) at `t`: genuine comparisons with distance > t.
    fn fnmr(&self, t: f32) -> (f64, usize) {
        let n = self.genuine.iter().filter(|&&d| d > t).count();
        (n as f64 / self.genuine.len() as f64, n)
    }

    /// (EER, threshold): the point of a 0.001 sweep where FMR and FNMR are closest.
    fn eer(&self) -> (f64, f32) {
        (300..=800)
            .map(|i| i as f32 / 1000.0)
            .map(|t| (self.fmr(t).0, self.fnmr(t).0, t))
            .min_by(|a, b| (a.0 - a.1).abs().total_cmp(&(b.0 - b.1).abs()))
            .map(|(a, b, t)| ((a + b) / 2.0, t))
            .unwrap()
    }

    fn report(&self, name: &str) {
        let min = |v: &[f32]| v.iter().copied().fold(f32::INFINITY, f32::min);
        let max = |v: &[f32]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        eprintln!(
            "{name}: {} genuine (max {:.3}), {} impostor (min {:.3}) comparisons",
            self.genuine.len(),
            max(&self.genuine),
            self.impostor.len(),
            min(&self.impostor)
        );
        for t in [0.45f32, 0.50, 0.52, 0.55, 0.58, 0.60] {
            let ((fmr, fm), (fnmr, fnm)) = (self.fmr(t), self.fnmr(t));
            eprintln!(
                "  threshold {t:.2}: FMR {:.3} % ({fm}), FNMR {:.2} % ({fnm})",
                100.0 * fmr,
                100.0 * fnmr
            );
        }
        let (eer, at) = self.eer();
        eprintln!("  EER ≈ {:.3} % at {at:.3}", 100.0 * eer);
    }
}

/// One-sided 95 % upper confidence bound on a rate with `k` events in `n` trials (Poisson
/// approximation: the λ with P(X ≤ k; λ) = 0.05, over n).
fn upper_bound_95(k: usize, n: usize) -> f64 {
    let cdf = |lambda: f64| {
        let (mut term, mut sum) = ((-lambda).exp(), 0.0);
        for i in 0..=k {
            if i > 0 {
                term *= lambda / i as f64;
            }
            sum += term;
        }
        sum
    };
    let (mut lo, mut hi) = (0.0f64, 10.0 + 10.0 * k as f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) > 0.05 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi / n as f64
}

fn min_distance(descriptors: &[Descriptor], probe: &Descriptor) -> f32 {
    descriptors
        .iter()
        .map(|d| d.distance(probe))
        .fold(f32::INFINITY, f32::min)
}

fn session_templates(photos: &[Photo]) -> Vec<(usize, FaceTemplate)> {
    photos
        .iter()
        .enumerate()
        .filter(|(_, p)| p.session.len() == 3)
        .map(|(i, p)| (i, template_from(&p.session, p.quality).unwrap()))
        .collect()
}

#[test]
fn calibrate_threshold_on_faces_identity() {
    let Some(data) = eval_data("calibrate_threshold_on_faces_identity") else {
        return;
    };
    let photos = photos(&data);
    let cfg = MatchingConfig::default();
    let threshold = cfg.threshold;
    let passing = photos
        .iter()
        .filter(|p| check_enrollment_quality(&p.quality, &Config::default().into()).is_ok())
        .count();
    eprintln!(
        "{} photos described; {passing} would pass the default enrollment gate",
        photos.len()
    );
    // No count of the shared set is assumed (a sealed set of other people laid out the same
    // way is run through these tests): only enough to measure anything.
    assert_measurable(photos);

    let mut pairs = Scores::default();
    for (i, a) in photos.iter().enumerate() {
        for b in &photos[i + 1..] {
            pairs.push(a.person == b.person, a.probe.distance(&b.probe));
        }
    }
    pairs.report("pairs (k = 1)");

    // The library matches against the mean of the enrollment descriptors; the minimum and
    // the mean of the distances to each enrollment descriptor are reported for comparison.
    let (mut session, mut session_min) = (Scores::default(), Scores::default());
    let templates = session_templates(photos);
    for (i, t) in &templates {
        for (j, p) in photos.iter().enumerate() {
            if j != *i {
                let r = t.match_descriptor(&p.probe, &model(), &cfg).unwrap();
                assert_eq!(r.accepted, r.distance <= threshold);
                let same = p.person == photos[*i].person;
                session.push(same, r.distance);
                session_min.push(same, min_distance(&photos[*i].session, &p.probe));
            }
        }
    }
    eprintln!("{} session templates", templates.len());
    session.report("session template (photo + 2 jittered copies) vs other photos");
    session_min.report("  alternative: minimum distance to the session descriptors");

    let (mut multi, mut multi_min, mut multi_mean) =
        (Scores::default(), Scores::default(), Scores::default());
    let (mut built, mut inconsistent) = (0usize, 0usize);
    let mut by_person: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        match by_person.iter_mut().find(|(n, _)| *n == p.person) {
            Some((_, v)) => v.push(i),
            None => by_person.push((&p.person, vec![i])),
        }
    }
    for (_, idx) in by_person.iter().filter(|(_, v)| v.len() >= 4) {
        for a in 0..idx.len() {
            for b in a + 1..idx.len() {
                for c in b + 1..idx.len() {
                    let chosen = [idx[a], idx[b], idx[c]];
                    let descriptors: Vec<Descriptor> =
                        chosen.iter().map(|&k| photos[k].probe.clone()).collect();
                    let t = match template_from(&descriptors, photos[idx[a]].quality) {
                        Ok(t) => t,
                        Err(TemplateError::InconsistentFrames { .. }) => {
                            inconsistent += 1;
                            continue;
                        }
                        Err(e) => panic!("{e}"),
                    };
                    built += 1;
                    for (k, p) in photos.iter().enumerate() {
                        if !chosen.contains(&k) {
                            let r = t.match_descriptor(&p.probe, &model(), &cfg).unwrap();
                            let same = p.person == photos[idx[a]].person;
                            multi.push(same, r.distance);
                            multi_min.push(same, min_distance(&descriptors, &p.probe));
                            let mean = descriptors
                                .iter()
                                .map(|d| d.distance(&p.probe))
                                .sum::<f32>()
                                / descriptors.len() as f32;
                            multi_mean.push(same, mean);
                        }
                    }
                }
            }
        }
    }
    eprintln!("{built} multi-photo templates ({inconsistent} refused as inconsistent)");
    multi.report("template of 3 different photos vs held-out photos");
    multi_min.report("  alternative: minimum distance to the 3 photos");
    multi_mean.report("  alternative: mean distance to the 3 photos");

    let (pairs_fmr, pairs_fm) = pairs.fmr(threshold);
    let bound = upper_bound_95(pairs_fm, pairs.impostor.len());
    eprintln!(
        "default threshold {threshold}: pairs FMR {:.3} % ({pairs_fm} of {}), 95 % upper bound {:.3} %",
        100.0 * pairs_fmr,
        pairs.impostor.len(),
        100.0 * bound
    );
    for (name, s) in [("pairs", &pairs), ("session", &session), ("multi", &multi)] {
        if s.genuine.is_empty() || s.impostor.is_empty() {
            eprintln!("{name}: no comparisons (too few photos per person)");
            continue;
        }
        let (fmr, _) = s.fmr(threshold);
        let (fnmr, _) = s.fnmr(threshold);
        assert!(fmr <= 0.001, "{name}: FMR {fmr} at {threshold}");
        assert!(fnmr <= 0.05, "{name}: FNMR {fnmr} at {threshold}");
    }
    // The bound says something only with enough impostor pairs (3 / n ≤ 0.1 % needs 3000).
    if pairs.impostor.len() >= 3000 {
        assert!(bound <= 0.001, "pairs FMR upper bound {bound}");
    }
}

/// At least two people with two described photos each: the least that gives both genuine
/// and impostor comparisons.
fn assert_measurable(photos: &[Photo]) {
    let mut per_person: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in photos {
        *per_person.entry(&p.person).or_default() += 1;
    }
    let usable = per_person.values().filter(|&&n| n >= 2).count();
    assert!(
        usable >= 2,
        "faces_identity/ needs two people with two photos each; found {per_person:?}"
    );
}

/// Which half of the people an identity falls in: FNV-1a of its folder name, so that the
/// split is the same on every run and machine, depends on nothing but the name, and puts
/// all photos of one person on the same side.
fn calibration_half(person: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in person.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // The top bit: the low bits of FNV-1a follow the last byte too closely.
    h >> 63 == 0
}

/// Session-template scores (the production protocol: a template of one capture against
/// other photos) among the people of one half only.
fn session_scores(photos: &[Photo], half: bool) -> Scores {
    let cfg = MatchingConfig::default();
    let mut s = Scores::default();
    for (i, t) in session_templates(photos) {
        if calibration_half(&photos[i].person) != half {
            continue;
        }
        for (j, p) in photos.iter().enumerate() {
            if j != i && calibration_half(&p.person) == half {
                let r = t.match_descriptor(&p.probe, &model(), &cfg).unwrap();
                s.push(p.person == photos[i].person, r.distance);
            }
        }
    }
    s
}

/// The threshold fitted on a calibration set: the middle of the band it allows, between the
/// strictest threshold that still accepts 95 % of its genuine comparisons (false non-match
/// rate ≤ 5 %, the product's limit) and the loosest that accepts none of its impostor
/// comparisons (on a 0.001 grid). The middle leaves the same margin to both failures on
/// people the fit has not seen. Fitting one side alone does not hold on the other half
/// (see the test's output): the impostor tail hangs on a few look-alike pairs of people
/// and the genuine spread differs from person to person, so a threshold pushed to either
/// edge of one half's band falls off the other half's.
fn fit_threshold(s: &Scores) -> f32 {
    let (lo, hi) = fit_band(s);
    0.5 * (lo + hi.max(lo))
}

/// The band of [`fit_threshold`]: (strictest with FNMR ≤ 5 %, loosest with no false match).
fn fit_band(s: &Scores) -> (f32, f32) {
    let grid = || (300..=800).map(|i| i as f32 / 1000.0);
    let lo = grid().find(|&t| s.fnmr(t).0 <= 0.05).unwrap_or(0.8);
    let hi = grid().filter(|&t| s.fmr(t).1 == 0).fold(0.3, f32::max);
    (lo, hi)
}

/// The largest threshold whose false match rate on the calibration set is at most 0.1 %
/// (reported only: it overfits the impostor tail).
fn fit_threshold_on_impostors(s: &Scores) -> f32 {
    (300..=800)
        .map(|i| i as f32 / 1000.0)
        .filter(|&t| s.fmr(t).0 <= 0.001)
        .fold(0.3, f32::max)
}

#[test]
fn the_threshold_fitted_on_one_half_holds_on_the_other() {
    let Some(data) = eval_data("the_threshold_fitted_on_one_half_holds_on_the_other") else {
        return;
    };
    let photos = photos(&data);
    assert_measurable(photos);
    let shipped = MatchingConfig::default().threshold;
    let people = |half: bool| {
        let mut names: Vec<&str> = photos
            .iter()
            .filter(|p| calibration_half(&p.person) == half)
            .map(|p| p.person.as_str())
            .collect();
        names.dedup();
        names
    };
    eprintln!("calibration half: {:?}", people(true));
    eprintln!("evaluation half:  {:?}", people(false));
    // Both folds: fit on one half, evaluate on the other. Everything is printed first.
    let mut checks = Vec::new();
    for (fit_on, name) in [(true, "A→B"), (false, "B→A")] {
        let (cal, eval) = (
            session_scores(photos, fit_on),
            session_scores(photos, !fit_on),
        );
        if cal.genuine.is_empty() || eval.genuine.is_empty() || eval.impostor.is_empty() {
            eprintln!("{name}: a half has no comparisons; not measured");
            continue;
        }
        let rates = |t: f32| {
            let ((fmr, fm), (fnmr, fnm)) = (eval.fmr(t), eval.fnmr(t));
            format!(
                "FMR {:.3} % ({fm}), FNMR {:.2} % ({fnm})",
                100.0 * fmr,
                100.0 * fnmr
            )
        };
        let fitted = fit_threshold(&cal);
        let (lo, hi) = fit_band(&cal);
        let on_impostors = fit_threshold_on_impostors(&cal);
        eprintln!(
            "{name}: calibration {} genuine / {} impostor, held out {} genuine / {} impostor",
            cal.genuine.len(),
            cal.impostor.len(),
            eval.genuine.len(),
            eval.impostor.len()
        );
        eprintln!(
            "  fitted threshold {fitted:.3} (band {lo:.3}–{hi:.3}): held out {}",
            rates(fitted)
        );
        eprintln!(
            "  (band edges: {lo:.3} held out {}; {hi:.3} held out {})",
            rates(lo),
            rates(hi)
        );
        eprintln!(
            "  shipped threshold {shipped:.3}: held out {}",
            rates(shipped)
        );
        eprintln!(
            "  (FMR fitted to 0.1 % on the calibration half, {on_impostors:.3}: held out {})",
            rates(on_impostors)
        );
        for (what, t) in [("fitted", fitted), ("shipped", shipped)] {
            checks.push((name, what, t, eval.fmr(t).0, eval.fnmr(t).0));
        }
    }
    for (name, what, t, fmr, fnmr) in checks {
        assert!(
            fmr <= 0.001,
            "{name}, {what} threshold {t}: held-out FMR {fmr}"
        );
        assert!(
            fnmr <= 0.05,
            "{name}, {what} threshold {t}: held-out FNMR {fnmr}"
        );
    }
}

#[test]
fn impostor_refreshes_never_get_an_impostor_accepted() {
    let Some(data) = eval_data("impostor_refreshes_never_get_an_impostor_accepted") else {
        return;
    };
    let photos = photos(&data);
    let cfg = MatchingConfig::default();
    let m = model();
    let day = 24 * 3600u64;
    let (mut refused, mut already_matching) = (0usize, 0usize);
    let templates = session_templates(photos);
    for (i, template) in &templates {
        for p in photos.iter().filter(|p| p.person != photos[*i].person) {
            let before = template.match_descriptor(&p.probe, &m, &cfg).unwrap();
            if before.accepted {
                // One of the few false matches of the calibration: nothing to drift.
                already_matching += 1;
                continue;
            }
            let mut t = template.clone();
            let mut now = t.created_at();
            for _ in 0..3 {
                now += 400 * day;
                let e = t.refresh(&p.probe, &m, now, &cfg).unwrap_err();
                assert!(
                    matches!(
                        e,
                        TemplateError::RefreshRefused(
                            RefreshRefusal::NotWellInside { .. }
                                | RefreshRefusal::FarFromEnrollment { .. }
                        )
                    ),
                    "{e}"
                );
                refused += 1;
            }
            assert_eq!(&t, template, "a refused refresh changes nothing");
            assert_eq!(t.match_descriptor(&p.probe, &m, &cfg).unwrap(), before);
        }
    }
    eprintln!(
        "{refused} impostor refreshes refused; {already_matching} impostor pairs matched before any refresh"
    );
    // Every impostor pair either matched before any refresh (a false match of the
    // calibration, counted there) or had all its refreshes refused.
    assert!(refused > 0, "no impostor refresh was tried");

    // A colluder who can present any face that passes (e.g. morphs towards an impostor)
    // drags the reference as far as the bounds allow: towards the closest impostor, with
    // faces just inside both refresh limits, every 30 days.
    let mut accepted_after = 0usize;
    let mut impostor_comparisons = 0usize;
    for (i, template) in &templates {
        let own = &photos[*i];
        let original = mean(&own.session);
        let target = photos
            .iter()
            .filter(|p| p.person != own.person)
            .min_by(|a, b| {
                a.probe
                    .distance(&original)
                    .total_cmp(&b.probe.distance(&original))
            })
            .unwrap();
        let towards = unit_towards(&original, &target.probe);
        let lure = Descriptor(
            original
                .0
                .iter()
                .zip(&towards)
                .map(|(o, u)| o + 0.4 * u)
                .collect(),
        );
        let mut t = template.clone();
        let mut now = t.created_at();
        for _ in 0..20 {
            now += cfg.refresh_min_interval_secs;
            let out = t.refresh(&lure, &m, now, &cfg).unwrap();
            assert!(out.drift <= cfg.refresh_radius + 1e-4, "{out:?}");
        }
        assert!(
            (t.drift() - cfg.refresh_radius).abs() < 1e-3,
            "drift {}",
            t.drift()
        );
        assert_eq!(t.enrollment_count(), 3);
        for p in photos.iter().filter(|p| p.person != own.person) {
            let r = t.match_descriptor(&p.probe, &m, &cfg).unwrap();
            let from_original = p.probe.distance(&original);
            // The radius bounds what the drag can achieve.
            assert!(r.distance >= from_original - cfg.refresh_radius - 1e-3);
            if from_original > cfg.threshold + cfg.refresh_radius {
                assert!(!r.accepted);
            }
            impostor_comparisons += 1;
            accepted_after += usize::from(r.accepted);
        }
    }
    let rate = accepted_after as f64 / impostor_comparisons as f64;
    eprintln!(
        "after a maximal drag towards the closest impostor: {accepted_after} of {impostor_comparisons} impostor comparisons accepted ({:.3} %)",
        100.0 * rate
    );
    assert!(rate <= 0.005, "{rate}");
}

fn mean(ds: &[Descriptor]) -> Descriptor {
    let n = ds.len() as f32;
    Descriptor(
        (0..ds[0].0.len())
            .map(|k| ds.iter().map(|d| d.0[k]).sum::<f32>() / n)
            .collect(),
    )
}

fn unit_towards(from: &Descriptor, to: &Descriptor) -> Vec<f32> {
    let diff: Vec<f32> = to.0.iter().zip(&from.0).map(|(a, b)| a - b).collect();
    let n = diff.iter().map(|v| v * v).sum::<f32>().sqrt();
    diff.iter().map(|v| v / n).collect()
}

#[test]
fn genuine_refresh_is_accepted() {
    let Some(data) = eval_data("genuine_refresh_is_accepted") else {
        return;
    };
    let photos = photos(&data);
    let cfg = MatchingConfig::default();
    let m = model();
    let (mut accepted, mut too_far) = (0usize, 0usize);
    for (i, template) in session_templates(photos) {
        for (j, p) in photos.iter().enumerate() {
            if j == i || p.person != photos[i].person {
                continue;
            }
            let before = template.match_descriptor(&p.probe, &m, &cfg).unwrap();
            let mut t = template.clone();
            match t.refresh(&p.probe, &m, t.created_at() + 365 * 24 * 3600, &cfg) {
                Ok(out) => {
                    accepted += 1;
                    assert_eq!(out.count, 1);
                    assert_eq!(t.refresh_history().count, 1);
                    assert!(out.step > 0.0 && out.step <= cfg.refresh_max_step + 1e-6);
                    let after = t.match_descriptor(&p.probe, &m, &cfg).unwrap();
                    assert!(after.distance < before.distance);
                    assert!(before.distance <= cfg.refresh_max_distance);
                }
                Err(TemplateError::RefreshRefused(RefreshRefusal::NotWellInside { .. })) => {
                    too_far += 1;
                    assert!(before.distance > cfg.refresh_max_distance);
                }
                Err(e) => panic!("{}: {e}", p.file),
            }
        }
    }
    eprintln!("genuine refreshes: {accepted} accepted, {too_far} refused as not well inside");
    // Most genuine photos are close enough to refresh the template (the rest is refused as
    // not well inside, which is asserted above to be the only reason).
    assert!(
        accepted >= too_far,
        "{accepted} accepted, {too_far} refused"
    );
}

fn darken(img: &RgbImage, gain: f32, offset: f32) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        for c in p.0.iter_mut() {
            *c = (*c as f32 * gain + offset).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Enrolls `img` (and its session copies) with the default configuration.
fn enroll(img: &RgbImage, config: Config) -> TemplateBuilder {
    let a = analyzer();
    let mut b = TemplateBuilder::for_model(model(), config).unwrap();
    let frames = [
        img.clone(),
        session_copies(img)[0].clone(),
        session_copies(img)[1].clone(),
    ];
    for f in &frames {
        let faces = a.analyze_image(f).unwrap();
        b.add_frame(a, f, &faces).unwrap();
    }
    b
}

fn reject_reason(b: &mut TemplateBuilder, img: &RgbImage) -> RejectReason {
    let faces = analyzer().analyze_image(img).unwrap();
    match b.add_frame(analyzer(), img, &faces) {
        Err(MatchingError::Template(TemplateError::FrameRejected(r))) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn the_enrollment_gate_on_real_photos() {
    let test = "the_enrollment_gate_on_real_photos";
    let Some(data) = eval_data(test) else {
        return;
    };
    // This test is about particular pictures of the shared set (a blurred, a dark and a
    // two-person photo, a passport and its holder); a data set without them skips it.
    let needed = [
        "faces_identity/barack_obama/fr_obama.jpg",
        "faces_identity/barack_obama/fr_obama2.jpg",
        "faces_identity/barack_obama/fr_obama3.jpg",
        "faces_identity/barack_obama/fr_obama1_test.jpg",
        "hard_cases/multi_face/fr_two_people.jpg",
        "hard_cases/no_face/insightface_no_face.png",
        "id_documents/idenfy_BarackHusseinObama_passport.jpg",
        "faces_identity/joe_biden/fr_biden.jpg",
        "faces_identity/katy_perry/deepface_img42.jpg",
    ];
    if let Some(missing) = needed.iter().find(|f| !data.join(f).is_file()) {
        lifecert_test_support::skip(test, &format!("the data set has no {missing}"));
        return;
    }
    let obama = load_image(&data.join("faces_identity/barack_obama/fr_obama.jpg")).unwrap();
    let mut b = TemplateBuilder::new(analyzer(), Config::default()).unwrap();
    let blurred = image::imageops::blur(&obama, 8.0);
    assert!(matches!(
        reject_reason(&mut b, &blurred),
        RejectReason::Blurred { .. }
    ));
    assert!(matches!(
        reject_reason(&mut b, &darken(&obama, 0.25, 0.0)),
        RejectReason::TooDark { .. }
    ));
    assert!(matches!(
        reject_reason(&mut b, &darken(&obama, 1.0, 95.0)),
        RejectReason::TooBright { .. }
    ));
    let tiny = image::imageops::resize(
        &obama,
        obama.width() / 4,
        obama.height() / 4,
        image::imageops::FilterType::Triangle,
    );
    assert!(matches!(
        reject_reason(&mut b, &tiny),
        RejectReason::TooSmall { .. }
    ));
    let two = load_image(&data.join("hard_cases/multi_face/fr_two_people.jpg")).unwrap();
    assert!(matches!(
        reject_reason(&mut b, &two),
        RejectReason::SeveralFaces { count: 2 }
    ));
    let turned = load_image(&data.join("hard_cases/head_pose/insightface_left_face.jpeg")).unwrap();
    assert!(matches!(
        reject_reason(&mut b, &turned),
        RejectReason::Turned { .. }
    ));
    let nobody = load_image(&data.join("hard_cases/no_face/insightface_no_face.png")).unwrap();
    assert!(matches!(
        reject_reason(&mut b, &nobody),
        RejectReason::NoFace
    ));
    assert_eq!((b.good_frames(), b.rejected_frames()), (0, 7));
    assert!(matches!(
        b.clone().build(0),
        Err(TemplateError::NotEnoughFrames {
            good: 0,
            required: 3
        })
    ));

    // Three good frames of one capture, plus the portrait of his (demo) passport.
    let mut b = enroll(&obama, Config::default());
    let passport =
        load_image(&data.join("id_documents/idenfy_BarackHusseinObama_passport.jpg")).unwrap();
    let faces = analyzer().analyze_image(&passport).unwrap();
    let card = b.set_id_portrait(analyzer(), &passport, &faces).unwrap();
    eprintln!(
        "passport portrait: eyes {:.0} px apart",
        card.interocular_px
    );
    let template = b.build(1_700_000_000).unwrap();
    assert!(template.id_portrait().is_some());
    let cfg = MatchingConfig::default();
    for other in ["fr_obama2.jpg", "fr_obama3.jpg", "fr_obama1_test.jpg"] {
        let img = load_image(&data.join("faces_identity/barack_obama").join(other)).unwrap();
        let faces = analyzer().analyze_image(&img).unwrap();
        let r = template
            .match_face(analyzer(), &img, &faces[0], &Config::default().matching)
            .unwrap();
        eprintln!("obama template vs {other}: {r:?}");
        assert!(r.accepted);
    }
    let biden = load_image(&data.join("faces_identity/joe_biden/fr_biden.jpg")).unwrap();
    let faces = analyzer().analyze_image(&biden).unwrap();
    let r = template
        .match_face(analyzer(), &biden, &faces[0], &Config::default().matching)
        .unwrap();
    eprintln!("obama template vs biden: {r:?}");
    assert!(!r.accepted && r.threshold == cfg.threshold);

    // Somebody else enrolling with Obama's passport is refused.
    let katy = load_image(&data.join("faces_identity/katy_perry/deepface_img42.jpg")).unwrap();
    let mut b = enroll(&katy, Config::default());
    let faces = analyzer().analyze_image(&passport).unwrap();
    b.set_id_portrait(analyzer(), &passport, &faces).unwrap();
    let e = b.build(0).unwrap_err();
    eprintln!("katy perry with obama's passport: {e}");
    assert!(matches!(e, TemplateError::IdPortraitMismatch { .. }));
}

/// The bundled sample enrolled from three frames (it looks down 10°, at the default pitch
/// limit, hence 12° here).
fn astronaut_template() -> FaceTemplate {
    let mut config = Config::default();
    config.guidance.max_pitch_deg = 12.0;
    let img = image::imageops::resize(
        &astronaut(),
        640,
        640,
        image::imageops::FilterType::Triangle,
    );
    enroll(&img, config).build(1_700_000_000).unwrap()
}

#[test]
fn an_enrolled_sample_seals_opens_and_matches() {
    let template = astronaut_template();
    assert_eq!(template.enrollment_count(), 3);
    let subject = SubjectReference::from_bytes([1; 32]);
    let key = SealingKey::generate().unwrap();
    let sealed = seal_template(&template, &key, &subject).unwrap();
    let opened = open_template(&sealed, &key, &subject, &model()).unwrap();
    assert_eq!(opened, template);
    assert!(!format!("{opened:?}").contains("Descriptor"));
    let other = SubjectReference::from_bytes([2; 32]);
    assert_eq!(
        open_template(&sealed, &key, &other, &model()).unwrap_err(),
        TemplateError::Sealing(SealError::Tampered)
    );
    // A mirrored copy of the photo is the same person.
    let mirrored = image::imageops::flip_horizontal(&astronaut());
    let faces = analyzer().analyze_image(&mirrored).unwrap();
    let r = opened
        .match_face(
            analyzer(),
            &mirrored,
            &faces[0],
            &Config::default().matching,
        )
        .unwrap();
    eprintln!("astronaut template vs mirrored photo: {r:?}");
    assert!(r.accepted);
}

#[test]
fn issued_templates_with_real_faces_refuse_forgery_and_swaps() {
    let Some(data) = eval_data("issued_templates_with_real_faces_refuse_forgery_and_swaps") else {
        return;
    };
    let retiree = SubjectReference::from_bytes([3; 32]);
    let other_subject = SubjectReference::from_bytes([4; 32]);
    let key = SealingKey::generate().unwrap();
    let (authority, _) = SigningKeyPair::generate().unwrap();
    let trusted = authority.public_key();
    let genuine = astronaut_template();
    let issued = IssuedTemplate::issue(&authority, &retiree, &genuine, 1_700_000_000).unwrap();
    let sealed = seal_issued(&issued, &key).unwrap();
    let verified = open_verified_issued(&sealed, &key, &retiree, &model(), &trusted).unwrap();
    assert_eq!(verified, genuine);

    // The attacker's own face, enrolled and signed with the attacker's key for the retiree.
    let attacker_img = load_image(&data.join("faces_identity/barack_obama/fr_obama.jpg")).unwrap();
    let attacker_template = enroll(&attacker_img, Config::default())
        .build(1_700_000_000)
        .unwrap();
    let (attacker, _) = SigningKeyPair::generate().unwrap();
    let forged =
        IssuedTemplate::issue(&attacker, &retiree, &attacker_template, 1_700_000_000).unwrap();
    let sealed_forged = seal_issued(&forged, &key).unwrap();
    assert_eq!(
        open_verified_issued(&sealed_forged, &key, &retiree, &model(), &trusted).unwrap_err(),
        TemplateError::Signature(SealError::WrongKey)
    );
    // A template the authority really issued — to somebody else — is refused for the retiree.
    let elsewhere =
        IssuedTemplate::issue(&authority, &other_subject, &attacker_template, 1).unwrap();
    assert_eq!(
        elsewhere.verify(&trusted, &retiree, &model()).unwrap_err(),
        TemplateError::SubjectMismatch
    );
    // And sealed for its own subject, it does not even open for the retiree.
    let sealed_elsewhere = seal_issued(&elsewhere, &key).unwrap();
    assert_eq!(
        open_verified_issued(&sealed_elsewhere, &key, &retiree, &model(), &trusted).unwrap_err(),
        TemplateError::Sealing(SealError::Tampered)
    );
    // The genuine template does not accept the attacker's face.
    let faces = analyzer().analyze_image(&attacker_img).unwrap();
    let r = verified
        .match_face(
            analyzer(),
            &attacker_img,
            &faces[0],
            &Config::default().matching,
        )
        .unwrap();
    assert!(!r.accepted, "{r:?}");
}
