//! Detection: SSD-style heads → boxes in image pixels. Anchors as MediaPipe's
//! `SsdAnchorsCalculator` makes them, box decoding as its `TensorsToDetectionsCalculator`, hard
//! non-maximum suppression, and the map back through the preprocessing (crop, resize,
//! letterbox). The independent reference is `scripts/task_models.py` (NumPy).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::{Anchors, BoxOrder, DetectSpec, Nms, ScoreFunction};
use crate::tasks::LabelFilter;
use crate::vision::{iou, BoundingBox, Transform};

/// What a detection returns; every unset field takes the manifest's `[detect]` value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DetectOptions {
    /// At most this many detections, best first (≥ 1).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub max_results: Option<u32>,
    /// Only detections scoring at least this, in [0, 1].
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub score_threshold: Option<f32>,
    /// NMS suppresses a box overlapping a better one by more than this IoU, in [0, 1].
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub iou_threshold: Option<f32>,
    /// When not empty, only classes whose label (or index, as text) is listed.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub allowlist: Vec<String>,
    /// Classes whose label (or index, as text) is listed are left out.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub denylist: Vec<String>,
}

/// A point in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Point {
    /// Pixels from the image's left.
    pub x: f32,
    /// Pixels from the image's top.
    pub y: f32,
}

/// One detected object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Detection {
    /// Class index in the model's scores output.
    pub index: u32,
    /// Class label from the manifest, when it has labels.
    pub label: Option<String>,
    /// Score in [0, 1].
    pub score: f32,
    /// Where, in pixels of the image given (after EXIF orientation), clipped to it.
    pub bounding_box: BoundingBox,
    /// Keypoints (e.g. a face's eyes, nose, mouth, ears), in image pixels; not clipped.
    pub keypoints: Vec<Point>,
}

/// The settings of one detection call: the manifest's defaults overridden by the options.
pub(crate) struct Settings<'a> {
    spec: &'a DetectSpec,
    max_results: usize,
    score_threshold: f32,
    iou_threshold: f32,
    filter: LabelFilter<'a>,
}

impl<'a> Settings<'a> {
    /// # Errors
    /// [`Error::InvalidArgument`] for options out of range.
    pub(crate) fn new(spec: &'a DetectSpec, options: &'a DetectOptions) -> Result<Settings<'a>> {
        let max_results = options.max_results.unwrap_or(spec.max_results);
        if max_results == 0 {
            return Err(Error::InvalidArgument(
                "max_results must be at least 1, got 0".into(),
            ));
        }
        let score_threshold = options.score_threshold.unwrap_or(spec.score_threshold);
        let iou_threshold = options.iou_threshold.unwrap_or(spec.iou_threshold);
        for (name, v) in [
            ("score_threshold", score_threshold),
            ("iou_threshold", iou_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::InvalidArgument(format!(
                    "{name} must be in [0, 1], got {v}"
                )));
            }
        }
        Ok(Settings {
            spec,
            max_results: max_results as usize,
            score_threshold,
            iou_threshold,
            filter: LabelFilter {
                allowlist: &options.allowlist,
                denylist: &options.denylist,
            },
        })
    }
}

