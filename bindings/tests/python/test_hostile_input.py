"""Bad input across the boundary, from Python (issue 12, item 6): every malformed frame,
timestamp, clock or call order is a typed error — `LifecertError.BadInput` from the native
library, or a `TypeError`/`ValueError` raised by the generated code before the call — or a
documented no-op. Never a crash, a hang or an `Internal` error. No evaluation data needed.

Documented behaviour checked here:
* timestamps are unsigned milliseconds of the shell's clock, at most 2**53 - 1; a NaN, a
  float or a negative number is refused by the generated code, a larger one by the library;
* a timestamp earlier than the previous one is accepted and counts as equal to the latest;
* after the outcome every call that would change the session raises BadInput ("finished"),
  while `phase()` and `outcome()` keep answering;
* calls on one session from several threads are taken one after the other.
"""

import threading

import pytest

from conftest import Keystore, certification_request, enroll, enrollment_request, frame_like

MAX_TIMESTAMP_MS = 2**53 - 1
U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
FORMATS = ("RGBA8", "BGRA8", "RGB8", "NV21", "NV12", "I420")


@pytest.fixture(scope="module")
def sealed(ffi, recordings_engine, astronaut):
    keys = Keystore(ffi)
    outcome = enroll(ffi, recordings_engine, keys, [astronaut] * 8)
    assert outcome.is_enrolled(), outcome
    return keys, outcome.sealed_template


def new_certification(ffi, recordings_engine, sealed, **changes):
    keys, template = sealed
    return recordings_engine.certification_session(
        certification_request(ffi, template, **changes), keys.certification())


def test_empty_and_oversized_frames_are_bad_input(ffi, engine, astronaut):
    session = engine.guidance_session("en")
    for name in FORMATS:
        fmt = getattr(ffi.PixelFormat, name)
        for width, height in ((0, 480), (640, 0), (0, 0)):
            frame = frame_like(ffi, astronaut, width=width, height=height, format=fmt)
            with pytest.raises(ffi.LifecertError.BadInput) as e:
                engine.analyze_frame(frame, "en")
            assert "empty" in e.value.reason, e.value.reason
            with pytest.raises(ffi.LifecertError.BadInput):
                session.push_frame(frame, 0)
        # Declared sizes far beyond the buffer, up to the largest u32.
        for width, height in ((16384, 16384), (16385, 8), (U32_MAX, U32_MAX), (U32_MAX, 1)):
            frame = frame_like(ffi, astronaut, width=width, height=height, format=fmt)
            with pytest.raises(ffi.LifecertError.BadInput) as e:
                engine.analyze_frame(frame, "en")
            assert "too short" in e.value.reason or "exceeds" in e.value.reason, e.value.reason
    # Past u32: refused by the generated code, before the library is called.
    with pytest.raises((ValueError, OverflowError, TypeError)):
        engine.analyze_frame(frame_like(ffi, astronaut, width=2**32), "en")
    with pytest.raises((ValueError, OverflowError, TypeError)):
        engine.analyze_frame(frame_like(ffi, astronaut, width=-1), "en")


