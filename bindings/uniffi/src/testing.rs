//! Bridge tests (feature `testing`): functions that panic or fail with each error kind, so
//! every language can assert what it receives. Not part of the shipped API.

use crate::{ffi, LedgeError};

/// Panics with `message` inside the FFI wrapper: the caller must receive `LedgeError.Panic`.
#[uniffi::export]
pub fn testing_panic(message: String) -> Result<(), LedgeError> {
    ffi(|| panic!("{message}"))
}

/// The kind of every core error variant, in declaration order.
#[uniffi::export]
pub fn testing_error_kinds() -> Result<Vec<String>, LedgeError> {
    ffi(|| {
        Ok(ledge::Error::samples()
            .iter()
            .map(|e| e.kind().to_string())
            .collect())
    })
}

/// Fails with the sample core error of `kind` (see `testing_error_kinds`), converted as every
/// real error is; an unknown kind is an `InvalidArgument`.
#[uniffi::export]
pub fn testing_error(kind: String) -> Result<(), LedgeError> {
    ffi(|| {
        Err(ledge::Error::samples()
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
        assert_eq!(kinds.len(), 16);
        for kind in kinds {
            let e = testing_error(kind.clone()).unwrap_err();
            assert_eq!(e.kind(), kind);
        }
    }
}
