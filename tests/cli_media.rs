//! Decoding recordings with ffmpeg: a GRID clip of the shared evaluation set (75 frames at
//! 25 fps, 3 s of speech), clips generated here by ffmpeg (late audio, display rotation,
//! audio only), stills, and clear errors for what is not media.

mod common;

use common::{eval_data, media_tools, repo, temp_dir};
use image::RgbImage;
use lifecert_cli::media::{
    audio_16k_mono, frames, probe, still_clip, MediaError, AUDIO_SAMPLE_RATE, MAX_VIDEO_SIDE,
};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs ffmpeg to make a test clip; panics with its error output when it fails.
fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

#[test]
fn a_grid_clip_decodes_to_75_frames_and_3_seconds_of_audio() {
    const TEST: &str = "a_grid_clip_decodes_to_75_frames_and_3_seconds_of_audio";
    let Some(data) = eval_data(TEST) else { return };
    if !media_tools(TEST) {
        return;
    }
    let clip = data.join("video_talking/grid_bbaf2n.mpg");
    let info = probe(&clip).unwrap();
    assert_eq!((info.width, info.height), (360, 288));
    assert!((info.fps - 25.0).abs() < 1e-9, "{}", info.fps);
    assert!(info.has_audio);
    assert_eq!(info.rotation, 0);
    assert!((info.duration_s.unwrap() - 3.0).abs() < 0.05, "{info:?}");

    let mut count = 0;
    let mut first: Option<RgbImage> = None;
    let mut changed = 0;
    for (i, frame) in frames(&clip).unwrap().enumerate() {
        let frame = frame.unwrap();
        assert_eq!(frame.index, i);
        assert_eq!(frame.timestamp, Duration::from_millis(40 * i as u64));
        assert_eq!(frame.image.dimensions(), (360, 288));
        match &first {
            None => first = Some(frame.image),
            Some(f) => changed += usize::from(f != &frame.image),
        }
        count += 1;
    }
    assert_eq!(count, 75);
    assert!(
        changed > 60,
        "the speaker moves: {changed} frames differ from the first"
    );

    let audio = audio_16k_mono(&clip).unwrap();
    let expected = 3 * AUDIO_SAMPLE_RATE as usize;
    let off = (audio.len() as f64 - expected as f64).abs() / expected as f64;
    assert!(
        off <= 0.01,
        "{} samples, expected {expected} ± 1 %",
        audio.len()
    );
    assert!(
        rms(&audio) > 100.0,
        "speech is audible: rms {}",
        rms(&audio)
    );
}

#[test]
fn what_is_not_media_gets_a_clear_error() {
    if !media_tools("what_is_not_media_gets_a_clear_error") {
        return;
    }
    let dir = temp_dir();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a video\n").unwrap();
    for path in [text.as_path(), &repo().join("Cargo.toml")] {
        let err = probe(path).unwrap_err();
        assert!(
            matches!(err, MediaError::NotMedia { .. }),
            "{path:?}: {err:?}"
        );
        assert!(
            err.to_string().contains("not a video or audio file"),
            "{err}"
        );
        assert!(matches!(frames(path), Err(MediaError::NotMedia { .. })));
        assert!(matches!(
            audio_16k_mono(path),
            Err(MediaError::NotMedia { .. })
        ));
    }
    let missing = Path::new("/nonexistent/clip.mp4");
    assert!(matches!(probe(missing), Err(MediaError::Unreadable { .. })));
    assert!(matches!(
        probe(dir.path()),
        Err(MediaError::Unreadable { .. })
    ));
}

#[test]
fn a_still_picture_is_a_one_frame_video_and_can_become_a_clip() {
    if !media_tools("a_still_picture_is_a_one_frame_video_and_can_become_a_clip") {
        return;
    }
    let path = repo().join("samples/astronaut.png");
    let info = probe(&path).unwrap();
    assert_eq!((info.width, info.height), (512, 512));
    assert!(!info.has_audio);
    let decoded: Vec<_> = frames(&path).unwrap().map(Result::unwrap).collect();
    assert_eq!(decoded.len(), 1);
    let image = lifecert_core::image::decode::load_image(&path).unwrap();
    assert_eq!(decoded[0].image, image);
    assert!(matches!(
        audio_16k_mono(&path),
        Err(MediaError::NoAudio { .. })
    ));

    let clip: Vec<_> = still_clip(&image, 3.0, 25.0).unwrap().collect();
    assert_eq!(clip.len(), 75);
    assert_eq!(clip[74].timestamp, Duration::from_millis(2960));
    assert!(clip.iter().all(|f| f.image == image));
}

