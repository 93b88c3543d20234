//! Random challenges for the liveness check: digits to read aloud and face actions to perform.
//!
//! Every challenge is drawn from a cryptographic random source and carries a fresh 16-byte
//! [`Nonce`] so that a result can be bound to the challenge that produced it.
//!
//! # Randomness
//! Production code uses [`ring::rand::SystemRandom`] (see [`DigitChallenge::generate`] and
//! [`ActionChallenge::generate`]). ring's `SecureRandom` trait is sealed, so the generators take
//! a [`RandomSource`] (a trait of this module, implemented for `SystemRandom`); tests inject a
//! deterministic source of their own. There is no fixed seed anywhere in production code.
//!
//! # Sampling
//! * A digit is drawn from one random byte `b`; bytes `b >= 250` are rejected and redrawn, so
//!   `b % 10` is exactly uniform (no modulo bias).
//! * A whole digit sequence is drawn digit by digit and **rejected as a whole** if it breaks a
//!   constraint; the result is therefore exactly uniform over all valid sequences.
//! * Actions are shuffled with Fisher–Yates; each swap index is drawn by rejection sampling.
//!
//! # Constraints on digit sequences
//! * No digit is repeated in a row ("2 2" is hard to segment and to hear).
//! * With [`DigitChallengeConfig::avoid_confusables`] (default `true`) a challenge never
//!   contains **both** digits of a Mandarin-confusable pair — 1/7 (yī/qī) and 6/9 (liù/jiǔ) —
//!   anywhere in the sequence (not merely "not adjacent"). A retiree who mishears the prompt
//!   then at worst reads a digit that is absent from the challenge, which the verifier rejects,
//!   instead of reading the right digits in a wrong order.

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Shortest allowed digit challenge.
pub const MIN_DIGITS: usize = 3;
/// Longest allowed digit challenge.
pub const MAX_DIGITS: usize = 6;
/// Default digit challenge length.
pub const DEFAULT_DIGITS: usize = 3;
/// Pairs of digits that sound alike in Mandarin: 1/7 (yī/qī), 6/9 (liù/jiǔ).
pub const CONFUSABLE_PAIRS: [(u8, u8); 2] = [(1, 7), (6, 9)];

/// Upper bound on whole-sequence rejections before giving up (never reached in practice: the
/// worst acceptance rate, length 6 with confusables avoided, is above 20 %).
const MAX_SEQUENCE_ATTEMPTS: usize = 10_000;

/// Errors of challenge generation.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The requested number of digits is outside `MIN_DIGITS..=MAX_DIGITS`.
    #[error("digit challenge length {0} is outside {MIN_DIGITS}..={MAX_DIGITS}")]
    InvalidLength(usize),
    /// The action set was empty.
    #[error("an action challenge needs at least one action")]
    NoActions,
    /// The action set named the same action twice.
    #[error("action {0:?} appears more than once")]
    DuplicateAction(Action),
    /// The random source failed.
    #[error("the random source failed")]
    Random,
    /// Rejection sampling did not find a valid sequence (a broken random source).
    #[error(
        "no valid challenge after {MAX_SEQUENCE_ATTEMPTS} attempts; the random source looks broken"
    )]
    Exhausted,
    /// A nonce string was not 32 hexadecimal characters.
    #[error("invalid nonce: expected 32 hex characters")]
    InvalidNonce,
}

/// A source of cryptographically secure random bytes.
///
/// Implemented for [`SystemRandom`]. Tests may implement it with a deterministic generator; a
/// production build must only ever use `SystemRandom`.
pub trait RandomSource {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), ChallengeError>;
}

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), ChallengeError> {
        SecureRandom::fill(self, dest).map_err(|_| ChallengeError::Random)
    }
}

/// A **deterministic** random source for tests and replays: HMAC-SHA256 (ring) of a counter
/// under a seed. Sessions built with it draw the same challenges every run. Never use it in
/// production: anyone who knows the seed knows every challenge.
#[derive(Debug)]
pub struct SeededRandom {
    key: ring::hmac::Key,
    counter: std::sync::atomic::AtomicU64,
}

