package lifecert

import java.io.File
import javax.imageio.ImageIO
import uniffi.lifecert_ffi.FrameInput
import uniffi.lifecert_ffi.PixelFormat

/** The repository root (set by the pom). */
val repo: File = File(System.getProperty("lifecert.repo") ?: "../../..")

/** The bundled sample portrait as an upright packed-RGB camera frame (512×512). */
fun astronaut(): FrameInput {
    val image = ImageIO.read(File(repo, "samples/astronaut.png"))
    val (w, h) = image.width to image.height
    val argb = image.getRGB(0, 0, w, h, null, 0, w)
    val rgb = ByteArray(w * h * 3)
    for (i in argb.indices) {
        rgb[3 * i] = (argb[i] shr 16).toByte()
        rgb[3 * i + 1] = (argb[i] shr 8).toByte()
        rgb[3 * i + 2] = argb[i].toByte()
    }
    return FrameInput(
        data = rgb,
        width = w.toUInt(),
        height = h.toUInt(),
        format = PixelFormat.RGB8,
        rowStrides = emptyList(),
        rotationDegrees = 0,
        mirrored = false,
    )
}
