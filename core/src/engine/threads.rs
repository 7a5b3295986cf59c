//! Threads inside one run: a rayon pool per thread count, shared by every model loaded with that
//! count, installed around each run as tract's executor. tract splits its matrix products over
//! it; Ledge's convolutions compute blocks of output channels side by side
//! ([`for_each_block`]). Every output is computed by the same code in the same order whatever
//! the split, so results are identical to one thread's.
//!
//! Without the `threads` feature (the WebAssembly module) everything runs on the caller's thread.

use crate::error::{Error, Result};
use tract_core::tract_linalg::multithread::Executor;

/// The threads a run uses for `threads` as [`crate::LoadOptions::threads`] gives it (0 = one
/// per core), and the executor to install around each run.
///
/// # Errors
/// [`Error::InvalidArgument`] for more than one thread in a build without threads, or when the
/// operating system refuses to start them.
pub(crate) fn executor(threads: u32) -> Result<(usize, Executor)> {
    let n = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n as usize,
    };
    if n == 1 {
        return Ok((1, Executor::SingleThread));
    }
    pool(n).map(|executor| (n, executor))
}

#[cfg(feature = "threads")]
fn pool(n: usize) -> Result<Executor> {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    static POOLS: Mutex<BTreeMap<usize, Executor>> = Mutex::new(BTreeMap::new());
    // A poisoned lock only means another load panicked while holding it; the map is intact.
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(executor) = pools.get(&n) {
        return Ok(executor.clone());
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
    let executor = Executor::MultiThread(Arc::new(pool));
    pools.insert(n, executor.clone());
    Ok(executor)
}

#[cfg(not(feature = "threads"))]
fn pool(n: usize) -> Result<Executor> {
    Err(Error::InvalidArgument(format!(
        "threads: {n} were asked for, but this build of Ledge runs on one thread (it was built \
         without the `threads` feature, as the WebAssembly module is); set threads to 1"
    )))
}

/// Calls `f(block, out)` for every block and its own part of `out`: `out` split into
/// consecutive parts of `lens[i]` elements. Side by side on the executor installed around the
/// run (by [`crate::engine::Engine::run`]) when it has threads, in order on this thread
/// otherwise.
///
/// # Panics
/// When `lens` sums to more than `out.len()`; a panic in `f` is re-raised on this thread.
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
        if let Executor::MultiThread(pool) =
            tract_core::tract_linalg::multithread::current_tract_executor()
        {
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

/// Runs `f` with `executor` installed as tract's (its matrix products and Ledge's blocks use it).
pub(crate) fn scope<R>(executor: &Executor, f: impl FnOnce() -> R) -> R {
    tract_core::tract_linalg::multithread::multithread_tract_scope(executor.clone(), f)
}
