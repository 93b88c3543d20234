package lifecert.android.ui

import android.app.Activity
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.provider.Settings
import android.util.Log
import android.view.Surface
import android.widget.FrameLayout
import java.util.Locale
import java.util.concurrent.Executor
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import lifecert.android.keys.KeyVault
import lifecert.android.platform.AndroidKeystore
import lifecert.android.platform.AndroidPermissions
import lifecert.android.platform.TtsSpeech
import lifecert.android.platform.androidDevices
import lifecert.android.session.CertificationBackend
import lifecert.android.session.CertificationController
import lifecert.android.session.Devices
import lifecert.android.session.EnrollmentBackend
import lifecert.android.session.EnrollmentController
import lifecert.android.session.Permission
import lifecert.android.session.Screen
import lifecert.android.session.ScreenState
import uniffi.lifecert_ffi.Engine

/**
 * What the app around the shell provides: its `Application` implements this. The backends connect the shell to the
 * app's records and the authority's server; the rest has defaults (the phone's devices, the Android Keystore).
 */
interface LifecertHost {
    /** The engine, made once per process (loading the models takes a moment; called off the main thread). */
    fun engine(): Engine

    fun certificationBackend(): CertificationBackend

    fun enrollmentBackend(): EnrollmentBackend

    /** The key vault (default: wrapped by the Android Keystore). */
    fun keyVault(activity: Activity): KeyVault = AndroidKeystore.vault(activity)

    /** The devices of a session (default: the phone's front camera, microphone, [speech], timer and permissions). */
    fun devices(activity: Activity, speech: TtsSpeech, preview: () -> Surface?): Devices =
        androidDevices(activity, speech, { @Suppress("DEPRECATION") activity.windowManager.defaultDisplay.rotation }, preview)

    /** Where the controllers run (opening a session and loading the engine take time: never the main thread). */
    fun worker(): ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "lifecert-shell") }
}

/**
 * The shell's one Activity: a certification (default) or an enrollment (`EXTRA_MODE` = `MODE_ENROLL`), in the
 * language of `EXTRA_LANGUAGE` (`zh-Hans`, `zh-Hant`, `en`, or any tag the core maps; default: the phone's).
 * Renders the controller's screen states, forwards the buttons, asks for the camera and microphone permissions and
 * sends the person to the settings when they were refused for good.
 */
open class LifecertActivity : Activity() {
    private lateinit var screenView: ShellScreenView
    private lateinit var worker: Executor
    private var ownWorker: ExecutorService? = null
    private var speech: TtsSpeech? = null
    private val main = Handler(Looper.getMainLooper())

    /** The running controller (tests reach the session through it). */
    var certification: CertificationController? = null
        private set
    var enrollment: EnrollmentController? = null
        private set

    /** The speech engine (tests reach its shadow). */
    val speechEngine: TtsSpeech? get() = speech

    override fun onCreate(savedInstanceState: Bundle?) {
        // No action bar: the whole screen is the shell's (also when the app's manifest gives no theme).
        setTheme(android.R.style.Theme_Material_Light_NoActionBar)
        super.onCreate(savedInstanceState)
        val root = FrameLayout(this)
        setContentView(root)
        val language = intent.getStringExtra(EXTRA_LANGUAGE) ?: defaultLanguage()
        screenView = ShellScreenView(this, root, Actions())
        val host = application as? LifecertHost
        if (host == null) {
            Log.e(TAG, "the Application does not implement LifecertHost")
            screenView.render(ScreenState.Problem(language, "no LifecertHost"))
            return
        }
        val speech = TtsSpeech(this).also { speech = it }
        worker = host.worker().also { ownWorker = it }
        screenView.render(ScreenState.Working(language))
        val screen = Screen { state -> main.post { screenView.render(state) } }
        val enroll = intent.getStringExtra(EXTRA_MODE) == MODE_ENROLL
        worker.execute {
            try {
                val engine = host.engine()
                val vault = host.keyVault(this)
                val devices = host.devices(this, speech) { screenView.previewSurface }
                if (enroll) {
                    enrollment = EnrollmentController(engine, host.enrollmentBackend(), vault::enrollmentKeys, devices, screen, language)
                        .also { it.start() }
                } else {
                    certification = CertificationController(engine, host.certificationBackend(), vault::certificationKeys, devices, screen, language)
                        .also { it.start() }
                }
            } catch (e: Exception) {
                Log.e(TAG, "the shell could not start", e)
                screen.show(ScreenState.Problem(language, e.toString()))
            }
        }
    }

    override fun onResume() {
        super.onResume()
        // Back from the settings: the permissions may have been granted there.
        if (screenView.shown is ScreenState.PermissionNeeded) permissionsChanged()
    }

    @Deprecated("Deprecated in Java")
    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        @Suppress("DEPRECATION")
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode == REQUEST_PERMISSIONS) permissionsChanged()
    }

    override fun onDestroy() {
        if (::worker.isInitialized) {
            worker.execute {
                certification?.cancel()
                enrollment?.cancel()
            }
        }
        ownWorker?.shutdown()
        speech?.shutdown()
        super.onDestroy()
    }

    private fun permissionsChanged() = worker.execute {
        certification?.permissionsChanged()
        enrollment?.permissionsChanged()
    }

    private inner class Actions : ScreenActions {
        override fun chooseWho(relation: String?) = worker.execute { certification?.chooseWho(relation) }

        override fun submitIdentity(name: String, idNumber: String, phone: String) = worker.execute {
            certification?.submitIdentity(name, idNumber, phone)
            enrollment?.submitIdentity(name, idNumber, phone)
        }

        override fun consent(accepted: Boolean) = worker.execute {
            certification?.consent(accepted)
            enrollment?.consent(accepted)
        }

        override fun skipDocuments() = worker.execute { enrollment?.skipDocuments() }

        override fun tryAgain() = worker.execute {
            certification?.tryAgain()
            enrollment?.tryAgain()
        }

        override fun finish() = this@LifecertActivity.finish()

        override fun requestPermissions(missing: Set<Permission>) {
            val names = missing.mapNotNull { AndroidPermissions.PERMISSIONS[it] }.toTypedArray()
            this@LifecertActivity.requestPermissions(names, REQUEST_PERMISSIONS)
        }

        override fun openSettings() {
            startActivity(Intent(Settings.ACTION_APPLICATION_DETAILS_SETTINGS, Uri.fromParts("package", packageName, null)))
        }
    }

    companion object {
        private const val TAG = "lifecert-shell"
        const val EXTRA_MODE = "lifecert.mode"
        const val MODE_CERTIFY = "certify"
        const val MODE_ENROLL = "enroll"
        const val EXTRA_LANGUAGE = "lifecert.language"
        const val REQUEST_PERMISSIONS = 7301

        /** The phone's language as a session language: Cantonese and Traditional Chinese → `zh-Hant`, Chinese → `zh-Hans`. */
        fun defaultLanguage(locale: Locale = Locale.getDefault()): String = when {
            locale.language == "yue" -> "zh-Hant"
            locale.language == "zh" && (locale.script == "Hant" || locale.country in setOf("HK", "MO", "TW")) -> "zh-Hant"
            locale.language == "zh" -> "zh-Hans"
            else -> "en"
        }
    }
}
