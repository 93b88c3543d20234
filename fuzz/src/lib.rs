//! The bodies of lifecert's fuzz targets: one function per target, taking the fuzzer's bytes.
//!
//! Each is called by its `cargo fuzz` target (`fuzz/fuzz_targets/*.rs`) and, on every file of
//! the committed corpus (`fuzz/corpus/<target>/`) and every crash reproducer
//! (`fuzz/regressions/<target>/`), by the ordinary test `core/tests/fuzz_corpus.rs`, which
//! includes this file as a module. So a body only uses `lifecert_core`, `image` and
//! `serde_json`, and must be deterministic.
//!
//! A body never panics on any input: every public function of the core it calls must answer
//! with a value or a typed error. Where a call succeeds, the body also checks what must then
//! hold (sizes, round trips), so a wrong answer is a crash too.

use lifecert_core::api::attestation::{verify_attestation_with, InMemoryNonceLedger, VerifyPolicy};
use lifecert_core::api::certification::{
    CertificationKeys, CertificationOutcome, CertificationRequest, CertificationSession,
    ChallengeSource, TemplateInput,
};
use lifecert_core::api::enrollment::{
    EnrollmentKeys, EnrollmentOutcome, EnrollmentRequest, EnrollmentSession,
};
use lifecert_core::audio::mfcc::FeatureMatrix;
use lifecert_core::crypto::sealing::{SealingKey, SigningKeyPair};
use lifecert_core::identity::id_document::{DocumentSide, IdDocumentChecker};
use lifecert_core::identity::person::{
    Date, IdNumber, MobileNumber, PersonName, SubjectKey, SubjectReference,
};
use lifecert_core::image::frame::{Frame, PixelFormat, PlaneLayout, Rotation};
use lifecert_core::liveness::challenge::{DigitChallenge, Nonce};
use lifecert_core::liveness::digit_verify::{TemplateDigitVerifier, VerifyConfig, VoiceTemplates};
use lifecert_core::matching::sealed_template::{open_issued, open_template};
use lifecert_core::matching::sealed_voice::{open_voice_profile, seal_voice_profile};
use lifecert_core::matching::voice_profile::VoiceProfile;
use lifecert_core::model::assets::ModelInfo;
use lifecert_core::text::messages::Language;
use lifecert_core::{Config, Engine};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A target's body.
pub type Body = fn(&[u8]);

/// Every target, by name: the replay test walks this list.
pub const TARGETS: &[(&str, Body)] = &[
    ("frame", frame),
    ("image_upload", image_upload),
    ("sealed_templates", sealed_templates),
    ("attestation", attestation),
    ("identity", identity),
    ("audio_session", audio_session),
];

/// Reads the fuzzer's bytes as a stream of small fields; past the end every field is 0.
struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Input { bytes }
    }

    fn u8(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// A size that is usually small (the low byte) and sometimes anything (a whole `u64`),
    /// so that both the ordinary paths and the overflow checks are reached.
    fn size(&mut self) -> usize {
        match self.u8() {
            0..=239 => usize::from(self.u8()),
            240..=249 => usize::from(self.u16()),
            _ => self.u64() as usize,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}

// --- frame -------------------------------------------------------------------------------

const FORMATS: [PixelFormat; 6] = [
    PixelFormat::Rgba8,
    PixelFormat::Bgra8,
    PixelFormat::Rgb8,
    PixelFormat::Nv21,
    PixelFormat::Nv12,
    PixelFormat::I420,
];

/// Camera frames: every pixel format, sizes (also zero and huge), row strides, plane
/// offsets, rotations (also invalid ones) and the mirror, through the three constructors;
/// then the conversion to upright RGB, whose size must be [`Frame::upright_size`].
pub fn frame(data: &[u8]) {
    let mut input = Input::new(data);
    let format = FORMATS[usize::from(input.u8()) % FORMATS.len()];
    let dims = input.u8();
    // Small sides usually (the buffer is the fuzzer's input), any u32 sometimes.
    let (width, height) = if dims & 0x80 == 0 {
        (u32::from(input.u8() % 64), u32::from(input.u8() % 64))
    } else {
        (input.u32(), input.u32())
    };
    let rotation = match input.u8() % 8 {
        0 => Rotation::from_degrees(0),
        1 => Rotation::from_degrees(90),
        2 => Rotation::from_degrees(180),
        3 => Rotation::from_degrees(270),
        4 => Rotation::from_degrees(-90),
        5 => Rotation::from_degrees(-360),
        _ => Rotation::from_degrees(input.u32() as i32),
    };
    let mirrored = dims & 1 == 1;
    let constructor = input.u8() % 3;
    let planes = (input.u8() % 4) as usize;
    let layouts: Vec<PlaneLayout> = (0..planes)
        .map(|_| PlaneLayout::new(input.size(), input.size()))
        .collect();
    let pixels = input.rest();
    let Ok(rotation) = rotation else {
        return;
    };
    let built = match constructor {
        0 => Frame::packed(pixels, width, height, format, rotation, mirrored),
        1 => {
            let strides: Vec<usize> = layouts.iter().map(|l| l.row_stride).collect();
            Frame::with_strides(pixels, width, height, format, &strides, rotation, mirrored)
        }
        _ => Frame::with_planes(pixels, width, height, format, &layouts, rotation, mirrored),
    };
    let Ok(frame) = built else {
        return;
    };
    let rgb = frame.to_rgb();
    assert_eq!(rgb.dimensions(), frame.upright_size());
    assert_eq!(frame.planes().len(), format.plane_count());
}

// --- image uploads -----------------------------------------------------------------------

fn id_checker() -> &'static IdDocumentChecker {
    static CHECKER: OnceLock<IdDocumentChecker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        IdDocumentChecker::new(Config::default().face(), Config::default().id_document)
            .expect("embedded models")
    })
}

