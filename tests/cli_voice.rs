//! The sealed-set path of issue 11 through the `lifecert` command: for every GRID speaker with
//! at least two clips in the data, enroll the face from one clip and the voice from the
//! speaker's other clips (`enroll --voice`), then certify a clip of the speaker that was not
//! used for the voice with `--voice-templates`, `--challenge <its digit>` and `--prompt-end 0`
//! (certified, exit 0) — and the same video with another speaker's clip whose sentence holds
//! the same digit as `--audio` (refused, exit 1: the voice).
//!
//! Speakers, clips and digits are discovered from the data (manifest identities, transcripts;
//! `core/tests/common/discovery.rs`), so a sealed set of people laid out like `../shared/data`
//! runs through the same code.

mod common;
#[path = "../core/tests/common/discovery.rs"]
#[allow(dead_code)]
mod discovery;

use common::{eval_data, lifecert, media_tools, run, summary, temp_dir};
use discovery::{discover, GridClip};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const NAME: &str = "张三";
const ID: &str = "11010519491231002X";

fn certify(dir: &Path, video: &Path, digit: u8) -> Command {
    let mut c = lifecert();
    c.args([
        "certify", "--name", NAME, "--id", ID, "--lang", "en", "--keys",
    ])
    .arg(dir.join("keys.json"))
    .arg("--template")
    .arg(dir.join("face.sealed"))
    .arg("--voice-templates")
    .arg(dir.join("face.sealed.voice"))
    .arg("--video")
    .arg(video)
    .args(["--challenge", &digit.to_string(), "--prompt-end", "0"]);
    c
}

/// The first digit a clip's sentence holds.
fn digit(c: &GridClip) -> Option<u8> {
    c.digits().first().copied()
}

#[test]
fn each_speaker_passes_with_her_own_voice_and_is_refused_with_another_voice() {
    let test = "each_speaker_passes_with_her_own_voice_and_is_refused_with_another_voice";
    let Some(data) = eval_data(test) else {
        return;
    };
    if !media_tools(test) {
        return;
    }
    let clips: Vec<GridClip> = discover(&data)
        .into_iter()
        .filter(|c| digit(c).is_some())
        .collect();
    let mut by_speaker: BTreeMap<&str, Vec<&GridClip>> = BTreeMap::new();
    for c in &clips {
        by_speaker.entry(&c.speaker).or_default().push(c);
    }
    let speakers: Vec<(&str, &Vec<&GridClip>)> = by_speaker
        .iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(s, v)| (*s, v))
        .collect();
    assert!(
        !speakers.is_empty(),
        "no GRID speaker with two clips holding a digit in {}",
        data.display()
    );
    let mut impostor_tests = 0;
    for (speaker, own) in speakers {
        let tmp = temp_dir();
        let dir = tmp.path();
        // The clip certified: preferably one whose digit another speaker also says (so the dub
        // can be tried); the face from another clip, the voice from every other clip.
        let dubbable = |c: &GridClip| {
            clips
                .iter()
                .any(|o| o.speaker != speaker && digit(o) == digit(c))
        };
        let probe_at = (1..own.len())
            .rev()
            .find(|&i| dubbable(own[i]))
            .unwrap_or(own.len() - 1);
        let probe = own[probe_at];
        let face = own[if probe_at == 0 { 1 } else { 0 }];
        let voice: Vec<&GridClip> = own
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != probe_at)
            .map(|(_, c)| *c)
            .collect();
        let mut enroll = lifecert();
        enroll
            .args(["enroll", "--name", NAME, "--id", ID, "--keys"])
            .arg(dir.join("keys.json"))
            .arg("--out")
            .arg(dir.join("face.sealed"))
            .arg("--video")
            .arg(&face.path);
        for v in &voice {
            enroll.arg("--voice").arg(&v.path);
        }
        let out = run(&mut enroll);
        assert_eq!(out.status.code(), Some(0), "{speaker}: enrollment");
        assert!(
            dir.join("face.sealed.voice").is_file(),
            "{speaker}: the sealed voice profile beside the template"
        );
        let d = digit(probe).unwrap();
        let out = run(&mut certify(dir, &probe.path, d));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{speaker}: her own clip {} against the digit {d}",
            probe.name
        );
        assert_eq!(summary(&out)["outcome"], "certified");
        // Her video, another speaker's voice reading the same digit.
        let Some(other) = clips
            .iter()
            .find(|c| c.speaker != speaker && digit(c) == Some(d))
        else {
            eprintln!("{speaker}: no other speaker's clip says {d}: the dub is not tried");
            continue;
        };
        let out = run(certify(dir, &probe.path, d).arg("--audio").arg(&other.path));
        assert_eq!(
            out.status.code(),
            Some(1),
            "{speaker}: her video with {}'s voice ({}) was not refused",
            other.speaker,
            other.name
        );
        let s = summary(&out);
        assert_eq!(s["outcome"], "not_certified");
        assert_eq!(
            s["reason"], "liveness:voice_not_confirmed",
            "{speaker}: refused, but not for the voice"
        );
        impostor_tests += 1;
    }
    assert!(impostor_tests > 0, "no dub could be built from the data");
}
