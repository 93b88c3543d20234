#!/usr/bin/env python3
"""tract against onnxruntime on the same inputs: the onnxruntime half and the report.

Driven by scripts/bench-vs-onnxruntime.sh, in three steps:

  prepare DIR   writes the inputs both sides read (raw little-endian float32 / uint8 files and
                DIR/inputs.json describing them):
                  detector    [1,128,128,3]  the astronaut test image letterboxed as in production
                  landmarks   [1,192,192,3]  its face ROI, rotated as in production
                  descriptor  [1,3,150,150]  one real 150x150 chip (faceapi_amy1.png)
                  vad         [1,576] + state [2,1,128]  chunk 40 of seq_258_theo_16k.wav, state carried
                  speaker     [1,160,40]     40-mel frames of 1.6 s of real speech (GRID clip audio,
                                             Resemblyzer's front end, speaker_reference.py)
                  clip        N frames of a real talking clip (video_talking), scaled to 600x480 and
                                             centred on a 640x480 canvas (a typical preview frame), RGB
  ort DIR OUT   single-threaded onnxruntime: each model on its input (median of --runs after
                --warmup), and the whole per-frame analysis of the clip in onnxruntime + NumPy:
                letterbox -> detector -> anchor decode + weighted NMS -> rotated ROI -> landmark
                crop -> landmarks -> presence -> head pose (weighted Umeyama on the Procrustes basis),
                the same steps as lifecert_core::Analyzer::analyze_image. Per-frame time = median
                over passes of (pass over all frames) / frames.
                And the same frames tracked (Analyzer::analyze_image_tracked with the default
                TrackerConfig): the landmark ROI from the previous frame's landmarks, the detector
                only on the first frame, every 300 ms of stream time (frame k at k/25 s, the
                timestamps running on across passes: steady state) and when tracking is lost.
  report ORT CRITERION OUT   joins the onnxruntime JSON with criterion's medians
                (target/criterion/vs_onnxruntime/*/new/estimates.json), prints the table and writes OUT.
"""
import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

CLIP = common.SHARED / "data" / "video_talking" / "grid_bbaf2n.mpg"
CLIP_FRAMES = 25
FRAME_W, FRAME_H = 640, 480

# Row name -> (model file, criterion bench id, description).
ROWS = [
    ("detector", "face_detection_short_range.onnx", "model_detector", "BlazeFace 128x128, model only"),
    ("landmarks", "face_landmark.onnx", "model_landmarks", "FaceMesh 192x192, model only"),
    ("descriptor", "dlib_face_descriptor.onnx", "model_descriptor", "dlib ResNet 150x150, model only"),
    ("vad", "silero_vad_16k.onnx", "model_vad_chunk", "Silero VAD, one 32 ms chunk"),
    ("speaker", "ge2e_speaker_encoder.onnx", "model_speaker_window", "GE2E LSTM, one 160-frame window"),
    ("frame_640x480", None, "pipeline_frame_640x480",
     "per-frame analysis of a real clip (pre + detector + post + landmarks + pose)"),
    ("frame_640x480_tracked", None, "pipeline_frame_640x480_tracked",
     "the same frames tracked, steady state (landmarks from the previous ROI; detector every 300 ms)"),
]
# The clip's frame rate: the tracked rows stamp frame k at k / CLIP_FPS s.
CLIP_FPS = 25.0


def write(dirpath, name, array):
    array = np.ascontiguousarray(array)
    (dirpath / f"{name}.bin").write_bytes(array.tobytes())
    return {"file": f"{name}.bin", "shape": list(array.shape), "dtype": str(array.dtype)}


def speaker_window():
    """One [1,160,40] mel window of real speech: 2 s of the clip's audio from 0.8 s (after the
    leading silence), volume-normalised, Resemblyzer's front end."""
    import speaker_reference as ref

    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(CLIP), "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
                         check=True, capture_output=True).stdout
    wav = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
    speech, _ = ref.normalize_volume(wav[int(0.8 * 16000):int(2.8 * 16000)])
    mels = ref.mel_spectrogram(speech)
    if mels.shape[0] < 160:
        raise SystemExit(f"speaker window: only {mels.shape[0]} mel frames")
    return mels[None, :160].astype(np.float32)


def clip_frames(n=CLIP_FRAMES):
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(CLIP), "-vf",
         f"scale=600:480,pad={FRAME_W}:{FRAME_H}:20:0:color=0x5a5a5a", "-frames:v", str(n),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, FRAME_H, FRAME_W, 3)
    if len(frames) != n:
        raise SystemExit(f"{CLIP}: {len(frames)} frames decoded, wanted {n}")
    return frames


