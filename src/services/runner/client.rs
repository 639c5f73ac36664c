//! [`LlmClient`]: what answers a run's chat requests, and [`HttpClient`], the
//! one that asks the endpoint.

use super::abort::Abort;
use crate::services::llm::{annotate, LlmError};
use fannotate_core::records::{ChatAnswer, EndpointConfig};
use fannotate_core::Attribute;
use futures::future::LocalBoxFuture;

/// One attempt at one request of a run.
#[derive(Clone, Copy)]
pub struct ChatRequest<'a> {
    /// The run's endpoint settings.
    pub endpoint: &'a EndpointConfig,
    /// The base URL picked for this attempt (the endpoint's or a replica's).
    pub base_url: &'a str,
    /// The key for the endpoint (may be empty).
    pub api_key: &'a str,
    /// The attribute asked for.
    pub attribute: &'a Attribute,
    /// The text to annotate.
    pub text: &'a str,
    /// The row the text is from.
    pub row: u32,
    /// Which replication of the row this is (0 without replications).
    pub replicate: u32,
    /// Which attempt at this replication this is (0 first, then retries).
    pub attempt: u32,
    /// Thrown when the run is cancelled: the answer is then
    /// [`LlmError::Cancelled`], as soon as may be.
    pub abort: &'a Abort,
}

/// What answers a run's chat requests.
///
/// A trait so that a host test can script the answers (fail twice, then
/// answer; answer differently on each replica) and run the whole request loop
/// without a server or a browser. One boxed future per request is all it costs.
pub trait LlmClient {
    /// Answer one attempt.
    fn annotate<'a>(
        &'a self,
        request: ChatRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<ChatAnswer, LlmError>>;
}

/// Asks the endpoint over `fetch`, aborting with the run's switch.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpClient;

impl LlmClient for HttpClient {
    fn annotate<'a>(
        &'a self,
        r: ChatRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<ChatAnswer, LlmError>> {
        Box::pin(async move {
            let signal = r.abort.signal();
            annotate(
                r.endpoint,
                r.base_url,
                r.api_key,
                r.attribute,
                r.text,
                r.replicate,
                signal.as_ref(),
            )
            .await
        })
    }
}
