//! The authority's policy beyond the core's verifier — all of it, in this one module.
//!
//! `lifecert_core::api::attestation::verify_attestation_with` checks what the device signed
//! (canonical envelope, signature under the registered device key, consistent values, the
//! server nonce, then its [`VerifyPolicy`]: a challenge drawn on the device, the production
//! configuration, digits verified rather than only counted; then the ledger). The service
//! runs it with the core's defaults ([`Policy::verify_policy`]). What the *service* requires
//! on top, on the verified content ([`Policy::check`]):
//!
//! * the device presenting the result is the one the nonce was issued to
//!   ([`Policy::check_device`], before verification: its registered key is the one the
//!   signature is checked against);
//! * nonces are issued for the current certification year only ([`Policy::open_year`]);
//! * the attestation is for the subject and the certification year the nonce was issued
//!   for;
//! * every model it names is on the allow-list (file name and SHA-256), and the required
//!   models (the face descriptor) are among them;
//! * the device's clock agrees with the server's: the stated time is after the nonce was
//!   issued and not in the future, within [`PolicyConfig::max_clock_skew_secs`];
//! * it is a pass: the face was accepted, every digit of the challenge was recognised (or,
//!   where only counting is accepted, heard), and the speech started after the prompt ended.
//!
//! Results of recordings (a clip certified against the digits it contains: a supplied
//! challenge, the recording-replay configuration, digits only counted) are refused. The only
//! way to accept them is the test-only allowance
//! [`PolicyConfig::accept_replayed_recordings_for_testing_only`], off by default; the service
//! logs a warning at start-up when it is on. Seeded challenges and custom configurations are
//! never accepted.

use lifecert_core::api::attestation::{Attestation, VerifyPolicy};
use lifecert_core::crypto::sealing::PublicKey;
use lifecert_core::identity::person::{Date, SubjectReference};
use lifecert_core::model::assets::{ModelInfo, DESCRIPTOR_FILE};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;
use thiserror::Error;

/// Largest model file hashed from [`PolicyConfig::allowed_models_dir`], bytes.
const MAX_MODEL_FILE: u64 = 512 * 1024 * 1024;

/// The policy's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// TEST ONLY: accept the results of recordings replayed through `lifecert certify
    /// --challenge` (challenge supplied from outside the device, recording-replay
    /// configuration, digits only counted) — proof of nothing about a living person now.
    /// Default `false`; never enable it in production.
    pub accept_replayed_recordings_for_testing_only: bool,
    /// Accept results whose spoken digits were only counted, not verified (a retiree
    /// enrolled without the voice reading, on a phone without the speaker-independent digit
    /// model). Default `false` (the core's default): the digits' content is then unchecked.
    pub accept_count_only: bool,
    /// Models an attestation may name (file name and lower-case SHA-256). Default empty.
    pub allowed_models: Vec<ModelInfo>,
    /// A folder whose files are all added to the allow-list with their SHA-256 (e.g. the
    /// repository's `models/`, or the folder the app's models are published from). Default
    /// none.
    pub allowed_models_dir: Option<PathBuf>,
    /// Model files every attestation must name. Default: the face descriptor
    /// (`dlib_face_descriptor.onnx`).
    pub required_models: Vec<String>,
    /// How far the device's clock may disagree with the server's, seconds. Default 300.
    pub max_clock_skew_secs: u64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            accept_replayed_recordings_for_testing_only: false,
            accept_count_only: false,
            allowed_models: Vec::new(),
            allowed_models_dir: None,
            required_models: vec![DESCRIPTOR_FILE.to_owned()],
            max_clock_skew_secs: 300,
        }
    }
}

