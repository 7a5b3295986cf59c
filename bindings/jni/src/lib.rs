//! # ledge-jni
//!
//! The `Java_…` entry points behind the Kotlin library in `android/` (`dev.ledge.LedgeModel`,
//! `dev.ledge.LedgeModelStore`), and nothing else: conversions and error mapping over the `ledge`
//! core.
//!
//! - The body of every entry point is one call of `run_ffi_safe`, which catches panics
//!   (`catch_unwind`) and throws each failure into the JVM as the matching
//!   `dev.ledge.LedgeException` subclass (one per [`ledge::Error`] variant, mapped by an
//!   exhaustive `match`, plus `Panic`). Nothing unwinds into the JVM and nothing aborts.
//! - A loaded model crosses the boundary as a `jlong` holding a `Box<Model>` pointer, a model
//!   store as one holding a `Box<ModelStore>`. The Kotlin side owns each: it frees it exactly once
//!   (`close`, under a write lock) and never uses it afterwards (every call holds the read lock
//!   and checks the handle first).
//! - Structured values cross as one byte array in a small little-endian format (`codec`);
//!   options cross as JSON read by the core's serde derives, and the core's plain-data reports
//!   (`Stats`, `ShadowReport`) as JSON written by them; an embedding crosses as a `float[]`. So
//!   the only JNI calls are array copies, string reads, the direct-buffer address and throwing;
//!   no Java objects are built here besides arrays and exceptions, and no local reference
//!   outlives its call (the JVM frees the call's local frame on return).
//! - A camera frame's planes cross as an array of direct `ByteBuffer`s, each read in place
//!   (its address and capacity; the Kotlin side passes slices from position to limit), and its
//!   `FrameLayout` as JSON read by the core's serde derive (see `with_frame`).

mod codec;

use std::panic::{catch_unwind, AssertUnwindSafe};

use jni::errors::ErrorPolicy;
use jni::objects::{JByteArray, JByteBuffer, JClass, JFloatArray, JObjectArray, JString};
use jni::strings::JNIString;
use jni::sys::{jfloat, jint, jlong};
use jni::{Env, EnvUnowned};
use ledge::{
    ClassifyOptions, DetectOptions, Frame, FrameLayout, LoadOptions, Model, ModelStore,
    ShadowPolicy,
};

/// A failure on the way through the bridge.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The core refused the call.
    #[error(transparent)]
    Ledge(#[from] ledge::Error),
    /// A JNI call failed (often: a Java exception is already pending).
    #[error("JNI: {0}")]
    Jni(#[from] jni::errors::Error),
    /// The Kotlin side passed a handle that is no model or store (0 after close); or a core
    /// report could not be written as JSON (never expected: its fields are plain data).
    #[error("{0}")]
    State(String),
    /// Rust code panicked; the message is the panic payload.
    #[error("panic in native code: {0}")]
    Panic(String),
}

/// The Kotlin exception class for each core error, by exhaustive match: a new core variant
/// does not compile until it has its class.
fn exception_class(e: &ledge::Error) -> &'static str {
    use ledge::Error as E;
    match e {
        E::ModelFormat(_) => "dev/ledge/LedgeException$ModelFormat",
        E::UnsupportedOperator { .. } => "dev/ledge/LedgeException$UnsupportedOperator",
        E::InputCount { .. } => "dev/ledge/LedgeException$InputCount",
        E::InputShape { .. } => "dev/ledge/LedgeException$InputShape",
        E::InputType { .. } => "dev/ledge/LedgeException$InputType",
        E::ImageDecode(_) => "dev/ledge/LedgeException$ImageDecode",
        E::Preprocess(_) => "dev/ledge/LedgeException$Preprocess",
        E::InvalidArgument(_) => "dev/ledge/LedgeException$InvalidArgument",
        E::Manifest(_) => "dev/ledge/LedgeException$Manifest",
        E::TaskMismatch { .. } => "dev/ledge/LedgeException$TaskMismatch",
        E::Integrity { .. } => "dev/ledge/LedgeException$Integrity",
        E::Signature { .. } => "dev/ledge/LedgeException$Signature",
        E::Io { .. } => "dev/ledge/LedgeException$Io",
        E::LimitExceeded { .. } => "dev/ledge/LedgeException$LimitExceeded",
        E::Optimization(_) => "dev/ledge/LedgeException$Optimization",
        E::Inference(_) => "dev/ledge/LedgeException$Inference",
    }
}

