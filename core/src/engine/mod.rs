//! The engine: the only part of Ledge that touches tract.
//!
//! Loading (ONNX checks on the protobuf before tract sees the graph, the embedded manifest and
//! its digest, resource limits, shape pinning), the graph passes (the Softmax repair, the int8
//! rewrite onto [`crate::kernels`]), planning, running, and profiling. Everything above it
//! (vision, tasks, serving, [`crate::Model`]) speaks Ledge's own [`Tensor`] and [`ModelInfo`].

mod info;
mod int8;
mod onnx;
mod ops;
mod plan;
mod profile;
mod repair;
mod threads;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

pub use info::{ManifestSource, ModelInfo, TensorSpec};
pub use onnx::{pack, pack_signed, sha256_hex};
pub use profile::{OpProfile, Profile};

use crate::clock::Instant;
use crate::dtype::DType;
use crate::error::{panic_message, Error, Limit, Result};
use crate::kernels::int8::Isa;
use crate::manifest::{Manifest, OutputKind, Task};
use crate::options::LoadOptions;
use crate::tensor::{Tensor, TensorData};

/// A planned model: tract's runnable plan and what was learned about the model while loading.
pub(crate) struct Engine {
    plan: Arc<TypedRunnableModel>,
    /// The threads a run uses (installed around each run).
    pool: threads::Pool,
    inputs: Vec<TensorSpec>,
    /// Per input, which dimensions the graph leaves dynamic (pinned at load).
    dynamic: Vec<Vec<bool>>,
    max_tensor_elements: u64,
}

fn onnx_front() -> &'static tract_onnx::Onnx {
    static ONNX: OnceLock<tract_onnx::Onnx> = OnceLock::new();
    ONNX.get_or_init(|| {
        let mut onnx = tract_onnx::onnx();
        onnx.op_register.insert("Upsample", upsample);
        onnx
    })
}

/// ONNX `Upsample` (opsets 7–9, deprecated since 10) is `Resize` of opset 10 in all but name:
/// scales as input 1 (an attribute before opset 9 becomes an input in
/// [`onnx::upsample_scales_as_inputs`]), asymmetric coordinates, and for `nearest` the source
/// pixel `floor(x / scale)` as onnxruntime computes it. tract reads it with its own Resize.
fn upsample(
    ctx: &tract_onnx::model::ParsingContext,
    node: &tract_onnx::pb::NodeProto,
) -> TractResult<(
    Box<dyn tract_onnx::tract_hir::infer::InferenceOp>,
    Vec<String>,
)> {
    use tract_onnx::pb::{attribute_proto::AttributeType, AttributeProto};
    let resize = ctx
        .framework
        .op_register
        .0
        .get("Resize")
        .ok_or_else(|| TractError::msg("tract has no Resize"))?;
    let mut node = node.clone();
    let mode = node
        .attribute
        .iter()
        .find(|a| a.name == "mode")
        .map(|a| a.s.clone());
    let linear = matches!(mode.as_deref(), Some(b"linear" | b"bilinear"));
    node.attribute.retain(|a| a.name != "mode");
    let string_attr = |name: &str, value: &str| AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: value.as_bytes().to_vec(),
        ..AttributeProto::default()
    };
    node.attribute.push(string_attr(
        "mode",
        if linear { "linear" } else { "nearest" },
    ));
    node.attribute.push(string_attr("nearest_mode", "floor"));
    node.input.truncate(2);
    let ctx = tract_onnx::model::ParsingContext {
        onnx_operator_set_version: 10,
        ..ctx.clone()
    };
    resize(&ctx, &node)
}

/// Reads `dir/model.toml` for `dir/model.onnx`, when it exists.
pub(crate) fn sidecar_manifest(model_path: &Path) -> Result<Option<Manifest>> {
    let path = model_path.with_extension("toml");
    if path.is_file() {
        log::debug!("using sidecar manifest {}", path.display());
        Manifest::from_path(&path).map(Some)
    } else {
        Ok(None)
    }
}

