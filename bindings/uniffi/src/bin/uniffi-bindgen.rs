//! The uniffi-bindgen pinned to this crate's uniffi version: generates the Swift and Python
//! sources from the built library (`scripts/gen-bindings.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
