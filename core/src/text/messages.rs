//! Localized messages as data: every sentence the shells show or speak, in Simplified
//! Chinese (`zh-Hans`), Traditional Chinese with Cantonese phrasing (`zh-Hant`) and English
//! (`en`).
//!
//! The built-in texts live in `resources/messages.json` (embedded at build time); integrators
//! may replace them ([`Messages::from_json`]) or override a few ([`Messages::with_overrides`]).
//! Each message has a stable snake_case id — the [`Instruction`] and [`Hint`] ids plus
//! [`PROMPT_READ_DIGITS`], [`LIVENESS_RETRY`] and [`CERTIFICATION_SUCCESS`] — so shells can
//! attach their own audio or icons.
//!
//! # File format
//! ```json
//! { "format": 1,
//!   "messages": { "come_closer": { "zh-Hans": "…", "zh-Hant": "…", "en": "…" }, … } }
//! ```
//! Loading checks that every message has a non-empty text in every language, that the
//! templates are well formed and use the same placeholders in every language, and (for a
//! full file) that every required id is present.
//!
//! # Templates
//! `{name}` is a placeholder (`name` is lowercase ASCII letters, digits and `_`), filled by
//! [`Messages::render`]; `{{` and `}}` stand for literal braces. For spoken digits, pass them
//! separated by spaces ("4 8 3 1") so text-to-speech reads digit by digit.

use crate::capture::guidance::{Hint, Instruction};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The embedded built-in messages.
const BUILTIN_JSON: &str = include_str!("../../resources/messages.json");

/// The only file format version understood.
const FORMAT_VERSION: u32 = 1;

/// Id of "please read aloud {digits}" (placeholder `{digits}`).
pub const PROMPT_READ_DIGITS: &str = "prompt_read_digits";
/// Id of "please repeat after me: {digit}" (one digit at a time; `{digit}` is one digit).
pub const PROMPT_REPEAT_DIGIT: &str = "prompt_repeat_digit";
/// Id of the kind "let's try once more" after a liveness attempt that did not pass.
pub const LIVENESS_RETRY: &str = "liveness_retry";
/// Id of the success / SMS text (placeholder `{year}`).
pub const CERTIFICATION_SUCCESS: &str = "certification_success";

/// Ids that are not instructions or hints, with the placeholders each must use.
const OTHER_IDS: [(&str, &[&str]); 4] = [
    (PROMPT_READ_DIGITS, &["digits"]),
    (PROMPT_REPEAT_DIGIT, &["digit"]),
    (LIVENESS_RETRY, &[]),
    (CERTIFICATION_SUCCESS, &["year"]),
];

/// A language of the messages (serialized as its BCP-47 tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// Simplified Chinese, Mandarin phrasing (BCP-47 `zh-Hans`).
    #[serde(rename = "zh-Hans")]
    ZhHans,
    /// Traditional Chinese, Cantonese phrasing (BCP-47 `zh-Hant`).
    #[serde(rename = "zh-Hant")]
    ZhHant,
    /// English (BCP-47 `en`).
    #[serde(rename = "en")]
    En,
}

impl Language {
    /// Every language.
    pub const ALL: [Language; 3] = [Self::ZhHans, Self::ZhHant, Self::En];

    /// The canonical BCP-47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::ZhHans => "zh-Hans",
            Self::ZhHant => "zh-Hant",
            Self::En => "en",
        }
    }

    /// The language for a BCP-47 tag, leniently: case-insensitive, `_` accepted for `-`;
    /// `zh-Hans*`, `zh-CN`, `zh-SG`, `zh` → [`Language::ZhHans`]; `zh-Hant*`, `zh-HK`,
    /// `zh-MO`, `zh-TW`, `yue*` → [`Language::ZhHant`]; `en*` → [`Language::En`].
    pub fn from_tag(tag: &str) -> Option<Self> {
        let t = tag.trim().replace('_', "-").to_ascii_lowercase();
        let mut parts = t.split('-');
        let primary = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        match primary {
            "en" => Some(Self::En),
            "yue" => Some(Self::ZhHant),
            "zh" => {
                if rest.contains(&"hant") {
                    Some(Self::ZhHant)
                } else if rest.contains(&"hans") {
                    Some(Self::ZhHans)
                } else if rest
                    .iter()
                    .any(|r| matches!(*r, "hk" | "mo" | "tw" | "yue"))
                {
                    Some(Self::ZhHant)
                } else {
                    Some(Self::ZhHans)
                }
            }
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Exact canonical tag only (used for files, where a typo must not pass).
    fn from_canonical_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.tag() == tag)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl FromStr for Language {
    type Err = MessageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_tag(s).ok_or_else(|| MessageError::UnknownLanguage(s.to_string()))
    }
}

