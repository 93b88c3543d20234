#!/usr/bin/env python3
"""Build lifecert's committed model files from pinned registry packages.

Run through build_models.sh (it sets up models/.venv). Steps:
  1. fetch PyPI mediapipe==0.10.21 (cp311 manylinux wheel) and npm @mediapipe/face_mesh@0.4.1657299874
     into models/.cache/ and verify their sha256 against the pins below;
  2. extract the two .tflite models from the wheel, convert each with
     `python -m tf2onnx.convert --tflite X.tflite --output X.onnx --opset 13`;
  3. canonicalise the ONNX file so reruns are byte-identical (tf2onnx names its folded constants
     differently from run to run: rename initializers in order of first use, fix the doc strings);
  4. extract geometry_pipeline_metadata_landmarks.binarypb from the npm pack, parse it with the wheel's
     generated geometry_pipeline_metadata_pb2 and write canonical_face.json;
  5. copy the Apache-2.0 licence text from the wheel to LICENSE.mediapipe;
  6. fetch PyPI silero-vad==6.2.3 (pure-Python wheel), verify it, byte-copy
     silero_vad/data/silero_vad_openvino_16k.onnx to silero_vad_16k.onnx and its MIT licence to
     LICENSE.silero-vad;
  7. fetch npm @vladmandic/face-api@1.7.15, verify it, read the dlib face-recognition ResNet weights
     (model/face_recognition_model.bin + weights manifest) and build dlib_face_descriptor.onnx with the
     onnx helper API from face-api.js's faceRecognitionNet architecture (no converter exists); copy the
     package's MIT licence to LICENSE.face-api;
  8. fetch PyPI resemblyzer==0.1.4 (pure-Python wheel), verify it, read the GE2E speaker encoder's weights
     from resemblyzer/pretrained.pt (PyTorch's legacy pickle format, read without torch) and build
     ge2e_speaker_encoder.onnx with the onnx helper API; copy the package's Apache-2.0 licence to
     LICENSE.resemblyzer; check the graph against a float64 NumPy LSTM (speaker_reference.py);
  9. print sha256 of everything written and compare with the pins (and, on a mismatch, numerically
     with the file that was there before).

--check builds into models/.cache/out/ and compares with the committed files without writing.
"""
import argparse
import collections
import hashlib
import io
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
WORK = CACHE / "work"

TF2ONNX_VERSION = "1.17.0"
OPSET = 13

WHEEL = {
    "spec": "mediapipe==0.10.21",
    "file": "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    "sha256": "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
}
NPM = {
    "spec": "@mediapipe/face_mesh@0.4.1657299874",
    "file": "mediapipe-face_mesh-0.4.1657299874.tgz",
    "sha256": "c08a7e0742a326285da666cf81d77c8b6f3a181a2ee948cadaf166008e0d3bc7",
}

SILERO_WHEEL = {
    "spec": "silero-vad==6.2.3",
    "file": "silero_vad-6.2.3-py3-none-any.whl",
    "sha256": "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8",
}
FACEAPI_NPM = {
    "spec": "@vladmandic/face-api@1.7.15",
    "file": "vladmandic-face-api-1.7.15.tgz",
    "sha256": "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
}

RESEMBLYZER_WHEEL = {
    "spec": "resemblyzer==0.1.4",
    "file": "Resemblyzer-0.1.4-py3-none-any.whl",
    "sha256": "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
}

