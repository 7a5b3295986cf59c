//! Every input the fuzzers ever found a problem with (fuzz/regressions/TARGET/), and the fuzz
//! seeds, through the same public calls as the fuzz targets: each must end in `Ok` or a typed
//! error, never a panic. A new finding is added by copying its reproducer into the folder.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};

use ledge::budget::Budget;
use ledge::{LoadOptions, Manifest, Model, Tensor};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<sub>`, but not `.gitkeep`.
fn files(sub: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir(fuzz_dir().join(sub)) else {
        return vec![];
    };
    let mut out: Vec<_> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().unwrap() != ".gitkeep")
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

fn tiny_classifier() -> Model {
    let mut options = LoadOptions {
        manifest: Some(Manifest::from_path(fuzz_dir().join("tiny.toml")).unwrap()),
        ..LoadOptions::default()
    };
    options.limits.max_image_pixels = 1 << 22;
    Model::from_path(
        fuzz_dir().join("seeds/models/tiny_classifier.onnx"),
        &options,
    )
    .unwrap()
}

#[test]
fn model_bytes_load_or_fail_typed() {
    let mut seen = 0;
    for (path, bytes) in files("regressions/load_model")
        .into_iter()
        .chain(files("seeds/models"))
    {
        let mut options = LoadOptions::default();
        options.limits.max_plan_bytes = 64 << 20;
        match Model::from_bytes(&bytes, &options) {
            Ok(model) => {
                let inputs: Vec<Tensor> = model
                    .info()
                    .inputs
                    .iter()
                    .map(|spec| {
                        let shape = spec.shape.iter().map(|&d| d as usize).collect();
                        Tensor::zeros(spec.dtype, shape).unwrap()
                    })
                    .collect();
                if let Err(e) = model.run(&inputs) {
                    assert_eq!(e.kind(), "Inference", "{}: {e}", path.display());
                }
            }
            Err(e) => assert_ne!(e.kind(), "Io", "{}: {e}", path.display()),
        }
        seen += 1;
    }
    assert!(seen >= 4, "the tiny seed models are there");
}

#[test]
fn the_tiny_seeds_are_real_models() {
    let model = tiny_classifier();
    let png = std::fs::read(fuzz_dir().join("seeds/images/rgb.png")).unwrap();
    let top = model.classify_encoded(&png, 3).unwrap();
    assert_eq!(top.len(), 3);
    let sum: f32 = top.iter().map(|p| p.score).sum();
    assert!((sum - 1.0).abs() < 1e-4, "softmax over 3 classes: {sum}");
    for name in ["tiny_qdq", "tiny_shapes", "tiny_resize"] {
        let path = fuzz_dir().join(format!("seeds/models/{name}.onnx"));
        Model::from_path(&path, &LoadOptions::default()).unwrap();
    }
}

#[test]
fn images_classify_or_fail_typed() {
    let model = tiny_classifier();
    for (path, bytes) in files("regressions/classify_image")
        .into_iter()
        .chain(files("seeds/images"))
    {
        if let Err(e) = model.classify_encoded(&bytes, 3) {
            assert!(
                ["ImageDecode", "LimitExceeded"].contains(&e.kind()),
                "{}: {e}",
                path.display()
            );
        }
        if let [w, h, rest @ ..] = bytes.as_slice() {
            let _ = model.classify_rgba(rest, u32::from(*w), u32::from(*h), 2);
        }
    }
}

#[test]
fn manifests_parse_or_fail_typed() {
    for (path, bytes) in files("regressions/manifest") {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(m) = Manifest::from_toml(&text) {
            let _ = m.validate();
            Manifest::from_toml(&m.to_toml()).unwrap();
        } else {
            eprintln!("{}: refused", path.display());
        }
    }
}

#[test]
fn npy_files_round_trip_or_fail_typed() {
    for (path, bytes) in files("regressions/npy")
        .into_iter()
        .chain(files("seeds/npy"))
    {
        match Tensor::from_npy(&bytes) {
            Ok(t) => assert_eq!(Tensor::from_npy(&t.to_npy()).unwrap().to_npy(), t.to_npy()),
            Err(e) => eprintln!("{}: {e}", path.display()),
        }
    }
}

#[test]
fn budgets_parse_or_fail_typed() {
    for (path, bytes) in files("regressions/budget") {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(b) = Budget::from_toml(&text) {
            // As the fuzz target: absolute paths and `..` are legal but would glob the disk.
            if b.artifacts
                .iter()
                .any(|a| a.path.starts_with('/') || a.path.contains(".."))
            {
                continue;
            }
            let _ = b.check(Path::new("/nonexistent-ledge-fuzz"));
        } else {
            eprintln!("{}: refused", path.display());
        }
    }
}
