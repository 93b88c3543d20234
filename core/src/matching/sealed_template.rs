//! Templates at rest and in transit: sealed with AES-256-GCM, and issued (signed) by the
//! pension authority.
//!
//! A [`FaceTemplate`] has no public serialisation; these functions are the only way it
//! leaves the core as bytes, and those bytes are always encrypted.
//!
//! # Sealed template (`LFT1`)
//! ```text
//! offset  len  field
//! 0       4    magic "LFT1"
//! 4       1    kind: 0x01 template enrolled on the device, 0x02 issued template
//! 5       64   SHA-256 of the descriptor model, lower-case hex (ASCII)
//! 69      …    LCS1 envelope of crate::crypto::sealing::seal (nonce, ciphertext, tag)
//! ```
//! The associated data of the AES-GCM seal is
//! `"lifecert/face-template/v1" || 0x00 || the 69-byte header || subject reference (32
//! bytes) || model file name`, so a template opens only for the subject and the model
//! version it was sealed for, under the key it was sealed with. The model hash is also
//! readable in the clear so that, after a model update, a stored template is reported as
//! [`TemplateError::ModelMismatch`] (enroll again) rather than as tampering. A wrong subject
//! reference, like any altered byte, shows as
//! [`TemplateError::Sealing`]`(`[`SealError::Tampered`]`)`: AES-GCM cannot tell which of the
//! bound values differs. A wrong key is `Sealing(WrongKey)`.
//!
//! # Issued templates
//! A template enrolled on the device and sealed under the device's key is only as
//! trustworthy as that key: whoever extracts it from a rooted phone can seal their own face
//! for the retiree. An [`IssuedTemplate`] is signed by the authority's Ed25519 key
//! ([`crate::crypto::sealing::sign_canonical`], purpose [`ISSUED_TEMPLATE_PURPOSE`]) over the subject
//! reference, the model and the whole template; [`IssuedTemplate::verify`] accepts it only
//! under the pinned authority key, for the expected subject and model. It travels and rests
//! sealed like any template (kind 0x02), under a key shared by the authority's backend and
//! the device for transport, or the device's own key at rest.

use crate::crypto::sealing::{self, PublicKey, SealError, SealingKey, Signed, SigningKeyPair};
use crate::identity::person::SubjectReference;
use crate::matching::templates::{check_model, FaceTemplate, TemplateError, TemplateRecord};
use crate::model::assets::ModelInfo;
use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Magic at the start of a sealed template.
pub const TEMPLATE_MAGIC: [u8; 4] = *b"LFT1";
/// Length of the sealed template header (magic, kind, model hash).
pub const TEMPLATE_HEADER_LEN: usize = 4 + 1 + 64;
/// Purpose label of the authority's signature over an issued template.
pub const ISSUED_TEMPLATE_PURPOSE: &str = "issued-face-template";

const AAD_LABEL: &[u8] = b"lifecert/face-template/v1";
const KIND_DEVICE: u8 = 0x01;
const KIND_ISSUED: u8 = 0x02;

fn header(kind: u8, model: &ModelInfo) -> Result<[u8; TEMPLATE_HEADER_LEN], TemplateError> {
    let hash = model.sha256.as_bytes();
    if hash.len() != 64 || !hash.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(TemplateError::Malformed(
            "model SHA-256 must be 64 lower-case hex digits",
        ));
    }
    let mut out = [0u8; TEMPLATE_HEADER_LEN];
    out[..4].copy_from_slice(&TEMPLATE_MAGIC);
    out[4] = kind;
    out[5..].copy_from_slice(hash);
    Ok(out)
}

fn associated_data(
    header: &[u8; TEMPLATE_HEADER_LEN],
    subject: &SubjectReference,
    model: &ModelInfo,
) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 1 + TEMPLATE_HEADER_LEN + 32 + 64);
    aad.extend_from_slice(AAD_LABEL);
    aad.push(0);
    aad.extend_from_slice(header);
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(model.file.as_bytes());
    aad
}

