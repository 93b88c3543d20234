//! Bad requests (not JSON, the wrong shape, the wrong content type, huge bodies, unknown
//! routes and methods, missing staff token) are 4xx with a clear error and write nothing;
//! the OpenAPI document lists exactly the routes the service has.

use crate::support::openapi::{doc, template_of};
use crate::support::{self, device, subject, Options};
use lifecert_authority::routes::ROUTES;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_clearly_and_write_nothing() {
    let s = support::start(Options::default()).await;
    let (subject, device) = (subject(), device());
    s.register(&subject, &device).await;
    let (nonce, _) = s.issued_nonce(&subject, &device).await;
    let before = s.counts().await;
    let url = |p: &str| format!("{}{p}", s.base);
    let raw = |path: &str, content_type: Option<&str>, body: Vec<u8>| {
        let mut r = s.http.post(url(path)).body(body);
        if let Some(t) = content_type {
            r = r.header("content-type", t);
        }
        r
    };
    let valid = json!({
        "device_key": device.public_key().to_hex(),
        "nonce": nonce.to_hex(),
        "attestation": "{}",
    })
    .to_string();
    let json = Some("application/json");
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "not JSON",
            raw("/v1/certifications", json, b"{\"device_key\": ".to_vec()),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "text/plain",
            raw("/v1/certifications", Some("text/plain"), valid.clone().into_bytes()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "no content type",
            raw("/v1/devices", None, valid.clone().into_bytes()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "form",
            raw(
                "/v1/certifications/nonce",
                Some("application/x-www-form-urlencoded"),
                b"subject_ref=00".to_vec(),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "2 MiB attestation",
            raw(
                "/v1/certifications",
                json,
                json!({
                    "device_key": device.public_key().to_hex(),
                    "nonce": nonce.to_hex(),
                    "attestation": "x".repeat(2 * 1024 * 1024),
                })
                .to_string()
                .into_bytes(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "huge device registration",
            raw("/v1/devices", json, vec![b' '; 200 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "unknown field",
            raw(
                "/v1/certifications",
                json,
                json!({
                    "device_key": device.public_key().to_hex(),
                    "nonce": nonce.to_hex(),
                    "attestation": "{}",
                    "trust_me": true,
                })
                .to_string()
                .into_bytes(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "ID number instead of a subject reference",
            raw(
                "/v1/devices",
                json,
                json!({"subject_ref": "11010519491231002X", "device_key": device.public_key().to_hex()})
                    .to_string()
                    .into_bytes(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "a nonce of the wrong length",
            raw(
                "/v1/certifications",
                json,
                json!({"device_key": device.public_key().to_hex(), "nonce": "abcd", "attestation": "{}"})
                    .to_string()
                    .into_bytes(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "array instead of object",
            raw("/v1/certifications/nonce", json, b"[1,2,3]".to_vec()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "bad mobile number",
            raw(
                "/v1/devices",
                json,
                json!({
                    "subject_ref": subject.to_hex(),
                    "device_key": device.public_key().to_hex(),
                    "contact": {"mobile": "110", "category": "provincial"},
                })
                .to_string()
                .into_bytes(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_mobile",
        ),
        (
            "unknown route",
            raw("/v1/certify", json, valid.clone().into_bytes()),
            StatusCode::NOT_FOUND,
            "no_such_route",
        ),
        (
            "wrong method",
            s.http.delete(url("/v1/certifications")),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "review without the staff token",
            s.http.get(url("/v1/reviews")),
            StatusCode::UNAUTHORIZED,
            "staff_authentication_required",
        ),
        (
            "review with a wrong token",
            s.http
                .post(url("/v1/reviews/1"))
                .bearer_auth("not-the-staff-token-but-long-enough")
                .json(&json!({"decision": "approve", "reviewer": "x"})),
            StatusCode::UNAUTHORIZED,
            "staff_authentication_required",
        ),
    ];
    for (what, request, status, code) in cases {
        let r = s.send(request).await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {r:?}");
        assert!(
            r.body["message"].as_str().is_some_and(|m| m.len() > 10),
            "{what}: no clear message: {r:?}"
        );
    }
    for (path, code) in [
        (
            format!("/v1/certifications/{}/2026", "zz".repeat(32)),
            "bad_subject_ref",
        ),
        (
            format!("/v1/certifications/{}/1066", subject.to_hex()),
            "bad_year",
        ),
        ("/v1/enrollments/-3".to_owned(), "bad_id"),
    ] {
        let r = s.get(&path).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{path}"
        );
    }
    let r = s.get_staff("/v1/reviews?status=sleeping").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "bad_query"));
    assert_eq!(s.counts().await, before, "a bad request wrote something");
    let health = s.get("/health").await;
    assert_eq!(health.status, StatusCode::OK);
}

#[test]
fn the_openapi_document_lists_exactly_the_routes() {
    let paths = doc()["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| matches!(k.as_str(), "get" | "post" | "put" | "delete" | "patch"))
                .map(move |m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect();
    let mut routed: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
    // Every $ref resolves and every operation documents a success and an error.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{method} {path}: no success response"
            );
            assert!(
                responses
                    .keys()
                    .any(|k| k.starts_with('4') || k.starts_with('5')),
                "{method} {path}: no error response"
            );
        }
    }
    let text = lifecert_authority::routes::OPENAPI;
    for r in text.split("\"$ref\": \"").skip(1) {
        let target = r.split('"').next().unwrap();
        let mut node = doc();
        for part in target.trim_start_matches("#/").split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "dangling {target}");
    }
    assert_eq!(
        template_of("GET", "/v1/reviews/12"),
        Some("/v1/reviews/{id}")
    );
    assert_eq!(
        template_of("POST", "/v1/certifications/nonce"),
        Some("/v1/certifications/nonce")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_served() {
    let s = support::start(Options::default()).await;
    for (method, template) in ROUTES {
        let path = template
            .replace("{subject_ref}", &"ab".repeat(32))
            .replace("{year}", "2026")
            .replace("{id}", "1");
        let request = match *method {
            "GET" => s.http.get(format!("{}{path}", s.base)),
            _ => s.http.post(format!("{}{path}", s.base)).json(&json!({})),
        }
        .bearer_auth(support::STAFF_TOKEN);
        // The reply is checked against the document by `send`; a route the router lacks
        // would answer no_such_route or method_not_allowed.
        let r = s.send(request).await;
        assert!(
            !matches!(r.code(), "no_such_route" | "method_not_allowed"),
            "{method} {template} is documented but not served: {r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_never_finishes_is_abandoned() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = support::start(Options {
        request_timeout_ms: Some(500),
        ..Options::default()
    })
    .await;
    let before = s.counts().await;
    // A client that announces a body and sends a byte of it (a slow-loris).
    let addr = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /v1/devices HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            reply.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&reply).ends_with('}') {
                break;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&reply);
    assert!(read.is_ok(), "the service kept waiting: {text}");
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"error\":\"timeout\""), "{text}");
    assert_eq!(s.counts().await, before);
}
