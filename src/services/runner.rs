//! The job runner: annotate many rows concurrently, retry what may succeed on a
//! second try, persist results as they arrive, and stop promptly on cancel.

use super::browser::{mono_ms, now_ms, sleep};
use super::llm::{annotate, LlmError};
use super::storage::Storage;
use crate::error::AppError;
use crate::model::{run_source, Annotation, AnnotationStatus, RunRecord, RunStatus};
use fannotate_core::{parse_answer, Attribute, AttributeKind, Parsed};
use futures::StreamExt;
use std::cell::Cell;
use std::rc::Rc;
use web_sys::AbortController;

/// Results are written at least this often (milliseconds) …
const FLUSH_INTERVAL_MS: f64 = 1000.0;
/// … or whenever this many are waiting.
const FLUSH_BATCH: usize = 50;
/// Attempts per task for retryable failures.
const MAX_ATTEMPTS: u32 = 4;
/// Cap on one backoff wait (milliseconds).
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// One row to annotate.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTask {
    /// Row position.
    pub row: u32,
    /// Text to annotate.
    pub text: String,
}

/// Live counters of a run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunProgress {
    /// Tasks in the run.
    pub total: u32,
    /// Answered with a category.
    pub valid: u32,
    /// Answered outside the label set.
    pub invalid: u32,
    /// Requests that failed.
    pub failed: u32,
    /// Requests now waiting for an answer.
    pub in_flight: u32,
    /// Most requests in flight at once so far.
    pub max_in_flight: u32,
    /// Milliseconds since the run started.
    pub elapsed_ms: f64,
    /// Tasks that were already finished when this session of the run started.
    pub base_done: u32,
    /// Tokens used (prompt + completion).
    pub tokens: u64,
    /// Whether some token counts are estimates.
    pub tokens_estimated: bool,
}

/// Pacing for a requests-per-minute limit: requests start at least
/// `60 000 / rpm` ms apart. Returns (when this request may start, the next free slot).
pub fn pace(now_ms: f64, next_slot_ms: f64, rpm: u32) -> (f64, f64) {
    let interval = 60_000.0 / f64::from(rpm.max(1));
    let start = now_ms.max(next_slot_ms);
    (start, start + interval)
}

impl RunProgress {
    /// Tasks finished one way or another.
    pub fn done(&self) -> u32 {
        self.valid + self.invalid + self.failed
    }

    /// Tasks finished per second in this session.
    pub fn rate(&self) -> f64 {
        if self.elapsed_ms <= 0.0 {
            0.0
        } else {
            self.done().saturating_sub(self.base_done) as f64 * 1000.0 / self.elapsed_ms
        }
    }

    /// Seconds left at the current rate, once there is a rate.
    pub fn eta_secs(&self) -> Option<f64> {
        let rate = self.rate();
        (rate > 0.0).then(|| (self.total - self.done()) as f64 / rate)
    }
}

/// Cancels a run: in-flight requests are aborted, nothing new starts.
#[derive(Clone)]
pub struct RunControl {
    abort: AbortController,
    cancelled: Rc<Cell<bool>>,
}

impl RunControl {
    /// A fresh control, not cancelled.
    pub fn new() -> Result<Self, AppError> {
        Ok(RunControl {
            abort: AbortController::new().map_err(|_| AppError::Llm(LlmError::Cancelled))?,
            cancelled: Rc::new(Cell::new(false)),
        })
    }

    /// Stop the run.
    pub fn cancel(&self) {
        self.cancelled.set(true);
        self.abort.abort();
    }