fn seal_with_header(
    kind: u8,
    plaintext: &[u8],
    key: &SealingKey,
    subject: &SubjectReference,
    model: &ModelInfo,
) -> Result<Vec<u8>, TemplateError> {
    let header = header(kind, model)?;
    let aad = associated_data(&header, subject, model);
    let envelope = sealing::seal(key, plaintext, &aad).map_err(TemplateError::Sealing)?;
    let mut out = Vec::with_capacity(TEMPLATE_HEADER_LEN + envelope.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&envelope);
    Ok(out)
}

fn open_with_header(
    kind: u8,
    sealed: &[u8],
    key: &SealingKey,
    subject: &SubjectReference,
    model: &ModelInfo,
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let (found, envelope) =
        sealed
            .split_first_chunk::<TEMPLATE_HEADER_LEN>()
            .ok_or(TemplateError::Malformed(
                "shorter than a sealed template header",
            ))?;
    if found[..4] != TEMPLATE_MAGIC {
        return Err(TemplateError::Malformed("not a sealed face template"));
    }
    if found[4] != kind {
        return Err(TemplateError::Malformed(
            "sealed template of another kind (device vs issued)",
        ));
    }
    let sealed_for = std::str::from_utf8(&found[5..])
        .ok()
        .filter(|h| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or(TemplateError::Malformed(
            "model hash in the header is not hex",
        ))?;
    let expected = header(kind, model)?;
    if found[5..] != expected[5..] {
        return Err(TemplateError::ModelMismatch {
            expected: format!("sha256 {sealed_for}"),
            found: format!("{}@{}", model.file, model.sha256),
        });
    }
    let aad = associated_data(&expected, subject, model);
    sealing::open(key, envelope, &aad).map_err(TemplateError::Sealing)
}

/// Seals `template` under `key` for `subject` (see the module docs for the format). The
/// template's own model is bound.
pub fn seal_template(
    template: &FaceTemplate,
    key: &SealingKey,
    subject: &SubjectReference,
) -> Result<Vec<u8>, TemplateError> {
    let _span = tracing::debug_span!("seal_template").entered();
    let plain = template.to_plain_json()?;
    seal_with_header(KIND_DEVICE, &plain, key, subject, template.model())
}

/// Opens a template sealed by [`seal_template`] with the same key, for the same subject and
/// descriptor model. Errors: `Malformed` (not a sealed template, or an issued one),
/// `ModelMismatch` (sealed for another model version), `Sealing(WrongKey)`,
/// `Sealing(Tampered)` (wrong subject or altered bytes), `Sealing(Truncated | …)`.
pub fn open_template(
    sealed: &[u8],
    key: &SealingKey,
    subject: &SubjectReference,
    model: &ModelInfo,
) -> Result<FaceTemplate, TemplateError> {
    let _span = tracing::debug_span!("open_template").entered();
    let plain = open_with_header(KIND_DEVICE, sealed, key, subject, model)?;
    let template = FaceTemplate::from_plain_json(&plain)?;
    check_model(template.model(), model)?;
    Ok(template)
}

/// What the authority signs for an issued template.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuedPayload {
    subject: SubjectReference,
    model: ModelInfo,
    issued_at: u64,
    template: TemplateRecord,
}

/// A template signed by the pension authority for one subject and model version.
///
/// Made by [`IssuedTemplate::issue`] (authority side), moved and stored only with
/// [`seal_issued`] / [`open_issued`], and trusted only after [`IssuedTemplate::verify`].
/// `Debug` shows the claimed subject, model and issuer, never the template; the signed
/// payload is zeroized on drop.
pub struct IssuedTemplate {
    signed: Signed<IssuedPayload>,
    /// Subject and model as claimed by the sealer (checked by `verify`).
    subject: SubjectReference,
    model: ModelInfo,
}

