//! `POST /v1/certifications/nonce`: a single-use server nonce for one certification
//! session, bound to the subject, the registered device and the certification year (the
//! current year in China), valid for [`NonceConfig::ttl_secs`].
//!
//! Refused: a device not registered for the subject (404), a subject already certified for
//! the year (409 — nothing to do, and the unique key would refuse the result anyway), a
//! year other than the current one (422), and more than
//! [`NonceConfig::max_outstanding_per_device`] unexpired unused nonces for the device
//! (429: a phone asking in a loop).

use crate::app::{now_unix, AppState};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::policy::Policy;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lifecert_core::crypto::sealing::{random_bytes, PublicKey};
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::liveness::challenge::Nonce;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::time::Duration;
use thiserror::Error;

/// An unusable nonce configuration; the text says which field.
#[derive(Debug, Error)]
#[error("nonce configuration: {0}")]
pub struct NonceConfigError(pub String);

/// Nonce issuance settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NonceConfig {
    /// How long a nonce can be used, seconds. Default 600 (10 minutes: a session with
    /// retries takes a few).
    pub ttl_secs: u32,
    /// Most unexpired, unused nonces a device may hold. Default 5.
    pub max_outstanding_per_device: u32,
}

impl Default for NonceConfig {
    fn default() -> Self {
        Self {
            ttl_secs: 600,
            max_outstanding_per_device: 5,
        }
    }
}

impl NonceConfig {
    /// TTL 10 s – 1 day; outstanding limit 1–100.
    pub fn validate(&self) -> Result<(), NonceConfigError> {
        if !(10..=86_400).contains(&self.ttl_secs) {
            return Err(NonceConfigError("ttl_secs must be 10–86400".into()));
        }
        if !(1..=100).contains(&self.max_outstanding_per_device) {
            return Err(NonceConfigError(
                "max_outstanding_per_device must be 1–100".into(),
            ));
        }
        Ok(())
    }
}

/// The body of `POST /v1/certifications/nonce`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonceRequest {
    /// The subject reference.
    pub subject_ref: SubjectReference,
    /// The registered device's public key.
    pub device_key: PublicKey,
    /// The certification year asked for; absent: the current one. Only the current year
    /// (in China) is open.
    #[serde(default)]
    pub certification_year: Option<u16>,
}

/// The answer: the nonce to sign into the attestation.
#[derive(Debug, Clone, Serialize)]
pub struct NonceIssued {
    /// 32 hex digits.
    pub nonce: Nonce,
    /// The year the certification will count for.
    pub certification_year: u16,
    /// Until when the nonce can be used (RFC 3339).
    pub expires_at: String,
}

/// Handler of `POST /v1/certifications/nonce`.
#[tracing::instrument(skip_all)]
pub async fn issue(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<NonceRequest>,
) -> Result<(StatusCode, Json<NonceIssued>), ApiError> {
    let year = Policy::open_year(now_unix(), req.certification_year)
        .map_err(|r| ApiError::unprocessable(r.code(), r.to_string()))?;
    let subject = &req.subject_ref.as_bytes()[..];
    let state: Option<(i64, bool, i64)> = sqlx::query_as(
        "SELECT d.id, \
           EXISTS (SELECT 1 FROM certifications c \
                   WHERE c.subject_ref = $1 AND c.certification_year = $3), \
           (SELECT count(*) FROM nonces n \
             WHERE n.device_id = d.id AND n.consumed_at IS NULL AND n.expires_at > now()) \
         FROM devices d WHERE d.subject_ref = $1 AND d.public_key = $2",
    )
    .bind(subject)
    .bind(&req.device_key.as_bytes()[..])
    .bind(year as i16)
    .fetch_optional(&app.pool)
    .await?;
    let Some((device_id, certified, outstanding)) = state else {
        return Err(ApiError::not_found(
            "device_not_registered",
            "this device is not registered for this person: register it first (POST /v1/devices)",
        ));
    };
    if certified {
        return Err(ApiError::conflict(
            "already_certified",
            format!("this person is already certified for {year}"),
        ));
    }
    if outstanding >= i64::from(app.nonces.max_outstanding_per_device) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_nonces",
            "this device holds too many unused nonces; use one or wait until they expire",
        ));
    }
    let nonce = Nonce(random_bytes::<16>().map_err(|e| ApiError::internal("random nonce", &e))?);
    let (expires_at,): (String,) = sqlx::query_as(
        "INSERT INTO nonces (nonce, subject_ref, device_id, certification_year, expires_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) \
         RETURNING lifecert_rfc3339(expires_at)",
    )
    .bind(&nonce.0[..])
    .bind(subject)
    .bind(device_id)
    .bind(year as i16)
    .bind(f64::from(app.nonces.ttl_secs))
    .fetch_one(&app.pool)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NonceIssued {
            nonce,
            certification_year: year,
            expires_at,
        }),
    ))
}

/// Deletes nonces that expired unused more than `keep` ago, in batches of 10 000 (used
/// nonces stay: their certification refers to them). Returns how many were deleted.
pub async fn purge_expired(pool: &PgPool, keep: Duration) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let n = sqlx::query(
            "DELETE FROM nonces WHERE nonce IN (SELECT nonce FROM nonces \
               WHERE consumed_at IS NULL AND expires_at < now() - make_interval(secs => $1) \
               LIMIT 10000)",
        )
        .bind(keep.as_secs_f64())
        .execute(pool)
        .await?
        .rows_affected();
        total += n;
        if n < 10_000 {
            return Ok(total);
        }
    }
}

/// Runs [`purge_expired`] every `every`, keeping a day of expired nonces (for support
/// questions about a failed session), for as long as the service runs.
pub async fn housekeeping(pool: PgPool, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match purge_expired(&pool, Duration::from_secs(86_400)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired nonces deleted"),
            Err(e) => tracing::warn!(error = %e, "purging expired nonces failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_ten_minutes_and_five_nonces() {
        let c = NonceConfig::default();
        assert_eq!((c.ttl_secs, c.max_outstanding_per_device), (600, 5));
        c.validate().unwrap();
        assert!(NonceConfig { ttl_secs: 0, ..c }.validate().is_err());
    }
}
