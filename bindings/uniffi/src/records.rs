//! The two records of the Swift/Python face that are not the core's own types.
//!
//! Every option and result type (`LoadOptions`, `Limits`, `ClassifyOptions`, `Manifest` and its
//! parts, `Prediction`, `Stats`, `TensorSpec`, `DType`, `ManifestSource`) is the core's, exported
//! through its optional `uniffi` derives: a field added in the core reaches Swift and Python with
//! no code here. What remains: [`Tensor`], whose elements cross as little-endian bytes (one copy
//! for NumPy arrays and Swift `Data` instead of element by element), and [`ModelInfo`], which
//! adds the computed `quantized_mac_fraction` and holds the operator histogram as a map uniffi
//! knows (the core keeps it sorted).

use std::collections::HashMap;

use ledge::{DType, Manifest, ManifestSource, TensorSpec};

fn u64_from(n: usize) -> u64 {
    n as u64
}

fn usize_from(n: u64) -> ledge::Result<usize> {
    usize::try_from(n)
        .map_err(|_| ledge::Error::InvalidArgument(format!("{n} does not fit this platform")))
}

fn dims_from(d: &[u64]) -> ledge::Result<Vec<usize>> {
    d.iter().copied().map(usize_from).collect()
}

/// A dense tensor (core [`ledge::Tensor`]): `shape`, element type and the elements in
/// row-major order as little-endian bytes (`data.len()` = elements × element size).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Tensor {
    /// Dimensions.
    pub shape: Vec<u64>,
    /// Element type.
    pub dtype: DType,
    /// Elements, row-major, little-endian.
    pub data: Vec<u8>,
}

fn le_elements<T, const N: usize>(
    data: &[u8],
    dtype: DType,
    from: fn([u8; N]) -> T,
) -> ledge::Result<Vec<T>> {
    if !data.len().is_multiple_of(N) {
        return Err(ledge::Error::InvalidArgument(format!(
            "tensor data of {} bytes is not a whole number of {dtype:?} elements ({N} bytes each)",
            data.len()
        )));
    }
    Ok(data
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            from(a)
        })
        .collect())
}

impl TryFrom<Tensor> for ledge::Tensor {
    type Error = ledge::Error;

    fn try_from(t: Tensor) -> ledge::Result<ledge::Tensor> {
        use ledge::TensorData as D;
        let data = match t.dtype {
            DType::F32 => D::F32(le_elements(&t.data, t.dtype, f32::from_le_bytes)?),
            DType::I8 => D::I8(le_elements(&t.data, t.dtype, i8::from_le_bytes)?),
            DType::U8 => D::U8(t.data),
            DType::I32 => D::I32(le_elements(&t.data, t.dtype, i32::from_le_bytes)?),
            DType::I64 => D::I64(le_elements(&t.data, t.dtype, i64::from_le_bytes)?),
        };
        ledge::Tensor::new(dims_from(&t.shape)?, data)
    }
}

impl From<&ledge::Tensor> for Tensor {
    fn from(t: &ledge::Tensor) -> Self {
        use ledge::TensorData as D;
        let data = match t.data() {
            D::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            D::I8(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            D::U8(v) => v.clone(),
            D::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            D::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        };
        Tensor {
            shape: t.shape().iter().copied().map(u64_from).collect(),
            dtype: t.dtype(),
            data,
        }
    }
}

/// What Ledge knows about a loaded model (core [`ledge::ModelInfo`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
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
    pub op_histogram: HashMap<String, u64>,
    /// Number of weight elements.
    pub parameters: u64,
    /// Multiply-accumulates per run (engine estimate).
    pub macs: u64,
    /// MACs on quantized operands.
    pub quantized_macs: u64,
    /// Share of the MACs on quantized operands, in [0, 1].
    pub quantized_mac_fraction: f64,
    /// Convolution/matrix-product nodes.
    pub compute_nodes: u64,
    /// How many of `compute_nodes` are quantized.
    pub quantized_compute_nodes: u64,
    /// The manifest, if the model has one.
    pub manifest: Option<Manifest>,
    /// Where the manifest came from.
    pub manifest_source: Option<ManifestSource>,
    /// Graph repairs applied at load.
    pub repairs: Vec<String>,
}

impl From<&ledge::ModelInfo> for ModelInfo {
    fn from(i: &ledge::ModelInfo) -> Self {
        ModelInfo {
            inputs: i.inputs.clone(),
            outputs: i.outputs.clone(),
            file_size: i.file_size,
            sha256: i.sha256.clone(),
            op_histogram: i
                .op_histogram
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            parameters: i.parameters,
            macs: i.macs,
            quantized_macs: i.quantized_macs,
            quantized_mac_fraction: i.quantized_mac_fraction(),
            compute_nodes: i.compute_nodes,
            quantized_compute_nodes: i.quantized_compute_nodes,
            manifest: i.manifest.clone(),
            manifest_source: i.manifest_source,
            repairs: i.repairs.clone(),
        }
    }
}