impl SeededRandom {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &seed.to_le_bytes()),
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), ChallengeError> {
        use std::sync::atomic::Ordering;
        for chunk in dest.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let block = ring::hmac::sign(&self.key, &n.to_le_bytes());
            chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A 16-byte random nonce, serialised as 32 lowercase hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce(pub [u8; 16]);

impl Nonce {
    /// Draws a fresh nonce.
    pub fn random(rng: &dyn RandomSource) -> Result<Self, ChallengeError> {
        let mut b = [0u8; 16];
        rng.fill(&mut b)?;
        Ok(Nonce(b))
    }

    /// Lowercase hex form (32 characters).
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(32);
        for &b in &self.0 {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        s
    }

    /// Parses 32 hex characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, ChallengeError> {
        let bytes = s.as_bytes();
        if bytes.len() != 32 {
            return Err(ChallengeError::InvalidNonce);
        }
        let nibble = |c: u8| -> Result<u8, ChallengeError> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err(ChallengeError::InvalidNonce),
            }
        };
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = (nibble(bytes[2 * i])? << 4) | nibble(bytes[2 * i + 1])?;
        }
        Ok(Nonce(out))
    }
}

impl Serialize for Nonce {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Nonce::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Options of a digit challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitChallengeConfig {
    /// Number of digits, `MIN_DIGITS..=MAX_DIGITS` (default 3).
    pub length: usize,
    /// Never put both digits of a [`CONFUSABLE_PAIRS`] pair into one challenge (default `true`).
    pub avoid_confusables: bool,
}

impl Default for DigitChallengeConfig {
    fn default() -> Self {
        Self {
            length: DEFAULT_DIGITS,
            avoid_confusables: true,
        }
    }
}

/// Digits the person is asked to read aloud, with the challenge's nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitChallenge {
    /// Fresh random nonce of this challenge.
    pub nonce: Nonce,
    /// The digits (each `0..=9`) in reading order.
    pub digits: Vec<u8>,
}

impl DigitChallenge {
    /// Draws a challenge from the operating system's secure random generator.
    pub fn generate(config: &DigitChallengeConfig) -> Result<Self, ChallengeError> {
        Self::generate_with(config, &SystemRandom::new())
    }

    /// Draws a challenge from the given random source.
    pub fn generate_with(
        config: &DigitChallengeConfig,
        rng: &dyn RandomSource,
    ) -> Result<Self, ChallengeError> {
        let _span = tracing::trace_span!("digit_challenge", length = config.length).entered();
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&config.length) {
            return Err(ChallengeError::InvalidLength(config.length));
        }
        let nonce = Nonce::random(rng)?;
        let mut bytes = ByteStream::new(rng);
        let mut digits = Vec::with_capacity(config.length);
        for _ in 0..MAX_SEQUENCE_ATTEMPTS {
            digits.clear();
            for _ in 0..config.length {
                digits.push(bytes.uniform_below(10)?);
            }
            if is_valid_sequence(&digits, config.avoid_confusables) {
                return Ok(Self { nonce, digits });
            }
        }
        Err(ChallengeError::Exhausted)
    }
}

/// Whether `digits` satisfies the constraints of a digit challenge: every digit `0..=9`, no
/// digit repeated in a row, and (with `avoid_confusables`) no confusable pair in the sequence.
/// The length is not checked here.
pub fn is_valid_sequence(digits: &[u8], avoid_confusables: bool) -> bool {
    if digits.iter().any(|&d| d > 9) {
        return false;
    }
    if digits.windows(2).any(|w| w[0] == w[1]) {
        return false;
    }
    if avoid_confusables {
        for (a, b) in CONFUSABLE_PAIRS {
            if digits.contains(&a) && digits.contains(&b) {
                return false;
            }
        }
    }
    true
}

