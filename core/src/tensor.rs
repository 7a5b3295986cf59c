//! Ledge's own tensor type: what crosses the public API instead of tract's.

use crate::dtype::DType;
use crate::error::{Error, Result};

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
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `data` does not hold the product of `shape` elements.
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
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the product of `shape` overflows.
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
    ///
    /// # Errors
    /// As [`Tensor::new`].
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::F32(data))
    }

    /// A signed-byte tensor (see [`Tensor::new`]).
    ///
    /// # Errors
    /// As [`Tensor::new`].
    pub fn i8(shape: Vec<usize>, data: Vec<i8>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::I8(data))
    }

    /// An unsigned-byte tensor (see [`Tensor::new`]).
    ///
    /// # Errors
    /// As [`Tensor::new`].
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_element_count_is_refused() {
        let e = Tensor::f32(vec![2, 2], vec![1.0; 3]).unwrap_err();
        assert!(e.to_string().contains("needs 4 elements, got 3"), "{e}");
    }
}
