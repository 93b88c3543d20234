package lifecert.android.platform

import android.annotation.SuppressLint
import android.media.AudioFormat
import android.media.AudioRecord
import android.media.AudioTimestamp
import android.media.MediaRecorder
import android.media.audiofx.AcousticEchoCanceler
import android.util.Log
import lifecert.android.session.AudioSink
import lifecert.android.session.Clock
import lifecert.android.session.Microphone

/**
 * The microphone: `AudioRecord` at 16 kHz mono PCM16 from `VOICE_COMMUNICATION` (the source phones tune for speech
 * at arm's length, with their echo cancellation, so the phone's own spoken prompt stays out of the answer), plus
 * the platform's `AcousticEchoCanceler` when the phone has one. Reads 20 ms chunks on its own thread; each chunk's
 * start is placed on the session clock by the recorder's own timestamp (`TIMEBASE_BOOTTIME`, the clock of the
 * session) when it gives one, else by counting samples from the first chunk.
 */
class AudioRecordSource : Microphone {
    private var record: AudioRecord? = null
    private var echo: AcousticEchoCanceler? = null
    private var thread: Thread? = null

    @Volatile
    private var running = false

    @SuppressLint("MissingPermission") // the controllers start a session only with the permission granted
    @Synchronized
    override fun start(clock: Clock, sink: AudioSink) {
        val minimum = AudioRecord.getMinBufferSize(RATE, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT)
        val record = AudioRecord(
            MediaRecorder.AudioSource.VOICE_COMMUNICATION,
            RATE,
            AudioFormat.CHANNEL_IN_MONO,
            AudioFormat.ENCODING_PCM_16BIT,
            maxOf(minimum, RATE * 2), // one second of slack while a frame is being analysed
        )
        check(record.state == AudioRecord.STATE_INITIALIZED) { "the microphone could not be opened" }
        echo = if (AcousticEchoCanceler.isAvailable()) {
            AcousticEchoCanceler.create(record.audioSessionId)?.also { it.enabled = true }
        } else {
            null
        }
        this.record = record
        running = true
        record.startRecording()
        thread = Thread({ read(record, clock, sink) }, "lifecert-microphone").also { it.start() }
    }

    private fun read(record: AudioRecord, clock: Clock, sink: AudioSink) {
        val chunk = ShortArray(CHUNK)
        val stamp = AudioTimestamp()
        var recorded = 0L // samples read so far
        var firstStartMs = -1L
        while (running) {
            val n = record.read(chunk, 0, chunk.size)
            if (n <= 0) {
                if (n < 0) Log.e(TAG, "AudioRecord.read failed: $n")
                if (n < 0) break else continue
            }
            val stamped = if (record.getTimestamp(stamp, AudioTimestamp.TIMEBASE_BOOTTIME) == AudioRecord.SUCCESS && stamp.nanoTime > 0) {
                clock.fromElapsedRealtimeNanos(stamp.nanoTime + (recorded - stamp.framePosition) * 1_000_000_000L / RATE)
            } else {
                null
            }
            if (firstStartMs < 0) firstStartMs = maxOf(0L, clock.nowMs() - n * 1000L / RATE)
            val startMs = stamped ?: (firstStartMs + recorded * 1000L / RATE)
            recorded += n
            if (running && startMs >= 0) sink.onAudio(chunk, n, startMs)
        }
    }

    /** Stops recording. Safe from the reading thread (the outcome may arrive on it). */
    @Synchronized
    override fun stop() {
        running = false
        val t = thread
        if (t != null && t !== Thread.currentThread()) t.join(500)
        record?.let {
            runCatching { it.stop() }
            it.release()
        }
        echo?.release()
        record = null
        echo = null
        thread = null
    }

    private companion object {
        const val TAG = "lifecert-microphone"
        const val RATE = 16_000
        const val CHUNK = RATE / 50 // 20 ms
    }
}