/// Encoded pictures as a user uploads them: `image_io::decode_image` (any face photo) and the
/// ID-document check of either side (format sniffing, budget, strict JPEG decoding, face
/// search, re-encoding under the 1 MB limit).
pub fn image_upload(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if let Ok(image) = lifecert_core::image::decode::decode_image(bytes) {
        let (w, h) = image.dimensions();
        assert!(w > 0 && h > 0);
        assert!(u64::from(w) * u64::from(h) <= lifecert_core::image::decode::MAX_IMAGE_PIXELS);
    }
    let side = if mode & 1 == 0 {
        DocumentSide::Front
    } else {
        DocumentSide::Back
    };
    if let Ok(document) = id_checker().check_upload(bytes, side) {
        assert!(document.jpeg.len() <= id_checker().config().max_upload_bytes);
        assert_eq!(side == DocumentSide::Front, document.portrait.is_some());
    }
}

// --- sealed templates --------------------------------------------------------------------

/// A fixed Ed25519 key (PKCS#8 v2), made once for the fuzz corpus; it signs nothing real.
const DEVICE_PKCS8_HEX: &str = "3053020101300506032b6570042204200e3ab2d1576c03d3f6db32385a49ace2\
                                b10bfb169ef69b5a41738f9bf6b4e8aea123032100e6d213c989a1035b731c8b\
                                49874e2f11cd9637550dd69a6902d8f4e923ac61d6";
const SEALING_KEY: [u8; 32] = [7; 32];
const SUBJECT_KEY: [u8; 32] = [9; 32];
/// The subject of every session: a valid GB 11643 number (born 1949-12-31).
const ID_NUMBER: &str = "11010519491231002X";
/// 2026-12-02 12:00 Beijing time.
const NOW: u64 = 1_796_184_000;

fn subject() -> SubjectReference {
    let today = Date::from_unix_china(NOW).expect("a date");
    let id = IdNumber::parse(ID_NUMBER, today).expect("a valid ID number");
    SubjectReference::derive(&SubjectKey::new(&SUBJECT_KEY).expect("a key"), &id)
}

/// The device's signing key: fixed (PKCS#8 v2 of a key made once for the fuzz corpus) so
/// that committed envelopes verify on every run.
fn device_key() -> &'static SigningKeyPair {
    static KEY: OnceLock<SigningKeyPair> = OnceLock::new();
    KEY.get_or_init(|| SigningKeyPair::from_pkcs8(&hex(DEVICE_PKCS8_HEX)).expect("a key pair"))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The descriptor model of the embedded models (what templates are bound to).
fn descriptor_model() -> ModelInfo {
    lifecert_core::matching::templates::descriptor_model(session_setup().engine.analyzer())
        .expect("the embedded descriptor model")
}

