//! The model manifest: how to feed a model and how to read its output.
//!
//! A manifest lives beside the model as TOML (`model.toml` next to `model.onnx`) or inside the
//! ONNX file in `metadata_props` under [`METADATA_KEY`] (written by `ledge pack`). Its schema is
//! documented in the README ("The model manifest").

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Bins of a top-1 confidence histogram: `[0, 0.1), [0.1, 0.2), …, [0.9, 1]`.
pub const CONFIDENCE_BINS: usize = 10;

/// The ONNX `metadata_props` key that holds an embedded manifest (TOML text, labels inlined).
pub const METADATA_KEY: &str = "ledge.manifest";

/// Everything Ledge needs besides the weights to use a classifier correctly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Manifest {
    /// Model name, e.g. `efficientnet-lite0`.
    pub name: String,
    /// Model version, free-form (semver recommended).
    pub version: String,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub description: Option<String>,
    /// Lower-case hex sha256 of the model bytes this manifest belongs to (see the README for
    /// what is hashed). Verified on load when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub sha256: Option<String>,
    /// What the model does: which task reads its outputs (default `classify`, not written).
    #[serde(default, skip_serializing_if = "Task::is_classify")]
    pub task: Task,
    /// How to turn an image into the input tensor.
    pub input: InputSpec,
    /// How to read a classifier's scores, and the class labels of every task.
    #[serde(default)]
    pub output: OutputSpec,
    /// How to read a detector's outputs (`task = "detect"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub detect: Option<DetectSpec>,
    /// How to read an embedder's output (`task = "embed"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub embed: Option<EmbedSpec>,
    /// What the model's predictions looked like on representative images at pack time
    /// (`ledge pack --baseline DIR`): [`crate::Stats::drift`] compares live predictions with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub baseline: Option<Baseline>,
}

/// Histograms of a model's predictions on representative images (`[baseline]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Baseline {
    /// Share of top-1 confidences in each bin of 0.1 (10 values).
    pub confidence: Vec<f64>,
    /// Share of each class index as the top-1.
    pub classes: Vec<f64>,
    /// Drift score above which [`crate::serving::Drift::drifted`] is set (default 0.25, the usual
    /// "significant shift" of the population stability index).
    #[serde(default = "default_drift_threshold")]
    #[cfg_attr(feature = "uniffi", uniffi(default = 0.25))]
    pub threshold: f64,
    /// Images the baseline was computed on.
    pub samples: u64,
}

fn default_drift_threshold() -> f64 {
    0.25
}

/// The task a model serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Task {
    /// Image → ranked classes ([`crate::Model::classify_encoded`]).
    #[default]
    Classify,
    /// Image → boxes with classes and scores ([`crate::Model::detect_encoded`]).
    Detect,
    /// Image → feature vector ([`crate::Model::embed_encoded`]).
    Embed,
}

impl Task {
    fn is_classify(&self) -> bool {
        *self == Task::Classify
    }

    /// The task's name as manifests and messages spell it.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classify => "classify",
            Task::Detect => "detect",
            Task::Embed => "embed",
        }
    }
}

/// Input preprocessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct InputSpec {
    /// Tensor layout.
    pub layout: Layout,
    /// Channel order.
    pub color: ColorOrder,
    /// Geometry: crop, resize, pad.
    pub resize: Resize,
    /// Pixel value mapping.
    pub normalize: Normalize,
    /// `[height, width]` in pixels for a model exported with a dynamic height and width (e.g.
    /// `torch.onnx.export` with `dynamic_axes`): the image input is planned at this size.
    /// Ignored when the load options give the input shapes; unused for a fixed-size model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub size: Option<Vec<u32>>,
}

/// Tensor layout of an image input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Layout {
    /// `[batch, channels, height, width]`.
    NCHW,
    /// `[batch, height, width, channels]`.
    NHWC,
}