/// A face action the person is asked to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Close and reopen both eyes.
    Blink,
    /// Open the mouth wide.
    OpenMouth,
    /// Turn the head to the person's left.
    TurnLeft,
    /// Turn the head to the person's right.
    TurnRight,
    /// Nod (pitch down and back up).
    Nod,
}

impl Action {
    /// All actions, in declaration order.
    pub const ALL: [Action; 5] = [
        Action::Blink,
        Action::OpenMouth,
        Action::TurnLeft,
        Action::TurnRight,
        Action::Nod,
    ];
}

/// A random order of a chosen set of actions, with the challenge's nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionChallenge {
    /// Fresh random nonce of this challenge.
    pub nonce: Nonce,
    /// The actions in the order they must be performed.
    pub actions: Vec<Action>,
}

impl ActionChallenge {
    /// Shuffles `actions` with the operating system's secure random generator.
    pub fn generate(actions: &[Action]) -> Result<Self, ChallengeError> {
        Self::generate_with(actions, &SystemRandom::new())
    }

    /// Shuffles `actions` (a set: no duplicates, not empty) with the given random source; every
    /// order is equally likely.
    pub fn generate_with(
        actions: &[Action],
        rng: &dyn RandomSource,
    ) -> Result<Self, ChallengeError> {
        let _span = tracing::trace_span!("action_challenge", n = actions.len()).entered();
        if actions.is_empty() {
            return Err(ChallengeError::NoActions);
        }
        for (i, a) in actions.iter().enumerate() {
            if actions[..i].contains(a) {
                return Err(ChallengeError::DuplicateAction(*a));
            }
        }
        let nonce = Nonce::random(rng)?;
        let mut out = actions.to_vec();
        let mut bytes = ByteStream::new(rng);
        // Fisher–Yates: for i from n-1 down to 1, swap i with a uniform j in 0..=i.
        for i in (1..out.len()).rev() {
            // `i + 1 <= 5`, well below 256.
            let j = usize::from(bytes.uniform_below((i + 1) as u8)?);
            out.swap(i, j);
        }
        Ok(Self {
            nonce,
            actions: out,
        })
    }
}

/// Buffered random bytes with unbiased small-range sampling.
struct ByteStream<'a> {
    rng: &'a dyn RandomSource,
    buf: [u8; 64],
    pos: usize,
}

impl<'a> ByteStream<'a> {
    fn new(rng: &'a dyn RandomSource) -> Self {
        Self {
            rng,
            buf: [0; 64],
            pos: 64,
        }
    }

