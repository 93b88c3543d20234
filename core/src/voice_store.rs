//! Voice templates at rest: a person's digit templates ([`VoiceTemplates`]) sealed with
//! AES-256-GCM under the platform key, bound to the subject reference as associated data, like
//! the face templates of [`crate::template_store`]. The plain JSON lives only in buffers that
//! are zeroized on drop.

use crate::digit_verify::VoiceTemplates;
use crate::identity::SubjectReference;
use crate::sealing::{self, SealError, SealingKey};
use zeroize::Zeroizing;

/// Domain label of the associated data.
const VOICE_LABEL: &[u8] = b"lifecert/voice-templates/v1";

fn associated_data(subject: &SubjectReference) -> Vec<u8> {
    let mut aad = VOICE_LABEL.to_vec();
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// Seals `templates` for `subject` under `key`.
pub fn seal_voice_templates(
    templates: &VoiceTemplates,
    key: &SealingKey,
    subject: &SubjectReference,
) -> Result<Vec<u8>, SealError> {
    let _span = tracing::debug_span!("seal_voice_templates").entered();
    let plain = Zeroizing::new(
        serde_json::to_vec(templates).map_err(|_| SealError::Unencodable("voice templates"))?,
    );
    sealing::seal(key, &plain, &associated_data(subject))
}

/// Opens voice templates sealed by [`seal_voice_templates`] with the same key, for the same
/// subject. Errors: `WrongKey`, `Tampered` (another subject, or altered bytes), `Malformed`
/// (not voice templates), `Truncated`.
pub fn open_voice_templates(
    sealed: &[u8],
    key: &SealingKey,
    subject: &SubjectReference,
) -> Result<VoiceTemplates, SealError> {
    let _span = tracing::debug_span!("open_voice_templates").entered();
    let plain = Zeroizing::new(sealing::open(key, sealed, &associated_data(subject))?);
    serde_json::from_slice(&plain).map_err(|_| SealError::Malformed("not voice templates"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio_features::FeatureMatrix;

    fn templates() -> VoiceTemplates {
        let mut t = VoiceTemplates::new(2);
        for d in 0..10u8 {
            let data = (0..20).map(|i| f32::from(d) + i as f32 * 0.1).collect();
            t.add_take(d, &FeatureMatrix::new(10, 2, data).unwrap())
                .unwrap();
        }
        t
    }

    #[test]
    fn sealed_voice_templates_open_only_for_their_subject_and_key() {
        let key = SealingKey::generate().unwrap();
        let other_key = SealingKey::generate().unwrap();
        let alice = SubjectReference::from_bytes([1; 32]);
        let bob = SubjectReference::from_bytes([2; 32]);
        let t = templates();
        let sealed = seal_voice_templates(&t, &key, &alice).unwrap();
        assert_eq!(open_voice_templates(&sealed, &key, &alice).unwrap(), t);
        assert!(matches!(
            open_voice_templates(&sealed, &key, &bob),
            Err(SealError::Tampered)
        ));
        assert!(open_voice_templates(&sealed, &other_key, &alice).is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            open_voice_templates(&flipped, &key, &alice),
            Err(SealError::Tampered)
        ));
    }
}
