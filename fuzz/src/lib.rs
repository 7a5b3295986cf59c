//! What the fuzz targets share.

/// libfuzzer-sys's panic hook aborts on every panic, even one the core catches and turns into
/// an error (its contract for assertions inside tract and the image decoders). A silent hook
/// leaves only the panics that escape the call: the fuzz target's own catch_unwind still aborts
/// on those.
pub fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}