# Files inside the wheel, with their sha256.
TFLITE = {
    "face_detection_short_range": (
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    "face_landmark": (
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
}

# The npm pack is an emscripten file package: one blob + a loader listing [start, end) per file.
NPM_BLOB = "package/face_mesh_solution_packed_assets.data"
NPM_LOADER = "package/face_mesh_solution_packed_assets_loader.js"
GEOMETRY_NAME = "/third_party/mediapipe/modules/face_geometry/data/geometry_pipeline_metadata_landmarks.binarypb"
GEOMETRY_RANGE = (3737848, 3757224)
GEOMETRY_SHA256 = "bdbcda96dfcb7da883da124aaa2c55dee49770d934f0fcc71747f8c21bdc75b4"
PB2_DIR = "mediapipe/modules/face_geometry/protos"

# Silero VAD: copied byte for byte (no conversion).
SILERO_MEMBER = ("silero_vad/data/silero_vad_openvino_16k.onnx",
                 "7776b81ad1b0350c15d7f1555943b9232eb53e9ca5d989c6d0cea9ebc8664d87")
SILERO_LICENSE = "silero_vad-6.2.3.dist-info/licenses/LICENSE"

# dlib face descriptor: weights in the face-api npm pack, with their sha256.
FACEAPI_BIN = ("package/model/face_recognition_model.bin",
               "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589")
FACEAPI_MANIFEST = ("package/model/face_recognition_model-weights_manifest.json",
                    "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b")
FACEAPI_LICENSE = "package/LICENSE"
DESCRIPTOR_OPSET = 13
DESCRIPTOR_IR_VERSION = 8
# face-api.js FaceRecognitionNet.forwardInput: normalize(x, meanRgb) / 256 (dlib's input_rgb_image does the
# same). NB: @vladmandic/face-api 1.7.x divides by 255 instead; we follow dlib and the original face-api.js.
DESCRIPTOR_MEAN_RGB = (122.782, 117.001, 104.298)
DESCRIPTOR_INPUT_DIVISOR = 256.0

# GE2E speaker encoder: weights in the Resemblyzer wheel, with their sha256.
SPEAKER_PT = ("resemblyzer/pretrained.pt", "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e")
SPEAKER_LICENSE = ("Resemblyzer-0.1.4.dist-info/LICENSE",
                   "835cbdc5bdc6c60fae874e544e7d5ba648d77d25ec72e4c2efc26b5fde0862c3")
SPEAKER_OPSET = 13
SPEAKER_IR_VERSION = 8
SPEAKER_FRAMES, SPEAKER_MELS, SPEAKER_HIDDEN, SPEAKER_LAYERS = 160, 40, 256, 3

# Expected I/O contract of the converted models: name -> (dtype, shape).
CONTRACT = {
    "face_detection_short_range": {
        "inputs": {"input": (1, [1, 128, 128, 3])},
        "outputs": {"regressors": (1, [1, 896, 16]), "classificators": (1, [1, 896, 1])},
    },
    "face_landmark": {
        "inputs": {"input_1": (1, [1, 192, 192, 3])},
        "outputs": {"conv2d_21": (1, [1, 1, 1, 1404]), "conv2d_31": (1, [1, 1, 1, 1])},
    },
    "silero_vad_16k": {
        "inputs": {"input": (1, [1, 576]), "state": (1, [2, 1, 128])},
        "outputs": {"output": (1, [1, 1]), "stateN": (1, [2, 1, 128])},
    },
    "dlib_face_descriptor": {
        "inputs": {"input": (1, ["N", 3, 150, 150])},
        "outputs": {"descriptor": (1, ["N", 128])},
    },
    "ge2e_speaker_encoder": {
        "inputs": {"mels": (1, ["N", 160, 40])},
        "outputs": {"embedding": (1, ["N", 256])},
    },
}

# sha256 of what this script writes (byte-reproducible with the pinned toolchain). MODELS.md's
# "## Checksums" table pins the committed files; these must agree with it.
OUTPUT_SHA256 = {
    "face_detection_short_range.onnx": "97fabf75d6cdf0878c161fe689fcf4a3a11b86784396e83d4a6f4aca0ab23000",
    "face_landmark.onnx": "51eb2748f6b52fcadcda82afc4a831e31c9571654254994a17160fb1a5fefd21",
    "canonical_face.json": "f69bf61b3aec29ed3bfc5941701379a6cb8da716b897e9d279edefcf8bafdad1",
    "LICENSE.mediapipe": "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4",
    "silero_vad_16k.onnx": "7776b81ad1b0350c15d7f1555943b9232eb53e9ca5d989c6d0cea9ebc8664d87",
    "LICENSE.silero-vad": "51c19c8be941a3fb00ccf58f0bf9053de9f7237a0b37327896eabad32dffe873",
    "dlib_face_descriptor.onnx": "439610710f1928b2ce191ce60faf3d7418291de67e796ff0ac4e734c6cee0c0c",
    "LICENSE.face-api": "9a3442b79acaf4fbc7c2e07b7e2d8f84af9bb3871bf08a69d80304ab00640e9a",
    "ge2e_speaker_encoder.onnx": "6765f2a72c228cd8d39d06569d43142edc67daf97ae346c0500087f8bcee661d",
    "LICENSE.resemblyzer": "835cbdc5bdc6c60fae874e544e7d5ba648d77d25ec72e4c2efc26b5fde0862c3",
}


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def die(msg):
    print(f"build_models: ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, **kw):
    print("  $ " + " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


# ---------------------------------------------------------------- fetch


def fetch():
    CACHE.mkdir(parents=True, exist_ok=True)
    whl = CACHE / WHEEL["file"]
    if not whl.exists():
        run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--python-version", "311", "--implementation", "cp", "--abi", "cp311",
             "--platform", "manylinux_2_28_x86_64", WHEEL["spec"], "-d", CACHE])
    silero = CACHE / SILERO_WHEEL["file"]
    rz = CACHE / RESEMBLYZER_WHEEL["file"]
    for pin, path in ((SILERO_WHEEL, silero), (RESEMBLYZER_WHEEL, rz)):
        if not path.exists():  # pure-Python wheels (py3-none-any)
            run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
                 "--only-binary=:all:", pin["spec"], "-d", CACHE])
    tgzs = []
    for pin in (NPM, FACEAPI_NPM):
        tgz = CACHE / pin["file"]
        if not tgz.exists():
            run(["npm", "pack", "--silent", pin["spec"], "--pack-destination", CACHE], stdout=subprocess.DEVNULL)
        tgzs.append(tgz)
    tgz, faceapi = tgzs
    for pin, path in ((WHEEL, whl), (NPM, tgz), (SILERO_WHEEL, silero), (FACEAPI_NPM, faceapi),
                      (RESEMBLYZER_WHEEL, rz)):
        if not path.exists():
            die(f"{pin['spec']}: expected {path} after download")
        got = sha256_file(path)
        if got != pin["sha256"]:
            die(f"sha256 mismatch for {path.name} ({pin['spec']}):\n  expected {pin['sha256']}\n  got      {got}\n"
                f"delete it and rerun; if the registry really serves different bytes, stop and investigate")
        print(f"ok  {path.name}  sha256 {got}")
    return whl, tgz, silero, faceapi, rz


# ---------------------------------------------------------------- ONNX


