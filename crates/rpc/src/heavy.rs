//! The pool heavy work runs on: EVM calls, log scans, fee history, the chief reads of `tribe_*`,
//! and the log matching that feeds filters and `logs` subscriptions.
//!
//! Its own few threads, not tokio's blocking pool: chain import, block production and the pool's
//! upkeep use the node's runtime and its blocking pool, so a flood of `eth_call`s queues here
//! instead of taking their cores. A client request needs an admission slot (`threads` running
//! plus `queue` waiting); without one it is refused at once with -32005, so neither memory nor
//! waiting time grows with the flood. Each call of a batch takes its own slot. The node's own
//! jobs (filter upkeep, subscriptions) skip admission: a bounded number of tasks each waits for
//! its job.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        mpsc::{self, Receiver, Sender},
    },
    thread,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::{ApiResult, internal, limit_exceeded};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The heavy pool (see module doc).
pub(crate) struct HeavyPool {
    jobs: Mutex<Sender<Job>>,
    admission: Arc<Semaphore>,
    threads: usize,
    queue: usize,
}

impl HeavyPool {
    /// Starts `threads` worker threads (at least one); `queue` requests may wait beyond them.
    pub(crate) fn new(threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            let spawned = thread::Builder::new()
                .name(format!("rpc-heavy-{i}"))
                .spawn(move || work(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start an RPC worker thread");
            }
        }
        Self {
            jobs: Mutex::new(sender),
            admission: Arc::new(Semaphore::new(threads.saturating_add(queue))),
            threads,
            queue,
        }
    }

    /// Runs a client's request, or refuses it when `threads + queue` are already taken.
    pub(crate) async fn request<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let permit = self.admission.clone().try_acquire_owned().map_err(|_| {
            limit_exceeded(format!(
                "too many heavy requests in progress (limit {} running + {} queued)",
                self.threads, self.queue
            ))
        })?;
        self.submit(Some(permit), job).await
    }

    /// Runs one of the node's own jobs (no admission: its callers are bounded).
    pub(crate) async fn internal<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        self.submit(None, job).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        permit: Option<OwnedSemaphorePermit>,
        job: impl FnOnce() -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let (tx, rx) = oneshot::channel();
        let boxed: Job = Box::new(move || {
            // The slot is freed when the work is done, even if the client has gone.
            let _permit = permit;
            let _ = tx.send(job());
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(boxed)
            .map_err(|_| internal("the RPC worker threads have stopped"))?;
        rx.await
            .map_err(|_| internal("an RPC worker thread failed"))?
    }
}

/// A worker: runs jobs until the pool is dropped.
fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(job) = job else { return };
        // A panicking method must not take the worker with it.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
            tracing::error!("an RPC method panicked");
        }
    }
}