/// Why messages could not be loaded or rendered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    /// The file is not valid JSON of the expected shape.
    #[error("messages file is not valid: {0}")]
    Json(String),
    /// The file's format version is not supported.
    #[error("messages file format {0} is not supported (expected {FORMAT_VERSION})")]
    Format(u32),
    /// A language tag that is not one of `zh-Hans`, `zh-Hant`, `en`.
    #[error("unknown language tag {0:?}")]
    UnknownLanguage(String),
    /// A message lacks a language.
    #[error("message {id:?} has no {language} text")]
    MissingLanguage {
        /// Message id.
        id: String,
        /// The missing language tag.
        language: &'static str,
    },
    /// A message text is empty.
    #[error("message {id:?} has an empty {language} text")]
    EmptyText {
        /// Message id.
        id: String,
        /// Language tag.
        language: &'static str,
    },
    /// A required message is missing.
    #[error("required message {0:?} is missing")]
    MissingMessage(String),
    /// A template is malformed (unmatched brace, bad placeholder name).
    #[error("message {id:?} ({language}) is not a valid template: {reason}")]
    BadTemplate {
        /// Message id.
        id: String,
        /// Language tag.
        language: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The languages of a message, or a message and what the engine expects, disagree on
    /// placeholders.
    #[error("message {id:?} ({language}) has placeholders {found:?}, expected {expected:?}")]
    PlaceholderMismatch {
        /// Message id.
        id: String,
        /// Language tag.
        language: &'static str,
        /// Placeholders found.
        found: Vec<String>,
        /// Placeholders expected.
        expected: Vec<String>,
    },
    /// No message has this id.
    #[error("unknown message id {0:?}")]
    UnknownId(String),
    /// [`Messages::render`] was given no value for a placeholder.
    #[error("no value for placeholder {{{name}}} of message {id:?}")]
    MissingValue {
        /// Message id.
        id: String,
        /// Placeholder name.
        name: String,
    },
}

/// The messages file as stored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagesFile {
    format: u32,
    messages: BTreeMap<String, BTreeMap<String, String>>,
}

/// All message texts, in every language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages {
    texts: HashMap<String, [String; 3]>,
}

/// Every id the engine and the flow need: instructions, hints and the other texts.
pub fn required_ids() -> Vec<&'static str> {
    Instruction::ALL
        .iter()
        .map(|i| i.id())
        .chain(Hint::ALL.iter().map(|h| h.id()))
        .chain(OTHER_IDS.iter().map(|(id, _)| *id))
        .chain(
            crate::text::result_texts::RESULT_TEXT_IDS
                .iter()
                .map(|(id, _)| *id),
        )
        .chain(
            crate::text::ids::LIVENESS_TEXT_IDS
                .iter()
                .map(|(id, _)| *id),
        )
        .chain(crate::text::ids::SESSION_TEXT_IDS.iter().map(|(id, _)| *id))
        .chain(
            crate::text::review::REVIEW_TEXT_IDS
                .iter()
                .map(|(id, _)| *id),
        )
        .chain(
            crate::text::ids::ID_PHOTO_TEXT_IDS
                .iter()
                .map(|(id, _)| *id),
        )
        .collect()
}

impl Messages {
    /// The sentence that tells the person what to do about a refused ID photo
    /// ([`crate::identity::id_document::IdDocumentError::message_id`]) in `lang`, or `None`
    /// for an internal failure that no new photo fixes.
    pub fn id_photo(
        &self,
        error: &crate::identity::id_document::IdDocumentError,
        lang: Language,
    ) -> Option<String> {
        error.message_id().map(|id| self.text(id, lang).to_string())
    }

