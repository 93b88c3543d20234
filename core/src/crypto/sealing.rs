//! Sealing (AES-256-GCM) and signing (Ed25519), all through `ring`.
//!
//! # Sealed envelope (`LCS1`)
//!
//! [`seal`] produces, and [`open`] accepts, exactly:
//!
//! ```text
//! offset  len  field
//! 0       4    magic "LCS1" (ASCII; the 4th byte is the format version)
//! 4       8    key id: SHA-256("lifecert/sealing-key-id/v1" || 0x00 || key)[0..8]
//! 12      12   nonce, fresh from ring's SystemRandom for every seal
//! 24      n    AES-256-GCM ciphertext (n = plaintext length)
//! 24+n    16   AES-256-GCM tag
//! ```
//!
//! The AES-GCM additional authenticated data is the 24-byte header followed
//! by the caller's associated data, so the header, the ciphertext and the
//! associated data are all authenticated. [`open`] checks in this order and
//! reports the first failure: length (`Truncated`, `TooLarge`), magic
//! (`UnsupportedVersion` for `LCS` + another version byte, else `BadMagic`),
//! key id (`WrongKey`: the blob was sealed under another key, or its key id
//! was altered), then authentication (`Tampered`: changed nonce, ciphertext,
//! tag or associated data). Only the key id check can be answered without
//! the key's secret; `Tampered` is the only outcome of a failed tag check.
//!
//! Nonces are random (96 bits), so keep one key below ~2^32 seals (NIST SP
//! 800-38D); rotate keys well before that. [`sealed_key_id`] lets a caller
//! holding several keys pick the right one.
//!
//! # Signatures
//!
//! Ed25519 via `ring::signature`. [`sign_canonical`] / [`verify_canonical`]
//! sign a value's JSON encoding, bound to a purpose (domain separation):
//!
//! ```text
//! message = "lifecert/" || purpose || "/v1" || 0x00 || payload
//! ```
//!
//! where `payload` is the exact UTF-8 JSON text carried in [`Signed::payload`].
//! Verification checks the signature over those exact bytes before parsing
//! them, so the encoding never has to be reproduced byte for byte by the
//! verifier. See [`canonical_json`] for how the payload is produced.
//!
//! # Secrets
//!
//! Key bytes, PKCS#8 documents and opened plaintext are held in buffers that
//! are zeroised on drop. Limitation: ring's own key schedules (AES round
//! keys, the Ed25519 key pair) are not zeroised by ring; the AES key object
//! is built per call and dropped at its end.
#![forbid(unsafe_code)]

use std::fmt;
use std::marker::PhantomData;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::digest::{self, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why sealing, opening, signing or verifying failed.
///
/// No variant carries secret material or payload content, so errors are safe
/// to log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SealError {
    /// Key material of the wrong length.
    #[error("key must be {expected} bytes, got {actual}")]
    InvalidKeyLength {
        /// Required length.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// Shorter than the smallest possible envelope (header + tag).
    #[error("sealed data is truncated")]
    Truncated,
    /// Does not start with the `LCS` magic.
    #[error("not a lifecert sealed envelope")]
    BadMagic,
    /// An `LCS` envelope of a format version this code does not know.
    #[error("unsupported sealed envelope version {version:#04x}")]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },
    /// Sealed under a different key (key id mismatch), or — for signed
    /// values — signed by a key other than the trusted one.
    #[error("wrong key")]
    WrongKey,
    /// Authentication failed: ciphertext, tag, nonce or associated data was
    /// changed.
    #[error("sealed data failed authentication")]
    Tampered,
    /// Input above the size cap.
    #[error("{len} bytes is more than the maximum of {max}")]
    TooLarge {
        /// Size given.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The system random number generator failed.
    #[error("system random number generator failed")]
    Random,
    /// ring refused an operation that should not fail (e.g. AES key setup).
    #[error("cryptographic operation failed")]
    Crypto,
    /// The PKCS#8 document is not an Ed25519 private key ring accepts.
    #[error("invalid Ed25519 PKCS#8 key")]
    InvalidPkcs8,
    /// A signature that does not verify.
    #[error("bad signature")]
    BadSignature,
    /// A purpose label outside `[a-z0-9._-]{1,64}`.
    #[error("purpose must be 1-64 characters of a-z, 0-9, '.', '_' or '-'")]
    InvalidPurpose,
    /// A value that cannot be encoded as JSON (including non-finite floats,
    /// which JSON cannot represent).
    #[error("value cannot be encoded: {0}")]
    Unencodable(&'static str),
    /// Input that does not have the expected shape (bad JSON, bad hex, wrong
    /// type). The text says which part; it never quotes the input.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
}

/// Draws `N` bytes from ring's `SystemRandom` (the OS CSPRNG).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SealError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| SealError::Random)?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Hex helpers (encoding only; no cryptography)
// ---------------------------------------------------------------------------

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn from_hex<const N: usize>(hex: &str) -> Result<[u8; N], SealError> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    const ERR: SealError = SealError::Malformed("expected hexadecimal digits of the right length");
    let bytes = hex.as_bytes();
    if bytes.len() != 2 * N {
        return Err(ERR);
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (nibble(*hi), nibble(*lo)),
            _ => (None, None),
        };
        *o = (hi.ok_or(ERR)? << 4) | lo.ok_or(ERR)?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Sealing
// ---------------------------------------------------------------------------

/// Magic and version at the start of every sealed envelope.
pub const MAGIC: [u8; 4] = *b"LCS1";
/// Length of the key id in the header.
pub const KEY_ID_LEN: usize = 8;
/// Length of the AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the header: magic + key id + nonce.
pub const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN;
/// Length of the AES-GCM tag at the end.
pub const TAG_LEN: usize = 16;
/// Largest plaintext [`seal`] accepts (16 MiB); [`open`] rejects envelopes
/// that would exceed it with `TooLarge`.
pub const MAX_PLAINTEXT_LEN: usize = 16 * 1024 * 1024;

const KEY_ID_LABEL: &[u8] = b"lifecert/sealing-key-id/v1";

/// An AES-256-GCM key (32 bytes, e.g. from the platform keystore).
///
/// The bytes are held in a buffer that is zeroised on drop; `Debug` shows
/// only the public key id. Not `Clone`.
pub struct SealingKey {
    bytes: Zeroizing<Vec<u8>>,
    key_id: [u8; KEY_ID_LEN],
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("key_id", &to_hex(&self.key_id))
            .finish_non_exhaustive()
    }
}

impl SealingKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// Copies `bytes` (exactly 32) into a new key; zeroise your own copy.
    pub fn new(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() != Self::LEN {
            return Err(SealError::InvalidKeyLength {
                expected: Self::LEN,
                actual: bytes.len(),
            });
        }
        let bytes = Zeroizing::new(bytes.to_vec());
        let mut ctx = digest::Context::new(&SHA256);
        ctx.update(KEY_ID_LABEL);
        ctx.update(&[0]);
        ctx.update(&bytes);
        let digest = ctx.finish();
        let mut key_id = [0u8; KEY_ID_LEN];
        for (o, d) in key_id.iter_mut().zip(digest.as_ref()) {
            *o = *d;
        }
        Ok(SealingKey { bytes, key_id })
    }

    /// A fresh random key from ring's `SystemRandom` (for provisioning and
    /// tests; in production the key comes from the platform keystore).
    pub fn generate() -> Result<Self, SealError> {
        let bytes = Zeroizing::new(random_bytes::<32>()?);
        Self::new(bytes.as_slice())
    }

    /// The 8-byte key id written into every envelope sealed with this key.
    /// Public: it identifies the key without revealing it.
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        self.key_id
    }

    fn aead_key(&self) -> Result<LessSafeKey, SealError> {
        UnboundKey::new(&AES_256_GCM, &self.bytes)
            .map(LessSafeKey::new)
            .map_err(|_| SealError::Crypto)
    }
}