impl Engine {
    /// Loads and plans a model from ONNX bytes; `sidecar` is a manifest found beside the file.
    /// A panic inside tract (an assertion a malformed graph trips) becomes
    /// [`Error::ModelFormat`].
    /// `dir` is the model file's folder (`None` for bytes), where external data is read.
    pub(crate) fn load(
        bytes: &[u8],
        dir: Option<&Path>,
        options: &LoadOptions,
        sidecar: Option<Manifest>,
    ) -> Result<(Engine, ModelInfo)> {
        guarded(Error::ModelFormat, || {
            load_unguarded(bytes, dir, options, sidecar)
        })
    }

    /// The pinned input specs.
    pub(crate) fn inputs(&self) -> &[TensorSpec] {
        &self.inputs
    }

    /// Whether `shapes` differ from the pinned shapes only in dimensions the graph leaves
    /// dynamic (and in at least one), so a plan for them can be made.
    pub(crate) fn replannable(&self, shapes: &[&[usize]]) -> bool {
        let mut differs = false;
        let fits = shapes.len() == self.inputs.len()
            && shapes.iter().zip(&self.inputs).zip(&self.dynamic).all(
                |((given, spec), dynamic)| {
                    let pinned = spec.dims();
                    given.len() == pinned.len()
                        && given.iter().zip(&pinned).zip(dynamic).all(|((g, p), d)| {
                            differs |= g != p;
                            g == p || (*d && *g > 0)
                        })
                },
            );
        fits && differs
    }

    /// Runs the plan on `inputs` (checked against the pinned specs first).
    pub(crate) fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let values = self.tract_inputs(inputs)?;
        let outputs = guarded(Error::Inference, || {
            threads::scope(&self.pool, || self.plan.run(values))
                .map_err(|e| Error::Inference(tract_chain(&e)))
        })?;
        outputs.iter().map(|v| from_tract(v)).collect()
    }

    /// Times every node of the plan over `runs` runs of `inputs` (see [`Profile`]).
    pub(crate) fn profile(&self, inputs: &[Tensor], runs: usize) -> Result<Profile> {
        let values = self.tract_inputs(inputs)?;
        guarded(Error::Inference, || {
            threads::scope(&self.pool, || profile::profile(&self.plan, values, runs))
        })
    }

    /// Checks `inputs` against the model's inputs and converts them for tract.
    fn tract_inputs(&self, inputs: &[Tensor]) -> Result<TVec<TValue>> {
        if inputs.len() != self.inputs.len() {
            return Err(Error::InputCount {
                expected: self.inputs.len(),
                got: inputs.len(),
            });
        }
        let mut values = TVec::new();
        for (spec, t) in self.inputs.iter().zip(inputs) {
            Limit::MaxTensorElements.check(t.len() as u64, self.max_tensor_elements)?;
            let expected = spec.dims();
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
            values.push(to_tract(t)?.into_tvalue());
        }
        Ok(values)
    }
}

