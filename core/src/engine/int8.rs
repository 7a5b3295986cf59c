//! Real int8 execution for QDQ models.
//!
//! tract 0.23.9 runs a QDQ model's convolutions in float between `QuantizeLinear` and
//! `DequantizeLinear` steps. This pass finds each `DequantizeLinear(u8) → Conv → QuantizeLinear(u8)`
//! in the typed model and replaces it with one [`op::QConv`] that reads the u8 tensor, multiplies
//! by the model's own int8 weights in i32 and writes the requantized u8 tensor, as onnxruntime's
//! QLinearConv does. Weights, scales and zero points come from the ONNX file (tract has already
//! folded them into float constants by then); the geometry comes from tract's typed `Conv`.
//!
//! Depthwise convolutions always take the integer path (its kernel is portable and beats tract's
//! float one); 1×1 and regular convolutions only where a fast int8 matrix product exists
//! ([`crate::int8_matmul_kernel`]), since tract's float kernels beat the portable one.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_core::ops::element_wise::ElementWiseOp;
use tract_core::ops::nn::DataFormat;
use tract_core::ops::quant::{DequantizeLinearF32, QuantizeLinearU8};
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{ModelProto, NodeProto, TensorProto};
use tract_onnx::prelude::*;

use super::onnx;
use super::ops::{self as op, Block, Geometry, Method, QConv};
use crate::kernels::int8::{self as kernels, GemmWeights, Isa, Requant};

/// What the ONNX file says about one quantized convolution.
#[derive(Debug)]
struct ConvQuant {
    /// OIHW.
    weights: Vec<i8>,
    /// One per output channel.
    w_scale: Vec<f32>,
    /// With the scale each value was quantized with.
    bias: Option<(Vec<i32>, Vec<f32>)>,
    y_scale: f32,
    y_zero: u8,
}

/// The graph with every `DequantizeLinear` of initializers (the weights and biases of a QDQ
/// model) replaced by the float initializer it computes, or `None` when there is none. tract
/// evaluates those nodes during analysis through generic broadcasting, which took 60 % of
/// EfficientNet-Lite0's load time; this is one pass over the bytes. The values are tract's:
/// `(q − zero_point) · scale`, per tensor or along `axis`.
pub(crate) fn dequantized_initializers(proto: &ModelProto) -> Option<ModelProto> {
    let graph = proto.graph.as_ref()?;
    let inits: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let mut folded: Vec<(usize, TensorProto)> = vec![];
    for (i, n) in graph.node.iter().enumerate() {
        if n.op_type != "DequantizeLinear" || !n.domain.is_empty() {
            continue;
        }
        let Some(out) = n.output.first().filter(|o| !outputs.contains(&o.as_str())) else {
            continue;
        };
        let get = |k: usize| {
            n.input
                .get(k)
                .filter(|s| !s.is_empty())
                .map(|s| inits.get(s.as_str()))
        };
        let (Some(Some(x)), Some(Some(scale))) = (get(0), get(1)) else {
            continue;
        };
        let zero = match get(2) {
            None => None,
            Some(Some(z)) => Some(z),
            Some(None) => continue, // a zero point computed at run time
        };
        if let Some(t) = dequantize(n, x, scale, zero) {
            folded.push((
                i,
                TensorProto {
                    name: out.clone(),
                    ..t
                },
            ));
        }
    }
    if folded.is_empty() {
        return None;
    }
    let mut proto = proto.clone();
    let graph = proto.graph.as_mut()?;
    for (i, _) in folded.iter().rev() {
        graph.node.remove(*i);
    }
    graph.initializer.extend(folded.into_iter().map(|(_, t)| t));
    Some(proto)
}

