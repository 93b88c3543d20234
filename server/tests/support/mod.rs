//! Shared by the HTTP tests and the load benchmark: a running service on a fresh database,
//! an HTTP client, and certification results made with the core's own signing code.
#![allow(dead_code)]

pub mod openapi;
pub mod pg;

use lifecert_authority::config::Config;
use lifecert_authority::keys;
use lifecert_authority::{serve, Authority};
use lifecert_core::api::attestation::{sign_attestation, Attestation};
use lifecert_core::crypto::sealing::SigningKeyPair;
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::liveness::challenge::{DigitChallenge, Nonce};
use lifecert_core::matching::templates::MatchResult;
use lifecert_core::model::assets::ModelInfo;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::path::PathBuf;

/// The staff token of the test services.
pub const STAFF_TOKEN: &str = "test-staff-token-0123456789abcdef";

/// The repository's folder.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Options of a test service.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The test-only allowance of replayed recordings.
    pub accept_replays: bool,
    /// Use this database (else a fresh one).
    pub database_url: Option<String>,
    /// Use these keys (else fresh ones).
    pub keys_dir: Option<PathBuf>,
    /// Durable cluster (the load test).
    pub durable: bool,
    /// Pool size (default 16).
    pub max_connections: Option<u32>,
    /// No logging of requests, no OpenAPI check (the load test).
    pub quiet: bool,
    /// Request time limit, milliseconds (default: the configuration's).
    pub request_timeout_ms: Option<u64>,
}

/// A service running on loopback.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The service's database, for checks.
    pub pool: PgPool,
    /// Its database URL.
    pub database_url: String,
    /// Its key folder.
    pub keys_dir: PathBuf,
    /// A client.
    pub http: reqwest::Client,
    /// The started service.
    pub authority: Authority,
    quiet: bool,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts a service with the repository's models allowed.
