package lifecert.android

import java.util.Collections
import lifecert.android.camera.FramePacker
import lifecert.android.camera.Orientation
import lifecert.android.session.AudioSink
import lifecert.android.session.Camera
import lifecert.android.session.Clock
import lifecert.android.session.Devices
import lifecert.android.session.FrameSink
import lifecert.android.session.Microphone
import lifecert.android.session.Permission
import lifecert.android.session.ScreenState
import lifecert.android.session.Speech
import lifecert.android.session.SpeechListener
import lifecert.android.session.SpokenText
import lifecert.android.session.Ticker
import lifecert.android.keys.KeyVault
import lifecert.android.session.EnrollmentBackend
import lifecert.android.session.EnrollmentController
import lifecert.android.session.Person
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EnrollmentOutcome

// The phone, replayed: a clock the replay moves, a front camera whose sensor is mounted at 270° (the usual) and
// delivers NV21 in place with padded rows, a microphone fed from a clip's audio, and a speech engine whose prompts
// start when asked and end at a given time.

class VirtualClock : Clock {
    @Volatile
    var now = 0L

    override fun nowMs() = now
}

class ReplayCamera(private val sensorOrientation: Int = 270, private val displayRotation: Int = 0) : Camera {
    private var sink: FrameSink? = null
    private val packer = FramePacker()
    var starts = 0
    var stops = 0
    var framesInPlace = 0
    var framesCopied = 0

    val running get() = sink != null

    override fun start(clock: Clock, sink: FrameSink) {
        starts++
        this.sink = sink
    }

    override fun stop() {
        stops++
        sink = null
    }

    /** Delivers the upright picture [picture] as the sensor sees it, at [t]. */
    fun deliver(picture: Nv21, t: Long) {
        val sink = sink ?: return
        val rotation = Orientation.rotationDegrees(sensorOrientation, displayRotation, front = true)
        val mirrored = Orientation.mirrored(front = true)
        val frame = packer.pack(halImage(sensorBuffer(picture, rotation, mirrored), HalLayout.NV21_IN_PLACE), rotation, mirrored)
        if (frame.borrowed) framesInPlace++ else framesCopied++
        sink.onFrame(frame, t)
    }
}

class ReplayMicrophone : Microphone {
    private var sink: AudioSink? = null
    var starts = 0
    var stops = 0
    val running get() = sink != null

    override fun start(clock: Clock, sink: AudioSink) {
        starts++
        this.sink = sink
    }

    override fun stop() {
        stops++
        sink = null
    }

    fun deliver(pcm: ShortArray, length: Int, startMs: Long) = sink?.onAudio(pcm, length, startMs)
}

class ReplaySpeech : Speech {
    val said: MutableList<SpokenText> = Collections.synchronizedList(mutableListOf())
    val queue = ArrayDeque<Pair<SpokenText, SpeechListener>>()

    override fun speak(text: SpokenText, listener: SpeechListener) {
        synchronized(this) {
            said += text
            queue += text to listener
        }
    }

    override fun stop() = synchronized(this) { queue.clear() }

    fun take(): Pair<SpokenText, SpeechListener>? = synchronized(this) { queue.removeFirstOrNull() }
}

class ManualTicker : Ticker {
    var action: (() -> Unit)? = null

    override fun start(periodMs: Long, action: () -> Unit) {
        this.action = action
    }

    override fun stop() {
        action = null
    }
}

class ReplayPhone(var missing: Set<Permission> = emptySet()) {
    val clock = VirtualClock()
    val camera = ReplayCamera()
    val microphone = ReplayMicrophone()
    val speech = ReplaySpeech()
    val ticker = ManualTicker()
    val screens: MutableList<ScreenState> = Collections.synchronizedList(mutableListOf())
    val devices = Devices(camera, microphone, speech, ticker, { missing }, newClock = { clock.now = 0; clock })

