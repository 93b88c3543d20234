#!/usr/bin/env python3
"""Makes the GRID samples of the README's demo from the shared evaluation data (run once; the
outputs are committed under samples/grid_a/, attribution in samples/README.md).

GRID speaker s1 ("speaker A" of the shared data, CC BY 4.0) says one digit per sentence, with
word timings in the .align files. From his clips this cuts, with ffmpeg:

* enroll.mp4            one whole clip (his face, for `lifecert enroll --video`);
* voice.mp4            three other sentences, sound only (`enroll --voice`);
* digits_0_to_9.mp4    his digit words 0 1 2 ... 9 with pauses, sound only (`enroll --voice-digits`);
* answer_258.mp4       video and sound: his resting face while a phone would speak the prompt,
                       then his own words "two", "five", "eight" with resting pauses between
                       (`certify --challenge 258 --prompt-end 1.6`).

Usage: python3 samples/make_grid_samples.py [DATA_DIR]   (default: $LIFECERT_EVAL_DATA or ../shared/data)
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

FPS = 25
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "samples" / "grid_a"
# Encoding: small, deterministic enough to rebuild; 16 kHz mono AAC as a phone records.
VIDEO = ["-c:v", "libx264", "-preset", "veryslow", "-crf", "28", "-pix_fmt", "yuv420p",
         "-g", "25", "-bf", "0", "-map_metadata", "-1", "-fflags", "+bitexact",
         "-flags:v", "+bitexact"]
AUDIO = ["-c:a", "aac", "-b:a", "32k", "-ar", "16000", "-ac", "1", "-flags:a", "+bitexact"]


def words(align):
    """(word, first frame, end frame) of an .align file (units of 1/25000 s = 1/1000 frame)."""
    out = []
    for line in align.read_text().split("\n"):
        if line.strip():
            a, b, w = line.split()
            out.append((w, round(int(a) / 1000), round(int(b) / 1000)))
    return out


def clip_with(clips, word):
    for path, ws in clips:
        for w, a, b in ws:
            if w == word:
                return path, a, b
    raise SystemExit(f"no clip says {word!r}")


def leading_rest(clips, path):
    """The silent frames before the first word of `path`."""
    ws = dict((p, w) for p, w in clips)[path]
    return ws[0][1], ws[0][2]  # 'sil' segment


def run(args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def segments_to(out, segs, with_video=True):
    """Concatenates (path, first frame, end frame, reverse) segments of video and sound."""
    inputs, parts, labels = [], [], []
    for i, (path, a, b, rev) in enumerate(segs):
        inputs += ["-i", str(path)]
        t0, t1 = a / FPS, b / FPS
        v = f"[{i}:v]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS"
        s = f"[{i}:a]atrim=start={t0}:end={t1},asetpts=PTS-STARTPTS,aformat=sample_rates=16000:channel_layouts=mono"
        if rev:
            v += ",reverse"
            s += ",areverse"
        if with_video:
            parts.append(f"{v}[v{i}]")
            labels.append(f"[v{i}]")
        parts.append(f"{s}[a{i}]")
        labels.append(f"[a{i}]")
    n = len(segs)
    parts.append("".join(labels) + f"concat=n={n}:v={1 if with_video else 0}:a=1" +
                 ("[v][a]" if with_video else "[a]"))
    maps = (["-map", "[v]"] if with_video else []) + ["-map", "[a]"]
    run([*inputs, "-filter_complex", ";".join(parts), *maps,
         *(VIDEO if with_video else ["-vn"]), *AUDIO, str(out)])


def main():
    data = Path(sys.argv[1] if len(sys.argv) > 1 else
                os.environ.get("LIFECERT_EVAL_DATA", ROOT / ".." / "shared" / "data"))
    s1 = data / "video_talking" / "grid_s1"
    clips = [(p.with_suffix(".mpg"), words(p)) for p in sorted(s1.glob("*.align"))]
    if len(clips) < 10:
        raise SystemExit(f"expected GRID speaker s1's clips in {s1}")
    OUT.mkdir(parents=True, exist_ok=True)
    by_name = {p.stem: p for p, _ in clips}
    digit_words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    # The face for enrollment: one whole clip, re-encoded.
    enroll = by_name["grid_s1_bgaa7s"]
    run(["-i", str(enroll), *VIDEO, *AUDIO, str(OUT / "enroll.mp4")])

    # Free speech for the voice print: three other sentences, sound only.
    voice = [by_name[n] for n in ("grid_s1_bwaa3a", "grid_s1_lbad9a", "grid_s1_prac6n")]
    segments_to(OUT / "voice.mp4", [(p, 0, 75, False) for p in voice], with_video=False)

    # Reading 0-9: each digit word with 0.45 s of its own clip's leading silence before it.
    segs = []
    for w in digit_words:
        path, a, b = clip_with(clips, w)
        r0, r1 = leading_rest(clips, path)
        segs.append((path, max(r0, r1 - 11), r1, False))
        segs.append((path, a, b, False))
    segs.append((path, 0, 0 + 12, False))
    segments_to(OUT / "digits_0_to_9.mp4", segs, with_video=False)

    # The answer "2 5 8": resting face for the prompt (1.6 s: the leading silence played
    # forwards, backwards, forwards), then each word with a resting pause before it.
    first, a2, b2 = clip_with(clips, "two")
    r0, r1 = leading_rest(clips, first)
    rest = (first, r0, r1, False)
    lead = [rest, (first, r0, r1, True), rest, (first, r0, r1, True)]
    total = sum(b - a for _, a, b, _ in lead)
    segs = list(lead)
    # Trim the lead-in to exactly 40 frames (1.6 s).
    excess = total - 40
    if excess > 0:
        p, a, b, rev = segs[-1]
        segs[-1] = (p, a, b - excess, rev)
    segs.append((first, a2, b2, False))
    for w in ("five", "eight"):
        path, a, b = clip_with(clips, w)
        q0, q1 = leading_rest(clips, path)
        segs.append((path, max(q0, q1 - 12), q1, False))
        segs.append((path, a, b, False))
    q0, q1 = leading_rest(clips, first)
    segs.append((first, q0, q1, False))
    segments_to(OUT / "answer_258.mp4", segs)
    for f in sorted(OUT.iterdir()):
        print(f"{f.relative_to(ROOT)}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
