//! ID-document uploads on real specimens: which sides show a portrait, the portrait matches
//! its holder and not someone else, oversized pictures are re-encoded under the limit with
//! their metadata gone and their EXIF orientation baked in, bad bytes get typed errors
//! (numbers printed for the notes).

mod common;

use common::{analyzer, eval_data, images_in};
use image::{Rgb, RgbImage};
use lifecert_core::face::descriptor::Descriptor;
use lifecert_core::identity::id_document::{
    CheckedDocument, DocumentFormat, DocumentSide, IdDocumentChecker, IdDocumentError,
    DEFAULT_MAX_UPLOAD_BYTES,
};
use lifecert_core::image::decode::{decode_image, load_image};
use lifecert_core::{Analyzer, Config, ModelSource};
use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

/// The calibrated match threshold (FMR ≤ 0.1 % on `faces_identity`).
const MATCH_THRESHOLD: f32 = 0.55;

/// The default checker, sharing the models of the common analyzer.
fn checker() -> &'static IdDocumentChecker {
    static CHECKER: OnceLock<IdDocumentChecker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        IdDocumentChecker::from_analyzer(
            analyzer().clone(),
            Config::default().id_document,
            &ModelSource::Embedded,
        )
        .unwrap()
    })
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn encode(img: &RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn jpeg_q(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// The marker segments of a JPEG up to the first start-of-scan: (marker, payload).
fn jpeg_segments(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "not a JPEG");
    let mut out = Vec::new();
    let mut i = 2;
    loop {
        assert_eq!(jpeg[i], 0xFF, "marker expected at {i}");
        let marker = jpeg[i + 1];
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        out.push((marker, jpeg[i + 4..i + 2 + len].to_vec()));
        if marker == 0xDA {
            return out;
        }
        i += 2 + len;
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The output carries no metadata: a JFIF header, tables and the frame, nothing else
/// (no APP1 EXIF/XMP, no APP2 ICC, no APP13 IPTC, no comment), and none of `secrets`.
fn assert_no_metadata(jpeg: &[u8], secrets: &[&[u8]]) {
    for (marker, payload) in jpeg_segments(jpeg) {
        match marker {
            0xE0 => assert!(payload.starts_with(b"JFIF\0"), "APP0 that is not JFIF"),
            0xE1..=0xEF => panic!("APP{} segment in the output", marker - 0xE0),
            0xFE => panic!("comment segment in the output"),
            _ => {}
        }
    }
    for secret in [b"Exif\0\0".as_slice(), b"http://ns.adobe.com/xap"]
        .iter()
        .chain(secrets)
    {
        assert!(
            !contains(jpeg, secret),
            "{:?} survived",
            String::from_utf8_lossy(secret)
        );
    }
}

/// Checks what every accepted document must satisfy and returns it.
fn assert_accepted(doc: &CheckedDocument, limit: usize) -> RgbImage {
    assert!(doc.jpeg.len() <= limit, "{} bytes", doc.jpeg.len());
    assert_no_metadata(&doc.jpeg, &[]);
    let decoded = decode_image(&doc.jpeg).expect("the output decodes");
    assert_eq!(decoded.dimensions(), doc.size);
    decoded
}

/// An EXIF APP1 segment (little-endian TIFF) with the camera make "SecretPhone", the
/// given orientation and a GPS IFD with latitude 31°14'59.21"N.
fn exif_app1(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    // IFD0 at 8: 3 entries → ends at 8 + 2 + 36 + 4 = 50; "SecretPhone\0" at 50..62;
    // GPS IFD at 62: 2 entries → ends at 62 + 2 + 24 + 4 = 92; rationals at 92..116.
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010F, 2, 12, 50u32.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 62u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(b"SecretPhone\0");
    assert_eq!(t.len(), 62);
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 92u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 92);
    for (num, den) in [(31u32, 1u32), (14, 1), (5921, 100)] {
        t.extend_from_slice(&num.to_le_bytes());
        t.extend_from_slice(&den.to_le_bytes());
    }
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&t);
    segment(0xE1, &payload)
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// `jpeg` with EXIF (orientation, GPS, camera make), an XMP packet with a GPS position and
/// a comment inserted after its start marker, as a phone camera writes them.
fn with_camera_metadata(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend(exif_app1(orientation));
    out.extend(segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLongitude>121,26.412E</exif:GPSLongitude></x:xmpmeta>",
    ));
    out.extend(segment(0xFE, b"taken at home, 121.4402E"));
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Metadata planted by [`with_camera_metadata`].
const PLANTED: [&[u8]; 4] = [
    b"SecretPhone",
    b"GPSLongitude",
    b"121.4402E",
    b"121,26.412E",
];

/// Specimen fronts on which the portrait is found.
const FRONTS: [&str; 23] = [
    "idenfy_BarackHusseinObama_passport.jpg",
    "passporteye_0_pass-lva.jpg",
    "passporteye_100_pass-bdr.jpg",
    "passporteye_100_pass-chn.jpg",
    "passporteye_100_pass-cze.jpg",
    "passporteye_100_pass-cze2.jpg",
    "passporteye_100_pass-hrv.jpg",
    "passporteye_100_pass-ltu.jpg",
    "passporteye_100_pass-lux.jpg",
    "passporteye_100_pass-polx.jpg",
    "passporteye_100_pass-uto.jpg",
    "passporteye_100_pass2-uto.jpg",
    "passporteye_100_visa-polx.jpg",
    "passporteye_100_visa-usa.jpg",
    "passporteye_24_pass-egy.jpg",
    "passporteye_25_pass-uto.jpg",
    "passporteye_33_id-usa.jpg",
    "passporteye_43_pass-twn.jpg",
    "passporteye_62_pass-aus.jpg",
    "passporteye_79_pass-hun.png",
    "passporteye_98_pass-nld.jpg",
    "passporteye_passport-td2.jpg",
    "passporteye_passport-td3.jpg",
];

/// Specimen backs (MRZ / emblem sides, no portrait).
const BACKS: [&str; 6] = [
    "passporteye_0_id-esp.png",
    "passporteye_100_id-che.jpg",
    "passporteye_100_id-mac.jpg",
    "passporteye_100_id-si.jpg",
    "passporteye_100_id-usa.jpg",
    "passporteye_77_card-cmw.png",
];

/// Fronts whose portrait is NOT found (false rejections, kept here so that a better
/// detector shows up): the GBR specimen's portrait is pixelated on purpose. (The HUN
/// specimen, whose portrait is crossed by a large red "SPECIMEN" stamp, is found since the
/// detector's box-reduced input; it is borderline — missed before.)
const MISSED_FRONTS: [&str; 1] = ["passporteye_27_pass-gbr.jpg"];

#[test]
fn every_specimen_is_classified_as_documented() {
    let Some(data) = eval_data("every_specimen_is_classified_as_documented") else {
        return;
    };
    let dir = data.join("id_documents");
    let files: Vec<String> = images_in(&dir).iter().map(|p| name(p)).collect();
    let mut listed: Vec<String> = FRONTS
        .iter()
        .map(|n| n.to_string())
        .chain(BACKS.iter().map(|n| n.to_string()))
        .chain(MISSED_FRONTS.iter().map(|n| n.to_string()))
        .chain(["idenfy_BarackObamaFace.jpg".to_string()])
        .collect();
    listed.sort();
    assert_eq!(files, listed, "every specimen is accounted for");

    for file in FRONTS {
        let bytes = read(&dir.join(file));
        let doc = checker()
            .check_upload(&bytes, DocumentSide::Front)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_accepted(&doc, DEFAULT_MAX_UPLOAD_BYTES);
        let p = doc.portrait.as_ref().expect("front has a portrait");
        eprintln!(
            "{file}: {} → {} bytes, portrait {:.0}×{:.0} px score {:.2}, tiled {}, secondary {}",
            doc.input_bytes,
            doc.jpeg.len(),
            p.bbox.width,
            p.bbox.height,
            p.score,
            doc.tiled_search,
            doc.secondary_portraits
        );
        // Card portraits are small: the tiled search runs on every page.
        assert!(doc.tiled_search, "{file}");
        assert_eq!(
            doc.size, doc.input_size,
            "{file}: small pages keep their size"
        );
        assert_eq!(
            doc.input_format,
            if file.ends_with(".png") {
                DocumentFormat::Png
            } else {
                DocumentFormat::Jpeg
            }
        );
        // The page is no face-free back: uploaded as the back it is refused.
        assert!(
            matches!(
                checker().check_upload(&bytes, DocumentSide::Back),
                Err(IdDocumentError::FaceOnBack { .. })
            ),
            "{file} as the back"
        );
    }
    for file in BACKS {
        let bytes = read(&dir.join(file));
        let doc = checker()
            .check_upload(&bytes, DocumentSide::Back)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_accepted(&doc, DEFAULT_MAX_UPLOAD_BYTES);
        assert!(doc.portrait.is_none());
        assert!(doc.tiled_search, "{file}: the tiled search ran too");
        eprintln!(
            "{file} (back): {} → {} bytes",
            doc.input_bytes,
            doc.jpeg.len()
        );
        assert!(matches!(
            checker().check_upload(&bytes, DocumentSide::Front),
            Err(IdDocumentError::NoFaceOnFront)
        ));
    }
    for file in MISSED_FRONTS {
        let result = checker().check_upload(&read(&dir.join(file)), DocumentSide::Front);
        assert!(
            matches!(result, Err(IdDocumentError::NoFaceOnFront)),
            "{file}: {result:?} — the detector improved; move it to FRONTS"
        );
    }
}

#[test]
fn a_selfie_uploaded_as_the_back_is_refused() {
    let Some(data) = eval_data("a_selfie_uploaded_as_the_back_is_refused") else {
        return;
    };
    let face = read(&data.join("id_documents/idenfy_BarackObamaFace.jpg"));
    assert!(matches!(
        checker().check_upload(&face, DocumentSide::Back),
        Err(IdDocumentError::FaceOnBack { count: 1 })
    ));
    // A group photo is no front either.
    let group = read(&data.join("hard_cases/multi_face/deepface_couple.jpg"));
    match checker().check_upload(&group, DocumentSide::Front) {
        Err(IdDocumentError::SeveralFacesOnFront { count }) => assert!(count >= 2),
        other => panic!("{other:?}"),
    }
}

fn describe_only_face(analyzer: &Analyzer, img: &RgbImage) -> Descriptor {
    let faces = analyzer.analyze_image(img).unwrap();
    assert_eq!(faces.len(), 1);
    analyzer.describe(img, &faces[0]).unwrap()
}

#[test]
fn the_passport_portrait_matches_its_holder_and_nobody_else() {
    let Some(data) = eval_data("the_passport_portrait_matches_its_holder_and_nobody_else") else {
        return;
    };
    let passport = read(&data.join("id_documents/idenfy_BarackHusseinObama_passport.jpg"));
    let doc = checker()
        .check_upload(&passport, DocumentSide::Front)
        .unwrap();
    let portrait = doc.portrait.unwrap().descriptor;

    let selfie = load_image(&data.join("id_documents/idenfy_BarackObamaFace.jpg")).unwrap();
    let genuine = portrait.distance(&describe_only_face(analyzer(), &selfie));
    eprintln!("passport portrait vs idenfy face photo: {genuine:.3}");
    assert!(genuine < MATCH_THRESHOLD, "{genuine}");

    let mut others = Vec::new();
    for path in images_in(&data.join("faces_identity/barack_obama")) {
        let img = load_image(&path).unwrap();
        let faces = analyzer().analyze_image(&img).unwrap();
        let d = portrait.distance(&analyzer().describe(&img, &faces[0]).unwrap());
        eprintln!("passport portrait vs {}: {d:.3}", name(&path));
        others.push(d);
    }
    // (fr_obama.jpg is the very photo printed in the passport.)
    assert_eq!(others.len(), 4);
    assert!(
        others.iter().all(|&d| d < MATCH_THRESHOLD),
        "Obama photos: {others:?}"
    );

    // Everybody else in faces_identity (full photos; the bbt_* crops have no context).
    let mut impostors = Vec::new();
    let mut people: Vec<_> = std::fs::read_dir(data.join("faces_identity"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = name(p);
            n != "barack_obama" && !n.starts_with("bbt_")
        })
        .collect();
    people.sort();
    for person in people {
        for path in images_in(&person) {
            let img = load_image(&path).unwrap();
            let faces = analyzer().analyze_image(&img).unwrap();
            let Some(face) = faces.first() else { continue };
            let d = portrait.distance(&analyzer().describe(&img, face).unwrap());
            impostors.push((d, format!("{}/{}", name(&person), name(&path))));
        }
    }
    impostors.sort_by(|a, b| a.0.total_cmp(&b.0));
    eprintln!(
        "{} impostor photos; closest: {:?}",
        impostors.len(),
        &impostors[..3]
    );
    assert!(impostors.len() > 50);
    assert!(
        impostors[0].0 >= MATCH_THRESHOLD,
        "an impostor matched the passport: {:?}",
        impostors[0]
    );
    let biden = impostors
        .iter()
        .find(|(_, n)| n.starts_with("joe_biden"))
        .unwrap();
    assert!(biden.0 >= MATCH_THRESHOLD);
}

#[test]
fn ghost_portraits_are_not_counted_as_a_second_face() {
    let Some(data) = eval_data("ghost_portraits_are_not_counted_as_a_second_face") else {
        return;
    };
    // The tiled search finds the Czech specimen's ghost image (right of the data) as a
    // second face, a third of the portrait's size: a secondary portrait, not a second
    // person.
    let bytes = read(&data.join("id_documents/passporteye_100_pass-cze.jpg"));
    let doc = checker().check_upload(&bytes, DocumentSide::Front).unwrap();
    assert!(doc.tiled_search);
    assert_eq!(doc.secondary_portraits, 1);
    let p = doc.portrait.unwrap();
    assert!(
        p.bbox.x < 200.0 && p.bbox.width > 80.0,
        "the main portrait: {:?}",
        p.bbox
    );
    // Counting every face would refuse the page.
    let mut config = Config::default();
    config.id_document.secondary_portrait_ratio = 0.2;
    let strict = IdDocumentChecker::from_analyzer(
        Analyzer::new(&config).unwrap(),
        config.id_document.clone(),
        &ModelSource::Embedded,
    )
    .unwrap();
    assert!(matches!(
        strict.check_upload(&bytes, DocumentSide::Front),
        Err(IdDocumentError::SeveralFacesOnFront { count: 2 })
    ));
}

/// `img` enlarged `factor` times.
fn upscale(img: &RgbImage, factor: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    image::imageops::resize(
        img,
        (w as f32 * factor) as u32,
        (h as f32 * factor) as u32,
        image::imageops::FilterType::CatmullRom,
    )
}

#[test]
fn oversized_uploads_are_reencoded_under_the_limit() {
    let Some(data) = eval_data("oversized_uploads_are_reencoded_under_the_limit") else {
        return;
    };
    let passport_path = data.join("id_documents/idenfy_BarackHusseinObama_passport.jpg");
    let passport = load_image(&passport_path).unwrap();
    let small = checker()
        .check_upload(&read(&passport_path), DocumentSide::Front)
        .unwrap()
        .portrait
        .unwrap()
        .descriptor;

    // A 4× PNG "scan" (2148×1504) and a 6× JPEG (3222×2256) at quality 98.
    let png = encode(&upscale(&passport, 4.0), image::ImageFormat::Png);
    let jpeg = jpeg_q(&upscale(&passport, 6.0), 98);
    for (label, bytes) in [("PNG ×4", png), ("JPEG ×6", jpeg)] {
        assert!(
            bytes.len() > DEFAULT_MAX_UPLOAD_BYTES,
            "{label}: {}",
            bytes.len()
        );
        let doc = checker().check_upload(&bytes, DocumentSide::Front).unwrap();
        let out = assert_accepted(&doc, DEFAULT_MAX_UPLOAD_BYTES);
        let d = small.distance(&doc.portrait.as_ref().unwrap().descriptor);
        eprintln!(
            "{label}: {}×{} {} bytes → {}×{} q{} {} bytes; portrait distance to the original {d:.3}",
            doc.input_size.0,
            doc.input_size.1,
            doc.input_bytes,
            doc.size.0,
            doc.size.1,
            doc.jpeg_quality,
            doc.jpeg.len()
        );
        // Same page, same orientation, shrunk to at most 1920 on the long side.
        assert_eq!(doc.size.0, 1920);
        let aspect = |w: u32, h: u32| w as f32 / h as f32;
        assert!((aspect(doc.size.0, doc.size.1) - aspect(537, 376)).abs() < 0.01);
        assert!(d < 0.25, "{label}: the portrait changed: {d}");
        // The output is the same picture: compare with the original enlarged alike.
        let reference = image::imageops::resize(
            &passport,
            out.width(),
            out.height(),
            image::imageops::FilterType::CatmullRom,
        );
        let diff = mean_abs_diff(&out, &reference);
        assert!(diff < 8.0, "{label}: mean abs difference {diff}");
        // Checked again, the output stays as it is (apart from one more generation).
        let again = checker()
            .check_upload(&doc.jpeg, DocumentSide::Front)
            .unwrap();
        assert_eq!(again.size, doc.size);
    }

    // A tiny limit forces lower qualities and then a smaller picture.
    let mut config = Config::default();
    config.id_document.max_upload_bytes = 80_000;
    let tight = IdDocumentChecker::from_analyzer(
        Analyzer::new(&config).unwrap(),
        config.id_document.clone(),
        &ModelSource::Embedded,
    )
    .unwrap();
    let doc = tight
        .check_upload(&jpeg_q(&upscale(&passport, 4.0), 95), DocumentSide::Front)
        .unwrap_or_else(|e| panic!("limit 80000: {e}"));
    eprintln!(
        "limit 80000: → {}×{} q{} {} bytes",
        doc.size.0,
        doc.size.1,
        doc.jpeg_quality,
        doc.jpeg.len()
    );
    assert_accepted(&doc, 80_000);
    assert!(doc.size.0 < 1920);
    assert!(doc.portrait.is_some());
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f32 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y) as u64)
        .sum();
    sum as f32 / a.as_raw().len() as f32
}

