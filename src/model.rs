//! Records the app keeps in browser storage. Field names are part of the stored
//! schema: renaming one needs a migration in `services::idb`.

use fannotate_core::prompt::Constraint;
use fannotate_core::Codebook;
use serde::{Deserialize, Serialize};

/// A unit of work: one dataset, one codebook, endpoints and runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Random unique id.
    pub id: String,
    /// Name shown in the project list.
    pub name: String,
    /// Milliseconds since the epoch.
    pub created_at: f64,
    /// Milliseconds since the epoch.
    pub updated_at: f64,
}

/// An imported table; its rows live in the rows store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    /// Random unique id.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// File name it came from.
    pub name: String,
    /// Header cells in file order.
    pub columns: Vec<String>,
    /// Column holding the text to annotate.
    pub text_col: usize,
    /// Column holding row ids, if any (otherwise ids are generated).
    pub id_col: Option<usize>,
    /// Column holding human gold labels for the first attribute, if any.
    pub gold_col: Option<usize>,
    /// Number of rows.
    pub row_count: u32,
    /// Detected encoding, for display.
    pub encoding: String,
    /// Detected delimiter, for display.
    pub delimiter: String,
    /// Milliseconds since the epoch.
    pub imported_at: f64,
}

/// One row of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowRecord {
    /// Owning dataset.
    pub dataset_id: String,
    /// 0-based position in the file; with `dataset_id` the storage key.
    pub idx: u32,
    /// The row id (from the id column, or `row-N`).
    pub id: String,
    /// All cells in column order.
    pub cells: Vec<String>,
}

impl RowRecord {
    /// The cell of a column, or "" when the row is short.
    pub fn cell(&self, col: usize) -> &str {
        self.cells.get(col).map(String::as_str).unwrap_or("")
    }
}

/// A saved codebook version; each save of a project's codebook adds one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodebookVersion {
    /// Owning project.
    pub project_id: String,
    /// 1, 2, 3 … within the project.
    pub version: u32,
    /// Milliseconds since the epoch.
    pub saved_at: f64,
    /// The codebook in the original tool's JSON format.
    pub json: String,
}

impl CodebookVersion {
    /// Parse the stored JSON.
    pub fn codebook(&self) -> Result<Codebook, fannotate_core::CodebookError> {
        Codebook::from_json(&self.json)
    }
}

/// The Azure OpenAI API version new endpoints start with.
pub const AZURE_API_VERSION: &str = "2024-10-21";

/// Kinds of OpenAI-compatible servers, for defaults and advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Provider {
    /// llama.cpp `llama-server` (the local default).
    LlamaCpp,
    /// vLLM's OpenAI server.
    Vllm,
    /// Ollama's `/v1` API.
    Ollama,
    /// api.openai.com.
    OpenAi,
    /// Azure OpenAI: a deployment URL, `api-key` header and `api-version` parameter.
    Azure,
    /// Anything else that speaks the OpenAI API.
    Generic,
}

impl Provider {
    /// Every provider, for pickers.
    pub const ALL: [Provider; 6] = [
        Provider::LlamaCpp,
        Provider::Vllm,
        Provider::Ollama,
        Provider::OpenAi,
        Provider::Azure,
        Provider::Generic,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::LlamaCpp => "llamacpp",
            Provider::Vllm => "vllm",
            Provider::Ollama => "ollama",
            Provider::OpenAi => "openai",
            Provider::Azure => "azure",
            Provider::Generic => "generic",
        }
    }

    /// Inverse of [`Provider::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Provider::LlamaCpp => "llama.cpp (llama-server)",
            Provider::Vllm => "vLLM",
            Provider::Ollama => "Ollama",
            Provider::OpenAi => "OpenAI",
            Provider::Azure => "Azure OpenAI",
            Provider::Generic => "Other OpenAI-compatible",
        }
    }

    /// The usual base URL.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::LlamaCpp => "http://127.0.0.1:8080/v1",
            Provider::Vllm => "http://127.0.0.1:8000/v1",
            Provider::Ollama => "http://127.0.0.1:11434/v1",
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Azure => "https://RESOURCE.openai.azure.com/openai/deployments/DEPLOYMENT",
            Provider::Generic => "http://127.0.0.1:8000/v1",
        }
    }

    /// The constraint this server is known to honour for categorical answers.
    pub fn default_constraint(self) -> Constraint {
        match self {
            Provider::LlamaCpp => Constraint::Grammar,
            Provider::Vllm => Constraint::GuidedChoice,
            Provider::OpenAi | Provider::Azure => Constraint::JsonSchema,
            Provider::Ollama | Provider::Generic => Constraint::None,
        }
    }

    /// How to let a browser page call this server, when CORS blocks it.
    pub fn cors_fix(self) -> &'static str {
        match self {
            Provider::LlamaCpp => "llama-server answers CORS by default; check the URL and that the server runs",
            Provider::Vllm => "start vLLM with --allowed-origins '[\"<this page's origin>\"]'",
            Provider::Ollama => "set OLLAMA_ORIGINS=<this page's origin> before `ollama serve`",
            Provider::OpenAi => "the OpenAI API allows browser calls; check the URL",
            Provider::Azure => "Azure OpenAI allows browser calls; check the resource and deployment in the URL",
            Provider::Generic => "allow this page's origin in the server's CORS settings (Access-Control-Allow-Origin)",
        }
    }
}

