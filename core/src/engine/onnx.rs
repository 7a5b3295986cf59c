//! ONNX file-level work that happens before tract sees the graph: decoding, the embedded
//! manifest, integrity digests, operator support and statistics.

use std::collections::BTreeMap;

use prost::Message;
use sha2::{Digest, Sha256};
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto};

use crate::error::{Error, Result};
use crate::manifest::{Manifest, METADATA_KEY};
use crate::signing::{self, SIGNATURE_KEY};

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Decodes ONNX protobuf bytes; an empty, truncated or graph-less buffer is [`Error::ModelFormat`].
pub(crate) fn decode(bytes: &[u8]) -> Result<ModelProto> {
    if bytes.is_empty() {
        return Err(Error::ModelFormat(
            "the model file is empty (0 bytes)".into(),
        ));
    }
    let proto = ModelProto::decode(bytes).map_err(|e| {
        Error::ModelFormat(format!(
            "not an ONNX protobuf ({e}); the file may be truncated or not a model ({} bytes)",
            bytes.len()
        ))
    })?;
    match &proto.graph {
        Some(g) if !g.node.is_empty() => Ok(proto),
        _ => Err(Error::ModelFormat(format!(
            "no graph found: this is not an ONNX model ({} bytes)",
            bytes.len()
        ))),
    }
}

/// The manifest embedded by `ledge pack`, if any.
pub(crate) fn embedded_manifest(proto: &ModelProto) -> Result<Option<Manifest>> {
    proto
        .metadata_props
        .iter()
        .find(|p| p.key == METADATA_KEY)
        .map(|p| {
            Manifest::from_toml(&p.value)
                .map_err(|e| Error::Manifest(format!("embedded manifest: {e}")))
        })
        .transpose()
}

/// The signature `ledge pack --sign` embedded, if any.
pub(crate) fn embedded_signature(proto: &ModelProto) -> Option<&str> {
    proto
        .metadata_props
        .iter()
        .find(|p| p.key == SIGNATURE_KEY)
        .map(|p| p.value.as_str())
}

/// The embedded manifest's TOML text as stored, if any.
pub(crate) fn embedded_manifest_text(proto: &ModelProto) -> Option<&str> {
    proto
        .metadata_props
        .iter()
        .find(|p| p.key == METADATA_KEY)
        .map(|p| p.value.as_str())
}

/// The bytes `ledge pack` appends: one `metadata_props` field holding the manifest's TOML text,
/// and one holding the signature when signed. Rebuilt from the text as stored (not from the
/// parsed manifest), so a model packed by an older Ledge, whose TOML lacks fields added since,
/// still verifies.
fn ledge_fields(toml: &str, signature: Option<&str>) -> Vec<u8> {
    let mut metadata_props = vec![StringStringEntryProto {
        key: METADATA_KEY.into(),
        value: toml.into(),
    }];
    if let Some(signature) = signature {
        metadata_props.push(StringStringEntryProto {
            key: SIGNATURE_KEY.into(),
            value: signature.into(),
        });
    }
    ModelProto {
        metadata_props,
        ..Default::default()
    }
    .encode_to_vec()
}

/// `(sha256 of bytes, sha256 of the packed base)` in one pass over the bytes. The second,
/// computed when a manifest is embedded (`embedded_toml`), is the digest of the model bytes
/// without the fields `ledge pack` appended, i.e. of the model as it was before packing; it is
/// [`Error::Integrity`] when the fields are not where `pack` put them, which means the file was
/// re-serialized or edited after packing (`expected` is the manifest's recorded sha256).
pub(crate) fn sha256_and_packed_base(
    bytes: &[u8],
    embedded_toml: Option<&str>,
    signature: Option<&str>,
    expected: Option<&str>,
) -> (String, Option<Result<String>>) {
    let Some(toml) = embedded_toml else {
        return (sha256_hex(bytes), None);
    };
    let suffix = ledge_fields(toml, signature);
    let Some(base_len) = bytes.strip_suffix(suffix.as_slice()).map(<[u8]>::len) else {
        let moved = Error::Integrity {
            expected: expected.unwrap_or_default().to_string(),
            actual: "unknown: the model was re-serialized after `ledge pack`; pack it again".into(),
        };
        return (sha256_hex(bytes), Some(Err(moved)));
    };
    let mut hasher = Sha256::new();
    hasher.update(&bytes[..base_len]);
    let base = hex::encode(hasher.clone().finalize());
    hasher.update(&bytes[base_len..]);
    (hex::encode(hasher.finalize()), Some(Ok(base)))
}