/// `(x − zero) · scale` as a FLOAT tensor, per tensor or along the node's `axis`.
fn dequantize(
    node: &NodeProto,
    x: &TensorProto,
    scale: &TensorProto,
    zero: Option<&&TensorProto>,
) -> Option<TensorProto> {
    let values = onnx::ints(x, usize::MAX)?;
    let scales = onnx::floats(scale, usize::MAX)?;
    let zeros = match zero {
        Some(z) => onnx::ints(z, usize::MAX)?,
        None => vec![0],
    };
    let rank = x.dims.len() as i64;
    let axis = node
        .attribute
        .iter()
        .find(|a| a.name == "axis")
        .map_or(1, |a| a.i);
    let axis = usize::try_from(if axis < 0 { axis + rank } else { axis }).ok();
    // Elements per step along the axis, and the axis length, for per-axis parameters.
    let (inner, len) = match (scales.len(), axis) {
        (1, _) if zeros.len() == 1 => (1, 1),
        (n, Some(a)) if a < x.dims.len() && x.dims[a] as usize == n && zeros.len() <= n => {
            let inner = x.dims[a + 1..]
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?))?;
            (inner, n)
        }
        _ => return None,
    };
    let mut raw = Vec::with_capacity(values.len() * 4);
    for (block, run) in values.chunks(inner.max(1)).enumerate() {
        let c = block % len;
        let z = zeros.get(c).or(zeros.first()).copied().unwrap_or(0);
        for &q in run {
            let v = (q - z) as f32 * scales[c];
            raw.extend_from_slice(&v.to_le_bytes());
        }
    }
    Some(TensorProto {
        dims: x.dims.clone(),
        data_type: DataType::Float as i32,
        raw_data: raw,
        ..TensorProto::default()
    })
}

/// Fewest multiply-adds (per image, in matrix-product units) a convolution needs before its
/// output channels are split across threads: below it (~10 µs on one x86 core) the hand-off and
/// the smaller tiles cost more than they save. Measured on EfficientNet-Lite0 (2 vCPUs, AVX-512
/// VNNI): 2²⁰ gave a lower minimum and median than 2²³.
const MIN_PARALLEL_MACS: usize = 1 << 20;

/// What a depthwise multiply-add costs in matrix-product ones (measured on EfficientNet-Lite0,
/// AVX-512 VNNI: ~10 against ~90 GMAC/s).
const DEPTHWISE_COST: usize = 8;

/// Output pixels per image of a convolution over an input of `shape`: 0 when the shape is not
/// concrete, `None` when the input does not fit the geometry.
fn output_pixels(geo: &Geometry, shape: &ShapeFact) -> Option<usize> {
    match shape.as_concrete() {
        Some(&[_, _, h, w]) => {
            let [_, _, oh, ow] = geo.output_shape("Conv", &[1, geo.cin, h, w]).ok()?;
            Some(oh * ow)
        }
        _ => Some(0),
    }
}

/// How many blocks of output channels a convolution of `work` (matrix-product) multiply-adds is
/// split into.
fn blocks_for(threads: usize, work: usize) -> usize {
    if work < MIN_PARALLEL_MACS {
        1
    } else {
        threads
    }
}

/// Largest per-run scratch buffer (im2col) a Ledge kernel may allocate.
const MAX_SCRATCH_BYTES: usize = 64 << 20;

/// Rewrites every quantized convolution it can into integer execution; returns how many.
pub(crate) fn quantized_convs(
    model: &mut TypedModel,
    proto: &ModelProto,
    isa: Isa,
    threads: usize,
) -> TractResult<usize> {
    let params = conv_quant_params(proto);
    let mut rewritten = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let (Some(conv), Some(q)) = (node.op_as::<Conv>(), params.get(node.name.as_str())) else {
            continue;
        };
        let Some(replacement) = qconv_for(model, node, conv, q, isa, threads)? else {
            log::debug!("conv '{}' stays in float", node.name);
            continue;
        };
        let (x, q_out) = replacement.wires;
        let mut patch = TypedModelPatch::default();
        let tapped = patch.tap_model(model, x)?;
        let y = patch.wire_node(
            format!("{}.ledge_int8", node.name),
            replacement.op,
            &[tapped],
        )?;
        patch.shunt_outside(model, q_out, y[0])?;
        patch.apply(model)?;
        rewritten += 1;
    }
    log::info!("{rewritten} convolutions run in int8");
    Ok(rewritten)
}

/// Replaces tract's scalar `QuantizeLinearU8` with [`op::QuantizeU8`] (same formula, vectorized).
/// Run on the optimized model, so tract's own folds (quantized element-wise chains into lookup
/// tables) have happened first. Returns how many nodes were replaced.
pub(crate) fn vectorized_quantize(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(q) = node
            .op_as::<ElementWiseOp>()
            .and_then(|e| e.0.downcast_ref::<QuantizeLinearU8>())
        else {
            continue;
        };
        if model.outlet_fact(node.inputs[0])?.datum_type != f32::datum_type() {
            continue;
        }
        let op = op::QuantizeU8 {
            scale_recip: q.scale,
            zero: q.zero_point,
        };
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs, op)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

