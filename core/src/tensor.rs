//! Ledge's own tensor type: what crosses the public API instead of tract's.

use std::fmt;

use npyz::WriterBuilder;
use tract_onnx::prelude::{DatumType, Tensor as TractTensor};

use crate::error::{Error, Result};

/// Element type of a [`Tensor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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

impl DType {
    /// The NumPy `descr` of this type (`<f4`, `|i1`, ...).
    pub fn numpy_descr(self) -> &'static str {
        match self {
            DType::F32 => "<f4",
            DType::I8 => "|i1",
            DType::U8 => "|u1",
            DType::I32 => "<i4",
            DType::I64 => "<i8",
        }
    }

    pub(crate) fn from_tract(dt: DatumType) -> Option<DType> {
        match dt {
            DatumType::F32 => Some(DType::F32),
            DatumType::I8 => Some(DType::I8),
            DatumType::U8 => Some(DType::U8),
            DatumType::I32 => Some(DType::I32),
            DatumType::I64 => Some(DType::I64),
            _ => None,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::I8 => "i8",
            DType::U8 => "u8",
            DType::I32 => "i32",
            DType::I64 => "i64",
        })
    }
}

/// The elements of a [`Tensor`], row-major (C order).
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// 32-bit floats.
    F32(Vec<f32>),
    /// Signed bytes.
    I8(Vec<i8>),
    /// Unsigned bytes.
    U8(Vec<u8>),
    /// 32-bit integers.
    I32(Vec<i32>),
    /// 64-bit integers.
    I64(Vec<i64>),
}

impl TensorData {
    fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::I8(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I64(v) => v.len(),
        }
    }

    fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::I8(_) => DType::I8,
            TensorData::U8(_) => DType::U8,
            TensorData::I32(_) => DType::I32,
            TensorData::I64(_) => DType::I64,
        }
    }
}

/// A dense n-dimensional array with a shape and row-major data.
///
/// Invariant: the product of `shape` equals the number of elements.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: TensorData,
}

impl Tensor {
    /// Builds a tensor; fails with [`Error::InvalidArgument`] when the data length is not the
    /// product of the shape.
    pub fn new(shape: Vec<usize>, data: TensorData) -> Result<Tensor> {
        let expected = shape.iter().try_fold(1usize, |acc, d| acc.checked_mul(*d));
        if expected != Some(data.len()) {
            return Err(Error::InvalidArgument(format!(
                "tensor of shape {shape:?} needs {} elements, got {}",
                expected.map_or_else(|| "too many".to_string(), |n| n.to_string()),
                data.len()
            )));
        }
        Ok(Tensor { shape, data })
    }

    /// A tensor of zeros (fails like [`Tensor::new`] when the shape's size overflows).
    pub fn zeros(dtype: DType, shape: Vec<usize>) -> Result<Tensor> {
        let n = shape
            .iter()
            .try_fold(1usize, |acc, d| acc.checked_mul(*d))
            .ok_or_else(|| {
                Error::InvalidArgument(format!("tensor of shape {shape:?} is too large"))
            })?;
        let data = match dtype {
            DType::F32 => TensorData::F32(vec![0.0; n]),
            DType::I8 => TensorData::I8(vec![0; n]),
            DType::U8 => TensorData::U8(vec![0; n]),
            DType::I32 => TensorData::I32(vec![0; n]),
            DType::I64 => TensorData::I64(vec![0; n]),
        };
        Tensor::new(shape, data)
    }

