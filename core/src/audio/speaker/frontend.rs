//! Resemblyzer's front end, exactly: volume normalisation, the 40-band power mel spectrogram and
//! the partial windows the speaker encoder sees.
//!
//! * [`normalize_volume`]: gain to −30 dBFS (RMS of `x · 32767`), increase only.
//! * [`MelFrontEnd`]: `librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160,
//!   n_mels=40)`: periodic Hann window of 400 samples, frames every 160 samples centred on
//!   `t · 160` (the signal is taken as zero outside itself, librosa ≥ 0.10's `pad_mode="constant"`),
//!   power spectrum `|X|²` (not magnitude, not log), Slaney mel scale from 0 to 8 kHz with Slaney
//!   area normalisation (the filters librosa computes, rounded to f32 as librosa stores them).
//! * [`partial_window_starts`]: Resemblyzer's `compute_partial_slices(n, rate=1.3,
//!   min_coverage=0.75)`: windows of 160 frames (1.6 s) every 77 frames; the last window is
//!   dropped when less than 75 % of it holds signal, unless it is the only one.
//!
//! Checked against the NumPy reference (`models/speaker_reference.py`, itself checked against
//! librosa 0.10.1 to 1e-7) through the golden file `speaker/golden.json`.

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Sample rate of the front end (Hz).
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// FFT and window length (25 ms).
pub const N_FFT: usize = 400;
/// Hop between frames (10 ms).
pub const HOP: usize = 160;
/// Mel bands.
pub const N_MELS: usize = 40;
/// Frames in one partial window (1.6 s).
pub const WINDOW_FRAMES: usize = 160;
/// Frames between the starts of two partial windows: `round(16000 / 1.3 / 160)` (1.3 windows/s).
pub const WINDOW_STEP_FRAMES: usize = 77;
/// Target level of the volume normalisation (dBFS).
pub const TARGET_DBFS: f64 = -30.0;
/// Below this RMS level (dBFS) a signal is digital silence: it cannot be normalised.
pub const MIN_RMS_DBFS: f64 = -90.0;

const N_BINS: usize = N_FFT / 2 + 1;
const INT16_MAX: f64 = 32_767.0;

/// The gain [`normalize_volume`] applies, or `None` for a signal below [`MIN_RMS_DBFS`] (or
/// empty). Samples must be finite.
pub fn volume_gain(wav: &[f32]) -> Option<f64> {
    if wav.is_empty() {
        return None;
    }
    let mean_square = wav
        .iter()
        .map(|&x| (f64::from(x) * INT16_MAX).powi(2))
        .sum::<f64>()
        / wav.len() as f64;
    let dbfs = 20.0 * (mean_square.sqrt() / INT16_MAX).log10();
    if dbfs.is_nan() || dbfs < MIN_RMS_DBFS {
        return None;
    }
    let change = TARGET_DBFS - dbfs;
    Some(if change < 0.0 {
        1.0
    } else {
        10f64.powf(change / 20.0)
    })
}

/// Resemblyzer's `normalize_volume(wav, -30, increase_only=True)`: the samples scaled to
/// −30 dBFS if they are quieter (louder signals are returned unchanged), with the gain used.
/// `None` for a signal below [`MIN_RMS_DBFS`] (or empty). Samples must be finite.
pub fn normalize_volume(wav: &[f32]) -> Option<(Vec<f32>, f64)> {
    let gain = volume_gain(wav)?;
    let out = if gain == 1.0 {
        wav.to_vec()
    } else {
        wav.iter().map(|&x| (f64::from(x) * gain) as f32).collect()
    };
    Some((out, gain))
}

