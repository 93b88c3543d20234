package lifecert.android.ui

import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.graphics.Path
import android.graphics.RectF
import android.graphics.SurfaceTexture
import android.graphics.Typeface
import android.graphics.drawable.GradientDrawable
import android.text.InputType
import android.util.TypedValue
import android.view.Gravity
import android.view.Surface
import android.view.TextureView
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.ScrollView
import android.widget.TextView
import lifecert.android.session.NextStep
import lifecert.android.session.Permission
import lifecert.android.session.ScreenState
import uniffi.lifecert_ffi.GuideOval

/** What the screens' buttons do (the Activity forwards them to the controller). */
interface ScreenActions {
    fun chooseWho(relation: String?)

    fun submitIdentity(name: String, idNumber: String, phone: String)

    fun consent(accepted: Boolean)

    fun skipDocuments()

    fun tryAgain()

    fun finish()

    fun requestPermissions(missing: Set<Permission>)

    fun openSettings()
}

/**
 * The screens, built in code: black on white, large type (titles 32 sp, text 26 sp, the digits 120 sp), buttons a
 * whole finger high. Renders one [ScreenState] at a time into [root]; the capture screen is kept and updated in
 * place while a session runs (its preview must not be rebuilt on every frame). Views that tests look for carry a
 * tag (`TAG_*`). Call on the main thread.
 */
class ShellScreenView(private val context: Context, private val root: FrameLayout, private val actions: ScreenActions) {
    private var capture: CaptureViews? = null

    /** The state on screen. */
    var shown: ScreenState? = null
        private set

    /** The preview's surface while the capture screen is up and ready, else `null`. */
    @Volatile
    var previewSurface: Surface? = null
        private set

    fun render(state: ScreenState) {
        val texts = ShellTexts.forLanguage(state.language)
        if (state is ScreenState.Capture) {
            val views = capture ?: CaptureViews().also {
                capture = it
                replace(it.root)
            }
            views.update(state)
            shown = state
            return
        }
        capture = null
        previewSurface = null
        shown = state
        replace(
            when (state) {
                is ScreenState.WhoIsCertifying -> who(state, texts)
                is ScreenState.IdentityForm -> form(state, texts)
                is ScreenState.Consent -> page(
                    title(state.text ?: texts.consentCertification),
                    button(texts.agree, TAG_AGREE) { actions.consent(true) },
                    button(texts.back, TAG_BACK, primary = false) { actions.consent(false) },
                )
                is ScreenState.IdDocuments -> page(title(state.text), button(texts.skipDocuments, TAG_SKIP) { actions.skipDocuments() })
                is ScreenState.Working -> page(title(texts.wait), ProgressBar(context).apply { isIndeterminate = true })
                is ScreenState.Result -> result(state, texts)
                is ScreenState.PermissionNeeded -> page(
                    body(
                        when {
                            state.missing.size > 1 -> texts.permissionBoth
                            Permission.CAMERA in state.missing -> texts.permissionCamera
                            else -> texts.permissionMicrophone
                        },
                        TAG_PERMISSION_MESSAGE,
                    ),
                    button(texts.allow, TAG_ALLOW) { actions.requestPermissions(state.missing) },
                    button(texts.openSettings, TAG_SETTINGS, primary = false) { actions.openSettings() },
                )
                is ScreenState.Problem -> page(body(texts.problem, TAG_PROBLEM), button(texts.back, TAG_BACK) { actions.finish() })
                is ScreenState.Capture -> error("handled above")
            },
        )
    }

    private fun who(state: ScreenState.WhoIsCertifying, texts: ShellTexts) = page(
        title(texts.whoTitle),
        button(texts.self, TAG_SELF) { actions.chooseWho(null) },
        body(texts.relationTitle),
        *state.relations.map { relation ->
            button(texts.relations[relation] ?: relation, "$TAG_RELATION$relation", primary = false) { actions.chooseWho(relation) }
        }.toTypedArray(),
    )

