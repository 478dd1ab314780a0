//! The task executor: every long-running part of the node runs as a named task, critical or
//! not. A critical task that panics or returns means the node can no longer do its job (a pool
//! nobody maintains, a network nobody drives): the executor logs
//! `critical task <name> ended: …` and reports it to [`TaskManager::critical_task_ended`], on
//! which the node shuts down and the process exits non-zero. A non-critical task only logs a
//! panic. Once [`TaskManager::shutdown`] is called, tasks are aborted and their ends are not
//! failures.

use std::{
    any::Any,
    fmt,
    future::Future,
    panic::AssertUnwindSafe,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use futures::FutureExt;
use tokio::{sync::mpsc, task::AbortHandle};

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskExit {
    /// It returned.
    Returned,
    /// It panicked, with this message.
    Panicked(String),
}

impl fmt::Display for TaskExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Returned => f.write_str("it returned"),
            Self::Panicked(message) => write!(f, "it panicked: {message}"),
        }
    }
}

/// A critical task ended while the node was running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("critical task {name} ended: {exit}")]
pub struct CriticalTaskEnded {
    /// The task's name.
    pub name: &'static str,
    /// How it ended.
    pub exit: TaskExit,
}

struct Shared {
    ended: mpsc::UnboundedSender<CriticalTaskEnded>,
    shutting_down: AtomicBool,
    tasks: Mutex<Vec<AbortHandle>>,
}

/// Spawns the node's tasks on the current tokio runtime. Cheap to clone.
#[derive(Clone)]
pub struct TaskExecutor {
    shared: Arc<Shared>,
}

impl fmt::Debug for TaskExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskExecutor").finish_non_exhaustive()
    }
}

impl TaskExecutor {
    /// Spawns a task the node cannot run without: its end (return or panic) shuts the node down.
    pub fn spawn_critical(
        &self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        self.spawn_named(name, task, true);
    }

    /// Spawns a task whose end the node survives (a panic is logged).
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.spawn_named(name, task, false);
    }

    fn spawn_named(
        &self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
        critical: bool,
    ) {
        let shared = Arc::clone(&self.shared);
        let handle = tokio::spawn(async move {
            let exit = match AssertUnwindSafe(task).catch_unwind().await {
                Ok(()) => TaskExit::Returned,
                Err(payload) => TaskExit::Panicked(panic_message(payload.as_ref())),
            };
            if shared.shutting_down.load(Ordering::SeqCst) {
                return;
            }
            if critical {
                tracing::error!("critical task {name} ended: {exit}");
                // The manager may be gone (the node is stopping): nothing left to tell.
                let _ = shared.ended.send(CriticalTaskEnded { name, exit });
            } else if let TaskExit::Panicked(message) = exit {
                tracing::warn!(task = name, %message, "task panicked");
            }
        });
        if let Ok(mut tasks) = self.shared.tasks.lock() {
            tasks.retain(|task| !task.is_finished());
            tasks.push(handle.abort_handle());
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// Owns the node's tasks: hands out the [`TaskExecutor`], reports the first critical task that
/// ends, and aborts them all at shutdown.
pub struct TaskManager {
    executor: TaskExecutor,
    ended: mpsc::UnboundedReceiver<CriticalTaskEnded>,
}

impl fmt::Debug for TaskManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskManager").finish_non_exhaustive()
    }
}

impl Default for TaskManager {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskManager {
    /// A manager with no tasks yet.
    pub fn new() -> Self {
        let (ended_tx, ended) = mpsc::unbounded_channel();
        Self {
            executor: TaskExecutor {
                shared: Arc::new(Shared {
                    ended: ended_tx,
                    shutting_down: AtomicBool::new(false),
                    tasks: Mutex::new(Vec::new()),
                }),
            },
            ended,
        }
    }

    /// The executor to spawn tasks with.
    pub fn executor(&self) -> TaskExecutor {
        self.executor.clone()
    }

    /// Resolves when a critical task ends (never while they all run).
    pub async fn critical_task_ended(&mut self) -> CriticalTaskEnded {
        match self.ended.recv().await {
            Some(ended) => ended,
            // The manager holds a sender itself: the channel never closes while it lives.
            None => std::future::pending().await,
        }
    }

    /// Aborts every task; their ends are no longer reported.
    pub fn shutdown(&self) {
        self.executor
            .shared
            .shutting_down
            .store(true, Ordering::SeqCst);
        if let Ok(mut tasks) = self.executor.shared.tasks.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;

    #[tokio::test]
    async fn a_critical_task_that_panics_is_reported_with_its_message() {
        let mut manager = TaskManager::new();
        manager
            .executor()
            .spawn_critical("pool maintenance", async { panic!("boom") });
        let ended = manager.critical_task_ended().await;
        assert_eq!(
            ended,
            CriticalTaskEnded {
                name: "pool maintenance",
                exit: TaskExit::Panicked("boom".to_owned()),
            }
        );
        assert_eq!(
            ended.to_string(),
            "critical task pool maintenance ended: it panicked: boom"
        );
    }

    #[tokio::test]
    async fn a_critical_task_that_returns_is_reported() {
        let mut manager = TaskManager::new();
        manager.executor().spawn_critical("network", async {});
        assert_eq!(
            manager.critical_task_ended().await,
            CriticalTaskEnded {
                name: "network",
                exit: TaskExit::Returned,
            }
        );
    }

    #[tokio::test]
    async fn a_non_critical_task_ending_is_not_a_failure() {
        let mut manager = TaskManager::new();
        let executor = manager.executor();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        executor.spawn("drain", async move {
            let _done = done_tx;
            panic!("ignored");
        });
        // The non-critical task has ended (its sender dropped) before the critical one starts.
        assert!(done_rx.await.is_err());
        executor.spawn_critical("sync", async {});
        assert_eq!(manager.critical_task_ended().await.name, "sync");
    }

    #[tokio::test]
    async fn shutdown_aborts_every_task_and_reports_none() {
        let mut manager = TaskManager::new();
        let executor = manager.executor();
        let (started_tx, started_rx) = oneshot::channel::<()>();
        let (alive_tx, alive_rx) = oneshot::channel::<()>();
        executor.spawn_critical("producer", async move {
            let _alive = alive_tx;
            let _ = started_tx.send(());
            std::future::pending::<()>().await;
        });
        started_rx.await.expect("the task started");
        manager.shutdown();
        // Aborted: its future (and the sender it holds) is dropped.
        assert!(alive_rx.await.is_err());
        assert!(
            manager.ended.try_recv().is_err(),
            "an aborted task is not a failure"
        );
    }
}