/// The anchors of `spec` for an input of `height × width` pixels: `[x_center, y_center, width,
/// height]` each, normalized to the input.
pub fn anchors(spec: &Anchors, height: usize, width: usize) -> Vec<[f32; 4]> {
    match spec {
        Anchors::List { values } => values
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect(),
        Anchors::Ssd {
            min_scale,
            max_scale,
            strides,
            aspect_ratios,
            reduce_boxes_in_lowest_layer,
            interpolated_scale_aspect_ratio,
            fixed_anchor_size,
            anchor_offset_x,
            anchor_offset_y,
        } => {
            let n = strides.len();
            let scale = |i: usize| {
                if n == 1 {
                    (min_scale + max_scale) / 2.0
                } else {
                    min_scale + (max_scale - min_scale) * i as f32 / (n - 1) as f32
                }
            };
            let mut out = Vec::new();
            let mut layer = 0;
            while layer < n {
                // (aspect ratio, scale) of each anchor of a cell, for every layer of this stride.
                let mut shapes: Vec<(f32, f32)> = Vec::new();
                let mut last = layer;
                while last < n && strides[last] == strides[layer] {
                    let s = scale(last);
                    if last == 0 && *reduce_boxes_in_lowest_layer {
                        shapes.extend([(1.0, 0.1), (2.0, s), (0.5, s)]);
                    } else {
                        shapes.extend(aspect_ratios.iter().map(|&a| (a, s)));
                        if *interpolated_scale_aspect_ratio > 0.0 {
                            let next = if last == n - 1 { 1.0 } else { scale(last + 1) };
                            shapes.push((*interpolated_scale_aspect_ratio, (s * next).sqrt()));
                        }
                    }
                    last += 1;
                }
                let stride = strides[layer] as usize;
                let (fh, fw) = (height.div_ceil(stride), width.div_ceil(stride));
                for y in 0..fh {
                    for x in 0..fw {
                        for &(a, s) in &shapes {
                            let (w, h) = if *fixed_anchor_size {
                                (1.0, 1.0)
                            } else {
                                (s * a.sqrt(), s / a.sqrt())
                            };
                            out.push([
                                (x as f32 + anchor_offset_x) / fw as f32,
                                (y as f32 + anchor_offset_y) / fh as f32,
                                w,
                                h,
                            ]);
                        }
                    }
                }
                layer = last;
            }
            out
        }
    }
}

/// Where one image's input came from: the model input's `(height, width)`, the map from input
/// pixels to image pixels, and the image's `(width, height)` that bounds the boxes.
pub(crate) struct Geometry {
    pub input_hw: (usize, usize),
    pub to_image: Transform,
    pub image_wh: (f32, f32),
}

/// A candidate before NMS: its anchor, class, score and normalized `[x, y, w, h]` box.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    anchor: usize,
    class: usize,
    score: f32,
    bbox: [f32; 4],
}