    private fun form(state: ScreenState.IdentityForm, texts: ShellTexts): View {
        val name = field(state.name, TAG_NAME, InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_VARIATION_PERSON_NAME)
        // ID numbers end in a digit or X: a text field (a number pad has no X).
        val id = field(state.idNumber, TAG_ID_NUMBER, InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_CAP_CHARACTERS)
        val phone = field(state.phone, TAG_PHONE, InputType.TYPE_CLASS_PHONE)
        val views = mutableListOf<View>(
            title(if (state.proxyRelation != null) texts.formTitleRelative else texts.formTitleSelf),
            body(texts.name), name,
            body(texts.idNumber), id,
        )
        state.idNumberError?.let { views += error(it, TAG_ID_ERROR) }
        views += listOf(body(texts.phone), phone)
        state.error?.let { views += error(it, TAG_FORM_ERROR) }
        views += button(texts.next, TAG_NEXT) {
            actions.submitIdentity(name.text.toString(), id.text.toString(), phone.text.toString())
        }
        return page(*views.toTypedArray())
    }

    private fun result(state: ScreenState.Result, texts: ShellTexts): View {
        val views = mutableListOf<View>(
            title(if (state.success) texts.successTitle else texts.failureTitle, TAG_RESULT_TITLE).apply {
                setTextColor(if (state.success) GREEN else Color.BLACK)
            },
        )
        state.reason?.let { views += body(it, TAG_REASON) }
        views += body(state.text, TAG_RESULT_TEXT)
        state.smsText?.let { sms ->
            views += body(texts.smsLead)
            views += body(sms, TAG_SMS).apply {
                background = GradientDrawable().apply {
                    setStroke(dp(3), Color.BLACK)
                    cornerRadius = dp(8).toFloat()
                }
                setPadding(dp(16), dp(16), dp(16), dp(16))
            }
        }
        views += when (state.next) {
            NextStep.DONE -> button(texts.done, TAG_DONE) { actions.finish() }
            NextStep.TRY_AGAIN -> button(texts.tryAgain, TAG_TRY_AGAIN) { actions.tryAgain() }
            NextStep.GO_TO_OFFICE -> button(texts.understood, TAG_DONE) { actions.finish() }
        }
        return page(*views.toTypedArray())
    }

    /** The capture screen: preview (3:4, the upright camera picture) with the guide oval, instruction, digits, progress. */
    private inner class CaptureViews {
        val preview = TextureView(context).apply {
            surfaceTextureListener = object : TextureView.SurfaceTextureListener {
                override fun onSurfaceTextureAvailable(texture: SurfaceTexture, width: Int, height: Int) {
                    texture.setDefaultBufferSize(640, 480)
                    previewSurface = Surface(texture)
                }

                override fun onSurfaceTextureSizeChanged(texture: SurfaceTexture, width: Int, height: Int) {}

                override fun onSurfaceTextureDestroyed(texture: SurfaceTexture): Boolean {
                    previewSurface = null
                    return true
                }

                override fun onSurfaceTextureUpdated(texture: SurfaceTexture) {}
            }
        }
        val oval = OvalOverlay(context).apply { tag = TAG_OVAL }
        val instruction = body("", TAG_INSTRUCTION).apply {
            setTypeface(typeface, Typeface.BOLD)
            gravity = Gravity.CENTER
        }
        val digits = TextView(context).apply {
            tag = TAG_DIGITS
            setTextColor(Color.BLACK)
            setTypeface(Typeface.DEFAULT, Typeface.BOLD)
            gravity = Gravity.CENTER
            maxLines = 1
        }
        val progress = ProgressBar(context, null, android.R.attr.progressBarStyleHorizontal).apply {
            tag = TAG_PROGRESS
            max = 100
            progressTintList = android.content.res.ColorStateList.valueOf(Color.BLACK)
            progressBackgroundTintList = android.content.res.ColorStateList.valueOf(Color.GRAY)
        }
        val root = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            setBackgroundColor(Color.WHITE)
            val frame = AspectFrame(context, 3f / 4f).apply {
                addView(preview, FrameLayout.LayoutParams(MATCH, MATCH))
                addView(oval, FrameLayout.LayoutParams(MATCH, MATCH))
            }
            addView(instruction, LinearLayout.LayoutParams(MATCH, WRAP).apply { setMargins(dp(16), dp(12), dp(16), 0) })
            addView(frame, LinearLayout.LayoutParams(MATCH, 0, 1f).apply { gravity = Gravity.CENTER_HORIZONTAL })
            addView(digits, LinearLayout.LayoutParams(MATCH, WRAP))
            addView(progress, LinearLayout.LayoutParams(MATCH, dp(24)).apply { setMargins(dp(16), 0, dp(16), dp(16)) })
        }

