//! The `ledge` binary as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;
use std::process::{Command, Output};

fn demo(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo-models")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn ledge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ledge"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `ledge` with `args`, which must succeed, and parses each line of its output as JSON.
fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let o = ledge(args);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A failure is one `error:` line and exit code 1, never a panic.
fn assert_clean_error(o: &Output, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{err} should mention {needle}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn classify_the_cat_as_a_table_and_as_json() {
    let model = demo("efficientnet-lite0/model.onnx");
    let o = ledge(&[
        "classify",
        &model,
        &demo("images/chelsea.png"),
        "--top",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let labels: Vec<&str> = ["tiger cat", "Egyptian cat", "tabby"].to_vec();
    let positions: Vec<usize> = labels
        .iter()
        .map(|l| text.find(l).unwrap_or_else(|| panic!("{l} in {text}")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");

    let lines = json_lines(&[
        "classify",
        &model,
        &demo("images/chelsea.png"),
        &demo("images/coffee.png"),
        "--json",
    ]);
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["image"].as_str().unwrap().ends_with("chelsea.png"));
    assert_eq!(lines[0]["predictions"].as_array().unwrap().len(), 5);
    assert_eq!(lines[0]["predictions"][0]["index"], 282);
    assert_eq!(lines[0]["predictions"][0]["label"], "tiger cat");
    assert!(lines[0]["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(lines[1]["predictions"][0]["label"], "espresso");
    let score = lines[1]["predictions"][0]["score"].as_f64().unwrap();
    assert!(score > 0.9 && score <= 1.0, "{score}");
}

#[test]
fn errors_are_one_clear_line() {
    assert_clean_error(
        &ledge(&["classify", &demo("nope.onnx"), &demo("images/chelsea.png")]),
        "nope.onnx",
    );
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("t.onnx");
    let bytes = std::fs::read(demo("ppocr-cls/model.onnx")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    assert_clean_error(
        &ledge(&["inspect", truncated.to_str().unwrap()]),
        "invalid model",
    );
    assert_clean_error(
        &ledge(&[
            "classify",
            &demo("ppocr-cls/model.onnx"),
            &demo("ppocr-cls/labels.txt"),
        ]),
        "cannot decode image",
    );
    assert_clean_error(
        &ledge(&["inspect", &demo("fixtures/ppocr-cls-qoperator.onnx")]),
        "unsupported operator",
    );
    assert_clean_error(
        &ledge(&[
            "run",
            &demo("ppocr-cls/model.onnx"),
            "--input",
            &demo("vectors/tensors/efficientnet-lite0_chelsea.npy"),
        ]),
        "expected shape [1, 3, 48, 192], got [1, 3, 224, 224]",
    );
    // Usage errors come from the argument parser, with exit code 2.
    assert_eq!(ledge(&["classify"]).status.code(), Some(2));
}

#[test]
fn run_reads_and_writes_npy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let o = ledge(&[
        "run",
        &demo("ppocr-cls/model.onnx"),
        "--input",
        &demo("vectors/tensors/ppocr-cls_line3_180.npy"),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = ledge_cli::npy::read(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(t.shape(), &[1, 2]);
    let p = t.as_f32().unwrap();
    assert!(p[1] > 0.9, "upside-down line: {p:?}");

    let o = ledge(&[
        "run",
        &demo("ppocr-cls/model.onnx"),
        "--input",
        &demo("vectors/tensors/ppocr-cls_line3_0.npy"),
    ]);
    assert!(stdout(&o).contains("f32 [1, 2]"), "{}", stdout(&o));
}

/// Outputs of `ledge run` written to a temporary .npy, as f32 values.
fn run_output(args: &[&str]) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", out.to_str().unwrap()]);
    let o = ledge(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = ledge_cli::npy::read(&std::fs::read(&out).unwrap()).unwrap();
    t.as_f32().unwrap().to_vec()
}

#[test]
fn dynamic_height_and_width_take_input_shape_or_the_tensors_shape() {
    let model = demo("fixtures/field/dynamic_hw.onnx");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo("fixtures/field/expected.json")).unwrap())
            .unwrap();
    let close = |got: &[f32], key: &str| {
        let want: Vec<f32> = expected[key][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{key}: {got:?} vs {want:?}");
        }
    };
    let x48 = demo("fixtures/field/x_48x64.npy");
    // run: the shape of the tensor given; or the one --input-shape says (by name or alone).
    close(&run_output(&[&model, "--input", &x48]), "dynamic_hw_48x64");
    close(
        &run_output(&[&model, "--input", &x48, "--input-shape", "input=1,3,48,64"]),
        "dynamic_hw_48x64",
    );
    close(
        &run_output(&[
            &model,
            "--input",
            &demo("fixtures/field/x8.npy"),
            "--input-shape",
            "1,3,8,8",
        ]),
        "dynamic_hw_8x8",
    );
    // inspect has no tensors: it needs the size, and says how to give it.
    assert_clean_error(&ledge(&["inspect", &model]), "--input-shape input=1,3,N,N");
    let o = ledge(&["inspect", &model, "--input-shape", "input=1,3,96,128"]);
    assert!(
        stdout(&o).contains("input f32 [1, 3, 96, 128]"),
        "{}",
        stderr(&o)
    );
    for (flag, needle) in [
        ("pixels=1,3,8,8", "no input 'pixels'; its inputs are input"),
        (
            "input=1,3,8",
            "is [?, 3, ?, ?] (? = dynamic); give 4 dimensions",
        ),
        ("input=1,4,8,8", "keep the fixed ones"),
        ("input=1,3,eight,8", "positive whole numbers"),
    ] {
        assert_clean_error(&ledge(&["inspect", &model, "--input-shape", flag]), needle);
    }
}

#[test]
fn inspect_reports_everything_in_model_info() {
    let o = ledge(&["inspect", &demo("efficientnet-lite0/model.onnx"), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for key in [
        "inputs",
        "outputs",
        "file_size",
        "sha256",
        "op_histogram",
        "parameters",
        "macs",
        "quantized_mac_fraction",
        "manifest",
    ] {
        assert!(!v[key].is_null(), "{key} missing in {v}");
    }
    assert_eq!(v["inputs"][0]["shape"], serde_json::json!([1, 3, 224, 224]));
    assert_eq!(v["manifest_source"], "embedded");
    let text = stdout(&ledge(&["inspect", &demo("efficientnet-lite0/model.onnx")]));
    assert!(
        text.contains("quantized") && text.contains("(verified)"),
        "{text}"
    );
}

#[test]
fn inspect_profile_reports_the_int8_truth() {
    let model = demo("ppocr-cls/model.onnx");
    let o = ledge(&["inspect", &model, "--profile", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["profile"]["runs"], 2);
    let truth = v["integer_mac_fraction"].as_f64().unwrap();
    assert!(truth > 0.0 && truth <= 1.0, "{truth}");
    // tract alone runs every MAC in float.
    let o = ledge(&["inspect", &model, "--profile", "--tract-kernels", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["profile"]["runs"], 20);
    assert_eq!(v["integer_mac_fraction"], 0.0);
    let text = stdout(&ledge(&["inspect", &model, "--profile", "1"]));
    assert!(text.contains("in integer kernels"), "{text}");
}

#[test]
fn bench_prints_the_documented_json_keys() {
    let o = ledge(&[
        "bench",
        &demo("ppocr-cls/model.onnx"),
        "--image",
        &demo("images/line0_0.png"),
        "--iters",
        "5",
        "--warmup",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for key in [
        "load_ms",
        "first_run_ms",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "peak_rss_bytes",
    ] {
        assert!(v[key].as_f64().is_some(), "{key} missing in {v}");
    }
    assert!(v["p50_ms"].as_f64() <= v["p99_ms"].as_f64());
}

#[test]
fn pack_then_classify_uses_the_embedded_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("packed.onnx");
    let o = ledge(&[
        "pack",
        &demo("fixtures/ppocr-cls-softmax-qdq.onnx"),
        "--manifest",
        &demo("fixtures/ppocr-cls-softmax-qdq.toml"),
        "-o",
        packed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = ledge(&[
        "classify",
        packed.to_str().unwrap(),
        &demo("images/line1_180.png"),
        "--json",
        "--top",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["predictions"][0]["label"], "180°");
}

#[test]
fn budget_check_passes_and_fails_when_a_limit_is_lowered() {
    let dir = tempfile::tempdir().unwrap();
    let budget = dir.path().join("budget.toml");
    let model = demo("ppocr-cls/model.onnx");
    let size = std::fs::metadata(&model).unwrap().len();
    let write = |limit: u64| {
        std::fs::write(&budget, format!("[[artifact]]\nname = \"ppocr\"\npath = \"{model}\"\nmax_bytes = {limit}\nmax_gzip_bytes = {limit}\n")).unwrap();
    };
    write(size);
    let o = ledge(&["budget", "check", budget.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("budget: OK"));

    write(size - 1);
    let o = ledge(&["budget", "check", budget.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("OVER") && stdout(&o).contains("budget: FAILED"),
        "{}",
        stdout(&o)
    );
    let o = ledge(&["budget", "check", budget.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["passed"].as_bool(), v["rows"][0]["status"].as_str()),
        (Some(false), Some("over"))
    );
    let o = ledge(&["budget", "check", budget.to_str().unwrap(), "--markdown"]);
    assert!(stdout(&o).starts_with("| artifact |"), "{}", stdout(&o));

    std::fs::write(
        &budget,
        "[[artifact]]\npath = \"missing.bin\"\nmax_bytes = 1\n",
    )
    .unwrap();
    assert!(stdout(&ledge(&["budget", "check", budget.to_str().unwrap()])).contains("MISSING"));
    // --skip leaves the missing one out (what the test command does with the Pi archives), and a
    // filter that leaves nothing is an error that lists the budget's paths.
    std::fs::write(
        &budget,
        format!("[[artifact]]\npath = \"missing.bin\"\nmax_bytes = 1\n[[artifact]]\npath = \"{model}\"\nmax_bytes = {size}\n"),
    )
    .unwrap();
    let filtered =
        |flag: &str, glob: &str| ledge(&["budget", "check", budget.to_str().unwrap(), flag, glob]);
    let o = filtered("--skip", "missing*");
    assert!(
        o.status.success() && !stdout(&o).contains("MISSING"),
        "{}",
        stdout(&o)
    );
    assert_eq!(filtered("--only", "missing*").status.code(), Some(1));
    assert_clean_error(&filtered("--only", "nothing*"), "leave no artifact");
    std::fs::write(&budget, "not toml [").unwrap();
    assert_clean_error(
        &ledge(&["budget", "check", budget.to_str().unwrap()]),
        "budget",
    );
}

#[test]
fn budget_check_fails_a_library_linked_for_4k_pages() {
    let dir = tempfile::tempdir().unwrap();
    let budget = dir.path().join("budget.toml");
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elf");
    let check = |file: &str| {
        let lib = fixtures.join(file);
        std::fs::write(
            &budget,
            format!(
                "[[artifact]]\nname = \"lib\"\npath = \"{}\"\nmax_bytes = 100_000\nmin_page_align = 16384\n",
                lib.display()
            ),
        )
        .unwrap();
        ledge(&["budget", "check", budget.to_str().unwrap()])
    };
    let o = check("x86_64-align-16384.so");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("16 KiB (min 16 KiB)") && stdout(&o).contains("budget: OK"));

    let o = check("x86_64-align-4096.so");
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("MISALIGNED")
            && stdout(&o).contains("-Wl,-z,max-page-size=16384")
            && stdout(&o).contains("budget: FAILED"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn detect_finds_the_cat_and_the_cup_as_a_table_and_as_json() {
    let model = demo("ssd-mobilenetv2-oid/model.onnx");
    let lines = json_lines(&[
        "detect",
        &model,
        &demo("images/chelsea.png"),
        &demo("images/coffee.png"),
        "--json",
    ]);
    assert_eq!(lines.len(), 2);
    let cat = &lines[0]["detections"][0];
    assert_eq!(cat["label"], "Cat");
    assert!(cat["score"].as_f64().unwrap() >= 0.5, "{cat}");
    assert!(
        cat["boundingBox"]["width"].as_f64().unwrap() > 300.0,
        "{cat}"
    );
    let labels: Vec<&str> = lines[1]["detections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"Coffee cup") || labels.contains(&"Mug"),
        "{labels:?}"
    );
    let o = ledge(&[
        "detect",
        &model,
        &demo("images/chelsea.png"),
        "--max-results",
        "1",
        "--score-threshold",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("1 found") && text.contains("Cat [8]"),
        "{text}"
    );
    let o = ledge(&[
        "detect",
        &demo("efficientnet-lite0/model.onnx"),
        &demo("images/chelsea.png"),
    ]);
    assert_clean_error(&o, "task = \"classify\"");
}

#[test]
fn embed_and_similar_rank_the_mirror_image_first() {
    let model = demo("efficientnet-lite0-embed/model.onnx");
    let o = ledge(&["embed", &model, &demo("images/chelsea.png"), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let values = v["embedding"].as_array().unwrap();
    assert_eq!(values.len(), 1280);
    let norm: f64 = values
        .iter()
        .map(|x| x.as_f64().unwrap().powi(2))
        .sum::<f64>()
        .sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "{norm}");
    let o = ledge(&[
        "similar",
        &model,
        &demo("images/chelsea.png"),
        &demo("images/coffee.png"),
        &demo("images/chelsea_mirror.png"),
        &demo("images/camera.png"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let ranked = v["similar"].as_array().unwrap();
    assert_eq!(ranked.len(), 3);
    assert!(ranked[0]["image"]
        .as_str()
        .unwrap()
        .ends_with("chelsea_mirror.png"));
    assert!(ranked[0]["cosine"].as_f64().unwrap() >= 0.9);
    assert!(ranked[2]["cosine"].as_f64().unwrap() <= 0.4);
}

#[test]
fn keygen_pack_sign_and_verify_with_one_line_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    let o = ledge(&["keygen", "--out", &d("keys")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d("keys/ledge.pub"))
            .unwrap()
            .trim()
            .len(),
        64
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d("keys/ledge.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_clean_error(&ledge(&["keygen", "--out", &d("keys")]), "never overwrites");
    ledge(&["keygen", "--out", &d("other")]);
    let model = demo("ppocr-cls/model.onnx");
    let manifest = demo("ppocr-cls/manifest.toml");
    let o = ledge(&[
        "pack",
        &model,
        "--manifest",
        &manifest,
        "-o",
        &d("signed.onnx"),
        "--sign",
        &d("keys/ledge.key"),
    ]);
    assert!(
        o.status.success() && stdout(&o).contains("signed"),
        "{}",
        stderr(&o)
    );
    let o = ledge(&["verify", &d("signed.onnx"), "--key", &d("keys/ledge.pub")]);
    assert!(
        o.status.success() && stdout(&o).starts_with("ok: "),
        "{}",
        stderr(&o)
    );
    assert_clean_error(
        &ledge(&["verify", &d("signed.onnx"), "--key", &d("other/ledge.pub")]),
        "(untrusted_key)",
    );
    assert_clean_error(
        &ledge(&["verify", &model, "--key", &d("keys/ledge.pub")]),
        "(unsigned)",
    );
    let mut bytes = std::fs::read(d("signed.onnx")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(d("tampered.onnx"), bytes).unwrap();
    assert_clean_error(
        &ledge(&["verify", &d("tampered.onnx"), "--key", &d("keys/ledge.pub")]),
        "(invalid)",
    );
    // The same key as a load option of any command.
    let o = ledge(&[
        "classify",
        &d("signed.onnx"),
        &demo("images/line0_0.png"),
        "--trusted-key",
        &d("keys/ledge.pub"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn store_install_activate_rollback_and_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").to_string_lossy().into_owned();
    let model = demo("ppocr-cls/model.onnx");
    for v in ["1.0.0", "1.1.0"] {
        let o = ledge(&["store", "install", &store, "ocr", v, &model]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_clean_error(
        &ledge(&["store", "install", &store, "ocr", "1.0.0", &model]),
        "installed already",
    );
    assert_clean_error(
        &ledge(&["store", "install", &store, "../evil", "1", &model]),
        "letters, digits",
    );
    assert!(ledge(&["store", "activate", &store, "ocr", "1.0.0"])
        .status
        .success());
    assert!(ledge(&["store", "activate", &store, "ocr", "1.1.0"])
        .status
        .success());
    let o = ledge(&["store", "rollback", &store, "ocr"]);
    assert!(stdout(&o).contains("1.0.0 is active"), "{}", stdout(&o));
    let o = ledge(&["store", "list", &store, "ocr"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["active"], "1.0.0");
    assert_eq!(v["previous"], "1.1.0");

    let images = dir.path().join("baseline");
    std::fs::create_dir(&images).unwrap();
    for f in ["line0_0.png", "line1_0.png", "line2_180.png"] {
        std::fs::copy(demo(&format!("images/{f}")), images.join(f)).unwrap();
    }
    let out = dir.path().join("b.onnx").to_string_lossy().into_owned();
    let o = ledge(&[
        "pack",
        &model,
        "--manifest",
        &demo("ppocr-cls/manifest.toml"),
        "-o",
        &out,
        "--baseline",
        &images.to_string_lossy(),
    ]);
    assert!(
        stdout(&o).contains("baseline of 3 images"),
        "{}",
        stderr(&o)
    );
    let o = ledge(&["inspect", &out, "--json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let b = &v["manifest"]["baseline"];
    assert_eq!(b["samples"], 3);
    assert_eq!(b["classes"].as_array().unwrap().len(), 2);
}

#[test]
fn classify_in_batches_prints_what_single_calls_print() {
    let model = demo("efficientnet-lite0/model.onnx");
    let images: Vec<String> = [
        "chelsea",
        "coffee",
        "camera",
        "chelsea_mirror",
        "coffee_mirror",
    ]
    .iter()
    .map(|i| demo(&format!("images/{i}.png")))
    .collect();
    let run = |batch: &str| {
        let mut args = vec![
            "classify",
            model.as_str(),
            "--json",
            "-k",
            "3",
            "--batch-size",
            batch,
        ];
        args.extend(images.iter().map(String::as_str));
        json_lines(&args)
            .into_iter()
            .map(|v| v["predictions"].clone())
            .collect::<Vec<_>>()
    };
    let single = run("1");
    assert_eq!(single.len(), 5);
    for n in ["2", "4"] {
        let batched = run(n);
        for (b, s) in batched.iter().zip(&single) {
            for (x, y) in b.as_array().unwrap().iter().zip(s.as_array().unwrap()) {
                assert_eq!(x["index"], y["index"]);
                let d = x["score"].as_f64().unwrap() - y["score"].as_f64().unwrap();
                assert!(d.abs() < 1e-6, "batch {n}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn classify_and_detect_raw_camera_frames() {
    // An NV21 frame stored sideways (the upright picture turned 90° counter-clockwise), as
    // Android's camera hands it out with getRotationDegrees() = 90.
    let coffee = demo("vectors/frames/coffee-nv21-90.raw");
    let model = demo("efficientnet-lite0/model.onnx");
    let top = |args: &[&str]| {
        let rows = json_lines(&[&["classify", &model, "--json", "-k", "1"], args].concat());
        let p = &rows[0]["predictions"][0];
        (p["index"].as_u64().unwrap(), p["score"].as_f64().unwrap())
    };
    let upright = top(&[&demo("vectors/frames/coffee.png")]);
    let turned = top(&[&coffee, "--frame", "nv21:129x193:90"]);
    assert_eq!((upright.0, turned.0), (967, 967), "espresso");
    assert!(
        (upright.1 - turned.1).abs() < 0.05,
        "{upright:?} {turned:?}"
    );
    // Not turned, the model sees another picture (a cup from above is espresso either way).
    let sideways = top(&[&coffee, "--frame", "nv21:129x193"]);
    assert!(
        (sideways.1 - turned.1).abs() > 1e-3,
        "{sideways:?} {turned:?}"
    );
    // Boxes come back in the upright frame's pixels: the cat spans the 451-wide upright photo.
    let rows = json_lines(&[
        "detect",
        &demo("ssd-mobilenetv2-oid/model.onnx"),
        &demo("vectors/frames/chelsea-nv21-90.raw"),
        "--frame",
        "nv21:300x451:90",
        "--score-threshold",
        "0.3",
        "--json",
    ]);
    let b = &rows[0]["detections"][0]["boundingBox"];
    assert!(b["width"].as_f64().unwrap() > 380.0, "{b}");
    assert!(b["height"].as_f64().unwrap() < 320.0, "{b}");
    // A file that is not one frame of that size, and a malformed --frame: one clear line each.
    assert_clean_error(
        &ledge(&["classify", &model, &coffee, "--frame", "nv21:128x193:90"]),
        "but a tightly packed nv21 frame of 128×193 has",
    );
    assert_clean_error(
        &ledge(&["classify", &model, &coffee, "--frame", "yuyv:129x193"]),
        "unknown pixel format 'yuyv'",
    );
    assert_clean_error(
        &ledge(&["classify", &model, &coffee, "--frame", "nv21:129x193:45"]),
        "must be 0, 90, 180 or 270",
    );
}
