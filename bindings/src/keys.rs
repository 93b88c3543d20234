//! The keys of the sessions as the shells hold them (byte buffers from the platform
//! keystore), their conversion into the core's key types, and helpers that make new keys.
//!
//! Key bytes handed over are wiped from the facade's copies as soon as the core's key
//! objects are made from them (the foreign side's own copies are the keystore's business).
//! Every key is made with ring's system random generator.

use crate::error::LifecertError;
use lifecert_core::api::certification::CertificationKeys as CoreCertificationKeys;
use lifecert_core::api::enrollment::EnrollmentKeys as CoreEnrollmentKeys;
use lifecert_core::crypto::sealing::{self, PublicKey, SealingKey, SigningKeyPair};
use lifecert_core::identity::person::SubjectKey;
use zeroize::Zeroize;

/// Length of a subject key and of a sealing key, bytes.
const KEY_LEN: usize = 32;

/// The keys of an enrollment, from the platform keystore.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentKeys {
    /// HMAC key of subject references: 32 bytes ([`generate_subject_key`]; at least 32 are
    /// required), the same for every session of the app (the sealed templates are bound to
    /// the reference it derives from the ID number).
    pub subject_key: Vec<u8>,
    /// AES-256-GCM key the templates are sealed with: 32 bytes ([`generate_sealing_key`]).
    pub sealing_key: Vec<u8>,
}

/// The keys of a certification, from the platform keystore.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct CertificationKeys {
    /// HMAC key of subject references: 32 bytes, the one the template was enrolled with.
    pub subject_key: Vec<u8>,
    /// AES-256-GCM key the templates are sealed with: 32 bytes.
    pub sealing_key: Vec<u8>,
    /// The device's Ed25519 signing key as a PKCS#8 document ([`generate_device_key`]);
    /// it signs the attestation.
    pub device_key_pkcs8: Vec<u8>,
}

impl std::fmt::Debug for EnrollmentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentKeys").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CertificationKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificationKeys").finish_non_exhaustive()
    }
}

fn subject_key(bytes: &[u8]) -> Result<SubjectKey, LifecertError> {
    SubjectKey::new(bytes).map_err(LifecertError::subject_key)
}

fn sealing_key(bytes: &[u8]) -> Result<SealingKey, LifecertError> {
    SealingKey::new(bytes).map_err(|e| LifecertError::key("sealing key", e))
}

fn device_key(pkcs8: &[u8]) -> Result<SigningKeyPair, LifecertError> {
    SigningKeyPair::from_pkcs8(pkcs8).map_err(|e| LifecertError::key("device key", e))
}

impl EnrollmentKeys {
    /// The core's keys; the bytes are wiped.
    pub(crate) fn into_core(mut self) -> Result<CoreEnrollmentKeys, LifecertError> {
        let keys = (|| {
            Ok(CoreEnrollmentKeys {
                subject: subject_key(&self.subject_key)?,
                sealing: sealing_key(&self.sealing_key)?,
            })
        })();
        self.subject_key.zeroize();
        self.sealing_key.zeroize();
        keys
    }
}

impl CertificationKeys {
    /// The core's keys; the bytes are wiped.
    pub(crate) fn into_core(mut self) -> Result<CoreCertificationKeys, LifecertError> {
        let keys = (|| {
            Ok(CoreCertificationKeys {
                subject: subject_key(&self.subject_key)?,
                sealing: sealing_key(&self.sealing_key)?,
                device: device_key(&self.device_key_pkcs8)?,
            })
        })();
        self.subject_key.zeroize();
        self.sealing_key.zeroize();
        self.device_key_pkcs8.zeroize();
        keys
    }
}

/// A new random 32-byte subject key (the HMAC key of subject references). Made once per
/// app installation and kept in the platform keystore.
///
/// Errors: [`LifecertError::Internal`] when the system random generator fails.
#[uniffi::export]
pub fn generate_subject_key() -> Result<Vec<u8>, LifecertError> {
    Ok(sealing::random_bytes::<KEY_LEN>()?.to_vec())
}

/// A new random 32-byte AES-256-GCM sealing key for templates. Made once per app
/// installation and kept in the platform keystore.
///
/// Errors: [`LifecertError::Internal`] when the system random generator fails.
#[uniffi::export]
pub fn generate_sealing_key() -> Result<Vec<u8>, LifecertError> {
    Ok(sealing::random_bytes::<KEY_LEN>()?.to_vec())
}

/// A new device Ed25519 signing key, as a PKCS#8 v2 document to keep in the platform
/// keystore; its public half ([`device_public_key`]) is registered with the authority.
///
/// Errors: [`LifecertError::Internal`] when the system random generator fails.
#[uniffi::export]
pub fn generate_device_key() -> Result<Vec<u8>, LifecertError> {
    Ok(SigningKeyPair::generate_pkcs8()?.to_vec())
}

/// The 32-byte Ed25519 public key of a device key (PKCS#8, v1 or v2), which the authority
/// verifies attestations with.
///
/// Errors: [`LifecertError::BadInput`] when the bytes are not an Ed25519 PKCS#8 key.
#[uniffi::export]
pub fn device_public_key(pkcs8: Vec<u8>) -> Result<Vec<u8>, LifecertError> {
    let mut pkcs8 = pkcs8;
    let pair = device_key(&pkcs8);
    pkcs8.zeroize();
    Ok(pair?.public_key().as_bytes().to_vec())
}

/// A 32-byte Ed25519 public key given by the shell.
pub(crate) fn public_key(what: &str, bytes: &[u8]) -> Result<PublicKey, LifecertError> {
    PublicKey::from_bytes(bytes).map_err(|e| LifecertError::key(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_work_and_bad_keys_are_bad_input() {
        let device = generate_device_key().unwrap();
        let public = device_public_key(device.clone()).unwrap();
        assert_eq!(public.len(), 32);
        let keys = CertificationKeys {
            subject_key: generate_subject_key().unwrap(),
            sealing_key: generate_sealing_key().unwrap(),
            device_key_pkcs8: device,
        };
        assert_ne!(keys.subject_key, keys.sealing_key);
        let core = keys.clone().into_core().unwrap();
        assert_eq!(core.device.public_key().as_bytes().as_slice(), public);

        let bad = |k: CertificationKeys| match k.into_core() {
            Err(LifecertError::BadInput { reason }) => reason,
            other => panic!("expected BadInput, got {other:?}"),
        };
        let short_subject = bad(CertificationKeys {
            subject_key: vec![1; 16],
            ..keys.clone()
        });
        assert!(short_subject.contains("subject key"), "{short_subject}");
        let sealing = bad(CertificationKeys {
            sealing_key: vec![1; 31],
            ..keys.clone()
        });
        assert!(
            sealing.starts_with("sealing key: ") && sealing.contains("32"),
            "{sealing}"
        );
        let device = bad(CertificationKeys {
            device_key_pkcs8: vec![1; 48],
            ..keys.clone()
        });
        assert!(
            device.starts_with("device key: ") && device.contains("PKCS#8"),
            "{device}"
        );
        assert!(matches!(
            device_public_key(vec![0; 10]),
            Err(LifecertError::BadInput { .. })
        ));
        assert!(format!("{keys:?}").len() < 40, "no key bytes in Debug");
    }
}
