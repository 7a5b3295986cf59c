//! Running statistics of a loaded model: the numbers to watch in production.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

/// How many recent latencies the percentiles are computed over.
pub const LATENCY_WINDOW: usize = 1024;

/// A snapshot of a model's usage since it was loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Stats {
    /// Successful calls (`run` and every `classify_*`).
    pub runs: u64,
    /// Successful `classify_*` calls.
    pub classifications: u64,
    /// Median latency of the last [`LATENCY_WINDOW`] calls, in milliseconds (0 before any call).
    pub p50_ms: f64,
    /// 95th percentile latency, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Mean top-1 score over all classifications (`None` before the first): a drop over time is
    /// the cheapest signal that production inputs drift away from what the model knows.
    pub mean_top1_score: Option<f64>,
}

#[derive(Debug, Default)]
pub(crate) struct Recorder {
    runs: u64,
    classifications: u64,
    top1_sum: f64,
    window: VecDeque<f64>,
}

impl Recorder {
    pub(crate) fn record(&mut self, latency: Duration, top1: Option<f32>) {
        self.runs += 1;
        if let Some(score) = top1 {
            self.classifications += 1;
            self.top1_sum += f64::from(score);
        }
        if self.window.len() == LATENCY_WINDOW {
            self.window.pop_front();
        }
        self.window.push_back(latency.as_secs_f64() * 1e3);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let mut sorted: Vec<f64> = self.window.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        Stats {
            runs: self.runs,
            classifications: self.classifications,
            p50_ms: percentile(&sorted, 50.0),
            p95_ms: percentile(&sorted, 95.0),
            p99_ms: percentile(&sorted, 99.0),
            mean_top1_score: (self.classifications > 0)
                .then(|| self.top1_sum / self.classifications as f64),
        }
    }
}

/// Nearest-rank percentile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_mean_confidence() {
        let mut r = Recorder::default();
        assert_eq!(r.snapshot().p50_ms, 0.0);
        for ms in 1..=100 {
            r.record(Duration::from_millis(ms), (ms % 2 == 0).then_some(0.5));
        }
        let s = r.snapshot();
        assert_eq!((s.runs, s.classifications), (100, 50));
        assert_eq!((s.p50_ms, s.p95_ms, s.p99_ms), (50.0, 95.0, 99.0));
        assert_eq!(s.mean_top1_score, Some(0.5));
    }

    #[test]
    fn the_window_keeps_only_recent_latencies() {
        let mut r = Recorder::default();
        for _ in 0..LATENCY_WINDOW {
            r.record(Duration::from_secs(1), None);
        }
        for _ in 0..LATENCY_WINDOW {
            r.record(Duration::from_millis(1), None);
        }
        assert_eq!(r.snapshot().p99_ms, 1.0);
    }
}
