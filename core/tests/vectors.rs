//! Every shared test vector (demo-models/vectors/cases.json), checked against Ledge.
//!
//! The rule, the same in every language: the top-1 index equals the reference's, and for each
//! expected `(index, score)` Ledge's score for that index is within the case's tolerance.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::HashMap;

use common::{cases, demo, load, read};
use ledge::{LoadOptions, Model};

#[test]
fn every_vector_matches_the_reference() {
    check_every_vector(&LoadOptions::default());
}

/// The comparison path (`ledge_kernels: false`: QDQ convolutions in float, as tract alone
/// runs them) stays correct too.
#[test]
fn every_vector_matches_the_reference_with_tract_kernels() {
    check_every_vector(&LoadOptions {
        ledge_kernels: false,
        ..LoadOptions::default()
    });
}

/// Two threads (output channels split between them) give the vectors too.
#[test]
fn every_vector_matches_the_reference_on_two_threads() {
    check_every_vector(&LoadOptions {
        threads: 2,
        ..LoadOptions::default()
    });
}

/// Every int8 instruction set this CPU runs, forced, gives the vectors (and `portable` runs
/// everywhere), so each kernel path is tested on any host.
#[test]
fn every_vector_matches_the_reference_on_every_supported_isa() {
    let isas = ledge::supported_isas();
    assert!(isas.contains(&"portable"), "{isas:?}");
    for isa in isas {
        println!("isa {isa}");
        check_every_vector(&LoadOptions {
            isa: Some(isa.to_string()),
            ..LoadOptions::default()
        });
    }
}

#[test]
fn an_unknown_or_unsupported_isa_is_a_typed_error() {
    let model = demo().join("ppocr-cls/model.onnx");
    let load = |isa: &str| {
        Model::from_path(
            &model,
            &LoadOptions {
                isa: Some(isa.into()),
                ..LoadOptions::default()
            },
        )
        .err()
        .map(|e| (e.kind(), e.to_string()))
    };
    let (kind, message) = load("sse9").unwrap();
    assert_eq!(kind, "InvalidArgument");
    assert!(
        message.contains("use auto or one of portable, avx2"),
        "{message}"
    );
    // No CPU runs the reserved names yet (their kernels are not written).
    let (kind, message) = load("neon-dot").unwrap();
    assert_eq!(kind, "InvalidArgument");
    assert!(message.contains("this CPU cannot run it"), "{message}");
    assert!(load("auto").is_none());
}

