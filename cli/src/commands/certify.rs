//! `lifecert certify`: the annual certification on a recorded clip with its sound, as the
//! phone would run it live — the same instructions printed as it would speak them — and the
//! signed attestation written for the authority.
//!
//! A recording cannot answer a random challenge: without `--challenge` the digits are drawn
//! on the spot and the prompt takes as long as a phone needs to say it, so a clip that is
//! already talking is refused (speech before the prompt ended). `--challenge DIGITS
//! --prompt-end SECONDS` replays the recording against the digits it contains; the signed
//! result then says the challenge was supplied, which `lifecert verify` refuses unless told
//! to accept it.

use super::flags::{parse_category, parse_language};
use super::recording::{self, EXIT_NOT_PASSED};
use super::{CommandError, EXIT_BAD_INPUT, EXIT_INTERNAL};
use lifecert_cli::replay::{replay, PromptTiming};
use lifecert_cli::report::Verdict as ReportVerdict;
use lifecert_core::api::attestation::{PerformedBy, ProxyRelation};
use lifecert_core::api::certification::{
    CertificationOutcome, CertificationRequest, CertificationSession, ChallengeSource,
    TemplateInput,
};
use lifecert_core::liveness::challenge::{DigitChallenge, Nonce};
use lifecert_core::liveness::sequencer::Verdict;
use lifecert_core::text::messages::Language;
use lifecert_core::text::result_texts::RetireeCategory;
use lifecert_core::ModelSource;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Certify from a recorded clip with its sound, printing what the phone would say, and
/// write the signed attestation. Without --challenge the digits are drawn now, which a
/// recording cannot answer. Exit 0 certified, 1 not certified, 2 bad input, 3 internal,
/// 5 certified and the attestation written but the report could not be.
#[derive(Debug, clap::Args)]
pub struct CertifyArgs {
    /// The recording (video with sound).
    #[arg(long, value_name = "FILE", conflicts_with = "still")]
    pub video: Option<PathBuf>,
    /// A still photo shown to the camera instead of a video.
    #[arg(long, value_name = "IMAGE")]
    pub still: Option<PathBuf>,
    /// How long the still photo is shown, seconds.
    #[arg(long, default_value_t = 6.0)]
    pub seconds: f64,
    /// A sound track to use instead of the video's (any format ffmpeg reads).
    #[arg(long, value_name = "FILE")]
    pub audio: Option<PathBuf>,
    /// The sealed template written by `enroll`.
    #[arg(long, value_name = "FILE")]
    pub template: PathBuf,
    /// The sealed voice profile written by `enroll --voice`: the answer's voice is
    /// compared with it (and with `--voice-digits` at enrollment, the digits verified).
    #[arg(long, value_name = "FILE")]
    pub voice_templates: Option<PathBuf>,
    /// Where the retiree lives: `provincial` or `non-provincial` (the success text and
    /// the SMS differ).
    #[arg(long, default_value = "provincial", value_parser = parse_category)]
    pub category: RetireeCategory,
    /// The retiree's name.
    #[arg(long)]
    pub name: String,
    /// The retiree's resident ID number.
    #[arg(long)]
    pub id: String,
    /// A relative or carer certifies on the retiree's behalf: their relation (spouse,
    /// child, child_in_law, grandchild, sibling, other_relative, guardian, caregiver,
    /// community_worker, or free text).
    #[arg(long, value_name = "RELATION")]
    pub proxy: Option<String>,
    /// Language of what is said: zh-Hans, zh-Hant or en.
    #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
    pub lang: Language,
    /// Replay against these digits (those the recording says); the result records that
    /// the challenge was supplied.
    #[arg(long, value_name = "DIGITS")]
    pub challenge: Option<String>,
    /// With --challenge: when the prompt ended in the recording, seconds.
    #[arg(long, value_name = "SECONDS")]
    pub prompt_end: Option<f64>,
    /// Certification year (default: this year).
    #[arg(long)]
    pub year: Option<u16>,
    /// The server nonce issued for the session (32 hex digits; default random).
    #[arg(long, value_name = "HEX")]
    pub nonce: Option<String>,
    /// Failed certification sessions earlier today (after 3 the office is suggested).
    #[arg(long, default_value_t = 0)]
    pub previous_failures: u32,
    /// Where the signed attestation goes (when certified).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write a report: HTML, or PNG when the name ends in .png.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The key file written by `enroll` (never created here). Default
    /// ~/.config/lifecert/keys.json.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// Folder with the MiniFASNet anti-spoofing models (not shipped).
    #[arg(long, value_name = "DIR")]
    pub pad_models: Option<PathBuf>,
}

