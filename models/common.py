"""Shared helpers for check_models.py and bench_onnxruntime.py (numpy + Pillow + onnxruntime).

Pre-processing and BlazeFace decode as MediaPipe does it; see MODELS.md for the contract.
"""
import math
import os
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"
DEFAULT_IMAGE = SHARED / "data" / "hard_cases" / "public_domain" / "skimage_astronaut.png"


def test_image_path():
    return Path(os.environ.get("LIFECERT_TEST_IMAGE", DEFAULT_IMAGE))


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def ort_session(path, threads=1):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = threads
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------- detector


def letterbox(rgb, size=128):
    """Resize keeping aspect ratio, centred on black. Returns (uint8 [size,size,3], scale, pad_x, pad_y)
    with image_px = (letterbox_px - pad) / scale."""
    h, w = rgb.shape[:2]
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.BILINEAR))
    out = np.zeros((size, size, 3), np.uint8)
    px, py = (size - nw) // 2, (size - nh) // 2
    out[py:py + nh, px:px + nw] = small
    return out, scale, px, py


def detector_input(rgb):
    """[1,128,128,3] float32 NHWC in [-1,1]."""
    lb, scale, px, py = letterbox(rgb, 128)
    return (lb.astype(np.float32) / 127.5 - 1.0)[None], (scale, px, py)


def blazeface_anchors():
    """896 anchor centres (x, y) in [0,1]: strides 8,16,16,16, 2 anchors per cell per layer, fixed size."""
    anchors = []
    strides = [8, 16, 16, 16]
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        n = 0
        while layer < len(strides) and strides[layer] == stride:  # layers with equal stride share the grid
            n += 2
            layer += 1
        fm = math.ceil(128 / stride)
        for y in range(fm):
            for x in range(fm):
                for _ in range(n):
                    anchors.append(((x + 0.5) / fm, (y + 0.5) / fm))
    a = np.asarray(anchors, np.float32)
    assert a.shape == (896, 2)
    return a


def decode_blazeface(regressors, classificators, min_score=0.5, iou=0.3):
    """regressors [1,896,16], classificators [1,896,1] -> list of detections in letterbox-normalised
    coordinates: dict(score, box=(xmin,ymin,xmax,ymax), keypoints [6,2]). Weighted NMS as MediaPipe."""
    anchors = blazeface_anchors()
    r = regressors.reshape(896, 16) / 128.0
    scores = 1.0 / (1.0 + np.exp(-np.clip(classificators.reshape(896).astype(np.float64), -100.0, 100.0)))
    cx = r[:, 0] + anchors[:, 0]
    cy = r[:, 1] + anchors[:, 1]
    w, h = r[:, 2], r[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    kps = r[:, 4:].reshape(896, 6, 2) + anchors[:, None, :]

    idx = [i for i in np.argsort(-scores) if scores[i] >= min_score]
    dets = []
    while idx:
        best = idx[0]
        b = boxes[best]
        ious = []
        for j in idx:
            o = boxes[j]
            iw = max(0.0, min(b[2], o[2]) - max(b[0], o[0]))
            ih = max(0.0, min(b[3], o[3]) - max(b[1], o[1]))
            inter = iw * ih
            union = (b[2] - b[0]) * (b[3] - b[1]) + (o[2] - o[0]) * (o[3] - o[1]) - inter
            ious.append(inter / union if union > 0 else 0.0)
        group = [j for j, v in zip(idx, ious) if v > iou]
        wts = scores[group][:, None]
        dets.append({
            "score": float(scores[best]),
            "box": tuple(float(v) for v in (boxes[group] * wts).sum(0) / wts.sum()),
            "keypoints": (kps[group] * wts[:, :, None]).sum(0) / wts.sum(),
        })
        idx = [j for j in idx if j not in group]
    return dets


def to_image_px(xy_norm, lb):
    """letterbox-normalised [..,2] -> image px, lb = (scale, pad_x, pad_y) from detector_input."""
    scale, px, py = lb
    xy = np.asarray(xy_norm, np.float64) * 128.0
    return (xy - np.array([px, py])) / scale


# ---------------------------------------------------------------- landmarks


def face_roi(det, lb):
    """MediaPipe's face-landmark ROI from a detection: centre of the box, rotated so eye 0 -> eye 1 is
    horizontal, side = long box side x 1.5. Returns (centre_xy, side_px, angle_rad) in image px."""
    x0, y0 = to_image_px(det["box"][:2], lb)
    x1, y1 = to_image_px(det["box"][2:], lb)
    kp = to_image_px(det["keypoints"], lb)
    angle = math.atan2(kp[1, 1] - kp[0, 1], kp[1, 0] - kp[0, 0])
    side = max(x1 - x0, y1 - y0) * 1.5
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2]), side, angle


