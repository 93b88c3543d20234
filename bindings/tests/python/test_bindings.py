"""The Python bindings driving the real native library: a real frame through the engine and
a guidance session, error mapping on bad input, the ID check and log forwarding."""

import math
import threading

import pytest

from conftest import frame_like

INSTRUCTION_IDS = {
    "no_face", "multiple_faces", "come_closer", "move_back", "center_face", "face_camera",
    "raise_chin", "lower_chin", "straighten_head", "backlight", "too_dark", "too_bright",
    "side_light", "uncover_eyes", "uncover_mouth", "hold_steady", "hold_still",
}


def test_engine_version(ffi):
    assert ffi.engine_version().count(".") == 2


def test_a_real_frame_gives_one_face_and_an_instruction(ffi, engine, astronaut):
    report = engine.analyze_frame(astronaut, "en")
    assert (report.width, report.height) == (512, 512)
    assert len(report.faces) == 1
    face = report.faces[0]
    assert 0.5 < face.detection_score <= 1.0
    assert 0.5 < face.presence_score <= 1.0
    box = face.bounds
    assert box.width > 60 and 0 < box.x and box.x + box.width < 512
    for point in (face.keypoints.right_eye, face.keypoints.left_eye, face.keypoints.nose_tip,
                  face.keypoints.mouth_center):
        assert box.x <= point.x <= box.x + box.width
        assert box.y <= point.y <= box.y + box.height
    # The subject's right eye is on the image's left in a non-mirrored photo.
    assert face.keypoints.right_eye.x < face.keypoints.left_eye.x
    assert all(math.isfinite(a) and abs(a) < 30
               for a in (face.pose.yaw, face.pose.pitch, face.pose.roll))
    assert report.instruction.id in INSTRUCTION_IDS
    assert report.instruction.text and report.instruction.text != report.instruction.id

    zh = engine.analyze_frame(astronaut, "zh-CN")
    assert zh.instruction.id == report.instruction.id
    assert any("\u4e00" <= c <= "\u9fff" for c in zh.instruction.text), zh.instruction.text


def test_mirroring_moves_the_face_to_the_other_side(ffi, engine, astronaut):
    plain = engine.analyze_frame(astronaut, "en").faces[0].bounds
    mirrored = engine.analyze_frame(frame_like(ffi, astronaut, mirrored=True), "en").faces[0].bounds
    assert abs(mirrored.x - (512 - plain.x - plain.width)) < 3
    assert abs(mirrored.y - plain.y) < 3


def test_a_guidance_session_follows_the_frames(ffi, engine, astronaut):
    session = engine.guidance_session("en-GB")
    assert session.language() == "en"
    first = session.push_frame(astronaut, 0)
    assert first.changed and first.speak
    assert len(first.frame.faces) == 1
    assert first.instruction.id in INSTRUCTION_IDS
    assert first.instruction == first.frame.instruction
    for i in range(1, 6):
        update = session.push_frame(astronaut, i * 100)
        assert update.frame.instruction == first.frame.instruction
    assert not update.changed
    assert update.hint is None or update.hint.id.startswith("hint_")
    session.reset()
    assert session.push_frame(astronaut, 10).changed
    oval = engine.guide_oval()
    assert 0 < oval.radius_x < oval.radius_y < 1


def test_bad_frames_raise_bad_input(ffi, engine, astronaut):
    short = frame_like(ffi, astronaut, data=astronaut.data[:1000])
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        engine.analyze_frame(short, "en")
    assert "too short" in e.value.reason
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        engine.guidance_session("en").push_frame(
            frame_like(ffi, astronaut, rotation_degrees=45), 0)
    assert "rotation" in e.value.reason
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        engine.analyze_frame(frame_like(ffi, astronaut, row_strides=[1536, 1536]), "en")
    assert "plane" in e.value.reason
    with pytest.raises(ffi.LifecertError.BadInput):
        engine.analyze_frame(frame_like(ffi, astronaut, width=0), "en")
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        engine.analyze_frame(astronaut, "fr")
    assert "language" in e.value.reason
    # Every variant derives from the one error type.
    assert issubclass(ffi.LifecertError.BadInput, ffi.LifecertError)


