//! [`execute`]: a run's request loop, from its tasks to its final record.

use super::control::RunControl;
use super::deps::RunDeps;
use super::error::RunError;
use super::progress::{Counts, RunEvent, RunProgress};
use super::requests::{snapshot, RunTask, Shared};
use super::writer::Writer;
use crate::services::llm::LlmError;
use fannotate_core::chat::replications;
use fannotate_core::records::{
    Annotation, AnnotationStatus, ChatAnswer, Failure, Pool, RunRecord, RunStatus, TokenBucket,
};
use fannotate_core::Attribute;
use futures::channel::mpsc;
use futures::future::{select, Either, LocalBoxFuture};
use futures::StreamExt;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Results are written at least this often (milliseconds) …
const FLUSH_INTERVAL_MS: f64 = 1000.0;
/// … or whenever this many are waiting.
const FLUSH_BATCH: usize = 50;
/// Progress is reported at most this often (milliseconds): at hundreds of
/// answers a second, redrawing for each would cost more than the requests, and
/// four updates a second read as live.
const PROGRESS_INTERVAL_MS: f64 = 250.0;

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

/// Run `tasks` through the endpoint of `run`, persisting every result; `base`
/// holds the outcomes of rows finished earlier (a resumed or retried run). Returns
/// the final run record (completed, cancelled or failed). `deps` says where
/// results go, what answers the requests and whose clock the run keeps: in the
/// app [`RunDeps::browser`].
#[allow(clippy::too_many_arguments)]
pub async fn execute(
    deps: RunDeps,
    mut run: RunRecord,
    attribute: Attribute,
    api_key: String,
    tasks: Vec<RunTask>,
    base: Counts,
    control: RunControl,
    on_event: impl Fn(RunEvent<'_>),
) -> Result<RunRecord, RunError> {
    let RunDeps {
        storage,
        client,
        runtime: rt,
    } = deps;
    let on_progress = |p: RunProgress| on_event(RunEvent::Progress(p));
    let started = rt.mono_ms();
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
    // As many requests per row as a batch file of this run holds.
    let replications = replications(&run.endpoint, &attribute);
    let concurrency = run.endpoint.concurrency.clamp(1, 256) as usize;
    let shared = Rc::new(Shared {
        client,
        rt: rt.clone(),
        pool: RefCell::new(Pool::new(urls.len())),
        urls,
        bucket: RefCell::new(
            run.endpoint
                .requests_per_minute
                .map(|rpm| TokenBucket::per_minute(rpm, rt.mono_ms())),
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
    rt.spawn(Box::pin(async move {
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
    }));

    let writer = Writer::start(storage, &*rt, control.clone());
    let mut pending: Vec<Annotation> = Vec::new();
    let mut last_flush = rt.mono_ms();
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
                    rt.sleep(PROGRESS_INTERVAL_MS).await
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
                    last_flush = rt.mono_ms();
                    continue;
                }
                Woke::Tick => {
                    last_progress = rt.mono_ms();
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
        let a =
            Annotation::from_answers(&run.dataset_id, &run.id, &attribute, row, &res, rt.now_ms());
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
        let now = rt.mono_ms();
        if pending.len() >= FLUSH_BATCH || now - last_flush >= FLUSH_INTERVAL_MS {
            if let Err(e) = writer.write(&mut run, &progress, &mut pending) {
                // Nothing more can be saved (e.g. the disk is full): stop asking.
                control.cancel();
                return Err(e);
            }
            flush_timer = None;
            last_flush = rt.mono_ms();
        } else if flush_timer.is_none() {
            flush_timer = Some(rt.sleep(FLUSH_INTERVAL_MS - (now - last_flush)));
        }
        if now - last_progress >= PROGRESS_INTERVAL_MS {
            last_progress = now;
            on_progress(snapshot(&mut progress, &shared, started));
        }
    }
    run.finished_at = Some(rt.now_ms());
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
}
