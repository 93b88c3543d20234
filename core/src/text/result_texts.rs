//! The texts of the result screen and of the confirmation SMS, typed.
//!
//! The wording lives in `resources/messages.json` like every other sentence (integrators
//! replace it with [`Messages::with_overrides`], e.g. to put their agency's SMS signature
//! such as 【广东人社】 in place of the neutral 【社保】); this module only picks the right
//! message and fills it in.
//!
//! * On the result screen: [`ResultText::Success`] (the existing
//!   [`crate::text::messages::CERTIFICATION_SUCCESS`]), [`ResultText::Retry`] (the attempt did not
//!   go through; kindly offer another try) and [`ResultText::VisitOffice`] (the phone flow
//!   cannot finish it; point to the nearest social-insurance office). Each has the
//!   certification year `{year}`. None of them blames the user.
//! * The SMS after a successful certification differs by [`RetireeCategory`], as in
//!   Guangdong: retirees living in the province (省内) get a plain confirmation; those
//!   living elsewhere (省外/异地) are also told that the result is recorded where they are
//!   insured, so they need not travel back. The SMS texts have `{year}` and `{name}`; the
//!   name is always masked here ([`PersonName::masked`]: `张三` → `张*`), and when it is not
//!   known a polite stand-in ([`SMS_NAME_FALLBACK`]: 尊敬的参保人 / Sir or Madam) takes
//!   its place. Both Chinese confirmations fit one 70-character SMS segment.

use crate::identity::person::PersonName;
use crate::text::messages::{Language, Messages, CERTIFICATION_SUCCESS};
use serde::{Deserialize, Serialize};

/// Id of the SMS for a retiree living in the province (placeholders `{name}`, `{year}`).
pub const SMS_SUCCESS_PROVINCIAL: &str = "sms_success_provincial";
/// Id of the SMS for a retiree living outside the province (placeholders `{name}`,
/// `{year}`).
pub const SMS_SUCCESS_NON_PROVINCIAL: &str = "sms_success_non_provincial";
/// Id of the stand-in for `{name}` in an SMS when the name is not known.
pub const SMS_NAME_FALLBACK: &str = "sms_name_fallback";
/// Id of the result-screen success text for a retiree living outside the province
/// (placeholder `{year}`): also says the result is recorded where they are insured.
pub const CERTIFICATION_SUCCESS_NON_PROVINCIAL: &str = "certification_success_non_provincial";
/// Id of the result text "not finished this time, try once more" (placeholder `{year}`).
pub const RESULT_FAILURE_RETRY: &str = "result_failure_retry";
/// Id of the result text "please finish at the social-insurance office" (placeholder
/// `{year}`).
pub const RESULT_FAILURE_OFFICE: &str = "result_failure_office";

/// The result and SMS message ids this module adds, with the placeholders each must use
/// (checked by the message loader).
pub(crate) const RESULT_TEXT_IDS: [(&str, &[&str]); 6] = [
    (CERTIFICATION_SUCCESS_NON_PROVINCIAL, &["year"]),
    (SMS_SUCCESS_PROVINCIAL, &["name", "year"]),
    (SMS_SUCCESS_NON_PROVINCIAL, &["name", "year"]),
    (SMS_NAME_FALLBACK, &[]),
    (RESULT_FAILURE_RETRY, &["year"]),
    (RESULT_FAILURE_OFFICE, &["year"]),
];

/// Where a retiree lives relative to the province that pays the pension (Guangdong's
/// distinction for the confirmation SMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetireeCategory {
    /// Lives in the province (省内 / 本省参保).
    Provincial,
    /// Lives outside the province (省外 / 异地居住).
    NonProvincial,
}

impl RetireeCategory {
    /// Both categories.
    pub const ALL: [RetireeCategory; 2] = [Self::Provincial, Self::NonProvincial];

    /// The stable id (`provincial`, `non_provincial`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Provincial => "provincial",
            Self::NonProvincial => "non_provincial",
        }
    }

    /// The category of an id (`provincial`, `non_provincial`; `-` may stand for `_`).
    pub fn from_id(id: &str) -> Option<Self> {
        match id.trim().replace('-', "_").as_str() {
            "provincial" => Some(Self::Provincial),
            "non_provincial" => Some(Self::NonProvincial),
            _ => None,
        }
    }

    /// Id of this category's success SMS.
    pub fn sms_id(self) -> &'static str {
        match self {
            Self::Provincial => SMS_SUCCESS_PROVINCIAL,
            Self::NonProvincial => SMS_SUCCESS_NON_PROVINCIAL,
        }
    }
}