/// Embeds `manifest` into the model: strips any earlier Ledge manifest (and signature), records
/// the sha256 of the remaining bytes in the manifest, and appends it as a `metadata_props`
/// entry. The model bytes themselves are kept as they are, so other tools read the result
/// unchanged.
///
/// # Errors
/// [`Error::ModelFormat`] when `model` is no ONNX protobuf; [`Error::Manifest`] for an invalid
/// manifest.
pub fn pack(model: &[u8], manifest: &Manifest) -> Result<Vec<u8>> {
    pack_with(model, manifest, None)
}

/// Like [`pack`], and signs the package with `key` (hex of a 32-byte Ed25519 seed, as `ledge
/// keygen` writes `ledge.key`): the signature covers the model's sha256 and the manifest, so a
/// model loaded with [`crate::LoadOptions::trusted_keys`] is refused if either changes.
///
/// # Errors
/// As [`pack`]; [`Error::InvalidArgument`] for a malformed key.
pub fn pack_signed(model: &[u8], manifest: &Manifest, key: &str) -> Result<Vec<u8>> {
    pack_with(model, manifest, Some(&signing::signing_key(key)?))
}

fn pack_with(
    model: &[u8],
    manifest: &Manifest,
    key: Option<&ed25519_dalek::SigningKey>,
) -> Result<Vec<u8>> {
    let proto = decode(model)?;
    let old = embedded_manifest_text(&proto).map(|t| ledge_fields(t, embedded_signature(&proto)));
    let base: Vec<u8> = match old {
        None if embedded_signature(&proto).is_none() => model.to_vec(),
        old => match old.as_deref().and_then(|s| model.strip_suffix(s)) {
            Some(base) => base.to_vec(),
            None => {
                let mut proto = proto;
                proto
                    .metadata_props
                    .retain(|p| p.key != METADATA_KEY && p.key != SIGNATURE_KEY);
                proto.encode_to_vec()
            }
        },
    };
    let mut manifest = manifest.clone();
    manifest.output.labels_file = None;
    manifest.sha256 = Some(sha256_hex(&base));
    manifest.validate()?;
    let signature = key.map(|k| {
        signing::sign(
            k,
            manifest.sha256.as_deref().unwrap_or_default(),
            &manifest.to_toml(),
        )
    });
    let mut out = base;
    out.extend_from_slice(&ledge_fields(&manifest.to_toml(), signature.as_deref()));
    Ok(out)
}

/// Fails with [`Error::UnsupportedOperator`] naming the first node whose operator the engine
/// does not implement.
pub(crate) fn check_operators(
    proto: &ModelProto,
    is_supported: impl Fn(&str) -> bool,
) -> Result<()> {
    let graph = proto
        .graph
        .as_ref()
        .map(|g| g.node.as_slice())
        .unwrap_or_default();
    let mut missing = graph.iter().filter(|n| !is_supported(&n.op_type));
    if let Some(first) = missing.next() {
        let node = if first.name.is_empty() {
            first.output.first().cloned().unwrap_or_default()
        } else {
            first.name.clone()
        };
        let op = if first.domain.is_empty() || first.domain == "ai.onnx" {
            first.op_type.clone()
        } else {
            format!("{}::{}", first.domain, first.op_type)
        };
        return Err(Error::UnsupportedOperator {
            op,
            node,
            others: missing.count(),
        });
    }
    Ok(())
}

/// Fails with [`Error::ModelFormat`] when a node's attributes are malformed in a way the engine
/// does not itself refuse: a `Transpose` whose `perm` is not a permutation of `0..rank` (tract
/// loops on one, allocating until memory runs out; fuzz finding, see docs/fuzzing.md).
pub(crate) fn check_attributes(proto: &ModelProto) -> Result<()> {
    let nodes = proto
        .graph
        .as_ref()
        .map(|g| g.node.as_slice())
        .unwrap_or_default();
    for n in nodes.iter().filter(|n| n.op_type == "Transpose") {
        let Some(perm) = n.attribute.iter().find(|a| a.name == "perm") else {
            continue;
        };
        let mut seen = vec![false; perm.ints.len()];
        let valid = perm.ints.iter().all(|&axis| {
            usize::try_from(axis)
                .ok()
                .and_then(|axis| seen.get_mut(axis))
                .is_some_and(|s| !std::mem::replace(s, true))
        });
        if !valid {
            let node = n.output.first().map_or(n.name.as_str(), String::as_str);
            return Err(Error::ModelFormat(format!(
                "Transpose '{node}': perm {:?} is not a permutation of 0..{}",
                perm.ints,
                perm.ints.len()
            )));
        }
    }
    Ok(())
}

