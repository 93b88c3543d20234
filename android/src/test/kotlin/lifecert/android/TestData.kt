package lifecert.android

import java.io.ByteArrayOutputStream
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import lifecert.android.camera.YuvImage
import lifecert.android.camera.YuvPlane
import org.junit.Assume.assumeTrue

// Shared test inputs: the repository, the shared evaluation data, clips decoded by ffmpeg as NV21 (what Camera2
// delivers), YUV planes laid out as camera HALs lay them out, and the inverse of the core's rotation and mirror.

/** The repository root (set by the pom). */
val repo: File = File(System.getProperty("lifecert.repo") ?: "..")

/** The shared evaluation data with ffmpeg, or the test is skipped, loudly (never in CI). */
fun evalData(): File {
    val data = File(System.getenv("LIFECERT_EVAL_DATA") ?: File(repo, "../shared/data").path)
    val ffmpeg = runCatching { ProcessBuilder("ffmpeg", "-version").start().waitFor() == 0 }.getOrDefault(false)
    val problem = when {
        !data.isDirectory -> "evaluation data not found at $data (set LIFECERT_EVAL_DATA)"
        !ffmpeg -> "ffmpeg not found"
        else -> null
    }
    if (problem != null) {
        check(System.getenv("CI") != "true") { "$problem: required in CI" }
        System.err.println("\n!!!!! SKIPPED: $problem !!!!!\n")
        assumeTrue(problem, false)
    }
    return data
}

fun run(vararg command: String): ByteArray {
    val process = ProcessBuilder(*command).redirectError(ProcessBuilder.Redirect.DISCARD).start()
    val out = ByteArrayOutputStream()
    process.inputStream.use { it.copyTo(out) }
    check(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0) { "${command.toList()} failed" }
    return out.toByteArray()
}

/** An upright picture as NV21 planes: Y (w×h), then V/U interleaved (⌈w/2⌉×⌈h/2⌉ pairs). */
class Nv21(val width: Int, val height: Int, val bytes: ByteArray) {
    val chromaWidth get() = (width + 1) / 2
    val chromaHeight get() = (height + 1) / 2

    fun y(x: Int, y: Int) = bytes[y * width + x]

    fun v(x: Int, y: Int) = bytes[width * height + 2 * (y * chromaWidth + x)]

    fun u(x: Int, y: Int) = bytes[width * height + 2 * (y * chromaWidth + x) + 1]
}

/** A clip decoded by ffmpeg: NV21 frames at 25 fps and s16le 16 kHz mono audio. */
class Clip(path: File) {
    val width: Int
    val height: Int
    val frames: List<Nv21>
    val audio: ShortArray

    init {
        val probe = String(
            run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", path.path),
        ).trim().split(",")
        width = probe[0].toInt()
        height = probe[1].toInt()
        val video = run("ffmpeg", "-v", "error", "-i", path.path, "-r", "25", "-f", "rawvideo", "-pix_fmt", "nv21", "-")
        val size = width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2)
        check(video.size % size == 0) { "ffmpeg gave whole frames" }
        frames = (0 until video.size / size).map { Nv21(width, height, video.copyOfRange(it * size, (it + 1) * size)) }
        val pcm = ByteBuffer.wrap(run("ffmpeg", "-v", "error", "-i", path.path, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"))
            .order(ByteOrder.LITTLE_ENDIAN).asShortBuffer()
        audio = ShortArray(pcm.remaining()).also { pcm.get(it) }
    }
}

/** The bundled sample portrait, cropped to [width]×[height] around its face, as NV21 (BT.601 limited range). */
fun astronautNv21(width: Int = 384, height: Int = 512): Nv21 {
    val image = ImageIO.read(File(repo, "samples/astronaut.png"))
    val x0 = (image.width - width) / 2
    val rgb = IntArray(width * height) { i -> image.getRGB(x0 + i % width, i / width) }
    fun r(i: Int) = (rgb[i] shr 16) and 0xFF
    fun g(i: Int) = (rgb[i] shr 8) and 0xFF
    fun b(i: Int) = rgb[i] and 0xFF
    fun clamp(v: Double) = v.toInt().coerceIn(0, 255).toByte()
    val cw = (width + 1) / 2
    val ch = (height + 1) / 2
    val out = ByteArray(width * height + 2 * cw * ch)
    for (i in 0 until width * height) out[i] = clamp(16 + 0.257 * r(i) + 0.504 * g(i) + 0.098 * b(i) + 0.5)
    for (cy in 0 until ch) for (cx in 0 until cw) {
        val i = (2 * cy) * width + 2 * cx
        out[width * height + 2 * (cy * cw + cx)] = clamp(128 + 0.439 * r(i) - 0.368 * g(i) - 0.071 * b(i) + 0.5)
        out[width * height + 2 * (cy * cw + cx) + 1] = clamp(128 - 0.148 * r(i) - 0.291 * g(i) + 0.439 * b(i) + 0.5)
    }
    return Nv21(width, height, out)
}

/**
 * Where buffer pixel (x, y) of a [w]×[h] buffer lands in the upright picture: the core's definition (rotate
 * clockwise by [rotation], then mirror the upright picture).
 */
fun uprightCoords(x: Int, y: Int, w: Int, h: Int, rotation: Int, mirrored: Boolean): Pair<Int, Int> {
    val (u, v) = when (rotation) {
        0 -> x to y
        90 -> (h - 1 - y) to x
        180 -> (w - 1 - x) to (h - 1 - y)
        270 -> y to (w - 1 - x)
        else -> error("rotation $rotation")
    }
    val outW = if (rotation % 180 == 0) w else h
    return if (mirrored) (outW - 1 - u) to v else u to v
}

/**
 * The buffer a sensor delivers when the upright picture is [upright] and the shell must rotate it by [rotation] and
 * mirror it to show it: the inverse of the core's mapping, plane by plane (exact for even sizes).
 */
fun sensorBuffer(upright: Nv21, rotation: Int, mirrored: Boolean): Nv21 {
    val swap = rotation % 180 != 0
    val (bw, bh) = if (swap) upright.height to upright.width else upright.width to upright.height
    val out = Nv21(bw, bh, ByteArray(upright.bytes.size))
    for (y in 0 until bh) for (x in 0 until bw) {
        val (u, v) = uprightCoords(x, y, bw, bh, rotation, mirrored)
        out.bytes[y * bw + x] = upright.y(u, v)
    }
    val (cw, ch) = out.chromaWidth to out.chromaHeight
    for (y in 0 until ch) for (x in 0 until cw) {
        val (u, v) = uprightCoords(x, y, cw, ch, rotation, mirrored)
        out.bytes[bw * bh + 2 * (y * cw + x)] = upright.v(u, v)
        out.bytes[bw * bh + 2 * (y * cw + x) + 1] = upright.u(u, v)
    }
    return out
}

/** How a camera HAL lays out a YUV_420_888 image in memory. */
enum class HalLayout {
    /** One block: padded Y rows, then V/U interleaved right after `yStride × height` (most Qualcomm/MediaTek). */
    NV21_IN_PLACE,