/// The `ErrorPolicy` of `run_ffi_safe`: throws the matching exception, returns the default.
struct ThrowLedgeException;

impl<T: Default> ErrorPolicy<T, BridgeError> for ThrowLedgeException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: BridgeError,
    ) -> jni::errors::Result<T> {
        let class = match &err {
            BridgeError::Ledge(e) => exception_class(e),
            // A failed JNI call usually left its Java exception pending: let that one through.
            BridgeError::Jni(_) if env.exception_check() => return Ok(T::default()),
            BridgeError::Jni(jni::errors::Error::NullPtr(_)) => "java/lang/NullPointerException",
            BridgeError::Jni(_) | BridgeError::State(_) => "java/lang/IllegalStateException",
            BridgeError::Panic(_) => "dev/ledge/LedgeException$Panic",
        };
        if env.exception_check() {
            return Ok(T::default());
        }
        if let BridgeError::Ledge(e) = &err {
            // The core's structured fields reach Kotlin through one factory:
            // LedgeException.fromNative(kind, message, detailsJson).
            let args = [
                e.kind().to_string(),
                err.to_string(),
                e.details().to_string(),
            ];
            let mut values = Vec::with_capacity(args.len());
            for a in &args {
                values.push(env.new_string(a)?);
            }
            let exception = env
                .call_static_method(
                    jni::jni_str!("dev/ledge/LedgeException"),
                    jni::jni_str!("fromNative"),
                    jni::jni_sig!(
                        "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Ldev/ledge/LedgeException;"
                    ),
                    &[(&values[0]).into(), (&values[1]).into(), (&values[2]).into()],
                )?
                .l()?;
            let exception = env.cast_local::<jni::objects::JThrowable>(exception)?;
            env.throw(exception)?;
            return Ok(T::default());
        }
        env.throw_new(JNIString::from(class), JNIString::from(err.to_string()))?;
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        cap: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        Self::on_error(
            env,
            cap,
            BridgeError::Panic(panic_message(payload.as_ref())),
        )
    }
}

use ledge::panic_message;

/// The one wrapper of every entry point: runs `f` with the JNI environment, catches any panic
/// (`catch_unwind`), and turns every error into a thrown Java exception plus a default return
/// value (0, null), which the JVM ignores because an exception is pending.
fn run_ffi_safe<'local, T: Default>(
    env: &mut EnvUnowned<'local>,
    f: impl FnOnce(&mut Env<'local>) -> Result<T, BridgeError>,
) -> T {
    env.with_env_no_catch(|env| {
        catch_unwind(AssertUnwindSafe(|| f(env)))
            .unwrap_or_else(|payload| Err(BridgeError::Panic(panic_message(payload.as_ref()))))
    })
    .resolve::<ThrowLedgeException>()
}

/// A core object (a `Model`, a `ModelStore`) as an opaque handle for Kotlin: freed by
/// [`free_handle`] only.
fn into_handle<T>(value: T) -> jlong {
    Box::into_raw(Box::new(value)) as jlong
}

/// The object behind a handle of [`into_handle`]; `what` names it in the error for a closed one.
/// The Kotlin side guarantees the handle stays valid for the call (it holds a read lock that
/// `close` must acquire as a writer before freeing).
fn borrow<'a, T>(handle: jlong, what: &str) -> Result<&'a T, BridgeError> {
    if handle == 0 {
        return Err(BridgeError::State(format!("the {what} is closed")));
    }
    // SAFETY: non-zero handles come from `into_handle::<T>` and are freed only by
    // `free_handle::<T>`, which the Kotlin side never runs concurrently with, or before, another
    // call on the same handle.
    Ok(unsafe { &*(handle as *const T) })
}

/// Drops the object behind a handle of [`into_handle`] (0 is a no-op).
///
/// # Safety
/// `handle` came from `into_handle::<T>` and is freed this once: the Kotlin side clears it
/// under its write lock before calling `free`.
unsafe fn free_handle<T>(handle: jlong) {
    if handle != 0 {
        // SAFETY: as the function's contract says.
        drop(unsafe { Box::from_raw(handle as *mut T) });
    }
}

fn model<'a>(handle: jlong) -> Result<&'a Model, BridgeError> {
    borrow(handle, "model")
}

fn store<'a>(handle: jlong) -> Result<&'a ModelStore, BridgeError> {
    borrow(handle, "model store")
}

