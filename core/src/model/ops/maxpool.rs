//! 2×2 max pooling with stride 2 on f32 NCHW planes, as the residual shortcuts of BlazeFace and
//! FaceMesh use it: each output row is the element-wise maximum of two input rows, then of each
//! pair of neighbours.
//!
//! tract 0.23.9 runs a strided max pool through its generic window walk (`OptMaxPool`, 10–12 %
//! of both face models in the profile for 3–5 nodes). [`replace_maxpool`] swaps each f32 NCHW
//! 2×2 / stride 2 `MaxPool` without padding for [`MaxPool2x2`]. A maximum is exact, so the
//! output is the same as tract's (unit tests; `core/tests/models.rs` on a real face).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::MaxPool;
use tract_onnx::tract_core::ops::nn::DataFormat;

/// 2×2 max pooling, stride 2, no padding, on an f32 `[n, c, h, w]` tensor (odd last rows and
/// columns are dropped, as a valid pooling does).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MaxPool2x2;

/// The larger of two values (the first on equality or NaN, as a comparison-based pool keeps it).
#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// One plane: `input` is `[h, w]`, `out` is `[h / 2, w / 2]`; `row` is scratch of `w` values.
fn pool_plane(input: &[f32], w: usize, out: &mut [f32], row: &mut [f32]) {
    let ow = w / 2;
    for (pair, out_row) in input.chunks_exact(2 * w).zip(out.chunks_exact_mut(ow)) {
        let (top, bottom) = pair.split_at(w);
        for ((r, &t), &b) in row.iter_mut().zip(top).zip(bottom) {
            *r = larger(t, b);
        }
        for (o, p) in out_row.iter_mut().zip(row.chunks_exact(2)) {
            *o = larger(p[0], p[1]);
        }
    }
}

impl Op for MaxPool2x2 {
    fn name(&self) -> StaticName {
        "LifecertMaxPool2x2".into()
    }

    op_as_typed_op!();
}

impl EvalOp for MaxPool2x2 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape().to_vec();
        ensure!(shape.len() == 4, "2×2 max pool input {shape:?}");
        let (h, w) = (shape[2], shape[3]);
        let (oh, ow) = (h / 2, w / 2);
        let plain = input.try_as_plain_ram()?;
        let input = plain.as_slice::<f32>()?;
        let mut output = Tensor::zero::<f32>(&[shape[0], shape[1], oh, ow])?;
        let mut view = output.try_as_plain_ram_mut()?;
        let out = view.as_slice_mut::<f32>()?;
        let mut row = vec![0.0f32; w];
        if oh > 0 && ow > 0 {
            for (inp, o) in input.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)) {
                pool_plane(&inp[..2 * oh * w], w, o, &mut row);
            }
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for MaxPool2x2 {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        ensure!(
            s.len() == 4 && inputs[0].datum_type == f32::datum_type(),
            "2×2 max pool on {:?}",
            inputs[0]
        );
        Ok(tvec!(f32::fact([
            s[0].clone(),
            s[1].clone(),
            s[2].clone() / 2,
            s[3].clone() / 2
        ])))
    }
}

/// Whether `node` is a pooling [`MaxPool2x2`] computes exactly.
fn is_plain_2x2(model: &TypedModel, node: &TypedNode) -> TractResult<bool> {
    let Some(pool) = node.op_as::<MaxPool>() else {
        return Ok(false);
    };
    let spec = &pool.pool_spec;
    let input = model.outlet_fact(node.inputs[0])?;
    let Some(shape) = input.shape.as_concrete() else {
        return Ok(false);
    };
    if shape.len() != 4 || spec.kernel_shape.len() != 2 {
        return Ok(false);
    }
    let valid = spec
        .computed_padding(&shape[2..])
        .iter()
        .zip(&shape[2..])
        .all(|(d, &size)| d.pad_before == 0 && d.pad_after == 0 && d.convoluted == size / 2);
    Ok(pool.with_index_outputs.is_none()
        && spec.data_format == DataFormat::NCHW
        && spec.kernel_shape.as_slice() == [2, 2]
        && spec.strides().as_ref() == [2, 2]
        && spec.dilations().iter().all(|&d| d == 1)
        && valid
        && input.datum_type == f32::datum_type())
}

/// Replaces every f32 NCHW 2×2 / stride 2 unpadded `MaxPool` of `model` with [`MaxPool2x2`].
/// Call it on a decluttered model, before `into_optimized`. Returns how many it replaced.
pub fn replace_maxpool(model: &mut TypedModel) -> TractResult<usize> {
    super::replace_each(model, |model, node| {
        Ok(is_plain_2x2(model, node)?.then(|| (tvec![node.inputs[0]], MaxPool2x2)))
    })
}
