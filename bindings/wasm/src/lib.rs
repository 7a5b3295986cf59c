//! # ledge-wasm
//!
//! The JavaScript face of [Ledge](ledge) for browsers and Node, exported with
//! [wasm-bindgen](https://wasm-bindgen.github.io/wasm-bindgen/). The npm package in `web/` wraps
//! this module (async `init()`, TypeScript types); see the README, "JavaScript / browser".
//!
//! Everything here is a delegation to the core plus conversions: a [`Model`] class and a
//! [`ModelStore`] class (the core's store in memory: a browser has no file system) with camelCase
//! methods, plain JS objects for results (built from the core's serde types) and one error
//! class, `LedgeError`, created from [`ledge::Error`] by an exhaustive match (`error.rs`).
//! Camera frames arrive as `{planes, layout}`: the planes' bytes and the core's `FrameLayout`
//! in camelCase (the npm package turns `VideoFrame`s, canvases and `ImageData` into that).
//!
//! Panics: the release build uses `panic = "abort"` (wasm32 has no stable unwinding here, and
//! unwinding tables cost size), so a panic cannot be caught in Rust. Instead the panic hook
//! installed by [`start`] hands the message to JavaScript and schedules a fresh wasm instance
//! for the next call; the npm wrapper turns the trap into a `LedgeError` of kind `"Panic"` and
//! marks every model of the aborted instance unusable (kind `"ModelFreed"` on later use).

use js_sys::{Array, Float32Array, Int32Array, Int8Array, Object, Reflect, Uint8Array};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

mod error;

use error::{invalid, to_js};

#[wasm_bindgen(raw_module = "./ledge_error.js")]
extern "C" {
    /// Remembers the message of the panic that is about to abort the instance.
    #[wasm_bindgen(js_name = recordPanic)]
    fn record_panic(message: &str);
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Runs when the module is instantiated (and again after a reset): installs the panic hook and
/// gives the core a clock, since `std::time::Instant` does not exist on wasm32-unknown-unknown.
#[wasm_bindgen(start)]
pub fn start() {
    ledge::set_clock(performance_now);
    std::panic::set_hook(Box::new(|info| {
        record_panic(&info.to_string());
        wasm_bindgen::handler::schedule_reinit();
    }));
}

/// The version of the Ledge core this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Size of the module's linear memory in bytes (it grows, never shrinks).
#[wasm_bindgen(js_name = memoryBytes)]
pub fn memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return (core::arch::wasm32::memory_size(0) * 65536) as f64;
    #[cfg(not(target_arch = "wasm32"))]
    0.0
}

/// A loaded and optimized model (core [`ledge::Model`]). Free it with `free()` when done: wasm
/// memory is not garbage-collected.
#[wasm_bindgen]
pub struct Model(ledge::Model);

/// The core's `LoadOptions` from a JavaScript object (camelCase keys, every field optional,
/// unknown keys refused: the core's serde derive, so a new option needs no code here).
fn load_options(options: &JsValue) -> Result<ledge::LoadOptions, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(ledge::LoadOptions::default());
    }
    let text =
        js_sys::JSON::stringify(options).map_err(|_| invalid("options must be a plain object"))?;
    let o = ledge::LoadOptions::from_json(&String::from(text)).map_err(to_js)?;
    if let (Some(m), None) = (&o.manifest, &o.labels) {
        if let Some(file) = &m.output.labels_file {
            return Err(to_js(ledge::Error::Manifest(format!(
                "labels_file = \"{file}\" cannot be read from JavaScript: pass the file's text \
                 (or an array of labels) as options.labels"
            ))));
        }
    }
    Ok(o)
}

