package lifecert.android.platform

import android.annotation.SuppressLint
import android.content.Context
import android.graphics.ImageFormat
import android.hardware.camera2.CameraCaptureSession
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraDevice
import android.hardware.camera2.CameraManager
import android.hardware.camera2.CameraMetadata
import android.hardware.camera2.params.OutputConfiguration
import android.hardware.camera2.params.SessionConfiguration
import android.media.ImageReader
import android.os.Handler
import android.os.HandlerThread
import android.util.Log
import android.util.Size
import android.view.Surface
import java.util.concurrent.Executor
import lifecert.android.camera.FramePacker
import lifecert.android.camera.Orientation
import lifecert.android.camera.YuvImage
import lifecert.android.camera.YuvPlane
import lifecert.android.session.Camera
import lifecert.android.session.Clock
import lifecert.android.session.FrameSink

/**
 * The front camera through Camera2: an `ImageReader` of `YUV_420_888` images (and the preview surface, when there
 * is one) on a repeating request. Each image's planes go to the sink as they are (see [FramePacker]: in place when
 * the HAL's layout allows), with the rotation from the sensor's mounting and the display's rotation, mirrored, and
 * stamped with the sensor's timestamp on the session clock when the sensor uses the realtime clock. The reader
 * keeps at most two images and the newest is taken, so a slow analysis drops frames rather than piling them up.
 */
class Camera2Source(
    private val context: Context,
    /** `Display.getRotation()` now (`Surface.ROTATION_*`). */
    private val displayRotation: () -> Int,
    /** The preview's surface (a `TextureView`'s), or `null` for analysis only. */
    private val preview: () -> Surface?,
    /** The analysis size wanted: the closest the camera offers is taken. */
    private val wanted: Size = Size(640, 480),
) : Camera {
    private var thread: HandlerThread? = null
    private var device: CameraDevice? = null
    private var capture: CameraCaptureSession? = null
    private var reader: ImageReader? = null
    private val packer = FramePacker()

    @Volatile
    private var sink: FrameSink? = null

    /** Whether the repeating request runs (the camera is open and its session configured). */
    val streaming: Boolean
        @Synchronized get() = capture != null

    /** The clockwise rotation frames get now (for the preview's transform and the tests). */
    @Volatile
    var rotationDegrees: Int? = null
        private set

    @SuppressLint("MissingPermission") // the controllers start a session only with the permission granted
    @Synchronized
    override fun start(clock: Clock, sink: FrameSink) {
        val manager = checkNotNull(context.getSystemService(CameraManager::class.java)) { "no camera service" }
        val id = manager.cameraIdList.firstOrNull {
            manager.getCameraCharacteristics(it).get(CameraCharacteristics.LENS_FACING) == CameraMetadata.LENS_FACING_FRONT
        } ?: throw IllegalStateException("this phone has no front camera")
        val characteristics = manager.getCameraCharacteristics(id)
        val sensorOrientation = characteristics.get(CameraCharacteristics.SENSOR_ORIENTATION) ?: 0
        rotationDegrees = Orientation.rotationDegrees(sensorOrientation, Orientation.surfaceRotationDegrees(displayRotation()), front = true)
        val realtime = characteristics.get(CameraCharacteristics.SENSOR_INFO_TIMESTAMP_SOURCE) ==
            CameraMetadata.SENSOR_INFO_TIMESTAMP_SOURCE_REALTIME
        val sizes = characteristics.get(CameraCharacteristics.SCALER_STREAM_CONFIGURATION_MAP)
            ?.getOutputSizes(ImageFormat.YUV_420_888).orEmpty()
        val size = sizes.minByOrNull { Math.abs(it.width * it.height - wanted.width * wanted.height) } ?: wanted

        val thread = HandlerThread("lifecert-camera").also { it.start() }
        val handler = Handler(thread.looper)
        val executor = Executor { handler.post(it) }
        val reader = ImageReader.newInstance(size.width, size.height, ImageFormat.YUV_420_888, 2)
        this.thread = thread
        this.reader = reader
        this.sink = sink
        reader.setOnImageAvailableListener({ r ->
            val image = r.acquireLatestImage() ?: return@setOnImageAvailableListener
            try {
                val target = this.sink ?: return@setOnImageAvailableListener
                val t = (if (realtime) clock.fromElapsedRealtimeNanos(image.timestamp) else null) ?: clock.nowMs()
                if (t < 0) return@setOnImageAvailableListener // exposed before the session started
                val p = image.planes
                val yuv = YuvImage(
                    image.width,
                    image.height,
                    YuvPlane(p[0].buffer, p[0].rowStride, p[0].pixelStride),
                    YuvPlane(p[1].buffer, p[1].rowStride, p[1].pixelStride),
                    YuvPlane(p[2].buffer, p[2].rowStride, p[2].pixelStride),
                )
                val rotation = Orientation.rotationDegrees(sensorOrientation, Orientation.surfaceRotationDegrees(displayRotation()), front = true)
                target.onFrame(packer.pack(yuv, rotation, Orientation.mirrored(front = true)), t)
            } finally {
                image.close()
            }
        }, handler)

        manager.openCamera(id, executor, object : CameraDevice.StateCallback() {
            override fun onOpened(camera: CameraDevice) {
                synchronized(this@Camera2Source) {
                    if (this@Camera2Source.sink == null) return camera.close() // stopped meanwhile
                    device = camera
                }
                val surfaces = listOfNotNull(preview(), reader.surface)
                val configuration = SessionConfiguration(
                    SessionConfiguration.SESSION_REGULAR,
                    surfaces.map { OutputConfiguration(it) },
                    executor,
                    object : CameraCaptureSession.StateCallback() {
                        override fun onConfigured(session: CameraCaptureSession) {
                            synchronized(this@Camera2Source) {
                                if (device !== camera) return session.close()
                                capture = session
                            }
                            val request = camera.createCaptureRequest(CameraDevice.TEMPLATE_PREVIEW)
                            surfaces.forEach(request::addTarget)
                            session.setRepeatingRequest(request.build(), null, handler)
                        }

                        override fun onConfigureFailed(session: CameraCaptureSession) {
                            Log.e(TAG, "camera session could not be configured for $size")
                        }
                    },
                )
                camera.createCaptureSession(configuration)
            }

            override fun onDisconnected(camera: CameraDevice) = camera.close()

            override fun onError(camera: CameraDevice, error: Int) {
                Log.e(TAG, "camera error $error")
                camera.close()
            }
        })
    }

    /** Closes the camera. Safe from the camera's own thread (the outcome may arrive on it). */
    @Synchronized
    override fun stop() {
        sink = null
        capture?.close()
        device?.close()
        reader?.close()
        thread?.quitSafely()
        capture = null
        device = null
        reader = null
        thread = null
    }

    private companion object {
        const val TAG = "lifecert-camera"
    }
}