/// Channel order the model expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ColorOrder {
    /// Red, green, blue.
    RGB,
    /// Blue, green, red (OpenCV-trained models).
    BGR,
}

/// Resampling filter. `bicubic` is Catmull-Rom (a = −0.5), as in Pillow's `BICUBIC`; all
/// filters except `nearest` are antialiased when downscaling, as in Pillow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Filter {
    /// Nearest neighbour.
    Nearest,
    /// Triangle filter.
    Bilinear,
    /// Catmull-Rom cubic.
    Bicubic,
    /// Lanczos, 3 lobes.
    Lanczos3,
}

/// How the image is mapped onto the input's height × width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Resize {
    /// Crop the centred region with the target's aspect ratio whose size is `crop_fraction` of
    /// the largest such region, then resize it to the target (ImageNet style).
    CenterCrop {
        /// In (0, 1]; 0.875 is the classic 224/256.
        crop_fraction: f64,
        /// Resampling filter.
        filter: Filter,
    },
    /// Resize to the target height keeping the aspect ratio, width capped at the target width
    /// (`min(W, ceil(H·w/h))`), then fill the rest of the width with `pad_value` (PaddleOCR style).
    KeepAspectPad {
        /// Resampling filter.
        filter: Filter,
        /// Value of padded tensor elements, after normalization.
        #[serde(default)]
        pad_value: f32,
    },
    /// Resize to the target ignoring the aspect ratio.
    Stretch {
        /// Resampling filter.
        filter: Filter,
    },
    /// Resize to fit inside the target keeping the aspect ratio, centred, the rest filled with
    /// `pad_value` on both sides (YOLO and MediaPipe style): nothing is cropped or distorted.
    Letterbox {
        /// Resampling filter.
        filter: Filter,
        /// Value of padded tensor elements, after normalization.
        #[serde(default)]
        pad_value: f32,
    },
}

/// Pixel normalization, per channel in the model's colour order; pixels `x` are in 0..=255.
/// A list of one value applies to every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Normalize {
    /// `y = (x − mean) / std`, mean and std in pixel units (TFLite Metadata convention).
    MeanStd {
        /// Per-channel mean.
        mean: Vec<f32>,
        /// Per-channel standard deviation (non-zero).
        std: Vec<f32>,
    },
    /// `y = x · scale + offset`.
    ScaleOffset {
        /// Per-channel scale.
        scale: Vec<f32>,
        /// Per-channel offset.
        offset: Vec<f32>,
    },
}

impl Normalize {
    /// Per-channel `(scale, offset)` so that `y = x · scale + offset`.
    ///
    /// # Errors
    /// [`Error::Manifest`] when a list has neither one value nor `channels` values (never for a
    /// validated manifest and 3 channels).
    pub fn affine(&self, channels: usize) -> Result<Vec<(f32, f32)>> {
        let pick = |v: &[f32], name: &str, c: usize| match v {
            [one] => Ok(*one),
            _ => v
                .get(c)
                .copied()
                .filter(|_| v.len() == channels)
                .ok_or_else(|| {
                    Error::Manifest(format!(
                        "normalize.{name} needs 1 or {channels} values, got {}",
                        v.len()
                    ))
                }),
        };
        (0..channels)
            .map(|c| match self {
                Normalize::MeanStd { mean, std } => {
                    let s = pick(std, "std", c)?;
                    Ok((1.0 / s, -pick(mean, "mean", c)? / s))
                }
                Normalize::ScaleOffset { scale, offset } => {
                    Ok((pick(scale, "scale", c)?, pick(offset, "offset", c)?))
                }
            })
            .collect()
    }
}

/// How to read a classifier's scores, and the labels of every task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OutputSpec {
    /// Whether the scores output holds logits or probabilities (default logits).
    #[serde(default)]
    pub kind: OutputKind,
    /// Name of the output that holds a classifier's scores (default: the first output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub scores: Option<String>,
    /// Class labels in index order (inlined when packed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub labels: Vec<String>,
    /// A labels file (one per line), relative to the manifest file; read when the manifest is
    /// loaded from disk and replaced by `labels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub labels_file: Option<String>,
}

