package lifecert.android.session

import lifecert.android.keys.KeyVault
import uniffi.lifecert_ffi.Action
import uniffi.lifecert_ffi.DocumentSide
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EnrollmentKeys
import uniffi.lifecert_ffi.EnrollmentOutcome
import uniffi.lifecert_ffi.EnrollmentRequest
import uniffi.lifecert_ffi.EnrollmentUpdate
import uniffi.lifecert_ffi.LifecertException
import uniffi.lifecert_ffi.SessionPhase
import uniffi.lifecert_ffi.validateIdNumber

/** Where an enrollment's result goes (the app's records; the package to the authority's review). */
interface EnrollmentBackend {
    /** Unix seconds now (the phone's clock). */
    fun nowUnix(): Long

    /** Enrolled: keep the sealed templates for this person's certifications; send the review package. */
    fun enrolled(person: Person, outcome: EnrollmentOutcome.Enrolled)

    /** Not enrolled (declined, or the face or voice could not be captured). */
    fun notEnrolled(person: Person, failureId: String)
}

/**
 * The enrollment flow of the shell: the form, the core's consent, the ID-card photos (or skip), then the face (and,
 * when asked, the voice reading 0–9) through a [SessionDriver]. Same rules as [CertificationController]: every
 * text and decision comes from the core.
 */
class EnrollmentController(
    private val engine: Engine,
    private val backend: EnrollmentBackend,
    private val keys: () -> EnrollmentKeys,
    private val devices: Devices,
    private val screen: Screen,
    language: String,
    /** The actions of the liveness step (empty: none). */
    private val actions: List<Action> = listOf(Action.BLINK, Action.TURN_LEFT, Action.OPEN_MOUTH),
    /** Ask for the digits 0–9 for voice templates. */
    private val voiceDigits: Boolean = true,
) {
    /** The session's language as the core resolves it (the screens' labels follow it). */
    private val language: String = Languages.resolve(engine, language)

    private var person: Person? = null
    private var feed: EnrollmentFeed? = null
    private var driver: SessionDriver<EnrollmentOutcome>? = null
    private var spoken = 0

    /** The last screen shown. */
    @Volatile
    var state: ScreenState? = null
        private set

    private fun show(s: ScreenState) {
        state = s
        screen.show(s)
    }

    /** The first screen: the form. */
    fun start() = show(ScreenState.IdentityForm(language, forEnrollment = true, proxyRelation = null))

    /** The form was submitted: the core checks the ID number, then the session opens at its consent. */
    fun submitIdentity(name: String, idNumber: String, phone: String) {
        val form = ScreenState.IdentityForm(language, true, null, name, idNumber, phone)
        try {
            validateIdNumber(idNumber)
        } catch (e: LifecertException.BadInput) {
            show(form.copy(idNumberError = e.reason))
            return
        }
        val request = EnrollmentRequest(
            name = name,
            idNumber = idNumber,
            nowUnix = backend.nowUnix().toULong(),
            language = language,
            actions = actions,
            voiceDigits = voiceDigits,
            seed = null,
        )
        val session = try {
            val k = keys()
            try {
                engine.enrollmentSession(request, k)
            } finally {
                KeyVault.wipe(k)
            }
        } catch (e: LifecertException.BadInput) {
            show(form.copy(error = e.reason))
            return
        }
        person = Person(name, idNumber, phone, null)
        feed = EnrollmentFeed(session)
        showRequest(null)
    }

    /** The person's answer to the core's consent text. */
    fun consent(accepted: Boolean) = step { it.giveConsent(accepted) }

    /** An ID-card photo (JPEG or PNG bytes, from the camera app or a file). */
    fun addIdDocument(side: DocumentSide, photo: ByteArray) = step { it.addIdDocument(side, photo) }

    /** No (more) ID-card photos: on to the face. */
    fun skipDocuments() = step { it.continueWithoutMoreDocuments() }

    /** The permissions may have changed: goes on if they are granted. */
    fun permissionsChanged() {
        if (state is ScreenState.PermissionNeeded) startFace()
    }

    /** Another try: the form again (a new session). */
    fun tryAgain() = start()

    /** Leaves the enrollment: stops everything. */
    fun cancel() {
        driver?.cancel() ?: feed?.close()
        driver = null
        feed = null
        devices.speech.stop()
    }

    private fun step(call: (uniffi.lifecert_ffi.EnrollmentSession) -> EnrollmentUpdate) {
        val feed = checkNotNull(feed) { "the form comes first" }
        val update = try {
            call(feed.session)
        } catch (e: LifecertException.FaceNotUsable) {
            // An ID photo without one portrait (or a back with a face): the core's reason, take it again.
            show(ScreenState.IdDocuments(feed.language, e.reason))
            return
        } catch (e: LifecertException) {
            show(ScreenState.Problem(feed.language, e.toString()))
            return
        }
        showRequest(update)
    }

    /** Shows what the session waits for after [update] (consent, ID photos, the face, or the end). */
    private fun showRequest(update: EnrollmentUpdate?) {
        val feed = checkNotNull(feed)
        update?.speak?.forEach { say(it.text) }
        update?.outcome?.let {
            feed.close()
            return finished(feed.language, it)
        }
        val request = feed.session.currentRequest()
        when (feed.session.phase()) {
            SessionPhase.CONSENT -> {
                request?.let { say(it.text) }
                show(ScreenState.Consent(feed.language, request?.text, forEnrollment = true))
            }
            SessionPhase.ID_DOCUMENTS -> {
                if (update == null) request?.let { say(it.text) }
                show(ScreenState.IdDocuments(feed.language, request?.text.orEmpty()))
            }
            else -> startFace()
        }
    }

    private fun startFace() {
        val feed = checkNotNull(feed)
        val missing = devices.permissions.missing()
        if (missing.isNotEmpty()) {
            show(ScreenState.PermissionNeeded(feed.language, missing))
            return
        }
        driver = SessionDriver(
            feed,
            devices,
            screen = { s -> state = s; screen.show(s) },
            oval = engine.guideOval(),
            onOutcome = { outcome -> finished(feed.language, outcome) },
            onProblem = { e -> show(ScreenState.Problem(feed.language, e.toString())) },
        ).also { it.start() }
    }

    private fun finished(language: String, outcome: EnrollmentOutcome) {
        val person = checkNotNull(person)
        when (outcome) {
            is EnrollmentOutcome.Enrolled -> backend.enrolled(person, outcome)
            is EnrollmentOutcome.NotEnrolled -> backend.notEnrolled(person, outcome.failureId)
        }
        show(ScreenMapping.result(language, outcome))
    }

    private fun say(text: String) {
        val quiet = object : SpeechListener {
            override fun onStart(id: String) {}

            override fun onDone(id: String) {}
        }
        devices.speech.speak(SpokenText("lifecert-enroll-${++spoken}", text, feed?.language ?: language), quiet)
    }

    /** The driver of the face phases (tests replay recordings through it). */
    internal val running: SessionDriver<EnrollmentOutcome>? get() = driver
}