/// A core value as the JSON of its serde derive (`serde_json::to_vec(&value)`; the Kotlin side
/// reads it with kotlinx.serialization), as a new Kotlin `ByteArray` (UTF-8).
fn json_to_java<'local>(
    env: &mut Env<'local>,
    json: serde_json::Result<Vec<u8>>,
) -> Result<JByteArray<'local>, BridgeError> {
    let json =
        json.map_err(|e| BridgeError::State(format!("cannot write a result as JSON: {e}")))?;
    to_java(env, &json)
}

fn bytes(env: &Env<'_>, array: &JByteArray<'_>) -> Result<Vec<u8>, BridgeError> {
    Ok(env.convert_byte_array(array)?)
}

fn to_java<'local>(env: &mut Env<'local>, out: &[u8]) -> Result<JByteArray<'local>, BridgeError> {
    Ok(env.byte_array_from_slice(out)?)
}

fn k(top_k: jint) -> Result<ClassifyOptions, BridgeError> {
    let k = u32::try_from(top_k).map_err(|_| {
        ledge::Error::InvalidArgument(format!("topK must be at least 1, got {top_k}"))
    })?;
    Ok(ClassifyOptions::top(k))
}

/// The core's `LoadOptions` from the JSON the Kotlin `LoadOptions` serializes to (its
/// kotlinx.serialization form, camelCase as the core's serde derive reads it): one definition of
/// the options, no field-by-field codec.
fn load_options(env: &Env<'_>, options: &JByteArray<'_>) -> Result<LoadOptions, BridgeError> {
    let json = String::from_utf8(bytes(env, options)?)
        .map_err(|_| ledge::Error::InvalidArgument("load options are not UTF-8 JSON".into()))?;
    Ok(LoadOptions::from_json(&json)?)
}

/// The core's `DetectOptions` from the JSON of the Kotlin `DetectOptions` (camelCase, as the
/// core's serde derive reads it, unknown fields refused).
fn detect_options(env: &Env<'_>, options: &JByteArray<'_>) -> Result<DetectOptions, BridgeError> {
    let bad = |what: String| ledge::Error::InvalidArgument(format!("detect options: {what}"));
    let json = String::from_utf8(bytes(env, options)?).map_err(|_| bad("not UTF-8 JSON".into()))?;
    Ok(serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?)
}

/// The core's `ShadowPolicy` from the JSON of the Kotlin `ShadowPolicy` (camelCase, missing
/// fields take the core's defaults, unknown fields refused); the core checks the ranges.
fn shadow_policy(env: &Env<'_>, policy: &JByteArray<'_>) -> Result<ShadowPolicy, BridgeError> {
    let bad = |what: String| ledge::Error::InvalidArgument(format!("shadow policy: {what}"));
    let json = String::from_utf8(bytes(env, policy)?).map_err(|_| bad("not UTF-8 JSON".into()))?;
    Ok(serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?)
}

/// A width and height from Kotlin `Int`s.
fn dims(width: jint, height: jint) -> Result<(u32, u32), BridgeError> {
    match (u32::try_from(width), u32::try_from(height)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(ledge::Error::InvalidArgument(format!(
            "width and height must be ≥ 0, got {width}×{height}"
        ))
        .into()),
    }
}

/// The bytes of a direct buffer, copied: its `capacity` bytes (the Kotlin side passes a slice
/// from the caller's position to its limit). Java code may write the buffer while the call
/// runs (a camera pipeline reusing it), and a `&[u8]` over memory that changes is undefined
/// behaviour in Rust. Allocating and copying a 640×480 RGBA frame (1.2 MB) measured 0.03 ms
/// (median of 2,000, AMD EPYC, the allocation reused as it is for a camera loop), against the
/// milliseconds of preprocessing and inference that follow.
fn frame(env: &Env<'_>, pixels: &JByteBuffer<'_>) -> Result<Vec<u8>, BridgeError> {
    let address = env.get_direct_buffer_address(pixels)?;
    let capacity = env.get_direct_buffer_capacity(pixels)?;
    let mut rgba = vec![0u8; capacity];
    if capacity > 0 {
        // SAFETY: a direct buffer's address is valid for `capacity` bytes while the buffer is
        // reachable, which the caller's local reference guarantees for this call; the copy
        // reads those bytes once, as `u8`s (any bit pattern is valid), into memory Rust
        // owns, so a concurrent Java write cannot change what the model sees mid-call.
        unsafe { std::ptr::copy_nonoverlapping(address, rgba.as_mut_ptr(), capacity) };
    }
    Ok(rgba)
}

