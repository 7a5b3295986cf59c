//! `Model::profile`: every MAC of the plan is accounted for, shares add up, the int8 truth is a
//! fraction, and profiling runs do not count as inferences.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{load, read};

#[test]
fn profile_accounts_for_the_plan() {
    let model = load("ppocr-cls/model.onnx");
    let input = model
        .preprocess_encoded(&read("images/line0_0.png"))
        .unwrap();
    let profile = model.profile(&[input], 5).unwrap();
    assert_eq!(profile.runs, 5);
    assert!(profile.total_ms > 0.0);
    let share: f64 = profile.ops.iter().map(|o| o.share).sum();
    assert!((share - 1.0).abs() < 1e-9, "shares add up to {share}");
    assert!(
        profile.ops.windows(2).all(|w| w[0].ms >= w[1].ms),
        "slowest first"
    );
    // The optimized plan does the work the ONNX graph describes, give or take what tract's
    // rewrites add (scaling and bias products: +2.6 % on this model).
    let ratio = profile.macs as f64 / model.info().macs as f64;
    assert!(
        (0.97..1.05).contains(&ratio),
        "plan MACs / graph MACs = {ratio}"
    );
    assert_eq!(
        profile.integer_macs,
        profile.ops.iter().map(|o| o.integer_macs).sum::<u64>()
    );
    assert!((0.0..=1.0).contains(&profile.integer_mac_fraction()));
    let table = profile.to_table();
    assert!(table.contains("in integer kernels"), "{table}");
    assert_eq!(
        model.stats().runs,
        0,
        "profiling is not counted as inference"
    );
}

/// The int8 truth on the QDQ demo models: with Ledge's integer kernels (the default) and a fast
/// int8 matrix product on this CPU, the convolutions' MACs run in integers (the rest: squeeze-excite scalings and the classifier,
/// 7 % of PP-OCR's MACs, 0.7 % of EfficientNet's); with `ledge_kernels: false` (tract alone)
/// none do.
#[test]
fn quantized_models_run_their_macs_in_ledge_kernels() {
    for (rel, image) in [
        ("ppocr-cls/model.onnx", "images/line0_0.png"),
        ("efficientnet-lite0/model.onnx", "images/chelsea.png"),
    ] {
        for ledge_kernels in [true, false] {
            let options = ledge::LoadOptions {
                ledge_kernels,
                ..ledge::LoadOptions::default()
            };
            let model = ledge::Model::from_path(common::demo().join(rel), &options).unwrap();
            let input = model.preprocess_encoded(&read(image)).unwrap();
            let fraction = model.profile(&[input], 1).unwrap().integer_mac_fraction();
            if ledge_kernels && ledge::int8_matmul_kernel().is_some() {
                assert!(fraction > 0.9, "{rel}: {fraction}");
            } else if ledge_kernels {
                // Only the depthwise convolutions: the rest stays in tract's float kernels.
                assert!(fraction > 0.0, "{rel} (depthwise only): {fraction}");
            } else {
                assert!(fraction < 0.05, "{rel} in float: {fraction}");
            }
        }
    }
}
