//! `LoadOptions::threads`: every demo model gives bit-identical outputs on 1, 2 and 3 threads
//! (Ledge's int8 and depthwise kernels split output channels between threads), on Ledge's
//! kernels, tract's, and the portable int8 path.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::demo;
use ledge::{DType, LoadOptions, Model, Tensor};

const MODELS: [&str; 5] = [
    "efficientnet-lite0",
    "efficientnet-lite0-embed",
    "ppocr-cls",
    "ssd-mobilenetv2-oid",
    "blazeface-short-range",
];

/// A fixed pseudo-random f32 input in [-1, 1) for every input of `model`.
fn inputs(model: &Model) -> Vec<Tensor> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    model
        .info()
        .inputs
        .iter()
        .map(|spec| {
            assert_eq!(spec.dtype, DType::F32, "{}", spec.name);
            let shape = spec.dims();
            let data = (0..shape.iter().product::<usize>())
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 40) as f32 / (1u64 << 23) as f32 - 1.0
                })
                .collect();
            Tensor::f32(shape, data).unwrap()
        })
        .collect()
}

fn outputs(name: &str, options: &LoadOptions) -> Vec<Tensor> {
    let path = demo().join(name).join("model.onnx");
    let model = Model::from_path(&path, options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let inputs = inputs(&model);
    model.run(&inputs).unwrap()
}

#[test]
fn every_demo_model_gives_the_same_bits_on_any_thread_count() {
    for base in [
        LoadOptions::default(),
        LoadOptions {
            ledge_kernels: false,
            ..LoadOptions::default()
        },
        LoadOptions {
            isa: Some("portable".into()),
            ..LoadOptions::default()
        },
    ] {
        for name in MODELS {
            let one = outputs(name, &base);
            assert!(!one.is_empty());
            for threads in [2, 3, 0] {
                let many = outputs(
                    name,
                    &LoadOptions {
                        threads,
                        ..base.clone()
                    },
                );
                assert!(
                    one == many,
                    "{name} (kernels {}, isa {:?}): {threads} threads differ from one",
                    base.ledge_kernels,
                    base.isa
                );
            }
        }
    }
}

/// Models loaded with the same count share one pool; several runs at once on it are fine.
#[test]
fn concurrent_runs_on_a_shared_pool_agree() {
    let options = LoadOptions {
        threads: 2,
        ..LoadOptions::default()
    };
    let expected = outputs("efficientnet-lite0", &LoadOptions::default());
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..3)
            .map(|_| s.spawn(|| outputs("efficientnet-lite0", &options)))
            .collect();
        for run in runs {
            assert!(run.join().unwrap() == expected);
        }
    });
}
