//! What every handler shares ([`AppState`]) and the HTTP limits ([`HttpConfig`]).

use crate::keys::AuthorityKeys;
use crate::nonces::NonceConfig;
use crate::policy::Policy;
use crate::reviews::ReviewConfig;
use lifecert_core::text::messages::Messages;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use thiserror::Error;

/// An unusable HTTP configuration; the text says which field.
#[derive(Debug, Error)]
#[error("http configuration: {0}")]
pub struct HttpConfigError(pub String);

/// Where the service listens and how large a request may be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Listening address. Default `127.0.0.1:8080` (put a TLS-terminating proxy in front).
    pub listen: SocketAddr,
    /// Largest body of every endpoint except enrollments, bytes. Default 64 KiB (an
    /// attestation is about 2 KB).
    pub max_body_bytes: usize,
    /// Largest enrollment submission, bytes (review frames and ID photos as JPEG). Default
    /// 16 MiB.
    pub max_enrollment_body_bytes: usize,
    /// Longest a request may take, body upload included, milliseconds; then 503 `timeout`
    /// and its transaction is rolled back. Default 30000.
    pub request_timeout_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 64 * 1024,
            max_enrollment_body_bytes: 16 * 1024 * 1024,
            request_timeout_ms: 30_000,
        }
    }
}

impl HttpConfig {
    /// Limits between 1 KiB and 256 MiB, the enrollment limit at least the general one.
    pub fn validate(&self) -> Result<(), HttpConfigError> {
        let range = 1024..=256 * 1024 * 1024;
        if !range.contains(&self.max_body_bytes) || !range.contains(&self.max_enrollment_body_bytes)
        {
            return Err(HttpConfigError(
                "body limits must be between 1 KiB and 256 MiB".into(),
            ));
        }
        if !(100..=600_000).contains(&self.request_timeout_ms) {
            return Err(HttpConfigError(
                "request_timeout_ms must be 100–600000".into(),
            ));
        }
        if self.max_enrollment_body_bytes < self.max_body_bytes {
            return Err(HttpConfigError(
                "max_enrollment_body_bytes must be at least max_body_bytes".into(),
            ));
        }
        Ok(())
    }
}

/// The state shared by the handlers (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub pool: PgPool,
    /// The verification policy.
    pub policy: Arc<Policy>,
    /// The authority's keys.
    pub keys: Arc<AuthorityKeys>,
    /// The message texts (SMS).
    pub messages: Arc<Messages>,
    /// Nonce issuance settings.
    pub nonces: NonceConfig,
    /// Review queue settings.
    pub reviews: ReviewConfig,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("nonces", &self.nonces)
            .field("reviews", &self.reviews)
            .finish_non_exhaustive()
    }
}

/// Unix seconds now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
