#!/usr/bin/env python3
"""Numerical check of models/*.onnx against the reference ONNX files, in onnxruntime.

  models/.venv/bin/python models/check_models.py

Reference directory: $LIFECERT_REFERENCE_MODELS, default <repo>/../shared/models/reference.
Test image: $LIFECERT_TEST_IMAGE, default <repo>/../shared/data/hard_cases/public_domain/skimage_astronaut.png.

Feeds both files the same deterministic inputs (the real image letterboxed to 128x128 for the detector,
the MediaPipe-style 192x192 face crop for the landmark model, plus one seeded random input each) and
asserts max|diff| <= 1e-3 per output. Also decodes BlazeFace on the image (expects one face, score ~0.92)
and checks that the landmark model finds the face where the detector put it.

dlib_face_descriptor.onnx is compared with the reference dlib_face_descriptor_uint8.onnx (max|diff| <= 1e-4)
on the 40 150x150 grey TV-character chips in <shared>/data/faces_identity/bbt_*/ (as RGB), on chips cut
around the BlazeFace box from one colour photo of each of six people there, and on seeded uniform noise;
it also checks that same-person distances are smaller than different-person ones on average.

silero_vad_16k.onnx has no reference ONNX: it must reproduce the golden per-chunk speech probabilities in
<shared>/data/audio/vad/*.silero_ort_probs.txt (max|diff| <= 1e-4), and the digits in the clean sequence must
be the same speech chunks (three segments in the clean sequence).
"""
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TOL = 1e-3
TOL_DESCRIPTOR = 1e-4
TOL_VAD = 1e-4
MODELS = ["face_detection_short_range.onnx", "face_landmark.onnx", "dlib_face_descriptor.onnx"]
REFERENCE_NAME = {"dlib_face_descriptor.onnx": common.DESCRIPTOR_REFERENCE}
# One colour photo per person (first file of the directory) for the descriptor's colour-chip check.
COLOUR_PEOPLE = ["barack_obama", "joe_biden", "jennifer_aniston", "george_clooney", "angelina_jolie", "elon_musk"]
# Number of speech segments (runs of chunks with p > 0.5) per file: the clean seq_258 file is the digits 2, 5, 8
# (1-based chunks 19-25, 36-47, 58-68; the data README's "58-69" is off by one, its own golden file has 0.484
# at chunk 69).
VAD_SEGMENTS = {"seq_258_theo_16k": 3, "fsdd_7_jackson_3_16k": 1}


def main():
    ref_dir = Path(os.environ.get("LIFECERT_REFERENCE_MODELS", common.SHARED / "models" / "reference"))
    img_path = common.test_image_path()
    print(f"reference: {ref_dir}\nimage:     {img_path}")
    rgb = common.load_rgb(img_path)
    failures = []

    ours = {m: common.ort_session(common.HERE / m) for m in MODELS}
    refs = {m: common.ort_session(ref_dir / REFERENCE_NAME.get(m, m)) for m in MODELS}
    for m, s in ours.items():
        for kind, lst in (("in", s.get_inputs()), ("out", s.get_outputs())):
            for v in lst:
                print(f"  {m:32} {kind:3} {v.name:15} {v.type:14} {v.shape}")

    def compare(model, feeds, label, tol=TOL):
        a = ours[model].run(None, feeds)
        b = refs[model].run(None, feeds)
        names = [o.name for o in ours[model].get_outputs()]
        if names != [o.name for o in refs[model].get_outputs()]:
            failures.append(f"{model}: output names differ from reference")
        parts = []
        for n, x, y in zip(names, a, b):
            d = float(np.max(np.abs(x - y)))
            parts.append(f"{n}={d:.3g}")
            if not d <= tol:
                failures.append(f"{model} {label} {n}: max|diff| {d} > {tol}")
        print(f"  max|diff| ours vs reference, {model} ({label}): " + ", ".join(parts))
        return dict(zip(names, a))

    rng = np.random.default_rng(1234)

    # --- detector
    det_in, lb = common.detector_input(rgb)
    out = compare("face_detection_short_range.onnx", {"input": det_in}, "image")
    compare("face_detection_short_range.onnx",
            {"input": rng.uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)}, "random")
    dets = common.decode_blazeface(out["regressors"], out["classificators"])
    print(f"  BlazeFace: {len(dets)} detection(s) with score >= 0.5")
    for d in dets:
        box = common.to_image_px(np.reshape(d["box"], (2, 2)), lb).reshape(-1)
        print(f"    score {d['score']:.4f}  box px [{', '.join(f'{v:.1f}' for v in box)}]")
    if len(dets) != 1:
        failures.append(f"expected 1 face, got {len(dets)}")
    if not dets or abs(dets[0]["score"] - 0.921) > 0.01:
        failures.append("top face score is not ~0.92")
    if not dets:
        report(failures)
    det = dets[0]
    kp = common.to_image_px(det["keypoints"], lb)
    print("    keypoints px: " + ", ".join(f"({x:.0f},{y:.0f})" for x, y in kp))

    # --- landmarks
    centre, side, angle = common.face_roi(det, lb)
    lm_in, m = common.landmark_input(rgb, centre, side, angle)
    print(f"  ROI: centre ({centre[0]:.1f},{centre[1]:.1f}) side {side:.1f}px angle {np.degrees(angle):.1f} deg")
    out = compare("face_landmark.onnx", {"input_1": lm_in}, "face crop")
    compare("face_landmark.onnx", {"input_1": rng.uniform(0, 1, (1, 192, 192, 3)).astype(np.float32)}, "random")
    pts = out["conv2d_21"].reshape(468, 3)
    presence = 1 / (1 + np.exp(-float(out["conv2d_31"].reshape(()))))
    img_pts = pts[:, :2] @ m[:, :2].T + m[:, 2]
    nose_lm, nose_det = img_pts[1], kp[2]
    dist = float(np.hypot(*(nose_lm - nose_det)))
    print(f"  FaceMesh: face presence sigmoid {presence:.4f}; nose tip #1 at ({nose_lm[0]:.1f},{nose_lm[1]:.1f}) px, "
          f"{dist:.1f} px from detector keypoint 2; crop-px x range [{pts[:, 0].min():.1f},{pts[:, 0].max():.1f}], "
          f"y range [{pts[:, 1].min():.1f},{pts[:, 1].max():.1f}]")
    if presence < 0.9:
        failures.append(f"face presence {presence} < 0.9")
    if dist > 0.1 * side:
        failures.append(f"landmark nose tip {dist:.1f}px away from detector nose keypoint")

    check_descriptor(compare, ours, rng, failures)
    check_vad(failures)
    report(failures)


