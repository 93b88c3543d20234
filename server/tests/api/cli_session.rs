//! A session certified by the `lifecert` command line against a nonce this service issued:
//! enroll GRID speaker B from one clip, certify with another clip of the same speaker (the
//! recording replayed against the digit it contains, as `tests/cli_certify.rs` does), and
//! submit the signed result.
//!
//! Such a result says so (challenge supplied, recording-replay configuration, digits only
//! counted), and the service refuses it by default — checked first, with nothing written —
//! and accepts it only under the test-only allowance (a second service on the same
//! database): accepted once, then the same result is a retry (200, the same record, no
//! second SMS) and a second session for the year is refused.

use crate::support::{self, Options};
use lifecert_core::crypto::sealing::SigningKeyPair;
use lifecert_core::identity::person::{Date, IdNumber, SubjectKey, SubjectReference};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const NAME: &str = "张三";
const ID: &str = "11010519491231002X";

/// The shared evaluation data, or `None` after saying loudly that the test is skipped
/// (never in CI).
fn eval_data(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LIFECERT_EVAL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::repo().join("../shared/data"));
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if dir.is_dir() && lifecert_cli::media::tools_available().is_ok() {
        return Some(dir);
    }
    assert!(
        !ci,
        "{test}: the evaluation data and ffmpeg are required in CI"
    );
    eprintln!(
        "\n!!!!! SKIPPED {test}: evaluation data ({}) or ffmpeg not available !!!!!\n",
        dir.display()
    );
    None
}

/// The `lifecert` binary of this build profile. `cargo test --workspace` builds it (the
/// CLI's own tests need it) with the same features as everything else; when it is missing
/// or older than its sources (`cargo test -p lifecert-authority` alone), it is built with
/// `cargo build -p lifecert-cli --bin lifecert`.
fn lifecert_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = lifecert_test_support::target_binary("lifecert");
        let Some(why) = lifecert_test_support::binary_out_of_date(&bin) else {
            return bin;
        };
        eprintln!("building the lifecert binary ({why})");
        let profile_dir = bin.parent().unwrap();
        let repo = support::repo();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(&repo)
            .args(["build", "-p", "lifecert-cli", "--bin", "lifecert"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the lifecert binary failed");
        assert!(bin.is_file(), "{} missing", bin.display());
        bin
    })
}

