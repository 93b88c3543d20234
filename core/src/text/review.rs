//! The staff review of an enrollment package, as the retiree hears of it.
//!
//! In the Qinghai flow an enrollment (face frames, ID photos, the reading of 0–9) waits for
//! staff review; the package states its deadline ([`crate::api::enrollment::REVIEW_PERIOD_SECS`]
//! after submission). The reviewer decides [`ReviewDecision::Approved`] or
//! [`ReviewDecision::Refused`] with a [`RefusalReason`]; this module gives the sentence the
//! retiree is told for each, in every language, from `resources/messages.json` like every
//! other sentence. Refusals never blame the retiree: each says what happened and what to do
//! next (enroll again in better light, bring the ID card to an office).
//!
//! The authority service (`server/`) records decisions with these reason codes; the app shows
//! [`review_text`].

use crate::text::messages::{Language, Messages};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Id of the text "your enrollment was approved" (no placeholders).
pub const REVIEW_APPROVED: &str = "review_approved";

/// The review message ids this module adds, with their placeholders (none), checked by the
/// message loader.
pub(crate) const REVIEW_TEXT_IDS: [(&str, &[&str]); 7] = [
    (REVIEW_APPROVED, &[]),
    ("review_refused_face_not_clear", &[]),
    ("review_refused_not_the_card_holder", &[]),
    ("review_refused_id_document_unreadable", &[]),
    ("review_refused_voice_not_clear", &[]),
    ("review_refused_liveness_in_doubt", &[]),
    ("review_refused_other", &[]),
];

/// Why a reviewer refused an enrollment: a code the service records and the app words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The face pictures are not clear enough (light, blur, glasses, a mask).
    FaceNotClear,
    /// The face does not look like the ID card's holder.
    NotTheCardHolder,
    /// The ID-card photos cannot be read.
    IdDocumentUnreadable,
    /// The reading of 0–9 cannot be heard clearly (noise, another voice).
    VoiceNotClear,
    /// The reviewer doubts that a living person was present.
    LivenessInDoubt,
    /// Something else; the reviewer's own words go with it.
    Other,
}

impl RefusalReason {
    /// Every reason.
    pub const ALL: [RefusalReason; 6] = [
        Self::FaceNotClear,
        Self::NotTheCardHolder,
        Self::IdDocumentUnreadable,
        Self::VoiceNotClear,
        Self::LivenessInDoubt,
        Self::Other,
    ];

    /// The stable code (`face_not_clear`, …), as stored and sent.
    pub fn id(self) -> &'static str {
        match self {
            Self::FaceNotClear => "face_not_clear",
            Self::NotTheCardHolder => "not_the_card_holder",
            Self::IdDocumentUnreadable => "id_document_unreadable",
            Self::VoiceNotClear => "voice_not_clear",
            Self::LivenessInDoubt => "liveness_in_doubt",
            Self::Other => "other",
        }
    }

    /// The reason of code `id`.
    pub fn from_id(id: &str) -> Result<Self, ReviewError> {
        Self::ALL
            .into_iter()
            .find(|r| r.id() == id)
            .ok_or_else(|| ReviewError::UnknownReason(id.chars().take(40).collect()))
    }

    /// The id of the sentence the retiree is told.
    pub fn message_id(self) -> &'static str {
        match self {
            Self::FaceNotClear => "review_refused_face_not_clear",
            Self::NotTheCardHolder => "review_refused_not_the_card_holder",
            Self::IdDocumentUnreadable => "review_refused_id_document_unreadable",
            Self::VoiceNotClear => "review_refused_voice_not_clear",
            Self::LivenessInDoubt => "review_refused_liveness_in_doubt",
            Self::Other => "review_refused_other",
        }
    }
}

/// What the reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum ReviewDecision {
    /// The template is issued; the retiree can certify on the phone from now on.
    Approved,
    /// Not approved, for `reason`.
    Refused {
        /// Why.
        reason: RefusalReason,
    },
}

impl ReviewDecision {
    /// The id of the sentence the retiree is told.
    pub fn message_id(self) -> &'static str {
        match self {
            Self::Approved => REVIEW_APPROVED,
            Self::Refused { reason } => reason.message_id(),
        }
    }
}

/// A review code that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReviewError {
    /// Not a known refusal reason code.
    #[error("{0:?} is not a refusal reason")]
    UnknownReason(String),
}

/// The sentence the retiree is told about `decision`, in `lang`.
pub fn review_text(messages: &Messages, lang: Language, decision: ReviewDecision) -> String {
    let _span = tracing::debug_span!("review_text", ?decision, %lang).entered();
    messages.text(decision.message_id(), lang).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decision_has_its_own_kind_sentence_in_every_language() {
        let m = Messages::builtin();
        let decisions: Vec<ReviewDecision> = std::iter::once(ReviewDecision::Approved)
            .chain(
                RefusalReason::ALL
                    .into_iter()
                    .map(|reason| ReviewDecision::Refused { reason }),
            )
            .collect();
        for lang in Language::ALL {
            let texts: Vec<String> = decisions
                .iter()
                .map(|d| review_text(&m, lang, *d))
                .collect();
            for (d, t) in decisions.iter().zip(&texts) {
                assert_ne!(t, d.message_id(), "{d:?} {lang} has no text");
                assert!(!t.contains('{'), "{t}");
            }
            let mut unique = texts.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                texts.len(),
                "{lang}: two decisions read the same"
            );
        }
        // Refusals say what to do next and never blame: no "you failed", "wrong", "fake".
        for reason in RefusalReason::ALL {
            let en = review_text(&m, Language::En, ReviewDecision::Refused { reason });
            let lower = en.to_lowercase();
            for blame in ["fail", "wrong", "fake", "fraud", "your fault"] {
                assert!(!lower.contains(blame), "{reason:?}: {en}");
            }
            assert!(
                lower.contains("office") || lower.contains("again"),
                "{reason:?} says what to do next: {en}"
            );
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for r in RefusalReason::ALL {
            assert_eq!(RefusalReason::from_id(r.id()), Ok(r));
            let json = serde_json::to_string(&ReviewDecision::Refused { reason: r }).unwrap();
            assert_eq!(
                json,
                format!("{{\"decision\":\"refused\",\"reason\":\"{}\"}}", r.id())
            );
        }
        assert_eq!(
            serde_json::to_string(&ReviewDecision::Approved).unwrap(),
            "{\"decision\":\"approved\"}"
        );
        assert!(matches!(
            RefusalReason::from_id("looks_dead"),
            Err(ReviewError::UnknownReason(_))
        ));
    }
}
