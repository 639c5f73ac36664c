//! A compute-worker job as a screen shows it: its state, how a result settles
//! it, and stopping it when the screen goes.

use crate::error::AppError;
use crate::services::worker::{ComputeWorker, WorkerError};
use leptos::prelude::*;

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState<T> {
    /// Not started.
    Idle,
    /// Steps done, of all.
    Running(u64, u64),
    /// The result, and why it was computed on the page if it was (no worker).
    Done(T, Option<String>),
    /// Stopped by the user.
    Cancelled,
    /// The worker failed; the message says what to do.
    Failed(String),
}

impl<T> JobState<T> {
    /// The state a worker's answer leaves: where no worker can start,
    /// `on_page` computes the same result on the page's thread (slower to wait
    /// for, never a different figure); `None` from it leaves nothing to show.
    pub fn settle(
        result: Result<T, WorkerError>,
        on_page: impl FnOnce() -> Option<Result<T, String>>,
    ) -> Option<Self> {
        Some(match result {
            Ok(v) => JobState::Done(v, None),
            Err(WorkerError::Unavailable(why)) => match on_page()? {
                Ok(v) => JobState::Done(v, Some(why)),
                Err(message) => JobState::Failed(message),
            },
            Err(WorkerError::Cancelled) => JobState::Cancelled,
            Err(e) => JobState::Failed(AppError::from(e).user_message()),
        })
    }

    /// Whether the job is under way.
    pub fn is_running(&self) -> bool {
        matches!(self, JobState::Running(..))
    }
}

/// Stop the worker when the screen that owns `job` goes while it runs (the
/// job is nobody's any more, and terminating frees the worker's memory).
pub fn stop_on_cleanup<T: Send + Sync + 'static>(
    worker: StoredValue<ComputeWorker, LocalStorage>,
    job: RwSignal<JobState<T>>,
) {
    on_cleanup(move || {
        if job.try_with_untracked(JobState::is_running) == Some(true) {
            worker.try_with_value(ComputeWorker::cancel);
        }
    });
}
