//! One subject of the GRID clips for whole-session tests: the speakers whose digit words cover
//! 0–9 (aligned by `.align` files or located by dynamic time warping), their clips framed as a
//! phone's front camera sees a person ready to certify ([`super::framing`]), and their
//! enrollment by a production [`EnrollmentSession`] (resting face, then "read 0 1 2 … 9" with
//! their own digit words). Nothing is hard-coded: clips, speakers and words are discovered.

use super::analyzer;
use super::framing::{analyse_all_framed, FramedFootage, Framing};
use super::grid::{self, AnalysedClip, FrameRef, SpliceConfig, Word};
use super::shell::{self, Piece, Player, Scene};
use lifecert_core::api::certification::{
    CertificationKeys, CertificationRequest, ChallengeSource, TemplateInput,
};
use lifecert_core::api::enrollment::{
    EnrollmentKeys, EnrollmentOutcome, EnrollmentRequest, EnrollmentSession,
};
use lifecert_core::capture::quality::QualityConfig;
use lifecert_core::crypto::sealing::{SealingKey, SigningKeyPair};
use lifecert_core::identity::person::{SubjectKey, SubjectReference};
use lifecert_core::liveness::challenge::Nonce;
use lifecert_core::matching::sealed_voice::{open_voice_profile, seal_voice_profile};
use lifecert_core::matching::voice_profile::VoiceProfile;
use lifecert_core::text::messages::Language;
use lifecert_core::text::result_texts::RetireeCategory;
use lifecert_core::Engine;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// The name the subjects enroll and certify with.
pub const NAME: &str = "张三";
/// A valid GB 11643 number.
pub const ID: &str = "11010519491231002X";
/// 2026-12-02 12:00 Beijing time.
pub const NOW: u64 = 1_796_184_000;
/// Inter-ocular distance of the framed faces (pixels): GRID's own size, so the subject's clips
/// are not resampled; the canvas is sized so it reads 50 cm.
pub const TARGET_IOD_PX: f32 = 46.0;
/// Words shorter than this are not used as "other words" (single letters run together).
const MIN_OTHER_WORD_S: f64 = 0.2;

/// A certification of [`NAME`] / [`ID`] at [`NOW`] against `template`: the retiree in person,
/// provincial, in zh-Hans, a drawn challenge, no earlier failure, no voice templates (change
/// fields with `..certification_request(t)`).
pub fn certification_request(template: TemplateInput) -> CertificationRequest {
    CertificationRequest {
        name: NAME.into(),
        id_number: ID.into(),
        performed_by: lifecert_core::api::attestation::PerformedBy::Subject,
        template,
        voice_templates: None,
        server_nonce: Nonce([5; 16]),
        certification_year: 2026,
        retiree_category: RetireeCategory::Provincial,
        now_unix: NOW,
        previous_failures: 0,
        language: Language::ZhHans,
        challenge: ChallengeSource::Drawn,
    }
}

/// The footage's frame rate.
pub fn fps(footage: &FramedFootage) -> f64 {
    footage.clips.first().map_or(25.0, |c| c.analysed.fps)
}

/// Every GRID clip under `dir` framed and analysed once, with the word timings of the clips
/// without an alignment located from the aligned ones; the names of those clips.
pub fn framed_footage(dir: &Path) -> (FramedFootage, BTreeSet<String>) {
    let q = QualityConfig::default();
    let framing = Framing::portrait_for(TARGET_IOD_PX, 50.0, &q);
    let clips = grid::discover(dir);
    let mut framed = analyse_all_framed(&clips, analyzer(), &framing, &q);
    let aligned: Vec<AnalysedClip> = framed
        .iter()
        .filter(|c| c.analysed.clip.align.is_some())
        .map(|c| c.analysed.clone())
        .collect();
    let refs: Vec<&AnalysedClip> = aligned.iter().collect();
    let mut located = BTreeSet::new();
    for c in &mut framed {
        if c.analysed.clip.align.is_none() {
            match grid::locate_words(&c.analysed, &refs) {
                Some(words) => {
                    c.analysed.clip.align = Some(words);
                    located.insert(c.analysed.clip.name.clone());
                }
                None => eprintln!("{}: words not located", c.analysed.clip.name),
            }
        }
    }
    (FramedFootage::new(framing, framed), located)
}

/// One take of a word by the subject.
#[derive(Debug, Clone)]
pub struct Take {
    pub clip: String,
    pub word: Word,
    /// Located by dynamic time warping (no `.align` file for its clip).
    pub located: bool,
}