def canonicalise(model, tflite_member):
    """Make tf2onnx output byte-reproducible.

    tf2onnx's node order is stable from run to run, but the names it gives folded constants, some nodes
    and intermediate tensors are not (and the initializer order follows the names). Rename by position:
    initializers const_<i> in order of first use, node k -> <op_type>_<k>, its outputs t<k>[_<j>]. Graph
    input/output names are kept. Renaming changes nothing numerically.
    """
    g = model.graph
    keep = {v.name for v in list(g.input) + list(g.output)}
    inits = {t.name: t for t in g.initializer}
    if keep & set(inits):
        die("an initializer is also a graph input/output")
    rename, n_const = {}, 0
    for k, node in enumerate(g.node):
        for name in node.input:
            if name in inits and name not in rename:
                rename[name] = f"const_{n_const}"
                n_const += 1
        for j, name in enumerate(node.output):
            if name and name not in keep:
                rename[name] = f"t{k}_{j}" if len(node.output) > 1 else f"t{k}"
        node.name = f"{node.op_type}_{k}"
    for node in g.node:
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]
        for i, name in enumerate(node.output):
            if name in rename:
                node.output[i] = rename[name]
    unused = [n for n in inits if n not in rename]
    if unused:
        die(f"unused initializers: {unused[:5]}")
    new = []
    for old, t0 in sorted(inits.items(), key=lambda kv: int(rename[kv[0]].split("_")[1])):
        t = type(t0)()
        t.CopyFrom(t0)
        t.name = rename[old]
        new.append(t)
    del g.initializer[:]
    g.initializer.extend(new)
    del g.value_info[:]
    g.doc_string = f"converted from {WHEEL['spec']} {tflite_member} by tf2onnx {TF2ONNX_VERSION} (opset {OPSET})"
    return model


def io_summary(model):
    def one(v):
        tt = v.type.tensor_type
        return v.name, (tt.elem_type, [d.dim_value if d.HasField("dim_value") else d.dim_param for d in tt.shape.dim])
    return ({n: s for n, s in map(one, model.graph.input)}, {n: s for n, s in map(one, model.graph.output)})


def convert(whl, out_dir):
    import onnx

    written = {}
    with zipfile.ZipFile(whl) as z:
        for stem, (member, want) in TFLITE.items():
            wd = WORK / stem
            wd.mkdir(parents=True, exist_ok=True)
            data = z.read(member)
            if sha256_bytes(data) != want:
                die(f"{member} in {whl.name}: sha256 {sha256_bytes(data)} != pinned {want}")
            (wd / f"{stem}.tflite").write_bytes(data)
            raw = wd / f"{stem}.raw.onnx"
            if raw.exists():
                raw.unlink()
            log = wd / "tf2onnx.log"
            print(f"converting {member} ({len(data)} B) with tf2onnx {TF2ONNX_VERSION} ...", flush=True)
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
            with open(log, "w") as lf:
                r = subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--tflite", f"{stem}.tflite",
                                    "--output", raw.name, "--opset", str(OPSET)],
                                   cwd=wd, env=env, stdout=lf, stderr=subprocess.STDOUT)
            if r.returncode != 0 or not raw.exists():
                sys.stderr.write(log.read_text()[-4000:])
                die(f"tf2onnx failed for {stem} (log: {log})")
            model = canonicalise(onnx.load(str(raw)), member)
            onnx.checker.check_model(model)
            ins, outs = io_summary(model)
            want_c = CONTRACT[stem]
            got_c = {"inputs": {k: (t, s) for k, (t, s) in ins.items()},
                     "outputs": {k: (t, s) for k, (t, s) in outs.items()}}
            if got_c != want_c:
                die(f"{stem}: I/O contract changed:\n  got  {got_c}\n  want {want_c}")
            for kind, d in got_c.items():
                for name, (t, shape) in d.items():
                    print(f"    {kind[:-1]:6} {name:15} {onnx.TensorProto.DataType.Name(t).lower()} {shape}")
            b = model.SerializeToString(deterministic=True)
            dst = out_dir / f"{stem}.onnx"
            dst.write_bytes(b)
            written[dst.name] = dst
    return written


