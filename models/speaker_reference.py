#!/usr/bin/env python3
"""NumPy reference of Resemblyzer 0.1.4's speaker-embedding pipeline, and the golden file of the Rust port.

  models/.venv/bin/python models/speaker_reference.py            # parity report (NumPy / librosa / onnxruntime)
  models/.venv/bin/python models/speaker_reference.py --golden   # also rewrite core/src/audio/speaker/golden.json

What Resemblyzer does (resemblyzer/audio.py, voice_encoder.py, hparams.py in the wheel):
  1. preprocess_wav: volume normalisation to -30 dBFS, increase only (rms of wav * 32767);
     then trim_long_silences with webrtcvad (NOT reproduced: lifecert's callers pass speech only);
  2. compute_partial_slices(len(wav), rate=1.3, min_coverage=0.75): windows of 160 mel frames (1.6 s)
     every round(16000 / 1.3 / 160) = 77 frames; the last one is dropped when it covers less than 75 %
     of its window (unless it is the only one); the wav is zero-padded to the end of the last window;
  3. wav_to_mel_spectrogram: librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160,
     n_mels=40) -> POWER (not log) mel, Slaney mel scale and Slaney area normalisation, periodic Hann
     window, centred frames (n_fft/2 zeros each side with librosa >= 0.10, which Resemblyzer 0.1.4
     requires as ">=0.9.1"; librosa < 0.10 reflected instead: see --pad-mode);
  4. the network on each window: 3-layer LSTM 40 -> 256, last hidden state of the last layer,
     Linear 256 -> 256, ReLU, L2 normalisation; 5. mean of the windows' embeddings, L2 normalised.

This module is the independent reference: the mel filters and the STFT are written out here with NumPy
(checked against librosa when it is installed), and the network is a float64 LSTM in PyTorch's gate
order on the weights read from pretrained.pt (so the ONNX file's gate reordering is checked too).
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "core" / "src" / "audio" / "speaker" / "golden.json"

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 40
PARTIAL_FRAMES = 160
PARTIAL_RATE = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
INT16_MAX = 32767


# ---------------------------------------------------------------- front end


def normalize_volume(wav, target_dbfs=TARGET_DBFS):
    """Resemblyzer's normalize_volume(wav, -30, increase_only=True), in float64. Returns (wav, gain)."""
    wav = np.asarray(wav, np.float64)
    rms = np.sqrt(np.mean((wav * INT16_MAX) ** 2))
    dbfs = 20 * np.log10(rms / INT16_MAX)
    change = target_dbfs - dbfs
    if change < 0:
        return wav, 1.0
    gain = 10 ** (change / 20)
    return wav * gain, gain


