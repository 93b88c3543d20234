//! `POST /v1/certifications` (record a signed result) and
//! `GET /v1/certifications/{subject_ref}/{year}` (the status a hotline operator or the app
//! reads).
//!
//! Recording a result, in order:
//! 1. **Retry?** The SHA-256 of the attestation's exact bytes is looked up: the same
//!    attestation again answers 200 with the certification already recorded (nothing new is
//!    written, no second SMS).
//! 2. **Nonce binding.** The nonce must have been issued (422 `nonce_unknown`) to the device
//!    the request names (403 `wrong_device`), must be unused (409 `nonce_used`) and
//!    unexpired (410 `nonce_expired`).
//! 3. **Verification** by the core (`verify_attestation_with`) against the device's
//!    registered key and the nonce, on a blocking thread, with the PostgreSQL ledger
//!    consuming the nonce in this request's transaction (422 `attestation_invalid`,
//!    `nonce_mismatch`, `challenge_supplied`, `challenge_seeded`, `profile_refused`,
//!    `count_only`; 409 `nonce_used` for the loser of a race).
//! 4. **Policy** ([`crate::policy`]): subject and year of the nonce, approved models, clock,
//!    a pass (422 with the policy's code).
//! 5. **Record**: the certification (subject, year, proxy relation, the verified payload as
//!    evidence, the attestation's bytes) and its SMS in the outbox, in the same
//!    transaction; the unique keys refuse a second certification of the year (409
//!    `already_certified`) or of the nonce whatever the interleaving. Commit: 201.
//!
//! Every refusal rolls the transaction back: a refused attestation never burns the nonce
//! and writes nothing.

use crate::app::{now_unix, AppState};
use crate::db::is_unique_violation;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::ledger::{NonceState, PgNonceLedger};
use crate::outbox::{success_sms, SmsContact};
use crate::policy::{NonceBinding, Policy};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use lifecert_core::api::attestation::{
    verify_attestation_with, Attestation, AttestationError, PerformedBy, ProxyRelation,
};
use lifecert_core::crypto::sealing::PublicKey;
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::liveness::challenge::Nonce;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::Row;

/// The body of `POST /v1/certifications`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertifyRequest {
    /// The public key of the device that signed (must be the one the nonce was issued to).
    pub device_key: PublicKey,
    /// The server nonce issued for the session.
    pub nonce: Nonce,
    /// The signed attestation envelope, exactly as the device produced it.
    pub attestation: String,
}

/// A recorded certification.
#[derive(Debug, Clone, Serialize)]
pub struct CertificationView {
    /// Its id.
    pub certification_id: i64,
    /// `recorded` (now) or `already_recorded` (the same attestation earlier).
    pub status: &'static str,
    /// The subject.
    pub subject_ref: String,
    /// The certification year.
    pub certification_year: u16,
    /// `self` or `proxy`.
    pub performed_by: String,
    /// The proxy's relation (`child`, …, or `other: <text>`), for a proxy.
    pub proxy_relation: Option<String>,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// Whether a confirmation SMS is queued (a mobile number is on file).
    pub sms_queued: bool,
}

/// The stored form of who performed the certification.
fn performed_by_columns(p: &PerformedBy) -> (&'static str, Option<String>) {
    match p {
        PerformedBy::Subject => ("self", None),
        PerformedBy::Proxy { relation } => {
            let text = match relation {
                ProxyRelation::Other(t) => format!("other: {t}"),
                named => serde_json::to_value(named)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "other_relative".into()),
            };
            ("proxy", Some(text))
        }
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

const VIEW_COLUMNS: &str = "c.id, c.subject_ref, c.certification_year, c.performed_by, \
     c.proxy_relation, lifecert_rfc3339(c.recorded_at), \
     EXISTS (SELECT 1 FROM sms_outbox o WHERE o.certification_id = c.id)";

fn view_of(row: &PgRow, status: &'static str) -> Result<CertificationView, sqlx::Error> {
    let subject: Vec<u8> = row.try_get(1)?;
    let year: i16 = row.try_get(2)?;
    Ok(CertificationView {
        certification_id: row.try_get(0)?,
        status,
        subject_ref: hex::encode(subject),
        certification_year: year as u16,
        performed_by: row.try_get(3)?,
        proxy_relation: row.try_get(4)?,
        recorded_at: row.try_get(5)?,
        sms_queued: row.try_get(6)?,
    })
}

async fn find_by_attestation(
    app: &AppState,
    digest: &[u8; 32],
) -> Result<Option<CertificationView>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM certifications c WHERE c.attestation_sha256 = $1"
    ))
    .bind(&digest[..])
    .fetch_optional(&app.pool)
    .await?;
    row.map(|r| view_of(&r, "already_recorded")).transpose()
}

