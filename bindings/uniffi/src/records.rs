//! Plain records and enums mirroring the core's public types, with their conversions.
//!
//! Counts and sizes are `u64` (uniffi has no `usize`). A [`Tensor`] carries its elements as
//! little-endian bytes, so NumPy arrays and Swift `Data` cross the boundary in one copy instead
//! of element by element.

use std::collections::HashMap;

use ledge::manifest as m;

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

/// Element type of a [`Tensor`] (core [`ledge::DType`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
}

impl From<ledge::DType> for DType {
    fn from(d: ledge::DType) -> Self {
        match d {
            ledge::DType::F32 => DType::F32,
            ledge::DType::I8 => DType::I8,
            ledge::DType::U8 => DType::U8,
            ledge::DType::I32 => DType::I32,
            ledge::DType::I64 => DType::I64,
        }
    }
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
            dtype: t.dtype().into(),
            data,
        }
    }
}

/// One class of a classification (core [`ledge::Prediction`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Prediction {
    /// Class index in the model's output.
    pub index: u64,
    /// Label from the manifest, if it has labels.
    pub label: Option<String>,
    /// Probability in [0, 1].
    pub score: f32,
}

impl From<ledge::Prediction> for Prediction {
    fn from(p: ledge::Prediction) -> Self {
        Prediction {
            index: u64::from(p.index),
            label: p.label,
            score: p.score,
        }
    }
}

/// Usage statistics since load (core [`ledge::Stats`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Stats {
    /// Successful runs (every classification is also a run).
    pub runs: u64,
    /// Successful classifications.
    pub classifications: u64,
    /// Median latency over the last 1024 calls, in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile latency, in milliseconds.
    pub p95_ms: f64,
    /// 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// Mean top-1 score over the classifications, if any.
    pub mean_top1_score: Option<f64>,
}

impl From<ledge::Stats> for Stats {
    fn from(s: ledge::Stats) -> Self {
        Stats {
            runs: s.runs,
            classifications: s.classifications,
            p50_ms: s.p50_ms,
            p95_ms: s.p95_ms,
            p99_ms: s.p99_ms,
            mean_top1_score: s.mean_top1_score,
        }
    }
}

/// Name, shape and element type of a model input or output (core [`ledge::TensorSpec`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TensorSpec {
    /// Name in the ONNX graph.
    pub name: String,
    /// Dimensions; −1 marks a dimension only known at run time.
    pub shape: Vec<i64>,
    /// Element type.
    pub dtype: DType,
}

impl From<&ledge::TensorSpec> for TensorSpec {
    fn from(s: &ledge::TensorSpec) -> Self {
        TensorSpec {
            name: s.name.clone(),
            shape: s.shape.clone(),
            dtype: s.dtype.into(),
        }
    }
}

/// Where a model's manifest came from (core [`ledge::ManifestSource`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ManifestSource {
    /// `LoadOptions.manifest`.
    Options,
    /// A `.toml` file beside the model.
    Sidecar,
    /// The model's ONNX `metadata_props` (written by `ledge pack`).
    Embedded,
}

impl From<ledge::ManifestSource> for ManifestSource {
    fn from(s: ledge::ManifestSource) -> Self {
        match s {
            ledge::ManifestSource::Options => ManifestSource::Options,
            ledge::ManifestSource::Sidecar => ManifestSource::Sidecar,
            ledge::ManifestSource::Embedded => ManifestSource::Embedded,
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
            inputs: i.inputs.iter().map(TensorSpec::from).collect(),
            outputs: i.outputs.iter().map(TensorSpec::from).collect(),
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
            manifest: i.manifest.clone().map(Manifest::from),
            manifest_source: i.manifest_source.map(ManifestSource::from),
            repairs: i.repairs.clone(),
        }
    }
}

/// Size limits that protect the host app (core [`ledge::Limits`]); every field defaults to the
/// core's default.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Limits {
    /// Largest model accepted, in bytes (default 512 MiB).
    #[uniffi(default = 536870912)]
    pub max_model_bytes: u64,
    /// Largest image accepted, in pixels, checked before decoding (default 2²⁶).
    #[uniffi(default = 67108864)]
    pub max_image_pixels: u64,
    /// Largest tensor accepted by `run`, in elements (default 2²⁶).
    #[uniffi(default = 67108864)]
    pub max_tensor_elements: u64,
    /// Largest total of tensors the model's graph may plan, in bytes (default 1 GiB).
    #[uniffi(default = 1073741824)]
    pub max_plan_bytes: u64,
}

