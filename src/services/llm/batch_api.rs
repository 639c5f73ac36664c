//! An endpoint's batch API, called from the browser: OpenAI-compatible Files
//! and Batches (`POST /files`, `POST /batches`, `GET /batches/{id}`,
//! `GET /files/{id}/content`; Azure's at the resource, with `api-version`)
//! and Anthropic Message Batches
//! (`POST /messages/batches`, `GET /messages/batches/{id}`, its results).

use super::error::{shorten, LlmError};
use super::http::{api_url, auth_headers, check_status, send, send_body};
use fannotate_core::batch::{
    azure_resource_url, read_anthropic_batch, read_openai_batch, RemoteState,
};
use fannotate_core::records::{BatchEngine, EndpointConfig, AZURE_API_VERSION};
use gloo_net::http::Method;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};

/// The Anthropic API version the requests are written for.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A batch API of one endpoint, with its key.
pub struct BatchApi<'a> {
    cfg: &'a EndpointConfig,
    key: &'a str,
    engine: BatchEngine,
}

/// A file handed to the API: the batch it became, and the uploaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The batch id.
    pub id: String,
    /// The uploaded file's id (OpenAI).
    pub input_file_id: Option<String>,
    /// Where the batch is.
    pub state: RemoteState,
}

impl<'a> BatchApi<'a> {
    /// The batch API of `cfg`'s base URL in `engine`'s shape.
    pub fn new(cfg: &'a EndpointConfig, key: &'a str, engine: BatchEngine) -> Self {
        BatchApi { cfg, key, engine }
    }

    fn headers(&self, json: bool) -> Vec<(&'static str, String)> {
        match self.engine {
            BatchEngine::OpenAi | BatchEngine::Azure => auth_headers(self.cfg, self.key)
                .into_iter()
                // A multipart body's type (with its boundary) is the browser's to set.
                .filter(|(k, _)| json || *k != "Content-Type")
                .collect(),
            BatchEngine::Anthropic => {
                let mut h = vec![
                    ("anthropic-version", ANTHROPIC_VERSION.to_string()),
                    // Anthropic answers a browser only when it says it means to.
                    ("anthropic-dangerous-direct-browser-access", "true".into()),
                ];
                if json {
                    h.push(("Content-Type", "application/json".into()));
                }
                if !self.key.trim().is_empty() {
                    h.push(("x-api-key", self.key.trim().to_string()));
                }
                h
            }
        }
    }

    /// The URL of an API path: under the base URL; for Azure under the
    /// resource (not the deployment), with the endpoint's `api-version`.
    fn url(&self, path: &str) -> Result<String, LlmError> {
        if self.engine != BatchEngine::Azure {
            return api_url(&self.cfg.base_url, path);
        }
        let url = api_url(azure_resource_url(&self.cfg.base_url), path)?;
        let version = self
            .cfg
            .api_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(AZURE_API_VERSION);
        Ok(format!("{url}?api-version={version}"))
    }

    async fn json(
        &self,
        method: Method,
        url: &str,
        body: Option<JsValue>,
        expected: &'static str,
    ) -> Result<Value, LlmError> {
        let multipart = body
            .as_ref()
            .is_some_and(|b| b.is_instance_of::<web_sys::FormData>());
        let r = send_body(self.cfg, method, url, &self.headers(!multipart), body, None).await?;
        let r = check_status(r)?;
        serde_json::from_str(&r.body).map_err(|_| LlmError::BatchAnswer {
            expected,
            body: shorten(&r.body),
        })
    }

    fn read(&self, v: &Value) -> Result<(String, RemoteState), LlmError> {
        let read = match self.engine {
            BatchEngine::OpenAi | BatchEngine::Azure => read_openai_batch(v),
            BatchEngine::Anthropic => read_anthropic_batch(v),
        };
        read.ok_or_else(|| LlmError::BatchAnswer {
            expected: "a batch",
            body: shorten(&v.to_string()),
        })
    }