def check_descriptor(compare, ours, rng, failures):
    model = "dlib_face_descriptor.onnx"
    files = sorted(common.FACES_IDENTITY.glob("bbt_*/*[0-9].png"))
    chips = [common.load_rgb(f) for f in files]  # grey 150x150 -> RGB
    if len(chips) != 40 or any(c.shape != (150, 150, 3) for c in chips):
        failures.append(f"expected 40 150x150 bbt_* chips, got {len(chips)}")
        return
    desc = compare(model, {"input": common.descriptor_input(chips)}, f"{len(chips)} grey chips",
                   TOL_DESCRIPTOR)["descriptor"]

    det_s = common.ort_session(common.HERE / "face_detection_short_range.onnx")
    colour = []
    for person in COLOUR_PEOPLE:
        f = sorted(p for p in (common.FACES_IDENTITY / person).iterdir() if p.suffix.lower() in (".jpg", ".png"))[0]
        rgb = common.load_rgb(f)
        det_in, lb = common.detector_input(rgb)
        dets = common.decode_blazeface(*det_s.run(None, {"input": det_in}))
        if not dets:
            failures.append(f"no face found in {f}")
            continue
        colour.append(common.box_face_chip(rgb, dets[0], lb))
    compare(model, {"input": common.descriptor_input(colour)}, f"{len(colour)} colour chips", TOL_DESCRIPTOR)
    noise = rng.uniform(0, 255, (2, 3, 150, 150)).astype(np.float32)
    compare(model, {"input": noise}, "random", TOL_DESCRIPTOR)

    ids = np.array([f.parent.name for f in files])
    d = np.linalg.norm(desc[:, None] - desc[None], axis=-1)
    iu = np.triu_indices(len(files), 1)
    same = (ids[:, None] == ids[None])[iu]
    ds, dd = d[iu][same], d[iu][~same]
    print(f"  descriptor: |d| {np.linalg.norm(desc, axis=1).mean():.3f} mean; {len(set(ids))} people x 5 chips: "
          f"same-person distance mean {ds.mean():.3f} max {ds.max():.3f}, different mean {dd.mean():.3f} "
          f"min {dd.min():.3f}; at 0.6: {(ds >= 0.6).mean():.1%} same-person pairs rejected, "
          f"{(dd < 0.6).mean():.1%} different-person pairs accepted")
    if not ds.mean() + 0.1 < dd.mean():
        failures.append("descriptor does not separate identities (same-person mean distance not < different)")


def check_vad(failures):
    model = "silero_vad_16k.onnx"
    sess = common.ort_session(common.HERE / model)
    for kind, lst in (("in", sess.get_inputs()), ("out", sess.get_outputs())):
        for v in lst:
            print(f"  {model:32} {kind:3} {v.name:15} {v.type:14} {v.shape}")
    golden = sorted(common.VAD_DIR.glob("*.silero_ort_probs.txt"))
    if not golden:
        failures.append(f"no golden VAD files in {common.VAD_DIR}")
    for g in golden:
        stem = g.name[:-len(".silero_ort_probs.txt")]
        probs, _ = common.vad_probs(sess, common.read_wav_16k(g.with_name(stem + ".wav")))
        want = np.loadtxt(g, dtype=np.float64).reshape(-1)
        if probs.shape != want.shape:
            failures.append(f"{model} {stem}: {len(probs)} chunks, golden has {len(want)}")
            continue
        d = float(np.max(np.abs(probs - want)))
        speech = [i + 1 for i, p in enumerate(probs) if p > 0.5]
        print(f"  max|diff| {model} vs golden probs, {stem} ({len(probs)} chunks): {d:.3g}; speech chunks "
              f"{runs(speech)}")
        if not d <= TOL_VAD:
            failures.append(f"{model} {stem}: max|diff| {d} > {TOL_VAD}")
        want_speech = runs([i + 1 for i, p in enumerate(want) if p > 0.5])
        if runs(speech) != want_speech:
            failures.append(f"{model} {stem}: speech chunks {runs(speech)} != golden {want_speech}")
        if stem in VAD_SEGMENTS and len(want_speech) != VAD_SEGMENTS[stem]:
            failures.append(f"{model} {stem}: {len(want_speech)} speech segments, expected {VAD_SEGMENTS[stem]}")


def runs(idx):
    """[19, 20, 21, 36] -> [(19, 21), (36, 36)]"""
    out = []
    for i in idx:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def report(failures):
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("OK: all outputs within tolerance of the reference (%g; descriptor %g; VAD %g vs golden probs)"
          % (TOL, TOL_DESCRIPTOR, TOL_VAD))
    sys.exit(0)


if __name__ == "__main__":
    main()
