//! What Ledge knows about a loaded model.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dtype::DType;
use crate::manifest::Manifest;

/// Name, shape and element type of a model input or output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TensorSpec {
    /// Name in the ONNX graph.
    pub name: String,
    /// Dimensions; −1 marks a dimension only known at run time.
    pub shape: Vec<i64>,
    /// Element type.
    pub dtype: DType,
}

impl TensorSpec {
    /// The shape as sizes (a run-time dimension, −1, reads as 0).
    pub fn dims(&self) -> Vec<usize> {
        self.shape
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(0))
            .collect()
    }
}

/// Where a model's manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ManifestSource {
    /// [`crate::LoadOptions::manifest`].
    Options,
    /// A `.toml` file beside the model.
    Sidecar,
    /// The model's ONNX `metadata_props` (written by `ledge pack`).
    Embedded,
}

/// What Ledge knows about a loaded model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// Inputs, with their pinned shapes.
    pub inputs: Vec<TensorSpec>,
    /// Outputs.
    pub outputs: Vec<TensorSpec>,
    /// Size of the model bytes.
    pub file_size: u64,
    /// sha256 of the model bytes, lower-case hex.
    pub sha256: String,
    /// ONNX operator type → node count.
    pub op_histogram: BTreeMap<String, u64>,
    /// Number of weight elements (initializers).
    pub parameters: u64,
    /// Multiply-accumulates per run, as estimated by the engine's cost model.
    pub macs: u64,
    /// MACs of the convolutions and matrix products that take quantized operands (QDQ or
    /// integer operators).
    pub quantized_macs: u64,
    /// Convolution/matrix-product nodes.
    pub compute_nodes: u64,
    /// How many of `compute_nodes` are quantized.
    pub quantized_compute_nodes: u64,
    /// The manifest, if the model has one (validated at load).
    pub manifest: Option<Manifest>,
    /// Where the manifest came from.
    pub manifest_source: Option<ManifestSource>,
    /// Graph repairs applied at load (see the README, "Quantized Softmax").
    pub repairs: Vec<String>,
}

impl ModelInfo {
    /// Share of the MACs on quantized operands, in [0, 1].
    pub fn quantized_mac_fraction(&self) -> f64 {
        if self.macs == 0 {
            0.0
        } else {
            self.quantized_macs as f64 / self.macs as f64
        }
    }
}