    /// Submit one request file (`name`, its bytes in `file`) as a batch
    /// tagged with the run's id.
    pub async fn submit(
        &self,
        name: &str,
        file: &web_sys::Blob,
        run_id: &str,
    ) -> Result<Submitted, LlmError> {
        match self.engine {
            BatchEngine::OpenAi | BatchEngine::Azure => {
                let form = web_sys::FormData::new()
                    .map_err(|e| LlmError::Browser(crate::services::files::js_message(&e)))?;
                let _ = form.append_with_str("purpose", "batch");
                let _ = form.append_with_blob_and_filename("file", file, name);
                let uploaded = self
                    .json(
                        Method::POST,
                        &self.url("files")?,
                        Some(form.into()),
                        "a file object",
                    )
                    .await?;
                let file_id = uploaded
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| LlmError::BatchAnswer {
                        expected: "a file object",
                        body: shorten(&uploaded.to_string()),
                    })?
                    .to_string();
                let body = json!({
                    "input_file_id": file_id,
                    "endpoint": if self.engine == BatchEngine::Azure {
                        fannotate_core::batch::AZURE_CHAT_COMPLETIONS_URL
                    } else {
                        fannotate_core::batch::CHAT_COMPLETIONS_URL
                    },
                    "completion_window": "24h",
                    "metadata": {"fannotate_run": run_id},
                });
                let v = self
                    .json(
                        Method::POST,
                        &self.url("batches")?,
                        Some(JsValue::from_str(&body.to_string())),
                        "a batch",
                    )
                    .await?;
                let (id, state) = self.read(&v)?;
                Ok(Submitted {
                    id,
                    input_file_id: Some(file_id),
                    state,
                })
            }
            BatchEngine::Anthropic => {
                // The API takes a JSON list of the file's lines.
                let text = blob_text(file).await?;
                let mut body = String::with_capacity(text.len() + 16);
                body.push_str("{\"requests\":[");
                for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                    if i > 0 {
                        body.push(',');
                    }
                    body.push_str(line);
                }
                body.push_str("]}");
                let v = self
                    .json(
                        Method::POST,
                        &self.url("messages/batches")?,
                        Some(JsValue::from_str(&body)),
                        "a message batch",
                    )
                    .await?;
                let (id, state) = self.read(&v)?;
                Ok(Submitted {
                    id,
                    input_file_id: None,
                    state,
                })
            }
        }
    }

    /// Where batch `id` is now.
    pub async fn status(&self, id: &str) -> Result<RemoteState, LlmError> {
        let path = match self.engine {
            BatchEngine::OpenAi | BatchEngine::Azure => format!("batches/{id}"),
            BatchEngine::Anthropic => format!("messages/batches/{id}"),
        };
        let v = self
            .json(Method::GET, &self.url(&path)?, None, "a batch")
            .await?;
        Ok(self.read(&v)?.1)
    }

    /// The text of an ended batch's output: an OpenAI file's content, or the
    /// Anthropic results (at `results_url`, else the batch's results path).
    pub async fn output(
        &self,
        batch_id: &str,
        file_id: Option<&str>,
        results_url: Option<&str>,
    ) -> Result<String, LlmError> {
        let url = match (self.engine, file_id, results_url) {
            (BatchEngine::OpenAi | BatchEngine::Azure, Some(f), _) => {
                self.url(&format!("files/{f}/content"))?
            }
            (BatchEngine::Anthropic, _, Some(u)) => u.to_string(),
            (BatchEngine::Anthropic, _, None) => {
                self.url(&format!("messages/batches/{batch_id}/results"))?
            }
            (BatchEngine::OpenAi | BatchEngine::Azure, None, _) => return Ok(String::new()),
        };
        let r = send(
            self.cfg,
            Method::GET,
            &url,
            &self.headers(false),
            None,
            None,
        )
        .await?;
        Ok(check_status(r)?.body)
    }
}

/// A Blob's bytes as text.
async fn blob_text(blob: &web_sys::Blob) -> Result<String, LlmError> {
    wasm_bindgen_futures::JsFuture::from(blob.text())
        .await
        .map_err(|e| LlmError::Browser(crate::services::files::js_message(&e)))?
        .as_string()
        .ok_or_else(|| LlmError::Browser("the file is not text".into()))
}
