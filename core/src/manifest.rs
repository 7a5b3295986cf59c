//! The model manifest: how to feed a model and how to read its output.
//!
//! A manifest lives beside the model as TOML (`model.toml` next to `model.onnx`) or inside the
//! ONNX file in `metadata_props` under [`METADATA_KEY`] (written by `ledge pack`). Its schema is
//! documented in the README ("The model manifest").

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
    /// How to turn an image into the input tensor.
    pub input: InputSpec,
    /// How to read the output tensor.
    pub output: OutputSpec,
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

/// How to read the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OutputSpec {
    /// Whether the first output holds logits or probabilities.
    pub kind: OutputKind,
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

/// What the first output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum OutputKind {
    /// Unnormalized scores: Ledge applies softmax.
    Logits,
    /// Already probabilities: used as they are.
    Probabilities,
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
        if let Some(h) = &self.sha256 {
            if h.len() != 64 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return bad(format!("sha256 must be 64 hex digits, got {h:?}"));
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
