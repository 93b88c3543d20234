//! Writing a session report: a self-contained HTML page and a PNG picture, filled from a
//! real analysis of the bundled photo.

mod common;

use common::{repo, temp_dir};
use lifecert_cli::report::{Report, ReportFrame, Verdict, THUMBNAIL_SIDE};
use lifecert_core::text::messages::Language;
use lifecert_core::{Analyzer, Config};

fn report() -> Report {
    let image =
        lifecert_core::image::decode::load_image(&repo().join("samples/astronaut.png")).unwrap();
    let analyzer = Analyzer::new(Config::default()).unwrap();
    let faces = analyzer.analyze_image(&image).unwrap();
    let face = &faces[0];
    let mesh: Vec<(f32, f32)> = face.landmarks.points.iter().map(|p| (p[0], p[1])).collect();
    let frames = (0..4)
        .map(|i| {
            ReportFrame::from_image(
                &image,
                THUMBNAIL_SIDE,
                i as f32 * 0.8,
                Some(face.detection.bbox),
                &mesh,
                "请读出数字 3 7 1",
            )
        })
        .collect();
    Report {
        title: "认证 2025 <张**>".into(),
        language: Language::ZhHans,
        verdict: Verdict {
            passed: true,
            reason: "passed".into(),
            message: "认证成功".into(),
        },
        evidence: vec![
            ("av_sync".into(), "0.62".into()),
            ("face_distance".into(), "0.38 <= 0.55".into()),
        ],
        frames,
        instructions: vec![(0.0, "请正对屏幕".into()), (0.8, "请读出数字 3 7 1".into())],
        mouth_aperture: (0..75)
            .map(|i| (i as f32 * 0.04, ((i as f32 * 0.25).sin() + 1.0) * 0.1))
            .collect(),
        speech_envelope: (0..300)
            .map(|i| {
                (
                    i as f32 * 0.01,
                    ((i as f32 * 0.0625 - 0.8).sin() + 1.0) * 900.0,
                )
            })
            .collect(),
        digit_windows: vec![
            (1.2, 1.5, "3".into()),
            (1.7, 2.0, "7".into()),
            (2.2, 2.5, "1".into()),
        ],
        prompt_window: Some((0.3, 1.0)),
    }
}

#[test]
fn html_and_png_reports_are_written() {
    let dir = temp_dir();
    let r = report();
    let html_path = dir.path().join("report.html");
    r.write_html(&html_path).unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("lang=\"zh-Hans\""));
    assert!(html.contains("通过"), "the verdict");
    assert!(html.contains("认证成功"));
    assert!(html.contains("<code>passed</code>"));
    assert!(html.contains("<svg"));
    assert!(html.contains("认证 2025 &lt;张**&gt;"), "escaped title");
    assert_eq!(html.matches("data:image/png;base64,").count(), 4);
    assert!(html.contains("0.38 &lt;= 0.55"));
    assert!(!html.contains("src=\"http"), "self-contained");

    let png_path = dir.path().join("report.png");
    r.write_png(&png_path).unwrap();
    let png = image::open(&png_path).unwrap().to_rgb8();
    assert_eq!(png.width(), 1200);
    assert!(png.height() > 300);
    // The verdict band at the bottom is green for a pass.
    let p = png.get_pixel(2, png.height() - 2).0;
    assert!(p[1] > p[0] && p[1] > p[2], "{p:?}");

    let mut failed = r.clone();
    failed.verdict.passed = false;
    failed.verdict.reason = "face_mismatch".into();
    let p = failed.render_png();
    let px = p.get_pixel(2, p.height() - 2).0;
    assert!(px[0] > px[1], "{px:?}");
    assert!(failed.to_html().unwrap().contains("未通过"));

    // To look at them: LIFECERT_REPORT_OUT=DIR keeps a copy.
    if let Some(out) = std::env::var_os("LIFECERT_REPORT_OUT") {
        let out = std::path::PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&html_path, out.join("report.html")).unwrap();
        std::fs::copy(&png_path, out.join("report.png")).unwrap();
        eprintln!("report kept in {}", out.display());
    }
}

#[test]
fn unwritable_paths_are_typed_errors() {
    let r = report();
    let missing = std::path::Path::new("/nonexistent/dir/report.html");
    assert!(matches!(
        r.write_html(missing),
        Err(lifecert_cli::report::ReportError::Write { .. })
    ));
    assert!(matches!(
        r.write_png(missing),
        Err(lifecert_cli::report::ReportError::Write { .. })
    ));
}