/// Encrypts and authenticates `plaintext`, binding `associated_data` (which
/// is not stored: [`open`] must be given the same bytes). Returns the `LCS1`
/// envelope described in the module docs, `TAG_LEN + HEADER_LEN` bytes
/// longer than the plaintext. `TooLarge` above [`MAX_PLAINTEXT_LEN`].
pub fn seal(
    key: &SealingKey,
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<Vec<u8>, SealError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(SealError::TooLarge {
            len: plaintext.len(),
            max: MAX_PLAINTEXT_LEN,
        });
    }
    let nonce = random_bytes::<NONCE_LEN>()?;
    let mut header = [0u8; HEADER_LEN];
    for (h, b) in header
        .iter_mut()
        .zip(MAGIC.iter().chain(&key.key_id).chain(&nonce))
    {
        *h = *b;
    }
    let aead_key = key.aead_key()?;

    // Allocated once at full size so no reallocation leaves plaintext behind;
    // zeroised if anything fails before it has been encrypted.
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN));
    out.extend_from_slice(&header);
    out.extend_from_slice(plaintext);
    let aad = aad_bytes(&header, associated_data);
    let body = out.get_mut(HEADER_LEN..).ok_or(SealError::Crypto)?;
    let tag = aead_key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_slice()),
            body,
        )
        .map_err(|_| SealError::Crypto)?;
    out.extend_from_slice(tag.as_ref());
    tracing::trace!(len = plaintext.len(), "sealed");
    Ok(std::mem::take(&mut *out))
}

/// Checks and decrypts an envelope made by [`seal`] with the same key and
/// associated data. The plaintext comes back in a buffer that is zeroised on
/// drop. Errors as described in the module docs.
pub fn open(
    key: &SealingKey,
    sealed: &[u8],
    associated_data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let (header, key_id, nonce, body) = split_envelope(sealed)?;
    if key_id != key.key_id {
        tracing::debug!(
            expected = %to_hex(&key.key_id),
            found = %to_hex(&key_id),
            "sealed data is for another key"
        );
        return Err(SealError::WrongKey);
    }
    let aead_key = key.aead_key()?;
    let aad = aad_bytes(&header, associated_data);
    let mut buf = Zeroizing::new(body.to_vec());
    let plain_len = aead_key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_slice()),
            &mut buf,
        )
        .map_err(|_| SealError::Tampered)?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

/// The key id in an envelope's header (see [`SealingKey::key_id`]), after
/// the same length and magic checks as [`open`]. Does not authenticate
/// anything.
pub fn sealed_key_id(sealed: &[u8]) -> Result<[u8; KEY_ID_LEN], SealError> {
    split_envelope(sealed).map(|(_, key_id, _, _)| key_id)
}

type EnvelopeParts<'a> = (
    [u8; HEADER_LEN],
    [u8; KEY_ID_LEN],
    [u8; NONCE_LEN],
    &'a [u8],
);

