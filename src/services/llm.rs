//! Calling an OpenAI-compatible endpoint straight from the browser.
//!
//! Failures are classified so the user learns what to fix: a browser only reports
//! "failed to fetch" for both a blocked CORS response and an unreachable server, so
//! after such a failure we probe the URL in `no-cors` mode: an opaque answer means
//! the server is up and CORS is the problem.

use super::browser::mono_ms;
use super::netpolicy;
use fannotate_core::prompt::{
    constraint_fields, render_messages, Constraint, Message, PromptOptions, Role,
};
use fannotate_core::records::{Capabilities, ChatAnswer, EndpointConfig, Provider};
use fannotate_core::{Attribute, AttributeKind};
use gloo_net::http::{Method, RequestBuilder};
use serde_json::{json, Map, Value};
use web_sys::{AbortSignal, RequestMode};

/// Why a call to the endpoint failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The base URL cannot be used.
    #[error("the endpoint URL \"{0}\" is not a valid http(s) URL")]
    BadUrl(String),
    /// The server answered but the browser withheld the response (CORS).
    #[error("the browser blocked the server's answer (CORS)")]
    Cors {
        /// Server kind, for the fix.
        provider: Provider,
    },
    /// No connection (DNS failure, connection refused, offline, mixed content).
    #[error("cannot reach {url}")]
    Unreachable {
        /// The URL tried.
        url: String,
    },
    /// 401 or 403.
    #[error("the server refused the request (HTTP {status})")]
    Auth {
        /// HTTP status.
        status: u16,
        /// Response body, shortened.
        body: String,
    },
    /// Any other non-2xx answer.
    #[error("the server answered HTTP {status}")]
    Http {
        /// HTTP status.
        status: u16,
        /// Response body, shortened.
        body: String,
        /// Seconds from `Retry-After`, if given.
        retry_after: Option<f64>,
    },
    /// No answer within the timeout.
    #[error("no answer within {secs} s")]
    Timeout {
        /// The timeout.
        secs: u32,
    },
    /// A 2xx answer that is not a chat completion.
    #[error("the server's answer is not a valid chat completion")]
    Malformed {
        /// Response body, shortened.
        body: String,
    },
    /// The page's Content-Security-Policy does not allow this endpoint.
    #[error("the page's security policy does not allow connecting to {origin}")]
    BlockedByPolicy {
        /// The endpoint's origin.
        origin: String,
    },
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl LlmError {
    /// What to tell the user, with the fix where we know it.
    pub fn user_message(&self) -> String {
        match self {
            LlmError::BadUrl(u) => format!("\"{u}\" is not a valid endpoint URL. It should look like http://127.0.0.1:8080/v1."),
            LlmError::Cors { provider } => format!(
                "The server is reachable, but the browser blocked its answer because of CORS. Fix: {}.",
                provider.cors_fix()
            ),
            LlmError::Unreachable { url } => format!(
                "Cannot reach {url}: the server is not running, the host name does not resolve, or the connection was refused. \
                 (An http:// endpoint from an https:// page is also blocked by the browser.)"
            ),
            LlmError::Auth { status, .. } => format!(
                "The server refused the request (HTTP {status}): the API key is missing or wrong for this endpoint."
            ),
            LlmError::Http { status, body, .. } => format!("The server answered HTTP {status}: {body}"),
            LlmError::Timeout { secs } => format!("No answer within {secs} s. Raise the timeout or lower the concurrency."),
            LlmError::Malformed { body } => format!("The server's answer is not a chat completion: {body}"),
            LlmError::BlockedByPolicy { origin } => format!(
                "This page's Content-Security-Policy does not allow connecting to {origin}, so nothing was sent there. \
                 Whoever deploys Fannotate can add it to the allowed endpoints (FANNOTATE_CONNECT_SRC at build time) \
                 or build the permissive variant (FANNOTATE_CSP=permissive); see the README."
            ),
            LlmError::Cancelled => "Cancelled.".into(),
        }
    }

    /// Whether trying the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Http { status, .. } => *status == 429 || *status >= 500,
            LlmError::Timeout { .. } | LlmError::Unreachable { .. } => true,
            _ => false,
        }
    }

    /// Whether every further request will fail the same way.
    pub fn stops_run(&self) -> bool {
        matches!(
            self,
            LlmError::Auth { .. }
                | LlmError::Cors { .. }
                | LlmError::BadUrl(_)
                | LlmError::BlockedByPolicy { .. }
        )
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 300;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A plain HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// `Retry-After` in seconds, when given as a number.
    pub retry_after: Option<f64>,
}

