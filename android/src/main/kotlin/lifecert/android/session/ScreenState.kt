package lifecert.android.session

import uniffi.lifecert_ffi.Action
import uniffi.lifecert_ffi.FaceBox
import uniffi.lifecert_ffi.GuideOval
import uniffi.lifecert_ffi.SessionPhase

/**
 * Everything a screen shows, as data: the controllers produce these, the Activity renders them (large type, high
 * contrast), the tests read them. Texts come from the core (instructions, prompts, results, validation reasons) or,
 * for the shell's own labels, from `lifecert.android.ui.ShellTexts`.
 */
sealed interface ScreenState {
    /** The session's language (BCP-47, as the core resolved it: `zh-Hans`, `zh-Hant`, `en`). */
    val language: String

    /** Who is certifying: the retiree in person, or a relative (or helper) with the relation. */
    data class WhoIsCertifying(override val language: String, val relations: List<String>) : ScreenState

    /**
     * Name, ID number and phone. [idNumberError] is the core's reason for a refused ID number (`validateIdNumber`),
     * [error] the core's reason when it refused to open the session with them (the name, the relation).
     */
    data class IdentityForm(
        override val language: String,
        val forEnrollment: Boolean,
        val proxyRelation: String?,
        val name: String = "",
        val idNumber: String = "",
        val phone: String = "",
        val idNumberError: String? = null,
        val error: String? = null,
    ) : ScreenState

    /** Consent before the camera and microphone start; [text] is the core's for an enrollment. */
    data class Consent(override val language: String, val text: String?, val forEnrollment: Boolean) : ScreenState

    /** Enrollment: the ID-card photo the core asks for ([text]), or skip. */
    data class IdDocuments(override val language: String, val text: String) : ScreenState

    /** Please wait (models loading, a session opening). */
    data class Working(override val language: String) : ScreenState

    /** The camera preview with the guide oval, the current instruction, the digits or action, and progress. */
    data class Capture(
        override val language: String,
        val phase: SessionPhase,
        val instruction: String?,
        /** The digits to read as the core shows them now (all of them, or one at a time); empty: none. */
        val digits: List<Int>,
        val action: Action?,
        val progress: Float,
        val face: FaceBox?,
        val oval: GuideOval,
    ) : ScreenState

    /** The end of a session. */
    data class Result(
        override val language: String,
        val success: Boolean,
        /** The core's result text (success for this year, or "try once more" / "the office will help"). */
        val text: String,
        /** Not certified: the core's reason, for the person. */
        val reason: String?,
        /** Certified: the confirmation SMS that will follow, when the core gives it. */
        val smsText: String?,
        val next: NextStep,
    ) : ScreenState

    /** The camera or microphone permission is refused: say so and offer to grant it. */
    data class PermissionNeeded(override val language: String, val missing: Set<Permission>) : ScreenState

    /** Something the person cannot fix went wrong (never a biometric decision): [detail] for the log. */
    data class Problem(override val language: String, val detail: String) : ScreenState
}

/** What the result screen offers. */
enum class NextStep {
    /** Finished: close. */
    DONE,

    /** Another try now. */
    TRY_AGAIN,

    /** The phone cannot finish it: the office will help. */
    GO_TO_OFFICE,
}
