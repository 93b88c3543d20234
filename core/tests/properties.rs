//! Property tests (proptest) for the invariants that are cleaner stated than fuzzed: frame
//! conversion (rotation composition, the mirror, padding, channel order, grey YUV) and the
//! signed canonical JSON (stable bytes, round trips, any change refused).

use image::RgbImage;
use lifecert_core::api::attestation::{
    sign_attestation, verify_attestation, Attestation, InMemoryNonceLedger, PerformedBy,
    ProxyRelation,
};
use lifecert_core::crypto::sealing::{canonical_json, Signed, SigningKeyPair};
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::image::frame::{Frame, PixelFormat, Rotation};
use lifecert_core::liveness::challenge::{DigitChallenge, Nonce};
use lifecert_core::liveness::sequencer::VoiceMatch;
use lifecert_core::matching::templates::MatchResult;
use proptest::prelude::*;
use std::sync::OnceLock;

const ROTATIONS: [Rotation; 4] = [
    Rotation::Deg0,
    Rotation::Deg90,
    Rotation::Deg180,
    Rotation::Deg270,
];

/// A small RGB picture with arbitrary pixels and odd or even sides.
fn picture() -> impl Strategy<Value = RgbImage> {
    (1u32..12, 1u32..12).prop_flat_map(|(w, h)| {
        proptest::collection::vec(any::<u8>(), (w * h * 3) as usize)
            .prop_map(move |data| RgbImage::from_raw(w, h, data).unwrap())
    })
}

fn convert(img: &RgbImage, rotation: Rotation, mirrored: bool) -> RgbImage {
    Frame::packed(
        img.as_raw(),
        img.width(),
        img.height(),
        PixelFormat::Rgb8,
        rotation,
        mirrored,
    )
    .unwrap()
    .to_rgb()
}

/// The rotation by `a` then `b` (clockwise).
fn compose(a: Rotation, b: Rotation) -> Rotation {
    Rotation::from_degrees(((a.degrees() + b.degrees()) % 360) as i32).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Rotating by `a` and the result by `b` is rotating by `a + b`; four quarter turns and
    /// two mirrors are the identity.
    #[test]
    fn rotations_compose(img in picture(), a in 0usize..4, b in 0usize..4) {
        let (a, b) = (ROTATIONS[a], ROTATIONS[b]);
        let twice = convert(&convert(&img, a, false), b, false);
        prop_assert_eq!(&twice, &convert(&img, compose(a, b), false));
        let mut full = img.clone();
        for _ in 0..4 {
            full = convert(&full, Rotation::Deg90, false);
        }
        prop_assert_eq!(&full, &img);
        let mirrored = convert(&img, a, true);
        prop_assert_eq!(convert(&mirrored, Rotation::Deg0, true), convert(&img, a, false));
        prop_assert_eq!(mirrored.dimensions(), convert(&img, a, false).dimensions());
    }

    /// The same pixels in RGBA, BGRA, padded rows or explicit planes give the same picture.
    #[test]
    fn layouts_and_channel_orders_agree(img in picture(), r in 0usize..4, mirrored: bool, pad in 0usize..9, alpha: u8) {
        let rotation = ROTATIONS[r];
        let expected = convert(&img, rotation, mirrored);
        let (w, h) = img.dimensions();
        let rgba: Vec<u8> = img.pixels().flat_map(|p| [p[0], p[1], p[2], alpha]).collect();
        let bgra: Vec<u8> = img.pixels().flat_map(|p| [p[2], p[1], p[0], alpha]).collect();
        for (data, format) in [(rgba, PixelFormat::Rgba8), (bgra, PixelFormat::Bgra8)] {
            let frame = Frame::packed(&data, w, h, format, rotation, mirrored).unwrap();
            prop_assert_eq!(&frame.to_rgb(), &expected);
        }
        // Rows padded by `pad` bytes of garbage, never read.
        let row = 3 * w as usize;
        let mut padded = Vec::new();
        for y in 0..h as usize {
            padded.extend_from_slice(&img.as_raw()[y * row..(y + 1) * row]);
            padded.extend(std::iter::repeat_n(0xAB, pad));
        }
        let frame = Frame::with_strides(&padded, w, h, PixelFormat::Rgb8, &[row + pad], rotation, mirrored).unwrap();
        prop_assert_eq!(&frame.to_rgb(), &expected);
    }

    /// YUV with neutral chroma is grey: R = G = B = 1.164 (Y − 16), clamped, whatever the
    /// format, layout and orientation.
    #[test]
    fn neutral_chroma_is_grey(w in 1u32..10, h in 1u32..10, ys in proptest::collection::vec(any::<u8>(), 100), r in 0usize..4, mirrored: bool, f in 0usize..3) {
        let format = [PixelFormat::Nv21, PixelFormat::Nv12, PixelFormat::I420][f];
        let luma: Vec<u8> = (0..(w * h) as usize).map(|i| ys[i % ys.len()]).collect();
        let (cw, ch) = (w.div_ceil(2) as usize, h.div_ceil(2) as usize);
        let mut data = luma.clone();
        data.extend(std::iter::repeat_n(128u8, 2 * cw * ch));
        let frame = Frame::packed(&data, w, h, format, ROTATIONS[r], mirrored).unwrap();
        let rgb = frame.to_rgb();
        let mut seen: Vec<u8> = rgb.pixels().map(|p| {
            assert!(p[0] == p[1] && p[1] == p[2], "{p:?}");
            p[0]
        }).collect();
        let mut want: Vec<u8> = luma.iter().map(|&y| ((f32::from(y) - 16.0) * 1.164_383).round().clamp(0.0, 255.0) as u8).collect();
        seen.sort_unstable();
        want.sort_unstable();
        // Same multiset of grey levels (positions move with the rotation), within rounding.
        for (s, w) in seen.iter().zip(&want) {
            prop_assert!(s.abs_diff(*w) <= 1, "{s} vs {w}");
        }
    }
}