    fn next_byte(&mut self) -> Result<u8, ChallengeError> {
        if self.pos >= self.buf.len() {
            self.rng.fill(&mut self.buf)?;
            self.pos = 0;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// Uniform value in `0..n` (`n >= 1`) by rejection: bytes at or above the largest multiple
    /// of `n` not exceeding 256 are redrawn.
    fn uniform_below(&mut self, n: u8) -> Result<u8, ChallengeError> {
        let n = n.max(1);
        let zone = 256 - (256 % u16::from(n));
        for _ in 0..MAX_SEQUENCE_ATTEMPTS {
            let b = self.next_byte()?;
            if u16::from(b) < zone {
                return Ok(b % n);
            }
        }
        Err(ChallengeError::Exhausted)
    }
}

#[cfg(test)]
pub(crate) mod test_rng {
    //! A deterministic, test-only random source: SHA-256 in counter mode over a seed.
    use super::{ChallengeError, RandomSource};
    use std::cell::Cell;

    /// Deterministic bytes: `SHA-256(seed || counter)` blocks. Test use only.
    pub(crate) struct DeterministicRandom {
        seed: u64,
        counter: Cell<u64>,
    }

    impl DeterministicRandom {
        pub(crate) fn new(seed: u64) -> Self {
            Self {
                seed,
                counter: Cell::new(0),
            }
        }
    }

    impl RandomSource for DeterministicRandom {
        fn fill(&self, dest: &mut [u8]) -> Result<(), ChallengeError> {
            for chunk in dest.chunks_mut(32) {
                let c = self.counter.get();
                self.counter.set(c + 1);
                let mut input = [0u8; 16];
                input[..8].copy_from_slice(&self.seed.to_le_bytes());
                input[8..].copy_from_slice(&c.to_le_bytes());
                let d = ring::digest::digest(&ring::digest::SHA256, &input);
                chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_rng::DeterministicRandom;
    use super::*;

    /// Chi-square critical value for `k` degrees of freedom at a one-sided normal quantile `z`
    /// (Wilson–Hilferty approximation). z = 5.2 is p ≈ 1e-7: a correct generator essentially
    /// never fails; a grossly biased one (a stuck position, a favoured digit) does. Subtle modulo
    /// bias is too small for 20 000 draws: `rejection_sampling_is_exactly_uniform` covers it.
    fn chi2_bound(k: f64, z: f64) -> f64 {
        let a = 2.0 / (9.0 * k);
        k * (1.0 - a + z * a.sqrt()).powi(3)
    }

    fn chi2(observed: &[u64], expected: &[f64]) -> f64 {
        observed
            .iter()
            .zip(expected)
            .filter(|(_, &e)| e > 0.0)
            .map(|(&o, &e)| (o as f64 - e).powi(2) / e)
            .sum()
    }

    struct FailingRandom;
    impl RandomSource for FailingRandom {
        fn fill(&self, _dest: &mut [u8]) -> Result<(), ChallengeError> {
            Err(ChallengeError::Random)
        }
    }

    /// Always returns byte 255: every draw is rejected.
    struct StuckRandom;
    impl RandomSource for StuckRandom {
        fn fill(&self, dest: &mut [u8]) -> Result<(), ChallengeError> {
            dest.fill(255);
            Ok(())
        }
    }

    #[test]
    fn lengths_are_checked() {
        for len in [0, 1, 2, 7, 100] {
            let cfg = DigitChallengeConfig {
                length: len,
                avoid_confusables: false,
            };
            assert_eq!(
                DigitChallenge::generate(&cfg),
                Err(ChallengeError::InvalidLength(len))
            );
        }
        for len in MIN_DIGITS..=MAX_DIGITS {
            let cfg = DigitChallengeConfig {
                length: len,
                avoid_confusables: true,
            };
            assert_eq!(DigitChallenge::generate(&cfg).unwrap().digits.len(), len);
        }
        assert_eq!(
            DigitChallenge::generate(&DigitChallengeConfig::default())
                .unwrap()
                .digits
                .len(),
            3
        );
    }

    #[test]
    fn constraints_hold_over_many_draws() {
        let rng = SystemRandom::new();
        for len in MIN_DIGITS..=MAX_DIGITS {
            for avoid in [false, true] {
                let cfg = DigitChallengeConfig {
                    length: len,
                    avoid_confusables: avoid,
                };
                for _ in 0..2_000 {
                    let c = DigitChallenge::generate_with(&cfg, &rng).unwrap();
                    assert_eq!(c.digits.len(), len);
                    assert!(c.digits.iter().all(|&d| d <= 9));
                    assert!(c.digits.windows(2).all(|w| w[0] != w[1]), "{:?}", c.digits);
                    if avoid {
                        assert!(
                            !(c.digits.contains(&1) && c.digits.contains(&7)),
                            "{:?}",
                            c.digits
                        );
                        assert!(
                            !(c.digits.contains(&6) && c.digits.contains(&9)),
                            "{:?}",
                            c.digits
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn digit_frequencies_are_uniform_without_confusable_rule() {
        // 20 000 draws from the system RNG (no seed). Without the confusable rule every position
        // is uniform over 0..=9 and every transition a→b (a≠b) is equally likely.
        let rng = SystemRandom::new();
        let cfg = DigitChallengeConfig {
            length: 3,
            avoid_confusables: false,
        };
        let n = 20_000u64;
        let mut pos = [[0u64; 10]; 3];
        let mut trans = [[0u64; 10]; 10];
        for _ in 0..n {
            let c = DigitChallenge::generate_with(&cfg, &rng).unwrap();
            for (p, &d) in c.digits.iter().enumerate() {
                pos[p][usize::from(d)] += 1;
            }
            for w in c.digits.windows(2) {
                trans[usize::from(w[0])][usize::from(w[1])] += 1;
            }
        }
        let bound9 = chi2_bound(9.0, 5.2);
        for (p, counts) in pos.iter().enumerate() {
            let x = chi2(counts, &[n as f64 / 10.0; 10]);
            eprintln!("position {p}: chi2 = {x:.1} (bound {bound9:.1}) counts {counts:?}");
            assert!(x < bound9, "position {p} not uniform: chi2 {x}");
        }
        let mut obs = Vec::new();
        for (a, row) in trans.iter().enumerate() {
            assert_eq!(row[a], 0, "digit {a} repeated in a row");
            for (b, &c) in row.iter().enumerate() {
                if a != b {
                    obs.push(c);
                }
            }
        }
        let e = (2 * n) as f64 / 90.0;
        let x = chi2(&obs, &vec![e; 90]);
        let bound89 = chi2_bound(89.0, 5.2);
        eprintln!("transitions: chi2 = {x:.1} (bound {bound89:.1})");
        assert!(x < bound89, "transitions not uniform: chi2 {x}");
    }

    #[test]
    fn confusable_rule_is_uniform_over_valid_sequences() {
        // With the rule the marginals are not uniform (1, 6, 7, 9 are rarer), but every valid
        // sequence must be equally likely: compare with exact frequencies from enumeration.
        let mut valid = Vec::new();
        for a in 0..10u8 {
            for b in 0..10u8 {
                for c in 0..10u8 {
                    if is_valid_sequence(&[a, b, c], true) {
                        valid.push([a, b, c]);
                    }
                }
            }
        }
        let mut expected = [[0f64; 10]; 3];
        for s in &valid {
            for p in 0..3 {
                expected[p][usize::from(s[p])] += 1.0 / valid.len() as f64;
            }
        }
        let rng = SystemRandom::new();
        let n = 20_000u64;
        let mut pos = [[0u64; 10]; 3];
        for _ in 0..n {
            let c = DigitChallenge::generate_with(&DigitChallengeConfig::default(), &rng).unwrap();
            for (p, &d) in c.digits.iter().enumerate() {
                pos[p][usize::from(d)] += 1;
            }
        }
        let bound9 = chi2_bound(9.0, 5.2);
        for p in 0..3 {
            let e: Vec<f64> = expected[p].iter().map(|f| f * n as f64).collect();
            let x = chi2(&pos[p], &e);
            eprintln!("confusable rule, position {p}: chi2 = {x:.1} (bound {bound9:.1})");
            assert!(x < bound9, "position {p}: chi2 {x}");
        }
    }

    /// Yields the byte values 0, 1, …, 255, 0, 1, … in turn.
    struct CountingBytes(std::cell::Cell<u8>);
    impl RandomSource for CountingBytes {
        fn fill(&self, dest: &mut [u8]) -> Result<(), ChallengeError> {
            for d in dest {
                *d = self.0.get();
                self.0.set(self.0.get().wrapping_add(1));
            }
            Ok(())
        }
    }

    #[test]
    fn rejection_sampling_is_exactly_uniform() {
        // Every byte value once: each outcome of uniform_below(n) must occur equally often
        // (plain `b % n` would favour the low values whenever n does not divide 256).
        for n in 1..=10u8 {
            let src = CountingBytes(std::cell::Cell::new(0));
            let mut bytes = ByteStream::new(&src);
            let zone = 256 - 256 % usize::from(n);
            let mut counts = vec![0usize; usize::from(n)];
            for _ in 0..zone {
                counts[usize::from(bytes.uniform_below(n).unwrap())] += 1;
            }
            assert!(
                counts.iter().all(|&c| c == zone / usize::from(n)),
                "n={n}: {counts:?}"
            );
        }
    }

    #[test]
    fn deterministic_source_is_reproducible() {
        let cfg = DigitChallengeConfig {
            length: 6,
            avoid_confusables: true,
        };
        let a = DigitChallenge::generate_with(&cfg, &DeterministicRandom::new(42)).unwrap();
        let b = DigitChallenge::generate_with(&cfg, &DeterministicRandom::new(42)).unwrap();
        let c = DigitChallenge::generate_with(&cfg, &DeterministicRandom::new(43)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let x = ActionChallenge::generate_with(&Action::ALL, &DeterministicRandom::new(7)).unwrap();
        let y = ActionChallenge::generate_with(&Action::ALL, &DeterministicRandom::new(7)).unwrap();
        assert_eq!(x, y);
    }

    #[test]
    fn nonces_differ_and_roundtrip_as_hex() {
        let a = DigitChallenge::generate(&DigitChallengeConfig::default()).unwrap();
        let b = DigitChallenge::generate(&DigitChallengeConfig::default()).unwrap();
        assert_ne!(a.nonce, b.nonce);
        let json = serde_json::to_string(&a).unwrap();
        assert!(
            json.contains(&format!("\"{}\"", a.nonce.to_hex())),
            "{json}"
        );
        let back: DigitChallenge = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        assert_eq!(
            Nonce::from_hex("00FF10aB00000000000000000000000f")
                .unwrap()
                .0[..4],
            [0x00, 0xff, 0x10, 0xab]
        );
        assert_eq!(Nonce::from_hex("abc"), Err(ChallengeError::InvalidNonce));
        assert_eq!(
            Nonce::from_hex("zz000000000000000000000000000000"),
            Err(ChallengeError::InvalidNonce)
        );
        assert!(serde_json::from_str::<Nonce>("\"12\"").is_err());
    }

    #[test]
    fn action_shuffle_is_a_permutation_and_unbiased() {
        let rng = SystemRandom::new();
        // All 120 orders of the five actions should be equally likely.
        let n = 24_000u64;
        let mut counts = std::collections::HashMap::new();
        for _ in 0..n {
            let c = ActionChallenge::generate_with(&Action::ALL, &rng).unwrap();
            let mut sorted = c.actions.clone();
            sorted.sort_by_key(|a| Action::ALL.iter().position(|b| b == a));
            assert_eq!(sorted, Action::ALL.to_vec());
            *counts.entry(c.actions).or_insert(0u64) += 1;
        }
        assert_eq!(counts.len(), 120);
        let obs: Vec<u64> = counts.values().copied().collect();
        let x = chi2(&obs, &vec![n as f64 / 120.0; 120]);
        let bound = chi2_bound(119.0, 5.2);
        eprintln!("action orders: chi2 = {x:.1} (bound {bound:.1})");
        assert!(x < bound);
        // Subsets work too.
        let c = ActionChallenge::generate_with(&[Action::Nod, Action::Blink], &rng).unwrap();
        assert_eq!(c.actions.len(), 2);
    }

    #[test]
    fn bad_inputs_and_sources_give_errors() {
        assert_eq!(
            ActionChallenge::generate(&[]),
            Err(ChallengeError::NoActions)
        );
        assert_eq!(
            ActionChallenge::generate(&[Action::Nod, Action::Nod]),
            Err(ChallengeError::DuplicateAction(Action::Nod))
        );
        let cfg = DigitChallengeConfig::default();
        assert_eq!(
            DigitChallenge::generate_with(&cfg, &FailingRandom),
            Err(ChallengeError::Random)
        );
        assert_eq!(
            DigitChallenge::generate_with(&cfg, &StuckRandom),
            Err(ChallengeError::Exhausted)
        );
        assert_eq!(
            ActionChallenge::generate_with(&Action::ALL, &StuckRandom),
            Err(ChallengeError::Exhausted)
        );
        assert!(!is_valid_sequence(&[1, 10, 2], false));
        assert!(!is_valid_sequence(&[1, 2, 7], true));
        assert!(is_valid_sequence(&[1, 2, 7], false));
    }
}