/// What the nonce binds, with the subject's SMS contact.
struct NonceRecord {
    binding: NonceBinding,
    device_id: i64,
    device_key: PublicKey,
    consumed: bool,
    expired: bool,
    contact: Option<SmsContact>,
}

async fn load_nonce(app: &AppState, nonce: &Nonce) -> Result<Option<NonceRecord>, ApiError> {
    let row = sqlx::query(
        "SELECT n.subject_ref, n.certification_year, extract(epoch FROM n.issued_at)::bigint, \
                n.consumed_at IS NOT NULL, n.expires_at <= now(), d.id, d.public_key, \
                s.mobile, s.name_masked, s.category, s.language \
           FROM nonces n JOIN devices d ON d.id = n.device_id \
           JOIN subjects s ON s.subject_ref = n.subject_ref \
          WHERE n.nonce = $1",
    )
    .bind(&nonce.0[..])
    .fetch_optional(&app.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let corrupt = |what: &str| ApiError::internal("stored nonce", &what.to_owned());
    let subject: Vec<u8> = row.try_get(0)?;
    let subject: [u8; 32] = subject
        .try_into()
        .map_err(|_| corrupt("subject reference length"))?;
    let year: i16 = row.try_get(1)?;
    let issued_at: i64 = row.try_get(2)?;
    let key: Vec<u8> = row.try_get(6)?;
    let category: String = row.try_get(9)?;
    let language: String = row.try_get(10)?;
    Ok(Some(NonceRecord {
        binding: NonceBinding {
            subject: SubjectReference::from_bytes(subject),
            year: year as u16,
            issued_at: issued_at.max(0) as u64,
        },
        consumed: row.try_get(3)?,
        expired: row.try_get(4)?,
        device_id: row.try_get(5)?,
        device_key: PublicKey::from_bytes(&key).map_err(|_| corrupt("device key length"))?,
        contact: SmsContact::from_columns(row.try_get(7)?, row.try_get(8)?, &category, &language),
    }))
}

fn nonce_used() -> ApiError {
    ApiError::conflict(
        "nonce_used",
        "this nonce was already used for a certification; ask for a new one",
    )
}

fn nonce_expired() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "nonce_expired",
        "this nonce has expired; ask for a new one and certify again",
    )
}

fn nonce_unknown() -> ApiError {
    ApiError::unprocessable("nonce_unknown", "no such nonce was issued by this service")
}

/// The answer for a refusal of the core's verifier.
fn verification_refusal(e: &AttestationError, ledger: Option<NonceState>) -> ApiError {
    match (e, ledger) {
        (AttestationError::NonceReused, _) | (_, Some(NonceState::Consumed)) => nonce_used(),
        (_, Some(NonceState::Expired)) => nonce_expired(),
        (_, Some(NonceState::Unknown)) => nonce_unknown(),
        (AttestationError::Ledger(_), None) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the nonce store is unavailable; nothing was recorded, please retry later",
        ),
        (AttestationError::NonceMismatch, _) => ApiError::unprocessable(
            "nonce_mismatch",
            "the attestation was signed for another nonce than the one named",
        ),
        (AttestationError::SuppliedChallengeRefused, _) => ApiError::unprocessable(
            "challenge_supplied",
            "the digits were supplied from outside the device (a recording was processed); \
             such a result proves nothing about a living person and is refused",
        ),
        (AttestationError::SeededChallengeRefused, _) => ApiError::unprocessable(
            "challenge_seeded",
            "the digits were drawn from a test seed, not the device's secure random generator",
        ),
        (AttestationError::ProfileRefused(p), _) => ApiError::unprocessable(
            "profile_refused",
            format!(
                "the phone ran the {} configuration, not the production one",
                p.id()
            ),
        ),
        (AttestationError::CountOnlyRefused, _) => ApiError::unprocessable(
            "count_only",
            "the spoken digits were only counted, not verified",
        ),
        (other, _) => ApiError::unprocessable(
            "attestation_invalid",
            format!("the attestation does not verify: {other}"),
        ),
    }
}

