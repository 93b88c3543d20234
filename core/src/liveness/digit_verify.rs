//! Speaker-dependent spoken-digit verification: enrollment templates, DTW, and the search for
//! the expected digit sequence among the speech segments of a recording.
//!
//! At enrollment the person reads the digits 0–9 (one or more takes each); the MFCC sequence of
//! every take is stored in [`VoiceTemplates`]. At certification each speech segment is compared
//! by dynamic time warping ([`dtw_cost`]) with every template, and [`TemplateDigitVerifier`]
//! accepts the segment as the expected digit when that digit's templates are the closest (up to
//! a small ratio) and close enough in absolute terms. The question asked is *verification* of a
//! known digit, not open recognition. A trained model can replace the templates later through
//! the [`DigitVerifier`] trait.
//!
//! Nearest-of-ten alone is a closed-set decision: any word is closest to *some* digit, so the
//! person's own recording of other words ("set", "white", "soon" …) would pass for a digit
//! once in every few words. Two open-set bounds, both relative to the person's own templates,
//! refuse most of those words ([`VerifyConfig::max_relative_cost`],
//! [`VerifyConfig::min_length_ratio`]/[`VerifyConfig::max_length_ratio`]).
//!
//! [`find_digit_sequence`] matches the expected digits, in order, to a subsequence of the
//! speech segments (people add words: "嗯", "二，五，八，对吗"), and optionally splits one
//! segment that holds two digits run together (not three or more; off by default, see
//! [`SequenceConfig::split_segments`]).
//!
//! # Storage
//! Templates are quantised to `i8` with one `f32` scale per sequence and dimension
//! (`value ≈ q · scale`, `scale = max |x| / 127`): 24 bytes per 10 ms frame with the default
//! features, about 1 KB per take and ≈ 30 KB for 10 digits × 3 takes before serialisation. The
//! quantisation error (≤ 0.4 % of each dimension's range) does not change the measured
//! accuracy. Deserialisation validates shapes and values.

use crate::audio::mfcc::FeatureMatrix;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Number of digit classes.
pub const DIGITS: usize = 10;
/// Version of the serialised template format.
pub const TEMPLATE_FORMAT_VERSION: u16 = 1;

/// Errors of templates, DTW and sequence matching.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum DigitVerifyError {
    /// A digit outside `0..=9`.
    #[error("digit {0} is outside 0..=9")]
    InvalidDigit(u8),
    /// A feature sequence had no frames.
    #[error("empty feature sequence")]
    EmptySequence,
    /// Two feature sequences (or a sequence and the templates) have different widths.
    #[error("feature width {got} does not match {expected}")]
    DimensionMismatch {
        /// Width of the templates (or first sequence).
        expected: usize,
        /// Width given.
        got: usize,
    },
    /// Serialised templates are malformed.
    #[error("invalid voice templates: {0}")]
    InvalidTemplates(&'static str),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A speech segment's times are not finite or end before they start.
    #[error("segment {0} has invalid times")]
    InvalidSegment(usize),
    /// No digits were expected.
    #[error("no expected digits")]
    NoExpectedDigits,
}

// ---------------------------------------------------------------------------------------------
// DTW

/// Options of the dynamic time warping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DtwConfig {
    /// Sakoe–Chiba band half-width as a fraction of the longer sequence, around the diagonal
    /// scaled to both lengths. Default 0.2.
    pub band_fraction: f32,
    /// Smallest band half-width in frames. Default 8 (80 ms).
    pub min_band: usize,
}

impl Default for DtwConfig {
    fn default() -> Self {
        Self {
            band_fraction: 0.2,
            min_band: 8,
        }
    }
}

/// DTW distance of two feature sequences: the Euclidean frame distances summed along the best
/// warping path (steps (1,0), (0,1), (1,1)) inside a Sakoe–Chiba band around the diagonal
/// from `(0,0)` to `(n−1, m−1)`, divided by the number of cells on that path.
///
/// The band is widened as needed so that a path always exists.
pub fn dtw_cost(
    a: &FeatureMatrix,
    b: &FeatureMatrix,
    config: &DtwConfig,
) -> Result<f32, DigitVerifyError> {
    if a.is_empty() || b.is_empty() {
        return Err(DigitVerifyError::EmptySequence);
    }
    if a.dims() != b.dims() {
        return Err(DigitVerifyError::DimensionMismatch {
            expected: a.dims(),
            got: b.dims(),
        });
    }
    let (n, m) = (a.frames(), b.frames());
    let slope = if n > 1 {
        (m - 1) as f64 / (n - 1) as f64
    } else {
        0.0
    };
    let band_frac = if config.band_fraction.is_finite() {
        config.band_fraction.clamp(0.0, 1.0)
    } else {
        1.0
    };
    // Consecutive rows' centres move by `slope`; a half-width of ceil(slope / 2) keeps the band
    // connected.
    let r = ((band_frac as f64 * n.max(m) as f64).ceil() as usize)
        .max(config.min_band)
        .max((slope / 2.0).ceil() as usize)
        .max(1);
    let range = |i: usize| -> (usize, usize) {
        let c = (i as f64 * slope).round() as usize;
        let lo = c.saturating_sub(r);
        let hi = if i + 1 == n {
            m - 1
        } else {
            (c + r).min(m - 1)
        };
        let lo = if i == 0 { 0 } else { lo };
        (lo, hi)
    };
    // Two rows of (cost, path length); INF outside the band.
    const INF: f64 = f64::INFINITY;
    let mut prev = vec![(INF, 0u32); m];
    let mut cur = vec![(INF, 0u32); m];
    let mut prev_range = (0usize, 0usize);
    for i in 0..n {
        let (lo, hi) = range(i);
        let row_a = a.row(i).unwrap_or(&[]);
        for c in cur.iter_mut() {
            *c = (INF, 0);
        }
        for j in lo..=hi {
            let row_b = b.row(j).unwrap_or(&[]);
            let d = row_a
                .iter()
                .zip(row_b)
                .map(|(x, y)| {
                    let t = f64::from(x - y);
                    t * t
                })
                .sum::<f64>()
                .sqrt();
            let best = if i == 0 && j == 0 {
                (0.0, 0)
            } else {
                let mut best = (INF, 0u32);
                let mut consider = |c: (f64, u32)| {
                    if c.0 < best.0 || (c.0 == best.0 && c.1 > best.1) {
                        best = c;
                    }
                };
                if j > 0 {
                    consider(cur[j - 1]);
                }
                if i > 0 && j >= prev_range.0 && j <= prev_range.1 {
                    consider(prev[j]);
                }
                if i > 0 && j > 0 && j > prev_range.0 && j - 1 <= prev_range.1 {
                    consider(prev[j - 1]);
                }
                best
            };
            cur[j] = (best.0 + d, best.1 + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
        prev_range = (lo, hi);
    }
    let (cost, len) = prev[m - 1];
    if !cost.is_finite() || len == 0 {
        // Unreachable with the band widening above; treat as "infinitely far".
        return Ok(f32::MAX);
    }
    Ok((cost / f64::from(len)) as f32)
}

// ---------------------------------------------------------------------------------------------
// Templates

/// One enrollment take, quantised: `values[t·dims + k] · scales[k]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantisedSequence {
    frames: u32,
    dims: u16,
    scales: Vec<f32>,
    values: Vec<i8>,
}

impl QuantisedSequence {
    /// Quantises a feature sequence (at most `u32::MAX` frames and `u16::MAX` dims).
    pub fn quantise(m: &FeatureMatrix) -> Result<Self, DigitVerifyError> {
        let frames = u32::try_from(m.frames())
            .map_err(|_| DigitVerifyError::InvalidTemplates("too many frames"))?;
        let dims =
            u16::try_from(m.dims()).map_err(|_| DigitVerifyError::InvalidTemplates("too wide"))?;
        let d = m.dims();
        let mut scales = vec![0f32; d];
        for row in m.rows() {
            for (s, v) in scales.iter_mut().zip(row) {
                *s = s.max(v.abs());
            }
        }
        for s in scales.iter_mut() {
            *s /= 127.0;
        }
        let values = m
            .rows()
            .flat_map(|row| {
                row.iter().zip(&scales).map(|(v, s)| {
                    if *s > 0.0 {
                        (v / s).round().clamp(-127.0, 127.0) as i8
                    } else {
                        0
                    }
                })
            })
            .collect();
        Ok(Self {
            frames,
            dims,
            scales,
            values,
        })
    }

    /// The dequantised feature sequence.
    pub fn to_matrix(&self) -> Result<FeatureMatrix, DigitVerifyError> {
        self.check()?;
        let d = usize::from(self.dims);
        let data = self
            .values
            .chunks_exact(d.max(1))
            .flat_map(|row| row.iter().zip(&self.scales).map(|(q, s)| f32::from(*q) * s))
            .collect();
        FeatureMatrix::new(self.frames as usize, d, data)
            .map_err(|_| DigitVerifyError::InvalidTemplates("bad sequence"))
    }

    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.frames as usize
    }

    fn check(&self) -> Result<(), DigitVerifyError> {
        let d = usize::from(self.dims);
        if self.frames == 0 || d == 0 {
            return Err(DigitVerifyError::InvalidTemplates("empty sequence"));
        }
        if self.scales.len() != d
            || (self.frames as usize).checked_mul(d) != Some(self.values.len())
        {
            return Err(DigitVerifyError::InvalidTemplates("sequence shape"));
        }
        if self.scales.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return Err(DigitVerifyError::InvalidTemplates("bad scale"));
        }
        Ok(())
    }
}

