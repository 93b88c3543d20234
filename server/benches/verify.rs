//! Where a certification's CPU goes inside the service: the core's verification of one
//! attestation (canonical envelope, Ed25519 signature, validation; in-memory ledger),
//! against parsing the request and hashing the attestation for the idempotency key.
//! `cargo bench -p lifecert-authority --bench verify`.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use lifecert_core::api::attestation::{verify_attestation_with, InMemoryNonceLedger, VerifyPolicy};
use lifecert_core::liveness::challenge::Nonce;
use std::hint::black_box;

fn verification(c: &mut Criterion) {
    let device = support::device();
    let subject = support::subject();
    let nonce = Nonce([7; 16]);
    let a = support::passing(&subject, &nonce, 2026);
    let signed = support::sign(&a, &device);
    let key = device.public_key();
    let policy = VerifyPolicy::default();
    c.bench_function(
        "verify_attestation (signature + canonical form + checks)",
        |b| {
            b.iter(|| {
                let mut ledger = InMemoryNonceLedger::new();
                verify_attestation_with(black_box(&signed), &key, &nonce, &mut ledger, &policy)
                    .unwrap()
            })
        },
    );
    let body = serde_json::json!({
        "device_key": key.to_hex(),
        "nonce": nonce.to_hex(),
        "attestation": signed,
    })
    .to_string();
    c.bench_function("parse the request body", |b| {
        b.iter(|| {
            serde_json::from_str::<lifecert_authority::certifications::CertifyRequest>(black_box(
                &body,
            ))
            .unwrap()
        })
    });
    c.bench_function("sha256 of the attestation (idempotency key)", |b| {
        b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(signed.as_bytes())))
    });
    c.bench_function("sign_attestation (the phone's side, for scale)", |b| {
        b.iter(|| {
            lifecert_core::api::attestation::sign_attestation(black_box(&a), &device).unwrap()
        })
    });
}

criterion_group!(benches, verification);
criterion_main!(benches);
