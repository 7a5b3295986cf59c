//! Every input the fuzzers ever found a problem with (fuzz/regressions/TARGET/), and the fuzz
//! seeds, through the same public calls as the fuzz targets. Each file's exact outcome is listed
//! below (`Ok` or the error kind and a phrase of its message); a file without an entry, an
//! entry without a file, and a missing folder all fail, so the list and the folders stay one.
//! A new finding: copy its reproducer into the folder and add its line here.
//! (The `.npy` regressions live with the `.npy` reader, in `bindings/cli/tests/`.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ledge::{ClassifyOptions, LoadOptions, Manifest, Model, Tensor};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<sub>` by name (`.gitkeep` aside); a missing or empty folder fails.
fn files(sub: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = fuzz_dir().join(sub);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let out: BTreeMap<_, _> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().unwrap() != ".gitkeep")
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    assert!(!out.is_empty(), "{} holds no input", dir.display());
    out
}

/// Checks that `expected` names exactly the files of `sub`, and each file's outcome.
fn check(sub: &str, expected: &[(&str, Outcome)], outcome: impl Fn(&[u8]) -> ledge::Result<()>) {
    let found = files(sub);
    let listed: Vec<&str> = expected.iter().map(|(f, _)| *f).collect();
    let present: Vec<&str> = found.keys().map(String::as_str).collect();
    assert_eq!(
        present, listed,
        "fuzz/{sub}: the files and this test's list differ"
    );
    for (name, want) in expected {
        let got = outcome(&found[*name]);
        match (want, &got) {
            (Outcome::Ok, Ok(())) => {}
            (Outcome::Err(kind, phrase), Err(e)) if e.kind() == *kind => assert!(
                e.to_string().contains(phrase),
                "fuzz/{sub}/{name}: {e} should say {phrase:?}"
            ),
            _ => panic!("fuzz/{sub}/{name}: expected {want:?}, got {got:?}"),
        }
    }
}

#[derive(Debug)]
enum Outcome {
    Ok,
    Err(&'static str, &'static str),
}

fn load_and_run(bytes: &[u8]) -> ledge::Result<()> {
    let mut options = LoadOptions::default();
    options.limits.max_plan_bytes = 64 << 20;
    let model = Model::from_bytes(bytes, &options)?;
    let inputs: Vec<Tensor> = model
        .info()
        .inputs
        .iter()
        .map(|spec| Tensor::zeros(spec.dtype, spec.dims()).unwrap())
        .collect();
    model.run(&inputs).map(drop)
}

#[test]
fn model_regressions_and_seeds_end_as_recorded() {
    use Outcome::*;
    check(
        "regressions/load_model",
        &[
            (
                "negative-constant-shape-timeout.onnx",
                Err("ModelFormat", "negative"),
            ),
            (
                "resize-scale-5e16-huge-alloc.onnx",
                Err("ModelFormat", "scale"),
            ),
            ("tract-padding-rank-panic.onnx", Err("ModelFormat", "")),
            (
                "transpose-perm-not-permutation-oom.onnx",
                Err("ModelFormat", "is not a permutation"),
            ),
        ],
        load_and_run,
    );
    check(
        "seeds/models",
        &[
            ("tiny_classifier.onnx", Ok),
            ("tiny_qdq.onnx", Ok),
            ("tiny_resize.onnx", Ok),
            ("tiny_shapes.onnx", Ok),
        ],
        load_and_run,
    );
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
fn the_tiny_classifier_is_a_real_model() {
    let model = tiny_classifier();
    let png = std::fs::read(fuzz_dir().join("seeds/images/rgb.png")).unwrap();
    let top = model
        .classify_encoded(&png, &ClassifyOptions::top(3))
        .unwrap();
    assert_eq!(top.len(), 3);
    let sum: f32 = top.iter().map(|p| p.score).sum();
    assert!((sum - 1.0).abs() < 1e-4, "softmax over 3 classes: {sum}");
}

#[test]
fn image_regressions_and_seeds_end_as_recorded() {
    use Outcome::*;
    let model = tiny_classifier();
    let classify = |bytes: &[u8]| {
        model
            .classify_encoded(bytes, &ClassifyOptions::top(3))
            .map(drop)
    };
    // zune-jpeg multiplies with overflow on this file: with overflow checks (debug builds) that
    // is a panic, caught as ImageDecode; without them (release) the image decodes.
    let jpeg = if cfg!(debug_assertions) {
        Err("ImageDecode", "the engine failed on this input")
    } else {
        Ok
    };
    check(
        "regressions/classify_image",
        &[("jpeg-debug-assertion-panic.jpg", jpeg)],
        classify,
    );
    check(
        "seeds/images",
        &[
            ("grey.png", Ok),
            ("progressive.jpg", Ok),
            ("rgb.jpg", Ok),
            ("rgb.png", Ok),
            ("rgba.png", Ok),
        ],
        classify,
    );
    // The fuzz target also reads its input as an RGBA frame: width, height, pixels.
    let frame = |bytes: &[u8]| {
        let [w, h, rest @ ..] = bytes else {
            return Result::Ok(());
        };
        model
            .classify_rgba(rest, u32::from(*w), u32::from(*h), &ClassifyOptions::top(2))
            .map(drop)
    };
    check(
        "seeds/images",
        &[
            ("grey.png", Err("InvalidArgument", "RGBA frame")),
            ("progressive.jpg", Err("InvalidArgument", "RGBA frame")),
            ("rgb.jpg", Err("InvalidArgument", "RGBA frame")),
            ("rgb.png", Err("InvalidArgument", "RGBA frame")),
            ("rgba.png", Err("InvalidArgument", "RGBA frame")),
        ],
        frame,
    );
}