#[wasm_bindgen]
impl Model {
    /// Loads a model from ONNX bytes. `options` (all optional): `manifest` (TOML text, overrides
    /// the embedded one), `labels` (array or one-per-line text, for a manifest's
    /// `labels_file`), `batch`, `inputShapes`, `verifyIntegrity`, `limits` (`maxModelBytes`,
    /// `maxImagePixels`, `maxTensorElements`, `maxPlanBytes`).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8], options: JsValue) -> Result<Model, JsValue> {
        let options = load_options(&options)?;
        Ok(Model(
            ledge::Model::from_bytes(bytes, &options).map_err(to_js)?,
        ))
    }

    /// Decodes an encoded image (JPEG, PNG, WebP, BMP, GIF), preprocesses it as the manifest says
    /// and returns the `topK` best classes (default 5, capped at the class count) as `{index,
    /// label, score}` objects, best first.
    pub fn classify(&self, encoded: &[u8], options: JsValue) -> Result<Array, JsValue> {
        let k = classify_options(&options)?;
        predictions(self.0.classify_encoded(encoded, &k))
    }

    /// Classifies several encoded images (an array of `Uint8Array`s) in one run of the model:
    /// one array of predictions per image, in order, equal to `classify` of each. Fails as a
    /// single call would, for the first image that fails.
    #[wasm_bindgen(js_name = classifyBatch)]
    pub fn classify_batch(&self, images: Array, options: JsValue) -> Result<Array, JsValue> {
        let k = classify_options(&options)?;
        let images = images
            .iter()
            .enumerate()
            .map(|(i, image)| {
                image
                    .dyn_into::<Uint8Array>()
                    .map(|a| a.to_vec())
                    .map_err(|_| invalid(format!("images[{i}] must be a Uint8Array")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = Array::new();
        for p in self.0.classify_batch(&images, &k).map_err(to_js)? {
            let predictions = prediction_array(&p)?;
            out.push(&predictions);
        }
        Ok(out)
    }

    /// Like `classify` for a tightly packed RGBA frame of `width × height` pixels (the `data`
    /// of an `ImageData`).
    #[wasm_bindgen(js_name = classifyRgba)]
    pub fn classify_rgba(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        options: JsValue,
    ) -> Result<Array, JsValue> {
        let k = classify_options(&options)?;
        predictions(self.0.classify_rgba(rgba, width, height, &k))
    }

    /// Decodes an encoded image (JPEG, PNG, WebP, BMP, GIF), runs the detector as its manifest's
    /// `[detect]` section says and returns what it finds, best first: `{index, label, score,
    /// boundingBox: {x, y, width, height}, keypoints: [{x, y}]}` objects (the core's serde types),
    /// boxes and keypoints in image pixels. `options` (all optional, unset = the manifest's
    /// values): `{maxResults, scoreThreshold, iouThreshold, allowlist, denylist}`.
    pub fn detect(&self, encoded: &[u8], options: JsValue) -> Result<JsValue, JsValue> {
        let o = detect_options(&options)?;
        serialized(self.0.detect_encoded(encoded, &o))
    }

    /// Like `detect` for a tightly packed RGBA frame of `width × height` pixels (the `data` of
    /// an `ImageData`); boxes are in the frame's pixels.
    #[wasm_bindgen(js_name = detectRgba)]
    pub fn detect_rgba(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let o = detect_options(&options)?;
        serialized(self.0.detect_rgba(rgba, width, height, &o))
    }

    /// Decodes an encoded image (JPEG, PNG, WebP, BMP, GIF) and returns its embedding's values
    /// (unit length unless the manifest says `l2_normalize = false`).
    pub fn embed(&self, encoded: &[u8]) -> Result<Vec<f32>, JsValue> {
        Ok(self.0.embed_encoded(encoded).map_err(to_js)?.values)
    }

    /// Like `embed` for a tightly packed RGBA frame of `width × height` pixels.
    #[wasm_bindgen(js_name = embedRgba)]
    pub fn embed_rgba(&self, rgba: &[u8], width: u32, height: u32) -> Result<Vec<f32>, JsValue> {
        Ok(self
            .0
            .embed_rgba(rgba, width, height)
            .map_err(to_js)?
            .values)
    }

    /// Classifies a camera frame `{planes, layout}`: `planes` an array of `Uint8Array`s (the
    /// format's planes in order), `layout` the core's `FrameLayout` as a camelCase object
    /// (`{format, width, height, planes: [{rowStride, pixelStride}], rotationDegrees, mirror,
    /// colorMatrix, colorRange, region}`, read by its serde derive). `options` as `classify`.
    #[wasm_bindgen(js_name = classifyFrame)]
    pub fn classify_frame(&self, frame: JsValue, options: JsValue) -> Result<Array, JsValue> {
        let k = classify_options(&options)?;
        let (planes, layout) = frame_from_js(&frame)?;
        predictions(self.0.classify_frame(&frame_of(&planes, layout), &k))
    }

    /// Detects objects in a camera frame `{planes, layout}` (as `classifyFrame`); boxes and
    /// keypoints in pixels of the upright frame. `options` as `detect`.
    #[wasm_bindgen(js_name = detectFrame)]
    pub fn detect_frame(&self, frame: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
        let o = detect_options(&options)?;
        let (planes, layout) = frame_from_js(&frame)?;
        serialized(self.0.detect_frame(&frame_of(&planes, layout), &o))
    }

    /// The embedding's values of a camera frame `{planes, layout}` (as `classifyFrame`).
    #[wasm_bindgen(js_name = embedFrame)]
    pub fn embed_frame(&self, frame: JsValue) -> Result<Vec<f32>, JsValue> {
        let (planes, layout) = frame_from_js(&frame)?;
        Ok(self
            .0
            .embed_frame(&frame_of(&planes, layout))
            .map_err(to_js)?
            .values)
    }

    /// Classifies an already preprocessed input tensor `{data, shape}`.
    #[wasm_bindgen(js_name = classifyTensor)]
    pub fn classify_tensor(&self, tensor: JsValue, options: JsValue) -> Result<Array, JsValue> {
        let k = classify_options(&options)?;
        let tensor = tensor_from_js(&tensor)?;
        predictions(self.0.classify_tensor(&tensor, &k))
    }

    /// Runs the model on raw tensors (`[{data: Float32Array | Int8Array | Uint8Array |
    /// Int32Array | BigInt64Array, shape: number[]}]`, one per input in order) and returns the
    /// outputs as `{data, shape, dtype}`.
    pub fn run(&self, inputs: Array) -> Result<Array, JsValue> {
        let inputs = inputs
            .iter()
            .map(|t| tensor_from_js(&t))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = self.0.run(&inputs).map_err(to_js)?;
        Ok(outputs.iter().map(tensor_to_js).collect())
    }

    /// Inputs, outputs, manifest, sha256, size and cost of the model.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        let i = self.0.info();
        let spec = |s: &ledge::TensorSpec| json!({ "name": s.name, "shape": s.shape, "dtype": s.dtype.to_string() });
        to_js_value(&json!({
            "inputs": i.inputs.iter().map(spec).collect::<Vec<_>>(),
            "outputs": i.outputs.iter().map(spec).collect::<Vec<_>>(),
            "fileSize": i.file_size,
            "sha256": i.sha256,
            "opHistogram": i.op_histogram,
            "parameters": i.parameters,
            "macs": i.macs,
            "quantizedMacs": i.quantized_macs,
            "quantizedMacFraction": i.quantized_mac_fraction(),
            "computeNodes": i.compute_nodes,
            "quantizedComputeNodes": i.quantized_compute_nodes,
            "manifest": i.manifest,
            "manifestSource": i.manifest_source,
            "repairs": i.repairs,
        }))
    }

    /// Usage statistics since load (the core's `Stats` with camelCase names): `runs`,
    /// `classifications`, `p50Ms`, `p95Ms`, `p99Ms`, `meanTop1Score`, `errors` (by kind),
    /// `cacheHits`, `cacheMisses`, `confidenceHistogram` (10 bins), `classHistogram` (class index
    /// → top-1 count), `meanEntropy`, `drift` (null without a manifest `[baseline]`).
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        stats_to_js(&self.0.stats())
    }
}

/// The core's [`ledge::Stats`] as a plain JS object with camelCase keys (`null` for `None`).
fn stats_to_js(s: &ledge::Stats) -> Result<JsValue, JsValue> {
    let drift = s.drift.as_ref().map(|d| {
        json!({
            "confidencePsi": d.confidence_psi,
            "classPsi": d.class_psi,
            "score": d.score,
            "threshold": d.threshold,
            "drifted": d.drifted,
            "samples": d.samples,
        })
    });
    to_js_value(&json!({
        "runs": s.runs,
        "classifications": s.classifications,
        "p50Ms": s.p50_ms,
        "p95Ms": s.p95_ms,
        "p99Ms": s.p99_ms,
        "meanTop1Score": s.mean_top1_score,
        "errors": s.errors,
        "cacheHits": s.cache_hits,
        "cacheMisses": s.cache_misses,
        "confidenceHistogram": s.confidence_histogram,
        "classHistogram": s.class_histogram,
        "meanEntropy": s.mean_entropy,
        "drift": drift,
    }))
}

/// Named, versioned models in memory (the core's [`ledge::ModelStore::in_memory`]): install,
/// activate, roll back, shadow a candidate, classify with the active version. A page keeps the
/// bytes itself (e.g. in IndexedDB) and installs them at start. Free it with `free()`.
#[wasm_bindgen]
pub struct ModelStore(ledge::ModelStore);

#[wasm_bindgen]
impl ModelStore {
    /// An empty store; every version is loaded with `options` (the `LoadOptions` of
    /// `Model.fromBytes`: give `trustedKeys` to accept signed models only).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<ModelStore, JsValue> {
        let options = load_options(&options)?;
        Ok(ModelStore(ledge::ModelStore::in_memory(&options)))
    }

    /// Installs ONNX `bytes` as `version` of `name`, not active yet. The bytes are loaded first:
    /// a model that does not load (or is not signed by a trusted key) is refused.
    pub fn install(&self, name: &str, version: &str, bytes: &[u8]) -> Result<(), JsValue> {
        self.0.install(name, version, bytes).map_err(to_js)
    }

    /// Makes installed `version` the active one of `name`; the old active one becomes the
    /// previous (kept loaded for `rollback`).
    pub fn activate(&self, name: &str, version: &str) -> Result<(), JsValue> {
        self.0.activate(name, version).map_err(to_js)
    }

    /// Swaps the active and the previous version of `name` back.
    pub fn rollback(&self, name: &str) -> Result<(), JsValue> {
        self.0.rollback(name).map_err(to_js)
    }

    /// The active version of `name` (`undefined` when none is active).
    #[wasm_bindgen(js_name = activeVersion)]
    pub fn active_version(&self, name: &str) -> Option<String> {
        self.0.versions(name).1
    }

    /// `{installed, active, previous}` of `name`: the installed versions in install order, the
    /// active and the previous one (`null` when there is none).
    pub fn versions(&self, name: &str) -> Result<JsValue, JsValue> {
        let (installed, active, previous) = self.0.versions(name);
        to_js_value(&json!({ "installed": installed, "active": active, "previous": previous }))
    }

    /// Lets installed `version` shadow the active version of `name` on a sample of `classify`
    /// calls. `policy` (all optional, the core's `ShadowPolicy`): `{sampleRate, minSamples,
    /// minAgreement, maxLatencyRatio, autoDecide, background}` (wasm has no threads: with
    /// `background` the candidate still runs in the call, and a promotion takes effect at once).
    #[wasm_bindgen(js_name = setCandidate)]
    pub fn set_candidate(&self, name: &str, version: &str, policy: JsValue) -> Result<(), JsValue> {
        let policy = shadow_policy(&policy)?;
        self.0.set_candidate(name, version, policy).map_err(to_js)
    }

    /// How the candidate of `name` compares with the active version so far: `{candidate, active,
    /// samples, agreement, meanAbsScoreDelta, latencyRatio, decision}`, or `null` without one.
    #[wasm_bindgen(js_name = shadowReport)]
    pub fn shadow_report(&self, name: &str) -> Result<JsValue, JsValue> {
        let Some(r) = self.0.shadow_report(name) else {
            return Ok(JsValue::NULL);
        };
        to_js_value(&json!({
            "candidate": r.candidate,
            "active": r.active,
            "samples": r.samples,
            "agreement": r.agreement,
            "meanAbsScoreDelta": r.mean_abs_score_delta,
            "latencyRatio": r.latency_ratio,
            "decision": r.decision,
        }))
    }

    /// The statistics of `version` of `name` (as `Model.stats`): kept per loaded version — the
    /// active, the previous and the candidate; any other version is an `InvalidArgument`.
    pub fn stats(&self, name: &str, version: &str) -> Result<JsValue, JsValue> {
        stats_to_js(&self.0.stats(name, version).map_err(to_js)?)
    }

    /// Classifies an encoded image with the active version of `name`: `{version, predictions}`,
    /// the version that computed the predictions. `options` as `Model.classify`.
    pub fn classify(
        &self,
        name: &str,
        encoded: &[u8],
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let k = classify_options(&options)?;
        let served = self.0.classify_encoded(name, encoded, &k).map_err(to_js)?;
        let o = Object::new();
        set(&o, "version", &JsValue::from(served.version))?;
        let predictions = prediction_array(&served.predictions)?;
        set(&o, "predictions", &predictions)?;
        Ok(o.into())
    }
}

