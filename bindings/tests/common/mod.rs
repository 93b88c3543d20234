//! Set-up shared by the Rust-side tests and the bench: the sample photo as a frame, clips
//! decoded with ffmpeg, the evaluation data, the subject and keys of the sessions.
#![allow(dead_code)]

use lifecert_ffi::{
    CertificationKeys, CertificationOutcome, CertificationRequest, CertificationSession,
    ChallengeSource, Engine, EngineOptions, EnrollmentKeys, EnrollmentOutcome, EnrollmentRequest,
    FrameInput, PixelFormat, RetireeCategory, UtteranceKind,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

/// The subject of every session: a name and a valid GB 11643 number.
pub const NAME: &str = "张三";
/// A valid ID number (born 1949-12-31).
pub const ID: &str = "11010519491231002X";
/// 2026-12-02 12:00 Beijing time.
pub const NOW: u64 = 1_796_184_000;
/// The nonce the authority's server issued.
pub const SERVER_NONCE: [u8; 16] = [5; 16];

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One engine with the configuration for recordings, shared by the tests of a binary.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Engine::with_options(EngineOptions {
                for_recordings: true,
                anti_spoof_model_dir: None,
            })
            .expect("the embedded models load")
        })
        .clone()
}

/// The bundled sample portrait as an upright RGB frame (512×512).
pub fn astronaut() -> FrameInput {
    let image = lifecert_core::image::decode::load_image(&repo().join("samples/astronaut.png"))
        .expect("the sample photo decodes");
    let (width, height) = image.dimensions();
    rgb_frame(image.into_raw(), width, height)
}

/// A packed RGB frame, upright, not mirrored.
pub fn rgb_frame(data: Vec<u8>, width: u32, height: u32) -> FrameInput {
    FrameInput {
        data,
        width,
        height,
        format: PixelFormat::Rgb8,
        row_strides: vec![],
        rotation_degrees: 0,
        mirrored: false,
    }
}

/// The keys of a test's sessions (the platform keystore).
#[derive(Clone)]
pub struct Keystore {
    pub subject: Vec<u8>,
    pub sealing: Vec<u8>,
    pub device: Vec<u8>,
}

impl Keystore {
    pub fn new() -> Self {
        Keystore {
            subject: lifecert_ffi::generate_subject_key().unwrap(),
            sealing: lifecert_ffi::generate_sealing_key().unwrap(),
            device: lifecert_ffi::generate_device_key().unwrap(),
        }
    }

    pub fn enrollment(&self) -> EnrollmentKeys {
        EnrollmentKeys {
            subject_key: self.subject.clone(),
            sealing_key: self.sealing.clone(),
        }
    }

    pub fn certification(&self) -> CertificationKeys {
        CertificationKeys {
            subject_key: self.subject.clone(),
            sealing_key: self.sealing.clone(),
            device_key_pkcs8: self.device.clone(),
        }
    }

    pub fn device_public(&self) -> Vec<u8> {
        lifecert_ffi::device_public_key(self.device.clone()).unwrap()
    }
}

/// An enrollment of the subject without actions or voice (what a recording allows).
pub fn enrollment_request() -> EnrollmentRequest {
    EnrollmentRequest {
        name: NAME.into(),
        id_number: ID.into(),
        now_unix: NOW,
        language: "zh-Hans".into(),
        actions: vec![],
        voice_digits: false,
        seed: None,
    }
}

/// A certification of the subject with a device-sealed template.
pub fn certification_request(sealed: Vec<u8>, challenge: ChallengeSource) -> CertificationRequest {
    CertificationRequest {
        name: NAME.into(),
        id_number: ID.into(),
        proxy_relation: Some("child".into()),
        sealed_template: sealed,
        authority_public_key: None,
        sealed_voice_profile: None,
        server_nonce: SERVER_NONCE.to_vec(),
        certification_year: 2026,
        retiree_category: RetireeCategory::Provincial,
        now_unix: NOW,
        previous_failures: 0,
        language: "en".into(),
        challenge,
    }
}

/// Enrolls the subject from `frames` pushed 40 ms apart (consent given, no ID photos), then
/// `end_of_input` if the frames did not finish it. Returns the outcome.
pub fn enroll(keys: &Keystore, frames: &[FrameInput]) -> EnrollmentOutcome {
    let s = engine()
        .enrollment_session(enrollment_request(), keys.enrollment())
        .unwrap();
    s.give_consent(true).unwrap();
    s.continue_without_more_documents().unwrap();
    for (i, frame) in frames.iter().enumerate() {
        let u = s.push_frame(frame.clone(), i as u64 * 40).unwrap();
        if let Some(outcome) = u.outcome {
            return outcome;
        }
    }
    s.end_of_input(frames.len() as u64 * 40)
        .unwrap()
        .outcome
        .expect("end_of_input decides")
}