/// Resemblyzer's `compute_partial_slices(n_samples, rate=1.3, min_coverage=0.75)`: the first
/// mel frame of each partial window (each [`WINDOW_FRAMES`] long). Never empty: a signal
/// shorter than one window gets one window (zero-padded).
pub fn partial_window_starts(n_samples: usize) -> Vec<usize> {
    let n_frames = (n_samples + 1).div_ceil(HOP);
    let steps = (n_frames + WINDOW_STEP_FRAMES + 1)
        .saturating_sub(WINDOW_FRAMES)
        .max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(WINDOW_STEP_FRAMES).collect();
    // coverage = (n - last·160) / (160·160) < 0.75, in integers.
    let last = starts[starts.len() - 1] * HOP;
    let covered = n_samples.saturating_sub(last);
    if starts.len() > 1 && 4 * covered < 3 * WINDOW_FRAMES * HOP {
        starts.pop();
    }
    starts
}

/// The mel spectrogram of Resemblyzer (see the module documentation). Build once, share:
/// `Send + Sync`, cheap to clone.
#[derive(Clone)]
pub struct MelFrontEnd {
    fft: Arc<dyn Fft<f64>>,
    window: Arc<[f64; N_FFT]>,
    /// Per band: first FFT bin and its weights (the band's non-zero run).
    bands: Arc<Vec<(usize, Vec<f64>)>>,
}

impl std::fmt::Debug for MelFrontEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelFrontEnd")
            .field("n_fft", &N_FFT)
            .field("hop", &HOP)
            .field("n_mels", &N_MELS)
            .finish()
    }
}

impl Default for MelFrontEnd {
    fn default() -> Self {
        Self::new()
    }
}

impl MelFrontEnd {
    /// Plans the FFT and computes the window and the mel filters.
    pub fn new() -> Self {
        let mut window = [0.0; N_FFT];
        for (n, w) in window.iter_mut().enumerate() {
            *w = 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / N_FFT as f64).cos();
        }
        let filters = slaney_mel_filters();
        let bands = filters
            .iter()
            .map(|row| {
                let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|&w| w != 0.0).unwrap_or(0);
                (first, row[first..=last.max(first)].to_vec())
            })
            .collect();
        Self {
            fft: FftPlanner::new().plan_fft_forward(N_FFT),
            window: Arc::new(window),
            bands: Arc::new(bands),
        }
    }

    /// librosa's centred mel spectrogram of `wav`: `1 + len / 160` frames of 40 power values.
    pub fn frames(&self, wav: &[f32]) -> Vec<[f32; N_MELS]> {
        let n = 1 + wav.len() / HOP;
        let mut flat = vec![0.0; n * N_MELS];
        self.frames_into(wav, n, &mut flat);
        flat.chunks_exact(N_MELS)
            .map(|c| c.try_into().expect("N_MELS values"))
            .collect()
    }

    /// The first `n_frames` frames (frame `t` centred on sample `t · 160`, zeros outside `wav`)
    /// into `out[t · 40 ..][..40]`. `out.len()` must be `n_frames · 40`.
    pub(crate) fn frames_into(&self, wav: &[f32], n_frames: usize, out: &mut [f32]) {
        assert_eq!(out.len(), n_frames * N_MELS, "output size");
        let _span = tracing::trace_span!("mel", n_frames).entered();
        let mut buf = vec![Complex::new(0.0, 0.0); N_FFT];
        let mut scratch = vec![Complex::new(0.0, 0.0); self.fft.get_inplace_scratch_len()];
        let mut power = [0.0f64; N_BINS];
        for (t, row) in out.chunks_exact_mut(N_MELS).enumerate() {
            let start = (t * HOP) as isize - (N_FFT / 2) as isize;
            for (k, b) in buf.iter_mut().enumerate() {
                let i = start + k as isize;
                let x = if i >= 0 && (i as usize) < wav.len() {
                    f64::from(wav[i as usize])
                } else {
                    0.0
                };
                *b = Complex::new(x * self.window[k], 0.0);
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buf[..N_BINS]) {
                *p = c.norm_sqr();
            }
            for (m, (first, weights)) in row.iter_mut().zip(self.bands.iter()) {
                *m = weights
                    .iter()
                    .zip(&power[*first..])
                    .map(|(w, p)| w * p)
                    .sum::<f64>() as f32;
            }
        }
    }
}