/// A person's enrolled digit templates: for each digit 0–9 one or more quantised MFCC
/// sequences (one per take), all of the same width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TemplatesRepr", into = "TemplatesRepr")]
pub struct VoiceTemplates {
    dims: usize,
    digits: Vec<Vec<QuantisedSequence>>,
}

#[derive(Serialize, Deserialize)]
struct TemplatesRepr {
    version: u16,
    dims: u16,
    digits: Vec<Vec<QuantisedSequence>>,
}

impl TryFrom<TemplatesRepr> for VoiceTemplates {
    type Error = DigitVerifyError;
    fn try_from(r: TemplatesRepr) -> Result<Self, Self::Error> {
        if r.version != TEMPLATE_FORMAT_VERSION {
            return Err(DigitVerifyError::InvalidTemplates("unknown format version"));
        }
        if r.digits.len() != DIGITS {
            return Err(DigitVerifyError::InvalidTemplates("need 10 digit lists"));
        }
        for s in r.digits.iter().flatten() {
            s.check()?;
            if s.dims != r.dims {
                return Err(DigitVerifyError::InvalidTemplates("mixed widths"));
            }
        }
        Ok(Self {
            dims: usize::from(r.dims),
            digits: r.digits,
        })
    }
}

impl From<VoiceTemplates> for TemplatesRepr {
    fn from(t: VoiceTemplates) -> Self {
        Self {
            version: TEMPLATE_FORMAT_VERSION,
            // `add_take` only admits widths that fit a u16.
            dims: u16::try_from(t.dims).unwrap_or(u16::MAX),
            digits: t.digits,
        }
    }
}

impl VoiceTemplates {
    /// Empty templates for features of width `dims`.
    pub fn new(dims: usize) -> Self {
        Self {
            dims,
            digits: vec![Vec::new(); DIGITS],
        }
    }

    /// Feature width.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Adds one enrollment take of `digit`.
    pub fn add_take(
        &mut self,
        digit: u8,
        features: &FeatureMatrix,
    ) -> Result<(), DigitVerifyError> {
        if usize::from(digit) >= DIGITS {
            return Err(DigitVerifyError::InvalidDigit(digit));
        }
        if features.is_empty() {
            return Err(DigitVerifyError::EmptySequence);
        }
        if features.dims() != self.dims {
            return Err(DigitVerifyError::DimensionMismatch {
                expected: self.dims,
                got: features.dims(),
            });
        }
        let q = QuantisedSequence::quantise(features)?;
        self.digits[usize::from(digit)].push(q);
        Ok(())
    }

    /// Number of takes enrolled for `digit` (0 for an invalid digit).
    pub fn takes(&self, digit: u8) -> usize {
        self.digits.get(usize::from(digit)).map_or(0, Vec::len)
    }

    /// Whether every digit has at least one take.
    pub fn is_complete(&self) -> bool {
        self.digits.iter().all(|d| !d.is_empty())
    }

    /// The (dequantised) takes of `digit`.
    pub fn sequences(&self, digit: u8) -> Result<Vec<FeatureMatrix>, DigitVerifyError> {
        let takes = self
            .digits
            .get(usize::from(digit))
            .ok_or(DigitVerifyError::InvalidDigit(digit))?;
        takes.iter().map(QuantisedSequence::to_matrix).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Verification

/// How the spoken digits were checked. The signed result carries it, so the authority knows
/// what "digits matched" rests on; its default verification policy refuses
/// [`DigitCheck::CountOnly`] ([`crate::api::attestation::VerifyPolicy::accept_count_only`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigitCheck {
    /// The person's own digit templates (recorded at enrollment, "read 0–9") verified each
    /// digit ([`TemplateDigitVerifier`]).
    VoiceTemplates,
    /// A speaker-independent digit model verified each digit (no enrollment needed).
    SpeakerIndependentModel,
    /// Nothing verified *which* words were said: only the number of speech segments and
    /// their timing were checked. Any words in time would pass this.
    CountOnly,
}

impl DigitCheck {
    /// The stable id (`voice_templates`, `speaker_independent_model`, `count_only`).
    pub fn id(self) -> &'static str {
        match self {
            Self::VoiceTemplates => "voice_templates",
            Self::SpeakerIndependentModel => "speaker_independent_model",
            Self::CountOnly => "count_only",
        }
    }

    /// Whether the content of each digit was verified.
    pub fn verifies_content(self) -> bool {
        !matches!(self, Self::CountOnly)
    }
}

