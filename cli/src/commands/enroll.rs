//! `lifecert enroll`: an enrollment from still photos or a recorded clip, run through the
//! same session a phone runs, then issued as the pension authority would: the enrolled
//! template is signed with the authority key of the local key file and sealed for the
//! device. The output is what `lifecert certify --template` takes.
//!
//! Photos and recordings cannot follow random actions, so this enrollment has no action
//! step (the package says so); on a phone the shell asks for the actions.

use super::flags::parse_language;
use super::recording::{self, EXIT_NOT_PASSED, STILL_FPS};
use super::{CommandError, EXIT_BAD_INPUT, EXIT_INTERNAL};
use lifecert_cli::media::{MediaError, VideoFrame};
use lifecert_cli::replay::{replay, PromptTiming};
use lifecert_cli::report::Verdict as ReportVerdict;
use lifecert_core::api::enrollment::{EnrollmentOutcome, EnrollmentRequest, EnrollmentSession};
use lifecert_core::api::voice_enrollment::profile_from_recordings;
use lifecert_core::identity::id_document::DocumentSide;
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::matching::sealed_template::{open_template, seal_issued, IssuedTemplate};
use lifecert_core::matching::sealed_voice::seal_voice_profile;
use lifecert_core::matching::templates::descriptor_model;
use lifecert_core::text::messages::Language;
use lifecert_core::ModelSource;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many frames each photo is shown for (a still photo held for 0.2 s).
const FRAMES_PER_PHOTO: usize = 5;
/// Largest ID photo read (the upload limit itself is checked by the core).
const MAX_ID_FILE: u64 = 32 * 1024 * 1024;

/// Enroll a person from photos or a recorded clip through the enrollment session, and
/// write the template issued with the local authority key, sealed for this device.
/// Exit 0 enrolled, 1 not enrolled, 2 bad input, 3 internal failure, 5 enrolled and the
/// template written but the report could not be.
#[derive(Debug, clap::Args)]
pub struct EnrollArgs {
    /// Photos of the face (files, or folders of JPEG/PNG/WebP).
    #[arg(long, num_args = 1.., value_name = "PATH", conflicts_with = "video")]
    pub photos: Vec<PathBuf>,
    /// A recorded clip of the face (mp4, webm, mpg, …).
    #[arg(long, value_name = "FILE")]
    pub video: Option<PathBuf>,
    /// Photo of the ID card's portrait side (JPEG or PNG, at most 1 MB).
    #[arg(long, value_name = "F")]
    pub id_front: Option<PathBuf>,
    /// Photo of the ID card's other side.
    #[arg(long, value_name = "F")]
    pub id_back: Option<PathBuf>,
    /// The person's name.
    #[arg(long)]
    pub name: String,
    /// The person's resident ID number.
    #[arg(long)]
    pub id: String,
    /// Where the sealed template goes.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Language of the instructions: zh-Hans, zh-Hant or en.
    #[arg(long, default_value = "zh-Hans", value_parser = parse_language)]
    pub lang: Language,
    /// Write a report: HTML, or PNG when the name ends in .png.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The key file (created on first use). Default ~/.config/lifecert/keys.json.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// Recordings of the person speaking (any words, any length; audio or video files):
    /// their voice is enrolled, and certification compares the answer's voice with it.
    #[arg(long, num_args = 1.., value_name = "AUDIO")]
    pub voice: Vec<PathBuf>,
    /// A recording of the person reading the digits 0 to 9 with a pause after each: also
    /// enrolls the digits, so certification verifies the spoken digits.
    #[arg(long, value_name = "AUDIO")]
    pub voice_digits: Option<PathBuf>,
    /// Where the sealed voice profile goes. Default: the --out file with `.voice` added.
    #[arg(long, value_name = "FILE")]
    pub voice_out: Option<PathBuf>,
}

/// Decodes a recording's sound as 16 kHz mono samples in [-1, 1].
fn voice_recording(path: &Path) -> Result<Vec<f32>, CommandError> {
    let pcm = lifecert_cli::media::audio_16k_mono(path)
        .map_err(|e| (EXIT_BAD_INPUT, format!("{}: {e}", path.display())))?;
    Ok(pcm.iter().map(|&s| f32::from(s) / 32768.0).collect())
}

