//! One row's requests: paced by the endpoint's rate limit, spread over its
//! replicas, retried with backoff; and the live figures they leave.

use super::client::{ChatRequest, LlmClient};
use super::control::RunControl;
use super::progress::RunProgress;
use super::runtime::Runtime;
use crate::services::llm::LlmError;
use fannotate_core::records::{ChatAnswer, Pool, RunRecord, TokenBucket};
use fannotate_core::Attribute;
use futures::future::select;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Attempts per request for retryable failures.
const MAX_ATTEMPTS: u32 = 4;
/// Cap on one backoff wait (milliseconds).
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// One row to annotate.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTask {
    /// Row position.
    pub row: u32,
    /// Row id, for host events.
    pub id: String,
    /// Text to annotate.
    pub text: String,
}

/// Milliseconds to wait before attempt `attempt + 1`: the server's `Retry-After`
/// when given, else exponential backoff with jitter: `random` in `[0, 1)` picks
/// a wait in the upper half of the cap.
fn backoff_ms(err: &LlmError, attempt: u32, random: f64) -> f64 {
    if let LlmError::Http {
        retry_after: Some(s),
        ..
    } = err
    {
        return (s * 1000.0).min(MAX_BACKOFF_MS);
    }
    let cap = (500.0 * 2f64.powi(attempt as i32)).min(MAX_BACKOFF_MS);
    cap / 2.0 + random * cap / 2.0
}

/// What a run shares between its concurrent tasks.
pub(super) struct Shared {
    pub(super) client: Rc<dyn LlmClient>,
    pub(super) rt: Rc<dyn Runtime>,
    pub(super) run: RunRecord,
    pub(super) attribute: Attribute,
    pub(super) api_key: String,
    pub(super) control: RunControl,
    pub(super) urls: Vec<String>,
    pub(super) pool: RefCell<Pool>,
    pub(super) bucket: RefCell<Option<TokenBucket>>,
    pub(super) in_flight: Cell<u32>,
    pub(super) max_in_flight: Cell<u32>,
    /// Requests the browser can have on the wire at once (see
    /// [`EndpointConfig::effective_concurrency`](fannotate_core::records::EndpointConfig::effective_concurrency)); more wait in its queue.
    pub(super) wire: u32,
}

impl Shared {
    /// Wait `ms` milliseconds, or less if the run is cancelled meanwhile: a
    /// cancel should not sit out a 30 s backoff before the run can end.
    async fn wait(&self, ms: f64) {
        select(self.rt.sleep(ms), self.control.abort().aborted()).await;
    }

    /// One request with retries, each attempt on the next replica in rotation.
    async fn request(&self, row: u32, text: &str, replicate: u32) -> Result<ChatAnswer, LlmError> {
        let mut attempt = 0;
        loop {
            self.control.wait_while_paused().await;
            let wait = self
                .bucket
                .borrow_mut()
                .as_mut()
                .map_or(0.0, |b| b.take(self.rt.mono_ms()));
            if wait > 0.0 {
                self.wait(wait).await;
            }
            if self.control.is_cancelled() {
                return Err(LlmError::Cancelled);
            }
            let i = self.pool.borrow_mut().pick(self.rt.mono_ms());
            self.in_flight.set(self.in_flight.get() + 1);
            // Report what the browser really has open, not what it was handed.
            self.max_in_flight.set(
                self.max_in_flight
                    .get()
                    .max(self.in_flight.get().min(self.wire)),
            );
            let res = self
                .client
                .annotate(ChatRequest {
                    endpoint: &self.run.endpoint,
                    base_url: &self.urls[i],
                    api_key: &self.api_key,
                    attribute: &self.attribute,
                    text,
                    row,
                    replicate,
                    attempt,
                    abort: self.control.abort(),
                })
                .await;
            self.in_flight.set(self.in_flight.get() - 1);
            let replica_fault = matches!(&res, Err(e) if e.is_retryable() || matches!(e, LlmError::Malformed { .. }));
            if !matches!(res, Err(LlmError::Cancelled)) {
                self.pool
                    .borrow_mut()
                    .report(i, !replica_fault, self.rt.mono_ms());
            }
            match res {
                Err(e)
                    if e.is_retryable()
                        && attempt + 1 < MAX_ATTEMPTS
                        && !self.control.is_cancelled() =>
                {
                    self.wait(backoff_ms(&e, attempt, self.rt.random())).await;
                    attempt += 1;
                }
                // Stop here rather than when the result loop reads this: by
                // then the next request would already have gone out.
                Err(e) if e.stops_run() => {
                    self.control.cancel();
                    return Err(e);
                }
                other => return other,
            }
        }
    }

    /// Every replication of one item; stops early on a cancel or a fatal error.
    pub(super) async fn item(
        &self,
        task: &RunTask,
        replications: u32,
    ) -> Vec<Result<ChatAnswer, LlmError>> {
        let mut out = Vec::with_capacity(replications as usize);
        for k in 0..replications {
            let res = self.request(task.row, &task.text, k).await;
            let stop = matches!(&res, Err(e) if *e == LlmError::Cancelled || e.stops_run());
            out.push(res);
            if stop {
                break;
            }
        }
        out
    }
}

/// Progress with the live figures filled in.
pub(super) fn snapshot(progress: &mut RunProgress, shared: &Shared, started: f64) -> RunProgress {
    let now = shared.rt.mono_ms();
    let sent = shared.in_flight.get();
    progress.in_flight = sent.min(shared.wire);
    progress.queued = sent - progress.in_flight;
    progress.max_in_flight = shared.max_in_flight.get();
    progress.held = shared.control.held();
    progress.elapsed_ms = now - started;
    progress.paused = shared.control.is_paused();
    progress.replicas_out = shared.pool.borrow().out_of_rotation(now);
    progress.cost = shared
        .run
        .endpoint
        .cost(progress.tokens_in, progress.tokens_out);
    *progress
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_cap_and_obeys_retry_after() {
        let busy = |retry_after| LlmError::Http {
            status: 503,
            body: String::new(),
            retry_after,
        };
        assert_eq!(backoff_ms(&busy(None), 0, 0.0), 250.0);
        assert_eq!(backoff_ms(&busy(None), 0, 0.5), 375.0);
        assert_eq!(backoff_ms(&busy(None), 2, 0.0), 1000.0);
        assert_eq!(
            backoff_ms(&busy(None), 20, 0.999),
            15_000.0 + 0.999 * 15_000.0
        );
        assert_eq!(backoff_ms(&busy(Some(2.0)), 0, 0.9), 2000.0);
        assert_eq!(backoff_ms(&busy(Some(3600.0)), 0, 0.0), MAX_BACKOFF_MS);
    }
}
