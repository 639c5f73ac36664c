//! One chat completion as Fannotate asks for it: the request the live runner
//! sends for one replication of one row, and how its answer is read.
//!
//! The live runner (in the app) and batch files ([`crate::batch`]) both build
//! their bodies with [`RowRequest`] and read answers with [`Completion`], so a
//! batch line carries byte for byte the body a live run would send, and an
//! answer that comes back from a batch engine is read exactly as a live one.

use crate::codebook::{Attribute, AttributeKind};
use crate::prompt::{constraint_fields, render_messages, Message, PromptOptions};
use crate::records::{ChatAnswer, EndpointConfig};
use serde_json::{json, Map, Value};

/// Most replications a run asks per row: beyond this a majority vote hardly
/// moves, and the cost grows linearly.
pub const MAX_REPLICATIONS: u32 = 20;

/// Rough tokens of a text when the server reports none: about four characters
/// a token for English-like text, rounded up.
pub fn estimate_tokens(chars: usize) -> u32 {
    chars.div_ceil(4) as u32
}

/// The prompt options an endpoint's settings imply (text cut, system message).
pub fn prompt_options(cfg: &EndpointConfig) -> PromptOptions {
    PromptOptions {
        max_text_chars: Some(cfg.max_text_chars as usize),
        system: cfg.system_prompt.clone(),
        ..Default::default()
    }
}

/// The generation cap for one answer: categorical answers get at least what
/// their constraint needs (a JSON object needs room for its braces), free text
/// its own, larger cap.
pub fn max_tokens(cfg: &EndpointConfig, attribute: &Attribute) -> u32 {
    match attribute.kind {
        AttributeKind::Categorical => cfg.max_tokens.max(cfg.constraint.min_max_tokens()),
        _ => cfg.free_text_max_tokens,
    }
}

/// How many requests a run sends per row: the endpoint's replications for a
/// categorical attribute (at most [`MAX_REPLICATIONS`]), one for free text,
/// since majority votes only make sense over labels.
pub fn replications(cfg: &EndpointConfig, attribute: &Attribute) -> u32 {
    if attribute.kind == AttributeKind::Categorical {
        cfg.replications.clamp(1, MAX_REPLICATIONS)
    } else {
        1
    }
}

/// The request body for one chat completion: the endpoint's sampling settings,
/// the messages, a generation cap and `extra` fields (constraints, a seed),
/// which override the settings of the same name.
pub fn chat_body(
    cfg: &EndpointConfig,
    messages: &[Message],
    extra: Vec<(&'static str, Value)>,
    max_tokens: u32,
) -> Value {
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
    Value::Object(body)
}

/// What is asked for one replication of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowRequest {
    /// The rendered messages (system message first, if any).
    pub messages: Vec<Message>,
    /// Body fields beyond the endpoint's settings: the constraint and, with
    /// replications, the replication's seed.
    pub extra: Vec<(&'static str, Value)>,
    /// The generation cap.
    pub max_tokens: u32,
}

impl RowRequest {
    /// The request for replication `replicate` of `text`. With replications,
    /// replication `replicate` is sent with seed `seed + replicate` (seed 0 when
    /// none is set): independent samples that a seeded server can still reproduce.
    pub fn new(cfg: &EndpointConfig, attribute: &Attribute, text: &str, replicate: u32) -> Self {
        let messages = render_messages(attribute, text, &prompt_options(cfg));
        let mut extra = constraint_fields(attribute, cfg.constraint);
        if cfg.replications > 1 {
            let seed = cfg.seed.unwrap_or(0).wrapping_add(u64::from(replicate));
            extra.push(("seed", json!(seed)));
        }
        RowRequest {
            messages,
            extra,
            max_tokens: max_tokens(cfg, attribute),
        }
    }

    /// The chat completion body (see [`chat_body`]).
    pub fn body(&self, cfg: &EndpointConfig) -> Value {
        chat_body(cfg, &self.messages, self.extra.clone(), self.max_tokens)
    }

    /// Characters of the prompt, for estimating tokens when a server reports none.
    pub fn prompt_chars(&self) -> usize {
        prompt_chars(&self.messages)
    }
}

/// Characters of a prompt's messages, for estimating tokens when a server
/// reports none.
pub fn prompt_chars(messages: &[Message]) -> usize {
    messages.iter().map(|m| m.content.chars().count()).sum()
}

/// Token counts a server reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub input: u32,
    /// Completion tokens.
    pub output: u32,
}

