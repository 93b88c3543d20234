//! Regression tests for what a hostile-input probe of the core found (issue 12, item 7): each
//! input is answered with a typed error, never a panic, a wrapped clock or an unbounded
//! allocation. The CLI's share is in `tests/cli_hostile.rs`.

mod common;

use lifecert_core::api::attestation::{
    sign_attestation, verify_attestation, Attestation, AttestationError, InMemoryNonceLedger,
    ATTESTATION_PURPOSE, MAX_ENVELOPE_BYTES,
};
use lifecert_core::crypto::sealing::{sign_canonical, SigningKeyPair};
use lifecert_core::identity::id_document::{
    check_jpeg_complete, DocumentSide, IdDocumentChecker, IdDocumentError,
};
use lifecert_core::identity::person::Date;
use lifecert_core::image::decode::{decode_image, DecodeError, ImageLimitError};
use lifecert_core::liveness::challenge::Nonce;
use lifecert_core::Config;
use lifecert_test_support::png_chunk as chunk;
use std::io::{Cursor, Write};
use std::sync::OnceLock;

fn attestation(year: u16) -> Attestation {
    Attestation {
        certification_year: year,
        ..Attestation::example()
    }
}

#[test]
fn implausible_certification_years_are_neither_signed_nor_verified() {
    let (key, _) = SigningKeyPair::generate().unwrap();
    for year in [0, 1999, 2101, u16::MAX] {
        assert!(
            matches!(
                sign_attestation(&attestation(year), &key),
                Err(AttestationError::Invalid(_))
            ),
            "year {year} signed"
        );
        // Signed by a device that skipped the check: still refused by the verifier.
        let envelope = sign_canonical(&key, ATTESTATION_PURPOSE, &attestation(year))
            .and_then(|s| s.to_json())
            .unwrap();
        let verified = verify_attestation(
            &envelope,
            &key.public_key(),
            &Nonce([1; 16]),
            &mut InMemoryNonceLedger::new(),
        );
        assert!(
            matches!(verified, Err(AttestationError::Invalid(_))),
            "year {year}: {verified:?}"
        );
    }
    for year in [2000, 2026, 2100] {
        let envelope = sign_attestation(&attestation(year), &key).unwrap();
        verify_attestation(
            &envelope,
            &key.public_key(),
            &Nonce([1; 16]),
            &mut InMemoryNonceLedger::new(),
        )
        .unwrap();
    }
}

#[test]
fn an_oversized_envelope_is_refused_before_parsing() {
    let (key, _) = SigningKeyPair::generate().unwrap();
    // A 64 MB "envelope" cost 533 MB of memory to parse; now it is refused by its length.
    let huge = format!("{{\"payload\":\"{}\"}}", "x".repeat(64 * 1024 * 1024));
    assert_eq!(
        verify_attestation(
            &huge,
            &key.public_key(),
            &Nonce([1; 16]),
            &mut InMemoryNonceLedger::new()
        ),
        Err(AttestationError::TooLarge {
            bytes: huge.len(),
            max: MAX_ENVELOPE_BYTES
        })
    );
    // A real envelope is far below the cap.
    let envelope = sign_attestation(&attestation(2026), &key).unwrap();
    assert!(
        envelope.len() < MAX_ENVELOPE_BYTES / 16,
        "{}",
        envelope.len()
    );
}

#[test]
fn the_largest_clock_reading_has_no_date_instead_of_wrapping() {
    assert_eq!(Date::from_unix_china(u64::MAX), None);
    assert_eq!(Date::from_unix_china(u64::MAX - 3600), None);
    assert!(Date::from_unix_china(1_796_184_000).is_some());
}

/// A zlib stream of `len` zero bytes, stored in blocks the decoder must inflate: DEFLATE
/// "fixed Huffman" runs of 258 zeros (a few bits each), so 64 MiB fit in well under 1 MB.
fn zlib_zeros(len: usize) -> Vec<u8> {
    // Let the image crate's own PNG encoder make the compressed stream: a grey picture of
    // `len` bytes compresses the same way, and its IDAT data is a zlib stream.
    let side = (len as f64).sqrt().ceil() as u32;
    let img = image::GrayImage::new(side, side);
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // Concatenate the IDAT chunks' data: that is one zlib stream (of filtered rows, each a
    // filter byte 0 plus `side` zeros: all zeros).
    let mut stream = Vec::new();
    let mut i = 8;
    while i + 8 <= png.len() {
        let n = u32::from_be_bytes(png[i..i + 4].try_into().unwrap()) as usize;
        if &png[i + 4..i + 8] == b"IDAT" {
            stream.extend_from_slice(&png[i + 8..i + 8 + n]);
        }
        i += 12 + n;
    }
    stream
}

