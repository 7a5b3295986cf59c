//! Camera frames: the shared vectors (`demo-models/vectors/frames.json`, made by
//! `scripts/frame_vectors.py`) — every format, stride, rotation, mirror and region gives what the
//! upright picture gives, and YUV → RGB matches the published equations byte for byte (± 1).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{demo, detection_mismatches, load, read, DetectCase, ExpectedDetection};
use ledge::{ClassifyOptions, DetectOptions, Frame, FrameLayout, PixelFormat};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Frames {
    format: u32,
    conversion: Vec<Conversion>,
    cases: Vec<FrameCase>,
}

#[derive(Debug, Deserialize)]
struct Conversion {
    name: String,
    file: String,
    planes: Vec<[usize; 2]>,
    layout: FrameLayout,
    rgb: String,
    max_abs_diff: u8,
}

#[derive(Debug, Deserialize)]
struct FrameCase {
    name: String,
    task: String,
    model: String,
    file: String,
    planes: Vec<[usize; 2]>,
    layout: FrameLayout,
    upright: String,
    #[serde(default)]
    options: serde_json::Value,
    expected: serde_json::Value,
    score_tolerance: f32,
    #[serde(default)]
    min_iou: f32,
}

fn frames() -> Frames {
    let text = std::fs::read_to_string(demo().join("vectors/frames.json")).unwrap();
    let f: Frames = serde_json::from_str(&text).unwrap();
    assert_eq!(f.format, 1);
    f
}

/// The planes of a vector file: each `[offset, length]` (YUV_420_888's U and V overlap).
fn planes<'a>(bytes: &'a [u8], at: &[[usize; 2]]) -> Vec<&'a [u8]> {
    at.iter().map(|[o, n]| &bytes[*o..*o + *n]).collect()
}

#[test]
fn yuv_to_rgb_matches_the_published_equations() {
    let f = frames();
    assert!(
        f.conversion.len() >= 6,
        "{} conversion cases",
        f.conversion.len()
    );
    for c in &f.conversion {
        let raw = read(&format!("vectors/{}", c.file));
        let want = read(&format!("vectors/{}", c.rgb));
        let frame = Frame::new(planes(&raw, &c.planes), c.layout.clone());
        let got = frame.to_upright(1 << 24).unwrap().image.into_raw();
        assert_eq!(got.len(), want.len(), "{}", c.name);
        let diffs: Vec<u8> = got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).collect();
        let worst = *diffs.iter().max().unwrap();
        let off = diffs.iter().filter(|d| **d > 0).count();
        assert!(
            worst <= c.max_abs_diff,
            "{}: off by up to {worst} from the NumPy reference ({off} of {} bytes differ)",
            c.name,
            diffs.len()
        );
    }
}

#[test]
fn every_frame_vector_gives_what_the_upright_picture_gives() {
    let f = frames();
    assert!(f.cases.len() >= 12, "{} frame cases", f.cases.len());
    let formats: std::collections::BTreeSet<_> =
        f.cases.iter().map(|c| c.layout.format.name()).collect();
    assert_eq!(
        formats.len(),
        PixelFormat::ALL.len(),
        "every format: {formats:?}"
    );
    let mut failures = Vec::new();
    for c in &f.cases {
        let model = load(&c.model);
        let raw = read(&format!("vectors/{}", c.file));
        let frame = Frame::new(planes(&raw, &c.planes), c.layout.clone());
        match c.task.as_str() {
            "classify" => {
                let want: Vec<(u32, f32)> = serde_json::from_value(c.expected.clone()).unwrap();
                let got = model
                    .classify_frame(&frame, &ClassifyOptions::top(1))
                    .unwrap();
                let (index, score) = (got[0].index, got[0].score);
                if index != want[0].0 || (score - want[0].1).abs() > c.score_tolerance {
                    failures.push(format!(
                        "{}: top-1 {index} ({score:.4}), expected {} ({:.4})",
                        c.name, want[0].0, want[0].1
                    ));
                }
                // The upright picture itself, as a control, gives the same class.
                if c.layout.region.is_none() {
                    let upright = read(&format!("vectors/{}", c.upright));
                    let top = model
                        .classify_encoded(&upright, &ClassifyOptions::top(1))
                        .unwrap();
                    assert_eq!(top[0].index, want[0].0, "{}: upright control", c.name);
                }
            }
            "detect" => {
                let options: DetectOptions = serde_json::from_value(c.options.clone()).unwrap();
                let expected: Vec<ExpectedDetection> =
                    serde_json::from_value(c.expected.clone()).unwrap();
                let got = model.detect_frame(&frame, &options).unwrap();
                let case = DetectCase {
                    name: c.name.clone(),
                    model: c.model.clone(),
                    image: c.upright.clone(),
                    options,
                    expected,
                    min_iou: c.min_iou,
                    score_tolerance: c.score_tolerance,
                };
                for p in detection_mismatches(&case, &got) {
                    failures.push(format!("{}: {p}", c.name));
                }
            }
            other => panic!("{}: unknown task {other}", c.name),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn an_embedding_of_a_turned_frame_is_the_upright_picture_s() {
    let model = load("efficientnet-lite0-embed/model.onnx");
    let f = frames();
    let c = f
        .cases
        .iter()
        .find(|c| c.layout.format == PixelFormat::Nv12 && c.layout.rotation_degrees == 270)
        .unwrap();
    let raw = read(&format!("vectors/{}", c.file));
    let frame = Frame::new(planes(&raw, &c.planes), c.layout.clone());
    let upright = model
        .embed_encoded(&read(&format!("vectors/{}", c.upright)))
        .unwrap();
    let turned = model.embed_frame(&frame).unwrap();
    let cosine = turned.cosine_similarity(&upright).unwrap();
    assert!(cosine > 0.95, "cosine {cosine}");
    // Not turned, the same frame is another picture.
    let mut sideways = c.layout.clone();
    sideways.rotation_degrees = 0;
    let unturned = model
        .embed_frame(&Frame::new(planes(&raw, &c.planes), sideways))
        .unwrap();
    assert!(unturned.cosine_similarity(&upright).unwrap() < cosine);
}

#[test]
fn bad_frames_are_typed_errors_and_counted() {
    let model = load("efficientnet-lite0/model.onnx");
    let px = vec![0u8; 64 * 48 * 4];
    let top = ClassifyOptions::top(1);
    let refuse = |layout: FrameLayout, planes: Vec<&[u8]>| {
        model
            .classify_frame(&Frame::new(planes, layout), &top)
            .unwrap_err()
    };
    let rgba = FrameLayout::packed(PixelFormat::Rgba, 64, 48);
    assert_eq!(
        refuse(rgba.clone().rotated(45), vec![&px]).kind(),
        "InvalidArgument"
    );
    assert_eq!(
        refuse(rgba.clone(), vec![&px[1..]]).kind(),
        "InvalidArgument"
    );
    assert_eq!(
        refuse(FrameLayout::packed(PixelFormat::Nv21, 64, 48), vec![&px]).kind(),
        "InvalidArgument"
    );
    assert_eq!(
        refuse(FrameLayout::packed(PixelFormat::Rgba, 0, 48), vec![&px]).kind(),
        "ImageDecode"
    );
    let huge = FrameLayout::packed(PixelFormat::Rgba, 100_000, 100_000);
    assert_eq!(refuse(huge, vec![&px]).kind(), "LimitExceeded");
    assert_eq!(model.stats().errors["InvalidArgument"], 3);
    // The same bytes with the right layout work.
    assert!(model
        .classify_frame(&Frame::new(vec![&px], rgba), &top)
        .is_ok());
}
