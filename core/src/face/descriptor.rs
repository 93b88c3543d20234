//! The face descriptor: dlib's ResNet (as ported by face-api.js, rebuilt as ONNX by
//! `models/build_models.py`) turns an aligned 150×150 chip into 128 numbers; two chips of
//! the same person lie close together in euclidean distance.
//!
//! Input contract (see `models/MODELS.md`): `input` `[N,3,150,150]` NCHW f32 RGB in
//! `0..=255` (mean subtraction and scaling happen inside the graph). Output `descriptor`
//! `[N,128]`, not normalised.

use crate::face::alignment::{FaceChip, CHIP_SIZE};
use crate::model::error::ModelError;
use crate::model::onnx::OnnxModel;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::Tensor;
use zeroize::Zeroize;

/// Length of a descriptor.
pub const DESCRIPTOR_LEN: usize = 128;

/// A 128-d face descriptor (biometric data: zeroized on drop, never logged).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor(pub Vec<f32>);

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Descriptor(<{} values>)", self.0.len())
    }
}

impl Drop for Descriptor {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Descriptor {
    /// Euclidean distance to `other` (dlib's comparison; ≈ 0.6 separates people).
    pub fn distance(&self, other: &Descriptor) -> f32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }
}

/// The descriptor model.
#[derive(Debug, Clone)]
pub struct DescriptorModel {
    model: OnnxModel,
}

impl DescriptorModel {
    /// Loads the model from ONNX bytes (batch of one).
    pub fn new(onnx: &[u8]) -> Result<Self, ModelError> {
        let side = CHIP_SIZE as usize;
        Ok(Self {
            model: OnnxModel::load("dlib_face_descriptor.onnx", onnx, &[1, 3, side, side])?,
        })
    }

    /// Describes one aligned chip.
    pub fn describe(&self, chip: &FaceChip) -> Result<Descriptor, ModelError> {
        let _span = tracing::trace_span!("describe_face").entered();
        let side = CHIP_SIZE as usize;
        let plane = side * side;
        let mut input = vec![0.0f32; 3 * plane];
        for (i, p) in chip.image.pixels().enumerate() {
            input[i] = p[0] as f32;
            input[plane + i] = p[1] as f32;
            input[2 * plane + i] = p[2] as f32;
        }
        let tensor =
            Tensor::from_shape(&[1, 3, side, side], &input).map_err(|e| ModelError::Inference {
                model: self.model.name(),
                reason: format!("{e:#}"),
            })?;
        let outputs = self.model.run(tensor)?;
        let values = self.model.output_f32(&outputs, 0)?;
        if values.len() != DESCRIPTOR_LEN || values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::Inference {
                model: self.model.name(),
                reason: format!("unexpected descriptor of {} values", values.len()),
            });
        }
        Ok(Descriptor(values))
    }
}