/// What a classifier's scores output holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum OutputKind {
    /// Unnormalized scores: Ledge applies softmax.
    #[default]
    Logits,
    /// Already probabilities: used as they are.
    Probabilities,
}

/// How a detector's outputs are read (`[detect]`): SSD-style heads — one row of box values and
/// one row of class scores per anchor — decoded against anchors, then non-maximum suppression.
/// The terms are MediaPipe's (`SsdAnchorsCalculator`, `TensorsToDetectionsCalculator`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DetectSpec {
    /// Name of the output with the box values, `[1, anchors, 4 + 2·keypoints]`.
    pub boxes: String,
    /// Name of the output with the class scores, `[1, anchors, classes]`.
    pub scores: String,
    /// How a raw score becomes a probability (default sigmoid).
    #[serde(default)]
    pub score_function: ScoreFunction,
    /// A class that is never reported (SSD's background, usually 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub background_class: Option<u32>,
    /// Default minimum score of a detection, in [0, 1].
    #[serde(default = "default_score_threshold")]
    pub score_threshold: f32,
    /// Default IoU above which NMS suppresses the lower-scoring box, in [0, 1].
    #[serde(default = "default_iou_threshold")]
    pub iou_threshold: f32,
    /// Default maximum number of detections (≥ 1).
    #[serde(default = "default_max_detections")]
    pub max_results: u32,
    /// Whether boxes of different classes suppress each other (default `per_class`: no).
    #[serde(default)]
    pub nms: Nms,
    /// How the box values are coded against the anchors.
    pub box_coding: BoxCoding,
    /// The anchors the box values are relative to.
    pub anchors: Anchors,
}

fn default_score_threshold() -> f32 {
    0.5
}
fn default_iou_threshold() -> f32 {
    0.5
}
fn default_max_detections() -> u32 {
    25
}
fn default_true() -> bool {
    true
}
fn default_half() -> f32 {
    0.5
}
fn default_one() -> f32 {
    1.0
}

/// How a raw class score becomes a probability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ScoreFunction {
    /// `1 / (1 + e^−x)` per class (SSD, BlazeFace).
    #[default]
    Sigmoid,
    /// Softmax over one anchor's classes.
    Softmax,
    /// Already probabilities.
    Identity,
}

/// Which boxes non-maximum suppression compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Nms {
    /// Every class above the threshold is a candidate; boxes suppress only their own class.
    #[default]
    PerClass,
    /// Each anchor's best class is its candidate; any box suppresses any other.
    ClassAgnostic,
}

/// The coding of a box row against its anchor (normalized input coordinates):
/// `cx = tx/sx·anchor_w + anchor_cx`, `w = exp(tw/sw)·anchor_w` (or `tw/sw·anchor_w`), the same
/// for y and h; keypoints are coded like the centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BoxCoding {
    /// The order of the four box values.
    pub order: BoxOrder,
    /// The divisor of each of the four values, in `order` (TF's SSD: `[10, 10, 5, 5]`).
    pub scales: Vec<f32>,
    /// Whether width and height are log-coded (`exp`), as in SSD (default true).
    #[serde(default = "default_true")]
    #[cfg_attr(feature = "uniffi", uniffi(default = true))]
    pub exponential_size: bool,
    /// `(x, y)` keypoint pairs after the four box values (BlazeFace: 6).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default = 0))]
    pub keypoints: u32,
}

/// The order of a box row's four values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum BoxOrder {
    /// `ty, tx, th, tw` (TensorFlow Object Detection API).
    Yxhw,
    /// `tx, ty, tw, th` (MediaPipe's `reverse_output_order`, BlazeFace).
    Xywh,
}

