//! The job runner: annotate many rows concurrently, spread over an endpoint's
//! replicas, retry what may succeed on a second try, persist results as they
//! arrive, and pause or stop promptly.

use super::browser::{mono_ms, now_ms, sleep};
use super::files::js_message;
use super::llm::{annotate, LlmError};
use super::storage::Storage;
use super::storage::StorageError;
use fannotate_core::records::{
    Annotation, AnnotationStatus, ChatAnswer, Failure, Pool, RunRecord, RunStatus, TokenBucket,
};
use fannotate_core::{Attribute, AttributeKind};
use futures::channel::{mpsc, oneshot};
use futures::future::{select, Either, LocalBoxFuture};
use futures::StreamExt;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::AbortController;

/// Results are written at least this often (milliseconds) …
const FLUSH_INTERVAL_MS: f64 = 1000.0;
/// … or whenever this many are waiting.
const FLUSH_BATCH: usize = 50;
/// Attempts per request for retryable failures.
const MAX_ATTEMPTS: u32 = 4;
/// Cap on one backoff wait (milliseconds).
const MAX_BACKOFF_MS: f64 = 30_000.0;
/// Progress is reported at most this often (milliseconds): at hundreds of
/// answers a second, redrawing for each would cost more than the requests, and
/// four updates a second read as live.
const PROGRESS_INTERVAL_MS: f64 = 250.0;
/// How often a paused task looks whether it may go on (milliseconds).
const PAUSE_POLL_MS: f64 = 100.0;

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

/// What a run reports while it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunEvent<'a> {
    /// Counters changed (at most about ten times a second, and at the end).
    Progress(RunProgress),
    /// One item's result, with its row id, as it is queued for writing.
    Annotation(&'a Annotation, &'a str),
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
    /// Most requests in flight at once so far (on the wire: see `queued`).
    pub max_in_flight: u32,
    /// Requests the app has sent that the browser still holds back, waiting for
    /// a connection (over plain http:// it opens at most six per server).
    pub queued: u32,
    /// Requests held back at the pause, ready to go when the run continues.
    pub held: u32,
    /// Milliseconds since the run started.
    pub elapsed_ms: f64,
    /// Tasks that were already finished when this session of the run started.
    pub base_done: u32,
    /// Prompt tokens used.
    pub tokens_in: u64,
    /// Completion tokens used.
    pub tokens_out: u64,
    /// Whether some token counts are estimates.
    pub tokens_estimated: bool,
    /// Cost so far at the endpoint's prices, when it has prices.
    pub cost: Option<f64>,
    /// Whether the run is paused.
    pub paused: bool,
    /// Base URLs the run spreads requests over.
    pub replicas: u32,
    /// Of those, how many are out of rotation after repeated failures.
    pub replicas_out: u32,
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

/// Pauses or cancels a run. Pausing lets requests in flight finish and starts no
/// new ones; cancelling aborts those in flight too.
#[derive(Clone)]
pub struct RunControl {
    abort: AbortController,
    cancelled: Rc<Cell<bool>>,
    paused: Rc<Cell<bool>>,
    /// Requests now waiting at the pause.
    held: Rc<Cell<u32>>,
}

impl RunControl {
    /// A fresh control, not cancelled.
    pub fn new() -> Result<Self, RunError> {
        Ok(RunControl {
            abort: AbortController::new().map_err(|e| RunError::Controller(js_message(&e)))?,
            cancelled: Rc::new(Cell::new(false)),
            paused: Rc::new(Cell::new(false)),
            held: Rc::new(Cell::new(0)),
        })
    }

    /// Hold (`true`) or release (`false`) new requests.
    pub fn set_paused(&self, paused: bool) {
        self.paused.set(paused);
    }

    /// Whether new requests are held.
    pub fn is_paused(&self) -> bool {
        self.paused.get()
    }

    /// Wait while the run is paused (returns at once when cancelled).
    async fn wait_while_paused(&self) {
        if !self.is_paused() {
            return;
        }
        self.held.set(self.held.get() + 1);
        while self.is_paused() && !self.is_cancelled() {
            sleep(PAUSE_POLL_MS).await;
        }
        self.held.set(self.held.get() - 1);
    }