fn device_key() -> &'static SigningKeyPair {
    static KEY: OnceLock<SigningKeyPair> = OnceLock::new();
    KEY.get_or_init(|| SigningKeyPair::generate().unwrap().0)
}

fn attestations() -> impl Strategy<Value = Attestation> {
    (
        any::<[u8; 32]>(),
        prop_oneof![
            Just(PerformedBy::Subject),
            "[a-zA-Z\u{4e00}-\u{4e20} ]{1,20}".prop_map(|r| PerformedBy::Proxy {
                relation: ProxyRelation::Other(r.trim().to_owned() + "x"),
            }),
        ],
        2000u16..=2100,
        any::<u64>(),
        any::<[u8; 16]>(),
        proptest::collection::vec(0u8..10, 3..=6),
        (
            -1.0f32..=1.0,
            0.0f32..=1.0,
            proptest::option::of(0.0f32..=1.0),
            -5000i32..5000,
        ),
        (0.0f32..2.0, 0.3f32..0.8),
    )
        .prop_filter_map(
            "digits must form a valid challenge",
            |(subject, performed_by, year, time, nonce, digits, (av, cont, pad, onset), (d, t))| {
                let mut a = Attestation {
                    subject: SubjectReference::from_bytes(subject),
                    performed_by,
                    certification_year: year,
                    time,
                    server_nonce: Nonce(nonce),
                    challenge: DigitChallenge {
                        nonce: Nonce([nonce[0] ^ 0x55; 16]),
                        digits: digits.clone(),
                    },
                    face_match: MatchResult {
                        distance: d,
                        threshold: t,
                        accepted: d <= t,
                    },
                    ..Attestation::example()
                };
                let l = &mut a.liveness;
                l.av_sync = av;
                (l.digits_heard, l.digits_matched) = (digits.len() as u32, digits.len() as u32);
                l.voice = VoiceMatch::Checked {
                    similarity: cont,
                    threshold: 0.72,
                };
                l.speech_onset_ms = onset;
                l.face_continuity = cont;
                l.pad_score = pad;
                a.validate().is_ok().then_some(a)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Canonical JSON is stable: the same value always gives the same bytes, re-encoding a
    /// decoded payload gives the payload back, and an envelope survives parsing and
    /// re-encoding byte for byte — so what was signed is exactly what is verified.
    #[test]
    fn canonical_json_is_stable_and_round_trips(a in attestations()) {
        let json = canonical_json(&a).unwrap();
        prop_assert_eq!(&canonical_json(&a.clone()).unwrap(), &json);
        let back: Attestation = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &a);
        prop_assert_eq!(canonical_json(&back).unwrap(), json);
        let envelope = sign_attestation(&a, device_key()).unwrap();
        let parsed = Signed::<Attestation>::from_json(&envelope).unwrap();
        prop_assert_eq!(parsed.to_json().unwrap(), envelope.clone());
        let verified = verify_attestation(&envelope, &device_key().public_key(), &a.server_nonce, &mut InMemoryNonceLedger::new()).unwrap();
        prop_assert_eq!(verified, a);
    }

    /// Any single changed byte of an envelope is refused (never accepted as another valid
    /// attestation).
    #[test]
    fn any_changed_byte_is_refused(a in attestations(), at in any::<prop::sample::Index>(), to: u8) {
        let envelope = sign_attestation(&a, device_key()).unwrap();
        let mut bytes = envelope.clone().into_bytes();
        let i = at.index(bytes.len());
        prop_assume!(bytes[i] != to);
        bytes[i] = to;
        if let Ok(changed) = String::from_utf8(bytes) {
            let result = verify_attestation(&changed, &device_key().public_key(), &a.server_nonce, &mut InMemoryNonceLedger::new());
            prop_assert!(result.is_err(), "accepted a changed envelope");
        }
    }
}
