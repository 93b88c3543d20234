//! Operators the engine runs itself inside tract's plan, where tract 0.23.9's own kernel for
//! the shape the face models use is the slow part (profile: `core/examples/profile_models.rs`,
//! figures in `docs/PERFORMANCE.md`). Each is a tract `TypedOp` swapped in for tract's own on
//! the decluttered model, before tract optimises the rest; a node that does not have the exact
//! shape an op handles stays tract's.
//!
//! * [`prelu`]: PReLU (after `model::rewrite`) in one pass instead of four;
//! * [`maxpool`]: 2×2 / stride 2 max pooling.
//!
//! Written in safe Rust as straight loops the compiler vectorises for the target's baseline
//! (SSE2 on x86-64, NEON on arm64): no `unsafe`, no run-time CPU dispatch, the same bits on
//! every build.

pub mod maxpool;
pub mod prelu;

use tract_onnx::prelude::*;

/// How many nodes of a model [`run_ours`] replaced, per operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replaced {
    /// PReLUs.
    pub prelu: usize,
    /// 2×2 max pools.
    pub maxpool: usize,
}

/// Replaces, in evaluation order, every node for which `matching` gives the inputs and the
/// operator to run instead (the node's outputs then come from that operator). Returns how many.
fn replace_each<O: TypedOp>(
    model: &mut TypedModel,
    matching: impl Fn(&TypedModel, &TypedNode) -> TractResult<Option<(TVec<OutletId>, O)>>,
) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some((inputs, op)) = matching(model, node)? else {
            continue;
        };
        TypedModelPatch::replace_single_op(model, node, &inputs, op)?.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