impl From<&ledge::Limits> for Limits {
    fn from(l: &ledge::Limits) -> Self {
        Limits {
            max_model_bytes: l.max_model_bytes,
            max_image_pixels: l.max_image_pixels,
            max_tensor_elements: l.max_tensor_elements,
            max_plan_bytes: l.max_plan_bytes,
        }
    }
}

impl From<Limits> for ledge::Limits {
    fn from(l: Limits) -> Self {
        ledge::Limits {
            max_model_bytes: l.max_model_bytes,
            max_image_pixels: l.max_image_pixels,
            max_tensor_elements: l.max_tensor_elements,
            max_plan_bytes: l.max_plan_bytes,
        }
    }
}

/// How to load a model (core [`ledge::LoadOptions`]); every field defaults to the core's
/// default.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LoadOptions {
    /// Batch size pinned into a symbolic first dimension (default 1).
    #[uniffi(default = 1)]
    pub batch: u64,
    /// Explicit shapes for every input (for symbolic dimensions besides the batch).
    #[uniffi(default = None)]
    pub input_shapes: Option<Vec<Vec<u64>>>,
    /// A manifest that overrides the sidecar and the embedded one.
    #[uniffi(default = None)]
    pub manifest: Option<Manifest>,
    /// Verify the manifest's sha256 against the model bytes (default true).
    #[uniffi(default = true)]
    pub verify_integrity: bool,
    /// Resource limits.
    #[uniffi(default)]
    pub limits: Limits,
    /// Class labels replacing the manifest's (e.g. for a `labels_file` not readable here).
    #[uniffi(default = None)]
    pub labels: Option<Vec<String>>,
    /// Use Ledge's int8 and depthwise kernels (default true); false runs tract alone.
    #[uniffi(default = true)]
    pub ledge_kernels: bool,
    /// Force the int8 kernels' instruction set by name (`portable`, `avx2`, ...); `None` or
    /// `"auto"` picks the best this CPU runs.
    #[uniffi(default = None)]
    pub isa: Option<String>,
}

impl From<&ledge::LoadOptions> for LoadOptions {
    fn from(o: &ledge::LoadOptions) -> Self {
        LoadOptions {
            batch: u64::from(o.batch),
            input_shapes: o.input_shapes.clone(),
            manifest: o.manifest.clone().map(Manifest::from),
            verify_integrity: o.verify_integrity,
            limits: (&o.limits).into(),
            labels: o.labels.clone(),
            ledge_kernels: o.ledge_kernels,
            isa: o.isa.clone(),
        }
    }
}

impl TryFrom<LoadOptions> for ledge::LoadOptions {
    type Error = ledge::Error;

    fn try_from(o: LoadOptions) -> ledge::Result<ledge::LoadOptions> {
        Ok(ledge::LoadOptions {
            batch: u32::try_from(o.batch).map_err(|_| {
                ledge::Error::InvalidArgument(format!("batch {} is too large", o.batch))
            })?,
            input_shapes: o.input_shapes,
            manifest: o.manifest.map(ledge::Manifest::try_from).transpose()?,
            verify_integrity: o.verify_integrity,
            limits: o.limits.into(),
            labels: o.labels,
            ledge_kernels: o.ledge_kernels,
            isa: o.isa,
        })
    }
}

/// Everything Ledge needs besides the weights to use a classifier (core [`ledge::Manifest`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Manifest {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// One-line description.
    pub description: Option<String>,
    /// Lower-case hex sha256 of the model bytes; verified on load when present.
    pub sha256: Option<String>,
    /// How to turn an image into the input tensor.
    pub input: InputSpec,
    /// How to read the output tensor.
    pub output: OutputSpec,
}

