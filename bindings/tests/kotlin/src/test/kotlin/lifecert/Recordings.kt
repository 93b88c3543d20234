package lifecert

import java.io.ByteArrayOutputStream
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assumptions.assumeTrue
import uniffi.lifecert_ffi.CertificationKeys
import uniffi.lifecert_ffi.CertificationOutcome
import uniffi.lifecert_ffi.CertificationRequest
import uniffi.lifecert_ffi.CertificationSession
import uniffi.lifecert_ffi.ChallengeSource
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EnrollmentKeys
import uniffi.lifecert_ffi.EnrollmentOutcome
import uniffi.lifecert_ffi.EnrollmentRequest
import uniffi.lifecert_ffi.FrameInput
import uniffi.lifecert_ffi.PixelFormat
import uniffi.lifecert_ffi.RetireeCategory
import uniffi.lifecert_ffi.UtteranceKind
import uniffi.lifecert_ffi.VerifyOptions
import uniffi.lifecert_ffi.devicePublicKey
import uniffi.lifecert_ffi.generateDeviceKey
import uniffi.lifecert_ffi.generateSealingKey
import uniffi.lifecert_ffi.generateSubjectKey

// Set-up of the session tests: the subject, keys, clips decoded with ffmpeg, the replay of a recording.

const val NAME = "张三"
const val ID_NUMBER = "11010519491231002X"
/** 2026-12-02 12:00 Beijing time. */
const val NOW: ULong = 1_796_184_000uL
val SERVER_NONCE = ByteArray(16) { 5 }

/** What a replayed recording needs the verifier to accept: its supplied challenge, the
 *  recording-replay configuration, and digits only counted (no voice templates). */
val REPLAY = VerifyOptions(acceptSuppliedChallenge = true, acceptRecordingReplay = true, acceptCountOnly = true)

/** Whether the tests run in CI: `CI` set and not empty, `0` or `false`. */
fun inCi(): Boolean {
    val value = (System.getenv("CI") ?: "").trim()
    return value.isNotEmpty() && value != "0" && !value.equals("false", ignoreCase = true)
}

/**
 * Skips the calling test because of [reason]: a failure in CI; otherwise said loudly and appended to the
 * skip log (`LIFECERT_SKIP_LOG`, default target/lifecert-skipped-tests.log), which scripts/test.sh counts.
 */
fun skip(test: String, reason: String): Nothing {
    check(!inCi()) { "$test: $reason — CI must run every test (CI is set)" }
    System.err.println("\n!!!!! SKIPPED $test: $reason !!!!!\n")
    val log = File(System.getenv("LIFECERT_SKIP_LOG")?.takeIf { it.isNotEmpty() }
        ?: File(repo, "target/lifecert-skipped-tests.log").path)
    runCatching {
        log.parentFile?.mkdirs()
        log.appendText("$test\t$reason\n")
    }
    assumeTrue(false, reason)
    error("unreachable: assumeTrue(false) throws")
}

/**
 * The shared evaluation data (`LIFECERT_EVAL_DATA`, default ../shared/data relative to the repository
 * root) with ffmpeg available; otherwise the test is skipped ([skip]: a failure in CI).
 */
fun evalData(test: String = "Kotlin session test"): File {
    val data = File(System.getenv("LIFECERT_EVAL_DATA")?.takeIf { it.isNotEmpty() } ?: File(repo, "../shared/data").path)
    if (!data.isDirectory) {
        skip(test, "evaluation data not found at $data (set LIFECERT_EVAL_DATA)")
    }
    for (tool in listOf("ffmpeg", "ffprobe")) {
        val works = runCatching { ProcessBuilder(tool, "-version").start().waitFor() == 0 }.getOrDefault(false)
        if (!works) {
            skip(test, "$tool not found")
        }
    }
    return data
}

private fun run(vararg command: String): ByteArray {
    val process = ProcessBuilder(*command).redirectError(ProcessBuilder.Redirect.DISCARD).start()
    val out = ByteArrayOutputStream()
    process.inputStream.use { it.copyTo(out) }
    check(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0) { "${command.toList()} failed" }
    return out.toByteArray()
}

/** A clip decoded by ffmpeg: rgb24 frames at 25 fps and s16le 16 kHz mono audio. */
class Clip(path: File) {
    val width: Int
    val height: Int
    val frames: List<ByteArray>
    val audio: List<Short>

