//! Independent jobs on scoped threads: the HPKE encryptions of an
//! UpdatePath or of a Welcome's GroupSecrets, one per recipient, and the
//! independent hashes of a large received commit.

use crate::{Error, Result};

/// Below this many jobs, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 16;

/// Below this many bytes to hash, a second thread costs more than it saves:
/// a spawn and join take some tens of microseconds, about what SHA-512
/// needs for 64 KiB.
pub(crate) const PARALLEL_BYTES: usize = 64 * 1024;

/// The cores we may use, asked once: `available_parallelism` reads cgroup
/// files on Linux, a fixed cost that every small operation would pay.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        if cfg!(target_arch = "wasm32") {
            1
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        }
    })
}

/// `(a(), b())`, with `b` on a second thread when `parallel` is set and
/// there is a second core. A panic in either propagates as it would
/// serially.
pub(crate) fn join<A, B>(
    parallel: bool,
    a: impl FnOnce() -> A,
    b: impl FnOnce() -> B + Send,
) -> (A, B)
where
    B: Send,
{
    if !parallel || cores() < 2 {
        let a = a();
        return (a, b());
    }
    std::thread::scope(|scope| {
        let handle = scope.spawn(b);
        let a = a();
        match handle.join() {
            Ok(b) => (a, b),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// `jobs.map(run)`, split over the available cores when there are many
/// jobs; results keep the order of `jobs`, and the first error wins.
///
/// Each job carries whatever it needs by value (e.g. its own seeded random
/// source), so the outcome does not depend on how jobs are split.
pub(crate) fn try_map<J, R, F>(jobs: Vec<J>, run: F) -> Result<Vec<R>>
where
    J: Send,
    R: Send,
    F: Fn(J) -> Result<R> + Sync,
{
    let threads = cores();
    if jobs.len() < PARALLEL_THRESHOLD || threads < 2 {
        return jobs.into_iter().map(run).collect();
    }
    let per_thread = jobs.len().div_ceil(threads);
    let mut chunks: Vec<Vec<J>> = Vec::with_capacity(threads);
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        chunks.push(jobs.by_ref().take(per_thread).collect());
    }
    let run = &run;
    let results: Vec<Result<Vec<R>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(run).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or(Err(Error::Internal("worker thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}