/// Handler of `POST /v1/certifications`.
#[tracing::instrument(skip_all, fields(nonce = %req.nonce.to_hex()))]
pub async fn certify(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CertifyRequest>,
) -> Result<(StatusCode, Json<CertificationView>), ApiError> {
    let digest = sha256(req.attestation.as_bytes());
    if let Some(view) = find_by_attestation(&app, &digest).await? {
        return Ok((StatusCode::OK, Json(view)));
    }
    let Some(record) = load_nonce(&app, &req.nonce).await? else {
        return Err(nonce_unknown());
    };
    Policy::check_device(&record.device_key, &req.device_key)
        .map_err(|r| ApiError::new(StatusCode::FORBIDDEN, r.code(), r.to_string()))?;
    if record.consumed {
        // A retry that raced with its own first attempt finds the record now.
        if let Some(view) = find_by_attestation(&app, &digest).await? {
            return Ok((StatusCode::OK, Json(view)));
        }
        return Err(nonce_used());
    }
    if record.expired {
        return Err(nonce_expired());
    }
    let tx = app.pool.begin().await?;
    let handle = tokio::runtime::Handle::current();
    let policy = app.policy.clone();
    let nonce = req.nonce;
    let device_key = record.device_key;
    let attestation_text = req.attestation;
    let (tx, verified, attestation_text) = tokio::task::spawn_blocking(move || {
        let _span = tracing::debug_span!("verify").entered();
        let mut ledger = PgNonceLedger::new(handle, tx);
        let verified = verify_attestation_with(
            &attestation_text,
            &device_key,
            &nonce,
            &mut ledger,
            &policy.verify_policy(),
        )
        .map_err(|e| (e, ledger.refusal()));
        (ledger.into_transaction(), verified, attestation_text)
    })
    .await
    .map_err(|e| ApiError::internal("verification task", &e))?;
    let attestation: Attestation = match verified {
        Ok(a) => a,
        Err((e, state)) => {
            tx.rollback().await?;
            if matches!(e, AttestationError::NonceReused) {
                // The loser of a race with the very same attestation gets the winner's record.
                if let Some(view) = find_by_attestation(&app, &digest).await? {
                    return Ok((StatusCode::OK, Json(view)));
                }
            }
            return Err(verification_refusal(&e, state));
        }
    };
    if let Err(refusal) = app.policy.check(&attestation, &record.binding, now_unix()) {
        tx.rollback().await?;
        return Err(ApiError::unprocessable(refusal.code(), refusal.to_string()));
    }
    record_certification(&app, tx, &attestation, &record, &attestation_text, &digest).await
}

#[tracing::instrument(skip_all)]
async fn record_certification(
    app: &AppState,
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    a: &Attestation,
    record: &NonceRecord,
    attestation_text: &str,
    digest: &[u8; 32],
) -> Result<(StatusCode, Json<CertificationView>), ApiError> {
    let (performed_by, relation) = performed_by_columns(&a.performed_by);
    let evidence = serde_json::to_value(a).map_err(|e| ApiError::internal("evidence", &e))?;
    let (mobile, body) = match &record.contact {
        Some(c) => (
            Some(c.mobile.clone()),
            Some(success_sms(&app.messages, c, a.certification_year)),
        ),
        None => (None, None),
    };
    let inserted = sqlx::query(
        "WITH c AS ( \
           INSERT INTO certifications (subject_ref, certification_year, nonce, device_id, \
                  performed_by, proxy_relation, evidence, attestation, attestation_sha256, \
                  device_time) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
           RETURNING id, recorded_at), \
         o AS ( \
           INSERT INTO sms_outbox (certification_id, mobile, body) \
           SELECT c.id, $11, $12 FROM c WHERE $11::text IS NOT NULL RETURNING id) \
         SELECT c.id, lifecert_rfc3339(c.recorded_at), EXISTS (SELECT 1 FROM o) FROM c",
    )
    .bind(&a.subject.as_bytes()[..])
    .bind(a.certification_year as i16)
    .bind(&a.server_nonce.0[..])
    .bind(record.device_id)
    .bind(performed_by)
    .bind(&relation)
    .bind(&evidence)
    .bind(attestation_text)
    .bind(&digest[..])
    .bind(i64::try_from(a.time).unwrap_or(i64::MAX))
    .bind(&mobile)
    .bind(&body)
    .fetch_one(&mut *tx)
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(e) => {
            tx.rollback().await.ok();
            if is_unique_violation(&e, "certifications_subject_year") {
                return Err(ApiError::conflict(
                    "already_certified",
                    format!(
                        "this person is already certified for {}",
                        a.certification_year
                    ),
                ));
            }
            if is_unique_violation(&e, "certifications_nonce") {
                return Err(nonce_used());
            }
            if is_unique_violation(&e, "certifications_attestation") {
                if let Some(view) = find_by_attestation(app, digest).await? {
                    return Ok((StatusCode::OK, Json(view)));
                }
            }
            return Err(ApiError::database(&e));
        }
    };
    tx.commit().await?;
    let view = CertificationView {
        certification_id: row.try_get(0)?,
        status: "recorded",
        subject_ref: a.subject.to_hex(),
        certification_year: a.certification_year,
        performed_by: performed_by.to_owned(),
        proxy_relation: relation,
        recorded_at: row.try_get(1)?,
        sms_queued: row.try_get(2)?,
    };
    tracing::info!(
        certification_id = view.certification_id,
        year = view.certification_year,
        proxy = view.proxy_relation.is_some(),
        "certification recorded"
    );
    Ok((StatusCode::CREATED, Json(view)))
}