fn digits(text: &str) -> Result<Vec<u8>, CommandError> {
    let d: Vec<u8> = text
        .chars()
        .filter(|c| !matches!(c, ' ' | ',' | '-'))
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<_>>()
        .ok_or_else(|| (EXIT_BAD_INPUT, format!("--challenge {text:?}: digits only")))?;
    Ok(d)
}

/// `--prompt-end`: seconds into the recording, at most as long as the audio a recording
/// may have ([`MAX_AUDIO_SECONDS`](lifecert_cli::media::MAX_AUDIO_SECONDS)).
fn prompt_end(seconds: f64) -> Result<Duration, CommandError> {
    let max = f64::from(lifecert_cli::media::MAX_AUDIO_SECONDS);
    if !(seconds.is_finite() && (0.0..=max).contains(&seconds)) {
        return Err((
            EXIT_BAD_INPUT,
            format!("--prompt-end must be between 0 and {max} seconds, got {seconds}"),
        ));
    }
    Duration::try_from_secs_f64(seconds)
        .map_err(|e| (EXIT_BAD_INPUT, format!("--prompt-end {seconds}: {e}")))
}

/// Largest template or voice-template file read, bytes (a sealed template is a few
/// kilobytes).
const MAX_TEMPLATE_FILE: u64 = 16 * 1024 * 1024;

fn read(path: &Path, what: &str) -> Result<Vec<u8>, CommandError> {
    lifecert_core::image::decode::read_regular_file(path, MAX_TEMPLATE_FILE)
        .map_err(|e| (EXIT_BAD_INPUT, format!("{what} {}: {e}", path.display())))
}

fn fresh_nonce() -> Result<Nonce, CommandError> {
    lifecert_core::crypto::sealing::random_bytes::<16>()
        .map(Nonce)
        .map_err(|e| (EXIT_INTERNAL, e.to_string()))
}

/// Evidence lines for the report.
fn evidence_of(v: &Verdict) -> Vec<(String, String)> {
    let e = &v.evidence;
    let mut out = vec![
        ("attempts".into(), v.attempts.to_string()),
        (
            "digit check".into(),
            e.digit_check.map_or("-".into(), |d| format!("{d:?}")),
        ),
        (
            "speech onset after prompt".into(),
            e.speech_onset_after_prompt_ms
                .map_or("-".into(), |ms| format!("{ms} ms")),
        ),
        (
            "speech segments".into(),
            e.speech_segments.len().to_string(),
        ),
        (
            "face continuity".into(),
            format!(
                "{} frames, {} without face, {} breaks",
                e.continuity.frames, e.continuity.frames_without_face, e.continuity.breaks
            ),
        ),
    ];
    if let Some(s) = e.av_sync {
        out.push((
            "lips vs voice".into(),
            format!(
                "correlation {:.2} at {:.0} ms, mouth movement {:.3}",
                s.correlation, s.lag_ms, s.aperture_spread
            ),
        ));
    }
    if let Some(p) = e.pad_score {
        out.push(("anti-spoofing score".into(), format!("{p:.2}")));
    }
    out
}