impl fmt::Debug for IssuedTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTemplate")
            .field("subject", &self.subject)
            .field("model", &self.model)
            .field("issuer", &self.signed.public_key)
            .finish_non_exhaustive()
    }
}

impl Drop for IssuedTemplate {
    fn drop(&mut self) {
        self.signed.payload.zeroize();
    }
}

impl IssuedTemplate {
    /// Signs `template` for `subject` with the authority's key, issued at `issued_at` (unix
    /// seconds).
    pub fn issue(
        authority: &SigningKeyPair,
        subject: &SubjectReference,
        template: &FaceTemplate,
        issued_at: u64,
    ) -> Result<Self, TemplateError> {
        let _span = tracing::debug_span!("issue_template").entered();
        let payload = IssuedPayload {
            subject: *subject,
            model: template.model().clone(),
            issued_at,
            template: template.record().clone(),
        };
        let signed = sealing::sign_canonical(authority, ISSUED_TEMPLATE_PURPOSE, &payload)
            .map_err(TemplateError::Signature)?;
        Ok(Self {
            signed,
            subject: *subject,
            model: payload.model.clone(),
        })
    }

    /// The public key the template claims to be signed with (not yet verified).
    pub fn issuer(&self) -> PublicKey {
        self.signed.public_key
    }

    /// Checks the authority's signature under the pinned `authority` key, then that the
    /// template was issued for `subject` and `model`, and returns it.
    ///
    /// Errors: `Signature(WrongKey)` (signed by another key), `Signature(BadSignature)`
    /// (any change to the signed content), `Signature(Malformed)`, `SubjectMismatch`,
    /// `ModelMismatch`, `Malformed` (an inconsistent template record).
    pub fn verify(
        &self,
        authority: &PublicKey,
        subject: &SubjectReference,
        model: &ModelInfo,
    ) -> Result<FaceTemplate, TemplateError> {
        let _span = tracing::debug_span!("verify_issued_template").entered();
        let payload: IssuedPayload =
            sealing::verify_canonical(&self.signed, authority, ISSUED_TEMPLATE_PURPOSE)
                .map_err(TemplateError::Signature)?;
        if !payload.subject.ct_eq(subject) {
            return Err(TemplateError::SubjectMismatch);
        }
        check_model(&payload.model, model)?;
        let template = FaceTemplate::from_parts(payload.template)?;
        if template.model() != &payload.model {
            return Err(TemplateError::Malformed(
                "issued template's record names another model",
            ));
        }
        Ok(template)
    }

    /// Issue time claimed by the payload, after verification under `authority`.
    pub fn issued_at(&self, authority: &PublicKey) -> Result<u64, TemplateError> {
        let payload: IssuedPayload =
            sealing::verify_canonical(&self.signed, authority, ISSUED_TEMPLATE_PURPOSE)
                .map_err(TemplateError::Signature)?;
        Ok(payload.issued_at)
    }
}

/// Seals an issued template under `key` (transport key shared with the device, or the
/// device's own key at rest), bound to the subject and model it claims.
pub fn seal_issued(issued: &IssuedTemplate, key: &SealingKey) -> Result<Vec<u8>, TemplateError> {
    let _span = tracing::debug_span!("seal_issued_template").entered();
    let json = Zeroizing::new(
        issued
            .signed
            .to_json()
            .map_err(TemplateError::Signature)?
            .into_bytes(),
    );
    seal_with_header(KIND_ISSUED, &json, key, &issued.subject, &issued.model)
}

/// Opens an issued template sealed by [`seal_issued`] for `subject` and `model`. The
/// result is not trusted yet: call [`IssuedTemplate::verify`] (or use
/// [`open_verified_issued`]).
pub fn open_issued(
    sealed: &[u8],
    key: &SealingKey,
    subject: &SubjectReference,
    model: &ModelInfo,
) -> Result<IssuedTemplate, TemplateError> {
    let _span = tracing::debug_span!("open_issued_template").entered();
    let plain = open_with_header(KIND_ISSUED, sealed, key, subject, model)?;
    let text = std::str::from_utf8(&plain)
        .map_err(|_| TemplateError::Malformed("issued template is not UTF-8"))?;
    let signed = Signed::from_json(text).map_err(TemplateError::Signature)?;
    Ok(IssuedTemplate {
        signed,
        subject: *subject,
        model: model.clone(),
    })
}