fn check_every_vector(options: &LoadOptions) {
    let mut models: HashMap<String, Model> = HashMap::new();
    let mut failures = vec![];
    let mut worst: HashMap<String, f32> = HashMap::new();
    let all = cases();
    assert!(
        all.len() >= 38,
        "expected the full vector set, found {}",
        all.len()
    );
    for case in &all {
        let model = models.entry(case.model.clone()).or_insert_with(|| {
            Model::from_path(demo().join(&case.model), options)
                .unwrap_or_else(|e| panic!("{}: {e}", case.model))
        });
        let classes = model.info().outputs[0].shape.iter().product::<i64>() as usize;
        let got = match case.level.as_str() {
            "tensor" => {
                let t = ledge_cli::npy::read(&read(&case.tensor)).unwrap();
                model.classify_tensor(&t, &ledge::ClassifyOptions::top(classes as u32))
            }
            "image" => model.classify_encoded(
                &read(&case.image),
                &ledge::ClassifyOptions::top(classes as u32),
            ),
            other => panic!("unknown level {other}"),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let score: HashMap<usize, f32> = got.iter().map(|p| (p.index as usize, p.score)).collect();
        if got[0].index as usize != case.expected[0].index {
            failures.push(format!(
                "{}: top-1 {} != {}",
                case.name, got[0].index, case.expected[0].index
            ));
        }
        for e in &case.expected {
            let diff = (score[&e.index] - e.score).abs();
            let w = worst
                .entry(format!("{} {}", case.model, case.level))
                .or_default();
            *w = w.max(diff);
            if diff > case.tolerance {
                failures.push(format!(
                    "{}: index {} score {} vs {} (tolerance {})",
                    case.name, e.index, score[&e.index], e.score, case.tolerance
                ));
            }
        }
        assert_eq!(got[0].label, case.expected[0].label, "{}", case.name);
    }
    let mut worst: Vec<_> = worst.into_iter().collect();
    worst.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in &worst {
        println!(
            "max |Δscore| {k} (integer kernels: {}): {v:.5}",
            options.ledge_kernels
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// Ledge's own decode + resize + normalize against the Pillow/NumPy reference tensors.
#[test]
fn preprocessing_matches_the_python_reference() {
    let mut seen = std::collections::HashSet::new();
    for case in cases().iter().filter(|c| c.level == "image") {
        if !seen.insert(case.tensor.clone()) {
            continue;
        }
        let model = load(&case.model);
        let m = model.info().manifest.clone().unwrap();
        let std = match &m.input.normalize {
            ledge::manifest::Normalize::MeanStd { std, .. } => std[0],
            ledge::manifest::Normalize::ScaleOffset { scale, .. } => 1.0 / scale[0],
        };
        let ours = model.preprocess_encoded(&read(&case.image)).unwrap();
        let reference = ledge_cli::npy::read(&read(&case.tensor)).unwrap();
        assert_eq!(ours.shape(), reference.shape(), "{}", case.name);
        let (a, b) = (ours.as_f32().unwrap(), reference.as_f32().unwrap());
        let diffs: Vec<f32> = a.iter().zip(b).map(|(x, y)| (x - y).abs() * std).collect();
        let max = diffs.iter().copied().fold(0.0, f32::max);
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        println!(
            "{}: preprocessing max |Δ| {max:.2} levels, mean {mean:.4}",
            case.tensor
        );
        // In 0..255 pixel levels. Pillow and fast_image_resize both run two separable passes
        // rounded to 8 bits in between, in a different order: about a fifth of the values differ
        // by one level, and a few high-contrast edge pixels (where the cubic overshoot is clamped)
        // by up to 6. A wrong crop, filter, channel order or normalization is off by tens.
        assert!(max <= 8.0, "{}: max |Δ| {max} pixel levels", case.tensor);
        assert!(
            mean <= 0.35,
            "{}: mean |Δ| {mean} pixel levels",
            case.tensor
        );
    }
    assert!(seen.len() >= 17);
}

/// A model is shared by 8 threads × 50 runs and always answers the same.
#[test]
fn concurrent_runs_on_one_model_are_identical() {
    let model = load("efficientnet-lite0/model.onnx");
    let tensor =
        ledge_cli::npy::read(&read("vectors/tensors/efficientnet-lite0_chelsea.npy")).unwrap();
    let reference = model.run(std::slice::from_ref(&tensor)).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..50 {
                        assert_eq!(model.run(std::slice::from_ref(&tensor)).unwrap(), reference);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert_eq!(model.stats().runs, 401);
}

#[test]
fn stats_track_runs_latency_and_confidence() {
    let model = load("ppocr-cls/model.onnx");
    assert_eq!(model.stats().mean_top1_score, None);
    for line in ["line0_0", "line0_180"] {
        model
            .classify_path(
                demo().join(format!("images/{line}.png")),
                &ledge::ClassifyOptions::top(1),
            )
            .unwrap();
    }
    let stats = model.stats();
    assert_eq!((stats.runs, stats.classifications), (2, 2));
    assert!(stats.p50_ms > 0.0 && stats.p50_ms <= stats.p99_ms);
    let mean = stats.mean_top1_score.unwrap();
    assert!(mean > 0.5 && mean <= 1.0, "{mean}");
}

#[test]
fn model_info_describes_the_demo_model() {
    let model = load("efficientnet-lite0/model.onnx");
    let info = model.info();
    assert_eq!(info.inputs[0].shape, vec![1, 3, 224, 224]);
    assert_eq!(info.outputs[0].shape, vec![1, 1000]);
    assert_eq!(info.manifest_source, Some(ledge::ManifestSource::Embedded));
    assert_eq!(info.manifest.as_ref().unwrap().output.labels.len(), 1000);
    assert_eq!(
        info.sha256,
        ledge::sha256_hex(&read("efficientnet-lite0/model.onnx"))
    );
    assert!(info.op_histogram["DequantizeLinear"] > 100);
    assert!(
        (4_500_000..5_000_000).contains(&info.parameters),
        "{}",
        info.parameters
    );
    assert!(
        (380_000_000..420_000_000).contains(&info.macs),
        "{}",
        info.macs
    );
    assert_eq!(info.compute_nodes, 50);
    assert!(
        info.quantized_mac_fraction() > 0.99,
        "{}",
        info.quantized_mac_fraction()
    );
    assert!(info.repairs.is_empty());
}
