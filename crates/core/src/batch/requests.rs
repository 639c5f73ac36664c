//! Request lines: OpenAI Batch JSONL (`{"custom_id","method","url","body"}`)
//! and Anthropic Message Batches requests (`{"custom_id","params"}`).

use super::custom_id::{check_run_id, CustomId};
use super::BatchError;
use crate::chat::{replications, RowRequest};
use crate::codebook::Attribute;
use crate::prompt::Role;
use crate::records::{BatchEngine, EndpointConfig};
use serde_json::{json, Map, Value};

/// The endpoint every OpenAI batch line asks for.
pub const CHAT_COMPLETIONS_URL: &str = "/v1/chat/completions";

/// One OpenAI Batch JSONL line (without its newline). `body` is embedded as a
/// JSON object, and JSON writes an object the same way wherever it stands, so
/// the line holds byte for byte the body the live runner sends.
pub fn openai_line(id: &CustomId, body: Value) -> String {
    line_at(id, CHAT_COMPLETIONS_URL, body)
}

/// Azure OpenAI's name for the chat completions endpoint in batch lines and
/// batches.
pub const AZURE_CHAT_COMPLETIONS_URL: &str = "/chat/completions";

fn line_at(id: &CustomId, url: &str, body: Value) -> String {
    let mut line = Map::new();
    line.insert("custom_id".into(), json!(id.to_string()));
    line.insert("method".into(), json!("POST"));
    line.insert("url".into(), json!(url));
    line.insert("body".into(), body);
    Value::Object(line).to_string()
}

/// The Azure deployment a batch line must name as its `model`: the
/// `/deployments/NAME` of the endpoint's URL, else the model setting.
pub fn azure_deployment(cfg: &EndpointConfig) -> Option<String> {
    let from_url = cfg
        .base_url
        .split("/deployments/")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?']).next())
        .filter(|d| !d.is_empty());
    from_url
        .or(Some(cfg.model.trim()).filter(|m| !m.is_empty()))
        .map(str::to_string)
}

/// The Azure resource URL under which its Files and Batches APIs are (the
/// endpoint's URL without its `/deployments/NAME` part).
pub fn azure_resource_url(base_url: &str) -> &str {
    let base = base_url.trim().trim_end_matches('/');
    base.split("/deployments/").next().unwrap_or(base)
}

/// Anthropic Messages API params for one request: the same rendered prompt
/// (the system message as `system`), generation cap and temperature as the
/// live request. Constraint fields, seeds and log-probabilities have no
/// Anthropic equivalent and are left out (the answer is parsed as under
/// [`crate::Constraint::None`]); so is `top_p`, which recent Claude models
/// refuse beside a temperature.
pub fn anthropic_params(cfg: &EndpointConfig, request: &RowRequest) -> Value {
    let mut params = Map::new();
    params.insert("model".into(), json!(cfg.model));
    params.insert("max_tokens".into(), json!(request.max_tokens));
    params.insert("temperature".into(), json!(cfg.temperature));
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    if !system.is_empty() {
        params.insert("system".into(), json!(system.join("\n\n")));
    }
    let messages: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| json!({"role": m.role, "content": m.content}))
        .collect();
    params.insert("messages".into(), json!(messages));
    Value::Object(params)
}

/// The requests of one run: its id, endpoint settings and attribute.
#[derive(Debug, Clone, Copy)]
pub struct BatchRequests<'a> {
    run_id: &'a str,
    cfg: &'a EndpointConfig,
    attribute: &'a Attribute,
}

impl<'a> BatchRequests<'a> {
    /// The requests of run `run_id`; fails when its id cannot stand in a
    /// `custom_id`.
    pub fn new(
        run_id: &'a str,
        cfg: &'a EndpointConfig,
        attribute: &'a Attribute,
    ) -> Result<Self, BatchError> {
        check_run_id(run_id)?;
        Ok(BatchRequests {
            run_id,
            cfg,
            attribute,
        })
    }

    /// Requests per row, as the live runner sends them.
    pub fn replications(&self) -> u32 {
        replications(self.cfg, self.attribute)
    }