/// Why the policy cannot be set up.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A configuration value is unusable; the text says which.
    #[error("policy configuration: {0}")]
    Config(String),
    /// The models folder could not be read.
    #[error("cannot read the models folder {path}: {source}")]
    ModelsDir {
        /// The folder or file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl PolicyConfig {
    /// Checks the listed models (a file name, 64 lower-case hex digits), the clock skew
    /// (1 s – 1 day) and that some model is allowed (inline or from a folder).
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |m: String| Err(PolicyError::Config(m));
        for m in &self.allowed_models {
            if m.file.is_empty() || m.file.contains('/') || !is_sha256_hex(&m.sha256) {
                return bad(format!(
                    "allowed_models: {:?} needs a file name and a lower-case hex SHA-256",
                    m.file
                ));
            }
        }
        if self.allowed_models.is_empty() && self.allowed_models_dir.is_none() {
            return bad(
                "no model is allowed: set allowed_models or allowed_models_dir (every \
                 attestation would be refused)"
                    .into(),
            );
        }
        if !(1..=86_400).contains(&self.max_clock_skew_secs) {
            return bad("max_clock_skew_secs must be 1–86400".into());
        }
        Ok(())
    }
}

/// Why a verified attestation is refused by the service's policy.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyRefusal {
    /// The attestation names another subject than the nonce was issued for.
    #[error("the attestation is for another person than the nonce was issued for")]
    SubjectMismatch,
    /// The attestation is for another year than the nonce was issued for.
    #[error("the attestation is for {stated}, the nonce was issued for {expected}")]
    YearMismatch {
        /// The year in the nonce.
        expected: u16,
        /// The year in the attestation.
        stated: u16,
    },
    /// A model not on the allow-list.
    #[error("model {0} is not an approved model version")]
    ModelNotAllowed(String),
    /// A required model is not named.
    #[error("the attestation does not name the required model {0}")]
    RequiredModelMissing(String),
    /// The device's clock disagrees with the server's.
    #[error("the attestation's time is {0} s outside the session's window")]
    ClockSkew(u64),
    /// The result is not a pass; the text says which part.
    #[error("the result is not a pass: {0}")]
    NotAPass(&'static str),
    /// The device presenting the result is not the one the nonce was issued to.
    #[error("this nonce was issued to another device")]
    WrongDevice,
    /// A certification year that is not open.
    #[error("certifications are open for {open}, not {asked}")]
    YearNotOpen {
        /// The open year.
        open: u16,
        /// The year asked for.
        asked: u16,
    },
}

impl PolicyRefusal {
    /// Stable snake_case code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SubjectMismatch => "subject_mismatch",
            Self::YearMismatch { .. } => "year_mismatch",
            Self::ModelNotAllowed(_) => "model_not_allowed",
            Self::RequiredModelMissing(_) => "model_missing",
            Self::ClockSkew(_) => "clock_skew",
            Self::NotAPass(_) => "not_a_pass",
            Self::WrongDevice => "wrong_device",
            Self::YearNotOpen { .. } => "year_not_open",
        }
    }
}

/// What the nonce binds, as the policy needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceBinding {
    /// The subject the nonce was issued for.
    pub subject: SubjectReference,
    /// The certification year it was issued for.
    pub year: u16,
    /// When it was issued, unix seconds.
    pub issued_at: u64,
}

/// The policy, with its allow-list resolved.
#[derive(Debug, Clone)]
pub struct Policy {
    config: PolicyConfig,
    allowed: BTreeSet<(String, String)>,
}

impl Policy {
    /// Validates `config` and resolves the allow-list (hashing the files of
    /// `allowed_models_dir` with ring's SHA-256).
    pub fn new(config: PolicyConfig) -> Result<Self, PolicyError> {
        config.validate()?;
        let mut allowed: BTreeSet<(String, String)> = config
            .allowed_models
            .iter()
            .map(|m| (m.file.clone(), m.sha256.clone()))
            .collect();
        if let Some(dir) = &config.allowed_models_dir {
            let io = |path: &std::path::Path| {
                let path = path.to_path_buf();
                move |source| PolicyError::ModelsDir { path, source }
            };
            for entry in std::fs::read_dir(dir).map_err(io(dir))? {
                let entry = entry.map_err(io(dir))?;
                let path = entry.path();
                let meta = entry.metadata().map_err(io(&path))?;
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if !meta.is_file() || meta.len() > MAX_MODEL_FILE || name.starts_with('.') {
                    continue;
                }
                let bytes = std::fs::read(&path).map_err(io(&path))?;
                let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
                allowed.insert((name.to_owned(), hex::encode(digest.as_ref())));
            }
        }
        if allowed.is_empty() {
            return Err(PolicyError::Config(
                "the allow-list of models is empty".into(),
            ));
        }
        Ok(Self { config, allowed })
    }

