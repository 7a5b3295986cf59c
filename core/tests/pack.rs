//! `pack`: the manifest travels inside the model, and its digest covers the model as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{demo, read};
use ledge::{LoadOptions, Manifest, ManifestSource, Model};

#[test]
fn pack_embeds_the_manifest_and_is_idempotent() {
    let original = read("fixtures/ppocr-cls-softmax-qdq.onnx");
    let manifest = Manifest::from_path(demo().join("fixtures/ppocr-cls-softmax-qdq.toml")).unwrap();
    let packed = ledge::pack(&original, &manifest).unwrap();
    assert!(
        packed.starts_with(&original),
        "the model bytes are kept as they are"
    );

    let model = Model::from_bytes(&packed, &LoadOptions::default()).unwrap();
    let info = model.info();
    assert_eq!(info.manifest_source, Some(ManifestSource::Embedded));
    let embedded = info.manifest.as_ref().unwrap();
    assert_eq!(
        embedded.sha256.as_deref(),
        Some(ledge::sha256_hex(&original).as_str())
    );
    assert_eq!(embedded.output.labels, vec!["0°", "180°"]);
    assert_eq!(embedded.output.labels_file, None);

    // Packing again (with another manifest) replaces the manifest instead of stacking one more.
    let mut renamed = manifest.clone();
    renamed.version = "1.0.0-rc1".into();
    let repacked = ledge::pack(&packed, &renamed).unwrap();
    assert_eq!(
        repacked.len() - packed.len(),
        4,
        "only the version string grew"
    );
    let model = Model::from_bytes(&repacked, &LoadOptions::default()).unwrap();
    assert_eq!(model.info().manifest.as_ref().unwrap().version, "1.0.0-rc1");
    assert_eq!(ledge::pack(&repacked, &manifest).unwrap(), packed);
}

#[test]
fn the_demo_models_are_packed() {
    for name in ["efficientnet-lite0", "ppocr-cls"] {
        let model = common::load(&format!("{name}/model.onnx"));
        let m = model.info().manifest.as_ref().unwrap();
        assert_eq!(m.name, name);
        assert!(m.sha256.is_some(), "{name} carries its digest");
    }
}

#[test]
fn the_options_manifest_wins_over_the_embedded_one() {
    let mut m = Manifest::from_path(demo().join("ppocr-cls/manifest.toml")).unwrap();
    m.output.labels = vec!["upright".into(), "upside down".into()];
    let options = LoadOptions {
        manifest: Some(m),
        ..LoadOptions::default()
    };
    let model = Model::from_path(demo().join("ppocr-cls/model.onnx"), &options).unwrap();
    assert_eq!(model.info().manifest_source, Some(ManifestSource::Options));
    let top = model
        .classify_path(
            demo().join("images/line2_180.png"),
            &ledge::ClassifyOptions::top(1),
        )
        .unwrap();
    assert_eq!(top[0].label.as_deref(), Some("upside down"));
}
