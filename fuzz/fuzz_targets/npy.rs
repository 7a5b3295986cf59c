//! Any bytes as a `.npy` tensor; whatever parses must write back to the same tensor.
#![no_main]

use ledge_cli::npy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(tensor) = npy::read(bytes) {
        let again = npy::read(&npy::write(&tensor)).expect("written .npy parses");
        assert_eq!(tensor.shape(), again.shape());
        assert_eq!(tensor.dtype(), again.dtype());
    }
});