/// Fuses every `DequantizeLinear(u8)`, `DequantizeLinear(u8)` → `Add` → [`op::QuantizeU8`] of
/// one shape (a QDQ model's residual connections; EfficientNet-Lite0 has 9) into one
/// [`op::QAddU8`], with the same bits. Run after [`vectorized_quantize`]. Returns how many.
pub(crate) fn fused_quantized_adds(model: &mut TypedModel) -> TractResult<usize> {
    use tract_core::ops::binary::OptBinUnicast;
    let mut fused = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(y) = node.op_as::<op::QuantizeU8>() else {
            continue;
        };
        let add = model.node(node.inputs[0].node);
        let is_add = add
            .op_as::<OptBinUnicast>()
            .is_some_and(|o| o.binop.name() == "Add");
        if !is_add || add.outputs[0].successors.len() != 1 {
            continue;
        }
        // The u8 tensor a DequantizeLinear of the add reads, with its scale and zero point.
        let dequantized = |slot: usize| -> TractResult<Option<(OutletId, (f32, i32))>> {
            let dq = model.node(add.inputs[slot].node);
            let Some(op) = dq.op_as::<DequantizeLinearF32>() else {
                return Ok(None);
            };
            let x = dq.inputs[0];
            Ok((model.outlet_fact(x)?.datum_type == u8::datum_type())
                .then_some((x, (op.scale, op.zero_point))))
        };
        let (Some((a, a_q)), Some((b, b_q))) = (dequantized(0)?, dequantized(1)?) else {
            continue;
        };
        if model.outlet_fact(a)?.shape != model.outlet_fact(b)?.shape {
            continue;
        }
        let op = op::QAddU8 {
            a: a_q,
            b: b_q,
            y: y.clone(),
        };
        let mut patch = TypedModelPatch::default();
        let inputs = [patch.tap_model(model, a)?, patch.tap_model(model, b)?];
        let fused_add = patch.wire_node(format!("{}.ledge_qadd", add.name), op, &inputs)?;
        patch.shunt_outside(model, OutletId::new(id, 0), fused_add[0])?;
        patch.apply(model)?;
        fused += 1;
    }
    Ok(fused)
}

/// Folds every node whose inputs are all constant into the constant it computes, whatever its
/// size. tract keeps dequantized weights that would grow beyond its folding budget (the int8 →
/// f32 weights of a QDQ `Gemm`, for one) as a `Cast → Mul` computed on every run; Ledge trades
/// that memory (counted by the plan limit) for the time. Returns how many nodes were folded.
pub(crate) fn fold_constants(model: &mut TypedModel) -> TractResult<usize> {
    use tract_core::ops::konst::Const;
    use tract_core::ops::source::TypedSource;
    let mut folded = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        if node.op_is::<Const>() || node.op_is::<TypedSource>() || node.inputs.is_empty() {
            continue;
        }
        let Some(inputs) = model
            .node_input_facts(id)?
            .iter()
            .map(|f| f.konst.clone().map(|k| k.into_tvalue()))
            .collect::<Option<TVec<_>>>()
        else {
            continue;
        };
        let Ok(Some(outputs)) = node.op.eval_out_of_plan(inputs) else {
            continue;
        };
        let name = node.name.clone();
        let mut patch = TypedModelPatch::default();
        for (slot, value) in outputs.into_iter().enumerate() {
            let wire = patch.add_const(
                format!("{name}.ledge_folded.{slot}"),
                value.into_arc_tensor(),
            )?;
            patch.shunt_outside(model, OutletId::new(id, slot), wire)?;
        }
        patch.apply(model)?;
        folded += 1;
    }
    Ok(folded)
}

struct Replacement {
    op: QConv,
    /// The u8 tensor to read, and the `QuantizeLinear` output the new op takes over.
    wires: (OutletId, OutletId),
}

