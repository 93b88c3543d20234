//! The staff review queue (behind the staff token, [`crate::staff`]):
//!
//! * `GET /v1/reviews?status=pending&limit=50` — packages by deadline, oldest first, with
//!   their summary (`pending`: waiting and within the deadline; `expired`: not decided in
//!   time; `approved`, `refused`);
//! * `GET /v1/reviews/{id}` — one package in full (frames, ID photos, verdicts), opened
//!   from its seal for the reviewer;
//! * `POST /v1/reviews/{id}` — the decision. `approve` opens the phone's sealed template,
//!   has the authority sign it for the subject and the descriptor model
//!   (`lifecert_core::matching::sealed_template::IssuedTemplate::issue`, with the key from the
//!   configuration — never from the database) and seals it for the phone (`seal_issued`,
//!   transport key); `refuse` records a reason code and optionally a message that the
//!   retiree is shown (`GET /v1/enrollments/{id}`).
//!
//! A package must be decided within [`ReviewConfig::deadline_days`] (7) of its submission.
//! A decision after the deadline is refused (409 `review_deadline_passed`) and the package
//! is marked `expired`: the enrollment is then done again, from a fresh capture. A package
//! is decided once (409 `already_decided`).

use crate::app::{now_unix, AppState};
use crate::enrollments::{package_aad, path_id, EFFECTIVE_STATUS};
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use lifecert_core::api::enrollment::EnrollmentPackage;
use lifecert_core::crypto::sealing;
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::matching::sealed_template::{open_template, seal_issued, IssuedTemplate};
use lifecert_core::model::assets::ModelInfo;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::Row;
use thiserror::Error;

/// Longest message to the retiree, characters.
pub const MAX_MESSAGE_CHARS: usize = 200;
/// Longest reviewer id, characters.
pub const MAX_REVIEWER_CHARS: usize = 64;

/// An unusable review configuration; the text says which field.
#[derive(Debug, Error)]
#[error("review configuration: {0}")]
pub struct ReviewConfigError(pub String);

/// Review queue settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Days staff have to decide a package, counted from the service's receipt (the
    /// package's own deadline is the phone's clock). Default 7
    /// (`lifecert_core::api::enrollment::REVIEW_PERIOD_SECS`, the Qinghai rule).
    pub deadline_days: u16,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            deadline_days: (lifecert_core::api::enrollment::REVIEW_PERIOD_SECS / 86_400) as u16,
        }
    }
}

impl ReviewConfig {
    /// 1–90 days.
    pub fn validate(&self) -> Result<(), ReviewConfigError> {
        if !(1..=90).contains(&self.deadline_days) {
            return Err(ReviewConfigError("deadline_days must be 1–90".into()));
        }
        Ok(())
    }
}

/// Why a package is refused: the core's codes, whose sentences the retiree is told
/// ([`lifecert_core::text::review::review_text`]).
pub use lifecert_core::text::review::RefusalReason;

/// What a reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Issue the template.
    Approve,
    /// Refuse, with a reason.
    Refuse,
}

/// The body of `POST /v1/reviews/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `approve` or `refuse`.
    pub decision: DecisionKind,
    /// Who decides (staff id, recorded).
    pub reviewer: String,
    /// Why (required to refuse, absent to approve).
    #[serde(default)]
    pub reason: Option<RefusalReason>,
    /// Words to the retiree (to refuse; required with reason `other`).
    #[serde(default)]
    pub message: Option<String>,
}

impl Decision {
    fn validate(&self) -> Result<(), ApiError> {
        let bad = |m: &str| Err(ApiError::unprocessable("invalid_decision", m));
        let reviewer = self.reviewer.trim();
        if reviewer.is_empty()
            || reviewer.chars().count() > MAX_REVIEWER_CHARS
            || reviewer.chars().any(char::is_control)
        {
            return bad("reviewer must be 1–64 characters");
        }
        if let Some(m) = &self.message {
            let n = m.trim().chars().count();
            if n == 0 || n > MAX_MESSAGE_CHARS || m.chars().any(|c| c.is_control() && c != '\n') {
                return bad("message must be 1–200 characters");
            }
        }
        match (self.decision, self.reason) {
            (DecisionKind::Approve, None) if self.message.is_none() => Ok(()),
            (DecisionKind::Approve, _) => bad("an approval has no reason or message"),
            (DecisionKind::Refuse, None) => bad("a refusal needs a reason"),
            (DecisionKind::Refuse, Some(RefusalReason::Other)) if self.message.is_none() => {
                bad("a refusal for reason other needs a message to the retiree")
            }
            (DecisionKind::Refuse, Some(_)) => Ok(()),
        }
    }
}