/// The answer of `GET /v1/certifications/{subject_ref}/{year}`.
#[derive(Debug, Clone, Serialize)]
pub struct CertificationStatus {
    /// The subject.
    pub subject_ref: String,
    /// The year asked about.
    pub certification_year: u16,
    /// Whether the subject is certified for the year.
    pub certified: bool,
    /// The certification, when there is one.
    pub certification: Option<CertificationDetail>,
}

/// A recorded certification as the status shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CertificationDetail {
    /// Its id.
    pub certification_id: i64,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// `self` or `proxy`.
    pub performed_by: String,
    /// The proxy's relation, for a proxy.
    pub proxy_relation: Option<String>,
    /// The device that signed it.
    pub device_key: String,
    /// The confirmation SMS: `none` (no number on file), `queued` or `sent`.
    pub sms: &'static str,
}

/// Handler of `GET /v1/certifications/{subject_ref}/{year}`.
#[tracing::instrument(skip_all)]
pub async fn status(
    State(app): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<CertificationStatus>, ApiError> {
    let Path((subject, year)) =
        path.map_err(|e| ApiError::bad_request("bad_path", e.body_text()))?;
    let subject = SubjectReference::from_hex(&subject).map_err(|_| {
        ApiError::bad_request(
            "bad_subject_ref",
            "the subject reference must be 64 hexadecimal digits",
        )
    })?;
    let year: u16 = year
        .parse()
        .ok()
        .filter(|y| (2000..=2200).contains(y))
        .ok_or_else(|| ApiError::bad_request("bad_year", "the year must be 2000–2200"))?;
    let row = sqlx::query(
        "SELECT c.id, lifecert_rfc3339(c.recorded_at), c.performed_by, c.proxy_relation, \
                d.public_key, o.id IS NOT NULL, o.sent_at IS NOT NULL \
           FROM certifications c JOIN devices d ON d.id = c.device_id \
           LEFT JOIN sms_outbox o ON o.certification_id = c.id \
          WHERE c.subject_ref = $1 AND c.certification_year = $2",
    )
    .bind(&subject.as_bytes()[..])
    .bind(year as i16)
    .fetch_optional(&app.pool)
    .await?;
    let certification = row
        .map(|r| -> Result<CertificationDetail, sqlx::Error> {
            let key: Vec<u8> = r.try_get(4)?;
            let (queued, sent): (bool, bool) = (r.try_get(5)?, r.try_get(6)?);
            Ok(CertificationDetail {
                certification_id: r.try_get(0)?,
                recorded_at: r.try_get(1)?,
                performed_by: r.try_get(2)?,
                proxy_relation: r.try_get(3)?,
                device_key: hex::encode(key),
                sms: match (queued, sent) {
                    (false, _) => "none",
                    (true, false) => "queued",
                    (true, true) => "sent",
                },
            })
        })
        .transpose()?;
    Ok(Json(CertificationStatus {
        subject_ref: subject.to_hex(),
        certification_year: year,
        certified: certification.is_some(),
        certification,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecert_core::api::attestation::ConfigProfile;

    #[test]
    fn proxies_are_stored_by_relation() {
        assert_eq!(performed_by_columns(&PerformedBy::Subject), ("self", None));
        assert_eq!(
            performed_by_columns(&PerformedBy::Proxy {
                relation: ProxyRelation::ChildInLaw
            }),
            ("proxy", Some("child_in_law".into()))
        );
        assert_eq!(
            performed_by_columns(&PerformedBy::Proxy {
                relation: ProxyRelation::Other("邻居".into())
            }),
            ("proxy", Some("other: 邻居".into()))
        );
    }

    #[test]
    fn every_verifier_refusal_has_a_client_error() {
        let cases = [
            (
                AttestationError::NonCanonical,
                None,
                422,
                "attestation_invalid",
            ),
            (AttestationError::NonceMismatch, None, 422, "nonce_mismatch"),
            (
                AttestationError::SuppliedChallengeRefused,
                None,
                422,
                "challenge_supplied",
            ),
            (AttestationError::NonceReused, None, 409, "nonce_used"),
            (AttestationError::CountOnlyRefused, None, 422, "count_only"),
            (
                AttestationError::ProfileRefused(ConfigProfile::RecordingReplay),
                None,
                422,
                "profile_refused",
            ),
            (
                AttestationError::Ledger("x".into()),
                Some(NonceState::Expired),
                410,
                "nonce_expired",
            ),
            (
                AttestationError::Ledger("x".into()),
                None,
                503,
                "unavailable",
            ),
        ];
        for (e, state, status, code) in cases {
            let r = verification_refusal(&e, state);
            assert_eq!((r.status.as_u16(), r.code), (status, code), "{e:?}");
        }
    }
}