/// The geometry of a 2-D NCHW/OIHW float convolution without dilation and with explicit
/// padding: the convolutions Ledge's kernels take.
fn geometry(conv: &Conv) -> Option<Geometry> {
    let spec = &conv.pool_spec;
    let ones = |v: &Option<TVec<usize>>| v.as_ref().is_none_or(|v| v.iter().all(|&d| d == 1));
    if conv.q_params.is_some()
        || spec.data_format != DataFormat::NCHW
        || conv.kernel_fmt != KernelFormat::OIHW
        || spec.kernel_shape.len() != 2
        || !ones(&spec.dilations)
    {
        return None;
    }
    let pad = match &spec.padding {
        PaddingSpec::Valid => [0; 4],
        PaddingSpec::Explicit(b, a) if b.len() == 2 && a.len() == 2 => [b[0], b[1], a[0], a[1]],
        _ => return None,
    };
    let stride = spec
        .strides
        .as_ref()
        .map_or((1, 1), |s| (s[0], s.get(1).copied().unwrap_or(1)));
    if stride.0 == 0 || stride.1 == 0 {
        return None;
    }
    Some(Geometry {
        cin: spec.input_channels,
        cout: spec.output_channels,
        kh: spec.kernel_shape[0],
        kw: spec.kernel_shape[1],
        stride,
        pad,
    })
}

/// Replaces every remaining float depthwise convolution (constant weights and bias) with
/// [`op::DepthwiseF32`]. Returns how many.
pub(crate) fn float_depthwise(
    model: &mut TypedModel,
    isa: Isa,
    threads: usize,
) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let Some(op) = float_depthwise_op(model, model.node(id), isa, threads)? else {
            continue;
        };
        let node = model.node(id);
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs[..1], op)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

fn float_depthwise_op(
    model: &TypedModel,
    node: &TypedNode,
    isa: Isa,
    threads: usize,
) -> TractResult<Option<op::DepthwiseF32>> {
    let Some(geo) = node.op_as::<Conv>().and_then(|conv| {
        let geo = geometry(conv)?;
        (conv.group == geo.cin && geo.cout == geo.cin).then_some(geo)
    }) else {
        return Ok(None);
    };
    let facts = model.node_input_facts(node.id)?;
    let [x, w, b] = facts.as_slice() else {
        return Ok(None);
    };
    let (Some(w), Some(b)) = (&w.konst, &b.konst) else {
        return Ok(None);
    };
    if x.datum_type != f32::datum_type()
        || w.datum_type() != f32::datum_type()
        || b.datum_type() != f32::datum_type()
    {
        return Ok(None);
    }
    let (w, b) = (w.try_as_plain_ram()?, b.try_as_plain_ram()?);
    let (w, b) = (w.as_slice::<f32>()?, b.as_slice::<f32>()?);
    let c = geo.cin;
    let bias = match b.len() {
        1 => vec![b[0]; c],
        n if n == c => b.to_vec(),
        _ => return Ok(None),
    };
    if w.len() != c * geo.kh * geo.kw {
        return Ok(None);
    }
    let Some(pixels) = output_pixels(&geo, &x.shape) else {
        return Ok(None);
    };
    let work = c * geo.kh * geo.kw * pixels * DEPTHWISE_COST;
    let blocks = op::split(c, blocks_for(threads, work), kernels::DW_LANES);
    Ok(Some(op::DepthwiseF32 {
        geo,
        weights: Arc::new(w.to_vec()),
        bias: Arc::new(bias),
        isa,
        blocks,
    }))
}

