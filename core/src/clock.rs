//! The monotonic clock behind the latency statistics.
//!
//! `std::time::Instant::now()` panics on `wasm32-unknown-unknown` (that std has no clock; time
//! comes from JavaScript), so on that target the clock is a function the binding registers with
//! [`set_clock`] (`ledge-wasm` registers `performance.now()`). Until one is registered, latencies
//! there read as 0. Every other target uses `std::time::Instant` and ignores [`set_clock`].

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub(crate) use std::time::Instant;

/// Registers the clock used for latency statistics on targets whose std has none
/// (`wasm32-unknown-unknown`): a function returning monotonic milliseconds. The first
/// registration wins; on other targets this does nothing.
pub fn set_clock(now_ms: fn() -> f64) {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    let _ = wasm::CLOCK.set(now_ms);
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    let _ = now_ms;
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub(crate) use wasm::Instant;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod wasm {
    use std::sync::OnceLock;
    use std::time::Duration;

    pub(super) static CLOCK: OnceLock<fn() -> f64> = OnceLock::new();

    /// A point in time, in the registered clock's milliseconds.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Instant(f64);

    impl Instant {
        pub(crate) fn now() -> Instant {
            Instant(CLOCK.get().map_or(0.0, |now| now()))
        }

        pub(crate) fn elapsed(&self) -> Duration {
            Duration::from_secs_f64((Instant::now().0 - self.0).max(0.0) / 1e3)
        }
    }
}