/// Number of nodes per ONNX operator type.
pub(crate) fn op_histogram(proto: &ModelProto) -> BTreeMap<String, u64> {
    let mut h = BTreeMap::new();
    for n in proto.graph.iter().flat_map(|g| g.node.iter()) {
        *h.entry(n.op_type.clone()).or_insert(0) += 1;
    }
    h
}

/// Total number of elements in the initializers (the weights, quantization parameters
/// included).
pub(crate) fn parameter_count(proto: &ModelProto) -> u64 {
    proto
        .graph
        .iter()
        .flat_map(|g| g.initializer.iter())
        .map(|t| t.dims.iter().map(|d| (*d).max(0) as u64).product::<u64>())
        .sum()
}

/// Names of the compute nodes (convolutions, matrix products) that run on quantized operands:
/// QDQ nodes whose data and weight inputs both come from `DequantizeLinear`, and integer
/// operators. Returns `(quantized, all compute nodes)`.
pub(crate) fn quantized_compute_nodes(proto: &ModelProto) -> (Vec<String>, Vec<String>) {
    let Some(graph) = &proto.graph else {
        return (vec![], vec![]);
    };
    let producer = producers(graph);
    let mut quantized = vec![];
    let mut all = vec![];
    for n in &graph.node {
        let name = if n.name.is_empty() {
            n.output.first().cloned()
        } else {
            Some(n.name.clone())
        };
        let Some(name) = name else { continue };
        let is_q = match n.op_type.as_str() {
            "QLinearConv" | "QLinearMatMul" | "ConvInteger" | "MatMulInteger" => true,
            "Conv" | "MatMul" | "Gemm" => n
                .input
                .iter()
                .take(2)
                .all(|i| dequantized_by(&producer, i).is_some()),
            _ => continue,
        };
        if is_q {
            quantized.push(name.clone());
        }
        all.push(name);
    }
    (quantized, all)
}