/// The integer op for `node` when its neighbourhood is the QDQ pattern and its geometry is one
/// the kernels cover.
fn qconv_for(
    model: &TypedModel,
    node: &TypedNode,
    conv: &Conv,
    q: &ConvQuant,
    isa: Isa,
    threads: usize,
) -> TractResult<Option<Replacement>> {
    let Some(geo) = geometry(conv) else {
        return Ok(None);
    };
    // Input: DequantizeLinear of a u8 tensor.
    let dq_node = model.node(node.inputs[0].node);
    let Some(dq) = dq_node.op_as::<DequantizeLinearF32>() else {
        return Ok(None);
    };
    let x = dq_node.inputs[0];
    let Ok(x_zero) = u8::try_from(dq.zero_point) else {
        return Ok(None);
    };
    if model.outlet_fact(x)?.datum_type != u8::datum_type() {
        return Ok(None);
    }
    // Output: read by one QuantizeLinear(u8) only, with the zero point the file states.
    let out = OutletId::new(node.id, 0);
    let [succ] = model.outlet_successors(out) else {
        return Ok(None);
    };
    let q_node = model.node(succ.node);
    let is_q = q_node
        .op_as::<ElementWiseOp>()
        .and_then(|e| e.0.downcast_ref::<QuantizeLinearU8>())
        .is_some_and(|op| op.zero_point == q.y_zero);
    if !is_q || model.output_outlets()?.contains(&out) {
        return Ok(None);
    }

    let (cin, cout, group) = (geo.cin, geo.cout, conv.group);
    let (kh, kw, stride, pad) = (geo.kh, geo.kw, geo.stride, geo.pad);
    let per_filter = cin / group.max(1) * kh * kw;
    if q.weights.len() != cout * per_filter || q.w_scale.len() != cout {
        return Ok(None);
    }
    let Some(pixels) = output_pixels(&geo, &model.outlet_fact(x)?.shape) else {
        return Ok(None);
    };
    let gemm = group == 1 && kernels::int8_gemm_worthwhile(isa);
    let im2col = (kh, kw, stride, pad) != (1, 1, (1, 1), [0; 4]);
    if gemm {
        // The im2col scratch is per run and outside tract's plan: bound it like a tensor.
        if pixels == 0 || im2col && per_filter.saturating_mul(pixels) > MAX_SCRATCH_BYTES {
            return Ok(None);
        }
    } else if !(group == cin && cin == cout && kh * kw <= kernels::DW_MAX_TAPS) {
        return Ok(None);
    }
    let x_scale = dq.scale;
    let mut bias = vec![0i32; cout];
    if let Some((values, scales)) = &q.bias {
        // The bias must be in accumulator units: quantized with x_scale · w_scale.
        let consistent = values.len() == cout
            && scales.iter().zip(&q.w_scale).all(|(&b, &w)| {
                let expected = x_scale * w;
                (b - expected).abs() <= 1e-5 * expected.abs()
            });
        if !consistent {
            return Ok(None);
        }
        bias.clone_from(values);
    }
    let scale: Vec<f32> = q.w_scale.iter().map(|&w| x_scale * w / q.y_scale).collect();
    let macs = cout * per_filter * pixels;
    // Output channels in blocks of whole register tiles, one per thread: a block that ended
    // mid-tile would leave the AVX-512 product rows to compute one at a time, or half the
    // small-plane depthwise kernel's lanes empty.
    let work = if gemm { macs } else { macs * DEPTHWISE_COST };
    let align = if gemm {
        isa.gemm_rows()
    } else {
        kernels::DW_LANES
    };
    let ranges = op::split(cout, blocks_for(threads, work), align);
    let requant = |r: &Range<usize>, bias: Vec<i32>| Requant {
        bias,
        scale: scale[r.clone()].to_vec(),
        zero: q.y_zero,
    };
    let method = if gemm {
        let blocks = ranges.iter().map(|r| {
            let weights = GemmWeights::new(
                r.len(),
                per_filter,
                q.weights[r.start * per_filter..r.end * per_filter].to_vec(),
            );
            // Σ (x − zx)·w = Σ x·w − zx·Σ w; the padding im2col writes is zx, i.e. zero.
            let bias = bias[r.clone()].iter().zip(weights.row_sums());
            let bias = bias.map(|(b, sum)| b - i32::from(x_zero) * sum).collect();
            Block {
                first: r.start,
                requant: requant(r, bias),
                weights,
            }
        });
        Method::Gemm {
            blocks: blocks.collect(),
            im2col,
        }
    } else {
        let taps = kh * kw;
        let blocks = ranges.iter().map(|r| Block {
            first: r.start,
            weights: q.weights[r.start * taps..r.end * taps]
                .iter()
                .map(|&v| f32::from(v))
                .collect(),
            requant: requant(r, bias[r.clone()].to_vec()),
        });
        Method::Depthwise {
            blocks: blocks.collect(),
        }
    };
    let op = QConv {
        isa,
        geo,
        x_zero,
        method: Arc::new(method),
    };
    Ok(Some(Replacement {
        op,
        wires: (x, OutletId::new(q_node.id, 0)),
    }))
}