    /// The configuration.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The core verifier's policy: the core's defaults (drawn challenge, production
    /// configuration, verified digits), except what the configuration allows.
    pub fn verify_policy(&self) -> VerifyPolicy {
        let replay = self.config.accept_replayed_recordings_for_testing_only;
        // The struct update keeps the core's defaults for any field the core adds later.
        #[allow(clippy::needless_update)]
        VerifyPolicy {
            accept_supplied_challenge: replay,
            accept_recording_replay: replay,
            accept_count_only: replay || self.config.accept_count_only,
            ..VerifyPolicy::default()
        }
    }

    /// Whether `model` is on the allow-list.
    pub fn allows(&self, model: &ModelInfo) -> bool {
        self.allowed
            .contains(&(model.file.clone(), model.sha256.clone()))
    }

    /// The allowed versions of the model file `file` (e.g. the face descriptor, to open an
    /// enrollment's template).
    pub fn allowed_versions(&self, file: &str) -> Vec<ModelInfo> {
        self.allowed
            .iter()
            .filter(|(f, _)| f == file)
            .map(|(f, h)| ModelInfo {
                file: f.clone(),
                sha256: h.clone(),
            })
            .collect()
    }

    /// The certification year for a nonce issued at `now_unix`: the current year in China.
    pub fn current_year(now_unix: u64) -> u16 {
        Date::from_unix_china(now_unix).map_or(2026, |d| d.year())
    }

    /// The year a nonce asked for at `now_unix` is issued for: the current year in China;
    /// another year asked for is refused.
    pub fn open_year(now_unix: u64, asked: Option<u16>) -> Result<u16, PolicyRefusal> {
        let open = Self::current_year(now_unix);
        match asked {
            Some(asked) if asked != open => Err(PolicyRefusal::YearNotOpen { open, asked }),
            _ => Ok(open),
        }
    }

    /// The device binding: the device presenting a result must be the one its nonce was
    /// issued to (checked before verification, whose signature check then uses that
    /// device's registered key).
    pub fn check_device(bound: &PublicKey, presented: &PublicKey) -> Result<(), PolicyRefusal> {
        if bound == presented {
            Ok(())
        } else {
            Err(PolicyRefusal::WrongDevice)
        }
    }

