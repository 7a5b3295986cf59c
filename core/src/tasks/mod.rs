//! Tasks: what a model's output means. Classification is the first; each task turns output
//! tensors into results with the options the field uses for it.

pub mod classify;

pub use classify::{ClassifyOptions, Prediction};