fn load_unguarded(
    bytes: &[u8],
    dir: Option<&Path>,
    options: &LoadOptions,
    sidecar: Option<Manifest>,
) -> Result<(Engine, ModelInfo)> {
    let started = Instant::now();
    let isa = chosen_isa(options)?;
    let (threads, pool) = threads::pool(options.threads)?;
    let limits = &options.limits;
    limits.check(Limit::MaxModelBytes, bytes.len() as u64)?;
    let mut proto = onnx::decode(bytes)?;
    let external =
        onnx::inline_external_data(&mut proto, dir, bytes.len() as u64, limits.max_model_bytes)?;
    if external > 0 {
        log::debug!("read {external} bytes of external data");
    }
    onnx::upsample_scales_as_inputs(&mut proto);
    if options
        .input_shapes
        .as_ref()
        .is_some_and(|shapes| shapes.iter().any(|s| s.first().is_some_and(|&d| d > 1)))
    {
        let n = onnx::batch_agnostic_reshapes(&mut proto);
        log::debug!("{n} Reshape target shape(s) made batch-agnostic for a batch > 1");
    }
    let embedded = onnx::embedded_manifest(&proto)?;
    let signature = onnx::embedded_signature(&proto);
    let (sha256, packed_base) = onnx::sha256_and_packed_base(
        bytes,
        onnx::embedded_manifest_text(&proto),
        signature,
        embedded.as_ref().and_then(|m| m.sha256.as_deref()),
    );
    if !options.trusted_keys.is_empty() {
        let replaced =
            options.manifest.is_some() || options.manifest_path.is_some() || sidecar.is_some();
        check_signature(&proto, options, replaced, packed_base.as_ref())?;
    }
    let (manifest, source) = match (options.given_manifest()?, sidecar, embedded) {
        (Some(m), _, _) => (Some(m), Some(ManifestSource::Options)),
        (None, Some(m), _) => (Some(m), Some(ManifestSource::Sidecar)),
        (None, None, Some(m)) => (Some(m), Some(ManifestSource::Embedded)),
        (None, None, None) => (None, None),
    };
    // Every manifest, wherever it came from, is validated here and only here.
    let manifest = match manifest {
        Some(mut m) => {
            m.validate()?;
            if let Some(labels) = &options.labels {
                m.output.labels = labels.clone();
                m.output.labels_file = None;
            }
            Some(m)
        }
        None if options.labels.is_some() => {
            return Err(Error::InvalidArgument(
                "labels were given but the model has no manifest to attach them to: pass a \
                 manifest too"
                    .into(),
            ))
        }
        None => None,
    };
    if let (true, Some(expected)) = (
        options.verify_integrity,
        manifest.as_ref().and_then(|m| m.sha256.clone()),
    ) {
        // An embedded manifest records the digest of the model before packing.
        let actual = match (source, packed_base) {
            (Some(ManifestSource::Embedded), Some(base)) => base?,
            _ => sha256.clone(),
        };
        if !actual.eq_ignore_ascii_case(&expected) {
            return Err(Error::Integrity { expected, actual });
        }
    }
    onnx::check_operators(&proto, |op| onnx_front().op_register.0.contains_key(op))?;
    onnx::check_quantized_types(&proto)?;
    onnx::check_attributes(&proto)?;
    if let Some((node, elements)) = onnx::largest_constant_request(&proto)? {
        log::debug!("largest constant-sized tensor: {elements} elements at '{node}'");
        // 4 bytes an element: the least any tensor tract allocates for it will take.
        limits.check(Limit::MaxPlanBytes, elements.saturating_mul(4))?;
    }

    let dequantized = int8::dequantized_initializers(&proto);
    let mut model = onnx_front()
        .model_for_proto_model(dequantized.as_ref().unwrap_or(&proto))
        .map_err(|e| Error::ModelFormat(tract_chain(&e)))?;
    drop(dequantized);
    let image_size = manifest
        .as_ref()
        .and_then(|m| Some((m.input.layout, m.input.size.as_deref()?)));
    let (inputs, dynamic) = pin_inputs(&mut model, &proto, options, image_size)?;
    let mut typed = model
        .into_typed()
        .map_err(|e| Error::ModelFormat(tract_chain(&e)))?;
    plan::check(&typed, limits)?;
    let optimization =
        |what: &str, e: TractError| Error::Optimization(format!("{what}: {}", tract_chain(&e)));
    let repairs = repair::quantized_non_elementwise_chains(&mut typed)
        .map_err(|e| optimization("repairing the graph", e))?;
    let (quantized, compute) = onnx::quantized_compute_nodes(&proto);
    let (macs, quantized_macs) = mac_estimate(&typed, &quantized)?;
    if options.ledge_kernels {
        int8::quantized_convs(&mut typed, &proto, isa, threads)
            .and_then(|_| int8::fold_constants(&mut typed))
            .and_then(|_| int8::float_depthwise(&mut typed, isa, threads))
            .map_err(|e| optimization("int8 pass", e))?;
    }
    let mut optimized = typed
        .into_optimized()
        .map_err(|e| optimization("optimizing", e))?;
    if options.ledge_kernels {
        int8::vectorized_quantize(&mut optimized)
            .and_then(|_| int8::fused_quantized_adds(&mut optimized))
            .map_err(|e| optimization("int8 pass", e))?;
    }
    let outputs = output_specs(&optimized, &proto)?;
    let mut manifest = manifest;
    if let Some(m) = manifest.as_mut().filter(|m| m.task == Task::Classify) {
        resolve_scores_output(m, &outputs);
        let producer = onnx::scores_producer(&proto, m.output.scores.as_deref());
        if let (Some(("Softmax", output)), OutputKind::Logits) = (producer, m.output.kind) {
            return Err(Error::Manifest(format!(
                "the manifest declares output.kind = \"logits\" but output '{output}' comes from a \
                 Softmax in the graph: its scores are probabilities already (a second softmax \
                 would flatten them); declare kind = \"probabilities\""
            )));
        }
    }
    let plan = optimized
        .into_runnable()
        .map_err(|e| optimization("planning", e))?;

    let info = ModelInfo {
        inputs: inputs.clone(),
        outputs,
        file_size: bytes.len() as u64,
        sha256,
        op_histogram: onnx::op_histogram(&proto),
        parameters: onnx::parameter_count(&proto),
        macs,
        quantized_macs,
        compute_nodes: compute.len() as u64,
        quantized_compute_nodes: quantized.len() as u64,
        manifest,
        manifest_source: source,
        repairs,
    };
    log::info!(
        "loaded model {} ({} bytes, {} MACs) in {:.1} ms",
        info.manifest
            .as_ref()
            .map_or("(no manifest)", |m| m.name.as_str()),
        info.file_size,
        info.macs,
        started.elapsed().as_secs_f64() * 1e3
    );
    let engine = Engine {
        plan,
        pool,
        inputs,
        dynamic,
        max_tensor_elements: limits.max_tensor_elements,
    };
    Ok((engine, info))
}

