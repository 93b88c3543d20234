//! The staff review's decision as the retiree is told it (the app shows it when the
//! authority answers an enrollment: approved, or refused with a reason code).

use crate::engine::language;
use crate::error::LifecertError;
use lifecert_core::text::messages::Messages;
use lifecert_core::text::review::{self as core, RefusalReason, ReviewDecision};

/// The sentence the retiree is told about a review decision, in `language` (`zh-Hans`,
/// `zh-Hant` or `en`). `refusal_reason` is absent for an approval, else the authority's code
/// (`face_not_clear`, `not_the_card_holder`, `id_document_unreadable`, `voice_not_clear`,
/// `liveness_in_doubt`, `other`). Errors: `BadInput` for an unknown language or code.
#[uniffi::export]
pub fn review_text(
    refusal_reason: Option<String>,
    language_tag: String,
) -> Result<String, LifecertError> {
    let lang = language(&language_tag)?;
    let decision = match refusal_reason {
        None => ReviewDecision::Approved,
        Some(code) => ReviewDecision::Refused {
            reason: RefusalReason::from_id(code.trim())
                .map_err(|e| LifecertError::bad_input(e.to_string()))?,
        },
    };
    Ok(core::review_text(&Messages::builtin(), lang, decision))
}
