//! A manifest's `output.kind` against the graph (demo-models/fixtures/output-kind/, from the field
//! cases; expected values by onnxruntime 1.32): a graph that ends in Softmax declared `logits`
//! is refused at load (a second softmax would flatten the scores), a logits graph declared
//! `probabilities` is refused when it runs, and the right declaration gives onnxruntime's
//! probabilities (within 0.02: Pillow's and Ledge's bilinear resize of the 64×64 test images).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{demo, read};
use ledge::{ClassifyOptions, LoadOptions, Manifest, Model};

fn load(model: &str, manifest: &str) -> ledge::Result<Model> {
    let dir = demo().join("fixtures/output-kind");
    let options = LoadOptions {
        manifest: Some(Manifest::from_path(dir.join(manifest)).unwrap()),
        ..LoadOptions::default()
    };
    Model::from_path(dir.join(model), &options)
}

#[test]
fn softmax_declared_as_logits_is_refused_at_load() {
    let e = load("ends_in_softmax.onnx", "softmax_as_logits.toml")
        .err()
        .unwrap();
    assert_eq!(e.kind(), "Manifest", "{e}");
    assert!(e.to_string().contains("comes from a Softmax"), "{e}");
    assert!(
        e.to_string().contains("declare kind = \"probabilities\""),
        "{e}"
    );
}

#[test]
fn logits_declared_as_probabilities_are_refused_when_they_run() {
    let model = load("logits.onnx", "logits_as_probabilities.toml").unwrap();
    let png = read("fixtures/output-kind/red.png");
    let e = model
        .classify_encoded(&png, &ClassifyOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), "Manifest", "{e}");
    assert!(e.to_string().contains("declare kind = \"logits\""), "{e}");
}

#[test]
fn the_right_declaration_gives_onnxruntimes_probabilities() {
    let expected: HashMap<String, Vec<(u32, f32)>> =
        serde_json::from_slice(&read("fixtures/output-kind/expected.json")).unwrap();
    let model = load("ends_in_softmax.onnx", "softmax_as_probabilities.toml").unwrap();
    for color in ["red", "green"] {
        let png = read(&format!("fixtures/output-kind/{color}.png"));
        let top = model
            .classify_encoded(&png, &ClassifyOptions::top(4))
            .unwrap();
        let sum: f32 = top.iter().map(|p| p.score).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{color}: {sum}");
        let (index, score) = expected[color][0];
        assert_eq!(top[0].index, index, "{color}");
        assert!(
            (top[0].score - score).abs() < 0.02,
            "{color}: {} vs {score}",
            top[0].score
        );
    }
}
