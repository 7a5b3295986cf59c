//! # Ledge
//!
//! On-device inference for quantized image classifiers, on top of the
//! [tract](https://github.com/sonos/tract) ONNX engine: load a model once, share it across
//! threads, and classify encoded images or camera frames with the preprocessing its
//! [`Manifest`] describes.
//!
//! ```
//! # fn main() -> ledge::Result<()> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap();
//! use ledge::{LoadOptions, Model};
//!
//! let model = Model::from_path("demo-models/efficientnet-lite0/model.onnx", &LoadOptions::default())?;
//! let top3 = model.classify_path("demo-models/images/chelsea.png", 3)?;
//! for p in &top3 {
//!     println!("{:>5.1}%  {}", p.score * 100.0, p.label.as_deref().unwrap_or("?"));
//! }
//! assert_eq!(top3[0].label.as_deref(), Some("tiger cat"));
//! # Ok(()) }
//! ```
//!
//! The core has no FFI: the Swift/Python (uniffi), Kotlin (JNI), JavaScript (wasm-bindgen) and
//! CLI faces in `bindings/` only convert types and map [`Error`].

pub mod budget;
mod clock;
mod error;
mod int8;
pub mod manifest;
mod model;
mod onnx_file;
pub mod postprocess;
pub mod preprocess;
mod profile;
mod repair;
mod stats;
mod tensor;

pub use clock::set_clock;
pub use error::{Error, Result};
pub use int8::int8_matmul_kernel;
pub use manifest::Manifest;
pub use model::{Limits, LoadOptions, ManifestSource, Model, ModelInfo, TensorSpec};
pub use onnx_file::{pack, sha256_hex};
pub use postprocess::Prediction;
pub use profile::{OpProfile, Profile};
pub use stats::{percentile, Stats, LATENCY_WINDOW};
pub use tensor::{DType, Tensor, TensorData};