def prepare(dirpath):
    dirpath.mkdir(parents=True, exist_ok=True)
    known = __import__("bench_onnxruntime").real_inputs()
    spec = {
        "detector": write(dirpath, "detector", known["face_detection_short_range.onnx"][0]["input"]),
        "landmarks": write(dirpath, "landmarks", known["face_landmark.onnx"][0]["input_1"]),
        "descriptor": write(dirpath, "descriptor", known["dlib_face_descriptor.onnx"][0]["input"]),
        "vad": write(dirpath, "vad", known["silero_vad_16k.onnx"][0]["input"]),
        "vad_state": write(dirpath, "vad_state", known["silero_vad_16k.onnx"][0]["state"]),
        "speaker": write(dirpath, "speaker", speaker_window()),
        "clip": write(dirpath, "clip", clip_frames()),
    }
    spec["clip"]["source"] = str(CLIP.relative_to(common.SHARED))
    (dirpath / "inputs.json").write_text(json.dumps(spec, indent=2) + "\n")
    print(f"inputs written to {dirpath}")


def load(dirpath, name):
    spec = json.loads((dirpath / "inputs.json").read_text())[name]
    return np.frombuffer((dirpath / spec["file"]).read_bytes(), spec["dtype"]).reshape(spec["shape"])


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


# ------------------------------------------------------------ the per-frame pipeline in NumPy


class Pipeline:
    """Analyzer::analyze_image in onnxruntime + NumPy + Pillow (default config: no tiles,
    min score 0.5, NMS IoU 0.3, ROI 1.5x, presence >= 0.5)."""

    def __init__(self, threads):
        self.det = common.ort_session(common.HERE / "face_detection_short_range.onnx", threads)
        self.lm = common.ort_session(common.HERE / "face_landmark.onnx", threads)
        face = json.loads((common.HERE / "canonical_face.json").read_text())
        self.vertices = np.asarray(face["vertices"], np.float64)
        basis = face["procrustes_landmark_basis"]
        self.basis = np.asarray([i for i, _ in basis])
        w = np.asarray([w for _, w in basis], np.float64)
        self.weights = w / w.sum()

    def head_pose(self, points):
        p = points[self.basis] * np.array([1.0, -1.0, -1.0])
        m = self.vertices[self.basis]
        w = self.weights[:, None]
        pm, mm = (p * w).sum(0), (m * w).sum(0)
        cov = ((p - pm) * w).T @ (m - mm)
        u, _, vt = np.linalg.svd(cov)
        d = np.sign(np.linalg.det(u @ vt))
        r = u @ np.diag([1.0, 1.0, d]) @ vt
        f, a = r[:, 2], r[:, 0]
        return (math.degrees(math.atan2(f[0], f[2])), math.degrees(math.atan2(f[1], math.hypot(f[0], f[2]))),
                math.degrees(math.atan2(-a[1], a[0])))

    def landmarks(self, rgb, roi):
        """(points [468,3] in image px, presence) on the ROI (centre, side, angle)."""
        lm_in, m = common.landmark_input(rgb, *roi)
        raw, presence = self.lm.run(None, {"input_1": lm_in})
        xyz = raw.reshape(468, 3).astype(np.float64)
        pts = np.empty_like(xyz)
        pts[:, 0] = m[0, 0] * xyz[:, 0] + m[0, 1] * xyz[:, 1] + m[0, 2]
        pts[:, 1] = m[1, 0] * xyz[:, 0] + m[1, 1] * xyz[:, 1] + m[1, 2]
        pts[:, 2] = xyz[:, 2] * math.hypot(m[0, 0], m[1, 0])
        return pts, 1.0 / (1.0 + math.exp(-float(np.clip(presence.reshape(()), -100, 100))))

    def analyze(self, rgb):
        det_in, lb = common.detector_input(rgb)
        reg, cls = self.det.run(None, {"input": det_in})
        faces = []
        for d in common.decode_blazeface(reg, cls)[:8]:
            pts, presence = self.landmarks(rgb, common.face_roi(d, lb))
            if presence < 0.5:
                continue
            faces.append((d, pts, self.head_pose(pts)))
        return faces


def roi_from_landmarks(pts, scale=1.5):
    """FaceRoi::from_landmarks: rotated so the outer eye corners 33 -> 263 are horizontal, the box of
    all landmarks in that frame, squared on its long side, x scale."""
    e = pts[263, :2] - pts[33, :2]
    angle = math.atan2(e[1], e[0])
    c, s = math.cos(angle), math.sin(angle)
    u = pts[:, 0] * c + pts[:, 1] * s
    v = -pts[:, 0] * s + pts[:, 1] * c
    uc, vc = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
    side = max(u.max() - u.min(), v.max() - v.min()) * scale
    return np.array([uc * c - vc * s, uc * s + vc * c]), side, angle


