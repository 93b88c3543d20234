package lifecert.android.platform

import android.content.Context
import android.os.Bundle
import android.speech.tts.TextToSpeech
import android.speech.tts.UtteranceProgressListener
import android.util.Log
import java.util.Locale
import java.util.concurrent.ConcurrentHashMap
import lifecert.android.session.Speech
import lifecert.android.session.SpeechListener
import lifecert.android.session.SpokenText

/**
 * The prompts aloud through the phone's `TextToSpeech`, in the session's language: Mandarin (`zh-CN`) for
 * `zh-Hans`, Cantonese (`zh-HK`, else `yue-HK`) for `zh-Hant` (the core's Traditional texts are Cantonese), English
 * for `en`. Its `UtteranceProgressListener` reports each utterance's start and end, which the session uses to time
 * the answer. Without a speech engine (or the language) the text is still on screen: its start and end are then
 * reported at once, so the answer is timed from when it appeared.
 */
class TtsSpeech(context: Context) : Speech {
    private val listeners = ConcurrentHashMap<String, SpeechListener>()
    private val waiting = mutableListOf<SpokenText>()
    private var state = State.STARTING
    private var language: String? = null

    /** The phone's speech engine (tests reach its shadow through it). */
    val tts: TextToSpeech = TextToSpeech(context.applicationContext) { status -> initialised(status == TextToSpeech.SUCCESS) }

    init {
        tts.setOnUtteranceProgressListener(object : UtteranceProgressListener() {
            override fun onStart(utteranceId: String) {
                listeners[utteranceId]?.onStart(utteranceId)
            }

            override fun onDone(utteranceId: String) {
                listeners.remove(utteranceId)?.onDone(utteranceId)
            }

            @Deprecated("Deprecated in Java")
            override fun onError(utteranceId: String) {
                listeners.remove(utteranceId)?.onDone(utteranceId)
            }

            override fun onStop(utteranceId: String, interrupted: Boolean) {
                listeners.remove(utteranceId)?.onDone(utteranceId)
            }
        })
    }

    private fun initialised(ok: Boolean) {
        val queued = synchronized(this) {
            state = if (ok) State.READY else State.FAILED
            waiting.toList().also { waiting.clear() }
        }
        if (!ok) Log.w(TAG, "no text-to-speech engine: prompts are shown only")
        queued.forEach(::say)
    }

    override fun speak(text: SpokenText, listener: SpeechListener) {
        listeners[text.id] = listener
        val now = synchronized(this) {
            if (state == State.STARTING) waiting += text
            state != State.STARTING
        }
        if (now) say(text)
    }

    private fun say(text: SpokenText) {
        if (state == State.READY && useLanguage(text.language)) {
            if (tts.speak(text.text, TextToSpeech.QUEUE_ADD, Bundle(), text.id) == TextToSpeech.SUCCESS) return
        }
        listeners.remove(text.id)?.let {
            it.onStart(text.id)
            it.onDone(text.id)
        }
    }

    private fun useLanguage(tag: String): Boolean {
        if (tag == language) return true
        val chosen = locales(tag).firstOrNull { tts.isLanguageAvailable(it) >= TextToSpeech.LANG_AVAILABLE } ?: run {
            Log.w(TAG, "no voice for $tag")
            return false
        }
        tts.language = chosen
        language = tag
        return true
    }

    override fun stop() {
        tts.stop()
        val dropped = listeners.keys.toList()
        dropped.forEach { id -> listeners.remove(id)?.onDone(id) }
    }

    /** Releases the engine (the Activity's `onDestroy`). */
    fun shutdown() {
        stop()
        tts.shutdown()
    }

    private enum class State { STARTING, READY, FAILED }

    companion object {
        private const val TAG = "lifecert-speech"

        /** The voices to try for a session language, best first. */
        fun locales(tag: String): List<Locale> = when (tag) {
            "zh-Hans" -> listOf(Locale.SIMPLIFIED_CHINESE, Locale.CHINESE)
            "zh-Hant" -> listOf(Locale.forLanguageTag("zh-HK"), Locale.forLanguageTag("yue-HK"), Locale.forLanguageTag("yue"))
            else -> listOf(Locale.forLanguageTag(tag), Locale.ENGLISH)
        }
    }
}
