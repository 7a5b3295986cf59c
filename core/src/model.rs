//! The loaded, optimized, shareable model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

use crate::clock::Instant;
use crate::error::{tract_chain, Error, Result};
use crate::int8;
use crate::manifest::{Manifest, OutputKind};
use crate::postprocess::{self, Prediction};
use crate::profile::Profile;
use crate::stats::{Recorder, Stats};
use crate::tensor::{DType, Tensor};
use crate::{onnx_file, preprocess, repair};

/// Size limits that protect the host app from hostile or accidental inputs. Each is checked
/// before the corresponding allocation; exceeding one is [`Error::LimitExceeded`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Largest model file accepted, in bytes (default 512 MiB).
    pub max_model_bytes: u64,
    /// Largest image accepted, in pixels, checked from the header before decoding
    /// (default 2²⁶ ≈ 67 Mpx, above a 64 Mpx phone camera).
    pub max_image_pixels: u64,
    /// Largest tensor accepted by [`Model::run`], in elements (default 2²⁶).
    pub max_tensor_elements: u64,
    /// Largest total a model may plan to allocate, in bytes: every tensor its graph produces,
    /// weights and intermediate results, summed before optimization (default 1 GiB; the demo
    /// EfficientNet-Lite0 plans 98 MB, the PP-OCR classifier 20 MB).
    pub max_plan_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_model_bytes: 512 << 20,
            max_image_pixels: 1 << 26,
            max_tensor_elements: 1 << 26,
            max_plan_bytes: 1 << 30,
        }
    }
}

/// How to load a model.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Batch size pinned into a symbolic first dimension (default 1). Pinning matters: tract
    /// runs a model with a symbolic batch 5–14× slower.
    pub batch: usize,
    /// Explicit shapes for every input, replacing the model's own (needed when a model has
    /// symbolic dimensions besides the batch).
    pub input_shapes: Option<Vec<Vec<usize>>>,
    /// A manifest that overrides the sidecar and the embedded one.
    pub manifest: Option<Manifest>,
    /// Verify the manifest's sha256 against the model bytes (default true).
    pub verify_integrity: bool,
    /// Resource limits.
    pub limits: Limits,
    /// Use Ledge's kernels (default true): the quantized convolutions of QDQ models
    /// (`DequantizeLinear → Conv → QuantizeLinear`) in int8, float depthwise convolutions, and
    /// vectorized quantization. `false` runs every operator as tract alone does (QDQ
    /// convolutions in float between quantization steps): slower, for comparison.
    pub ledge_kernels: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            batch: 1,
            input_shapes: None,
            manifest: None,
            verify_integrity: true,
            limits: Limits::default(),
            ledge_kernels: true,
        }
    }
}

/// Name, shape and element type of a model input or output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorSpec {
    /// Name in the ONNX graph.
    pub name: String,
    /// Dimensions; −1 marks a dimension only known at run time.
    pub shape: Vec<i64>,
    /// Element type.
    pub dtype: DType,
}

/// Where a model's manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ManifestSource {
    /// [`LoadOptions::manifest`].
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
    pub op_histogram: BTreeMap<String, usize>,
    /// Number of weight elements (initializers).
    pub parameters: u64,
    /// Multiply-accumulates per run, as estimated by the engine's cost model.
    pub macs: u64,
    /// MACs of the convolutions and matrix products that take quantized operands (QDQ or
    /// integer operators).
    pub quantized_macs: u64,
    /// Convolution/matrix-product nodes, and how many of them are quantized.
    pub compute_nodes: usize,
    /// How many of `compute_nodes` are quantized.
    pub quantized_compute_nodes: usize,
    /// The manifest, if the model has one.
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

/// A loaded and optimized model. `Send + Sync`: load once, share across threads; every method
/// takes `&self`.
pub struct Model {
    plan: Arc<TypedRunnableModel>,
    info: ModelInfo,
    limits: Limits,
    stats: Mutex<Recorder>,
}

