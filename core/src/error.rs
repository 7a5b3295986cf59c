//! The one error type of Ledge.

use std::path::PathBuf;

use crate::dtype::DType;

/// Result alias used across Ledge.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way a Ledge call can fail. Each variant is something a caller can act on; messages say
/// what was expected and what was found.
///
/// Bindings map this enum exhaustively to one foreign error type, so adding a variant is a
/// breaking change for them on purpose.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a loadable ONNX model (empty, truncated, not protobuf, invalid graph).
    #[error("invalid model: {0}")]
    ModelFormat(String),

    /// The model uses an operator Ledge's engine does not implement.
    #[error("unsupported operator {op} (node '{node}'){}: Ledge runs the ONNX operators tract 0.23 implements, and int8 models in QDQ format with 8-bit types; re-export or re-quantize the model without it", if *.others == 0 { String::new() } else { format!(" and {} other unsupported node(s)", others) })]
    UnsupportedOperator {
        /// ONNX operator type, e.g. `QLinearAdd`.
        op: String,
        /// Name of the first node that uses it.
        node: String,
        /// How many further nodes are unsupported.
        others: usize,
    },

    /// The number of input tensors does not match the model.
    #[error("expected {expected} input tensor(s), got {got}")]
    InputCount {
        /// Inputs the model declares.
        expected: usize,
        /// Inputs the caller passed.
        got: usize,
    },

    /// An input tensor has the wrong shape.
    #[error("input '{name}': expected shape {expected:?}, got {got:?}")]
    InputShape {
        /// Model input name.
        name: String,
        /// Shape the model was pinned to.
        expected: Vec<usize>,
        /// Shape the caller passed.
        got: Vec<usize>,
    },

    /// An input tensor has the wrong element type.
    #[error("input '{name}': expected dtype {expected}, got {got}")]
    InputType {
        /// Model input name.
        name: String,
        /// Element type the model wants.
        expected: DType,
        /// Element type the caller passed.
        got: DType,
    },

    /// The image bytes could not be decoded, or the pixels are unusable (e.g. zero-sized).
    #[error("cannot decode image: {0}")]
    ImageDecode(String),

    /// A decoded image or frame could not be turned into the model's input (crop, resize or
    /// colour conversion failed).
    #[error("cannot preprocess image: {0}")]
    Preprocess(String),

    /// An argument is out of its documented range (e.g. `k = 0`, a pixel buffer of the wrong
    /// length, a malformed `.npy` file).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The manifest is missing where it is needed, malformed, or does not fit the model.
    #[error("manifest: {0}")]
    Manifest(String),

    /// The model's inputs or outputs do not fit the task asked of it (e.g. `classify` on a model
    /// with two inputs, or on a batch of more than one row).
    #[error("this model cannot {task}: {reason}")]
    TaskMismatch {
        /// The task asked for, e.g. `classify`.
        task: &'static str,
        /// What about the model or the call does not fit, and what to do instead.
        reason: String,
    },

    /// The model bytes do not match the sha256 its manifest records.
    #[error("integrity check failed: manifest says sha256 {expected}, model has {actual}")]
    Integrity {
        /// sha256 recorded in the manifest.
        expected: String,
        /// sha256 of the bytes actually loaded.
        actual: String,
    },

    /// Trusted keys were given and the model's signature is missing, from another key, or does
    /// not match the model and manifest (see `ledge pack --sign`).
    #[error("signature check failed ({problem}): {detail}")]
    Signature {
        /// What is wrong with the signature.
        problem: SignatureProblem,
        /// The specifics, and what to do.
        detail: String,
    },

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An input is larger than a configured limit; refused before any large allocation.
    #[error("{}", limit_message(*limit, *value, *max))]
    LimitExceeded {
        /// Which limit of [`crate::Limits`].
        limit: Limit,
        /// The offending value.
        value: u64,
        /// The configured maximum.
        max: u64,
    },

    /// The engine could not prepare (type, optimize or plan) a model that parsed: a load-time
    /// failure, reported at load.
    #[error("cannot prepare the model: {0}")]
    Optimization(String),

    /// The engine failed while running a loaded model on inputs that passed every check.
    #[error("inference failed: {0}")]
    Inference(String),
}