/// A classifier manifest that names no scores output reads the first one; when that one does
/// not have one class per label but exactly one other f32 output does (a model that returns
/// `(features, logits)`), that output holds the scores, and the manifest now names it.
fn resolve_scores_output(m: &mut Manifest, outputs: &[TensorSpec]) {
    let labels = m.output.labels.len() as i64;
    if m.output.scores.is_some() || labels == 0 {
        return;
    }
    let fits = |o: &TensorSpec| {
        o.dtype == DType::F32 && o.shape.len() <= 2 && o.shape.last() == Some(&labels)
    };
    if outputs.first().is_none_or(fits) {
        return;
    }
    if let [only] = outputs.iter().filter(|o| fits(o)).collect::<Vec<_>>()[..] {
        log::info!(
            "the manifest names no scores output and the first output does not have {labels} \
             classes; output '{}' has: classifying with it (name it with output.scores)",
            only.name
        );
        m.output.scores = Some(only.name.clone());
    }
}

/// Verifies the package's signature against [`LoadOptions::trusted_keys`]: the embedded
/// manifest must be the one in use (`replaced` says another one was given), and the signature
/// must be a trusted key's over the model's pre-packing sha256 and that manifest.
fn check_signature(
    proto: &ModelProto,
    options: &LoadOptions,
    replaced: bool,
    packed_base: Option<&Result<String>>,
) -> Result<()> {
    let keys = options
        .trusted_keys
        .iter()
        .map(|k| crate::signing::public_key(k))
        .collect::<Result<Vec<_>>>()?;
    let unsigned = |detail: &str| Error::Signature {
        problem: crate::SignatureProblem::Unsigned,
        detail: detail.into(),
    };
    if replaced {
        return Err(unsigned(
            "trusted keys were given, and the manifest in use comes from the load options or a \
             sidecar file, which no signature covers: load the signed package as it is",
        ));
    }
    let manifest = proto
        .metadata_props
        .iter()
        .find(|p| p.key == crate::manifest::METADATA_KEY)
        .map(|p| p.value.as_str());
    let (Some(manifest), Some(base)) = (manifest, packed_base) else {
        return Err(unsigned(
            "the model has no embedded manifest and no signature, and trusted keys were given: \
             sign it with `ledge pack MODEL --manifest M.toml --sign ledge.key`",
        ));
    };
    let base = match base {
        Ok(base) => base.as_str(),
        // The appended fields are not where `pack` put them: the file changed after signing.
        Err(_) => "re-serialized",
    };
    crate::signing::verify(onnx::embedded_signature(proto), &keys, base, manifest)
}

