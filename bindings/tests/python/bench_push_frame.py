"""Per-frame cost of `push_frame` through the Python bindings (a timing loop, not a test:
prints medians, asserts only that every call worked).

    python3 bindings/tests/python/bench_push_frame.py [iterations]

Reports, on the 512×512 sample frame:
- `GuidanceSession.push_frame`;
- `CertificationSession.push_frame` (the frame copied in a `FrameInput`) and
  `CertificationSession.push_frame_bytes` (the same bytes borrowed, no copy), on a session
  with the recordings configuration and a template enrolled from the same photo, in its
  liveness phase (a finished session is replaced outside the timed calls);
- for each, a call whose frame is refused right after crossing the boundary (rotation 45°):
  the cost of the boundary alone, passing the frame's bytes in and raising the error back.
"""

import statistics
import sys
import time

from conftest import (
    SAMPLE, Keystore, certification_request, decode_rgb, enroll, frame_like, lifecert_ffi as ffi,
)


def median_ms(fn, iterations, before=lambda: None):
    times = []
    for _ in range(iterations):
        before()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def refused_call(call):
    def run():
        try:
            call()
        except ffi.LifecertError.BadInput:
            return
        raise AssertionError("a 45° frame must be refused")
    return run


class Certifier:
    """Certification sessions on a template of the sample photo, renewed when one finishes."""

    def __init__(self, engine, frame):
        self.engine = engine
        self.keys = Keystore(ffi)
        enrolled = enroll(ffi, engine, self.keys, [frame] * 8)
        assert enrolled.is_enrolled(), enrolled
        self.sealed = enrolled.sealed_template
        self.renew()

    def renew(self):
        self.session = self.engine.certification_session(
            certification_request(ffi, self.sealed, ffi.ChallengeSource.SEEDED(seed=1)),
            self.keys.certification())
        self.clock = 0

    def before(self):
        """Untimed: a new session when the last one finished; the next timestamp."""
        if self.session.phase() == ffi.SessionPhase.FINISHED:
            self.renew()
        self.clock += 33


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    data, width, height = decode_rgb(SAMPLE)
    frame = ffi.FrameInput(data=data, width=width, height=height, format=ffi.PixelFormat.RGB8,
                           row_strides=[], rotation_degrees=0, mirrored=False)
    refused = frame_like(ffi, frame, rotation_degrees=45)
    layout = ffi.FrameLayout(width=width, height=height, format=ffi.PixelFormat.RGB8,
                             row_strides=[], rotation_degrees=0, mirrored=False)
    refused_layout = ffi.FrameLayout(width=width, height=height, format=ffi.PixelFormat.RGB8,
                                     row_strides=[], rotation_degrees=45, mirrored=False)
    engine = ffi.Engine()
    session = engine.guidance_session("en")
    clock = iter(range(0, 10**9, 33))
    for _ in range(5):  # warm-up
        session.push_frame(frame, next(clock))

    def push():
        assert len(session.push_frame(frame, next(clock)).frame.faces) == 1

    full = median_ms(push, iterations)
    boundary = median_ms(refused_call(lambda: session.push_frame(refused, next(clock))),
                         iterations)
    print(f"python push_frame {width}x{height} RGB ({len(data)} B), {iterations} iterations: "
          f"median {full:.2f} ms per frame; refused frame (boundary only) {boundary:.3f} ms")

    c = Certifier(ffi.Engine.with_options(ffi.EngineOptions(for_recordings=True)), frame)
    for _ in range(5):  # warm-up
        c.before()
        c.session.push_frame(frame, c.clock)

    def certify_copied():
        assert c.session.push_frame(frame, c.clock).face is not None

    def certify_borrowed():
        assert c.session.push_frame_bytes(data, layout, c.clock).face is not None

    copied = median_ms(certify_copied, iterations, c.before)
    borrowed = median_ms(certify_borrowed, iterations, c.before)
    copied_refused = median_ms(
        refused_call(lambda: c.session.push_frame(refused, c.clock)), iterations, c.before)
    borrowed_refused = median_ms(
        refused_call(lambda: c.session.push_frame_bytes(data, refused_layout, c.clock)),
        iterations, c.before)
    print(f"python CertificationSession {width}x{height} RGB, {iterations} iterations: "
          f"push_frame median {copied:.2f} ms (refused {copied_refused:.3f} ms); "
          f"push_frame_bytes median {borrowed:.2f} ms (refused {borrowed_refused:.3f} ms)")


if __name__ == "__main__":
    main()
