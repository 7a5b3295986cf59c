//! Any bytes as an encoded image, classified by a tiny model whose manifest crops, resizes and
//! normalizes like the demo models; and the same bytes as raw RGBA of a size they choose.
#![no_main]

use std::sync::OnceLock;

use ledge::{LoadOptions, Manifest, Model};
use libfuzzer_sys::fuzz_target;

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut options = LoadOptions {
            manifest: Some(Manifest::from_toml(include_str!("../tiny.toml")).expect("tiny.toml")),
            ..LoadOptions::default()
        };
        options.limits.max_image_pixels = 1 << 22;
        Model::from_bytes(
            include_bytes!("../seeds/models/tiny_classifier.onnx"),
            &options,
        )
        .expect("the tiny classifier loads")
    })
}

fuzz_target!(|bytes: &[u8]| {
    ledge_fuzz::quiet_caught_panics();
    let model = model();
    let _ = model.classify_encoded(bytes, &ledge::ClassifyOptions::top(3));
    if let [w, h, rest @ ..] = bytes {
        let _ = model.classify_rgba(rest, u32::from(*w), u32::from(*h), &ledge::ClassifyOptions::top(2));
    }
});
