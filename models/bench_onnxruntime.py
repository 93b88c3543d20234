#!/usr/bin/env python3
"""Single-threaded onnxruntime latency of every models/*.onnx with static input shapes.

  models/.venv/bin/python models/bench_onnxruntime.py [--runs 200] [--warmup 20] [--json]

intra_op_num_threads = inter_op_num_threads = 1, sequential execution, CPU provider, default graph
optimisation. Inputs: the detector and landmark models get the real test image (astronaut, see
check_models.py) pre-processed as in production; the face descriptor one real 150x150 chip (batch 1,
<shared>/data/faces_identity/bbt_amy/faceapi_amy1.png); the VAD one 512-sample speech chunk (chunk 40 of
<shared>/data/audio/vad/seq_258_theo_16k.wav, with the context and state carried from the chunks before
it), so its time is per 32 ms chunk; any other model gets seeded uniform noise in [0,1)
(float) or zeros (integer) of its input shapes; a symbolic first (batch) dimension is set to 1, models with
any other dynamic dimension are skipped.
Load time = InferenceSession construction (first load, and median of --loads further loads).
"""
import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ORT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
             "tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
             "tensor(bool)": np.bool_}


def real_inputs():
    rgb = common.load_rgb(common.test_image_path())
    det_in, lb = common.detector_input(rgb)
    s = common.ort_session(common.HERE / "face_detection_short_range.onnx")
    reg, cls = s.run(None, {"input": det_in})
    dets = common.decode_blazeface(reg, cls)
    if not dets:
        raise SystemExit("no face found in the test image")
    lm_in, _ = common.landmark_input(rgb, *common.face_roi(dets[0], lb))
    known = {"face_detection_short_range.onnx": ({"input": det_in}, "image"),
             "face_landmark.onnx": ({"input_1": lm_in}, "image")}
    if (common.HERE / "dlib_face_descriptor.onnx").exists():
        chip = common.load_rgb(common.FACES_IDENTITY / "bbt_amy" / "faceapi_amy1.png")
        known["dlib_face_descriptor.onnx"] = ({"input": common.descriptor_input([chip])}, "face chip")
    if (common.HERE / "silero_vad_16k.onnx").exists():
        vad = common.ort_session(common.HERE / "silero_vad_16k.onnx")
        _, feeds = common.vad_probs(vad, common.read_wav_16k(common.VAD_DIR / "seq_258_theo_16k.wav"), upto=40)
        known["silero_vad_16k.onnx"] = (feeds, "audio chunk")
    return known


def feeds_for(path, sess, known):
    if path.name in known:
        return known[path.name]
    rng = np.random.default_rng(0)
    feeds = {}
    for i in sess.get_inputs():
        shape = list(i.shape)
        if shape and not (isinstance(shape[0], int) and shape[0] > 0):
            shape[0] = 1  # symbolic batch dimension: benchmark batch 1
        if not all(isinstance(d, int) and d > 0 for d in shape):
            return None, f"dynamic input {i.name} {i.shape}"
        dt = ORT_TYPES.get(i.type)
        if dt is None:
            return None, f"input type {i.type}"
        feeds[i.name] = rng.uniform(0, 1, shape).astype(dt) if np.issubdtype(dt, np.floating) else np.zeros(shape, dt)
    return feeds, "noise"


def bench(path, known, runs, warmup, loads):
    t0 = time.perf_counter()
    sess = common.ort_session(path)
    first_load = (time.perf_counter() - t0) * 1e3
    load_times = []
    for _ in range(loads):
        t0 = time.perf_counter()
        common.ort_session(path)
        load_times.append((time.perf_counter() - t0) * 1e3)
    feeds, kind = feeds_for(path, sess, known)
    row = {"model": path.name, "size_bytes": path.stat().st_size,
           "inputs": {i.name: i.shape for i in sess.get_inputs()},
           "load_ms_first": round(first_load, 2),
           "load_ms_median": round(statistics.median(load_times), 2) if load_times else None}
    if feeds is None:
        row["skipped"] = kind
        return row
    row["fed_shape"] = list(next(iter(feeds.values())).shape)
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    row.update({"input_kind": kind, "runs": runs, "median_ms": round(statistics.median(times), 3),
                "p10_ms": round(times[len(times) // 10], 3), "p90_ms": round(times[(len(times) * 9) // 10], 3),
                "min_ms": round(times[0], 3)})
    return row


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--loads", type=int, default=5, help="extra session constructions for the load-time median")
    ap.add_argument("--json", action="store_true", help="print JSON to stdout instead of the table")
    ap.add_argument("models", nargs="*", type=Path, help="default: models/*.onnx")
    args = ap.parse_args()

    paths = args.models or sorted(common.HERE.glob("*.onnx"))
    known = real_inputs()
    rows = [bench(p, known, args.runs, args.warmup, args.loads) for p in paths]
    result = {"onnxruntime": ort.__version__, "threads": 1, "cpu": cpu_name(),
              "python": platform.python_version(), "results": rows}
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(f"onnxruntime {ort.__version__}, 1 thread, median of {args.runs} runs after {args.warmup} warm-up")
    print(f"{'model':34} {'input':18} {'median ms':>9} {'p10':>7} {'p90':>7} {'load ms':>8} {'(first)':>8}")
    for r in rows:
        shape = "x".join(str(d) for d in (r.get("fed_shape") or next(iter(r["inputs"].values()), ["-"])))
        if "skipped" in r:
            print(f"{r['model']:34} {shape:18} skipped: {r['skipped']}")
            continue
        print(f"{r['model']:34} {shape:18} {r['median_ms']:9.3f} {r['p10_ms']:7.3f} {r['p90_ms']:7.3f} "
              f"{r['load_ms_median']:8.1f} {r['load_ms_first']:8.1f}")


if __name__ == "__main__":
    main()