/// The anchors (prior boxes) of a detector, in normalized input coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Anchors {
    /// Generated as MediaPipe's `SsdAnchorsCalculator` does (one layer per stride, feature map
    /// `ceil(input / stride)`, anchors per cell from the scales and aspect ratios).
    Ssd {
        /// Scale of the first layer.
        min_scale: f32,
        /// Scale of the last layer.
        max_scale: f32,
        /// One stride per layer, in input pixels; consecutive equal strides share a grid.
        strides: Vec<u32>,
        /// Aspect ratios (width / height) of every layer's anchors.
        aspect_ratios: Vec<f32>,
        /// The first layer has three anchors only: (scale 0.1, ratio 1), (s, 2), (s, 0.5).
        #[serde(default)]
        reduce_boxes_in_lowest_layer: bool,
        /// Ratio of the extra anchor of scale √(sₖ·sₖ₊₁) per cell; 0 for none (default 1).
        #[serde(default = "default_one")]
        interpolated_scale_aspect_ratio: f32,
        /// Every anchor is 1 × 1 (the box values then code sizes directly, as in BlazeFace).
        #[serde(default)]
        fixed_anchor_size: bool,
        /// Horizontal centre of an anchor within its cell (default 0.5).
        #[serde(default = "default_half")]
        anchor_offset_x: f32,
        /// Vertical centre of an anchor within its cell (default 0.5).
        #[serde(default = "default_half")]
        anchor_offset_y: f32,
    },
    /// Given explicitly: `x_center, y_center, width, height` per anchor, flattened.
    List {
        /// Four values per anchor.
        values: Vec<f32>,
    },
}

/// How an embedder's output is read (`[embed]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EmbedSpec {
    /// Name of the output holding the feature vector (default: the first output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub output: Option<String>,
    /// Whether the vector is scaled to unit length (default true), so that the dot product of
    /// two embeddings is their cosine similarity.
    #[serde(default = "default_true")]
    #[cfg_attr(feature = "uniffi", uniffi(default = true))]
    pub l2_normalize: bool,
}

impl Default for EmbedSpec {
    fn default() -> Self {
        EmbedSpec {
            output: None,
            l2_normalize: true,
        }
    }
}

impl Manifest {
    /// Parses manifest TOML. `labels_file` is kept unresolved (see [`Manifest::from_path`]).
    ///
    /// # Errors
    /// [`Error::Manifest`] naming the line, column and field that is malformed or out of range.
    pub fn from_toml(text: &str) -> Result<Manifest> {
        let m: Manifest =
            toml::from_str(text).map_err(|e| Error::Manifest(toml_error(text, &e)))?;
        m.validate()?;
        Ok(m)
    }

