package lifecert

import java.util.Collections
import kotlin.math.abs
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.IdKind
import uniffi.lifecert_ffi.LifecertException
import uniffi.lifecert_ffi.LogLevel
import uniffi.lifecert_ffi.LogSink
import uniffi.lifecert_ffi.clearLogSink
import uniffi.lifecert_ffi.engineVersion
import uniffi.lifecert_ffi.setLogSink
import uniffi.lifecert_ffi.validateIdNumber

private val INSTRUCTION_IDS = setOf(
    "no_face", "multiple_faces", "come_closer", "move_back", "center_face", "face_camera",
    "raise_chin", "lower_chin", "straighten_head", "backlight", "too_dark", "too_bright",
    "side_light", "uncover_eyes", "uncover_mouth", "hold_steady", "hold_still",
)

/** The Kotlin bindings driving the real native library: the same scenario as the Python tests. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BindingsTest {
    private val engine = Engine()
    private val frame = astronaut()

    @AfterEach
    fun noSink() = clearLogSink()

    @Test
    fun version() {
        assertEquals(2, engineVersion().count { it == '.' })
    }

    @Test
    fun aRealFrameGivesOneFaceAndAnInstruction() {
        val report = engine.analyzeFrame(frame, "en")
        assertEquals(512u, report.width)
        assertEquals(512u, report.height)
        assertEquals(1, report.faces.size)
        val face = report.faces[0]
        assertTrue(face.detectionScore > 0.5f && face.presenceScore > 0.5f)
        val box = face.bounds
        assertTrue(box.width > 60f && box.x > 0f && box.x + box.width < 512f, "$box")
        for (p in listOf(face.keypoints.rightEye, face.keypoints.leftEye, face.keypoints.noseTip)) {
            assertTrue(p.x in box.x..box.x + box.width && p.y in box.y..box.y + box.height, "$p in $box")
        }
        assertTrue(face.keypoints.rightEye.x < face.keypoints.leftEye.x)
        assertTrue(abs(face.pose.yaw) < 30f && abs(face.pose.roll) < 30f, "${face.pose}")
        assertTrue(report.instruction.id in INSTRUCTION_IDS, report.instruction.id)
        assertTrue(report.instruction.text.isNotEmpty())

        val zh = engine.analyzeFrame(frame.copy(mirrored = true), "zh-Hans")
        assertEquals(report.instruction.id, zh.instruction.id)
        assertNotEquals(report.instruction.text, zh.instruction.text)
        val mirrored = zh.faces[0].bounds
        assertTrue(abs(mirrored.x - (512f - box.x - box.width)) < 3f, "$mirrored vs $box")
    }

    @Test
    fun aGuidanceSessionFollowsTheFrames() {
        engine.guidanceSession("en-US").use { session ->
            assertEquals("en", session.language())
            val first = session.pushFrame(frame, 0uL)
            assertTrue(first.changed && first.speak)
            assertEquals(1, first.frame.faces.size)
            assertEquals(first.frame.instruction, first.instruction)
            var last = first
            for (i in 1..5) {
                last = session.pushFrame(frame, (i * 100).toULong())
                assertEquals(first.frame.instruction, last.frame.instruction)
            }
            assertFalse(last.changed)
            session.reset()
            assertTrue(session.pushFrame(frame, 10uL).changed)
        }
        val oval = engine.guideOval()
        assertTrue(oval.radiusX > 0f && oval.radiusY > oval.radiusX)
    }

    @Test
    fun badInputIsReportedAsBadInput() {
        val short = assertThrows<LifecertException.BadInput> {
            engine.analyzeFrame(frame.copy(data = frame.data.copyOf(1000)), "en")
        }
        assertTrue("too short" in short.reason, short.reason)
        val rotation = assertThrows<LifecertException.BadInput> {
            engine.guidanceSession("en").pushFrame(frame.copy(rotationDegrees = 45), 0uL)
        }
        assertTrue("rotation" in rotation.reason, rotation.reason)
        val planes = assertThrows<LifecertException.BadInput> {
            engine.analyzeFrame(frame.copy(rowStrides = listOf(1536u, 1536u)), "en")
        }
        assertTrue("plane" in planes.reason, planes.reason)
        val language = assertThrows<LifecertException.BadInput> { engine.analyzeFrame(frame, "fr") }
        assertTrue("language" in language.reason, language.reason)
        // Every variant is a LifecertException.
        val any: LifecertException = assertThrows<LifecertException> { validateIdNumber("1101051949") }
        assertTrue(any is LifecertException.BadInput)
    }

    @Test
    fun idNumbers() {
        val check = validateIdNumber(" 11010519491231002x ")
        assertEquals("110***********002X", check.masked)
        assertEquals(IdKind.MAINLAND_RESIDENT, check.kind)
        assertEquals(1949.toUShort(), check.birthYear)
        assertEquals(IdKind.MAINLAND_RESIDENT_LEGACY15, validateIdNumber("110105491231002").kind)
        for (bad in listOf("", "110105194912310021", "11010519491231002Y")) {
            val e = assertThrows<LifecertException.BadInput> { validateIdNumber(bad) }
            assertTrue(e.reason.startsWith("invalid ID number"), e.reason)
            assertFalse("1949" in e.reason)
        }
    }

    private class Collect : LogSink {
        val lines: MutableList<Triple<LogLevel, String, String>> = Collections.synchronizedList(mutableListOf())
        override fun log(level: LogLevel, target: String, message: String) {
            lines.add(Triple(level, target, message))
        }
    }

    @Test
    fun logsReachTheHost() {
        val sink = Collect()
        setLogSink(sink, LogLevel.DEBUG)
        engine.guidanceSession("en").pushFrame(frame, 0uL)
        validateIdNumber("11010519491231002X") // logs at trace: filtered out
        clearLogSink()
        val update = sink.lines.first { it.second == "lifecert_ffi::engine" }
        assertEquals(LogLevel.DEBUG, update.first)
        assertTrue(update.third.startsWith("ffi_push_frame") && "faces=1" in update.third, update.third)
        assertTrue(sink.lines.none { it.second == "lifecert_core::identity::person" })

        setLogSink(sink, LogLevel.TRACE)
        validateIdNumber("11010519491231002X")
        clearLogSink()
        assertTrue(
            Triple(LogLevel.TRACE, "lifecert_core::identity::person", "parsed ID number kind=MainlandResident") in sink.lines,
        )
    }

    @Test
    fun aThrowingLogSinkDoesNotBreakTheEngine() {
        setLogSink(
            object : LogSink {
                override fun log(level: LogLevel, target: String, message: String) =
                    throw IllegalStateException("the host logger failed")
            },
            LogLevel.TRACE,
        )
        val update = engine.guidanceSession("en").pushFrame(frame, 0uL)
        clearLogSink()
        assertEquals(1, update.frame.faces.size)
        assertNull(update.hint)
    }

    @Test
    fun theEngineIsSharedBetweenThreads() {
        val results = Collections.synchronizedList(mutableListOf<Int>())
        val threads = (1..3).map { Thread { results.add(engine.analyzeFrame(frame, "en").faces.size) } }
        threads.forEach { it.start() }
        threads.forEach { it.join() }
        assertEquals(listOf(1, 1, 1), results)
    }
}
