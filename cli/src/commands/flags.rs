//! Value parsers for flags that several commands take (`--lang`, `--category`).

use lifecert_core::text::messages::Language;
use lifecert_core::text::result_texts::RetireeCategory;

/// `--lang`: a language tag (`zh-Hans`, `zh-Hant` or `en`).
pub fn parse_language(tag: &str) -> Result<Language, String> {
    Language::from_tag(tag)
        .ok_or_else(|| format!("unknown language {tag:?}: use zh-Hans, zh-Hant or en"))
}

/// `--category`: where the retiree lives (`provincial` or `non-provincial`).
pub fn parse_category(id: &str) -> Result<RetireeCategory, String> {
    RetireeCategory::from_id(id)
        .ok_or_else(|| format!("unknown category {id:?}: use provincial or non-provincial"))
}