#[test]
fn an_icc_profile_bomb_is_not_inflated_past_the_metadata_budget() {
    // A 16×16 picture whose iCCP chunk inflates to 64 MiB (4× the metadata budget). It
    // cost 633 MB of memory with a 1 GiB profile; the profile is now dropped unread past
    // the budget and the picture decodes.
    let profile = zlib_zeros(64 * 1024 * 1024);
    assert!(profile.len() < 1_000_000, "{}", profile.len());
    let picture = image::RgbImage::from_pixel(16, 16, image::Rgb([200, 100, 50]));
    let mut plain = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Png)
        .unwrap();
    // Insert the iCCP chunk right after IHDR (8 + 25 bytes).
    let mut png = plain[..33].to_vec();
    let mut iccp = b"bomb\0\0".to_vec();
    iccp.extend_from_slice(&profile);
    chunk(&mut png, b"iCCP", &iccp);
    png.extend_from_slice(&plain[33..]);
    let decoded = decode_image(&png).unwrap();
    assert_eq!(decoded.dimensions(), (16, 16));
    assert_eq!(decoded.get_pixel(3, 3).0, [200, 100, 50]);
}

#[test]
fn a_png_claiming_a_huge_deep_colour_picture_is_refused_from_its_header() {
    // 8192×8192 16-bit RGBA: 512 MiB decoded (1.16 GB of memory in `analyze`, 12.8 s as an
    // ID photo), from a file of a few hundred bytes.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&8192u32.to_be_bytes());
    ihdr.extend_from_slice(&8192u32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_zeros(4096));
    chunk(&mut png, b"IEND", &[]);
    assert!(matches!(
        decode_image(&png),
        Err(DecodeError::TooLarge(ImageLimitError::Pixels { .. }))
    ));
    assert!(matches!(
        checker().check_upload(&png, DocumentSide::Front),
        Err(IdDocumentError::ImageTooLarge(
            ImageLimitError::Pixels { .. }
        ))
    ));
}

fn checker() -> &'static IdDocumentChecker {
    static CHECKER: OnceLock<IdDocumentChecker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        IdDocumentChecker::new(Config::default().face(), Config::default().id_document).unwrap()
    })
}

#[test]
fn a_truncated_id_photo_with_an_end_marker_appended_is_refused() {
    // The sample portrait as a camera JPEG, cut to 60 % (an interrupted transfer) and
    // given an end-of-image marker: the old trailer check accepted it and the decoder
    // filled the missing rows with grey.
    let photo = common::astronaut();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&photo)
        .unwrap();
    let whole = checker().check_upload(&jpeg, DocumentSide::Back);
    // (The back must show no face: the portrait is refused for its face, not its bytes.)
    assert!(
        matches!(whole, Err(IdDocumentError::FaceOnBack { .. })),
        "{whole:?}"
    );
    let mut cut = jpeg[..jpeg.len() * 6 / 10].to_vec();
    cut.write_all(&[0xFF, 0xD9]).unwrap();
    for side in [DocumentSide::Front, DocumentSide::Back] {
        let result = checker().check_upload(&cut, side);
        assert!(
            matches!(result, Err(IdDocumentError::Corrupt(_))),
            "{side:?}: {result:?}"
        );
    }
}

#[test]
fn every_shared_id_document_and_face_photo_passes_the_strict_jpeg_decoder() {
    // The strict decoder must not refuse real pictures: every JPEG of the shared ID
    // specimens, identity photos and hard cases decodes cleanly.
    let test = "every_shared_id_document_and_face_photo_passes_the_strict_jpeg_decoder";
    let Some(data) = common::eval_data(test) else {
        return;
    };
    let mut dirs = vec![data.join("id_documents")];
    for group in ["faces_identity", "hard_cases"] {
        for entry in std::fs::read_dir(data.join(group)).unwrap() {
            dirs.push(entry.unwrap().path());
        }
    }
    let mut checked = 0;
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for path in common::images_in(dir) {
            let bytes = std::fs::read(&path).unwrap();
            if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                continue;
            }
            if let Err(e) = check_jpeg_complete(&bytes) {
                panic!("{}: {e}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} JPEGs");
}
