package lifecert.android.session

import java.util.concurrent.atomic.AtomicLong
import lifecert.android.camera.FrameBytes
import uniffi.lifecert_ffi.GuideOval
import uniffi.lifecert_ffi.LifecertException
import uniffi.lifecert_ffi.UtteranceKind

/**
 * Runs one session: starts the camera, microphone and timer, feeds the session every frame, audio chunk, tick and
 * prompt timing on one clock, shows each update and says what it asks to say, and stops everything at the outcome.
 * No decision is made here. Calls from the camera, microphone, speech and timer threads are taken one at a time.
 */
class SessionDriver<O : Any>(
    private val feed: SessionFeed<O>,
    private val devices: Devices,
    private val screen: Screen,
    private val oval: GuideOval,
    /** Called once with the outcome (on the thread whose input finished the session). */
    private val onOutcome: (O) -> Unit,
    /** Called once when the session fails in a way that is not an outcome (a bug or a broken device). */
    private val onProblem: (Exception) -> Unit,
) {
    private val lock = Any()
    private lateinit var clock: Clock
    private var capture: ScreenState.Capture? = null
    private var finished = false
    private val lastInput = AtomicLong(0)
    private var spoken = 0
    private var busy = false
    private val deferred = ArrayDeque<() -> SessionView<O>>()

    /** The session's language. */
    val language: String get() = feed.language

    /** Starts the devices; the session runs from now (t = 0). */
    fun start() {
        clock = devices.newClock()
        synchronized(lock) { show(null) }
        devices.ticker.start(TICK_MS) { onTick() }
        devices.microphone.start(clock) { pcm, length, startMs -> onAudio(pcm, length, startMs) }
        devices.camera.start(clock) { frame, t -> onFrame(frame, t) }
    }

    /** Stops the devices and the speech and closes the session (no outcome). */
    fun cancel() = finish()

    /** The person finished (e.g. a replay that ran out): ends the input at the clock's now. */
    fun endOfInput() = feedSafely { feed.endOfInput(clock.nowMs()) }

    internal fun onFrame(frame: FrameBytes, timestampMs: Long) = feedSafely { feed.frame(frame, timestampMs) }

    internal fun onAudio(pcm: ShortArray, length: Int, startMs: Long) =
        feedSafely { feed.audio(pcm.asList().subList(0, length), startMs) }

    private fun onTick() {
        val now = clock.nowMs()
        if (now - lastInput.get() >= TICK_MS) feedSafely { feed.tick(now) }
    }

    private fun feedSafely(call: () -> SessionView<O>) {
        synchronized(lock) {
            // A speech engine may report a start or end from inside `speak` (on this thread, lock held):
            // those calls wait until the update being shown is done, so updates are shown in order.
            if (busy) {
                deferred.addLast(call)
                return
            }
            busy = true
            try {
                var next: (() -> SessionView<O>)? = call
                while (next != null && !finished) {
                    val view = try {
                        next()
                    } catch (e: LifecertException) {
                        problem(e)
                        return
                    }
                    lastInput.set(clock.nowMs())
                    show(view)
                    next = deferred.removeFirstOrNull()
                }
            } finally {
                busy = false
                deferred.clear()
            }
        }
    }

    private fun show(view: SessionView<O>?) {
        if (view != null) {
            for (u in view.speak) say(u.text, isPrompt = u.kind == UtteranceKind.PROMPT)
            view.outcome?.let { outcome ->
                finish()
                onOutcome(outcome)
                return
            }
        }
        val state = if (view == null) {
            ScreenState.Capture(feed.language, feed.phase(), null, emptyList(), null, 0f, null, oval)
        } else {
            ScreenMapping.capture(feed.language, view, capture, oval)
        }
        capture = state
        screen.show(state)
    }

    private fun say(text: String, isPrompt: Boolean) {
        val id = "lifecert-${++spoken}"
        val listener = if (!isPrompt) QUIET else object : SpeechListener {
            override fun onStart(id: String) = feedSafely { feed.promptStarted(clock.nowMs()) }

            override fun onDone(id: String) = feedSafely { feed.promptFinished(clock.nowMs()) }
        }
        devices.speech.speak(SpokenText(id, text, feed.language), listener)
    }

    private fun problem(e: Exception) {
        finish()
        onProblem(e)
    }

    private fun finish() {
        synchronized(lock) {
            if (finished) return
            finished = true
        }
        devices.ticker.stop()
        devices.camera.stop()
        devices.microphone.stop()
        feed.close()
    }

    private companion object {
        const val TICK_MS = 200L
        val QUIET = object : SpeechListener {
            override fun onStart(id: String) {}

            override fun onDone(id: String) {}
        }
    }
}