def max_abs_diff(a_path, b_path):
    """Run both ONNX files on the same seeded inputs; return {output: max|diff|}."""
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sa = ort.InferenceSession(str(a_path), so, providers=["CPUExecutionProvider"])
    sb = ort.InferenceSession(str(b_path), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.uniform(-1, 1, size=[d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)
             for i in sa.get_inputs()}
    ra = sa.run(None, feeds)
    rb = sb.run(None, feeds)
    return {o.name: float(np.max(np.abs(x - y))) for o, x, y in zip(sa.get_outputs(), ra, rb)}


# ---------------------------------------------------------------- canonical face


def load_pb2(whl):
    """Import the wheel's generated geometry_pipeline_metadata_pb2 without importing mediapipe itself."""
    root = WORK / "pb2"
    with zipfile.ZipFile(whl) as z:
        for name in ("mesh_3d_pb2.py", "geometry_pipeline_metadata_pb2.py"):
            dst = root / PB2_DIR / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(z.read(f"{PB2_DIR}/{name}"))
    parts = Path(PB2_DIR).parts
    for i in range(1, len(parts) + 1):  # empty packages: mediapipe/__init__.py would pull in the whole runtime
        (root.joinpath(*parts[:i]) / "__init__.py").write_text("")
    sys.path.insert(0, str(root))
    from mediapipe.modules.face_geometry.protos import geometry_pipeline_metadata_pb2 as gpm  # noqa: E402
    return gpm


def geometry_blob(whl, tgz):
    with zipfile.ZipFile(whl) as z:
        in_wheel = [n for n in z.namelist() if n.endswith("geometry_pipeline_metadata_landmarks.binarypb")]
    if in_wheel:
        print(f"note: the wheel also contains {in_wheel}")
    with tarfile.open(tgz) as t:
        loader = t.extractfile(NPM_LOADER).read().decode()
        blob = t.extractfile(NPM_BLOB).read()
    m = re.search(r'"filename":\s*"' + re.escape(GEOMETRY_NAME) + r'",\s*"start":\s*(\d+),\s*"end":\s*(\d+)', loader)
    if not m or (int(m.group(1)), int(m.group(2))) != GEOMETRY_RANGE:
        die(f"{NPM_LOADER} does not list {GEOMETRY_NAME} at {GEOMETRY_RANGE}")
    data = blob[GEOMETRY_RANGE[0]:GEOMETRY_RANGE[1]]
    if sha256_bytes(data) != GEOMETRY_SHA256:
        die(f"geometry binarypb sha256 {sha256_bytes(data)} != pinned {GEOMETRY_SHA256}")
    return data


def fnum(x):
    import numpy as np
    s = np.format_float_positional(np.float32(x), unique=True, trim="-")
    return "0" if s == "-0" else s


def canonical_face(whl, tgz, out_dir):
    import numpy as np

    gpm = load_pb2(whl)
    meta = gpm.GeometryPipelineMetadata()
    meta.ParseFromString(geometry_blob(whl, tgz))
    mesh = meta.canonical_mesh
    if mesh.vertex_type != 0:  # VERTEX_PT: x, y, z, u, v
        die(f"unexpected vertex_type {mesh.vertex_type}")
    vb = np.asarray(mesh.vertex_buffer, dtype=np.float32).reshape(-1, 5)
    if vb.shape[0] != 468:
        die(f"expected 468 vertices, got {vb.shape[0]}")
    xyz = vb[:, :3]
    basis = [(int(r.landmark_id), float(r.weight)) for r in meta.procrustes_landmark_basis]
    print(f"canonical face: {len(xyz)} vertices, {len(mesh.index_buffer)} triangle indices, "
          f"{len(basis)} procrustes weights, input_source={gpm.InputSource.Name(meta.input_source)}")
    for idx, want in ((1, (0, -1.127, 7.476)), (33, (-4.446, 2.664, 3.173)), (263, (4.446, 2.664, 3.173))):
        print(f"    vertex #{idx} = {tuple(round(float(v), 3) for v in xyz[idx])}")
        if np.max(np.abs(xyz[idx] - np.asarray(want, np.float32))) > 2e-3:
            die(f"vertex #{idx} {xyz[idx]} is not ~{want}")
    if len(basis) != 33:
        die(f"expected 33 procrustes weights, got {len(basis)}")

    source = (f"npm {NPM['spec']} ({NPM['file']}, sha256 {NPM['sha256']}): {NPM_BLOB} bytes "
              f"[{GEOMETRY_RANGE[0]}, {GEOMETRY_RANGE[1]}) = mediapipe/modules/face_geometry/data/"
              f"geometry_pipeline_metadata_landmarks.binarypb (sha256 {GEOMETRY_SHA256}); canonical_mesh "
              f"x,y,z (u,v and triangles dropped) and procrustes_landmark_basis, parsed with {WHEEL['spec']} "
              f"{PB2_DIR}/geometry_pipeline_metadata_pb2.py. Apache-2.0, see LICENSE.mediapipe")
    lines = ["{",
             f'  "source": {json.dumps(source)},',
             '  "units": "cm",',
             '  "vertices": [']
    lines += [f"    [{fnum(x)}, {fnum(y)}, {fnum(z)}]" + ("," if i < len(xyz) - 1 else "")
              for i, (x, y, z) in enumerate(xyz)]
    lines += ["  ],", '  "procrustes_landmark_basis": [']
    lines += [f"    [{i}, {fnum(w)}]" + ("," if k < len(basis) - 1 else "") for k, (i, w) in enumerate(basis)]
    lines += ["  ]", "}", ""]
    text = "\n".join(lines)
    parsed = json.loads(text)  # must round-trip
    assert len(parsed["vertices"]) == 468 and len(parsed["procrustes_landmark_basis"]) == 33
    dst = out_dir / "canonical_face.json"
    dst.write_text(text)
    return {dst.name: dst}


# ---------------------------------------------------------------- licence


def licence(whl, out_dir):
    with zipfile.ZipFile(whl) as z:
        text = z.read("mediapipe-0.10.21.dist-info/LICENSE").decode()
    # The wheel's LICENSE is the Apache-2.0 text followed by notices for third-party files we do not ship
    # (e.g. tasks/cc/text/.../utf). Keep the Apache-2.0 part only.
    cut = text.find("\n====")
    apache = (text[:cut] if cut >= 0 else text).rstrip() + "\n"
    if "Apache License" not in apache or "END OF TERMS AND CONDITIONS" not in apache:
        die("wheel LICENSE does not look like Apache-2.0")
    dst = out_dir / "LICENSE.mediapipe"
    dst.write_text(apache)
    return {dst.name: dst}


# ---------------------------------------------------------------- Silero VAD


def check_contract(stem, model):
    import onnx

    ins, outs = io_summary(model)
    got_c = {"inputs": ins, "outputs": outs}
    if got_c != CONTRACT[stem]:
        die(f"{stem}: I/O contract changed:\n  got  {got_c}\n  want {CONTRACT[stem]}")
    for kind, d in got_c.items():
        for name, (t, shape) in d.items():
            print(f"    {kind[:-1]:6} {name:15} {onnx.TensorProto.DataType.Name(t).lower()} {shape}")


def silero_vad(silero, out_dir):
    """Byte copy of the If-free 16 kHz Silero VAD v6 graph and the package's MIT licence."""
    import onnx

    member, want = SILERO_MEMBER
    with zipfile.ZipFile(silero) as z:
        data = z.read(member)
        lic = z.read(SILERO_LICENSE).decode()
    if sha256_bytes(data) != want:
        die(f"{member} in {silero.name}: sha256 {sha256_bytes(data)} != pinned {want}")
    if not lic.startswith("MIT License") or "Silero Team" not in lic:
        die(f"{SILERO_LICENSE} does not look like Silero's MIT licence")
    print(f"copying {member} ({len(data)} B) from {silero.name} unchanged")
    check_contract("silero_vad_16k", onnx.load_from_string(data))
    dst = out_dir / "silero_vad_16k.onnx"
    dst.write_bytes(data)
    dst_lic = out_dir / "LICENSE.silero-vad"
    dst_lic.write_text(lic.rstrip() + "\n")
    return {dst.name: dst, dst_lic.name: dst_lic}


# ---------------------------------------------------------------- dlib face descriptor


def faceapi_weights(faceapi):
    """{name: (kind, array, quant)} from the tfjs weights manifest + .bin, in manifest order.

    kind "u8": array holds the stored uint8 values q, quant = (scale, min), value = q * scale + min;
    kind "f32": array holds float32 values, quant None."""
    import numpy as np

    with tarfile.open(faceapi) as t:
        blobs = {}
        for member, want in (FACEAPI_BIN, FACEAPI_MANIFEST):
            blobs[member] = t.extractfile(member).read()
            if sha256_bytes(blobs[member]) != want:
                die(f"{member} in {faceapi.name}: sha256 {sha256_bytes(blobs[member])} != pinned {want}")
    manifest = json.loads(blobs[FACEAPI_MANIFEST[0]])
    binary = blobs[FACEAPI_BIN[0]]
    if len(manifest) != 1 or manifest[0]["paths"] != ["face_recognition_model.bin"]:
        die("unexpected weights manifest layout")
    out, off = {}, 0
    for w in manifest[0]["weights"]:
        shape, n = w["shape"], int(np.prod(w["shape"]))
        q = w.get("quantization")
        if w["dtype"] != "float32":
            die(f"{w['name']}: dtype {w['dtype']}")
        if q is None:
            a = np.frombuffer(binary, "<f4", n, off).reshape(shape)
            out[w["name"]] = ("f32", a, None)
            off += 4 * n
        elif q["dtype"] == "uint8":
            a = np.frombuffer(binary, np.uint8, n, off).reshape(shape)
            out[w["name"]] = ("u8", a, (float(q["scale"]), float(q["min"])))
            off += n
        else:
            die(f"{w['name']}: quantization {q}")
    if off != len(binary):
        die(f"weights manifest covers {off} B of {len(binary)} B")
    return out


def dequant(entry):
    """float64 value of a weight entry (tfjs dequantises in JS doubles: q * scale + min)."""
    import numpy as np

    kind, a, q = entry
    return a.astype(np.float64) * q[0] + q[1] if kind == "u8" else a.astype(np.float64)


# face-api.js FaceRecognitionNet.forwardInput, layer by layer: (weight prefix, kind, output channels).
DESCRIPTOR_LAYERS = [
    ("conv32_down", "convDown", 32), ("maxpool", "maxpool", 32),
    ("conv32_1", "res", 32), ("conv32_2", "res", 32), ("conv32_3", "res", 32),
    ("conv64_down", "resDown", 64), ("conv64_1", "res", 64), ("conv64_2", "res", 64), ("conv64_3", "res", 64),
    ("conv128_down", "resDown", 128), ("conv128_1", "res", 128), ("conv128_2", "res", 128),
    ("conv256_down", "resDown", 256), ("conv256_1", "res", 256), ("conv256_2", "res", 256),
    ("conv256_down_out", "resDown", 256),
]


def build_descriptor_model(weights):
    """face-api.js faceRecognitionNet (= dlib_face_recognition_resnet_model_v1) as an ONNX graph, NCHW.

    Every conv is `conv2d -> + bias -> scale layer (x * weights + biases) [-> relu]`; the scale layer is
    folded into the conv: W'[o] = W[o] * sw[o], b'[o] = b[o] * sw[o] + sb[o]. A uint8-quantised filter stays
    uint8 in the file and is dequantised in-graph with the scale folded per output channel:
    W' = Cast(q) * (scale * sw)[o] + (min * sw)[o]; float32 filters are folded at build time. Names are
    derived from the face-api weight names, so the output is deterministic.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    used = set()
    nodes, inits = [], []

    def const(name, arr):
        assert name not in used, name
        used.add(name)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op, inputs, out, **attrs):
        assert out not in used, out
        used.add(out)
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def f32(a):
        return np.asarray(a, np.float64).astype(np.float32)

    def conv(x, prefix, stride, same, relu):
        kind, filt, q = weights[f"{prefix}/conv/filters"]
        sw = dequant(weights[f"{prefix}/scale/weights"])
        sb = dequant(weights[f"{prefix}/scale/biases"])
        b = dequant(weights[f"{prefix}/conv/bias"])
        kh, kw, cin, cout = filt.shape
        oihw = np.transpose(filt, (3, 2, 0, 1))
        if kind == "u8":
            qw = const(f"{prefix}/filters_u8", oihw)
            w = node("Cast", [qw], f"{prefix}/filters_cast", to=TensorProto.FLOAT)
            w = node("Mul", [w, const(f"{prefix}/filters_scale", f32(q[0] * sw).reshape(cout, 1, 1, 1))],
                     f"{prefix}/filters_mul")
            w = node("Add", [w, const(f"{prefix}/filters_offset", f32(q[1] * sw).reshape(cout, 1, 1, 1))],
                     f"{prefix}/filters")
        else:
            w = const(f"{prefix}/filters", f32(oihw.astype(np.float64) * sw.reshape(cout, 1, 1, 1)))
        bias = const(f"{prefix}/bias", f32(b * sw + sb))
        p = (kh // 2) if same else 0
        y = node("Conv", [x, w, bias], f"{prefix}/conv", kernel_shape=[kh, kw], strides=[stride, stride],
                 pads=[p, p, p, p], dilations=[1, 1], group=1)
        return node("Relu", [y], f"{prefix}/relu") if relu else y

    def pads(name, values):
        return const(name, np.asarray(values, np.int64))

    x = node("Sub", ["input", const("input_mean", f32(DESCRIPTOR_MEAN_RGB).reshape(1, 3, 1, 1))], "input_centred")
    x = node("Mul", [x, const("input_scale", f32(1.0 / DESCRIPTOR_INPUT_DIVISOR))], "input_normalised")
    size, chans = 150, 3
    for prefix, kind, cout in DESCRIPTOR_LAYERS:
        if kind == "convDown":  # 7x7 / 2, TF 'valid'
            x = conv(x, prefix, 2, False, True)
            size = (size - 7) // 2 + 1
        elif kind == "maxpool":  # tf.maxPool(x, 3, 2, 'valid')
            x = node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 0, 0])
            size = (size - 3) // 2 + 1
        elif kind == "res":
            y = conv(x, f"{prefix}/conv1", 1, True, True)
            y = conv(y, f"{prefix}/conv2", 1, True, False)
            y = node("Add", [y, x], f"{prefix}/add")
            x = node("Relu", [y], f"{prefix}/out")
        else:  # resDown
            y = conv(x, f"{prefix}/conv1", 2, False, True)  # 3x3 / 2, TF 'valid'
            y = conv(y, f"{prefix}/conv2", 1, True, False)
            y_size = (size - 3) // 2 + 1
            pooled = node("AveragePool", [x], f"{prefix}/avgpool", kernel_shape=[2, 2], strides=[2, 2],
                          pads=[0, 0, 0, 0])
            p_size = size // 2
            if y_size != p_size:  # face-api concatenates one row of zeros at the bottom and one column at the right
                assert p_size == y_size + 1, (prefix, size)
                y = node("Pad", [y, pads(f"{prefix}/pad_hw_pads", [0, 0, 0, 0, 0, 0, 1, 1])], f"{prefix}/pad_hw")
            if cout != chans:  # ... and zero channels after the pooled shortcut
                pooled = node("Pad", [pooled, pads(f"{prefix}/pad_c_pads", [0, 0, 0, 0, 0, cout - chans, 0, 0])],
                              f"{prefix}/pad_c")
            y = node("Add", [pooled, y], f"{prefix}/add")
            x = node("Relu", [y], f"{prefix}/out")
            size = p_size
        chans = cout
    assert (size, chans) == (2, 256), (size, chans)
    x = node("ReduceMean", [x], "global_avg", axes=[2, 3], keepdims=0)
    kind, fc, q = weights["fc"]
    assert kind == "u8" and fc.shape == (256, 128)
    w = node("Cast", [const("fc/weights_u8", fc)], "fc/weights_cast", to=TensorProto.FLOAT)
    w = node("Mul", [w, const("fc/weights_scale", f32(q[0]))], "fc/weights_mul")
    w = node("Add", [w, const("fc/weights_offset", f32(q[1]))], "fc/weights")
    nodes.append(helper.make_node("MatMul", [x, w], ["descriptor"], name="fc"))

    n_expected = 29 * 4 + 1
    n_used = sum(1 for k in weights if k == "fc" or any(k.startswith(p + "/") for p, _, _ in DESCRIPTOR_LAYERS))
    if len(weights) != n_expected or n_used != n_expected:
        die(f"expected {n_expected} weight tensors, manifest has {len(weights)} ({n_used} used)")

    graph = helper.make_graph(
        nodes, "dlib_face_descriptor",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 150, 150])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", 128])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", DESCRIPTOR_OPSET)],
                              ir_version=DESCRIPTOR_IR_VERSION, producer_name="lifecert models/build_models.py")
    model.doc_string = (
        f"dlib_face_recognition_resnet_model_v1 (Davis King, public domain) as ported to TensorFlow.js by "
        f"face-api.js (MIT); weights {FACEAPI_BIN[0][len('package/'):]} from npm {FACEAPI_NPM['spec']}. "
        f"Input: RGB 0..255, NCHW [N,3,150,150] face chip; output: 128-d descriptor (euclidean distance).")
    onnx.checker.check_model(model, full_check=True)
    return model


def dlib_descriptor(faceapi, out_dir):
    weights = faceapi_weights(faceapi)
    n_u8 = sum(1 for k, _, _ in weights.values() if k == "u8")
    print(f"building dlib face descriptor from {FACEAPI_NPM['spec']} {FACEAPI_BIN[0]}: {len(weights)} tensors "
          f"({n_u8} uint8-affine, {len(weights) - n_u8} float32)")
    model = build_descriptor_model(weights)
    check_contract("dlib_face_descriptor", model)
    dst = out_dir / "dlib_face_descriptor.onnx"
    dst.write_bytes(model.SerializeToString(deterministic=True))
    with tarfile.open(faceapi) as t:
        lic = t.extractfile(FACEAPI_LICENSE).read().decode()
    if not lic.startswith("MIT License"):
        die(f"{FACEAPI_LICENSE} in {faceapi.name} is not an MIT licence")
    dst_lic = out_dir / "LICENSE.face-api"
    dst_lic.write_text(lic.rstrip() + "\n")
    return {dst.name: dst, dst_lic.name: dst_lic}


# ---------------------------------------------------------------- GE2E speaker encoder


# PyTorch's legacy serialisation (torch.save before 1.6, or _use_new_zipfile_serialization=False):
#   pickle(magic) pickle(protocol 1001) pickle(sys_info) pickle(object; tensors refer to storages through
#   persistent ids ("storage", type, key, location, numel, view)) pickle([storage keys]) and then, per key
#   in that order, an int64 element count followed by the storage's raw little-endian elements.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "LongStorage": "<i8", "IntStorage": "<i4"}


class _TorchStorage:
    def __init__(self, dtype, numel):
        self.dtype, self.numel, self.data = dtype, numel, None


class _TorchTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def numpy(self):
        import numpy as np

        d = self.storage.data
        return np.lib.stride_tricks.as_strided(d[self.offset:], self.size, [s * d.itemsize for s in self.stride]).copy()


class _LegacyTorchUnpickler(pickle.Unpickler):
    """Unpickles a legacy torch checkpoint without torch: only OrderedDict, float/int storages and
    torch._utils._rebuild_tensor_v2 may be named; anything else is refused (no code runs)."""

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_: _TorchTensor(storage, offset, size, stride)
        if module == "torch" and name in TORCH_STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel, view = pid
        if kind != "storage" or view is not None or storage_type not in TORCH_STORAGE_DTYPES:
            raise pickle.UnpicklingError(f"unsupported persistent id {pid}")
        if key not in self.storages:
            self.storages[key] = _TorchStorage(TORCH_STORAGE_DTYPES[storage_type], numel)
        return self.storages[key]


def load_legacy_torch(data):
    """The object of a legacy-format torch.save file, tensors as _TorchTensor (call .numpy())."""
    import numpy as np

    f = io.BytesIO(data)
    if pickle.load(f) != TORCH_LEGACY_MAGIC:
        die("not a legacy torch checkpoint (magic number)")
    if pickle.load(f) != 1001:
        die("unsupported torch protocol version")
    info = pickle.load(f)
    if not info.get("little_endian"):
        die(f"big-endian checkpoint: {info}")
    storages = {}
    obj = _LegacyTorchUnpickler(f, storages).load()
    keys = pickle.load(f)
    if sorted(keys) != sorted(storages):
        die("storage keys do not match the pickled object")
    for key in keys:
        st = storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        if numel != st.numel:
            die(f"storage {key}: {numel} elements, pickle said {st.numel}")
        nbytes = numel * np.dtype(st.dtype).itemsize
        st.data = np.frombuffer(f.read(nbytes), st.dtype)
        if st.data.size != numel:
            die(f"storage {key} truncated")
    if f.read(1):
        die("trailing bytes after the last storage")
    return obj


def resemblyzer_state(rz):
    """{name: float32 array} of the encoder's model_state (pretrained.pt also holds Adam state, ignored)."""
    import numpy as np

    with zipfile.ZipFile(rz) as z:
        data = z.read(SPEAKER_PT[0])
    if sha256_bytes(data) != SPEAKER_PT[1]:
        die(f"{SPEAKER_PT[0]} in {rz.name}: sha256 {sha256_bytes(data)} != pinned {SPEAKER_PT[1]}")
    ckpt = load_legacy_torch(data)
    state = {k: v.numpy() for k, v in ckpt["model_state"].items()}
    want = {"linear.weight": (SPEAKER_HIDDEN, SPEAKER_HIDDEN), "linear.bias": (SPEAKER_HIDDEN,),
            "similarity_weight": (1,), "similarity_bias": (1,)}
    for layer in range(SPEAKER_LAYERS):
        n_in = SPEAKER_MELS if layer == 0 else SPEAKER_HIDDEN
        want[f"lstm.weight_ih_l{layer}"] = (4 * SPEAKER_HIDDEN, n_in)
        want[f"lstm.weight_hh_l{layer}"] = (4 * SPEAKER_HIDDEN, SPEAKER_HIDDEN)
        want[f"lstm.bias_ih_l{layer}"] = (4 * SPEAKER_HIDDEN,)
        want[f"lstm.bias_hh_l{layer}"] = (4 * SPEAKER_HIDDEN,)
    got = {k: v.shape for k, v in state.items()}
    if got != want or any(v.dtype != np.float32 or not np.all(np.isfinite(v)) for v in state.values()):
        die(f"unexpected model_state: {got}")
    return state


def build_speaker_model(state):
    """Resemblyzer's VoiceEncoder as ONNX: mels [N, 160, 40] -> 3 LSTM layers (256) -> last hidden state of
    the last layer -> Linear 256 -> ReLU -> L2 normalisation -> embedding [N, 256].

    ONNX's LSTM takes [seq, batch, input] and its gates in the order i, o, f, c where PyTorch stores
    i, f, g(=c), o: the four 256-row blocks of each weight and bias are reordered (0, 3, 1, 2). Both
    PyTorch biases are kept (ONNX B = [Wb, Rb]). Initial states are zero in both."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op, inputs, outputs, **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0] or outputs[-1], **attrs))
        return outputs[0] or outputs[-1]

    def gates(a):  # PyTorch (i, f, g, o) -> ONNX (i, o, f, c) along axis 0
        i, f, g, o = np.split(a, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    x = node("Transpose", ["mels"], ["frames_first"], perm=[1, 0, 2])  # [160, N, 40]
    for layer in range(SPEAKER_LAYERS):
        w = const(f"lstm{layer}/W", gates(state[f"lstm.weight_ih_l{layer}"])[None])
        r = const(f"lstm{layer}/R", gates(state[f"lstm.weight_hh_l{layer}"])[None])
        b = const(f"lstm{layer}/B", np.concatenate([gates(state[f"lstm.bias_ih_l{layer}"]),
                                                    gates(state[f"lstm.bias_hh_l{layer}"])])[None])
        last = layer == SPEAKER_LAYERS - 1
        outs = ["", f"lstm{layer}/Y_h"] if last else [f"lstm{layer}/Y"]
        y = node("LSTM", [x, w, r, b], outs, hidden_size=SPEAKER_HIDDEN, direction="forward")
        # Y [160, 1, N, 256] -> [160, N, 256]; Y_h [1, N, 256] -> [N, 256]
        x = node("Squeeze", [y, const(f"lstm{layer}/squeeze_axes", np.asarray([0 if last else 1], np.int64))],
                 [f"lstm{layer}/out"])
    x = node("Gemm", [x, const("linear/weight", state["linear.weight"]), const("linear/bias", state["linear.bias"])],
             ["linear"], transB=1)
    x = node("Relu", [x], ["relu"])
    n2 = node("ReduceSumSquare", [x], ["norm_squared"], axes=[1], keepdims=1)
    n = node("Sqrt", [n2], ["norm"])
    nodes.append(helper.make_node("Div", [x, n], ["embedding"], name="l2_normalise"))

    graph = helper.make_graph(
        nodes, "ge2e_speaker_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["N", SPEAKER_FRAMES, SPEAKER_MELS])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", SPEAKER_HIDDEN])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", SPEAKER_OPSET)],
                              ir_version=SPEAKER_IR_VERSION, producer_name="lifecert models/build_models.py")
    model.doc_string = (
        f"GE2E speaker encoder (Resemblyzer VoiceEncoder, Copyright 2019 Resemble.AI, Apache-2.0); weights "
        f"{SPEAKER_PT[0]} from PyPI {RESEMBLYZER_WHEEL['spec']}. Input: power mel spectrogram windows "
        f"[N,160,40] (16 kHz, n_fft 400, hop 160, Slaney mel, not log); output: L2-normalised embedding [N,256] "
        f"(cosine similarity).")
    onnx.checker.check_model(model, full_check=True)
    return model


def ge2e_speaker(rz, out_dir):
    import numpy as np
    import onnxruntime as ort

    sys.path.insert(0, str(HERE))
    import speaker_reference  # noqa: E402

    state = resemblyzer_state(rz)
    n_params = sum(int(v.size) for k, v in state.items() if not k.startswith("similarity_"))
    print(f"building GE2E speaker encoder from {RESEMBLYZER_WHEEL['spec']} {SPEAKER_PT[0]}: "
          f"{n_params:,} parameters")
    model = build_speaker_model(state)
    check_contract("ge2e_speaker_encoder", model)
    data = model.SerializeToString(deterministic=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    mels = rng.uniform(0, 3, (2, SPEAKER_FRAMES, SPEAKER_MELS)).astype(np.float32)
    diff = float(np.max(np.abs(sess.run(None, {"mels": mels})[0] - speaker_reference.network(state, mels))))
    print(f"    onnxruntime vs NumPy float64 LSTM (PyTorch gate order), seeded input: max|diff| {diff:.3g}")
    if diff > 1e-5:
        die("ge2e_speaker_encoder.onnx does not reproduce the reference network")
    dst = out_dir / "ge2e_speaker_encoder.onnx"
    dst.write_bytes(data)
    with zipfile.ZipFile(rz) as z:
        lic = z.read(SPEAKER_LICENSE[0])
    if sha256_bytes(lic) != SPEAKER_LICENSE[1] or b"Apache License" not in lic:
        die(f"{SPEAKER_LICENSE[0]} in {rz.name} is not the pinned Apache-2.0 text")
    dst_lic = out_dir / "LICENSE.resemblyzer"
    dst_lic.write_bytes(lic)
    return {dst.name: dst, dst_lic.name: dst_lic}


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true",
                    help="build into models/.cache/out and compare with the committed files; write nothing in models/")
    args = ap.parse_args()

    out_dir = CACHE / "out" if args.check else HERE
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = {}  # write mode: keep the old bytes to report what changed
    if not args.check:
        for name in OUTPUT_SHA256:
            p = HERE / name
            if p.exists():
                bak = CACHE / "previous" / name
                bak.parent.mkdir(parents=True, exist_ok=True)
                bak.write_bytes(p.read_bytes())
                previous[name] = bak

    whl, tgz, silero, faceapi, rz = fetch()
    written = {}
    written.update(convert(whl, out_dir))
    written.update(canonical_face(whl, tgz, out_dir))
    written.update(licence(whl, out_dir))
    written.update(silero_vad(silero, out_dir))
    written.update(dlib_descriptor(faceapi, out_dir))
    written.update(ge2e_speaker(rz, out_dir))

    print("\nresult:")
    bad = False
    for name, path in written.items():
        got = sha256_file(path)
        pin = OUTPUT_SHA256.get(name)
        status = "matches pin" if got == pin else f"DIFFERS from pin {pin}"
        print(f"  {name:34} sha256 {got}  {status}")
        bad |= got != pin
        # --check: compare with the committed file; write mode: with the file this run replaced.
        other = (HERE / name) if args.check else previous.get(name)
        label = "committed" if args.check else "replaced"
        if other is None or not other.exists():
            print(f"    {label} file: none")
            bad |= args.check
        elif sha256_file(other) == got:
            print(f"    {label} file: identical")
        else:
            print(f"    {label} file: differs (sha256 {sha256_file(other)})")
            bad |= args.check
            if name.endswith(".onnx"):
                diffs = max_abs_diff(path, other)
                print(f"    max|diff| vs {label} file: " + ", ".join(f"{k}={v:.3g}" for k, v in diffs.items()))
    if bad:
        print("\nbuild_models: output differs from the pinned sha256 or the committed file (toolchain drift?). "
              "If the new files are intended, update OUTPUT_SHA256 here and the ## Checksums table in MODELS.md.",
              file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