def inside_fraction(roi, w, h):
    (cx, cy), side, _ = roi
    x0, y0, x1, y1 = cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2
    iw = max(0.0, min(x1, w) - max(x0, 0.0))
    ih = max(0.0, min(y1, h) - max(y0, 0.0))
    return iw * ih / (side * side)


def square_iou(a, b):
    (ax, ay), asz, _ = a
    (bx, by), bsz, _ = b
    ix = max(0.0, min(ax + asz / 2, bx + bsz / 2) - max(ax - asz / 2, bx - bsz / 2))
    iy = max(0.0, min(ay + asz / 2, by + bsz / 2) - max(ay - asz / 2, by - bsz / 2))
    inter = ix * iy
    return inter / (asz * asz + bsz * bsz - inter)


class Tracker:
    """Analyzer::analyze_image_tracked with the default TrackerConfig (face/tracker.rs): the detector
    path on the first frame, without faces, every 300 ms, when a face's presence < 0.5, when its ROI
    moved > 0.15 side or changed size > 1.2x between frames (that frame again with the detector), and
    on the frame after a ROI left the image (< 0.5 inside). Overlapping ROIs (IoU > 0.5) are one face.
    Tracked faces get the landmark box mapped by the last detector frame's box/landmark relation and
    head pose, as in Rust."""

    INTERVAL, MIN_PRESENCE, MAX_SHIFT, MAX_SCALE, MIN_INSIDE, MAX_OVERLAP = 0.3, 0.5, 0.15, 1.2, 0.5, 0.5

    def __init__(self, pipe):
        self.pipe, self.rois, self.fits = pipe, [], []
        self.last_det, self.pending, self.frames, self.detector_runs = None, False, 0, 0

    @staticmethod
    def landmark_box(pts):
        x0, y0 = pts[:, 0].min(), pts[:, 1].min()
        return np.array([x0, y0, pts[:, 0].max() - x0, pts[:, 1].max() - y0])

    def detect(self, rgb, t):
        faces = self.pipe.analyze(rgb)
        self.detector_runs += 1
        self.last_det = t
        self.rois, self.fits = [], []
        for d, pts, _ in faces:
            lb = self.landmark_box(pts)
            self.rois.append(roi_from_landmarks(pts))
            self.fits.append((d["score"], lb))
        self.settle(rgb)
        return faces

    def settle(self, rgb):
        kept = []
        for i, r in enumerate(self.rois):
            if all(square_iou(self.rois[k], r) <= self.MAX_OVERLAP for k in kept):
                kept.append(i)
        self.rois = [self.rois[i] for i in kept]
        self.fits = [self.fits[i] for i in kept]
        h, w = rgb.shape[:2]
        self.pending = any(inside_fraction(r, w, h) < self.MIN_INSIDE for r in self.rois)

    def analyze(self, rgb, t):
        self.frames += 1
        if (self.pending or not self.rois or self.last_det is None
                or t - self.last_det >= self.INTERVAL - 1e-9):
            return self.detect(rgb, t)
        faces, rois = [], []
        for roi, (score, lb0) in zip(self.rois, self.fits):
            pts, presence = self.pipe.landmarks(rgb, roi)
            if presence < self.MIN_PRESENCE:
                return self.detect(rgb, t)
            nxt = roi_from_landmarks(pts)
            shift = math.hypot(*(nxt[0] - roi[0])) / roi[1]
            if shift > self.MAX_SHIFT or abs(math.log(nxt[1] / roi[1])) > math.log(self.MAX_SCALE):
                return self.detect(rgb, t)
            lb = self.landmark_box(pts)  # the box is mapped from it (a handful of flops)
            faces.append((score, lb, pts, self.pipe.head_pose(pts)))
            rois.append(nxt)
        self.rois = rois
        self.settle(rgb)
        return faces


