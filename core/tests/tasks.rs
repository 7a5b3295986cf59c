//! Detection and embedding: the shared vectors (`demo-models/vectors/detect.json`,
//! `embed.json`, made by `scripts/task_models.py` from onnxruntime and an independent NumPy
//! decoder), the task checks, and the manifest checks at load.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{demo, detect_cases, detection_mismatches, embed_cases, load, read};
use ledge::{DetectOptions, LoadOptions, Manifest, Model};

#[test]
fn every_detection_vector_matches() {
    let cases = detect_cases();
    assert!(
        cases.len() >= 4,
        "detect.json has only {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let model = load(&case.model);
        let found = model
            .detect_encoded(&read(&case.image), &case.options)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let problems = detection_mismatches(case, &found);
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_embedding_vector_matches() {
    let cases = embed_cases();
    assert!(!cases.cases.is_empty() && !cases.pairs.is_empty());
    for case in &cases.cases {
        let e = load(&case.model).embed_encoded(&read(&case.image)).unwrap();
        let cos = ledge::cosine_similarity(&e.values, &case.expected).unwrap();
        assert!(cos >= case.min_cosine, "{}: cosine {cos}", case.name);
        let norm: f32 = e.values.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{}: |e| = {norm}", case.name);
    }
    for pair in &cases.pairs {
        let model = load(&pair.model);
        let a = model.embed_encoded(&read(&pair.a)).unwrap();
        let b = model.embed_encoded(&read(&pair.b)).unwrap();
        let cos = a.cosine_similarity(&b).unwrap();
        assert!(
            (cos - pair.cosine).abs() <= pair.tolerance,
            "{} vs {}: cosine {cos}, expected {}",
            pair.a,
            pair.b,
            pair.cosine
        );
    }
}

#[test]
fn the_issue_s_acceptance_photos() {
    let ssd = load("ssd-mobilenetv2-oid/model.onnx");
    let opts = DetectOptions::default();
    let cat = ssd
        .detect_encoded(&read("images/chelsea.png"), &opts)
        .unwrap();
    let best = &cat[0];
    assert_eq!(best.label.as_deref(), Some("Cat"));
    assert!(best.score >= 0.5, "{best:?}");
    // chelsea.png is 451×300: the box covers most of the cat, i.e. most of the photo.
    assert!(best.bounding_box.width > 300.0 && best.bounding_box.height > 200.0);
    let cup = ssd
        .detect_encoded(&read("images/coffee.png"), &opts)
        .unwrap();
    assert!(
        cup.iter()
            .any(|d| matches!(d.label.as_deref(), Some("Coffee cup" | "Mug"))),
        "{cup:?}"
    );
    let embed = load("efficientnet-lite0-embed/model.onnx");
    let e = |f: &str| embed.embed_encoded(&read(f)).unwrap();
    let (cat, mirror, coffee) = (
        e("images/chelsea.png"),
        e("images/chelsea_mirror.png"),
        e("images/coffee.png"),
    );
    assert!(cat.cosine_similarity(&mirror).unwrap() >= 0.9);
    assert!(cat.cosine_similarity(&coffee).unwrap() <= 0.4);
}

#[test]
fn a_task_the_model_does_not_serve_is_a_typed_error() {
    let classifier = load("efficientnet-lite0/model.onnx");
    let e = classifier
        .detect_encoded(&read("images/chelsea.png"), &DetectOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), "TaskMismatch");
    assert!(e.to_string().contains("task = \"classify\""), "{e}");
    let e = classifier
        .embed_encoded(&read("images/chelsea.png"))
        .unwrap_err();
    assert_eq!(e.kind(), "TaskMismatch");
    let detector = load("ssd-mobilenetv2-oid/model.onnx");
    let e = detector
        .classify_encoded(&read("images/chelsea.png"), &ledge::ClassifyOptions::top(1))
        .unwrap_err();
    assert_eq!(e.kind(), "TaskMismatch");
    let bad = DetectOptions {
        score_threshold: Some(2.0),
        ..DetectOptions::default()
    };
    let e = detector
        .detect_encoded(&read("images/chelsea.png"), &bad)
        .unwrap_err();
    assert_eq!(e.kind(), "InvalidArgument");
}

/// The SSD's manifest with `from` replaced by `to`, loaded with the SSD.
fn load_ssd_with(from: &str, to: &str) -> ledge::Result<Model> {
    let text = std::fs::read_to_string(demo().join("ssd-mobilenetv2-oid/manifest.toml")).unwrap();
    assert!(text.contains(from), "the manifest has no {from:?}");
    let mut m = Manifest::from_toml(&text.replace(from, to))?;
    m.output.labels = ledge::manifest::parse_labels(
        &std::fs::read_to_string(demo().join("ssd-mobilenetv2-oid/labels.txt")).unwrap(),
    );
    m.output.labels_file = None;
    Model::from_path(
        demo().join("ssd-mobilenetv2-oid/model.onnx"),
        &LoadOptions {
            manifest: Some(m),
            ..LoadOptions::default()
        },
    )
}

#[test]
fn a_detect_manifest_that_does_not_fit_the_model_fails_detect_not_the_load() {
    let png = std::fs::read(demo().join("images/chelsea.png")).unwrap();
    let detect_error = |model: Model| {
        // run works whatever the manifest says; detect says why the manifest does not fit.
        assert!(model.manifest_problem().is_some());
        model
            .detect_encoded(&png, &ledge::DetectOptions::default())
            .unwrap_err()
    };
    for (from, to, needle) in [
        (
            "reduce_boxes_in_lowest_layer = true",
            "reduce_boxes_in_lowest_layer = false",
            "give 3000 anchors",
        ),
        (
            "boxes = \"raw_outputs/box_encodings\"",
            "boxes = \"boxes\"",
            "names output 'boxes'",
        ),
        ("keypoints = 0", "keypoints = 2", "8 (4 + 2 per keypoint)"),
    ] {
        let e = detect_error(load_ssd_with(from, to).unwrap());
        assert_eq!(e.kind(), "Manifest", "{e}");
        assert!(e.to_string().contains(needle), "{e} should say {needle}");
    }
    let mut short = ledge::manifest::parse_labels("a\nb\n");
    short.truncate(2);
    let model = Model::from_path(
        demo().join("ssd-mobilenetv2-oid/model.onnx"),
        &LoadOptions {
            labels: Some(short),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let e = detect_error(model);
    assert!(e.to_string().contains("2 labels"), "{e}");
}