/// Input preprocessing (core [`ledge::manifest::InputSpec`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct InputSpec {
    /// Tensor layout.
    pub layout: Layout,
    /// Channel order.
    pub color: ColorOrder,
    /// Geometry: crop, resize, pad.
    pub resize: Resize,
    /// Pixel value mapping.
    pub normalize: Normalize,
}

/// Tensor layout of an image input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Layout {
    /// `[batch, channels, height, width]`.
    Nchw,
    /// `[batch, height, width, channels]`.
    Nhwc,
}

/// Channel order the model expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ColorOrder {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red.
    Bgr,
}

/// Resampling filter (antialiased when shrinking, except `Nearest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Filter {
    /// Nearest neighbour.
    Nearest,
    /// Triangle filter.
    Bilinear,
    /// Catmull-Rom cubic, as Pillow's `BICUBIC`.
    Bicubic,
    /// Lanczos, 3 lobes.
    Lanczos3,
}

/// How the image is mapped onto the input's height × width.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Resize {
    /// Centre crop with the target's aspect ratio (`crop_fraction` of the largest), then resize.
    CenterCrop {
        /// In (0, 1].
        crop_fraction: f64,
        /// Resampling filter.
        filter: Filter,
    },
    /// Resize to the target height keeping the aspect ratio, then pad the width.
    KeepAspectPad {
        /// Resampling filter.
        filter: Filter,
        /// Value of padded elements, after normalization.
        pad_value: f32,
    },
    /// Resize to the target ignoring the aspect ratio.
    Stretch {
        /// Resampling filter.
        filter: Filter,
    },
}

/// Pixel normalization, per channel (1 or 3 values); pixels are in 0..=255.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Normalize {
    /// `y = (x − mean) / std`.
    MeanStd {
        /// Per-channel mean.
        mean: Vec<f32>,
        /// Per-channel standard deviation.
        std: Vec<f32>,
    },
    /// `y = x · scale + offset`.
    ScaleOffset {
        /// Per-channel scale.
        scale: Vec<f32>,
        /// Per-channel offset.
        offset: Vec<f32>,
    },
}

/// How to read the output (core [`ledge::manifest::OutputSpec`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OutputSpec {
    /// Whether the first output holds logits or probabilities.
    pub kind: OutputKind,
    /// Class labels in index order.
    pub labels: Vec<String>,
    /// A labels file relative to the manifest, when not yet inlined.
    pub labels_file: Option<String>,
}

/// What the first output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OutputKind {
    /// Unnormalized scores: Ledge applies softmax.
    Logits,
    /// Already probabilities.
    Probabilities,
}

impl From<m::Filter> for Filter {
    fn from(f: m::Filter) -> Self {
        match f {
            m::Filter::Nearest => Filter::Nearest,
            m::Filter::Bilinear => Filter::Bilinear,
            m::Filter::Bicubic => Filter::Bicubic,
            m::Filter::Lanczos3 => Filter::Lanczos3,
        }
    }
}

impl From<Filter> for m::Filter {
    fn from(f: Filter) -> Self {
        match f {
            Filter::Nearest => m::Filter::Nearest,
            Filter::Bilinear => m::Filter::Bilinear,
            Filter::Bicubic => m::Filter::Bicubic,
            Filter::Lanczos3 => m::Filter::Lanczos3,
        }
    }
}

impl From<ledge::Manifest> for Manifest {
    fn from(x: ledge::Manifest) -> Self {
        Manifest {
            name: x.name,
            version: x.version,
            description: x.description,
            sha256: x.sha256,
            input: InputSpec {
                layout: match x.input.layout {
                    m::Layout::NCHW => Layout::Nchw,
                    m::Layout::NHWC => Layout::Nhwc,
                },
                color: match x.input.color {
                    m::ColorOrder::RGB => ColorOrder::Rgb,
                    m::ColorOrder::BGR => ColorOrder::Bgr,
                },
                resize: match x.input.resize {
                    m::Resize::CenterCrop {
                        crop_fraction,
                        filter,
                    } => Resize::CenterCrop {
                        crop_fraction,
                        filter: filter.into(),
                    },
                    m::Resize::KeepAspectPad { filter, pad_value } => Resize::KeepAspectPad {
                        filter: filter.into(),
                        pad_value,
                    },
                    m::Resize::Stretch { filter } => Resize::Stretch {
                        filter: filter.into(),
                    },
                },
                normalize: match x.input.normalize {
                    m::Normalize::MeanStd { mean, std } => Normalize::MeanStd { mean, std },
                    m::Normalize::ScaleOffset { scale, offset } => {
                        Normalize::ScaleOffset { scale, offset }
                    }
                },
            },
            output: OutputSpec {
                kind: match x.output.kind {
                    m::OutputKind::Logits => OutputKind::Logits,
                    m::OutputKind::Probabilities => OutputKind::Probabilities,
                },
                labels: x.output.labels,
                labels_file: x.output.labels_file,
            },
        }
    }
}