/// How one segment compares with the expected digit and its closest rival.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigitScore {
    /// The digit the person was asked to say.
    pub expected: u8,
    /// Distance to the expected digit (lower is closer); `None` when it has no template or the
    /// segment is unusable (empty, wrong width).
    pub expected_cost: Option<f32>,
    /// The closest other digit, if any other digit has templates.
    pub best_other: Option<u8>,
    /// Distance to `best_other`.
    pub best_other_cost: Option<f32>,
    /// `expected_cost / best_other_cost`: below 1 when the expected digit is the closest.
    pub ratio: Option<f32>,
    /// `expected_cost` over the person's own reference distance between *different* digits
    /// ([`TemplateDigitVerifier::reference_cost`]): well below 1 for the digit itself, near 1
    /// for another word. `None` for verifiers without a reference.
    #[serde(default)]
    pub relative_cost: Option<f32>,
    /// Length of the segment over the typical length of the expected digit's enrollment takes.
    #[serde(default)]
    pub length_ratio: Option<f32>,
    /// Whether the segment is accepted as the expected digit.
    pub accepted: bool,
}

impl DigitScore {
    /// A score that rejects (no usable comparison).
    pub fn rejected(expected: u8) -> Self {
        Self {
            expected,
            expected_cost: None,
            best_other: None,
            best_other_cost: None,
            ratio: None,
            relative_cost: None,
            length_ratio: None,
            accepted: false,
        }
    }
}

/// Decides whether a speech segment is the expected digit. Implemented by
/// [`TemplateDigitVerifier`]; a trained model can implement it later.
pub trait DigitVerifier: Send + Sync {
    /// Scores `segment` (features of one speech segment) against the `expected` digit.
    fn verify(&self, segment: &FeatureMatrix, expected: u8) -> DigitScore;

    /// Scores `segment` against every digit 0–9 (index = expected digit). Override when the
    /// scores share work.
    fn verify_all(&self, segment: &FeatureMatrix) -> Vec<DigitScore> {
        (0..DIGITS as u8).map(|d| self.verify(segment, d)).collect()
    }

    /// Which kind of check this verifier makes (recorded in the evidence). Default
    /// [`DigitCheck::VoiceTemplates`]: the person's own templates.
    fn check(&self) -> DigitCheck {
        DigitCheck::VoiceTemplates
    }

    /// Typical length of `digit` in frames for this speaker, if known. Used to reject
    /// implausible splits of a segment into two digits.
    fn typical_frames(&self, _digit: u8) -> Option<usize> {
        None
    }
}

/// Acceptance rule of [`TemplateDigitVerifier`]: all four bounds must hold.
///
/// The open-set bounds (`max_relative_cost`, the length ratios) were calibrated in
/// `core/tests/digit_open_set.rs`: the genuine side on FSDD (4 speakers, templates from one
/// reading of 0–9 as the enrollment records it, 1 824 digits of 19 other takes in 3-digit
/// answers), the attack side on GRID speaker A's own non-digit words against his digit
/// templates (50 words × 10 digits). Measured there: the closed-set rule alone accepts
/// 94.0 % of genuine digits and 79 of the 500 word/digit pairs (15.8 %); with the defaults
/// below 92.5 % and 33/500 (6.6 %) (`max_relative_cost` 0.8: 90.9 % / 4.4 %; 0.85: 93.0 % /
/// 8.0 %). The words that still pass are spread over few digits: an attacker needs many
/// recorded words to cover a random challenge, and all three words must pass in one attempt.
/// A genuine 3-digit answer fails about one attempt in five on FSDD (8 kHz read speech,
/// templates from another day: harsher than a phone); the liveness retries make a refused
/// session rare.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerifyConfig {
    /// DTW options.
    pub dtw: DtwConfig,
    /// Accept when `expected_cost ≤ max_ratio · best_other_cost`. Default 1.05: the expected
    /// digit must be the closest or within 5 % of the closest. On FSDD (enroll takes 5–7, session
    /// CMN over 3 digits) 1.0 gives 94.9 % accepted / 0.6 % false accepts, 1.05 gives
    /// 96.2 % / 1.3 %, 1.1 gives 97.9 % / 2.1 % with this bound alone (the FSDD test of this
    /// module, with the mean taken per enrollment take of 0–9, measures 98.1 % / 1.3 % at 1.05
    /// alone, 96.9 % / 1.0 % with the open-set bounds below).
    pub max_ratio: f32,
    /// Accept only when `expected_cost ≤ max_cost`. Default 60 (for the default MFCC settings:
    /// the lifter scales the costs). On FSDD correct same-speaker matches cost at most 55, but
    /// white noise also costs ≈ 55 and other speakers' digits 34–60: this bound only rejects
    /// gross garbage; noise is for the VAD to drop, and speaker identity is not checked here.
    pub max_cost: f32,
    /// Accept only when `expected_cost ≤ max_relative_cost · reference`, where the reference
    /// is the median DTW cost between the person's enrollment takes of *different* digits
    /// ([`TemplateDigitVerifier::reference_cost`]): a digit must be clearly closer to its own
    /// template than the person's digits are to each other. Default 0.83 (genuine FSDD digits:
    /// median 0.58, 95th percentile 0.81; GRID speaker A's other words 0.60–0.91, median
    /// 0.80; his second take of "two", answered through a whole session, 0.80–0.82: at 0.8
    /// it refused 4 of 60 genuine first sessions of the replay configuration, which has no
    /// retries). 1.0 or more switches the bound off in practice.
    pub max_relative_cost: f32,
    /// Accept only when the segment lasts at least this fraction of the expected digit's
    /// typical enrollment length. Default 0.5 (1st percentile of genuine FSDD digits).
    pub min_length_ratio: f32,
    /// … and at most this multiple of it. Default 2.0 (99th percentile of genuine FSDD
    /// digits 1.9; slow speakers are enrolled slow too).
    pub max_length_ratio: f32,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            dtw: DtwConfig::default(),
            max_ratio: 1.05,
            max_cost: 60.0,
            max_relative_cost: 0.83,
            min_length_ratio: 0.5,
            max_length_ratio: 2.0,
        }
    }
}

impl VerifyConfig {
    /// Checks every bound is a finite positive number and the length range is not empty.
    pub fn validate(&self) -> Result<(), DigitVerifyError> {
        let positive = |v: f32| v.is_finite() && v > 0.0;
        let band_ok = self.dtw.band_fraction.is_finite() && self.dtw.band_fraction >= 0.0;
        if !(positive(self.max_ratio)
            && positive(self.max_cost)
            && positive(self.max_relative_cost)
            && band_ok)
        {
            return Err(DigitVerifyError::InvalidConfig(
                "max_ratio, max_cost, max_relative_cost must be finite and > 0, band_fraction >= 0",
            ));
        }
        if !(self.min_length_ratio.is_finite()
            && self.max_length_ratio.is_finite()
            && self.min_length_ratio >= 0.0
            && self.min_length_ratio < self.max_length_ratio)
        {
            return Err(DigitVerifyError::InvalidConfig(
                "need 0 <= min_length_ratio < max_length_ratio",
            ));
        }
        Ok(())
    }
}