/// Sealed face templates (device-sealed and authority-issued) and sealed voice templates as
/// read back from storage, and voice templates as decoded after opening. The first byte
/// chooses which; the rest is the stored bytes (or the plaintext JSON, for the last).
pub fn sealed_templates(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let key = SealingKey::new(&SEALING_KEY).expect("a key");
    let subject = subject();
    let model = descriptor_model();
    match mode % 4 {
        0 => {
            let _ = open_template(bytes, &key, &subject, &model);
        }
        1 => {
            if let Ok(issued) = open_issued(bytes, &key, &subject, &model) {
                let _ = issued.verify(&device_key().public_key(), &subject, &model);
            }
        }
        2 => {
            let _ = open_voice_profile(bytes, &key, &subject);
        }
        _ => {
            // What an opened seal holds: the templates are checked as they are decoded.
            if let Ok(templates) = serde_json::from_slice::<VoiceTemplates>(bytes) {
                let dims = templates.dims();
                for digit in 0..10 {
                    let _ = templates.takes(digit);
                }
                let back = serde_json::to_vec(&templates).expect("re-encodes");
                let again: VoiceTemplates = serde_json::from_slice(&back).expect("round trip");
                assert_eq!(again, templates);
                assert_eq!(again.dims(), dims);
                // And they are usable: a verifier scores a segment against them.
                if let Ok(verifier) =
                    TemplateDigitVerifier::new(&templates, VerifyConfig::default())
                {
                    let frames = 1 + usize::from(mode >> 2) % 40;
                    let data = (0..frames * dims).map(|i| (i % 7) as f32 - 3.0).collect();
                    if let Ok(segment) = FeatureMatrix::new(frames, dims, data) {
                        if let Some(costs) = verifier.digit_costs(&segment) {
                            assert!(costs.iter().all(|c| !c.is_nan()), "{costs:?}");
                        }
                    }
                }
            }
        }
    }
}

// --- attestations ------------------------------------------------------------------------

/// A certification result as the authority's backend receives it. First byte even: the
/// bytes are the envelope, verified as is (parsing, canonical form, signature). Odd: the
/// bytes are a payload, signed here with the trusted device key, so that the attestation's
/// own decoding and validation are reached.
pub fn attestation(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let key = device_key();
    let envelope = if mode & 1 == 0 {
        text.to_owned()
    } else {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        match lifecert_core::crypto::sealing::sign_canonical(
            key,
            lifecert_core::api::attestation::ATTESTATION_PURPOSE,
            &value,
        )
        .and_then(|signed| signed.to_json())
        {
            Ok(envelope) => envelope,
            Err(_) => return,
        }
    };
    let nonce = Nonce([(mode >> 1) & 0x0F; 16]);
    let policy = VerifyPolicy {
        accept_supplied_challenge: mode & 0x80 != 0,
        accept_recording_replay: mode & 0x80 != 0,
        accept_count_only: mode & 0x80 != 0,
        ..VerifyPolicy::default()
    };
    let mut ledger = InMemoryNonceLedger::new();
    if let Ok(a) =
        verify_attestation_with(&envelope, &key.public_key(), &nonce, &mut ledger, &policy)
    {
        assert_eq!(a.server_nonce, nonce);
        a.validate().expect("a verified attestation is valid");
        // The same nonce cannot be used twice.
        assert!(verify_attestation_with(
            &envelope,
            &key.public_key(),
            &nonce,
            &mut ledger,
            &policy
        )
        .is_err());
    }
}

// --- ID numbers, names, phones -----------------------------------------------------------