/// One package in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    /// The enrollment's id.
    pub enrollment_id: i64,
    /// The subject.
    pub subject_ref: String,
    /// Effective status.
    pub status: String,
    /// Submitted (RFC 3339).
    pub submitted_at: String,
    /// Deadline (RFC 3339).
    pub deadline: String,
    /// The package summary (counts and scores, no images).
    pub summary: serde_json::Value,
}

/// The answer of `GET /v1/reviews`.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewList {
    /// The packages, oldest deadline first.
    pub reviews: Vec<ReviewItem>,
}

/// The query of `GET /v1/reviews`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `pending` (default), `expired`, `approved` or `refused`.
    #[serde(default)]
    pub status: Option<String>,
    /// At most this many (1–500, default 50).
    #[serde(default)]
    pub limit: Option<i64>,
}

const ITEM_COLUMNS: &str = "id, subject_ref, effective_status, \
     lifecert_rfc3339(submitted_at), lifecert_rfc3339(deadline), summary";

fn item_of(row: &PgRow) -> Result<ReviewItem, sqlx::Error> {
    let subject: Vec<u8> = row.try_get(1)?;
    Ok(ReviewItem {
        enrollment_id: row.try_get(0)?,
        subject_ref: hex::encode(subject),
        status: row.try_get(2)?,
        submitted_at: row.try_get(3)?,
        deadline: row.try_get(4)?,
        summary: row.try_get(5)?,
    })
}

/// Handler of `GET /v1/reviews`.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(app): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ReviewList>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let status = q.status.as_deref().unwrap_or("pending");
    let filter = match status {
        "pending" => "status = 'pending' AND deadline > now()",
        "expired" => "(status = 'expired' OR (status = 'pending' AND deadline <= now()))",
        "approved" => "status = 'approved'",
        "refused" => "status = 'refused'",
        _ => {
            return Err(ApiError::bad_request(
                "bad_query",
                "status must be pending, expired, approved or refused",
            ))
        }
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("bad_query", "limit must be 1–500"));
    }
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS} FROM (SELECT *, {EFFECTIVE_STATUS} AS effective_status \
           FROM enrollments WHERE {filter} ORDER BY deadline, id LIMIT $1) e"
    ))
    .bind(limit)
    .fetch_all(&app.pool)
    .await?;
    let reviews = rows.iter().map(item_of).collect::<Result<_, _>>()?;
    Ok(Json(ReviewList { reviews }))
}

/// The answer of `GET /v1/reviews/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewDetail {
    /// The queue entry.
    #[serde(flatten)]
    pub item: ReviewItem,
    /// The package as the phone made it.
    pub package: EnrollmentPackage,
}

fn subject_of(bytes: Vec<u8>) -> Result<SubjectReference, ApiError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ApiError::internal("stored subject", &"length"))?;
    Ok(SubjectReference::from_bytes(arr))
}

/// Handler of `GET /v1/reviews/{id}`.
#[tracing::instrument(skip_all)]
pub async fn detail(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ReviewDetail>, ApiError> {
    let id = path_id(path)?;
    let row = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS}, package_sealed FROM \
           (SELECT *, {EFFECTIVE_STATUS} AS effective_status FROM enrollments WHERE id = $1) e"
    ))
    .bind(id)
    .fetch_optional(&app.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("no_such_enrollment", "no enrollment with this id"))?;
    let item = item_of(&row)?;
    let subject = subject_of(row.try_get(1)?)?;
    let sealed: Vec<u8> = row.try_get(6)?;
    let keys = app.keys.clone();
    let package = tokio::task::spawn_blocking(move || {
        let plain = sealing::open(keys.transport(), &sealed, &package_aad(&subject))
            .map_err(|e| ApiError::internal("opening a stored package", &e))?;
        serde_json::from_slice::<EnrollmentPackage>(&plain)
            .map_err(|e| ApiError::internal("stored package", &e))
    })
    .await
    .map_err(|e| ApiError::internal("package task", &e))??;
    Ok(Json(ReviewDetail { item, package }))
}

/// The answer of `POST /v1/reviews/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    /// The enrollment's id.
    pub enrollment_id: i64,
    /// `approved` or `refused`.
    pub status: &'static str,
    /// When (RFC 3339).
    pub decided_at: String,
    /// The issued template sealed for the phone, base64 (approved only).
    pub issued_template: Option<String>,
}

