//! Any bytes as a model: load with tight limits and, when it loads, run it on zeros.
//! Must never panic, abort, hang or allocate beyond the limits.
#![no_main]

use ledge::{LoadOptions, Model, Tensor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    ledge_fuzz::quiet_caught_panics();
    let mut options = LoadOptions::default();
    options.limits.max_plan_bytes = 64 << 20;
    options.limits.max_tensor_elements = 1 << 20;
    let Ok(model) = Model::from_bytes(bytes, &options) else {
        return;
    };
    let inputs: Option<Vec<Tensor>> = model
        .info()
        .inputs
        .iter()
        .map(|spec| {
            let shape: Vec<usize> = spec
                .shape
                .iter()
                .map(|&d| usize::try_from(d).ok())
                .collect::<Option<_>>()?;
            let small = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))? <= 1 << 20;
            small
                .then(|| Tensor::zeros(spec.dtype, shape).ok())
                .flatten()
        })
        .collect();
    if let Some(inputs) = inputs {
        let _ = model.run(&inputs);
    }
});
