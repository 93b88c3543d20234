package lifecert

import java.nio.ByteBuffer
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import uniffi.lifecert_ffi.CertificationSession
import uniffi.lifecert_ffi.ChallengeSource
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.EngineOptions
import uniffi.lifecert_ffi.EnrollmentOutcome
import uniffi.lifecert_ffi.FrameInput
import uniffi.lifecert_ffi.FrameLayout
import uniffi.lifecert_ffi.LifecertException
import uniffi.lifecert_ffi.SessionPhase

/**
 * Per-frame cost of `pushFrame` through the Kotlin bindings. Prints medians and asserts only that every
 * push gives the same face (no timed assertions). The number of timed pushes is
 * `-Dlifecert.bench.iterations` (3 in a normal test run; `scripts/bindings.sh bench` uses 50).
 *
 * Measured on the 512×512 sample frame: `GuidanceSession.pushFrame`; `CertificationSession.pushFrame` (the
 * frame copied in a `FrameInput`) and `CertificationSession.pushFrameBytes` (the same bytes in a direct
 * `ByteBuffer`, borrowed without a copy), on a session with the recordings configuration and a template
 * enrolled from the same photo, in its liveness phase (a finished session is replaced outside the timed
 * calls). Each refused push (rotation 45°) fails right after its frame has crossed the boundary: its time
 * is the cost of the boundary alone, passing the frame's bytes in and throwing the error back.
 */
class PushFrameTimingTest {
    private val iterations = System.getProperty("lifecert.bench.iterations")?.toIntOrNull() ?: 3

    @Test
    fun pushFrameTiming() {
        val frame = astronaut()
        val refused = frame.copy(rotationDegrees = 45)
        Engine().use { engine ->
            engine.guidanceSession("en").use { session ->
                var clock = 0uL
                fun next(): ULong = clock.also { clock += 33uL }
                repeat(5) { session.pushFrame(frame, next()) } // warm-up (JIT, caches)
                val full = median {
                    assertEquals(1, session.pushFrame(frame, next()).frame.faces.size)
                }
                val boundary = median {
                    assertThrows<LifecertException.BadInput> { session.pushFrame(refused, next()) }
                }
                println(
                    "kotlin push_frame ${frame.width}x${frame.height} RGB (${frame.data.size} B), " +
                        "$iterations iterations: median %.2f ms per frame; refused frame (boundary only) %.3f ms"
                            .format(full, boundary),
                )
            }
        }
    }

    /** Certification sessions on a template of the sample photo, renewed when one finishes. */
    private class Certifier(private val engine: Engine, frame: FrameInput) {
        private val keys = Keystore()
        private val sealed = (enroll(engine, keys, List(8) { frame }) as EnrollmentOutcome.Enrolled).sealedTemplate
        var session: CertificationSession = open()
        var clock = 0uL

        private fun open() =
            engine.certificationSession(certificationRequest(sealed, ChallengeSource.Seeded(1uL)), keys.certification())

        /** Untimed: a new session when the last one finished; the next timestamp. */
        fun before() {
            if (session.phase() == SessionPhase.FINISHED) {
                session.close()
                session = open()
                clock = 0uL
            }
            clock += 33uL
        }
    }

    @Test
    fun certificationPushFrameTiming() {
        val frame = astronaut()
        val refused = frame.copy(rotationDegrees = 45)
        val layout = FrameLayout(frame.width, frame.height, frame.format, emptyList(), 0, false)
        val refusedLayout = layout.copy(rotationDegrees = 45)
        // The bytes where a camera puts them: a direct buffer, borrowed by pushFrameBytes.
        val direct = ByteBuffer.allocateDirect(frame.data.size).put(frame.data).flip()
        Engine.withOptions(EngineOptions(forRecordings = true)).use { engine ->
            val c = Certifier(engine, frame)
            repeat(5) { // warm-up (JIT, caches)
                c.before()
                c.session.pushFrame(frame, c.clock)
                c.before()
                c.session.pushFrameBytes(direct, layout, c.clock)
            }
            val copied = median(c::before) { assertNotNull(c.session.pushFrame(frame, c.clock).face) }
            val borrowed = median(c::before) { assertNotNull(c.session.pushFrameBytes(direct, layout, c.clock).face) }
            val copiedRefused = median(c::before) {
                assertThrows<LifecertException.BadInput> { c.session.pushFrame(refused, c.clock) }
            }
            val borrowedRefused = median(c::before) {
                assertThrows<LifecertException.BadInput> { c.session.pushFrameBytes(direct, refusedLayout, c.clock) }
            }
            c.session.close()
            println(
                "kotlin CertificationSession ${frame.width}x${frame.height} RGB, $iterations iterations: " +
                    "push_frame median %.2f ms (refused %.3f ms); push_frame_bytes median %.2f ms (refused %.3f ms)"
                        .format(copied, copiedRefused, borrowed, borrowedRefused),
            )
        }
    }

    private fun median(before: () -> Unit = {}, body: () -> Unit): Double {
        val times = DoubleArray(iterations) {
            before()
            val start = System.nanoTime()
            body()
            (System.nanoTime() - start) / 1e6
        }
        times.sort()
        return if (iterations % 2 == 1) times[iterations / 2] else (times[iterations / 2 - 1] + times[iterations / 2]) / 2
    }
}