/// The planes of a direct `ByteBuffer` array, each read in place, with the `FrameLayout` of
/// the JSON the Kotlin `FrameLayout` serializes to (camelCase, as the core's serde derive reads
/// it, unknown fields refused), as one `Frame` for `f`.
///
/// Each plane is its buffer's `capacity` bytes at its address: the Kotlin side passes a slice
/// from the caller's position to its limit (a heap buffer copied into a direct one). Unlike
/// `frame` (an RGBA buffer, copied), planes are not copied: a camera frame is 0.5–18 MB
/// (640×480 to 4000×3000 YUV) at up to 60 frames a second, and the camera does not write a
/// buffer the app holds (an `Image`/`ImageProxy` until `close()`). The Kotlin API requires that
/// the planes are not written during the call (documented on `LedgeModel.classifyFrame`).
/// Planes may overlap (Android's U and V planes are views of one interleaved buffer): they are
/// only read.
fn with_frame<'local, T>(
    env: &mut Env<'local>,
    planes: &JObjectArray<'local, JByteBuffer<'local>>,
    layout: &JByteArray<'local>,
    f: impl FnOnce(&Frame<'_>) -> Result<T, BridgeError>,
) -> Result<T, BridgeError> {
    let bad = |what: String| ledge::Error::InvalidArgument(format!("frame layout: {what}"));
    let json = String::from_utf8(bytes(env, layout)?).map_err(|_| bad("not UTF-8 JSON".into()))?;
    let layout: FrameLayout = serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?;
    let count = planes.len(env)?;
    let mut buffers = Vec::with_capacity(count);
    for i in 0..count {
        buffers.push(planes.get_element(env, i)?);
    }
    let mut slices: Vec<&[u8]> = Vec::with_capacity(count);
    for buffer in &buffers {
        let address = env.get_direct_buffer_address(buffer)?;
        let capacity = env.get_direct_buffer_capacity(buffer)?;
        slices.push(if capacity == 0 {
            &[]
        } else {
            // SAFETY: a direct buffer's address is valid for `capacity` bytes while the
            // buffer is reachable, which the `planes` array (a local reference of this call)
            // guarantees until the call returns, and `slices` does not outlive it. The bytes
            // are read as `u8`s (any bit pattern is valid) and never written here; the caller
            // keeps them unchanged for the call (the Kotlin API's documented contract).
            unsafe { std::slice::from_raw_parts(address.cast_const(), capacity) }
        });
    }
    f(&Frame::new(slices, layout))
}

/// A Kotlin `FloatArray`, copied.
fn floats(env: &Env<'_>, array: &JFloatArray<'_>) -> Result<Vec<f32>, BridgeError> {
    let mut values = vec![0f32; array.len(env)?];
    array.get_region(env, 0, &mut values)?;
    Ok(values)
}

/// An embedding as a new Kotlin `FloatArray`.
fn embedding_to_java<'local>(
    env: &mut Env<'local>,
    embedding: &ledge::Embedding,
) -> Result<JFloatArray<'local>, BridgeError> {
    let array = JFloatArray::new(env, embedding.values.len())?;
    array.set_region(env, 0, &embedding.values)?;
    Ok(array)
}

/// `Native.loadBytes(model: ByteArray, options: ByteArray): Long`
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_loadBytes<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    model_bytes: JByteArray<'l>,
    options: JByteArray<'l>,
) -> jlong {
    run_ffi_safe(&mut env, |env| {
        let options = load_options(env, &options)?;
        Ok(into_handle(Model::from_bytes(
            &bytes(env, &model_bytes)?,
            &options,
        )?))
    })
}

/// `Native.loadFile(path: String, options: ByteArray): Long` (finds a sidecar manifest).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_loadFile<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
    options: JByteArray<'l>,
) -> jlong {
    run_ffi_safe(&mut env, |env| {
        let options = load_options(env, &options)?;
        let path = path.try_to_string(env)?;
        Ok(into_handle(Model::from_path(path, &options)?))
    })
}

/// `Native.free(handle: Long)`: drops the model. Called exactly once per handle, by `close`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_free<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run_ffi_safe(&mut env, |_| {
        // SAFETY: a model handle, freed once (the Kotlin side clears it under its write lock).
        unsafe { free_handle::<Model>(handle) };
        Ok(())
    })
}

