//! Chat completions: the request body, reading the answer and its token counts
//! and confidence, and annotating one text.

//! Chat completions: sending one and reading its answer, and annotating one
//! text. The body and the reading of the answer are `fannotate_core::chat`'s,
//! shared with batch files, so a batch line asks exactly what a live run asks.

use super::error::{shorten, LlmError};
use super::http::{auth_headers, check_status, endpoint_url_at, send};
use crate::services::browser::mono_ms;
pub use fannotate_core::chat::estimate_tokens;
use fannotate_core::chat::{chat_body, prompt_chars, Completion, RowRequest};
use fannotate_core::prompt::Message;
use fannotate_core::records::{ChatAnswer, EndpointConfig};
use fannotate_core::Attribute;
use gloo_net::http::Method;
use serde_json::Value;
use web_sys::AbortSignal;

/// Read a chat completion body: the answer, its token counts (estimated from
/// `prompt_chars` when the server sent none) and, when `logprobs` was asked
/// for, its confidence; [`LlmError::Malformed`] when it is not one.
pub fn read_completion(
    body: &str,
    prompt_chars: usize,
    logprobs: bool,
    latency_ms: f64,
) -> Result<ChatAnswer, LlmError> {
    serde_json::from_str::<Value>(body)
        .ok()
        .as_ref()
        .and_then(Completion::from_chat_completion)
        .map(|c| c.into_answer(prompt_chars, logprobs, latency_ms))
        .ok_or_else(|| LlmError::Malformed {
            body: shorten(body),
        })
}

/// Ask the model at `base` (the endpoint's URL or one of its replicas) to annotate
/// one text for one attribute. With replications, replication `replicate` is sent
/// with seed `seed + replicate` (seed 0 when none is set): independent samples
/// that a seeded server can still reproduce.
pub async fn annotate(
    cfg: &EndpointConfig,
    base: &str,
    api_key: &str,
    attribute: &Attribute,
    text: &str,
    replicate: u32,
    cancel: Option<&AbortSignal>,
) -> Result<ChatAnswer, LlmError> {
    let request = RowRequest::new(cfg, attribute, text, replicate);
    let body = request.body(cfg).to_string();
    complete(cfg, base, api_key, &body, request.prompt_chars(), cancel).await
}

/// Send one chat completion with the messages, `extra` fields and cap given
/// (see [`chat_body`]), and read its answer.
pub(super) async fn complete_messages(
    cfg: &EndpointConfig,
    base: &str,
    api_key: &str,
    messages: &[Message],
    extra: Vec<(&'static str, Value)>,
    max_tokens: u32,
    cancel: Option<&AbortSignal>,
) -> Result<ChatAnswer, LlmError> {
    let body = chat_body(cfg, messages, extra, max_tokens).to_string();
    complete(cfg, base, api_key, &body, prompt_chars(messages), cancel).await
}

/// Send one chat completion body and read its answer, token counts and confidence.
async fn complete(
    cfg: &EndpointConfig,
    base: &str,
    api_key: &str,
    body: &str,
    prompt_chars: usize,
    cancel: Option<&AbortSignal>,
) -> Result<ChatAnswer, LlmError> {
    let url = endpoint_url_at(cfg, base, "chat/completions")?;
    let started = mono_ms();
    let r = send(
        cfg,
        Method::POST,
        &url,
        &auth_headers(cfg, api_key),
        Some(body),
        cancel,
    )
    .await?;
    let r = check_status(r)?;
    read_completion(&r.body, prompt_chars, cfg.logprobs, mono_ms() - started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_responses_are_read_or_reported_malformed() {
        let ok = r#"{"choices":[{"message":{"role":"assistant","content":"spam"},"logprobs":{"content":[{"token":"spam","logprob":-0.5}]}}],"usage":{"prompt_tokens":38,"completion_tokens":4}}"#;
        let a = read_completion(ok, 100, true, 12.0).unwrap();
        assert_eq!(
            (
                a.content.as_str(),
                a.tokens_in,
                a.tokens_out,
                a.tokens_estimated
            ),
            ("spam", 38, 4, false)
        );
        assert!((a.confidence.unwrap() - (-0.5f64).exp()).abs() < 1e-12);
        assert_eq!(a.latency_ms, 12.0);
        assert_eq!(
            read_completion(ok, 100, false, 0.0).unwrap().confidence,
            None
        );
        let legacy = r#"{"choices":[{"text":"ham"}]}"#;
        // No usage: estimated from characters (100 prompt chars -> 25, "ham" -> 1), and flagged.
        let a = read_completion(legacy, 100, true, 0.0).unwrap();
        assert_eq!(
            (a.tokens_in, a.tokens_out, a.tokens_estimated),
            (25, 1, true)
        );
        for bad in [
            r#"{"choices": ["#,
            r#"{"choices":[]}"#,
            "<html>502</html>",
            "",
        ] {
            assert!(
                matches!(
                    read_completion(bad, 0, true, 0.0),
                    Err(LlmError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }
}
