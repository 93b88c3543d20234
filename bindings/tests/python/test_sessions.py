"""Whole enrollment and certification sessions through the Python bindings and the real native
library: speaker B of the GRID corpus enrolls from one clip and is certified from another
(replayed against the digit it contains), the attestation is verified, a still photo with the
real voice is not certified; and the error mapping on bad input."""

import struct
import zlib

import pytest

from conftest import (
    NOW, SERVER_NONCE, Clip, Keystore, certification_request, enroll, enrollment_request,
    eval_data_dir, replay,
)

ENROLL_CLIP = "video_talking/grid_pwij3p.mpg"  # "place white in j three please"
CERTIFY_CLIP = "video_talking/grid_id2_vcd_swwp2s.mpg"  # "set white with p two soon"


def replay_options(ffi):
    """What a replayed recording needs the verifier to accept: its supplied challenge, the
    recording-replay configuration, and digits only counted (no voice templates)."""
    return ffi.VerifyOptions(accept_supplied_challenge=True, accept_recording_replay=True,
                             accept_count_only=True)


@pytest.fixture(scope="module")
def clips():
    data = eval_data_dir()
    return Clip(data / ENROLL_CLIP), Clip(data / CERTIFY_CLIP)


@pytest.fixture(scope="module")
def keys(ffi):
    return Keystore(ffi)


@pytest.fixture(scope="module")
def enrolled(ffi, recordings_engine, keys, clips):
    """Speaker B enrolled from grid_pwij3p, step by step."""
    enroll_clip, _ = clips
    assert (enroll_clip.width, enroll_clip.height) == (360, 288)
    session = recordings_engine.enrollment_session(enrollment_request(ffi), keys.enrollment())
    assert session.phase() == ffi.SessionPhase.CONSENT
    assert session.current_request().text
    update = session.give_consent(True)
    assert update.phase == ffi.SessionPhase.ID_DOCUMENTS
    assert [u.message_id for u in update.speak] == ["enrol_id_front"]
    assert session.continue_without_more_documents().phase == ffi.SessionPhase.POSITIONING
    outcome = None
    for i, data in enumerate(enroll_clip.frames):
        update = session.push_frame(enroll_clip.frame_input(ffi, data), i * 40)
        if update.outcome is not None:
            assert update.phase == ffi.SessionPhase.FINISHED and update.progress == 1.0
            outcome = update.outcome
            break
    if outcome is None:
        outcome = session.end_of_input(3000).outcome
    assert outcome.is_enrolled(), outcome
    assert session.outcome() == outcome
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        session.tick(4000)
    assert "finished" in e.value.reason
    return outcome


def test_enrollment_gives_a_sealed_template_and_a_review_package(ffi, enrolled):
    assert len(enrolled.sealed_template) > 100
    assert enrolled.sealed_voice_profile is None
    assert len(enrolled.subject_hex) == 64
    package = enrolled.package
    assert package.frame_count == 5 == len(package.frames)
    assert all(f.jpeg[:2] == b"\xff\xd8" and f.interocular_px > 10 for f in package.frames)
    assert package.documents == []
    assert package.id_front_distance is None
    assert package.liveness_passed is None  # no action step was asked for
    assert package.pad_score is None  # no anti-spoofing models loaded
    assert enrolled.result_text.kind == ffi.UtteranceKind.RESULT


def test_the_genuine_clip_is_certified_and_the_attestation_verifies(
        ffi, recordings_engine, keys, clips, enrolled):
    _, clip = clips
    session = recordings_engine.certification_session(
        certification_request(ffi, enrolled.sealed_template), keys.certification())
    assert session.phase() == ffi.SessionPhase.LIVENESS  # recordings skip positioning
    frames = [clip.frame_input(ffi, data) for data in clip.frames]
    outcome, prompts = replay(ffi, session, frames, clip.audio)
    assert prompts == ["Please read these numbers aloud: 2"]
    assert outcome.is_certified(), outcome
    print(f"certified: distance {outcome.face_distance:.3f} "
          f"(threshold {outcome.face_threshold}), {outcome.liveness}")
    assert outcome.face_distance <= outcome.face_threshold
    liveness = outcome.liveness
    assert liveness.passed and liveness.failure_id is None
    assert liveness.digits == bytes([2])
    assert liveness.speech_onset_ms > 0
    assert liveness.av_sync is not None
    assert outcome.result_text.message_id == "certification_success"
    assert "2026" in outcome.result_text.text

    summary = ffi.verify_attestation(outcome.attestation_json, keys.device_public(),
                                     SERVER_NONCE, replay_options(ffi))
    assert summary.challenge_origin == "supplied"
    assert summary.profile == "recording_replay"
    assert summary.digit_check == "count_only"
    assert (summary.digits_heard, summary.digits_matched) == (1, 0)
    assert not summary.voice_checked
    assert summary.challenge_digits == bytes([2])
    assert summary.certification_year == 2026
    assert summary.subject_hex == enrolled.subject_hex
    assert summary.proxy_relation == "child"
    assert summary.server_nonce == SERVER_NONCE
    assert summary.face_accepted
    assert abs(summary.face_distance - outcome.face_distance) < 1e-6
    assert NOW <= summary.time_unix <= NOW + 3
    with pytest.raises(ffi.LifecertError.TamperedOrWrongKey) as e:
        ffi.verify_attestation(outcome.attestation_json, keys.device_public(), SERVER_NONCE,
                               ffi.VerifyOptions())
    assert "supplied" in e.value.reason
    with pytest.raises(ffi.LifecertError.TamperedOrWrongKey):
        ffi.verify_attestation(outcome.attestation_json, keys.device_public(), bytes(16),
                               replay_options(ffi))
    with pytest.raises(ffi.LifecertError.TamperedOrWrongKey):
        ffi.verify_attestation(outcome.attestation_json, Keystore(ffi).device_public(),
                               SERVER_NONCE, replay_options(ffi))
    # After the end, the session refuses every call.
    with pytest.raises(ffi.LifecertError.BadInput):
        session.push_audio([0] * 320, 3100)


