//! How to load a model: [`LoadOptions`] and its resource [`Limits`].
//!
//! Defined once here; every binding takes these (the CLI as flags, wasm and JNI as JSON through
//! the serde derives, uniffi as records), so a field added here is one definition.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Limit, Result};
use crate::manifest::Manifest;

/// Size limits that protect the host app from hostile or accidental inputs. Each is checked
/// before the corresponding allocation; exceeding one is [`Error::LimitExceeded`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Limits {
    /// Largest model file accepted, in bytes (default 512 MiB).
    #[cfg_attr(feature = "uniffi", uniffi(default = 536870912))]
    pub max_model_bytes: u64,
    /// Largest image accepted, in pixels, checked from the header before decoding
    /// (default 2²⁶ ≈ 67 Mpx, above a 64 Mpx phone camera).
    #[cfg_attr(feature = "uniffi", uniffi(default = 67108864))]
    pub max_image_pixels: u64,
    /// Largest tensor accepted by [`crate::Model::run`], in elements (default 2²⁶).
    #[cfg_attr(feature = "uniffi", uniffi(default = 67108864))]
    pub max_tensor_elements: u64,
    /// Largest memory a model may need at its peak, in bytes: its weights plus the most tensors
    /// alive at once along the execution order (each from the node that makes it to its last
    /// consumer), estimated on the graph before optimization (default 1 GiB; the demo
    /// EfficientNet-Lite0 needs about 25 MB, the PP-OCR classifier 1 MB).
    #[cfg_attr(feature = "uniffi", uniffi(default = 1073741824))]
    pub max_plan_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_model_bytes: 512 << 20,
            max_image_pixels: 1 << 26,
            max_tensor_elements: 1 << 26,
            max_plan_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// The configured maximum of `limit`.
    pub fn max(&self, limit: Limit) -> u64 {
        match limit {
            Limit::MaxModelBytes => self.max_model_bytes,
            Limit::MaxImagePixels => self.max_image_pixels,
            Limit::MaxTensorElements => self.max_tensor_elements,
            Limit::MaxPlanBytes => self.max_plan_bytes,
        }
    }

    /// Refuses `value` above the maximum of `limit`.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when `value > self.max(limit)`.
    pub fn check(&self, limit: Limit, value: u64) -> Result<()> {
        limit.check(value, self.max(limit))
    }
}

/// How to load a model. Deserializes from JSON with camelCase keys (`verifyIntegrity`,
/// `limits.maxImagePixels`, as JavaScript and Kotlin name them), every field optional (missing
/// fields take their defaults; unknown fields are refused); `manifest` may be TOML text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LoadOptions {
    /// Batch size pinned into a symbolic first dimension (default 1). Pinning matters: tract
    /// runs a model with a symbolic batch 5–14× slower.
    #[cfg_attr(feature = "uniffi", uniffi(default = 1))]
    pub batch: u32,
    /// Explicit shapes for every input, replacing the model's own (needed when a model has
    /// symbolic dimensions besides the batch).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub input_shapes: Option<Vec<Vec<u64>>>,
    /// A manifest that overrides the sidecar and the embedded one; validated at load like any
    /// other. (From JSON: TOML text, or a table.)
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub manifest: Option<Manifest>,
    /// A manifest file to read at load (its `labels_file` relative to it), in place of
    /// `manifest`; setting both is an error.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub manifest_path: Option<String>,
    /// Class labels that replace the manifest's (for a manifest whose `labels_file` cannot be
    /// read where the model is loaded, e.g. in a browser or from bytes).
    /// (From JSON: a list, or a labels file's text, one label per line.)
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    #[serde(deserialize_with = "labels_list_or_text")]
    pub labels: Option<Vec<String>>,
    /// Verify the manifest's sha256 against the model bytes (default true).
    #[cfg_attr(feature = "uniffi", uniffi(default = true))]
    pub verify_integrity: bool,
    /// Resource limits.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub limits: Limits,
    /// Use Ledge's kernels (default true): the quantized convolutions of QDQ models
    /// (`DequantizeLinear → Conv → QuantizeLinear`) in int8, float depthwise convolutions, and
    /// vectorized quantization. `false` runs every operator as tract alone does (QDQ
    /// convolutions in float between quantization steps): slower, for comparison.
    #[cfg_attr(feature = "uniffi", uniffi(default = true))]
    pub ledge_kernels: bool,
    /// Turn encoded images as their EXIF Orientation tag says (default true): the picture as
    /// viewers show it. `false` classifies the pixels as stored.
    #[cfg_attr(feature = "uniffi", uniffi(default = true))]
    pub apply_exif_orientation: bool,
    /// The instruction set of the int8 kernels, by name (`portable`, `avx2`, `avx512vnni`,
    /// ...; `ledge inspect` lists them), or `auto`/unset for the best this CPU runs. Forcing one
    /// is for tests and benchmarks; one the CPU cannot run is refused at load. When unset, the
    /// `LEDGE_ISA` environment variable is read.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub isa: Option<String>,
    /// Threads one run uses for its convolutions and matrix products (default 1; 0 = one per
    /// CPU core). The outputs are identical whatever the count. Models loaded with the same
    /// count share one pool of threads. Builds without the `threads` feature (the WebAssembly
    /// module) run on one thread and refuse any other count.
    #[cfg_attr(feature = "uniffi", uniffi(default = 1))]
    pub threads: u32,
    /// Ed25519 public keys (64 hex digits each, as `ledge keygen` writes `ledge.pub`). When
    /// not empty, only a package signed by one of them loads (`ledge pack --sign`): unsigned,
    /// tampered or foreign-signed models fail with [`crate::Error::Signature`].
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub trusted_keys: Vec<String>,
    /// An opt-in cache of task results (see [`CacheOptions`]); `None` (the default) caches
    /// nothing.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub cache: Option<CacheOptions>,
}