/// The message of [`Error::LimitExceeded`]: the plan limit's value is an estimate of the
/// model's peak memory, said so in MiB.
fn limit_message(limit: Limit, value: u64, max: u64) -> String {
    let name = limit.name();
    let raise = format!(
        "raise the limit if the {} is trusted: Limits.{name} (Rust, Python, Swift), \
         limits.{} (Kotlin, JavaScript), --{} (CLI)",
        if limit == Limit::MaxPlanBytes {
            "model"
        } else {
            "input"
        },
        camel_case(name),
        name.replace('_', "-")
    );
    match limit {
        Limit::MaxPlanBytes => format!(
            "limit exceeded: {limit}: the model needs about {} MiB at its peak ({value} bytes of \
             weights and of tensors alive at once, estimated), the maximum is {max}; {raise}",
            value.div_ceil(1 << 20)
        ),
        _ => format!("limit exceeded: {limit} is {value}, the maximum is {max}; {raise}"),
    }
}

/// `max_plan_bytes` → `maxPlanBytes`, as the Kotlin and JavaScript faces name options.
fn camel_case(snake: &str) -> String {
    let mut parts = snake.split('_');
    let mut out = parts.next().unwrap_or_default().to_string();
    for p in parts {
        let mut chars = p.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// Why a model's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureProblem {
    /// The model carries no signature.
    Unsigned,
    /// Signed by a key that is not trusted.
    UntrustedKey,
    /// The model bytes or the manifest changed after signing, or the signature is malformed.
    Invalid,
}

impl SignatureProblem {
    /// The problem as its snake_case name (`unsigned`, `untrusted_key`, `invalid`).
    pub fn name(self) -> &'static str {
        match self {
            SignatureProblem::Unsigned => "unsigned",
            SignatureProblem::UntrustedKey => "untrusted_key",
            SignatureProblem::Invalid => "invalid",
        }
    }
}

impl std::fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The resource limits of [`crate::Limits`], named as its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// [`crate::Limits::max_model_bytes`].
    MaxModelBytes,
    /// [`crate::Limits::max_image_pixels`].
    MaxImagePixels,
    /// [`crate::Limits::max_tensor_elements`].
    MaxTensorElements,
    /// [`crate::Limits::max_plan_bytes`].
    MaxPlanBytes,
}