/// The inputs an ONNX model declares, as its file says (before any pinning): name, shape with
/// −1 for every dimension left dynamic (a symbolic batch, height or width), and element type.
/// Cheap: the protobuf is decoded, no graph is built. For tools that must give shapes before
/// loading (the CLI's `--input-shape NAME=…`, `run` taking the shapes of its tensors).
///
/// # Errors
/// [`Error::ModelFormat`] for bytes that are no ONNX model or an input of an element type
/// Ledge does not support.
pub fn declared_inputs(bytes: &[u8]) -> Result<Vec<TensorSpec>> {
    let proto = onnx::decode(bytes)?;
    let Some(graph) = proto.graph.as_ref() else {
        return Ok(vec![]);
    };
    let constant: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    graph
        .input
        .iter()
        .filter(|i| !constant.contains(i.name.as_str()))
        .map(|i| declared_input(graph, &i.name).map(|(_, spec, _)| spec))
        .collect()
}

/// The environment variable that forces an instruction set when [`LoadOptions::isa`] is unset.
pub const ISA_ENV: &str = "LEDGE_ISA";

/// The int8 kernels' instruction set: [`LoadOptions::isa`], else `LEDGE_ISA`, else the best this
/// CPU has.
fn chosen_isa(options: &LoadOptions) -> Result<Isa> {
    let from_env = std::env::var(ISA_ENV).ok().filter(|v| !v.is_empty());
    let (name, source) = match (&options.isa, from_env) {
        (Some(n), _) => (n.clone(), "LoadOptions::isa"),
        (None, Some(n)) => (n, ISA_ENV),
        (None, None) => return Ok(Isa::detect()),
    };
    if name == "auto" {
        return Ok(Isa::detect());
    }
    let names = || {
        Isa::all()
            .iter()
            .map(|i| i.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let isa = Isa::parse(&name).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{source} = \"{name}\" is no instruction set Ledge knows: use auto or one of {}",
            names()
        ))
    })?;
    if !isa.supported() {
        return Err(Error::InvalidArgument(format!(
            "{source} = \"{name}\": this CPU cannot run it; it can run {} (or use auto)",
            supported_isas().join(", ")
        )));
    }
    Ok(isa)
}

/// The names of the int8 instruction sets this CPU runs, most portable first.
pub fn supported_isas() -> Vec<&'static str> {
    Isa::all()
        .iter()
        .filter(|i| i.supported())
        .map(|i| i.name())
        .collect()
}

/// The instruction set a load with these options would use (for `ledge inspect`).
///
/// # Errors
/// [`Error::InvalidArgument`] for a name Ledge does not know or this CPU cannot run.
pub fn selected_isa(options: &LoadOptions) -> Result<&'static str> {
    chosen_isa(options).map(Isa::name)
}

/// Runs `f`, turning a panic into the error `kind` makes of its message. tract asserts
/// invariants that a malformed model can break; the caller gets an error, the app keeps running.
/// (Needs `panic = "unwind"`, as on every target but wasm.)
pub(crate) fn guarded<T>(kind: fn(String) -> Error, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(kind(format!(
            "the engine failed on this input: {}",
            panic_message(panic.as_ref())
        )))
    })
}

/// Renders a tract error with its whole context chain on one line.
pub(crate) fn tract_chain(e: &TractError) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

fn dtype_from_tract(dt: DatumType) -> Option<DType> {
    match dt {
        DatumType::F32 => Some(DType::F32),
        DatumType::I8 => Some(DType::I8),
        DatumType::U8 => Some(DType::U8),
        DatumType::I32 => Some(DType::I32),
        DatumType::I64 => Some(DType::I64),
        _ => None,
    }
}

