package lifecert.android

import android.Manifest
import java.util.Collections
import lifecert.android.platform.AudioRecordSource
import lifecert.android.session.Clock
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowAudioRecord

/**
 * The microphone piece under Robolectric's `AudioRecord`: 16 kHz PCM arrives in 20 ms chunks, none lost or
 * reordered, each stamped on the session clock (here without a recorder timestamp: counted from the first chunk).
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35])
class MicrophoneTest {
    @After
    fun clear() = ShadowAudioRecord.clearSource()

    @Test
    fun chunksOfTwentyMillisecondsOnTheSessionClock() {
        shadowOf(RuntimeEnvironment.getApplication()).grantPermissions(Manifest.permission.RECORD_AUDIO)
        val recorded = ShortArray(16_000) { (it * 7 % 2000 - 1000).toShort() }
        var offset = 0
        ShadowAudioRecord.setSource(object : ShadowAudioRecord.AudioRecordSource {
            override fun readInShortArray(audioData: ShortArray, offsetInShorts: Int, sizeInShorts: Int, isBlocking: Boolean): Int {
                val n = minOf(sizeInShorts, recorded.size - offset)
                recorded.copyInto(audioData, offsetInShorts, offset, offset + n)
                offset += n
                return n
            }
        })
        val chunks = Collections.synchronizedList(mutableListOf<Pair<ShortArray, Long>>())
        val microphone = AudioRecordSource()
        microphone.start(Clock { 1000 }) { pcm, length, startMs -> chunks += pcm.copyOf(length) to startMs }
        val deadline = System.currentTimeMillis() + 10_000
        while (chunks.size < 50 && System.currentTimeMillis() < deadline) Thread.sleep(10)
        microphone.stop()
        val got = chunks.toList()
        assertEquals("one second of audio", 50, got.size)
        assertTrue(got.all { it.first.size == 320 })
        assertEquals((0 until 50).map { 980L + 20 * it }, got.map { it.second })
        assertArrayEquals(recorded, got.flatMap { it.first.asList() }.toShortArray())
    }
}
