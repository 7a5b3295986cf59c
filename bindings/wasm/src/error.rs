//! [`ledge::Error`] → the JavaScript `LedgeError`, converted exhaustively.

use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

// `web/src/ledge_error.js` defines the `LedgeError` class; the build copies it next to the
// generated glue, so the glue and the npm package import the same class and `instanceof` holds.
#[wasm_bindgen(raw_module = "./ledge_error.js")]
extern "C" {
    /// `new LedgeError(kind, message, JSON.parse(details))`.
    #[wasm_bindgen(js_name = makeLedgeError)]
    fn make_ledge_error(kind: &str, message: &str, details: &str) -> JsValue;
}

/// The JS `LedgeError` for a core error: `kind` is [`ledge::Error::kind`], `message` the core's
/// full message, and the variant's fields become camelCase properties (`expected`, `got`, `op`,
/// `limit`, ...; the input's `name` becomes `input`, as `Error.name` is taken).
pub fn to_js(e: ledge::Error) -> JsValue {
    let message = e.to_string();
    let kind = e.kind();
    let details = details(e);
    make_ledge_error(kind, &message, &details.to_string())
}

/// The variant's fields. No `_ =>` arm: a new core variant must be mapped here.
fn details(e: ledge::Error) -> Value {
    use ledge::Error as E;
    match e {
        E::ModelFormat(_)
        | E::ImageDecode(_)
        | E::Preprocess(_)
        | E::InvalidArgument(_)
        | E::Manifest(_)
        | E::Optimization(_)
        | E::Inference(_) => json!({}),
        E::TaskMismatch { task, reason } => json!({ "task": task, "reason": reason }),
        E::UnsupportedOperator { op, node, others } => {
            json!({ "op": op, "node": node, "others": others })
        }
        E::InputCount { expected, got } => json!({ "expected": expected, "got": got }),
        E::InputShape {
            name,
            expected,
            got,
        } => json!({ "input": name, "expected": expected, "got": got }),
        E::InputType {
            name,
            expected,
            got,
        } => json!({ "input": name, "expected": expected.to_string(), "got": got.to_string() }),
        E::Integrity { expected, actual } => json!({ "expected": expected, "actual": actual }),
        E::Io { path, .. } => json!({ "path": path.display().to_string() }),
        E::LimitExceeded { limit, value, max } => {
            json!({ "limit": limit.name(), "value": value, "max": max })
        }
    }
}

/// An argument the JavaScript side got wrong (wrong type, unknown option, ...): a core
/// [`ledge::Error::InvalidArgument`], so it maps like every other error.
pub fn invalid(message: impl Into<String>) -> JsValue {
    to_js(ledge::Error::InvalidArgument(message.into()))
}
