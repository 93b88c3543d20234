//! Graph rewrites applied to an ONNX model before tract optimises it: the same function,
//! written with operators tract runs fast.
//!
//! * **PReLU as `Relu(x) + a·Min(x, 0)`.** tract expands `PRelu(x, a)` into
//!   `Iff(0 > x, a·x, x)`: a boolean tensor, then a generic element-by-element select. In
//!   MediaPipe's FaceMesh (23 PReLUs, per-channel slopes from −1.6 to 1.4) the comparison and
//!   the select took 40–60 % of the model's time (profile: `core/examples/profile_models.rs`,
//!   figures in `docs/PERFORMANCE.md`). The four operators of the rewrite are tract's
//!   vectorised "by scalar" and unicast kernels. The result is bit-identical: for x < 0 it is
//!   `0 + a·x`, the same product as before; for x ≥ 0 it is `x + a·0 = x`. The engine then
//!   runs each rewritten PReLU as one operator of its own (`model::ops::prelu`), with the same
//!   bits again.

use tract_onnx::pb::{ModelProto, NodeProto, TensorProto};

/// ONNX `TensorProto.DataType.FLOAT`.
const ONNX_FLOAT: i32 = 1;
/// Name of the scalar 0 the rewrite adds (once) to the graph's initializers.
const ZERO: &str = "lifecert::rewrite::zero";

/// Rewrites every PReLU of the main graph as `Add(Relu(x), Mul(Min(x, 0), a))` (see the
/// module docs). Returns how many were rewritten.
pub fn prelu_as_relu_sum(model: &mut ModelProto) -> usize {
    let Some(graph) = model.graph.as_mut() else {
        return 0;
    };
    let mut rewritten = 0;
    let mut nodes = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        if node.op_type != "PRelu" || node.input.len() != 2 || node.output.len() != 1 {
            nodes.push(node);
            continue;
        }
        let (x, a, y) = (&node.input[0], &node.input[1], &node.output[0]);
        let wire = |suffix: &str| format!("{y}::prelu_{suffix}");
        let op = |suffix: &str, op_type: &str, input: Vec<String>, output: String| NodeProto {
            name: format!("{}::{suffix}", node.name),
            op_type: op_type.into(),
            input,
            output: vec![output],
            ..NodeProto::default()
        };
        nodes.push(op("relu", "Relu", vec![x.clone()], wire("pos")));
        nodes.push(op("min", "Min", vec![x.clone(), ZERO.into()], wire("neg")));
        nodes.push(op(
            "mul",
            "Mul",
            vec![wire("neg"), a.clone()],
            wire("scaled"),
        ));
        nodes.push(op(
            "add",
            "Add",
            vec![wire("pos"), wire("scaled")],
            y.clone(),
        ));
        rewritten += 1;
    }
    graph.node = nodes;
    if rewritten > 0 && !graph.initializer.iter().any(|t| t.name == ZERO) {
        graph.initializer.push(TensorProto {
            name: ZERO.into(),
            data_type: ONNX_FLOAT,
            float_data: vec![0.0],
            ..TensorProto::default()
        });
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::GraphProto;
    use tract_onnx::prelude::*;

    /// A one-node model `y = PRelu(x, a)` with x `[1, 3, 2, 2]` and a per-channel slope.
    fn prelu_model(slope: &[f32; 3]) -> ModelProto {
        use tract_onnx::pb::{
            tensor_shape_proto, type_proto, TensorShapeProto, TypeProto, ValueInfoProto,
        };
        let value = |name: &str| ValueInfoProto {
            name: name.into(),
            r#type: Some(TypeProto {
                value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                    elem_type: ONNX_FLOAT,
                    shape: Some(TensorShapeProto {
                        dim: [1, 3, 2, 2]
                            .iter()
                            .map(|&d| tensor_shape_proto::Dimension {
                                value: Some(tensor_shape_proto::dimension::Value::DimValue(d)),
                                ..Default::default()
                            })
                            .collect(),
                    }),
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        ModelProto {
            ir_version: 8,
            opset_import: vec![tract_onnx::pb::OperatorSetIdProto {
                domain: String::new(),
                version: 13,
            }],
            graph: Some(GraphProto {
                node: vec![NodeProto {
                    name: "p".into(),
                    op_type: "PRelu".into(),
                    input: vec!["x".into(), "a".into()],
                    output: vec!["y".into()],
                    ..NodeProto::default()
                }],
                initializer: vec![TensorProto {
                    name: "a".into(),
                    data_type: ONNX_FLOAT,
                    dims: vec![3, 1, 1],
                    float_data: slope.to_vec(),
                    ..TensorProto::default()
                }],
                input: vec![value("x")],
                output: vec![value("y")],
                ..GraphProto::default()
            }),
            ..ModelProto::default()
        }
    }

    fn run(model: &ModelProto, x: &[f32]) -> Vec<f32> {
        let plan = tract_onnx::onnx()
            .model_for_proto_model(model)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .expect("model runs");
        let input = tract_ndarray::Array4::from_shape_vec((1, 3, 2, 2), x.to_vec()).unwrap();
        let out = plan.run(tvec!(input.into_tensor().into())).expect("runs");
        out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn the_rewrite_gives_the_same_bits_for_every_slope() {
        // Slopes as FaceMesh has them: negative, in [0, 1] and above 1.
        let slope = [-1.6171875, 0.25, 1.3701172];
        let x = [
            -3.5,
            -0.0,
            0.0,
            2.25,
            -1e-30,
            1e30,
            -7.0,
            0.5,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            3.0,
            -0.125,
        ];
        let original = prelu_model(&slope);
        let mut rewritten = original.clone();
        assert_eq!(prelu_as_relu_sum(&mut rewritten), 1);
        let ops: Vec<&str> = rewritten
            .graph
            .as_ref()
            .unwrap()
            .node
            .iter()
            .map(|n| n.op_type.as_str())
            .collect();
        assert_eq!(ops, ["Relu", "Min", "Mul", "Add"]);
        let (a, b) = (run(&original, &x), run(&rewritten, &x));
        for (i, (p, q)) in a.iter().zip(&b).enumerate() {
            assert_eq!(
                p.to_bits() & 0x7fff_ffff,
                q.to_bits() & 0x7fff_ffff,
                "x[{i}] = {}: {p} vs {q}",
                x[i]
            );
        }
        // And the definition: x for x >= 0, a·x below.
        for (i, (&xi, &yi)) in x.iter().zip(&b).enumerate() {
            let expected = if xi >= 0.0 { xi } else { slope[i / 4] * xi };
            assert_eq!(yi, expected, "x[{i}] = {xi}");
        }
    }

    #[test]
    fn a_model_without_prelu_is_unchanged() {
        let mut m = prelu_model(&[0.1, 0.2, 0.3]);
        m.graph.as_mut().unwrap().node[0].op_type = "Relu".into();
        m.graph.as_mut().unwrap().node[0].input.truncate(1);
        let before = m.clone();
        assert_eq!(prelu_as_relu_sum(&mut m), 0);
        assert_eq!(m, before);
    }
}