/// Where and how to call a model. The API key is kept here only when the user
/// opted in to store it; otherwise it lives in memory for the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointConfig {
    /// Owning project (one endpoint per project for now).
    pub project_id: String,
    /// Server kind.
    pub provider: Provider,
    /// Base URL ending in `/v1` (or the server's equivalent).
    pub base_url: String,
    /// Model name sent in requests.
    pub model: String,
    /// Stored API key, only when `store_key` is true.
    pub api_key: Option<String>,
    /// Whether the user asked to keep the key in this browser.
    pub store_key: bool,
    /// Sampling temperature.
    pub temperature: f64,
    /// Cap on generated tokens (always sent).
    pub max_tokens: u32,
    /// Cut texts to this many characters.
    pub max_text_chars: u32,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Per-request timeout in seconds.
    pub timeout_secs: u32,
    /// How categorical answers are constrained.
    pub constraint: Constraint,
    /// Optional system message sent before every prompt.
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// Azure's `api-version` query parameter.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Ask for token log-probabilities, so each label gets a confidence.
    #[serde(default)]
    pub logprobs: bool,
    /// Nucleus sampling cutoff, sent when set.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Sampling seed, sent when set (servers that honour it repeat answers).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Requests started per minute at most (`None`: no limit).
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// Cap on generated tokens for free-text attributes (summaries need room).
    #[serde(default = "default_free_text_max_tokens")]
    pub free_text_max_tokens: u32,
}

fn default_free_text_max_tokens() -> u32 {
    256
}

impl EndpointConfig {
    /// Defaults for a provider, with an optional base URL and model override.
    pub fn new(
        project_id: &str,
        provider: Provider,
        base_url: Option<&str>,
        model: Option<&str>,
    ) -> Self {
        EndpointConfig {
            project_id: project_id.to_string(),
            provider,
            base_url: base_url.unwrap_or(provider.default_base_url()).to_string(),
            model: model.unwrap_or("").to_string(),
            api_key: None,
            store_key: false,
            temperature: 0.0,
            max_tokens: 16,
            max_text_chars: 4000,
            concurrency: 8,
            timeout_secs: 60,
            constraint: provider.default_constraint(),
            system_prompt: None,
            // These servers return token log-probabilities with chat completions.
            logprobs: matches!(
                provider,
                Provider::LlamaCpp | Provider::Vllm | Provider::OpenAi | Provider::Azure
            ),
            api_version: (provider == Provider::Azure).then(|| AZURE_API_VERSION.to_string()),
            top_p: None,
            seed: None,
            requests_per_minute: None,
            free_text_max_tokens: default_free_text_max_tokens(),
        }
    }
}

/// Connections a browser opens to one host over HTTP/1.1.
pub const HTTP1_CONNECTIONS_PER_HOST: u32 = 6;

impl EndpointConfig {
    /// Requests that can really be in flight: a plain-http endpoint speaks HTTP/1.1,
    /// where browsers keep at most six connections per host; HTTPS usually brings
    /// HTTP/2, which multiplexes many requests on one connection.
    pub fn effective_concurrency(&self) -> u32 {
        if self.base_url.trim_start().starts_with("http://") {
            self.concurrency.min(HTTP1_CONNECTIONS_PER_HOST)
        } else {
            self.concurrency
        }
    }

