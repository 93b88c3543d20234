use super::synthetic::{observation, render, FaceSpec, Scene};
use super::*;
use crate::image::geometry::Rect;

/// A face whose eye midpoint sits where the guide expects it in a 480×640 frame.
fn centred(iod: f32) -> FaceSpec {
    // Guide centre is at 0.45 · 640 = 288; the face-oval centre is 0.45 IOD below the eyes.
    FaceSpec::new(240.0, 288.0 - 0.45 * iod, iod)
}

fn measure_one(scene: &Scene, spec: &FaceSpec) -> FaceQuality {
    let img = render(scene, &[*spec]);
    let m = measure(
        &img,
        &[observation(spec)],
        &mut MotionTracker::new(),
        Duration::ZERO,
        &QualityConfig::default(),
    );
    m.primary.expect("a primary face")
}

#[test]
fn distance_band_follows_face_size() {
    let scene = Scene::default();
    let near = measure_one(&scene, &centred(90.0));
    let mid = measure_one(&scene, &centred(55.0));
    let far = measure_one(&scene, &centred(32.0));
    assert_eq!(near.size.band, DistanceBand::TooClose);
    assert_eq!(mid.size.band, DistanceBand::Ok);
    assert_eq!(far.size.band, DistanceBand::TooFar);
    assert!(near.size.distance_cm < mid.size.distance_cm);
    assert!(mid.size.distance_cm < far.size.distance_cm);
    // Pinhole model: f = 320 / tan 36° ≈ 440 px; 440 · 6.3 / 55 ≈ 50 cm.
    assert!((mid.size.distance_cm - 50.4).abs() < 1.0, "{:?}", mid.size);
    assert!((mid.size.interocular_fraction - 55.0 / 480.0).abs() < 0.01);
}

#[test]
fn turned_head_keeps_its_distance() {
    let scene = Scene::default();
    let frontal = measure_one(&scene, &centred(55.0));
    let turned = measure_one(&scene, &centred(55.0).pose(25.0, 0.0, 0.0));
    assert!(turned.size.interocular_px < frontal.size.interocular_px * 0.95);
    let ratio = turned.size.distance_cm / frontal.size.distance_cm;
    assert!((ratio - 1.0).abs() < 0.06, "ratio {ratio}");
}

#[test]
fn default_guide_holds_a_centred_face_across_the_band() {
    let scene = Scene::default();
    for iod in [47.0, 55.0, 68.0] {
        let q = measure_one(&scene, &centred(iod));
        assert_eq!(q.size.band, DistanceBand::Ok, "iod {iod}: {:?}", q.size);
        assert_eq!(q.centring.inside_guide_fraction, 1.0, "iod {iod}");
        assert!(q.centring.offset < 0.1, "{:?}", q.centring);
        assert_eq!(q.centring.in_frame_fraction, 1.0);
    }
}

#[test]
fn off_centre_face_leaves_the_guide() {
    let scene = Scene::default();
    let spec = FaceSpec::new(440.0, 250.0, 55.0);
    let q = measure_one(&scene, &spec);
    assert!(q.centring.offset_x > 1.0, "{:?}", q.centring);
    assert!(q.centring.inside_guide_fraction < 0.5);
    assert!(q.centring.in_frame_fraction < 1.0);
}

#[test]
fn face_brightness_follows_exposure() {
    let spec = centred(60.0);
    let normal = measure_one(&Scene::default(), &spec).light.unwrap();
    let dark = measure_one(
        &Scene {
            face_gain: 0.3,
            background_gain: 0.3,
            ..Scene::default()
        },
        &spec,
    )
    .light
    .unwrap();
    let bright = measure_one(
        &Scene {
            face_gain: 2.0,
            ..Scene::default()
        },
        &spec,
    )
    .light
    .unwrap();
    assert!((120.0..200.0).contains(&normal.face_luma), "{normal:?}");
    assert!(dark.face_luma < 60.0, "{dark:?}");
    assert!(bright.face_luma > 210.0, "{bright:?}");
    assert!(bright.bright_clipped_fraction > 0.25, "{bright:?}");
    assert!(normal.bright_clipped_fraction < 0.05);
    assert!(dark.dark_clipped_fraction >= normal.dark_clipped_fraction);
}