fn split_envelope(sealed: &[u8]) -> Result<EnvelopeParts<'_>, SealError> {
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(SealError::Truncated);
    }
    if sealed.len() > HEADER_LEN + MAX_PLAINTEXT_LEN + TAG_LEN {
        return Err(SealError::TooLarge {
            len: sealed.len(),
            max: HEADER_LEN + MAX_PLAINTEXT_LEN + TAG_LEN,
        });
    }
    let (header, body) = sealed
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(SealError::Truncated)?;
    let (magic, rest) = header
        .split_first_chunk::<4>()
        .ok_or(SealError::Truncated)?;
    if magic != &MAGIC {
        return Err(match magic {
            [b'L', b'C', b'S', version] => SealError::UnsupportedVersion { version: *version },
            _ => SealError::BadMagic,
        });
    }
    let (key_id, nonce) = rest
        .split_first_chunk::<KEY_ID_LEN>()
        .ok_or(SealError::Truncated)?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Truncated)?;
    Ok((*header, *key_id, nonce, body))
}

fn aad_bytes(header: &[u8; HEADER_LEN], associated_data: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(HEADER_LEN + associated_data.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(associated_data);
    aad
}

// ---------------------------------------------------------------------------
// Ed25519
// ---------------------------------------------------------------------------

/// An Ed25519 signing key pair.
///
/// `Debug` shows only the public key. ring does not zeroise the key pair's
/// internal secret; keep the PKCS#8 bytes in the platform keystore and load
/// the pair only for as long as it is needed.
pub struct SigningKeyPair {
    pair: Ed25519KeyPair,
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl SigningKeyPair {
    /// Generates a new key pair with ring's `SystemRandom` and returns it as
    /// a PKCS#8 v2 document (in a buffer zeroised on drop) to be stored in the
    /// platform keystore. ring's own copy of the document is not zeroised.
    pub fn generate_pkcs8() -> Result<Zeroizing<Vec<u8>>, SealError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| SealError::Random)?;
        Ok(Zeroizing::new(doc.as_ref().to_vec()))
    }

    /// Generates a new key pair and also returns its PKCS#8 document.
    pub fn generate() -> Result<(Self, Zeroizing<Vec<u8>>), SealError> {
        let pkcs8 = Self::generate_pkcs8()?;
        let pair = Self::from_pkcs8(&pkcs8)?;
        Ok((pair, pkcs8))
    }

    /// Loads a key pair from a PKCS#8 document: v2 (with public key, as
    /// [`Self::generate_pkcs8`] makes; the public key is checked against the
    /// private one) or v1 (private key only, as e.g. OpenSSL writes).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, SealError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map(|pair| SigningKeyPair { pair })
            .map_err(|_| SealError::InvalidPkcs8)
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        let mut out = [0u8; PublicKey::LEN];
        for (o, b) in out.iter_mut().zip(self.pair.public_key().as_ref()) {
            *o = *b;
        }
        PublicKey(out)
    }

    /// Signs `msg` as is (plain Ed25519, no domain separation). For
    /// structured data prefer [`sign_canonical`], which binds a purpose; do
    /// not sign raw messages that begin with `lifecert/` with a key that is
    /// also used for [`sign_canonical`].
    pub fn sign(&self, msg: &[u8]) -> Signature {
        let sig = self.pair.sign(msg);
        let mut out = [0u8; Signature::LEN];
        for (o, b) in out.iter_mut().zip(sig.as_ref()) {
            *o = *b;
        }
        Signature(out)
    }
}

/// An Ed25519 public key (32 bytes). Text and serde form: 64 lower-case hex
/// digits (upper case accepted when parsing).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// From 32 bytes. `InvalidKeyLength` otherwise. (Whether the bytes are a
    /// valid curve point is checked by [`Self::verify`], which then fails.)
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| SealError::InvalidKeyLength {
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(PublicKey(arr))
    }

    /// From 64 hex digits. `Malformed` otherwise.
    pub fn from_hex(hex: &str) -> Result<Self, SealError> {
        from_hex::<32>(hex).map(PublicKey)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// Verifies a plain Ed25519 signature over `msg`. `BadSignature` if it
    /// does not verify (including when this is not a valid public key).
    pub fn verify(&self, msg: &[u8], signature: &Signature) -> Result<(), SealError> {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(msg, &signature.0)
            .map_err(|_| SealError::BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.to_hex()).finish()
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        PublicKey::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature (64 bytes). Text and serde form: 128 lower-case hex
/// digits (upper case accepted when parsing).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature([u8; 64]);

impl Signature {
    /// Length in bytes.
    pub const LEN: usize = 64;

    /// From 64 bytes. `Malformed` otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let arr: [u8; 64] = bytes
            .try_into()
            .map_err(|_| SealError::Malformed("a signature is 64 bytes"))?;
        Ok(Signature(arr))
    }

    /// From 128 hex digits. `Malformed` otherwise.
    pub fn from_hex(hex: &str) -> Result<Self, SealError> {
        from_hex::<64>(hex).map(Signature)
    }

    /// The 64 bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// 128 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Signature").field(&self.to_hex()).finish()
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Signature::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Signed canonical JSON
// ---------------------------------------------------------------------------

/// A value of type `T` signed by [`sign_canonical`].
///
/// JSON form (what travels between device and server):
/// `{"payload":"<the JSON text of T>","signature":"<128 hex>","public_key":"<64 hex>"}`.
/// Unknown fields are rejected when deserialising. The purpose is not carried:
/// the verifier states which purpose it expects.
#[derive(Serialize, Deserialize)]
#[serde(bound = "", deny_unknown_fields)]
pub struct Signed<T> {
    /// The exact JSON text that was signed.
    pub payload: String,
    /// Signature over `"lifecert/" || purpose || "/v1" || 0x00 || payload`.
    pub signature: Signature,
    /// The signer's public key (checked against the trusted key on verify).
    pub public_key: PublicKey,
    #[serde(skip)]
    _type: PhantomData<fn() -> T>,
}

impl<T> Signed<T> {
    /// Assembles a signed value from its parts (e.g. received separately).
    /// Nothing is checked until [`verify_canonical`].
    pub fn from_parts(payload: String, signature: Signature, public_key: PublicKey) -> Self {
        Signed {
            payload,
            signature,
            public_key,
            _type: PhantomData,
        }
    }

    /// The JSON form (see the type docs).
    pub fn to_json(&self) -> Result<String, SealError> {
        serde_json::to_string(self)
            .map_err(|_| SealError::Unencodable("signed envelope could not be encoded"))
    }

    /// Parses the JSON form. Only the shape is checked here (`Malformed`);
    /// verify with [`verify_canonical`].
    pub fn from_json(json: &str) -> Result<Self, SealError> {
        serde_json::from_str(json).map_err(|e| {
            tracing::debug!(category = ?e.classify(), line = e.line(), column = e.column(),
                "signed envelope is not valid");
            SealError::Malformed("signed envelope is not valid JSON of the expected shape")
        })
    }
}

impl<T> Clone for Signed<T> {
    fn clone(&self) -> Self {
        Signed::from_parts(self.payload.clone(), self.signature, self.public_key)
    }
}

impl<T> PartialEq for Signed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.payload == other.payload
            && self.signature == other.signature
            && self.public_key == other.public_key
    }
}

