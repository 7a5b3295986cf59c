//! ONNX file-level work that happens before tract sees the graph: decoding, the embedded
//! manifest, integrity digests, operator support and statistics.

use std::collections::BTreeMap;

use prost::Message;
use sha2::{Digest, Sha256};
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto};

use crate::error::{Error, Limit, Result};
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

/// ONNX's `DataLocation::EXTERNAL`: the tensor's bytes are in another file.
const EXTERNAL: i32 = 1;

/// Reads every tensor stored as ONNX external data (`model.onnx.data` beside the model, as
/// PyTorch 2's exporter and every model over 2 GB write it) into the graph, so everything after
/// this sees one self-contained model. Files are resolved relative to `dir`, the model file's
/// folder; a location that is absolute or leaves that folder (`..`, a symlink out of it) is
/// refused. The data counts with the model file's `model_bytes` against `max_model_bytes`.
/// Returns the number of bytes read.
///
/// # Errors
/// [`Error::ModelFormat`] for external data when the model was given as bytes (`dir` is
/// `None`), a location outside the folder or a range outside the file; [`Error::Io`] for a
/// data file that cannot be read; [`Error::LimitExceeded`] (`max_model_bytes`) when the model
/// and its data together are larger than the limit.
pub(crate) fn inline_external_data(
    proto: &mut ModelProto,
    dir: Option<&std::path::Path>,
    model_bytes: u64,
    max_model_bytes: u64,
) -> Result<u64> {
    let Some(graph) = proto.graph.as_mut() else {
        return Ok(0);
    };
    let mut read = 0u64;
    let mut files: BTreeMap<String, (std::fs::File, u64)> = BTreeMap::new();
    let constants = graph
        .node
        .iter_mut()
        .filter(|n| n.op_type == "Constant")
        .flat_map(|n| n.attribute.iter_mut().filter_map(|a| a.t.as_mut()));
    for t in graph.initializer.iter_mut().chain(constants) {
        if t.data_location != Some(EXTERNAL) {
            continue;
        }
        let field = |key: &str| {
            t.external_data
                .iter()
                .find(|e| e.key == key)
                .map(|e| e.value.as_str())
        };
        let location = field("location").ok_or_else(|| {
            Error::ModelFormat(format!(
                "tensor '{}' is stored as external data but names no file (no 'location' key)",
                t.name
            ))
        })?;
        let Some(dir) = dir else {
            return Err(Error::ModelFormat(format!(
                "the model keeps tensor '{}' in an external data file '{location}' (ONNX \
                 external data), which Ledge can only find when it loads the model from a file \
                 path: load it from its path with the data file beside it (a browser has no \
                 paths: there, and for loading from bytes anywhere, save the model with its \
                 weights inside: onnx.save_model(model, path, save_as_external_data=False))",
                t.name
            )));
        };
        let number = |key: &str| -> Result<Option<u64>> {
            field(key)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        Error::ModelFormat(format!(
                            "tensor '{}': external data {key} '{v}' is not a byte count",
                            t.name
                        ))
                    })
                })
                .transpose()
        };
        let offset = number("offset")?.unwrap_or(0);
        let length = number("length")?;
        // Every tensor usually lives in the same file: resolve and open each file once.
        let (file, size) = match files.entry(location.to_string()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let path = external_data_path(dir, location)?;
                let file = std::fs::File::open(&path).map_err(|err| Error::io(&path, err))?;
                let size = file.metadata().map_err(|err| Error::io(&path, err))?.len();
                e.insert((file, size))
            }
        };
        let size = *size;
        let length = length.unwrap_or(size.saturating_sub(offset));
        if offset.checked_add(length).is_none_or(|end| end > size) {
            return Err(Error::ModelFormat(format!(
                "tensor '{}' is at bytes {offset}..{} of '{location}', which has {size} bytes: \
                 the data file does not belong to this model or was cut short",
                t.name,
                offset.saturating_add(length)
            )));
        }
        read += length;
        Limit::MaxModelBytes.check(model_bytes.saturating_add(read), max_model_bytes)?;
        t.raw_data =
            read_range(file, offset, length).map_err(|e| Error::io(dir.join(location), e))?;
        t.data_location = None;
        t.external_data.clear();
    }
    Ok(read)
}