/// The URL of an API path under a base URL (`{base}/models`).
pub fn api_url(base: &str, path: &str) -> Result<String, LlmError> {
    let base = base.trim().trim_end_matches('/');
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .map(|r| r.split('/').next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => {
            Ok(format!("{base}/{path}"))
        }
        _ => Err(LlmError::BadUrl(base.to_string())),
    }
}

/// The URL of an API path for this endpoint (Azure adds its `api-version`).
pub fn endpoint_url(cfg: &EndpointConfig, path: &str) -> Result<String, LlmError> {
    endpoint_url_at(cfg, &cfg.base_url, path)
}

/// [`endpoint_url`] on one of the endpoint's base URLs (a replica of a pool).
pub fn endpoint_url_at(cfg: &EndpointConfig, base: &str, path: &str) -> Result<String, LlmError> {
    let url = api_url(base, path)?;
    Ok(match (cfg.provider, cfg.api_version.as_deref()) {
        (Provider::Azure, Some(v)) if !v.trim().is_empty() => {
            format!("{url}?api-version={}", v.trim())
        }
        _ => url,
    })
}

/// After a network-level failure, tell CORS from an unreachable server: a
/// `no-cors` probe reaches a server that only withholds CORS headers.
async fn classify_network_failure(url: &str, provider: Provider) -> LlmError {
    let probe = RequestBuilder::new(url)
        .method(Method::GET)
        .mode(RequestMode::NoCors)
        .abort_signal(Some(&AbortSignal::timeout_with_u32(5_000)))
        .build();
    let reached = match probe {
        Ok(r) => r.send().await.is_ok(),
        Err(_) => false,
    };
    if reached {
        LlmError::Cors { provider }
    } else {
        LlmError::Unreachable {
            url: url.to_string(),
        }
    }
}

/// Send one HTTP request for `cfg`'s project with its timeout, cancellable
/// through `cancel`; the request log counts it for that project.
pub async fn send(
    cfg: &EndpointConfig,
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
    cancel: Option<&AbortSignal>,
) -> Result<HttpResponse, LlmError> {
    let (timeout_secs, provider) = (cfg.timeout_secs, cfg.provider);
    if cancel.is_some_and(|c| c.aborted()) {
        return Err(LlmError::Cancelled);
    }
    // Check the page's policy first: the browser would block the request with
    // the same error as an unreachable server.
    let blocked = !netpolicy::page_allows(url);
    netpolicy::record(url, blocked, &cfg.project_id);
    if blocked {
        return Err(LlmError::BlockedByPolicy {
            origin: fannotate_core::url::origin_of(url).unwrap_or_else(|| url.to_string()),
        });
    }
    // The browser's own timeout signal, joined with the outside cancel: no timer,
    // closure or listener of ours per request (at hundreds a second they add up).
    let timeout = AbortSignal::timeout_with_u32(timeout_secs.saturating_mul(1000));
    let signal = match cancel {
        Some(c) => AbortSignal::any(&js_sys::Array::of2(c, &timeout)),
        None => timeout.clone(),
    };
    let mut request = RequestBuilder::new(url)
        .method(method)
        .mode(RequestMode::Cors)
        .abort_signal(Some(&signal));
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let request = match body {
        Some(b) => request.body(b),
        None => request.build(),
    }
    .map_err(|_| LlmError::BadUrl(url.into()))?;
    let cancelled = || cancel.is_some_and(AbortSignal::aborted);
    let resp = match request.send().await {
        Ok(r) => r,
        Err(_) if cancelled() => return Err(LlmError::Cancelled),
        Err(_) if timeout.aborted() => return Err(LlmError::Timeout { secs: timeout_secs }),
        Err(_) => return Err(classify_network_failure(url, provider).await),
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok());
    let body = match resp.text().await {
        Ok(t) => t,
        Err(_) if cancelled() => return Err(LlmError::Cancelled),
        Err(_) if timeout.aborted() => return Err(LlmError::Timeout { secs: timeout_secs }),
        Err(_) => String::new(),
    };
    Ok(HttpResponse {
        status,
        body,
        retry_after,
    })
}