def ort(dirpath, out, runs, warmup, threads):
    import onnxruntime

    rows = {}
    feeds = {
        "detector": {"input": load(dirpath, "detector")},
        "landmarks": {"input_1": load(dirpath, "landmarks")},
        "descriptor": {"input": load(dirpath, "descriptor")},
        "vad": {"input": load(dirpath, "vad"), "state": load(dirpath, "vad_state")},
        "speaker": None,
    }
    for name, model, _, _ in ROWS:
        if model is None:
            continue
        path = common.HERE / model
        t0 = time.perf_counter()
        sess = common.ort_session(path, threads)
        load_ms = (time.perf_counter() - t0) * 1e3
        feed = feeds[name]
        if feed is None:
            feed = {sess.get_inputs()[0].name: load(dirpath, name)}
        rows[name] = {"median_ms": timed(lambda: sess.run(None, feed), runs, warmup), "load_ms": load_ms}
        print(f"  onnxruntime {name}: {rows[name]['median_ms']:.3f} ms", flush=True)

    frames = load(dirpath, "clip")
    pipe = Pipeline(threads)
    found = [len(pipe.analyze(f)) for f in frames]
    passes = max(3, runs // 20)
    per_pass = timed(lambda: [pipe.analyze(f) for f in frames], passes, 1)
    rows["frame_640x480"] = {"median_ms": per_pass / len(frames), "faces_per_frame": found,
                             "passes": passes, "frames": len(frames)}
    print(f"  onnxruntime per frame: {rows['frame_640x480']['median_ms']:.3f} ms "
          f"(faces per frame {sorted(set(found))})", flush=True)

    # Tracked, steady state: one tracker for all passes, timestamps running on (frame k of pass p at
    # (p * frames + k) / 25 s), one warm-up pass.
    tracker = Tracker(pipe)
    clock = [0]

    def tracked_pass():
        out = []
        for f in frames:
            out.append(tracker.analyze(f, clock[0] / CLIP_FPS))
            clock[0] += 1
        return out

    per_pass = timed(tracked_pass, passes, 1)
    rows["frame_640x480_tracked"] = {"median_ms": per_pass / len(frames), "frames": len(frames), "passes": passes,
                                     "detector_fraction": tracker.detector_runs / tracker.frames}
    print(f"  onnxruntime per frame, tracked: {rows['frame_640x480_tracked']['median_ms']:.3f} ms "
          f"(detector on {100 * tracker.detector_runs / tracker.frames:.1f} % of frames)", flush=True)
    result = {"onnxruntime": onnxruntime.__version__, "threads": threads, "runs": runs, "rows": rows}
    Path(out).write_text(json.dumps(result, indent=2) + "\n")


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def report(ort_json, criterion_dir, out, frames):
    o = json.loads(Path(ort_json).read_text())
    table = []
    for name, _, bench_id, what in ROWS:
        est = Path(criterion_dir) / bench_id / "new" / "estimates.json"
        tract_ms = None
        if est.exists():
            tract_ms = json.loads(est.read_text())["median"]["point_estimate"] / 1e6
            if name.startswith("frame_640x480"):
                tract_ms /= frames  # the bench times one pass over the clip
        ort_ms = o["rows"].get(name, {}).get("median_ms")
        ratio = tract_ms / ort_ms if tract_ms and ort_ms else None
        table.append({"row": name, "what": what, "tract_ms": tract_ms, "onnxruntime_ms": ort_ms,
                      "tract_over_onnxruntime": ratio})
    load = open("/proc/loadavg").read().split()[:3]
    result = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpu": cpu_name(),
              "cores": __import__("os").cpu_count(), "load_average": [float(x) for x in load],
              "onnxruntime": o["onnxruntime"], "threads": o["threads"], "rows": table,
              "ort_faces_per_frame": o["rows"].get("frame_640x480", {}).get("faces_per_frame")}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{result['date_utc']}  {result['cpu']}, {result['cores']} cores, load {' '.join(load)}; "
          f"onnxruntime {o['onnxruntime']}, {o['threads']} thread(s)")
    print(f"{'row':16} {'tract ms':>9} {'ORT ms':>9} {'tract/ORT':>9}  what")
    fmt = lambda v, p=3: "-" if v is None else f"{v:.{p}f}"  # noqa: E731
    for r in table:
        print(f"{r['row']:16} {fmt(r['tract_ms']):>9} {fmt(r['onnxruntime_ms']):>9} "
              f"{fmt(r['tract_over_onnxruntime'], 2):>9}  {r['what']}")
    print(f"JSON: {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir", type=Path)
    p = sub.add_parser("ort")
    p.add_argument("dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("report")
    p.add_argument("ort_json", type=Path)
    p.add_argument("criterion_dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--frames", type=int, default=CLIP_FRAMES)
    a = ap.parse_args()
    if a.cmd == "prepare":
        prepare(a.dir)
    elif a.cmd == "ort":
        ort(a.dir, a.out, a.runs, a.warmup, a.threads)
    else:
        report(a.ort_json, a.criterion_dir, a.out, a.frames)


if __name__ == "__main__":
    main()