/// A frame `{planes, layout}` from JavaScript: each plane's bytes copied into wasm memory, the
/// layout read by the core's serde derive (camelCase keys, unknown keys refused).
fn frame_from_js(frame: &JsValue) -> Result<(Vec<Vec<u8>>, ledge::FrameLayout), JsValue> {
    if !frame.is_object() {
        return Err(invalid("a frame is an object {planes, layout}"));
    }
    let planes = Reflect::get(frame, &JsValue::from_str("planes"))?;
    if !Array::is_array(&planes) {
        return Err(invalid("frame.planes must be an array of Uint8Array"));
    }
    let planes = Array::from(&planes)
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.dyn_into::<Uint8Array>()
                .map(|a| a.to_vec())
                .map_err(|_| invalid(format!("frame.planes[{i}] must be a Uint8Array")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let layout = Reflect::get(frame, &JsValue::from_str("layout"))?;
    if !layout.is_object() || Array::is_array(&layout) {
        return Err(invalid(
            "frame.layout must be a FrameLayout object {format, width, height, planes, \
             rotationDegrees, mirror, colorMatrix, colorRange, region}",
        ));
    }
    let text = js_sys::JSON::stringify(&layout)
        .map_err(|_| invalid("frame.layout must be a plain object"))?;
    let layout = serde_json::from_str(&String::from(text))
        .map_err(|e| invalid(format!("frame layout: {e}")))?;
    Ok((planes, layout))
}

/// The core's frame over planes copied by [`frame_from_js`].
fn frame_of(planes: &[Vec<u8>], layout: ledge::FrameLayout) -> ledge::Frame<'_> {
    ledge::Frame::new(planes.iter().map(Vec::as_slice).collect(), layout)
}

/// The core's `ShadowPolicy` from what JavaScript passes: nothing (the defaults) or an object
/// `{sampleRate, minSamples, minAgreement, maxLatencyRatio, autoDecide}`, read by the core's serde
/// derive (unknown keys refused; ranges checked by the core).
fn shadow_policy(policy: &JsValue) -> Result<ledge::ShadowPolicy, JsValue> {
    if policy.is_undefined() || policy.is_null() {
        return Ok(ledge::ShadowPolicy::default());
    }
    if !policy.is_object() || Array::is_array(policy) {
        return Err(invalid(
            "a shadow policy is a plain object {sampleRate, minSamples, minAgreement, \
             maxLatencyRatio, autoDecide}",
        ));
    }
    let text = js_sys::JSON::stringify(policy)
        .map_err(|_| invalid("a shadow policy must be a plain object"))?;
    serde_json::from_str(&String::from(text)).map_err(|e| invalid(format!("shadow policy: {e}")))
}

/// The core's `ClassifyOptions` from what JavaScript passes: nothing (the defaults), a number
/// (`topK`), or an object (`{maxResults, scoreThreshold, allowlist, denylist}`, read by the core's
/// serde derive: a new option needs no code here).
fn classify_options(options: &JsValue) -> Result<ledge::ClassifyOptions, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(ledge::ClassifyOptions::default());
    }
    if let Some(k) = options.as_f64() {
        if k.is_finite() && k >= 0.0 && k.fract() == 0.0 {
            return Ok(ledge::ClassifyOptions::top(k.min(1e9) as u32));
        }
        return Err(invalid(format!("topK must be a whole number ≥ 1, got {k}")));
    }
    let text = js_sys::JSON::stringify(options)
        .map_err(|_| invalid("classify options must be a number (topK) or a plain object"))?;
    serde_json::from_str(&String::from(text)).map_err(|e| invalid(format!("classify options: {e}")))
}

