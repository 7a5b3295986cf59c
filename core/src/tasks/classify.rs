//! Classification: a scores output → ranked [`Prediction`]s, filtered as [`ClassifyOptions`]
//! says (the terms of MediaPipe's and TFLite's task libraries).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::OutputKind;
use crate::tasks::LabelFilter;

/// How many classes a classification returns when the caller does not say.
pub const DEFAULT_MAX_RESULTS: u32 = 5;

/// What a classification returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ClassifyOptions {
    /// At most this many classes, best first (default [`DEFAULT_MAX_RESULTS`]; must be ≥ 1).
    #[cfg_attr(feature = "uniffi", uniffi(default = 5))]
    pub max_results: u32,
    /// Only classes scoring at least this probability, in [0, 1] (default 0: every class).
    #[cfg_attr(feature = "uniffi", uniffi(default = 0.0))]
    pub score_threshold: f32,
    /// When not empty, only classes whose label (or index, as text) is listed.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub allowlist: Vec<String>,
    /// Classes whose label (or index, as text) is listed are left out.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub denylist: Vec<String>,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        ClassifyOptions {
            max_results: DEFAULT_MAX_RESULTS,
            score_threshold: 0.0,
            allowlist: vec![],
            denylist: vec![],
        }
    }
}

impl ClassifyOptions {
    /// The `k` best classes, nothing filtered.
    pub fn top(k: u32) -> ClassifyOptions {
        ClassifyOptions {
            max_results: k,
            ..ClassifyOptions::default()
        }
    }

    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `max_results = 0` or a threshold outside [0, 1].
    pub fn validate(&self) -> Result<()> {
        if self.max_results == 0 {
            return Err(Error::InvalidArgument(
                "max_results must be at least 1, got 0".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.score_threshold) {
            return Err(Error::InvalidArgument(format!(
                "score_threshold must be a probability in [0, 1], got {}",
                self.score_threshold
            )));
        }
        Ok(())
    }

    fn admits(&self, index: usize, label: Option<&str>) -> bool {
        LabelFilter {
            allowlist: &self.allowlist,
            denylist: &self.denylist,
        }
        .admits(index, label)
    }
}

/// One ranked class.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Prediction {
    /// Class index in the model's output.
    pub index: u32,
    /// Class label from the manifest, when it has labels.
    pub label: Option<String>,
    /// Probability in [0, 1].
    pub score: f32,
}

/// How far a `probabilities` output may sum from 1 (float rounding of a softmax over 1000
/// classes stays far below; a logits output declared as probabilities is far above).
const SUM_TOLERANCE: f32 = 0.01;

/// Turns a classifier's output (one row) into probabilities: softmax for logits (computed
/// stably); a `probabilities` output is checked to be one.
///
/// # Errors
/// [`Error::Manifest`] when an output declared `probabilities` has a value outside [0, 1] or
/// does not sum to 1 (the graph gives logits: declare `kind = "logits"`).
pub fn probabilities(output: &[f32], kind: OutputKind) -> Result<Vec<f32>> {
    Ok(match kind {
        OutputKind::Probabilities => {
            let sum: f32 = output.iter().sum();
            let outside = output.iter().find(|v| !(0.0..=1.0).contains(*v));
            if outside.is_some() || (sum - 1.0).abs() > SUM_TOLERANCE {
                return Err(Error::Manifest(format!(
                    "the manifest declares output.kind = \"probabilities\" but the model's \
                     scores are not ({}sum {sum}): declare kind = \"logits\"",
                    outside.map_or(String::new(), |v| format!("a value {v}, "))
                )));
            }
            output.to_vec()
        }
        OutputKind::Logits => {
            let max = output.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f64> = output.iter().map(|v| f64::from(v - max).exp()).collect();
            let sum: f64 = exp.iter().sum();
            exp.iter().map(|e| (e / sum) as f32).collect()
        }
    })
}

/// The entropy of a probability distribution divided by `ln(classes)`, in [0, 1]: 0 when the
/// model is certain, 1 when every class is equally likely (`None` for fewer than 2 classes).
pub fn normalized_entropy(probabilities: &[f32]) -> Option<f64> {
    if probabilities.len() < 2 {
        return None;
    }
    let h: f64 = probabilities
        .iter()
        .map(|&p| f64::from(p))
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    Some((h / (probabilities.len() as f64).ln()).clamp(0.0, 1.0))
}

/// The best classes as `options` says, best first; equal scores keep index order.
/// `max_results` larger than the number of classes returns them all.
///
/// # Errors
/// [`Error::InvalidArgument`] for options out of range; [`Error::Inference`] when a score is NaN.
pub fn rank(
    scores: &[f32],
    options: &ClassifyOptions,
    labels: &[String],
) -> Result<Vec<Prediction>> {
    options.validate()?;
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::Inference(format!(
            "the model produced NaN at output index {i}"
        )));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    Ok(order
        .into_iter()
        .filter(|&i| scores[i] >= options.score_threshold)
        .filter(|&i| options.admits(i, labels.get(i).map(String::as_str)))
        .take(options.max_results as usize)
        .map(|index| Prediction {
            index: index as u32,
            label: labels.get(index).cloned(),
            score: scores[index],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_stable_and_sums_to_one() {
        let p = probabilities(&[1000.0, 1000.0, 0.0], OutputKind::Logits).unwrap();
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] == 0.0);
        let p = probabilities(&[1.0, 2.0, 3.0], OutputKind::Logits).unwrap();
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((p[2] - 0.665_240_9).abs() < 1e-6);
        assert_eq!(
            probabilities(&[0.2, 0.8], OutputKind::Probabilities).unwrap(),
            vec![0.2, 0.8]
        );
    }

    #[test]
    fn top_k_orders_by_score_then_index_and_attaches_labels() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let top = rank(&[0.1, 0.7, 0.1, 0.1], &ClassifyOptions::top(3), &labels).unwrap();
        let got: Vec<_> = top.iter().map(|p| (p.index, p.label.as_deref())).collect();
        assert_eq!(got, vec![(1, Some("b")), (0, Some("a")), (2, None)]);
        let all = |k| rank(&[0.5, 0.5], &ClassifyOptions::top(k), &[]);
        assert_eq!(all(10).unwrap().len(), 2);
        assert_eq!(all(0).unwrap_err().kind(), "InvalidArgument");
        let nan = rank(&[f32::NAN], &ClassifyOptions::top(1), &[]);
        assert_eq!(nan.unwrap_err().kind(), "Inference");
    }

