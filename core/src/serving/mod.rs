//! Serving: what a loaded model records about its use in production (stats today).

mod stats;

pub(crate) use stats::Recorder;
pub use stats::{percentile, Stats, LATENCY_WINDOW};