def test_a_still_photo_with_the_real_voice_is_not_certified(
        ffi, recordings_engine, keys, clips, enrolled):
    _, clip = clips
    session = recordings_engine.certification_session(
        certification_request(ffi, enrolled.sealed_template), keys.certification())
    still = [clip.frame_input(ffi, clip.frames[0])] * len(clip.frames)
    outcome, _ = replay(ffi, session, still, clip.audio)
    assert outcome.is_not_certified(), outcome
    print(f"still photo: {outcome.failure_id}, {outcome.liveness}")
    assert outcome.failure_id == "liveness:lips_not_moving_with_voice"
    assert outcome.message.message_id == "liveness_lips_not_moving"
    assert outcome.retry_allowed  # the first failure of the day offers another try
    assert outcome.result_text.message_id == "result_failure_retry"
    assert outcome.liveness is not None and not outcome.liveness.passed
    assert outcome.face_distance is None


def test_bad_input_is_mapped_to_what_the_shell_can_do(ffi, recordings_engine, astronaut):
    keys = Keystore(ffi)
    # A still photo enrolls without an action step (no evaluation data needed).
    enrolled = enroll(ffi, recordings_engine, keys, [astronaut] * 8)
    assert enrolled.is_enrolled(), enrolled
    sealed = enrolled.sealed_template

    def certify(**changes):
        return recordings_engine.certification_session(
            certification_request(ffi, sealed, **changes), keys.certification())

    with pytest.raises(ffi.LifecertError.BadInput) as e:
        certify(id_number="110105194912310021")
    assert "check character" in e.value.reason
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        certify(server_nonce=bytes(15))
    assert "16 bytes" in e.value.reason
    with pytest.raises(ffi.LifecertError.BadInput):
        certify(challenge=ffi.ChallengeSource.SUPPLIED(digits=bytes([2, 2])))
    with pytest.raises(ffi.LifecertError.BadInput):
        recordings_engine.enrollment_session(enrollment_request(ffi, id_number="1101051949"),
                                             keys.enrollment())
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ffi.LifecertError.TamperedOrWrongKey):
        recordings_engine.certification_session(certification_request(ffi, tampered),
                                                keys.certification())
    with pytest.raises(ffi.LifecertError.TamperedOrWrongKey):
        recordings_engine.certification_session(certification_request(ffi, sealed),
                                                Keystore(ffi).certification())

    session = certify()
    short = ffi.FrameInput(data=astronaut.data[:1000], width=512, height=512,
                           format=ffi.PixelFormat.RGB8, row_strides=[], rotation_degrees=0,
                           mirrored=False)
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        session.push_frame(short, 0)
    assert "too short" in e.value.reason
    layout = ffi.FrameLayout(width=512, height=512, format=ffi.PixelFormat.RGB8, row_strides=[],
                             rotation_degrees=0, mirrored=False)
    with pytest.raises(ffi.LifecertError.BadInput):
        session.push_frame_bytes(astronaut.data[:1000], layout, 0)
    assert session.push_frame_bytes(astronaut.data, layout, 0).face is not None
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        session.push_audio([], 10)
    assert "audio chunk" in e.value.reason
    end = session.end_of_input(100)
    assert end.phase == ffi.SessionPhase.FINISHED and end.outcome.is_not_certified()
    for call in (lambda: session.tick(200), lambda: session.push_frame(astronaut, 200),
                 lambda: session.push_frame_bytes(astronaut.data, layout, 200)):
        with pytest.raises(ffi.LifecertError.BadInput) as e:
            call()
        assert "finished" in e.value.reason

    enrollment = recordings_engine.enrollment_session(enrollment_request(ffi), keys.enrollment())
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        enrollment.push_frame(astronaut, 0)
    assert "phase" in e.value.reason
    assert enrollment.give_consent(False).outcome.failure_id == "consent_declined"
    with pytest.raises(ffi.LifecertError.BadInput):
        enrollment.give_consent(True)
    # Every variant derives from the one error type.
    with pytest.raises(ffi.LifecertError):
        ffi.verify_attestation("{}", keys.device_public(), SERVER_NONCE, replay_options(ffi))


def test_a_refused_id_photo_says_what_to_do_in_the_persons_language(ffi, recordings_engine, keys):
    """JPG/PNG only (a larger photo is shrunk to 1 MB; one too large to decode is refused): a GIF and a
    picture too large to use are refused with the sentence to show, in the session's language."""
    session = recordings_engine.enrollment_session(enrollment_request(ffi), keys.enrollment())
    session.give_consent(True)
    gif = b"GIF89a" + bytes([1, 0, 1, 0, 0x80, 0, 0]) + bytes(64)
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        session.add_id_document(ffi.DocumentSide.FRONT, gif)
    assert e.value.reason.startswith("身份证照片请用JPG或PNG格式"), e.value.reason
    # A 100-byte PNG whose header claims 8192 x 8192 16-bit RGBA: refused before decoding.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    huge = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8192, 8192, 16, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    with pytest.raises(ffi.LifecertError.BadInput) as e:
        session.add_id_document(ffi.DocumentSide.FRONT, huge)
    assert e.value.reason.startswith("这张照片太大了"), e.value.reason
    # The session is still waiting for the photos: the person can simply take another.
    assert session.phase() == ffi.SessionPhase.ID_DOCUMENTS