    /// A warning when the concurrency asked for cannot be reached.
    pub fn concurrency_note(&self) -> Option<String> {
        (self.effective_concurrency() < self.concurrency).then(|| {
            format!(
                "Over plain http:// (HTTP/1.1) a browser keeps at most {HTTP1_CONNECTIONS_PER_HOST} requests in flight per server, \
                 so {} of the {} asked for will run at once. Serve the endpoint over HTTPS (HTTP/2) to go higher.",
                self.effective_concurrency(),
                self.concurrency
            )
        })
    }
}

/// Lifecycle of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Requests are being sent.
    Running,
    /// Every task finished (some may have failed).
    Completed,
    /// The user cancelled.
    Cancelled,
    /// Stopped by an error that makes further requests pointless (e.g. auth).
    Failed,
    /// The page closed while it was running.
    Interrupted,
}

impl RunStatus {
    /// Word shown to users.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// One auto-annotation run of one attribute over a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Random unique id.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Dataset annotated.
    pub dataset_id: String,
    /// Attribute annotated.
    pub attribute: String,
    /// Whether the attribute is free text (compared by ROUGE, not as labels).
    #[serde(default)]
    pub free_text: bool,
    /// Codebook version used.
    pub codebook_version: u32,
    /// Endpoint settings used (never with the key).
    pub endpoint: EndpointConfig,
    /// Current state.
    pub status: RunStatus,
    /// Tasks in the run.
    pub total: u32,
    /// Tasks answered with a valid label.
    pub valid: u32,
    /// Tasks answered outside the label set.
    pub invalid: u32,
    /// Tasks whose request failed.
    pub failed: u32,
    /// Milliseconds since the epoch.
    pub started_at: f64,
    /// Milliseconds since the epoch.
    pub finished_at: Option<f64>,
    /// Why the run stopped, when it failed.
    pub error: Option<String>,
}

/// How an annotation's value came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnnotationStatus {
    /// A category (or free text) was read.
    Valid,
    /// The answer named no single category.
    Invalid,
    /// The request failed; `raw` holds the reason.
    Error,
}

/// One value for one row and attribute from one source (a run or a human).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// Dataset of the row.
    pub dataset_id: String,
    /// Row position.
    pub row: u32,
    /// Attribute name.
    pub attribute: String,
    /// `run:<id>` or `human`.
    pub source: String,
    /// The category, when valid.
    pub value: Option<String>,
    /// The model's answer as received, or the error.
    pub raw: String,
    /// Parse outcome.
    pub status: AnnotationStatus,
    /// Why it is invalid or failed.
    pub reason: Option<String>,
    /// Request time in milliseconds.
    pub latency_ms: f64,
    /// Prompt tokens reported by the server.
    pub tokens_in: u32,
    /// Completion tokens reported by the server.
    pub tokens_out: u32,
    /// Whether the token counts are estimates (the server reported none).
    #[serde(default)]
    pub tokens_estimated: bool,
    /// Probability of the answer from token log-probabilities, when available.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Milliseconds since the epoch.
    pub ts: f64,
}

impl Annotation {
    /// An annotation with no outcome yet: failed, empty, zero counts. Callers fill
    /// in what they know.
    pub fn pending(dataset_id: &str, row: u32, attribute: &str, source: &str, ts: f64) -> Self {
        Annotation {
            dataset_id: dataset_id.to_string(),
            row,
            attribute: attribute.to_string(),
            source: source.to_string(),
            value: None,
            raw: String::new(),
            status: AnnotationStatus::Error,
            reason: None,
            latency_ms: 0.0,
            tokens_in: 0,
            tokens_out: 0,
            tokens_estimated: false,
            confidence: None,
            ts,
        }
    }
}

/// The annotation source string of a run.
pub fn run_source(run_id: &str) -> String {
    format!("run:{run_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_caps_concurrency_at_six() {
        let mut e = EndpointConfig::new("p", Provider::LlamaCpp, None, None);
        e.concurrency = 32;
        assert_eq!(e.effective_concurrency(), 6);
        assert!(e.concurrency_note().unwrap().contains("6 of the 32"));
        e.base_url = "https://llm.internal/v1".into();
        assert_eq!(e.effective_concurrency(), 32);
        assert_eq!(e.concurrency_note(), None);
        e.base_url = "http://127.0.0.1:8080/v1".into();
        e.concurrency = 4;
        assert_eq!(e.concurrency_note(), None);
    }
}
