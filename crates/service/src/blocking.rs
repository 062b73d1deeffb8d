//! CPU-heavy work off the async runtime: compiling and applying JSON Schemas costs
//! milliseconds to seconds for the largest schemas a catalog may hold, and done inline it
//! would stall every other request on the runtime's few threads. Such work runs on
//! tokio's blocking pool instead.

/// Runs `work` on the blocking pool and returns its result; a panic in it resumes here,
/// as if it had run inline.
pub(crate) async fn off_runtime<T, F>(work: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Blocking tasks are cancelled only when the runtime shuts down, and then
            // nothing waits for this result.
            Err(error) => panic!("blocking work was cancelled: {error}"),
        },
    }
}
