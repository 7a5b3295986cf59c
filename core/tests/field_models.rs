//! Models users bring that Ledge once refused or misread (issue 18), each kind with expected
//! values from onnxruntime 1.32:
//! - several outputs (demo-models/fixtures/multi-output/, from the field cases): `run` works
//!   whatever the manifest says, the scores output is the one the manifest names or the only one
//!   with a class per label, and a manifest that does not fit fails the task calls only;
//! - external data (demo-models/fixtures/external-data/, from the field cases, and the variants
//!   of scripts/field_models.py): read beside the model, never outside its folder;
//! - `Upsample` of opsets 7 and 9, a dynamic height and width, 16-bit QDQ
//!   (demo-models/fixtures/field/, made by scripts/field_models.py).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::{demo, read};
use ledge::{ClassifyOptions, Limits, LoadOptions, Manifest, Model, Tensor};

fn fixture(rel: &str) -> PathBuf {
    demo().join("fixtures").join(rel)
}

fn npy(rel: &str) -> Tensor {
    ledge_cli::npy::read(&read(&format!("fixtures/{rel}"))).unwrap()
}

fn with_manifest(manifest: &str) -> LoadOptions {
    LoadOptions {
        manifest: Some(Manifest::from_path(fixture(manifest)).unwrap()),
        ..LoadOptions::default()
    }
}

fn assert_close(got: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= tolerance, "{what}[{i}]: {g} vs {e}");
    }
}

/// Top-4 of the colour images in `dir` against `expected.json` there (`[index, probability]`
/// pairs from onnxruntime; the grey image's classes are too close to rank).
fn assert_classifies(model: &Model, dir: &str) {
    let expected: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&read(&format!("fixtures/{dir}/expected.json"))).unwrap();
    for color in ["red", "green", "blue"] {
        let top: Vec<(u32, f32)> = serde_json::from_value(expected[color].clone()).unwrap();
        let png = read(&format!("fixtures/{dir}/{color}.png"));
        let got = model
            .classify_encoded(&png, &ClassifyOptions::top(4))
            .unwrap();
        assert_eq!(got[0].index, top[0].0, "{dir}/{color}: top-1");
        for (p, (index, score)) in got.iter().zip(&top) {
            assert_eq!(p.index, *index, "{dir}/{color}");
            // Pillow's and Ledge's bilinear resize of the 64×64 images differ slightly.
            assert!(
                (p.score - score).abs() < 0.02,
                "{dir}/{color}: {p:?} vs {score}"
            );
        }
    }
}