#[test]
fn a_phone_photo_of_a_card_is_upright_and_stripped_of_its_metadata() {
    let Some(data) = eval_data("a_phone_photo_of_a_card_is_upright_and_stripped_of_its_metadata")
    else {
        return;
    };
    // 12-megapixel-like photos: the passport page, on a real background, fills 80 %, 50 %
    // and 35 % of the width of a 4000×3000 frame, stored sideways with EXIF Orientation 6
    // (rotate 90° CW to view) as phone cameras do, with GPS in EXIF and XMP and a comment.
    let passport =
        load_image(&data.join("id_documents/idenfy_BarackHusseinObama_passport.jpg")).unwrap();
    let background = load_image(&data.join("hard_cases/no_face/insightface_view.jpg")).unwrap();
    let selfie = load_image(&data.join("id_documents/idenfy_BarackObamaFace.jpg")).unwrap();
    let selfie = describe_only_face(analyzer(), &selfie);
    for fraction in [0.8f32, 0.5, 0.35] {
        let mut scene = image::imageops::resize(
            &background,
            4000,
            3000,
            image::imageops::FilterType::Triangle,
        );
        let card = upscale(&passport, 4000.0 * fraction / passport.width() as f32);
        let (x, y) = ((4000 - card.width()) / 2, (3000 - card.height()) / 2);
        image::imageops::overlay(&mut scene, &card, x as i64, y as i64);
        // Stored sideways: the sensor's pixels are the scene turned 90° counter-clockwise.
        let stored = image::imageops::rotate270(&scene);
        let bytes = with_camera_metadata(&jpeg_q(&stored, 95), 6);
        assert_eq!(
            decode_image(&bytes).unwrap().dimensions(),
            (4000, 3000),
            "EXIF read"
        );
        assert!(bytes.len() > DEFAULT_MAX_UPLOAD_BYTES);

        let doc = checker()
            .check_upload(&bytes, DocumentSide::Front)
            .unwrap_or_else(|e| panic!("card {fraction} of the width: {e}"));
        assert_no_metadata(&doc.jpeg, &PLANTED);
        let out = assert_accepted(&doc, DEFAULT_MAX_UPLOAD_BYTES);
        assert_eq!(
            doc.size,
            (1920, 1440),
            "landscape, as the card was photographed"
        );
        let p = doc.portrait.as_ref().unwrap();
        let d = p.descriptor.distance(&selfie);
        eprintln!(
            "phone photo, card {fraction} of the width: {} bytes → {} bytes q{}, portrait {:.0} px \
             (expected {:.0}), tiled {}, distance to the face photo {d:.3}",
            doc.input_bytes,
            doc.jpeg.len(),
            doc.jpeg_quality,
            p.bbox.width,
            83.0 * 1920.0 * fraction / 537.0,
            doc.tiled_search
        );
        // Upright: the portrait is on the left half of the card, in the middle band.
        assert!(
            p.bbox.x < 960.0 && p.bbox.y > 300.0 && p.bbox.y < 1000.0,
            "{:?}",
            p.bbox
        );
        assert!(d < MATCH_THRESHOLD, "card {fraction} of the width: {d}");
        let expected =
            image::imageops::resize(&scene, 1920, 1440, image::imageops::FilterType::Triangle);
        assert!(mean_abs_diff(&out, &expected) < 8.0);
    }
}