/// The sealed template of an enrollment that must succeed.
pub fn sealed_template(outcome: EnrollmentOutcome) -> Vec<u8> {
    match outcome {
        EnrollmentOutcome::Enrolled {
            sealed_template, ..
        } => sealed_template,
        other => panic!("not enrolled: {other:#?}"),
    }
}

/// The evaluation data directory (`LIFECERT_EVAL_DATA`, default `../shared/data` relative to
/// the repository root) when it and ffmpeg are there; otherwise records the skip of `test`
/// (a failure when `CI` is set; locally counted by `scripts/test.sh`) and returns `None`.
pub fn eval_data(test: &str) -> Option<PathBuf> {
    let dir = lifecert_test_support::eval_data(test)?;
    lifecert_test_support::media_tools(test).then_some(dir)
}

/// A clip decoded by ffmpeg: RGB frames (25 fps) and 16 kHz mono PCM.
pub struct Clip {
    pub width: u32,
    pub height: u32,
    pub frames: Vec<Vec<u8>>,
    pub audio: Vec<i16>,
}

impl Clip {
    /// The frames as camera frames.
    pub fn frame_inputs(&self) -> Vec<FrameInput> {
        self.frames
            .iter()
            .map(|f| rgb_frame(f.clone(), self.width, self.height))
            .collect()
    }
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Decodes `path`: rgb24 frames at 25 fps and s16le 16 kHz mono audio.
pub fn decode(path: &Path) -> Clip {
    let probe = run(Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=width,height", "-of", "csv=p=0"])
        .arg(path));
    let probe = String::from_utf8_lossy(&probe);
    let (w, h) = probe.trim().split_once(',').expect("width,height");
    let (width, height): (u32, u32) = (w.parse().unwrap(), h.parse().unwrap());
    let video = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-r", "25", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]));
    let size = (width * height * 3) as usize;
    assert_eq!(video.len() % size, 0, "whole frames");
    let audio = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s16le", "-ac", "1", "-ar", "16000", "-"]));
    Clip {
        width,
        height,
        frames: video.chunks_exact(size).map(<[u8]>::to_vec).collect(),
        audio: audio
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect(),
    }
}

/// Replays `frames` (t = i·40 ms) and `audio` (chunks of 20, 30 and 40 ms in turn) into a
/// certification session in time order, as a shell would. When an update speaks a prompt
/// at `t`, the shell reports `prompt_started(t)`, and `prompt_finished(max(t, prompt_end_ms))`
/// once the replay clock reaches that time (the recording's speech begins at ≈ 490 ms).
/// Ends with `end_of_input(end_ms)` unless an outcome came first. Returns the outcome and
/// the prompts spoken.
pub fn replay(
    session: &CertificationSession,
    frames: &[FrameInput],
    audio: &[i16],
    prompt_end_ms: u64,
    end_ms: u64,
) -> (CertificationOutcome, Vec<String>) {
    const CHUNKS: [usize; 3] = [320, 480, 640];
    let mut prompts = Vec::new();
    let mut pending_end: Option<u64> = None;
    let (mut next_frame, mut next_sample, mut k) = (0usize, 0usize, 0usize);
    loop {
        let frame_t = (next_frame < frames.len()).then_some(next_frame as u64 * 40);
        let audio_t = (next_sample < audio.len()).then_some(next_sample as u64 / 16);
        let t = match (frame_t, audio_t) {
            (None, None) => break,
            (Some(f), Some(a)) => f.min(a),
            (Some(f), None) => f,
            (None, Some(a)) => a,
        };
        if let Some(e) = pending_end.filter(|&e| e <= t) {
            if let Some(o) = session.prompt_finished(e).unwrap().outcome {
                return (o, prompts);
            }
            pending_end = None;
        }
        let update = if audio_t == Some(t) {
            let stop = (next_sample + CHUNKS[k % 3]).min(audio.len());
            k += 1;
            let u = session
                .push_audio(audio[next_sample..stop].to_vec(), t)
                .unwrap();
            next_sample = stop;
            u
        } else {
            let u = session.push_frame(frames[next_frame].clone(), t).unwrap();
            next_frame += 1;
            u
        };
        if let Some(o) = update.outcome {
            return (o, prompts);
        }
        for p in update
            .speak
            .iter()
            .filter(|u| u.kind == UtteranceKind::Prompt)
        {
            prompts.push(p.text.clone());
            if let Some(o) = session.prompt_started(t).unwrap().outcome {
                return (o, prompts);
            }
            pending_end = Some(t.max(prompt_end_ms));
        }
    }
    if let Some(e) = pending_end {
        if let Some(o) = session.prompt_finished(e.min(end_ms)).unwrap().outcome {
            return (o, prompts);
        }
    }
    let o = session.end_of_input(end_ms).unwrap().outcome;
    (o.expect("end_of_input decides"), prompts)
}