    /// The built-in messages (`resources/messages.json`).
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_JSON).unwrap_or_else(|e| {
            // Unreachable in a tested build: the embedded file is validated by the tests.
            tracing::error!(error = %e, "built-in messages are invalid");
            Self {
                texts: HashMap::new(),
            }
        })
    }

    /// A complete set of messages from a JSON file: every required id
    /// ([`required_ids`]) must be present, every message in every language.
    pub fn from_json(json: &str) -> Result<Self, MessageError> {
        let texts = parse(json)?;
        for id in required_ids() {
            if !texts.contains_key(id) {
                return Err(MessageError::MissingMessage(id.to_string()));
            }
        }
        Ok(Self { texts })
    }

    /// These messages with some replaced or added from a JSON file of the same format (each
    /// message given must still have every language).
    pub fn with_overrides(&self, json: &str) -> Result<Self, MessageError> {
        let mut texts = self.texts.clone();
        texts.extend(parse(json)?);
        Ok(Self { texts })
    }

    /// The text of `id` in `lang`, or `None` for an unknown id.
    pub fn get(&self, id: &str, lang: Language) -> Option<&str> {
        self.texts.get(id).map(|t| t[lang.index()].as_str())
    }

    /// The text of `id` in `lang`; an unknown id yields the id itself (visible in testing,
    /// never a crash). Templates are returned unfilled: use [`Messages::render`].
    pub fn text<'a>(&'a self, id: &'a str, lang: Language) -> &'a str {
        self.get(id, lang).unwrap_or(id)
    }

    /// The text of an instruction.
    pub fn instruction(&self, instruction: Instruction, lang: Language) -> &str {
        self.text(instruction.id(), lang)
    }

    /// The text of a hint.
    pub fn hint(&self, hint: Hint, lang: Language) -> &str {
        self.text(hint.id(), lang)
    }

    /// The text of `id` in `lang` with its placeholders filled from `values`
    /// (`("digits", "4 8 3 1")`, …). Values for names the template does not use are ignored.
    pub fn render(
        &self,
        id: &str,
        lang: Language,
        values: &[(&str, &str)],
    ) -> Result<String, MessageError> {
        let template = self
            .get(id, lang)
            .ok_or_else(|| MessageError::UnknownId(id.to_string()))?;
        let pieces = parse_template(template).map_err(|reason| MessageError::BadTemplate {
            id: id.to_string(),
            language: lang.tag(),
            reason,
        })?;
        let mut out = String::with_capacity(template.len() + 16);
        for piece in pieces {
            match piece {
                Piece::Text(t) => out.push_str(&t),
                Piece::Placeholder(name) => {
                    let value = values
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| *v)
                        .ok_or_else(|| MessageError::MissingValue {
                            id: id.to_string(),
                            name: name.clone(),
                        })?;
                    out.push_str(value);
                }
            }
        }
        Ok(out)
    }

    /// Every message id.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.texts.keys().map(String::as_str)
    }
}

/// Parses and validates a messages file (every message complete and well formed).
fn parse(json: &str) -> Result<HashMap<String, [String; 3]>, MessageError> {
    let file: MessagesFile =
        serde_json::from_str(json).map_err(|e| MessageError::Json(e.to_string()))?;
    if file.format != FORMAT_VERSION {
        return Err(MessageError::Format(file.format));
    }
    let mut texts = HashMap::with_capacity(file.messages.len());
    for (id, by_tag) in file.messages {
        let entry = message_entry(&id, by_tag)?;
        check_placeholders(&id, &entry)?;
        texts.insert(id, entry);
    }
    Ok(texts)
}

/// One message's texts in language order, checking tags, completeness and emptiness.
fn message_entry(id: &str, by_tag: BTreeMap<String, String>) -> Result<[String; 3], MessageError> {
    let mut entry: [Option<String>; 3] = [None, None, None];
    for (tag, text) in by_tag {
        let lang = Language::from_canonical_tag(&tag).ok_or(MessageError::UnknownLanguage(tag))?;
        if text.trim().is_empty() {
            return Err(MessageError::EmptyText {
                id: id.to_string(),
                language: lang.tag(),
            });
        }
        entry[lang.index()] = Some(text);
    }
    let [a, b, c] = entry;
    let missing = |lang: Language| MessageError::MissingLanguage {
        id: id.to_string(),
        language: lang.tag(),
    };
    Ok([
        a.ok_or_else(|| missing(Language::ZhHans))?,
        b.ok_or_else(|| missing(Language::ZhHant))?,
        c.ok_or_else(|| missing(Language::En))?,
    ])
}