def test_strides_smaller_than_a_row_or_absurd_are_bad_input(ffi, engine, astronaut):
    row = 3 * astronaut.width
    for strides, needle in (([row - 1], "stride"), ([0], "stride"), ([1], "stride"),
                            ([U32_MAX], "too short"), ([row, row], "plane"), ([row] * 3, "plane")):
        with pytest.raises(ffi.LifecertError.BadInput) as e:
            engine.analyze_frame(frame_like(ffi, astronaut, row_strides=strides), "en")
        assert needle in e.value.reason, (strides, e.value.reason)
    # NV21 whose chroma stride is below its row.
    nv21 = ffi.FrameInput(data=bytes(640 * 480 * 3 // 2), width=640, height=480,
                          format=ffi.PixelFormat.NV21, row_strides=[640, 639],
                          rotation_degrees=0, mirrored=False)
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        engine.analyze_frame(nv21, "en")
    assert "stride" in e.value.reason
    # A padded stride that fits is fine.
    padded = bytearray()
    for y in range(astronaut.height):
        padded += astronaut.data[y * row:(y + 1) * row] + bytes(16)
    report = engine.analyze_frame(frame_like(ffi, astronaut, data=bytes(padded),
                                             row_strides=[row + 16]), "en")
    assert len(report.faces) == 1


def test_bad_timestamps(ffi, engine, astronaut, recordings_engine, sealed):
    guidance = engine.guidance_session("en")
    session = new_certification(ffi, recordings_engine, sealed)
    for call in (lambda t: guidance.push_frame(astronaut, t),
                 lambda t: session.push_frame(astronaut, t),
                 lambda t: session.push_audio([0] * 320, t),
                 lambda t: session.tick(t)):
        # NaN, floats and negative numbers never reach the library.
        for t in (float("nan"), float("inf"), 1.5, -1, -(2**63)):
            with pytest.raises((TypeError, ValueError, OverflowError)):
                call(t)
        # Past u64: refused by the generated code; past 2**53 - 1: by the library.
        with pytest.raises((TypeError, ValueError, OverflowError)):
            call(2**64)
        for t in (MAX_TIMESTAMP_MS + 1, U64_MAX):
            with pytest.raises(ffi.LifecertError.BadInput) as e:
                call(t)
            assert "timestamp" in e.value.reason


def test_backwards_timestamps_count_as_the_latest(ffi, engine, astronaut, recordings_engine,
                                                  sealed):
    guidance = engine.guidance_session("en")
    first = guidance.push_frame(astronaut, 5000)
    again = guidance.push_frame(astronaut, 1000)  # back in time: no error
    assert again.frame.instruction == first.frame.instruction
    session = new_certification(ffi, recordings_engine, sealed)
    session.push_frame(astronaut, 2000)
    session.push_audio([0] * 320, 2000)
    for t in (1000, 0, 1500):
        session.push_frame(astronaut, t)
        session.push_audio([0] * 320, t)
        session.tick(t)
    # The largest timestamp is accepted (it may end the session: every deadline has passed).
    session.push_frame(astronaut, MAX_TIMESTAMP_MS)
    if session.outcome() is None:
        session.end_of_input(0)
    assert session.phase() == ffi.SessionPhase.FINISHED
    assert session.outcome().is_not_certified()


def test_every_call_after_the_outcome_is_refused(ffi, recordings_engine, astronaut, sealed):
    session = new_certification(ffi, recordings_engine, sealed)
    end = session.end_of_input(100)
    assert end.outcome.is_not_certified()
    layout = ffi.FrameLayout(width=512, height=512, format=ffi.PixelFormat.RGB8, row_strides=[],
                             rotation_degrees=0, mirrored=False)
    for call in (lambda: session.push_frame(astronaut, 200),
                 lambda: session.push_frame_bytes(astronaut.data, layout, 200),
                 lambda: session.push_audio([0] * 320, 200),
                 lambda: session.prompt_started(200),
                 lambda: session.prompt_finished(200),
                 lambda: session.tick(200),
                 lambda: session.end_of_input(300)):
        with pytest.raises(ffi.LifecertError.BadInput) as e:
            call()
        assert "finished" in e.value.reason
    assert session.phase() == ffi.SessionPhase.FINISHED
    assert session.outcome() == end.outcome
    keys, _ = sealed
    enrollment = recordings_engine.enrollment_session(enrollment_request(ffi), keys.enrollment())
    assert enrollment.give_consent(False).outcome is not None
    for call in (lambda: enrollment.push_frame(astronaut, 0),
                 lambda: enrollment.push_audio([0] * 320, 0),
                 lambda: enrollment.tick(0),
                 lambda: enrollment.end_of_input(0),
                 lambda: enrollment.give_consent(True)):
        with pytest.raises(ffi.LifecertError.BadInput):
            call()


def test_the_largest_clock_is_refused(ffi, recordings_engine, sealed):
    keys, template = sealed
    # 2**64 - 1 seconds: a release build used to wrap it to 1970.
    for now in (U64_MAX, U64_MAX - 3600, 253_402_272_000):
        with pytest.raises(ffi.LifecertError.BadInput):
            new_certification(ffi, recordings_engine, sealed, now_unix=now)
        with pytest.raises(ffi.LifecertError.BadInput):
            recordings_engine.enrollment_session(enrollment_request(ffi, now_unix=now),
                                                 keys.enrollment())
    with pytest.raises((TypeError, ValueError, OverflowError)):
        new_certification(ffi, recordings_engine, sealed, now_unix=float("nan"))


def test_two_threads_on_one_session(ffi, recordings_engine, astronaut, sealed):
    session = new_certification(ffi, recordings_engine, sealed)
    errors, updates = [], []
    lock = threading.Lock()

    def work(offset):
        for i in range(15):
            try:
                if i % 3 == 2:
                    u = session.push_audio([100 * offset] * 320, offset + i * 40)
                else:
                    u = session.push_frame(astronaut, offset + i * 40)
                with lock:
                    updates.append(u)
            except ffi.LifecertError.BadInput as e:  # e.g. "finished", once an outcome came
                with lock:
                    errors.append(e.reason)

    threads = [threading.Thread(target=work, args=(k * 7,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), "a thread hangs on the session"
    assert len(updates) + len(errors) == 30
    assert all("finished" in reason for reason in errors), errors
    # The session still works and finishes.
    end = session.end_of_input(10_000) if session.outcome() is None else None
    assert session.outcome() is not None
    if end is not None:
        assert end.phase == ffi.SessionPhase.FINISHED
