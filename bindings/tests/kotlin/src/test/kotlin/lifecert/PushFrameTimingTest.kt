package lifecert

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.LifecertException

/**
 * Per-frame cost of `GuidanceSession.pushFrame` through the Kotlin bindings. Prints medians and
 * asserts only that every push gives the same face (no timed assertions). The number of timed pushes
 * is `-Dlifecert.bench.iterations` (3 in a normal test run; `scripts/bindings.sh bench` uses 50).
 *
 * The refused push (rotation 45°) fails right after its frame has crossed the boundary: its time is
 * the cost of the boundary alone, copying the frame's bytes in and throwing the error back.
 */
class PushFrameTimingTest {
    @Test
    fun pushFrameTiming() {
        val iterations = System.getProperty("lifecert.bench.iterations")?.toIntOrNull() ?: 3
        val frame = astronaut()
        val refused = frame.copy(rotationDegrees = 45)
        Engine().use { engine ->
            engine.guidanceSession("en").use { session ->
                var clock = 0uL
                fun next(): ULong = clock.also { clock += 33uL }
                repeat(5) { session.pushFrame(frame, next()) } // warm-up (JIT, caches)
                val full = median(iterations) {
                    assertEquals(1, session.pushFrame(frame, next()).frame.faces.size)
                }
                val boundary = median(iterations) {
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

    private fun median(iterations: Int, body: () -> Unit): Double {
        val times = DoubleArray(iterations) {
            val start = System.nanoTime()
            body()
            (System.nanoTime() - start) / 1e6
        }
        times.sort()
        return if (iterations % 2 == 1) times[iterations / 2] else (times[iterations / 2 - 1] + times[iterations / 2]) / 2
    }
}