fn onnx() -> &'static tract_onnx::Onnx {
    static ONNX: OnceLock<tract_onnx::Onnx> = OnceLock::new();
    ONNX.get_or_init(tract_onnx::onnx)
}

impl Model {
    /// Loads a model from a file. A manifest beside it with the same stem and a `.toml`
    /// extension (`model.onnx` → `model.toml`) is used unless [`LoadOptions::manifest`] is set;
    /// otherwise the embedded manifest, if any.
    pub fn from_path(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Model> {
        let path = path.as_ref();
        let size = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        check_limit("max_model_bytes", size, options.limits.max_model_bytes)?;
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let sidecar = match &options.manifest {
            Some(_) => None,
            None => sidecar_manifest(path)?,
        };
        Model::load(&bytes, options, sidecar)
    }

    /// Loads a model from ONNX bytes (manifest from the options or embedded).
    pub fn from_bytes(bytes: &[u8], options: &LoadOptions) -> Result<Model> {
        Model::load(bytes, options, None)
    }

    /// [`Model::load_unguarded`], with a panic inside tract (an assertion a malformed graph
    /// trips) turned into [`Error::ModelFormat`].
    fn load(bytes: &[u8], options: &LoadOptions, sidecar: Option<Manifest>) -> Result<Model> {
        guarded(Error::ModelFormat, || {
            Model::load_unguarded(bytes, options, sidecar)
        })
    }

    fn load_unguarded(
        bytes: &[u8],
        options: &LoadOptions,
        sidecar: Option<Manifest>,
    ) -> Result<Model> {
        let started = Instant::now();
        check_limit(
            "max_model_bytes",
            bytes.len() as u64,
            options.limits.max_model_bytes,
        )?;
        let proto = onnx_file::decode(bytes)?;
        let embedded = onnx_file::embedded_manifest(&proto)?;
        let (sha256, packed_base) = onnx_file::sha256_and_packed_base(bytes, embedded.as_ref());
        let (manifest, source) = match (&options.manifest, sidecar, embedded) {
            (Some(m), _, _) => (Some(m.clone()), Some(ManifestSource::Options)),
            (None, Some(m), _) => (Some(m), Some(ManifestSource::Sidecar)),
            (None, None, Some(m)) => (Some(m), Some(ManifestSource::Embedded)),
            (None, None, None) => (None, None),
        };
        if let (true, Some(m), Some(expected)) = (
            options.verify_integrity,
            &manifest,
            manifest.as_ref().and_then(|m| m.sha256.clone()),
        ) {
            let actual = if source == Some(ManifestSource::Embedded) {
                packed_base.unwrap_or_else(|| onnx_file::packed_base_sha256(bytes, m))?
            } else {
                sha256.clone()
            };
            if !actual.eq_ignore_ascii_case(&expected) {
                return Err(Error::Integrity { expected, actual });
            }
        }
        onnx_file::check_operators(&proto, |op| onnx().op_register.0.contains_key(op))?;
        onnx_file::check_attributes(&proto)?;
        if let Some((node, elements)) = onnx_file::largest_constant_request(&proto)? {
            log::debug!("largest constant-sized tensor: {elements} elements at '{node}'");
            // 4 bytes an element: the least any tensor tract allocates for it will take.
            check_limit(
                "max_plan_bytes",
                elements.saturating_mul(4),
                options.limits.max_plan_bytes,
            )?;
        }

        let dequantized = int8::dequantized_initializers(&proto);
        let mut model = onnx()
            .model_for_proto_model(dequantized.as_ref().unwrap_or(&proto))
            .map_err(|e| Error::ModelFormat(tract_chain(&e)))?;
        drop(dequantized);
        let inputs = pin_inputs(&mut model, &proto, options)?;
        let mut typed = model
            .into_typed()
            .map_err(|e| Error::ModelFormat(tract_chain(&e)))?;
        check_plan(&typed, &options.limits)?;
        let repairs = repair::quantized_non_elementwise_chains(&mut typed)
            .map_err(|e| Error::Inference(format!("repairing the graph: {}", tract_chain(&e))))?;
        let (quantized, compute) = onnx_file::quantized_compute_nodes(&proto);
        let (macs, quantized_macs) = mac_estimate(&typed, &quantized)?;
        if options.ledge_kernels {
            int8::quantized_convs(&mut typed, &proto)
                .and_then(|_| int8::fold_constants(&mut typed))
                .and_then(|_| int8::float_depthwise(&mut typed))
                .map_err(|e| Error::Inference(format!("int8 pass: {}", tract_chain(&e))))?;
        }
        let mut optimized = typed
            .into_optimized()
            .map_err(|e| Error::Inference(format!("optimizing: {}", tract_chain(&e))))?;
        if options.ledge_kernels {
            int8::vectorized_quantize(&mut optimized)
                .map_err(|e| Error::Inference(format!("int8 pass: {}", tract_chain(&e))))?;
        }
        let outputs = output_specs(&optimized, &proto)?;
        let plan = optimized
            .into_runnable()
            .map_err(|e| Error::Inference(format!("planning: {}", tract_chain(&e))))?;

        let info = ModelInfo {
            inputs,
            outputs,
            file_size: bytes.len() as u64,
            sha256,
            op_histogram: onnx_file::op_histogram(&proto),
            parameters: onnx_file::parameter_count(&proto),
            macs,
            quantized_macs,
            compute_nodes: compute.len(),
            quantized_compute_nodes: quantized.len(),
            manifest,
            manifest_source: source,
            repairs,
        };
        check_manifest_fits(&info)?;
        log::info!(
            "loaded model {} ({} bytes, {} MACs) in {:.1} ms",
            info.manifest
                .as_ref()
                .map_or("(no manifest)", |m| m.name.as_str()),
            info.file_size,
            info.macs,
            started.elapsed().as_secs_f64() * 1e3
        );
        Ok(Model {
            plan,
            info,
            limits: options.limits.clone(),
            stats: Mutex::default(),
        })
    }

    /// What Ledge knows about the model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Usage statistics since load.
    pub fn stats(&self) -> Stats {
        self.stats
            .lock()
            .map(|r| r.snapshot())
            .unwrap_or_else(|p| p.into_inner().snapshot())
    }

    /// Runs the model on raw tensors, one per input in order. Count, shapes and dtypes are
    /// checked against the model before anything runs.
    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let started = Instant::now();
        let out = self.run_unrecorded(inputs)?;
        self.record(started, None);
        Ok(out)
    }

