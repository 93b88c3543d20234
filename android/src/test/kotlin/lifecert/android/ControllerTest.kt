package lifecert.android

import java.io.File
import java.nio.file.Files
import javax.crypto.KeyGenerator
import lifecert.android.keys.AesGcmKeyWrapper
import lifecert.android.keys.FileBlobStore
import lifecert.android.keys.KeyVault
import lifecert.android.session.CertificationBackend
import lifecert.android.session.CertificationController
import lifecert.android.session.CertificationInputs
import lifecert.android.session.NextStep
import lifecert.android.session.Permission
import lifecert.android.session.Person
import lifecert.android.session.ScreenState
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import uniffi.lifecert_ffi.ChallengeSource
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EngineOptions
import uniffi.lifecert_ffi.EnrollmentOutcome
import uniffi.lifecert_ffi.SessionPhase
import uniffi.lifecert_ffi.VerifyOptions
import uniffi.lifecert_ffi.verifyAttestation

/**
 * The controllers on the JVM against the real native library, with the phone replayed: speaker B of the GRID corpus
 * enrolls through the [EnrollmentController] from one clip and is certified through the [CertificationController]
 * from another — its frames delivered as a front camera's NV21 buffers (sensor at 270°, padded rows, handed over in
 * place), its audio in chunks, the prompt's timing reported by the speech engine — and the attestation verifies. A
 * still photo with the real voice is not certified with the core's lips message; a refused permission is shown
 * and nothing starts until it is granted; a refused ID number shows the core's reason. Same clips, enrollment and
 * supplied challenge as the bindings' Kotlin session tests.
 */
class ControllerTest {
    class Backend(private val inputs: () -> CertificationInputs) : CertificationBackend {
        val certified = mutableListOf<String>()
        val failures = mutableListOf<String>()

        override fun prepare(person: Person) = inputs()

        override fun certified(person: Person, attestationJson: String) {
            certified += attestationJson
        }

        override fun notCertified(person: Person, failureId: String) {
            failures += failureId
        }
    }

    private fun inputs() = CertificationInputs(
        sealedTemplate = enrolled.sealedTemplate,
        serverNonce = NONCE,
        certificationYear = 2026,
        nowUnix = NOW,
        previousFailures = 0,
        challenge = ChallengeSource.Supplied(byteArrayOf(2)),
    )

    /** Runs a certification through the controller, replaying [frames] with the clip's audio. */
    private fun certify(frames: List<Nv21>, phone: ReplayPhone = ReplayPhone(), backend: Backend = Backend(::inputs)): Pair<CertificationController, ReplayPhone> {
        val controller = CertificationController(engine, backend, vault::certificationKeys, phone.devices, { phone.screens += it }, "en")
        controller.start()
        assertTrue(controller.state is ScreenState.WhoIsCertifying)
        controller.chooseWho("child")
        controller.submitIdentity(NAME, ID_NUMBER, PHONE)
        assertTrue(controller.state is ScreenState.Consent)
        controller.consent(true)
        val capture = controller.state as ScreenState.Capture
        assertEquals("recordings skip positioning", SessionPhase.LIVENESS, capture.phase)
        assertTrue(phone.camera.running && phone.microphone.running)
        val ranOut = phone.replay(frames, clips.second.audio, finished = { controller.state is ScreenState.Result })
        if (ranOut) controller.running!!.endOfInput()
        return controller to phone
    }

    @Test
    fun theGenuineClipIsCertifiedAndTheAttestationVerifies() {
        val backend = Backend(::inputs)
        val (controller, phone) = certify(clips.second.frames, backend = backend)
        val result = controller.state as ScreenState.Result
        assertTrue("certified: $result (failures ${backend.failures})", result.success)
        assertEquals(NextStep.DONE, result.next)
        assertEquals("All done. Your 2026 pension certification is complete", result.text)
        assertNull(result.reason)
        // The confirmation SMS the core wrote (provincial text, masked name, the year) is on the result screen.
        val sms = result.smsText ?: error("no SMS text on the result screen")
        assertTrue("SMS: $sms", sms.contains("2026") && !sms.contains("张三"))

        // The prompt was spoken in the session's language, and the digits were shown while it was read.
        assertTrue(phone.speech.said.any { it.text == "Please read these numbers aloud: 2" && it.language == "en" })
        assertTrue(phone.screens.filterIsInstance<ScreenState.Capture>().any { it.digits == listOf(2) })
        val progress = phone.screens.filterIsInstance<ScreenState.Capture>().map { it.progress }
        assertTrue("progress moves: $progress", progress.last() > progress.first())

        // Every frame went to the core in place; the devices stopped at the outcome.
        assertTrue(phone.camera.framesInPlace > 0)
        assertEquals(0, phone.camera.framesCopied)
        assertFalse(phone.camera.running || phone.microphone.running)
        assertNull(phone.ticker.action)

        // A replayed recording: its supplied challenge, the replay configuration and digits only
        // counted (no voice enrollment) are each accepted explicitly here.
        val replay = VerifyOptions(acceptSuppliedChallenge = true, acceptRecordingReplay = true, acceptCountOnly = true)
        val summary = verifyAttestation(backend.certified.single(), vault.devicePublicKey(), NONCE, replay)
        assertEquals("supplied", summary.challengeOrigin)
        assertEquals("child", summary.proxyRelation)
        assertEquals(enrolled.subjectHex, summary.subjectHex)
        assertTrue(summary.faceAccepted)
    }

