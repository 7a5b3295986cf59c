//! [`ledge::Error`] → the JavaScript `LedgeError`, converted exhaustively.

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
    make_ledge_error(e.kind(), &message, &e.details().to_string())
}

/// An argument the JavaScript side got wrong (wrong type, unknown option, ...): a core
/// [`ledge::Error::InvalidArgument`], so it maps like every other error.
pub fn invalid(message: impl Into<String>) -> JsValue {
    to_js(ledge::Error::InvalidArgument(message.into()))
}