#[test]
fn exif_orientation_is_baked_in() {
    let Some(data) = eval_data("exif_orientation_is_baked_in") else {
        return;
    };
    // The Silent-Face samples are stored 640×480 with EXIF Orientation 6.
    for path in images_in(&data.join("pad")) {
        let bytes = read(&path);
        let (w, h) = image::load_from_memory(&bytes)
            .unwrap()
            .to_rgb8()
            .dimensions();
        assert_eq!((w, h), (640, 480), "stored landscape");
        assert!(contains(&bytes, b"Exif\0\0"));
        let doc = checker()
            .check_upload(&bytes, DocumentSide::Front)
            .unwrap_or_else(|e| panic!("{}: {e}", name(&path)));
        assert_accepted(&doc, DEFAULT_MAX_UPLOAD_BYTES);
        assert_eq!(
            doc.size,
            (480, 640),
            "{}: portrait after the check",
            name(&path)
        );
        // The face is upright: eyes above the mouth.
        let p = doc.portrait.unwrap();
        assert!(p.bbox.height > p.bbox.width * 0.8);
        eprintln!(
            "{}: {} → {} bytes",
            name(&path),
            doc.input_bytes,
            doc.jpeg.len()
        );
    }
}

/// A 24-bit BMP (BITMAPINFOHEADER) of `img`.
fn bmp_of(img: &RgbImage) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let row = (w * 3).div_ceil(4) * 4;
    let pixels = row * h;
    let mut b = b"BM".to_vec();
    for v in [54 + pixels, 0, 54, 40, w, h] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes());
    for v in [0u32, pixels, 2835, 2835, 0, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for y in (0..h).rev() {
        let start = b.len();
        for x in 0..w {
            let p = img.get_pixel(x, y);
            b.extend_from_slice(&[p[2], p[1], p[0]]);
        }
        b.resize(start + row as usize, 0);
    }
    b
}