#[test]
fn bright_background_is_backlight() {
    let spec = centred(60.0);
    let even = measure_one(&Scene::default(), &spec).light.unwrap();
    let backlit = measure_one(
        &Scene {
            face_gain: 0.5,
            background: [250, 250, 250],
            ..Scene::default()
        },
        &spec,
    )
    .light
    .unwrap();
    assert!(even.backlight_difference.unwrap() < 0.0, "{even:?}");
    assert!(backlit.backlight_difference.unwrap() > 150.0, "{backlit:?}");
    assert!(backlit.backlight_ratio.unwrap() > 2.5);
    // Only the background changed relative to a dim face.
    let dim = measure_one(
        &Scene {
            face_gain: 0.5,
            ..Scene::default()
        },
        &spec,
    )
    .light
    .unwrap();
    assert!((dim.face_luma - backlit.face_luma).abs() < 1.0);
}

#[test]
fn side_light_gives_signed_imbalance() {
    let spec = centred(60.0);
    let even = measure_one(&Scene::default(), &spec).light.unwrap();
    let right_dark = measure_one(
        &Scene {
            side_gradient: -1.0,
            ..Scene::default()
        },
        &spec,
    )
    .light
    .unwrap();
    let left_dark = measure_one(
        &Scene {
            side_gradient: 1.0,
            ..Scene::default()
        },
        &spec,
    )
    .light
    .unwrap();
    assert!(even.half_imbalance.abs() < 0.05, "{even:?}");
    assert!(right_dark.half_imbalance > 0.35, "{right_dark:?}");
    assert!(left_dark.half_imbalance < -0.35, "{left_dark:?}");
}

#[test]
fn side_light_is_measured_in_the_faces_own_frame() {
    // A tilted head: the split follows the nose line, not the image vertical.
    let spec = centred(60.0).pose(0.0, 0.0, 25.0);
    let q = measure_one(
        &Scene {
            side_gradient: -1.0,
            ..Scene::default()
        },
        &spec,
    );
    assert!(q.light.unwrap().half_imbalance > 0.35);
}

#[test]
fn blur_of_sigma_3_on_a_200px_face_lowers_sharpness_below_threshold() {
    let spec = centred(200.0 / 2.66);
    assert!((spec.height() - 200.0).abs() < 2.0);
    let sharp = measure_one(&Scene::default(), &spec).sharpness.unwrap();
    let blurred = measure_one(
        &Scene {
            blur_sigma: 3.0,
            ..Scene::default()
        },
        &spec,
    )
    .sharpness
    .unwrap();
    let cfg = crate::capture::guidance::GuidanceConfig::default();
    assert!(
        sharp > cfg.min_sharpness + cfg.sharpness_margin,
        "sharp {sharp}"
    );
    assert!(blurred < cfg.min_sharpness, "blurred {blurred}");
}

#[test]
fn sharpness_does_not_depend_on_face_size_or_exposure() {
    let small = measure_one(&Scene::default(), &centred(45.0))
        .sharpness
        .unwrap();
    let large = measure_one(&Scene::default(), &centred(80.0))
        .sharpness
        .unwrap();
    let dim = measure_one(
        &Scene {
            face_gain: 0.6,
            ..Scene::default()
        },
        &centred(80.0),
    )
    .sharpness
    .unwrap();
    assert!((small / large - 1.0).abs() < 0.5, "{small} vs {large}");
    assert!((dim / large - 1.0).abs() < 0.35, "{dim} vs {large}");
}

