//! A bounded load test on loopback: the service in this process, PostgreSQL (a throwaway
//! cluster with the server's default durability: fsync and synchronous commit on) on the
//! same machine, and a load generator posting pre-signed certification results.
//!
//! `cargo bench -p lifecert-authority --bench load` (env: `LOAD_CERTIFICATIONS`, default
//! 4000; `LOAD_CONCURRENCY`, default 32). Setup (untimed): register the devices, issue one
//! nonce each, sign the results with the core's `sign_attestation`. Timed: nonce issuance
//! for a second batch, then `POST /v1/certifications` for every result. Reported: verified
//! certifications per second, latency percentiles, and CPU seconds per certification of
//! this process (HTTP, verification, the client) and of the PostgreSQL processes, read
//! from `/proc`. The signature check's own cost is measured by the `verify` benchmark.

#[path = "../tests/support/mod.rs"]
mod support;

use lifecert_core::crypto::sealing::SigningKeyPair;
use lifecert_core::identity::person::SubjectReference;
use lifecert_core::liveness::challenge::Nonce;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{device, passing, sign, subject, Options};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// utime + stime of a process (and its waited-for children), seconds.
fn cpu_seconds(pid: u32, children: bool) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // rest[0] is the state (field 3): utime is field 14, stime 15, cutime 16, cstime 17.
    let ticks = f[11] + f[12] + if children { f[13] + f[14] } else { 0 };
    ticks as f64 / 100.0
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU seconds of the postmaster and its children so far.
fn postgres_cpu(postmaster: u32) -> f64 {
    let mut total = cpu_seconds(postmaster, true);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if parent_of(pid) == Some(postmaster) {
            total += cpu_seconds(pid, false);
        }
    }
    total
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Phase {
    name: &'static str,
    n: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    own_cpu: f64,
    pg_cpu: f64,
}

impl Phase {
    fn report(&self) {
        let mut l = self.latencies.clone();
        l.sort();
        println!(
            "{:<28} n={:<5} {:>8.0}/s  p50 {:>6.1} ms  p90 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms  \
             CPU/op: service+client {:>5.0} µs, PostgreSQL {:>5.0} µs",
            self.name,
            self.n,
            self.n as f64 / self.wall.as_secs_f64(),
            ms(percentile(&l, 0.5)),
            ms(percentile(&l, 0.9)),
            ms(percentile(&l, 0.99)),
            ms(*l.last().unwrap_or(&Duration::ZERO)),
            self.own_cpu / self.n as f64 * 1e6,
            self.pg_cpu / self.n as f64 * 1e6,
        );
    }
}

async fn run_phase<F, Fut>(
    name: &'static str,
    n: usize,
    concurrency: usize,
    postmaster: u32,
    op: F,
) -> Phase
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let own0 = cpu_seconds(std::process::id(), false);
    let pg0 = postgres_cpu(postmaster);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, next) = (op.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return latencies;
                }
                let t = Instant::now();
                assert!(op(i).await, "{name}: request {i} failed");
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let wall = start.elapsed();
    Phase {
        name,
        n,
        wall,
        latencies,
        own_cpu: cpu_seconds(std::process::id(), false) - own0,
        pg_cpu: postgres_cpu(postmaster) - pg0,
    }
}

/// The nonce (and its year) issued to each person, filled by the nonce phase.
type Issued = std::sync::Mutex<Vec<Option<(Nonce, u16)>>>;

fn signed_year(nonces: &Issued) -> u16 {
    nonces.lock().unwrap()[0].map_or(2026, |(_, y)| y)
}