/// Runs `certify`.
pub fn run(source: &ModelSource, args: &CertifyArgs) -> Result<(), CommandError> {
    if args.prompt_end.is_some() && args.challenge.is_none() {
        return Err((EXIT_BAD_INPUT, "--prompt-end needs --challenge".into()));
    }
    // Arguments first, before any file is read or model loaded.
    let prompt_end = prompt_end(args.prompt_end.unwrap_or(0.0))?;
    let keys = recording::existing_keys(args.keys.as_deref())?;
    let engine = recording::engine(source, args.pad_models.as_deref())?;
    let sealed = read(&args.template, "template")?;
    let voice_templates = args
        .voice_templates
        .as_ref()
        .map(|p| read(p, "voice profile"))
        .transpose()?;
    let server_nonce = match &args.nonce {
        Some(hex) => Nonce::from_hex(hex).map_err(|e| (EXIT_BAD_INPUT, format!("--nonce: {e}")))?,
        None => fresh_nonce()?,
    };
    let (challenge, timing) = match &args.challenge {
        Some(text) => {
            let nonce = fresh_nonce()?;
            (
                ChallengeSource::Supplied(DigitChallenge {
                    nonce,
                    digits: digits(text)?,
                }),
                PromptTiming::EndsAt(prompt_end),
            )
        }
        None => (ChallengeSource::Drawn, PromptTiming::Spoken),
    };
    let now = recording::now_unix();
    let year = match args.year {
        Some(year) => year,
        None => lifecert_core::identity::person::Date::from_unix_china(now)
            .ok_or((
                EXIT_INTERNAL,
                "the system clock is beyond the calendar".to_owned(),
            ))?
            .year(),
    };
    let request = CertificationRequest {
        name: args.name.clone(),
        id_number: args.id.clone(),
        performed_by: match &args.proxy {
            Some(r) => PerformedBy::Proxy {
                relation: ProxyRelation::parse(r)
                    .map_err(|e| (EXIT_BAD_INPUT, format!("--proxy {r:?}: {e}")))?,
            },
            None => PerformedBy::Subject,
        },
        template: TemplateInput::Issued {
            sealed,
            authority: keys.authority_public_key(),
        },
        voice_templates,
        server_nonce,
        certification_year: year,
        retiree_category: args.category,
        now_unix: now,
        previous_failures: args.previous_failures,
        language: args.lang,
        challenge,
    };
    let mut session = CertificationSession::new(
        engine.clone(),
        request,
        keys.certification_keys()
            .map_err(|e| (EXIT_BAD_INPUT, e.to_string()))?,
    )
    .map_err(|e| match e {
        lifecert_core::Error::Template(t) => (
            EXIT_BAD_INPUT,
            format!("the template cannot be used for this person with these keys: {t}"),
        ),
        other => (EXIT_BAD_INPUT, other.to_string()),
    })?;
    eprintln!("lifecert: server nonce {}", server_nonce.to_hex());
    let input = recording::input(
        args.video.as_deref(),
        args.still.as_deref(),
        args.seconds,
        args.audio.as_deref(),
    )?;
    let mut print = recording::printer();
    let (outcome, timeline) = replay(
        &mut session,
        engine.analyzer(),
        input.frames,
        &input.audio,
        timing,
        input.total,
        &mut print,
    )
    .map_err(recording::replay_error)?;
    let (passed, reason, message, liveness, face_match) = match &outcome {
        CertificationOutcome::Certified(c) => (
            true,
            "certified".to_string(),
            c.result_text.text.clone(),
            Some(&c.liveness),
            Some(c.face_match),
        ),
        CertificationOutcome::NotCertified(n) => (
            false,
            n.failure.id(),
            n.message.text.clone(),
            n.liveness.as_ref(),
            n.face_match,
        ),
    };
    // The attestation first: a report that cannot be written must never cost the result.
    let exit = match &outcome {
        CertificationOutcome::Certified(c) => {
            if let Some(out) = &args.out {
                recording::write_file(out, c.attestation.as_bytes())?;
                eprintln!("lifecert: signed result written to {}", out.display());
            }
            println!(
                "{}",
                json!({
                    "outcome": "certified",
                    "distance": c.face_match.distance,
                    "threshold": c.face_match.threshold,
                    "challenge_origin": if args.challenge.is_some() { "supplied" } else { "drawn" },
                    "digit_check": c.liveness.evidence.digit_check.map(|d| d.id()),
                    "voice": c.liveness.evidence.voice,
                    "result_text": c.result_text.text,
                    "sms_text": c.sms_text.text,
                    "server_nonce": server_nonce.to_hex(),
                })
            );
            Ok(())
        }
        CertificationOutcome::NotCertified(n) => {
            println!(
                "{}",
                json!({
                    "outcome": "not_certified",
                    "reason": n.failure.id(),
                    "message": n.message.text,
                    "retry_allowed": n.retry_allowed,
                    "digit_check": n.liveness.as_ref().and_then(|v| v.evidence.digit_check.map(|d| d.id())),
                    "voice": n.liveness.as_ref().map(|v| v.evidence.voice),
                    "sync_failure": n.liveness.as_ref().and_then(|v| v.evidence.sync_failure.as_ref().map(ToString::to_string)),
                })
            );
            Err((EXIT_NOT_PASSED, format!("not certified: {reason}")))
        }
    };
    if let Some(path) = &args.report {
        let mut evidence = liveness.map(evidence_of).unwrap_or_default();
        if let Some(m) = face_match {
            evidence.insert(
                0,
                (
                    "face match".into(),
                    format!(
                        "distance {:.3} (threshold {:.2}): {}",
                        m.distance,
                        m.threshold,
                        if m.accepted {
                            "same person"
                        } else {
                            "not confirmed"
                        }
                    ),
                ),
            );
        }
        let digit_windows = liveness
            .map(|v| {
                v.evidence
                    .digits
                    .iter()
                    .filter_map(|d| {
                        Some((
                            d.start_ms? as f32 / 1000.0,
                            d.end_ms? as f32 / 1000.0,
                            d.digit.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let written = recording::write_report_after(
            path,
            recording::Summary {
                title: format!("Certification {year}"),
                language: args.lang,
                verdict: ReportVerdict {
                    passed,
                    reason: reason.clone(),
                    message: message.clone(),
                },
                evidence,
                digit_windows,
            },
            timeline,
            &input.audio,
        );
        // Not certified stays exit 1; certified with the report lost is its own code.
        exit.clone()?;
        written?;
    }
    exit
}