/// A speaker with every digit: enrolled, certified, attacked.
#[derive(Debug)]
pub struct Subject {
    pub speaker: String,
    /// Takes of each digit, the enrollment's first (aligned before located, then by clip).
    pub takes: BTreeMap<u8, Vec<Take>>,
    /// His other words ("set", "white", "soon", …).
    pub words: Vec<Take>,
    /// His clips.
    pub clips: Vec<String>,
    /// His clip with the longest rest before the speech (the resting face).
    pub rest_clip: String,
    /// Mean RMS of his digit words (level of voices put in his place).
    pub level: f32,
}

impl Subject {
    pub fn enroll_take(&self, d: u8) -> &Take {
        &self.takes[&d][0]
    }
    /// The genuine answers' take: a second take where one exists, else the enrollment's.
    pub fn answer_take(&self, d: u8) -> &Take {
        self.takes[&d].last().unwrap()
    }
}

/// The speakers whose digit words cover 0–9.
pub fn subjects(footage: &FramedFootage, located: &BTreeSet<String>) -> Vec<Subject> {
    let mut by_speaker: BTreeMap<&str, Vec<&AnalysedClip>> = BTreeMap::new();
    for c in &footage.clips {
        by_speaker
            .entry(c.analysed.clip.speaker.as_str())
            .or_default()
            .push(&c.analysed);
    }
    let mut out = Vec::new();
    for (speaker, clips) in by_speaker {
        let mut takes: BTreeMap<u8, Vec<Take>> = BTreeMap::new();
        let mut words = Vec::new();
        for c in &clips {
            let is_located = located.contains(&c.clip.name);
            for w in c.clip.spoken() {
                let take = Take {
                    clip: c.clip.name.clone(),
                    word: w.clone(),
                    located: is_located,
                };
                match grid::digit_of(&w.word) {
                    Some(d) => takes.entry(d).or_default().push(take),
                    None if w.duration_s() >= MIN_OTHER_WORD_S
                        && w.word.len() > 1
                        && !is_located =>
                    {
                        words.push(take)
                    }
                    None => {}
                }
            }
        }
        if takes.len() < 10 {
            continue;
        }
        for t in takes.values_mut() {
            t.sort_by(|a, b| a.located.cmp(&b.located).then(a.clip.cmp(&b.clip)));
        }
        let cfg = SpliceConfig::default();
        let rest_clip = clips
            .iter()
            .max_by_key(|c| grid::rest_frames(c, &cfg).len())
            .unwrap()
            .clip
            .name
            .clone();
        let rms: Vec<f32> = takes
            .values()
            .map(|t| {
                let c = clips.iter().find(|c| c.clip.name == t[0].clip).unwrap();
                grid::rms(word_audio(c, &t[0].word))
            })
            .collect();
        out.push(Subject {
            speaker: speaker.to_owned(),
            takes,
            words,
            clips: clips.iter().map(|c| c.clip.name.clone()).collect(),
            rest_clip,
            level: rms.iter().sum::<f32>() / rms.len() as f32,
        });
    }
    out
}

/// The audio of `w` in `c`.
pub fn word_audio<'a>(c: &'a AnalysedClip, w: &Word) -> &'a [f32] {
    let sr = f64::from(grid::SR);
    let a = ((w.start_s * sr) as usize).min(c.audio.len());
    let b = ((w.end_s * sr) as usize).min(c.audio.len());
    &c.audio[a..b]
}

/// The resting face of `clip` played forwards and backwards, with its room tone.
pub fn rest_scene(footage: &FramedFootage, clip: &str) -> Scene {
    let c = &footage.clip(clip).analysed;
    let range = grid::rest_frames(c, &SpliceConfig::default());
    let n = 2 * range.len().max(1);
    let mut frames = Vec::with_capacity(n);
    let mut audio = Vec::new();
    for i in 0..n {
        let k = grid::ping_pong(range.clone(), i);
        frames.push(FrameRef {
            clip: clip.to_owned(),
            index: k,
        });
        audio.extend(grid::audio_of_frames(c, k..k + 1));
    }
    Scene { frames, audio }
}

/// `room` repeated to `n` samples.
pub fn room_tone(room: &[f32], n: usize) -> Vec<f32> {
    room.iter().copied().cycle().take(n).collect()
}

/// The platform keystore of one subject's phone.
pub struct Keystore {
    pub subject: [u8; 32],
    pub sealing: [u8; 32],
    pub device: Vec<u8>,
}

