//! The service's configuration: one JSON file whose sections are owned by the modules
//! (each with its defaults and `validate()`), secrets excluded — keys and the staff token
//! come from the environment or from files the configuration names.
//!
//! ```json
//! {
//!   "http":     { "listen": "127.0.0.1:8080", "max_body_bytes": 65536 },
//!   "database": { "url": "postgres://lifecert@db.internal/lifecert", "max_connections": 16 },
//!   "nonces":   { "ttl_secs": 600, "max_outstanding_per_device": 5 },
//!   "reviews":  { "deadline_days": 7 },
//!   "policy":   { "allowed_models_dir": "/srv/lifecert/models", "max_clock_skew_secs": 300 },
//!   "keys":     { "authority_key_file": "/etc/lifecert/authority.pkcs8.hex",
//!                 "transport_key_file": "/etc/lifecert/transport.key.hex" },
//!   "staff":    { "token_file": "/etc/lifecert/staff-token" }
//! }
//! ```

use crate::app::HttpConfig;
use crate::db::DbConfig;
use crate::keys::KeyConfig;
use crate::nonces::NonceConfig;
use crate::policy::PolicyConfig;
use crate::reviews::ReviewConfig;
use crate::staff::StaffConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Largest configuration file read, bytes.
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// An unusable configuration.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("configuration file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("configuration file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What serde says (field and position).
        message: String,
    },
    /// A section is invalid; the text says which field.
    #[error("{0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listening address and body limits.
    pub http: HttpConfig,
    /// The database.
    pub database: DbConfig,
    /// Nonce issuance.
    pub nonces: NonceConfig,
    /// The review queue.
    pub reviews: ReviewConfig,
    /// The verification policy.
    pub policy: PolicyConfig,
    /// Where the authority's keys are.
    pub keys: KeyConfig,
    /// Where the staff token is.
    pub staff: StaffConfig,
}

impl Config {
    /// Reads a configuration file (absent sections and fields take their defaults; unknown
    /// fields are an error).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| ConfigError::Io {
            path: shown.clone(),
            source,
        })?;
        if meta.len() > MAX_CONFIG_FILE {
            return Err(ConfigError::Parse {
                path: shown,
                message: "larger than 1 MiB".into(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: shown.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| ConfigError::Parse {
            path: shown,
            message: e.to_string(),
        })
    }

    /// Validates every section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid(e.to_string());
        self.http.validate().map_err(|e| invalid(&e))?;
        self.database.validate().map_err(|e| invalid(&e))?;
        self.nonces.validate().map_err(|e| invalid(&e))?;
        self.reviews.validate().map_err(|e| invalid(&e))?;
        self.policy.validate().map_err(|e| invalid(&e))?;
        self.keys.validate().map_err(|e| invalid(&e))?;
        self.staff.validate().map_err(|e| invalid(&e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_and_validates() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```json"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let config: Config = serde_json::from_str(&example).unwrap();
        config.validate().unwrap();
        assert_eq!(config.nonces.ttl_secs, 600);
        assert_eq!(config.http.max_enrollment_body_bytes, 16 * 1024 * 1024);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<Config>(r#"{"nonce": {}}"#).is_err());
        assert!(serde_json::from_str::<Config>(r#"{"nonces": {"ttl": 5}}"#).is_err());
    }
}
