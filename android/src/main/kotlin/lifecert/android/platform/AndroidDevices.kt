package lifecert.android.platform

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.os.SystemClock
import android.view.Surface
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.ScheduledFuture
import java.util.concurrent.TimeUnit
import lifecert.android.session.Clock
import lifecert.android.session.Devices
import lifecert.android.session.Permission
import lifecert.android.session.Permissions
import lifecert.android.session.Ticker

/** The session clock: `SystemClock.elapsedRealtime()` from the moment it is made (never jumps, counts in sleep). */
class ElapsedRealtimeClock : Clock {
    private val startNanos = SystemClock.elapsedRealtimeNanos()

    override fun nowMs(): Long = (SystemClock.elapsedRealtimeNanos() - startNanos) / 1_000_000

    override fun fromElapsedRealtimeNanos(nanos: Long): Long = (nanos - startNanos) / 1_000_000
}

/** A timer on its own thread. */
class ExecutorTicker : Ticker {
    private var executor: ScheduledExecutorService? = null
    private var task: ScheduledFuture<*>? = null

    @Synchronized
    override fun start(periodMs: Long, action: () -> Unit) {
        stop()
        val e = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "lifecert-tick").apply { isDaemon = true } }
        executor = e
        task = e.scheduleWithFixedDelay(action, periodMs, periodMs, TimeUnit.MILLISECONDS)
    }

    @Synchronized
    override fun stop() {
        task?.cancel(false)
        executor?.shutdown()
        task = null
        executor = null
    }
}

/** The runtime permissions the shell needs, as granted now. */
class AndroidPermissions(private val context: Context) : Permissions {
    override fun missing(): Set<Permission> = PERMISSIONS.filterValues {
        context.checkSelfPermission(it) != PackageManager.PERMISSION_GRANTED
    }.keys

    companion object {
        /** The Android permission of each [Permission]. */
        val PERMISSIONS = mapOf(Permission.CAMERA to Manifest.permission.CAMERA, Permission.MICROPHONE to Manifest.permission.RECORD_AUDIO)
    }
}

/** The phone's own devices: front camera, microphone, text-to-speech, timer, permissions, clock. */
fun androidDevices(context: Context, speech: TtsSpeech, displayRotation: () -> Int, preview: () -> Surface?) = Devices(
    camera = Camera2Source(context, displayRotation, preview),
    microphone = AudioRecordSource(),
    speech = speech,
    ticker = ExecutorTicker(),
    permissions = AndroidPermissions(context),
    newClock = ::ElapsedRealtimeClock,
)
