//! The command line's interface as a user sees it: `lifecert --help` and each command's
//! `--help` (every flag, its value name, its default, the exit codes) against the texts in
//! `tests/help/`, and the exit code of a usage error. The README, `docs/`,
//! `scripts/demo.sh` and the end-to-end tests use these flags: a change shows here first.
//! After a deliberate change, rewrite the texts with `LIFECERT_BLESS=1 cargo test
//! --workspace --test help` and review the diff.
//!
//! Being the CLI's own integration test, it also makes `cargo test --workspace` build the
//! `lifecert` binary that the end-to-end tests (the `lifecert-e2e` package in the
//! repository's `tests/`) run.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The commands whose help is checked (`lifecert` itself first), as in `tests/help/<name>.txt`.
const COMMANDS: [&str; 6] = [
    "lifecert", "analyze", "match", "enroll", "certify", "verify",
];

fn lifecert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifecert"))
        .args(args)
        .output()
        .expect("lifecert runs")
}

#[test]
fn every_command_documents_the_same_flags_defaults_and_exit_codes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/help");
    let bless = std::env::var_os("LIFECERT_BLESS").is_some_and(|v| v == "1");
    let mut changed = Vec::new();
    for command in COMMANDS {
        let args: Vec<&str> = match command {
            "lifecert" => vec!["--help"],
            c => vec![c, "--help"],
        };
        let out = lifecert(&args);
        assert!(out.status.success(), "lifecert {args:?} fails");
        let help = String::from_utf8(out.stdout).expect("UTF-8 help");
        let file = dir.join(format!("{command}.txt"));
        if bless {
            std::fs::write(&file, &help).unwrap();
            continue;
        }
        let expected =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if help != expected {
            eprintln!(
                "--- {} (expected)\n{expected}\n+++ lifecert {} (now)\n{help}",
                file.display(),
                args.join(" ")
            );
            changed.push(command);
        }
    }
    assert!(
        changed.is_empty(),
        "the help of {changed:?} changed (see above); if deliberate, update the README, docs/ \
         and scripts/demo.sh, then LIFECERT_BLESS=1 cargo test --workspace --test help"
    );
}

#[test]
fn a_usage_error_exits_2_and_names_the_problem() {
    let certify = "certify --template t --name n --id i";
    let cases = [
        // `verify` makes freshness an explicit choice: neither --nonce nor
        // --no-freshness-check, or both, is refused.
        ("verify result.json --key 00", "--nonce <HEX>"),
        (
            "verify result.json --key 00 --nonce 00 --no-freshness-check",
            "cannot be used with",
        ),
        // The value parsers' messages reach the user.
        ("analyze --lang fr x.png", "use zh-Hans, zh-Hant or en"),
        (
            &format!("{certify} --category abroad"),
            "use provincial or non-provincial",
        ),
    ];
    for (args, says) in cases {
        let args: Vec<&str> = args.split(' ').collect();
        let out = lifecert(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "lifecert {args:?}: {stderr}");
        assert!(stderr.contains(says), "lifecert {args:?}: {stderr}");
    }
}
