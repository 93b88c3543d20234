//! End to end over HTTP against a real PostgreSQL (a throwaway cluster the tests start, see
//! `support/pg.rs`): the service is started in-process on a loopback port with a fresh
//! database per test, and every reply is checked against `server/openapi.json`.

#[path = "../support/mod.rs"]
mod support;

mod certify;
mod cli_session;
mod enroll;
mod requests;