/// Decodes one image's detector outputs: `boxes` is `anchors × values` (values ≥ 4 + 2 ·
/// keypoints), `scores` is `anchors × classes`.
///
/// # Errors
/// [`Error::TaskMismatch`] when the outputs do not fit the anchors; [`Error::Inference`] for a
/// NaN score.
pub(crate) fn decode(
    settings: &Settings,
    anchors: &[[f32; 4]],
    boxes: &[f32],
    scores: &[f32],
    geometry: &Geometry,
    labels: &[String],
) -> Result<Vec<Detection>> {
    let spec = settings.spec;
    let (height, width) = geometry.input_hw;
    let (image_w, image_h) = geometry.image_wh;
    let n = anchors.len();
    let keypoints = spec.box_coding.keypoints as usize;
    let mismatch = |what: String| Error::TaskMismatch {
        task: "detect",
        reason: what,
    };
    if n == 0 || !boxes.len().is_multiple_of(n) || !scores.len().is_multiple_of(n) {
        return Err(mismatch(format!(
            "the manifest's anchors give {n} anchors, but the boxes output has {} values and \
             the scores output {}: neither is a multiple of {n}; fix [detect.anchors]",
            boxes.len(),
            scores.len()
        )));
    }
    let (per_box, classes) = (boxes.len() / n, scores.len() / n);
    if per_box < 4 + 2 * keypoints {
        return Err(mismatch(format!(
            "the boxes output has {per_box} values per anchor, and the manifest's box coding \
             needs {} (4 + 2 per keypoint): fix detect.box_coding.keypoints",
            4 + 2 * keypoints
        )));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::Inference(format!(
            "the model produced NaN at score {i}"
        )));
    }
    let background = spec.background_class.map(|b| b as usize);
    let admitted: Vec<bool> = (0..classes)
        .map(|c| {
            Some(c) != background && settings.filter.admits(c, labels.get(c).map(String::as_str))
        })
        .collect();

    let mut candidates = Vec::new();
    let mut probabilities = vec![0f32; classes];
    for (anchor, row) in scores.chunks_exact(classes).enumerate() {
        score_row(spec.score_function, row, &mut probabilities);
        let mut add = |class: usize| {
            let score = probabilities[class];
            if score >= settings.score_threshold {
                candidates.push(Candidate {
                    anchor,
                    class,
                    score,
                    bbox: [0.0; 4],
                });
            }
        };
        match spec.nms {
            Nms::PerClass => (0..classes).filter(|&c| admitted[c]).for_each(add),
            Nms::ClassAgnostic => {
                let best = (0..classes).filter(|&c| admitted[c]).max_by(|&a, &b| {
                    probabilities[a]
                        .total_cmp(&probabilities[b])
                        .then(b.cmp(&a))
                });
                if let Some(c) = best {
                    add(c);
                }
            }
        }
    }
    let coding = &spec.box_coding;
    let [s0, s1, s2, s3] = [
        coding.scales[0],
        coding.scales[1],
        coding.scales[2],
        coding.scales[3],
    ];
    // (index of tx, ty, tw, th in the row; their scales)
    let ((ix, iy, iw, ih), (sx, sy, sw, sh)) = match coding.order {
        BoxOrder::Yxhw => ((1, 0, 3, 2), (s1, s0, s3, s2)),
        BoxOrder::Xywh => ((0, 1, 2, 3), (s0, s1, s2, s3)),
    };
    let row_of = |anchor: usize| &boxes[anchor * per_box..(anchor + 1) * per_box];
    for c in &mut candidates {
        let [ax, ay, aw, ah] = anchors[c.anchor];
        let v = row_of(c.anchor);
        let cx = v[ix] / sx * aw + ax;
        let cy = v[iy] / sy * ah + ay;
        let (w, h) = if coding.exponential_size {
            ((v[iw] / sw).exp() * aw, (v[ih] / sh).exp() * ah)
        } else {
            (v[iw] / sw * aw, v[ih] / sh * ah)
        };
        c.bbox = [cx - w / 2.0, cy - h / 2.0, w, h];
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.anchor.cmp(&b.anchor))
            .then(a.class.cmp(&b.class))
    });

    let mut kept: Vec<Candidate> = Vec::new();
    let mut out = Vec::new();
    for c in candidates {
        if out.len() == settings.max_results {
            break;
        }
        let suppressed = kept.iter().any(|k| {
            (spec.nms == Nms::ClassAgnostic || k.class == c.class)
                && iou(k.bbox, c.bbox) > settings.iou_threshold
        });
        if suppressed {
            continue;
        }
        kept.push(c);
        let to_pixels = |nx: f32, ny: f32| {
            let (x, y) = geometry
                .to_image
                .to_image(f64::from(nx) * width as f64, f64::from(ny) * height as f64);
            (x as f32, y as f32)
        };
        let [x, y, w, h] = c.bbox;
        let (x0, y0) = to_pixels(x, y);
        let (x1, y1) = to_pixels(x + w, y + h);
        let (x0, y0) = (x0.clamp(0.0, image_w), y0.clamp(0.0, image_h));
        let (x1, y1) = (x1.clamp(0.0, image_w), y1.clamp(0.0, image_h));
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let v = row_of(c.anchor);
        let [ax, ay, aw, ah] = anchors[c.anchor];
        let keypoints = (0..keypoints)
            .map(|k| {
                let (kx, ky) = (v[4 + 2 * k], v[5 + 2 * k]);
                let (x, y) = to_pixels(kx / sx * aw + ax, ky / sy * ah + ay);
                Point { x, y }
            })
            .collect();
        out.push(Detection {
            index: c.class as u32,
            label: labels.get(c.class).cloned(),
            score: c.score,
            bounding_box: BoundingBox {
                x: x0,
                y: y0,
                width: x1 - x0,
                height: y1 - y0,
            },
            keypoints,
        });
    }
    Ok(out)
}