    /// Decodes an encoded image (JPEG, PNG), preprocesses it as the manifest says, runs the
    /// model and returns the `k` best classes.
    pub fn classify_encoded(&self, bytes: &[u8], k: usize) -> Result<Vec<Prediction>> {
        let started = Instant::now();
        let tensor = self.preprocess_encoded(bytes)?;
        self.classify_recorded(started, &tensor, k)
    }

    /// Like [`Model::classify_encoded`] for a tightly packed RGBA frame (camera, canvas).
    pub fn classify_rgba(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        k: usize,
    ) -> Result<Vec<Prediction>> {
        let started = Instant::now();
        let manifest = self.manifest_for_classify()?;
        let img = preprocess::rgba_to_rgb(rgba, width, height, self.limits.max_image_pixels)?;
        let tensor = preprocess::to_tensor(&img, &manifest.input, &self.input_shape())?;
        self.classify_recorded(started, &tensor, k)
    }

    /// Reads an image file and classifies it (see [`Model::classify_encoded`]).
    pub fn classify_path(&self, path: impl AsRef<Path>, k: usize) -> Result<Vec<Prediction>> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.classify_encoded(&bytes, k)
    }

    /// Classifies an already preprocessed input tensor: runs the model and post-processes the
    /// first output as the manifest says (softmax for logits, labels).
    pub fn classify_tensor(&self, tensor: &Tensor, k: usize) -> Result<Vec<Prediction>> {
        self.classify_recorded(Instant::now(), tensor, k)
    }

    /// Preprocesses an encoded image into the model's input tensor, without running it.
    pub fn preprocess_encoded(&self, bytes: &[u8]) -> Result<Tensor> {
        let manifest = self.manifest_for_classify()?;
        // The decoders assert on some hostile inputs (zune-jpeg 0.5.15 multiplies with overflow
        // on a fuzzed JPEG when overflow checks are on): a panic there is an undecodable image.
        let img = guarded(Error::ImageDecode, || {
            preprocess::decode(bytes, self.limits.max_image_pixels)
        })?;
        preprocess::to_tensor(&img, &manifest.input, &self.input_shape())
    }

    fn classify_recorded(
        &self,
        started: Instant,
        tensor: &Tensor,
        k: usize,
    ) -> Result<Vec<Prediction>> {
        let manifest = self.manifest_for_classify()?;
        if k == 0 {
            return Err(Error::InvalidArgument("top-k needs k ≥ 1, got 0".into()));
        }
        let outputs = self.run_unrecorded(std::slice::from_ref(tensor))?;
        let first = outputs
            .first()
            .and_then(|t| t.as_f32())
            .ok_or_else(|| Error::Manifest("a classifier's first output must be f32".into()))?;
        let scores = postprocess::probabilities(first, manifest.output.kind);
        let top = postprocess::top_k(&scores, k, &manifest.output.labels)?;
        self.record(started, top.first().map(|p| p.score));
        Ok(top)
    }

    fn manifest_for_classify(&self) -> Result<&Manifest> {
        let m = self.info.manifest.as_ref().ok_or_else(|| {
            Error::Manifest(
                "this model has no manifest, so Ledge does not know its preprocessing: pass \
                 LoadOptions::manifest, put a .toml beside the model, or `ledge pack` it"
                    .into(),
            )
        })?;
        if self.info.inputs.len() != 1 {
            return Err(Error::Manifest(format!(
                "classify needs a model with one input, this one has {}",
                self.info.inputs.len()
            )));
        }
        Ok(m)
    }

    fn input_shape(&self) -> Vec<usize> {
        self.info.inputs[0]
            .shape
            .iter()
            .map(|d| *d as usize)
            .collect()
    }

    fn record(&self, started: Instant, top1: Option<f32>) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.record(started.elapsed(), top1);
    }

    /// Times every node of the optimized plan over `runs` runs of `inputs` (after one warm-up):
    /// time per operator type, MACs, achieved GMAC/s, and the int8 truth report (the share of
    /// MACs computed in integer kernels). Not counted in [`Model::stats`].
    pub fn profile(&self, inputs: &[Tensor], runs: usize) -> Result<Profile> {
        let values = self.tract_inputs(inputs)?;
        guarded(Error::Inference, || {
            crate::profile::profile(&self.plan, values, runs)
        })
    }

    fn run_unrecorded(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let values = self.tract_inputs(inputs)?;
        let outputs = guarded(Error::Inference, || {
            self.plan
                .run(values)
                .map_err(|e| Error::Inference(tract_chain(&e)))
        })?;
        outputs.iter().map(|v| Tensor::from_tract(v)).collect()
    }

    /// Checks `inputs` against the model's inputs and converts them for tract.
    fn tract_inputs(&self, inputs: &[Tensor]) -> Result<TVec<TValue>> {
        if inputs.len() != self.info.inputs.len() {
            return Err(Error::InputCount {
                expected: self.info.inputs.len(),
                got: inputs.len(),
            });
        }
        let mut values = TVec::new();
        for (spec, t) in self.info.inputs.iter().zip(inputs) {
            check_limit(
                "max_tensor_elements",
                t.len() as u64,
                self.limits.max_tensor_elements,
            )?;
            let expected: Vec<usize> = spec.shape.iter().map(|d| *d as usize).collect();
            if t.shape() != expected.as_slice() {
                return Err(Error::InputShape {
                    name: spec.name.clone(),
                    expected,
                    got: t.shape().to_vec(),
                });
            }
            if t.dtype() != spec.dtype {
                return Err(Error::InputType {
                    name: spec.name.clone(),
                    expected: spec.dtype,
                    got: t.dtype(),
                });
            }
            values.push(t.to_tract()?.into_tvalue());
        }
        Ok(values)
    }
}