/// The largest tensor, in elements, that the graph asks for through constants alone: an
/// initializer's declared dims, or the constant shape/size input of an operator that makes its
/// output that large (`ConstantOfShape`, `Expand`, `Reshape`, `Tile`, `Range`, `Resize`'s
/// sizes). tract evaluates such nodes while it analyses the graph, so this is checked first:
/// a 60-byte model can ask for terabytes. Returns `(node or initializer name, elements)`, or
/// [`Error::ModelFormat`] for a negative size where ONNX allows none (`ConstantOfShape`,
/// `Expand`, `Tile`: tract reads it as a huge unsigned one).
pub(crate) fn largest_constant_request(proto: &ModelProto) -> Result<Option<(String, u64)>> {
    let Some(graph) = proto.graph.as_ref() else {
        return Ok(None);
    };
    let mut constants: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut float_constants: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    let mut largest: Option<(String, u64)> = None;
    let mut note = |name: &str, elements: u64| {
        if largest.as_ref().is_none_or(|(_, e)| elements > *e) {
            largest = Some((name.to_string(), elements));
        }
    };
    for t in &graph.initializer {
        note(&t.name, product(&t.dims));
        if let Some(values) = ints(t, 64) {
            constants.insert(&t.name, values);
        }
        if let Some(values) = floats(t, 64) {
            float_constants.insert(&t.name, values);
        }
    }
    for n in &graph.node {
        let name = n.output.first().map_or(n.name.as_str(), String::as_str);
        if n.op_type == "Constant" {
            if let Some(t) = n.attribute.iter().find_map(|a| a.t.as_ref()) {
                note(name, product(&t.dims));
                if let Some(values) = ints(t, 64) {
                    constants.insert(name, values);
                }
                if let Some(values) = floats(t, 64) {
                    float_constants.insert(name, values);
                }
            }
            continue;
        }
        // Resize/Upsample scales: a 5e16 up-scale or a 6e-39 down-scale (which empties a
        // dimension) sends tract's shape arithmetic past usize (fuzz finding).
        let scales_at = match n.op_type.as_str() {
            "Resize" => Some(2),
            "Upsample" => Some(1),
            _ => None,
        };
        if let Some(scales) = scales_at
            .and_then(|i| n.input.get(i))
            .and_then(|s| float_constants.get(s.as_str()))
        {
            const MAX_SCALE: f32 = 65536.0;
            if let Some(bad) = scales
                .iter()
                .find(|s| !(s.is_finite() && (1.0 / MAX_SCALE..=MAX_SCALE).contains(*s)))
            {
                return Err(Error::ModelFormat(format!(
                    "{} '{name}': scale {bad:e} is outside [1/{MAX_SCALE}, {MAX_SCALE}]",
                    n.op_type
                )));
            }
        }
        let input = |i: usize| n.input.get(i).and_then(|x| constants.get(x.as_str()));
        let sizes = |v: &Vec<i64>| -> Result<u64> {
            match v.iter().find(|&&d| d < 0) {
                Some(d) => Err(Error::ModelFormat(format!(
                    "{} '{name}': negative dimension {d} in its constant shape {v:?}",
                    n.op_type
                ))),
                None => Ok(product(v)),
            }
        };
        let elements = match n.op_type.as_str() {
            "ConstantOfShape" => input(0).map(sizes).transpose()?,
            "Expand" | "Tile" => input(1).map(sizes).transpose()?,
            "Reshape" => input(1).map(|v| product(v)),
            "Resize" => input(3).map(|v| product(v)),
            "Range" => match (
                input(0).map(Vec::as_slice),
                input(1).map(Vec::as_slice),
                input(2).map(Vec::as_slice),
            ) {
                (Some([start]), Some([limit]), Some([delta])) if *delta != 0 => {
                    Some(((limit.saturating_sub(*start)) / delta).max(0) as u64)
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(elements) = elements {
            note(name, elements);
        }
    }
    Ok(largest)
}

/// Product of dimensions, negative ones (unknown, inferred) counted as 1, saturating.
fn product(dims: &[i64]) -> u64 {
    dims.iter()
        .fold(1u64, |n, &d| n.saturating_mul(d.max(1) as u64))
}

/// The float values of an initializer or constant (typed or raw data), when it holds at most
/// `max` elements and its data matches its dims. One decoder for every reader of the file.
pub(crate) fn floats(t: &TensorProto, max: usize) -> Option<Vec<f32>> {
    if DataType::try_from(t.data_type).ok()? != DataType::Float {
        return None;
    }
    let n = declared_elements(t)?;
    if n > max {
        return None;
    }
    let values: Vec<f32> = if t.raw_data.is_empty() {
        t.float_data.clone()
    } else {
        t.raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    (values.len() == n).then_some(values)
}

/// The integer values of an INT8, UINT8, INT32 or INT64 initializer or constant (typed or raw
/// data), when it holds at most `max` elements and its data matches its dims.
pub(crate) fn ints(t: &TensorProto, max: usize) -> Option<Vec<i64>> {
    let dtype = DataType::try_from(t.data_type).ok()?;
    let n = declared_elements(t)?;
    if n > max {
        return None;
    }
    let raw = &t.raw_data;
    let values: Vec<i64> = match dtype {
        DataType::Int8 if !raw.is_empty() => raw.iter().map(|&b| i64::from(b as i8)).collect(),
        DataType::Uint8 if !raw.is_empty() => raw.iter().map(|&b| i64::from(b)).collect(),
        DataType::Int32 if !raw.is_empty() => raw
            .chunks_exact(4)
            .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        DataType::Int64 if !raw.is_empty() => raw
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        DataType::Int8 | DataType::Uint8 | DataType::Int32 => {
            t.int32_data.iter().map(|&v| i64::from(v)).collect()
        }
        DataType::Int64 => t.int64_data.clone(),
        _ => return None,
    };
    (values.len() == n).then_some(values)
}

/// Elements a tensor declares by its dims (`None` for a negative or overflowing size; a scalar
/// has one).
fn declared_elements(t: &TensorProto) -> Option<usize> {
    t.dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?))
}

/// The `DequantizeLinear` node that produces `name`, if one does: the one test of "this
/// operand is quantized" for every reader of the file.
pub(crate) fn dequantized_by<'a>(
    producer: &std::collections::HashMap<&str, &'a NodeProto>,
    name: &str,
) -> Option<&'a NodeProto> {
    producer
        .get(name)
        .copied()
        .filter(|n| n.op_type == "DequantizeLinear")
}

