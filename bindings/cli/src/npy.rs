//! NumPy `.npy` files ↔ [`ledge::Tensor`]: the CLI's `--input`/`--output` format and the shared
//! vectors' tensors. Tools-only: the device libraries (phones, browsers) do not carry it.

use ledge::{Error, Result, Tensor, TensorData};
use npyz::WriterBuilder;

/// Parses a NumPy `.npy` file (C order; f32, i8, u8, i32 or i64).
///
/// # Errors
/// [`Error::InvalidArgument`] for bytes that are not a plain `.npy` array of those types, or whose
/// data is shorter than the shape says (checked before anything is allocated).
pub fn read(bytes: &[u8]) -> Result<Tensor> {
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

/// Serializes a tensor to NumPy `.npy` bytes (version 1, C order).
pub fn write(tensor: &Tensor) -> Vec<u8> {
    fn write_elements<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
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
    let shape = tensor.shape();
    let written = match tensor.data() {
        TensorData::F32(v) => write_elements(shape, v),
        TensorData::I8(v) => write_elements(shape, v),
        TensorData::U8(v) => write_elements(shape, v),
        TensorData::I32(v) => write_elements(shape, v),
        TensorData::I64(v) => write_elements(shape, v),
    };
    // Writing into a Vec cannot fail.
    written.unwrap_or_default()
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
        assert_eq!(read(&write(&t)).unwrap(), t);
        let t = Tensor::i8(vec![4], vec![-128, 0, 1, 127]).unwrap();
        assert_eq!(read(&write(&t)).unwrap(), t);
    }

    #[test]
    fn wrong_element_count_is_refused() {
        let e = Tensor::f32(vec![2, 2], vec![1.0; 3]).unwrap_err();
        assert!(e.to_string().contains("needs 4 elements, got 3"), "{e}");
    }

    #[test]
    fn garbage_npy_is_an_invalid_argument() {
        let e = read(b"\x93NUMPY garbage").unwrap_err();
        assert_eq!(e.kind(), "InvalidArgument");
    }
}