/// `Native.classify(handle, encoded: ByteArray, topK: Int): ByteArray` (predictions).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_classify<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    encoded: JByteArray<'l>,
    top_k: jint,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let p = model(handle)?.classify_encoded(&bytes(env, &encoded)?, &k(top_k)?)?;
        to_java(env, &codec::encode_predictions(&p))
    })
}

/// `Native.classifyBatch(handle, images: ByteArray, topK: Int): ByteArray`: the encoded images
/// as one codec blob list (borrowed, not copied again), one prediction list per image out.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_classifyBatch<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    images: JByteArray<'l>,
    top_k: jint,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let options = k(top_k)?;
        let packed = bytes(env, &images)?;
        let results = model.classify_batch(&codec::decode_blobs(&packed)?, &options)?;
        to_java(env, &codec::encode_prediction_lists(&results))
    })
}

/// `Native.classifyRgba(handle, pixels: ByteBuffer, width: Int, height: Int, topK: Int)`: reads
/// the direct buffer's `capacity` bytes (copied first, see `frame`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_classifyRgba<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    pixels: JByteBuffer<'l>,
    width: jint,
    height: jint,
    top_k: jint,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let (w, h) = dims(width, height)?;
        let p = model.classify_rgba(&frame(env, &pixels)?, w, h, &k(top_k)?)?;
        to_java(env, &codec::encode_predictions(&p))
    })
}

/// `Native.classifyTensor(handle, tensor: ByteArray, topK: Int): ByteArray`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_classifyTensor<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    tensor: JByteArray<'l>,
    top_k: jint,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let mut tensors = codec::decode_tensors(&bytes(env, &tensor)?)?;
        let tensor = match (tensors.pop(), tensors.is_empty()) {
            (Some(t), true) => t,
            _ => {
                return Err(ledge::Error::InvalidArgument(
                    "classifyTensor takes exactly one tensor".into(),
                )
                .into())
            }
        };
        let p = model.classify_tensor(&tensor, &k(top_k)?)?;
        to_java(env, &codec::encode_predictions(&p))
    })
}

/// `Native.detect(handle, encoded: ByteArray, options: ByteArray): ByteArray` (detections; the
/// options as JSON).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_detect<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    encoded: JByteArray<'l>,
    options: JByteArray<'l>,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let options = detect_options(env, &options)?;
        let d = model.detect_encoded(&bytes(env, &encoded)?, &options)?;
        to_java(env, &codec::encode_detections(&d))
    })
}

/// `Native.detectRgba(handle, pixels: ByteBuffer, width: Int, height: Int, options: ByteArray)`:
/// reads the direct buffer's `capacity` bytes (copied first, see `frame`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_detectRgba<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    pixels: JByteBuffer<'l>,
    width: jint,
    height: jint,
    options: JByteArray<'l>,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let (w, h) = dims(width, height)?;
        let options = detect_options(env, &options)?;
        let d = model.detect_rgba(&frame(env, &pixels)?, w, h, &options)?;
        to_java(env, &codec::encode_detections(&d))
    })
}

/// `Native.embed(handle, encoded: ByteArray): FloatArray` (the embedding's values).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_embed<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    encoded: JByteArray<'l>,
) -> JFloatArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let e = model(handle)?.embed_encoded(&bytes(env, &encoded)?)?;
        embedding_to_java(env, &e)
    })
}

/// `Native.embedRgba(handle, pixels: ByteBuffer, width: Int, height: Int): FloatArray`: reads
/// the direct buffer's `capacity` bytes (copied first, see `frame`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_embedRgba<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    pixels: JByteBuffer<'l>,
    width: jint,
    height: jint,
) -> JFloatArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let (w, h) = dims(width, height)?;
        let e = model.embed_rgba(&frame(env, &pixels)?, w, h)?;
        embedding_to_java(env, &e)
    })
}

/// `Native.classifyFrame(handle, planes: Array<ByteBuffer>, layout: ByteArray, topK: Int):
/// ByteArray` (predictions): a camera frame, its planes read in place (see `with_frame`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_classifyFrame<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    planes: JObjectArray<'l, JByteBuffer<'l>>,
    layout: JByteArray<'l>,
    top_k: jint,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let options = k(top_k)?;
        let p = with_frame(env, &planes, &layout, |frame| {
            Ok(model.classify_frame(frame, &options)?)
        })?;
        to_java(env, &codec::encode_predictions(&p))
    })
}

