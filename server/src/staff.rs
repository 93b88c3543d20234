//! Access to the staff endpoints (`/v1/reviews…`): a bearer token, compared in constant
//! time. The token comes from `LIFECERT_STAFF_TOKEN` or a file (owner-readable only); it
//! stands in for the integrator's staff single sign-on, which a deployment puts in front of
//! the service. Without a configured token the staff endpoints answer 503: an approval
//! issues a signed template, so they are never open by default.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;
use zeroize::Zeroizing;

/// Environment variable holding the staff token.
pub const STAFF_TOKEN_ENV: &str = "LIFECERT_STAFF_TOKEN";
/// Shortest accepted token, characters.
pub const MIN_TOKEN_CHARS: usize = 24;

/// Why the staff token cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StaffError {
    /// The token file cannot be read.
    #[error("staff token file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The token is too short or has whitespace or control characters inside.
    #[error("the staff token must be at least {MIN_TOKEN_CHARS} visible characters")]
    Weak,
}

/// Where the staff token is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaffConfig {
    /// File holding the token (first line). Default none; `LIFECERT_STAFF_TOKEN` takes
    /// precedence.
    pub token_file: Option<PathBuf>,
}

impl StaffConfig {
    /// Nothing to check beyond the type; present for symmetry with the other sections.
    pub fn validate(&self) -> Result<(), StaffError> {
        Ok(())
    }

    /// The configured token, if any (environment first, then the file).
    pub fn load(&self) -> Result<Option<StaffToken>, StaffError> {
        let text = match std::env::var(STAFF_TOKEN_ENV) {
            Ok(v) => Zeroizing::new(v),
            Err(_) => match &self.token_file {
                Some(path) => Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
                    StaffError::Io {
                        path: path.clone(),
                        source,
                    }
                })?),
                None => return Ok(None),
            },
        };
        StaffToken::new(text.lines().next().unwrap_or("").trim()).map(Some)
    }
}

/// A staff token, kept as an HMAC tag so that comparing is constant-time
/// (`ring::hmac::verify`).
pub struct StaffToken {
    key: hmac::Key,
    tag: hmac::Tag,
}

impl std::fmt::Debug for StaffToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffToken(<redacted>)")
    }
}

impl StaffToken {
    /// A token of at least [`MIN_TOKEN_CHARS`] visible characters.
    pub fn new(token: &str) -> Result<Self, StaffError> {
        if token.chars().count() < MIN_TOKEN_CHARS
            || token.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(StaffError::Weak);
        }
        let salt =
            lifecert_core::crypto::sealing::random_bytes::<32>().map_err(|_| StaffError::Weak)?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &salt);
        let tag = hmac::sign(&key, token.as_bytes());
        Ok(Self { key, tag })
    }

    /// Whether `candidate` is the token.
    pub fn matches(&self, candidate: &str) -> bool {
        hmac::verify(&self.key, candidate.as_bytes(), self.tag.as_ref()).is_ok()
    }
}

/// Middleware: lets the request through only with `Authorization: Bearer <token>`.
pub async fn require_staff(
    State(token): State<Option<Arc<StaffToken>>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "staff_access_not_configured",
            "staff access is not configured on this service (set LIFECERT_STAFF_TOKEN)",
        ));
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(t) if token.matches(t.trim()) => Ok(next.run(request).await),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "staff_authentication_required",
            "this endpoint is for review staff: send Authorization: Bearer <staff token>",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly_and_weak_ones_are_refused() {
        let t = StaffToken::new("correct-horse-battery-staple-42").unwrap();
        assert!(t.matches("correct-horse-battery-staple-42"));
        assert!(!t.matches("correct-horse-battery-staple-43"));
        assert!(!t.matches(""));
        assert!(matches!(StaffToken::new("short"), Err(StaffError::Weak)));
        assert!(matches!(
            StaffToken::new("has a space in it but is long enough"),
            Err(StaffError::Weak)
        ));
        assert_eq!(format!("{t:?}"), "StaffToken(<redacted>)");
    }
}
