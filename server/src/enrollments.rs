//! `POST /v1/enrollments` (a phone submits an enrollment for staff review) and
//! `GET /v1/enrollments/{id}` (the phone reads the decision and, once approved, the issued
//! template).
//!
//! A submission carries the face template the phone sealed under the transport key
//! (`lifecert_core::matching::sealed_template::seal_template`, bound to the subject and the descriptor
//! model) and the core's review package (`EnrollmentPackage`: the frames the template was
//! made from, the ID-card photos, the liveness verdict, the portrait match). The template
//! must open for the subject under an approved descriptor version (else 422); nothing of
//! it is kept in clear. The package is sealed under the transport key before it is stored
//! (`lifecert_core::crypto::sealing::seal`, bound to the subject): the database holds no biometric
//! data in clear. Only a short summary (counts, scores) is stored readable, for the queue.
//!
//! One package per subject can wait for review at a time (409 `review_pending`); the
//! review deadline is [`crate::reviews::ReviewConfig::deadline_days`] after submission.

use crate::app::AppState;
use crate::error::ApiError;
use crate::json::ApiJson;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use lifecert_core::api::enrollment::EnrollmentPackage;
use lifecert_core::crypto::sealing::{self, PublicKey, SealingKey};
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::matching::sealed_template::open_template;
use lifecert_core::matching::templates::TemplateError;
use lifecert_core::model::assets::{ModelInfo, DESCRIPTOR_FILE};
use lifecert_core::text::messages::{Language, Messages};
use lifecert_core::text::review::{review_text, RefusalReason, ReviewDecision};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

/// Associated-data label of a review package sealed at rest.
const PACKAGE_AAD_LABEL: &[u8] = b"lifecert-authority/review-package/v1";

/// The body of `POST /v1/enrollments`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitEnrollment {
    /// The subject reference.
    pub subject_ref: SubjectReference,
    /// The registered device submitting it.
    pub device_key: PublicKey,
    /// The template sealed under the transport key, base64.
    pub sealed_template: String,
    /// The review package.
    pub package: EnrollmentPackage,
}

/// The answer of a submission.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollmentSubmitted {
    /// The enrollment's id.
    pub enrollment_id: i64,
    /// `pending`.
    pub status: &'static str,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
    /// When the review must be decided by (RFC 3339).
    pub deadline: String,
}

/// Associated data binding a sealed package to its subject.
pub(crate) fn package_aad(subject: &SubjectReference) -> Vec<u8> {
    let mut aad = PACKAGE_AAD_LABEL.to_vec();
    aad.push(0);
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// Finds the approved descriptor version the sealed template opens with.
pub(crate) fn template_model(
    app: &AppState,
    sealed: &[u8],
    subject: &SubjectReference,
    transport: &SealingKey,
) -> Result<ModelInfo, ApiError> {
    let versions = app.policy.allowed_versions(DESCRIPTOR_FILE);
    for model in versions {
        match open_template(sealed, transport, subject, &model) {
            Ok(_template) => return Ok(model),
            Err(TemplateError::ModelMismatch { .. }) => continue,
            Err(e) => {
                return Err(ApiError::unprocessable(
                    "template_unreadable",
                    format!(
                        "the sealed template does not open for this person under the \
                         transport key: {e}"
                    ),
                ))
            }
        }
    }
    Err(ApiError::unprocessable(
        "model_not_allowed",
        "the template was made with a face model version that is not approved",
    ))
}

/// What the queue shows of a package (no images).
fn summary(p: &EnrollmentPackage) -> serde_json::Value {
    json!({
        "frames": p.frames.len(),
        "rejected_frames": p.rejected_frames,
        "documents": p.documents.iter().map(|d| d.side).collect::<Vec<_>>(),
        "id_front_match": p.id_front_match.map(|(distance, within)| json!({
            "distance": distance,
            "within_threshold": within,
        })),
        "liveness_step": p.liveness.as_ref().map(|v| json!({
            "passed": v.passed,
            "attempts": v.attempts,
        })),
        "pad_score": p.pad_score,
        "voice": p.voice,
        "voice_recording": p.voice_recording_wav.is_some(),
    })
}

/// Handler of `POST /v1/enrollments`.
#[tracing::instrument(skip_all)]
pub async fn submit(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<SubmitEnrollment>,
) -> Result<(StatusCode, Json<EnrollmentSubmitted>), ApiError> {
    let sealed = BASE64
        .decode(req.sealed_template.trim())
        .map_err(|_| ApiError::unprocessable("invalid_body", "sealed_template must be base64"))?;
    let subject = req.subject_ref;
    let device: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM devices WHERE subject_ref = $1 AND public_key = $2")
            .bind(&subject.as_bytes()[..])
            .bind(&req.device_key.as_bytes()[..])
            .fetch_optional(&app.pool)
            .await?;
    let Some((device_id,)) = device else {
        return Err(ApiError::not_found(
            "device_not_registered",
            "this device is not registered for this person: register it first (POST /v1/devices)",
        ));
    };
    let keys = app.keys.clone();
    let state = app.clone();
    let package = req.package;
    // Opening the template and sealing the package are CPU work: off the async threads.
    let (model, package_sealed, summary) = tokio::task::spawn_blocking(move || {
        let model = template_model(&state, &sealed, &subject, keys.transport())?;
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&package).map_err(|e| ApiError::internal("package", &e))?,
        );
        let package_sealed = sealing::seal(keys.transport(), &plain, &package_aad(&subject))
            .map_err(|e| ApiError::unprocessable("package_too_large", e.to_string()))?;
        Ok::<_, ApiError>((model, (sealed, package_sealed), summary(&package)))
    })
    .await
    .map_err(|e| ApiError::internal("enrollment task", &e))??;
    let (sealed, package_sealed) = package_sealed;
    let mut tx = app.pool.begin().await?;
    // A package left pending past its deadline no longer blocks a new one.
    sqlx::query(
        "UPDATE enrollments SET status = 'expired' \
          WHERE subject_ref = $1 AND status = 'pending' AND deadline <= now()",
    )
    .bind(&subject.as_bytes()[..])
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO enrollments (subject_ref, device_id, sealed_template, package_sealed, \
                summary, model_file, model_sha256, deadline) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(days => $8)) \
         RETURNING id, lifecert_rfc3339(submitted_at), lifecert_rfc3339(deadline)",
    )
    .bind(&subject.as_bytes()[..])
    .bind(device_id)
    .bind(&sealed)
    .bind(&package_sealed)
    .bind(&summary)
    .bind(&model.file)
    .bind(&model.sha256)
    .bind(i32::from(app.reviews.deadline_days))
    .fetch_one(&mut *tx)
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(e) if crate::db::is_unique_violation(&e, "enrollments_one_pending") => {
            return Err(ApiError::conflict(
                "review_pending",
                "an enrollment of this person is already waiting for review",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollmentSubmitted {
            enrollment_id: row.try_get(0)?,
            status: "pending",
            submitted_at: row.try_get(1)?,
            deadline: row.try_get(2)?,
        }),
    ))
}

