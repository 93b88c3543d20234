package lifecert.android.ui

/**
 * The shell's own labels (buttons, field names, the permission message) in the core's three languages. Everything a
 * session says — instructions, prompts, reasons, results — is the core's text, not these.
 */
data class ShellTexts(
    val whoTitle: String,
    val self: String,
    val forRelative: String,
    val relationTitle: String,
    val relations: Map<String, String>,
    val formTitleSelf: String,
    val formTitleRelative: String,
    val name: String,
    val idNumber: String,
    val phone: String,
    val next: String,
    val consentCertification: String,
    val agree: String,
    val back: String,
    val skipDocuments: String,
    val wait: String,
    val successTitle: String,
    val failureTitle: String,
    val smsLead: String,
    val done: String,
    val tryAgain: String,
    val understood: String,
    val permissionCamera: String,
    val permissionMicrophone: String,
    val permissionBoth: String,
    val allow: String,
    val openSettings: String,
    val problem: String,
) {
    companion object {
        /** The labels for a session language as the core names it (`zh-Hans`, `zh-Hant`, `en`). */
        fun forLanguage(language: String): ShellTexts = when (language) {
            "zh-Hans" -> ZH_HANS
            "zh-Hant" -> ZH_HANT
            else -> EN
        }

        val ZH_HANS = ShellTexts(
            whoTitle = "谁在办理认证？",
            self = "我本人",
            forRelative = "我替家人办理",
            relationTitle = "您是老人的：",
            relations = mapOf(
                "spouse" to "配偶", "child" to "子女", "child_in_law" to "儿媳或女婿", "grandchild" to "孙辈",
                "sibling" to "兄弟姐妹", "other_relative" to "其他亲属", "guardian" to "监护人", "caregiver" to "护理人员",
                "community_worker" to "社区工作人员",
            ),
            formTitleSelf = "请填写您的信息",
            formTitleRelative = "请填写老人的信息",
            name = "姓名",
            idNumber = "身份证号码",
            phone = "手机号码（接收短信）",
            next = "下一步",
            consentCertification = "接下来会打开前面的摄像头和麦克风。请老人看着屏幕，听到提示后自己读出数字。画面和声音只在这台手机上用于本次认证。",
            agree = "同意，开始",
            back = "返回",
            skipDocuments = "跳过，下一步",
            wait = "请稍候……",
            successTitle = "认证成功",
            failureTitle = "这次没有完成",
            smsLead = "稍后您会收到这条短信：",
            done = "完成",
            tryAgain = "再试一次",
            understood = "知道了",
            permissionCamera = "认证需要使用摄像头。请点下面的按钮允许。",
            permissionMicrophone = "认证需要使用麦克风。请点下面的按钮允许。",
            permissionBoth = "认证需要使用摄像头和麦克风。请点下面的按钮允许。",
            allow = "允许使用",
            openSettings = "去设置里打开",
            problem = "出了点问题，请稍后再试。",
        )

        val ZH_HANT = ShellTexts(
            whoTitle = "邊個辦理認證？",
            self = "我本人",
            forRelative = "我幫屋企人辦理",
            relationTitle = "你係老人家嘅：",
            relations = mapOf(
                "spouse" to "配偶", "child" to "仔女", "child_in_law" to "新抱或女婿", "grandchild" to "孫",
                "sibling" to "兄弟姊妹", "other_relative" to "其他親屬", "guardian" to "監護人", "caregiver" to "護理員",
                "community_worker" to "社區工作人員",
            ),
            formTitleSelf = "請填寫你嘅資料",
            formTitleRelative = "請填寫老人家嘅資料",
            name = "姓名",
            idNumber = "身份證號碼",
            phone = "手機號碼（收短訊）",
            next = "下一步",
            consentCertification = "跟住會打開前面嘅鏡頭同咪。請老人家望住螢幕，聽到提示之後自己讀出數字。畫面同聲音只會喺呢部手機用嚟做今次認證。",
            agree = "同意，開始",
            back = "返回",
            skipDocuments = "跳過，下一步",
            wait = "請等等……",
            successTitle = "認證成功",
            failureTitle = "今次未完成",
            smsLead = "稍後你會收到呢個短訊：",
            done = "完成",
            tryAgain = "再試一次",
            understood = "知道",
            permissionCamera = "認證要用鏡頭。請撳下面個掣允許。",
            permissionMicrophone = "認證要用咪。請撳下面個掣允許。",
            permissionBoth = "認證要用鏡頭同咪。請撳下面個掣允許。",
            allow = "允許使用",
            openSettings = "去設定度開",
            problem = "出咗少少問題，請稍後再試。",
        )

        val EN = ShellTexts(
            whoTitle = "Who is doing the certification?",
            self = "I am the retiree",
            forRelative = "I am helping a family member",
            relationTitle = "You are the retiree's:",
            relations = mapOf(
                "spouse" to "Spouse", "child" to "Son or daughter", "child_in_law" to "Son- or daughter-in-law",
                "grandchild" to "Grandchild", "sibling" to "Brother or sister", "other_relative" to "Other relative",
                "guardian" to "Guardian", "caregiver" to "Caregiver", "community_worker" to "Community worker",
            ),
            formTitleSelf = "Your details",
            formTitleRelative = "The retiree's details",
            name = "Name",
            idNumber = "ID card number",
            phone = "Mobile number (for the SMS)",
            next = "Next",
            consentCertification = "The front camera and the microphone will now turn on. The retiree looks at the screen " +
                "and reads the numbers aloud when asked. Picture and sound are used on this phone only, for this certification.",
            agree = "Agree and start",
            back = "Back",
            skipDocuments = "Skip",
            wait = "Please wait…",
            successTitle = "Certified",
            failureTitle = "Not finished this time",
            smsLead = "You will receive this SMS:",
            done = "Done",
            tryAgain = "Try again",
            understood = "OK",
            permissionCamera = "The certification needs the camera. Please tap the button below to allow it.",
            permissionMicrophone = "The certification needs the microphone. Please tap the button below to allow it.",
            permissionBoth = "The certification needs the camera and the microphone. Please tap the button below to allow them.",
            allow = "Allow",
            openSettings = "Open settings",
            problem = "Something went wrong. Please try again later.",
        )
    }
}