#[test]
fn bad_bytes_get_typed_errors() {
    let c = checker();
    let check = |b: &[u8]| c.check_upload(b, DocumentSide::Back);
    assert!(matches!(check(b""), Err(IdDocumentError::Empty)));
    assert!(matches!(
        check(b"%this is no image at all, just some text\n"),
        Err(IdDocumentError::NotAnImage)
    ));
    let mut noise = vec![0u8; 50_000];
    let mut s = 0x9e37_79b9u32;
    for b in noise.iter_mut() {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = (s >> 24) as u8;
    }
    noise[0] = 0x42;
    assert!(matches!(check(&noise), Err(IdDocumentError::NotAnImage)));

    // Real GIF, BMP and WebP files: images, but not accepted (the WebP one our own decoder
    // could read — the format is refused on its magic bytes, whatever the file's name).
    let img = RgbImage::from_fn(40, 30, |x, y| Rgb([(x * 6) as u8, (y * 8) as u8, 90]));
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    let bmp = bmp_of(&img);
    let webp = encode(&img, image::ImageFormat::WebP);
    for (bytes, expected) in [(gif.to_vec(), "GIF"), (bmp, "BMP"), (webp, "WebP")] {
        match check(&bytes) {
            Err(IdDocumentError::UnsupportedFormat { format }) => assert_eq!(format, expected),
            other => panic!("{expected}: {other:?}"),
        }
    }
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
    assert!(matches!(
        check(heic),
        Err(IdDocumentError::UnsupportedFormat { format: "HEIC" })
    ));

    // Truncated and damaged JPEG and PNG.
    let jpeg = jpeg_q(&img, 90);
    let png = encode(&img, image::ImageFormat::Png);
    for (label, bytes) in [
        ("JPEG cut in half", &jpeg[..jpeg.len() / 2]),
        ("JPEG without its last bytes", &jpeg[..jpeg.len() - 2]),
        ("JPEG header only", &jpeg[..20]),
        ("PNG cut in half", &png[..png.len() / 2]),
        ("PNG signature only", &png[..8]),
    ] {
        assert!(
            matches!(check(bytes), Err(IdDocumentError::Corrupt(_))),
            "{label}: {:?}",
            check(bytes)
        );
    }
    // A JPEG whose header claims an image larger than the decoder accepts.
    let mut huge = jpeg.clone();
    let sof = huge.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    huge[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0x00, 0xFF, 0x00]);
    assert!(matches!(
        check(&huge),
        Err(IdDocumentError::TooManyPixels {
            width: 65280,
            height: 65280,
            ..
        })
    ));
    // Bigger than the input limit: refused before decoding.
    let mut config = Config::default();
    config.id_document.max_input_bytes = 200;
    assert!(jpeg.len() > 200);
    let strict = IdDocumentChecker::from_analyzer(
        Analyzer::new(&config).unwrap(),
        config.id_document.clone(),
        &ModelSource::Embedded,
    )
    .unwrap();
    assert!(matches!(
        strict.check_upload(&jpeg, DocumentSide::Back),
        Err(IdDocumentError::InputTooLarge { max: 200, .. })
    ));
    // And the engine error converts into the crate's error.
    let e: lifecert_core::Error = IdDocumentError::NoFaceOnFront.into();
    assert!(matches!(e, lifecert_core::Error::IdDocument(_)));
}

#[test]
fn small_clean_uploads_are_reencoded_too() {
    // A plain picture with camera metadata, far below the limit: still re-encoded, the
    // metadata gone, orientation 3 (upside down) applied.
    let img = RgbImage::from_fn(300, 200, |x, y| {
        Rgb([if y < 100 { 250 } else { 10 }, (x % 256) as u8, 60])
    });
    let bytes = with_camera_metadata(&jpeg_q(&img, 90), 3);
    let doc = checker().check_upload(&bytes, DocumentSide::Back).unwrap();
    assert_no_metadata(&doc.jpeg, &PLANTED);
    let out = assert_accepted(&doc, DEFAULT_MAX_UPLOAD_BYTES);
    assert_eq!(out.dimensions(), (300, 200));
    assert!(out.get_pixel(150, 20)[0] < 60, "turned upside down");
    assert!(out.get_pixel(150, 180)[0] > 200, "turned upside down");
    assert_eq!(doc.jpeg_quality, 92);
    assert_ne!(doc.jpeg, bytes);
}