/// Handler of `POST /v1/reviews/{id}`.
#[tracing::instrument(skip_all)]
pub async fn decide(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<Json<Decided>, ApiError> {
    let id = path_id(path)?;
    decision.validate()?;
    let mut tx = app.pool.begin().await?;
    let row = sqlx::query(
        "SELECT status, deadline <= now(), subject_ref, sealed_template, model_file, \
                model_sha256 \
           FROM enrollments WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::not_found("no_such_enrollment", "no enrollment with this id"))?;
    let status: String = row.try_get(0)?;
    let overdue: bool = row.try_get(1)?;
    if status != "pending" {
        return Err(ApiError::conflict(
            "already_decided",
            format!("this enrollment is already {status}"),
        ));
    }
    if overdue {
        sqlx::query("UPDATE enrollments SET status = 'expired' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Err(ApiError::conflict(
            "review_deadline_passed",
            format!(
                "the review deadline ({} days after submission) has passed; the enrollment \
                 is expired and must be done again",
                app.reviews.deadline_days
            ),
        ));
    }
    let reviewer = decision.reviewer.trim().to_owned();
    let (status, issued) = match decision.decision {
        DecisionKind::Approve => {
            let subject = subject_of(row.try_get(2)?)?;
            let sealed: Vec<u8> = row.try_get(3)?;
            let model = ModelInfo {
                file: row.try_get(4)?,
                sha256: row.try_get(5)?,
            };
            let keys = app.keys.clone();
            let issued = tokio::task::spawn_blocking(move || {
                let _span = tracing::debug_span!("issue_template").entered();
                let template = open_template(&sealed, keys.transport(), &subject, &model)
                    .map_err(|e| ApiError::internal("opening a stored template", &e))?;
                let issued = IssuedTemplate::issue(keys.signing(), &subject, &template, now_unix())
                    .map_err(|e| ApiError::internal("issuing the template", &e))?;
                seal_issued(&issued, keys.transport())
                    .map_err(|e| ApiError::internal("sealing the issued template", &e))
            })
            .await
            .map_err(|e| ApiError::internal("issue task", &e))??;
            sqlx::query(
                "UPDATE enrollments SET status = 'approved', issued_template = $2, \
                        reviewer = $3, decided_at = now() WHERE id = $1",
            )
            .bind(id)
            .bind(&issued)
            .bind(&reviewer)
            .execute(&mut *tx)
            .await?;
            ("approved", Some(BASE64.encode(&issued)))
        }
        DecisionKind::Refuse => {
            let reason = decision.reason.unwrap_or(RefusalReason::Other);
            sqlx::query(
                "UPDATE enrollments SET status = 'refused', refusal_reason = $2, \
                        refusal_message = $3, reviewer = $4, decided_at = now() WHERE id = $1",
            )
            .bind(id)
            .bind(reason.id())
            .bind(decision.message.as_deref().map(str::trim))
            .bind(&reviewer)
            .execute(&mut *tx)
            .await?;
            ("refused", None)
        }
    };
    let (decided_at,): (String,) =
        sqlx::query_as("SELECT lifecert_rfc3339(decided_at) FROM enrollments WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    tracing::info!(enrollment_id = id, status, "review decided");
    Ok(Json(Decided {
        enrollment_id: id,
        status,
        decided_at,
        issued_template: issued,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(
        kind: DecisionKind,
        reason: Option<RefusalReason>,
        message: Option<&str>,
    ) -> Decision {
        Decision {
            decision: kind,
            reviewer: "staff-0042".into(),
            reason,
            message: message.map(str::to_owned),
        }
    }

    #[test]
    fn decisions_are_checked() {
        use DecisionKind::*;
        assert!(decision(Approve, None, None).validate().is_ok());
        assert!(decision(Approve, Some(RefusalReason::Other), None)
            .validate()
            .is_err());
        assert!(decision(Refuse, None, None).validate().is_err());
        assert!(decision(Refuse, Some(RefusalReason::FaceNotClear), None)
            .validate()
            .is_ok());
        assert!(decision(Refuse, Some(RefusalReason::Other), None)
            .validate()
            .is_err());
        assert!(decision(
            Refuse,
            Some(RefusalReason::Other),
            Some("请到社保中心重新采集")
        )
        .validate()
        .is_ok());
        let long = "长".repeat(201);
        assert!(decision(Refuse, Some(RefusalReason::Other), Some(&long))
            .validate()
            .is_err());
        let mut anonymous = decision(Approve, None, None);
        anonymous.reviewer = "  ".into();
        assert!(anonymous.validate().is_err());
        assert_eq!(ReviewConfig::default().deadline_days, 7);
    }
}