/// Swaps in the engine's operators on a decluttered `model` (see the module docs).
pub fn run_ours(model: &mut TypedModel) -> TractResult<Replaced> {
    Ok(Replaced {
        prelu: prelu::replace_prelu(model)?,
        maxpool: maxpool::replace_maxpool(model)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::cnn::{MaxPool, PaddingSpec, PoolSpec};
    use tract_onnx::tract_core::ops::math;
    use tract_onnx::tract_core::ops::nn::DataFormat;

    /// Deterministic values in [-2, 2), with exact zeros and negative zeros among them.
    fn values(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| match i % 11 {
                3 => 0.0,
                7 => -0.0,
                _ => ((i as u64).wrapping_mul(2_654_435_761) % 4000) as f32 / 1000.0 - 2.0,
            })
            .collect()
    }

    /// Runs `model` optimised by tract, with or without the engine's operators first.
    fn run(model: &TypedModel, ours: bool, shape: &[usize]) -> (Vec<f32>, Replaced) {
        let mut model = model.clone();
        let replaced = if ours {
            run_ours(&mut model).unwrap()
        } else {
            Replaced::default()
        };
        let plan = model.into_optimized().unwrap().into_runnable().unwrap();
        let input =
            tract_ndarray::ArrayD::from_shape_vec(shape.to_vec(), values(shape.iter().product()))
                .unwrap();
        let out = plan.run(tvec!(input.into_tensor().into())).unwrap();
        let out = out[0].to_plain_array_view::<f32>().unwrap();
        (out.iter().copied().collect(), replaced)
    }

    /// `Add(Max(x, 0), Mul(Min(x, 0), a))`, the rewrite's PReLU, on `[1, 3, h, w]`.
    fn prelu_pattern(shape: &[usize], slopes: &[f32; 3]) -> TypedModel {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact(shape)).unwrap();
        let zero = m.add_const("zero", tensor4(&[[[[0f32]]]])).unwrap();
        let a = m
            .add_const(
                "a",
                tensor4(&[[[[slopes[0]]], [[slopes[1]]], [[slopes[2]]]]]),
            )
            .unwrap();
        let pos = m.wire_node("relu", math::max(), &[x, zero]).unwrap()[0];
        let neg = m.wire_node("min", math::min(), &[x, zero]).unwrap()[0];
        let scaled = m.wire_node("mul", math::mul(), &[neg, a]).unwrap()[0];
        let y = m.wire_node("add", math::add(), &[pos, scaled]).unwrap()[0];
        m.select_output_outlets(&[y]).unwrap();
        m.into_decluttered().unwrap()
    }

    #[test]
    fn prelu_runs_as_one_operator_with_the_same_bits() {
        let shape = [1, 3, 5, 7];
        let slopes = [-1.6171875, 0.25, 1.3701172];
        let model = prelu_pattern(&shape, &slopes);
        let (tract, _) = run(&model, false, &shape);
        let (ours, replaced) = run(&model, true, &shape);
        assert_eq!(
            replaced,
            Replaced {
                prelu: 1,
                maxpool: 0
            }
        );
        let x = values(tract.len());
        for (i, ((&t, &o), &x)) in tract.iter().zip(&ours).zip(&x).enumerate() {
            // Same bits as tract's four operators (a zero may differ in sign only) …
            if t == 0.0 {
                assert_eq!(o, 0.0, "x[{i}] = {x}");
            } else {
                assert_eq!(t.to_bits(), o.to_bits(), "x[{i}] = {x}: {t} vs {o}");
            }
            // … and the definition.
            let a = slopes[i / (5 * 7)];
            assert_eq!(o, if x < 0.0 { a * x } else { x }, "x[{i}] = {x}");
        }
    }

    #[test]
    fn a_pattern_whose_parts_are_used_elsewhere_stays_tracts() {
        let shape = [1, 3, 2, 2];
        let mut model = prelu_pattern(&shape, &[0.5, 0.25, 2.0]);
        // Also output Min(x, 0): replacing the Add would still need it, so nothing changes.
        let min = model.node_by_name("min").unwrap().id;
        let mut outputs = model.output_outlets().unwrap().to_vec();
        outputs.push(OutletId::new(min, 0));
        model.select_output_outlets(&outputs).unwrap();
        assert_eq!(run_ours(&mut model).unwrap(), Replaced::default());
    }

    fn maxpool(shape: &[usize], kernel: usize, stride: usize, padding: PaddingSpec) -> TypedModel {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact(shape)).unwrap();
        let op = MaxPool {
            pool_spec: PoolSpec {
                data_format: DataFormat::NCHW,
                kernel_shape: tvec![kernel, kernel],
                padding,
                dilations: None,
                strides: Some(tvec![stride, stride]),
                input_channels: shape[1],
                output_channels: shape[1],
            },
            with_index_outputs: None,
        };
        let y = m.wire_node("pool", op, &[x]).unwrap()[0];
        m.select_output_outlets(&[y]).unwrap();
        m
    }

    #[test]
    fn maxpool_2x2_gives_tracts_values_on_even_and_odd_sizes() {
        // (SameUpper pads nothing on even sizes: the same pooling.)
        for (shape, padding) in [
            ([1, 3, 8, 6], PaddingSpec::Valid),
            ([2, 2, 7, 9], PaddingSpec::Valid),
            ([1, 1, 2, 2], PaddingSpec::Valid),
            ([1, 2, 6, 4], PaddingSpec::SameUpper),
        ] {
            let model = maxpool(&shape, 2, 2, padding);
            let (tract, _) = run(&model, false, &shape);
            let (ours, replaced) = run(&model, true, &shape);
            assert_eq!(replaced.maxpool, 1, "{shape:?}");
            assert_eq!(tract.len(), ours.len(), "{shape:?}");
            for (t, o) in tract.iter().zip(&ours) {
                assert_eq!(
                    t.to_bits() & 0x7fff_ffff,
                    o.to_bits() & 0x7fff_ffff,
                    "{shape:?}"
                );
            }
        }
    }

    #[test]
    fn other_poolings_stay_tracts() {
        let shape = [1, 2, 8, 8];
        for model in [
            maxpool(&shape, 3, 2, PaddingSpec::Valid),
            maxpool(&shape, 2, 1, PaddingSpec::Valid),
            maxpool(&[1, 2, 7, 7], 2, 2, PaddingSpec::SameUpper),
        ] {
            let mut m = model.clone();
            assert_eq!(run_ours(&mut m).unwrap().maxpool, 0);
        }
    }
}
