//! The image formats Ledge decodes besides JPEG and PNG (WebP, BMP, GIF's first frame), and the
//! error for the others, on demo-models/fixtures/formats/ (scripts/make-format-fixtures.py: one
//! 150×100 demo image in each format). Lossless files must classify as the PNG of the same pixels
//! (same top-5 classes, scores within 0.02) and decode to exactly its pixels; lossy WebP must give
//! the same top-1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{load, read};
use ledge::{ClassifyOptions, LoadOptions, Model, Prediction};

const MODEL: &str = "efficientnet-lite0/model.onnx";

fn fixture(name: &str) -> Vec<u8> {
    read(&format!("fixtures/formats/{name}"))
}

fn classify(model: &Model, name: &str) -> Vec<Prediction> {
    model
        .classify_encoded(&fixture(name), &ClassifyOptions::top(5))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn pixels(name: &str, apply_exif_orientation: bool) -> image::RgbImage {
    ledge::vision::decode(&fixture(name), 1 << 24, apply_exif_orientation)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Same top-5 classes in the same order, each score within 0.02.
fn assert_same_classes(got: &[Prediction], want: &[Prediction], what: &str) {
    let index = |p: &[Prediction]| p.iter().map(|p| p.index).collect::<Vec<_>>();
    assert_eq!(index(got), index(want), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.score - w.score).abs() <= 0.02,
            "{what}: class {} scores {} vs {}",
            g.index,
            g.score,
            w.score
        );
    }
}

#[test]
fn lossless_webp_bmp_and_gif_classify_as_the_png() {
    let model = load(MODEL);
    let png = classify(&model, "chelsea.png");
    // A cat (ImageNet 281-285), confidently: the fixture is a meaningful test image.
    assert!(
        (281..=285).contains(&png[0].index) && png[0].score > 0.3,
        "{png:?}"
    );
    for name in [
        "chelsea_lossless.webp",
        "chelsea.bmp",
        "chelsea_orient6.webp",
    ] {
        assert_same_classes(&classify(&model, name), &png, name);
        assert_eq!(pixels(name, true), pixels("chelsea.png", true), "{name}");
    }
    // GIF: 256 colours, compared with a PNG of the same palette pixels; the second frame
    // (coffee) is ignored.
    let png256 = classify(&model, "chelsea_256.png");
    assert_same_classes(
        &classify(&model, "chelsea_animated.gif"),
        &png256,
        "chelsea_animated.gif",
    );
    assert_eq!(
        pixels("chelsea_animated.gif", true),
        pixels("chelsea_256.png", true)
    );
}

#[test]
fn lossy_webp_has_the_pngs_top_class() {
    let model = load(MODEL);
    let png = classify(&model, "chelsea.png");
    let webp = classify(&model, "chelsea_lossy.webp");
    assert_eq!(webp[0].index, png[0].index, "{webp:?} vs {png:?}");
    // Lossy, yet close: the encoder changed the pixels, not the picture.
    let (a, b) = (
        pixels("chelsea_lossy.webp", true),
        pixels("chelsea.png", true),
    );
    assert_eq!(a.dimensions(), b.dimensions());
    let mean_abs = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.as_raw().len() as f64;
    assert!(mean_abs > 0.0 && mean_abs < 8.0, "mean |Δ| = {mean_abs}");
}

#[test]
fn webp_exif_orientation_is_applied_unless_told_otherwise() {
    // Stored 100×150 (turned a quarter counter-clockwise) with Orientation = 6.
    let stored = pixels("chelsea_orient6.webp", false);
    assert_eq!(stored.dimensions(), (100, 150));
    assert_eq!(
        stored,
        image::imageops::rotate270(&pixels("chelsea.png", true))
    );
    let options = LoadOptions {
        apply_exif_orientation: false,
        ..LoadOptions::default()
    };
    let model = Model::from_path(common::demo().join(MODEL), &options).unwrap();
    let sideways = model
        .classify_encoded(&fixture("chelsea_orient6.webp"), &ClassifyOptions::top(5))
        .unwrap();
    let turned = image::imageops::rotate270(&pixels("chelsea.png", true));
    let mut png = Vec::new();
    turned
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let want = model
        .classify_encoded(&png, &ClassifyOptions::top(5))
        .unwrap();
    assert_same_classes(&sideways, &want, "chelsea_orient6.webp as stored");
}

#[test]
fn tiff_is_refused_with_what_to_do() {
    let model = load(MODEL);
    let e = model
        .classify_encoded(&fixture("chelsea.tif"), &ClassifyOptions::top(1))
        .unwrap_err();
    assert_eq!(e.kind(), "ImageDecode");
    let msg = e.to_string();
    for part in [
        "TIFF images are not supported",
        "JPEG, PNG, WebP, BMP and GIF (first frame)",
        "convert it to JPEG or PNG",
    ] {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }
}