/// Every language must use the same placeholders, and the known ids exactly theirs.
fn check_placeholders(id: &str, texts: &[String; 3]) -> Result<(), MessageError> {
    let expected: Option<BTreeSet<String>> = OTHER_IDS
        .iter()
        .chain(crate::text::result_texts::RESULT_TEXT_IDS.iter())
        .chain(crate::text::ids::LIVENESS_TEXT_IDS.iter())
        .chain(crate::text::ids::SESSION_TEXT_IDS.iter())
        .chain(crate::text::review::REVIEW_TEXT_IDS.iter())
        .chain(crate::text::ids::ID_PHOTO_TEXT_IDS.iter())
        .find(|(known, _)| *known == id)
        .map(|(_, names)| names.iter().map(|n| n.to_string()).collect())
        .or_else(|| {
            let engine_id = Instruction::from_id(id).is_some() || Hint::from_id(id).is_some();
            engine_id.then(BTreeSet::new)
        });
    let mut first: Option<BTreeSet<String>> = None;
    for lang in Language::ALL {
        let pieces =
            parse_template(&texts[lang.index()]).map_err(|reason| MessageError::BadTemplate {
                id: id.to_string(),
                language: lang.tag(),
                reason,
            })?;
        let names: BTreeSet<String> = pieces
            .into_iter()
            .filter_map(|p| match p {
                Piece::Placeholder(n) => Some(n),
                Piece::Text(_) => None,
            })
            .collect();
        let reference = expected.as_ref().or(first.as_ref());
        if let Some(reference) = reference {
            if *reference != names {
                return Err(MessageError::PlaceholderMismatch {
                    id: id.to_string(),
                    language: lang.tag(),
                    found: names.into_iter().collect(),
                    expected: reference.iter().cloned().collect(),
                });
            }
        }
        first.get_or_insert(names);
    }
    Ok(())
}

/// A parsed template piece.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(String),
}