def hz_to_mel(f):
    """Slaney's mel scale (librosa htk=False): linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def mel_to_hz(m):
    m = np.asarray(m, np.float64)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS):
    """librosa.filters.mel(sr, n_fft, n_mels) (fmin 0, fmax sr/2, Slaney scale and norm), float32 like librosa."""
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, 1 + n_fft // 2), np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, None]
    return weights


def hann(n=N_FFT):
    """Periodic Hann window (scipy.signal.get_window('hann', n, fftbins=True))."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def mel_spectrogram(wav, pad_mode="constant"):
    """Power mel spectrogram [frames, 40], frames = 1 + len // 160 (centred), in float64."""
    wav = np.asarray(wav, np.float64)
    half = N_FFT // 2
    y = np.pad(wav, (half, half), mode=pad_mode)
    n_frames = 1 + (len(y) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(y[idx] * hann()[None, :], axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    return power @ mel_filters().astype(np.float64).T


def partial_slices(n_samples, rate=PARTIAL_RATE, min_coverage=MIN_COVERAGE):
    """Resemblyzer's compute_partial_slices: list of mel-frame start indices (each window is 160 frames)."""
    samples_per_frame = SAMPLE_RATE * 10 // 1000
    n_frames = int(np.ceil((n_samples + 1) / samples_per_frame))
    frame_step = int(np.round((SAMPLE_RATE / rate) / samples_per_frame))
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    starts = list(range(0, steps, frame_step))
    last = starts[-1] * samples_per_frame
    coverage = (n_samples - last) / (PARTIAL_FRAMES * samples_per_frame)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return starts


def partial_mels(speech, pad_mode="constant"):
    """(windows [N, 160, 40] float32, volume gain) as embed_utterance builds them after preprocessing."""
    wav, gain = normalize_volume(speech)
    wav = wav.astype(np.float32).astype(np.float64)  # Resemblyzer's wav is float32
    starts = partial_slices(len(wav))
    end = (starts[-1] + PARTIAL_FRAMES) * HOP
    if end >= len(wav):
        wav = np.pad(wav, (0, end - len(wav)))
    mel = mel_spectrogram(wav, pad_mode)
    return np.stack([mel[s:s + PARTIAL_FRAMES] for s in starts]).astype(np.float32), gain


# ---------------------------------------------------------------- network


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def network(state, mels):
    """The GE2E encoder in float64 on PyTorch's weights and gate order (i, f, g, o). mels [N, T, 40]."""
    x = np.asarray(mels, np.float64)
    n, t, _ = x.shape
    for layer in range(3):
        w_ih = state[f"lstm.weight_ih_l{layer}"].astype(np.float64)
        w_hh = state[f"lstm.weight_hh_l{layer}"].astype(np.float64)
        b = state[f"lstm.bias_ih_l{layer}"].astype(np.float64) + state[f"lstm.bias_hh_l{layer}"].astype(np.float64)
        hidden = w_hh.shape[1]
        h = np.zeros((n, hidden))
        c = np.zeros((n, hidden))
        ys = np.zeros((n, t, hidden))
        for k in range(t):
            gates = x[:, k] @ w_ih.T + h @ w_hh.T + b
            i, f, g, o = np.split(gates, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            ys[:, k] = h
        x = ys
    e = np.maximum(h @ state["linear.weight"].astype(np.float64).T + state["linear.bias"], 0)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def embed(state, speech, run=None, pad_mode="constant"):
    """Utterance embedding (256,), the partial windows and the gain; `run(windows) -> [N, 256]` (default NumPy)."""
    windows, gain = partial_mels(speech, pad_mode)
    partials = (run or (lambda m: network(state, m)))(windows)
    mean = np.mean(np.asarray(partials, np.float64), axis=0)
    return mean / np.linalg.norm(mean), windows, gain


# ---------------------------------------------------------------- deterministic test signal


def golden_signal(n):
    """A speech-like deterministic signal as int16: a glottal-pulse-like harmonic series with a wandering
    pitch (95-165 Hz) through two moving formants, syllable-rate amplitude modulation, plus LCG noise.
    Computed in float64 with closed-form phases (no cumulative sums) so the Rust test regenerates it
    bit for bit; golden.json holds the sha256 of its little-endian int16 bytes."""
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    # f0(t) = 130 + 35 sin(2π 0.9 t): phase = 2π(130 t - 35 cos(2π 0.9 t) / (2π 0.9))
    phase = 2 * np.pi * 130.0 * t - (35.0 / 0.9) * np.cos(2 * np.pi * 0.9 * t)
    f0 = 130.0 + 35.0 * np.sin(2 * np.pi * 0.9 * t)
    f1 = 600.0 + 250.0 * np.sin(2 * np.pi * 1.7 * t)
    f2 = 1700.0 + 500.0 * np.sin(2 * np.pi * 1.1 * t + 1.0)
    x = np.zeros(n)
    for k in range(1, 31):
        fk = k * f0
        amp = (1.0 / k) * (1.0 / (1.0 + ((fk - f1) / 150.0) ** 2) + 0.6 / (1.0 + ((fk - f2) / 250.0) ** 2) + 0.05)
        amp = np.where(fk < SAMPLE_RATE / 2, amp, 0.0)
        x += amp * np.sin(k * phase)
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 3.3 * t)
    state = 12345
    noise = np.empty(n)
    for i in range(n):  # 32-bit LCG (Numerical Recipes), uniform in [-1, 1)
        state = (1664525 * state + 1013904223) % (1 << 32)
        noise[i] = state / 2.0 ** 31 - 1.0
    y = 0.12 * env * x + 0.004 * noise
    return np.round(np.clip(y, -1, 1) * 32767).astype(np.int16)


def sha256_s16le(pcm):
    return hashlib.sha256(np.asarray(pcm, "<i2").tobytes()).hexdigest()


# ---------------------------------------------------------------- report / golden


def fmt(a):
    return [float(f"{v:.8g}") for v in np.asarray(a, np.float64).ravel()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--golden", action="store_true", help=f"rewrite {GOLDEN.relative_to(HERE.parent)}")
    ap.add_argument("--model", default=str(HERE / "ge2e_speaker_encoder.onnx"))
    args = ap.parse_args()

    sys.path.insert(0, str(HERE))
    import build_models  # noqa: E402  (the pinned wheel and the .pt reader)
    import onnxruntime as ort

    whl = build_models.CACHE / build_models.RESEMBLYZER_WHEEL["file"]
    if not whl.exists():
        sys.exit(f"{whl} missing: run models/build_models.sh first")
    state = build_models.resemblyzer_state(whl)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])

    def run_ort(windows):
        return sess.run(None, {"mels": np.asarray(windows, np.float32)})[0]

    pcm = golden_signal(52000)
    signal = pcm.astype(np.float64) / 32768.0
    failures = []

    # Front end: NumPy against librosa (the pinned version in build_models.sh) on the normalised signal.
    wav, gain = normalize_volume(signal[:12800])
    wav32 = wav.astype(np.float32)
    mel = mel_spectrogram(wav32.astype(np.float64))
    try:
        import librosa

        ref = librosa.feature.melspectrogram(y=wav32, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP,
                                             n_mels=N_MELS).astype(np.float32).T
        rel = np.max(np.abs(ref - mel)) / np.max(np.abs(ref))
        filt = np.max(np.abs(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS) - mel_filters()))
        print(f"librosa {librosa.__version__}: mel filters max|diff| {filt:.3g}; "
              f"mel max|diff| / max {rel:.3g} (max {np.max(ref):.4g}, {ref.shape})")
        if rel > 1e-5 or filt > 1e-7:
            failures.append("NumPy front end differs from librosa")
        reflect = mel_spectrogram(wav32.astype(np.float64), "reflect")
        print(f"reflect (librosa < 0.10) vs constant padding: frames that differ "
              f"{np.flatnonzero(np.abs(reflect - mel).max(axis=1) > 1e-6 * mel.max()).tolist()}")
    except ImportError:
        print("librosa not installed: NumPy front end not cross-checked (build_models.sh pins it)")

    # Network: NumPy float64 (PyTorch gate order) against onnxruntime on the signal's windows and on noise.
    rng = np.random.default_rng(0)
    for label, windows in (("golden signal windows", partial_mels(signal)[0]),
                           ("uniform noise 0..3", rng.uniform(0, 3, (3, PARTIAL_FRAMES, N_MELS)).astype(np.float32))):
        d = np.max(np.abs(network(state, windows) - run_ort(windows)))
        print(f"network NumPy vs onnxruntime ({label}, {len(windows)} windows): max|diff| {d:.3g}")
        if d > 1e-5:
            failures.append(f"network differs on {label}")

    cases = []
    for n, scale in ((8000, 1.0), (32000, 1.0), (52000, 1.0), (32000, 0.02), (32000, 3.0)):
        speech = np.clip(signal[:n] * scale, -1.0, 1.0)
        e_ort, windows, g = embed(state, speech, run_ort)
        e_np, _, _ = embed(state, speech)
        d = np.max(np.abs(e_ort - e_np))
        print(f"embedding n={n} scale={scale}: {len(windows)} windows, gain {g:.5g}, NumPy vs onnxruntime {d:.3g}")
        if d > 1e-5:
            failures.append(f"embedding n={n} scale={scale}")
        cases.append({"samples": n, "scale": scale, "gain": g, "windows": len(windows),
                      "window_starts": partial_slices(n), "embedding": fmt(e_ort)})
    pairs = [(a["samples"], a["scale"], b["samples"], b["scale"],
              float(np.dot(a["embedding"], b["embedding"]))) for a, b in zip(cases, cases[1:])]
    for p in pairs:
        print("  cosine %d×%g vs %d×%g: %.4f" % p)

    slices = {str(n): partial_slices(n) for n in (1, 159, 160, 8000, 25600, 26000, 27520, 32000, 36000,
                                                 38000, 39000, 40000, 52000, 160000)}
    if args.golden:
        golden = {
            "about": "Golden values of lifecert's speaker front end, written by models/speaker_reference.py "
                     "--golden (NumPy reference of Resemblyzer 0.1.4 + onnxruntime on "
                     "models/ge2e_speaker_encoder.onnx). Signal: speaker_reference.golden_signal(n) / 32768.",
            "signal": {"samples": len(pcm), "sha256_s16le": sha256_s16le(pcm)},
            "mel": {"samples": 12800, "gain": gain, "frames": int(mel.shape[0]), "values": fmt(mel)},
            "partial_slices": slices,
            "embeddings": cases,
        }
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
        print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} B)")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("ok")


if __name__ == "__main__":
    main()
