//! The PostgreSQL connection pool and the schema migrations.
//!
//! The migrations are the SQL files of `server/migrations/` (the `sqlx migrate` layout:
//! `<VERSION>_<DESCRIPTION>.sql`), compiled into the binary so that the service migrates
//! the database it is pointed at on start-up ([`migrate`]); `sqlx migrate run` from
//! `server/` applies the same files with the same checksums.

use serde::{Deserialize, Serialize};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

/// The migrations, in order: (version, description, SQL).
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    20260101000001,
    "schema",
    include_str!("../migrations/20260101000001_schema.sql"),
)];

/// Errors of the database layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DbError {
    /// The configuration is unusable; the text says which field.
    #[error("database configuration: {0}")]
    Config(String),
    /// Connecting or querying failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Where the database is and how many connections to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbConfig {
    /// Connection URL (`postgres://user@host:port/db`). Default empty: must be given (config
    /// file, `--database-url` or `DATABASE_URL`).
    pub url: String,
    /// Most connections in the pool. Default 16 (a 2-core PostgreSQL saturates well before).
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing (503), milliseconds.
    /// Default 5000.
    pub acquire_timeout_ms: u64,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 16,
            acquire_timeout_ms: 5000,
        }
    }
}

impl DbConfig {
    /// Checks the URL parses and the pool sizes are sensible.
    pub fn validate(&self) -> Result<(), DbError> {
        if self.url.is_empty() {
            return Err(DbError::Config(
                "url is required (postgres://user@host:port/database)".into(),
            ));
        }
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(DbError::Config(
                "url must start with postgres:// or postgresql://".into(),
            ));
        }
        PgConnectOptions::from_str(&self.url)
            .map_err(|e| DbError::Config(format!("url does not parse: {e}")))?;
        if !(1..=1000).contains(&self.max_connections) {
            return Err(DbError::Config("max_connections must be 1–1000".into()));
        }
        if !(1..=600_000).contains(&self.acquire_timeout_ms) {
            return Err(DbError::Config(
                "acquire_timeout_ms must be 1–600000".into(),
            ));
        }
        Ok(())
    }
}

/// Opens a pool on `config` (after [`DbConfig::validate`]).
pub async fn connect(config: &DbConfig) -> Result<PgPool, DbError> {
    config.validate()?;
    let options = PgConnectOptions::from_str(&config.url)
        .map_err(|e| DbError::Config(format!("url does not parse: {e}")))?
        .application_name("lifecert-authority");
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms))
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// The migrations compiled into the binary, as a [`MigrationSource`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddedMigrations;

impl<'s> MigrationSource<'s> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> futures_core::future::BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies the pending migrations (under PostgreSQL's advisory lock, so several service
/// instances starting together migrate once).
#[tracing::instrument(skip_all)]
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    Migrator::new(EmbeddedMigrations).await?.run(pool).await?;
    Ok(())
}

/// Whether `e` is PostgreSQL's unique violation (SQLSTATE 23505) of `constraint`.
pub fn is_unique_violation(e: &sqlx::Error, constraint: &str) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.code().as_deref() == Some("23505") && d.constraint() == Some(constraint)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_needs_a_url_and_sane_sizes() {
        assert!(DbConfig::default().validate().is_err());
        let ok = DbConfig {
            url: "postgres://postgres@127.0.0.1:5432/lifecert".into(),
            ..DbConfig::default()
        };
        ok.validate().unwrap();
        let zero = DbConfig {
            max_connections: 0,
            ..ok.clone()
        };
        assert!(zero.validate().is_err());
        let bad = DbConfig {
            url: "mysql://nope".into(),
            ..ok
        };
        assert!(bad.validate().is_err());
    }

    #[tokio::test]
    async fn the_embedded_migrations_are_the_files_of_the_migrations_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let on_disk = dir.as_path().resolve().await.unwrap();
        let embedded = EmbeddedMigrations.resolve().await.unwrap();
        assert_eq!(
            on_disk.len(),
            embedded.len(),
            "a migration file is not embedded"
        );
        for (a, b) in on_disk.iter().zip(&embedded) {
            assert_eq!(a.version, b.version);
            assert_eq!(a.description, b.description);
            assert_eq!(a.checksum, b.checksum, "migration {} differs", a.version);
        }
    }
}
