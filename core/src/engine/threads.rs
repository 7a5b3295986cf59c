//! Threads inside one run: Ledge's convolutions compute blocks of output channels side by side
//! ([`for_each_block`]). Every output is computed by the same code in the same order whatever
//! the split, so results are identical to one thread's. tract's own operators stay on the
//! calling thread: tract-linalg's `multithread-mm` added ~4.5 MB to every native library.
//!
//! The workers of a thread count are shared by every model loaded with that count. They sleep
//! between runs, are woken once when a run starts ([`scope`]) and spin for the length of the
//! run, so that each convolution hands its blocks over in well under a microsecond (a pool that
//! sleeps between operators — rayon's — paid a wake-up per operator, ~1.5 ms per EfficientNet
//! run on a 2-vCPU VM, and two threads were slower than one). The calling thread never waits
//! for a worker to arrive: it claims blocks like the workers do and computes whatever nobody
//! else took, so a late or busy worker costs speed, never correctness. A run that starts while
//! another run has the workers runs on its own thread.
//!
//! Without the `threads` feature (the WebAssembly module) everything runs on the caller's thread.

use crate::error::{Error, Result};

#[cfg(feature = "threads")]
pub(crate) type Pool = Option<std::sync::Arc<team::Team>>;
#[cfg(not(feature = "threads"))]
pub(crate) type Pool = ();

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
    static POOLS: Mutex<BTreeMap<usize, Arc<team::Team>>> = Mutex::new(BTreeMap::new());
    if n == 1 {
        return Ok(None);
    }
    // A poisoned lock only means another load panicked while holding it; the map is intact.
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = pools.get(&n) {
        return Ok(Some(pool.clone()));
    }
    let pool = team::Team::start(n - 1).map_err(|e| {
        Error::InvalidArgument(format!(
            "threads: could not start {n} threads ({e}); ask for fewer"
        ))
    })?;
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
/// consecutive parts of `lens(block)` elements. Side by side on the workers of the run (see
/// [`scope`]) when it has them, in order on this thread otherwise.
///
/// # Panics
/// When the lengths sum to more than `out.len()`; a panic in `f` is re-raised on this thread
/// once every block has finished.
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
        if let Some(team) = team::current() {
            // Each part goes to exactly one caller of `block(i)` (the team hands every index
            // out once), which makes it the only holder of that `&mut`.
            let parts: Vec<_> = parts.into_iter().map(|(b, p)| (b, Part::from(p))).collect();
            let block = |i: usize| {
                let (b, Part((ptr, len))) = &parts[i];
                // SAFETY: the part is one of the disjoint parts of `out`, index `i` is handed out
                // once per call, and `T: Send` lets it be written from another thread.
                f(b, unsafe { std::slice::from_raw_parts_mut(*ptr, *len) })
            };
            team.run(parts.len(), &block);
            return;
        }
    }
    for (b, part) in parts {
        f(b, part);
    }
}

/// One block's part of the output, as a pointer the workers can share.
#[cfg(feature = "threads")]
struct Part<T>((*mut T, usize));
// SAFETY: a part is only turned back into a slice by the one thread that claimed its index.
#[cfg(feature = "threads")]
unsafe impl<T: Send> Sync for Part<T> {}
#[cfg(feature = "threads")]
impl<T> From<&mut [T]> for Part<T> {
    fn from(s: &mut [T]) -> Self {
        Part((s.as_mut_ptr(), s.len()))
    }
}

/// Runs `f` with `pool`'s workers serving [`for_each_block`] on this thread (they go back to
/// sleep after, also when `f` panics).
pub(crate) fn scope<R>(pool: &Pool, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "threads")]
    {
        match pool {
            Some(team) => team.scope(f),
            None => f(),
        }
    }
    #[cfg(not(feature = "threads"))]
    {
        let &() = pool;
        f()
    }
}

#[cfg(feature = "threads")]
pub(crate) mod team {
    //! The workers of one thread count and the hand-off of a convolution's blocks to them.
    //!
    //! One 64-bit word, `state`, holds the current job: a generation (high 32 bits), its block
    //! count (16 bits) and the next unclaimed block (low 16 bits). Anyone claims a block by a
    //! compare-and-swap that increments the next index; a stale view fails the swap. The caller
    //! publishes a job (its closure, then `state` with release ordering), claims blocks too,
    //! then waits until `done` counts all of them before it returns, so the closure it lent
    //! outlives every use.

    use std::any::Any;
    use std::cell::RefCell;
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
    use std::sync::{Arc, Condvar, Mutex};

    /// A job as the workers see it: the caller's closure, lent for the length of one job.
    type Job<'a> = &'a (dyn Fn(usize) + Sync);

