package lifecert.android.demo

import android.app.Activity
import android.app.Application
import android.content.Intent
import android.graphics.Color
import android.os.Bundle
import android.util.Log
import android.util.TypedValue
import android.widget.Button
import android.widget.LinearLayout
import java.io.File
import java.security.SecureRandom
import java.util.Calendar
import lifecert.android.session.CertificationBackend
import lifecert.android.session.CertificationInputs
import lifecert.android.session.EnrollmentBackend
import lifecert.android.session.Person
import lifecert.android.ui.LifecertActivity
import lifecert.android.ui.LifecertHost
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EnrollmentOutcome

/**
 * The debug APK's app around the shell — a demonstration, not a product: one person enrolls on the phone and then
 * certifies. There is no authority server here, so the nonce is drawn on the phone and the signed attestation is
 * only written to the app's files; a real app gets the nonce from the authority and sends the attestation back.
 */
class DemoApplication : Application(), LifecertHost {
    private val engine by lazy { Engine() }
    private val enrolled get() = File(filesDir, "enrolled-template.bin")
    private val voice get() = File(filesDir, "enrolled-voice.bin")
    private val failures get() = getSharedPreferences("lifecert-demo", MODE_PRIVATE)

    override fun engine(): Engine = engine

    override fun enrollmentBackend() = object : EnrollmentBackend {
        override fun nowUnix() = System.currentTimeMillis() / 1000

        override fun enrolled(person: Person, outcome: EnrollmentOutcome.Enrolled) {
            enrolled.writeBytes(outcome.sealedTemplate) // sealed by the core: unreadable without the sealing key
            outcome.sealedVoiceProfile?.let(voice::writeBytes) ?: voice.delete()
        }

        override fun notEnrolled(person: Person, failureId: String) = Log.i(TAG, "not enrolled: $failureId").let {}
    }

    override fun certificationBackend() = object : CertificationBackend {
        override fun prepare(person: Person): CertificationInputs? {
            if (!enrolled.isFile) return null
            return CertificationInputs(
                sealedTemplate = enrolled.readBytes(),
                sealedVoiceProfile = voice.takeIf { it.isFile }?.readBytes(),
                serverNonce = ByteArray(16).also(SecureRandom()::nextBytes),
                certificationYear = Calendar.getInstance().get(Calendar.YEAR),
                nowUnix = System.currentTimeMillis() / 1000,
                previousFailures = failures.getInt(today(), 0),
            )
        }

        override fun certified(person: Person, attestationJson: String) {
            File(filesDir, "attestation.json").writeText(attestationJson)
        }

        override fun notCertified(person: Person, failureId: String) {
            failures.edit().putInt(today(), failures.getInt(today(), 0) + 1).apply()
        }
    }

    private fun today() = Calendar.getInstance().let { "failures-${it.get(Calendar.YEAR)}-${it.get(Calendar.DAY_OF_YEAR)}" }

    private companion object {
        const val TAG = "lifecert-demo"
    }
}

/** The launcher: enroll, or certify. */
class DemoActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        setTheme(android.R.style.Theme_Material_Light_NoActionBar)
        super.onCreate(savedInstanceState)
        val column = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setBackgroundColor(Color.WHITE)
            setPadding(48, 96, 48, 48)
        }
        for ((label, mode) in listOf("登记 Enroll" to LifecertActivity.MODE_ENROLL, "认证 Certify" to LifecertActivity.MODE_CERTIFY)) {
            column.addView(Button(this).apply {
                text = label
                isAllCaps = false
                setTextSize(TypedValue.COMPLEX_UNIT_SP, 32f)
                setOnClickListener {
                    startActivity(Intent(this@DemoActivity, LifecertActivity::class.java).putExtra(LifecertActivity.EXTRA_MODE, mode))
                }
            })
        }
        setContentView(column)
    }
}