        fun update(state: ScreenState.Capture) {
            instruction.text = state.instruction.orEmpty()
            // One line whatever the count: 120 sp for up to three digits, smaller for up to six.
            digits.text = state.digits.joinToString(" ")
            digits.setTextSize(TypedValue.COMPLEX_UNIT_SP, DIGITS_SP * minOf(1f, 3.5f / maxOf(1, state.digits.size)).coerceAtLeast(0.55f))
            digits.visibility = if (state.digits.isEmpty()) View.GONE else View.VISIBLE
            progress.progress = (state.progress.coerceIn(0f, 1f) * 100).toInt()
            oval.oval = state.oval
        }
    }

    private fun replace(view: View) {
        root.removeAllViews()
        root.addView(view, FrameLayout.LayoutParams(MATCH, MATCH))
    }

    private fun page(vararg views: View): View {
        val column = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(dp(24), dp(24), dp(24), dp(24))
        }
        for (v in views) column.addView(v, LinearLayout.LayoutParams(MATCH, WRAP).apply { topMargin = dp(16) })
        return ScrollView(context).apply {
            setBackgroundColor(Color.WHITE)
            addView(column)
        }
    }

    private fun title(text: String, tag: String = TAG_TITLE) = TextView(context).apply {
        this.tag = tag
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, TITLE_SP)
        setTextColor(Color.BLACK)
        setTypeface(Typeface.DEFAULT, Typeface.BOLD)
    }

    private fun body(text: String, tag: String? = null) = TextView(context).apply {
        this.tag = tag
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, BODY_SP)
        setTextColor(Color.BLACK)
    }

    private fun error(text: String, tag: String) = body(text, tag).apply { setTextColor(DARK_RED) }

    private fun field(value: String, tag: String, type: Int) = EditText(context).apply {
        this.tag = tag
        setText(value)
        inputType = type
        setTextSize(TypedValue.COMPLEX_UNIT_SP, BODY_SP)
        setTextColor(Color.BLACK)
        minHeight = dp(64)
        setPadding(dp(12), dp(8), dp(12), dp(8))
        background = GradientDrawable().apply {
            setColor(Color.WHITE)
            setStroke(dp(2), Color.BLACK)
            cornerRadius = dp(8).toFloat()
        }
    }

    private fun button(text: String, tag: String, primary: Boolean = true, onClick: () -> Unit) = Button(context).apply {
        this.tag = tag
        this.text = text
        isAllCaps = false
        setTextSize(TypedValue.COMPLEX_UNIT_SP, BUTTON_SP)
        minHeight = dp(72)
        setTextColor(if (primary) Color.WHITE else Color.BLACK)
        background = GradientDrawable().apply {
            setColor(if (primary) Color.BLACK else Color.WHITE)
            setStroke(dp(3), Color.BLACK)
            cornerRadius = dp(12).toFloat()
        }
        setOnClickListener { onClick() }
    }

    private fun dp(v: Int) = (v * context.resources.displayMetrics.density).toInt()

    companion object {
        const val TITLE_SP = 32f
        const val BODY_SP = 26f
        const val BUTTON_SP = 28f
        const val DIGITS_SP = 120f
        private const val MATCH = ViewGroup.LayoutParams.MATCH_PARENT
        private const val WRAP = ViewGroup.LayoutParams.WRAP_CONTENT
        private val GREEN = Color.rgb(0, 100, 0)
        private val DARK_RED = Color.rgb(160, 0, 0)

        const val TAG_TITLE = "lifecert:title"
        const val TAG_SELF = "lifecert:self"
        const val TAG_RELATION = "lifecert:relation:"
        const val TAG_NAME = "lifecert:name"
        const val TAG_ID_NUMBER = "lifecert:id-number"
        const val TAG_PHONE = "lifecert:phone"
        const val TAG_ID_ERROR = "lifecert:id-error"
        const val TAG_FORM_ERROR = "lifecert:form-error"
        const val TAG_NEXT = "lifecert:next"
        const val TAG_AGREE = "lifecert:agree"
        const val TAG_BACK = "lifecert:back"
        const val TAG_SKIP = "lifecert:skip"
        const val TAG_INSTRUCTION = "lifecert:instruction"
        const val TAG_DIGITS = "lifecert:digits"
        const val TAG_PROGRESS = "lifecert:progress"
        const val TAG_OVAL = "lifecert:oval"
        const val TAG_RESULT_TITLE = "lifecert:result-title"
        const val TAG_RESULT_TEXT = "lifecert:result-text"
        const val TAG_REASON = "lifecert:reason"
        const val TAG_SMS = "lifecert:sms"
        const val TAG_DONE = "lifecert:done"
        const val TAG_TRY_AGAIN = "lifecert:try-again"
        const val TAG_PERMISSION_MESSAGE = "lifecert:permission"
        const val TAG_ALLOW = "lifecert:allow"
        const val TAG_SETTINGS = "lifecert:settings"
        const val TAG_PROBLEM = "lifecert:problem"
    }
}

