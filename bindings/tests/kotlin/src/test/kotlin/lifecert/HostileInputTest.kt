package lifecert

import java.util.Collections
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import uniffi.lifecert_ffi.CertificationSession
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EngineOptions
import uniffi.lifecert_ffi.EnrollmentOutcome
import uniffi.lifecert_ffi.FrameInput
import uniffi.lifecert_ffi.LifecertException
import uniffi.lifecert_ffi.PixelFormat
import uniffi.lifecert_ffi.SessionPhase

/** The largest timestamp a session takes: 2^53 − 1 ms (a Double holds it exactly). */
private const val MAX_TIMESTAMP_MS: ULong = 9_007_199_254_740_991uL

/**
 * Bad input across the boundary, from Kotlin (issue 12, item 6): every malformed frame, timestamp, clock
 * or call order is a typed [LifecertException] (or a documented no-op), never a crash, a hang or an
 * `Internal` error. Kotlin's unsigned types cannot carry NaN or negative timestamps: a shell converting
 * from a `Double` must refuse NaN itself (`Double.NaN.toULong()` is 0). No evaluation data needed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputTest {
    private val engine = Engine()
    private val recordings = Engine.withOptions(EngineOptions(forRecordings = true))
    private val frame = astronaut()
    private val keys = Keystore()
    private val sealed: ByteArray by lazy {
        (enroll(recordings, keys, List(8) { frame }) as EnrollmentOutcome.Enrolled).sealedTemplate
    }

    @AfterAll
    fun close() {
        engine.close()
        recordings.close()
    }

    private fun certification(nowUnix: ULong = NOW): CertificationSession =
        recordings.certificationSession(certificationRequest(sealed).copy(nowUnix = nowUnix), keys.certification())

    private fun badInput(block: () -> Unit): String = assertThrows<LifecertException.BadInput> { block() }.reason

    @Test
    fun emptyOversizedAndMisStridedFramesAreBadInput() {
        for (format in PixelFormat.values()) {
            for ((w, h) in listOf(0u to 480u, 640u to 0u, 0u to 0u)) {
                val reason = badInput { engine.analyzeFrame(frame.copy(width = w, height = h, format = format), "en") }
                assertTrue("empty" in reason, reason)
            }
            for ((w, h) in listOf(16384u to 16384u, UInt.MAX_VALUE to UInt.MAX_VALUE, UInt.MAX_VALUE to 1u)) {
                val reason = badInput { engine.analyzeFrame(frame.copy(width = w, height = h, format = format), "en") }
                assertTrue("too short" in reason || "exceeds" in reason, reason)
            }
        }
        val row = 3u * frame.width
        for ((strides, needle) in listOf(
            listOf(row - 1u) to "stride",
            listOf(0u) to "stride",
            listOf(UInt.MAX_VALUE) to "too short",
            listOf(row, row) to "plane",
        )) {
            val reason = badInput { engine.analyzeFrame(frame.copy(rowStrides = strides), "en") }
            assertTrue(needle in reason, "$strides: $reason")
        }
        val nv21 = FrameInput(ByteArray(640 * 480 * 3 / 2), 640u, 480u, PixelFormat.NV21, listOf(640u, 639u), 0, false)
        assertTrue("stride" in badInput { engine.analyzeFrame(nv21, "en") })
        assertTrue("rotation" in badInput { engine.analyzeFrame(frame.copy(rotationDegrees = 45), "en") })
        assertTrue("rotation" in badInput { engine.analyzeFrame(frame.copy(rotationDegrees = Int.MIN_VALUE), "en") })
    }

    @Test
    fun timestampsBeyondTheLargestAreBadInputAndBackwardsOnesCountAsTheLatest() {
        engine.guidanceSession("en").use { guidance ->
            for (t in listOf(MAX_TIMESTAMP_MS + 1uL, ULong.MAX_VALUE)) {
                assertTrue("timestamp" in badInput { guidance.pushFrame(frame, t) })
            }
            val first = guidance.pushFrame(frame, 5000uL)
            assertEquals(first.frame.instruction, guidance.pushFrame(frame, 1000uL).frame.instruction)
        }
        certification().use { session ->
            for (t in listOf(MAX_TIMESTAMP_MS + 1uL, ULong.MAX_VALUE)) {
                assertTrue("timestamp" in badInput { session.pushFrame(frame, t) })
                assertTrue("timestamp" in badInput { session.pushAudio(List(320) { 0.toShort() }, t) })
                assertTrue("timestamp" in badInput { session.tick(t) })
            }
            session.pushFrame(frame, 2000uL)
            for (t in listOf(1000uL, 0uL, 1500uL)) {
                session.pushFrame(frame, t)
                session.pushAudio(List(320) { 0.toShort() }, t)
                session.tick(t)
            }
            if (session.outcome() == null) session.endOfInput(0uL)
            assertEquals(SessionPhase.FINISHED, session.phase())
        }
    }

    @Test
    fun everyCallAfterTheOutcomeIsRefused() {
        certification().use { session ->
            val outcome = session.endOfInput(100uL).outcome
            assertNotNull(outcome)
            val calls: List<() -> Unit> = listOf(
                { session.pushFrame(frame, 200uL) },
                { session.pushAudio(List(320) { 0.toShort() }, 200uL) },
                { session.promptStarted(200uL) },
                { session.promptFinished(200uL) },
                { session.tick(200uL) },
                { session.endOfInput(300uL) },
            )
            for (call in calls) {
                assertTrue("finished" in badInput(call))
            }
            assertEquals(SessionPhase.FINISHED, session.phase())
            assertEquals(outcome.toString(), session.outcome().toString())
        }
    }

    @Test
    fun theLargestClockIsRefused() {
        for (now in listOf(ULong.MAX_VALUE, ULong.MAX_VALUE - 3600uL, 253_402_272_000uL)) {
            badInput { certification(nowUnix = now) }
            badInput { recordings.enrollmentSession(enrollmentRequest().copy(nowUnix = now), keys.enrollment()) }
        }
    }

    @Test
    fun twoThreadsOnOneSessionTakeTurns() {
        certification().use { session ->
            val results = Collections.synchronizedList(mutableListOf<String>())
            val pool = Executors.newFixedThreadPool(2)
            repeat(2) { k ->
                pool.execute {
                    for (i in 0 until 15) {
                        val t = (k * 7 + i * 40).toULong()
                        try {
                            if (i % 3 == 2) {
                                session.pushAudio(List(320) { (100 * k).toShort() }, t)
                            } else {
                                session.pushFrame(frame, t)
                            }
                            results.add("ok")
                        } catch (e: LifecertException.BadInput) {
                            results.add(e.reason)
                        }
                    }
                }
            }
            pool.shutdown()
            assertTrue(pool.awaitTermination(300, TimeUnit.SECONDS), "a thread hangs on the session")
            assertEquals(30, results.size)
            assertTrue(results.all { it == "ok" || "finished" in it }, "$results")
            if (session.outcome() == null) session.endOfInput(10_000uL)
            assertEquals(SessionPhase.FINISHED, session.phase())
        }
    }
}