/// Runs `f`, turning a panic into the error `kind` makes of its message. tract asserts
/// invariants that a malformed model can break; the caller gets an error, the app keeps running.
/// (Needs `panic = "unwind"`, as on every target but wasm.)
fn guarded<T>(kind: fn(String) -> Error, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(kind(format!("the engine failed on this input: {message}")))
    })
}

fn check_limit(limit: &'static str, value: u64, max: u64) -> Result<()> {
    if value > max {
        return Err(Error::LimitExceeded { limit, value, max });
    }
    Ok(())
}

/// `dir/model.onnx` → `dir/model.toml`, when it exists.
fn sidecar_manifest(model_path: &Path) -> Result<Option<Manifest>> {
    let path: PathBuf = model_path.with_extension("toml");
    if path.is_file() {
        log::debug!("using sidecar manifest {}", path.display());
        Manifest::from_path(&path).map(Some)
    } else {
        Ok(None)
    }
}

/// Pins every input to a concrete shape and type before optimization.
fn pin_inputs(
    model: &mut InferenceModel,
    proto: &ModelProto,
    options: &LoadOptions,
) -> Result<Vec<TensorSpec>> {
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| Error::ModelFormat("no graph".into()))?;
    let names: Vec<String> = model
        .input_outlets()
        .map_err(|e| Error::ModelFormat(tract_chain(&e)))?
        .iter()
        .map(|o| model.node(o.node).name.clone())
        .collect();
    if let Some(shapes) = &options.input_shapes {
        if shapes.len() != names.len() {
            return Err(Error::InputCount {
                expected: names.len(),
                got: shapes.len(),
            });
        }
    }
    if options.batch == 0 {
        return Err(Error::InvalidArgument("batch must be at least 1".into()));
    }
    let mut specs = vec![];
    for (ix, name) in names.iter().enumerate() {
        let value_info = graph.input.iter().find(|i| &i.name == name);
        let tensor_type = value_info
            .and_then(|v| v.r#type.as_ref())
            .and_then(|t| match &t.value {
                Some(tract_onnx::pb::type_proto::Value::TensorType(tt)) => Some(tt),
                _ => None,
            });
        let tensor_type = tensor_type
            .ok_or_else(|| Error::ModelFormat(format!("input '{name}' declares no tensor type")))?;
        let datum = tract_onnx::pb::tensor_proto::DataType::try_from(tensor_type.elem_type)
            .ok()
            .and_then(|dt| DatumType::try_from(dt).ok());
        let dtype = datum.and_then(DType::from_tract).ok_or_else(|| {
            Error::ModelFormat(format!(
                "input '{name}' has element type #{} which Ledge does not support (f32, i8, u8, \
                 i32, i64)",
                tensor_type.elem_type
            ))
        })?;
        let shape: Vec<usize> =
            match &options.input_shapes {
                Some(shapes) => shapes[ix].clone(),
                None => {
                    let dims = tensor_type
                        .shape
                        .as_ref()
                        .map(|s| s.dim.as_slice())
                        .unwrap_or_default();
                    dims.iter()
                        .enumerate()
                        .map(|(axis, d)| match &d.value {
                            Some(
                                tract_onnx::pb::tensor_shape_proto::dimension::Value::DimValue(v),
                            ) if *v > 0 => Ok(*v as usize),
                            _ if axis == 0 => Ok(options.batch),
                            other => Err(Error::ModelFormat(format!(
                                "input '{name}' has a dynamic dimension {axis} ({other:?}): pass \
                             LoadOptions::input_shapes to pin it"
                            ))),
                        })
                        .collect::<Result<_>>()?
                }
            };
        let fact = InferenceFact::dt_shape(datum.unwrap_or(DatumType::F32), shape.clone());
        model
            .set_input_fact(ix, fact)
            .map_err(|e| Error::ModelFormat(tract_chain(&e)))?;
        specs.push(TensorSpec {
            name: name.clone(),
            shape: shape.iter().map(|d| *d as i64).collect(),
            dtype,
        });
    }
    Ok(specs)
}

