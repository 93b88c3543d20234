//! `lifecert verify RESULT.json --key PUB`: what the authority's backend does with a
//! signed certification result — checks it against the device's registered public key and
//! the server nonce issued for the session, and prints what it says.

use super::{CommandError, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INVALID};
use lifecert_cli::keys::load_public_key;
use lifecert_core::api::attestation::{
    verify_attestation_with, Attestation, AttestationError, InMemoryNonceLedger, VerifyPolicy,
};
use lifecert_core::liveness::challenge::Nonce;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Verify a signed certification result as the authority's backend does; print JSON.
/// Freshness is an explicit choice: `--nonce HEX` (the server nonce issued for the
/// session) or `--no-freshness-check` (reported as `"freshness": "unchecked"`).
/// Exit 0 valid, 4 refused (bad signature, changed bytes, wrong key or nonce), 2 bad input.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The signed result (the JSON envelope the device sends).
    pub result: PathBuf,
    /// The device's registered public key: 64 hex digits, or a file holding them.
    #[arg(long, value_name = "PUB")]
    pub key: String,
    /// The server nonce issued for this session (32 hex digits): the result must answer
    /// it, which proves it fresh.
    #[arg(
        long,
        value_name = "HEX",
        required_unless_present = "no_freshness_check"
    )]
    pub nonce: Option<String>,
    /// Do not check the server nonce: the signature and content are still verified, the
    /// output says `"freshness": "unchecked"` (the result may be an old one replayed).
    #[arg(long, conflicts_with = "nonce")]
    pub no_freshness_check: bool,
    /// Accept results whose digit challenge was supplied from outside the device (a
    /// processed recording); refused by default.
    #[arg(long)]
    pub accept_supplied_challenge: bool,
    /// Accept results made with the recording-replay configuration (`certify
    /// --challenge`); refused by default.
    #[arg(long)]
    pub accept_recording_replay: bool,
    /// Accept results whose spoken digits were only counted, not verified (no voice
    /// templates); refused by default.
    #[arg(long)]
    pub accept_count_only: bool,
}

/// Largest result file read, bytes (an attestation is a few kilobytes).
const MAX_RESULT_BYTES: u64 = 1024 * 1024;

#[derive(Serialize)]
struct Verified<'a> {
    valid: bool,
    /// `"checked"`: the attestation answers the server nonce given with `--nonce` (issued
    /// for this session, so the result is fresh). `"unchecked"`: `--no-freshness-check`;
    /// the signature and content are valid, but the result may be an old one replayed.
    freshness: &'static str,
    /// The pinned device key the signature was checked against.
    device_public_key: String,
    /// The server nonce required, and where it came from (`"--nonce"` or `"payload"`).
    server_nonce: String,
    server_nonce_source: &'static str,
    attestation: &'a Attestation,
}

/// How the freshness of a result is established: the one choice `verify` cannot make by
/// itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness<'a> {
    /// Compare with the server nonce issued for the session (`--nonce HEX`).
    Nonce(&'a str),
    /// Do not check (`--no-freshness-check`); the output says `"freshness": "unchecked"`.
    Unchecked,
}

#[derive(Serialize)]
struct Refused {
    valid: bool,
    /// Stable id of the refusal.
    error: &'static str,
    message: String,
}

/// A stable id for each refusal.
fn error_id(e: &AttestationError) -> &'static str {
    match e {
        AttestationError::Signature(_) => "signature",
        AttestationError::NonCanonical => "non_canonical",
        AttestationError::UnsupportedVersion(_) => "unsupported_version",
        AttestationError::Invalid(_) => "invalid",
        AttestationError::NonceMismatch => "nonce_mismatch",
        AttestationError::NonceReused => "nonce_reused",
        AttestationError::SuppliedChallengeRefused => "supplied_challenge_refused",
        AttestationError::SeededChallengeRefused => "seeded_challenge_refused",
        AttestationError::ProfileRefused(_) => "profile_refused",
        AttestationError::CountOnlyRefused => "count_only_refused",
        AttestationError::Ledger(_) => "ledger",
        AttestationError::TooLarge { .. } => "too_large",
        _ => "refused",
    }
}

/// The signed envelope inside the file's text: the text itself, or — when the file is a
/// JSON object with a string field `attestation` and no `payload` — that field.
fn envelope(text: &str) -> String {
    // A file conventionally ends with a line break; it is not part of the envelope.
    let text = text.trim_end_matches(['\n', '\r']);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        if !map.contains_key("payload") {
            if let Some(serde_json::Value::String(inner)) = map.get("attestation") {
                return inner.clone();
            }
        }
    }
    text.to_owned()
}

/// The server nonce the (not yet verified) payload claims, if it can be read.
fn claimed_nonce(envelope: &str) -> Option<Nonce> {
    let outer: serde_json::Value = serde_json::from_str(envelope).ok()?;
    let payload: serde_json::Value = serde_json::from_str(outer.get("payload")?.as_str()?).ok()?;
    Nonce::from_hex(payload.get("server_nonce")?.as_str()?).ok()
}

