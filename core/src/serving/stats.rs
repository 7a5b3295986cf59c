//! Running statistics of a loaded model: the numbers to watch in production.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::Serialize;

use crate::manifest::Baseline;
pub use crate::manifest::CONFIDENCE_BINS;

/// Fewer samples than this never raise the drift flag (the histograms are too noisy).
pub const DRIFT_MIN_SAMPLES: u64 = 20;

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
    /// Failed calls by error kind (`"ImageDecode"`, `"InvalidArgument"`, ...).
    pub errors: HashMap<String, u64>,
    /// Prediction cache hits (0 without a cache).
    pub cache_hits: u64,
    /// Prediction cache misses.
    pub cache_misses: u64,
    /// Top-1 confidence of classifications (best score of detections), in
    /// [`CONFIDENCE_BINS`] bins of 0.1.
    pub confidence_histogram: Vec<u64>,
    /// How often each class index was the top-1 (for detections: the best detection's class).
    pub class_histogram: HashMap<u32, u64>,
    /// Mean entropy of the classifications' probabilities, normalized to [0, 1] by
    /// `ln(classes)` (`None` before the first): near 1 the model is guessing.
    pub mean_entropy: Option<f64>,
    /// Drift against the manifest's `[baseline]`, when it has one.
    pub drift: Option<Drift>,
}

/// How far live predictions are from the pack-time baseline: the population stability index
/// (PSI, `Σ (live − base)·ln(live / base)` over histogram bins, each share floored at 1e-4) of
/// the confidence histogram and of the class histogram. Rules of thumb: < 0.1 no shift,
/// 0.1–0.25 moderate, > 0.25 significant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Drift {
    /// PSI of the top-1 confidence histogram.
    pub confidence_psi: f64,
    /// PSI of the top-1 class histogram.
    pub class_psi: f64,
    /// The larger of the two.
    pub score: f64,
    /// The baseline's threshold.
    pub threshold: f64,
    /// `score > threshold` over at least [`DRIFT_MIN_SAMPLES`] predictions.
    pub drifted: bool,
    /// Predictions the live histograms hold.
    pub samples: u64,
}

/// What one successful task call tells the monitor: its top-1 (class, score) and, for a
/// classification, the normalized entropy of its probabilities.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Outcome {
    pub top1: Option<(u32, f32)>,
    pub entropy: Option<f64>,
}

#[derive(Debug, Default)]
pub(crate) struct Recorder {
    runs: u64,
    classifications: u64,
    top1_sum: f64,
    entropy_sum: f64,
    entropies: u64,
    window: VecDeque<f64>,
    errors: HashMap<String, u64>,
    confidence: [u64; CONFIDENCE_BINS],
    classes: HashMap<u32, u64>,
    predictions: u64,
}

/// The bin of a confidence in [0, 1].
fn bin(score: f32) -> usize {
    ((score.max(0.0) * CONFIDENCE_BINS as f32) as usize).min(CONFIDENCE_BINS - 1)
}

/// Population stability index of two histograms (counts or shares), shares floored at 1e-4.
pub fn psi(live: &[f64], base: &[f64]) -> f64 {
    let (lt, bt) = (live.iter().sum::<f64>(), base.iter().sum::<f64>());
    if lt <= 0.0 || bt <= 0.0 {
        return 0.0;
    }
    live.iter()
        .zip(base)
        .map(|(l, b)| {
            let (l, b) = ((l / lt).max(1e-4), (b / bt).max(1e-4));
            (l - b) * (l / b).ln()
        })
        .sum()
}

impl Recorder {
    /// A successful call that took `latency`; `classified` says whether it counts as a
    /// classification (for the mean top-1 score).
    pub(crate) fn record(&mut self, latency: Duration, outcome: Outcome, classified: bool) {
        self.runs += 1;
        if let Some((class, score)) = outcome.top1 {
            if classified {
                self.classifications += 1;
                self.top1_sum += f64::from(score);
            }
            self.predictions += 1;
            self.confidence[bin(score)] += 1;
            *self.classes.entry(class).or_default() += 1;
        }
        if let Some(e) = outcome.entropy {
            self.entropy_sum += e;
            self.entropies += 1;
        }
        if self.window.len() == LATENCY_WINDOW {
            self.window.pop_front();
        }
        self.window.push_back(latency.as_secs_f64() * 1e3);
    }

