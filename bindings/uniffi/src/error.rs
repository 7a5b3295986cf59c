//! The one foreign error type and its exhaustive conversion from [`ledge::Error`].

use std::any::Any;

use ledge::DType;

/// Every way a Ledge call can fail, as seen from Swift and Python: one variant per
/// [`ledge::Error`] variant (same name, same fields) plus [`LedgeError::Panic`]. `message` is the
/// core's full message (what was expected and what was found).
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum LedgeError {
    /// The bytes are not a loadable ONNX model.
    #[error("{message}")]
    ModelFormat {
        /// The full message.
        message: String,
    },
    /// The model uses an operator the engine does not implement.
    #[error("{message}")]
    UnsupportedOperator {
        /// ONNX operator type, e.g. `QLinearAdd`.
        op: String,
        /// Name of the first node that uses it.
        node: String,
        /// How many further nodes are unsupported.
        others: u64,
        /// The full message.
        message: String,
    },
    /// The number of input tensors does not match the model.
    #[error("{message}")]
    InputCount {
        /// Inputs the model declares.
        expected: u64,
        /// Inputs the caller passed.
        got: u64,
        /// The full message.
        message: String,
    },
    /// An input tensor has the wrong shape.
    #[error("{message}")]
    InputShape {
        /// Model input name.
        name: String,
        /// Shape the model was pinned to.
        expected: Vec<u64>,
        /// Shape the caller passed.
        got: Vec<u64>,
        /// The full message.
        message: String,
    },
    /// An input tensor has the wrong element type.
    #[error("{message}")]
    InputType {
        /// Model input name.
        name: String,
        /// Element type the model wants.
        expected: DType,
        /// Element type the caller passed.
        got: DType,
        /// The full message.
        message: String,
    },
    /// The image could not be decoded, or has no pixels.
    #[error("{message}")]
    ImageDecode {
        /// The full message.
        message: String,
    },
    /// A decoded image could not be turned into the model's input (resize failed).
    #[error("{message}")]
    Preprocess {
        /// The full message.
        message: String,
    },
    /// The model does not fit the task asked of it (e.g. classify on a two-input model).
    #[error("{message}")]
    TaskMismatch {
        /// The task, e.g. `classify`.
        task: String,
        /// What does not fit, and what to do.
        reason: String,
        /// The full message.
        message: String,
    },
    /// An argument is out of its documented range.
    #[error("{message}")]
    InvalidArgument {
        /// The full message.
        message: String,
    },
    /// The manifest is missing where needed, malformed, or does not fit the model.
    #[error("{message}")]
    Manifest {
        /// The full message.
        message: String,
    },
    /// Trusted keys were given and the model's signature is missing, foreign or invalid.
    #[error("{message}")]
    Signature {
        /// `unsigned`, `untrusted_key` or `invalid`.
        problem: String,
        /// The specifics, and what to do.
        detail: String,
        /// The full message.
        message: String,
    },
    /// The model bytes do not match the manifest's sha256.
    #[error("{message}")]
    Integrity {
        /// sha256 recorded in the manifest.
        expected: String,
        /// sha256 of the bytes actually loaded.
        actual: String,
        /// The full message.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{message}")]
    Io {
        /// The file involved.
        path: String,
        /// The full message.
        message: String,
    },
    /// An input is larger than a configured limit.
    #[error("{message}")]
    LimitExceeded {
        /// Name of the limit, as in `Limits` (`max_image_pixels`, ...).
        limit: String,
        /// The offending value.
        value: u64,
        /// The configured maximum.
        max: u64,
        /// The full message.
        message: String,
    },
    /// The engine could not prepare (optimize, plan) a model that parsed.
    #[error("{message}")]
    Optimization {
        /// The full message.
        message: String,
    },
    /// The engine failed on a model that passed every check.
    #[error("{message}")]
    Inference {
        /// The full message.
        message: String,
    },
    /// A bug: the Rust code panicked. The panic was caught at the boundary; the process
    /// goes on.
    #[error("{message}")]
    Panic {
        /// The panic message.
        message: String,
    },
}

fn u64_from(n: usize) -> u64 {
    n as u64
}

fn dims(d: &[usize]) -> Vec<u64> {
    d.iter().copied().map(u64_from).collect()
}

impl From<ledge::Error> for LedgeError {
    fn from(e: ledge::Error) -> Self {
        use ledge::Error as E;
        let message = e.to_string();
        // Exhaustive on purpose: a new core variant must break this build.
        match e {
            E::ModelFormat(_) => LedgeError::ModelFormat { message },
            E::UnsupportedOperator { op, node, others } => LedgeError::UnsupportedOperator {
                op,
                node,
                others: u64_from(others),
                message,
            },
            E::InputCount { expected, got } => LedgeError::InputCount {
                expected: u64_from(expected),
                got: u64_from(got),
                message,
            },
            E::InputShape {
                name,
                expected,
                got,
            } => LedgeError::InputShape {
                name,
                expected: dims(&expected),
                got: dims(&got),
                message,
            },
            E::InputType {
                name,
                expected,
                got,
            } => LedgeError::InputType {
                name,
                expected,
                got,
                message,
            },
            E::ImageDecode(_) => LedgeError::ImageDecode { message },
            E::Preprocess(_) => LedgeError::Preprocess { message },
            E::InvalidArgument(_) => LedgeError::InvalidArgument { message },
            E::Manifest(_) => LedgeError::Manifest { message },
            E::TaskMismatch { task, reason } => LedgeError::TaskMismatch {
                task: task.to_string(),
                reason,
                message,
            },
            E::Integrity { expected, actual } => LedgeError::Integrity {
                expected,
                actual,
                message,
            },
            E::Signature { problem, detail } => LedgeError::Signature {
                problem: problem.name().to_string(),
                detail,
                message,
            },
            E::Io { path, source: _ } => LedgeError::Io {
                path: path.display().to_string(),
                message,
            },
            E::LimitExceeded { limit, value, max } => LedgeError::LimitExceeded {
                limit: limit.name().to_string(),
                value,
                max,
                message,
            },
            E::Optimization(_) => LedgeError::Optimization { message },
            E::Inference(_) => LedgeError::Inference { message },
        }
    }
}

impl LedgeError {
    /// The variant's name (`"InputShape"`, `"Panic"`, ...): [`ledge::Error::kind`] plus `Panic`.
    pub fn kind(&self) -> &'static str {
        match self {
            LedgeError::ModelFormat { .. } => "ModelFormat",
            LedgeError::Signature { .. } => "Signature",
            LedgeError::UnsupportedOperator { .. } => "UnsupportedOperator",
            LedgeError::InputCount { .. } => "InputCount",
            LedgeError::InputShape { .. } => "InputShape",
            LedgeError::InputType { .. } => "InputType",
            LedgeError::ImageDecode { .. } => "ImageDecode",
            LedgeError::Preprocess { .. } => "Preprocess",
            LedgeError::InvalidArgument { .. } => "InvalidArgument",
            LedgeError::Manifest { .. } => "Manifest",
            LedgeError::TaskMismatch { .. } => "TaskMismatch",
            LedgeError::Integrity { .. } => "Integrity",
            LedgeError::Io { .. } => "Io",
            LedgeError::LimitExceeded { .. } => "LimitExceeded",
            LedgeError::Optimization { .. } => "Optimization",
            LedgeError::Inference { .. } => "Inference",
            LedgeError::Panic { .. } => "Panic",
        }
    }
}

/// The text of a panic payload, marked as a Rust panic.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    format!("Rust panic: {}", ledge::panic_message(payload))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kinds_and_messages_survive_the_conversion() {
        let e = LedgeError::from(ledge::Error::InputShape {
            name: "x".into(),
            expected: vec![1, 3],
            got: vec![1, 4],
        });
        assert_eq!(e.kind(), "InputShape");
        assert_eq!(
            e.to_string(),
            "input 'x': expected shape [1, 3], got [1, 4]"
        );
        assert!(matches!(e, LedgeError::InputShape { ref got, .. } if got == &[1, 4]));
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let e = crate::ffi::<()>(|| panic!("boom {}", 42)).unwrap_err();
        assert_eq!(
            e,
            LedgeError::Panic {
                message: "Rust panic: boom 42".into()
            }
        );
    }
}
