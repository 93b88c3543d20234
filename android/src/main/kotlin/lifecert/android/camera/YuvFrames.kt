package lifecert.android.camera

import com.sun.jna.Native
import com.sun.jna.Pointer
import java.nio.ByteBuffer
import uniffi.lifecert_ffi.FrameLayout
import uniffi.lifecert_ffi.PixelFormat

/**
 * One plane of a `YUV_420_888` image as Camera2's `Image.Plane` hands it over: its buffer (index 0 is the plane's
 * first byte; the last row ends right after its last pixel; the position is ignored) and its strides.
 */
class YuvPlane(val buffer: ByteBuffer, val rowStride: Int, val pixelStride: Int)

/** A `YUV_420_888` image: the Y, U and V planes of an `android.media.Image`, in that order. */
class YuvImage(val width: Int, val height: Int, val y: YuvPlane, val u: YuvPlane, val v: YuvPlane)

/**
 * A frame ready for the sessions' `pushFrameBytes`: a direct buffer and its layout. [borrowed] says whether the
 * buffer is the camera's own memory (no copy) or the packer's scratch buffer.
 */
class FrameBytes(val buffer: ByteBuffer, val layout: FrameLayout, val borrowed: Boolean)

/**
 * Turns Camera2 `YUV_420_888` images into what the core reads, without a copy where the planes allow it.
 *
 * Camera HALs put the three planes of an image in one block of memory: the Y plane, then the chroma. When the
 * chroma planes sit where the core expects them — right after `rowStride × height` bytes of Y, interleaved V/U
 * (NV21), interleaved U/V (NV12) or planar U then V (I420) — the frame is handed over in place, as one direct
 * buffer spanning the planes. Anything else (padding between the planes, planes in separate allocations, chroma
 * pixel strides other than 1 or 2) is packed into one reused scratch buffer as NV21, a single pass over the bytes.
 * The packer is not thread-safe: one per camera thread.
 */
class FramePacker {
    private var scratch: ByteBuffer? = null

    /** [image] as a frame for `pushFrameBytes`, to be made upright by [rotationDegrees] then [mirrored]. */
    fun pack(image: YuvImage, rotationDegrees: Int, mirrored: Boolean): FrameBytes =
        inPlace(image, rotationDegrees, mirrored) ?: copied(image, rotationDegrees, mirrored)

    private fun inPlace(image: YuvImage, rotation: Int, mirrored: Boolean): FrameBytes? {
        val (y, u, v) = Triple(image.y, image.u, image.v)
        if (!y.buffer.isDirect || !u.buffer.isDirect || !v.buffer.isDirect || y.pixelStride != 1) return null
        val h = image.height
        val (cw, ch) = chromaSize(image.width, image.height)
        val yAt = address(y.buffer)
        val uAt = address(u.buffer)
        val vAt = address(v.buffer)
        val chromaAt = yAt + y.rowStride.toLong() * h
        val (format, strides, length) = when {
            u.pixelStride == 2 && v.pixelStride == 2 && u.rowStride == v.rowStride && vAt == chromaAt && uAt == vAt + 1 ->
                Triple(PixelFormat.NV21, listOf(y.rowStride, v.rowStride), chromaAt - yAt + v.rowStride.toLong() * (ch - 1) + 2L * cw)
            u.pixelStride == 2 && v.pixelStride == 2 && u.rowStride == v.rowStride && uAt == chromaAt && vAt == uAt + 1 ->
                Triple(PixelFormat.NV12, listOf(y.rowStride, u.rowStride), chromaAt - yAt + u.rowStride.toLong() * (ch - 1) + 2L * cw)
            u.pixelStride == 1 && v.pixelStride == 1 && u.rowStride == v.rowStride && uAt == chromaAt &&
                vAt == uAt + u.rowStride.toLong() * ch ->
                Triple(PixelFormat.I420, listOf(y.rowStride, u.rowStride, v.rowStride), vAt - yAt + v.rowStride.toLong() * (ch - 1) + cw)
            else -> return null
        }
        // The span ends exactly where the last chroma plane's buffer ends: memory the image owns.
        val span = Pointer(yAt).getByteBuffer(0, length)
        return FrameBytes(span, layout(image, format, strides, rotation, mirrored), borrowed = true)
    }

    private fun copied(image: YuvImage, rotation: Int, mirrored: Boolean): FrameBytes {
        val (w, h) = image.width to image.height
        val (cw, ch) = chromaSize(w, h)
        val size = w * h + 2 * cw * ch
        val out = scratch?.takeIf { it.capacity() >= size } ?: ByteBuffer.allocateDirect(size).also { scratch = it }
        out.clear()
        val y = image.y
        val rows = y.buffer.duplicate()
        val row = ByteArray(w)
        for (r in 0 until h) {
            if (y.pixelStride == 1) {
                rows.position(r * y.rowStride)
                rows.get(row, 0, w)
            } else {
                for (c in 0 until w) row[c] = y.buffer.get(r * y.rowStride + c * y.pixelStride)
            }
            out.put(row, 0, w)
        }
        val (u, v) = image.u to image.v
        for (r in 0 until ch) {
            for (c in 0 until cw) {
                out.put(v.buffer.get(r * v.rowStride + c * v.pixelStride))
                out.put(u.buffer.get(r * u.rowStride + c * u.pixelStride))
            }
        }
        out.flip()
        return FrameBytes(out, layout(image, PixelFormat.NV21, emptyList(), rotation, mirrored), borrowed = false)
    }

    private fun layout(image: YuvImage, format: PixelFormat, strides: List<Int>, rotation: Int, mirrored: Boolean) =
        FrameLayout(
            width = image.width.toUInt(),
            height = image.height.toUInt(),
            format = format,
            rowStrides = strides.map { it.toUInt() },
            rotationDegrees = rotation,
            mirrored = mirrored,
        )

    private fun chromaSize(w: Int, h: Int) = (w + 1) / 2 to (h + 1) / 2

    private fun address(buffer: ByteBuffer): Long = Pointer.nativeValue(Native.getDirectBufferPointer(buffer))
}

/** Camera geometry: which way the sensor's buffer must turn to be upright on screen. */
object Orientation {
    /**
     * The clockwise rotation that makes a buffer of a camera whose sensor is mounted at [sensorOrientation] degrees
     * (`CameraCharacteristics.SENSOR_ORIENTATION`) upright while the display is turned by [displayRotationDegrees]
     * (`Display.getRotation()` as 0/90/180/270). The front camera's sensor faces the user, so the display's turn
     * adds up with the sensor's; the back camera's subtracts. The front camera's picture is then mirrored (the
     * selfie view), which [mirrored] says.
     */
    fun rotationDegrees(sensorOrientation: Int, displayRotationDegrees: Int, front: Boolean): Int {
        require(sensorOrientation % 90 == 0 && displayRotationDegrees % 90 == 0) {
            "orientations are multiples of 90°: $sensorOrientation, $displayRotationDegrees"
        }
        val turn = if (front) sensorOrientation + displayRotationDegrees else sensorOrientation - displayRotationDegrees
        return ((turn % 360) + 360) % 360
    }

    /** Whether the upright picture is shown mirrored: the front camera's. */
    fun mirrored(front: Boolean): Boolean = front

    /** `Surface.ROTATION_0..270` (0..3) as degrees. */
    fun surfaceRotationDegrees(surfaceRotation: Int): Int {
        require(surfaceRotation in 0..3) { "Surface rotation is 0 to 3, got $surfaceRotation" }
        return surfaceRotation * 90
    }
}
