//! End to end: what a hostile-input probe of the command line found (issue 12, item 7), each
//! answered with exit 2 (bad input) or a typed error — never a panic (exit 101), a hang, a
//! lost result or keys made up on the spot. The core's share is in
//! `core/tests/hostile_inputs.rs`.

mod common;

use common::{lifecert, media_tools, repo, temp_dir};
use lifecert_cli::media::{probe, MediaError};
use lifecert_test_support::png_chunk as chunk;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const NAME: &str = "张三";
const ID: &str = "11010519491231002X";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `cmd`, killing it after `limit` (a hang is a failure, not a stuck test run).
fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lifecert runs");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("{cmd:?} still running after {limit:?}: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(cmd: &mut Command) -> Output {
    run_within(cmd, Duration::from_secs(300))
}

/// Enrolls the sample portrait (no evaluation data needed); returns (keys, template).
fn enrolled(dir: &Path) -> (PathBuf, PathBuf) {
    let keys = dir.join("keys.json");
    let template = dir.join("template.sealed");
    let out = run(lifecert()
        .args(["enroll", "--name", NAME, "--id", ID, "--keys"])
        .arg(&keys)
        .arg("--out")
        .arg(&template)
        .arg("--photos")
        .arg(repo().join("samples/astronaut.png")));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (keys, template)
}

fn certify(keys: &Path, template: &Path) -> Command {
    let mut c = lifecert();
    c.args([
        "certify", "--name", NAME, "--id", ID, "--lang", "en", "--keys",
    ])
    .arg(keys)
    .arg("--template")
    .arg(template);
    c
}

