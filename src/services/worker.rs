//! The compute worker (`crates/worker`) from the page's side. It starts on
//! first use and takes jobs one at a time ([`fannotate_core::jobs`]); large
//! columns are transferred, not copied. Cancelling terminates it, which also
//! gives its memory back; a worker that dies fails its jobs with
//! [`WorkerError::Crashed`], and the next job starts a fresh one.

use super::browser::asset_base;
use fannotate_core::aggregate::AggregateMethod;
use fannotate_core::jobs::{FromWorker, Job, JobOutput, Payload, ToWorker, NO_LABEL};
use fannotate_core::metrics::{BootstrapCis, Interned};
use fannotate_core::student::distil::{DistilInput, DistilReport};
use futures::channel::oneshot;
use js_sys::{Array, Object, Reflect, Uint32Array, Uint8Array};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, Event, MessageEvent, Worker};

/// The worker's start-up script, beside the app's other files (Trunk writes
/// it for `index.html`'s `data-type="worker"` link).
pub const WORKER_SCRIPT: &str = "fannotate-worker_loader.js";

/// Why a job did not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkerError {
    /// No worker could start here (its files missing, or a host page on
    /// another origin): the caller computes on the page instead.
    #[error("the compute worker could not start ({0})")]
    Unavailable(String),
    /// The worker died during the job (out of memory, a bug).
    #[error("the compute worker stopped unexpectedly ({0})")]
    Crashed(String),
    /// The job was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The worker refused the job.
    #[error("{0}")]
    Job(String),
}

impl WorkerError {
    /// A sentence for the user.
    pub fn user_message(&self) -> String {
        match self {
            WorkerError::Unavailable(why) => format!("The compute worker could not start ({why})."),
            WorkerError::Crashed(why) => format!(
                "The compute worker stopped unexpectedly ({why}). Try again; if it keeps failing, reload the page."
            ),
            WorkerError::Cancelled => "Cancelled.".into(),
            WorkerError::Job(why) => format!("The calculation failed: {why}."),
        }
    }
}

/// What a caller hears while its job runs: steps done and in all.
pub type OnProgress = Box<dyn Fn(u64, u64)>;

struct Pending {
    progress: OnProgress,
    done: oneshot::Sender<Result<JobOutput, WorkerError>>,
}

