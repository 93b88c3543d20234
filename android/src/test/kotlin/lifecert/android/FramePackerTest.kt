package lifecert.android

import lifecert.android.camera.FramePacker
import lifecert.android.camera.Orientation
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import uniffi.lifecert_ffi.Engine
import uniffi.lifecert_ffi.FrameInput
import uniffi.lifecert_ffi.FrameReport
import uniffi.lifecert_ffi.PixelFormat

/**
 * The shell's handling of Camera2 `Image` planes (strides, pixel strides, plane order, in place or copied) and of
 * the rotation and mirror, checked against the core's own frame conversion: a synthetic sensor buffer made from an
 * upright picture by the inverse of each rotation and mirror, laid out as camera HALs lay out memory, must give the
 * core exactly the upright picture — the core's analysis of it (every float of the face box, keypoints, pose and
 * scores) is identical to its analysis of the upright picture handed over packed. The binding exposes no pixels,
 * so identical analysis stands for identical pixels: the face models would see any differing pixel.
 */
class FramePackerTest {
    private val upright = astronautNv21()
    private val reference: FrameReport by lazy {
        engine.analyzeFrame(FrameInput(upright.bytes, upright.width.toUInt(), upright.height.toUInt(), PixelFormat.NV21, emptyList(), 0, false), "en")
    }

    @Test
    fun everyLayoutRotationAndMirrorGivesTheCoreTheUprightPicture() {
        assertEquals("the sample has one face", 1, reference.faces.size)
        val packer = FramePacker()
        for (layout in HalLayout.values()) for (rotation in listOf(0, 90, 180, 270)) for (mirrored in listOf(false, true)) {
            val image = halImage(sensorBuffer(upright, rotation, mirrored), layout)
            val frame = packer.pack(image, rotation, mirrored)
            val inPlace = layout in setOf(HalLayout.NV21_IN_PLACE, HalLayout.NV12_IN_PLACE, HalLayout.I420_IN_PLACE)
            val case = "$layout, $rotation°, mirrored=$mirrored"
            assertEquals("$case: handed over in place", inPlace, frame.borrowed)
            val expectedFormat = when (layout) {
                HalLayout.NV12_IN_PLACE -> PixelFormat.NV12
                HalLayout.I420_IN_PLACE -> PixelFormat.I420
                else -> PixelFormat.NV21
            }
            assertEquals(case, expectedFormat, frame.layout.format)
            val bytes = ByteArray(frame.buffer.remaining()).also { frame.buffer.duplicate().get(it) }
            val l = frame.layout
            val report = engine.analyzeFrame(FrameInput(bytes, l.width, l.height, l.format, l.rowStrides, l.rotationDegrees, l.mirrored), "en")
            assertEquals("$case: the core's upright size", reference.width to reference.height, report.width to report.height)
            assertEquals("$case: the core sees the same picture", reference, report)
        }
    }

    @Test
    fun inPlaceFramesSpanThePlanesWithoutCopying() {
        val image = halImage(upright, HalLayout.NV21_IN_PLACE, yStride = 448)
        val frame = FramePacker().pack(image, 0, false)
        assertTrue(frame.borrowed)
        assertEquals(listOf(448u, 448u), frame.layout.rowStrides)
        // The span starts at the Y plane's first byte and ends with the last U byte.
        val h = upright.height
        assertEquals(448 * h + 448 * (h / 2 - 1) + upright.width, frame.buffer.remaining())
        assertEquals(image.y.buffer.get(0), frame.buffer.get(0))
        assertEquals(image.u.buffer.get(image.u.buffer.limit() - 1), frame.buffer.get(frame.buffer.remaining() - 1))
    }

    @Test
    fun rotationFollowsTheSensorAndTheDisplay() {
        // Front cameras: the display's turn adds to the sensor's (the sensor faces the user); back cameras: subtracts.
        val front = mapOf(
            (270 to 0) to 270, (270 to 90) to 0, (270 to 180) to 90, (270 to 270) to 180,
            (90 to 0) to 90, (90 to 90) to 180, (90 to 270) to 0,
        )
        for ((key, expected) in front) {
            assertEquals("front $key", expected, Orientation.rotationDegrees(key.first, key.second, front = true))
        }
        val back = mapOf((90 to 0) to 90, (90 to 90) to 0, (90 to 180) to 270, (90 to 270) to 180, (270 to 90) to 180)
        for ((key, expected) in back) {
            assertEquals("back $key", expected, Orientation.rotationDegrees(key.first, key.second, front = false))
        }
        assertTrue(Orientation.mirrored(front = true))
        assertEquals(listOf(0, 90, 180, 270), (0..3).map { Orientation.surfaceRotationDegrees(it) })
    }

    companion object {
        private val engine by lazy { Engine() }

        @JvmStatic
        @AfterClass
        fun close() = engine.close()
    }
}