    /// Every request for one row, replication by replication.
    pub fn row<'t>(
        &self,
        row: u32,
        text: &'t str,
    ) -> impl Iterator<Item = (CustomId, RowRequest)> + use<'a, 't> {
        let this = *self;
        (0..this.replications()).map(move |k| {
            let id = CustomId::new(this.run_id, row, k)
                .expect("the run id was checked when the requests were made");
            (id, RowRequest::new(this.cfg, this.attribute, text, k))
        })
    }

    /// Whether the run's settings can go out in `engine`'s shape.
    pub fn check(&self, engine: BatchEngine) -> Result<(), BatchError> {
        let t = self.cfg.temperature;
        match engine {
            BatchEngine::Anthropic if !(0.0..=1.0).contains(&t) => {
                Err(BatchError::AnthropicTemperature(t))
            }
            BatchEngine::Azure if azure_deployment(self.cfg).is_none() => {
                Err(BatchError::AzureDeployment)
            }
            _ => Ok(()),
        }
    }

    /// The request lines (without newlines) of one row in `engine`'s shape,
    /// for the replications `keep` lets through (all of them for a first
    /// file, the missing ones for a file of what is still unanswered).
    pub fn row_lines(
        &self,
        engine: BatchEngine,
        row: u32,
        text: &str,
        keep: impl Fn(u32) -> bool,
    ) -> Vec<String> {
        self.row(row, text)
            .filter(|(id, _)| keep(id.replication()))
            .map(|(id, r)| match engine {
                BatchEngine::OpenAi => openai_line(&id, r.body(self.cfg)),
                // Azure routes a batch by the deployment its lines name.
                BatchEngine::Azure => {
                    let mut body = r.body(self.cfg);
                    if let (Some(o), Some(d)) = (body.as_object_mut(), azure_deployment(self.cfg)) {
                        o.insert("model".into(), json!(d));
                    }
                    line_at(&id, AZURE_CHAT_COMPLETIONS_URL, body)
                }
                BatchEngine::Anthropic => {
                    json!({"custom_id": id.to_string(), "params": anthropic_params(self.cfg, &r)})
                        .to_string()
                }
            })
            .collect()
    }

    /// The OpenAI Batch JSONL lines (without newlines) of `rows` (row
    /// position, text), made one at a time as they are read.
    pub fn openai_lines<I, T>(&self, rows: I) -> impl Iterator<Item = String> + use<'a, I, T>
    where
        I: IntoIterator<Item = (u32, T)>,
        T: AsRef<str>,
    {
        let this = *self;
        rows.into_iter().flat_map(move |(row, text)| {
            this.row(row, text.as_ref())
                .map(|(id, r)| openai_line(&id, r.body(this.cfg)))
                .collect::<Vec<_>>()
        })
    }

    /// The Anthropic Message Batches requests (`{"custom_id","params"}`) of
    /// `rows`, made one at a time; fails at once on a temperature Anthropic
    /// refuses.
    pub fn anthropic_requests<I, T>(
        &self,
        rows: I,
    ) -> Result<impl Iterator<Item = Value> + use<'a, I, T>, BatchError>
    where
        I: IntoIterator<Item = (u32, T)>,
        T: AsRef<str>,
    {
        let t = self.cfg.temperature;
        if !(0.0..=1.0).contains(&t) {
            return Err(BatchError::AnthropicTemperature(t));
        }
        let this = *self;
        Ok(rows.into_iter().flat_map(move |(row, text)| {
            this.row(row, text.as_ref())
                .map(|(id, r)| {
                    json!({"custom_id": id.to_string(), "params": anthropic_params(this.cfg, &r)})
                })
                .collect::<Vec<_>>()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Constraint;
    use crate::records::Provider;
    use crate::Category;

    fn spam() -> Attribute {
        Attribute::categorical(
            "spam",
            "Is this spam? <<text>>",
            vec![Category::new("ham", ""), Category::new("spam", "")],
        )
    }

    fn cfg() -> EndpointConfig {
        let mut c = EndpointConfig::new("p", Provider::Vllm, None, Some("m"));
        c.constraint = Constraint::GuidedChoice;
        c.system_prompt = Some("Answer with one word.".into());
        c
    }

    #[test]
    fn a_line_carries_the_live_body_verbatim() {
        let (c, a) = (cfg(), spam());
        let reqs = BatchRequests::new("r1", &c, &a).unwrap();
        let lines: Vec<String> = reqs.openai_lines([(4, "buy now")]).collect();
        let live = RowRequest::new(&c, &a, "buy now", 0).body(&c).to_string();
        assert_eq!(
            lines,
            [format!(
                r#"{{"custom_id":"fa-r1-4-0","method":"POST","url":"/v1/chat/completions","body":{live}}}"#
            )]
        );
        assert!(live.contains(r#""guided_choice":["ham","spam"]"#));
    }

    #[test]
    fn azure_lines_name_the_deployment_at_azures_url() {
        let a = spam();
        let mut c = EndpointConfig::new(
            "p",
            Provider::Azure,
            Some("https://r.openai.azure.com/openai/deployments/gpt4o-batch/"),
            None,
        );
        assert_eq!(azure_deployment(&c).as_deref(), Some("gpt4o-batch"));
        assert_eq!(
            azure_resource_url(&c.base_url),
            "https://r.openai.azure.com/openai"
        );
        let reqs = BatchRequests::new("r1", &c, &a).unwrap();
        reqs.check(BatchEngine::Azure).unwrap();
        let line: Value =
            serde_json::from_str(&reqs.row_lines(BatchEngine::Azure, 2, "hi", |_| true)[0])
                .unwrap();
        assert_eq!(line["url"], "/chat/completions");
        assert_eq!(line["body"]["model"], "gpt4o-batch");
        // The rest of the body is the live request's.
        let mut live = RowRequest::new(&c, &a, "hi", 0).body(&c);
        live["model"] = json!("gpt4o-batch");
        assert_eq!(line["body"], live);
        // Without a deployment in the URL the model setting names it; with neither, no batch.
        c.base_url = "https://r.openai.azure.com/openai".into();
        c.model = String::new();
        let reqs = BatchRequests::new("r1", &c, &a).unwrap();
        assert_eq!(
            reqs.check(BatchEngine::Azure),
            Err(BatchError::AzureDeployment)
        );
        assert_eq!(reqs.check(BatchEngine::OpenAi), Ok(()));
    }

    #[test]
    fn replications_make_one_line_each_with_their_own_seed() {
        let (mut c, a) = (cfg(), spam());
        c.replications = 3;
        let reqs = BatchRequests::new("r1", &c, &a).unwrap();
        let lines: Vec<Value> = reqs
            .openai_lines(vec![(0, "a".to_string()), (1, "b".to_string())])
            .map(|l| serde_json::from_str(&l).unwrap())
            .collect();
        let ids: Vec<&str> = lines
            .iter()
            .map(|l| l["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "fa-r1-0-0",
                "fa-r1-0-1",
                "fa-r1-0-2",
                "fa-r1-1-0",
                "fa-r1-1-1",
                "fa-r1-1-2"
            ]
        );
        assert_eq!(lines[2]["body"]["seed"], 2);
    }

    #[test]
    fn anthropic_params_move_the_system_message_up() {
        let (c, a) = (cfg(), spam());
        let reqs = BatchRequests::new("r1", &c, &a).unwrap();
        let out: Vec<Value> = reqs.anthropic_requests([(7, "hi")]).unwrap().collect();
        assert_eq!(
            out,
            [json!({
                "custom_id": "fa-r1-7-0",
                "params": {
                    "model": "m",
                    "max_tokens": 16,
                    "temperature": 0.0,
                    "system": "Answer with one word.",
                    "messages": [{"role": "user", "content": "Is this spam? hi"}],
                }
            })]
        );
        let mut hot = cfg();
        hot.temperature = 1.5;
        let reqs = BatchRequests::new("r1", &hot, &a).unwrap();
        assert!(matches!(
            reqs.anthropic_requests([(0, "x")]),
            Err(BatchError::AnthropicTemperature(t)) if t == 1.5
        ));
        assert!(matches!(
            BatchRequests::new("no spaces", &c, &a),
            Err(BatchError::RunId(_))
        ));
    }
}