    /// A float tensor (see [`Tensor::new`]).
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::F32(data))
    }

    /// A signed-byte tensor (see [`Tensor::new`]).
    pub fn i8(shape: Vec<usize>, data: Vec<i8>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::I8(data))
    }

    /// An unsigned-byte tensor (see [`Tensor::new`]).
    pub fn u8(shape: Vec<usize>, data: Vec<u8>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::U8(data))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The elements.
    pub fn data(&self) -> &TensorData {
        &self.data
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as floats, if this is an `f32` tensor.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// Parses a NumPy `.npy` file (C order; f32, i8, u8, i32 or i64).
    pub fn from_npy(bytes: &[u8]) -> Result<Tensor> {
        let bad = |what: String| Error::InvalidArgument(format!("not a usable .npy file: {what}"));
        let (start, header_len) = npy_header(bytes).ok_or_else(|| bad("no .npy header".into()))?;
        check_npy_header(&bytes[start..header_len]).map_err(bad)?;
        let npy = npyz::NpyFile::new(bytes).map_err(|e| bad(e.to_string()))?;
        if npy.order() != npyz::Order::C && npy.shape().len() > 1 {
            return Err(bad(
                "Fortran order is not supported; save with np.ascontiguousarray".into(),
            ));
        }
        let shape = npy
            .shape()
            .iter()
            .map(|d| usize::try_from(*d).map_err(|_| bad(format!("dimension {d} too large"))))
            .collect::<Result<Vec<_>>>()?;
        let elements = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| bad(format!("shape {shape:?} is too large")))?;
        let descr = npy.dtype().descr();
        let item = match descr.trim_matches('\'') {
            "|i1" | "|u1" => 1,
            "<i8" => 8,
            _ => 4,
        };
        // The data must be there before anything is allocated for it.
        if elements.saturating_mul(item) > bytes.len().saturating_sub(header_len) {
            return Err(bad(format!(
                "shape {shape:?} needs {} bytes of data, the file has {}",
                elements.saturating_mul(item),
                bytes.len().saturating_sub(header_len)
            )));
        }
        let data = match descr.trim_matches('\'') {
            "<f4" => TensorData::F32(npy.into_vec().map_err(|e| bad(e.to_string()))?),
            "|i1" => TensorData::I8(npy.into_vec().map_err(|e| bad(e.to_string()))?),
            "|u1" => TensorData::U8(npy.into_vec().map_err(|e| bad(e.to_string()))?),
            "<i4" => TensorData::I32(npy.into_vec().map_err(|e| bad(e.to_string()))?),
            "<i8" => TensorData::I64(npy.into_vec().map_err(|e| bad(e.to_string()))?),
            other => {
                return Err(bad(format!(
                    "dtype {other} is not one of <f4 |i1 |u1 <i4 <i8"
                )))
            }
        };
        Tensor::new(shape, data).map_err(|e| bad(e.to_string()))
    }

    /// Serializes to NumPy `.npy` bytes.
    pub fn to_npy(&self) -> Vec<u8> {
        fn write<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
            shape: &[usize],
            v: &[T],
        ) -> std::io::Result<Vec<u8>> {
            let mut out = Vec::new();
            let shape: Vec<u64> = shape.iter().map(|d| *d as u64).collect();
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut out)
                .begin_nd()?;
            w.extend(v.iter().copied())?;
            w.finish()?;
            Ok(out)
        }
        let written = match &self.data {
            TensorData::F32(v) => write(&self.shape, v),
            TensorData::I8(v) => write(&self.shape, v),
            TensorData::U8(v) => write(&self.shape, v),
            TensorData::I32(v) => write(&self.shape, v),
            TensorData::I64(v) => write(&self.shape, v),
        };
        // Writing into a Vec cannot fail.
        written.unwrap_or_default()
    }

    pub(crate) fn to_tract(&self) -> Result<TractTensor> {
        fn build<T: tract_onnx::prelude::Datum + Copy>(
            shape: &[usize],
            v: &[T],
        ) -> Result<TractTensor> {
            TractTensor::from_shape(shape, v).map_err(|e| Error::Inference(e.to_string()))
        }
        match &self.data {
            TensorData::F32(v) => build(&self.shape, v),
            TensorData::I8(v) => build(&self.shape, v),
            TensorData::U8(v) => build(&self.shape, v),
            TensorData::I32(v) => build(&self.shape, v),
            TensorData::I64(v) => build(&self.shape, v),
        }
    }

    pub(crate) fn from_tract(t: &TractTensor) -> Result<Tensor> {
        let shape = t.shape().to_vec();
        fn elems<T: tract_onnx::prelude::Datum + Copy>(t: &TractTensor) -> Result<Vec<T>> {
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
        Tensor::new(shape, data)
    }
}

/// Where the header text of `.npy` bytes (versions 1–3) starts and ends.
fn npy_header(bytes: &[u8]) -> Option<(usize, usize)> {
    let rest = bytes.strip_prefix(b"\x93NUMPY")?;
    let (len, fixed) = match rest.first()? {
        1 => (
            usize::from(u16::from_le_bytes([*rest.get(2)?, *rest.get(3)?])),
            10,
        ),
        2 | 3 => (
            u32::from_le_bytes(rest.get(2..6)?.try_into().ok()?) as usize,
            12,
        ),
        _ => return None,
    };
    let end = fixed + len;
    (end <= bytes.len()).then_some((fixed, end))
}

/// Refuses headers that are not the flat dict NumPy writes for plain arrays. npyz parses the
/// header as a Python literal with a backtracking parser that takes exponential time on nested
/// brackets (found by the npy fuzz target: 100 `[` hung it for minutes).
fn check_npy_header(header: &[u8]) -> std::result::Result<(), String> {
    const MAX_HEADER: usize = 4096;
    if header.len() > MAX_HEADER {
        return Err(format!(
            "header of {} bytes (at most {MAX_HEADER})",
            header.len()
        ));
    }
    let mut depth = 0usize;
    for &b in header {
        match b {
            b'[' => return Err("structured dtypes are not supported".into()),
            b'{' | b'(' => {
                depth += 1;
                if depth > 2 {
                    return Err("the header nests deeper than {'shape': (...)}".into());
                }
            }
            b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_keeps_shape_dtype_and_values() {
        let t = Tensor::f32(vec![1, 2, 3], vec![0.5, -1.0, 2.0, 3.25, 4.0, -0.0]).unwrap();
        assert_eq!(Tensor::from_npy(&t.to_npy()).unwrap(), t);
        let t = Tensor::i8(vec![4], vec![-128, 0, 1, 127]).unwrap();
        assert_eq!(Tensor::from_npy(&t.to_npy()).unwrap(), t);
    }

    #[test]
    fn wrong_element_count_is_refused() {
        let e = Tensor::f32(vec![2, 2], vec![1.0; 3]).unwrap_err();
        assert!(e.to_string().contains("needs 4 elements, got 3"), "{e}");
    }

    #[test]
    fn garbage_npy_is_an_invalid_argument() {
        let e = Tensor::from_npy(b"\x93NUMPY garbage").unwrap_err();
        assert_eq!(e.kind(), "InvalidArgument");
    }
}
