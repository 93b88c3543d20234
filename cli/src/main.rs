//! `lifecert`: the command line of the lifecert engine.
//!
//! This file only parses the arguments and dispatches. Each command is one file,
//! `commands/<command>.rs`, with its flags (a `clap::Args` struct, whose doc is the
//! command's help) and its `run`; `commands/mod.rs` lists them with the exit codes they
//! share.

mod commands;

use clap::{Parser, Subcommand};
use commands::{analyze, certify, enroll, match_faces, verify, CommandError};
use lifecert_core::ModelSource;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lifecert",
    version,
    about = "On-device proof-of-life engine for pension certification"
)]
struct Cli {
    /// Load models from this directory instead of the embedded copies.
    #[arg(long, global = true)]
    models: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// The commands; their help is the doc of their arguments struct.
#[derive(Subcommand)]
enum Command {
    Analyze(analyze::AnalyzeArgs),
    Match(match_faces::MatchArgs),
    Enroll(enroll::EnrollArgs),
    Certify(certify::CertifyArgs),
    Verify(verify::VerifyArgs),
}

fn run(cli: Cli) -> Result<(), CommandError> {
    let source = cli
        .models
        .map(ModelSource::Directory)
        .unwrap_or(ModelSource::Embedded);
    match &cli.command {
        Command::Analyze(args) => analyze::run(&source, args),
        Command::Match(args) => match_faces::run(&source, args),
        Command::Enroll(args) => enroll::run(&source, args),
        Command::Certify(args) => certify::run(&source, args),
        Command::Verify(args) => verify::run(args),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("lifecert: {message}");
            ExitCode::from(code)
        }
    }
}