fn run(args: &mut Command) -> (i32, String) {
    let out = args.output().expect("lifecert runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!(
        "$ {args:?}\n--- exit {:?}\n{stdout}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_certified_by_the_cli_is_accepted_once_and_refused_the_second_time() {
    let test = "a_session_certified_by_the_cli_is_accepted_once_and_refused_the_second_time";
    let Some(data) = eval_data(test) else { return };
    let bin = tokio::task::spawn_blocking(lifecert_binary).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys.json");
    let template = tmp.path().join("template.sealed");
    // Enrollment (the CLI issues the template with its local authority key).
    let enroll = data.join("video_talking/grid_pwij3p.mpg");
    let mut cmd = Command::new(bin);
    cmd.args(["enroll", "--name", NAME, "--id", ID, "--keys"])
        .arg(&keys)
        .arg("--out")
        .arg(&template)
        .arg("--video")
        .arg(&enroll);
    let (code, _) = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert_eq!(code, 0, "enrollment");
    // What the phone registers: its device key, and the subject reference derived from
    // the ID number with the integrator's subject key.
    let key_file: Value = serde_json::from_str(&std::fs::read_to_string(&keys).unwrap()).unwrap();
    let device_key = key_file["device_public_key"].as_str().unwrap().to_owned();
    let subject_key =
        SubjectKey::new(&hex::decode(key_file["subject_key"].as_str().unwrap()).unwrap()).unwrap();
    let id = IdNumber::parse(ID, Date::new(2026, 1, 1).unwrap()).unwrap();
    let subject = SubjectReference::derive(&subject_key, &id);
    let device = SigningKeyPair::from_pkcs8(
        &hex::decode(key_file["device_pkcs8"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(device.public_key().to_hex(), device_key);

    let strict = support::start(Options::default()).await;
    let lenient = support::start(Options {
        accept_replays: true,
        database_url: Some(strict.database_url.clone()),
        keys_dir: Some(strict.keys_dir.clone()),
        ..Options::default()
    })
    .await;
    let reg = strict
        .post(
            "/v1/devices",
            &json!({
                "subject_ref": subject.to_hex(),
                "device_key": device_key,
                "contact": {"mobile": "+86 139 0000 1234", "name": NAME, "category": "non_provincial"},
            }),
        )
        .await;
    assert_eq!(reg.status, StatusCode::CREATED);
    let (nonce, year) = strict.issued_nonce(&subject, &device).await;

    // The session: GRID speaker B says "two" (speech starts ≈0.49 s).
    let result = tmp.path().join("result.json");
    let clip = data.join("video_talking/grid_id2_vcd_swwp2s.mpg");
    let mut cmd = Command::new(bin);
    cmd.args([
        "certify", "--name", NAME, "--id", ID, "--lang", "en", "--keys",
    ])
    .arg(&keys)
    .arg("--template")
    .arg(&template)
    .arg("--video")
    .arg(&clip)
    .args(["--challenge", "2", "--prompt-end", "0.35"])
    .args(["--year", &year.to_string(), "--nonce", &nonce.to_hex()])
    .arg("--out")
    .arg(&result);
    let (code, stdout) = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert_eq!(code, 0, "the CLI certified the session");
    assert!(stdout.contains("\"outcome\":\"certified\""), "{stdout}");
    let attestation = std::fs::read_to_string(&result).unwrap();

    // The default service refuses a result whose digits were supplied, and writes nothing.
    let before = strict.counts().await;
    let refused = strict.certify(&device, &nonce, &attestation).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "challenge_supplied")
    );
    assert_eq!(strict.counts().await, before);

    // Under the test-only allowance: accepted once.
    let first = lenient.certify(&device, &nonce, &attestation).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(first.body["subject_ref"], subject.to_hex());
    assert_eq!(first.body["certification_year"], year);
    assert_eq!(first.body["performed_by"], "self");
    assert_eq!(first.body["sms_queued"], true);
    // The same result again: the recorded certification, nothing new.
    let retry = lenient.certify(&device, &nonce, &attestation).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(
        retry.body["certification_id"],
        first.body["certification_id"]
    );
    // A second session for the year is refused: no nonce, and a second result under the
    // spent nonce (the device signing another result) is refused too.
    let more = lenient.nonce(&subject, &device).await;
    assert_eq!(
        (more.status, more.code()),
        (StatusCode::CONFLICT, "already_certified")
    );
    let mut tampered: Value = serde_json::from_str(&attestation).unwrap();
    let mut payload: lifecert_core::api::attestation::Attestation =
        serde_json::from_str(tampered["payload"].as_str().unwrap()).unwrap();
    payload.time += 30;
    let second = lifecert_core::api::attestation::sign_attestation(&payload, &device).unwrap();
    let r = lenient.certify(&device, &nonce, &second).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "nonce_used"));
    // And a doctored copy of the accepted result is not a retry.
    tampered["signature"] = json!("00".repeat(64));
    let r = lenient
        .certify(&device, &nonce, &tampered.to_string())
        .await;
    assert!(
        r.status == StatusCode::CONFLICT || r.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{r:?}"
    );
    let (certs, sms, body): (i64, i64, String) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM certifications), (SELECT count(*) FROM sms_outbox), \
                (SELECT body FROM sms_outbox LIMIT 1)",
    )
    .fetch_one(&strict.pool)
    .await
    .unwrap();
    assert_eq!((certs, sms), (1, 1));
    assert!(
        body.contains(&year.to_string()) && body.contains("张*"),
        "{body}"
    );
    // The non-provincial wording (the result is recorded where the pension is paid).
    let zh = lifecert_core::text::messages::Messages::builtin();
    let expected = lifecert_core::text::result_texts::success_sms(
        &zh,
        lifecert_core::text::messages::Language::ZhHans,
        lifecert_core::text::result_texts::RetireeCategory::NonProvincial,
        year,
        Some(&lifecert_core::identity::person::PersonName::parse(NAME).unwrap()),
    );
    assert_eq!(body, expected);
}