/// What a person types: an ID number, a name, a mobile number (the bytes split at `0xFF`,
/// as text), and a clock reading for "today".
pub fn identity(data: &[u8]) {
    let mut input = Input::new(data);
    let now = input.u64();
    let rest = input.rest();
    let mut fields = rest.split(|&b| b == 0xFF).map(String::from_utf8_lossy);
    let id = fields.next().unwrap_or_default();
    let name = fields.next().unwrap_or_default();
    let phone = fields.next().unwrap_or_default();
    let today =
        Date::from_unix_china(now).unwrap_or_else(|| Date::new(2026, 12, 2).expect("a date"));
    if let Ok(number) = IdNumber::parse(&id, today) {
        let eighteen = number.to_18();
        assert_eq!(eighteen.as_str().chars().count(), 18);
        let _ = number.masked();
        let _ = number.age_on(today);
        let _ = number.sex();
        let _ = number.region_code();
        // A parsed number parses again to itself.
        let again = IdNumber::parse(number.as_str(), today).expect("re-parses");
        assert_eq!(again.as_str(), number.as_str());
        let key = SubjectKey::new(&SUBJECT_KEY).expect("a key");
        let reference = SubjectReference::derive(&key, &number);
        assert!(reference.matches(&key, &number));
        assert_eq!(
            SubjectReference::from_hex(&reference.to_hex()).expect("hex round trip"),
            reference
        );
    }
    let _ = SubjectReference::from_hex(&id);
    let _ = lifecert_core::identity::person::mod11_2_check_character(&id);
    if let Ok(person) = PersonName::parse(&name) {
        assert!(person.as_str().chars().count() <= PersonName::MAX_CHARS);
        let _ = person.masked();
        let _ = person.script();
        assert_eq!(
            PersonName::parse(person.as_str())
                .expect("re-parses")
                .as_str(),
            person.as_str()
        );
    }
    if let Ok(mobile) = MobileNumber::parse(&phone) {
        let _ = mobile.masked();
        assert_eq!(
            MobileNumber::parse(mobile.as_str())
                .expect("re-parses")
                .as_str(),
            mobile.as_str()
        );
    }
}

// --- audio into a session ----------------------------------------------------------------

struct SessionSetup {
    engine: Arc<Engine>,
    sealed: Vec<u8>,
}

/// The bundled sample portrait, enrolled once (a still photo enrolls with the configuration
/// for recordings, which has no positioning gate and no action step).
fn session_setup() -> &'static SessionSetup {
    static SETUP: OnceLock<SessionSetup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let photo = lifecert_core::image::decode::decode_image(include_bytes!(
            "../../samples/astronaut.png"
        ))
        .expect("the sample photo decodes");
        let recordings = Arc::new(Engine::new(Config::for_recordings()).expect("models load"));
        let mut enrollment = EnrollmentSession::new(
            recordings,
            EnrollmentRequest {
                name: "张三".into(),
                id_number: ID_NUMBER.into(),
                now_unix: NOW,
                language: Language::En,
                actions: Vec::new(),
                voice_digits: false,
                rng: None,
            },
            EnrollmentKeys {
                subject: SubjectKey::new(&SUBJECT_KEY).expect("a key"),
                sealing: SealingKey::new(&SEALING_KEY).expect("a key"),
            },
        )
        .expect("an enrollment session");
        enrollment.give_consent(true).expect("consent");
        enrollment
            .continue_without_more_documents()
            .expect("no documents");
        let frame = Frame::from_rgb_image(&photo).expect("a frame");
        let mut outcome = None;
        for i in 0..8u64 {
            let update = enrollment
                .push_frame(&frame, Duration::from_millis(i * 40))
                .expect("a frame");
            if let Some(o) = update.outcome {
                outcome = Some(o);
                break;
            }
        }
        let outcome = match outcome {
            Some(o) => o,
            None => enrollment
                .end_of_input(Duration::from_millis(400))
                .expect("the end")
                .outcome
                .expect("an outcome"),
        };
        let EnrollmentOutcome::Enrolled(enrolled) = outcome else {
            panic!("the sample photo does not enroll: {outcome:?}");
        };
        SessionSetup {
            engine: Arc::new(Engine::new(Config::default()).expect("models load")),
            sealed: enrolled.sealed_template.clone(),
        }
    })
}