fn main() {
    let n = env_or("LOAD_CERTIFICATIONS", 4000);
    let concurrency = env_or("LOAD_CONCURRENCY", 32);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let s = Arc::new(
            support::start(Options {
                durable: true,
                max_connections: Some(16),
                quiet: true,
                ..Options::default()
            })
            .await,
        );
        let cluster = support::pg::cluster(support::pg::Durability::Full);
        let postmaster: u32 = std::fs::read_to_string(cluster.dir.join("data/postmaster.pid"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        println!(
            "lifecert-authority load: {n} certifications, {concurrency} concurrent clients, \
             2 runtime threads, PostgreSQL with fsync and synchronous commit on, {} CPUs",
            std::thread::available_parallelism().map_or(0, |p| p.get())
        );
        // Setup: devices, one nonce each, the signed results (untimed).
        let setup = Instant::now();
        let people: Arc<Vec<(SubjectReference, SigningKeyPair)>> =
            Arc::new((0..2 * n).map(|_| (subject(), device())).collect());
        let register = {
            let (s, people) = (s.clone(), people.clone());
            move |i: usize| {
                let (s, people) = (s.clone(), people.clone());
                async move {
                    let (subject, device) = &people[i];
                    s.register(subject, device).await.status.is_success()
                }
            }
        };
        run_phase(
            "register devices (setup)",
            2 * n,
            concurrency,
            postmaster,
            register,
        )
        .await
        .report();
        let nonces: Arc<Issued> = Arc::new(std::sync::Mutex::new(vec![None; n]));
        let issue = {
            let (s, people, nonces) = (s.clone(), people.clone(), nonces.clone());
            move |i: usize| {
                let (s, people, nonces) = (s.clone(), people.clone(), nonces.clone());
                async move {
                    let (subject, device) = &people[i];
                    let r = s.nonce(subject, device).await;
                    let ok = r.status.as_u16() == 201;
                    if ok {
                        let nonce = Nonce::from_hex(r.body["nonce"].as_str().unwrap()).unwrap();
                        let year = r.body["certification_year"].as_u64().unwrap() as u16;
                        nonces.lock().unwrap()[i] = Some((nonce, year));
                    }
                    ok
                }
            }
        };
        run_phase("issue nonces", n, concurrency, postmaster, issue)
            .await
            .report();
        let signed: Arc<Vec<(Nonce, String)>> = Arc::new(
            nonces
                .lock()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let (nonce, year) = x.unwrap();
                    let (subject, device) = &people[i];
                    (nonce, sign(&passing(subject, &nonce, year), device))
                })
                .collect(),
        );
        eprintln!("setup took {:.1} s", setup.elapsed().as_secs_f64());
        // Timed: the certifications.
        let certify = {
            let (s, people, signed) = (s.clone(), people.clone(), signed.clone());
            move |i: usize| {
                let (s, people, signed) = (s.clone(), people.clone(), signed.clone());
                async move {
                    let (_, device) = &people[i];
                    let (nonce, text) = &signed[i];
                    s.certify(device, nonce, text).await.status.as_u16() == 201
                }
            }
        };
        let phase = run_phase(
            "verified certifications",
            n,
            concurrency,
            postmaster,
            certify,
        )
        .await;
        phase.report();
        let (recorded,): (i64,) = sqlx::query_as("SELECT count(*) FROM certifications")
            .fetch_one(&s.pool)
            .await
            .unwrap();
        assert_eq!(recorded as usize, n);
        // A status read per certification (the hotline / app query).
        let year = signed_year(&nonces);
        let read = {
            let (s, people) = (s.clone(), people.clone());
            move |i: usize| {
                let (s, people) = (s.clone(), people.clone());
                async move {
                    let (subject, _) = &people[i];
                    let r = s
                        .get(&format!("/v1/certifications/{}/{year}", subject.to_hex()))
                        .await;
                    r.status.as_u16() == 200
                }
            }
        };
        run_phase("status reads", n, concurrency, postmaster, read)
            .await
            .report();
        let (size,): (i64,) = sqlx::query_as(
            "SELECT pg_total_relation_size('certifications') + pg_total_relation_size('nonces') \
                  + pg_total_relation_size('sms_outbox')",
        )
        .fetch_one(&s.pool)
        .await
        .unwrap();
        println!(
            "storage: {:.1} KiB per certification (certification + nonce + SMS rows, indexes)",
            size as f64 / 1024.0 / n as f64
        );
    });
}