/// `Native.detectFrame(handle, planes: Array<ByteBuffer>, layout: ByteArray, options:
/// ByteArray): ByteArray` (detections in upright-frame pixels; the options as JSON).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_detectFrame<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    planes: JObjectArray<'l, JByteBuffer<'l>>,
    layout: JByteArray<'l>,
    options: JByteArray<'l>,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let options = detect_options(env, &options)?;
        let d = with_frame(env, &planes, &layout, |frame| {
            Ok(model.detect_frame(frame, &options)?)
        })?;
        to_java(env, &codec::encode_detections(&d))
    })
}

/// `Native.embedFrame(handle, planes: Array<ByteBuffer>, layout: ByteArray): FloatArray`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_embedFrame<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    planes: JObjectArray<'l, JByteBuffer<'l>>,
    layout: JByteArray<'l>,
) -> JFloatArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let e = with_frame(env, &planes, &layout, |frame| Ok(model.embed_frame(frame)?))?;
        embedding_to_java(env, &e)
    })
}

/// `Native.cosineSimilarity(a: FloatArray, b: FloatArray): Float` (`ledge::cosine_similarity`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_cosineSimilarity<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    a: JFloatArray<'l>,
    b: JFloatArray<'l>,
) -> jfloat {
    run_ffi_safe(&mut env, |env| {
        Ok(ledge::cosine_similarity(
            &floats(env, &a)?,
            &floats(env, &b)?,
        )?)
    })
}

/// `Native.run(handle, inputs: ByteArray): ByteArray` (tensors in, tensors out).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_run<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    inputs: JByteArray<'l>,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let model = model(handle)?;
        let outputs = model.run(&codec::decode_tensors(&bytes(env, &inputs)?)?)?;
        to_java(env, &codec::encode_tensors(&outputs))
    })
}

/// `Native.info(handle): ByteArray`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_info<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        to_java(env, &codec::encode_info(model(handle)?.info()))
    })
}

/// `Native.stats(handle): ByteArray`: the core's `Stats` as JSON (its serde derive, snake_case).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_stats<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let stats = model(handle)?.stats();
        json_to_java(env, serde_json::to_vec(&stats))
    })
}

/// `Native.storeOpen(dir: String, options: ByteArray): Long`: a store on disk.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeOpen<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    dir: JString<'l>,
    options: JByteArray<'l>,
) -> jlong {
    run_ffi_safe(&mut env, |env| {
        let options = load_options(env, &options)?;
        let dir = dir.try_to_string(env)?;
        Ok(into_handle(ModelStore::open(dir, &options)?))
    })
}

/// `Native.storeInMemory(options: ByteArray): Long`: a store keeping its bytes in memory.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeInMemory<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    options: JByteArray<'l>,
) -> jlong {
    run_ffi_safe(&mut env, |env| {
        let options = load_options(env, &options)?;
        Ok(into_handle(ModelStore::in_memory(&options)))
    })
}

/// `Native.storeFree(handle: Long)`: drops the store and its loaded versions. Called exactly
/// once per handle, by `LedgeModelStore.close`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeFree<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run_ffi_safe(&mut env, |_| {
        // SAFETY: a store handle, freed once (the Kotlin side clears it under its write lock).
        unsafe { free_handle::<ModelStore>(handle) };
        Ok(())
    })
}

/// `Native.storeInstall(handle, name: String, version: String, model: ByteArray)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeInstall<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
    version: JString<'l>,
    model_bytes: JByteArray<'l>,
) {
    run_ffi_safe(&mut env, |env| {
        let store = store(handle)?;
        let (name, version) = (name.try_to_string(env)?, version.try_to_string(env)?);
        Ok(store.install(&name, &version, &bytes(env, &model_bytes)?)?)
    })
}

/// `Native.storeActivate(handle, name: String, version: String)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeActivate<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
    version: JString<'l>,
) {
    run_ffi_safe(&mut env, |env| {
        let store = store(handle)?;
        let (name, version) = (name.try_to_string(env)?, version.try_to_string(env)?);
        Ok(store.activate(&name, &version)?)
    })
}

/// `Native.storeRollback(handle, name: String)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeRollback<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
) {
    run_ffi_safe(&mut env, |env| {
        let store = store(handle)?;
        Ok(store.rollback(&name.try_to_string(env)?)?)
    })
}

