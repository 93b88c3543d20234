//! `lifecert-authority`: runs the service (`serve`), applies the migrations (`migrate`) or
//! writes a fresh authority key and transport key (`keygen`).
//!
//! `serve --dev --database-url URL` is the one-command local setup: it creates the
//! database if missing, generates development keys and a staff token under
//! `target/authority-dev/` when none are configured, and allows the models of `./models`.

use clap::{Parser, Subcommand};
use lifecert_authority::config::Config;
use lifecert_authority::keys::{self, KeyConfig};
use lifecert_authority::{db, serve, Authority, StartError};
use sqlx::migrate::MigrateDatabase;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lifecert-authority",
    version,
    about = "The pension authority's verifier and review service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve {
        /// Configuration file (JSON; see the `config` module docs).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Database URL (else DATABASE_URL, else the configuration).
        #[arg(long)]
        database_url: Option<String>,
        /// Listening address (else the configuration, default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Folder whose files are approved models (added to the allow-list).
        #[arg(long)]
        models_dir: Option<PathBuf>,
        /// Folder holding authority.pkcs8.hex and transport.key.hex.
        #[arg(long)]
        keys_dir: Option<PathBuf>,
        /// Development setup: create the database, generate missing keys and a staff token
        /// under target/authority-dev/, allow ./models. Never for production.
        #[arg(long)]
        dev: bool,
    },
    /// Apply the database migrations and exit.
    Migrate {
        /// Database URL (else DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Write a fresh authority signing key and transport key into a new folder.
    Keygen {
        /// The folder (created; existing key files are never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

const DEV_DIR: &str = "target/authority-dev";

fn dev_setup(config: &mut Config) -> Result<(), String> {
    let dir = Path::new(DEV_DIR);
    if config.keys == KeyConfig::default() && std::env::var_os(keys::AUTHORITY_KEY_ENV).is_none() {
        let key_dir = dir.join("keys");
        config.keys = if key_dir.join(keys::AUTHORITY_KEY_FILE).exists() {
            KeyConfig::in_dir(&key_dir)
        } else {
            eprintln!(
                "lifecert-authority: --dev: generating development keys in {}",
                key_dir.display()
            );
            keys::generate(&key_dir).map_err(|e| e.to_string())?
        };
    }
    if config.staff.token_file.is_none()
        && std::env::var_os(lifecert_authority::staff::STAFF_TOKEN_ENV).is_none()
    {
        let path = dir.join("staff-token");
        if !path.exists() {
            let bytes =
                lifecert_core::crypto::sealing::random_bytes::<24>().map_err(|e| e.to_string())?;
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            std::fs::write(&path, format!("{}\n", hex::encode(bytes)))
                .map_err(|e| e.to_string())?;
        }
        eprintln!(
            "lifecert-authority: --dev: staff token in {} (Authorization: Bearer <token>)",
            path.display()
        );
        config.staff.token_file = Some(path);
    }
    if config.policy.allowed_models.is_empty() && config.policy.allowed_models_dir.is_none() {
        config.policy.allowed_models_dir = Some(PathBuf::from("models"));
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Keygen { out } => {
            keys::generate(&out).map_err(|e| e.to_string())?;
            eprintln!(
                "lifecert-authority: wrote {} and {} in {} (mode 0600)",
                keys::AUTHORITY_KEY_FILE,
                keys::TRANSPORT_KEY_FILE,
                out.display()
            );
            Ok(())
        }
        Command::Migrate { database_url } => {
            let config = db::DbConfig {
                url: database_url
                    .or_else(|| std::env::var("DATABASE_URL").ok())
                    .ok_or("give --database-url or set DATABASE_URL")?,
                ..db::DbConfig::default()
            };
            let pool = db::connect(&config).await.map_err(|e| e.to_string())?;
            db::migrate(&pool).await.map_err(|e| e.to_string())?;
            eprintln!("lifecert-authority: migrations applied");
            Ok(())
        }
        Command::Serve {
            config,
            database_url,
            listen,
            models_dir,
            keys_dir,
            dev,
        } => {
            let mut c = match config {
                Some(path) => Config::from_file(&path).map_err(|e| e.to_string())?,
                None => Config::default(),
            };
            if let Some(url) = database_url.or_else(|| std::env::var("DATABASE_URL").ok()) {
                c.database.url = url;
            }
            if let Some(addr) = listen {
                c.http.listen = addr;
            }
            if let Some(dir) = models_dir {
                c.policy.allowed_models_dir = Some(dir);
            }
            if let Some(dir) = keys_dir {
                c.keys = KeyConfig::in_dir(&dir);
            }
            if dev {
                dev_setup(&mut c)?;
                if !sqlx::Postgres::database_exists(&c.database.url)
                    .await
                    .map_err(|e| format!("database {}: {e}", c.database.url))?
                {
                    eprintln!("lifecert-authority: --dev: creating the database");
                    sqlx::Postgres::create_database(&c.database.url)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            let listen = c.http.listen;
            let authority = Authority::start(c)
                .await
                .map_err(|e: StartError| e.to_string())?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            eprintln!("lifecert-authority: listening on http://{listen}");
            tokio::spawn(lifecert_authority::nonces::housekeeping(
                authority.state.pool.clone(),
                std::time::Duration::from_secs(3600),
            ));
            serve(listener, authority.router(), shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// Ctrl-C or SIGTERM (what a container runtime sends): stop accepting, finish in-flight
/// requests.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    eprintln!("lifecert-authority: shutting down");
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lifecert-authority: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lifecert-authority: {e}");
            ExitCode::FAILURE
        }
    }
}