    init {
        val probe = String(
            run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                "-of", "csv=p=0", path.path),
        ).trim().split(",")
        width = probe[0].toInt()
        height = probe[1].toInt()
        val video = run("ffmpeg", "-v", "error", "-i", path.path, "-r", "25", "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
        val size = width * height * 3
        check(video.size % size == 0) { "ffmpeg gave whole frames" }
        frames = (0 until video.size / size).map { video.copyOfRange(it * size, (it + 1) * size) }
        val pcm = ByteBuffer.wrap(run("ffmpeg", "-v", "error", "-i", path.path, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"))
            .order(ByteOrder.LITTLE_ENDIAN).asShortBuffer()
        audio = ShortArray(pcm.remaining()).also { pcm.get(it) }.toList()
    }

    fun frameInput(data: ByteArray) = FrameInput(
        data = data,
        width = width.toUInt(),
        height = height.toUInt(),
        format = PixelFormat.RGB8,
        rowStrides = emptyList(),
        rotationDegrees = 0,
        mirrored = false,
    )
}

/** The keys of a test's sessions, as the platform keystore holds them. */
class Keystore {
    val subject = generateSubjectKey()
    val sealing = generateSealingKey()
    val device = generateDeviceKey()

    fun enrollment() = EnrollmentKeys(subjectKey = subject, sealingKey = sealing)

    fun certification() = CertificationKeys(subjectKey = subject, sealingKey = sealing, deviceKeyPkcs8 = device)

    fun devicePublic(): ByteArray = devicePublicKey(device)
}

fun enrollmentRequest(idNumber: String = ID_NUMBER) = EnrollmentRequest(
    name = NAME,
    idNumber = idNumber,
    nowUnix = NOW,
    language = "zh-Hans",
    actions = emptyList(),
    voiceDigits = false,
    seed = null,
)

fun certificationRequest(
    sealed: ByteArray,
    challenge: ChallengeSource = ChallengeSource.Supplied(byteArrayOf(2)),
    idNumber: String = ID_NUMBER,
    serverNonce: ByteArray = SERVER_NONCE,
) = CertificationRequest(
    name = NAME,
    idNumber = idNumber,
    proxyRelation = "child",
    sealedTemplate = sealed,
    serverNonce = serverNonce,
    certificationYear = 2026u,
    retireeCategory = RetireeCategory.PROVINCIAL,
    nowUnix = NOW,
    language = "en",
    challenge = challenge,
)

/**
 * Enrolls the subject from [frames] pushed 40 ms apart (consent, no ID photos, no actions), then
 * `endOfInput` if the frames did not finish it.
 */
fun enroll(engine: Engine, keys: Keystore, frames: List<FrameInput>): EnrollmentOutcome =
    engine.enrollmentSession(enrollmentRequest(), keys.enrollment()).use { session ->
        session.giveConsent(true)
        session.continueWithoutMoreDocuments()
        frames.forEachIndexed { i, frame ->
            session.pushFrame(frame, (i * 40).toULong()).outcome?.let { return it }
        }
        session.endOfInput((frames.size * 40).toULong()).outcome!!
    }

/**
 * Replays [frames] (t = i·40 ms) and [audio] (chunks of 20, 30 and 40 ms in turn) into a certification
 * session in time order, as a shell would. When an update speaks a prompt at t: `promptStarted(t)`, and
 * `promptFinished(max(t, promptEndMs))` once the replay clock reaches that time. Ends with
 * `endOfInput(endMs)` unless an outcome came first. Returns the outcome and the prompts spoken.
 */
fun replay(
    session: CertificationSession,
    frames: List<FrameInput>,
    audio: List<Short>,
    promptEndMs: Long = 350,
    endMs: Long = 3000,
): Pair<CertificationOutcome, List<String>> {
    val chunks = intArrayOf(320, 480, 640)
    val prompts = mutableListOf<String>()
    var pendingEnd: Long? = null
    var nextFrame = 0
    var nextSample = 0
    var k = 0
    while (nextFrame < frames.size || nextSample < audio.size) {
        val frameT = if (nextFrame < frames.size) nextFrame * 40L else null
        val audioT = if (nextSample < audio.size) nextSample / 16L else null
        val t = listOfNotNull(frameT, audioT).min()
        pendingEnd?.let { end ->
            if (end <= t) {
                pendingEnd = null
                session.promptFinished(end.toULong()).outcome?.let { return it to prompts }
            }
        }
        val update = if (audioT == t) {
            val stop = minOf(nextSample + chunks[k++ % 3], audio.size)
            session.pushAudio(audio.subList(nextSample, stop), t.toULong()).also { nextSample = stop }
        } else {
            session.pushFrame(frames[nextFrame++], t.toULong())
        }
        update.outcome?.let { return it to prompts }
        for (u in update.speak.filter { it.kind == UtteranceKind.PROMPT }) {
            prompts.add(u.text)
            session.promptStarted(t.toULong()).outcome?.let { return it to prompts }
            pendingEnd = maxOf(t, promptEndMs)
        }
    }
    pendingEnd?.let { end ->
        session.promptFinished(minOf(end, endMs).toULong()).outcome?.let { return it to prompts }
    }
    return session.endOfInput(endMs.toULong()).outcome!! to prompts
}
