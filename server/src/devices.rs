//! `POST /v1/devices`: registers a device's public key for a subject reference, optionally
//! with the contact the confirmation SMS goes to.
//!
//! The subject is named by its reference (HMAC of the ID number, 64 hex digits); the ID
//! number never reaches the service. The name is checked and stored masked (`张三` → `张*`,
//! all the SMS shows); the mobile number is checked and stored in full (the SMS gateway
//! needs it). Registering the same key for the same subject again answers 200 with the
//! existing registration (and updates the contact when one is given).
//!
//! Who may register a device is the integrator's real-name login in front of the service;
//! this endpoint records the binding that the certification then enforces.

use crate::app::AppState;
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lifecert_core::crypto::sealing::PublicKey;
use lifecert_core::identity::person::{MobileNumber, PersonName, SubjectReference};
use lifecert_core::text::messages::Language;
use lifecert_core::text::result_texts::RetireeCategory;
use serde::{Deserialize, Serialize};

/// Where the confirmation SMS goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Mainland mobile number.
    pub mobile: String,
    /// The retiree's name (stored masked); absent: the SMS uses a polite stand-in.
    #[serde(default)]
    pub name: Option<String>,
    /// Living in the province or elsewhere (the SMS differs).
    pub category: RetireeCategory,
    /// Language of the SMS. Default `zh-Hans`.
    #[serde(default = "default_language")]
    pub language: Language,
}

fn default_language() -> Language {
    Language::ZhHans
}

/// The body of `POST /v1/devices`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    /// The subject reference (64 hex digits).
    pub subject_ref: SubjectReference,
    /// The device's Ed25519 public key (64 hex digits).
    pub device_key: PublicKey,
    /// The SMS contact, if known.
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// The answer of `POST /v1/devices`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceRegistered {
    /// The subject reference.
    pub subject_ref: SubjectReference,
    /// The registered key.
    pub device_key: String,
    /// When the key was first registered for this subject (RFC 3339).
    pub registered_at: String,
    /// Whether a mobile number is on file for the subject (else no SMS is sent).
    pub sms_contact_on_file: bool,
}

struct CheckedContact {
    mobile: String,
    name_masked: Option<String>,
    category: &'static str,
    language: &'static str,
}

fn check_contact(c: &Contact) -> Result<CheckedContact, ApiError> {
    let mobile = MobileNumber::parse(&c.mobile)
        .map_err(|e| ApiError::unprocessable("invalid_mobile", format!("contact.mobile: {e}")))?;
    let name_masked = c
        .name
        .as_deref()
        .map(|n| {
            PersonName::parse(n)
                .map(|p| p.masked())
                .map_err(|e| ApiError::unprocessable("invalid_name", format!("contact.name: {e}")))
        })
        .transpose()?;
    Ok(CheckedContact {
        mobile: mobile.as_str().to_owned(),
        name_masked,
        category: match c.category {
            RetireeCategory::Provincial => "provincial",
            RetireeCategory::NonProvincial => "non_provincial",
        },
        language: c.language.tag(),
    })
}

/// Handler of `POST /v1/devices`.
#[tracing::instrument(skip_all)]
pub async fn register(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RegisterDevice>,
) -> Result<(StatusCode, Json<DeviceRegistered>), ApiError> {
    let contact = req.contact.as_ref().map(check_contact).transpose()?;
    let subject = &req.subject_ref.as_bytes()[..];
    let key = &req.device_key.as_bytes()[..];
    let mut tx = app.pool.begin().await?;
    match &contact {
        Some(c) => {
            sqlx::query(
                "INSERT INTO subjects (subject_ref, name_masked, mobile, category, language) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (subject_ref) DO UPDATE SET name_masked = $2, mobile = $3, \
                 category = $4, language = $5, updated_at = now()",
            )
            .bind(subject)
            .bind(&c.name_masked)
            .bind(&c.mobile)
            .bind(c.category)
            .bind(c.language)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query(
                "INSERT INTO subjects (subject_ref) VALUES ($1) ON CONFLICT (subject_ref) DO NOTHING",
            )
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        }
    }
    let inserted: Option<(String,)> = sqlx::query_as(
        "INSERT INTO devices (subject_ref, public_key) VALUES ($1, $2) \
         ON CONFLICT (subject_ref, public_key) DO NOTHING \
         RETURNING lifecert_rfc3339(registered_at)",
    )
    .bind(subject)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let (status, registered_at) = match inserted {
        Some((at,)) => (StatusCode::CREATED, at),
        None => {
            let (at,): (String,) = sqlx::query_as(
                "SELECT lifecert_rfc3339(registered_at) FROM devices \
                 WHERE subject_ref = $1 AND public_key = $2",
            )
            .bind(subject)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            (StatusCode::OK, at)
        }
    };
    let (on_file,): (bool,) =
        sqlx::query_as("SELECT mobile IS NOT NULL FROM subjects WHERE subject_ref = $1")
            .bind(subject)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok((
        status,
        Json(DeviceRegistered {
            subject_ref: req.subject_ref,
            device_key: req.device_key.to_hex(),
            registered_at,
            sms_contact_on_file: on_file,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_kept_masked_and_the_mobile_checked() {
        let c = check_contact(&Contact {
            mobile: "138 0013 8000".into(),
            name: Some("张三".into()),
            category: RetireeCategory::NonProvincial,
            language: Language::ZhHant,
        })
        .unwrap();
        assert_eq!(c.name_masked.as_deref(), Some("张*"));
        assert_eq!(c.mobile, "13800138000");
        assert_eq!((c.category, c.language), ("non_provincial", "zh-Hant"));
        let bad = check_contact(&Contact {
            mobile: "12345".into(),
            name: None,
            category: RetireeCategory::Provincial,
            language: Language::ZhHans,
        });
        assert_eq!(bad.err().map(|e| e.code), Some("invalid_mobile"));
    }
}
