//! JSON request bodies with the API's error shape: a missing or wrong `Content-Type` is 415
//! `unsupported_media_type`, text that is not JSON is 400 `bad_json`, JSON of the wrong shape
//! is 422 `invalid_body` (naming the field), a body over the route's limit is 413
//! `body_too_large`. Each refusal happens before any handler code runs, so nothing is
//! written.

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

/// A JSON body of type `T` (see the module docs for the refusals).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// Maps axum's JSON rejection onto [`ApiError`].
pub fn json_rejection(rejection: JsonRejection) -> ApiError {
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON, sent with Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request("bad_json", format!("the body is not valid JSON: {detail}"))
        }
        JsonRejection::JsonDataError(_) => ApiError::unprocessable(
            "invalid_body",
            format!("the JSON body does not have the expected fields: {detail}"),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the body is larger than this endpoint accepts",
        ),
        other => ApiError::bad_request(
            "bad_body",
            format!("the body could not be read: {}", other.body_text()),
        ),
    }
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(json_rejection)
    }
}