    /// A failed call.
    pub(crate) fn record_error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }

    /// The numbers so far; drift against `baseline` when there is one; `cache` is the cache's
    /// (hits, misses).
    pub(crate) fn snapshot(&self, baseline: Option<&Baseline>, cache: (u64, u64)) -> Stats {
        let mut sorted: Vec<f64> = self.window.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let drift = baseline.map(|b| {
            let live: Vec<f64> = self.confidence.iter().map(|&c| c as f64).collect();
            let confidence_psi = psi(&live, &b.confidence);
            let classes = b.classes.len().max(
                self.classes
                    .keys()
                    .map(|&c| c as usize + 1)
                    .max()
                    .unwrap_or(0),
            );
            let mut live = vec![0.0; classes];
            for (&c, &n) in &self.classes {
                live[c as usize] = n as f64;
            }
            let mut base = b.classes.clone();
            base.resize(classes, 0.0);
            let class_psi = psi(&live, &base);
            let score = confidence_psi.max(class_psi);
            Drift {
                confidence_psi,
                class_psi,
                score,
                threshold: b.threshold,
                drifted: self.predictions >= DRIFT_MIN_SAMPLES && score > b.threshold,
                samples: self.predictions,
            }
        });
        Stats {
            runs: self.runs,
            classifications: self.classifications,
            p50_ms: percentile(&sorted, 50.0),
            p95_ms: percentile(&sorted, 95.0),
            p99_ms: percentile(&sorted, 99.0),
            mean_top1_score: (self.classifications > 0)
                .then(|| self.top1_sum / self.classifications as f64),
            errors: self.errors.clone(),
            cache_hits: cache.0,
            cache_misses: cache.1,
            confidence_histogram: self.confidence.to_vec(),
            class_histogram: self.classes.clone(),
            mean_entropy: (self.entropies > 0).then(|| self.entropy_sum / self.entropies as f64),
            drift,
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
        assert_eq!(r.snapshot(None, (0, 0)).p50_ms, 0.0);
        for ms in 1..=100 {
            let outcome = Outcome {
                top1: (ms % 2 == 0).then_some((7, 0.5)),
                entropy: None,
            };
            r.record(Duration::from_millis(ms), outcome, true);
        }
        r.record_error("ImageDecode");
        let s = r.snapshot(None, (3, 4));
        assert_eq!((s.runs, s.classifications), (100, 50));
        assert_eq!((s.p50_ms, s.p95_ms, s.p99_ms), (50.0, 95.0, 99.0));
        assert_eq!(s.mean_top1_score, Some(0.5));
        assert_eq!(s.confidence_histogram[5], 50);
        assert_eq!(s.class_histogram[&7], 50);
        assert_eq!(
            (s.errors["ImageDecode"], s.cache_hits, s.cache_misses),
            (1, 3, 4)
        );
        assert_eq!(s.drift, None);
    }

    #[test]
    fn drift_is_the_psi_against_the_baseline() {
        let baseline = Baseline {
            confidence: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5].to_vec(),
            classes: vec![0.5, 0.5],
            threshold: 0.25,
            samples: 10,
        };
        let mut same = Recorder::default();
        let mut shifted = Recorder::default();
        for i in 0..40u32 {
            let score = if i % 2 == 0 { 0.85 } else { 0.95 };
            let top1 = Some((i % 2, score));
            same.record(
                Duration::ZERO,
                Outcome {
                    top1,
                    entropy: None,
                },
                true,
            );
            let low = Some((5, 0.15));
            shifted.record(
                Duration::ZERO,
                Outcome {
                    top1: low,
                    entropy: None,
                },
                true,
            );
        }
        let d = same.snapshot(Some(&baseline), (0, 0)).drift.unwrap();
        assert!(d.score < 1e-9 && !d.drifted, "{d:?}");
        let d = shifted.snapshot(Some(&baseline), (0, 0)).drift.unwrap();
        assert!(
            d.confidence_psi > 1.0 && d.class_psi > 1.0 && d.drifted,
            "{d:?}"
        );
        assert_eq!(psi(&[1.0, 1.0], &[2.0, 2.0]), 0.0);
    }

    #[test]
    fn the_window_keeps_only_recent_latencies() {
        let mut r = Recorder::default();
        for _ in 0..LATENCY_WINDOW {
            r.record(Duration::from_secs(1), Outcome::default(), false);
        }
        for _ in 0..LATENCY_WINDOW {
            r.record(Duration::from_millis(1), Outcome::default(), false);
        }
        assert_eq!(r.snapshot(None, (0, 0)).p99_ms, 1.0);
    }
}