def roi_matrix(centre, side, angle, size=192):
    """2x3 affine: crop px (u, v) -> image px."""
    c, s = math.cos(angle), math.sin(angle)
    k = side / size
    # image = centre + k * R(angle) @ ((u, v) - size/2)
    a, b, d, e = k * c, -k * s, k * s, k * c
    tx = centre[0] - (a * size / 2 + b * size / 2)
    ty = centre[1] - (d * size / 2 + e * size / 2)
    return np.array([[a, b, tx], [d, e, ty]])


def landmark_input(rgb, centre, side, angle):
    """[1,192,192,3] float32 NHWC in [0,1] and the crop->image affine."""
    m = roi_matrix(centre, side, angle)
    crop = Image.fromarray(rgb).transform((192, 192), Image.AFFINE, tuple(m.reshape(-1)), resample=Image.BILINEAR)
    return (np.asarray(crop, np.float32) / 255.0)[None], m


# ---------------------------------------------------------------- face descriptor

DESCRIPTOR_REFERENCE = "dlib_face_descriptor_uint8.onnx"
FACES_IDENTITY = SHARED / "data" / "faces_identity"


def descriptor_input(rgb_chips):
    """150x150 RGB uint8 chips (list or [N,150,150,3]) -> [N,3,150,150] float32 NCHW, raw 0..255."""
    x = np.stack([np.asarray(c) for c in rgb_chips]).astype(np.float32)
    assert x.shape[1:] == (150, 150, 3), x.shape
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def box_face_chip(rgb, det, lb, size=150, margin=1.3):
    """A 150x150 chip from a BlazeFace detection: square of side long-box-side x margin about the box centre,
    rotated so the eyes are horizontal, bilinear. For checks only -- dlib itself aligns on 5 landmarks."""
    centre, side, angle = face_roi(det, lb)
    m = roi_matrix(centre, side / 1.5 * margin, angle, size)
    return np.asarray(Image.fromarray(rgb).transform((size, size), Image.AFFINE, tuple(m.reshape(-1)),
                                                     resample=Image.BILINEAR))


# ---------------------------------------------------------------- voice activity (Silero VAD)

VAD_DIR = SHARED / "data" / "audio" / "vad"
VAD_CHUNK, VAD_CONTEXT = 512, 64


def read_wav_16k(path):
    """Mono 16-bit 16 kHz wav -> float32 samples in [-1, 1) (int16 / 32768)."""
    import wave

    with wave.open(str(path)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
            raise ValueError(f"{path}: need 16 kHz mono s16, got {w.getframerate()} Hz x{w.getnchannels()} "
                             f"{8 * w.getsampwidth()}-bit")
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


def vad_stream(samples):
    """Yield the 512-sample chunks of `samples`, the last one zero-padded."""
    n = -(-len(samples) // VAD_CHUNK)
    x = np.zeros(n * VAD_CHUNK, np.float32)
    x[:len(samples)] = samples
    for i in range(n):
        yield x[i * VAD_CHUNK:(i + 1) * VAD_CHUNK]


def vad_probs(sess, samples, upto=None):
    """Run silero_vad_16k.onnx over a whole signal: input [1,576] = previous 64 samples (zeros at the start)
    + 512 new ones, state [2,1,128] zero at the start and carried. Returns (probs, last feeds)."""
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros(VAD_CONTEXT, np.float32)
    probs, feeds = [], None
    for k, chunk in enumerate(vad_stream(samples)):
        if upto is not None and k >= upto:
            break
        feeds = {"input": np.concatenate([context, chunk])[None], "state": state}
        p, state = sess.run(["output", "stateN"], feeds)
        probs.append(float(p.reshape(())))
        context = chunk[-VAD_CONTEXT:]
    return np.asarray(probs), feeds