/// A certification session (production configuration) fed what a shell might send: audio
/// chunks of any length and content, prompt and tick calls, tiny frames, at timestamps that
/// may go backwards, until the end of input. Every call must answer with an update or a
/// typed error; once there is an outcome, every later call is refused with an error.
pub fn audio_session(data: &[u8]) {
    let setup = session_setup();
    let mut input = Input::new(data);
    let digits: Vec<u8> = (0..3).map(|_| input.u8() % 10).collect();
    let request = CertificationRequest {
        name: "张三".into(),
        id_number: ID_NUMBER.into(),
        performed_by: lifecert_core::api::attestation::PerformedBy::Subject,
        template: TemplateInput::Device {
            sealed: setup.sealed.clone(),
        },
        voice_templates: None,
        server_nonce: Nonce([5; 16]),
        certification_year: 2026,
        retiree_category: lifecert_core::text::result_texts::RetireeCategory::Provincial,
        now_unix: NOW,
        previous_failures: u32::from(input.u8() % 5),
        language: Language::En,
        challenge: ChallengeSource::Supplied(DigitChallenge {
            nonce: Nonce([6; 16]),
            digits,
        }),
    };
    let keys = CertificationKeys {
        subject: SubjectKey::new(&SUBJECT_KEY).expect("a key"),
        sealing: SealingKey::new(&SEALING_KEY).expect("a key"),
        device: SigningKeyPair::from_pkcs8(&SigningKeyPair::generate_pkcs8().expect("pkcs8"))
            .expect("a key"),
    };
    let Ok(mut session) = CertificationSession::new(setup.engine.clone(), request, keys) else {
        return;
    };
    let mut t: u64 = 0;
    let mut finished = false;
    for _ in 0..64 {
        if input.bytes.is_empty() {
            break;
        }
        let op = input.u8();
        // Mostly forward in small steps; sometimes back, sometimes far.
        t = match op >> 5 {
            0 => t.saturating_sub(u64::from(input.u8())),
            7 => input.u64() % (1 << 40),
            _ => t + u64::from(input.u8()),
        };
        let at = Duration::from_millis(t);
        let result = match op % 6 {
            0 | 1 => {
                let n = usize::from(input.u16() % 4000);
                let raw = input.take(2 * n);
                let pcm: Vec<i16> = raw
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect();
                session.push_audio(&pcm, at)
            }
            2 => session.prompt_started(at),
            3 => session.prompt_finished(at),
            4 => session.tick(at),
            _ => {
                let side = u32::from(input.u8() % 16) + 1;
                let pixels = input.take((side * side * 3) as usize).to_vec();
                match Frame::packed(
                    &pixels,
                    side,
                    side,
                    PixelFormat::Rgb8,
                    Rotation::Deg0,
                    false,
                ) {
                    Ok(frame) => session.push_frame(&frame, at),
                    Err(_) => continue,
                }
            }
        };
        if let Ok(update) = result {
            assert!(!finished, "a call after the outcome was accepted");
            finished |= update.outcome.is_some();
        }
    }
    if !finished {
        if let Ok(update) = session.end_of_input(Duration::from_millis(t + 1)) {
            if let Some(CertificationOutcome::Certified(_)) = update.outcome {
                // Noise and silence certify nobody.
                panic!("certified from fuzzed input");
            }
        }
    }
}

// --- seeds -------------------------------------------------------------------------------

/// The seed inputs of every target, `(target, file name, bytes)`: small, valid or nearly
/// valid inputs from which the fuzzer starts. Written to `fuzz/corpus/` by the ignored test
/// `write_fuzz_seeds` of `core/tests/fuzz_corpus.rs`.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    frame_seeds(&mut out);
    image_seeds(&mut out);
    template_seeds(&mut out);
    attestation_seeds(&mut out);
    identity_seeds(&mut out);
    session_seeds(&mut out);
    out
}

