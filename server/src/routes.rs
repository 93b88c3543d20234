//! The HTTP routes ([`ROUTES`], documented in `server/openapi.json`; a test checks the two
//! agree) and their limits. Unknown paths answer 404 `no_such_route`, a known path with
//! another method 405 `method_not_allowed`, both in the API's error shape.

use crate::app::{AppState, HttpConfig};
use crate::error::ApiError;
use crate::staff::{require_staff, StaffToken};
use crate::{certifications, devices, enrollments, nonces, reviews};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Every route: (method, path template). The OpenAPI document lists exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("POST", "/v1/devices"),
    ("POST", "/v1/certifications/nonce"),
    ("POST", "/v1/certifications"),
    ("GET", "/v1/certifications/{subject_ref}/{year}"),
    ("POST", "/v1/enrollments"),
    ("GET", "/v1/enrollments/{id}"),
    ("GET", "/v1/reviews"),
    ("GET", "/v1/reviews/{id}"),
    ("POST", "/v1/reviews/{id}"),
];

/// The OpenAPI document of the API (checked in as `server/openapi.json`).
pub const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /health`: the database answers.
async fn health(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&app.pool).await?;
    Ok(Json(json!({ "status": "ok" })))
}

async fn no_route() -> ApiError {
    ApiError::not_found(
        "no_such_route",
        "no such endpoint (see the OpenAPI document)",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take this method (see the OpenAPI document)",
    )
}

/// Middleware: a request that takes longer than the limit is answered 503 `timeout` (its
/// handler is dropped, which rolls its transaction back).
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long and was abandoned; nothing was recorded, please retry",
        )
        .into_response(),
    }
}

/// The service's router on `state`, with the staff endpoints behind `staff`.
pub fn router(state: AppState, staff: Option<Arc<StaffToken>>, http: &HttpConfig) -> Router {
    let small = DefaultBodyLimit::max(http.max_body_bytes);
    let large = DefaultBodyLimit::max(http.max_enrollment_body_bytes);
    let staff_routes = Router::new()
        .route("/v1/reviews", get(reviews::list))
        .route(
            "/v1/reviews/{id}",
            get(reviews::detail).post(reviews::decide),
        )
        .layer(small)
        .route_layer(from_fn_with_state(staff, require_staff));
    Router::new()
        .route("/health", get(health))
        .route("/v1/devices", post(devices::register).layer(small))
        .route("/v1/certifications/nonce", post(nonces::issue).layer(small))
        .route(
            "/v1/certifications",
            post(certifications::certify).layer(small),
        )
        .route(
            "/v1/certifications/{subject_ref}/{year}",
            get(certifications::status),
        )
        .route("/v1/enrollments", post(enrollments::submit).layer(large))
        .route("/v1/enrollments/{id}", get(enrollments::status))
        .merge(staff_routes)
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            Duration::from_millis(http.request_timeout_ms),
            time_limit,
        ))
        .with_state(state)
}
