package lifecert.android.session

import lifecert.android.camera.FrameBytes
import uniffi.lifecert_ffi.ActionPrompt
import uniffi.lifecert_ffi.CertificationOutcome
import uniffi.lifecert_ffi.CertificationSession
import uniffi.lifecert_ffi.CertificationUpdate
import uniffi.lifecert_ffi.EnrollmentOutcome
import uniffi.lifecert_ffi.EnrollmentSession
import uniffi.lifecert_ffi.EnrollmentUpdate
import uniffi.lifecert_ffi.FaceBox
import uniffi.lifecert_ffi.GuideOval
import uniffi.lifecert_ffi.SessionPhase
import uniffi.lifecert_ffi.Utterance

// The one place where the bindings' session types meet the shell: both sessions as one feed, their updates as one
// view, and views and outcomes as screen states. A field added to the bindings is mapped here and nowhere else.

/** An update of either session, as the shell uses it. */
class SessionView<O>(
    val phase: SessionPhase,
    val instruction: Utterance?,
    val speak: List<Utterance>,
    val showDigits: ByteArray?,
    val showAction: ActionPrompt?,
    val progress: Float,
    val face: FaceBox?,
    val outcome: O?,
)

/** What the shell feeds a session, for either kind. Every call may throw `LifecertException`. */
interface SessionFeed<O> : AutoCloseable {
    /** The session's language as the core resolved it (`zh-Hans`, `zh-Hant`, `en`). */
    val language: String

    /** Where the session is now. */
    fun phase(): SessionPhase

    fun frame(frame: FrameBytes, timestampMs: Long): SessionView<O>

    fun audio(pcm: List<Short>, timestampMs: Long): SessionView<O>

    fun promptStarted(timestampMs: Long): SessionView<O>

    fun promptFinished(timestampMs: Long): SessionView<O>

    fun tick(timestampMs: Long): SessionView<O>

    fun endOfInput(timestampMs: Long): SessionView<O>
}

/** A certification session as a [SessionFeed]. */
class CertificationFeed(private val session: CertificationSession) : SessionFeed<CertificationOutcome> {
    override val language: String = session.language()

    override fun phase() = session.phase()

    override fun frame(frame: FrameBytes, timestampMs: Long) =
        view(session.pushFrameBytes(frame.buffer, frame.layout, timestampMs.toULong()))

    override fun audio(pcm: List<Short>, timestampMs: Long) = view(session.pushAudio(pcm, timestampMs.toULong()))

    override fun promptStarted(timestampMs: Long) = view(session.promptStarted(timestampMs.toULong()))

    override fun promptFinished(timestampMs: Long) = view(session.promptFinished(timestampMs.toULong()))

    override fun tick(timestampMs: Long) = view(session.tick(timestampMs.toULong()))

    override fun endOfInput(timestampMs: Long) = view(session.endOfInput(timestampMs.toULong()))

    override fun close() = session.close()

    private fun view(u: CertificationUpdate) =
        SessionView(u.phase, u.instruction, u.speak, u.showDigits, u.showAction, u.progress, u.face, u.outcome)
}

/** An enrollment session, in its face phases, as a [SessionFeed]. */
class EnrollmentFeed(val session: EnrollmentSession) : SessionFeed<EnrollmentOutcome> {
    override val language: String = session.language()

    override fun phase() = session.phase()

    override fun frame(frame: FrameBytes, timestampMs: Long) =
        view(session.pushFrameBytes(frame.buffer, frame.layout, timestampMs.toULong()))

    override fun audio(pcm: List<Short>, timestampMs: Long) = view(session.pushAudio(pcm, timestampMs.toULong()))

    override fun promptStarted(timestampMs: Long) = view(session.promptStarted(timestampMs.toULong()))

    override fun promptFinished(timestampMs: Long) = view(session.promptFinished(timestampMs.toULong()))

    override fun tick(timestampMs: Long) = view(session.tick(timestampMs.toULong()))

    override fun endOfInput(timestampMs: Long) = view(session.endOfInput(timestampMs.toULong()))

    override fun close() = session.close()

    companion object {
        /** An enrollment update as a view. */
        fun view(u: EnrollmentUpdate) =
            SessionView(u.phase, u.instruction, u.speak, u.showDigits, u.showAction, u.progress, u.face, u.outcome)
    }
}

/** Views and outcomes as screen states. */
object ScreenMapping {
    /** The capture screen after [view], keeping what the update leaves unsaid (instruction, digits) from [before]. */
    fun capture(language: String, view: SessionView<*>, before: ScreenState.Capture?, oval: GuideOval) =
        ScreenState.Capture(
            language = language,
            phase = view.phase,
            instruction = view.instruction?.text ?: before?.instruction,
            digits = view.showDigits?.map { it.toInt() } ?: before?.digits.orEmpty(),
            action = view.showAction?.action ?: before?.action,
            progress = view.progress,
            face = view.face ?: before?.face,
            oval = oval,
        )

    /** The result screen of a certification. */
    fun result(language: String, outcome: CertificationOutcome): ScreenState.Result = when (outcome) {
        is CertificationOutcome.Certified -> ScreenState.Result(
            language = language,
            success = true,
            text = outcome.resultText.text,
            reason = null,
            smsText = smsText(outcome),
            next = NextStep.DONE,
        )
        is CertificationOutcome.NotCertified -> ScreenState.Result(
            language = language,
            success = false,
            text = outcome.resultText.text,
            reason = outcome.message.text,
            smsText = null,
            next = if (outcome.retryAllowed) NextStep.TRY_AGAIN else NextStep.GO_TO_OFFICE,
        )
    }

    /** The result screen of an enrollment. */
    fun result(language: String, outcome: EnrollmentOutcome): ScreenState.Result = when (outcome) {
        is EnrollmentOutcome.Enrolled -> ScreenState.Result(language, true, outcome.resultText.text, null, null, NextStep.DONE)
        is EnrollmentOutcome.NotEnrolled ->
            ScreenState.Result(language, false, outcome.message.text, null, null, NextStep.TRY_AGAIN)
    }

    /** The confirmation SMS the authority will send, as the core wrote it (provincial / non-provincial, the year, name masked). */
    fun smsText(outcome: CertificationOutcome.Certified): String = outcome.smsText.text
}