/// Bounds of the prediction cache: a least-recently-used map from (task, options, input bytes)
/// to the result, per loaded model. A hit returns exactly what the call would compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CacheOptions {
    /// At most this many results (default 256).
    #[cfg_attr(feature = "uniffi", uniffi(default = 256))]
    pub max_entries: u32,
    /// At most this many bytes of results, estimated (default 4 MiB).
    #[cfg_attr(feature = "uniffi", uniffi(default = 4194304))]
    pub max_bytes: u64,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            max_entries: 256,
            max_bytes: 4 << 20,
        }
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            batch: 1,
            input_shapes: None,
            manifest: None,
            manifest_path: None,
            labels: None,
            verify_integrity: true,
            limits: Limits::default(),
            ledge_kernels: true,
            apply_exif_orientation: true,
            isa: None,
            threads: 1,
            trusted_keys: vec![],
            cache: None,
        }
    }
}

impl LoadOptions {
    /// Parses options from JSON (the wasm and JNI faces pass them so). Missing fields take
    /// their defaults.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the field that is unknown or of the wrong type.
    pub fn from_json(json: &str) -> Result<LoadOptions> {
        let bad = |e: serde_json::Error| Error::InvalidArgument(format!("load options: {e}"));
        let mut value: serde_json::Value = serde_json::from_str(json).map_err(bad)?;
        // The manifest is read on its own, so that its errors are `Manifest` errors.
        let manifest = match value.as_object_mut() {
            Some(fields) => fields.remove("manifest"),
            None => None,
        };
        let mut options: LoadOptions = serde_json::from_value(value).map_err(bad)?;
        if let (Some(m), Some(path)) = (&manifest, &options.manifest_path) {
            if !m.is_null() {
                return Err(both_manifests(path));
            }
        }
        options.manifest = match manifest {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(text)) => Some(Manifest::from_toml(&text)?),
            Some(table) => {
                let m: Manifest = serde_json::from_value(table)
                    .map_err(|e| Error::Manifest(format!("load options: {e}")))?;
                m.validate()?;
                Some(m)
            }
        };
        Ok(options)
    }

    /// The manifest these options give: `manifest`, or the file at `manifest_path`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when both are set; the errors of [`Manifest::from_path`].
    pub fn given_manifest(&self) -> Result<Option<Manifest>> {
        match (&self.manifest, &self.manifest_path) {
            (Some(_), Some(path)) => Err(both_manifests(path)),
            (Some(m), None) => Ok(Some(m.clone())),
            (None, Some(path)) => Manifest::from_path(path).map(Some),
            (None, None) => Ok(None),
        }
    }
}

fn both_manifests(path: &str) -> Error {
    Error::InvalidArgument(format!(
        "load options: set manifest or manifest_path, not both (manifest_path is {path})"
    ))
}

/// Labels as a list, or as the text of a labels file (one per line).
fn labels_list_or_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Option::<Form>::deserialize(d)? {
        None => None,
        Some(Form::List(l)) => Some(l),
        Some(Form::Text(t)) => Some(crate::manifest::parse_labels(&t)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fills_defaults_and_refuses_unknown_fields() {
        let o = LoadOptions::from_json(r#"{"batch": 2, "limits": {"maxImagePixels": 9}}"#).unwrap();
        assert_eq!(o.batch, 2);
        assert_eq!(o.limits.max_image_pixels, 9);
        assert_eq!(o.limits.max_plan_bytes, Limits::default().max_plan_bytes);
        assert!(o.ledge_kernels && o.verify_integrity);
        let e = LoadOptions::from_json(r#"{"ledge_kernels": false}"#).unwrap_err();
        assert!(
            e.to_string().contains("unknown field `ledge_kernels`"),
            "{e}"
        );
        let o = LoadOptions::from_json(r#"{"labels": "cat\n\n dog \n"}"#).unwrap();
        assert_eq!(o.labels, Some(vec!["cat".to_string(), "dog".to_string()]));
        let e = LoadOptions::from_json(r#"{"manifest": "name = 1"}"#).unwrap_err();
        assert_eq!(e.kind(), "Manifest", "{e}");
        let e = LoadOptions::from_json(r#"{"manifest": "", "manifestPath": "m.toml"}"#);
        let e = e.unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
    }

    #[test]
    fn limits_check_names_the_limit() {
        let e = Limits::default()
            .check(Limit::MaxImagePixels, u64::MAX)
            .unwrap_err();
        assert!(matches!(
            e,
            Error::LimitExceeded {
                limit: Limit::MaxImagePixels,
                ..
            }
        ));
        assert!(e.to_string().contains("Limits.max_image_pixels"), "{e}");
    }
}
