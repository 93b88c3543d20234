//! End to end: `lifecert enroll` and `lifecert certify` on real recordings, then `lifecert
//! verify` as the authority's backend. Genuine: enroll GRID speaker B from one clip, certify
//! with another clip of the same speaker replayed against the digit it contains. Attacks: the
//! same clip without a known challenge (a recording cannot answer a drawn one), a still photo
//! turned into a clip with real audio, another speaker's clip. And the README's demo, which
//! needs nothing but the repository.

mod common;

use common::{eval_data, lifecert, media_tools, repo, run, summary, temp_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NAME: &str = "张三";
const ID: &str = "11010519491231002X";

fn enroll(keys: &Path, out: &Path, input: &[&str]) -> Output {
    run(lifecert()
        .args(["enroll", "--name", NAME, "--id", ID, "--keys"])
        .arg(keys)
        .arg("--out")
        .arg(out)
        .args(input))
}

fn certify(keys: &Path, template: &Path, args: &[&str]) -> Command {
    let mut c = lifecert();
    c.args([
        "certify", "--name", NAME, "--id", ID, "--lang", "en", "--keys",
    ])
    .arg(keys)
    .arg("--template")
    .arg(template)
    .args(args);
    c
}

fn device_key(keys: &Path) -> String {
    let k: Value = serde_json::from_str(&std::fs::read_to_string(keys).unwrap()).unwrap();
    k["device_public_key"].as_str().unwrap().to_owned()
}

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
    keys: PathBuf,
    template: PathBuf,
}

