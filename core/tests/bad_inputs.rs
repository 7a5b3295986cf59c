//! The bad-input catalogue: every hostile or mistaken input gets its typed error and a message
//! that says what was expected and what was found. Nothing panics.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{demo, load, read};
use ledge::{Error, LoadOptions, Model, Tensor};

fn load_err(bytes: &[u8]) -> Error {
    match Model::from_bytes(bytes, &LoadOptions::default()) {
        Ok(_) => panic!("loading should fail"),
        Err(e) => e,
    }
}

fn assert_msg(e: &Error, kind: &str, needles: &[&str]) {
    assert_eq!(e.kind(), kind, "{e}");
    for n in needles {
        assert!(e.to_string().contains(n), "'{e}' should mention '{n}'");
    }
}

/// A PNG whose header claims `w × h` pixels and whose (empty) data chunk follows.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn chunk(png: &mut Vec<u8>, body: &[u8]) {
        let mut crc = flate2::Crc::new();
        crc.update(body);
        png.extend((body.len() as u32 - 4).to_be_bytes());
        png.extend(body);
        png.extend(crc.sum().to_be_bytes());
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, &ihdr);
    chunk(&mut png, b"IDAT");
    png
}

#[test]
fn empty_file() {
    assert_msg(&load_err(b""), "ModelFormat", &["empty"]);
}

#[test]
fn truncated_model() {
    let bytes = read("efficientnet-lite0/model.onnx");
    for cut in [16, bytes.len() / 2, bytes.len() - 100] {
        assert_msg(&load_err(&bytes[..cut]), "ModelFormat", &["truncated"]);
    }
}

#[test]
fn random_bytes() {
    let mut state = 7u32;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    assert_eq!(load_err(&noise).kind(), "ModelFormat");
    assert_eq!(load_err(b"definitely not a model").kind(), "ModelFormat");
}

#[test]
fn unsupported_operator_is_named() {
    let e = load_err(&read("fixtures/ppocr-cls-qoperator.onnx"));
    assert!(
        matches!(&e, Error::UnsupportedOperator { op, .. } if op.contains("QLinear")),
        "{e}"
    );
    assert!(e.to_string().contains("other unsupported node"), "{e}");
}

#[test]
fn wrong_input_shape_count_and_dtype() {
    let model = load("ppocr-cls/model.onnx");
    let e = model
        .run(&[Tensor::f32(vec![1, 3, 48, 190], vec![0.0; 3 * 48 * 190]).unwrap()])
        .unwrap_err();
    assert!(
        matches!(&e, Error::InputShape { expected, got, .. } if expected == &[1, 3, 48, 192] && got == &[1, 3, 48, 190])
    );
    assert_msg(
        &e,
        "InputShape",
        &["expected shape [1, 3, 48, 192], got [1, 3, 48, 190]"],
    );

    let e = model
        .run(&[Tensor::u8(vec![1, 3, 48, 192], vec![0; 3 * 48 * 192]).unwrap()])
        .unwrap_err();
    assert_msg(&e, "InputType", &["expected dtype f32, got u8"]);

    assert_msg(
        &model.run(&[]).unwrap_err(),
        "InputCount",
        &["expected 1 input tensor(s), got 0"],
    );
    assert_eq!(model.stats().runs, 0, "failed calls are not counted");
}

#[test]
fn undecodable_and_truncated_images() {
    let model = load("ppocr-cls/model.onnx");
    assert_msg(
        &model
            .classify_encoded(b"GIF89a nope", &ledge::ClassifyOptions::top(1))
            .unwrap_err(),
        "ImageDecode",
        &[],
    );
    assert_msg(
        &model
            .classify_encoded(b"", &ledge::ClassifyOptions::top(1))
            .unwrap_err(),
        "ImageDecode",
        &["empty"],
    );
    let png = read("images/line0_0.png");
    assert_eq!(
        model
            .classify_encoded(&png[..png.len() / 2], &ledge::ClassifyOptions::top(1))
            .unwrap_err()
            .kind(),
        "ImageDecode"
    );
    assert_msg(
        &model
            .classify_encoded(b"\x00\x01\x02\x03", &ledge::ClassifyOptions::top(1))
            .unwrap_err(),
        "ImageDecode",
        &["JPEG or PNG"],
    );
}

#[test]
fn zero_sized_images() {
    let model = load("ppocr-cls/model.onnx");
    assert_msg(
        &model
            .classify_rgba(&[], 0, 10, &ledge::ClassifyOptions::top(1))
            .unwrap_err(),
        "ImageDecode",
        &["0×10", "no pixels"],
    );
    assert_eq!(
        model
            .classify_encoded(&png_header(0, 5), &ledge::ClassifyOptions::top(1))
            .unwrap_err()
            .kind(),
        "ImageDecode"
    );
}

