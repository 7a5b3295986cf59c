//! Threads inside one run: a rayon pool per thread count, shared by every model loaded with that
//! count, installed (in a thread-local) around each run; Ledge's convolutions compute blocks of
//! output channels side by side on it ([`for_each_block`]). Every output is computed by the
//! same code in the same order whatever the split, so results are identical to one thread's.
//! tract's own operators stay on the calling thread: tract-linalg's `multithread-mm` added
//! ~4.5 MB to every native library.
//!
//! Without the `threads` feature (the WebAssembly module) everything runs on the caller's thread.

use crate::error::{Error, Result};

#[cfg(feature = "threads")]
pub(crate) type Pool = Option<std::sync::Arc<rayon::ThreadPool>>;
#[cfg(not(feature = "threads"))]
pub(crate) type Pool = ();

#[cfg(feature = "threads")]
thread_local! {
    static CURRENT: std::cell::RefCell<Pool> = const { std::cell::RefCell::new(None) };
}

/// The threads a run uses for `threads` as [`crate::LoadOptions::threads`] gives it (0 = one
/// per core), and the pool to install around each run.
///
/// # Errors
/// [`Error::InvalidArgument`] for more than one thread in a build without threads, or when the
/// operating system refuses to start them.
pub(crate) fn pool(threads: u32) -> Result<(usize, Pool)> {
    let n = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n as usize,
    };
    shared_pool(n).map(|pool| (n, pool))
}

#[cfg(feature = "threads")]
fn shared_pool(n: usize) -> Result<Pool> {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    static POOLS: Mutex<BTreeMap<usize, Arc<rayon::ThreadPool>>> = Mutex::new(BTreeMap::new());
    if n == 1 {
        return Ok(None);
    }
    // A poisoned lock only means another load panicked while holding it; the map is intact.
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = pools.get(&n) {
        return Ok(Some(pool.clone()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("ledge-{i}"))
        .build()
        .map_err(|e| {
            Error::InvalidArgument(format!(
                "threads: could not start {n} threads ({e}); ask for fewer"
            ))
        })?;
    let pool = Arc::new(pool);
    pools.insert(n, pool.clone());
    Ok(Some(pool))
}

#[cfg(not(feature = "threads"))]
fn shared_pool(n: usize) -> Result<Pool> {
    if n == 1 {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "threads: {n} were asked for, but this build of Ledge runs on one thread (it was built \
         without the `threads` feature, as the WebAssembly module is); set threads to 1"
    )))
}

/// Calls `f(block, out)` for every block and its own part of `out`: `out` split into
/// consecutive parts of `lens(block)` elements. Side by side on the pool installed around the
/// run (by [`scope`]) when there is one, in order on this thread otherwise.
///
/// # Panics
/// When the lengths sum to more than `out.len()`; a panic in `f` is re-raised on this thread.
pub(crate) fn for_each_block<B: Sync, T: Send>(
    blocks: &[B],
    lens: impl Fn(&B) -> usize,
    out: &mut [T],
    f: impl Fn(&B, &mut [T]) + Sync,
) {
    let mut parts = Vec::with_capacity(blocks.len());
    let mut rest = out;
    for b in blocks {
        let (part, tail) = rest.split_at_mut(lens(b));
        parts.push((b, part));
        rest = tail;
    }
    #[cfg(feature = "threads")]
    if parts.len() > 1 {
        if let Some(pool) = CURRENT.with_borrow(|p| p.clone()) {
            let f = &f;
            let mut parts = parts.into_iter();
            // This thread computes the first block itself instead of waiting for a worker.
            pool.in_place_scope(|s| {
                let first = parts.next();
                for (b, part) in parts {
                    s.spawn(move |_| f(b, part));
                }
                if let Some((b, part)) = first {
                    f(b, part);
                }
            });
            return;
        }
    }
    for (b, part) in parts {
        f(b, part);
    }
}

/// Runs `f` with `pool` installed for [`for_each_block`] on this thread (restored after, also
/// when `f` panics).
pub(crate) fn scope<R>(pool: &Pool, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "threads")]
    {
        struct Restore(Pool);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.set(self.0.take());
            }
        }
        let _restore = Restore(CURRENT.replace(pool.clone()));
        f()
    }
    #[cfg(not(feature = "threads"))]
    {
        let &() = pool;
        f()
    }
}