    /// Reads a manifest file and inlines its `labels_file`.
    ///
    /// # Errors
    /// [`Error::Io`] when the manifest or its labels file cannot be read; [`Error::Manifest`] as
    /// [`Manifest::from_toml`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut m = Manifest::from_toml(&text)
            .map_err(|e| Error::Manifest(format!("{}: {}", path.display(), strip_prefix(&e))))?;
        if let Some(file) = m.output.labels_file.take() {
            let labels_path = path.parent().unwrap_or(Path::new(".")).join(file);
            let text =
                std::fs::read_to_string(&labels_path).map_err(|e| Error::io(&labels_path, e))?;
            m.output.labels = parse_labels(&text);
        }
        Ok(m)
    }

    /// Serializes to TOML (labels inline).
    pub fn to_toml(&self) -> String {
        // Serializing this plain struct cannot fail.
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks ranges that serde cannot express.
    ///
    /// # Errors
    /// [`Error::Manifest`] naming the field out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |s: String| Err(Error::Manifest(s));
        if let Some(size) = &self.input.size {
            if size.len() != 2 || size.contains(&0) {
                return bad(format!(
                    "input.size is [height, width] in pixels, both at least 1, got {size:?}"
                ));
            }
        }
        if let Resize::CenterCrop { crop_fraction, .. } = self.input.resize {
            if !(crop_fraction > 0.0 && crop_fraction <= 1.0) {
                return bad(format!(
                    "crop_fraction must be in (0, 1], got {crop_fraction}"
                ));
            }
        }
        let (a, b, names) = match &self.input.normalize {
            Normalize::MeanStd { mean, std } => (mean, std, ("mean", "std")),
            Normalize::ScaleOffset { scale, offset } => (scale, offset, ("scale", "offset")),
        };
        for (v, n) in [(a, names.0), (b, names.1)] {
            if v.len() != 1 && v.len() != 3 {
                return bad(format!(
                    "normalize.{n} needs 1 or 3 values, got {}",
                    v.len()
                ));
            }
            if v.iter().any(|x| !x.is_finite()) {
                return bad(format!("normalize.{n} has a non-finite value"));
            }
        }
        if let Normalize::MeanStd { std, .. } = &self.input.normalize {
            if std.contains(&0.0) {
                return bad("normalize.std must not be 0".into());
            }
        }
        match (self.task, &self.detect) {
            (Task::Detect, None) => {
                return bad(
                    "task = \"detect\" needs a [detect] section: which outputs hold \
                     the boxes and scores, the box coding and the anchors"
                        .into(),
                )
            }
            (Task::Detect, Some(d)) => d.validate()?,
            (task, Some(_)) => return bad(misplaced("detect", task)),
            _ => {}
        }
        if self.embed.is_some() && self.task != Task::Embed {
            return bad(misplaced("embed", self.task));
        }
        if let Some(b) = &self.baseline {
            let shares = |v: &[f64]| {
                v.iter().all(|x| x.is_finite() && *x >= 0.0)
                    && (v.iter().sum::<f64>() - 1.0).abs() < 1e-3
            };
            if b.confidence.len() != CONFIDENCE_BINS
                || !shares(&b.confidence)
                || !shares(&b.classes)
                || b.threshold.is_nan()
                || b.threshold <= 0.0
            {
                return bad(format!(
                    "baseline needs 10 confidence shares and one share per class, each list \
                     summing to 1, and a threshold > 0 (got {} and {} values, threshold {}): \
                     write it with `ledge pack --baseline DIR`",
                    b.confidence.len(),
                    b.classes.len(),
                    b.threshold
                ));
            }
        }
        if let Some(h) = &self.sha256 {
            if h.len() != 64 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return bad(format!("sha256 must be 64 hex digits, got {h:?}"));
            }
        }
        Ok(())
    }
}