/// Slaney's mel scale (librosa `htk=False`): linear below 1 kHz, logarithmic above.
fn hz_to_mel(f: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_mel = 1000.0 / f_sp;
    if f >= 1000.0 {
        min_log_mel + (f / 1000.0).ln() / (6.4f64.ln() / 27.0)
    } else {
        f / f_sp
    }
}

fn mel_to_hz(m: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_mel = 1000.0 / f_sp;
    if m >= min_log_mel {
        1000.0 * ((6.4f64.ln() / 27.0) * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// `librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)`: triangles between consecutive
/// points of 42 equally spaced Slaney mels from 0 Hz to 8 kHz, each scaled by
/// `2 / (f[i+2] − f[i])` (area normalisation), rounded to f32 like librosa's float32 filters.
fn slaney_mel_filters() -> Vec<[f64; N_BINS]> {
    let sr = f64::from(SAMPLE_RATE_HZ);
    let top = hz_to_mel(sr / 2.0);
    let mel_f: Vec<f64> = (0..N_MELS + 2)
        .map(|i| mel_to_hz(i as f64 * (top / (N_MELS + 1) as f64)))
        .collect();
    let fft_freq = |k: usize| sr / 2.0 * k as f64 / (N_BINS - 1) as f64;
    (0..N_MELS)
        .map(|i| {
            let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
            let mut row = [0.0; N_BINS];
            for (k, w) in row.iter_mut().enumerate() {
                let lower = (fft_freq(k) - mel_f[i]) / (mel_f[i + 1] - mel_f[i]);
                let upper = (mel_f[i + 2] - fft_freq(k)) / (mel_f[i + 2] - mel_f[i + 1]);
                let tri = lower.min(upper).max(0.0) as f32;
                *w = f64::from((f64::from(tri) * enorm) as f32);
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_have_slaney_shape() {
        let f = slaney_mel_filters();
        assert_eq!(f.len(), N_MELS);
        // Band 0 starts at 0 Hz and peaks at mel point 1 (≈ 57 Hz → bin 1.4).
        assert_eq!(f[0][0], 0.0);
        assert!(f[0][1] > 0.0);
        // Every band is non-empty and non-negative; the last one ends at or before Nyquist.
        for row in &f {
            assert!(row.iter().all(|w| *w >= 0.0));
            assert!(row.iter().any(|w| *w > 0.0));
        }
        assert_eq!(f[N_MELS - 1][N_BINS - 1], 0.0);
    }

    #[test]
    fn volume_is_only_raised() {
        // A full-scale sine is about −3 dBFS: unchanged.
        let loud: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.1).sin() * 0.9).collect();
        assert_eq!(volume_gain(&loud), Some(1.0));
        // A quiet one is raised to −30 dBFS.
        let quiet: Vec<f32> = loud.iter().map(|x| x * 1e-3).collect();
        let (out, gain) = normalize_volume(&quiet).unwrap();
        assert!(gain > 1.0);
        let rms = (out.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / out.len() as f64)
            .sqrt()
            * INT16_MAX;
        assert!((20.0 * (rms / INT16_MAX).log10() - TARGET_DBFS).abs() < 1e-4);
        assert_eq!(volume_gain(&[0.0; 100]), None);
        assert_eq!(volume_gain(&[]), None);
    }

    #[test]
    fn window_starts_follow_the_resemblyzer_rule() {
        assert_eq!(partial_window_starts(0), vec![0]);
        assert_eq!(partial_window_starts(16_000), vec![0]);
        // 2 s: 201 frames, windows at 0 and 77; the second covers (32000 - 12320) / 25600 = 77 %.
        assert_eq!(partial_window_starts(32_000), vec![0, 77]);
        // Just under 75 % coverage of the second window drops it.
        assert_eq!(partial_window_starts(12_320 + 19_199), vec![0]);
        assert_eq!(partial_window_starts(12_320 + 19_200), vec![0, 77]);
    }
}
