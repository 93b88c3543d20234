//! A throwaway PostgreSQL cluster for the tests and the load benchmark: Debian's
//! `postgresql` package (`initdb`/`postgres` from `/usr/lib/postgresql/<version>/bin`, or
//! `LIFECERT_PG_BIN`), one cluster per test process under `target/tmp/`, listening on a free
//! loopback port, trust authentication, no Unix socket. Each test gets its own database
//! ([`fresh_database`]).
//!
//! PostgreSQL refuses to run as root: when the tests run as root (CI containers), the
//! cluster runs as the `postgres` user the package creates (`setpriv`). A watchdog shell
//! stops the server and deletes the cluster when the test process exits, however it exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Durability settings of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync off (tests: nothing to keep).
    Off,
    /// PostgreSQL's defaults (fsync, synchronous commit): what a deployment runs.
    Full,
}

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Its loopback port.
    pub port: u16,
    /// Its folder.
    pub dir: PathBuf,
    /// The watchdog shell (it outlives this process on purpose: it removes the cluster).
    _watchdog: std::process::Child,
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIFECERT_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): the \
             lifecert-authority tests need them. Install Debian's package: \
             apt-get install -y postgresql (or set LIFECERT_PG_BIN)"
        ),
    }
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")) == "0"
}

/// The command `program` as the user the cluster runs as.
fn as_cluster_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Clusters left behind by test processes that no longer run (a crash before the watchdog
/// could act, a reboot).
fn remove_stale(root: &Path) {
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("lifecert-pg-"))
            .and_then(|p| p.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn start(durability: Durability) -> Cluster {
    let bin = bin_dir();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    remove_stale(&root);
    let pid = std::process::id();
    let dir = root.join(format!("lifecert-pg-{pid}-{durability:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    if is_root() {
        let uid: u32 = output(Command::new("id").args(["-u", "postgres"]))
            .parse()
            .unwrap();
        let gid: u32 = output(Command::new("id").args(["-g", "postgres"]))
            .parse()
            .unwrap();
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    }
    output(
        as_cluster_user(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]),
    );
    let port = free_port();
    let mut settings = vec![
        format!("-p {port}"),
        "-c listen_addresses=127.0.0.1".into(),
        "-c unix_socket_directories=".into(),
        "-c max_connections=200".into(),
        "-c shared_buffers=128MB".into(),
    ];
    if durability == Durability::Off {
        settings.extend([
            "-c fsync=off".into(),
            "-c synchronous_commit=off".into(),
            "-c full_page_writes=off".into(),
        ]);
    }
    // The watchdog: runs the server, stops it and removes the cluster when this process is
    // gone (or the server stopped).
    let mut postgres = as_cluster_user(&bin.join("postgres"));
    postgres.arg("-D").arg(&data);
    let server_cmd = std::iter::once(format!("{:?}", postgres.get_program()))
        .chain(
            postgres
                .get_args()
                .map(|a| format!("'{}'", a.to_string_lossy())),
        )
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "{server_cmd} {} > '{log}' 2>&1 &\n\
         pg=$!\n\
         while kill -0 {pid} 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 0.5; done\n\
         kill -INT $pg 2>/dev/null; wait $pg; rm -rf '{dir}'\n",
        settings.join(" "),
        log = dir.join("server.log").display(),
        dir = dir.display(),
    );
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts the cluster");
    let ready = bin.join("pg_isready");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = Command::new(&ready)
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            panic!("the test PostgreSQL did not start on port {port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Cluster {
        port,
        dir,
        _watchdog: watchdog,
    }
}

/// This process's cluster (started on first use).
pub fn cluster(durability: Durability) -> &'static Cluster {
    static OFF: OnceLock<Cluster> = OnceLock::new();
    static FULL: OnceLock<Cluster> = OnceLock::new();
    match durability {
        Durability::Off => OFF.get_or_init(|| start(durability)),
        Durability::Full => FULL.get_or_init(|| start(durability)),
    }
}

/// The URL of database `name` on the cluster.
pub fn url(cluster: &Cluster, name: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}

/// Creates a new, empty database on the cluster and returns its URL.
pub async fn fresh_database(durability: Durability) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let cluster = tokio::task::spawn_blocking(move || cluster(durability))
        .await
        .unwrap();
    let name = format!("t{}", COUNTER.fetch_add(1, Ordering::SeqCst));
    let admin = sqlx::PgPool::connect(&url(cluster, "postgres"))
        .await
        .expect("connect to the test cluster");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    url(cluster, &name)
}