    /** One block: padded Y rows, then U/V interleaved. */
    NV12_IN_PLACE,

    /** One block: padded Y, then planar U, then planar V. */
    I420_IN_PLACE,

    /** Interleaved chroma, but 4096 bytes of padding between Y and chroma: must be copied. */
    NV21_WITH_GAP,

    /** Each plane in its own allocation, planar chroma: must be copied. */
    SEPARATE_PLANAR,
}

/** [picture] (already in the sensor's orientation) as the planes of an `Image` laid out like [layout]. */
fun halImage(picture: Nv21, layout: HalLayout, yStride: Int = (picture.width + 63) / 64 * 64): YuvImage {
    val (w, h) = picture.width to picture.height
    val (cw, ch) = picture.chromaWidth to picture.chromaHeight
    val interleaved = layout in setOf(HalLayout.NV21_IN_PLACE, HalLayout.NV12_IN_PLACE, HalLayout.NV21_WITH_GAP)
    val cStride = if (interleaved) yStride else (cw + 31) / 32 * 32
    val gap = if (layout == HalLayout.NV21_WITH_GAP) 4096 else 0
    fun slice(buffer: ByteBuffer, from: Int, length: Int): ByteBuffer =
        buffer.duplicate().position(from).limit(from + length).slice()
    val yLength = yStride * (h - 1) + w
    if (layout == HalLayout.SEPARATE_PLANAR) {
        val y = ByteBuffer.allocateDirect(yLength)
        val u = ByteBuffer.allocateDirect(cStride * (ch - 1) + cw)
        val v = ByteBuffer.allocateDirect(cStride * (ch - 1) + cw)
        for (r in 0 until h) for (c in 0 until w) y.put(r * yStride + c, picture.y(c, r))
        for (r in 0 until ch) for (c in 0 until cw) {
            u.put(r * cStride + c, picture.u(c, r))
            v.put(r * cStride + c, picture.v(c, r))
        }
        return YuvImage(w, h, YuvPlane(y, yStride, 1), YuvPlane(u, cStride, 1), YuvPlane(v, cStride, 1))
    }
    val chromaAt = yStride * h + gap
    val block = ByteBuffer.allocateDirect(chromaAt + 2 * cStride * ch)
    for (r in 0 until h) for (c in 0 until w) block.put(r * yStride + c, picture.y(c, r))
    val y = YuvPlane(slice(block, 0, yLength), yStride, 1)
    return if (interleaved) {
        val vFirst = layout != HalLayout.NV12_IN_PLACE
        for (r in 0 until ch) for (c in 0 until cw) {
            val at = chromaAt + r * cStride + 2 * c
            block.put(at, if (vFirst) picture.v(c, r) else picture.u(c, r))
            block.put(at + 1, if (vFirst) picture.u(c, r) else picture.v(c, r))
        }
        val planeLength = cStride * (ch - 1) + 2 * cw - 1
        val first = YuvPlane(slice(block, chromaAt, planeLength), cStride, 2)
        val second = YuvPlane(slice(block, chromaAt + 1, planeLength), cStride, 2)
        if (vFirst) YuvImage(w, h, y, u = second, v = first) else YuvImage(w, h, y, u = first, v = second)
    } else {
        val vAt = chromaAt + cStride * ch
        for (r in 0 until ch) for (c in 0 until cw) {
            block.put(chromaAt + r * cStride + c, picture.u(c, r))
            block.put(vAt + r * cStride + c, picture.v(c, r))
        }
        val planeLength = cStride * (ch - 1) + cw
        YuvImage(w, h, y, YuvPlane(slice(block, chromaAt, planeLength), cStride, 1), YuvPlane(slice(block, vAt, planeLength), cStride, 1))
    }
}