/// An answer as a server sent it, before the prompt's size and the endpoint's
/// settings turn it into a [`ChatAnswer`].
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The assistant message text.
    pub content: String,
    /// Token counts, when the server reported both.
    pub usage: Option<Usage>,
    /// Probability of the answer from token log-probabilities, when sent.
    pub confidence: Option<f64>,
}

impl Completion {
    /// Read an OpenAI-style chat completion body (`choices[0].message.content`,
    /// or a legacy completion's `choices[0].text`). `None` when it is not one.
    pub fn from_chat_completion(v: &Value) -> Option<Self> {
        let content = v
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .or_else(|| v.pointer("/choices/0/text").and_then(Value::as_str))?;
        let tok = |p: &str| v.pointer(p).and_then(Value::as_u64).map(|n| n as u32);
        let usage = match (tok("/usage/prompt_tokens"), tok("/usage/completion_tokens")) {
            (Some(input), Some(output)) => Some(Usage { input, output }),
            _ => None,
        };
        Some(Completion {
            content: content.to_string(),
            usage,
            confidence: answer_confidence(v),
        })
    }

    /// Read an Anthropic Messages API message: its text blocks joined, and its
    /// `usage.input_tokens`/`output_tokens`. `None` when it has no `content` list.
    /// Anthropic sends no log-probabilities, so there is no confidence.
    pub fn from_anthropic_message(v: &Value) -> Option<Self> {
        let blocks = v.get("content")?.as_array()?;
        let content: String = blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        let tok = |p: &str| v.pointer(p).and_then(Value::as_u64).map(|n| n as u32);
        let usage = match (tok("/usage/input_tokens"), tok("/usage/output_tokens")) {
            (Some(input), Some(output)) => Some(Usage { input, output }),
            _ => None,
        };
        Some(Completion {
            content,
            usage,
            confidence: None,
        })
    }

    /// The answer a run keeps: the reported token counts, or estimates from
    /// `prompt_chars` and the answer's length (flagged as such); a confidence
    /// only when the endpoint asked for log-probabilities.
    pub fn into_answer(self, prompt_chars: usize, logprobs: bool, latency_ms: f64) -> ChatAnswer {
        let (tokens_in, tokens_out, tokens_estimated) = match self.usage {
            Some(u) => (u.input, u.output, false),
            None => (
                estimate_tokens(prompt_chars),
                estimate_tokens(self.content.chars().count()),
                true,
            ),
        };
        ChatAnswer {
            confidence: if logprobs { self.confidence } else { None },
            content: self.content,
            tokens_in,
            tokens_out,
            tokens_estimated,
            latency_ms,
        }
    }
}