#[test]
fn oversize_dimensions_are_refused_before_allocating() {
    let model = load("ppocr-cls/model.onnx");
    // 100 000 × 100 000 RGB would need 30 GB: refused from the 33-byte header alone.
    let e = model
        .classify_encoded(
            &png_header(100_000, 100_000),
            &ledge::ClassifyOptions::top(1),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::LimitExceeded {
                limit: ledge::Limit::MaxImagePixels,
                value: 10_000_000_000,
                ..
            }
        ),
        "{e}"
    );
    let e = model
        .classify_rgba(&[0; 4], 70_000, 70_000, &ledge::ClassifyOptions::top(1))
        .unwrap_err();
    assert_msg(&e, "LimitExceeded", &["max_image_pixels is 4900000000"]);

    let mut options = LoadOptions::default();
    options.limits.max_model_bytes = 1000;
    let e = Model::from_path(demo().join("ppocr-cls/model.onnx"), &options)
        .err()
        .unwrap();
    assert_msg(&e, "LimitExceeded", &["max_model_bytes"]);
    options = LoadOptions::default();
    options.limits.max_tensor_elements = 100;
    let small = Model::from_path(demo().join("ppocr-cls/model.onnx"), &options).unwrap();
    let e = small
        .run(&[Tensor::f32(vec![1, 3, 48, 192], vec![0.0; 3 * 48 * 192]).unwrap()])
        .unwrap_err();
    assert_msg(&e, "LimitExceeded", &["max_tensor_elements is 27648"]);
}

#[test]
fn bad_arguments() {
    let model = load("ppocr-cls/model.onnx");
    let png = read("images/line0_0.png");
    assert_msg(
        &model
            .classify_encoded(&png, &ledge::ClassifyOptions::top(0))
            .unwrap_err(),
        "InvalidArgument",
        &["max_results must be at least 1, got 0"],
    );
    assert_msg(
        &model
            .classify_rgba(&[0; 15], 2, 2, &ledge::ClassifyOptions::top(1))
            .unwrap_err(),
        "InvalidArgument",
        &["needs 16 bytes, got 15"],
    );
    assert_eq!(
        model
            .classify_encoded(&png, &ledge::ClassifyOptions::top(100))
            .unwrap()
            .len(),
        2,
        "k is capped at the class count"
    );
}

#[test]
fn missing_file_is_io() {
    let e = Model::from_path(demo().join("no-such-model.onnx"), &LoadOptions::default())
        .err()
        .unwrap();
    assert_msg(&e, "Io", &["no-such-model.onnx"]);
}

#[test]
fn classify_without_a_manifest_says_how_to_add_one() {
    // The fixture's sidecar is not used when loading from bytes.
    let model = Model::from_bytes(
        &read("fixtures/ppocr-cls-softmax-qdq.onnx"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert!(model.info().manifest.is_none());
    let e = model
        .classify_encoded(&read("images/line0_0.png"), &ledge::ClassifyOptions::top(1))
        .unwrap_err();
    assert_msg(&e, "Manifest", &["no manifest", "ledge pack"]);
}

#[test]
fn a_manifest_that_does_not_fit_the_model() {
    let mut m = ledge::Manifest::from_path(demo().join("ppocr-cls/manifest.toml")).unwrap();
    m.output.labels.push("90°".into());
    let options = LoadOptions {
        manifest: Some(m),
        ..LoadOptions::default()
    };
    // It loads (run and info do not depend on the manifest); every task call says why not.
    let model = Model::from_path(demo().join("ppocr-cls/model.onnx"), &options).unwrap();
    let problem = model.manifest_problem().unwrap();
    assert!(problem.contains("3 labels"), "{problem}");
    let e = model
        .classify_encoded(
            &std::fs::read(demo().join("images/line0_0.png")).unwrap(),
            &ledge::ClassifyOptions::top(1),
        )
        .unwrap_err();
    assert_msg(&e, "Manifest", &["3 labels", "2 classes"]);
}

#[test]
fn sha256_mismatch_in_a_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        demo().join("fixtures/ppocr-cls-softmax-qdq.onnx"),
        dir.path().join("m.onnx"),
    )
    .unwrap();
    std::fs::copy(
        demo().join("ppocr-cls/labels.txt"),
        dir.path().join("labels.txt"),
    )
    .unwrap();
    let sidecar =
        std::fs::read_to_string(demo().join("fixtures/ppocr-cls-softmax-qdq.toml")).unwrap();
    let sidecar = sidecar.replace("../ppocr-cls/labels.txt", "labels.txt");
    let wrong = format!("sha256 = \"{}\"\n{sidecar}", "0".repeat(64));
    std::fs::write(dir.path().join("m.toml"), wrong).unwrap();
    let e = Model::from_path(dir.path().join("m.onnx"), &LoadOptions::default())
        .err()
        .unwrap();
    assert_msg(&e, "Integrity", &[&"0".repeat(64)]);

    let right = format!(
        "sha256 = \"{}\"\n{sidecar}",
        ledge::sha256_hex(&read("fixtures/ppocr-cls-softmax-qdq.onnx"))
    );
    std::fs::write(dir.path().join("m.toml"), right).unwrap();
    let model = Model::from_path(dir.path().join("m.onnx"), &LoadOptions::default()).unwrap();
    assert_eq!(
        model.info().manifest_source,
        Some(ledge::ManifestSource::Sidecar)
    );
}