type Seeds = Vec<(&'static str, String, Vec<u8>)>;

fn frame_seeds(out: &mut Seeds) {
    // Each format, 5×3 (odd sides), each constructor and rotation, with a gradient.
    for (f, format) in FORMATS.iter().enumerate() {
        for constructor in 0..3u8 {
            let (w, h) = (5usize, 3usize);
            let planes = format.plane_count();
            let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
            let rows: Vec<(usize, usize)> = match format {
                PixelFormat::Rgba8 | PixelFormat::Bgra8 => vec![(h, 4 * w)],
                PixelFormat::Rgb8 => vec![(h, 3 * w)],
                PixelFormat::Nv21 | PixelFormat::Nv12 => vec![(h, w), (ch, 2 * cw)],
                PixelFormat::I420 => vec![(h, w), (ch, cw), (ch, cw)],
            };
            // format, dims (small, not mirrored), width, height, rotation, constructor, planes
            let mut bytes = vec![
                f as u8,
                0,
                w as u8,
                h as u8,
                constructor,
                constructor,
                planes as u8,
            ];
            // Padded rows (stride = row + 3), planes back to back.
            let mut offset = 0;
            for &(r, row) in &rows {
                bytes.extend_from_slice(&[0, offset as u8, 0, (row + 3) as u8]);
                offset += r * (row + 3);
            }
            bytes.extend((0..offset).map(|i| (i * 37 % 251) as u8));
            out.push((
                "frame",
                format!(
                    "{format:?}_{constructor}_{}",
                    ["packed", "strides", "planes"][constructor as usize]
                )
                .to_lowercase(),
                bytes,
            ));
        }
    }
    // A huge declared size with a tiny buffer, and a stride that overflows.
    out.push((
        "frame",
        "huge_declared_size".into(),
        vec![2, 0x80, 0xFF, 0xFF, 0, 0, 0x40, 0, 0, 0, 0, 0, 1, 2, 3],
    ));
    out.push((
        "frame",
        "overflowing_stride".into(),
        vec![
            3, 1, 4, 4, 2, 2, 2, 255, 1, 1, 1, 1, 1, 1, 1, 1, 255, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0xFF, 0, 0, 0, 0,
        ],
    ));
}

fn encode(image: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .expect("encodes");
    bytes
}

fn image_seeds(out: &mut Seeds) {
    let photo =
        lifecert_core::image::decode::decode_image(include_bytes!("../../samples/astronaut.png"))
            .expect("the sample photo decodes");
    let small = image::DynamicImage::ImageRgb8(image::imageops::thumbnail(&photo, 96, 96));
    let jpeg = encode(&small, image::ImageFormat::Jpeg);
    let png = encode(&small, image::ImageFormat::Png);
    let mut cut = jpeg[..jpeg.len() * 6 / 10].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    let gray = image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(8, 8, |x, y| {
        image::Luma([(x * 8000 + y * 300) as u16])
    }));
    for (name, mode, bytes) in [
        ("face_jpeg_front", 0u8, jpeg.clone()),
        ("face_jpeg_back", 1, jpeg),
        ("face_png_front", 0, png),
        ("cut_jpeg_with_end_marker", 0, cut),
        ("gray16_png", 1, encode(&gray, image::ImageFormat::Png)),
        (
            "gif_magic",
            0,
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec(),
        ),
        ("not_an_image", 0, b"hello".to_vec()),
    ] {
        let mut data = vec![mode];
        data.extend_from_slice(&bytes);
        out.push(("image_upload", name.into(), data));
    }
    // A PNG whose header claims 8192×8192 16-bit RGBA (512 MiB decoded) in 57 bytes.
    let mut huge = vec![0u8];
    huge.extend_from_slice(&png_header(8192, 8192, 16, 6));
    out.push(("image_upload", "png_claims_8192_square_rgba16".into(), huge));
}

