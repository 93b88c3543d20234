package lifecert.android.session

import lifecert.android.keys.KeyVault
import uniffi.lifecert_ffi.CertificationKeys
import uniffi.lifecert_ffi.CertificationOutcome
import uniffi.lifecert_ffi.CertificationRequest
import uniffi.lifecert_ffi.ChallengeSource
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.LifecertException
import uniffi.lifecert_ffi.RetireeCategory
import uniffi.lifecert_ffi.validateIdNumber

/** The person being certified, as typed on the form. [proxyRelation] is `null` when the retiree operates the phone. */
data class Person(val name: String, val idNumber: String, val phone: String, val proxyRelation: String?)

/** What a certification needs from the app's records and the authority's server, for one person. */
class CertificationInputs(
    val sealedTemplate: ByteArray,
    /** The authority's 32-byte Ed25519 key when the template was issued by it; `null` when enrolled on this phone. */
    val authorityPublicKey: ByteArray? = null,
    /** The sealed voice profile from the enrollment, when a voice was enrolled. */
    val sealedVoiceProfile: ByteArray? = null,
    /** The 16-byte nonce the authority's server issued for this session. */
    val serverNonce: ByteArray,
    val certificationYear: Int,
    /** Where the retiree lives relative to the paying province (the success text and SMS differ). */
    val retireeCategory: RetireeCategory = RetireeCategory.PROVINCIAL,
    /** Unix seconds now (the phone's clock). */
    val nowUnix: Long,
    /** Certification sessions of this person that already failed today. */
    val previousFailures: Int,
    /** [ChallengeSource.Drawn] in the app; a supplied challenge only to replay recordings. */
    val challenge: ChallengeSource = ChallengeSource.Drawn,
)

/** The app around the shell: where templates and nonces come from and where results go. */
interface CertificationBackend {
    /** The inputs of a certification of [person]; `null` when the person is not enrolled on this phone. */
    fun prepare(person: Person): CertificationInputs?

    /** The signed attestation, to send to the authority as is. */
    fun certified(person: Person, attestationJson: String)

    /** A session that did not certify (counted for [CertificationInputs.previousFailures]). */
    fun notCertified(person: Person, failureId: String)
}

/**
 * The certification flow of the shell: who is certifying, the form, consent, the session, the result. Opens the
 * session with the core, lets a [SessionDriver] feed it, and turns each step into a [ScreenState] on [screen].
 * Every check and decision is the core's: the ID number through `validateIdNumber`, the name and relation when the
 * session opens, the outcome at the end. Call its methods from one thread (the UI's worker); the devices call back
 * on theirs.
 */
