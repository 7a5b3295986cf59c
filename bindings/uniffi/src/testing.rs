//! Bridge tests (feature `testing`): functions that panic or fail with each error kind, so
//! every language can assert what it receives. Not part of the shipped API.

use crate::{ffi, LedgeError};

/// One sample of every [`ledge::Error`] variant, with recognizable field values.
fn samples() -> Vec<ledge::Error> {
    use ledge::Error as E;
    vec![
        E::ModelFormat("sample model format".into()),
        E::UnsupportedOperator {
            op: "QLinearAdd".into(),
            node: "add_1".into(),
            others: 2,
        },
        E::InputCount {
            expected: 1,
            got: 0,
        },
        E::InputShape {
            name: "x".into(),
            expected: vec![1, 3, 48, 192],
            got: vec![1, 3, 48, 190],
        },
        E::InputType {
            name: "x".into(),
            expected: ledge::DType::F32,
            got: ledge::DType::U8,
        },
        E::ImageDecode("sample image decode".into()),
        E::InvalidArgument("sample invalid argument".into()),
        E::Manifest("sample manifest".into()),
        E::Integrity {
            expected: "0".repeat(64),
            actual: "f".repeat(64),
        },
        E::Io {
            path: "/sample/missing.onnx".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "sample io"),
        },
        E::LimitExceeded {
            limit: "max_image_pixels",
            value: 10,
            max: 5,
        },
        E::Budget("sample budget".into()),
        E::Inference("sample inference".into()),
    ]
}

/// Panics with `message` inside the FFI wrapper: the caller must receive `LedgeError.Panic`.
#[uniffi::export]
pub fn testing_panic(message: String) -> Result<(), LedgeError> {
    ffi(|| panic!("{message}"))
}

/// The kind of every core error variant, in declaration order.
#[uniffi::export]
pub fn testing_error_kinds() -> Result<Vec<String>, LedgeError> {
    ffi(|| Ok(samples().iter().map(|e| e.kind().to_string()).collect()))
}

/// Fails with the sample core error of `kind` (see `testing_error_kinds`), converted as every
/// real error is; an unknown kind is an `InvalidArgument`.
#[uniffi::export]
pub fn testing_error(kind: String) -> Result<(), LedgeError> {
    ffi(|| {
        Err(samples()
            .into_iter()
            .find(|e| e.kind() == kind)
            .unwrap_or_else(|| ledge::Error::InvalidArgument(format!("no sample error {kind}"))))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_sample_keeps_its_kind_across_the_bridge() {
        let kinds = testing_error_kinds().unwrap();
        assert_eq!(kinds.len(), 13);
        for kind in kinds {
            let e = testing_error(kind.clone()).unwrap_err();
            assert_eq!(e.kind(), kind);
        }
    }
}
