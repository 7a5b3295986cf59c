//! Embeddings: a feature vector per image, for "find similar" — compare two with
//! [`cosine_similarity`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An image's feature vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Embedding {
    /// The values; of unit length when the manifest says `l2_normalize` (the default).
    pub values: Vec<f32>,
}

impl Embedding {
    /// Cosine similarity with `other`, in [−1, 1] (see [`cosine_similarity`]).
    ///
    /// # Errors
    /// As [`cosine_similarity`].
    pub fn cosine_similarity(&self, other: &Embedding) -> Result<f32> {
        cosine_similarity(&self.values, &other.values)
    }
}

/// `a·b / (|a|·|b|)`, in [−1, 1]: 1 for the same direction, about 0 for unrelated images.
/// Computed in f64.
///
/// # Errors
/// [`Error::InvalidArgument`] when the lengths differ (embeddings of different models) or a
/// vector is all zeros or not finite.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Result<f32> {
    if a.len() != b.len() {
        return Err(Error::InvalidArgument(format!(
            "cosine similarity needs two embeddings of the same length, got {} and {}: compare \
             embeddings of the same model",
            a.len(),
            b.len()
        )));
    }
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    let norm = (na * nb).sqrt();
    if !(norm > 0.0 && norm.is_finite()) {
        return Err(Error::InvalidArgument(
            "cosine similarity is undefined for an all-zero or non-finite embedding".into(),
        ));
    }
    Ok((dot / norm).clamp(-1.0, 1.0) as f32)
}

/// The embedding of one image's output values, scaled to unit length when `l2_normalize`.
///
/// # Errors
/// [`Error::Inference`] when a value is not finite, or the vector is all zeros and must be
/// normalized.
pub(crate) fn embedding(values: &[f32], l2_normalize: bool) -> Result<Embedding> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::Inference(format!(
            "the model produced {} at embedding index {i}",
            values[i]
        )));
    }
    let mut values = values.to_vec();
    if l2_normalize {
        let norm = values
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 {
            return Err(Error::Inference(
                "the model's embedding is all zeros and cannot be normalized".into(),
            ));
        }
        values
            .iter_mut()
            .for_each(|v| *v = (f64::from(*v) / norm) as f32);
    }
    Ok(Embedding { values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_embeddings_and_their_cosine() {
        let a = embedding(&[3.0, 4.0], true).unwrap();
        assert_eq!(a.values, vec![0.6, 0.8]);
        let b = embedding(&[4.0, -3.0], false).unwrap();
        assert!(a.cosine_similarity(&b).unwrap().abs() < 1e-6);
        assert!((a.cosine_similarity(&a).unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(
            cosine_similarity(&[1.0], &[1.0, 2.0]).unwrap_err().kind(),
            "InvalidArgument"
        );
        assert_eq!(
            cosine_similarity(&[0.0], &[1.0]).unwrap_err().kind(),
            "InvalidArgument"
        );
        assert_eq!(embedding(&[0.0], true).unwrap_err().kind(), "Inference");
        assert_eq!(
            embedding(&[f32::NAN], false).unwrap_err().kind(),
            "Inference"
        );
    }
}