/// A refusal as the retiree is told it.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// The reason code.
    pub reason: String,
    /// The reviewer's words to the retiree, if any.
    pub message: Option<String>,
    /// What the retiree is told for this reason, by language tag (`zh-Hans`, `zh-Hant`,
    /// `en`): the core's sentence, kind and with what to do next.
    pub retiree_text: std::collections::BTreeMap<&'static str, String>,
}

/// The answer of `GET /v1/enrollments/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollmentStatus {
    /// The enrollment's id.
    pub enrollment_id: i64,
    /// The subject.
    pub subject_ref: String,
    /// `pending`, `approved`, `refused` or `expired` (not decided by the deadline: enroll
    /// again).
    pub status: String,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
    /// The review deadline (RFC 3339).
    pub deadline: String,
    /// When it was decided (RFC 3339).
    pub decided_at: Option<String>,
    /// Why it was refused.
    pub refusal: Option<Refusal>,
    /// The issued template, sealed under the transport key, base64 (approved only).
    pub issued_template: Option<String>,
}

/// The effective status: a pending package past its deadline is `expired`.
pub(crate) const EFFECTIVE_STATUS: &str =
    "CASE WHEN status = 'pending' AND deadline <= now() THEN 'expired' ELSE status END";

/// Parses an id from the path.
pub(crate) fn path_id(path: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    let Path(id) = path.map_err(|e| ApiError::bad_request("bad_path", e.body_text()))?;
    id.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::bad_request("bad_id", "the id must be a positive integer"))
}

/// Handler of `GET /v1/enrollments/{id}`.
#[tracing::instrument(skip_all)]
pub async fn status(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<EnrollmentStatus>, ApiError> {
    let id = path_id(path)?;
    let row = sqlx::query(&format!(
        "SELECT id, subject_ref, {EFFECTIVE_STATUS}, lifecert_rfc3339(submitted_at), \
                lifecert_rfc3339(deadline), lifecert_rfc3339(decided_at), refusal_reason, \
                refusal_message, issued_template \
           FROM enrollments WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&app.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("no_such_enrollment", "no enrollment with this id"))?;
    let subject: Vec<u8> = row.try_get(1)?;
    let reason: Option<String> = row.try_get(6)?;
    let issued: Option<Vec<u8>> = row.try_get(8)?;
    Ok(Json(EnrollmentStatus {
        enrollment_id: row.try_get(0)?,
        subject_ref: hex::encode(subject),
        status: row.try_get(2)?,
        submitted_at: row.try_get(3)?,
        deadline: row.try_get(4)?,
        decided_at: row.try_get(5)?,
        refusal: reason
            .map(|reason| -> Result<Refusal, ApiError> {
                let code = RefusalReason::from_id(&reason)
                    .map_err(|e| ApiError::internal("a stored refusal reason", &e))?;
                let messages = Messages::builtin();
                Ok(Refusal {
                    reason,
                    message: row.try_get(7)?,
                    retiree_text: Language::ALL
                        .into_iter()
                        .map(|lang| {
                            let decision = ReviewDecision::Refused { reason: code };
                            (lang.tag(), review_text(&messages, lang, decision))
                        })
                        .collect(),
                })
            })
            .transpose()?,
        issued_template: issued.map(|b| BASE64.encode(b)),
    }))
}