/// [`DigitVerifier`] by nearest-template DTW against a person's [`VoiceTemplates`]: the
/// distance to a digit is the smallest DTW cost over its takes.
#[derive(Debug, Clone)]
pub struct TemplateDigitVerifier {
    dims: usize,
    templates: Vec<Vec<FeatureMatrix>>,
    /// Mean length of each digit's takes (frames).
    typical: [usize; DIGITS],
    /// Median DTW cost between takes of different digits.
    reference_cost: f32,
    config: VerifyConfig,
}

impl TemplateDigitVerifier {
    /// Prepares a verifier. The templates must be complete (every digit enrolled).
    pub fn new(templates: &VoiceTemplates, config: VerifyConfig) -> Result<Self, DigitVerifyError> {
        if !templates.is_complete() {
            return Err(DigitVerifyError::InvalidTemplates(
                "every digit needs at least one take",
            ));
        }
        config.validate()?;
        let seqs: Vec<Vec<FeatureMatrix>> = (0..DIGITS as u8)
            .map(|d| templates.sequences(d))
            .collect::<Result<_, _>>()?;
        let mut typical = [0usize; DIGITS];
        for (t, takes) in typical.iter_mut().zip(&seqs) {
            *t = takes.iter().map(FeatureMatrix::frames).sum::<usize>() / takes.len().max(1);
        }
        let reference_cost = reference_cost(&seqs, &config.dtw)?;
        Ok(Self {
            dims: templates.dims(),
            templates: seqs,
            typical,
            reference_cost,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }

    /// The person's reference distance between different digits: the median DTW cost over
    /// every pair of enrollment takes of two different digits. A spoken digit is compared with
    /// it ([`VerifyConfig::max_relative_cost`]).
    pub fn reference_cost(&self) -> f32 {
        self.reference_cost
    }

    /// Distance from `segment` to each digit (smallest DTW cost over its takes); `None` for an
    /// unusable segment.
    pub fn digit_costs(&self, segment: &FeatureMatrix) -> Option<[f32; DIGITS]> {
        if segment.is_empty() || segment.dims() != self.dims {
            return None;
        }
        let _span = tracing::trace_span!("digit_costs", frames = segment.frames()).entered();
        let mut out = [f32::MAX; DIGITS];
        for (d, takes) in self.templates.iter().enumerate() {
            for t in takes {
                if let Ok(c) = dtw_cost(segment, t, &self.config.dtw) {
                    out[d] = out[d].min(c);
                }
            }
        }
        Some(out)
    }

    fn score(&self, costs: &[f32; DIGITS], frames: usize, expected: u8) -> DigitScore {
        let e = usize::from(expected);
        if e >= DIGITS {
            return DigitScore::rejected(expected);
        }
        let (best_other, best_other_cost) = costs.iter().enumerate().filter(|(d, _)| *d != e).fold(
            (0usize, f32::MAX),
            |acc, (d, &c)| if c < acc.1 { (d, c) } else { acc },
        );
        let expected_cost = costs[e];
        let ratio = if best_other_cost > 0.0 {
            expected_cost / best_other_cost
        } else if expected_cost > 0.0 {
            f32::MAX
        } else {
            1.0
        };
        let relative_cost = expected_cost / self.reference_cost;
        let length_ratio = frames as f32 / self.typical[e].max(1) as f32;
        let accepted = expected_cost < f32::MAX
            && expected_cost <= self.config.max_cost
            && ratio <= self.config.max_ratio
            && relative_cost <= self.config.max_relative_cost
            && length_ratio >= self.config.min_length_ratio
            && length_ratio <= self.config.max_length_ratio;
        DigitScore {
            expected,
            expected_cost: Some(expected_cost),
            best_other: Some(best_other as u8),
            best_other_cost: Some(best_other_cost),
            ratio: Some(ratio),
            relative_cost: Some(relative_cost),
            length_ratio: Some(length_ratio),
            accepted,
        }
    }
}

/// Median DTW cost over every pair of takes of two different digits (see
/// [`TemplateDigitVerifier::reference_cost`]); an error when it is not a positive number (the
/// digits are indistinguishable: no open-set bound could be drawn from them).
fn reference_cost(seqs: &[Vec<FeatureMatrix>], dtw: &DtwConfig) -> Result<f32, DigitVerifyError> {
    let _span = tracing::debug_span!("digit_reference_cost").entered();
    let mut costs = Vec::new();
    for (a, takes_a) in seqs.iter().enumerate() {
        for takes_b in &seqs[a + 1..] {
            for x in takes_a {
                for y in takes_b {
                    costs.push(dtw_cost(x, y, dtw)?);
                }
            }
        }
    }
    costs.sort_by(f32::total_cmp);
    match costs.get(costs.len().saturating_sub(1) / 2) {
        Some(&c) if c.is_finite() && c > 0.0 && c < f32::MAX => Ok(c),
        _ => Err(DigitVerifyError::InvalidTemplates(
            "the digit takes are indistinguishable from each other",
        )),
    }
}

impl DigitVerifier for TemplateDigitVerifier {
    fn verify(&self, segment: &FeatureMatrix, expected: u8) -> DigitScore {
        match self.digit_costs(segment) {
            Some(c) => self.score(&c, segment.frames(), expected),
            None => DigitScore::rejected(expected),
        }
    }

    fn verify_all(&self, segment: &FeatureMatrix) -> Vec<DigitScore> {
        match self.digit_costs(segment) {
            Some(c) => (0..DIGITS as u8)
                .map(|d| self.score(&c, segment.frames(), d))
                .collect(),
            None => (0..DIGITS as u8).map(DigitScore::rejected).collect(),
        }
    }

    /// Mean length of the digit's enrollment takes.
    fn typical_frames(&self, digit: u8) -> Option<usize> {
        self.typical.get(usize::from(digit)).copied()
    }
}

// ---------------------------------------------------------------------------------------------
// Sequence search

/// One speech segment of a recording with its features (computed for this segment alone, with
/// the same MFCC settings as the templates).
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFeatures {
    /// Start (s).
    pub start_s: f32,
    /// End (s).
    pub end_s: f32,
    /// Features of the segment.
    pub features: FeatureMatrix,
}

/// Options of [`find_digit_sequence`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequenceConfig {
    /// Most segments left unassigned ("嗯", "对吗") for the sequence to pass. It also bounds a
    /// replay of many digits ("0 1 2 … 9" contains every increasing challenge). Default 3.
    pub max_extra_segments: usize,
    /// Try to split a segment into two consecutive expected digits run together. Default
    /// `false`: on FSDD (204 three-digit recordings with pauses, 10 wrong challenges each)
    /// splitting let 5 of 2040 wrong challenges pass (0.25 %, with `split_part_min_ratio`
    /// 0.75; 43 without the length bound) against 0 without splitting, and gained nothing
    /// when the digits are separated. Enable it when users are expected to run digits
    /// together; asking for a pause between digits is the safer remedy.
    pub split_segments: bool,
    /// Smallest part of a split segment, in frames. Default 15 (150 ms).
    pub min_split_part_frames: usize,
    /// Each part of a split must last at least this fraction of its digit's typical length
    /// ([`DigitVerifier::typical_frames`], when the verifier knows it). Default 0.75: a single
    /// digit is then rarely long enough to pass as two (without this bound, wrong 3-digit
    /// challenges passed on 1.7 % of FSDD recordings).
    pub split_part_min_ratio: f32,
    /// … and at most this multiple of it. Default 1.6.
    pub split_part_max_ratio: f32,
    /// Step between candidate split points, in frames. Default 3.
    pub split_step_frames: usize,
}

impl Default for SequenceConfig {
    fn default() -> Self {
        Self {
            max_extra_segments: 3,
            split_segments: false,
            min_split_part_frames: 15,
            split_part_min_ratio: 0.75,
            split_part_max_ratio: 1.6,
            split_step_frames: 3,
        }
    }
}

/// Where one expected digit was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigitMatch {
    /// The expected digit.
    pub digit: u8,
    /// Index of the segment assigned to it, if any.
    pub segment: Option<usize>,
    /// Start of the matched audio (s); a split segment gives each digit its part.
    pub start_s: Option<f32>,
    /// End of the matched audio (s).
    pub end_s: Option<f32>,
    /// The verifier's score for it.
    pub score: Option<DigitScore>,
    /// Whether the verifier accepted it.
    pub accepted: bool,
}