/// The core's `DetectOptions` from what JavaScript passes: nothing (the manifest's values) or an
/// object `{maxResults, scoreThreshold, iouThreshold, allowlist, denylist}`, read by the core's
/// serde derive (unknown keys refused; ranges checked by the core).
fn detect_options(options: &JsValue) -> Result<ledge::DetectOptions, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(ledge::DetectOptions::default());
    }
    if !options.is_object() || Array::is_array(options) {
        let got = if Array::is_array(options) {
            "an array".to_string()
        } else {
            format!("a {}", options.js_typeof().as_string().unwrap_or_default())
        };
        return Err(invalid(format!(
            "detect options must be a plain object {{maxResults, scoreThreshold, iouThreshold, \
             allowlist, denylist}}, got {got}"
        )));
    }
    let text = js_sys::JSON::stringify(options)
        .map_err(|_| invalid("detect options must be a plain object"))?;
    serde_json::from_str(&String::from(text)).map_err(|e| invalid(format!("detect options: {e}")))
}

/// `a·b / (|a|·|b|)` of two embeddings' values, in [−1, 1] (the core's `cosine_similarity`).
#[wasm_bindgen(js_name = cosineSimilarity)]
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Result<f32, JsValue> {
    ledge::cosine_similarity(a, b).map_err(to_js)
}