#[test]
fn absurd_resolutions_are_refused() {
    if !media_tools("absurd_resolutions_are_refused") {
        return;
    }
    let dir = temp_dir();
    let wide = dir.path().join("wide.png");
    RgbImage::new(MAX_VIDEO_SIDE + 1, 8).save(&wide).unwrap();
    let err = probe(&wide).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::TooLarge {
                width: 4097,
                height: 8,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn audio_is_put_on_the_video_time_line() {
    if !media_tools("audio_is_put_on_the_video_time_line") {
        return;
    }
    let dir = temp_dir();
    // Video from 0 s, a 440 Hz tone starting 0.7 s later (MPEG-TS keeps the offset).
    let late = dir.path().join("late_audio.ts");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10:duration=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100:duration=2",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-af",
        "asetpts=PTS+0.7/TB",
        "-c:v",
        "mpeg2video",
        "-c:a",
        "mp2",
        late.to_str().unwrap(),
    ]);
    let audio = audio_16k_mono(&late).unwrap();
    let lead = 16_000 * 7 / 10;
    assert!(rms(&audio[..lead - 800]) < 1.0, "silence before the tone");
    assert!(
        rms(&audio[lead + 1600..lead + 8000]) > 1000.0,
        "the tone after 0.7 s"
    );
    let n = frames(&late).unwrap().count();
    assert!((29..=31).contains(&n), "{n} frames");

    // Audio only: no video stream, but the audio decodes.
    let wav = dir.path().join("tone.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:sample_rate=48000:duration=1",
        "-ac",
        "2",
        wav.to_str().unwrap(),
    ]);
    assert!(matches!(probe(&wav), Err(MediaError::NoVideo { .. })));
    assert!(matches!(frames(&wav), Err(MediaError::NoVideo { .. })));
    let audio = audio_16k_mono(&wav).unwrap();
    assert!((15_900..=16_100).contains(&audio.len()), "{}", audio.len());
}

#[test]
fn display_rotation_is_applied_and_reported() {
    if !media_tools("display_rotation_is_applied_and_reported") {
        return;
    }
    let dir = temp_dir();
    let plain = dir.path().join("plain.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10:duration=1",
        "-c:v",
        "mpeg4",
        "-q:v",
        "2",
        plain.to_str().unwrap(),
    ]);
    let rotated = dir.path().join("rotated.mp4");
    // A quarter turn of display rotation: ffmpeg ≥ 6 writes it with -display_rotation,
    // older versions from the rotate tag (whose direction varies between versions, so the
    // test checks that the reported direction is the one applied, whichever it is).
    let modern = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-display_rotation:v:0",
            "-90",
            "-i",
        ])
        .arg(&plain)
        .args(["-c", "copy"])
        .arg(&rotated)
        .status()
        .is_ok_and(|s| s.success());
    if !modern {
        ffmpeg(&[
            "-i",
            plain.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            rotated.to_str().unwrap(),
        ]);
    }
    let info = probe(&rotated).unwrap();
    assert_eq!((info.width, info.height), (48, 64), "{info:?}");
    assert!(matches!(info.rotation, 90 | 270), "{info:?}");
    if modern {
        // -display_rotation counts counter-clockwise: -90 is a quarter turn clockwise.
        assert_eq!(info.rotation, 90);
    }
    let upright = frames(&plain).unwrap().next().unwrap().unwrap().image;
    let turned = frames(&rotated).unwrap().next().unwrap().unwrap().image;
    assert_eq!(turned.dimensions(), (48, 64));
    let diff = |a: &RgbImage, b: &RgbImage| {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.as_raw().len() as f64
    };
    // The frames are turned the way `rotation` says (clockwise), not the other way.
    let (reported, other) = if info.rotation == 90 {
        (
            image::imageops::rotate90(&upright),
            image::imageops::rotate270(&upright),
        )
    } else {
        (
            image::imageops::rotate270(&upright),
            image::imageops::rotate90(&upright),
        )
    };
    let (d_reported, d_other) = (diff(&turned, &reported), diff(&turned, &other));
    assert!(
        d_reported < 8.0 && d_reported * 4.0 < d_other,
        "as reported {d_reported}, the other way {d_other}"
    );
}
