"""Per-frame cost of `GuidanceSession.push_frame` through the Python bindings (a timing loop,
not a test: prints medians, asserts only that every call worked).

    python3 bindings/tests/python/bench_push_frame.py [iterations]

Reports the whole call on the sample frame and, separately, a call whose frame is refused
right after crossing the boundary (rotation 45°), which is the cost of the boundary alone:
copying the frame's bytes in and raising the error back.
"""

import statistics
import sys
import time

from conftest import SAMPLE, decode_rgb, frame_like, lifecert_ffi as ffi


def median_ms(fn, iterations):
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    data, width, height = decode_rgb(SAMPLE)
    frame = ffi.FrameInput(data=data, width=width, height=height, format=ffi.PixelFormat.RGB8,
                           row_strides=[], rotation_degrees=0, mirrored=False)
    refused = frame_like(ffi, frame, rotation_degrees=45)
    engine = ffi.Engine()
    session = engine.guidance_session("en")
    clock = iter(range(0, 10**9, 33))
    for _ in range(5):  # warm-up
        session.push_frame(frame, next(clock))

    def push():
        assert len(session.push_frame(frame, next(clock)).frame.faces) == 1

    def push_refused():
        try:
            session.push_frame(refused, next(clock))
        except ffi.LifecertError.BadInput:
            return
        raise AssertionError("a 45° frame must be refused")

    full = median_ms(push, iterations)
    boundary = median_ms(push_refused, iterations)
    print(f"python push_frame {width}x{height} RGB ({len(data)} B), {iterations} iterations: "
          f"median {full:.2f} ms per frame; refused frame (boundary only) {boundary:.3f} ms")


if __name__ == "__main__":
    main()