#[test]
fn an_absurd_prompt_end_is_bad_input_not_a_panic() {
    let dir = temp_dir();
    for end in ["1e20", "inf", "-1", "NaN", "601"] {
        let out = run(
            certify(&dir.path().join("keys.json"), &dir.path().join("t.sealed"))
                .args(["--still"])
                .arg(repo().join("samples/astronaut.png"))
                .args(["--challenge", "2"])
                .arg(format!("--prompt-end={end}")),
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "--prompt-end {end}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("--prompt-end"), "{}", stderr(&out));
    }
}

#[test]
fn certify_never_creates_keys_for_a_mistyped_path() {
    let dir = temp_dir();
    let (_, template) = enrolled(dir.path());
    let typo = dir.path().join("kyes.json");
    let out = run(certify(&typo, &template)
        .arg("--still")
        .arg(repo().join("samples/astronaut.png")));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no key file"), "{}", stderr(&out));
    assert!(!typo.exists(), "certify created a key file");
}

#[test]
fn special_files_are_refused_as_images_instead_of_read_forever() {
    let dir = temp_dir();
    let fifo = dir.path().join("photo.png");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let mut inputs = vec![PathBuf::from("/dev/zero")];
    if made.is_ok_and(|s| s.success()) {
        inputs.push(fifo);
    }
    for input in &inputs {
        let out = run_within(
            lifecert().arg("analyze").arg(input),
            Duration::from_secs(60),
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            input.display(),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    // The same for an ID photo and a template.
    let out = run_within(
        lifecert()
            .args(["enroll", "--name", NAME, "--id", ID, "--keys"])
            .arg(dir.path().join("keys.json"))
            .arg("--out")
            .arg(dir.path().join("t.sealed"))
            .args(["--id-front", "/dev/zero", "--photos"])
            .arg(repo().join("samples/astronaut.png")),
        Duration::from_secs(120),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A PNG that claims 8192×8192 16-bit RGBA pixels (512 MiB decoded) in a few hundred bytes.
fn huge_png(path: &Path) {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 8192u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&8192u32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    std::fs::File::create(path)
        .unwrap()
        .write_all(&png)
        .unwrap();
}

#[test]
fn a_small_file_claiming_a_huge_picture_is_refused_before_decoding() {
    let dir = temp_dir();
    let png = dir.path().join("huge.png");
    huge_png(&png);
    let out = run(lifecert().arg("analyze").arg(&png));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("too large"), "{}", stderr(&out));
    let out = run(lifecert()
        .args(["enroll", "--name", NAME, "--id", ID, "--keys"])
        .arg(dir.path().join("keys.json"))
        .arg("--out")
        .arg(dir.path().join("t.sealed"))
        .arg("--id-front")
        .arg(&png)
        .arg("--photos")
        .arg(repo().join("samples/astronaut.png")));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("too large"), "{}", stderr(&out));
}

#[test]
fn an_unwritable_report_never_costs_the_enrollment() {
    let dir = temp_dir();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let template = dir.path().join("template.sealed");
    let out = run(lifecert()
        .args(["enroll", "--name", NAME, "--id", ID, "--keys"])
        .arg(dir.path().join("keys.json"))
        .arg("--out")
        .arg(&template)
        .arg("--report")
        .arg(blocker.join("report.html"))
        .arg("--photos")
        .arg(repo().join("samples/astronaut.png")));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("report was not written"),
        "{}",
        stderr(&out)
    );
    assert!(template.is_file(), "the template must be written first");
}

/// A one-second Matroska clip whose container states a negative duration (-5 s).
fn negative_duration_mkv(path: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=64x48:rate=5:duration=1")
        .args(["-c:v", "mjpeg"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
    let mut bytes = std::fs::read(path).unwrap();
    // The Segment Info's Duration element: ID 44 89, size 88 (an 8-byte float).
    let at = bytes
        .windows(3)
        .position(|w| w == [0x44, 0x89, 0x88])
        .expect("a Duration element");
    bytes[at + 3..at + 11].copy_from_slice(&(-5000.0f64).to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_negative_container_duration_is_unknown_not_a_panic() {
    if !media_tools("a_negative_container_duration_is_unknown_not_a_panic") {
        return;
    }
    let dir = temp_dir();
    let mkv = dir.path().join("negative.mkv");
    negative_duration_mkv(&mkv);
    let info = probe(&mkv).unwrap();
    assert_eq!(info.duration_s, None);
    assert_eq!((info.width, info.height), (64, 48));
    let (keys, template) = enrolled(dir.path());
    let out = run(certify(&keys, &template).arg("--video").arg(&mkv));
    // No face and no voice: not certified (1), but it ran.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn a_playlist_is_not_followed_even_under_a_video_name() {
    if !media_tools("a_playlist_is_not_followed_even_under_a_video_name") {
        return;
    }
    let dir = temp_dir();
    // A real clip next to a playlist naming it (HLS), saved as .mp4 and as .m3u8.
    let clip = dir.path().join("secret.ts");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=64x48:rate=5:duration=1")
        .arg(&clip)
        .status()
        .unwrap();
    assert!(status.success());
    let playlist = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{}\n#EXT-X-ENDLIST\n",
        clip.display()
    );
    for name in ["playlist.m3u8", "renamed.mp4"] {
        let path = dir.path().join(name);
        std::fs::write(&path, &playlist).unwrap();
        match probe(&path) {
            Err(MediaError::NotMedia { .. }) => {}
            other => panic!("{name}: {other:?}"),
        }
        let out = run(lifecert()
            .args(["enroll", "--name", NAME, "--id", ID, "--keys"])
            .arg(dir.path().join("keys.json"))
            .arg("--out")
            .arg(dir.path().join("t.sealed"))
            .arg("--video")
            .arg(&path));
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
    }
    // The clip itself (MPEG-TS) is a recording and is read.
    assert_eq!(probe(&clip).unwrap().width, 64);
}

#[test]
fn an_id_photo_that_is_not_jpg_or_png_is_refused_with_what_to_do() {
    let dir = temp_dir();
    let gif = dir.path().join("card.gif");
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(&[1, 0, 1, 0, 0x80, 0, 0]);
    bytes.extend_from_slice(&[0; 64]);
    std::fs::write(&gif, bytes).unwrap();
    for (lang, told) in [
        ("en", "Please use a JPG or PNG photo of the ID card"),
        ("zh-Hans", "身份证照片请用JPG或PNG格式"),
    ] {
        let out = run(lifecert()
            .args([
                "enroll", "--name", NAME, "--id", ID, "--lang", lang, "--keys",
            ])
            .arg(dir.path().join("keys.json"))
            .arg("--out")
            .arg(dir.path().join("t.sealed"))
            .arg("--id-front")
            .arg(&gif)
            .arg("--photos")
            .arg(repo().join("samples/astronaut.png")));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(told), "{lang}: {}", stderr(&out));
        assert!(!dir.path().join("t.sealed").exists(), "nothing enrolled");
    }
}