fn output_specs(model: &TypedModel, proto: &ModelProto) -> Result<Vec<TensorSpec>> {
    let names: Vec<String> = proto
        .graph
        .iter()
        .flat_map(|g| g.output.iter().map(|o| o.name.clone()))
        .collect();
    model
        .output_outlets()
        .map_err(|e| Error::ModelFormat(tract_chain(&e)))?
        .iter()
        .enumerate()
        .map(|(ix, outlet)| {
            let fact = model
                .outlet_fact(*outlet)
                .map_err(|e| Error::ModelFormat(tract_chain(&e)))?;
            Ok(TensorSpec {
                name: names
                    .get(ix)
                    .cloned()
                    .unwrap_or_else(|| format!("output_{ix}")),
                shape: fact
                    .shape
                    .iter()
                    .map(|d| d.to_i64().unwrap_or(-1))
                    .collect(),
                dtype: DType::from_tract(fact.datum_type).unwrap_or(DType::F32),
            })
        })
        .collect()
}

/// Total MACs per run from tract's cost model, and the MACs of the named quantized nodes.
/// Refuses a graph whose tensors, summed, exceed `max_plan_bytes`, before tract's optimizer
/// folds constants or allocates anything.
fn check_plan(model: &TypedModel, limits: &Limits) -> Result<()> {
    let mut total = 0u64;
    for node in model.nodes() {
        for output in &node.outputs {
            let fact = &output.fact;
            let Some(shape) = fact.shape.as_concrete() else {
                continue;
            };
            let elements = shape
                .iter()
                .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
                .unwrap_or(u64::MAX);
            let bytes = elements.saturating_mul(fact.datum_type.size_of() as u64);
            total = total.saturating_add(bytes);
            check_limit("max_plan_bytes", total, limits.max_plan_bytes)?;
        }
    }
    log::debug!("the graph plans {total} bytes of tensors");
    Ok(())
}

fn mac_estimate(model: &TypedModel, quantized: &[String]) -> Result<(u64, u64)> {
    let mut total = 0u64;
    let mut q = 0u64;
    for node in model.nodes() {
        let (macs, _) = crate::profile::node_macs(model, node)?;
        total += macs;
        if quantized.contains(&node.name) {
            q += macs;
        }
    }
    Ok((total, q))
}

fn check_manifest_fits(info: &ModelInfo) -> Result<()> {
    let Some(m) = &info.manifest else {
        return Ok(());
    };
    let labels = m.output.labels.len();
    if let Some(out) = info.outputs.first() {
        let classes: i64 = out.shape.iter().skip(1).product();
        if labels > 0 && classes > 0 && classes as usize != labels {
            return Err(Error::Manifest(format!(
                "the manifest has {labels} labels but output '{}' has {classes} classes",
                out.name
            )));
        }
        if m.output.kind == OutputKind::Logits && out.dtype != DType::F32 {
            return Err(Error::Manifest(format!(
                "output '{}' is {}, not f32 logits",
                out.name, out.dtype
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Model>();
    }
}
