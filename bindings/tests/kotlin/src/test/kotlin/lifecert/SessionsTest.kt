package lifecert

import java.io.File
import java.nio.ByteBuffer
import kotlin.math.abs
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import org.junit.jupiter.api.assertThrows
import uniffi.lifecert_ffi.CertificationOutcome
import uniffi.lifecert_ffi.ChallengeSource
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EngineOptions
import uniffi.lifecert_ffi.EnrollmentOutcome
import uniffi.lifecert_ffi.FrameLayout
import uniffi.lifecert_ffi.LifecertException
import uniffi.lifecert_ffi.PixelFormat
import uniffi.lifecert_ffi.SessionPhase
import uniffi.lifecert_ffi.UtteranceKind
import uniffi.lifecert_ffi.VerifyOptions
import uniffi.lifecert_ffi.verifyAttestation

/**
 * Whole enrollment and certification sessions through the Kotlin bindings and the real native library:
 * speaker B of the GRID corpus enrolls from one clip and is certified from another (replayed against the
 * digit it contains), the attestation is verified, a still photo with the real voice is not certified;
 * and the error mapping on bad input. The same flow as the Rust and Python tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class SessionsTest {
    /** The configuration for replaying recordings: tests only. */
    private val engine = Engine.withOptions(EngineOptions(forRecordings = true))
    private val keys = Keystore()
    private val clips: Pair<Clip, Clip> by lazy {
        val data = evalData()
        Clip(File(data, "video_talking/grid_pwij3p.mpg")) to Clip(File(data, "video_talking/grid_id2_vcd_swwp2s.mpg"))
    }
    private val enrolled: EnrollmentOutcome.Enrolled by lazy { enrollSpeakerB() }

    @AfterAll
    fun close() = engine.close()

    /** Speaker B enrolled from grid_pwij3p ("place white in j three please"), step by step. */
    private fun enrollSpeakerB(): EnrollmentOutcome.Enrolled {
        val clip = clips.first
        assertEquals(360 to 288, clip.width to clip.height)
        engine.enrollmentSession(enrollmentRequest(), keys.enrollment()).use { session ->
            assertEquals(SessionPhase.CONSENT, session.phase())
            assertTrue(session.currentRequest()!!.text.isNotEmpty())
            val consent = session.giveConsent(true)
            assertEquals(SessionPhase.ID_DOCUMENTS, consent.phase)
            assertEquals(listOf("enrol_id_front"), consent.speak.map { it.messageId })
            assertEquals(SessionPhase.POSITIONING, session.continueWithoutMoreDocuments().phase)
            var outcome: EnrollmentOutcome? = null
            for ((i, data) in clip.frames.withIndex()) {
                val update = session.pushFrame(clip.frameInput(data), (i * 40).toULong())
                if (update.outcome != null) {
                    assertEquals(SessionPhase.FINISHED, update.phase)
                    outcome = update.outcome
                    break
                }
            }
            outcome = outcome ?: session.endOfInput(3000uL).outcome
            val enrolled = outcome as? EnrollmentOutcome.Enrolled ?: throw AssertionError("not enrolled: $outcome")
            // (Generated data classes compare ByteArray fields by identity: compare the bytes.)
            val stored = session.outcome() as EnrollmentOutcome.Enrolled
            assertArrayEquals(enrolled.sealedTemplate, stored.sealedTemplate)
            val e = assertThrows<LifecertException.BadInput> { session.tick(4000uL) }
            assertTrue("finished" in e.reason, e.reason)
            return enrolled
        }
    }

    @Test
    @Order(1)
    fun enrollmentGivesASealedTemplateAndAReviewPackage() {
        val e = enrolled
        assertTrue(e.sealedTemplate.size > 100)
        assertNull(e.sealedVoiceProfile)
        assertEquals(64, e.subjectHex.length)
        val p = e.`package`
        assertEquals(5u, p.frameCount)
        assertEquals(5, p.frames.size)
        assertTrue(p.frames.all { it.jpeg[0] == 0xFF.toByte() && it.jpeg[1] == 0xD8.toByte() && it.interocularPx > 10f })
        assertTrue(p.documents.isEmpty())
        assertNull(p.idFrontDistance)
        assertNull(p.livenessPassed, "no action step was asked for")
        assertNull(p.padScore, "no anti-spoofing models loaded")
        assertEquals(UtteranceKind.RESULT, e.resultText.kind)
    }

    @Test
    @Order(2)
    fun theGenuineClipIsCertifiedAndTheAttestationVerifies() {
        val clip = clips.second
        engine.certificationSession(certificationRequest(enrolled.sealedTemplate), keys.certification()).use { session ->
            assertEquals(SessionPhase.LIVENESS, session.phase(), "recordings skip positioning")
            val (outcome, prompts) = replay(session, clip.frames.map { clip.frameInput(it) }, clip.audio)
            assertEquals(listOf("Please read these numbers aloud: 2"), prompts)
            val c = outcome as? CertificationOutcome.Certified ?: throw AssertionError("not certified: $outcome")
            println("kotlin certified: distance ${c.faceDistance} (threshold ${c.faceThreshold}), ${c.liveness}")
            assertTrue(c.faceDistance <= c.faceThreshold)
            assertTrue(c.liveness.passed)
            assertNull(c.liveness.failureId)
            assertArrayEquals(byteArrayOf(2), c.liveness.digits)
            assertTrue(c.liveness.speechOnsetMs!! > 0)
            assertNotNull(c.liveness.avSync)
            assertEquals("certification_success", c.resultText.messageId)
            assertTrue("2026" in c.resultText.text)

            val summary = verifyAttestation(c.attestationJson, keys.devicePublic(), SERVER_NONCE, REPLAY)
            assertEquals("supplied", summary.challengeOrigin)
            assertEquals("recording_replay", summary.profile)
            assertEquals("count_only", summary.digitCheck)
            assertEquals(0u, summary.digitsMatched)
            assertFalse(summary.voiceChecked)
            assertArrayEquals(byteArrayOf(2), summary.challengeDigits)
            assertEquals(2026.toUShort(), summary.certificationYear)
            assertEquals(enrolled.subjectHex, summary.subjectHex)
            assertEquals("child", summary.proxyRelation)
            assertArrayEquals(SERVER_NONCE, summary.serverNonce)
            assertTrue(summary.faceAccepted && abs(summary.faceDistance - c.faceDistance) < 1e-6f)
            assertTrue(summary.timeUnix in NOW..NOW + 3uL)
            val refused = assertThrows<LifecertException.TamperedOrWrongKey> {
                verifyAttestation(c.attestationJson, keys.devicePublic(), SERVER_NONCE, VerifyOptions())
            }
            assertTrue("supplied" in refused.reason, refused.reason)
            assertThrows<LifecertException.TamperedOrWrongKey> {
                verifyAttestation(c.attestationJson, keys.devicePublic(), ByteArray(16), REPLAY)
            }
            assertThrows<LifecertException.TamperedOrWrongKey> {
                verifyAttestation(c.attestationJson, Keystore().devicePublic(), SERVER_NONCE, REPLAY)
            }
            // After the end, the session refuses every call.
            assertThrows<LifecertException.BadInput> { session.pushAudio(List(320) { 0.toShort() }, 3100uL) }
        }
    }

    @Test
    @Order(3)
    fun aStillPhotoWithTheRealVoiceIsNotCertified() {
        val clip = clips.second
        engine.certificationSession(certificationRequest(enrolled.sealedTemplate), keys.certification()).use { session ->
            val still = List(clip.frames.size) { clip.frameInput(clip.frames[0]) }
            val (outcome, _) = replay(session, still, clip.audio)
            val n = outcome as? CertificationOutcome.NotCertified ?: throw AssertionError("certified: $outcome")
            println("kotlin still photo: ${n.failureId}, ${n.liveness}")
            assertEquals("liveness:lips_not_moving_with_voice", n.failureId)
            assertEquals("liveness_lips_not_moving", n.message.messageId)
            assertTrue(n.retryAllowed, "the first failure of the day offers another try")
            assertEquals("result_failure_retry", n.resultText.messageId)
            assertFalse(n.liveness!!.passed)
            assertNull(n.faceDistance)
        }
    }

    @Test
    @Order(4)
    fun badInputIsMappedToWhatTheShellCanDo() {
        val photo = astronaut()
        // A still photo enrolls without an action step (no evaluation data needed).
        val sealed = (enroll(engine, keys, List(8) { photo }) as EnrollmentOutcome.Enrolled).sealedTemplate

        val check = assertThrows<LifecertException.BadInput> {
            engine.certificationSession(certificationRequest(sealed, idNumber = "110105194912310021"), keys.certification())
        }
        assertTrue("check character" in check.reason, check.reason)
        val nonce = assertThrows<LifecertException.BadInput> {
            engine.certificationSession(certificationRequest(sealed, serverNonce = ByteArray(15)), keys.certification())
        }
        assertTrue("16 bytes" in nonce.reason, nonce.reason)
        assertThrows<LifecertException.BadInput> {
            engine.certificationSession(
                certificationRequest(sealed, challenge = ChallengeSource.Supplied(byteArrayOf(2, 2))),
                keys.certification(),
            )
        }
        assertThrows<LifecertException.BadInput> {
            engine.enrollmentSession(enrollmentRequest(idNumber = "1101051949"), keys.enrollment())
        }
        val tampered = sealed.copyOf().also { it[it.size - 1] = (it[it.size - 1].toInt() xor 1).toByte() }
        assertThrows<LifecertException.TamperedOrWrongKey> {
            engine.certificationSession(certificationRequest(tampered), keys.certification())
        }
        assertThrows<LifecertException.TamperedOrWrongKey> {
            engine.certificationSession(certificationRequest(sealed), Keystore().certification())
        }

        engine.certificationSession(certificationRequest(sealed), keys.certification()).use { session ->
            val short = assertThrows<LifecertException.BadInput> {
                session.pushFrame(photo.copy(data = photo.data.copyOf(1000)), 0uL)
            }
            assertTrue("too short" in short.reason, short.reason)
            val layout = FrameLayout(512u, 512u, PixelFormat.RGB8, emptyList(), 0, false)
            val direct = ByteBuffer.allocateDirect(photo.data.size).put(photo.data).flip()
            val shortDirect = ByteBuffer.allocateDirect(1000).put(photo.data, 0, 1000).flip()
            assertThrows<LifecertException.BadInput> { session.pushFrameBytes(shortDirect, layout, 0uL) }
            assertNotNull(session.pushFrameBytes(direct, layout, 0uL).face, "the borrowed frame is read in place")
            val audio = assertThrows<LifecertException.BadInput> { session.pushAudio(emptyList(), 10uL) }
            assertTrue("audio chunk" in audio.reason, audio.reason)
            val end = session.endOfInput(100uL)
            assertEquals(SessionPhase.FINISHED, end.phase)
            assertTrue(end.outcome is CertificationOutcome.NotCertified)
            for (call in listOf({ session.tick(200uL) }, { session.pushFrame(photo, 200uL) })) {
                val e = assertThrows<LifecertException.BadInput> { call() }
                assertTrue("finished" in e.reason, e.reason)
            }
        }

        engine.enrollmentSession(enrollmentRequest(), keys.enrollment()).use { session ->
            val phase = assertThrows<LifecertException.BadInput> { session.pushFrame(photo, 0uL) }
            assertTrue("phase" in phase.reason, phase.reason)
            val declined = session.giveConsent(false).outcome as EnrollmentOutcome.NotEnrolled
            assertEquals("consent_declined", declined.failureId)
            assertThrows<LifecertException.BadInput> { session.giveConsent(true) }
        }
        // Every variant is a LifecertException.
        val any: LifecertException = assertThrows<LifecertException> {
            verifyAttestation("{}", keys.devicePublic(), SERVER_NONCE, REPLAY)
        }
        assertTrue(any is LifecertException.TamperedOrWrongKey)
    }
}