#[test]
fn sunglasses_darken_the_eye_regions() {
    let spec = centred(60.0);
    let open = measure_one(&Scene::default(), &spec).eyes.unwrap();
    let covered = measure_one(
        &Scene {
            sunglasses: true,
            ..Scene::default()
        },
        &spec,
    )
    .eyes
    .unwrap();
    assert!(open.min_luma_ratio() > 0.6, "{open:?}");
    assert!(covered.min_luma_ratio() < 0.3, "{covered:?}");
    assert!(covered.right.contrast < open.right.contrast);
}

#[test]
fn eye_openness_comes_from_the_lids() {
    let q = measure_one(&Scene::default(), &centred(60.0));
    let ear = q.eyes.unwrap().right.openness.unwrap();
    // Canonical eye: lids 0.13 IOD apart, corners 0.48 apart.
    assert!((ear - 0.13 / 0.48).abs() < 0.01, "{ear}");
}

#[test]
fn masks_change_the_mouth_region() {
    let spec = centred(60.0);
    let open = measure_one(&Scene::default(), &spec).mouth.unwrap();
    let blue = measure_one(
        &Scene {
            mask: Some([150, 190, 225]),
            ..Scene::default()
        },
        &spec,
    )
    .mouth
    .unwrap();
    let white = measure_one(
        &Scene {
            mask: Some([245, 245, 245]),
            skin: [170, 130, 110],
            ..Scene::default()
        },
        &spec,
    )
    .mouth
    .unwrap();
    assert!(open.redness_difference > -5.0, "{open:?}");
    assert!(open.luma_ratio < 1.3, "{open:?}");
    assert!(blue.redness_difference < -25.0, "{blue:?}");
    assert!(white.luma_ratio > 1.55, "{white:?}");
}

#[test]
fn second_face_counts_only_when_sizeable() {
    let scene = Scene::default();
    let main = FaceSpec::new(240.0, 260.0, 60.0);
    let small = FaceSpec::new(60.0, 80.0, 20.0);
    let big = FaceSpec::new(400.0, 500.0, 45.0);
    let cfg = QualityConfig::default();
    let mut tracker = MotionTracker::new();
    let img = render(&scene, &[main, small]);
    let m = measure(
        &img,
        &[observation(&small), observation(&main)],
        &mut tracker,
        Duration::ZERO,
        &cfg,
    );
    assert_eq!(m.face_count, 2);
    assert_eq!(m.significant_face_count, 1);
    assert_eq!(m.primary.unwrap().index, 1, "the largest face is primary");
    let img = render(&scene, &[main, big]);
    let m = measure(
        &img,
        &[observation(&main), observation(&big)],
        &mut tracker,
        Duration::ZERO,
        &cfg,
    );
    assert_eq!(m.significant_face_count, 2);
}

/// Feeds a face moving at `speed_px_s` to a tracker at the given timestamps (ms).
fn motion_at(times_ms: &[u64], speed_px_s: f32) -> Vec<Option<Motion>> {
    let scene = Scene::default();
    let cfg = QualityConfig::default();
    let img = render(&scene, &[]);
    let mut tracker = MotionTracker::new();
    times_ms
        .iter()
        .map(|&t| {
            let x = 200.0 + speed_px_s * t as f32 / 1000.0;
            let spec = FaceSpec::new(x, 260.0, 60.0);
            let m = measure(
                &img,
                &[observation(&spec)],
                &mut tracker,
                Duration::from_millis(t),
                &cfg,
            );
            m.primary.and_then(|p| p.motion)
        })
        .collect()
}

#[test]
fn motion_is_per_second_whatever_the_frame_rate() {
    let face_height = FaceSpec::new(0.0, 0.0, 60.0).height();
    let regular: Vec<u64> = (0..30).map(|k| k * 33).collect();
    let irregular: Vec<u64> =
        [0, 15, 90, 110, 260, 280, 300, 480, 520, 700, 900, 905, 960].to_vec();
    for times in [regular, irregular] {
        let motion = motion_at(&times, 80.0);
        assert!(motion[0].is_none());
        let last = motion.last().unwrap().unwrap();
        let expected = 80.0 / face_height;
        assert!(
            (last.translation_per_s - expected).abs() < 0.03,
            "{last:?} vs {expected}"
        );
        assert!(last.span >= Duration::from_millis(300));
        assert!(last.scale_change_per_s < 0.01);
    }
}