pub(crate) fn to_tract(t: &Tensor) -> Result<tract_onnx::prelude::Tensor> {
    fn build<T: Datum + Copy>(shape: &[usize], v: &[T]) -> Result<tract_onnx::prelude::Tensor> {
        tract_onnx::prelude::Tensor::from_shape(shape, v)
            .map_err(|e| Error::Inference(e.to_string()))
    }
    match t.data() {
        TensorData::F32(v) => build(t.shape(), v),
        TensorData::I8(v) => build(t.shape(), v),
        TensorData::U8(v) => build(t.shape(), v),
        TensorData::I32(v) => build(t.shape(), v),
        TensorData::I64(v) => build(t.shape(), v),
    }
}

pub(crate) fn from_tract(t: &tract_onnx::prelude::Tensor) -> Result<Tensor> {
    fn elems<T: Datum + Copy>(t: &tract_onnx::prelude::Tensor) -> Result<Vec<T>> {
        t.try_as_plain_ram()
            .and_then(|view| view.as_slice::<T>().map(<[T]>::to_vec))
            .map_err(|e| Error::Inference(e.to_string()))
    }
    let data = match t.datum_type() {
        DatumType::F32 => TensorData::F32(elems(t)?),
        DatumType::I8 => TensorData::I8(elems(t)?),
        DatumType::U8 => TensorData::U8(elems(t)?),
        DatumType::I32 => TensorData::I32(elems(t)?),
        DatumType::I64 => TensorData::I64(elems(t)?),
        other => {
            let t = t.cast_to::<f32>().map_err(|_| {
                Error::Inference(format!("output dtype {other:?} has no Ledge equivalent"))
            })?;
            TensorData::F32(elems(&t)?)
        }
    };
    Tensor::new(t.shape().to_vec(), data)
}

