#!/usr/bin/env python3
"""One-off migration for merging branches written against the flat `core/src` (before issue 13):
rewrites `crate::old_module::` (inside core/src: pass `crate,lifecert_core`) and
`lifecert_core::old_module::` paths, including the heads of `{...}` groups, to the layer folders.

    python3 scripts/migrate-core-paths.py lifecert_core cli/src/commands/*.rs
    python3 scripts/migrate-core-paths.py crate,lifecert_core core/src/liveness/sequencer.rs

Paths already in the new layout (`face::detector`, `liveness::sequencer`) are left alone, so a
file mixing both is safe; a bare `face::FaceObservation` is taken as the old flat module. Delete
it once every branch is merged.
"""
import re, sys, pathlib
# old flat module -> layer folder and new file name (issue 13, branch `layers`)
MAP = '''
alignment face alignment
analyzer face analyzer
attestation api attestation
audio_features audio mfcc
av_sync liveness av_sync
certification api certification
challenge liveness challenge
config api config
descriptor face descriptor
detector face detector
digit_verify liveness digit_verify
engine api engine
enrollment api enrollment
error api error
face face observation
frame image frame
geometry image geometry
guidance capture guidance
id_document identity id_document
identity identity person
image_io image decode
landmarks face landmarks
lazy_descriptor face lazy_descriptor
liveness liveness sequencer
messages text messages
models model assets
mouth face mouth
onnx_model model onnx
pad face anti_spoofing
pose face pose
quality capture quality
resample audio resample
result_texts text result_texts
review text review
sealing crypto sealing
session api session
speaker audio speaker
speech_segments audio segments
template_store matching sealed_template
templates matching templates
vad audio vad
visual_evidence liveness visual_evidence
voice_enrollment api voice_enrollment
voice_profile matching voice_profile
voice_store matching sealed_voice
warp image warp
wav audio wav
'''
m = {}
for l in MAP.strip().splitlines():
    old, d, new = l.split()
    m[old] = f'{d}::{new}'
IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')

NEW = set(m.values())

def already_new(text, im):
    """`face::detector` (a folder and one of its files) is a new path: leave it."""
    if not text.startswith('::', im.end()):
        return False
    nxt = IDENT.match(text, im.end() + 2)
    return bool(nxt) and f'{im.group(0)}::{nxt.group(0)}' in NEW

def rewrite_group(text, i):
    """text[i] == '{'; rewrite depth-1 leading module names; return (new_text_segment, end_index)."""
    depth = 0; out = []; j = i; expect_head = False
    while j < len(text):
        c = text[j]
        if c == '{':
            depth += 1; out.append(c); j += 1
            if depth == 1: expect_head = True
            continue
        if c == '}':
            depth -= 1; out.append(c); j += 1
            if depth == 0: return ''.join(out), j
            continue
        if depth == 1 and c == ',':
            expect_head = True; out.append(c); j += 1; continue
        if c.isspace():
            out.append(c); j += 1; continue
        mo = IDENT.match(text, j)
        if mo and depth == 1 and expect_head:
            name = mo.group(0)
            out.append(m.get(name, name)); j = mo.end(); expect_head = False; continue
        if mo:
            out.append(mo.group(0)); j = mo.end(); expect_head = False; continue
        out.append(c); j += 1; expect_head = False
    return ''.join(out), j

def rewrite(text, prefixes):
    pat = re.compile(r'\b(' + '|'.join(prefixes) + r')::')
    out = []; pos = 0
    while True:
        mo = pat.search(text, pos)
        if not mo:
            out.append(text[pos:]); break
        # skip `$crate::`? and `super::crate`? not present
        out.append(text[pos:mo.end()])
        j = mo.end()
        if j < len(text) and text[j] == '{':
            seg, j = rewrite_group(text, j)
            out.append(seg); pos = j; continue
        im = IDENT.match(text, j)
        if im and im.group(0) in m and not already_new(text, im):
            out.append(m[im.group(0)]); pos = im.end(); continue
        pos = j
    return ''.join(out)

for f in sys.argv[2:]:
    p = pathlib.Path(f)
    t = p.read_text()
    prefixes = sys.argv[1].split(',')
    n = rewrite(t, prefixes)
    if n != t:
        p.write_text(n)
        print('rewrote', f)
