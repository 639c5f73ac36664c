//! [`ScriptedClient`]: an LLM client whose answers a test scripts per row,
//! replication, attempt and replica, and which logs every call it gets.

use super::SimRuntime;
use fannotate::services::llm::LlmError;
use fannotate::services::runner::{ChatRequest, LlmClient, Runtime};
use fannotate_core::records::ChatAnswer;
use futures::future::{select, Either, LocalBoxFuture};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Virtual milliseconds an answer takes unless the script says otherwise.
pub const LATENCY_MS: f64 = 100.0;

/// What one call answers, and after how long.
pub struct Reply {
    after_ms: f64,
    result: Result<String, LlmError>,
}

/// Answer `content` after [`LATENCY_MS`].
pub fn answer(content: &str) -> Reply {
    Reply {
        after_ms: LATENCY_MS,
        result: Ok(content.into()),
    }
}

/// Fail with `error` after [`LATENCY_MS`].
pub fn fail(error: LlmError) -> Reply {
    Reply {
        after_ms: LATENCY_MS,
        result: Err(error),
    }
}

/// HTTP `status` with `body`, and a `Retry-After` in seconds when given.
pub fn http(status: u16, body: &str, retry_after: Option<f64>) -> LlmError {
    LlmError::Http {
        status,
        body: body.into(),
        retry_after,
    }
}

impl Reply {
    /// The same reply after `ms` instead.
    pub fn after(self, ms: f64) -> Self {
        Reply {
            after_ms: ms,
            ..self
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// With an answer.
    Answered,
    /// With the scripted error.
    Failed,
    /// Cut short by the run's abort switch.
    Aborted,
}

/// One call the client got.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Row asked about.
    pub row: u32,
    /// Replication of the row.
    pub replicate: u32,
    /// Attempt at that replication.
    pub attempt: u32,
    /// Base URL asked.
    pub url: String,
    /// Virtual time the call started.
    pub start: f64,
    /// Virtual time it ended, once it has.
    pub end: Option<f64>,
    /// How it ended, once it has.
    pub outcome: Option<Outcome>,
}

/// Answers as scripted, in virtual time, and logs every call.
pub struct ScriptedClient {
    rt: Rc<SimRuntime>,
    script: Box<dyn Fn(&Call) -> Reply>,
    calls: RefCell<Vec<Call>>,
    in_flight: Cell<u32>,
    max_in_flight: Cell<u32>,
}

impl ScriptedClient {
    /// A client on `rt`'s clock answering each call as `script` says.
    pub fn new(rt: Rc<SimRuntime>, script: impl Fn(&Call) -> Reply + 'static) -> Self {
        ScriptedClient {
            rt,
            script: Box::new(script),
            calls: RefCell::default(),
            in_flight: Cell::new(0),
            max_in_flight: Cell::new(0),
        }
    }

    /// Every call so far, in the order they started.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    /// Calls now unanswered.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.get()
    }

    /// Most calls unanswered at once so far.
    pub fn max_in_flight(&self) -> u32 {
        self.max_in_flight.get()
    }
}

impl LlmClient for ScriptedClient {
    fn annotate<'a>(
        &'a self,
        r: ChatRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<ChatAnswer, LlmError>> {
        let call = Call {
            row: r.row,
            replicate: r.replicate,
            attempt: r.attempt,
            url: r.base_url.to_string(),
            start: self.rt.mono_ms(),
            end: None,
            outcome: None,
        };
        let reply = (self.script)(&call);
        let index = {
            let mut calls = self.calls.borrow_mut();
            calls.push(call);
            calls.len() - 1
        };
        self.in_flight.set(self.in_flight.get() + 1);
        self.max_in_flight
            .set(self.max_in_flight.get().max(self.in_flight.get()));
        Box::pin(async move {
            // Like a fetch carrying the run's abort signal: an abort ends it at once.
            let aborted = matches!(
                select(self.rt.sleep(reply.after_ms), r.abort.aborted()).await,
                Either::Right(_)
            );
            self.in_flight.set(self.in_flight.get() - 1);
            let (outcome, result) = match (aborted, reply.result) {
                (true, _) => (Outcome::Aborted, Err(LlmError::Cancelled)),
                (false, Ok(content)) => (
                    Outcome::Answered,
                    Ok(ChatAnswer {
                        content,
                        tokens_in: 10,
                        tokens_out: 1,
                        tokens_estimated: false,
                        confidence: None,
                        latency_ms: reply.after_ms,
                    }),
                ),
                (false, Err(e)) => (Outcome::Failed, Err(e)),
            };
            let mut calls = self.calls.borrow_mut();
            calls[index].end = Some(self.rt.mono_ms());
            calls[index].outcome = Some(outcome);
            result
        })
    }
}
