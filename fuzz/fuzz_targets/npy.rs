//! Any bytes as a `.npy` tensor; whatever parses must write back to the same tensor.
#![no_main]

use ledge::Tensor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(tensor) = Tensor::from_npy(bytes) {
        let again = Tensor::from_npy(&tensor.to_npy()).expect("written .npy parses");
        assert_eq!(tensor.shape(), again.shape());
        assert_eq!(tensor.dtype(), again.dtype());
    }
});