/// `Native.storeVersions(handle, name: String): ByteArray` (installed, active, previous).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeVersions<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let store = store(handle)?;
        let (installed, active, previous) = store.versions(&name.try_to_string(env)?);
        let out = codec::encode_versions(&installed, active.as_deref(), previous.as_deref());
        to_java(env, &out)
    })
}

/// `Native.storeSetCandidate(handle, name: String, version: String, policy: ByteArray)` (the
/// policy as JSON).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeSetCandidate<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
    version: JString<'l>,
    policy: JByteArray<'l>,
) {
    run_ffi_safe(&mut env, |env| {
        let store = store(handle)?;
        let policy = shadow_policy(env, &policy)?;
        let (name, version) = (name.try_to_string(env)?, version.try_to_string(env)?);
        Ok(store.set_candidate(&name, &version, policy)?)
    })
}

/// `Native.storeShadowReport(handle, name: String): ByteArray`: the core's `Option<ShadowReport>`
/// as JSON (`null` without a candidate).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeShadowReport<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let report = store(handle)?.shadow_report(&name.try_to_string(env)?);
        json_to_java(env, serde_json::to_vec(&report))
    })
}

/// `Native.storeStats(handle, name: String, version: String): ByteArray`: the core's `Stats` of
/// a loaded version (active, previous or candidate) as JSON.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeStats<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
    version: JString<'l>,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let store = store(handle)?;
        let (name, version) = (name.try_to_string(env)?, version.try_to_string(env)?);
        let stats = store.stats(&name, &version)?;
        json_to_java(env, serde_json::to_vec(&stats))
    })
}

/// `Native.storeClassify(handle, name: String, encoded: ByteArray, topK: Int): ByteArray` (the
/// version and its predictions).
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ledge_Native_storeClassify<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
    encoded: JByteArray<'l>,
    top_k: jint,
) -> JByteArray<'l> {
    run_ffi_safe(&mut env, |env| {
        let store = store(handle)?;
        let options = k(top_k)?;
        let name = name.try_to_string(env)?;
        let served = store.classify_encoded(&name, &bytes(env, &encoded)?, &options)?;
        to_java(env, &codec::encode_served(&served))
    })
}

/// Bridge-test entry points (feature `testing`): exercise the wrapper itself from Kotlin.
#[cfg(feature = "testing")]
mod testing {
    use super::*;

    /// One core error of each kind, by [`ledge::Error::kind`] name.
    pub(crate) fn error_of_kind(kind: &str) -> Option<ledge::Error> {
        ledge::Error::samples()
            .into_iter()
            .find(|e| e.kind() == kind)
    }

    /// `Native.testPanic(message: String)`: panics inside the wrapper.
    #[unsafe(no_mangle)]
    pub extern "system" fn Java_dev_ledge_Native_testPanic<'l>(
        mut env: EnvUnowned<'l>,
        _class: JClass<'l>,
        message: JString<'l>,
    ) -> jint {
        run_ffi_safe(&mut env, |env| -> Result<jint, BridgeError> {
            let message = message.try_to_string(env)?;
            panic!("{message}")
        })
    }

    /// `Native.testError(kind: String)`: fails with the core error of that kind (see
    /// `ledge::Error::kind`); an unknown kind is an `IllegalStateException`.
    #[unsafe(no_mangle)]
    pub extern "system" fn Java_dev_ledge_Native_testError<'l>(
        mut env: EnvUnowned<'l>,
        _class: JClass<'l>,
        kind: JString<'l>,
    ) -> jint {
        run_ffi_safe(&mut env, |env| {
            let kind = kind.try_to_string(env)?;
            match error_of_kind(&kind) {
                Some(e) => {
                    assert_eq!(e.kind(), kind);
                    Err(e.into())
                }
                None => Err(BridgeError::State(format!("no error kind {kind}"))),
            }
        })
    }

    /// `Native.testEcho(data: ByteArray): ByteArray`: the codec's tensors, decoded and encoded.
    #[unsafe(no_mangle)]
    pub extern "system" fn Java_dev_ledge_Native_testEcho<'l>(
        mut env: EnvUnowned<'l>,
        _class: JClass<'l>,
        data: JByteArray<'l>,
    ) -> JByteArray<'l> {
        run_ffi_safe(&mut env, |env| {
            let tensors = codec::decode_tensors(&bytes(env, &data)?)?;
            to_java(env, &codec::encode_tensors(&tensors))
        })
    }
}
