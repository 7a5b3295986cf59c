//! Output tensor → ranked predictions.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::manifest::OutputKind;

/// One ranked class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Class index in the model's output.
    pub index: usize,
    /// Class label from the manifest, when it has labels.
    pub label: Option<String>,
    /// Probability in [0, 1].
    pub score: f32,
}

/// Turns a classifier's output into probabilities: softmax for logits (computed stably), as is
/// for probabilities.
pub fn probabilities(output: &[f32], kind: OutputKind) -> Vec<f32> {
    match kind {
        OutputKind::Probabilities => output.to_vec(),
        OutputKind::Logits => {
            let max = output.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f64> = output.iter().map(|v| f64::from(v - max).exp()).collect();
            let sum: f64 = exp.iter().sum();
            exp.iter().map(|e| (e / sum) as f32).collect()
        }
    }
}

/// The `k` best classes, best first; equal scores keep index order. `k` larger than the
/// number of classes returns them all; `k = 0` is an [`Error::InvalidArgument`].
pub fn top_k(scores: &[f32], k: usize, labels: &[String]) -> Result<Vec<Prediction>> {
    if k == 0 {
        return Err(Error::InvalidArgument("top-k needs k ≥ 1, got 0".into()));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::Inference(format!(
            "the model produced NaN at output index {i}"
        )));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    Ok(order
        .into_iter()
        .take(k)
        .map(|index| Prediction {
            index,
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
        let p = probabilities(&[1000.0, 1000.0, 0.0], OutputKind::Logits);
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] == 0.0);
        let p = probabilities(&[1.0, 2.0, 3.0], OutputKind::Logits);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((p[2] - 0.665_240_9).abs() < 1e-6);
        assert_eq!(
            probabilities(&[0.2, 0.8], OutputKind::Probabilities),
            vec![0.2, 0.8]
        );
    }

    #[test]
    fn top_k_orders_by_score_then_index_and_attaches_labels() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let top = top_k(&[0.1, 0.7, 0.1, 0.1], 3, &labels).unwrap();
        let got: Vec<_> = top.iter().map(|p| (p.index, p.label.as_deref())).collect();
        assert_eq!(got, vec![(1, Some("b")), (0, Some("a")), (2, None)]);
        assert_eq!(top_k(&[0.5, 0.5], 10, &[]).unwrap().len(), 2);
        assert_eq!(top_k(&[0.5], 0, &[]).unwrap_err().kind(), "InvalidArgument");
        assert_eq!(top_k(&[f32::NAN], 1, &[]).unwrap_err().kind(), "Inference");
    }
}