/// The voice profile of the `--voice` / `--voice-digits` recordings, sealed for `subject`,
/// written to `--voice-out`; `None` when no voice was given.
fn enroll_voice(
    engine: &lifecert_core::Engine,
    keys: &lifecert_cli::keys::Keys,
    subject: &SubjectReference,
    args: &EnrollArgs,
) -> Result<Option<serde_json::Value>, CommandError> {
    if args.voice.is_empty() && args.voice_digits.is_none() {
        return Ok(None);
    }
    let recordings = args
        .voice
        .iter()
        .map(|p| voice_recording(p))
        .collect::<Result<Vec<_>, _>>()?;
    let digits = args
        .voice_digits
        .as_deref()
        .map(voice_recording)
        .transpose()?;
    let refs: Vec<&[f32]> = recordings.iter().map(Vec::as_slice).collect();
    let profile = profile_from_recordings(engine, &refs, digits.as_deref())
        .map_err(|e| (EXIT_BAD_INPUT, format!("voice: {e}")))?;
    let sealed = seal_voice_profile(&profile, keys.sealing_key(), subject)
        .map_err(|e| (EXIT_INTERNAL, e.to_string()))?;
    let out = args.voice_out.clone().unwrap_or_else(|| {
        let mut name = args.out.clone().into_os_string();
        name.push(".voice");
        PathBuf::from(name)
    });
    recording::write_file(&out, &sealed)?;
    eprintln!("lifecert: voice profile sealed to {}", out.display());
    Ok(Some(json!({
        "file": out.display().to_string(),
        "speaker": profile.speaker.is_some(),
        "digit_templates": profile.digits.is_some(),
        "speech_ms": profile.speaker.as_ref().map(|s| s.enrolled_speech_ms),
    })))
}

fn photo_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CommandError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| (EXIT_BAD_INPUT, format!("{}: {e}", p.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        matches!(
                            e.to_ascii_lowercase().as_str(),
                            "jpg" | "jpeg" | "png" | "webp"
                        )
                    })
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err((EXIT_BAD_INPUT, "no photos found".into()));
    }
    Ok(out)
}

/// Each photo shown for a moment, one after the other, as frames: decoded one at a time,
/// when its turn comes (never all up front), and shown [`FRAMES_PER_PHOTO`] times — at most
/// two copies of one photo are alive at once (the frame the session holds and the next).
fn photo_frames(files: Vec<PathBuf>) -> impl Iterator<Item = Result<VideoFrame, MediaError>> {
    let mut index = 0usize;
    files.into_iter().flat_map(move |f| {
        let first = index;
        index += FRAMES_PER_PHOTO;
        let frame = |i: usize, image| VideoFrame {
            index: i,
            timestamp: Duration::from_secs_f64(i as f64 / STILL_FPS),
            image,
        };
        let frames: Box<dyn Iterator<Item = Result<VideoFrame, MediaError>>> =
            match lifecert_core::image::decode::load_image(&f) {
                Ok(image) => {
                    let mut image = Some(image);
                    Box::new((first..first + FRAMES_PER_PHOTO).filter_map(move |i| {
                        // The last showing takes the picture itself, the others a copy.
                        let picture = if i + 1 == first + FRAMES_PER_PHOTO {
                            image.take()
                        } else {
                            image.clone()
                        };
                        picture.map(|p| Ok(frame(i, p)))
                    }))
                }
                Err(e) => Box::new(std::iter::once(Err(MediaError::Unreadable {
                    path: f.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                }))),
            };
        frames
    })
}

fn read_id(path: &Path) -> Result<Vec<u8>, CommandError> {
    lifecert_core::image::decode::read_regular_file(path, MAX_ID_FILE)
        .map_err(|e| (EXIT_BAD_INPUT, format!("{}: {e}", path.display())))
}

