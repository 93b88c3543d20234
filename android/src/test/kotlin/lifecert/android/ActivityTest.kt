package lifecert.android

import android.Manifest
import android.app.Activity
import android.app.Application
import android.content.Intent
import android.speech.tts.TextToSpeech
import android.view.Surface
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.FrameLayout
import android.widget.TextView
import java.io.File
import java.nio.file.Files
import java.util.Locale
import java.util.concurrent.AbstractExecutorService
import java.util.concurrent.ExecutorService
import java.util.concurrent.TimeUnit
import javax.crypto.KeyGenerator
import lifecert.android.keys.AesGcmKeyWrapper
import lifecert.android.keys.FileBlobStore
import lifecert.android.keys.KeyVault
import lifecert.android.platform.AndroidPermissions
import lifecert.android.platform.TtsSpeech
import lifecert.android.session.CertificationBackend
import lifecert.android.session.CertificationInputs
import lifecert.android.session.Devices
import lifecert.android.session.EnrollmentBackend
import lifecert.android.session.NextStep
import lifecert.android.session.Person
import lifecert.android.session.ScreenState
import lifecert.android.ui.LifecertActivity
import lifecert.android.ui.LifecertHost
import lifecert.android.ui.ShellScreenView
import lifecert.android.ui.ScreenActions
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowLooper
import org.robolectric.shadows.ShadowTextToSpeech
import uniffi.lifecert_ffi.ChallengeSource
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EngineOptions
import uniffi.lifecert_ffi.EnrollmentOutcome

/** Runs the controllers inline (Robolectric: the test thread is the main thread). */
class DirectExecutor : AbstractExecutorService() {
    @Volatile
    private var down = false

    override fun execute(command: Runnable) = command.run()

    override fun shutdown() {
        down = true
    }

    override fun shutdownNow(): MutableList<Runnable> = mutableListOf<Runnable>().also { down = true }

    override fun isShutdown() = down

    override fun isTerminated() = down

    override fun awaitTermination(timeout: Long, unit: TimeUnit) = true
}

/**
 * The app around the shell in the Activity tests: the real engine (configured for recordings) and key vault
 * (a JCE wrapping key: Robolectric has no Android Keystore), the phone replayed — camera frames and audio pushed
 * by the test, as Robolectric's camera shadows deliver no images — but the real `TtsSpeech` on Robolectric's
 * `TextToSpeech` and the real permission checks.
 */
class ShellTestHost : Application(), LifecertHost {
    val phone = ReplayPhone()
    var inputs: (() -> CertificationInputs)? = null
    val certified = mutableListOf<String>()

    override fun engine(): Engine = ENGINE

    override fun keyVault(activity: Activity) = VAULT

    override fun worker(): ExecutorService = DirectExecutor()

    override fun devices(activity: Activity, speech: TtsSpeech, preview: () -> Surface?) =
        Devices(phone.camera, phone.microphone, speech, phone.ticker, AndroidPermissions(activity), newClock = { phone.clock.now = 0; phone.clock })

    override fun certificationBackend() = object : CertificationBackend {
        override fun prepare(person: Person) = inputs?.invoke()

        override fun certified(person: Person, attestationJson: String) {
            certified += attestationJson
        }

        override fun notCertified(person: Person, failureId: String) {}
    }

    override fun enrollmentBackend() = object : EnrollmentBackend {
        override fun nowUnix() = NOW

        override fun enrolled(person: Person, outcome: EnrollmentOutcome.Enrolled) {}

        override fun notEnrolled(person: Person, failureId: String) {}
    }

    companion object {
        const val NOW = 1_796_184_000L
        val ENGINE: Engine by lazy { Engine.withOptions(EngineOptions(forRecordings = true)) }
        val VAULT: KeyVault by lazy {
            val wrapping = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
            KeyVault(AesGcmKeyWrapper { wrapping }, FileBlobStore(Files.createTempDirectory("lifecert-keys").toFile()))
        }
    }
}

