//! Chat completions: the request body, reading the answer and its token counts
//! and confidence, and annotating one text.

use super::error::{shorten, LlmError};
use super::http::{auth_headers, check_status, endpoint_url_at, send};
use crate::services::browser::mono_ms;
use fannotate_core::prompt::{constraint_fields, render_messages, Message, PromptOptions};
use fannotate_core::records::{ChatAnswer, EndpointConfig};
use fannotate_core::{Attribute, AttributeKind};
use gloo_net::http::Method;
use serde_json::{json, Map, Value};
use web_sys::AbortSignal;

/// Rough tokens of a text when the server reports none: about four characters
/// a token for English-like text, rounded up.
pub fn estimate_tokens(chars: usize) -> u32 {
    chars.div_ceil(4) as u32
}

/// The request body for one chat completion.
pub fn chat_body(
    cfg: &EndpointConfig,
    messages: &[Message],
    extra: Vec<(&'static str, Value)>,
    max_tokens: u32,
) -> String {
    let mut body = Map::new();
    body.insert("model".into(), json!(cfg.model));
    body.insert("messages".into(), json!(messages));
    body.insert("temperature".into(), json!(cfg.temperature));
    // Always cap generation: without it a server may run until the context is full.
    body.insert("max_tokens".into(), json!(max_tokens));
    body.insert("stream".into(), json!(false));
    if cfg.logprobs {
        body.insert("logprobs".into(), json!(true));
    }
    if let Some(p) = cfg.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(seed) = cfg.seed {
        body.insert("seed".into(), json!(seed));
    }
    for (k, v) in extra {
        body.insert(k.into(), v);
    }
    Value::Object(body).to_string()
}

/// Read the answer text and token counts from a chat completion body.
pub fn parse_chat_response(
    body: &str,
    prompt_chars: usize,
) -> Result<(String, u32, u32, bool), LlmError> {
    let bad = || LlmError::Malformed {
        body: shorten(body),
    };
    let v: Value = serde_json::from_str(body).map_err(|_| bad())?;
    let content = v
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .or_else(|| v.pointer("/choices/0/text").and_then(Value::as_str))
        .ok_or_else(bad)?;
    let tok = |p: &str| v.pointer(p).and_then(Value::as_u64).map(|n| n as u32);
    Ok(
        match (tok("/usage/prompt_tokens"), tok("/usage/completion_tokens")) {
            (Some(i), Some(o)) => (content.to_string(), i, o, false),
            _ => (
                content.to_string(),
                estimate_tokens(prompt_chars),
                estimate_tokens(content.chars().count()),
                true,
            ),
        },
    )
}

/// Probability of the answer: the product of its tokens' probabilities, from
/// `choices[0].logprobs.content[].logprob`. `None` when the server sent none.
pub fn answer_confidence(body: &str) -> Option<f64> {
    let v: Value = serde_json::from_str(body).ok()?;
    let tokens = v.pointer("/choices/0/logprobs/content")?.as_array()?;
    if tokens.is_empty() {
        return None;
    }
    let sum: f64 = tokens
        .iter()
        .map(|t| t.get("logprob").and_then(Value::as_f64))
        .sum::<Option<f64>>()?;
    Some(sum.exp().clamp(0.0, 1.0))
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
    let opts = PromptOptions {
        max_text_chars: Some(cfg.max_text_chars as usize),
        system: cfg.system_prompt.clone(),
        ..Default::default()
    };
    let messages = render_messages(attribute, text, &opts);
    let max_tokens = match attribute.kind {
        AttributeKind::Categorical => cfg.max_tokens.max(cfg.constraint.min_max_tokens()),
        _ => cfg.free_text_max_tokens,
    };
    let mut extra = constraint_fields(attribute, cfg.constraint);
    if cfg.replications > 1 {
        let seed = cfg.seed.unwrap_or(0).wrapping_add(u64::from(replicate));
        extra.push(("seed", json!(seed)));
    }
    complete(cfg, base, api_key, &messages, extra, max_tokens, cancel).await
}

/// Send one chat completion and read its answer, token counts and confidence.
pub(super) async fn complete(
    cfg: &EndpointConfig,
    base: &str,
    api_key: &str,
    messages: &[Message],
    extra: Vec<(&'static str, Value)>,
    max_tokens: u32,
    cancel: Option<&AbortSignal>,
) -> Result<ChatAnswer, LlmError> {
    let body = chat_body(cfg, messages, extra, max_tokens);
    let url = endpoint_url_at(cfg, base, "chat/completions")?;
    let started = mono_ms();
    let r = send(
        cfg,
        Method::POST,
        &url,
        &auth_headers(cfg, api_key),
        Some(&body),
        cancel,
    )
    .await?;
    let r = check_status(r)?;
    let prompt_chars = messages.iter().map(|m| m.content.chars().count()).sum();
    let (content, tokens_in, tokens_out, tokens_estimated) =
        parse_chat_response(&r.body, prompt_chars)?;
    Ok(ChatAnswer {
        confidence: if cfg.logprobs {
            answer_confidence(&r.body)
        } else {
            None
        },
        content,
        tokens_in,
        tokens_out,
        tokens_estimated,
        latency_ms: mono_ms() - started,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fannotate_core::prompt::Constraint;
    use fannotate_core::Category;

    use super::super::test_endpoint as cfg;

    #[test]
    fn chat_body_always_caps_tokens_and_carries_the_constraint() {
        let a = Attribute::categorical(
            "s",
            "<<text>>",
            vec![Category::new("ham", ""), Category::new("spam", "")],
        );
        let mut c = cfg();
        c.system_prompt = Some("Be brief.".into());
        let opts = PromptOptions {
            system: c.system_prompt.clone(),
            ..Default::default()
        };
        let messages = render_messages(&a, "hi", &opts);
        let body: Value = serde_json::from_str(&chat_body(
            &c,
            &messages,
            constraint_fields(&a, Constraint::Grammar),
            8,
        ))
        .unwrap();
        assert_eq!(body["model"], "smollm2");
        assert_eq!(body["max_tokens"], 8);
        assert_eq!(body["temperature"], 0.3);
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][0]["content"], "Be brief.");
        assert_eq!(body["messages"][1]["content"], "hi");
        assert_eq!(body["grammar"], r#"root ::= "ham" | "spam""#);
        assert_eq!(body["stream"], false);
        assert!(body.get("top_p").is_none() && body.get("seed").is_none());
        c.top_p = Some(0.9);
        c.seed = Some(7);
        let body: Value = serde_json::from_str(&chat_body(&c, &messages, Vec::new(), 8)).unwrap();
        assert_eq!(body["top_p"], 0.9);
        assert_eq!(body["seed"], 7);
    }

    #[test]
    fn chat_responses_are_read_or_reported_malformed() {
        let ok = r#"{"choices":[{"message":{"role":"assistant","content":"spam"}}],"usage":{"prompt_tokens":38,"completion_tokens":4}}"#;
        assert_eq!(
            parse_chat_response(ok, 100).unwrap(),
            ("spam".to_string(), 38, 4, false)
        );
        let legacy = r#"{"choices":[{"text":"ham"}]}"#;
        // No usage: estimated from characters (100 prompt chars -> 25, "ham" -> 1), and flagged.
        assert_eq!(
            parse_chat_response(legacy, 100).unwrap(),
            ("ham".to_string(), 25, 1, true)
        );
        for bad in [
            r#"{"choices": ["#,
            r#"{"choices":[]}"#,
            "<html>502</html>",
            "",
        ] {
            assert!(
                matches!(parse_chat_response(bad, 0), Err(LlmError::Malformed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn confidence_is_the_product_of_token_probabilities() {
        let body = r#"{"choices":[{"message":{"content":"spam"},"logprobs":{"content":[{"token":"sp","logprob":-0.1},{"token":"am","logprob":-0.2}]}}]}"#;
        assert!((answer_confidence(body).unwrap() - (-0.3f64).exp()).abs() < 1e-12);
        assert_eq!(
            answer_confidence(r#"{"choices":[{"message":{"content":"x"}}]}"#),
            None
        );
        assert_eq!(
            answer_confidence(r#"{"choices":[{"logprobs":{"content":[]}}]}"#),
            None
        );
        assert_eq!(answer_confidence("nope"), None);
    }
}
