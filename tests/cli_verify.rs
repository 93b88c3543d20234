//! End to end: `lifecert verify` on attestations signed here with the core's
//! `sign_attestation` and a device key from a real key file — valid, tampered, wrong key,
//! wrong nonce, supplied challenge, bad arguments.

mod common;

use common::{lifecert, temp_dir};
use lifecert_cli::keys::Keys;
use lifecert_core::api::attestation::{sign_attestation, Attestation, ChallengeOrigin};
use lifecert_core::crypto::sealing::SigningKeyPair;
use lifecert_core::liveness::challenge::{DigitChallenge, DigitChallengeConfig, Nonce};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn attestation(server_nonce: Nonce, supplied: bool) -> Attestation {
    Attestation {
        certification_year: 2025,
        time: 1_750_000_000,
        server_nonce,
        challenge: DigitChallenge::generate(&DigitChallengeConfig::default()).unwrap(),
        challenge_origin: if supplied {
            ChallengeOrigin::Supplied
        } else {
            ChallengeOrigin::Drawn
        },
        ..Attestation::example()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    keys: Keys,
    public_file: PathBuf,
    dir: PathBuf,
}

fn fixture() -> Fixture {
    let dir = temp_dir();
    let path = dir.path().to_path_buf();
    let keys = Keys::create(&path.join("keys.json")).unwrap();
    let public_file = path.join("device.pub");
    keys.export_public(&public_file).unwrap();
    Fixture {
        _dir: dir,
        keys,
        public_file,
        dir: path,
    }
}

impl Fixture {
    /// Signs an attestation with the device key and writes it (with a trailing newline, as
    /// files usually end) to `name`.
    fn signed(&self, name: &str, a: &Attestation) -> (PathBuf, String) {
        let json = sign_attestation(a, self.keys.device_key()).unwrap();
        let path = self.dir.join(name);
        std::fs::write(&path, format!("{json}\n")).unwrap();
        (path, json)
    }
}

/// `verify` without a server nonce must say so explicitly.
const UNCHECKED: &[&str] = &["--no-freshness-check"];

fn verify(result: &Path, key: &str, extra: &[&str]) -> (Output, Value) {
    let output = lifecert()
        .arg("verify")
        .arg(result)
        .args(["--key", key])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, json)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_valid_attestation_verifies_with_the_key_file_or_hex() {
    let f = fixture();
    let nonce = Nonce([1; 16]);
    let a = attestation(nonce, false);
    let (path, _) = f.signed("result.json", &a);
    let key_file = f.public_file.to_str().unwrap();
    let (out, json) = verify(&path, key_file, UNCHECKED);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["valid"], true);
    assert_eq!(json["server_nonce_source"], "payload");
    assert_eq!(json["freshness"], "unchecked");
    assert!(
        stderr(&out).contains("NOT checked"),
        "the unchecked nonce must be said: {}",
        stderr(&out)
    );
    assert_eq!(
        json["device_public_key"],
        f.keys.device_public_key().to_hex()
    );
    let back: Attestation = serde_json::from_value(json["attestation"].clone()).unwrap();
    assert_eq!(back, a);

    // With the issued nonce, given as an argument; the key given inline as hex.
    let hex = f.keys.device_public_key().to_hex();
    let (out, json) = verify(&path, &hex, &["--nonce", &nonce.to_hex()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["server_nonce_source"], "--nonce");
    assert_eq!(json["freshness"], "checked");
    assert!(!stderr(&out).contains("NOT checked"));
}

#[test]
fn freshness_is_an_explicit_choice() {
    let f = fixture();
    let nonce = Nonce([6; 16]);
    let (path, _) = f.signed("result.json", &attestation(nonce, false));
    let key = f.public_file.to_str().unwrap();
    // Neither --nonce nor --no-freshness-check: a usage error, nothing is said valid.
    let (out, json) = verify(&path, key, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(json, Value::Null);
    // Both: contradictory.
    let (out, _) = verify(
        &path,
        key,
        &["--nonce", &nonce.to_hex(), "--no-freshness-check"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_changed_byte_a_wrong_key_or_a_wrong_nonce_is_refused_with_exit_4() {
    let f = fixture();
    let nonce = Nonce([2; 16]);
    let (_, json) = f.signed("result.json", &attestation(nonce, false));
    let key = f.public_file.to_str().unwrap();

    // One byte of the signed payload changed: the year.
    let year = json.find("2025").unwrap();
    let mut tampered = json.clone().into_bytes();
    tampered[year + 3] = b'6';
    let path = f.dir.join("tampered.json");
    std::fs::write(&path, &tampered).unwrap();
    let (out, report) = verify(&path, key, UNCHECKED);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(report["valid"], false);
    assert_eq!(report["error"], "signature");

    // One hex digit of the signature changed.
    let sig = json.find("\"signature\":\"").unwrap() + 13;
    let mut tampered = json.clone().into_bytes();
    tampered[sig] = if tampered[sig] == b'0' { b'1' } else { b'0' };
    std::fs::write(&path, &tampered).unwrap();
    let (out, report) = verify(&path, key, UNCHECKED);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(report["valid"], false);

    // A byte that breaks the JSON itself.
    std::fs::write(&path, &json.as_bytes()[..json.len() - 1]).unwrap();
    let (out, _) = verify(&path, key, UNCHECKED);
    assert_eq!(out.status.code(), Some(4));

    // Another device's key.
    let (other, _) = SigningKeyPair::generate().unwrap();
    let good = f.dir.join("result.json");
    let (out, report) = verify(&good, &other.public_key().to_hex(), UNCHECKED);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(report["error"], "signature");

    // Not the nonce the server issued.
    let (out, report) = verify(&good, key, &["--nonce", &Nonce([3; 16]).to_hex()]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(report["error"], "nonce_mismatch");
}

#[test]
fn a_supplied_challenge_needs_the_explicit_flag() {
    let f = fixture();
    let (path, _) = f.signed("supplied.json", &attestation(Nonce([4; 16]), true));
    let key = f.public_file.to_str().unwrap();
    let (out, report) = verify(&path, key, UNCHECKED);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(report["error"], "supplied_challenge_refused");
    let (out, report) = verify(
        &path,
        key,
        &["--accept-supplied-challenge", "--no-freshness-check"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(report["attestation"]["challenge_origin"], "supplied");
}

#[test]
fn bad_arguments_and_unreadable_files_are_bad_input() {
    let f = fixture();
    let (path, _) = f.signed("result.json", &attestation(Nonce([5; 16]), false));
    let key = f.public_file.to_str().unwrap();
    let (out, _) = verify(Path::new("/nonexistent/result.json"), key, UNCHECKED);
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = verify(&path, "/nonexistent/device.pub", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--key"));
    let (out, _) = verify(&path, "not-a-key", &[]);
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = verify(&path, key, &["--nonce", "xyz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--nonce"));
}
