//! Endpoints: which server kind, where and how to call a model, what the
//! server was found to honour, and the rules for cost and concurrency.

use crate::prompt::Constraint;
use serde::{Deserialize, Serialize};

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
    /// Whether "Test connection" may set the constraint and logprobs from what the
    /// server honours, or the user fixed them by hand.
    #[serde(default)]
    pub constraint_mode: ConstraintMode,
    /// What the last capability probe found.
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
    /// Further base URLs serving the same model (replicas); requests are spread
    /// over `base_url` and these.
    #[serde(default)]
    pub replicas: Vec<String>,
    /// Requests per item; above 1 the label is the majority vote and the share of
    /// agreeing answers is the confidence when there are no log-probabilities.
    #[serde(default = "one")]
    pub replications: u32,
    /// Price per million prompt tokens, for cost estimates.
    #[serde(default)]
    pub price_in_per_m: Option<f64>,
    /// Price per million completion tokens, for cost estimates.
    #[serde(default)]
    pub price_out_per_m: Option<f64>,
}

fn one() -> u32 {
    1
}

/// Who decides how categorical answers are constrained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ConstraintMode {
    /// The capability probe picks the best mechanism the server honours.
    #[default]
    Auto,
    /// The user's choice stands, whatever the probe finds.
    Manual,
}

/// Which output controls an endpoint honoured when probed with tiny requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// vLLM `guided_choice`.
    pub guided_choice: bool,
    /// `response_format` with a JSON schema.
    pub json_schema: bool,
    /// llama.cpp GBNF `grammar`.
    pub grammar: bool,
    /// Token log-probabilities in chat completions.
    pub logprobs: bool,
}

impl Capabilities {
    /// The tightest constraint the server honours: a fixed choice list beats a
    /// grammar (same effect, more servers' fast path), which beats JSON (more
    /// tokens per answer).
    pub fn best_constraint(&self) -> Constraint {
        if self.guided_choice {
            Constraint::GuidedChoice
        } else if self.grammar {
            Constraint::Grammar
        } else if self.json_schema {
            Constraint::JsonSchema
        } else {
            Constraint::None
        }
    }

    /// Whether the server honours `c`.
    pub fn honours(&self, c: Constraint) -> bool {
        match c {
            Constraint::None => true,
            Constraint::GuidedChoice => self.guided_choice,
            Constraint::JsonSchema => self.json_schema,
            Constraint::Grammar => self.grammar,
        }
    }

    /// Apply a probe's findings to settings in automatic mode.
    pub fn apply_to(self, cfg: &mut EndpointConfig) {
        cfg.capabilities = Some(self);
        if cfg.constraint_mode == ConstraintMode::Auto {
            cfg.constraint = self.best_constraint();
            cfg.logprobs = self.logprobs;
        }
    }
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
            constraint_mode: ConstraintMode::Auto,
            capabilities: None,
            replicas: Vec::new(),
            replications: 1,
            price_in_per_m: None,
            price_out_per_m: None,
        }
    }

    /// Every base URL requests may go to: the main one, then the replicas.
    pub fn base_urls(&self) -> Vec<String> {
        std::iter::once(&self.base_url)
            .chain(&self.replicas)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect()
    }

    /// Cost of the given token counts at this endpoint's prices, when priced.
    pub fn cost(&self, tokens_in: u64, tokens_out: u64) -> Option<f64> {
        if self.price_in_per_m.is_none() && self.price_out_per_m.is_none() {
            return None;
        }
        Some(
            tokens_in as f64 * self.price_in_per_m.unwrap_or(0.0) / 1e6
                + tokens_out as f64 * self.price_out_per_m.unwrap_or(0.0) / 1e6,
        )
    }
}

/// Connections a browser opens to one host over HTTP/1.1.
pub const HTTP1_CONNECTIONS_PER_HOST: u32 = 6;

impl EndpointConfig {
    /// Requests that can really be in flight: a plain-http endpoint speaks HTTP/1.1,
    /// where browsers keep at most six connections per host (host and port); HTTPS
    /// usually brings HTTP/2, which multiplexes many requests on one connection. A
    /// pool of replicas on different hosts adds six per plain-http host.
    pub fn effective_concurrency(&self) -> u32 {
        let mut http_hosts: Vec<String> = Vec::new();
        for url in self.base_urls() {
            match url.strip_prefix("http://") {
                Some(rest) => {
                    let host = rest.split('/').next().unwrap_or("").to_ascii_lowercase();
                    if !http_hosts.contains(&host) {
                        http_hosts.push(host);
                    }
                }
                // One HTTP/2 endpoint can carry everything asked for.
                None => return self.concurrency,
            }
        }
        self.concurrency
            .min(HTTP1_CONNECTIONS_PER_HOST * (http_hosts.len().max(1) as u32))
    }

