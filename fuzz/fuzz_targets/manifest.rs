//! Any text as a manifest, both ways a model gets one: as a sidecar (`Manifest::from_toml`) and
//! embedded in a model's `metadata_props` (appended to a tiny model as `ledge pack` does).
#![no_main]

use ledge::{LoadOptions, Manifest, Model};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tract_onnx::pb::{ModelProto, StringStringEntryProto};

const MODEL: &[u8] = include_bytes!("../seeds/models/tiny_classifier.onnx");

fuzz_target!(|bytes: &[u8]| {
    ledge_fuzz::quiet_caught_panics();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(manifest) = Manifest::from_toml(text) {
        let _ = manifest.validate();
        let _ = Manifest::from_toml(&manifest.to_toml());
    }
    // A metadata entry appended to the serialized model is merged into `metadata_props`.
    let entry = ModelProto {
        metadata_props: vec![StringStringEntryProto {
            key: "ledge.manifest".into(),
            value: text.into(),
        }],
        ..Default::default()
    };
    let mut packed = MODEL.to_vec();
    packed.extend(entry.encode_to_vec());
    if let Ok(model) = Model::from_bytes(&packed, &LoadOptions::default()) {
        let _ = model.classify_rgba(&[128; 4 * 16 * 16], 16, 16, 5);
    }
});