/// The operator that computes the graph's first output and the output's name, looking through
/// operators that only move, reshape or requantize values (`Identity`, `Reshape`, `Flatten`,
/// `Squeeze`, `Unsqueeze`, `Cast`, `QuantizeLinear`, `DequantizeLinear`): whether the scores are
/// a Softmax's, for the manifest's `output.kind`.
pub(crate) fn scores_producer<'a>(
    proto: &'a ModelProto,
    output: Option<&'a str>,
) -> Option<(&'a str, &'a str)> {
    const PASS_THROUGH: [&str; 8] = [
        "Identity",
        "Reshape",
        "Flatten",
        "Squeeze",
        "Unsqueeze",
        "Cast",
        "QuantizeLinear",
        "DequantizeLinear",
    ];
    let graph = proto.graph.as_ref()?;
    let output = match output {
        Some(name) => name,
        None => graph.output.first()?.name.as_str(),
    };
    let producer = producers(graph);
    let mut name = output;
    // Bounded: a graph is acyclic, but a hostile file need not be.
    for _ in 0..graph.node.len() {
        let node = producer.get(name)?;
        if !PASS_THROUGH.contains(&node.op_type.as_str()) {
            return Some((node.op_type.as_str(), output));
        }
        name = node.input.first()?.as_str();
    }
    None
}

/// Each output name of the graph → the node that produces it.
pub(crate) fn producers(graph: &GraphProto) -> std::collections::HashMap<&str, &NodeProto> {
    graph
        .node
        .iter()
        .flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n)))
        .collect()
}

/// Makes the graph's Reshapes batch-agnostic: a constant target shape `[1, …]` becomes
/// `[0, …]` (ONNX: "copy dimension 0 from the input"), so a model exported for batch 1 (the
/// usual `x.reshape(1, -1)` before the classifier head) runs N rows. Only shapes that are
/// initializers used by Reshape nodes alone, on an input that is computed (not a constant), are
/// touched; at batch 1 the result is unchanged. Shape annotations made for batch 1 are dropped.
/// Returns how many shapes were rewritten.
pub(crate) fn batch_agnostic_reshapes(proto: &mut ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else {
        return 0;
    };
    // Shapes recorded for batch 1 (shape inference's value_info, the outputs' declared shapes)
    // would contradict N rows: drop the former, free the latter's batch dimension.
    graph.value_info.clear();
    for output in &mut graph.output {
        use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
        use tract_onnx::pb::type_proto::Value as Type;
        if let Some(Type::TensorType(t)) = output.r#type.as_mut().and_then(|t| t.value.as_mut()) {
            if let Some(first) = t.shape.as_mut().and_then(|s| s.dim.first_mut()) {
                if matches!(first.value, Some(Dim::DimValue(1))) {
                    first.value = Some(Dim::DimParam("batch".into()));
                }
            }
        }
    }
    let constants: std::collections::HashSet<String> =
        graph.initializer.iter().map(|t| t.name.clone()).collect();
    let mut shapes = std::collections::HashSet::new();
    let mut other_uses = std::collections::HashSet::new();
    for node in &graph.node {
        for (i, input) in node.input.iter().enumerate() {
            let is_shape = node.op_type == "Reshape"
                && i == 1
                && !constants.contains(node.input.first().map_or("", String::as_str));
            if is_shape {
                shapes.insert(input.clone());
            } else {
                other_uses.insert(input.clone());
            }
        }
    }
    let mut rewritten = 0;
    for t in &mut graph.initializer {
        let int64 = t.data_type == DataType::Int64 as i32;
        if !int64 || !shapes.contains(&t.name) || other_uses.contains(&t.name) {
            continue;
        }
        let leading_one = match (t.int64_data.first(), t.raw_data.get(..8)) {
            (Some(1), _) => {
                t.int64_data[0] = 0;
                true
            }
            (None, Some(first)) if i64::from_le_bytes(first.try_into().unwrap_or([0; 8])) == 1 => {
                t.raw_data[..8].copy_from_slice(&0i64.to_le_bytes());
                true
            }
            _ => false,
        };
        rewritten += usize::from(leading_one);
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_bytes_are_model_format_errors() {
        for bytes in [&b""[..], b"\x00\x01garbage\xff\xff\xff", b"hello world"] {
            let e = decode(bytes).unwrap_err();
            assert_eq!(e.kind(), "ModelFormat", "{e}");
        }
    }
}
