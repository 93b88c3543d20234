//! The confirmation SMS: its text, and the outbox table a sender drains.
//!
//! The certification handler queues one row per certification in the same transaction that
//! records it (the `sms_outbox.certification_id` unique key: a retry never sends twice).
//! A sender — the integrator's SMS gateway client — takes due messages with [`claim_due`]
//! (`FOR UPDATE SKIP LOCKED`: several senders never take the same row; a claimed message is
//! leased and comes back if the sender dies), then reports [`mark_sent`] or
//! [`mark_failed`].
//!
//! The text is the core's (`lifecert_core::text::result_texts`): provincial or non-provincial
//! wording, with the year and the masked name, or the polite stand-in without a name.

use lifecert_core::text::messages::{Language, Messages};
use lifecert_core::text::result_texts::{RetireeCategory, SMS_NAME_FALLBACK};
use sqlx::PgPool;
use std::time::Duration;

/// The subject's SMS contact as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsContact {
    /// The mobile number.
    pub mobile: String,
    /// The masked name (`张*`), when known.
    pub name_masked: Option<String>,
    /// Provincial or not.
    pub category: RetireeCategory,
    /// The SMS language.
    pub language: Language,
}

impl SmsContact {
    /// From the stored columns; `None` when no mobile number is on file.
    pub fn from_columns(
        mobile: Option<String>,
        name_masked: Option<String>,
        category: &str,
        language: &str,
    ) -> Option<Self> {
        Some(Self {
            mobile: mobile?,
            name_masked,
            category: if category == "non_provincial" {
                RetireeCategory::NonProvincial
            } else {
                RetireeCategory::Provincial
            },
            language: Language::from_tag(language).unwrap_or(Language::ZhHans),
        })
    }
}

/// The confirmation SMS for the certification of `year`: the text of
/// `lifecert_core::text::result_texts::success_sms` for the contact's category and language,
/// filled with the stored masked name (the service never keeps the name in clear).
pub fn success_sms(messages: &Messages, contact: &SmsContact, year: u16) -> String {
    let lang = contact.language;
    let name = contact
        .name_masked
        .clone()
        .unwrap_or_else(|| messages.text(SMS_NAME_FALLBACK, lang).to_owned());
    let id = contact.category.sms_id();
    messages
        .render(id, lang, &[("name", &name), ("year", &year.to_string())])
        .unwrap_or_else(|e| {
            // The loader guarantees the ids and placeholders; a failure is a bug.
            tracing::error!(error = %e, id, "SMS text could not be rendered");
            messages.text(id, lang).to_owned()
        })
}

/// A queued SMS handed to a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Outbox row id (for [`mark_sent`] / [`mark_failed`]).
    pub id: i64,
    /// The mobile number.
    pub mobile: String,
    /// The text.
    pub body: String,
    /// How many times it was claimed, this time included.
    pub attempts: i32,
}

/// Claims up to `limit` due messages for `lease` (they are due again after it unless marked
/// sent).
pub async fn claim_due(
    pool: &PgPool,
    limit: i64,
    lease: Duration,
) -> Result<Vec<OutboxMessage>, sqlx::Error> {
    let rows: Vec<(i64, String, String, i32)> = sqlx::query_as(
        "UPDATE sms_outbox SET attempts = attempts + 1, \
                next_attempt_at = now() + make_interval(secs => $2) \
          WHERE id IN (SELECT id FROM sms_outbox \
                        WHERE sent_at IS NULL AND next_attempt_at <= now() \
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, mobile, body, attempts",
    )
    .bind(limit)
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, mobile, body, attempts)| OutboxMessage {
            id,
            mobile,
            body,
            attempts,
        })
        .collect())
}

/// Records that message `id` was handed to the gateway.
pub async fn mark_sent(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sms_outbox SET sent_at = now(), last_error = NULL WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records that sending message `id` failed with `error`; it is due again after
/// `retry_after`.
pub async fn mark_failed(
    pool: &PgPool,
    id: i64,
    error: &str,
    retry_after: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sms_outbox SET last_error = $2, \
                next_attempt_at = now() + make_interval(secs => $3) \
          WHERE id = $1 AND sent_at IS NULL",
    )
    .bind(id)
    .bind(error)
    .bind(retry_after.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecert_core::identity::person::PersonName;
    use lifecert_core::text::result_texts;

    #[test]
    fn the_text_is_the_core_s_with_the_masked_name() {
        let m = Messages::builtin();
        let name = PersonName::parse("欧阳娜娜").unwrap();
        for category in RetireeCategory::ALL {
            for language in Language::ALL {
                for known in [true, false] {
                    let contact = SmsContact {
                        mobile: "13800138000".into(),
                        name_masked: known.then(|| name.masked()),
                        category,
                        language,
                    };
                    assert_eq!(
                        success_sms(&m, &contact, 2026),
                        result_texts::success_sms(
                            &m,
                            language,
                            category,
                            2026,
                            known.then_some(&name)
                        )
                    );
                }
            }
        }
    }

    #[test]
    fn a_contact_needs_a_mobile_number() {
        assert!(SmsContact::from_columns(None, None, "provincial", "zh-Hans").is_none());
        let c = SmsContact::from_columns(Some("13800138000".into()), None, "non_provincial", "en")
            .unwrap();
        assert_eq!(
            (c.category, c.language),
            (RetireeCategory::NonProvincial, Language::En)
        );
    }
}
