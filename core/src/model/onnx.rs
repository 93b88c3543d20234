//! Loading an ONNX file into tract once, and running it many times.

use crate::model::error::ModelError;
use crate::model::ops::run_ours;
use crate::model::rewrite::prelu_as_relu_sum;
use std::sync::Arc;
use tract_onnx::prelude::*;

/// One optimised, runnable ONNX model with a fixed input shape.
///
/// Loading (parse + optimise) happens once; [`OnnxModel::run`] only builds the input and
/// reads the outputs. The plan is immutable and shared, so one model serves many threads.
#[derive(Debug, Clone)]
pub(crate) struct OnnxModel {
    name: &'static str,
    plan: Arc<TypedRunnableModel>,
}

/// The error of a failed load of model `name`.
fn load_failed(name: &'static str) -> impl Fn(TractError) -> ModelError + Copy {
    move |e| ModelError::Load {
        model: name,
        reason: format!("{e:#}"),
    }
}

/// Parses `bytes` as ONNX with the graph rewrites of [`crate::model::rewrite`] applied.
fn parse(name: &'static str, bytes: &[u8]) -> Result<InferenceModel, ModelError> {
    let fail = load_failed(name);
    let onnx = tract_onnx::onnx();
    let mut reader = bytes;
    let mut proto = onnx.proto_model_for_read(&mut reader).map_err(fail)?;
    let prelu = prelu_as_relu_sum(&mut proto);
    if prelu > 0 {
        tracing::debug!(
            model = name,
            prelu,
            "PReLU rewritten as Relu(x) + a·Min(x, 0)"
        );
    }
    onnx.model_for_proto_model(&proto).map_err(fail)
}

/// The plan the engine runs for model `name`: `bytes` parsed as ONNX with the graph rewrites of
/// [`crate::model::rewrite`], input `i` fixed to `input_shapes[i]` (f32; inputs beyond keep the
/// facts the file declares), decluttered, the engine's own operators swapped in
/// ([`crate::model::ops`]), optimised by tract and made runnable.
///
/// Public so that benchmarks and profiles time exactly what the engine runs.
///
/// Duplicate node names are made unique first (`name.<id>`): tract's graph check rejects
/// them, and `silero_vad_16k.onnx` (exported by spox) names 15 `Constant` nodes
/// `F0::anon`. Names only label nodes; the computation is unchanged.
pub fn engine_plan(
    name: &'static str,
    bytes: &[u8],
    input_shapes: &[&[usize]],
) -> Result<Arc<TypedRunnableModel>, ModelError> {
    let fail = load_failed(name);
    let mut model = parse(name, bytes)?;
    let mut names = std::collections::HashSet::new();
    for id in 0..model.nodes.len() {
        if !names.insert(model.nodes[id].name.clone()) {
            let unique = format!("{}.{id}", model.nodes[id].name);
            names.insert(unique.clone());
            model.nodes[id].name = unique;
        }
    }
    for (i, shape) in input_shapes.iter().enumerate() {
        model = model
            .with_input_fact(i, f32::fact(*shape).into())
            .map_err(fail)?;
    }
    let mut model = model
        .into_typed()
        .map_err(fail)?
        .into_decluttered()
        .map_err(fail)?;
    let ours = run_ours(&mut model).map_err(fail)?;
    tracing::debug!(model = name, ?ours, "operators the engine runs itself");
    model
        .into_optimized()
        .map_err(fail)?
        .into_runnable()
        .map_err(fail)
}

impl OnnxModel {
    /// Parses `bytes` as ONNX, fixes input 0 to `input_shape` (f32) and optimises the graph
    /// ([`engine_plan`]).
    pub(crate) fn load(
        name: &'static str,
        bytes: &[u8],
        input_shape: &[usize],
    ) -> Result<Self, ModelError> {
        Self::load_with_inputs(name, bytes, &[input_shape])
    }

    /// Like [`OnnxModel::load`] for a model with several inputs: input `i` is fixed to
    /// `input_shapes[i]` (f32). Inputs beyond `input_shapes` keep the facts the file declares.
    pub(crate) fn load_with_inputs(
        name: &'static str,
        bytes: &[u8],
        input_shapes: &[&[usize]],
    ) -> Result<Self, ModelError> {
        Ok(Self {
            name,
            plan: engine_plan(name, bytes, input_shapes)?,
        })
    }

    /// The model's file name, for errors and logs.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the model on one f32 input tensor and returns every output.
    pub(crate) fn run(&self, input: Tensor) -> Result<TVec<TValue>, ModelError> {
        self.plan
            .run(tvec!(input.into()))
            .map_err(|e| self.inference_error(e))
    }

    /// Runs the model on several input tensors (in the model's input order) and returns
    /// every output.
    pub(crate) fn run_many(&self, inputs: TVec<TValue>) -> Result<TVec<TValue>, ModelError> {
        self.plan.run(inputs).map_err(|e| self.inference_error(e))
    }

    /// Reads output `index` as a flat f32 slice copy.
    pub(crate) fn output_f32(
        &self,
        outputs: &[TValue],
        index: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let value = outputs.get(index).ok_or_else(|| ModelError::Inference {
            model: self.name,
            reason: format!("missing output {index}"),
        })?;
        let view = value
            .to_plain_array_view::<f32>()
            .map_err(|e| self.inference_error(e))?;
        Ok(view.iter().copied().collect())
    }

    fn inference_error(&self, e: TractError) -> ModelError {
        ModelError::Inference {
            model: self.name,
            reason: format!("{e:#}"),
        }
    }
}