impl<T> Eq for Signed<T> {}

impl<T> fmt::Debug for Signed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("payload_len", &self.payload.len())
            .field("signature", &self.signature)
            .field("public_key", &self.public_key)
            .finish()
    }
}

/// The JSON text [`sign_canonical`] signs for `value`.
///
/// Canonicalisation rules: compact `serde_json` output (no whitespace,
/// non-ASCII as raw UTF-8), struct fields in declaration order (serde's
/// derive order), so a struct type always encodes the same way. Maps must be
/// ordered (`BTreeMap`, never `HashMap`, whose iteration order is random)
/// for the encoding to be reproducible. Floats must be finite: `serde_json`
/// would silently write NaN/±inf as `null`, so they are rejected here with
/// `Unencodable`. Prefer integers (e.g. fixed-point) in signed data. The
/// verifier does not rely on reproducing this encoding — it checks the exact
/// bytes carried in [`Signed::payload`].
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<String, SealError> {
    if let Err(NonFinite { non_finite: true }) = value.serialize(FloatGuard) {
        return Err(SealError::Unencodable("non-finite float (NaN or infinity)"));
    }
    let json = serde_json::to_string(value)
        .map_err(|_| SealError::Unencodable("serde_json cannot encode this value"))?;
    if json.len() > MAX_PLAINTEXT_LEN {
        return Err(SealError::TooLarge {
            len: json.len(),
            max: MAX_PLAINTEXT_LEN,
        });
    }
    Ok(json)
}

/// Signs `value` for `purpose` (`[a-z0-9._-]{1,64}`, e.g. `"attestation"`):
/// the signature covers `"lifecert/<purpose>/v1" || 0x00 || payload`, with
/// the payload made by [`canonical_json`].
pub fn sign_canonical<T: Serialize>(
    key: &SigningKeyPair,
    purpose: &str,
    value: &T,
) -> Result<Signed<T>, SealError> {
    let payload = canonical_json(value)?;
    let msg = signing_message(purpose, &payload)?;
    Ok(Signed::from_parts(
        payload,
        key.sign(&msg),
        key.public_key(),
    ))
}

/// Verifies `signed` and only then parses its payload.
///
/// In order: `purpose` must be valid (`InvalidPurpose`); the payload must be
/// within [`MAX_PLAINTEXT_LEN`] (`TooLarge`); the embedded public key must be
/// `trusted_key` (`WrongKey`); the signature must verify under `trusted_key`
/// over the exact payload bytes for this purpose (`BadSignature` — also for
/// a purpose mismatch); the payload must parse as `T` (`Malformed`).
pub fn verify_canonical<T: DeserializeOwned>(
    signed: &Signed<T>,
    trusted_key: &PublicKey,
    purpose: &str,
) -> Result<T, SealError> {
    let msg = signing_message(purpose, &signed.payload)?;
    if signed.public_key != *trusted_key {
        return Err(SealError::WrongKey);
    }
    trusted_key.verify(&msg, &signed.signature)?;
    serde_json::from_str(&signed.payload).map_err(|e| {
        tracing::debug!(category = ?e.classify(), line = e.line(), column = e.column(),
            "signed payload does not match the expected type");
        SealError::Malformed("signed payload does not match the expected type")
    })
}