fn print_json<T: Serialize>(value: &T) -> Result<(), CommandError> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| (EXIT_INTERNAL, format!("cannot serialise the result: {e}")))?;
    println!("{json}");
    Ok(())
}

/// Runs `verify`: the freshness choice and the policy from the flags, then [`check`].
pub fn run(args: &VerifyArgs) -> Result<(), CommandError> {
    let freshness = match (args.nonce.as_deref(), args.no_freshness_check) {
        (Some(n), false) => Freshness::Nonce(n),
        (None, true) => Freshness::Unchecked,
        _ => {
            return Err((
                EXIT_BAD_INPUT,
                "give exactly one of --nonce HEX or --no-freshness-check".into(),
            ))
        }
    };
    check(
        &args.result,
        &args.key,
        freshness,
        &VerifyPolicy {
            accept_supplied_challenge: args.accept_supplied_challenge,
            accept_recording_replay: args.accept_recording_replay,
            accept_count_only: args.accept_count_only,
            ..Default::default()
        },
    )
}

/// Checks the result. Exit codes: 0 valid; [`EXIT_INVALID`] refused (bad signature, changed
/// bytes, wrong key, nonce mismatch, what `policy` refuses, malformed); [`EXIT_BAD_INPUT`] for
/// an unreadable file, key or nonce argument.
fn check(
    result: &Path,
    key: &str,
    freshness: Freshness<'_>,
    policy: &VerifyPolicy,
) -> Result<(), CommandError> {
    let key = load_public_key(key).map_err(|e| (EXIT_BAD_INPUT, format!("--key: {e}")))?;
    let given_nonce = match freshness {
        Freshness::Nonce(n) => Some(Nonce::from_hex(n.trim()).map_err(|_| {
            (
                EXIT_BAD_INPUT,
                format!("--nonce {n:?} is not 32 hexadecimal digits"),
            )
        })?),
        Freshness::Unchecked => None,
    };
    let unreadable = |e: std::io::Error| (EXIT_BAD_INPUT, format!("{}: {e}", result.display()));
    let meta = std::fs::metadata(result).map_err(unreadable)?;
    if !meta.is_file() || meta.len() > MAX_RESULT_BYTES {
        return Err((
            EXIT_BAD_INPUT,
            format!(
                "{}: not a result file (a folder, or larger than {MAX_RESULT_BYTES} bytes)",
                result.display()
            ),
        ));
    }
    let bytes = std::fs::read(result).map_err(unreadable)?;
    let refuse = |error: &'static str, message: String| -> CommandError {
        match print_json(&Refused {
            valid: false,
            error,
            message: message.clone(),
        }) {
            Ok(()) => (EXIT_INVALID, format!("attestation refused: {message}")),
            Err(e) => e,
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(refuse("malformed", "the file is not UTF-8 text".into()));
    };
    let json = envelope(&text);
    let (expected, source) = match given_nonce {
        Some(n) => (n, "--nonce"),
        None => {
            let claimed = claimed_nonce(&json);
            eprintln!(
                "lifecert: --no-freshness-check: the server nonce is NOT checked (the output says \
                 \"freshness\": \"unchecked\"); an authority's backend passes --nonce with the \
                 nonce it issued for the session"
            );
            // Unreadable payload: verification refuses it before the nonce is compared.
            (claimed.unwrap_or(Nonce([0; 16])), "payload")
        }
    };
    let mut ledger = InMemoryNonceLedger::new();
    match verify_attestation_with(&json, &key, &expected, &mut ledger, policy) {
        Ok(attestation) => print_json(&Verified {
            valid: true,
            freshness: if given_nonce.is_some() {
                "checked"
            } else {
                "unchecked"
            },
            device_public_key: key.to_hex(),
            server_nonce: expected.to_hex(),
            server_nonce_source: source,
            attestation: &attestation,
        }),
        Err(e @ AttestationError::Ledger(_)) => Err((EXIT_INTERNAL, format!("nonce ledger: {e}"))),
        Err(e) => Err(refuse(error_id(&e), e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_found_with_or_without_a_wrapper() {
        let env = r#"{"payload":"{}","signature":"00","public_key":"11"}"#;
        assert_eq!(envelope(&format!("{env}\n")), env);
        assert_eq!(envelope(&format!("{env}\r\n")), env);
        let wrapped = serde_json::json!({ "attestation": env, "report": "x.html" }).to_string();
        assert_eq!(envelope(&wrapped), env);
        // Spaces are part of the envelope (the bytes are the evidence).
        assert_eq!(envelope(&format!(" {env}")), format!(" {env}"));
    }

    #[test]
    fn the_claimed_nonce_is_read_from_the_payload() {
        let n = Nonce([7; 16]);
        let payload = serde_json::json!({ "server_nonce": n.to_hex() }).to_string();
        let env = serde_json::json!({ "payload": payload }).to_string();
        assert_eq!(claimed_nonce(&env), Some(n));
        assert_eq!(claimed_nonce("not json"), None);
    }
}
