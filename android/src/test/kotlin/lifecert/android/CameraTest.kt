package lifecert.android

import android.Manifest
import android.content.Context
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraManager
import android.hardware.camera2.CameraMetadata
import android.view.Surface
import lifecert.android.platform.Camera2Source
import lifecert.android.session.Clock
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowCameraCharacteristics

/**
 * The Camera2 piece under Robolectric's camera shadows: it picks the front camera among several, opens it, configures
 * a session with the `ImageReader` and starts the repeating request; the rotation follows the sensor's mounting and
 * the display; stopping closes it. (The shadows deliver no images: frames are covered by the controller tests.)
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35])
class CameraTest {
    private fun camera(facing: Int, orientation: Int) = ShadowCameraCharacteristics.newCameraCharacteristics().also {
        val shadow = shadowOf(it)
        shadow.set(CameraCharacteristics.LENS_FACING, facing)
        shadow.set(CameraCharacteristics.SENSOR_ORIENTATION, orientation)
        shadow.set(CameraCharacteristics.SENSOR_INFO_TIMESTAMP_SOURCE, CameraMetadata.SENSOR_INFO_TIMESTAMP_SOURCE_REALTIME)
    }

    @Test
    fun theFrontCameraOpensStreamsAndCloses() {
        val app = RuntimeEnvironment.getApplication()
        shadowOf(app).grantPermissions(Manifest.permission.CAMERA)
        val manager = app.getSystemService(Context.CAMERA_SERVICE) as CameraManager
        shadowOf(manager).addCamera("0", camera(CameraMetadata.LENS_FACING_BACK, 90))
        shadowOf(manager).addCamera("1", camera(CameraMetadata.LENS_FACING_FRONT, 270))
        val source = Camera2Source(app, { Surface.ROTATION_90 }, { null })
        source.start(Clock { 0 }) { _, _ -> }
        val deadline = System.currentTimeMillis() + 10_000
        while (!source.streaming && System.currentTimeMillis() < deadline) {
            org.robolectric.shadows.ShadowLooper.idleMainLooper()
            Thread.sleep(10)
        }
        assertTrue("streaming", source.streaming)
        assertEquals("front sensor at 270°, display turned 90°", 0, source.rotationDegrees)
        source.stop()
        assertFalse(source.streaming)
    }
}