impl Keystore {
    pub fn new(i: u8) -> Self {
        Self {
            subject: [7 + i; 32],
            sealing: [90 + i; 32],
            device: SigningKeyPair::generate_pkcs8().unwrap().to_vec(),
        }
    }
    pub fn enrollment(&self) -> EnrollmentKeys {
        EnrollmentKeys {
            subject: SubjectKey::new(&self.subject).unwrap(),
            sealing: SealingKey::new(&self.sealing).unwrap(),
        }
    }
    pub fn certification(&self) -> CertificationKeys {
        CertificationKeys {
            subject: SubjectKey::new(&self.subject).unwrap(),
            sealing: SealingKey::new(&self.sealing).unwrap(),
            device: SigningKeyPair::from_pkcs8(&self.device).unwrap(),
        }
    }
    pub fn device_public(&self) -> lifecert_core::crypto::sealing::PublicKey {
        SigningKeyPair::from_pkcs8(&self.device)
            .unwrap()
            .public_key()
    }
}

/// What the subject's enrollment gave.
pub struct Enrolled {
    pub keys: Keystore,
    pub template: Vec<u8>,
    /// Voice print and digit templates.
    pub voice: Vec<u8>,
    /// The voice print only (an enrollment whose reading gave no digit templates).
    pub voice_print_only: Vec<u8>,
    pub speech_ms: u64,
}

/// Reads "0 1 2 … 9" with the subject's enrollment takes when asked.
struct Reader<'a> {
    footage: &'a FramedFootage,
    s: &'a Subject,
}

impl Player for Reader<'_> {
    fn reaction_s(&mut self) -> f64 {
        0.7
    }
    fn answer(&mut self, digits: &[u8]) -> Piece {
        let parts: Vec<(&AnalysedClip, &Word)> = digits
            .iter()
            .map(|d| {
                let t = self.s.enroll_take(*d);
                (&self.footage.clip(&t.clip).analysed, &t.word)
            })
            .collect();
        let a = grid::splice(
            &parts,
            &SpliceConfig {
                lead_in_s: 0.0,
                tail_s: 0.0,
                pauses_s: vec![0.55, 0.65, 0.6, 0.7],
                ..SpliceConfig::default()
            },
        );
        Piece {
            frames: a.frames,
            audio: a.audio,
        }
    }
}

/// Enrolls `s` with a production enrollment session: his resting face from a few of his clips,
/// then his reading of 0–9.
pub fn enroll(engine: Arc<Engine>, footage: &FramedFootage, s: &Subject, i: u8) -> Enrolled {
    let keys = Keystore::new(i);
    let mut session = EnrollmentSession::new(
        engine,
        EnrollmentRequest {
            name: NAME.into(),
            id_number: ID.into(),
            now_unix: NOW,
            language: Language::ZhHans,
            actions: Vec::new(),
            voice_digits: true,
            rng: None,
        },
        keys.enrollment(),
    )
    .unwrap();
    session.give_consent(true).unwrap();
    session.continue_without_more_documents().unwrap();
    // The face: the resting face of up to three of his clips, one after the other.
    let mut scene = Scene {
        frames: Vec::new(),
        audio: Vec::new(),
    };
    for c in s.clips.iter().take(3) {
        let part = rest_scene(footage, c);
        scene.frames.extend(part.frames);
        scene.audio.extend(part.audio);
    }
    let run = shell::run(
        &mut session,
        footage,
        &scene,
        fps(footage),
        &mut Reader { footage, s },
        120.0,
    );
    let Some(EnrollmentOutcome::Enrolled(e)) = run.outcome else {
        panic!("{}: not enrolled: {:?}", s.speaker, run.outcome);
    };
    eprintln!(
        "{}: enrolled in {:.1} s (prompts {:?}); voice {:?}; {} frames kept",
        s.speaker,
        run.duration_s,
        run.prompts.iter().map(|p| &p.text).collect::<Vec<_>>(),
        e.package.voice,
        e.package.frames.len()
    );
    assert!(
        e.package.voice.speaker && e.package.voice.digit_templates,
        "{}: the reading of 0-9 gave {:?}",
        s.speaker,
        e.package.voice
    );
    let voice = e.sealed_voice_profile.clone().unwrap();
    let subject = SubjectReference::from_hex(&e.subject).unwrap();
    let sealing = SealingKey::new(&keys.sealing).unwrap();
    let profile = open_voice_profile(&voice, &sealing, &subject).unwrap();
    let print_only = VoiceProfile::new(profile.speaker.clone(), None).unwrap();
    Enrolled {
        template: e.sealed_template.clone(),
        voice_print_only: seal_voice_profile(&print_only, &sealing, &subject).unwrap(),
        voice,
        speech_ms: e.package.voice.speech_ms,
        keys,
    }
}
