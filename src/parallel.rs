//! Independent jobs on scoped threads: the HPKE encryptions of an
//! UpdatePath or of a Welcome's GroupSecrets, one per recipient.

use crate::{Error, Result};

/// Below this many jobs, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 16;

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
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if jobs.len() < PARALLEL_THRESHOLD || threads < 2 || cfg!(target_arch = "wasm32") {
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