    /// A warning when the concurrency asked for cannot be reached.
    pub fn concurrency_note(&self) -> Option<String> {
        (self.effective_concurrency() < self.concurrency).then(|| {
            format!(
                "Over plain http:// (HTTP/1.1) a browser keeps at most {HTTP1_CONNECTIONS_PER_HOST} requests in flight per server, \
                 so {} of the {} asked for will run at once. Serve the endpoint over HTTPS (HTTP/2), or add replicas on other \
                 hosts or ports to the endpoint pool, to go higher.",
                self.effective_concurrency(),
                self.concurrency
            )
        })
    }
}

/// The constraint "constrained decoding" means at this endpoint: the one set
/// (by hand or by the probe), else the best the probe found, else the
/// provider's usual one.
pub fn constrained_decoding(e: &EndpointConfig) -> Constraint {
    if e.constraint != Constraint::None {
        return e.constraint;
    }
    e.capabilities
        .as_ref()
        .map(Capabilities::best_constraint)
        .filter(|c| *c != Constraint::None)
        .unwrap_or(match e.provider.default_constraint() {
            Constraint::None => Constraint::JsonSchema,
            c => c,
        })
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

    #[test]
    fn a_pool_of_plain_http_hosts_adds_six_each() {
        let mut e = EndpointConfig::new("p", Provider::Vllm, Some("http://a:8000/v1"), None);
        e.concurrency = 32;
        e.replicas = vec![
            "http://b:8000/v1".into(),
            "http://A:8000/v1/".into(),
            " ".into(),
        ];
        // a and A are one host; the blank replica is ignored.
        assert_eq!(e.base_urls().len(), 3);
        assert_eq!(e.effective_concurrency(), 12);
        e.replicas.push("https://c/v1".into());
        assert_eq!(e.effective_concurrency(), 32);
    }

    #[test]
    fn probe_results_drive_the_constraint_only_in_auto_mode() {
        let mut e = EndpointConfig::new("p", Provider::Generic, None, None);
        let caps = Capabilities {
            grammar: true,
            json_schema: true,
            logprobs: true,
            ..Default::default()
        };
        assert_eq!(caps.best_constraint(), Constraint::Grammar);
        caps.apply_to(&mut e);
        assert_eq!((e.constraint, e.logprobs), (Constraint::Grammar, true));
        e.constraint_mode = ConstraintMode::Manual;
        e.constraint = Constraint::None;
        Capabilities {
            guided_choice: true,
            ..Default::default()
        }
        .apply_to(&mut e);
        assert_eq!(e.constraint, Constraint::None);
        assert!(e.capabilities.unwrap().honours(Constraint::GuidedChoice));
        assert_eq!(Capabilities::default().best_constraint(), Constraint::None);
    }

    #[test]
    fn constrained_decoding_is_the_set_constraint_else_the_probed_else_the_providers() {
        let mut e = EndpointConfig::new("p", Provider::Ollama, None, None);
        // Ollama honours no constraint by default: constrained means a JSON schema.
        assert_eq!(constrained_decoding(&e), Constraint::JsonSchema);
        e.capabilities = Some(Capabilities {
            grammar: true,
            ..Default::default()
        });
        assert_eq!(constrained_decoding(&e), Constraint::Grammar);
        e.constraint = Constraint::GuidedChoice;
        assert_eq!(constrained_decoding(&e), Constraint::GuidedChoice);
        let e = EndpointConfig::new("p", Provider::LlamaCpp, None, None);
        assert_eq!(constrained_decoding(&e), Constraint::Grammar);
    }

    #[test]
    fn endpoint_cost_needs_a_price() {
        let mut e = EndpointConfig::new("p", Provider::OpenAi, None, None);
        assert_eq!(e.cost(1_000_000, 1_000_000), None);
        e.price_in_per_m = Some(0.15);
        e.price_out_per_m = Some(0.6);
        assert!((e.cost(2_000_000, 500_000).unwrap() - 0.6).abs() < 1e-12);
    }

    #[test]
    fn providers_round_trip_and_azure_starts_with_an_api_version() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
        assert_eq!(Provider::parse("nope"), None);
        let e = EndpointConfig::new("p", Provider::Azure, None, None);
        assert_eq!(e.api_version.as_deref(), Some(AZURE_API_VERSION));
        assert_eq!(
            EndpointConfig::new("p", Provider::Vllm, None, None).api_version,
            None
        );
    }

    #[test]
    fn old_endpoints_read_with_defaults() {
        let mut v =
            serde_json::to_value(EndpointConfig::new("p", Provider::Vllm, None, None)).unwrap();
        for k in [
            "constraint_mode",
            "capabilities",
            "replicas",
            "replications",
            "price_in_per_m",
        ] {
            v.as_object_mut().unwrap().remove(k);
        }
        let e: EndpointConfig = serde_json::from_value(v).unwrap();
        assert_eq!(
            (e.replications, e.constraint_mode),
            (1, ConstraintMode::Auto)
        );
    }
}
