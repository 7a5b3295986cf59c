//! The byte format of tensors and results crossing the JNI boundary; its mirror is
//! `android/src/main/kotlin/dev/ledge/Codec.kt`. (Options cross as JSON instead, read by the
//! core's serde derives, and so do the core's plain-data reports (`Stats`, `ShadowReport`),
//! written by its serde derives: see lib.rs.)
//!
//! Little-endian. `u8`/`u32`/`u64`/`i64`/`f32` as their bytes; a string is a `u32` byte
//! length and UTF-8; a blob is a `u32` byte length and the bytes; an optional value is a `u8`
//! flag (0/1) and the value; a list is a `u32` count and the items. A tensor is `dtype: u8` (0
//! f32, 1 i8, 2 u8, 3 i32, 4 i64), `rank: u32`, `rank × u64` dimensions and the row-major
//! elements; a tensor list is a `u32` count and the tensors.

use ledge::{DType, Detection, Error, ModelInfo, Prediction, Served, Tensor};
use ledge::{ManifestSource, TensorData, TensorSpec};

type Result<T> = std::result::Result<T, Error>;

fn bad(what: &str) -> Error {
    Error::InvalidArgument(format!("malformed bridge data: {what}"))
}

/// Reads the format above from a byte slice; every read is bounds-checked.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.buf.len() {
            return Err(bad("truncated"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<usize> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn usize(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| bad("size"))
    }

    fn dims(&mut self) -> Result<Vec<usize>> {
        let rank = self.u32()?;
        if rank > 64 {
            return Err(bad("rank"));
        }
        (0..rank).map(|_| self.usize()).collect()
    }

    fn tensor(&mut self) -> Result<Tensor> {
        let dtype = self.u8()?;
        let shape = self.dims()?;
        let count = shape
            .iter()
            .try_fold(1usize, |a, d| a.checked_mul(*d))
            .ok_or_else(|| bad("element count"))?;
        let width = match dtype {
            0 | 3 => 4,
            1 | 2 => 1,
            4 => 8,
            _ => return Err(bad("dtype")),
        };
        let raw = self.take(count.checked_mul(width).ok_or_else(|| bad("size"))?)?;
        let data = match dtype {
            0 => TensorData::F32(
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            1 => TensorData::I8(raw.iter().map(|&b| b as i8).collect()),
            2 => TensorData::U8(raw.to_vec()),
            3 => TensorData::I32(
                raw.chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            _ => TensorData::I64(
                raw.chunks_exact(8)
                    .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
            ),
        };
        Tensor::new(shape, data)
    }

    fn end(&self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(bad("trailing bytes"))
        }
    }
}

/// Writes the format above.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: usize) {
        self.0
            .extend((u32::try_from(v).unwrap_or(u32::MAX)).to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend(v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend(v.to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend(v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.u32(s.len());
        self.0.extend(s.as_bytes());
    }
    fn opt_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.string(s);
            }
            None => self.u8(0),
        }
    }
    fn strings<'s>(&mut self, items: impl ExactSizeIterator<Item = &'s str>) {
        self.u32(items.len());
        for s in items {
            self.string(s);
        }
    }
    fn predictions(&mut self, predictions: &[Prediction]) {
        self.u32(predictions.len());
        for p in predictions {
            self.u32(p.index as usize);
            self.f32(p.score);
            self.opt_string(p.label.as_deref());
        }
    }
    fn spec(&mut self, spec: &TensorSpec) {
        self.string(&spec.name);
        self.u32(spec.shape.len());
        for &d in &spec.shape {
            self.i64(d);
        }
        self.u8(dtype_code(spec.dtype));
    }
    fn tensor(&mut self, t: &Tensor) {
        self.u8(dtype_code(t.dtype()));
        self.u32(t.shape().len());
        for &d in t.shape() {
            self.u64(d as u64);
        }
        match t.data() {
            TensorData::F32(v) => v.iter().for_each(|x| self.0.extend(x.to_le_bytes())),
            TensorData::I8(v) => v.iter().for_each(|x| self.0.extend(x.to_le_bytes())),
            TensorData::U8(v) => self.0.extend(v),
            TensorData::I32(v) => v.iter().for_each(|x| self.0.extend(x.to_le_bytes())),
            TensorData::I64(v) => v.iter().for_each(|x| self.0.extend(x.to_le_bytes())),
        }
    }
}

fn dtype_code(d: DType) -> u8 {
    match d {
        DType::F32 => 0,
        DType::I8 => 1,
        DType::U8 => 2,
        DType::I32 => 3,
        DType::I64 => 4,
    }
}