#[test]
fn sha256_mismatch_in_a_packed_model() {
    let mut bytes = read("ppocr-cls/model.onnx");
    // Flip one bit inside the weights, far from the manifest at the end.
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    let e = load_err(&bytes);
    assert_eq!(e.kind(), "Integrity", "{e}");
    // Opting out of the check loads the damaged model: the check is what caught it.
    let skip = LoadOptions {
        verify_integrity: false,
        ..LoadOptions::default()
    };
    Model::from_bytes(&bytes, &skip).unwrap();
}

/// A one-node graph: `ConstantOfShape(shape)` with `shape` an int64 initializer, f32 output.
fn constant_of_shape_model(shape: &[i64]) -> Vec<u8> {
    use prost::Message;
    use tract_onnx::pb::*;
    let dims = TensorProto {
        name: "dims".into(),
        dims: vec![shape.len() as i64],
        data_type: tensor_proto::DataType::Int64 as i32,
        int64_data: shape.to_vec(),
        ..Default::default()
    };
    let node = NodeProto {
        name: "fill".into(),
        op_type: "ConstantOfShape".into(),
        input: vec!["dims".into()],
        output: vec!["y".into()],
        ..Default::default()
    };
    let output = ValueInfoProto {
        name: "y".into(),
        ..Default::default()
    };
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        graph: Some(GraphProto {
            name: "hostile".into(),
            node: vec![node],
            initializer: vec![dims],
            output: vec![output],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

#[test]
fn a_graph_that_plans_terabytes_is_refused_before_allocating() {
    // 2²⁰ × 2²⁰ f32 = 4 TiB from a 60-byte model.
    let e = load_err(&constant_of_shape_model(&[1 << 20, 1 << 20]));
    assert!(
        matches!(
            e,
            Error::LimitExceeded {
                limit: ledge::Limit::MaxPlanBytes,
                ..
            }
        ),
        "{e}"
    );
    // The same graph, small, loads: the limit is what refused it.
    Model::from_bytes(&constant_of_shape_model(&[2, 3]), &LoadOptions::default()).unwrap();

    let mut options = LoadOptions::default();
    options.limits.max_plan_bytes = 500_000;
    let e = Model::from_path(demo().join("ppocr-cls/model.onnx"), &options)
        .err()
        .unwrap();
    assert_msg(
        &e,
        "LimitExceeded",
        &[
            "max_plan_bytes",
            "needs about 1 MiB at its peak",
            "the maximum is 500000",
        ],
    );
}

/// A reproducer the load_model fuzz target found (fuzz/regressions/load_model/).
fn load_model_regression(name: &str) -> Vec<u8> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/load_model");
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn a_graph_tract_panics_on_is_a_model_format_error() {
    // Found by the load_model fuzz target: a Conv whose strides/pads ranks disagree makes
    // tract 0.23.9 index out of bounds while it infers shapes. The panic stays inside Ledge.
    assert_msg(
        &load_err(&load_model_regression("tract-padding-rank-panic.onnx")),
        "ModelFormat",
        &["the engine failed on this input"],
    );
}

#[test]
fn a_transpose_perm_that_is_not_a_permutation_is_refused() {
    // Found by the load_model fuzz target: tract 0.23.9 turns perm [0, 0] into an endless list
    // of axis moves and allocated 2 GiB before it died. Refused before tract sees the graph.
    assert_msg(
        &load_err(&load_model_regression(
            "transpose-perm-not-permutation-oom.onnx",
        )),
        "ModelFormat",
        &["Transpose 't': perm [0, 0] is not a permutation of 0..2"],
    );
}

#[test]
fn a_negative_constant_shape_is_refused() {
    // Found by the load_model fuzz target: ConstantOfShape of [-3314649325677576189, 2], which
    // tract reads as unsigned; with debug assertions the analysis ran past the 10 s timeout.
    assert_msg(
        &load_err(&load_model_regression(
            "negative-constant-shape-timeout.onnx",
        )),
        "ModelFormat",
        &["ConstantOfShape 'c': negative dimension -3314649325677576189"],
    );
}

#[test]
fn an_absurd_resize_scale_is_refused() {
    // Found by the load_model fuzz target: Resize scales [1, 1, 5.9e-39, 5.4e16] empty one
    // dimension and blow up another; tract's MaxPool shape arithmetic then asked for 5e18 bytes.
    assert_msg(
        &load_err(&load_model_regression("resize-scale-5e16-huge-alloc.onnx")),
        "ModelFormat",
        &["Resize 'r': scale 5.877472e-39 is outside [1/65536, 65536]"],
    );
}

#[test]
fn hostile_npy_headers_fail_fast() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/npy");
    // Found by the npy fuzz target: nested brackets made the header parser run for minutes.
    let started = std::time::Instant::now();
    let hang = std::fs::read(dir.join("nested-brackets-hang.npy")).unwrap();
    assert_msg(
        &ledge_cli::npy::read(&hang).unwrap_err(),
        "InvalidArgument",
        &["structured"],
    );
    // A 2^40-element shape over 16 bytes of data: refused before allocating for it.
    let huge = std::fs::read(dir.join("terabyte-shape-16-bytes.npy")).unwrap();
    assert_msg(
        &ledge_cli::npy::read(&huge).unwrap_err(),
        "InvalidArgument",
        &["needs 4398046511104 bytes of data, the file has 16"],
    );
    assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
}

/// Issue 14: a batch model used to give one softmax over the flattened N×C output (one wrong
/// list); classify now refuses it, and run serves the batch.
#[test]
fn classify_refuses_a_batch_instead_of_mixing_its_rows() {
    // The demo graph declares batch 1; pin 4 rows as an app would for a batch model.
    let options = LoadOptions {
        input_shapes: Some(vec![vec![4, 3, 48, 192]]),
        ..LoadOptions::default()
    };
    let model = Model::from_path(demo().join("ppocr-cls/model.onnx"), &options).unwrap();
    let one = load("ppocr-cls/model.onnx")
        .preprocess_encoded(&read("images/line0_0.png"))
        .unwrap();
    let data = one.as_f32().unwrap().repeat(4);
    let batch = Tensor::f32(vec![4, 3, 48, 192], data).unwrap();
    let e = model
        .classify_tensor(&batch, &ledge::ClassifyOptions::default())
        .unwrap_err();
    assert!(
        matches!(&e, ledge::Error::TaskMismatch { task: "classify", reason } if reason.contains("4 rows")),
        "{e}"
    );
    let out = model.run(&[batch]).unwrap();
    assert_eq!(out[0].shape(), &[4, 2]);
}

/// Issue 14: a manifest given in the options was not validated, and `mean = []` reached an
/// index panic in the normalization; every manifest is validated at load now.
#[test]
fn a_manifest_from_the_options_is_validated_like_any_other() {
    let mut manifest = ledge::Manifest::from_path(demo().join("ppocr-cls/manifest.toml")).unwrap();
    manifest.input.normalize = ledge::manifest::Normalize::MeanStd {
        mean: vec![],
        std: vec![1.0],
    };
    let options = LoadOptions {
        manifest: Some(manifest),
        ..LoadOptions::default()
    };
    let e = Model::from_path(demo().join("ppocr-cls/model.onnx"), &options)
        .err()
        .unwrap();
    assert_msg(
        &e,
        "Manifest",
        &["normalize.mean needs 1 or 3 values, got 0"],
    );
}

/// Issue 14: an output declared `probabilities` that is not one is refused, never returned as
/// "probabilities" outside [0, 1].
#[test]
fn logits_declared_as_probabilities_are_refused() {
    let mut manifest =
        ledge::Manifest::from_path(demo().join("efficientnet-lite0/manifest.toml")).unwrap();
    manifest.output.kind = ledge::manifest::OutputKind::Probabilities;
    manifest.sha256 = None;
    let options = LoadOptions {
        manifest: Some(manifest),
        ..LoadOptions::default()
    };
    let model = Model::from_path(demo().join("efficientnet-lite0/model.onnx"), &options).unwrap();
    let e = model
        .classify_encoded(
            &read("images/chelsea.png"),
            &ledge::ClassifyOptions::default(),
        )
        .unwrap_err();
    assert_msg(&e, "Manifest", &["declare kind = \"logits\""]);
}