/// Splits a template into text and placeholders (`{name}`; `{{`, `}}` are literal braces).
fn parse_template(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) if ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' => {
                            name.push(ch)
                        }
                        Some(ch) => return Err(format!("invalid character {ch:?} in placeholder")),
                        None => return Err("unclosed '{'".to_string()),
                    }
                }
                if name.is_empty() {
                    return Err("empty placeholder '{}'".to_string());
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Placeholder(name));
            }
            '}' => return Err("unmatched '}'".to_string()),
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn builtin() -> Messages {
        Messages::from_json(BUILTIN_JSON).expect("built-in messages are valid")
    }

    #[test]
    fn builtin_file_is_complete_and_valid() {
        let m = builtin();
        assert_eq!(m, Messages::builtin());
        for id in required_ids() {
            for lang in Language::ALL {
                let text = m.get(id, lang);
                assert!(text.is_some_and(|t| !t.trim().is_empty()), "{id} {lang}");
            }
        }
    }

    #[test]
    fn every_instruction_and_hint_has_a_message() {
        let m = builtin();
        for i in Instruction::ALL {
            for lang in Language::ALL {
                assert_ne!(m.instruction(i, lang), i.id(), "{i:?} in {lang}");
            }
        }
        for h in Hint::ALL {
            for lang in Language::ALL {
                assert_ne!(m.hint(h, lang), h.id(), "{h:?} in {lang}");
            }
        }
    }

    #[test]
    fn a_message_without_a_language_is_rejected() {
        let json = r#"{"format": 1, "messages": {"come_closer": {"zh-Hans": "请把手机拿近一点", "en": "Closer"}}}"#;
        let err = Messages::builtin().with_overrides(json).unwrap_err();
        assert_eq!(
            err,
            MessageError::MissingLanguage {
                id: "come_closer".into(),
                language: "zh-Hant"
            }
        );
        // A full file must have every required id.
        let mut full: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        full["messages"]
            .as_object_mut()
            .unwrap()
            .remove("hold_steady");
        let err = Messages::from_json(&full.to_string()).unwrap_err();
        assert_eq!(err, MessageError::MissingMessage("hold_steady".into()));
        // And no empty text, unknown tag, or other format.
        let mut empty = serde_json::from_str::<serde_json::Value>(BUILTIN_JSON).unwrap();
        empty["messages"]["too_dark"]["en"] = "  ".into();
        assert!(matches!(
            Messages::from_json(&empty.to_string()),
            Err(MessageError::EmptyText { .. })
        ));
        let typo =
            r#"{"format": 1, "messages": {"x": {"zh-hans": "a", "zh-Hant": "b", "en": "c"}}}"#;
        assert!(matches!(
            Messages::builtin().with_overrides(typo),
            Err(MessageError::UnknownLanguage(_))
        ));
        let v2 = r#"{"format": 2, "messages": {}}"#;
        assert_eq!(
            Messages::from_json(v2).unwrap_err(),
            MessageError::Format(2)
        );
        assert!(matches!(
            Messages::from_json("not json"),
            Err(MessageError::Json(_))
        ));
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let json = r#"{"format": 1, "messages": {"come_closer": {
            "zh-Hans": "请靠近一点", "zh-Hant": "請行近啲", "en": "Come a bit closer"}}}"#;
        let m = Messages::builtin().with_overrides(json).unwrap();
        assert_eq!(m.text("come_closer", Language::En), "Come a bit closer");
        assert_eq!(
            m.text("move_back", Language::En),
            builtin().text("move_back", Language::En)
        );
    }

    /// Phrases that blame, scold or announce failure, in any of the languages (shared with
    /// the result-text tests).
    pub(crate) const BLAMING: [&str; 17] = [
        "you failed",
        "your fault",
        "fail",
        "wrong",
        "error",
        "mistake",
        "invalid",
        "错误",
        "錯誤",
        "失败",
        "失敗",
        "不对",
        "唔啱",
        "不合格",
        "无效",
        "無效",
        "不通过",
    ];

    #[test]
    fn instructions_and_hints_never_blame_the_user() {
        let m = builtin();
        let ids = Instruction::ALL
            .iter()
            .map(|i| i.id())
            .chain(Hint::ALL.iter().map(|h| h.id()))
            .chain([LIVENESS_RETRY, PROMPT_READ_DIGITS, CERTIFICATION_SUCCESS]);
        for id in ids {
            for lang in Language::ALL {
                let text = m.text(id, lang).to_lowercase();
                for bad in BLAMING {
                    assert!(
                        !text.contains(bad),
                        "{id} ({lang}) contains {bad:?}: {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn requests_are_polite() {
        let m = builtin();
        for i in Instruction::ALL.iter().filter(|i| !i.is_ok()) {
            let en = m.instruction(*i, Language::En);
            assert!(en.contains("Please"), "{i:?}: {en}");
            let hans = m.instruction(*i, Language::ZhHans);
            assert!(hans.contains('请'), "{i:?}: {hans}");
            let hant = m.instruction(*i, Language::ZhHant);
            assert!(
                hant.contains('請') || hant.contains("唔該"),
                "{i:?}: {hant}"
            );
        }
    }

    #[test]
    fn traditional_texts_are_cantonese_and_not_simplified() {
        let m = builtin();
        let hant: String = required_ids()
            .iter()
            .map(|id| m.text(id, Language::ZhHant))
            .collect();
        for marker in ['啲', '唔', '嘅', '喺', '哋'] {
            assert!(hant.contains(marker), "no Cantonese {marker}");
        }
        for simplified in ['请', '脸', '机', '头', '让', '这', '么', '线', '认', '证'] {
            assert!(
                !hant.contains(simplified),
                "simplified {simplified} in zh-Hant"
            );
        }
        let hans: String = required_ids()
            .iter()
            .map(|id| m.text(id, Language::ZhHans))
            .collect();
        for cantonese in ['啲', '唔', '嘅', '喺', '哋', '請', '機'] {
            assert!(!hans.contains(cantonese), "{cantonese} in zh-Hans");
        }
    }

    #[test]
    fn templates_substitute_their_placeholders() {
        let m = builtin();
        let digits = m
            .render(
                PROMPT_READ_DIGITS,
                Language::ZhHans,
                &[("digits", "4 8 3 1")],
            )
            .unwrap();
        assert_eq!(digits, "请大声读出这几个数字：4 8 3 1");
        let year = m
            .render(
                CERTIFICATION_SUCCESS,
                Language::En,
                &[("year", "2026"), ("unused", "x")],
            )
            .unwrap();
        assert!(year.contains("Your 2026 pension"), "{year}");
        assert_eq!(
            m.render(CERTIFICATION_SUCCESS, Language::ZhHant, &[])
                .unwrap_err(),
            MessageError::MissingValue {
                id: CERTIFICATION_SUCCESS.into(),
                name: "year".into()
            }
        );
        assert_eq!(
            m.render("no_face", Language::En, &[]).unwrap(),
            m.text("no_face", Language::En)
        );
        assert!(matches!(
            m.render("nope", Language::En, &[]),
            Err(MessageError::UnknownId(_))
        ));
    }

    #[test]
    fn template_syntax() {
        let ok = |t: &str| parse_template(t).unwrap();
        assert_eq!(
            ok("a {x_1} b"),
            vec![
                Piece::Text("a ".into()),
                Piece::Placeholder("x_1".into()),
                Piece::Text(" b".into())
            ]
        );
        assert_eq!(ok("{{literal}}"), vec![Piece::Text("{literal}".into())]);
        for bad in ["{", "}", "{}", "{Year}", "{a b}", "x {y"] {
            assert!(parse_template(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn placeholders_must_agree_across_languages_and_with_the_flow() {
        let mismatch = r#"{"format": 1, "messages": {"greet": {
            "zh-Hans": "你好 {name}", "zh-Hant": "你好 {name}", "en": "Hello {nmae}"}}}"#;
        assert!(matches!(
            Messages::builtin().with_overrides(mismatch),
            Err(MessageError::PlaceholderMismatch { .. })
        ));
        let lost = r#"{"format": 1, "messages": {"prompt_read_digits": {
            "zh-Hans": "请读数字", "zh-Hant": "請讀數字", "en": "Read the numbers"}}}"#;
        assert!(matches!(
            Messages::builtin().with_overrides(lost),
            Err(MessageError::PlaceholderMismatch { .. })
        ));
        let in_instruction = r#"{"format": 1, "messages": {"come_closer": {
            "zh-Hans": "{x}", "zh-Hant": "{x}", "en": "{x}"}}}"#;
        assert!(Messages::builtin().with_overrides(in_instruction).is_err());
    }

    #[test]
    fn language_tags() {
        for lang in Language::ALL {
            assert_eq!(Language::from_tag(lang.tag()), Some(lang));
            assert_eq!(
                serde_json::to_string(&lang).unwrap(),
                format!("\"{}\"", lang.tag())
            );
            assert_eq!(lang.to_string().parse::<Language>().unwrap(), lang);
        }
        let cases = [
            ("zh-CN", Language::ZhHans),
            ("zh", Language::ZhHans),
            ("zh_Hans_CN", Language::ZhHans),
            ("zh-HK", Language::ZhHant),
            ("zh-Hant-TW", Language::ZhHant),
            ("yue", Language::ZhHant),
            ("yue-Hant-HK", Language::ZhHant),
            ("EN-gb", Language::En),
        ];
        for (tag, lang) in cases {
            assert_eq!(Language::from_tag(tag), Some(lang), "{tag}");
        }
        assert_eq!(Language::from_tag("fr"), None);
        assert!("".parse::<Language>().is_err());
    }

    #[test]
    fn unknown_ids_are_visible_not_fatal() {
        let m = builtin();
        assert_eq!(m.text("no_such_message", Language::En), "no_such_message");
        assert!(m.get("no_such_message", Language::En).is_none());
        assert_eq!(m.ids().count(), required_ids().len());
    }
}