/// Probability of the answer: the product of its tokens' probabilities, from
/// `choices[0].logprobs.content[].logprob`. `None` when the server sent none.
pub fn answer_confidence(v: &Value) -> Option<f64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Constraint;
    use crate::records::Provider;
    use crate::Category;

    fn cfg() -> EndpointConfig {
        let mut c = EndpointConfig::new(
            "p",
            Provider::LlamaCpp,
            Some("http://127.0.0.1:8081/v1"),
            Some("smollm2"),
        );
        c.temperature = 0.3;
        c
    }

    fn spam() -> Attribute {
        Attribute::categorical(
            "s",
            "<<text>>",
            vec![Category::new("ham", ""), Category::new("spam", "")],
        )
    }

    #[test]
    fn chat_body_always_caps_tokens_and_carries_the_constraint() {
        let a = spam();
        let mut c = cfg();
        c.system_prompt = Some("Be brief.".into());
        let messages = render_messages(&a, "hi", &prompt_options(&c));
        let body = chat_body(&c, &messages, constraint_fields(&a, Constraint::Grammar), 8);
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
        let body = chat_body(&c, &messages, Vec::new(), 8);
        assert_eq!(body["top_p"], 0.9);
        assert_eq!(body["seed"], 7);
    }

    #[test]
    fn a_row_request_seeds_each_replication_and_keeps_the_key_order() {
        let a = spam();
        let mut c = cfg();
        c.constraint = Constraint::JsonSchema;
        c.max_tokens = 4;
        c.seed = Some(10);
        let one = RowRequest::new(&c, &a, "hi", 0).body(&c);
        assert!(one.get("seed").is_some_and(|s| s == 10));
        assert_eq!(one["max_tokens"], 48, "JSON needs room for its braces");
        c.replications = 3;
        let third = RowRequest::new(&c, &a, "hi", 2).body(&c);
        assert_eq!(third["seed"], 12);
        // The replication's seed replaces the setting in place, so the body
        // reads the same whichever way the seed came about.
        let keys: Vec<&str> = third
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "model",
                "messages",
                "temperature",
                "max_tokens",
                "stream",
                "logprobs",
                "seed",
                "response_format"
            ]
        );
        let mut free = spam();
        free.kind = AttributeKind::FreeText;
        assert_eq!(replications(&c, &a), 3);
        assert_eq!(replications(&c, &free), 1);
        c.replications = 500;
        assert_eq!(replications(&c, &a), MAX_REPLICATIONS);
        assert_eq!(
            RowRequest::new(&c, &free, "hi", 0).max_tokens,
            c.free_text_max_tokens
        );
    }

    #[test]
    fn completions_are_read_with_their_usage_or_an_estimate() {
        let ok: Value = serde_json::from_str(r#"{"choices":[{"message":{"role":"assistant","content":"spam"}}],"usage":{"prompt_tokens":38,"completion_tokens":4}}"#).unwrap();
        let a = Completion::from_chat_completion(&ok)
            .unwrap()
            .into_answer(100, true, 5.0);
        assert_eq!(
            (
                a.content.as_str(),
                a.tokens_in,
                a.tokens_out,
                a.tokens_estimated
            ),
            ("spam", 38, 4, false)
        );
        let legacy: Value = serde_json::from_str(r#"{"choices":[{"text":"ham"}]}"#).unwrap();
        // No usage: estimated from characters (100 prompt chars -> 25, "ham" -> 1), and flagged.
        let a = Completion::from_chat_completion(&legacy)
            .unwrap()
            .into_answer(100, true, 0.0);
        assert_eq!(
            (a.tokens_in, a.tokens_out, a.tokens_estimated),
            (25, 1, true)
        );
        for bad in [r#"{"choices":[]}"#, r#"{"choices":[{"message":{}}]}"#, "3"] {
            let v: Value = serde_json::from_str(bad).unwrap();
            assert_eq!(Completion::from_chat_completion(&v), None, "{bad}");
        }
        let msg: Value = serde_json::from_str(r#"{"content":[{"type":"text","text":"sp"},{"type":"tool_use"},{"type":"text","text":"am"}],"usage":{"input_tokens":9,"output_tokens":2}}"#).unwrap();
        let c = Completion::from_anthropic_message(&msg).unwrap();
        assert_eq!(c.content, "spam");
        assert_eq!(
            c.usage,
            Some(Usage {
                input: 9,
                output: 2
            })
        );
    }

    #[test]
    fn confidence_is_the_product_of_token_probabilities() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let body = v(
            r#"{"choices":[{"message":{"content":"spam"},"logprobs":{"content":[{"token":"sp","logprob":-0.1},{"token":"am","logprob":-0.2}]}}]}"#,
        );
        assert!((answer_confidence(&body).unwrap() - (-0.3f64).exp()).abs() < 1e-12);
        let c = Completion::from_chat_completion(&body).unwrap();
        assert_eq!(c.clone().into_answer(0, false, 0.0).confidence, None);
        assert!(c.into_answer(0, true, 0.0).confidence.is_some());
        assert_eq!(
            answer_confidence(&v(r#"{"choices":[{"message":{"content":"x"}}]}"#)),
            None
        );
        assert_eq!(
            answer_confidence(&v(r#"{"choices":[{"logprobs":{"content":[]}}]}"#)),
            None
        );
    }
}
