//! lifecert-authority: the pension authority's side of lifecert — the verifier and review
//! service an integrator deploys on its PostgreSQL.
//!
//! The phone signs a certification result (an attestation) with its device key; this
//! service issues the single-use nonce the result must carry, verifies the result with
//! `lifecert-core`'s verifier, records that the retiree is certified for the year, queues
//! the confirmation SMS, and runs the staff review queue of enrollment packages whose
//! approval issues the authority-signed face template.
//!
//! | module | job |
//! | --- | --- |
//! | [`routes`] | the routes and their limits (`server/openapi.json` documents them) |
//! | [`devices`] | `POST /v1/devices`: device key ↔ subject reference, SMS contact |
//! | [`nonces`] | `POST /v1/certifications/nonce`: single-use nonces |
//! | [`certifications`] | `POST /v1/certifications`, `GET /v1/certifications/{subject_ref}/{year}` |
//! | [`ledger`] | the core's `NonceLedger` on PostgreSQL |
//! | [`policy`] | everything the service requires beyond the core's verifier |
//! | [`outbox`] | the SMS text and the outbox a sender drains |
//! | [`enrollments`] | `POST /v1/enrollments`, `GET /v1/enrollments/{id}` |
//! | [`reviews`] | the staff review queue and decisions |
//! | [`staff`] | the staff token in front of the review endpoints |
//! | [`keys`] | the authority's signing key and the transport key (never in the database) |
//! | [`db`] | the pool and the embedded `sqlx` migrations |
//! | [`config`] | the configuration file |
//! | [`app`], [`error`], [`json`] | shared state, the error shape, JSON bodies |
//!
//! [`Authority::start`] connects, migrates and loads everything a [`config::Config`]
//! names; [`Authority::router`] is the axum router; [`serve`] runs it until a shutdown
//! signal. `docs/AUTHORITY.md` describes the design, the load figures and the scaling.
#![deny(missing_docs)]

pub mod app;
pub mod certifications;
pub mod config;
pub mod db;
pub mod devices;
pub mod enrollments;
pub mod error;
pub mod json;
pub mod keys;
pub mod ledger;
pub mod nonces;
pub mod outbox;
pub mod policy;
pub mod reviews;
pub mod routes;
pub mod staff;

use app::AppState;
use config::Config;
use keys::AuthorityKeys;
use policy::Policy;
use staff::StaffToken;
use std::future::Future;
use std::sync::Arc;
use thiserror::Error;

/// Why the service cannot start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The database cannot be reached or migrated.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// The keys cannot be loaded.
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    /// The policy cannot be set up (models).
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The staff token cannot be loaded.
    #[error(transparent)]
    Staff(#[from] staff::StaffError),
    /// Listening or serving failed.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
}

/// A started service: its state and settings.
#[derive(Debug, Clone)]
pub struct Authority {
    /// What the handlers share.
    pub state: AppState,
    /// The staff token, if configured.
    pub staff: Option<Arc<StaffToken>>,
    /// HTTP settings.
    pub config: Config,
}

impl Authority {
    /// Validates `config`, loads keys, models and staff token, connects to the database
    /// and applies the migrations.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        config.validate()?;
        let keys = AuthorityKeys::load(&config.keys)?;
        let policy = Policy::new(config.policy.clone())?;
        if config.policy.accept_replayed_recordings_for_testing_only {
            tracing::warn!(
                "policy.accept_replayed_recordings_for_testing_only is ON: results of replayed \
                 recordings are accepted. Never run a production service like this."
            );
        }
        let staff = config.staff.load()?.map(Arc::new);
        if staff.is_none() {
            tracing::warn!("no staff token configured: the review endpoints answer 503");
        }
        let pool = db::connect(&config.database).await?;
        db::migrate(&pool).await?;
        tracing::info!(
            authority_public_key = %keys.authority_public_key().to_hex(),
            "lifecert-authority ready"
        );
        Ok(Self {
            state: AppState {
                pool,
                policy: Arc::new(policy),
                keys: Arc::new(keys),
                messages: Arc::new(lifecert_core::text::messages::Messages::builtin()),
                nonces: config.nonces,
                reviews: config.reviews,
            },
            staff,
            config,
        })
    }

    /// The axum router of the service.
    pub fn router(&self) -> axum::Router {
        routes::router(self.state.clone(), self.staff.clone(), &self.config.http)
    }
}

/// Serves `router` on `listener` until `shutdown` completes (in-flight requests finish).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