/// `dir/location`, refused unless it stays inside `dir` (after following symlinks).
fn external_data_path(dir: &std::path::Path, location: &str) -> Result<std::path::PathBuf> {
    use std::path::Component;
    let outside = |why: &str| {
        Error::ModelFormat(format!(
            "the model's external data location '{location}' {why}: Ledge reads external data \
             only from the model's own folder; keep the data file beside the model and save \
             it with a relative location"
        ))
    };
    let relative = std::path::Path::new(location);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside("is absolute or leaves the folder"));
    }
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let joined = dir.join(relative);
    let path = joined.canonicalize().map_err(|e| Error::io(&joined, e))?;
    if !path.starts_with(&dir) {
        return Err(outside("resolves outside the model's folder (a symlink)"));
    }
    Ok(path)
}

/// `length` bytes of `file` from `offset`.
fn read_range(file: &mut std::fs::File, offset: u64, length: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(length).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Moves the `scales` attribute of `Upsample` nodes (opsets 7 and 8) to an initializer read as
/// input 1, where opset 9 and `Resize` take it, so one reader serves every opset. Returns how
/// many nodes changed.
pub(crate) fn upsample_scales_as_inputs(proto: &mut ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else {
        return 0;
    };
    let mut added = Vec::new();
    for (i, n) in graph.node.iter_mut().enumerate() {
        if n.op_type != "Upsample" || n.input.len() > 1 {
            continue;
        }
        let Some(at) = n.attribute.iter().position(|a| a.name == "scales") else {
            continue;
        };
        let scales = n.attribute.remove(at).floats;
        let name = format!("ledge_upsample_scales_{i}");
        added.push(TensorProto {
            name: name.clone(),
            dims: vec![scales.len() as i64],
            data_type: DataType::Float as i32,
            float_data: scales,
            ..TensorProto::default()
        });
        n.input.push(name);
    }
    let changed = added.len();
    graph.initializer.extend(added);
    changed
}

/// Refuses quantization to types other than 8 bits, and int32 biases (16-bit QDQ that onnxruntime's
/// quantizer writes on request, 4-bit from opset 21): tract reads every QDQ tensor as 8-bit and
/// fails deep inside ("tensor is U16, accessed as I8").
///
/// # Errors
/// [`Error::UnsupportedOperator`] naming the operator with its type, e.g.
/// `QuantizeLinear(uint16)`, the first node and how many others.
pub(crate) fn check_quantized_types(proto: &ModelProto) -> Result<()> {
    let Some(graph) = proto.graph.as_ref() else {
        return Ok(());
    };
    let initializer_types: BTreeMap<&str, i32> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t.data_type))
        .collect();
    // int32 is the bias of a quantized convolution, dequantized as QDQ models store it.
    let wide = |t: i32, op: &str| match DataType::try_from(t) {
        Ok(DataType::Uint8 | DataType::Int8) => None,
        Ok(DataType::Int32) if op == "DequantizeLinear" => None,
        Ok(other) => Some(other.as_str_name().to_ascii_lowercase()),
        Err(_) => Some(format!("type #{t}")),
    };
    let mut found = graph.node.iter().filter_map(|n| {
        if !matches!(n.op_type.as_str(), "QuantizeLinear" | "DequantizeLinear") {
            return None;
        }
        let declared = n
            .attribute
            .iter()
            .find(|a| a.name == "output_dtype" && a.i != 0)
            .map(|a| a.i as i32);
        let zero_point = n
            .input
            .get(2)
            .and_then(|z| initializer_types.get(z.as_str()).copied());
        let ty = wide(declared.or(zero_point)?, &n.op_type)?;
        let node = if n.name.is_empty() {
            n.output.first().cloned().unwrap_or_default()
        } else {
            n.name.clone()
        };
        Some((format!("{}({ty})", n.op_type), node))
    });
    if let Some((op, node)) = found.next() {
        return Err(Error::UnsupportedOperator {
            op,
            node,
            others: found.count(),
        });
    }
    Ok(())
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
