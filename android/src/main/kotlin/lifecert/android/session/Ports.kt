package lifecert.android.session

import lifecert.android.camera.FrameBytes

// The shell's contact with the phone, as interfaces: the controllers drive these and the tests replace them.
// The Android implementations are in lifecert.android.platform; none of them decides anything.

/** The session clock: milliseconds since the session started. Frames, audio and prompts all use it. */
fun interface Clock {
    /** Milliseconds since the session started. */
    fun nowMs(): Long

    /**
     * A time stamped on the system's elapsed-realtime clock (nanoseconds since boot: Camera2 `REALTIME` sensor
     * timestamps, `AudioTimestamp.TIMEBASE_BOOTTIME`) on this clock; `null` when this clock is not tied to it.
     */
    fun fromElapsedRealtimeNanos(nanos: Long): Long? = null
}

/** Receives camera frames; the frame's bytes are valid only during the call. */
fun interface FrameSink {
    /** One frame taken at [timestampMs] on the session clock. */
    fun onFrame(frame: FrameBytes, timestampMs: Long)
}

/** The front camera. */
interface Camera {
    /** Opens the camera and streams frames to [sink], stamped on [clock]. */
    fun start(clock: Clock, sink: FrameSink)

    /** Closes the camera; no frame arrives after it returns. */
    fun stop()
}

/** Receives microphone audio: 16 kHz mono PCM16; `pcm[0 until length]` is valid only during the call. */
fun interface AudioSink {
    /** A chunk of audio whose first sample was recorded at [startMs] on the session clock. */
    fun onAudio(pcm: ShortArray, length: Int, startMs: Long)
}

/** The microphone. */
interface Microphone {
    /** Starts recording to [sink], stamped on [clock]. */
    fun start(clock: Clock, sink: AudioSink)

    /** Stops recording; no chunk arrives after it returns. */
    fun stop()
}

/** Something to say aloud. [id] is unique per request; [language] is the session's BCP-47 tag. */
data class SpokenText(val id: String, val text: String, val language: String)

/** When the speech engine starts and finishes saying a [SpokenText]. */
interface SpeechListener {
    /** The engine started speaking [id]. */
    fun onStart(id: String)

    /** The engine finished (or dropped) [id]. */
    fun onDone(id: String)
}

/** Text-to-speech. */
interface Speech {
    /** Queues [text] after whatever is being said and reports its start and end to [listener]. */
    fun speak(text: SpokenText, listener: SpeechListener)

    /** Stops speaking and drops the queue. */
    fun stop()
}

/** A repeating timer (the session's `tick` when no frame arrives). */
interface Ticker {
    /** Calls [action] every [periodMs] until [stop]. */
    fun start(periodMs: Long, action: () -> Unit)

    /** Stops the calls. */
    fun stop()
}

/** What the shell needs the person to allow. */
enum class Permission { CAMERA, MICROPHONE }

/** The runtime permissions as granted now. */
fun interface Permissions {
    /** The permissions not granted (empty: all granted). */
    fun missing(): Set<Permission>
}

/** Where screen states go (the Activity renders them; tests record them). */
fun interface Screen {
    /** Shows [state]. May be called from any thread. */
    fun show(state: ScreenState)
}

/** The devices a session uses, together. */
class Devices(
    val camera: Camera,
    val microphone: Microphone,
    val speech: Speech,
    val ticker: Ticker,
    val permissions: Permissions,
    /** A new session clock started now (Android: `SystemClock.elapsedRealtime()` from now). */
    val newClock: () -> Clock,
)
