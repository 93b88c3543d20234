package lifecert.android.session

import uniffi.lifecert_ffi.Engine

/** Language tags as the core resolves them. */
object Languages {
    /**
     * The core's language for [tag] (`zh-CN` → `zh-Hans`, `zh-HK` → `zh-Hant`, …): the shell's labels and voices
     * follow the core's choice rather than a mapping of their own. Throws the core's `LifecertException.BadInput`
     * for a language it does not speak.
     */
    fun resolve(engine: Engine, tag: String): String = engine.guidanceSession(tag).use { it.language() }
}