/// A core result as the plain JS value of its serde serialization (camelCase fields).
fn serialized<T: serde::Serialize>(result: ledge::Result<T>) -> Result<JsValue, JsValue> {
    let value = serde_json::to_value(result.map_err(to_js)?).map_err(|e| {
        to_js(ledge::Error::Inference(format!(
            "cannot serialize a result: {e}"
        )))
    })?;
    to_js_value(&value)
}

fn predictions(result: ledge::Result<Vec<ledge::Prediction>>) -> Result<Array, JsValue> {
    prediction_array(&result.map_err(to_js)?)
}

/// `[{index, label, score}]`, best first.
fn prediction_array(predictions: &[ledge::Prediction]) -> Result<Array, JsValue> {
    let out = Array::new();
    for p in predictions {
        let o = Object::new();
        set(&o, "index", &JsValue::from(p.index as f64))?;
        set(
            &o,
            "label",
            &p.label.as_deref().map_or(JsValue::NULL, JsValue::from),
        )?;
        set(&o, "score", &JsValue::from(p.score))?;
        out.push(&o);
    }
    Ok(out)
}

fn set(o: &Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(o, &JsValue::from_str(key), value).map(|_| ())
}

fn to_js_value(v: &Value) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&v.to_string())
}

/// `{data: TypedArray, shape: number[]}` → core tensor; the dtype follows the array type.
fn tensor_from_js(t: &JsValue) -> Result<ledge::Tensor, JsValue> {
    use ledge::TensorData as D;
    if !t.is_object() {
        return Err(invalid("a tensor is an object {data, shape}"));
    }
    let shape_value = Reflect::get(t, &JsValue::from_str("shape"))?;
    if !Array::is_array(&shape_value) {
        return Err(invalid("tensor.shape must be an array of whole numbers"));
    }
    let shape = Array::from(&shape_value)
        .iter()
        .map(|d| match d.as_f64() {
            Some(d) if d.is_finite() && d >= 0.0 && d.fract() == 0.0 => Ok(d as usize),
            _ => Err(invalid(format!(
                "tensor.shape must hold whole numbers ≥ 0, got {d:?}"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let data = Reflect::get(t, &JsValue::from_str("data"))?;
    let data = if let Some(a) = data.dyn_ref::<Float32Array>() {
        D::F32(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<Int8Array>() {
        D::I8(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<Uint8Array>() {
        D::U8(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<Int32Array>() {
        D::I32(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::BigInt64Array>() {
        D::I64(a.to_vec())
    } else {
        let got = data
            .dyn_ref::<Object>()
            .map(|o| String::from(o.constructor().name()))
            .unwrap_or_else(|| format!("{data:?}"));
        return Err(invalid(format!(
            "tensor.data must be a Float32Array, Int8Array, Uint8Array, Int32Array or \
             BigInt64Array, got {got}"
        )));
    };
    ledge::Tensor::new(shape, data).map_err(to_js)
}

fn tensor_to_js(t: &ledge::Tensor) -> JsValue {
    use ledge::TensorData as D;
    let data: JsValue = match t.data() {
        D::F32(v) => Float32Array::from(v.as_slice()).into(),
        D::I8(v) => Int8Array::from(v.as_slice()).into(),
        D::U8(v) => Uint8Array::from(v.as_slice()).into(),
        D::I32(v) => Int32Array::from(v.as_slice()).into(),
        D::I64(v) => js_sys::BigInt64Array::from(v.as_slice()).into(),
    };
    let o = Object::new();
    let shape: Array = t.shape().iter().map(|d| JsValue::from(*d as f64)).collect();
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(&o, &JsValue::from_str("data"), &data);
    let _ = Reflect::set(&o, &JsValue::from_str("shape"), &shape);
    let _ = Reflect::set(
        &o,
        &JsValue::from_str("dtype"),
        &JsValue::from_str(&t.dtype().to_string()),
    );
    o.into()
}

/// Bridge test: the core's error kinds, in declaration order ([`ledge::Error::samples`]), so the
/// JavaScript tests notice a kind they do not know. Not public API.
#[doc(hidden)]
#[wasm_bindgen(js_name = _errorKindsForTesting)]
pub fn error_kinds_for_testing() -> Vec<String> {
    ledge::Error::samples()
        .iter()
        .map(|e| e.kind().to_string())
        .collect()
}

/// Bridge test (design rule 4): throws the `LedgeError` for a core error `kind` built with
/// sample fields, so the JavaScript tests can check every kind's mapping. Not public API.
#[doc(hidden)]
#[wasm_bindgen(js_name = _errorForTesting)]
pub fn error_for_testing(kind: &str) -> Result<(), JsValue> {
    let e = ledge::Error::samples()
        .into_iter()
        .find(|e| e.kind() == kind)
        .ok_or_else(|| invalid(format!("no such kind {kind}")))?;
    Err(to_js(e))
}

/// Bridge test: panics, to check that a panic reaches JavaScript as a `LedgeError` of kind
/// `"Panic"` and that the module keeps working afterwards. Not public API.
#[doc(hidden)]
#[wasm_bindgen(js_name = _panicForTesting)]
pub fn panic_for_testing(message: &str) {
    panic!("{message}");
}