fn setup(test: &str) -> Option<Setup> {
    let data = eval_data(test)?;
    if !media_tools(test) {
        return None;
    }
    let tmp = temp_dir();
    let dir = tmp.path().to_path_buf();
    let keys = dir.join("keys.json");
    let template = dir.join("template.sealed");
    let clip = data.join("video_talking/grid_pwij3p.mpg");
    let out = enroll(&keys, &template, &["--video", clip.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "enrollment from speaker B's clip"
    );
    assert_eq!(summary(&out)["outcome"], "enrolled");
    assert!(String::from_utf8_lossy(&out.stderr).contains("created a new key file"));
    Some(Setup {
        _dir: tmp,
        dir,
        data,
        keys,
        template,
    })
}

#[test]
fn a_genuine_replay_is_certified_and_the_backend_verifies_it() {
    let Some(s) = setup("a_genuine_replay_is_certified_and_the_backend_verifies_it") else {
        return;
    };
    let clip = s.data.join("video_talking/grid_id2_vcd_swwp2s.mpg");
    let result = s.dir.join("result.json");
    let report = s.dir.join("report.html");
    let out = run(
        certify(&s.keys, &s.template, &["--video", clip.to_str().unwrap()])
            .args([
                "--challenge",
                "2",
                "--prompt-end",
                "0.35",
                "--proxy",
                "child",
            ])
            .args(["--nonce", "000102030405060708090a0b0c0d0e0f"])
            .arg("--out")
            .arg(&result)
            .arg("--report")
            .arg(&report),
    );
    assert_eq!(out.status.code(), Some(0), "certified");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Please read these numbers aloud: 2"),
        "{stdout}"
    );
    assert!(stdout.contains("shows digits: 2"));
    assert_eq!(summary(&out)["outcome"], "certified");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg") && html.contains("certified"));
    // The backend refuses a replay (supplied challenge, replay configuration, digits only
    // counted) unless told to accept each.
    let key = device_key(&s.keys);
    let verify = |extra: &[&str]| {
        run(lifecert()
            .arg("verify")
            .arg(&result)
            .args(["--key", &key, "--nonce", "000102030405060708090a0b0c0d0e0f"])
            .args(extra))
    };
    assert_eq!(verify(&[]).status.code(), Some(4));
    assert_eq!(
        verify(&["--accept-supplied-challenge", "--accept-recording-replay"])
            .status
            .code(),
        Some(4),
        "count_only digits are refused by default"
    );
    let ok = verify(&[
        "--accept-supplied-challenge",
        "--accept-recording-replay",
        "--accept-count-only",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["attestation"]["challenge_origin"], "supplied");
    assert_eq!(v["attestation"]["profile"], "recording_replay");
    assert_eq!(v["attestation"]["liveness"]["digit_check"], "count_only");
    assert_eq!(v["attestation"]["liveness"]["digits_matched"], 0);
    assert_eq!(
        v["attestation"]["performed_by"]["proxy"]["relation"],
        "child"
    );
    // Another server nonce: refused.
    let other = run(lifecert()
        .arg("verify")
        .arg(&result)
        .args(["--key", &key, "--nonce", "ff0102030405060708090a0b0c0d0e0f"])
        .args([
            "--accept-supplied-challenge",
            "--accept-recording-replay",
            "--accept-count-only",
        ]));
    assert_eq!(other.status.code(), Some(4));

    // A report that cannot be written (its folder is a file) never costs the result: the
    // attestation is written first, the report failure is a warning with exit 5.
    let kept = s.dir.join("kept.json");
    let out = run(
        certify(&s.keys, &s.template, &["--video", clip.to_str().unwrap()])
            .args(["--challenge", "2", "--prompt-end", "0.35"])
            .args(["--nonce", "000102030405060708090a0b0c0d0e0e"])
            .arg("--out")
            .arg(&kept)
            .arg("--report")
            .arg(result.join("report.html")),
    );
    assert_eq!(out.status.code(), Some(5), "certified, report not written");
    assert!(String::from_utf8_lossy(&out.stderr).contains("report was not written"));
    assert_eq!(summary(&out)["outcome"], "certified");
    let verified = run(lifecert()
        .arg("verify")
        .arg(&kept)
        .args(["--key", &key, "--nonce", "000102030405060708090a0b0c0d0e0e"])
        .args([
            "--accept-supplied-challenge",
            "--accept-recording-replay",
            "--accept-count-only",
        ]));
    assert_eq!(
        verified.status.code(),
        Some(0),
        "the kept attestation verifies"
    );
}

#[test]
fn recordings_and_photos_are_refused() {
    let Some(s) = setup("recordings_and_photos_are_refused") else {
        return;
    };
    let clip = s.data.join("video_talking/grid_id2_vcd_swwp2s.mpg");
    // 1. The genuine recording against a challenge drawn now: it speaks before the prompt
    //    could have ended.
    let out = run(certify(
        &s.keys,
        &s.template,
        &["--video", clip.to_str().unwrap()],
    ));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a recording answered a drawn challenge"
    );
    assert_eq!(summary(&out)["reason"], "liveness:spoke_too_early");
    // 2. A still photo of the same person with the real voice.
    let still = s.dir.join("still.png");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&clip)
        .args(["-frames:v", "1"])
        .arg(&still)
        .status()
        .unwrap();
    assert!(status.success());
    let report = s.dir.join("still.png.report.png");
    let out = run(
        certify(&s.keys, &s.template, &["--still", still.to_str().unwrap()])
            .args(["--seconds", "3", "--audio", clip.to_str().unwrap()])
            .args(["--challenge", "2", "--prompt-end", "0.35", "--report"])
            .arg(&report),
    );
    assert_eq!(out.status.code(), Some(1), "a still photo was certified");
    assert_eq!(
        summary(&out)["reason"],
        "liveness:lips_not_moving_with_voice"
    );
    assert!(image::open(&report).is_ok(), "the PNG report decodes");
    // 3. Another speaker saying the same digit.
    let other = s.data.join("video_talking/grid_lbbc2a.mpg");
    let out = run(
        certify(&s.keys, &s.template, &["--video", other.to_str().unwrap()]).args([
            "--challenge",
            "2",
            "--prompt-end",
            "0.35",
        ]),
    );
    assert_eq!(out.status.code(), Some(1), "another person was certified");
    let reason = summary(&out)["reason"].as_str().unwrap().to_owned();
    assert!(
        reason == "face_not_confirmed" || reason.starts_with("liveness:"),
        "{reason}"
    );
    // 4. Bad input: a missing file and a text file are exit 2, not a verdict.
    let missing = run(certify(
        &s.keys,
        &s.template,
        &["--video", "/no/such/clip.mp4"],
    ));
    assert_eq!(missing.status.code(), Some(2));
    let text = s.dir.join("notes.mp4");
    std::fs::write(&text, "not a video").unwrap();
    let bad = run(certify(
        &s.keys,
        &s.template,
        &["--video", text.to_str().unwrap()],
    ));
    assert_eq!(bad.status.code(), Some(2));
    // 5. The template opens only for its person: another ID number is bad input.
    let out = run(lifecert()
        .args([
            "certify",
            "--name",
            NAME,
            "--id",
            "110105194912310038",
            "--keys",
        ])
        .arg(&s.keys)
        .arg("--template")
        .arg(&s.template)
        .args(["--video", clip.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
}

/// The README's demo: only what the repository carries, plus ffmpeg and espeak-ng.
#[test]
fn the_readme_demo_enrolls_the_sample_photo_and_refuses_it_as_a_live_person() {
    let test = "the_readme_demo_enrolls_the_sample_photo_and_refuses_it_as_a_live_person";
    if !media_tools(test) {
        return;
    }
    let tmp = temp_dir();
    let keys = tmp.path().join("keys.json");
    let template = tmp.path().join("astronaut.sealed");
    let photo = repo().join("samples/astronaut.png");
    let out = enroll(&keys, &template, &["--photos", photo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out)["frames"], 5);
    // Without a voice: nothing was heard.
    let out = run(
        certify(&keys, &template, &["--still", photo.to_str().unwrap()]).args(["--seconds", "4"]),
    );
    assert_eq!(out.status.code(), Some(1), "a photo was certified");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Please read these numbers aloud"),
        "{stdout}"
    );
    assert_eq!(summary(&out)["reason"], "liveness:no_speech");
    // With a voice reading the digits after the prompt: the lips of the photo do not move.
    if !lifecert_test_support::require_tool(&format!("the voice part of {test}"), "espeak-ng") {
        return;
    }
    let raw = tmp.path().join("digits.wav");
    let voice = tmp.path().join("voice.wav");
    assert!(Command::new("espeak-ng")
        .args(["-v", "cmn", "-s", "130", "-w"])
        .arg(&raw)
        .arg("二，五，八")
        .status()
        .unwrap()
        .success());
    assert!(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&raw)
        .args(["-af", "adelay=1500"])
        .arg(&voice)
        .status()
        .unwrap()
        .success());
    let report = tmp.path().join("report.png");
    let out = run(
        certify(&keys, &template, &["--still", photo.to_str().unwrap()])
            .arg("--audio")
            .arg(&voice)
            .args(["--challenge", "258", "--prompt-end", "1.0", "--report"])
            .arg(&report),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a photo with a voice was certified"
    );
    assert_eq!(
        summary(&out)["reason"],
        "liveness:lips_not_moving_with_voice"
    );
    assert!(image::open(&report).is_ok());
}