def test_id_numbers(ffi):
    check = ffi.validate_id_number(" 11010519491231002x ")
    assert check.masked == "110***********002X"
    assert check.kind == ffi.IdKind.MAINLAND_RESIDENT
    assert check.birth_year == 1949
    legacy = ffi.validate_id_number("110105491231002")
    assert legacy.kind == ffi.IdKind.MAINLAND_RESIDENT_LEGACY15
    for bad in ("", "110105194912310021", "1101051949", "11010519491231002Y"):
        with pytest.raises(ffi.LifecertError.BadInput) as e:
            ffi.validate_id_number(bad)
        assert e.value.reason.startswith("invalid ID number")
        assert "1949" not in e.value.reason


class Collect:
    """A LogSink keeping every line (called from whichever thread logs)."""

    def __init__(self):
        self.lines = []
        self.lock = threading.Lock()

    def log(self, level, target, message):
        with self.lock:
            self.lines.append((level, target, message))


class Throwing:
    def log(self, level, target, message):
        raise RuntimeError("the host logger failed")


def test_logs_reach_the_host(ffi, engine, astronaut):
    sink = Collect()
    ffi.set_log_sink(sink, ffi.LogLevel.DEBUG)
    try:
        engine.guidance_session("en").push_frame(astronaut, 0)
        ffi.validate_id_number("11010519491231002X")  # logs at trace: filtered out
    finally:
        ffi.clear_log_sink()
    updates = [line for line in sink.lines if line[1] == "lifecert_ffi::engine"]
    assert updates, sink.lines
    level, _, message = updates[0]
    assert level == ffi.LogLevel.DEBUG
    assert message.startswith("ffi_push_frame") and "guidance update" in message
    assert "faces=1" in message
    assert not [line for line in sink.lines if line[1] == "lifecert_core::identity::person"]

    ffi.set_log_sink(sink, ffi.LogLevel.TRACE)
    try:
        ffi.validate_id_number("11010519491231002X")
    finally:
        ffi.clear_log_sink()
    assert (ffi.LogLevel.TRACE, "lifecert_core::identity::person",
            "parsed ID number kind=MainlandResident") in sink.lines


def test_a_throwing_log_sink_does_not_break_the_engine(ffi, engine, astronaut):
    ffi.set_log_sink(Throwing(), ffi.LogLevel.TRACE)
    try:
        update = engine.guidance_session("en").push_frame(astronaut, 0)
    finally:
        ffi.clear_log_sink()
    assert len(update.frame.faces) == 1


def test_engine_is_shared_between_threads(ffi, engine, astronaut):
    results = []

    def work():
        results.append(len(engine.analyze_frame(astronaut, "en").faces))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [1, 1, 1]


def test_a_review_decision_is_told_kindly_in_every_language(ffi):
    approved = ffi.review_text(None, "en")
    assert "approved" in approved
    refused = {code: ffi.review_text(code, "zh-Hans") for code in
               ["face_not_clear", "not_the_card_holder", "id_document_unreadable",
                "voice_not_clear", "liveness_in_doubt", "other"]}
    assert len(set(refused.values())) == len(refused), "each reason reads differently"
    assert "光线" in refused["face_not_clear"]
    assert "身份证" in refused["not_the_card_holder"]
    assert ffi.review_text("face_not_clear", "zh-Hant") != refused["face_not_clear"]
    with pytest.raises(ffi.LifecertError.BadInput):
        ffi.review_text("looks_dead", "en")
    with pytest.raises(ffi.LifecertError.BadInput):
        ffi.review_text(None, "fr")