    /// How often an idle worker checks for a job between yields.
    const SPINS_PER_YIELD: u32 = 64;

    pub(crate) struct Team {
        /// Generation << 32 | blocks << 16 | next block.
        state: AtomicU64,
        /// The current job (a `*const Job`), valid while its blocks are not all done.
        job: AtomicPtr<()>,
        /// Blocks of the current job finished.
        done: AtomicU32,
        /// The first panic of the current job's blocks.
        panic: Mutex<Option<Box<dyn Any + Send>>>,
        /// A run has the workers (they spin); otherwise they sleep on `wake`.
        running: AtomicBool,
        /// Held by the run that has the workers.
        taken: AtomicBool,
        sleep: Mutex<()>,
        wake: Condvar,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Arc<Team>>> = const { RefCell::new(None) };
    }

    /// The team serving this thread's run, if it has one.
    pub(super) fn current() -> Option<Arc<Team>> {
        CURRENT.with_borrow(|t| t.clone())
    }

    impl Team {
        /// Starts `workers` threads (they live as long as the process, asleep between runs).
        pub(super) fn start(workers: usize) -> std::io::Result<Arc<Team>> {
            let team = Arc::new(Team {
                state: AtomicU64::new(0),
                job: AtomicPtr::new(std::ptr::null_mut()),
                done: AtomicU32::new(0),
                panic: Mutex::new(None),
                running: AtomicBool::new(false),
                taken: AtomicBool::new(false),
                sleep: Mutex::new(()),
                wake: Condvar::new(),
            });
            for i in 1..=workers {
                let team = team.clone();
                std::thread::Builder::new()
                    .name(format!("ledge-{i}"))
                    .spawn(move || team.serve())?;
            }
            Ok(team)
        }

        /// Runs `f` with this team installed for the calling thread, unless another run has it.
        pub(super) fn scope<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
            if self.taken.swap(true, Ordering::Acquire) {
                return f();
            }
            struct Release<'a>(&'a Arc<Team>, Option<Arc<Team>>);
            impl Drop for Release<'_> {
                fn drop(&mut self) {
                    CURRENT.set(self.1.take());
                    self.0.running.store(false, Ordering::Release);
                    self.0.taken.store(false, Ordering::Release);
                }
            }
            {
                let _lock = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
                self.running.store(true, Ordering::Release);
            }
            self.wake.notify_all();
            let _release = Release(self, CURRENT.replace(Some(self.clone())));
            f()
        }

        /// Computes `block(i)` for every `i` in `0..blocks`, each once, on this thread and the
        /// workers; returns when all are done.
        ///
        /// # Panics
        /// With the first panic of a block, after all blocks are done; when `blocks` ≥ 2¹⁶.
        pub(super) fn run(&self, blocks: usize, block: &(dyn Fn(usize) + Sync)) {
            assert!(blocks < 1 << 16, "{blocks} blocks: at most 65535");
            let job: Job = block;
            self.done.store(0, Ordering::Relaxed);
            self.job
                .store(&job as *const Job as *mut (), Ordering::Relaxed);
            let generation = (self.state.load(Ordering::Relaxed) >> 32).wrapping_add(1);
            // Release: a worker that claims a block of this generation sees `job` and `done`.
            self.state
                .store(generation << 32 | (blocks as u64) << 16, Ordering::Release);
            // The team has one job at a time: a block that splits work again does it on its own
            // thread (`work` catches panics, so the team is always put back).
            let installed = CURRENT.take();
            while self.work() {}
            while self.done.load(Ordering::Acquire) < blocks as u32 {
                std::hint::spin_loop();
            }
            CURRENT.set(installed);
            let panic = self.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(panic) = panic {
                resume_unwind(panic);
            }
        }

        /// Claims and computes one block of the current job; false when none is left.
        fn work(&self) -> bool {
            let mut state = self.state.load(Ordering::Acquire);
            let i = loop {
                let (blocks, next) = ((state >> 16) & 0xffff, state & 0xffff);
                if next >= blocks {
                    return false;
                }
                match self.state.compare_exchange_weak(
                    state,
                    state + 1,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break next as usize,
                    Err(now) => state = now,
                }
            };
            // SAFETY: the caller published `job` before the state this claim succeeded on, and
            // keeps it alive until `done` counts this block, which only happens below.
            let job = unsafe { *(self.job.load(Ordering::Relaxed) as *const Job) };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| job(i))) {
                let mut first = self.panic.lock().unwrap_or_else(|e| e.into_inner());
                first.get_or_insert(panic);
            }
            self.done.fetch_add(1, Ordering::Release);
            true
        }

        /// A worker's life: asleep between runs, spinning for jobs during one.
        fn serve(&self) {
            loop {
                {
                    let mut lock = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
                    while !self.running.load(Ordering::Acquire) {
                        lock = self.wake.wait(lock).unwrap_or_else(|e| e.into_inner());
                    }
                }
                let mut idle = 0u32;
                while self.running.load(Ordering::Acquire) {
                    if self.work() {
                        idle = 0;
                    } else if idle < SPINS_PER_YIELD {
                        idle += 1;
                        std::hint::spin_loop();
                    } else {
                        idle = 0;
                        std::thread::yield_now();
                    }
                }
            }
        }
    }
}