    #[test]
    fn threshold_allowlist_and_denylist_filter() {
        let labels = vec!["cat".to_string(), "dog".to_string(), "cup".to_string()];
        let scores = [0.5, 0.3, 0.2];
        let pick = |o: ClassifyOptions| -> Vec<u32> {
            rank(&scores, &o, &labels)
                .unwrap()
                .iter()
                .map(|p| p.index)
                .collect()
        };
        let base = ClassifyOptions::default();
        assert_eq!(
            pick(ClassifyOptions {
                score_threshold: 0.25,
                ..base.clone()
            }),
            [0, 1]
        );
        assert_eq!(
            pick(ClassifyOptions {
                allowlist: vec!["cup".into(), "1".into()],
                ..base.clone()
            }),
            [1, 2]
        );
        assert_eq!(
            pick(ClassifyOptions {
                denylist: vec!["cat".into()],
                ..base.clone()
            }),
            [1, 2]
        );
        let bad = ClassifyOptions {
            score_threshold: 1.5,
            ..base
        };
        assert_eq!(
            rank(&scores, &bad, &labels).unwrap_err().kind(),
            "InvalidArgument"
        );
    }

    #[test]
    fn a_probabilities_output_that_is_not_one_is_refused() {
        for scores in [&[2.27, -1.1][..], &[0.2, 0.2]] {
            let e = probabilities(scores, OutputKind::Probabilities).unwrap_err();
            assert_eq!(e.kind(), "Manifest");
            assert!(e.to_string().contains("declare kind = \"logits\""), "{e}");
        }
    }
}