    /**
     * Replays [frames] (t = i·40 ms) and [audio] (chunks of 20, 30 and 40 ms in turn) in time order, as the phone
     * would deliver them. What the session asks to say starts at once; it ends at max(t, [promptEndMs]) once the
     * replay reaches that time. Stops when [finished]; else the pending speech ends and the clock stands at [endMs].
     * [afterEach] runs after each frame or chunk (Robolectric: deliver what was posted to the main thread).
     * Returns whether the input ran out before the session finished.
     */
    fun replay(
        frames: List<Nv21>,
        audio: ShortArray,
        finished: () -> Boolean,
        promptEndMs: Long = 350,
        endMs: Long = 3000,
        afterEach: () -> Unit = {},
    ): Boolean {
        val chunks = intArrayOf(320, 480, 640)
        val pending = mutableListOf<Pair<Long, () -> Unit>>()
        val chunk = ShortArray(640)
        var nextFrame = 0
        var nextSample = 0
        var k = 0
        fun startSpeech(t: Long) {
            while (true) {
                val (text, listener) = speech.take() ?: break
                listener.onStart(text.id)
                pending += maxOf(t, promptEndMs) to { listener.onDone(text.id) }
            }
        }
        fun endSpeechUntil(t: Long) {
            pending.sortBy { it.first }
            while (pending.isNotEmpty() && pending.first().first <= t && !finished()) {
                val (end, done) = pending.removeAt(0)
                clock.now = end
                done()
            }
        }
        while ((nextFrame < frames.size || nextSample < audio.size) && !finished()) {
            val frameT = if (nextFrame < frames.size) nextFrame * 40L else Long.MAX_VALUE
            val audioT = if (nextSample < audio.size) nextSample / 16L else Long.MAX_VALUE
            val t = minOf(frameT, audioT)
            endSpeechUntil(t)
            if (finished()) break
            clock.now = t
            if (audioT == t) {
                val stop = minOf(nextSample + chunks[k++ % 3], audio.size)
                audio.copyInto(chunk, 0, nextSample, stop)
                microphone.deliver(chunk, stop - nextSample, t)
                nextSample = stop
            } else {
                camera.deliver(frames[nextFrame++], t)
            }
            afterEach()
            startSpeech(t)
        }
        if (finished()) return false
        endSpeechUntil(endMs)
        clock.now = endMs
        return !finished()
    }
}

/**
 * Enrolls the subject from [frames] (25 fps, no audio) through the [EnrollmentController] with a replayed phone:
 * consent, no ID photos, no actions, no voice digits (a recording cannot follow random actions).
 */
fun enrollThroughTheController(engine: Engine, vault: KeyVault, frames: List<Nv21>, name: String, idNumber: String, nowUnix: Long): EnrollmentOutcome.Enrolled {
    val phone = ReplayPhone()
    var enrolled: EnrollmentOutcome.Enrolled? = null
    val backend = object : EnrollmentBackend {
        override fun nowUnix() = nowUnix

        override fun enrolled(person: Person, outcome: EnrollmentOutcome.Enrolled) {
            enrolled = outcome
        }

        override fun notEnrolled(person: Person, failureId: String) = throw AssertionError("not enrolled: $failureId")
    }
    val controller = EnrollmentController(engine, backend, vault::enrollmentKeys, phone.devices, { phone.screens += it }, "en", actions = emptyList(), voiceDigits = false)
    controller.start()
    controller.submitIdentity(name, idNumber, "")
    val consent = controller.state as ScreenState.Consent
    assertNotNull("the core's consent text", consent.text)
    assertTrue("the consent is read aloud", phone.speech.said.any { it.text == consent.text })
    controller.consent(true)
    assertTrue(controller.state is ScreenState.IdDocuments)
    controller.skipDocuments()
    assertTrue(controller.state is ScreenState.Capture)
    if (phone.replay(frames, ShortArray(0), finished = { controller.state is ScreenState.Result }, endMs = frames.size * 40L)) {
        controller.running!!.endOfInput()
    }
    val result = controller.state as ScreenState.Result
    assertTrue("enrolled: $result", result.success)
    return checkNotNull(enrolled)
}