impl DetectSpec {
    fn validate(&self) -> Result<()> {
        let bad = |s: String| Err(Error::Manifest(format!("detect.{s}")));
        for (name, v) in [
            ("score_threshold", self.score_threshold),
            ("iou_threshold", self.iou_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} must be in [0, 1], got {v}"));
            }
        }
        if self.max_results == 0 {
            return bad("max_results must be at least 1, got 0".into());
        }
        let scales = &self.box_coding.scales;
        if scales.len() != 4 || scales.iter().any(|v| !v.is_finite() || *v == 0.0) {
            return bad(format!(
                "box_coding.scales needs 4 finite, non-zero values (one per box value, in \
                 `order`), got {scales:?}"
            ));
        }
        match &self.anchors {
            Anchors::Ssd {
                min_scale,
                max_scale,
                strides,
                aspect_ratios,
                ..
            } => {
                if strides.is_empty() || strides.contains(&0) {
                    return bad(format!(
                        "anchors.strides needs one stride > 0 per layer, got {strides:?}"
                    ));
                }
                if aspect_ratios.is_empty() || aspect_ratios.iter().any(|a| a.is_nan() || *a <= 0.0)
                {
                    return bad(format!(
                        "anchors.aspect_ratios needs ratios > 0, got {aspect_ratios:?}"
                    ));
                }
                if !(*min_scale > 0.0 && *max_scale >= *min_scale) {
                    return bad(format!(
                        "anchors needs 0 < min_scale ≤ max_scale, got {min_scale} and {max_scale}"
                    ));
                }
            }
            Anchors::List { values } => {
                if values.is_empty() || values.len() % 4 != 0 {
                    return bad(format!(
                        "anchors.values needs 4 values (x_center, y_center, width, height) per \
                         anchor, got {}",
                        values.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One label per non-empty line, surrounding whitespace trimmed.
pub fn parse_labels(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The message for a task section in a manifest of another task.
fn misplaced(section: &str, task: Task) -> String {
    format!(
        "a [{section}] section is only read when task = \"{section}\", this manifest says \
         task = \"{}\": set task = \"{section}\" or remove the section",
        task.name()
    )
}

fn strip_prefix(e: &Error) -> String {
    match e {
        Error::Manifest(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A TOML error on one line: `line L, column C: message` (for every TOML file Ledge reads:
/// manifests here, budgets in the CLI).
#[doc(hidden)]
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {}", e.message().trim())
        }
        None => e.message().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EFFNET: &str = r#"
name = "efficientnet-lite0"
version = "1.0.0"
[input]
layout = "NCHW"
color = "RGB"
[input.resize]
kind = "center_crop"
crop_fraction = 0.875
filter = "bicubic"
[input.normalize]
mean = [127.0]
std = [128.0]
[output]
kind = "logits"
labels = ["a", "b"]
"#;

    #[test]
    fn parses_and_round_trips() {
        let m = Manifest::from_toml(EFFNET).unwrap();
        assert_eq!(
            m.input.resize,
            Resize::CenterCrop {
                crop_fraction: 0.875,
                filter: Filter::Bicubic
            }
        );
        assert_eq!(
            m.input.normalize.affine(3).unwrap()[2],
            (1.0 / 128.0, -127.0 / 128.0)
        );
        assert_eq!(Manifest::from_toml(&m.to_toml()).unwrap(), m);
    }

    #[test]
    fn scale_offset_and_keep_aspect_pad() {
        let text = EFFNET
            .replace(
                "mean = [127.0]\nstd = [128.0]",
                "scale = [0.5, 1, 2]\noffset = [-1.0]",
            )
            .replace(
                "kind = \"center_crop\"\ncrop_fraction = 0.875\nfilter = \"bicubic\"",
                "kind = \"keep_aspect_pad\"\nfilter = \"bilinear\"",
            );
        let m = Manifest::from_toml(&text).unwrap();
        assert_eq!(
            m.input.normalize.affine(3).unwrap(),
            vec![(0.5, -1.0), (1.0, -1.0), (2.0, -1.0)]
        );
        assert_eq!(
            m.input.resize,
            Resize::KeepAspectPad {
                filter: Filter::Bilinear,
                pad_value: 0.0
            }
        );
    }

    #[test]
    fn rejects_bad_values_with_a_message_naming_the_field() {
        for (from, to, needle) in [
            ("0.875", "1.5", "crop_fraction"),
            ("mean = [127.0]", "mean = []", "normalize.mean needs 1 or 3"),
            ("std = [128.0]", "std = [0.0]", "std must not be 0"),
            (
                "mean = [127.0]",
                "mean = [1.0, 2.0]",
                "normalize.mean needs 1 or 3",
            ),
            ("\"NCHW\"", "\"CHW\"", "unknown variant"),
            ("kind = \"logits\"", "kind = \"logit\"", "unknown variant"),
            (
                "version = \"1.0.0\"",
                "version = \"1\"\nsha256 = \"abc\"",
                "64 hex digits",
            ),
        ] {
            let e = Manifest::from_toml(&EFFNET.replace(from, to)).unwrap_err();
            assert_eq!(e.kind(), "Manifest");
            assert!(
                e.to_string().contains(needle),
                "{e} should mention {needle}"
            );
        }
    }

    #[test]
    fn affine_refuses_lists_that_do_not_fit_instead_of_panicking() {
        let n = Normalize::MeanStd {
            mean: vec![],
            std: vec![1.0],
        };
        assert_eq!(n.affine(3).unwrap_err().kind(), "Manifest");
    }

    const SSD: &str = r#"
[detect]
boxes = "boxes"
scores = "scores"
background_class = 0
[detect.box_coding]
order = "yxhw"
scales = [10.0, 10.0, 5.0, 5.0]
[detect.anchors]
kind = "ssd"
min_scale = 0.2
max_scale = 0.95
strides = [16, 32]
aspect_ratios = [1.0, 2.0]
"#;

    #[test]
    fn detect_sections_parse_with_defaults_and_bad_ones_are_refused() {
        let text = EFFNET
            .replace("version = \"1.0.0\"", "version = \"1\"\ntask = \"detect\"")
            .replace("[output]\nkind = \"logits\"\n", "[output]\n")
            + SSD;
        let m = Manifest::from_toml(&text).unwrap();
        assert_eq!(m.task, Task::Detect);
        assert_eq!(m.output.kind, OutputKind::Logits);
        let d = m.detect.as_ref().unwrap();
        assert_eq!(
            (d.score_function, d.nms, d.max_results, d.iou_threshold),
            (ScoreFunction::Sigmoid, Nms::PerClass, 25, 0.5)
        );
        assert!(d.box_coding.exponential_size && d.box_coding.keypoints == 0);
        assert!(matches!(
            d.anchors,
            Anchors::Ssd {
                interpolated_scale_aspect_ratio: 1.0,
                anchor_offset_x: 0.5,
                fixed_anchor_size: false,
                ..
            }
        ));
        assert_eq!(Manifest::from_toml(&m.to_toml()).unwrap(), m);
        for (from, to, needle) in [
            ("task = \"detect\"", "", "only read when task = \"detect\""),
            ("task = \"detect\"", "task = \"find\"", "unknown variant"),
            ("[1.0, 2.0]\n", "[]\n", "aspect_ratios"),
            ("[16, 32]", "[16, 0]", "strides"),
            ("5.0, 5.0]", "5.0]", "4 finite, non-zero"),
            ("background_class = 0", "iou_threshold = 2", "iou_threshold"),
            ("kind = \"ssd\"", "kind = \"grid\"", "unknown variant"),
        ] {
            let e = Manifest::from_toml(&text.replace(from, to)).unwrap_err();
            assert!(
                e.to_string().contains(needle),
                "{e} should mention {needle}"
            );
        }
        let no_section =
            EFFNET.replace("version = \"1.0.0\"", "version = \"1\"\ntask = \"detect\"");
        let e = Manifest::from_toml(&no_section).unwrap_err();
        assert!(e.to_string().contains("needs a [detect] section"), "{e}");
        let embed = EFFNET.replace("version = \"1.0.0\"", "version = \"1\"\ntask = \"embed\"");
        let m = Manifest::from_toml(&(embed + "[embed]\noutput = \"pool\"\n")).unwrap();
        assert_eq!(
            m.embed.unwrap(),
            EmbedSpec {
                output: Some("pool".into()),
                l2_normalize: true
            }
        );
    }

    #[test]
    fn labels_file_is_resolved_relative_to_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("labels.txt"), "cat\n\n dog \n").unwrap();
        let text = EFFNET.replace("labels = [\"a\", \"b\"]", "labels_file = \"labels.txt\"");
        std::fs::write(dir.path().join("m.toml"), text).unwrap();
        let m = Manifest::from_path(dir.path().join("m.toml")).unwrap();
        assert_eq!(m.output.labels, vec!["cat", "dog"]);
        assert_eq!(m.output.labels_file, None);
    }
}
