//! The core's [`NonceLedger`] on PostgreSQL.
//!
//! [`PgNonceLedger`] consumes a nonce inside the certification's transaction:
//!
//! ```sql
//! UPDATE nonces SET consumed_at = now()
//!  WHERE nonce = $1 AND consumed_at IS NULL AND expires_at > now()
//! ```
//!
//! One row updated: the nonce is now spent — for good once the transaction that also
//! records the certification commits, not at all if it rolls back. A concurrent request
//! with the same nonce blocks on the row lock, and when the first commits PostgreSQL
//! re-checks the condition on the new row version and updates nothing: exactly one wins.
//! Nothing updated: the nonce is used, expired or unknown ([`NonceState`], kept for the
//! caller's answer). Any database failure refuses the attestation (fail closed).
//!
//! The core's verifier is synchronous, so the ledger is used on a blocking thread
//! (`tokio::task::spawn_blocking`, where the signature check belongs anyway) and drives
//! its queries with the runtime's [`Handle`].

use lifecert_core::api::attestation::{AttestationError, NonceLedger};
use lifecert_core::liveness::challenge::Nonce;
use sqlx::{PgConnection, Postgres, Transaction};
use tokio::runtime::Handle;

/// Why a nonce could not be consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceState {
    /// No such nonce was issued.
    Unknown,
    /// Already used by a recorded certification.
    Consumed,
    /// Issued, but its time ran out.
    Expired,
}

/// Consumes `nonce` on `conn` (inside a transaction). `Ok(Err(state))` when the nonce
/// cannot be used.
pub async fn consume(
    conn: &mut PgConnection,
    nonce: &Nonce,
) -> Result<Result<(), NonceState>, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE nonces SET consumed_at = now() \
         WHERE nonce = $1 AND consumed_at IS NULL AND expires_at > now()",
    )
    .bind(&nonce.0[..])
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 1 {
        return Ok(Ok(()));
    }
    let state: Option<(bool, bool)> = sqlx::query_as(
        "SELECT consumed_at IS NOT NULL, expires_at <= now() FROM nonces WHERE nonce = $1",
    )
    .bind(&nonce.0[..])
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Err(match state {
        None => NonceState::Unknown,
        Some((true, _)) => NonceState::Consumed,
        Some((false, true)) => NonceState::Expired,
        // Not consumed and not expired, yet not updated: cannot happen under the row lock;
        // refuse rather than guess.
        Some((false, false)) => NonceState::Unknown,
    }))
}

/// A [`NonceLedger`] consuming nonces in a PostgreSQL transaction (see the module docs).
pub struct PgNonceLedger {
    handle: Handle,
    tx: Transaction<'static, Postgres>,
    refusal: Option<NonceState>,
}

impl std::fmt::Debug for PgNonceLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgNonceLedger")
            .field("refusal", &self.refusal)
            .finish_non_exhaustive()
    }
}

impl PgNonceLedger {
    /// A ledger on `tx`, whose queries run on the runtime of `handle`. Use it from a
    /// blocking thread, never from inside an async task.
    pub fn new(handle: Handle, tx: Transaction<'static, Postgres>) -> Self {
        Self {
            handle,
            tx,
            refusal: None,
        }
    }

    /// Why the last `consume` refused the nonce, if it did for a reason other than a
    /// database failure.
    pub fn refusal(&self) -> Option<NonceState> {
        self.refusal
    }

    /// The transaction back, to record the certification in it (or roll it back).
    pub fn into_transaction(self) -> Transaction<'static, Postgres> {
        self.tx
    }
}

impl NonceLedger for PgNonceLedger {
    fn consume(&mut self, nonce: &Nonce) -> Result<(), AttestationError> {
        let _span = tracing::debug_span!("nonce_ledger_consume").entered();
        let tx = &mut self.tx;
        match self.handle.block_on(consume(tx, nonce)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(state)) => {
                self.refusal = Some(state);
                Err(match state {
                    NonceState::Consumed => AttestationError::NonceReused,
                    NonceState::Expired => AttestationError::Ledger("the nonce has expired".into()),
                    NonceState::Unknown => {
                        AttestationError::Ledger("no such nonce was issued".into())
                    }
                })
            }
            Err(e) => {
                tracing::error!(error = %e, "nonce ledger failed");
                Err(AttestationError::Ledger(
                    "the nonce store is unavailable".into(),
                ))
            }
        }
    }
}