    /// Checks a verified attestation against the nonce's binding at `now_unix` (see the
    /// module docs).
    pub fn check(
        &self,
        a: &Attestation,
        nonce: &NonceBinding,
        now_unix: u64,
    ) -> Result<(), PolicyRefusal> {
        if !a.subject.ct_eq(&nonce.subject) {
            return Err(PolicyRefusal::SubjectMismatch);
        }
        if a.certification_year != nonce.year {
            return Err(PolicyRefusal::YearMismatch {
                expected: nonce.year,
                stated: a.certification_year,
            });
        }
        for m in &a.models {
            if !self.allows(m) {
                return Err(PolicyRefusal::ModelNotAllowed(format!(
                    "{}@{}",
                    m.file, m.sha256
                )));
            }
        }
        for required in &self.config.required_models {
            if !a.models.iter().any(|m| &m.file == required) {
                return Err(PolicyRefusal::RequiredModelMissing(required.clone()));
            }
        }
        let skew = self.config.max_clock_skew_secs;
        if a.time + skew < nonce.issued_at {
            return Err(PolicyRefusal::ClockSkew(nonce.issued_at - a.time));
        }
        if a.time > now_unix + skew {
            return Err(PolicyRefusal::ClockSkew(a.time - now_unix));
        }
        if !a.face_match.accepted {
            return Err(PolicyRefusal::NotAPass("the face was not accepted"));
        }
        let l = &a.liveness;
        let digits = a.challenge.digits.len();
        if l.digit_check.verifies_content() && l.digits_matched as usize != digits {
            return Err(PolicyRefusal::NotAPass(
                "not every digit of the challenge was recognised",
            ));
        }
        // Only counted (accepted by the verifier's policy): every digit must have been heard.
        if !l.digit_check.verifies_content() && l.digits_heard as usize != digits {
            return Err(PolicyRefusal::NotAPass(
                "not every digit of the challenge was heard",
            ));
        }
        if l.speech_onset_ms < 0 {
            return Err(PolicyRefusal::NotAPass(
                "the speech started before the prompt ended",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use lifecert_core::liveness::sequencer::{DigitCheck, VoiceMatch};
    use lifecert_core::matching::templates::MatchResult;

    fn descriptor() -> ModelInfo {
        ModelInfo {
            file: DESCRIPTOR_FILE.into(),
            sha256: "ab".repeat(32),
        }
    }

    fn policy() -> Policy {
        Policy::new(PolicyConfig {
            allowed_models: vec![descriptor()],
            ..PolicyConfig::default()
        })
        .unwrap()
    }

    fn attestation() -> Attestation {
        let mut a = Attestation {
            subject: SubjectReference::from_bytes([3; 32]),
            time: 1_770_000_100,
            face_match: MatchResult {
                distance: 0.3,
                threshold: 0.55,
                accepted: true,
            },
            models: vec![descriptor()],
            ..Attestation::example()
        };
        a.liveness.av_sync = 0.6;
        a.liveness.digit_check = DigitCheck::SpeakerIndependentModel;
        a.liveness.voice = VoiceMatch::NotChecked;
        a.liveness.speech_onset_ms = 400;
        a
    }

    fn binding() -> NonceBinding {
        NonceBinding {
            subject: SubjectReference::from_bytes([3; 32]),
            year: 2026,
            issued_at: 1_770_000_000,
        }
    }

    #[test]
    fn a_pass_for_the_nonce_s_subject_and_year_is_accepted() {
        policy()
            .check(&attestation(), &binding(), 1_770_000_200)
            .unwrap();
        // The core's defaults: nothing of a recording is accepted.
        assert_eq!(policy().verify_policy(), VerifyPolicy::default());
        let testing = Policy::new(PolicyConfig {
            accept_replayed_recordings_for_testing_only: true,
            ..policy().config().clone()
        })
        .unwrap()
        .verify_policy();
        assert!(
            testing.accept_supplied_challenge
                && testing.accept_recording_replay
                && testing.accept_count_only
        );
        assert!(!testing.accept_seeded_challenge && !testing.accept_custom_profile);
    }

    #[test]
    fn counted_digits_must_all_be_heard() {
        let p = policy();
        let mut a = attestation();
        a.liveness.digit_check = DigitCheck::CountOnly;
        a.liveness.digits_matched = 0;
        p.check(&a, &binding(), 1_770_000_200).unwrap();
        a.liveness.digits_heard = 2;
        assert_eq!(
            p.check(&a, &binding(), 1_770_000_200).map_err(|e| e.code()),
            Err("not_a_pass")
        );
    }

    #[test]
    fn each_rule_refuses() {
        let p = policy();
        let now = 1_770_000_200;
        let refused = |a: Attestation| p.check(&a, &binding(), now).unwrap_err().code();
        let mut a = attestation();
        a.subject = SubjectReference::from_bytes([4; 32]);
        assert_eq!(refused(a), "subject_mismatch");
        let mut a = attestation();
        a.certification_year = 2025;
        assert_eq!(refused(a), "year_mismatch");
        let mut a = attestation();
        a.models[0].sha256 = "cd".repeat(32);
        assert_eq!(refused(a), "model_not_allowed");
        let mut a = attestation();
        a.models[0].file = "other.onnx".into();
        assert_eq!(refused(a), "model_not_allowed");
        let mut a = attestation();
        a.time = 1_770_000_000 - 301;
        assert_eq!(refused(a), "clock_skew");
        let mut a = attestation();
        a.time = now + 301;
        assert_eq!(refused(a), "clock_skew");
        let mut a = attestation();
        a.face_match.accepted = false;
        assert_eq!(refused(a), "not_a_pass");
        let mut a = attestation();
        a.liveness.digits_matched = 2;
        assert_eq!(refused(a), "not_a_pass");
        let mut a = attestation();
        a.liveness.speech_onset_ms = -20;
        assert_eq!(refused(a), "not_a_pass");
    }

    #[test]
    fn the_device_and_the_year_are_bound() {
        let a = lifecert_core::crypto::sealing::SigningKeyPair::generate()
            .unwrap()
            .0;
        let b = lifecert_core::crypto::sealing::SigningKeyPair::generate()
            .unwrap()
            .0;
        assert!(Policy::check_device(&a.public_key(), &a.public_key()).is_ok());
        assert_eq!(
            Policy::check_device(&a.public_key(), &b.public_key()),
            Err(PolicyRefusal::WrongDevice)
        );
        // 2026-01-01 00:30 in China is still 2025-12-31 in UTC.
        let new_year_china = 1_767_198_600;
        assert_eq!(Policy::open_year(new_year_china, None), Ok(2026));
        assert_eq!(Policy::open_year(new_year_china, Some(2026)), Ok(2026));
        assert_eq!(
            Policy::open_year(new_year_china, Some(2025)).map_err(|e| e.code()),
            Err("year_not_open")
        );
    }

    #[test]
    fn the_required_model_must_be_named() {
        let other = ModelInfo {
            file: "silero_vad_16k.onnx".into(),
            sha256: "01".repeat(32),
        };
        let p = Policy::new(PolicyConfig {
            allowed_models: vec![descriptor(), other.clone()],
            ..PolicyConfig::default()
        })
        .unwrap();
        let mut a = attestation();
        a.models = vec![other];
        assert_eq!(
            p.check(&a, &binding(), 1_770_000_200),
            Err(PolicyRefusal::RequiredModelMissing(DESCRIPTOR_FILE.into()))
        );
    }

    #[test]
    fn the_allow_list_is_read_from_the_repository_models() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
        let p = Policy::new(PolicyConfig {
            allowed_models_dir: Some(dir.clone()),
            ..PolicyConfig::default()
        })
        .unwrap();
        // The checksum models/MODELS.md states for the descriptor.
        let doc = std::fs::read_to_string(dir.join("MODELS.md")).unwrap();
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {DESCRIPTOR_FILE} | ")))
            .expect("the checksum table names the descriptor");
        let sha = row.split('|').nth(2).unwrap().trim();
        assert!(p.allows(&ModelInfo {
            file: DESCRIPTOR_FILE.into(),
            sha256: sha.into(),
        }));
        assert_eq!(p.allowed_versions(DESCRIPTOR_FILE).len(), 1);
    }

    #[test]
    fn the_config_is_checked() {
        assert!(
            PolicyConfig::default().validate().is_err(),
            "nothing allowed"
        );
        let upper = PolicyConfig {
            allowed_models: vec![ModelInfo {
                file: DESCRIPTOR_FILE.into(),
                sha256: "AB".repeat(32),
            }],
            ..PolicyConfig::default()
        };
        assert!(upper.validate().is_err());
        let skew = PolicyConfig {
            allowed_models: vec![descriptor()],
            max_clock_skew_secs: 0,
            ..PolicyConfig::default()
        };
        assert!(skew.validate().is_err());
    }
}