/// Request headers: JSON, and the key the way the provider expects it.
pub fn auth_headers(cfg: &EndpointConfig, api_key: &str) -> Vec<(&'static str, String)> {
    let mut h = vec![("Content-Type", "application/json".to_string())];
    let key = api_key.trim();
    if !key.is_empty() {
        match cfg.provider {
            Provider::Azure => h.push(("api-key", key.to_string())),
            _ => h.push(("Authorization", format!("Bearer {key}"))),
        }
    }
    h
}

fn check_status(r: HttpResponse) -> Result<HttpResponse, LlmError> {
    match r.status {
        200..=299 => Ok(r),
        401 | 403 => Err(LlmError::Auth {
            status: r.status,
            body: shorten(&r.body),
        }),
        status => Err(LlmError::Http {
            status,
            body: shorten(&r.body),
            retry_after: r.retry_after,
        }),
    }
}

/// Model ids the server lists at `GET {base}/models`.
pub async fn list_models(cfg: &EndpointConfig, api_key: &str) -> Result<Vec<String>, LlmError> {
    if cfg.provider == Provider::Azure {
        // An Azure deployment URL names its model; there is nothing to list.
        return Ok(Vec::new());
    }
    let url = endpoint_url(cfg, "models")?;
    let r = check_status(
        send(
            cfg,
            Method::GET,
            &url,
            &auth_headers(cfg, api_key),
            None,
            None,
        )
        .await?,
    )?;
    let v: Value = serde_json::from_str(&r.body).map_err(|_| LlmError::Malformed {
        body: shorten(&r.body),
    })?;
    let data = v
        .get("data")
        .or_else(|| v.get("models"))
        .and_then(Value::as_array);
    let Some(data) = data else {
        return Err(LlmError::Malformed {
            body: shorten(&r.body),
        });
    };
    Ok(data
        .iter()
        .filter_map(|m| {
            m.get("id")
                .or_else(|| m.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect())
}

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
async fn complete(
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

/// What "Test connection" found.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionReport {
    /// Models the server lists (empty if it lists none).
    pub models: Vec<String>,
    /// Whether the configured model is among them (`None` when none are listed).
    pub model_listed: Option<bool>,
    /// The answer to a tiny test prompt.
    pub sample_answer: String,
    /// Time of the test completion in milliseconds.
    pub latency_ms: f64,
    /// Which output controls the server honoured.
    pub capabilities: Capabilities,
}

/// Made-up labels for the probe: no model says these unless it is constrained to.
const PROBE_CHOICES: [&str; 2] = ["x7q", "k2v"];

/// The probe's pseudo-attribute, whose categories are [`PROBE_CHOICES`].
fn probe_attribute() -> Attribute {
    Attribute::categorical(
        "probe",
        "<<text>>",
        PROBE_CHOICES
            .iter()
            .map(|c| fannotate_core::Category::new(*c, ""))
            .collect(),
    )
}

/// Whether an answer to a probe obeyed constraint `c`: exactly one of the
/// probe's labels (inside `{"label": …}` for JSON).
pub fn probe_obeyed(c: Constraint, content: &str) -> bool {
    let content = content.trim();
    match c {
        Constraint::JsonSchema => serde_json::from_str::<Value>(content)
            .ok()
            .and_then(|v| v.get("label").and_then(Value::as_str).map(str::to_string))
            .is_some_and(|l| PROBE_CHOICES.contains(&l.as_str())),
        _ => PROBE_CHOICES.contains(&content),
    }
}

/// Send one tiny request constrained by `c` and tell whether the server obeyed.
/// A server that rejects the unknown field (400/422) does not honour it.
async fn probe_constraint(
    cfg: &EndpointConfig,
    api_key: &str,
    c: Constraint,
) -> Result<bool, LlmError> {
    let ask = [Message {
        role: Role::User,
        content: "Say hello to me in a friendly sentence.".into(),
    }];
    let mut probe_cfg = cfg.clone();
    probe_cfg.logprobs = false;
    let res = complete(
        &probe_cfg,
        &cfg.base_url,
        api_key,
        &ask,
        constraint_fields(&probe_attribute(), c),
        c.min_max_tokens(),
        None,
    )
    .await;
    match res {
        Ok(ans) => Ok(probe_obeyed(c, &ans.content)),
        Err(LlmError::Http {
            status: 400 | 404 | 422,
            ..
        }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Probe the endpoint with tiny requests: list models, send a plain ping asking
/// for log-probabilities, then one request per constraint mechanism.
pub async fn test_connection(
    cfg: &EndpointConfig,
    api_key: &str,
) -> Result<ConnectionReport, LlmError> {
    let models = list_models(cfg, api_key).await?;
    let model_listed = (!models.is_empty()).then(|| models.contains(&cfg.model));
    let ping = [Message {
        role: Role::User,
        content: "Reply with the word OK.".into(),
    }];
    // Ask for log-probabilities; a server that rejects the field (400/422)
    // certainly does not return them, so ask again without.
    let mut ping_cfg = cfg.clone();
    let mut answer = None;
    for logprobs in [true, false] {
        ping_cfg.logprobs = logprobs;
        match complete(
            &ping_cfg,
            &cfg.base_url,
            api_key,
            &ping,
            Vec::new(),
            4,
            None,
        )
        .await
        {
            Err(LlmError::Http {
                status: 400 | 422, ..
            }) if logprobs => continue,
            other => {
                answer = Some(other?);
                break;
            }
        }
    }
    let Some(answer) = answer else {
        return Err(LlmError::Malformed {
            body: "no answer to the test request".into(),
        });
    };
    let capabilities = Capabilities {
        logprobs: answer.confidence.is_some(),
        guided_choice: probe_constraint(cfg, api_key, Constraint::GuidedChoice).await?,
        grammar: probe_constraint(cfg, api_key, Constraint::Grammar).await?,
        json_schema: probe_constraint(cfg, api_key, Constraint::JsonSchema).await?,
    };
    Ok(ConnectionReport {
        models,
        model_listed,
        sample_answer: answer.content,
        latency_ms: answer.latency_ms,
        capabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fannotate_core::Category;

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

    #[test]
    fn urls_and_keys_per_provider() {
        let c = cfg();
        assert_eq!(
            endpoint_url(&c, "models").unwrap(),
            "http://127.0.0.1:8081/v1/models"
        );
        assert!(matches!(
            api_url("127.0.0.1:8080/v1", "models"),
            Err(LlmError::BadUrl(_))
        ));
        assert!(matches!(
            api_url("http:///v1", "models"),
            Err(LlmError::BadUrl(_))
        ));
        assert_eq!(
            auth_headers(&c, " k ")[1],
            ("Authorization", "Bearer k".to_string())
        );
        assert_eq!(auth_headers(&c, "").len(), 1);
        let az = EndpointConfig::new(
            "p",
            Provider::Azure,
            Some("https://r.openai.azure.com/openai/deployments/gpt4o/"),
            None,
        );
        assert_eq!(
            endpoint_url(&az, "chat/completions").unwrap(),
            format!("https://r.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version={}", fannotate_core::records::AZURE_API_VERSION)
        );
        assert_eq!(auth_headers(&az, "k")[1], ("api-key", "k".to_string()));
    }

    #[test]
    fn probe_answers_count_only_when_exactly_a_probe_label() {
        assert!(probe_obeyed(Constraint::GuidedChoice, "x7q"));
        assert!(probe_obeyed(Constraint::Grammar, " k2v\n"));
        assert!(!probe_obeyed(Constraint::Grammar, "Hello! x7q"));
        assert!(probe_obeyed(Constraint::JsonSchema, r#"{"label": "k2v"}"#));
        assert!(!probe_obeyed(Constraint::JsonSchema, "k2v"));
        assert!(!probe_obeyed(
            Constraint::JsonSchema,
            r#"{"label": "hello"}"#
        ));
    }

    #[test]
    fn retry_and_stop_classes() {
        let http = |status| LlmError::Http {
            status,
            body: String::new(),
            retry_after: None,
        };
        assert!(http(429).is_retryable());
        assert!(http(503).is_retryable());
        assert!(!http(400).is_retryable());
        assert!(!http(404).is_retryable());
        assert!(LlmError::Timeout { secs: 1 }.is_retryable());
        assert!(LlmError::Auth {
            status: 401,
            body: String::new()
        }
        .stops_run());
        assert!(LlmError::Cors {
            provider: Provider::Vllm
        }
        .user_message()
        .contains("--allowed-origins"));
        assert!(LlmError::Cors {
            provider: Provider::Ollama
        }
        .user_message()
        .contains("OLLAMA_ORIGINS"));
    }
}