/// Runs `enroll`.
pub fn run(source: &ModelSource, args: &EnrollArgs) -> Result<(), CommandError> {
    let keys = recording::keys_for_enrollment(args.keys.as_deref())?;
    let engine = recording::engine(source, None)?;
    let now = recording::now_unix();
    let mut session = EnrollmentSession::new(
        engine.clone(),
        EnrollmentRequest {
            name: args.name.clone(),
            id_number: args.id.clone(),
            now_unix: now,
            language: args.lang,
            actions: Vec::new(),
            voice_digits: false,
            rng: None,
        },
        keys.enrollment_keys()
            .map_err(|e| (EXIT_BAD_INPUT, e.to_string()))?,
    )
    .map_err(|e| (EXIT_BAD_INPUT, e.to_string()))?;
    session
        .give_consent(true)
        .map_err(|e| (EXIT_INTERNAL, e.to_string()))?;
    for (side, path) in [
        (DocumentSide::Front, &args.id_front),
        (DocumentSide::Back, &args.id_back),
    ] {
        if let Some(p) = path {
            let bytes = read_id(p)?;
            session.add_id_document(side, &bytes).map_err(|e| {
                // What the person is told (JPG or PNG, at most 1 MB, …), then the cause.
                let told = session
                    .id_photo_message(&e)
                    .map(|t| format!("{t} "))
                    .unwrap_or_default();
                (EXIT_BAD_INPUT, format!("{told}({}: {e})", p.display()))
            })?;
            eprintln!("lifecert: ID photo {} accepted ({side:?})", p.display());
        }
    }
    if session.phase() == lifecert_core::api::session::Phase::IdDocuments {
        session
            .continue_without_more_documents()
            .map_err(|e| (EXIT_INTERNAL, e.to_string()))?;
    }
    let (frames, total): (Box<dyn Iterator<Item = Result<VideoFrame, MediaError>>>, _) =
        match (&args.video, args.photos.is_empty()) {
            (Some(v), true) => {
                let input = recording::input(Some(v), None, 0.0, None)?;
                (input.frames, input.total)
            }
            (None, false) => (Box::new(photo_frames(photo_files(&args.photos)?)), None),
            _ => {
                return Err((
                    EXIT_BAD_INPUT,
                    "give exactly one of --video FILE or --photos PATH...".into(),
                ))
            }
        };
    let mut print = recording::printer();
    let (outcome, timeline) = replay(
        &mut session,
        engine.analyzer(),
        frames,
        &[],
        PromptTiming::Spoken,
        total,
        &mut print,
    )
    .map_err(recording::replay_error)?;
    let (passed, reason, message, evidence) = match &outcome {
        EnrollmentOutcome::Enrolled(e) => {
            let p = &e.package;
            let mut evidence = vec![
                ("frames kept".to_string(), p.frames.len().to_string()),
                ("frames refused".to_string(), p.rejected_frames.to_string()),
                (
                    "liveness".to_string(),
                    "no action step (photos or a recording)".to_string(),
                ),
            ];
            if let Some((d, ok)) = p.id_front_match {
                evidence.push((
                    "ID portrait".to_string(),
                    format!(
                        "distance {d:.3} ({})",
                        if ok { "consistent" } else { "to review" }
                    ),
                ));
            }
            (
                true,
                "enrolled".to_string(),
                e.result_text.text.clone(),
                evidence,
            )
        }
        EnrollmentOutcome::NotEnrolled(n) => {
            (false, n.failure.id(), n.message.text.clone(), Vec::new())
        }
    };
    // The template first: a report that cannot be written must never cost the enrollment.
    let result = match outcome {
        EnrollmentOutcome::Enrolled(e) => issue(&e, &engine, &keys, now, args),
        EnrollmentOutcome::NotEnrolled(_) => {
            println!("{}", json!({ "outcome": "not_enrolled", "reason": reason }));
            Err((EXIT_NOT_PASSED, format!("not enrolled: {reason}")))
        }
    };
    if result
        .as_ref()
        .is_err_and(|(code, _)| *code != EXIT_NOT_PASSED)
    {
        return result;
    }
    if let Some(path) = &args.report {
        recording::write_report_after(
            path,
            recording::Summary {
                title: "Enrollment".into(),
                language: args.lang,
                verdict: ReportVerdict {
                    passed,
                    reason: reason.clone(),
                    message,
                },
                evidence,
                digit_windows: Vec::new(),
            },
            timeline,
            &[],
        )?;
    }
    result
}

/// The authority's side of an enrollment: opens the device-sealed enrollment, signs it for
/// the subject, seals it for the device and writes it to `out`; prints the JSON summary.
fn issue(
    e: &lifecert_core::api::enrollment::Enrolled,
    engine: &lifecert_core::Engine,
    keys: &lifecert_cli::keys::Keys,
    now: u64,
    args: &EnrollArgs,
) -> Result<(), CommandError> {
    let out = &args.out;
    let subject =
        SubjectReference::from_hex(&e.subject).map_err(|err| (EXIT_INTERNAL, err.to_string()))?;
    let model =
        descriptor_model(engine.analyzer()).map_err(|err| (EXIT_INTERNAL, err.to_string()))?;
    let template = open_template(&e.sealed_template, keys.sealing_key(), &subject, &model)
        .map_err(|err| (EXIT_INTERNAL, err.to_string()))?;
    let issued = IssuedTemplate::issue(keys.authority_key(), &subject, &template, now)
        .and_then(|i| seal_issued(&i, keys.sealing_key()))
        .map_err(|err| (EXIT_INTERNAL, err.to_string()))?;
    recording::write_file(out, &issued)?;
    eprintln!(
        "lifecert: template issued with the local authority key and sealed to {}",
        out.display()
    );
    let voice = enroll_voice(engine, keys, &subject, args)?;
    println!(
        "{}",
        json!({
            "outcome": "enrolled",
            "frames": e.package.frames.len(),
            "quality": e.package.frames.iter().map(|f| json!({
                "t_ms": f.t_ms,
                "interocular_px": f.quality.interocular_px,
                "sharpness": f.quality.sharpness,
                "yaw": f.quality.yaw,
                "pitch": f.quality.pitch,
            })).collect::<Vec<_>>(),
            "id_front_distance": e.package.id_front_match.map(|m| m.0),
            "template": out.display().to_string(),
            "voice": voice,
        })
    );
    Ok(())
}