class CertificationController(
    private val engine: Engine,
    private val backend: CertificationBackend,
    private val keys: () -> CertificationKeys,
    private val devices: Devices,
    private val screen: Screen,
    /** The language of the session and of the screens (BCP-47: `zh-Hans`, `zh-Hant`, `en`, `zh-CN`, `zh-HK`, …). */
    language: String,
    /** The relations offered on the first screen (the core's words, see `CertificationRequest.proxyRelation`). */
    private val relations: List<String> = RELATIONS,
) {
    /** The session's language as the core resolves it (the screens' labels follow it). */
    private val language: String = Languages.resolve(engine, language)

    private var relation: String? = null
    private var person: Person? = null
    private var driver: SessionDriver<CertificationOutcome>? = null

    /** The last screen shown. */
    @Volatile
    var state: ScreenState? = null
        private set

    private fun show(s: ScreenState) {
        state = s
        screen.show(s)
    }

    /** The first screen: who is certifying. */
    fun start() = show(ScreenState.WhoIsCertifying(language, relations))

    /** The retiree (`null`) or a relative with [relation] will operate the phone. */
    fun chooseWho(relation: String?) {
        this.relation = relation
        show(ScreenState.IdentityForm(language, forEnrollment = false, proxyRelation = relation))
    }

    /** The form was submitted: checks the ID number with the core, then asks for consent. */
    fun submitIdentity(name: String, idNumber: String, phone: String) {
        val form = ScreenState.IdentityForm(language, false, relation, name, idNumber, phone)
        val idError = try {
            validateIdNumber(idNumber)
            null
        } catch (e: LifecertException.BadInput) {
            e.reason
        }
        if (idError != null) {
            show(form.copy(idNumberError = idError))
            return
        }
        person = Person(name, idNumber, phone, relation)
        show(ScreenState.Consent(language, text = null, forEnrollment = false))
    }

    /** Consent given (or not: back to the start). */
    fun consent(accepted: Boolean) = if (accepted) begin() else start()

    /** The permissions may have changed (after the system dialog or the settings): goes on if they are granted. */
    fun permissionsChanged() {
        if (state is ScreenState.PermissionNeeded) begin()
    }

    /** Another try after a failure the core allows to retry. */
    fun tryAgain() = begin()

    /** Leaves the session (the person pressed back): stops everything. */
    fun cancel() {
        driver?.cancel()
        driver = null
        devices.speech.stop()
    }

    private fun begin() {
        val person = checkNotNull(person) { "the form comes first" }
        val missing = devices.permissions.missing()
        if (missing.isNotEmpty()) {
            show(ScreenState.PermissionNeeded(language, missing))
            return
        }
        show(ScreenState.Working(language))
        val inputs = backend.prepare(person) ?: run {
            show(ScreenState.Problem(language, "not enrolled on this phone"))
            return
        }
        val session = try {
            val k = keys()
            try {
                engine.certificationSession(request(person, inputs), k)
            } finally {
                KeyVault.wipe(k)
            }
        } catch (e: LifecertException.BadInput) {
            // The name, ID number or relation as the core refused it: back to the form with its reason.
            val form = ScreenState.IdentityForm(language, false, person.proxyRelation, person.name, person.idNumber, person.phone)
            show(form.copy(error = e.reason))
            return
        } catch (e: LifecertException) {
            show(ScreenState.Problem(language, e.toString()))
            return
        }
        val feed = CertificationFeed(session)
        driver = SessionDriver(
            feed,
            devices,
            screen = { s -> state = s; screen.show(s) },
            oval = engine.guideOval(),
            onOutcome = { outcome -> finished(person, feed.language, outcome) },
            onProblem = { e -> show(ScreenState.Problem(feed.language, e.toString())) },
        ).also { it.start() }
    }

    private fun finished(person: Person, language: String, outcome: CertificationOutcome) {
        when (outcome) {
            is CertificationOutcome.Certified -> backend.certified(person, outcome.attestationJson)
            is CertificationOutcome.NotCertified -> backend.notCertified(person, outcome.failureId)
        }
        show(ScreenMapping.result(language, outcome))
    }

    /** The driver of the running session (tests replay recordings through it). */
    internal val running: SessionDriver<CertificationOutcome>? get() = driver

    private fun request(person: Person, inputs: CertificationInputs) = CertificationRequest(
        name = person.name,
        idNumber = person.idNumber,
        proxyRelation = person.proxyRelation,
        sealedTemplate = inputs.sealedTemplate,
        authorityPublicKey = inputs.authorityPublicKey,
        sealedVoiceProfile = inputs.sealedVoiceProfile,
        serverNonce = inputs.serverNonce,
        certificationYear = inputs.certificationYear.toUShort(),
        retireeCategory = inputs.retireeCategory,
        nowUnix = inputs.nowUnix.toULong(),
        previousFailures = inputs.previousFailures.toUInt(),
        language = language,
        challenge = inputs.challenge,
    )

    companion object {
        /** The relations the core knows by name (any other 1–32 characters are recorded as typed). */
        val RELATIONS = listOf(
            "spouse", "child", "child_in_law", "grandchild", "sibling", "other_relative", "guardian", "caregiver",
            "community_worker",
        )
    }
}