/// What the result screen says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultText {
    /// Certification complete (a retiree living in the province).
    Success,
    /// Certification complete, for a retiree living outside the province: the result is
    /// recorded where they are insured.
    SuccessNonProvincial,
    /// Not finished this time; another try is offered.
    Retry,
    /// Cannot be finished on the phone; the office will help.
    VisitOffice,
}

impl ResultText {
    /// Every result text.
    pub const ALL: [ResultText; 4] = [
        Self::Success,
        Self::SuccessNonProvincial,
        Self::Retry,
        Self::VisitOffice,
    ];

    /// The success text for a retiree of `category`.
    pub fn success(category: RetireeCategory) -> Self {
        match category {
            RetireeCategory::Provincial => Self::Success,
            RetireeCategory::NonProvincial => Self::SuccessNonProvincial,
        }
    }

    /// The message id.
    pub fn id(self) -> &'static str {
        match self {
            Self::Success => CERTIFICATION_SUCCESS,
            Self::SuccessNonProvincial => CERTIFICATION_SUCCESS_NON_PROVINCIAL,
            Self::Retry => RESULT_FAILURE_RETRY,
            Self::VisitOffice => RESULT_FAILURE_OFFICE,
        }
    }
}

/// Renders `id` with `values`; the loader guarantees every id and placeholder used here,
/// so a failure is a bug, logged and answered with the unfilled text rather than a crash.
fn render(messages: &Messages, id: &str, lang: Language, values: &[(&str, &str)]) -> String {
    messages.render(id, lang, values).unwrap_or_else(|e| {
        tracing::error!(error = %e, id, "result text could not be rendered");
        messages.text(id, lang).to_string()
    })
}

/// The result-screen text for the certification of `year`.
pub fn result_text(messages: &Messages, lang: Language, text: ResultText, year: u16) -> String {
    let _span = tracing::debug_span!("result_text", ?text, %lang).entered();
    render(messages, text.id(), lang, &[("year", &year.to_string())])
}