    /// Requests waiting at the pause: once every worker is held and none is in
    /// flight, nothing can go out until the run continues.
    pub fn held(&self) -> u32 {
        self.held.get()
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

/// What a run shares between its concurrent tasks.
struct Shared {
    run: RunRecord,
    attribute: Attribute,
    api_key: String,
    control: RunControl,
    urls: Vec<String>,
    pool: RefCell<Pool>,
    bucket: RefCell<Option<TokenBucket>>,
    in_flight: Cell<u32>,
    max_in_flight: Cell<u32>,
    /// Requests the browser can have on the wire at once (see
    /// [`EndpointConfig::effective_concurrency`]); more wait in its queue.
    wire: u32,
}

impl Shared {
    /// One request with retries, each attempt on the next replica in rotation.
    async fn request(&self, text: &str, replicate: u32) -> Result<ChatAnswer, LlmError> {
        let mut attempt = 0;
        loop {
            self.control.wait_while_paused().await;
            let wait = self
                .bucket
                .borrow_mut()
                .as_mut()
                .map_or(0.0, |b| b.take(mono_ms()));
            if wait > 0.0 {
                sleep(wait).await;
            }
            if self.control.is_cancelled() {
                return Err(LlmError::Cancelled);
            }
            let i = self.pool.borrow_mut().pick(mono_ms());
            self.in_flight.set(self.in_flight.get() + 1);
            // Report what the browser really has open, not what it was handed.
            self.max_in_flight.set(
                self.max_in_flight
                    .get()
                    .max(self.in_flight.get().min(self.wire)),
            );
            let res = annotate(
                &self.run.endpoint,
                &self.urls[i],
                &self.api_key,
                &self.attribute,
                text,
                replicate,
                Some(&self.control.abort.signal()),
            )
            .await;
            self.in_flight.set(self.in_flight.get() - 1);
            let replica_fault = matches!(&res, Err(e) if e.is_retryable() || matches!(e, LlmError::Malformed { .. }));
            if !matches!(res, Err(LlmError::Cancelled)) {
                self.pool.borrow_mut().report(i, !replica_fault, mono_ms());
            }
            match res {
                Err(e)
                    if e.is_retryable()
                        && attempt + 1 < MAX_ATTEMPTS
                        && !self.control.is_cancelled() =>
                {
                    sleep(backoff_ms(&e, attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Every replication of one item; stops early on a cancel or a fatal error.
    async fn item(&self, task: &RunTask, replications: u32) -> Vec<Result<ChatAnswer, LlmError>> {
        let mut out = Vec::with_capacity(replications as usize);
        for k in 0..replications {
            let res = self.request(&task.text, k).await;
            let stop = matches!(&res, Err(e) if *e == LlmError::Cancelled || e.stops_run());
            out.push(res);
            if stop {
                break;
            }
        }
        out
    }
}

/// How a failed request is kept in its annotation: the message for the user,
/// and as the raw answer the body of a malformed answer, else the error.
fn failure(e: &LlmError) -> Failure {
    Failure {
        message: e.user_message(),
        raw: match e {
            LlmError::Malformed { body } => body.clone(),
            _ => e.to_string(),
        },
    }
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
    on_event: impl Fn(RunEvent<'_>),
) -> Result<RunRecord, RunError> {
    let on_progress = |p: RunProgress| on_event(RunEvent::Progress(p));
    let started = mono_ms();
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

    let urls = run.endpoint.base_urls();
    progress.replicas = urls.len() as u32;
    on_progress(progress);
    // Majority votes only make sense over labels, not free text.
    let replications = if attribute.kind == AttributeKind::Categorical {
        run.endpoint.replications.clamp(1, 20)
    } else {
        1
    };
    let concurrency = run.endpoint.concurrency.clamp(1, 256) as usize;
    let shared = Rc::new(Shared {
        pool: RefCell::new(Pool::new(urls.len())),
        urls,
        bucket: RefCell::new(
            run.endpoint
                .requests_per_minute
                .map(|rpm| TokenBucket::per_minute(rpm, mono_ms())),
        ),
        run: run.clone(),
        attribute: attribute.clone(),
        api_key,
        control: control.clone(),
        in_flight: Cell::new(0),
        max_in_flight: Cell::new(0),
        wire: run.endpoint.effective_concurrency().max(1),
    });
    // The requests run in their own task and hand results over a channel, so the
    // next request starts the moment one finishes, not after its result has
    // been read, counted and queued for writing.
    let (tx, mut results) = mpsc::unbounded();
    let driver_shared = shared.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let mut requests = futures::stream::iter(tasks)
            .map(|task| {
                let shared = driver_shared.clone();
                async move {
                    let res = shared.item(&task, replications).await;
                    (task.row, task.id, res)
                }
            })
            .buffer_unordered(concurrency);
        while let Some(item) = requests.next().await {
            // The receiver is gone only when the run stopped on a write error.
            if tx.unbounded_send(item).is_err() {
                break;
            }
        }
    });

    let writer = Writer::start(storage.clone());
    let mut pending: Vec<Annotation> = Vec::new();
    let mut last_flush = mono_ms();
    let mut last_progress = f64::NEG_INFINITY;
    // Wakes the loop to write results that have waited a second, even when no
    // new answer arrives (a paused run, a slow endpoint).
    let mut flush_timer: Option<LocalBoxFuture<'static, ()>> = None;
    let mut fatal: Option<LlmError> = None;
    loop {
        // A paused run gets no answers, yet its figures still move (requests in
        // flight finish, the rest are held): report them four times a second.
        let paused = control.is_paused();
        let next = if flush_timer.is_none() && !paused {
            results.next().await
        } else {
            let flush = async {
                match flush_timer.as_mut() {
                    Some(timer) => timer.await,
                    None => futures::future::pending::<()>().await,
                }
            };
            let tick = async {
                if paused {
                    sleep(PROGRESS_INTERVAL_MS).await
                } else {
                    futures::future::pending::<()>().await
                }
            };
            let woke = match select(results.next(), select(Box::pin(flush), Box::pin(tick))).await {
                Either::Left((item, _)) => Woke::Item(item),
                Either::Right((Either::Left(_), _)) => Woke::Flush,
                Either::Right((Either::Right(_), _)) => Woke::Tick,
            };
            match woke {
                Woke::Item(item) => item,
                Woke::Flush => {
                    flush_timer = None;
                    if let Err(e) = writer.write(&mut run, &progress, &mut pending) {
                        control.cancel();
                        return Err(e);
                    }
                    last_flush = mono_ms();
                    continue;
                }
                Woke::Tick => {
                    last_progress = mono_ms();
                    on_progress(snapshot(&mut progress, &shared, started));
                    continue;
                }
            }
        };
        let Some((row, row_id, res)) = next else {
            break;
        };
        if res.iter().any(|r| matches!(r, Err(LlmError::Cancelled))) {
            continue;
        }
        if let Some(e) = res
            .iter()
            .find_map(|r| r.as_ref().err().filter(|e| e.stops_run()))
        {
            if fatal.is_none() {
                fatal = Some(e.clone());
                control.cancel();
            }
        }
        let res: Vec<Result<ChatAnswer, Failure>> = res
            .into_iter()
            .map(|r| r.map_err(|e| failure(&e)))
            .collect();
        let a = Annotation::from_answers(&run, &attribute, row, &res, now_ms());
        match a.status {
            AnnotationStatus::Valid => progress.valid += 1,
            AnnotationStatus::Invalid => progress.invalid += 1,
            AnnotationStatus::Error => progress.failed += 1,
        }
        progress.tokens_in += u64::from(a.tokens_in);
        progress.tokens_out += u64::from(a.tokens_out);
        progress.tokens_estimated |= a.tokens_estimated;
        on_event(RunEvent::Annotation(&a, &row_id));
        pending.push(a);
        let now = mono_ms();
        if pending.len() >= FLUSH_BATCH || now - last_flush >= FLUSH_INTERVAL_MS {
            if let Err(e) = writer.write(&mut run, &progress, &mut pending) {
                // Nothing more can be saved (e.g. the disk is full): stop asking.
                control.cancel();
                return Err(e);
            }
            flush_timer = None;
            last_flush = mono_ms();
        } else if flush_timer.is_none() {
            flush_timer = Some(Box::pin(sleep(FLUSH_INTERVAL_MS - (now - last_flush))));
        }
        if now - last_progress >= PROGRESS_INTERVAL_MS {
            last_progress = now;
            on_progress(snapshot(&mut progress, &shared, started));
        }
    }
    run.finished_at = Some(now_ms());
    run.status = match (&fatal, control.is_cancelled()) {
        (Some(e), _) => {
            run.error = Some(e.user_message());
            RunStatus::Failed
        }
        (None, true) => RunStatus::Cancelled,
        (None, false) => RunStatus::Completed,
    };
    writer.write(&mut run, &progress, &mut pending)?;
    writer.finish().await?;
    let mut last = snapshot(&mut progress, &shared, started);
    last.in_flight = 0;
    last.queued = 0;
    last.held = 0;
    last.paused = false;
    on_progress(last);
    Ok(run)
}

/// What woke the result loop.
enum Woke<T> {
    /// A result, or `None` when every request is done.
    Item(Option<T>),
    /// Results have waited long enough to be written.
    Flush,
    /// Time to report a paused run's figures.
    Tick,
}

/// Why a run stopped short of its requests' own outcomes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Writing results failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The browser could not make the run's cancel switch (issue #15: this
    /// used to read as "cancelled").
    #[error("the browser could not set up the run's cancel switch: {0}")]
    Controller(String),
}

/// Writes batches of results in order, off the request loop: a slow disk write
/// never holds up new requests.
struct Writer {
    tx: mpsc::UnboundedSender<(Vec<Annotation>, RunRecord)>,
    done: oneshot::Receiver<Result<(), RunError>>,
    failed: Rc<RefCell<Option<RunError>>>,
}

impl Writer {
    fn start(storage: Rc<dyn Storage>) -> Self {
        let (tx, mut rx) = mpsc::unbounded::<(Vec<Annotation>, RunRecord)>();
        let (done_tx, done) = oneshot::channel();
        let failed = Rc::new(RefCell::new(None));
        let seen = failed.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut result = Ok(());
            while let Some((batch, run)) = rx.next().await {
                if let Err(e) = storage.put_annotations(batch, Some(run)).await {
                    let e = RunError::from(e);
                    *seen.borrow_mut() = Some(e.clone());
                    result = Err(e);
                    break;
                }
            }
            let _ = done_tx.send(result);
        });
        Writer { tx, done, failed }
    }

    /// Queue waiting results with the run's counters (one transaction each).
    fn write(
        &self,
        run: &mut RunRecord,
        progress: &RunProgress,
        pending: &mut Vec<Annotation>,
    ) -> Result<(), RunError> {
        if let Some(e) = self.failed.borrow().clone() {
            return Err(e);
        }
        run.valid = progress.valid;
        run.invalid = progress.invalid;
        run.failed = progress.failed;
        // The receiver only goes away after a failure, reported above next time.
        let _ = self
            .tx
            .unbounded_send((std::mem::take(pending), run.clone()));
        Ok(())
    }

    /// Wait until everything queued is written.
    async fn finish(self) -> Result<(), RunError> {
        drop(self.tx);
        self.done.await.unwrap_or(Ok(()))
    }
}

/// Progress with the live figures filled in.
fn snapshot(progress: &mut RunProgress, shared: &Shared, started: f64) -> RunProgress {
    let now = mono_ms();
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
    fn a_failed_request_keeps_its_message_and_a_malformed_body() {
        let f = failure(&LlmError::Malformed {
            body: "{\"choices\": [".into(),
        });
        assert_eq!(f.raw, "{\"choices\": [", "the raw body is kept");
        assert!(f.message.contains("not a chat completion"));
        let timeout = LlmError::Timeout { secs: 5 };
        assert_eq!(
            failure(&timeout),
            Failure {
                message: timeout.user_message(),
                raw: "no answer within 5 s".into(),
            }
        );
    }

    #[test]
    fn counts_and_session_rate_of_a_resumed_run() {
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