#[test]
fn still_face_has_no_motion_and_a_gap_restarts_tracking() {
    let motion = motion_at(&[0, 33, 66, 400, 1500, 1533], 0.0);
    assert!(motion[2].unwrap().translation_per_s < 1e-3);
    assert!(motion[4].is_none(), "a gap over 0.5 s restarts");
    assert!(motion[5].is_some());
}

#[test]
fn empty_image_yields_no_primary_face() {
    let spec = centred(60.0);
    let m = measure(
        &RgbImage::new(0, 0),
        &[observation(&spec)],
        &mut MotionTracker::new(),
        Duration::ZERO,
        &QualityConfig::default(),
    );
    assert_eq!(m.face_count, 1);
    assert!(m.primary.is_none());
}

#[test]
fn broken_landmarks_fall_back_to_the_detector_box() {
    let spec = centred(60.0);
    let img = render(&Scene::default(), &[spec]);
    let mut nan = observation(&spec);
    nan.landmarks.points[mesh::CHIN][1] = f32::NAN;
    let mut short = observation(&spec);
    short.landmarks.points.truncate(10);
    for obs in [nan, short] {
        let m = measure(
            &img,
            &[obs],
            &mut MotionTracker::new(),
            Duration::ZERO,
            &QualityConfig::default(),
        );
        let q = m.primary.unwrap();
        assert_eq!(q.geometry, GeometrySource::DetectionBox);
        assert_eq!(q.size.band, DistanceBand::Ok);
        assert!(q.light.is_some());
        assert!(q.eyes.unwrap().right.openness.is_none());
    }
}

#[test]
fn hopeless_input_does_not_panic() {
    let img = render(&Scene::default(), &[]);
    let cfg = QualityConfig::default();
    let mut tracker = MotionTracker::new();
    let mut all_nan = observation(&centred(60.0));
    for p in &mut all_nan.landmarks.points {
        *p = [f32::NAN; 3];
    }
    all_nan.detection.bbox = Rect::new(f32::NAN, 0.0, 10.0, 10.0);
    all_nan.pose = HeadPose {
        yaw: f32::NAN,
        pitch: f32::INFINITY,
        roll: f32::NAN,
    };
    let mut outside = observation(&FaceSpec::new(-5000.0, 9000.0, 60.0));
    outside.pose.yaw = f32::NAN;
    let mut huge = observation(&FaceSpec::new(240.0, 320.0, 1.0e7));
    huge.pose.yaw = 89.9;
    let mut degenerate = observation(&centred(60.0));
    for p in &mut degenerate.landmarks.points {
        *p = [100.0, 100.0, 0.0];
    }
    degenerate.detection.bbox = Rect::new(0.0, 0.0, 0.0, 0.0);
    let tiny = RgbImage::new(1, 1);
    for obs in [all_nan, outside, huge, degenerate] {
        for image in [&img, &tiny] {
            let m = measure(
                image,
                std::slice::from_ref(&obs),
                &mut tracker,
                Duration::MAX,
                &cfg,
            );
            if let Some(p) = m.primary {
                assert!(p.light.is_none() || p.light.unwrap().face_luma.is_finite());
            }
        }
    }
    let m = measure(&img, &[], &mut tracker, Duration::ZERO, &cfg);
    assert_eq!((m.face_count, m.significant_face_count), (0, 0));
}

#[test]
fn face_cut_by_the_frame_edge_is_measured_on_its_visible_part() {
    let spec = FaceSpec::new(5.0, 300.0, 60.0);
    let q = measure_one(&Scene::default(), &spec);
    assert!(q.centring.in_frame_fraction < 0.7);
    let l = q.light.unwrap();
    assert!((100.0..220.0).contains(&l.face_luma), "{l:?}");
}