/// Validated like a parsed manifest ([`ledge::Manifest::validate`]).
impl TryFrom<Manifest> for ledge::Manifest {
    type Error = ledge::Error;

    fn try_from(x: Manifest) -> ledge::Result<ledge::Manifest> {
        let manifest = ledge::Manifest {
            name: x.name,
            version: x.version,
            description: x.description,
            sha256: x.sha256,
            input: m::InputSpec {
                layout: match x.input.layout {
                    Layout::Nchw => m::Layout::NCHW,
                    Layout::Nhwc => m::Layout::NHWC,
                },
                color: match x.input.color {
                    ColorOrder::Rgb => m::ColorOrder::RGB,
                    ColorOrder::Bgr => m::ColorOrder::BGR,
                },
                resize: match x.input.resize {
                    Resize::CenterCrop {
                        crop_fraction,
                        filter,
                    } => m::Resize::CenterCrop {
                        crop_fraction,
                        filter: filter.into(),
                    },
                    Resize::KeepAspectPad { filter, pad_value } => m::Resize::KeepAspectPad {
                        filter: filter.into(),
                        pad_value,
                    },
                    Resize::Stretch { filter } => m::Resize::Stretch {
                        filter: filter.into(),
                    },
                },
                normalize: match x.input.normalize {
                    Normalize::MeanStd { mean, std } => m::Normalize::MeanStd { mean, std },
                    Normalize::ScaleOffset { scale, offset } => {
                        m::Normalize::ScaleOffset { scale, offset }
                    }
                },
            },
            output: m::OutputSpec {
                kind: match x.output.kind {
                    OutputKind::Logits => m::OutputKind::Logits,
                    OutputKind::Probabilities => m::OutputKind::Probabilities,
                },
                labels: x.output.labels,
                labels_file: x.output.labels_file,
            },
        };
        manifest.validate()?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tensors_round_trip_through_little_endian_bytes() {
        for t in [
            ledge::Tensor::f32(vec![2, 2], vec![0.5, -1.0, 3.25, f32::MAX]).unwrap(),
            ledge::Tensor::i8(vec![3], vec![-128, 0, 127]).unwrap(),
            ledge::Tensor::u8(vec![1, 2], vec![0, 255]).unwrap(),
            ledge::Tensor::new(vec![2], ledge::TensorData::I64(vec![-1, i64::MAX])).unwrap(),
            ledge::Tensor::new(vec![1], ledge::TensorData::I32(vec![-7])).unwrap(),
        ] {
            let ours = Tensor::from(&t);
            assert_eq!(ledge::Tensor::try_from(ours).unwrap(), t);
        }
    }

    #[test]
    fn a_partial_element_is_an_invalid_argument() {
        let t = Tensor {
            shape: vec![1],
            dtype: DType::F32,
            data: vec![0; 5],
        };
        let e = ledge::Tensor::try_from(t).unwrap_err();
        assert_eq!(e.kind(), "InvalidArgument");
    }

    #[test]
    fn manifests_round_trip() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../demo-models/ppocr-cls/manifest.toml"
        ))
        .unwrap();
        let core = ledge::Manifest::from_toml(&text).unwrap();
        let back = ledge::Manifest::try_from(Manifest::from(core.clone())).unwrap();
        assert_eq!(back, core);
        let options = ledge::LoadOptions::default();
        assert_eq!(
            ledge::LoadOptions::try_from(LoadOptions::from(&options)).unwrap(),
            options
        );
    }
}