/// One anchor's raw scores → probabilities.
fn score_row(function: ScoreFunction, row: &[f32], out: &mut [f32]) {
    match function {
        ScoreFunction::Sigmoid => {
            for (o, &x) in out.iter_mut().zip(row) {
                *o = 1.0 / (1.0 + (-x).exp());
            }
        }
        ScoreFunction::Identity => out.copy_from_slice(row),
        ScoreFunction::Softmax => {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for (o, &x) in out.iter_mut().zip(row) {
                *o = (x - max).exp();
                sum += *o;
            }
            out.iter_mut().for_each(|o| *o /= sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::BoxCoding;

    fn ssd_anchors() -> Anchors {
        Anchors::Ssd {
            min_scale: 0.2,
            max_scale: 0.95,
            strides: vec![16, 32, 64, 128, 256, 512],
            aspect_ratios: vec![1.0, 2.0, 0.5, 3.0, 0.3333],
            reduce_boxes_in_lowest_layer: true,
            interpolated_scale_aspect_ratio: 1.0,
            fixed_anchor_size: false,
            anchor_offset_x: 0.5,
            anchor_offset_y: 0.5,
        }
    }

    #[test]
    fn ssd_and_blazeface_anchor_counts_and_first_values() {
        let a = anchors(&ssd_anchors(), 300, 300);
        assert_eq!(a.len(), 1917);
        // Cell (0, 0) of the 19×19 layer: (0.1, ratio 1), then scale 0.2 at ratios 2 and 0.5.
        let c = 0.5 / 19.0;
        assert_eq!(a[0], [c, c, 0.1, 0.1]);
        let r2 = 2f32.sqrt();
        assert!((a[1][2] - 0.2 * r2).abs() < 1e-6 && (a[1][3] - 0.2 / r2).abs() < 1e-6);
        // The last anchor: the 1×1 layer's interpolated box, scale √(0.95·1).
        let last = a[1916];
        assert_eq!((last[0], last[1]), (0.5, 0.5));
        assert!((last[2] - 0.95f32.sqrt()).abs() < 1e-6);

        let blaze = Anchors::Ssd {
            min_scale: 0.148_437_5,
            max_scale: 0.75,
            strides: vec![8, 16, 16, 16],
            aspect_ratios: vec![1.0],
            reduce_boxes_in_lowest_layer: false,
            interpolated_scale_aspect_ratio: 1.0,
            fixed_anchor_size: true,
            anchor_offset_x: 0.5,
            anchor_offset_y: 0.5,
        };
        let b = anchors(&blaze, 128, 128);
        assert_eq!(b.len(), 896);
        assert_eq!(b[0], [0.5 / 16.0, 0.5 / 16.0, 1.0, 1.0]);
        assert_eq!(b[1], b[0], "two anchors per cell on the stride-8 grid");
        assert_eq!(b[512], [0.5 / 8.0, 0.5 / 8.0, 1.0, 1.0]);
    }

    fn spec(nms: Nms) -> DetectSpec {
        DetectSpec {
            boxes: "b".into(),
            scores: "s".into(),
            score_function: ScoreFunction::Identity,
            background_class: Some(0),
            score_threshold: 0.3,
            iou_threshold: 0.5,
            max_results: 10,
            nms,
            box_coding: BoxCoding {
                order: BoxOrder::Xywh,
                scales: vec![1.0; 4],
                exponential_size: false,
                keypoints: 1,
            },
            anchors: Anchors::List {
                values: [0.25, 0.25, 0.5, 0.5].repeat(3),
            },
        }
    }

    /// Three anchors over the same quarter of a 100×100 input, shown at 2× in a 200×200 image.
    fn run(nms: Nms, options: &DetectOptions) -> Vec<Detection> {
        let spec = spec(nms);
        let settings = Settings::new(&spec, options).unwrap();
        let anchors = anchors(&spec.anchors, 100, 100);
        // Box rows (x, y, w, h, keypoint x, y): anchor 2 is shifted right by one anchor width.
        let boxes = [
            [0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
            [1.0, 0.0, 1.0, 1.0, 0.5, 0.0],
        ]
        .concat();
        // Scores (background, cat, dog).
        let scores = [[0.9, 0.8, 0.1], [0.0, 0.6, 0.7], [0.0, 0.5, 0.0]].concat();
        let geometry = Geometry {
            input_hw: (100, 100),
            to_image: Transform {
                scale_x: 2.0,
                scale_y: 2.0,
                offset_x: 0.0,
                offset_y: 0.0,
            },
            image_wh: (200.0, 200.0),
        };
        let labels = ["bg", "cat", "dog"].map(String::from);
        decode(&settings, &anchors, &boxes, &scores, &geometry, &labels).unwrap()
    }

    fn summary(d: &[Detection]) -> Vec<(u32, f32, f32)> {
        d.iter()
            .map(|d| (d.index, d.score, d.bounding_box.x))
            .collect()
    }

    #[test]
    fn per_class_nms_keeps_overlapping_boxes_of_other_classes() {
        let d = run(Nms::PerClass, &DetectOptions::default());
        // cat 0.8 (anchor 0) suppresses cat 0.6 (anchor 1, same box); dog 0.7 survives; the
        // shifted cat 0.5 does not overlap; background 0.9 is never reported.
        assert_eq!(
            summary(&d),
            vec![(1, 0.8, 0.0), (2, 0.7, 0.0), (1, 0.5, 100.0)]
        );
        let first = &d[0];
        assert_eq!(
            first.bounding_box,
            BoundingBox {
                x: 0.0,
                y: 0.0,
                width: 100.0,
                height: 100.0
            }
        );
        assert_eq!(first.label.as_deref(), Some("cat"));
        assert_eq!(d[2].keypoints, vec![Point { x: 100.0, y: 50.0 }]);
    }

    #[test]
    fn class_agnostic_nms_and_options_override_the_manifest() {
        let d = run(Nms::ClassAgnostic, &DetectOptions::default());
        assert_eq!(summary(&d), vec![(1, 0.8, 0.0), (1, 0.5, 100.0)]);
        let one = DetectOptions {
            max_results: Some(1),
            ..DetectOptions::default()
        };
        assert_eq!(summary(&run(Nms::PerClass, &one)), vec![(1, 0.8, 0.0)]);
        let high = DetectOptions {
            score_threshold: Some(0.75),
            ..DetectOptions::default()
        };
        assert_eq!(summary(&run(Nms::PerClass, &high)), vec![(1, 0.8, 0.0)]);
        let dogs = DetectOptions {
            allowlist: vec!["dog".into()],
            ..DetectOptions::default()
        };
        assert_eq!(summary(&run(Nms::PerClass, &dogs)), vec![(2, 0.7, 0.0)]);
        let loose = DetectOptions {
            iou_threshold: Some(1.0),
            denylist: vec!["2".into()],
            ..DetectOptions::default()
        };
        assert_eq!(
            summary(&run(Nms::PerClass, &loose)),
            vec![(1, 0.8, 0.0), (1, 0.6, 0.0), (1, 0.5, 100.0)]
        );
    }

    #[test]
    fn bad_options_and_outputs_are_refused() {
        let spec = spec(Nms::PerClass);
        for bad in [
            DetectOptions {
                max_results: Some(0),
                ..DetectOptions::default()
            },
            DetectOptions {
                iou_threshold: Some(1.5),
                ..DetectOptions::default()
            },
        ] {
            let e = Settings::new(&spec, &bad).err().unwrap();
            assert_eq!(e.kind(), "InvalidArgument");
        }
        let defaults = DetectOptions::default();
        let settings = Settings::new(&spec, &defaults).unwrap();
        let anchors = anchors(&spec.anchors, 10, 10);
        let geometry = Geometry {
            input_hw: (10, 10),
            to_image: Transform {
                scale_x: 1.0,
                scale_y: 1.0,
                offset_x: 0.0,
                offset_y: 0.0,
            },
            image_wh: (10.0, 10.0),
        };
        let e = decode(&settings, &anchors, &[0.0; 10], &[0.0; 9], &geometry, &[]).unwrap_err();
        assert_eq!(e.kind(), "TaskMismatch");
        assert!(e.to_string().contains("3 anchors"), "{e}");
    }

    #[test]
    fn iou_of_boxes() {
        assert_eq!(iou([0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 2.0, 2.0]), 2.0 / 6.0);
        assert_eq!(iou([0.0; 4], [0.0; 4]), 0.0);
    }
}