/// An input as its ONNX file declares it: tract's type, the spec with −1 for every dimension
/// left dynamic, and each dimension's symbol (empty when it has none or is fixed).
fn declared_input(
    graph: &tract_onnx::pb::GraphProto,
    name: &str,
) -> Result<(DatumType, TensorSpec, Vec<String>)> {
    use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
    use tract_onnx::pb::type_proto::Value;
    let tensor_type = graph
        .input
        .iter()
        .find(|i| i.name == name)
        .and_then(|v| v.r#type.as_ref())
        .and_then(|t| match &t.value {
            Some(Value::TensorType(tt)) => Some(tt),
            _ => None,
        })
        .ok_or_else(|| Error::ModelFormat(format!("input '{name}' declares no tensor type")))?;
    let (datum, dtype) = tract_onnx::pb::tensor_proto::DataType::try_from(tensor_type.elem_type)
        .ok()
        .and_then(|dt| DatumType::try_from(dt).ok())
        .and_then(|d| Some((d, dtype_from_tract(d)?)))
        .ok_or_else(|| {
            Error::ModelFormat(format!(
                "input '{name}' has element type #{} which Ledge does not support (f32, i8, u8, \
                 i32, i64)",
                tensor_type.elem_type
            ))
        })?;
    let dims = tensor_type
        .shape
        .as_ref()
        .map(|s| s.dim.as_slice())
        .unwrap_or_default();
    let shape = dims
        .iter()
        .map(|d| match d.value {
            Some(Dim::DimValue(v)) if v > 0 => v,
            _ => -1,
        })
        .collect();
    let symbols = dims
        .iter()
        .map(|d| match &d.value {
            Some(Dim::DimParam(p)) => p.clone(),
            _ => String::new(),
        })
        .collect();
    let spec = TensorSpec {
        name: name.to_string(),
        shape,
        dtype,
    };
    Ok((datum, spec, symbols))
}

/// Sets every input's shape: [`LoadOptions::input_shapes`], else the ONNX shape with the batch
/// dimension at [`LoadOptions::batch`] and, for the image input, a dynamic height and width at
/// `image_size` (the manifest's `[input] size`). Returns the pinned specs and, per input, which
/// dimensions the graph leaves dynamic.
fn pin_inputs(
    model: &mut InferenceModel,
    proto: &ModelProto,
    options: &LoadOptions,
    image_size: Option<(crate::manifest::Layout, &[u32])>,
) -> Result<(Vec<TensorSpec>, Vec<Vec<bool>>)> {
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
        return Err(Error::InvalidArgument(
            "batch must be at least 1, got 0".into(),
        ));
    }
    let mut specs = vec![];
    let mut dynamic = vec![];
    for (ix, name) in names.iter().enumerate() {
        let (datum, declared, symbols) = declared_input(graph, name)?;
        let shape: Vec<usize> = match &options.input_shapes {
            Some(shapes) => shapes[ix]
                .iter()
                .map(|&d| {
                    usize::try_from(d).map_err(|_| {
                        Error::InvalidArgument(format!("input_shapes: {d} does not fit"))
                    })
                })
                .collect::<Result<_>>()?,
            None => {
                // The manifest's [height, width] for the image input, at its layout's axes.
                let (h, w) = match image_size.map(|(layout, _)| layout) {
                    Some(crate::manifest::Layout::NHWC) => (1, 2),
                    _ => (2, 3),
                };
                let from_manifest = |axis: usize| -> Option<usize> {
                    let (_, size) = image_size.filter(|_| ix == 0 && declared.shape.len() == 4)?;
                    match axis {
                        a if a == h => Some(size[0] as usize),
                        a if a == w => Some(size[1] as usize),
                        _ => None,
                    }
                };
                declared
                    .shape
                    .iter()
                    .enumerate()
                    .map(|(axis, &d)| match d {
                        d if d > 0 => Ok(d as usize),
                        _ if axis == 0 => Ok(options.batch as usize),
                        _ => from_manifest(axis)
                            .ok_or_else(|| unpinned(&declared, &symbols[axis], axis)),
                    })
                    .collect::<Result<_>>()?
            }
        };
        dynamic.push(declared.shape.iter().map(|&d| d < 0).collect());
        let fact = InferenceFact::dt_shape(datum, shape.clone());
        model
            .set_input_fact(ix, fact)
            .map_err(|e| Error::ModelFormat(tract_chain(&e)))?;
        specs.push(TensorSpec {
            shape: shape.iter().map(|d| *d as i64).collect(),
            ..declared
        });
    }
    Ok((specs, dynamic))
}

/// The error for a dynamic dimension no shape was given for: which, and every way to give one.
fn unpinned(declared: &TensorSpec, symbol: &str, axis: usize) -> Error {
    let name = &declared.name;
    let what = if symbol.is_empty() {
        String::new()
    } else {
        format!(" (named '{symbol}')")
    };
    let example: Vec<String> = declared
        .shape
        .iter()
        .enumerate()
        .map(|(a, &d)| match d {
            d if d > 0 => d.to_string(),
            _ if a == 0 => "1".into(),
            _ => "N".into(),
        })
        .collect();
    Error::InvalidArgument(format!(
        "input '{name}' has a dynamic dimension {axis}{what}, and Ledge plans a model for fixed \
         sizes: give the input's shape when loading (CLI: --input-shape {name}={}; the load \
         option input_shapes, inputShapes in Kotlin and JavaScript; for an image model, the \
         manifest's [input] size = [height, width]), or pass tensors to run (the CLI's run takes \
         the shapes of the tensors it is given)",
        example.join(",")
    ))
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
                dtype: dtype_from_tract(fact.datum_type).unwrap_or(DType::F32),
            })
        })
        .collect()
}

/// Total MACs per run from tract's cost model, and the MACs of the named quantized nodes.
fn mac_estimate(model: &TypedModel, quantized: &[String]) -> Result<(u64, u64)> {
    let mut total = 0u64;
    let mut q = 0u64;
    for node in model.nodes() {
        let (macs, _) = profile::node_macs(model, node)?;
        total += macs;
        if quantized.contains(&node.name) {
            q += macs;
        }
    }
    Ok((total, q))
}
