//! The folders of `core/src` are its layers: a file imports only from its own folder or from
//! folders below it. This test reads every file under `core/src`, finds each `crate::` path
//! in its code (comments and doc links are ignored: they are not dependencies) and fails on
//! an import from a lower folder to a higher one. Names the crate root re-exports
//! (`crate::Error`) count as the folder they come from, read from `lib.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, top first. Declared once: a folder may use itself and anything after it.
const LAYERS: &[&str] = &[
    "api", "matching", "liveness", "text", "capture", "identity", "face", "audio", "image",
    "model", "crypto",
];

/// One upward (or unknown) import: the importing file, the path it names, why it is refused.
#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    path: String,
    reason: String,
}

fn rank(folder: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == folder)
}

/// The code of a Rust file without its comments (line, block and doc comments) and without
/// the contents of string literals, so a `crate::` inside either is not taken for an import.
fn strip_comments_and_strings(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"' {
            // Raw strings (r"..", r#".."#) are rare in the core and hold no `crate::`; a
            // plain string ends at the first unescaped quote.
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"' or '{'.
            out.push_str("' '");
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'') {
            // An escaped char literal such as '\"'.
            out.push_str("' '");
            i += 4;
        } else {
            let ch = src[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn ident_at(s: &str, at: usize) -> &str {
    let end = s[at..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(s.len(), |n| at + n);
    &s[at..end]
}

/// The first segment of every `crate::` path in `code` (each head of a `crate::{a, b::c}`
/// group counts), and every `super::super` (which could climb out of a folder unseen).
fn crate_heads(code: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut from = 0;
    while let Some(n) = code[from..].find("crate::") {
        let start = from + n;
        let at = start + "crate::".len();
        from = at;
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue; // `lifecert_crate::`, `$crate::`
        }
        if code[at..].starts_with('{') {
            let mut depth = 0;
            let mut expect_head = true;
            for (k, c) in code[at..].char_indices() {
                match c {
                    '{' => {
                        depth += 1;
                        expect_head = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => expect_head = true,
                    c if c.is_whitespace() => {}
                    c if expect_head && depth == 1 && (c.is_ascii_alphabetic() || c == '_') => {
                        heads.push(ident_at(code, at + k).to_string());
                        expect_head = false;
                    }
                    _ => {}
                }
            }
        } else {
            heads.push(ident_at(code, at).to_string());
        }
    }
    if code.contains("super::super") {
        heads.push("super::super".to_string());
    }
    heads
}

/// Root re-exports of `lib.rs` (`pub use face::analyzer::{Analyzer, FrameAnalysis};`) →
/// the folder each name comes from.
fn root_names(lib_rs: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for stmt in strip_comments_and_strings(lib_rs).split(';') {
        let Some(path) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let folder = path
            .split("::")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let last = path.rsplit("::").next().unwrap_or_default();
        for name in last.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.split(" as ").last().unwrap_or_default().trim();
            if !name.is_empty() {
                names.insert(name.to_string(), folder.clone());
            }
        }
    }
    names
}

/// Every refused import among `files` (path relative to `src`, source text).
fn violations(files: &[(String, String)], roots: &BTreeMap<String, String>) -> Vec<Violation> {
    let mut found = Vec::new();
    for (file, src) in files {
        let Some((folder, _)) = file.split_once('/') else {
            continue; // lib.rs: the root composes the folders
        };
        let refuse = |path: &str, reason: String| Violation {
            file: file.clone(),
            path: path.to_string(),
            reason,
        };
        let Some(own) = rank(folder) else {
            found.push(refuse(
                folder,
                format!("folder `{folder}` is not a declared layer"),
            ));
            continue;
        };
        for head in crate_heads(&strip_comments_and_strings(src)) {
            let target = if rank(&head).is_some() {
                head.clone()
            } else if let Some(folder) = roots.get(&head) {
                folder.clone()
            } else {
                found.push(refuse(
                    &head,
                    "not a layer folder nor a root re-export".into(),
                ));
                continue;
            };
            let theirs = rank(&target).expect("declared");
            if theirs < own {
                found.push(refuse(
                    &head,
                    format!("`{folder}` is below `{target}`: it may not import it"),
                ));
            }
        }
    }
    found.sort_by(|a, b| (&a.file, &a.path).cmp(&(&b.file, &b.path)));
    found.dedup();
    found
}

fn rust_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("core/src is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src");
            let rel = rel.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            out.push((rel, text));
        }
    }
}

#[test]
fn no_folder_of_the_core_imports_a_higher_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    assert!(files.len() > 40, "found only {} files", files.len());
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let roots = root_names(&lib);
    assert_eq!(roots.get("Engine").map(String::as_str), Some("api"));
    let found = violations(&files, &roots);
    assert!(
        found.is_empty(),
        "{} upward imports:\n{}",
        found.len(),
        found
            .iter()
            .map(|v| format!("  {}: crate::{} ({})", v.file, v.path, v.reason))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every declared layer exists, so the order above cannot silently rot.
    for layer in LAYERS {
        assert!(
            src.join(layer).is_dir(),
            "declared layer {layer} has no folder"
        );
    }
}

fn synthetic(files: &[(&str, &str)]) -> Vec<Violation> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(f, s)| (f.to_string(), s.to_string()))
        .collect();
    let roots = root_names("pub use api::error::{Error, Result};\npub use image::frame::Frame;");
    violations(&files, &roots)
}

#[test]
fn the_check_refuses_an_upward_import_and_accepts_downward_ones() {
    let found = synthetic(&[
        (
            "face/detector.rs",
            "use crate::api::config::DetectorConfig;\n",
        ),
        (
            "api/engine.rs",
            "use crate::face::detector::FaceDetector;\nuse crate::api::config::Config;",
        ),
        ("image/frame.rs", "use crate::model::onnx::OnnxModel;"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].file, "face/detector.rs");
    assert_eq!(found[0].path, "api");
}

#[test]
fn the_check_sees_groups_root_names_and_inline_paths_but_not_comments_or_strings() {
    let found = synthetic(&[
        (
            "model/onnx.rs",
            "use crate::{crypto::sealing, text::messages::Language};",
        ),
        ("audio/vad.rs", "fn f() -> crate::Result<()> { Ok(()) }"),
        (
            "crypto/sealing.rs",
            "//! See [`crate::api::engine`].\nconst S: &str = \"crate::api\";",
        ),
        ("liveness/x.rs", "use crate::nowhere::Thing;"),
        ("face/pose.rs", "use super::super::api::Engine;"),
        ("stray/file.rs", ""),
    ]);
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|v| (v.file.as_str(), v.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("audio/vad.rs", "Result"),
            ("face/pose.rs", "super::super"),
            ("liveness/x.rs", "nowhere"),
            ("model/onnx.rs", "text"),
            ("stray/file.rs", "stray"),
        ]
    );
}