/// A tensor list.
pub(crate) fn decode_tensors(bytes: &[u8]) -> Result<Vec<Tensor>> {
    let mut r = Reader { buf: bytes };
    let n = r.u32()?;
    let tensors = (0..n).map(|_| r.tensor()).collect::<Result<Vec<_>>>()?;
    r.end()?;
    Ok(tensors)
}

/// A list of blobs (the encoded images of a batch), borrowed from `bytes`.
pub(crate) fn decode_blobs(bytes: &[u8]) -> Result<Vec<&[u8]>> {
    let mut r = Reader { buf: bytes };
    let n = r.u32()?;
    // Each blob takes at least its 4-byte length: a count beyond that is malformed, and
    // refusing it first bounds the allocation below by the input's size.
    if n > bytes.len() / 4 {
        return Err(bad("blob count"));
    }
    let mut blobs = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32()?;
        blobs.push(r.take(len)?);
    }
    r.end()?;
    Ok(blobs)
}

/// A tensor list.
pub(crate) fn encode_tensors(tensors: &[Tensor]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u32(tensors.len());
    for t in tensors {
        w.tensor(t);
    }
    w.0
}

/// A list of predictions: `index: u32`, `score: f32`, optional label.
pub(crate) fn encode_predictions(predictions: &[Prediction]) -> Vec<u8> {
    let mut w = Writer::default();
    w.predictions(predictions);
    w.0
}

/// A list of prediction lists (a batch's results, one list per image, in order).
pub(crate) fn encode_prediction_lists(lists: &[Vec<Prediction>]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u32(lists.len());
    for predictions in lists {
        w.predictions(predictions);
    }
    w.0
}

/// A store's result: the version (string) and its predictions.
pub(crate) fn encode_served(served: &Served) -> Vec<u8> {
    let mut w = Writer::default();
    w.string(&served.version);
    w.predictions(&served.predictions);
    w.0
}

/// A store's versions of one name: the installed ones (strings), the optional active one and
/// the optional previous one.
pub(crate) fn encode_versions(
    installed: &[String],
    active: Option<&str>,
    previous: Option<&str>,
) -> Vec<u8> {
    let mut w = Writer::default();
    w.strings(installed.iter().map(String::as_str));
    w.opt_string(active);
    w.opt_string(previous);
    w.0
}

/// A list of detections: `index: u32`, `score: f32`, optional label, the box (`x`, `y`,
/// `width`, `height`: `f32` image pixels) and a list of keypoints (`x`, `y`: `f32`).
pub(crate) fn encode_detections(detections: &[Detection]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u32(detections.len());
    for d in detections {
        w.u32(d.index as usize);
        w.f32(d.score);
        w.opt_string(d.label.as_deref());
        let b = &d.bounding_box;
        for v in [b.x, b.y, b.width, b.height] {
            w.f32(v);
        }
        w.u32(d.keypoints.len());
        for p in &d.keypoints {
            w.f32(p.x);
            w.f32(p.y);
        }
    }
    w.0
}

/// `ModelInfo`: inputs and outputs (name, `i64` dims, dtype), file size, sha256, operator
/// histogram, parameters, MACs, quantized MACs, compute nodes, quantized compute nodes,
/// optional manifest (name, version, optional description, labels, source, TOML) and repairs.
pub(crate) fn encode_info(info: &ModelInfo) -> Vec<u8> {
    let mut w = Writer::default();
    for specs in [&info.inputs, &info.outputs] {
        w.u32(specs.len());
        for s in specs {
            w.spec(s);
        }
    }
    w.u64(info.file_size);
    w.string(&info.sha256);
    w.u32(info.op_histogram.len());
    for (op, n) in &info.op_histogram {
        w.string(op);
        w.u64(*n);
    }
    w.u64(info.parameters);
    w.u64(info.macs);
    w.u64(info.quantized_macs);
    w.u64(info.compute_nodes);
    w.u64(info.quantized_compute_nodes);
    match &info.manifest {
        Some(m) => {
            w.u8(1);
            w.string(&m.name);
            w.string(&m.version);
            w.opt_string(m.description.as_deref());
            w.strings(m.output.labels.iter().map(String::as_str));
            w.string(match info.manifest_source {
                Some(ManifestSource::Options) => "options",
                Some(ManifestSource::Sidecar) => "sidecar",
                Some(ManifestSource::Embedded) => "embedded",
                None => "",
            });
            w.string(&m.to_toml());
        }
        None => w.u8(0),
    }
    w.strings(info.repairs.iter().map(String::as_str));
    w.0
}
