//! Certifications with results signed by the core's `sign_attestation`: recorded once with
//! one SMS; tampered results, a wrong device, an expired nonce, a supplied challenge and the
//! policy's refusals write nothing and leave the nonce usable; concurrent replays of one
//! nonce, or two nonces of one year, certify exactly once.

use crate::support::{self, device, passing, sign, subject, Options, TestServer};
use lifecert_authority::outbox;
use lifecert_core::api::attestation::{ChallengeOrigin, ConfigProfile, PerformedBy, ProxyRelation};
use lifecert_core::liveness::sequencer::DigitCheck;
use lifecert_core::model::assets::ModelInfo;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// Registers a device for a fresh subject and issues a nonce.
async fn session(
    s: &TestServer,
) -> (
    lifecert_core::identity::person::SubjectReference,
    lifecert_core::crypto::sealing::SigningKeyPair,
    lifecert_core::liveness::challenge::Nonce,
    u16,
) {
    let subject = subject();
    let device = device();
    s.register(&subject, &device).await;
    let (nonce, year) = s.issued_nonce(&subject, &device).await;
    (subject, device, nonce, year)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certification_is_recorded_once_with_one_sms() {
    let s = support::start(Options::default()).await;
    let (subject, device, nonce, year) = session(&s).await;
    let mut a = passing(&subject, &nonce, year);
    a.performed_by = PerformedBy::Proxy {
        relation: ProxyRelation::Other("邻居".into()),
    };
    let signed = sign(&a, &device);
    let first = s.certify(&device, &nonce, &signed).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(first.body["status"], "recorded");
    assert_eq!(first.body["performed_by"], "proxy");
    assert_eq!(first.body["proxy_relation"], "other: 邻居");
    assert_eq!(first.body["sms_queued"], true);
    // The app retries (a lost answer): the same record, nothing new.
    let retry = s.certify(&device, &nonce, &signed).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body["status"], "already_recorded");
    assert_eq!(
        retry.body["certification_id"],
        first.body["certification_id"]
    );
    // Another result under the spent nonce: refused.
    let mut again = a.clone();
    again.time += 1;
    let second = s.certify(&device, &nonce, &sign(&again, &device)).await;
    assert_eq!(
        (second.status, second.code()),
        (StatusCode::CONFLICT, "nonce_used")
    );
    // A new session for the same year: no nonce.
    let more = s.nonce(&subject, &device).await;
    assert_eq!(
        (more.status, more.code()),
        (StatusCode::CONFLICT, "already_certified")
    );
    // The status the hotline reads.
    let status = s
        .get(&format!("/v1/certifications/{}/{year}", subject.to_hex()))
        .await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["certified"], true);
    assert_eq!(status.body["certification"]["sms"], "queued");
    assert_eq!(
        status.body["certification"]["device_key"],
        device.public_key().to_hex()
    );
    let other_year = s
        .get(&format!(
            "/v1/certifications/{}/{}",
            subject.to_hex(),
            year - 1
        ))
        .await;
    assert_eq!(other_year.body["certified"], false);
    assert!(other_year.body["certification"].is_null());
    // Exactly one SMS, with the year and the masked name only.
    let messages = outbox::claim_due(&s.pool, 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let sms = &messages[0];
    assert_eq!(sms.mobile, "13800138000");
    assert!(sms.body.contains(&year.to_string()), "{}", sms.body);
    assert!(
        sms.body.contains("张*") && !sms.body.contains("张三"),
        "{}",
        sms.body
    );
    // Leased: a second sender does not get it.
    assert!(outbox::claim_due(&s.pool, 10, Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());
    outbox::mark_sent(&s.pool, sms.id).await.unwrap();
    let status = s
        .get(&format!("/v1/certifications/{}/{year}", subject.to_hex()))
        .await;
    assert_eq!(status.body["certification"]["sms"], "sent");
    // The evidence and the exact bytes are kept.
    let (stored, relation): (String, String) = sqlx::query_as(
        "SELECT attestation, evidence->'performed_by'->'proxy'->'relation'->>'other' \
           FROM certifications",
    )
    .fetch_one(&s.pool)
    .await
    .unwrap();
    assert_eq!(stored, signed);
    assert_eq!(relation, "邻居");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sms_comes_back_after_its_retry_delay() {
    let s = support::start(Options::default()).await;
    let (subject, device, nonce, year) = session(&s).await;
    let r = s
        .certify(
            &device,
            &nonce,
            &sign(&passing(&subject, &nonce, year), &device),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let first = outbox::claim_due(&s.pool, 10, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    outbox::mark_failed(&s.pool, first[0].id, "gateway timeout", Duration::ZERO)
        .await
        .unwrap();
    let again = outbox::claim_due(&s.pool, 10, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (first[0].id, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_results_are_refused_and_burn_nothing() {
    let s = support::start(Options::default()).await;
    let (subject, device, nonce, year) = session(&s).await;
    let genuine = sign(&passing(&subject, &nonce, year), &device);
    let before = s.counts().await;
    // A better face distance written into the signed payload.
    let better = genuine.replacen("\\\"distance\\\":0.36", "\\\"distance\\\":0.16", 1);
    assert_ne!(better, genuine);
    // The same content re-spaced (the bytes are the evidence).
    let spaced = genuine.replacen("\",\"signature\"", "\", \"signature\"", 1);
    // A result signed by another key that claims to be the device.
    let other = support::device();
    let forged = sign(&passing(&subject, &nonce, year), &other)
        .replace(&other.public_key().to_hex(), &device.public_key().to_hex());
    for (what, text) in [
        ("changed payload", better),
        ("re-spaced", spaced),
        ("forged", forged),
        ("not an envelope", "{\"hello\":1}".to_owned()),
    ] {
        let r = s.certify(&device, &nonce, &text).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "attestation_invalid"),
            "{what}"
        );
    }
    assert_eq!(s.counts().await, before, "a refused result wrote something");
    // The nonce was not burned: the genuine result goes through.
    let ok = s.certify(&device, &nonce, &genuine).await;
    assert_eq!(ok.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_device_is_refused() {
    let s = support::start(Options::default()).await;
    let (subject, device_a, nonce, year) = session(&s).await;
    // Device B is registered for another person.
    let device_b = device();
    s.register(&support::subject(), &device_b).await;
    let before = s.counts().await;
    let by_b = sign(&passing(&subject, &nonce, year), &device_b);
    // B presents A's nonce under its own key.
    let r = s.certify(&device_b, &nonce, &by_b).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "wrong_device")
    );
    // B's result presented as A's: the signature is not A's.
    let r = s.certify(&device_a, &nonce, &by_b).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "attestation_invalid")
    );
    assert!(r.body["message"].as_str().unwrap().contains("signature"));
    // B asks for a nonce for A's subject: not registered for it.
    let r = s.nonce(&subject, &device_b).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "device_not_registered")
    );
    assert_eq!(s.counts().await, before);
    let ok = s
        .certify(
            &device_a,
            &nonce,
            &sign(&passing(&subject, &nonce, year), &device_a),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_unknown_nonce_is_refused() {
    let s = support::start(Options::default()).await;
    let (subject, device, nonce, year) = session(&s).await;
    let expires: (String,) =
        sqlx::query_as("SELECT (expires_at - issued_at)::text FROM nonces WHERE nonce = $1")
            .bind(&nonce.0[..])
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert_eq!(expires.0, "00:10:00", "the default lifetime is 10 minutes");
    // Eleven minutes later.
    sqlx::query(
        "UPDATE nonces SET issued_at = now() - interval '11 minutes', \
                expires_at = now() - interval '1 minute'",
    )
    .execute(&s.pool)
    .await
    .unwrap();
    let mut a = passing(&subject, &nonce, year);
    a.time -= 660;
    let signed = sign(&a, &device);
    let before = s.counts().await;
    let r = s.certify(&device, &nonce, &signed).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "nonce_expired"));
    // A nonce this service never issued.
    let made_up = lifecert_core::liveness::challenge::Nonce([9; 16]);
    let r = s
        .certify(
            &device,
            &made_up,
            &sign(&passing(&subject, &made_up, year), &device),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "nonce_unknown")
    );
    // A result signed for another nonce than the one named.
    let (fresh, _) = s.issued_nonce(&subject, &device).await;
    let r = s.certify(&device, &fresh, &signed).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "nonce_mismatch")
    );
    let mut after = s.counts().await;
    // The fresh nonce is the only change.
    after.iter_mut().find(|(t, _)| t == "nonces").unwrap().1 -= 1;
    assert_eq!(after, before);
    // Housekeeping deletes the expired, unused nonce (and only it).
    let purged = lifecert_authority::nonces::purge_expired(&s.pool, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let left: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT nonce FROM nonces")
        .fetch_all(&s.pool)
        .await
        .unwrap();
    assert_eq!(left, vec![(fresh.0.to_vec(),)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_and_the_policy_s_refusals_write_nothing() {
    let s = support::start(Options::default()).await;
    let (subject, device, nonce, year) = session(&s).await;
    let before = s.counts().await;
    let refused =
        |code: &'static str,
         change: Box<dyn Fn(&mut lifecert_core::api::attestation::Attestation)>| {
            let mut a = passing(&subject, &nonce, year);
            change(&mut a);
            (code, sign(&a, &device))
        };
    let cases = vec![
        refused(
            "challenge_supplied",
            Box::new(|a| a.challenge_origin = ChallengeOrigin::Supplied),
        ),
        refused(
            "challenge_seeded",
            Box::new(|a| a.challenge_origin = ChallengeOrigin::Seeded),
        ),
        refused(
            "profile_refused",
            Box::new(|a| a.profile = ConfigProfile::RecordingReplay),
        ),
        refused(
            "profile_refused",
            Box::new(|a| a.profile = ConfigProfile::Custom),
        ),
        refused(
            "count_only",
            Box::new(|a| {
                a.liveness.digit_check = DigitCheck::CountOnly;
                a.liveness.digits_matched = 0;
            }),
        ),
        refused(
            "model_not_allowed",
            Box::new(|a| {
                a.models.push(ModelInfo {
                    file: "dlib_face_descriptor.onnx".into(),
                    sha256: "00".repeat(32),
                })
            }),
        ),
        refused(
            "model_missing",
            Box::new(|a| a.models.retain(|m| m.file != "dlib_face_descriptor.onnx")),
        ),
        refused(
            "not_a_pass",
            Box::new(|a| {
                a.face_match.distance = 0.61;
                a.face_match.accepted = false;
            }),
        ),
        refused("not_a_pass", Box::new(|a| a.liveness.digits_matched = 2)),
        refused(
            "not_a_pass",
            Box::new(|a| a.liveness.speech_onset_ms = -120),
        ),
        refused("year_mismatch", Box::new(|a| a.certification_year -= 1)),
        refused(
            "subject_mismatch",
            Box::new(|a| a.subject = support::subject()),
        ),
        refused("clock_skew", Box::new(|a| a.time += 3600)),
    ];
    for (code, text) in cases {
        let r = s.certify(&device, &nonce, &text).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{r:?}"
        );
    }
    assert_eq!(s.counts().await, before);
    let ok = s
        .certify(
            &device,
            &nonce,
            &sign(&passing(&subject, &nonce, year), &device),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_replayed_by_concurrent_requests_certifies_exactly_once() {
    let s = support::start(Options::default()).await;
    const ROUNDS: usize = 12;
    for round in 0..ROUNDS {
        let (subject, device, nonce, year) = session(&s).await;
        let a = passing(&subject, &nonce, year);
        let mut b = a.clone();
        b.time += 1;
        let (ra, rb) = if round % 2 == 0 {
            // Two different results under one nonce (a replay with a doctored copy).
            let (x, y) = (sign(&a, &device), sign(&b, &device));
            tokio::join!(
                s.certify(&device, &nonce, &x),
                s.certify(&device, &nonce, &y)
            )
        } else {
            // The very same result twice at once (a retry racing its first attempt).
            let x = sign(&a, &device);
            tokio::join!(
                s.certify(&device, &nonce, &x),
                s.certify(&device, &nonce, &x)
            )
        };
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        if round % 2 == 0 {
            assert_eq!(statuses, [201, 409], "round {round}: {ra:?} {rb:?}");
            let loser = if ra.status == StatusCode::CONFLICT {
                &ra
            } else {
                &rb
            };
            assert_eq!(loser.code(), "nonce_used");
        } else {
            assert!(
                statuses == [200, 201] || statuses == [201, 409],
                "round {round}: {ra:?} {rb:?}"
            );
        }
    }
    let (certifications, sms, consumed): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM certifications), (SELECT count(*) FROM sms_outbox), \
                (SELECT count(*) FROM nonces WHERE consumed_at IS NOT NULL)",
    )
    .fetch_one(&s.pool)
    .await
    .unwrap();
    assert_eq!(
        (certifications, sms, consumed),
        (ROUNDS as i64, ROUNDS as i64, ROUNDS as i64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_of_one_year_certify_once() {
    let s = support::start(Options::default()).await;
    let (subject, device, n1, year) = session(&s).await;
    let (n2, _) = s.issued_nonce(&subject, &device).await;
    let (x, y) = (
        sign(&passing(&subject, &n1, year), &device),
        sign(&passing(&subject, &n2, year), &device),
    );
    let (r1, r2) = tokio::join!(s.certify(&device, &n1, &x), s.certify(&device, &n2, &y));
    let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{r1:?} {r2:?}");
    let loser = if r1.status == StatusCode::CONFLICT {
        &r1
    } else {
        &r2
    };
    assert_eq!(loser.code(), "already_certified");
    // The loser's nonce was not consumed (its transaction rolled back).
    let (consumed,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM nonces WHERE consumed_at IS NOT NULL")
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert_eq!(consumed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonces_are_issued_only_for_the_current_year_and_a_few_at_a_time() {
    let s = support::start(Options::default()).await;
    let subject = subject();
    let device = device();
    let unregistered = s.nonce(&subject, &device).await;
    assert_eq!(unregistered.code(), "device_not_registered");
    s.register(&subject, &device).await;
    let (_, year) = s.issued_nonce(&subject, &device).await;
    let r = s
        .post(
            "/v1/certifications/nonce",
            &json!({
                "subject_ref": subject.to_hex(),
                "device_key": device.public_key().to_hex(),
                "certification_year": year + 1,
            }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "year_not_open")
    );
    for _ in 1..5 {
        s.issued_nonce(&subject, &device).await;
    }
    let r = s.nonce(&subject, &device).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_nonces")
    );
    // Registering again is idempotent (200) and keeps one device row.
    let again = s.register(&subject, &device).await;
    assert_eq!(again.status, StatusCode::OK);
    let (devices,): (i64,) = sqlx::query_as("SELECT count(*) FROM devices")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(devices, 1);
}
