//! Serving: what a loaded model records about its use in production (stats, drift against the
//! pack-time baseline), the opt-in prediction cache, and the model store (versions on disk, hot
//! swap, rollback, shadow runs of a candidate).

pub(crate) mod cache;
mod stats;
mod store;

pub use stats::{
    percentile, psi, Drift, Stats, CONFIDENCE_BINS, DRIFT_MIN_SAMPLES, LATENCY_WINDOW,
};
pub(crate) use stats::{Outcome, Recorder};
pub use store::{ModelStore, Served, ShadowPolicy, ShadowReport, Versioned};