#[test]
fn run_works_whatever_the_manifest_says_and_the_scores_output_is_found() {
    #[derive(serde::Deserialize)]
    struct Runs {
        features_then_logits_run: Vec<Vec<f32>>,
        two_inputs_run: Vec<f32>,
    }
    let runs: Runs = serde_json::from_slice(&read("fixtures/multi-output/expected.json")).unwrap();
    // (features [1, 8], logits [1, 4]) with a 4-label manifest that names no scores output.
    let model = Model::from_path(
        fixture("multi-output/features_then_logits.onnx"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(model.manifest_problem(), None);
    let outputs = model.run(&[npy("multi-output/red_x.npy")]).unwrap();
    assert_eq!(outputs.len(), 2);
    for (out, expected) in outputs.iter().zip(&runs.features_then_logits_run) {
        assert_close(
            out.as_f32().unwrap(),
            expected,
            1e-4,
            "features_then_logits",
        );
    }
    let manifest = model.info().manifest.as_ref().unwrap();
    assert_eq!(manifest.output.scores.as_deref(), Some("logits"));
    assert_classifies(&model, "multi-output");

    // (logits, aux_logits): the first output fits, as before.
    let model = Model::from_path(
        fixture("multi-output/logits_then_aux.onnx"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_classifies(&model, "multi-output");

    // Two inputs: run takes one tensor each; an image task says why it cannot.
    let model = Model::from_path(
        fixture("multi-output/two_inputs.onnx"),
        &LoadOptions::default(),
    )
    .unwrap();
    let out = model
        .run(&[npy("multi-output/red_x.npy"), npy("multi-output/temp.npy")])
        .unwrap();
    assert_close(
        out[0].as_f32().unwrap(),
        &runs.two_inputs_run,
        1e-4,
        "two_inputs",
    );
    let e = model
        .classify_encoded(
            &read("fixtures/multi-output/red.png"),
            &ClassifyOptions::top(1),
        )
        .unwrap_err();
    assert_eq!(e.kind(), "TaskMismatch", "{e}");
    assert!(
        e.to_string().contains("call run with one tensor per input"),
        "{e}"
    );
}

/// `logits_then_aux.onnx` with its manifest changed by `edit`.
fn aux_with(edit: impl FnOnce(&mut Manifest)) -> Model {
    let mut manifest = Manifest::from_path(fixture("multi-output/logits_then_aux.toml")).unwrap();
    edit(&mut manifest);
    let options = LoadOptions {
        manifest: Some(manifest),
        ..LoadOptions::default()
    };
    Model::from_path(fixture("multi-output/logits_then_aux.onnx"), &options).unwrap()
}

#[test]
fn a_manifest_that_does_not_fit_fails_the_tasks_not_the_load() {
    let model = aux_with(|m| {
        m.output.labels.pop(); // 3 labels for 4 classes
    });
    let problem = model.manifest_problem().unwrap();
    assert!(
        problem.contains("3 labels") && problem.contains("4 classes"),
        "{problem}"
    );
    assert_eq!(
        model.run(&[npy("multi-output/red_x.npy")]).unwrap().len(),
        2
    );
    let e = model
        .classify_encoded(
            &read("fixtures/multi-output/red.png"),
            &ClassifyOptions::top(1),
        )
        .unwrap_err();
    assert_eq!(e.kind(), "Manifest", "{e}");
    assert!(e.to_string().contains("give one label per class"), "{e}");

    // A scores output that does not exist is named with the ones that do.
    let model = aux_with(|m| m.output.scores = Some("probs".into()));
    let problem = model.manifest_problem().unwrap();
    assert!(
        problem.contains("'probs'") && problem.contains("aux_logits"),
        "{problem}"
    );
}

#[test]
fn external_data_is_read_beside_the_model() {
    let model =
        Model::from_path(fixture("external-data/model.onnx"), &LoadOptions::default()).unwrap();
    assert_classifies(&model, "external-data");

    // From bytes there is no folder to read it from: say so, and what to do.
    let bytes = read("fixtures/external-data/model.onnx");
    let e = Model::from_bytes(&bytes, &with_manifest("external-data/model.toml"))
        .err()
        .unwrap();
    assert_eq!(e.kind(), "ModelFormat", "{e}");
    for part in ["external data file 'model.onnx.data'", "from its path"] {
        assert!(e.to_string().contains(part), "{e}");
    }

    // The data counts against max_model_bytes with the model.
    let options = LoadOptions {
        limits: Limits {
            max_model_bytes: bytes.len() as u64 + 100,
            ..Limits::default()
        },
        ..LoadOptions::default()
    };
    let e = Model::from_path(fixture("external-data/model.onnx"), &options)
        .err()
        .unwrap();
    assert_eq!(e.kind(), "LimitExceeded", "{e}");
    assert!(e.to_string().contains("max_model_bytes"), "{e}");
}

#[test]
fn external_data_outside_the_models_folder_or_file_is_refused() {
    let options = with_manifest("external-data/model.toml");
    for (model, part) in [
        (
            "field/escape.onnx",
            "'../external-data/model.onnx.data' is absolute or leaves",
        ),
        (
            "field/absolute.onnx",
            "'/etc/hostname' is absolute or leaves",
        ),
        (
            "external-data/short.onnx",
            "bytes 1000..1128 of 'model.onnx.data', which has 1040",
        ),
    ] {
        let e = Model::from_path(fixture(model), &options).err().unwrap();
        assert_eq!(e.kind(), "ModelFormat", "{model}: {e}");
        assert!(e.to_string().contains(part), "{model}: {e}");
    }
}

#[test]
fn upsample_runs_as_onnxruntime_computes_it() {
    let x = npy("field/x5.npy");
    for opset in [7, 9] {
        let model = Model::from_path(
            fixture(&format!("field/upsample_opset{opset}.onnx")),
            &LoadOptions::default(),
        )
        .unwrap();
        let got = model.run(std::slice::from_ref(&x)).unwrap();
        let expected = npy(&format!("field/upsample_opset{opset}.out.npy"));
        assert_eq!(got[0].shape(), expected.shape(), "opset {opset}");
        assert_close(
            got[0].as_f32().unwrap(),
            expected.as_f32().unwrap(),
            1e-5,
            &format!("upsample opset {opset}"),
        );
    }
}

#[test]
fn a_dynamic_height_and_width_is_planned_at_the_given_size() {
    #[derive(serde::Deserialize)]
    struct Runs {
        dynamic_hw_48x64: Vec<Vec<f32>>,
        dynamic_hw_8x8: Vec<Vec<f32>>,
    }
    let runs: Runs = serde_json::from_slice(&read("fixtures/field/expected.json")).unwrap();
    let path = fixture("field/dynamic_hw.onnx");
    let e = Model::from_path(&path, &LoadOptions::default())
        .err()
        .unwrap();
    assert_eq!(e.kind(), "InvalidArgument", "{e}");
    for part in [
        "input 'input' has a dynamic dimension 2 (named 'height')",
        "--input-shape input=1,3,N,N",
        "size = [height, width]",
    ] {
        assert!(e.to_string().contains(part), "{e}");
    }

    let options = LoadOptions {
        input_shapes: Some(vec![vec![1, 3, 48, 64]]),
        ..LoadOptions::default()
    };
    let model = Model::from_path(&path, &options).unwrap();
    let out = model.run(&[npy("field/x_48x64.npy")]).unwrap();
    assert_close(
        out[0].as_f32().unwrap(),
        &runs.dynamic_hw_48x64[0],
        1e-4,
        "48×64",
    );
    // Other sizes are planned on first use.
    let out = model.run(&[npy("field/x8.npy")]).unwrap();
    assert_close(
        out[0].as_f32().unwrap(),
        &runs.dynamic_hw_8x8[0],
        1e-4,
        "8×8",
    );
    // A tensor of another rank is still the model's shape error.
    let e = model
        .run(&[Tensor::f32(vec![1, 3, 8], vec![0.0; 24]).unwrap()])
        .unwrap_err();
    assert_eq!(e.kind(), "InputShape", "{e}");

    // The manifest's [input] size plans an image model.
    let mut manifest = Manifest::from_path(fixture("multi-output/logits_then_aux.toml")).unwrap();
    manifest.input.size = Some(vec![48, 64]);
    let options = LoadOptions {
        manifest: Some(manifest),
        ..LoadOptions::default()
    };
    let model = Model::from_path(&path, &options).unwrap();
    assert_eq!(model.info().inputs[0].shape, vec![1, 3, 48, 64]);
    let top = model
        .classify_encoded(
            &read("fixtures/multi-output/red.png"),
            &ClassifyOptions::top(4),
        )
        .unwrap();
    assert_eq!(top.len(), 4);
    let sum: f32 = top.iter().map(|p| p.score).sum();
    assert!((sum - 1.0).abs() < 1e-4, "{sum}");
}

#[test]
fn sixteen_bit_qdq_is_refused_naming_the_type() {
    let e = Model::from_path(fixture("field/qdq_uint16.onnx"), &LoadOptions::default())
        .err()
        .unwrap();
    assert_eq!(e.kind(), "UnsupportedOperator", "{e}");
    for part in ["QuantizeLinear(uint16)", "and 1 other", "8-bit types"] {
        assert!(e.to_string().contains(part), "{e}");
    }
}

#[test]
fn uint8_nhwc_and_grey_image_models_classify_as_onnxruntime() {
    let expected: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&read("fixtures/field/expected.json")).unwrap();
    let png = read("fixtures/field/pattern.png");
    for name in ["uint8_nhwc", "grey"] {
        // The sidecar manifest beside each model.
        let model = Model::from_path(
            fixture(&format!("field/{name}.onnx")),
            &LoadOptions::default(),
        )
        .unwrap();
        let want: Vec<f32> =
            serde_json::from_value(expected[&format!("{name}_pattern")].clone()).unwrap();
        let got = model
            .classify_encoded(&png, &ClassifyOptions::top(4))
            .unwrap();
        for p in &got {
            let w = want[p.index as usize];
            assert!((p.score - w).abs() < 1e-3, "{name}: {p:?} vs {w}");
        }
        // What the model is fed: u8 pixels as they are, or one channel of luma.
        let input = model.preprocess_encoded(&png).unwrap();
        match name {
            "uint8_nhwc" => {
                assert_eq!(input.shape(), &[1, 32, 32, 3]);
                assert_eq!(input.dtype(), ledge::DType::U8);
            }
            _ => assert_eq!(input.shape(), &[1, 1, 32, 32]),
        }
    }
}