    @Test
    fun aStillPhotoWithTheRealVoiceIsNotCertifiedWithTheLipsMessage() {
        val backend = Backend(::inputs)
        val clip = clips.second
        val (controller, _) = certify(List(clip.frames.size) { clip.frames[0] }, backend = backend)
        val result = controller.state as ScreenState.Result
        assertFalse(result.success)
        assertEquals(listOf("liveness:lips_not_moving_with_voice"), backend.failures)
        assertEquals("Please face the phone and read the numbers yourself, so we can see your lips move", result.reason)
        assertEquals(NextStep.TRY_AGAIN, result.next)
        assertTrue(result.text, result.text.startsWith("Your 2026 certification isn't finished yet"))
        assertNull(result.smsText)
        assertTrue(backend.certified.isEmpty())
    }

    @Test
    fun aRefusedPermissionIsShownAndNothingStartsUntilItIsGranted() {
        val phone = ReplayPhone(missing = setOf(Permission.MICROPHONE))
        // The language as a phone names it: the core resolves zh-CN to its Simplified Chinese.
        val controller = CertificationController(engine, Backend(::inputs), vault::certificationKeys, phone.devices, { phone.screens += it }, "zh-CN")
        controller.start()
        controller.chooseWho(null)
        controller.submitIdentity(NAME, ID_NUMBER, PHONE)
        controller.consent(true)
        assertEquals(ScreenState.PermissionNeeded("zh-Hans", setOf(Permission.MICROPHONE)), controller.state)
        assertEquals(0, phone.camera.starts + phone.microphone.starts)
        controller.permissionsChanged()
        assertTrue("still refused", controller.state is ScreenState.PermissionNeeded)
        phone.missing = emptySet()
        controller.permissionsChanged()
        val capture = controller.state as ScreenState.Capture
        assertEquals("zh-Hans", capture.language)
        assertTrue(phone.camera.running && phone.microphone.running)
        controller.cancel()
        assertFalse(phone.camera.running || phone.microphone.running)
    }

    @Test
    fun aRefusedIdNumberShowsTheCoresReasonAndARefusedRelationTooBeforeAnythingStarts() {
        val phone = ReplayPhone()
        val controller = CertificationController(engine, Backend(::inputs), vault::certificationKeys, phone.devices, { phone.screens += it }, "en")
        controller.start()
        controller.chooseWho(null)
        controller.submitIdentity(NAME, "110105194912310021", PHONE)
        val form = controller.state as ScreenState.IdentityForm
        assertTrue(form.idNumberError!!, form.idNumberError.contains("check character"))
        assertEquals("110105194912310021", form.idNumber)

        controller.chooseWho("x".repeat(40))
        controller.submitIdentity(NAME, ID_NUMBER, PHONE)
        controller.consent(true)
        val refused = controller.state as ScreenState.IdentityForm
        assertTrue(refused.error!!, refused.error.contains("proxy relation"))
        assertEquals(0, phone.camera.starts)
    }

    companion object {
        const val NAME = "张三"
        const val ID_NUMBER = "11010519491231002X"
        const val PHONE = "13800138000"
        const val NOW = 1_796_184_000L
        val NONCE = ByteArray(16) { 5 }

        private val engine by lazy { Engine.withOptions(EngineOptions(forRecordings = true)) }
        private val vault by lazy {
            val wrapping = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
            KeyVault(AesGcmKeyWrapper { wrapping }, FileBlobStore(Files.createTempDirectory("lifecert-keys").toFile()))
        }
        private val clips by lazy {
            val data = evalData()
            Clip(File(data, "video_talking/grid_pwij3p.mpg")) to Clip(File(data, "video_talking/grid_id2_vcd_swwp2s.mpg"))
        }

        /** Speaker B enrolled through the enrollment controller from grid_pwij3p. */
        private val enrolled: EnrollmentOutcome.Enrolled by lazy {
            enrollThroughTheController(engine, vault, clips.first.frames, NAME, ID_NUMBER, NOW)
        }

        @JvmStatic
        @AfterClass
        fun close() = engine.close()
    }
}