/**
 * The Activity under Robolectric (API 35) with the real native library: its screens are built, in large type; a
 * whole certification in Mandarin runs through it (the GRID clip of the controller tests), `TextToSpeech` is asked
 * to speak the core's prompt with the Mandarin voice, and the result screen shows the core's success text; a
 * refused permission shows the message and asks the system for exactly the refused permissions.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = ShellTestHost::class)
class ActivityTest {
    private val host get() = RuntimeEnvironment.getApplication() as ShellTestHost

    @Before
    fun voices() {
        ShadowTextToSpeech.addLanguageAvailability(Locale.SIMPLIFIED_CHINESE)
        ShadowTextToSpeech.addLanguageAvailability(Locale.ENGLISH)
    }

    private fun launch(language: String): LifecertActivity {
        val intent = Intent(RuntimeEnvironment.getApplication(), LifecertActivity::class.java)
            .putExtra(LifecertActivity.EXTRA_LANGUAGE, language)
        val activity = Robolectric.buildActivity(LifecertActivity::class.java, intent).setup().get()
        shadowOf(activity.speechEngine!!.tts).onInitListener.onInit(TextToSpeech.SUCCESS)
        idle()
        return activity
    }

    private fun idle() = ShadowLooper.idleMainLooper()

    private fun <V : View> Activity.tagged(tag: String): V =
        checkNotNull(window.decorView.findViewWithTag<V>(tag)) { "no view tagged $tag on ${textsOn(this)}" }

    private fun textsOn(activity: Activity): List<String> = views(activity.window.decorView).filterIsInstance<TextView>().map { it.text.toString() }

    private fun views(v: View): List<View> = listOf(v) + if (v is ViewGroup) (0 until v.childCount).flatMap { views(v.getChildAt(it)) } else emptyList()

    /** Every text on screen is at least the body size (26 sp). */
    private fun assertLargeType(activity: Activity) {
        val body = android.util.TypedValue.applyDimension(android.util.TypedValue.COMPLEX_UNIT_SP, ShellScreenView.BODY_SP, activity.resources.displayMetrics)
        for (t in views(activity.findViewById<View>(android.R.id.content)!!).filterIsInstance<TextView>().filter { it.text.isNotEmpty() }) {
            assertTrue("'${t.text}' is ${t.textSize} px, under ${ShellScreenView.BODY_SP} sp ($body px)", t.textSize >= body - 0.01f)
        }
    }

    private fun click(activity: Activity, tag: String) {
        assertTrue(activity.tagged<Button>(tag).performClick())
        idle()
    }

    private fun fillTheForm(activity: Activity) {
        activity.tagged<EditText>(ShellScreenView.TAG_NAME).setText(NAME)
        activity.tagged<EditText>(ShellScreenView.TAG_ID_NUMBER).setText(ID_NUMBER)
        activity.tagged<EditText>(ShellScreenView.TAG_PHONE).setText("13800138000")
        click(activity, ShellScreenView.TAG_NEXT)
    }

    @Test
    fun aCertificationInMandarinSpeaksThePromptAndShowsTheResult() {
        val data = evalData()
        shadowOf(host).grantPermissions(Manifest.permission.CAMERA, Manifest.permission.RECORD_AUDIO)
        val enrolled = enrollThroughTheController(host.engine(), ShellTestHost.VAULT, Clip(File(data, "video_talking/grid_pwij3p.mpg")).frames, NAME, ID_NUMBER, ShellTestHost.NOW)
        host.inputs = {
            CertificationInputs(enrolled.sealedTemplate, serverNonce = ByteArray(16) { 5 }, certificationYear = 2026, nowUnix = ShellTestHost.NOW,
                previousFailures = 0, challenge = ChallengeSource.Supplied(byteArrayOf(2)))
        }
        val activity = launch("zh-Hans")
        assertEquals("谁在办理认证？", activity.tagged<TextView>(ShellScreenView.TAG_TITLE).text.toString())
        assertLargeType(activity)
        click(activity, ShellScreenView.TAG_RELATION + "child")
        assertEquals("请填写老人的信息", activity.tagged<TextView>(ShellScreenView.TAG_TITLE).text.toString())
        assertLargeType(activity)
        fillTheForm(activity)
        assertTrue(activity.certification!!.state is ScreenState.Consent)
        assertLargeType(activity)
        click(activity, ShellScreenView.TAG_AGREE)
        assertTrue(activity.certification!!.state is ScreenState.Capture)
        assertNotNull(activity.tagged<View>(ShellScreenView.TAG_OVAL))

        val tts = shadowOf(activity.speechEngine!!.tts)
        val clip = Clip(File(data, "video_talking/grid_id2_vcd_swwp2s.mpg"))
        var digitsShown = ""
        val ranOut = host.phone.replay(clip.frames, clip.audio, finished = { activity.certification!!.state is ScreenState.Result }, afterEach = {
            idle()
            if (activity.certification!!.state is ScreenState.Capture) {
                digitsShown = activity.tagged<TextView>(ShellScreenView.TAG_DIGITS).text.toString().ifEmpty { digitsShown }
            }
        })
        if (ranOut) activity.certification!!.running!!.endOfInput()
        idle()
        assertEquals("the digits were on screen", "2", digitsShown)
        assertTrue(tts.spokenTextList.toString(), "请大声读出这几个数字：2" in tts.spokenTextList)
        assertEquals(Locale.SIMPLIFIED_CHINESE, tts.currentLanguage)

        val result = activity.certification!!.state as ScreenState.Result
        assertTrue("certified: $result", result.success)
        assertEquals(1, host.certified.size)
        assertEquals("认证成功", activity.tagged<TextView>(ShellScreenView.TAG_RESULT_TITLE).text.toString())
        assertEquals("认证成功，您2026年度的养老金资格认证已完成", activity.tagged<TextView>(ShellScreenView.TAG_RESULT_TEXT).text.toString())
        assertLargeType(activity)
        click(activity, ShellScreenView.TAG_DONE)
        assertTrue(activity.isFinishing)
    }

    @Test
    fun aRefusedPermissionShowsTheMessageAndAsksTheSystemAgain() {
        host.inputs = null
        val activity = launch("en")
        click(activity, ShellScreenView.TAG_SELF)
        fillTheForm(activity)
        click(activity, ShellScreenView.TAG_AGREE)
        assertEquals(
            "The certification needs the camera and the microphone. Please tap the button below to allow them.",
            activity.tagged<TextView>(ShellScreenView.TAG_PERMISSION_MESSAGE).text.toString(),
        )
        assertLargeType(activity)
        assertEquals(0, host.phone.camera.starts)
        click(activity, ShellScreenView.TAG_ALLOW)
        val asked = shadowOf(activity).lastRequestedPermission
        assertEquals(LifecertActivity.REQUEST_PERMISSIONS, asked.requestCode)
        assertEquals(setOf(Manifest.permission.CAMERA, Manifest.permission.RECORD_AUDIO), asked.requestedPermissions.toSet())
        click(activity, ShellScreenView.TAG_SETTINGS)
        assertEquals(android.provider.Settings.ACTION_APPLICATION_DETAILS_SETTINGS, shadowOf(activity).nextStartedActivity.action)

        // Only the microphone granted: the message says what is still missing.
        shadowOf(host).grantPermissions(Manifest.permission.RECORD_AUDIO)
        @Suppress("DEPRECATION")
        activity.onRequestPermissionsResult(LifecertActivity.REQUEST_PERMISSIONS, asked.requestedPermissions, intArrayOf(-1, 0))
        idle()
        assertEquals(
            "The certification needs the camera. Please tap the button below to allow it.",
            activity.tagged<TextView>(ShellScreenView.TAG_PERMISSION_MESSAGE).text.toString(),
        )
        assertEquals(0, host.phone.camera.starts)
    }

    @Test
    fun theResultScreenShowsTheSmsTextAndTheWayOn() {
        val activity = Robolectric.buildActivity(Activity::class.java).setup().get()
        val root = FrameLayout(activity).also { activity.setContentView(it) }
        var tried = 0
        val view = ShellScreenView(activity, root, object : ScreenActions {
            override fun chooseWho(relation: String?) {}
            override fun submitIdentity(name: String, idNumber: String, phone: String) {}
            override fun consent(accepted: Boolean) {}
            override fun skipDocuments() {}
            override fun tryAgain() {
                tried++
            }
            override fun finish() {}
            override fun requestPermissions(missing: Set<lifecert.android.session.Permission>) {}
            override fun openSettings() {}
        })
        val sms = "【社保】张*您好，您2026年度的养老金领取资格认证已完成，本年度无需再次认证。"
        view.render(ScreenState.Result("zh-Hans", true, "认证成功，您2026年度的养老金资格认证已完成", null, sms, NextStep.DONE))
        assertEquals(sms, activity.tagged<TextView>(ShellScreenView.TAG_SMS).text.toString())
        assertTrue("稍后您会收到这条短信：" in textsOn(activity))
        assertLargeType(activity)

        view.render(ScreenState.Result("en", false, "Your 2026 certification isn't finished yet.", "Please face the phone", null, NextStep.TRY_AGAIN))
        assertNull(root.findViewWithTag<TextView>(ShellScreenView.TAG_SMS))
        assertEquals("Please face the phone", activity.tagged<TextView>(ShellScreenView.TAG_REASON).text.toString())
        click(activity, ShellScreenView.TAG_TRY_AGAIN)
        assertEquals(1, tried)
        assertFalse(root.findViewWithTag<View>(ShellScreenView.TAG_DONE) != null)
    }

    private companion object {
        const val NAME = "张三"
        const val ID_NUMBER = "11010519491231002X"
    }
}
