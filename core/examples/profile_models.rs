//! Where tract spends its time in each face model: a per-node profile of the optimised plan.
//!
//! Loads each model exactly as the engine does (`lifecert_core::model::engine_plan`: input 0
//! fixed to the production shape, the graph rewrites, the engine's own operators, tract's
//! optimiser), runs it on a fixed pseudo-random input
//! (`--runs` times after a warm-up; `--raw` skips the engine's graph rewrites and its own
//! operators, `model::ops`), times every node through tract's own evaluation hook
//! (`SimpleState::run_plan_with_eval`) and prints, per model, the median whole-run time and the
//! share of each operator kind, largest first. Used for issue 14's "each model as fast as
//! tract can make it"; the figures go to `docs/PERFORMANCE.md`. Run it in release:
//!
//! ```text
//! cargo run --release -p lifecert-core --example profile_models -- [--runs 50] [--models DIR] [--raw]
//! ```
//!
//! Writes `target/bench/tract-profile.json` as well (per model: op kind → median ms, node count).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tract_onnx::prelude::*;

/// (file, input shape) exactly as the engine loads them.
const MODELS: &[(&str, &[usize])] = &[
    ("face_detection_short_range.onnx", &[1, 128, 128, 3]),
    ("face_landmark.onnx", &[1, 192, 192, 3]),
    ("dlib_face_descriptor.onnx", &[1, 3, 150, 150]),
];

fn main() -> TractResult<()> {
    let mut runs = 50usize;
    let mut raw = false;
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--raw" => raw = true,
            "--models" => dir = args.next().map(PathBuf::from).unwrap_or(dir),
            other => return Err(TractError::msg(format!("unknown argument {other}"))),
        }
    }
    let mut report = serde_json::Map::new();
    for (file, shape) in MODELS {
        let plan = if raw {
            tract_onnx::onnx()
                .model_for_path(dir.join(file))?
                .with_input_fact(0, f32::fact(*shape).into())?
                .into_optimized()?
                .into_runnable()?
        } else {
            // Exactly what the engine runs: the rewrites, its own operators (`model::ops`).
            let bytes = std::fs::read(dir.join(file))?;
            lifecert_core::model::engine_plan(file, &bytes, &[shape])
                .map_err(|e| TractError::msg(e.to_string()))?
        };
        let n: usize = shape.iter().product();
        // A deterministic input in [0, 1) (the models' own normalisation happens inside or in
        // the preprocessing, which is not profiled here).
        let data: Vec<f32> = (0..n)
            .map(|i| ((i as u64).wrapping_mul(2_654_435_761) % 1000) as f32 / 1000.0)
            .collect();
        let input: TValue = tract_ndarray::ArrayD::from_shape_vec(shape.to_vec(), data)?
            .into_tensor()
            .into();
        let model = plan.model();
        let mut state = TypedSimpleState::new(&plan)?;
        // Warm-up (allocations, caches).
        for _ in 0..3 {
            state.run(tvec!(input.clone()))?;
        }
        let mut per_kind: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for node in model.nodes() {
            *counts.entry(kind(node.op().name().as_ref())).or_default() += 1;
        }
        let mut totals = Vec::with_capacity(runs);
        for _ in 0..runs {
            let mut this_run: BTreeMap<String, Duration> = BTreeMap::new();
            let start = Instant::now();
            state.run_plan_with_eval(tvec!(input.clone()), |ctx, op_state, node, inputs| {
                let t = Instant::now();
                let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                *this_run.entry(kind(node.op().name().as_ref())).or_default() += t.elapsed();
                out
            })?;
            totals.push(start.elapsed());
            for (k, d) in this_run {
                per_kind.entry(k).or_default().push(d);
            }
        }
        let total = median(&mut totals);
        let mut rows: Vec<(String, Duration)> = per_kind
            .into_iter()
            .map(|(k, mut v)| (k, median(&mut v)))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
        println!(
            "{file} {shape:?}: median {:.3} ms over {runs} runs, {} nodes",
            ms(total),
            model.nodes().len()
        );
        let mut json = serde_json::Map::new();
        json.insert("median_ms".into(), ms(total).into());
        for (k, d) in &rows {
            let share = 100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-12);
            println!(
                "  {k:<28} {:>8.3} ms {share:>5.1} %  ({} nodes)",
                ms(*d),
                counts.get(k).copied().unwrap_or(0)
            );
            json.insert(
                k.clone(),
                serde_json::json!({"median_ms": ms(*d), "nodes": counts.get(k).copied().unwrap_or(0)}),
            );
        }
        let nodes: Duration = rows.iter().map(|(_, d)| *d).sum();
        let rest = total.saturating_sub(nodes);
        println!(
            "  {:<28} {:>8.3} ms {:>5.1} %  (between nodes: inputs, outputs, the timing itself)",
            "(outside the nodes)",
            ms(rest),
            100.0 * rest.as_secs_f64() / total.as_secs_f64().max(1e-12)
        );
        report.insert((*file).into(), json.into());
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("tract-profile.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    Ok(())
}

/// An operator's kind: its name without tract's parameters.
fn kind(name: &str) -> String {
    name.split(['(', '<', ' '])
        .next()
        .unwrap_or(name)
        .to_owned()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