/// Result of [`find_digit_sequence`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceMatch {
    /// One entry per expected digit, in order.
    pub digits: Vec<DigitMatch>,
    /// Segments not assigned to any digit.
    pub extra_segments: usize,
    /// All digits accepted, in order, with at most `max_extra_segments` extra segments.
    pub passed: bool,
}

/// Gain of a match in the alignment: acceptance dominates; a lower ratio breaks ties.
fn gain(s: &DigitScore) -> f64 {
    let tie = s
        .ratio
        .map_or(-1.0, |r| (1.0 - f64::from(r)).clamp(-1.0, 1.0));
    f64::from(u8::from(s.accepted)) + 0.01 * tie
}
/// Gain of leaving an expected digit unmatched (below any match).
const SKIP_GAIN: f64 = -0.02;

/// The best split of one segment into two consecutive expected digits.
#[derive(Clone)]
struct BestSplit {
    gain: f64,
    /// First frame of the second digit.
    at: usize,
    left: DigitScore,
    right: DigitScore,
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Start,
    ExtraSegment,
    SkipDigit,
    Match,
    Split(usize),
}

/// Finds the best in-order assignment of the `expected` digits to a subsequence of `segments`
/// (dynamic programming over digits × segments): segments may be left over before, between and
/// after the digits; a digit may stay unmatched (then the sequence fails); with
/// [`SequenceConfig::split_segments`] one segment may hold two consecutive digits, split at the
/// best point. The assignment maximises the number of accepted digits, then their margins.
pub fn find_digit_sequence(
    segments: &[SegmentFeatures],
    expected: &[u8],
    verifier: &dyn DigitVerifier,
    config: &SequenceConfig,
) -> Result<SequenceMatch, DigitVerifyError> {
    if expected.is_empty() {
        return Err(DigitVerifyError::NoExpectedDigits);
    }
    if let Some(&d) = expected.iter().find(|&&d| usize::from(d) >= DIGITS) {
        return Err(DigitVerifyError::InvalidDigit(d));
    }
    for (i, s) in segments.iter().enumerate() {
        if !(s.start_s.is_finite() && s.end_s.is_finite() && s.end_s >= s.start_s) {
            return Err(DigitVerifyError::InvalidSegment(i));
        }
    }
    let _span = tracing::trace_span!(
        "find_digit_sequence",
        segments = segments.len(),
        k = expected.len()
    )
    .entered();
    let (k, n) = (expected.len(), segments.len());
    // Scores of every segment against every digit.
    let scores: Vec<Vec<DigitScore>> = segments
        .iter()
        .map(|s| {
            let _span = tracing::trace_span!("segment", frames = s.features.frames()).entered();
            verifier.verify_all(&s.features)
        })
        .collect();
    // Best split of segment j for each expected pair (i, i+1): (gain, frame, left, right).
    let mut splits: Vec<Vec<Option<BestSplit>>> = vec![vec![None; k]; n];
    if config.split_segments && k >= 2 {
        let step = config.split_step_frames.max(1);
        let min_part = config.min_split_part_frames.max(1);
        for (j, seg) in segments.iter().enumerate() {
            let f = seg.features.frames();
            if f < 2 * min_part {
                continue;
            }
            let _span = tracing::trace_span!("split_segment", j, frames = f).entered();
            let mut at = min_part;
            while at + min_part <= f {
                let left = seg.features.slice_frames(0, at);
                let right = seg.features.slice_frames(at, f);
                let ls = verifier.verify_all(&left);
                let rs = verifier.verify_all(&right);
                for i in 0..k - 1 {
                    let plausible = |digit: u8, frames: usize| {
                        verifier.typical_frames(digit).is_none_or(|t| {
                            let r = frames as f32 / t.max(1) as f32;
                            r >= config.split_part_min_ratio && r <= config.split_part_max_ratio
                        })
                    };
                    if !plausible(expected[i], at) || !plausible(expected[i + 1], f - at) {
                        continue;
                    }
                    let (a, b) = (
                        &ls[usize::from(expected[i])],
                        &rs[usize::from(expected[i + 1])],
                    );
                    let g = gain(a) + gain(b);
                    if splits[j][i].as_ref().is_none_or(|s| s.gain < g) {
                        splits[j][i] = Some(BestSplit {
                            gain: g,
                            at,
                            left: a.clone(),
                            right: b.clone(),
                        });
                    }
                }
                at += step;
            }
        }
    }
    // dp[i][j]: best gain with the first i digits placed among the first j segments.
    let mut dp = vec![vec![(f64::NEG_INFINITY, Step::Start); n + 1]; k + 1];
    dp[0][0] = (0.0, Step::Start);
    for i in 0..=k {
        for j in 0..=n {
            let here = dp[i][j].0;
            if here == f64::NEG_INFINITY {
                continue;
            }
            let mut relax = |ii: usize, jj: usize, g: f64, s: Step| {
                if here + g > dp[ii][jj].0 {
                    dp[ii][jj] = (here + g, s);
                }
            };
            if j < n {
                relax(i, j + 1, 0.0, Step::ExtraSegment);
            }
            if i < k {
                relax(i + 1, j, SKIP_GAIN, Step::SkipDigit);
            }
            if i < k && j < n {
                relax(
                    i + 1,
                    j + 1,
                    gain(&scores[j][usize::from(expected[i])]),
                    Step::Match,
                );
            }
            if i + 1 < k && j < n {
                if let Some(b) = &splits[j][i] {
                    relax(i + 2, j + 1, b.gain, Step::Split(b.at));
                }
            }
        }
    }
    // Trace back.
    let mut digits: Vec<DigitMatch> = expected
        .iter()
        .map(|&d| DigitMatch {
            digit: d,
            segment: None,
            start_s: None,
            end_s: None,
            score: None,
            accepted: false,
        })
        .collect();
    let mut used = 0usize;
    let (mut i, mut j) = (k, n);
    while i > 0 || j > 0 {
        match dp[i][j].1 {
            Step::Start => break,
            Step::ExtraSegment => j -= 1,
            Step::SkipDigit => i -= 1,
            Step::Match => {
                let s = &scores[j - 1][usize::from(expected[i - 1])];
                let seg = &segments[j - 1];
                digits[i - 1] = DigitMatch {
                    digit: expected[i - 1],
                    segment: Some(j - 1),
                    start_s: Some(seg.start_s),
                    end_s: Some(seg.end_s),
                    score: Some(s.clone()),
                    accepted: s.accepted,
                };
                used += 1;
                i -= 1;
                j -= 1;
            }
            Step::Split(at) => {
                let seg = &segments[j - 1];
                let f = seg.features.frames().max(1) as f32;
                let mid = seg.start_s + (seg.end_s - seg.start_s) * at as f32 / f;
                if let Some(BestSplit {
                    left: a, right: b, ..
                }) = &splits[j - 1][i - 2]
                {
                    digits[i - 2] = DigitMatch {
                        digit: expected[i - 2],
                        segment: Some(j - 1),
                        start_s: Some(seg.start_s),
                        end_s: Some(mid),
                        score: Some(a.clone()),
                        accepted: a.accepted,
                    };
                    digits[i - 1] = DigitMatch {
                        digit: expected[i - 1],
                        segment: Some(j - 1),
                        start_s: Some(mid),
                        end_s: Some(seg.end_s),
                        score: Some(b.clone()),
                        accepted: b.accepted,
                    };
                }
                used += 1;
                i -= 2;
                j -= 1;
            }
        }
    }
    let extra_segments = n - used;
    let passed = digits.iter().all(|d| d.accepted) && extra_segments <= config.max_extra_segments;
    Ok(SequenceMatch {
        digits,
        extra_segments,
        passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::mfcc::{Mfcc, MfccConfig};
    use crate::audio::resample::resample_linear_or_better;
    use std::path::PathBuf;

    fn mat(rows: &[&[f32]]) -> FeatureMatrix {
        let dims = rows.first().map_or(0, |r| r.len());
        FeatureMatrix::new(rows.len(), dims, rows.concat()).unwrap()
    }

    fn ramp(n: usize, dims: usize, f: impl Fn(f32) -> f32) -> FeatureMatrix {
        let mut data = Vec::with_capacity(n * dims);
        for i in 0..n {
            let v = f(i as f32 / (n.max(2) - 1) as f32);
            data.extend((0..dims).map(|k| v * (k + 1) as f32));
        }
        FeatureMatrix::new(n, dims, data).unwrap()
    }

    #[test]
    fn dtw_basics() {
        let cfg = DtwConfig::default();
        let a = ramp(40, 3, |t| (t * 6.0).sin());
        assert_eq!(dtw_cost(&a, &a, &cfg).unwrap(), 0.0);
        // A time-stretched copy is much closer than a different shape.
        let stretched = ramp(60, 3, |t| (t * 6.0).sin());
        let other = ramp(40, 3, |t| (t * 6.0).cos());
        let near = dtw_cost(&a, &stretched, &cfg).unwrap();
        let far = dtw_cost(&a, &other, &cfg).unwrap();
        assert!(near * 5.0 < far, "near {near} far {far}");
        // Very different lengths still have a path (band widened).
        let one = mat(&[&[0.0, 0.0, 0.0]]);
        let long = ramp(300, 3, |t| t);
        assert!(dtw_cost(&one, &long, &cfg).unwrap() < f32::MAX);
        assert!(dtw_cost(&long, &one, &cfg).unwrap() < f32::MAX);
        // Path-length normalisation: a constant offset of 1 in one dim costs exactly 1.
        let b = mat(&[&[1.0, 0.0], &[1.0, 0.0], &[1.0, 0.0]]);
        let z = mat(&[
            &[0.0, 0.0],
            &[0.0, 0.0],
            &[0.0, 0.0],
            &[0.0, 0.0],
            &[0.0, 0.0],
        ]);
        assert!((dtw_cost(&b, &z, &cfg).unwrap() - 1.0).abs() < 1e-6);
        // Errors and odd configurations.
        assert_eq!(
            dtw_cost(&FeatureMatrix::empty(3), &a, &cfg),
            Err(DigitVerifyError::EmptySequence)
        );
        assert_eq!(
            dtw_cost(&b, &a, &cfg),
            Err(DigitVerifyError::DimensionMismatch {
                expected: 2,
                got: 3
            })
        );
        let odd = DtwConfig {
            band_fraction: f32::NAN,
            min_band: 0,
        };
        assert!(dtw_cost(&a, &stretched, &odd).unwrap().is_finite());
    }

    #[test]
    fn templates_quantise_and_serialise() {
        let mut t = VoiceTemplates::new(3);
        assert!(!t.is_complete());
        let a = ramp(30, 3, |t| (t * 5.0).sin() * 7.0);
        for d in 0..10 {
            t.add_take(d, &a).unwrap();
        }
        t.add_take(4, &ramp(20, 3, |t| t)).unwrap();
        assert!(t.is_complete());
        assert_eq!((t.takes(4), t.takes(3), t.takes(12)), (2, 1, 0));
        assert_eq!(t.add_take(10, &a), Err(DigitVerifyError::InvalidDigit(10)));
        assert_eq!(
            t.add_take(1, &FeatureMatrix::empty(3)),
            Err(DigitVerifyError::EmptySequence)
        );
        assert!(matches!(
            t.add_take(1, &mat(&[&[1.0]])),
            Err(DigitVerifyError::DimensionMismatch { .. })
        ));
        let back = &t.sequences(0).unwrap()[0];
        let max_err = back
            .data()
            .iter()
            .zip(a.data())
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(max_err <= 21.0 / 127.0 / 2.0 + 1e-5, "{max_err}");
        let json = serde_json::to_string(&t).unwrap();
        let t2: VoiceTemplates = serde_json::from_str(&json).unwrap();
        assert_eq!(t, t2);
        // Malformed input is rejected on deserialisation.
        for bad in [
            json.replacen("\"version\":1", "\"version\":9", 1),
            json.replacen("\"frames\":30", "\"frames\":31", 1),
            json.replacen("\"dims\":3", "\"dims\":2", 1),
        ] {
            assert!(
                serde_json::from_str::<VoiceTemplates>(&bad).is_err(),
                "{bad:.80}"
            );
        }
        assert!(
            TemplateDigitVerifier::new(&VoiceTemplates::new(3), VerifyConfig::default()).is_err()
        );
        let bad_cfg = VerifyConfig {
            max_ratio: f32::NAN,
            ..Default::default()
        };
        assert!(TemplateDigitVerifier::new(&t, bad_cfg).is_err());
    }

    /// Digit `d`'s synthetic "word": a shape of its own.
    fn word(d: u8, frames: usize) -> FeatureMatrix {
        ramp(frames, 4, move |t| {
            (t * (1.0 + f32::from(d)) * 2.0).sin() * 3.0
        })
    }

    fn synthetic_verifier() -> TemplateDigitVerifier {
        let mut t = VoiceTemplates::new(4);
        for d in 0..10 {
            t.add_take(d, &word(d, 30)).unwrap();
        }
        TemplateDigitVerifier::new(&t, VerifyConfig::default()).unwrap()
    }

    #[test]
    fn verifier_scores() {
        let v = synthetic_verifier();
        let s = v.verify(&word(3, 36), 3);
        assert!(s.accepted, "{s:?}");
        assert!(s.ratio.unwrap() < 0.5);
        let s = v.verify(&word(3, 36), 5);
        assert!(!s.accepted);
        assert_eq!(s.best_other, Some(3));
        assert!(!v.verify(&FeatureMatrix::empty(4), 3).accepted);
        assert!(!v.verify(&mat(&[&[1.0]]), 3).accepted);
        assert!(!v.verify(&word(3, 30), 11).accepted);
        let all = v.verify_all(&word(7, 25));
        assert_eq!(all.len(), 10);
        assert!(all.iter().enumerate().all(|(d, s)| s.accepted == (d == 7)));
    }

    #[test]
    fn open_set_bounds_refuse_words_that_are_no_digit() {
        let v = synthetic_verifier();
        assert!(v.reference_cost() > 0.0);
        let lenient = VerifyConfig {
            max_relative_cost: 100.0,
            min_length_ratio: 0.0,
            max_length_ratio: 100.0,
            max_cost: 1e6,
            ..VerifyConfig::default()
        };
        let mut t = VoiceTemplates::new(4);
        for d in 0..10 {
            t.add_take(d, &word(d, 30)).unwrap();
        }
        let closed_set = TemplateDigitVerifier::new(&t, lenient).unwrap();
        // Another word: digit 3's shape, shifted far from every template. The closed-set rule
        // takes it for 3 (the nearest of ten); the relative bound refuses it.
        let other = ramp(30, 4, |t| (t * 8.0).sin() * 3.0 + 4.0);
        let s = closed_set.verify(&other, 3);
        assert!(s.accepted, "{s:?}");
        let s = v.verify(&other, 3);
        assert!(!s.accepted && s.relative_cost.unwrap() > 0.83, "{s:?}");
        // Digit 3's shape squeezed into a third of its length: refused for its length alone.
        let short = word(3, 10);
        assert!(closed_set.verify(&short, 3).accepted);
        let s = v.verify(&short, 3);
        assert!(!s.accepted && s.length_ratio.unwrap() < 0.5, "{s:?}");
        // The digit itself, a little slower, still passes with both bounds.
        let s = v.verify(&word(3, 45), 3);
        assert!(s.accepted, "{s:?}");
        // Indistinguishable takes give no reference: refused at construction.
        let mut same = VoiceTemplates::new(4);
        for d in 0..10 {
            same.add_take(d, &word(1, 30)).unwrap();
        }
        assert!(TemplateDigitVerifier::new(&same, VerifyConfig::default()).is_err());
        let bad = VerifyConfig {
            min_length_ratio: 2.0,
            max_length_ratio: 1.0,
            ..VerifyConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    fn seg(i: usize, f: FeatureMatrix) -> SegmentFeatures {
        SegmentFeatures {
            start_s: i as f32,
            end_s: i as f32 + 0.5,
            features: f,
        }
    }

    #[test]
    fn sequence_search_on_synthetic_words() {
        let v = synthetic_verifier();
        let cfg = SequenceConfig {
            split_segments: true,
            ..Default::default()
        };
        let noise = || {
            ramp(20, 4, |t| {
                if (t * 40.0) as i32 % 2 == 0 {
                    4.0
                } else {
                    -4.0
                }
            })
        };
        // Extra segments before, between and after.
        let segs = vec![
            seg(0, noise()),
            seg(1, word(2, 30)),
            seg(2, noise()),
            seg(3, word(5, 28)),
            seg(4, word(8, 33)),
            seg(5, noise()),
        ];
        let r = find_digit_sequence(&segs, &[2, 5, 8], &v, &cfg).unwrap();
        assert!(r.passed, "{r:?}");
        assert_eq!(r.extra_segments, 3);
        let idx: Vec<_> = r.digits.iter().map(|d| d.segment).collect();
        assert_eq!(idx, vec![Some(1), Some(3), Some(4)]);
        // Too many extras fails even though the digits are there.
        let strict = SequenceConfig {
            max_extra_segments: 2,
            ..cfg
        };
        assert!(
            !find_digit_sequence(&segs, &[2, 5, 8], &v, &strict)
                .unwrap()
                .passed
        );
        // Wrong order and a missing digit fail; the found digits are still reported.
        let r = find_digit_sequence(&segs, &[5, 2, 8], &v, &cfg).unwrap();
        assert!(!r.passed);
        assert_eq!(r.digits.iter().filter(|d| d.accepted).count(), 2);
        let r = find_digit_sequence(&segs[..4], &[2, 5, 8], &v, &cfg).unwrap();
        assert!(!r.passed);
        assert!(!r.digits[2].accepted);
        // Two digits run together in one segment: split.
        let mut joined = word(5, 28).data().to_vec();
        joined.extend_from_slice(word(8, 30).data());
        let joined = FeatureMatrix::new(58, 4, joined).unwrap();
        let segs = vec![seg(0, word(2, 30)), seg(1, joined)];
        let r = find_digit_sequence(&segs, &[2, 5, 8], &v, &cfg).unwrap();
        assert!(r.passed, "{r:?}");
        assert_eq!(r.digits[1].segment, Some(1));
        assert_eq!(r.digits[2].segment, Some(1));
        let mid = r.digits[1].end_s.unwrap();
        assert!(
            (mid - (1.0 + 0.5 * 28.0 / 58.0)).abs() < 0.03,
            "split at {mid}"
        );
        let no_split = SequenceConfig {
            split_segments: false,
            ..cfg
        };
        assert!(
            !find_digit_sequence(&segs, &[2, 5, 8], &v, &no_split)
                .unwrap()
                .passed
        );
        // Degenerate inputs.
        assert!(
            !find_digit_sequence(&[], &[2, 5, 8], &v, &cfg)
                .unwrap()
                .passed
        );
        assert_eq!(
            find_digit_sequence(&segs, &[], &v, &cfg),
            Err(DigitVerifyError::NoExpectedDigits)
        );
        assert_eq!(
            find_digit_sequence(&segs, &[2, 15], &v, &cfg),
            Err(DigitVerifyError::InvalidDigit(15))
        );
        let bad = vec![SegmentFeatures {
            start_s: 1.0,
            end_s: f32::NAN,
            features: word(1, 20),
        }];
        assert_eq!(
            find_digit_sequence(&bad, &[1, 2, 3], &v, &cfg),
            Err(DigitVerifyError::InvalidSegment(0))
        );
        let empty = vec![
            seg(0, FeatureMatrix::empty(4)),
            seg(1, FeatureMatrix::empty(0)),
        ];
        assert!(
            !find_digit_sequence(&empty, &[1, 2, 3], &v, &cfg)
                .unwrap()
                .passed
        );
    }

    // ----- Real data: FSDD ---------------------------------------------------------------------

    const SPEAKERS: [&str; 4] = ["jackson", "nicolas", "theo", "yweweler"];
    const ENROLL_TAKES: [usize; 3] = [5, 6, 7];

    /// The shared evaluation data (`LIFECERT_EVAL_DATA`, default `../shared/data` beside the
    /// repository, i.e. two levels above this crate), or `None` after saying so loudly.
    fn eval_data(test: &str) -> Option<PathBuf> {
        let dir = lifecert_test_support::eval_data(test)?;
        lifecert_test_support::require_dir(test, dir.join("audio/fsdd"), "audio/fsdd")?;
        Some(dir)
    }

    /// One FSDD recording as 16 kHz f32.
    fn fsdd(dir: &std::path::Path, digit: u8, speaker: &str, take: usize) -> Vec<f32> {
        let (x, sr) = lifecert_test_support::fsdd_take(dir, digit, speaker, take);
        resample_linear_or_better(&x, sr, 16_000).unwrap()
    }

    /// Utterances in faint noise, and their times.
    fn session(parts: &[Vec<f32>]) -> (Vec<f32>, Vec<(f32, f32)>) {
        lifecert_test_support::utterances_in_noise(parts, 0x2545_f491_4f6c_dd1d)
    }

    /// Templates of one speaker: digits 0–9 of each enrollment take read as one session.
    fn enroll(dir: &std::path::Path, mfcc: &Mfcc, speaker: &str) -> VoiceTemplates {
        let mut t = VoiceTemplates::new(mfcc.dims());
        for take in ENROLL_TAKES {
            let parts: Vec<_> = (0..10).map(|d| fsdd(dir, d, speaker, take)).collect();
            let (audio, times) = session(&parts);
            for (d, f) in mfcc
                .compute_segments(&audio, &times)
                .unwrap()
                .iter()
                .enumerate()
            {
                t.add_take(d as u8, f).unwrap();
            }
        }
        t
    }

    #[test]
    fn fsdd_speaker_dependent_verification() {
        let Some(dir) = eval_data("fsdd_speaker_dependent_verification") else {
            return;
        };
        let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
        let (mut n_true, mut ok_true, mut n_false, mut ok_false) = (0, 0, 0, 0);
        for speaker in SPEAKERS {
            let v =
                TemplateDigitVerifier::new(&enroll(&dir, &mfcc, speaker), VerifyConfig::default())
                    .unwrap();
            for take in (0..20).filter(|t| !ENROLL_TAKES.contains(t)) {
                // Each take's digits as "challenge recordings" of 3, 3 and 4 digits.
                for group in [&[0u8, 1, 2][..], &[3, 4, 5], &[6, 7, 8, 9]] {
                    let parts: Vec<_> = group
                        .iter()
                        .map(|&d| fsdd(&dir, d, speaker, take))
                        .collect();
                    let (audio, times) = session(&parts);
                    let feats = mfcc.compute_segments(&audio, &times).unwrap();
                    for (&d, f) in group.iter().zip(&feats) {
                        for s in v.verify_all(f) {
                            if s.expected == d {
                                n_true += 1;
                                ok_true += usize::from(s.accepted);
                            } else {
                                n_false += 1;
                                ok_false += usize::from(s.accepted);
                            }
                        }
                    }
                }
            }
        }
        let acc = ok_true as f64 / n_true as f64;
        let fa = ok_false as f64 / n_false as f64;
        eprintln!(
            "FSDD, enroll takes {ENROLL_TAKES:?}, {} speakers: expected digit accepted {acc:.3} ({ok_true}/{n_true}); \
             wrong digit accepted {fa:.4} ({ok_false}/{n_false})",
            SPEAKERS.len()
        );
        assert_eq!(n_true, 4 * 17 * 10);
        assert!(acc >= 0.93, "accuracy {acc}");
        assert!(fa <= 0.03, "false accepts {fa}");
    }

    #[test]
    fn fsdd_sequence_with_extra_words_and_run_together_digits() {
        let Some(dir) = eval_data("fsdd_sequence_with_extra_words_and_run_together_digits") else {
            return;
        };
        let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
        let speaker = "theo";
        let v = TemplateDigitVerifier::new(&enroll(&dir, &mfcc, speaker), VerifyConfig::default())
            .unwrap();
        let cfg = SequenceConfig::default();
        let split = SequenceConfig {
            split_segments: true,
            ..cfg
        };
        let mut passed = 0;
        let takes = [0usize, 1, 2, 3, 4];
        for take in takes {
            let w = |d: u8| fsdd(&dir, d, speaker, take);
            // "9 … 2, 5, 8 … 0": an extra word before and after the digits (another
            // speaker's "nine"/"zero" stand in for "嗯" / "对吗").
            let parts = vec![
                fsdd(&dir, 9, "jackson", 0),
                w(2),
                w(5),
                w(8),
                fsdd(&dir, 0, "nicolas", 0),
            ];
            let (audio, times) = session(&parts);
            let segs: Vec<SegmentFeatures> = mfcc
                .compute_segments(&audio, &times)
                .unwrap()
                .into_iter()
                .zip(&times)
                .map(|(features, &(start_s, end_s))| SegmentFeatures {
                    start_s,
                    end_s,
                    features,
                })
                .collect();
            let r = find_digit_sequence(&segs, &[2, 5, 8], &v, &cfg).unwrap();
            eprintln!(
                "take {take}: 2 5 8 with extras -> passed {} extra {}",
                r.passed, r.extra_segments
            );
            passed += usize::from(r.passed);
            // The same recording never passes for a challenge whose digits were not read.
            for wrong in [[2u8, 5, 3], [2, 8, 5], [4, 6, 1]] {
                for c in [&cfg, &split] {
                    let r = find_digit_sequence(&segs, &wrong, &v, c).unwrap();
                    assert!(!r.passed, "take {take}: {wrong:?} passed: {r:?}");
                }
            }
            // "5" and "8" run together without a pause: one segment.
            let mut joined = w(5);
            joined.extend(w(8));
            let (audio, times) = session(&[w(2), joined]);
            let segs: Vec<SegmentFeatures> = mfcc
                .compute_segments(&audio, &times)
                .unwrap()
                .into_iter()
                .zip(&times)
                .map(|(features, &(start_s, end_s))| SegmentFeatures {
                    start_s,
                    end_s,
                    features,
                })
                .collect();
            let r = find_digit_sequence(&segs, &[2, 5, 8], &v, &split).unwrap();
            eprintln!("take {take}: 2 + (5 8 run together) -> passed {}", r.passed);
            passed += usize::from(r.passed);
            // Without splitting it cannot pass (two segments for three digits).
            assert!(
                !find_digit_sequence(&segs, &[2, 5, 8], &v, &cfg)
                    .unwrap()
                    .passed
            );
        }
        // 10 cases; each digit is accepted ~96 % of the time, so a few may fail.
        eprintln!("sequences passed: {passed}/10");
        assert!(passed >= 7, "only {passed}/10 sequences passed");
    }
}
