//! Tasks: what a model's outputs mean. Each task turns output tensors into results with the
//! options the field uses for it (the terms of MediaPipe's and TFLite's task libraries):
//! [`classify`] ranks classes, [`detect`] finds boxes, [`embed`] gives feature vectors.

pub mod classify;
pub mod detect;
pub mod embed;

pub use crate::vision::BoundingBox;
pub use classify::{ClassifyOptions, Prediction};
pub use detect::{DetectOptions, Detection, Point};
pub use embed::{cosine_similarity, Embedding};

/// Which classes a caller wants: an allowlist (empty = every class) and a denylist, each naming
/// classes by label or by index as text.
pub(crate) struct LabelFilter<'a> {
    pub allowlist: &'a [String],
    pub denylist: &'a [String],
}

impl LabelFilter<'_> {
    pub(crate) fn admits(&self, index: usize, label: Option<&str>) -> bool {
        let named = |list: &[String]| {
            list.iter()
                .any(|l| Some(l.as_str()) == label || l.parse::<usize>() == Ok(index))
        };
        (self.allowlist.is_empty() || named(self.allowlist)) && !named(self.denylist)
    }
}