impl Limit {
    /// The field name in [`crate::Limits`] (`"max_image_pixels"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Limit::MaxModelBytes => "max_model_bytes",
            Limit::MaxImagePixels => "max_image_pixels",
            Limit::MaxTensorElements => "max_tensor_elements",
            Limit::MaxPlanBytes => "max_plan_bytes",
        }
    }

    /// Refuses `value` above `max`, the configured maximum of this limit.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when `value > max`.
    pub fn check(self, value: u64, max: u64) -> Result<()> {
        if value > max {
            return Err(Error::LimitExceeded {
                limit: self,
                value,
                max,
            });
        }
        Ok(())
    }

    /// Every limit, in declaration order.
    pub const ALL: [Limit; 4] = [
        Limit::MaxModelBytes,
        Limit::MaxImagePixels,
        Limit::MaxTensorElements,
        Limit::MaxPlanBytes,
    ];
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// One error of every variant, in declaration order, with recognizable sample fields. For
    /// the bindings' bridge tests, which check that each kind reaches its foreign error type
    /// with its fields; not for production use.
    #[doc(hidden)]
    pub fn samples() -> Vec<Error> {
        vec![
            Error::ModelFormat("sample model format".into()),
            Error::UnsupportedOperator {
                op: "QLinearAdd".into(),
                node: "add_1".into(),
                others: 2,
            },
            Error::InputCount {
                expected: 1,
                got: 0,
            },
            Error::InputShape {
                name: "x".into(),
                expected: vec![1, 3, 48, 192],
                got: vec![1, 3, 48, 190],
            },
            Error::InputType {
                name: "x".into(),
                expected: DType::F32,
                got: DType::U8,
            },
            Error::ImageDecode("sample image decode".into()),
            Error::Preprocess("sample preprocess".into()),
            Error::InvalidArgument("sample invalid argument".into()),
            Error::Manifest("sample manifest".into()),
            Error::TaskMismatch {
                task: "classify",
                reason: "sample task mismatch".into(),
            },
            Error::Integrity {
                expected: "0".repeat(64),
                actual: "f".repeat(64),
            },
            Error::Signature {
                problem: SignatureProblem::UntrustedKey,
                detail: "sample signature".into(),
            },
            Error::Io {
                path: "/sample/missing.onnx".into(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "sample io"),
            },
            Error::LimitExceeded {
                limit: Limit::MaxImagePixels,
                value: 10,
                max: 5,
            },
            Error::Optimization("sample optimization".into()),
            Error::Inference("sample inference".into()),
        ]
    }

    /// The variant's fields as a JSON object, for the faces that carry them as data (the
    /// JavaScript `LedgeError`'s properties, the Kotlin exceptions' fields): `expected`, `got`,
    /// `op`, `node`, `others`, `task`, `reason`, `actual`, `path`, `limit` (its `Limits` field
    /// name), `value`, `max`, `problem`, `detail`; an input's `name` is `input` (`name` is taken
    /// in both languages).
    /// `{}` for variants that carry only their message. No `_ =>` arm: a new variant is mapped
    /// here, once, for every face.
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Error::ModelFormat(_)
            | Error::ImageDecode(_)
            | Error::Preprocess(_)
            | Error::InvalidArgument(_)
            | Error::Manifest(_)
            | Error::Optimization(_)
            | Error::Inference(_) => json!({}),
            Error::TaskMismatch { task, reason } => json!({ "task": task, "reason": reason }),
            Error::UnsupportedOperator { op, node, others } => {
                json!({ "op": op, "node": node, "others": others })
            }
            Error::InputCount { expected, got } => json!({ "expected": expected, "got": got }),
            Error::InputShape {
                name,
                expected,
                got,
            } => json!({ "input": name, "expected": expected, "got": got }),
            Error::InputType {
                name,
                expected,
                got,
            } => json!({ "input": name, "expected": expected.to_string(), "got": got.to_string() }),
            Error::Integrity { expected, actual } => {
                json!({ "expected": expected, "actual": actual })
            }
            Error::Io { path, .. } => json!({ "path": path.display().to_string() }),
            Error::Signature { problem, detail } => {
                json!({ "problem": problem.name(), "detail": detail })
            }
            Error::LimitExceeded { limit, value, max } => {
                json!({ "limit": limit.name(), "value": value, "max": max })
            }
        }
    }

    /// A short stable name for the variant (`"ModelFormat"`, `"InputShape"`, ...), used by
    /// bindings as an error `kind` and by the CLI's JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::ModelFormat(_) => "ModelFormat",
            Error::UnsupportedOperator { .. } => "UnsupportedOperator",
            Error::InputCount { .. } => "InputCount",
            Error::InputShape { .. } => "InputShape",
            Error::InputType { .. } => "InputType",
            Error::ImageDecode(_) => "ImageDecode",
            Error::Preprocess(_) => "Preprocess",
            Error::InvalidArgument(_) => "InvalidArgument",
            Error::Manifest(_) => "Manifest",
            Error::TaskMismatch { .. } => "TaskMismatch",
            Error::Integrity { .. } => "Integrity",
            Error::Io { .. } => "Io",
            Error::Signature { .. } => "Signature",
            Error::LimitExceeded { .. } => "LimitExceeded",
            Error::Optimization(_) => "Optimization",
            Error::Inference(_) => "Inference",
        }
    }
}

/// The text of a panic payload (`panic!` with a literal or a formatted message). The bindings
/// use it where they catch a panic at the FFI boundary, the core where it catches an engine
/// panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_names_its_option_in_every_face() {
        let e = Limit::MaxModelBytes.check(10, 5).unwrap_err().to_string();
        assert!(e.contains("max_model_bytes is 10, the maximum is 5"), "{e}");
        for name in [
            "Limits.max_model_bytes",
            "limits.maxModelBytes",
            "--max-model-bytes",
        ] {
            assert!(e.contains(name), "{e} should name {name}");
        }
        let e = Limit::MaxPlanBytes
            .check(3 << 20, 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("about 3 MiB at its peak") && e.contains("limits.maxPlanBytes"),
            "{e}"
        );
    }
}
