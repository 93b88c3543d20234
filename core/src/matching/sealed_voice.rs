//! Voice profiles at rest: a person's enrolled voice ([`VoiceProfile`]: the speaker reference
//! and the digit templates) sealed with AES-256-GCM under the platform key, bound to the
//! subject reference as associated data, like the face templates of
//! [`crate::matching::sealed_template`]. The plain JSON lives only in buffers that are zeroized on drop.

use crate::crypto::sealing::{self, SealError, SealingKey};
use crate::identity::person::SubjectReference;
use crate::matching::voice_profile::VoiceProfile;
use zeroize::Zeroizing;

/// Domain label of the associated data (format 2: the voice profile).
const VOICE_LABEL: &[u8] = b"lifecert/voice-profile/v2";

fn associated_data(subject: &SubjectReference) -> Vec<u8> {
    let mut aad = VOICE_LABEL.to_vec();
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// Seals `profile` for `subject` under `key`.
pub fn seal_voice_profile(
    profile: &VoiceProfile,
    key: &SealingKey,
    subject: &SubjectReference,
) -> Result<Vec<u8>, SealError> {
    let _span = tracing::debug_span!("seal_voice_profile").entered();
    let plain = Zeroizing::new(
        serde_json::to_vec(profile).map_err(|_| SealError::Unencodable("voice profile"))?,
    );
    sealing::seal(key, &plain, &associated_data(subject))
}

/// Opens a voice profile sealed by [`seal_voice_profile`] with the same key, for the same
/// subject. Errors: `WrongKey`, `Tampered` (another subject, or altered bytes), `Malformed`
/// (not a voice profile of a known format, or an empty one), `Truncated`.
pub fn open_voice_profile(
    sealed: &[u8],
    key: &SealingKey,
    subject: &SubjectReference,
) -> Result<VoiceProfile, SealError> {
    let _span = tracing::debug_span!("open_voice_profile").entered();
    let plain = Zeroizing::new(sealing::open(key, sealed, &associated_data(subject))?);
    let profile: VoiceProfile =
        serde_json::from_slice(&plain).map_err(|_| SealError::Malformed("not a voice profile"))?;
    profile
        .validate()
        .map_err(|_| SealError::Malformed("voice profile of an unknown format, or empty"))?;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::mfcc::FeatureMatrix;
    use crate::liveness::digit_verify::VoiceTemplates;

    fn profile() -> VoiceProfile {
        let mut t = VoiceTemplates::new(2);
        for d in 0..10u8 {
            let data = (0..20).map(|i| f32::from(d) + i as f32 * 0.1).collect();
            t.add_take(d, &FeatureMatrix::new(10, 2, data).unwrap())
                .unwrap();
        }
        VoiceProfile::new(None, Some(t)).unwrap()
    }

    #[test]
    fn sealed_voice_profiles_open_only_for_their_subject_and_key() {
        let key = SealingKey::generate().unwrap();
        let other_key = SealingKey::generate().unwrap();
        let alice = SubjectReference::from_bytes([1; 32]);
        let bob = SubjectReference::from_bytes([2; 32]);
        let p = profile();
        let sealed = seal_voice_profile(&p, &key, &alice).unwrap();
        assert_eq!(open_voice_profile(&sealed, &key, &alice).unwrap(), p);
        assert!(matches!(
            open_voice_profile(&sealed, &key, &bob),
            Err(SealError::Tampered)
        ));
        assert!(open_voice_profile(&sealed, &other_key, &alice).is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            open_voice_profile(&flipped, &key, &alice),
            Err(SealError::Tampered)
        ));
        // A sealed payload that is not a profile (e.g. an empty one) is refused as malformed.
        let mut empty = p.clone();
        empty.digits = None;
        let plain = serde_json::to_vec(&empty).unwrap();
        let sealed = sealing::seal(&key, &plain, &associated_data(&alice)).unwrap();
        assert!(matches!(
            open_voice_profile(&sealed, &key, &alice),
            Err(SealError::Malformed(_))
        ));
    }
}
