//! # Ledge
//!
//! On-device inference for quantized image models, on top of the
//! [tract](https://github.com/sonos/tract) ONNX engine: load a model once, share it across
//! threads, and classify, detect or embed encoded images or camera frames (RGBA, BGRA, NV12,
//! NV21, I420 / YUV_420_888 with strides and rotation) with the preprocessing its
//! [`Manifest`] describes.
//!
//! ```
//! # fn main() -> ledge::Result<()> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap();
//! use ledge::{ClassifyOptions, LoadOptions, Model};
//!
//! let model = Model::from_path("demo-models/efficientnet-lite0/model.onnx", &LoadOptions::default())?;
//! let top3 = model.classify_path("demo-models/images/chelsea.png", &ClassifyOptions::top(3))?;
//! for p in &top3 {
//!     println!("{:>5.1}%  {}", p.score * 100.0, p.label.as_deref().unwrap_or("?"));
//! }
//! assert_eq!(top3[0].label.as_deref(), Some("tiger cat"));
//! # Ok(()) }
//! ```
//!
//! ## Layout (dependencies point one way, down this list)
//! - [`Model`] (`model.rs`): ties the layers together.
//! - [`serving`]: usage statistics and drift, the prediction cache, the versioned model store
//!   (hot swap, rollback, shadow runs).
//! - [`tasks`]: what outputs mean: classification, detection (anchors, box decoding, NMS) and
//!   embeddings.
//! - [`vision`]: image bytes and frames → input tensors, and the geometry back.
//! - `engine` (private): the only code that touches tract — loading, limits, graph passes,
//!   planning, running, profiling.
//! - `kernels` (private): pure compute (the int8 kernels), no tract.
//! - Base types: [`Tensor`], [`DType`], [`Error`], [`LoadOptions`], [`Manifest`].
//!
//! The core has no FFI: the Swift/Python (uniffi), Kotlin (JNI), JavaScript (wasm-bindgen) and
//! CLI faces in `bindings/` only convert types and map [`Error`].

// The armv7 NEON int8 kernel (kernels/int8/arm32.rs) uses `core::arch::arm`'s intrinsics and
// `#[target_feature(enable = "neon")]`, both still unstable on 32-bit ARM. `target_feature = "neon"` is only set on 32-bit ARM by a nightly compiler (Debian's
// with RUSTC_BOOTSTRAP=1, scripts/build-pi.sh) given `-C target-feature=+neon`: stable builds
// (the host, rustup's armv7 and Android targets) never see this line.
#![cfg_attr(
    all(target_arch = "arm", target_endian = "little", target_feature = "neon"),
    feature(stdarch_arm_neon_intrinsics, arm_target_feature)
)]

// The one uniffi item the optional derives need: this crate's own scaffolding tag.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("ledge");

mod clock;
mod dtype;
mod engine;
mod error;
mod kernels;
pub mod manifest;
mod model;
mod options;
pub mod serving;
mod signing;
pub mod tasks;
mod tensor;
pub mod vision;

pub use clock::set_clock;
pub use dtype::DType;
pub use engine::{
    declared_inputs, pack, pack_signed, selected_isa, sha256_hex, supported_isas, ManifestSource,
    ModelInfo, OpProfile, Profile, TensorSpec, ISA_ENV,
};
pub use error::{panic_message, Error, Limit, Result, SignatureProblem};
pub use kernels::int8::fast_gemm as int8_matmul_kernel;
pub use manifest::{Baseline, Manifest, Task};
pub use model::Model;
pub use options::{CacheOptions, Limits, LoadOptions};
pub use serving::{Drift, ModelStore, Served, ShadowPolicy, ShadowReport, Stats, Versioned};
pub use signing::{public_key_for, SIGNATURE_KEY};
pub use tasks::{
    cosine_similarity, BoundingBox, ClassifyOptions, DetectOptions, Detection, Embedding, Point,
    Prediction,
};
pub use tensor::{Tensor, TensorData};
pub use vision::{ColorMatrix, ColorRange, Frame, FrameLayout, PixelFormat, PlaneLayout};
