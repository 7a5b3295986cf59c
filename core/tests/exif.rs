//! Phone photos stored rotated with an EXIF Orientation tag (demo-models/fixtures/exif/, from
//! the field cases): classified as viewers show them by default, as stored with
//! `apply_exif_orientation: false`. Top-1 must match onnxruntime's on Pillow's
//! `ImageOps.exif_transpose` output; the score within 0.1, since Pillow's libjpeg and Ledge's
//! JPEG decoder round the inverse DCT differently (a few levels per pixel).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{demo, read};
use ledge::{ClassifyOptions, LoadOptions, Model};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    image: String,
    model: String,
    as_viewed_top1: (u32, f32),
    ignoring_exif_top1: (u32, f32),
}

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[test]
fn photos_are_classified_as_viewed_unless_told_otherwise() {
    let cases: Cases = serde_json::from_slice(&read("fixtures/exif/expected.json")).unwrap();
    assert_eq!(cases.cases.len(), 4);
    for apply in [true, false] {
        let options = LoadOptions {
            apply_exif_orientation: apply,
            ..LoadOptions::default()
        };
        for case in &cases.cases {
            let model = Model::from_path(demo().join(&case.model), &options).unwrap();
            let top = model
                .classify_encoded(&read(&case.image), &ClassifyOptions::top(1))
                .unwrap();
            let (index, score) = if apply {
                case.as_viewed_top1
            } else {
                case.ignoring_exif_top1
            };
            assert_eq!(
                top[0].index, index,
                "{} (exif applied: {apply})",
                case.image
            );
            assert!(
                (top[0].score - score).abs() < 0.1,
                "{} (exif applied: {apply}): {} vs {score}",
                case.image,
                top[0].score
            );
        }
    }
}
