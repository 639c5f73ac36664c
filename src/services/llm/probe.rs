//! What an endpoint offers: the models it lists, and "Test connection", which
//! probes which output controls (log-probabilities, constraints) it honours.

use super::chat::complete_messages;
use super::error::{shorten, LlmError};
use super::http::{auth_headers, check_status, endpoint_url, send};
use fannotate_core::prompt::{constraint_fields, Constraint, Message, Role};
use fannotate_core::records::{Capabilities, EndpointConfig, Provider};
use fannotate_core::Attribute;
use gloo_net::http::Method;
use serde_json::Value;

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
    let res = complete_messages(
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
        match complete_messages(
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
}