    /// Whether [`RunControl::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

/// Milliseconds to wait before attempt `attempt + 1`: the server's `Retry-After`
/// when given, else exponential backoff with full jitter.
fn backoff_ms(err: &LlmError, attempt: u32) -> f64 {
    if let LlmError::Http {
        retry_after: Some(s),
        ..
    } = err
    {
        return (s * 1000.0).min(MAX_BACKOFF_MS);
    }
    let cap = (500.0 * 2f64.powi(attempt as i32)).min(MAX_BACKOFF_MS);
    cap / 2.0 + js_sys::Math::random() * cap / 2.0
}

async fn annotate_with_retries(
    run: &RunRecord,
    api_key: &str,
    attribute: &Attribute,
    text: &str,
    control: &RunControl,
) -> Result<super::llm::ChatAnswer, LlmError> {
    let mut attempt = 0;
    loop {
        let res = annotate(
            &run.endpoint,
            api_key,
            attribute,
            text,
            Some(&control.abort.signal()),
        )
        .await;
        match res {
            Err(e) if e.is_retryable() && attempt + 1 < MAX_ATTEMPTS && !control.is_cancelled() => {
                sleep(backoff_ms(&e, attempt)).await;
                if control.is_cancelled() {
                    return Err(LlmError::Cancelled);
                }
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn to_annotation(
    run: &RunRecord,
    attribute: &Attribute,
    row: u32,
    res: Result<super::llm::ChatAnswer, LlmError>,
) -> Annotation {
    let mut a = Annotation::pending(
        &run.dataset_id,
        row,
        &run.attribute,
        &run_source(&run.id),
        now_ms(),
    );
    match res {
        Ok(ans) => {
            a.latency_ms = ans.latency_ms;
            a.tokens_in = ans.tokens_in;
            a.tokens_out = ans.tokens_out;
            a.tokens_estimated = ans.tokens_estimated;
            a.confidence = ans.confidence;
            let parsed = match attribute.kind {
                // Free text is the answer itself; only an empty answer is unusable.
                AttributeKind::FreeText | AttributeKind::Other(_)
                    if !ans.content.trim().is_empty() =>
                {
                    a.status = AnnotationStatus::Valid;
                    a.value = Some(ans.content.trim().to_string());
                    None
                }
                AttributeKind::FreeText | AttributeKind::Other(_) => Some(Parsed::Invalid {
                    raw: ans.content.clone(),
                    reason: fannotate_core::answer::InvalidReason::Empty,
                }),
                AttributeKind::Categorical => {
                    Some(parse_answer(&ans.content, &attribute.category_names()))
                }
            };
            match parsed {
                None => {}
                Some(Parsed::Valid(i)) => {
                    a.status = AnnotationStatus::Valid;
                    a.value = Some(attribute.categories[i].name.clone());
                }
                Some(Parsed::Invalid { reason, .. }) => {
                    a.status = AnnotationStatus::Invalid;
                    a.reason = Some(reason.as_str().to_string());
                }
            }
            a.raw = ans.content;
        }
        Err(e) => {
            a.reason = Some(e.user_message());
            a.raw = e.to_string();
        }
    }
    a
}

/// Outcomes already stored for a run's rows that are not being (re)done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Rows with a valid answer.
    pub valid: u32,
    /// Rows answered outside the label set.
    pub invalid: u32,
    /// Rows whose request failed.
    pub failed: u32,
}

impl Counts {
    /// Count stored annotations by outcome.
    pub fn of<'a>(annotations: impl IntoIterator<Item = &'a Annotation>) -> Self {
        annotations.into_iter().fold(Counts::default(), |mut c, a| {
            match a.status {
                AnnotationStatus::Valid => c.valid += 1,
                AnnotationStatus::Invalid => c.invalid += 1,
                AnnotationStatus::Error => c.failed += 1,
            }
            c
        })
    }
}

/// Run `tasks` through the endpoint of `run`, persisting every result; `base`
/// holds the outcomes of rows finished earlier (a resumed or retried run). Returns
/// the final run record (completed, cancelled or failed).
#[allow(clippy::too_many_arguments)]
pub async fn execute(
    storage: Rc<dyn Storage>,
    mut run: RunRecord,
    attribute: Attribute,
    api_key: String,
    tasks: Vec<RunTask>,
    base: Counts,
    control: RunControl,
    on_progress: impl Fn(RunProgress),
) -> Result<RunRecord, AppError> {
    let started = mono_ms();
    let in_flight = Rc::new(Cell::new(0u32));
    let max_in_flight = Rc::new(Cell::new(0u32));
    let mut progress = RunProgress {
        total: tasks.len() as u32 + base.valid + base.invalid + base.failed,
        valid: base.valid,
        invalid: base.invalid,
        failed: base.failed,
        ..Default::default()
    };
    // Rate and ETA are about this session's work, not what was done before.
    progress.base_done = progress.done();
    run.total = progress.total;
    storage.put_run(run.clone()).await?;
    on_progress(progress);

    let concurrency = run.endpoint.concurrency.clamp(1, 256) as usize;
    let shared = Rc::new((run.clone(), attribute.clone(), api_key, control.clone()));
    let next_slot = Rc::new(Cell::new(0.0f64));
    let mut results = futures::stream::iter(tasks)
        .map(|task| {
            let shared = shared.clone();
            let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
            let next_slot = next_slot.clone();
            async move {
                let (run, attribute, key, control) = &*shared;
                if let Some(rpm) = run.endpoint.requests_per_minute {
                    let now = mono_ms();
                    let (start, next) = pace(now, next_slot.get(), rpm);
                    next_slot.set(next);
                    if start > now {
                        sleep(start - now).await;
                    }
                }
                if control.is_cancelled() {
                    return (task.row, Err(LlmError::Cancelled));
                }
                in_flight.set(in_flight.get() + 1);
                max_in_flight.set(max_in_flight.get().max(in_flight.get()));
                let res = annotate_with_retries(run, key, attribute, &task.text, control).await;
                in_flight.set(in_flight.get() - 1);
                (task.row, res)
            }
        })
        .buffer_unordered(concurrency);

    let mut pending: Vec<Annotation> = Vec::new();
    let mut last_flush = mono_ms();
    let mut fatal: Option<LlmError> = None;
    while let Some((row, res)) = results.next().await {
        match &res {
            Err(LlmError::Cancelled) => continue,
            Err(e) if e.stops_run() && fatal.is_none() => {
                fatal = Some(e.clone());
                control.cancel();
            }
            _ => {}
        }
        let a = to_annotation(&run, &attribute, row, res);
        match a.status {
            AnnotationStatus::Valid => progress.valid += 1,
            AnnotationStatus::Invalid => progress.invalid += 1,
            AnnotationStatus::Error => progress.failed += 1,
        }
        progress.tokens += u64::from(a.tokens_in) + u64::from(a.tokens_out);
        progress.tokens_estimated |= a.tokens_estimated;
        pending.push(a);
        progress.in_flight = in_flight.get();
        progress.max_in_flight = max_in_flight.get();
        progress.elapsed_ms = mono_ms() - started;
        on_progress(progress);
        if pending.len() >= FLUSH_BATCH || mono_ms() - last_flush >= FLUSH_INTERVAL_MS {
            run.valid = progress.valid;
            run.invalid = progress.invalid;
            run.failed = progress.failed;
            storage
                .put_annotations(std::mem::take(&mut pending), Some(run.clone()))
                .await?;
            last_flush = mono_ms();
        }
    }
    run.valid = progress.valid;
    run.invalid = progress.invalid;
    run.failed = progress.failed;
    run.finished_at = Some(now_ms());
    run.status = match (&fatal, control.is_cancelled()) {
        (Some(e), _) => {
            run.error = Some(e.user_message());
            RunStatus::Failed
        }
        (None, true) => RunStatus::Cancelled,
        (None, false) => RunStatus::Completed,
    };
    storage.put_annotations(pending, Some(run.clone())).await?;
    progress.in_flight = 0;
    progress.elapsed_ms = mono_ms() - started;
    on_progress(progress);
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::RunProgress;

    #[test]
    fn counts_and_session_rate_of_a_resumed_run() {
        use super::{Counts, RunProgress};
        use crate::model::{Annotation, AnnotationStatus};
        let a = |status| Annotation {
            status,
            ..Annotation::pending("d", 0, "a", "run:r", 0.0)
        };
        let stored = [
            a(AnnotationStatus::Valid),
            a(AnnotationStatus::Valid),
            a(AnnotationStatus::Error),
        ];
        assert_eq!(
            Counts::of(&stored),
            Counts {
                valid: 2,
                invalid: 0,
                failed: 1
            }
        );
        // 60 were done before; 20 more in 10 s is 2/s, not 8/s.
        let p = RunProgress {
            total: 100,
            valid: 80,
            base_done: 60,
            elapsed_ms: 10_000.0,
            ..Default::default()
        };
        assert!((p.rate() - 2.0).abs() < 1e-12);
        assert!((p.eta_secs().unwrap() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn pacing_spaces_request_starts_evenly() {
        use super::pace;
        // 120 per minute: one every 500 ms.
        let (s1, n1) = pace(1000.0, 0.0, 120);
        assert_eq!((s1, n1), (1000.0, 1500.0));
        let (s2, n2) = pace(1001.0, n1, 120);
        assert_eq!((s2, n2), (1500.0, 2000.0));
        // After a pause the next request starts at once.
        assert_eq!(pace(5000.0, n2, 120).0, 5000.0);
    }

    #[test]
    fn progress_rate_and_eta() {
        let p = RunProgress {
            total: 100,
            valid: 30,
            invalid: 5,
            failed: 5,
            elapsed_ms: 20_000.0,
            ..Default::default()
        };
        assert_eq!(p.done(), 40);
        assert!((p.rate() - 2.0).abs() < 1e-12);
        assert!((p.eta_secs().unwrap() - 30.0).abs() < 1e-9);
        assert_eq!(RunProgress::default().eta_secs(), None);
    }
}