/// [`verify_canonical`] for the JSON form of a [`Signed`] value; an envelope
/// that does not parse is `Malformed`.
pub fn verify_canonical_json<T: DeserializeOwned>(
    signed_json: &str,
    trusted_key: &PublicKey,
    purpose: &str,
) -> Result<T, SealError> {
    // The payload is a JSON string inside JSON: each of its characters takes
    // at most two once escaped, plus room for the signature and key.
    const MAX_ENVELOPE: usize = 2 * MAX_PLAINTEXT_LEN + 1024;
    if signed_json.len() > MAX_ENVELOPE {
        return Err(SealError::TooLarge {
            len: signed_json.len(),
            max: MAX_ENVELOPE,
        });
    }
    let signed = Signed::<T>::from_json(signed_json)?;
    verify_canonical(&signed, trusted_key, purpose)
}

fn signing_message(purpose: &str, payload: &str) -> Result<Vec<u8>, SealError> {
    let valid = (1..=64).contains(&purpose.len())
        && purpose
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'));
    if !valid {
        return Err(SealError::InvalidPurpose);
    }
    if payload.len() > MAX_PLAINTEXT_LEN {
        return Err(SealError::TooLarge {
            len: payload.len(),
            max: MAX_PLAINTEXT_LEN,
        });
    }
    let mut msg = Vec::with_capacity(16 + purpose.len() + payload.len());
    msg.extend_from_slice(b"lifecert/");
    msg.extend_from_slice(purpose.as_bytes());
    msg.extend_from_slice(b"/v1\0");
    msg.extend_from_slice(payload.as_bytes());
    Ok(msg)
}

/// A serde `Serializer` that only walks a value and fails on non-finite
/// floats, which `serde_json` would otherwise write as `null`.
struct FloatGuard;

/// Error of [`FloatGuard`]: `non_finite` is false when the value's own
/// `Serialize` impl failed (serde_json will then report that failure too).
#[derive(Debug)]
struct NonFinite {
    non_finite: bool,
}

const NON_FINITE: NonFinite = NonFinite { non_finite: true };

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.non_finite {
            "non-finite float"
        } else {
            "value failed to serialize"
        })
    }
}

impl std::error::Error for NonFinite {}

impl serde::ser::Error for NonFinite {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        NonFinite { non_finite: false }
    }
}

macro_rules! guard_accept {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(fn $name(self, _v: $ty) -> Result<(), NonFinite> { Ok(()) })*
    };
}