/// Quantization parameters of every QDQ convolution in the file, by node name (and by first
/// output name, which tract uses for unnamed nodes).
fn conv_quant_params(proto: &ModelProto) -> HashMap<&str, ConvQuant> {
    let Some(graph) = proto.graph.as_ref() else {
        return HashMap::new();
    };
    let inits: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let producer = onnx::producers(graph);
    let mut consumers: HashMap<&str, Vec<&NodeProto>> = HashMap::new();
    for n in &graph.node {
        for i in &n.input {
            consumers.entry(i.as_str()).or_default().push(n);
        }
    }
    // A DequantizeLinear of initializers: (values, per-channel scales, dims) when its zero
    // point is 0.
    let dequantized = |name: &str| -> Option<(Vec<i32>, Vec<f32>, Vec<i64>)> {
        let dq = onnx::dequantized_by(&producer, name)?;
        let data = inits.get(dq.input.first()?.as_str())?;
        let values = onnx::ints(data, usize::MAX)?
            .into_iter()
            .map(|v| i32::try_from(v).ok())
            .collect::<Option<Vec<i32>>>()?;
        let scales = onnx::floats(inits.get(dq.input.get(1)?.as_str())?, usize::MAX)?;
        let axis = dq
            .attribute
            .iter()
            .find(|a| a.name == "axis")
            .map_or(1, |a| a.i);
        if scales.len() > 1 && axis != 0 {
            return None;
        }
        if let Some(zp) = dq.input.get(2).filter(|z| !z.is_empty()) {
            if onnx::ints(inits.get(zp.as_str())?, usize::MAX)?
                .iter()
                .any(|&z| z != 0)
            {
                return None;
            }
        }
        Some((values, scales, data.dims.clone()))
    };
    let mut out = HashMap::new();
    for n in graph.node.iter().filter(|n| n.op_type == "Conv") {
        let Some(found) = (|| {
            let (w, w_scale, dims) = dequantized(n.input.get(1)?)?;
            let cout = usize::try_from(*dims.first()?).ok()?;
            let w_scale = match w_scale.len() {
                1 => vec![w_scale[0]; cout],
                c if c == cout => w_scale,
                _ => return None,
            };
            let weights = w
                .into_iter()
                .map(|v| i8::try_from(v).ok())
                .collect::<Option<Vec<i8>>>()?;
            let bias = match n.input.get(2).filter(|b| !b.is_empty()) {
                Some(b) => {
                    let (values, scales, _) = dequantized(b)?;
                    let scales = if scales.len() == 1 {
                        vec![scales[0]; cout]
                    } else {
                        scales
                    };
                    Some((values, scales))
                }
                None => None,
            };
            let [q] = consumers.get(n.output.first()?.as_str())?.as_slice() else {
                return None;
            };
            if q.op_type != "QuantizeLinear" {
                return None;
            }
            let y_scale = *onnx::floats(inits.get(q.input.get(1)?.as_str())?, 1)?.first()?;
            let zp = inits.get(q.input.get(2)?.as_str())?;
            if zp.data_type != DataType::Uint8 as i32 {
                return None;
            }
            let y_zero = u8::try_from(*onnx::ints(zp, 1)?.first()?).ok()?;
            Some(ConvQuant {
                weights,
                w_scale,
                bias,
                y_scale,
                y_zero,
            })
        })() else {
            continue;
        };
        if !n.name.is_empty() {
            out.insert(n.name.as_str(), found);
        } else if let Some(o) = n.output.first() {
            out.insert(o.as_str(), found);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::AttributeProto;

    fn init(name: &str, dims: &[i64], data_type: i32, raw: Vec<u8>) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type,
            raw_data: raw,
            ..TensorProto::default()
        }
    }

    /// `DequantizeLinear` ×2 → `Add` → `QuantizeLinear` as tract optimizes and runs it, against
    /// the same graph after Ledge's passes (one `LedgeQAddU8`): every pair of u8 values, with
    /// scales that make the sum land on rounding ties, and with odd ones.
    #[test]
    fn fused_quantized_adds_give_the_same_bits_as_the_four_steps() {
        use tract_core::ops::math::add;
        use tract_core::ops::quant::quantize_linear_u8;
        let shape = [1, 256, 16, 16];
        let a: Vec<u8> = (0..1 << 16).map(|i| (i >> 8) as u8).collect();
        let b: Vec<u8> = (0..1 << 16).map(|i| i as u8).collect();
        let tensor = |v: &[u8]| Tensor::from_shape(&shape, v).unwrap().into_tvalue();
        for (a_q, b_q, y_scale, y_zero) in [
            ((0.5f32, 128), (0.25f32, 3), 0.5f32, 128u8),
            ((0.0371, 131), (0.0213, 97), 0.0419, 120),
            ((1.0, 0), (1.0, 0), 2.0, 0),
        ] {
            let mut model = TypedModel::default();
            let xa = model.add_source("a", u8::fact(shape)).unwrap();
            let xb = model.add_source("b", u8::fact(shape)).unwrap();
            let da = model
                .wire_node("da", DequantizeLinearF32::new(a_q.0, a_q.1), &[xa])
                .unwrap();
            let db = model
                .wire_node("db", DequantizeLinearF32::new(b_q.0, b_q.1), &[xb])
                .unwrap();
            let sum = model.wire_node("add", add(), &[da[0], db[0]]).unwrap();
            let y = model
                .wire_node("q", quantize_linear_u8(y_scale.recip(), y_zero), &sum)
                .unwrap();
            model.select_output_outlets(&y).unwrap();
            let optimized = model.into_optimized().unwrap();
            let run = |m: TypedModel| {
                let plan = TypedSimplePlan::new(m).unwrap();
                plan.run(tvec![tensor(&a), tensor(&b)]).unwrap().remove(0)
            };
            let expected = run(optimized.clone());

            let mut fused = optimized;
            assert_eq!(vectorized_quantize(&mut fused).unwrap(), 1);
            assert_eq!(fused_quantized_adds(&mut fused).unwrap(), 1);
            let fused = fused.into_compact().unwrap();
            assert!(
                fused.nodes().iter().any(|n| n.op_is::<op::QAddU8>())
                    && !fused
                        .nodes()
                        .iter()
                        .any(|n| n.op_is::<DequantizeLinearF32>()),
                "{fused}"
            );
            let got = run(fused);
            assert_eq!(
                got.try_as_plain_ram().unwrap().as_slice::<u8>().unwrap(),
                expected
                    .try_as_plain_ram()
                    .unwrap()
                    .as_slice::<u8>()
                    .unwrap(),
                "{a_q:?} + {b_q:?} → ({y_scale}, {y_zero})"
            );
        }
    }

    /// Per-axis and per-tensor dequantization of initializers, checked by hand.
    #[test]
    fn dequantized_initializers_compute_q_minus_zero_times_scale() {
        let q: Vec<u8> = [1i8, -2, 3, -4, 5, -6].iter().map(|&v| v as u8).collect();
        let scales: Vec<u8> = [0.5f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let node = |axis: i64, out: &str, scale: &str, zero: &str| NodeProto {
            op_type: "DequantizeLinear".into(),
            input: vec!["q".into(), scale.into(), zero.into()],
            output: vec![out.into()],
            attribute: vec![AttributeProto {
                name: "axis".into(),
                i: axis,
                ..AttributeProto::default()
            }],
            ..NodeProto::default()
        };
        let proto = ModelProto {
            graph: Some(tract_onnx::pb::GraphProto {
                node: vec![
                    node(0, "per_axis", "s2", ""),
                    node(1, "per_tensor", "s1", "z1"),
                ],
                initializer: vec![
                    init("q", &[2, 3], 3, q),
                    init("s2", &[2], 1, scales),
                    init("s1", &[], 1, 0.25f32.to_le_bytes().to_vec()),
                    init("z1", &[], 3, vec![1]),
                ],
                ..Default::default()
            }),
            ..ModelProto::default()
        };
        let folded = dequantized_initializers(&proto).unwrap();
        let graph = folded.graph.unwrap();
        assert!(graph.node.is_empty());
        let get = |name: &str| {
            onnx::floats(
                graph.initializer.iter().find(|t| t.name == name).unwrap(),
                usize::MAX,
            )
        };
        assert_eq!(
            get("per_axis").unwrap(),
            [0.5, -1.0, 1.5, -8.0, 10.0, -12.0]
        );
        assert_eq!(
            get("per_tensor").unwrap(),
            [0.0, -0.75, 0.5, -1.25, 1.0, -1.75]
        );
    }
}