/// A started worker and the jobs it owes.
struct Live {
    worker: Worker,
    /// Whether it said it listens; jobs wait in `queued` until then.
    ready: bool,
    queued: Vec<(JsValue, Array)>,
    pending: HashMap<u32, Pending>,
    // Kept for as long as the worker: dropping them unhooks the handlers.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

#[derive(Default)]
struct Inner {
    live: Option<Live>,
    next_id: u32,
}

/// The page's handle on its compute worker (cheap to clone; one per mounted app).
#[derive(Clone, Default)]
pub struct ComputeWorker {
    inner: Rc<RefCell<Inner>>,
}

impl ComputeWorker {
    /// Run `job` on `payload` in the worker, telling `progress` as it goes.
    async fn run(
        &self,
        job: Job,
        payload: Payload,
        progress: impl Fn(u64, u64) + 'static,
    ) -> Result<JobOutput, WorkerError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.inner.borrow_mut();
            inner.next_id = inner.next_id.wrapping_add(1);
            let id = inner.next_id;
            if inner.live.is_none() {
                inner.live = Some(self.start()?);
            }
            let Some(live) = inner.live.as_mut() else {
                return Err(WorkerError::Unavailable("not started".into()));
            };
            let (msg, transfer) = message(id, job, payload);
            live.pending.insert(
                id,
                Pending {
                    progress: Box::new(progress),
                    done: tx,
                },
            );
            if live.ready {
                post(&live.worker, &msg, &transfer);
            } else {
                live.queued.push((msg, transfer));
            }
        }
        rx.await.unwrap_or(Err(WorkerError::Cancelled))
    }

    /// Bootstrap intervals of interned rows ([`Job::bootstrap`]).
    pub async fn bootstrap(
        &self,
        coded: Interned,
        resamples: usize,
        level: f64,
        seed: u64,
        progress: impl Fn(u64, u64) + 'static,
    ) -> Result<BootstrapCis, WorkerError> {
        let (job, payload) = Job::bootstrap(coded, resamples, level, seed);
        match self.run(job, payload, progress).await? {
            JobOutput::Bootstrap { cis } => Ok(cis),
            _ => Err(WorkerError::Job("the worker answered another job".into())),
        }
    }

    /// Train and measure a student ([`Job::distil`]).
    pub async fn distil(
        &self,
        input: &DistilInput,
        progress: impl Fn(u64, u64) + 'static,
    ) -> Result<DistilReport, WorkerError> {
        let (job, payload) = Job::distil(input);
        match self.run(job, payload, progress).await? {
            JobOutput::Distil { report } => Ok(*report),
            _ => Err(WorkerError::Job("the worker answered another job".into())),
        }
    }

    /// One label (and its probability) per row from several runs' labels
    /// ([`Job::aggregate`]).
    pub async fn aggregate(
        &self,
        per_run: &[Vec<Option<u32>>],
        method: AggregateMethod,
    ) -> Result<Vec<Option<(u32, f64)>>, WorkerError> {
        let (job, payload) = Job::aggregate(per_run, method);
        match self.run(job, payload, |_, _| {}).await? {
            JobOutput::Aggregate {
                labels,
                probability,
            } => Ok(labels
                .into_iter()
                .zip(probability)
                .map(|(c, p)| (c != NO_LABEL).then_some((c, p)))
                .collect()),
            _ => Err(WorkerError::Job("the worker answered another job".into())),
        }
    }

    /// Stop every job: the worker is terminated (its memory freed) and the
    /// next job starts a new one.
    pub fn cancel(&self) {
        self.stop(|_| WorkerError::Cancelled);
    }

    /// Whether a worker is running (it is terminated after a cancel or a crash).
    pub fn is_running(&self) -> bool {
        self.inner.borrow().live.is_some()
    }

    /// Terminate the worker and fail its jobs with `why`.
    fn stop(&self, why: impl Fn(bool) -> WorkerError) {
        let live = self.inner.borrow_mut().live.take();
        if let Some(live) = live {
            live.worker.terminate();
            for (_, p) in live.pending {
                let _ = p.done.send(Err(why(live.ready)));
            }
        }
    }

    fn start(&self) -> Result<Live, WorkerError> {
        let url = format!("{}{WORKER_SCRIPT}", asset_base());
        let worker = Worker::new(&url).map_err(|e| WorkerError::Unavailable(js_text(&e)))?;
        let me = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(text) = e.data().as_string() else {
                return;
            };
            match serde_json::from_str::<FromWorker>(&text) {
                Ok(msg) => me.receive(msg),
                Err(err) => me.stop(|_| WorkerError::Crashed(format!("bad message: {err}"))),
            }
        });
        let me = self.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            e.prevent_default();
            // A script that fails to load fires a plain Event, an uncaught
            // exception an ErrorEvent with its message.
            let what = match e.dyn_ref::<ErrorEvent>().map(ErrorEvent::message) {
                Some(m) if !m.is_empty() => m,
                _ => "its script or WebAssembly did not load".to_string(),
            };
            // Before "ready" the script or its wasm did not load: no worker here.
            me.stop(|ready| match ready {
                true => WorkerError::Crashed(what.clone()),
                false => WorkerError::Unavailable(what.clone()),
            });
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Live {
            worker,
            ready: false,
            queued: Vec::new(),
            pending: HashMap::new(),
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    fn receive(&self, msg: FromWorker) {
        let mut inner = self.inner.borrow_mut();
        let Some(live) = inner.live.as_mut() else {
            return;
        };
        match msg {
            FromWorker::Ready => {
                live.ready = true;
                for (msg, transfer) in std::mem::take(&mut live.queued) {
                    post(&live.worker, &msg, &transfer);
                }
            }
            FromWorker::Progress { id, done, total } => {
                if let Some(p) = live.pending.get(&id) {
                    (p.progress)(done, total);
                }
            }
            FromWorker::Done { id, output } => {
                if let Some(p) = live.pending.remove(&id) {
                    let _ = p.done.send(Ok(output));
                }
            }
            FromWorker::Failed { id, message } => {
                if let Some(p) = live.pending.remove(&id) {
                    let _ = p.done.send(Err(WorkerError::Job(message)));
                }
            }
        }
    }
}

/// `{id, msg, columns, text}` and the buffers to transfer with it.
fn message(id: u32, job: Job, payload: Payload) -> (JsValue, Array) {
    let json = serde_json::to_string(&ToWorker { id, job }).unwrap_or_default();
    let columns: Array = payload
        .columns
        .iter()
        .map(|c| Uint32Array::from(c.as_slice()).buffer())
        .collect();
    let text = Uint8Array::from(payload.text.as_slice()).buffer();
    let msg = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&msg, &JsValue::from_str(k), v);
    let _ = (
        set("id", &JsValue::from(id)),
        set("msg", &JsValue::from_str(&json)),
        set("columns", &columns),
        set("text", &text),
    );
    let transfer = columns.concat(&Array::of1(&text));
    (msg.into(), transfer)
}

fn post(worker: &Worker, msg: &JsValue, transfer: &Array) {
    // Only fails for a detached buffer, which these fresh ones are not.
    let _ = worker.post_message_with_transfer(msg, transfer);
}

fn js_text(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