/// [`open_issued`] followed by [`IssuedTemplate::verify`] under the pinned `authority` key.
pub fn open_verified_issued(
    sealed: &[u8],
    key: &SealingKey,
    subject: &SubjectReference,
    model: &ModelInfo,
    authority: &PublicKey,
) -> Result<FaceTemplate, TemplateError> {
    open_issued(sealed, key, subject, model)?.verify(authority, subject, model)
}

/// Whether `e` is the error of a seal that failed authentication (wrong subject reference,
/// or altered bytes).
pub fn is_tampered(e: &TemplateError) -> bool {
    matches!(e, TemplateError::Sealing(SealError::Tampered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::templates::tests::{model, near, person, template_of};
    use crate::matching::templates::MatchingConfig;

    fn subject(n: u8) -> SubjectReference {
        SubjectReference::from_bytes([n; 32])
    }

    #[test]
    fn sealed_templates_open_only_for_their_key_subject_and_model() {
        let t = template_of(1, 100);
        let key = SealingKey::generate().unwrap();
        let sealed = seal_template(&t, &key, &subject(1)).unwrap();
        assert_eq!(&sealed[..4], b"LFT1");
        let back = open_template(&sealed, &key, &subject(1), &model()).unwrap();
        assert_eq!(back, t);

        let other_key = SealingKey::generate().unwrap();
        assert_eq!(
            open_template(&sealed, &other_key, &subject(1), &model()).unwrap_err(),
            TemplateError::Sealing(SealError::WrongKey)
        );
        assert!(is_tampered(
            &open_template(&sealed, &key, &subject(2), &model()).unwrap_err()
        ));
        let mut newer = model();
        newer.sha256 = "cd".repeat(32);
        assert!(matches!(
            open_template(&sealed, &key, &subject(1), &newer),
            Err(TemplateError::ModelMismatch { .. })
        ));
        let mut renamed = model();
        renamed.file = "other.onnx".into();
        assert!(is_tampered(
            &open_template(&sealed, &key, &subject(1), &renamed).unwrap_err()
        ));
        // Every single flipped bit is refused.
        for i in 0..sealed.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = sealed.clone();
                bad[i] ^= bit;
                assert!(
                    open_template(&bad, &key, &subject(1), &model()).is_err(),
                    "byte {i} bit {bit:#x}"
                );
            }
        }
        assert!(open_template(&sealed[..sealed.len() - 1], &key, &subject(1), &model()).is_err());
        assert!(open_template(&sealed[..10], &key, &subject(1), &model()).is_err());
    }

    #[test]
    fn device_and_issued_seals_are_not_interchangeable() {
        let t = template_of(2, 0);
        let key = SealingKey::generate().unwrap();
        let (authority, _) = SigningKeyPair::generate().unwrap();
        let issued = IssuedTemplate::issue(&authority, &subject(2), &t, 7).unwrap();
        let sealed_issued = seal_issued(&issued, &key).unwrap();
        let sealed_device = seal_template(&t, &key, &subject(2)).unwrap();
        assert!(matches!(
            open_template(&sealed_issued, &key, &subject(2), &model()),
            Err(TemplateError::Malformed(_))
        ));
        assert!(matches!(
            open_issued(&sealed_device, &key, &subject(2), &model()),
            Err(TemplateError::Malformed(_))
        ));
        // Relabelled kind byte: the header is authenticated.
        let mut relabelled = sealed_issued.clone();
        relabelled[4] = 0x01;
        assert!(is_tampered(
            &open_template(&relabelled, &key, &subject(2), &model()).unwrap_err()
        ));
    }

    #[test]
    fn issued_templates_verify_only_under_the_authority_for_their_subject() {
        let t = template_of(3, 0);
        let key = SealingKey::generate().unwrap();
        let (authority, _) = SigningKeyPair::generate().unwrap();
        let trusted = authority.public_key();
        let issued = IssuedTemplate::issue(&authority, &subject(3), &t, 1234).unwrap();
        assert_eq!(issued.issuer(), trusted);
        assert_eq!(issued.issued_at(&trusted), Ok(1234));
        let sealed = seal_issued(&issued, &key).unwrap();
        let back = open_verified_issued(&sealed, &key, &subject(3), &model(), &trusted).unwrap();
        assert_eq!(back, t);
        assert!(!format!("{issued:?}").contains("enrollment"));

        // An attacker enrolls their own face for subject 3 and signs it with their own key.
        let (attacker, _) = SigningKeyPair::generate().unwrap();
        let forged = IssuedTemplate::issue(&attacker, &subject(3), &template_of(4, 0), 1).unwrap();
        let sealed_forged = seal_issued(&forged, &key).unwrap();
        assert_eq!(
            open_verified_issued(&sealed_forged, &key, &subject(3), &model(), &trusted)
                .unwrap_err(),
            TemplateError::Signature(SealError::WrongKey)
        );
        // … or claims the authority's key while signing with their own.
        let claimed = IssuedTemplate {
            signed: Signed::from_parts(
                forged.signed.payload.clone(),
                forged.signed.signature,
                trusted,
            ),
            subject: subject(3),
            model: model(),
        };
        assert_eq!(
            claimed.verify(&trusted, &subject(3), &model()).unwrap_err(),
            TemplateError::Signature(SealError::BadSignature)
        );
        // … or swaps in the payload of a template issued to somebody else.
        let someone_else =
            IssuedTemplate::issue(&authority, &subject(4), &template_of(4, 0), 1).unwrap();
        let swapped_sealed = {
            let relabelled = IssuedTemplate {
                signed: someone_else.signed.clone(),
                subject: subject(3),
                model: model(),
            };
            seal_issued(&relabelled, &key).unwrap()
        };
        assert_eq!(
            open_verified_issued(&swapped_sealed, &key, &subject(3), &model(), &trusted)
                .unwrap_err(),
            TemplateError::SubjectMismatch
        );
        // … or edits the template inside a genuine signed payload.
        let mut edited = issued.signed.payload.clone();
        let at = edited.find("\"created_at\":0").unwrap();
        edited.replace_range(at..at + 14, "\"created_at\":1");
        let tampered = IssuedTemplate {
            signed: Signed::from_parts(edited, issued.signed.signature, trusted),
            subject: subject(3),
            model: model(),
        };
        assert_eq!(
            tampered
                .verify(&trusted, &subject(3), &model())
                .unwrap_err(),
            TemplateError::Signature(SealError::BadSignature)
        );
        // Another model version is refused.
        let mut newer = model();
        newer.sha256 = "cd".repeat(32);
        assert!(matches!(
            issued.verify(&trusted, &subject(3), &newer),
            Err(TemplateError::ModelMismatch { .. })
        ));
    }

    #[test]
    fn a_verified_issued_template_matches_like_the_original() {
        let t = template_of(5, 0);
        let (authority, _) = SigningKeyPair::generate().unwrap();
        let issued = IssuedTemplate::issue(&authority, &subject(5), &t, 0).unwrap();
        let back = issued
            .verify(&authority.public_key(), &subject(5), &model())
            .unwrap();
        let cfg = MatchingConfig::default();
        let live = near(&person(5), 1, 0.2);
        assert_eq!(
            back.match_descriptor(&live, &model(), &cfg),
            t.match_descriptor(&live, &model(), &cfg)
        );
    }
}
