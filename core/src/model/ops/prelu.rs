//! PReLU as one pass over the tensor: `x` where `x ≥ 0`, `a·x` below, with one slope per channel.
//!
//! The engine's ONNX rewrite (`model::rewrite`) already turns each PReLU into
//! `Add(Max(x, 0), Mul(Min(x, 0), a))`, which tract fuses into its `OptBinChain`: 15–18 % of
//! FaceMesh after the rewrite, four element-wise passes over every activation. [`replace_prelu`]
//! finds that pattern in a decluttered tract model and runs it as [`Prelu`]: one read and one
//! write per value. Same bits as the four operators (for `x < 0` both compute `a·x`; for
//! `x ≥ 0` both give `x`, up to the sign of a zero), checked by the unit tests and, on a real
//! face, by `core/tests/models.rs`.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

/// PReLU on an f32 `[n, c, …]` tensor with a slope per channel (axis 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Prelu {
    /// `[c]`.
    slopes: Arc<Tensor>,
}

impl Prelu {
    fn eval_f32(&self, x: &mut [f32], batch: usize) -> TractResult<()> {
        let slopes = self.slopes.try_as_plain_ram()?;
        let slopes = slopes.as_slice::<f32>()?;
        let planes = batch * slopes.len();
        if x.is_empty() {
            return Ok(());
        }
        ensure!(
            planes > 0 && x.len().is_multiple_of(planes),
            "PReLU input of {} values for {planes} channel planes",
            x.len()
        );
        let plane = x.len() / planes;
        for (i, values) in x.chunks_exact_mut(plane).enumerate() {
            let a = slopes[i % slopes.len()];
            for v in values {
                // `a·x` is computed for every value so the loop has no branch.
                let scaled = a * *v;
                *v = if *v < 0.0 { scaled } else { *v };
            }
        }
        Ok(())
    }
}

impl Op for Prelu {
    fn name(&self) -> StaticName {
        "LifecertPrelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Prelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        ensure!(input.rank() >= 2, "PReLU input of rank {}", input.rank());
        let batch = input.shape()[0];
        let mut output = input.into_tensor();
        let mut view = output.try_as_plain_ram_mut()?;
        self.eval_f32(view.as_slice_mut::<f32>()?, batch)?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for Prelu {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let fact = inputs[0];
        ensure!(
            fact.datum_type == f32::datum_type()
                && fact.rank() >= 2
                && fact.shape[1] == self.slopes.len().to_dim(),
            "PReLU with {} slopes on {fact:?}",
            self.slopes.len()
        );
        Ok(tvec!(fact.without_value()))
    }
}

/// The node producing `outlet` (its first output) if its op is named `name`.
fn producer<'m>(model: &'m TypedModel, outlet: OutletId, name: &str) -> Option<&'m TypedNode> {
    let node = model.node(outlet.node);
    (node.op().name() == name && outlet.slot == 0).then_some(node)
}

/// The constant on `outlet`, as plain f32 values.
fn constant(model: &TypedModel, outlet: OutletId) -> Option<Vec<f32>> {
    let konst = model.outlet_fact(outlet).ok()?.konst.clone()?;
    let plain = konst.try_as_plain_ram().ok()?;
    Some(plain.as_slice::<f32>().ok()?.to_vec())
}

/// `(x, slopes)` if `add` is `Add(Max(x, 0), Mul(Min(x, 0), a))` (either operand order) on an
/// f32 `[n, c, …]` tensor, with `a` one slope per channel or one for all, and the inner nodes
/// used only there.
fn prelu_pattern(model: &TypedModel, add: &TypedNode) -> Option<(OutletId, Vec<f32>)> {
    if add.op().name() != "Add" || add.inputs.len() != 2 {
        return None;
    }
    let outputs = model.output_outlets().ok()?;
    let only_here = |n: &TypedNode| {
        let outlet = OutletId::new(n.id, 0);
        model.outlet_successors(outlet).len() == 1 && !outputs.contains(&outlet)
    };
    let zero = |o: OutletId| constant(model, o).is_some_and(|v| v.len() == 1 && v[0] == 0.0);
    let operands = |n: &TypedNode| -> Option<(OutletId, OutletId)> {
        (n.inputs.len() == 2).then(|| (n.inputs[0], n.inputs[1]))
    };
    // The operand of `n` other than a scalar zero (either order).
    let against_zero = |n: &TypedNode| -> Option<OutletId> {
        let (p, q) = operands(n)?;
        if zero(q) {
            Some(p)
        } else {
            zero(p).then_some(q)
        }
    };
    for (pos, neg) in [(0, 1), (1, 0)] {
        let Some(max) = producer(model, add.inputs[pos], "Max") else {
            continue;
        };
        let Some(mul) = producer(model, add.inputs[neg], "Mul") else {
            continue;
        };
        let x = against_zero(max)?;
        let (p, q) = operands(mul)?;
        let (min, a) = match producer(model, p, "Min") {
            Some(min) => (min, q),
            None => (producer(model, q, "Min")?, p),
        };
        let x2 = against_zero(min)?;
        let fact = model.outlet_fact(x).ok()?;
        let shape = fact.shape.as_concrete()?;
        let slopes = constant(model, a)?;
        let channels = *shape.get(1)?;
        // One slope per channel: a slope tensor whose only dimension above 1 lines up with
        // x's axis 1 (shapes align on the right, as broadcasting does).
        let slope_shape = model.outlet_fact(a).ok()?.shape.as_concrete()?.to_vec();
        let lead = shape.len().checked_sub(slope_shape.len())?;
        let per_channel = slopes.len() == channels
            && slope_shape
                .iter()
                .enumerate()
                .all(|(i, &d)| d == 1 || i + lead == 1);
        if x != x2
            || fact.datum_type != f32::datum_type()
            || shape.len() < 2
            || !(per_channel || slopes.len() == 1)
            || !only_here(max)
            || !only_here(min)
            || !only_here(mul)
        {
            return None;
        }
        let slopes = if slopes.len() == 1 {
            vec![slopes[0]; channels]
        } else {
            slopes
        };
        return Some((x, slopes));
    }
    None
}

/// Replaces every PReLU pattern of `model` (see the module docs) with [`Prelu`]. Call it on a
/// decluttered model, before `into_optimized`. Returns how many it replaced.
pub fn replace_prelu(model: &mut TypedModel) -> TractResult<usize> {
    super::replace_each(model, |model, node| {
        Ok(prelu_pattern(model, node).map(|(x, slopes)| {
            let slopes = tensor1(&slopes).into_arc_tensor();
            (tvec![x], Prelu { slopes })
        }))
    })
}