#[cfg(all(test, feature = "threads"))]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// Blocks of uneven lengths: block `b` is `b % 7 + 1` elements long.
    fn blocks(n: usize) -> (Vec<usize>, usize) {
        let lens: Vec<usize> = (0..n).map(|b| b % 7 + 1).collect();
        let total = lens.iter().sum();
        (lens, total)
    }

    #[test]
    fn every_block_runs_once_and_writes_only_its_own_part() {
        let (_, pool) = pool(3).unwrap();
        scope(&pool, || {
            assert!(team::current().is_some(), "the run has the workers");
            for round in 0..2000 {
                let n = round % 40 + 2;
                let (lens, total) = blocks(n);
                let ids: Vec<usize> = (0..n).collect();
                let mut out = vec![0u32; total + 3];
                for_each_block(
                    &ids,
                    |&b| lens[b],
                    &mut out,
                    |&b, part| {
                        assert_eq!(part.len(), lens[b]);
                        for x in part {
                            *x += b as u32 + 1;
                        }
                    },
                );
                let want: Vec<u32> = ids
                    .iter()
                    .flat_map(|&b| std::iter::repeat_n(b as u32 + 1, lens[b]))
                    .chain([0; 3])
                    .collect();
                assert_eq!(out, want, "round {round}");
            }
        });
        assert!(team::current().is_none(), "uninstalled after the run");
    }

    #[test]
    fn a_panic_in_a_block_reaches_the_caller_after_every_other_block() {
        let (_, pool) = pool(2).unwrap();
        for _ in 0..50 {
            let mut out = vec![0u8; 16];
            let ids: Vec<usize> = (0..16).collect();
            let caught = catch_unwind(AssertUnwindSafe(|| {
                scope(&pool, || {
                    for_each_block(
                        &ids,
                        |_| 1,
                        &mut out,
                        |&b, part| {
                            if b == 5 {
                                panic!("block five");
                            }
                            part[0] = 1;
                        },
                    )
                })
            }));
            let message = *caught.unwrap_err().downcast::<&str>().unwrap();
            assert_eq!(message, "block five");
            let want: Vec<u8> = (0..16).map(|b| u8::from(b != 5)).collect();
            assert_eq!(out, want);
        }
        // The team is released and serves the next run.
        scope(&pool, || assert!(team::current().is_some()));
    }

    #[test]
    fn a_block_that_splits_work_again_computes_it_on_its_own_thread() {
        let (_, pool) = pool(5).unwrap();
        scope(&pool, || {
            for _ in 0..200 {
                let outer: Vec<usize> = (0..8).collect();
                let mut out = vec![0u32; 8 * 6];
                for_each_block(
                    &outer,
                    |_| 6,
                    &mut out,
                    |&b, part| {
                        let inner: Vec<usize> = (0..3).collect();
                        for_each_block(
                            &inner,
                            |_| 2,
                            part,
                            |&i, cells| {
                                cells.fill((b * 10 + i) as u32);
                            },
                        );
                    },
                );
                let want: Vec<u32> = (0..8)
                    .flat_map(|b| (0..3).flat_map(move |i| [(b * 10 + i) as u32; 2]))
                    .collect();
                assert_eq!(out, want);
            }
            assert!(team::current().is_some(), "the run keeps its team");
        });
    }

    #[test]
    fn a_run_that_finds_the_workers_taken_computes_on_its_own_thread() {
        let (_, pool) = pool(4).unwrap();
        scope(&pool, || {
            std::thread::scope(|s| {
                s.spawn(|| {
                    scope(&pool, || {
                        assert!(team::current().is_none(), "the first run has the workers");
                        let ids = [0usize, 1, 2];
                        let mut out = [0u8; 3];
                        for_each_block(&ids, |_| 1, &mut out, |&b, part| part[0] = b as u8);
                        assert_eq!(out, [0, 1, 2]);
                    })
                });
            });
        });
    }
}