impl Serializer for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    type SerializeSeq = FloatGuard;
    type SerializeTuple = FloatGuard;
    type SerializeTupleStruct = FloatGuard;
    type SerializeTupleVariant = FloatGuard;
    type SerializeMap = FloatGuard;
    type SerializeStruct = FloatGuard;
    type SerializeStructVariant = FloatGuard;

    guard_accept!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char,
        serialize_str: &str,
        serialize_bytes: &[u8],
        serialize_unit_struct: &'static str,
    );

    fn serialize_f32(self, v: f32) -> Result<(), NonFinite> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(NON_FINITE)
        }
    }
    fn serialize_f64(self, v: f64) -> Result<(), NonFinite> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(NON_FINITE)
        }
    }
    fn serialize_none(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_some<V: ?Sized + Serialize>(self, value: &V) -> Result<(), NonFinite> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_newtype_struct<V: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &V,
    ) -> Result<(), NonFinite> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<V: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        value: &V,
    ) -> Result<(), NonFinite> {
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<FloatGuard, NonFinite> {
        Ok(self)
    }
    fn serialize_tuple(self, _len: usize) -> Result<FloatGuard, NonFinite> {
        Ok(self)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<FloatGuard, NonFinite> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<FloatGuard, NonFinite> {
        Ok(self)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<FloatGuard, NonFinite> {
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<FloatGuard, NonFinite> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<FloatGuard, NonFinite> {
        Ok(self)
    }
}

impl serde::ser::SerializeSeq for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<V: ?Sized + Serialize>(&mut self, value: &V) -> Result<(), NonFinite> {
        value.serialize(FloatGuard)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl serde::ser::SerializeTuple for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<V: ?Sized + Serialize>(&mut self, value: &V) -> Result<(), NonFinite> {
        value.serialize(FloatGuard)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl serde::ser::SerializeTupleStruct for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<V: ?Sized + Serialize>(&mut self, value: &V) -> Result<(), NonFinite> {
        value.serialize(FloatGuard)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl serde::ser::SerializeTupleVariant for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<V: ?Sized + Serialize>(&mut self, value: &V) -> Result<(), NonFinite> {
        value.serialize(FloatGuard)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl serde::ser::SerializeMap for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_key<V: ?Sized + Serialize>(&mut self, key: &V) -> Result<(), NonFinite> {
        key.serialize(FloatGuard)
    }
    fn serialize_value<V: ?Sized + Serialize>(&mut self, value: &V) -> Result<(), NonFinite> {
        value.serialize(FloatGuard)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl serde::ser::SerializeStruct for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<V: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &V,
    ) -> Result<(), NonFinite> {
        value.serialize(FloatGuard)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl serde::ser::SerializeStructVariant for FloatGuard {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<V: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &V,
    ) -> Result<(), NonFinite> {
        value.serialize(FloatGuard)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn key(fill: u8) -> SealingKey {
        SealingKey::new(&[fill; 32]).unwrap()
    }

    const AD: &[u8] = b"subject=ab12;purpose=attestation";

    #[test]
    fn random_bytes_works() {
        let a = random_bytes::<32>().unwrap();
        let b = random_bytes::<32>().unwrap();
        assert_ne!(a, b);
        assert_eq!(random_bytes::<0>().unwrap(), [0u8; 0]);
        assert_eq!(random_bytes::<100>().unwrap().len(), 100);
    }

    #[test]
    fn sealing_key_rules() {
        assert_eq!(
            SealingKey::new(&[0; 31]).unwrap_err(),
            SealError::InvalidKeyLength {
                expected: 32,
                actual: 31
            }
        );
        assert!(SealingKey::new(&[0; 33]).is_err());
        assert_ne!(key(1).key_id(), key(2).key_id());
        assert_eq!(key(1).key_id(), key(1).key_id());
        // Known answer for the key id, via ring directly.
        let mut m = b"lifecert/sealing-key-id/v1\0".to_vec();
        m.extend_from_slice(&[1; 32]);
        let d = digest::digest(&SHA256, &m);
        assert_eq!(key(1).key_id().as_slice(), &d.as_ref()[..8]);
        let dbg = format!("{:?}", key(0xAB));
        assert!(!dbg.contains("abab"), "{dbg}");
        assert!(dbg.contains(&to_hex(&key(0xAB).key_id())));
        let g1 = SealingKey::generate().unwrap();
        let g2 = SealingKey::generate().unwrap();
        assert_ne!(g1.key_id(), g2.key_id());
    }

    #[test]
    fn round_trip() {
        let k = key(7);
        for len in [0usize, 1, 15, 16, 17, 1000, 65_536] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let sealed = seal(&k, &pt, AD).unwrap();
            assert_eq!(sealed.len(), HEADER_LEN + len + TAG_LEN);
            assert_eq!(&sealed[..4], b"LCS1");
            assert_eq!(&sealed[4..12], &k.key_id());
            if len >= 16 {
                assert!(!sealed.windows(16).any(|w| w == &pt[..16]));
            }
            assert_eq!(open(&k, &sealed, AD).unwrap().as_slice(), pt.as_slice());
            assert_eq!(sealed_key_id(&sealed), Ok(k.key_id()));
        }
        // Empty associated data works too, and nonces differ per seal.
        let a = seal(&k, b"hello", b"").unwrap();
        let b = seal(&k, b"hello", b"").unwrap();
        assert_ne!(a, b);
        assert_eq!(open(&k, &a, b"").unwrap().as_slice(), b"hello");
    }

    #[test]
    fn every_byte_flip_is_rejected() {
        let k = key(3);
        let sealed = seal(&k, b"proof of life: alive", AD).unwrap();
        for i in 0..sealed.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let mut bad = sealed.clone();
                bad[i] ^= mask;
                let err = open(&k, &bad, AD).unwrap_err();
                let expected = match i {
                    0..=2 => SealError::BadMagic,
                    3 => SealError::UnsupportedVersion {
                        version: b'1' ^ mask,
                    },
                    4..=11 => SealError::WrongKey,
                    _ => SealError::Tampered,
                };
                assert_eq!(err, expected, "byte {i} mask {mask:#x}");
            }
        }
    }

    #[test]
    fn wrong_ad_and_wrong_key() {
        let k = key(3);
        let sealed = seal(&k, b"secret", AD).unwrap();
        assert_eq!(open(&k, &sealed, b"other"), Err(SealError::Tampered));
        assert_eq!(open(&k, &sealed, b""), Err(SealError::Tampered));
        assert_eq!(open(&key(4), &sealed, AD), Err(SealError::WrongKey));
        // A forged header carrying the right key id still fails authentication.
        let other = seal(&key(4), b"secret", AD).unwrap();
        let mut forged = other.clone();
        forged[4..12].copy_from_slice(&k.key_id());
        assert_eq!(open(&k, &forged, AD), Err(SealError::Tampered));
    }

    #[test]
    fn truncation_and_extension() {
        let k = key(5);
        let sealed = seal(&k, b"abc", AD).unwrap();
        for len in 0..HEADER_LEN + TAG_LEN {
            assert_eq!(
                open(&k, &sealed[..len], AD),
                Err(SealError::Truncated),
                "{len}"
            );
            assert_eq!(sealed_key_id(&sealed[..len]), Err(SealError::Truncated));
        }
        for len in HEADER_LEN + TAG_LEN..sealed.len() {
            assert_eq!(
                open(&k, &sealed[..len], AD),
                Err(SealError::Tampered),
                "{len}"
            );
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(open(&k, &longer, AD), Err(SealError::Tampered));
    }

    #[test]
    fn magic_and_version() {
        let k = key(5);
        let mut sealed = seal(&k, b"abc", AD).unwrap();
        sealed[3] = b'2';
        assert_eq!(
            open(&k, &sealed, AD),
            Err(SealError::UnsupportedVersion { version: b'2' })
        );
        sealed[..4].copy_from_slice(b"\x89PNG");
        assert_eq!(open(&k, &sealed, AD), Err(SealError::BadMagic));
        assert_eq!(sealed_key_id(&sealed), Err(SealError::BadMagic));
        assert_eq!(open(&k, &[0u8; 100], AD), Err(SealError::BadMagic));
    }

    #[test]
    fn size_cap() {
        let k = key(6);
        let big = vec![0u8; MAX_PLAINTEXT_LEN + 1];
        assert_eq!(
            seal(&k, &big, AD),
            Err(SealError::TooLarge {
                len: MAX_PLAINTEXT_LEN + 1,
                max: MAX_PLAINTEXT_LEN
            })
        );
        let huge = vec![0u8; HEADER_LEN + MAX_PLAINTEXT_LEN + TAG_LEN + 1];
        assert!(matches!(
            open(&k, &huge, AD),
            Err(SealError::TooLarge { .. })
        ));
    }

    // --- Ed25519 ---

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Attestation {
        subject: String,
        alive: bool,
        score_permille: u16,
        labels: BTreeMap<String, String>,
    }

    fn attestation() -> Attestation {
        let mut labels = BTreeMap::new();
        labels.insert("z".to_owned(), "last".to_owned());
        labels.insert("a".to_owned(), "第一".to_owned());
        Attestation {
            subject: "ab12".into(),
            alive: true,
            score_permille: 987,
            labels,
        }
    }

    #[test]
    fn raw_sign_verify() {
        let (pair, pkcs8) = SigningKeyPair::generate().unwrap();
        let pk = pair.public_key();
        let sig = pair.sign(b"message");
        assert_eq!(pk.verify(b"message", &sig), Ok(()));
        assert_eq!(pk.verify(b"messagf", &sig), Err(SealError::BadSignature));
        let mut bad = *sig.as_bytes();
        bad[10] ^= 1;
        assert_eq!(
            pk.verify(b"message", &Signature::from_bytes(&bad).unwrap()),
            Err(SealError::BadSignature)
        );
        // Reload from PKCS#8: same public key, deterministic signatures.
        let again = SigningKeyPair::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(again.public_key(), pk);
        assert_eq!(again.sign(b"message"), sig);
        assert_eq!(
            SigningKeyPair::from_pkcs8(b"not a key").unwrap_err(),
            SealError::InvalidPkcs8
        );
        assert_eq!(
            SigningKeyPair::from_pkcs8(&pkcs8[..pkcs8.len() - 1]).unwrap_err(),
            SealError::InvalidPkcs8
        );
        // An all-zero "public key" is not a usable key: verification fails.
        let zero = PublicKey::from_bytes(&[0; 32]).unwrap();
        assert_eq!(zero.verify(b"message", &sig), Err(SealError::BadSignature));
        assert!(format!("{pair:?}").contains(&pk.to_hex()));
    }

    #[test]
    fn key_and_signature_encoding() {
        let (pair, _) = SigningKeyPair::generate().unwrap();
        let pk = pair.public_key();
        let sig = pair.sign(b"x");
        assert_eq!(pk.to_hex().len(), 64);
        assert_eq!(sig.to_hex().len(), 128);
        assert_eq!(PublicKey::from_hex(&pk.to_hex()), Ok(pk));
        assert_eq!(PublicKey::from_hex(&pk.to_hex().to_uppercase()), Ok(pk));
        assert_eq!(Signature::from_hex(&sig.to_hex()), Ok(sig));
        assert_eq!(PublicKey::from_bytes(pk.as_bytes()), Ok(pk));
        assert_eq!(Signature::from_bytes(sig.as_bytes()), Ok(sig));
        assert!(PublicKey::from_bytes(&[0; 31]).is_err());
        assert!(Signature::from_bytes(&[0; 63]).is_err());
        assert!(PublicKey::from_hex("00").is_err());
        assert!(PublicKey::from_hex(&"g".repeat(64)).is_err());
        assert!(Signature::from_hex(&"é".repeat(64)).is_err());
        let json = serde_json::to_string(&pk).unwrap();
        assert_eq!(json, format!("\"{}\"", pk.to_hex()));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), pk);
        let json = serde_json::to_string(&sig).unwrap();
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), sig);
        assert!(serde_json::from_str::<PublicKey>("\"abc\"").is_err());
    }

    #[test]
    fn canonical_round_trip() {
        let (pair, _) = SigningKeyPair::generate().unwrap();
        let pk = pair.public_key();
        let signed = sign_canonical(&pair, "attestation", &attestation()).unwrap();
        assert_eq!(
            signed.payload,
            r#"{"subject":"ab12","alive":true,"score_permille":987,"labels":{"a":"第一","z":"last"}}"#
        );
        assert_eq!(signed.public_key, pk);
        assert_eq!(
            verify_canonical(&signed, &pk, "attestation"),
            Ok(attestation())
        );
        // The signature is over the documented message.
        let mut msg = b"lifecert/attestation/v1\0".to_vec();
        msg.extend_from_slice(signed.payload.as_bytes());
        assert_eq!(pk.verify(&msg, &signed.signature), Ok(()));

        let json = signed.to_json().unwrap();
        assert_eq!(
            verify_canonical_json::<Attestation>(&json, &pk, "attestation"),
            Ok(attestation())
        );
        assert_eq!(Signed::<Attestation>::from_json(&json).unwrap(), signed);
        assert!(format!("{signed:?}").contains("payload_len"));
    }

    #[test]
    fn canonical_tampering() {
        let (pair, _) = SigningKeyPair::generate().unwrap();
        let pk = pair.public_key();
        let signed = sign_canonical(&pair, "attestation", &attestation()).unwrap();

        // Tamper every byte of the payload (keeping it valid UTF-8/ASCII where
        // the original is ASCII; replacing non-ASCII bytes whole characters).
        let chars: Vec<char> = signed.payload.chars().collect();
        for i in 0..chars.len() {
            let mut c2 = chars.clone();
            c2[i] = if c2[i] == 'A' { 'B' } else { 'A' };
            let mut bad = signed.clone();
            bad.payload = c2.into_iter().collect();
            assert_eq!(
                verify_canonical(&bad, &pk, "attestation"),
                Err(SealError::BadSignature),
                "char {i}"
            );
        }
        // Appending whitespace (semantically identical JSON) also fails.
        let mut bad = signed.clone();
        bad.payload.push(' ');
        assert_eq!(
            verify_canonical(&bad, &pk, "attestation"),
            Err(SealError::BadSignature)
        );

        // Wrong trusted key.
        let (other, _) = SigningKeyPair::generate().unwrap();
        assert_eq!(
            verify_canonical(&signed, &other.public_key(), "attestation"),
            Err(SealError::WrongKey)
        );
        // Signed by another key but presenting the trusted public key.
        let mut forged = sign_canonical(&other, "attestation", &attestation()).unwrap();
        forged.public_key = pk;
        assert_eq!(
            verify_canonical(&forged, &pk, "attestation"),
            Err(SealError::BadSignature)
        );
        // Purpose mismatch.
        assert_eq!(
            verify_canonical(&signed, &pk, "enrollment"),
            Err(SealError::BadSignature)
        );
        // Signature bit flips.
        for i in 0..Signature::LEN {
            let mut bad = signed.clone();
            let mut s = *bad.signature.as_bytes();
            s[i] ^= 0x40;
            bad.signature = Signature::from_bytes(&s).unwrap();
            assert_eq!(
                verify_canonical(&bad, &pk, "attestation"),
                Err(SealError::BadSignature)
            );
        }
    }

    #[test]
    fn canonical_json_envelope_byte_flips_never_verify() {
        let (pair, _) = SigningKeyPair::generate().unwrap();
        let pk = pair.public_key();
        let json = sign_canonical(&pair, "attestation", &attestation())
            .unwrap()
            .to_json()
            .unwrap();
        let bytes = json.as_bytes();
        for i in 0..bytes.len() {
            let mut bad = bytes.to_vec();
            bad[i] ^= 0x01;
            let Ok(s) = String::from_utf8(bad) else {
                continue;
            };
            let res = verify_canonical_json::<Attestation>(&s, &pk, "attestation");
            // A case flip inside a hex string is the same value; everything
            // else must fail.
            let same_hex = bytes[i].is_ascii_alphabetic()
                && s.as_bytes()[i].eq_ignore_ascii_case(&bytes[i])
                && i > json.find("\"signature\"").unwrap();
            if same_hex {
                assert!(res.is_ok(), "byte {i}");
            } else {
                assert!(res.is_err(), "byte {i} accepted");
            }
        }
    }

    #[test]
    fn canonical_errors() {
        let (pair, _) = SigningKeyPair::generate().unwrap();
        let pk = pair.public_key();
        let signed = sign_canonical(&pair, "attestation", &attestation()).unwrap();

        // Verified, but not the expected type.
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Other {
            name: String,
        }
        assert!(matches!(
            verify_canonical(
                &Signed::<Other>::from_parts(
                    signed.payload.clone(),
                    signed.signature,
                    signed.public_key
                ),
                &pk,
                "attestation"
            ),
            Err(SealError::Malformed(_))
        ));
        // Envelope problems.
        for bad in [
            "",
            "{}",
            "null",
            "[1,2]",
            r#"{"payload":"{}","signature":"00","public_key":"00"}"#,
        ] {
            assert!(
                matches!(
                    verify_canonical_json::<Attestation>(bad, &pk, "attestation"),
                    Err(SealError::Malformed(_))
                ),
                "{bad}"
            );
        }
        let mut v: serde_json::Value = serde_json::from_str(&signed.to_json().unwrap()).unwrap();
        v["extra"] = serde_json::json!(1);
        assert!(matches!(
            verify_canonical_json::<Attestation>(&v.to_string(), &pk, "attestation"),
            Err(SealError::Malformed(_))
        ));
        // Purposes.
        for bad in ["", "Attestation", "a/b", "a\0b", "空", &"a".repeat(65)] {
            assert_eq!(
                sign_canonical(&pair, bad, &1u8).unwrap_err(),
                SealError::InvalidPurpose,
                "{bad:?}"
            );
            assert_eq!(
                verify_canonical(&signed, &pk, bad),
                Err(SealError::InvalidPurpose)
            );
        }
        assert!(sign_canonical(&pair, "a.b_c-1", &1u8).is_ok());
        // Non-finite floats are refused, finite ones are fine.
        assert!(matches!(
            sign_canonical(&pair, "x", &f64::NAN),
            Err(SealError::Unencodable(_))
        ));
        assert!(matches!(
            sign_canonical(&pair, "x", &vec![1.0f32, f32::INFINITY]),
            Err(SealError::Unencodable(_))
        ));
        let mut m = BTreeMap::new();
        m.insert("k", Some(f64::NEG_INFINITY));
        assert!(matches!(canonical_json(&m), Err(SealError::Unencodable(_))));
        assert_eq!(canonical_json(&vec![1.5f64, -0.25]).unwrap(), "[1.5,-0.25]");
        // A value whose own Serialize impl fails is not blamed on floats.
        struct Failing;
        impl Serialize for Failing {
            fn serialize<S: Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("boom"))
            }
        }
        assert_eq!(
            canonical_json(&Failing),
            Err(SealError::Unencodable(
                "serde_json cannot encode this value"
            ))
        );
        // Maps with non-string keys that serde_json cannot encode.
        let mut m = BTreeMap::new();
        m.insert(vec![1u8], 1u8);
        assert!(matches!(canonical_json(&m), Err(SealError::Unencodable(_))));
    }
}