pub async fn start(options: Options) -> TestServer {
    let dir = tempfile::Builder::new()
        .prefix("lifecert-authority-test-")
        .tempdir()
        .unwrap();
    let durability = if options.durable {
        pg::Durability::Full
    } else {
        pg::Durability::Off
    };
    let database_url = match options.database_url {
        Some(u) => u,
        None => pg::fresh_database(durability).await,
    };
    let keys_dir = match options.keys_dir {
        Some(k) => k,
        None => {
            let k = dir.path().join("keys");
            keys::generate(&k).unwrap();
            k
        }
    };
    let token_file = dir.path().join("staff-token");
    std::fs::write(&token_file, STAFF_TOKEN).unwrap();
    let mut config = Config::default();
    config.database.url = database_url.clone();
    if let Some(t) = options.request_timeout_ms {
        config.http.request_timeout_ms = t;
    }
    if let Some(n) = options.max_connections {
        config.database.max_connections = n;
    }
    config.keys = keys::KeyConfig::in_dir(&keys_dir);
    config.staff.token_file = Some(token_file);
    config.policy.allowed_models_dir = Some(repo().join("models"));
    config.policy.accept_replayed_recordings_for_testing_only = options.accept_replays;
    let authority = Authority::start(config).await.expect("the service starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = authority.router();
    tokio::spawn(async move {
        serve(listener, router, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let pool = authority.state.pool.clone();
    TestServer {
        base,
        pool,
        database_url,
        keys_dir,
        http: reqwest::Client::new(),
        authority,
        quiet: options.quiet,
        _dir: dir,
        _stop: stop,
    }
}

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body.
    pub body: Value,
}

impl Reply {
    /// The error code of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl TestServer {
    /// Sends `body` as JSON.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// As a staff member.
    pub async fn post_staff(&self, path: &str, body: &Value) -> Reply {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .bearer_auth(STAFF_TOKEN)
                .json(body),
        )
        .await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// GET as a staff member.
    pub async fn get_staff(&self, path: &str) -> Reply {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(STAFF_TOKEN),
        )
        .await
    }

    /// Sends a prepared request.
    /// Sends a prepared request; the reply is checked against the OpenAPI document.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("a well-formed request");
        let method = request.method().as_str().to_owned();
        let path = request.url().path().to_owned();
        let response = self
            .http
            .execute(request)
            .await
            .expect("the service answers");
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if self.quiet {
            return Reply { status, body };
        }
        eprintln!(
            "{method} {path} -> {status} {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(240)
                .collect::<String>()
        );
        openapi::check_reply(&method, &path, status.as_u16(), &body);
        Reply { status, body }
    }

    /// Row counts of every table (to check that a refusal wrote nothing).
    pub async fn counts(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in [
            "subjects",
            "devices",
            "nonces",
            "certifications",
            "sms_outbox",
            "enrollments",
        ] {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&self.pool)
                .await
                .unwrap();
            out.push((table.to_owned(), n));
        }
        let (consumed,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM nonces WHERE consumed_at IS NOT NULL")
                .fetch_one(&self.pool)
                .await
                .unwrap();
        out.push(("nonces consumed".into(), consumed));
        out
    }

    /// Registers `device` for `subject` with an SMS contact.
    pub async fn register(&self, subject: &SubjectReference, device: &SigningKeyPair) -> Reply {
        let r = self
            .post(
                "/v1/devices",
                &json!({
                    "subject_ref": subject.to_hex(),
                    "device_key": device.public_key().to_hex(),
                    "contact": {"mobile": "13800138000", "name": "张三", "category": "provincial"},
                }),
            )
            .await;
        assert!(r.status.is_success(), "{r:?}");
        r
    }

    /// Asks for a nonce.
    pub async fn nonce(&self, subject: &SubjectReference, device: &SigningKeyPair) -> Reply {
        self.post(
            "/v1/certifications/nonce",
            &json!({"subject_ref": subject.to_hex(), "device_key": device.public_key().to_hex()}),
        )
        .await
    }

    /// Asks for a nonce that must be issued; returns it and its year.
    pub async fn issued_nonce(
        &self,
        subject: &SubjectReference,
        device: &SigningKeyPair,
    ) -> (Nonce, u16) {
        let r = self.nonce(subject, device).await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        (
            Nonce::from_hex(r.body["nonce"].as_str().unwrap()).unwrap(),
            r.body["certification_year"].as_u64().unwrap() as u16,
        )
    }

    /// Submits an attestation.
    pub async fn certify(
        &self,
        device: &SigningKeyPair,
        nonce: &Nonce,
        attestation: &str,
    ) -> Reply {
        self.post(
            "/v1/certifications",
            &json!({
                "device_key": device.public_key().to_hex(),
                "nonce": nonce.to_hex(),
                "attestation": attestation,
            }),
        )
        .await
    }
}

/// The repository's models with their SHA-256 (the allow-list of the test services),
/// hashed once per process.
pub fn repository_models() -> Vec<ModelInfo> {
    static MODELS: std::sync::OnceLock<Vec<ModelInfo>> = std::sync::OnceLock::new();
    MODELS
        .get_or_init(|| {
            [
                lifecert_core::model::assets::DETECTOR_FILE,
                lifecert_core::model::assets::LANDMARK_FILE,
                lifecert_core::model::assets::DESCRIPTOR_FILE,
                lifecert_core::model::assets::VAD_FILE,
            ]
            .iter()
            .map(|file| {
                let bytes = std::fs::read(repo().join("models").join(file)).unwrap();
                let d = ring::digest::digest(&ring::digest::SHA256, &bytes);
                ModelInfo {
                    file: (*file).into(),
                    sha256: d.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
                }
            })
            .collect()
        })
        .clone()
}

/// A fresh device key.
pub fn device() -> SigningKeyPair {
    SigningKeyPair::generate().unwrap().0
}

/// A random subject reference.
pub fn subject() -> SubjectReference {
    SubjectReference::from_bytes(lifecert_core::crypto::sealing::random_bytes::<32>().unwrap())
}

/// A passing certification result for `subject` under `nonce`, as a phone's session
/// produces it (the figures of a genuine reading), made with the repository's models.
pub fn passing(subject: &SubjectReference, nonce: &Nonce, year: u16) -> Attestation {
    let mut a = Attestation {
        subject: *subject,
        certification_year: year,
        time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        server_nonce: *nonce,
        challenge: DigitChallenge {
            nonce: Nonce(lifecert_core::crypto::sealing::random_bytes::<16>().unwrap()),
            digits: vec![2, 5, 8],
        },
        face_match: MatchResult {
            distance: 0.36,
            threshold: 0.55,
            accepted: true,
        },
        models: repository_models(),
        ..Attestation::example()
    };
    a.liveness.speech_onset_ms = 610;
    a
}

/// Signs `a` with `device` (the core's `sign_attestation`).
pub fn sign(a: &Attestation, device: &SigningKeyPair) -> String {
    sign_attestation(a, device).unwrap()
}