/** A frame that keeps the aspect ratio (width / height) of the upright camera picture, centred. */
private class AspectFrame(context: Context, private val ratio: Float) : FrameLayout(context) {
    override fun onMeasure(widthMeasureSpec: Int, heightMeasureSpec: Int) {
        val w = MeasureSpec.getSize(widthMeasureSpec)
        val h = MeasureSpec.getSize(heightMeasureSpec)
        val (fw, fh) = if (h > 0 && w / ratio > h) (h * ratio).toInt() to h else w to (w / ratio).toInt()
        super.onMeasure(MeasureSpec.makeMeasureSpec(fw, MeasureSpec.EXACTLY), MeasureSpec.makeMeasureSpec(fh, MeasureSpec.EXACTLY))
    }
}

/** The guide oval over the preview (the core's, as fractions of the upright picture), the outside dimmed. */
class OvalOverlay(context: Context) : View(context) {
    var oval: GuideOval? = null
        set(value) {
            if (field != value) {
                field = value
                invalidate()
            }
        }

    private val dim = Paint().apply { color = Color.argb(150, 0, 0, 0) }
    private val line = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        color = Color.WHITE
        style = Paint.Style.STROKE
        strokeWidth = 8f
    }

    override fun onDraw(canvas: Canvas) {
        val o = oval ?: return
        val side = minOf(width, height).toFloat()
        val cx = o.centerX * width
        val cy = o.centerY * height
        val rect = RectF(cx - o.radiusX * side, cy - o.radiusY * side, cx + o.radiusX * side, cy + o.radiusY * side)
        val outside = Path().apply {
            fillType = Path.FillType.EVEN_ODD
            addRect(0f, 0f, width.toFloat(), height.toFloat(), Path.Direction.CW)
            addOval(rect, Path.Direction.CW)
        }
        canvas.drawPath(outside, dim)
        canvas.drawOval(rect, line)
    }
}