/// The confirmation SMS after a successful certification of `year`, addressed to `name`
/// (masked here) or, without a name, to the polite stand-in [`SMS_NAME_FALLBACK`].
pub fn success_sms(
    messages: &Messages,
    lang: Language,
    category: RetireeCategory,
    year: u16,
    name: Option<&PersonName>,
) -> String {
    let _span = tracing::debug_span!("success_sms", ?category, %lang).entered();
    let name = match name {
        Some(n) => n.masked(),
        None => messages.text(SMS_NAME_FALLBACK, lang).to_string(),
    };
    render(
        messages,
        category.sms_id(),
        lang,
        &[("name", &name), ("year", &year.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::messages::MessageError;

    fn zhang_san() -> PersonName {
        PersonName::parse("张三").unwrap()
    }

    /// No `{`/`}` left, i.e. every placeholder was filled.
    fn assert_filled(text: &str) {
        assert!(
            !text.contains('{') && !text.contains('}'),
            "unfilled: {text}"
        );
    }

    #[test]
    fn every_text_renders_in_every_language_with_the_year() {
        let m = Messages::builtin();
        for lang in Language::ALL {
            for t in ResultText::ALL {
                let s = result_text(&m, lang, t, 2026);
                assert!(s.contains("2026"), "{t:?} {lang}: {s}");
                assert_filled(&s);
                assert_ne!(s, t.id());
            }
            for c in RetireeCategory::ALL {
                for name in [Some(zhang_san()), None] {
                    let s = success_sms(&m, lang, c, 2026, name.as_ref());
                    assert!(s.contains("2026"), "{c:?} {lang}: {s}");
                    assert_filled(&s);
                    assert!(!s.contains("张三"), "unmasked name: {s}");
                    if name.is_some() {
                        assert!(s.contains("张*"), "{s}");
                    } else {
                        assert!(s.contains(m.text(SMS_NAME_FALLBACK, lang)), "{s}");
                    }
                }
            }
        }
    }

    #[test]
    fn examples_read_as_intended() {
        let m = Messages::builtin();
        let name = zhang_san();
        assert_eq!(
            success_sms(
                &m,
                Language::ZhHans,
                RetireeCategory::Provincial,
                2026,
                Some(&name)
            ),
            "【社保】张*您好，您2026年度的养老金领取资格认证已完成，本年度无需再次认证。"
        );
        let anon = success_sms(
            &m,
            Language::ZhHans,
            RetireeCategory::Provincial,
            2026,
            None,
        );
        assert!(anon.starts_with("【社保】尊敬的参保人您好，"), "{anon}");
        let en = success_sms(&m, Language::En, RetireeCategory::NonProvincial, 2026, None);
        assert!(
            en.starts_with("[Social Insurance] Dear Sir or Madam, "),
            "{en}"
        );
        let hant = success_sms(
            &m,
            Language::ZhHant,
            RetireeCategory::NonProvincial,
            2026,
            Some(&name),
        );
        assert!(hant.contains("省外") && hant.contains("唔使"), "{hant}");
        // The two categories say different things.
        for lang in Language::ALL {
            assert_ne!(
                m.text(SMS_SUCCESS_PROVINCIAL, lang),
                m.text(SMS_SUCCESS_NON_PROVINCIAL, lang)
            );
        }
    }

    #[test]
    fn chinese_sms_fit_in_short_messages() {
        // A Chinese SMS segment holds 70 characters: both confirmations fit one, with a
        // four-character masked name or the stand-in.
        let m = Messages::builtin();
        let long_name = PersonName::parse("欧阳娜娜").unwrap();
        for lang in [Language::ZhHans, Language::ZhHant] {
            for category in RetireeCategory::ALL {
                for name in [Some(&long_name), None] {
                    let sms = success_sms(&m, lang, category, 2026, name);
                    let n = sms.chars().count();
                    assert!(n <= 70, "{n} chars: {sms}");
                }
            }
        }
    }

    #[test]
    fn results_are_kind_and_never_blame() {
        use crate::text::messages::tests::BLAMING;
        let m = Messages::builtin();
        for lang in Language::ALL {
            let texts = ResultText::ALL
                .iter()
                .map(|t| result_text(&m, lang, *t, 2026))
                .chain(
                    RetireeCategory::ALL
                        .iter()
                        .map(|c| success_sms(&m, lang, *c, 2026, None)),
                );
            for text in texts {
                let lower = text.to_lowercase();
                for bad in BLAMING {
                    assert!(!lower.contains(bad), "{lang} contains {bad:?}: {text}");
                }
            }
        }
        // The retry and office texts reassure before they ask.
        assert!(m
            .text(RESULT_FAILURE_RETRY, Language::ZhHans)
            .contains("没关系"));
        assert!(m
            .text(RESULT_FAILURE_OFFICE, Language::ZhHant)
            .contains("唔緊要"));
        assert!(m
            .text(RESULT_FAILURE_RETRY, Language::En)
            .contains("all right"));
    }

    #[test]
    fn an_override_replaces_the_default() {
        let json = r#"{"format": 1, "messages": {"sms_success_provincial": {
            "zh-Hans": "【广东人社】{name}您好，您{year}年度养老金待遇资格认证已完成。",
            "zh-Hant": "【廣東人社】{name}你好，你{year}年度養老金待遇資格認證已經完成。",
            "en": "[Guangdong HRSS] Dear {name}, your {year} certification is complete."}}}"#;
        let base = Messages::builtin();
        let m = base.with_overrides(json).unwrap();
        let name = zhang_san();
        assert_eq!(
            success_sms(
                &m,
                Language::ZhHans,
                RetireeCategory::Provincial,
                2027,
                Some(&name)
            ),
            "【广东人社】张*您好，您2027年度养老金待遇资格认证已完成。"
        );
        // Only what was named changed.
        assert_eq!(
            success_sms(&m, Language::En, RetireeCategory::NonProvincial, 2027, None),
            success_sms(
                &base,
                Language::En,
                RetireeCategory::NonProvincial,
                2027,
                None
            )
        );
        // An override must keep the placeholders the flow fills.
        let lost_year = r#"{"format": 1, "messages": {"result_failure_office": {
            "zh-Hans": "请到社保经办机构办理", "zh-Hant": "請去社保經辦機構辦理",
            "en": "Please visit the office"}}}"#;
        assert!(matches!(
            base.with_overrides(lost_year),
            Err(MessageError::PlaceholderMismatch { .. })
        ));
        let extra = r#"{"format": 1, "messages": {"sms_name_fallback": {
            "zh-Hans": "{who}", "zh-Hant": "{who}", "en": "{who}"}}}"#;
        assert!(base.with_overrides(extra).is_err());
    }

    #[test]
    fn result_ids_are_required_messages() {
        let required = crate::text::messages::required_ids();
        for (id, _) in RESULT_TEXT_IDS {
            assert!(required.contains(&id), "{id}");
        }
        assert!(required.contains(&ResultText::Success.id()));
    }
}