/// A PNG signature, IHDR and IEND with correct CRCs (no pixel data).
fn png_header(width: u32, height: u32, depth: u8, color: u8) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (
            &b"IHDR"[..],
            [
                &width.to_be_bytes()[..],
                &height.to_be_bytes()[..],
                &[depth, color, 0, 0, 0][..],
            ]
            .concat(),
        ),
        (&b"IEND"[..], Vec::new()),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(&data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

fn template_seeds(out: &mut Seeds) {
    let key = SealingKey::new(&SEALING_KEY).expect("a key");
    let subject = subject();
    let sealed = session_setup().sealed.clone();
    let mut templates = VoiceTemplates::new(2);
    for digit in 0..10u8 {
        let data = (0..12)
            .map(|i| f32::from(digit) + i as f32 * 0.25)
            .collect();
        templates
            .add_take(digit, &FeatureMatrix::new(6, 2, data).expect("features"))
            .expect("a take");
    }
    let profile = VoiceProfile::new(None, Some(templates.clone())).expect("a profile");
    let voice = seal_voice_profile(&profile, &key, &subject).expect("seals");
    let json = serde_json::to_vec(&templates).expect("encodes");
    for (name, mode, bytes) in [
        ("device_template", 0u8, sealed.clone()),
        ("device_template_as_issued", 1, sealed),
        ("voice_templates", 2, voice),
        ("voice_templates_json", 3, json),
        (
            "voice_templates_json_long_segment",
            3 + 4 * 30,
            serde_json::to_vec(&templates).expect("encodes"),
        ),
    ] {
        let mut data = vec![mode];
        data.extend_from_slice(&bytes);
        out.push(("sealed_templates", name.into(), data));
    }
}

fn attestation_seeds(out: &mut Seeds) {
    use lifecert_core::api::attestation::{
        Attestation, ChallengeOrigin, PerformedBy, ProxyRelation,
    };

    let attestation = |nonce: u8, supplied: bool, performed_by: PerformedBy| {
        let mut a = Attestation::example();
        a.subject = subject();
        a.performed_by = performed_by;
        a.time = NOW;
        a.server_nonce = Nonce([nonce; 16]);
        a.challenge.nonce = Nonce([6; 16]);
        if supplied {
            a.challenge_origin = ChallengeOrigin::Supplied;
        }
        a.liveness.pad_score = Some(0.9);
        a.models = vec![descriptor_model()];
        a
    };
    // Mode 0: a signed envelope (nonce 0). Mode 1: its payload, signed by the body.
    let plain = attestation(0, false, PerformedBy::Subject);
    let envelope =
        lifecert_core::api::attestation::sign_attestation(&plain, device_key()).expect("signs");
    let mut data = vec![0u8];
    data.extend_from_slice(envelope.as_bytes());
    out.push(("attestation", "signed_envelope".into(), data));
    let proxy = attestation(
        0,
        true,
        PerformedBy::Proxy {
            relation: ProxyRelation::Other("邻居".into()),
        },
    );
    for (name, mode, a) in [
        ("payload_subject", 1u8, plain),
        ("payload_proxy_supplied", 0x81, proxy),
    ] {
        let mut data = vec![mode];
        data.extend_from_slice(&serde_json::to_vec(&a).expect("encodes"));
        out.push(("attestation", name.into(), data));
    }
    out.push((
        "attestation",
        "not_json".into(),
        b"\x00{\"payload\":".to_vec(),
    ));
}

fn identity_seeds(out: &mut Seeds) {
    for (name, now, id, person, phone) in [
        (
            "mainland",
            NOW,
            "11010519491231002X",
            "张三",
            "+86 138 0013 8000",
        ),
        (
            "legacy15",
            NOW,
            "110105491231002",
            "欧阳·娜娜",
            "13800138000",
        ),
        (
            "fullwidth",
            NOW,
            "１１０１０５１９４９１２３１００２ｘ",
            "John Smith",
            "0086-13800138000",
        ),
        (
            "far_future",
            u64::MAX,
            "11010519491231002X",
            "李",
            "+1 555 0100",
        ),
    ] {
        let mut data = now.to_le_bytes().to_vec();
        for (i, field) in [id, person, phone].iter().enumerate() {
            if i > 0 {
                data.push(0xFF);
            }
            data.extend_from_slice(field.as_bytes());
        }
        out.push(("identity", name.into(), data));
    }
}

fn session_seeds(out: &mut Seeds) {
    // Digits 2 5 8, no earlier failures; then: a frame, the prompt, speech-like audio in
    // 20 ms chunks, a tick, a step back in time, the end.
    let mut data = vec![2u8, 5, 8, 0];
    let op = |data: &mut Vec<u8>, kind: u8, step: u8| {
        data.push((1 << 5) | kind);
        data.push(step);
    };
    op(&mut data, 5, 40);
    data.push(8);
    data.extend((0..8 * 8 * 3).map(|i| (i * 7 % 256) as u8));
    op(&mut data, 2, 10);
    op(&mut data, 3, 200);
    for k in 0..12u32 {
        op(&mut data, 0, 20);
        data.extend_from_slice(&320u16.to_le_bytes());
        data.extend((0..320u32).flat_map(|i| {
            let v = ((f64::from(i + 320 * k) * 0.3).sin() * 8000.0) as i16;
            v.to_le_bytes()
        }));
    }
    op(&mut data, 4, 100);
    data.push(0); // back in time (op >> 5 == 0): 0x00 = audio, step back
    data.push(250);
    data.extend_from_slice(&10u16.to_le_bytes());
    data.extend_from_slice(&[0u8; 20]);
    out.push(("audio_session", "prompt_speech_tick_back".into(), data));
    out.push(("audio_session", "only_digits".into(), vec![1, 1, 1]));
}
