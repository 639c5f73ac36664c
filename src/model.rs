//! Records the app keeps in browser storage. Field names are part of the stored
//! schema: renaming one needs a migration in `services::idb`.

use fannotate_core::experiment::CellSpec;
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
    /// The sample project a first visit can open (marked as such in the list).
    #[serde(default)]
    pub sample: bool,
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
    /// Column holding human gold labels (for every attribute without its own
    /// mapping in `gold_cols`), if any.
    pub gold_col: Option<usize>,
    /// Gold label column per attribute, set after import when the codebook is known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gold_cols: Vec<GoldColumn>,
    /// The rows chosen for validation (labelled by hand, used to measure models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationSet>,
    /// Number of rows.
    pub row_count: u32,
    /// Bytes of cell text stored, for the per-project storage figure.
    #[serde(default)]
    pub bytes: u64,
    /// Detected encoding, for display.
    pub encoding: String,
    /// Detected delimiter, for display.
    pub delimiter: String,
    /// Milliseconds since the epoch.
    pub imported_at: f64,
}

/// Rows set aside to be labelled by hand and to measure models on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationSet {
    /// The rows as sorted `[start, end)` ranges.
    pub rows: Vec<[u32; 2]>,
    /// How many rows.
    pub size: u32,
    /// How they were chosen, for display ("random, seed 1").
    pub method: String,
}

impl ValidationSet {
    /// A set from row numbers.
    pub fn new(rows: impl IntoIterator<Item = u32>, method: String) -> Self {
        let ranges = row_ranges(rows);
        ValidationSet {
            size: ranges.iter().map(|r| r[1] - r[0]).sum(),
            rows: ranges,
            method,
        }
    }

    /// Whether `row` is in the set.
    pub fn contains(&self, row: u32) -> bool {
        ranges_contain(&self.rows, row)
    }
}

/// Which column holds the human labels of one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldColumn {
    /// Attribute name.
    pub attribute: String,
    /// Column index; `None` means the attribute has no gold column.
    pub column: Option<usize>,
}

impl DatasetMeta {
    /// The gold column of an attribute: its own mapping, else the import's.
    pub fn gold_for(&self, attribute: &str) -> Option<usize> {
        match self.gold_cols.iter().find(|g| g.attribute == attribute) {
            Some(g) => g.column,
            None => self.gold_col,
        }
    }

    /// Set (or clear) an attribute's gold column.
    pub fn set_gold(&mut self, attribute: &str, column: Option<usize>) {
        self.gold_cols.retain(|g| g.attribute != attribute);
        self.gold_cols.push(GoldColumn {
            attribute: attribute.to_string(),
            column,
        });
    }
}

/// An import in progress: its rows are written in chunks, and only become a
/// dataset when the import commits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportMarker {
    /// Dataset id the rows are written under.
    pub dataset_id: String,
    /// Project importing.
    pub project_id: String,
    /// Milliseconds since the epoch.
    pub started_at: f64,
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

    /// The names of its attributes, in order.
    pub fn attribute_names(&self) -> Result<Vec<String>, fannotate_core::CodebookError> {
        Ok(self
            .codebook()?
            .attributes
            .into_iter()
            .map(|a| a.name)
            .collect())
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

/// Attribute `name` as codebook version `version` among `versions` defines it.
pub fn version_attribute(
    versions: &[CodebookVersion],
    version: u32,
    name: &str,
) -> Option<fannotate_core::Attribute> {
    versions
        .iter()
        .find(|v| v.version == version)
        .and_then(|v| v.codebook().ok())
        .and_then(|cb| cb.attribute(name).cloned())
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
    /// Which rows the run was started on.
    #[serde(default)]
    pub scope: Scope,
    /// The rows of the run as `[start, end)` ranges; `None` means every row.
    #[serde(default)]
    pub task_rows: Option<Vec<[u32; 2]>>,
    /// The experiment this run is a cell of, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
}

impl RunRecord {
    /// What the run asked, for people: "mock-model · prompt v2 · T 0.7 ·
    /// constrained · ×3", so runs of an experiment's cells can be told apart.
    pub fn configuration(&self) -> String {
        let e = &self.endpoint;
        let model = if e.model.is_empty() {
            "(server default)"
        } else {
            &e.model
        };
        let mut s = format!(
            "{model} · prompt v{} · T {}",
            self.codebook_version, e.temperature
        );
        if !self.free_text {
            s.push_str(if e.constraint == Constraint::None {
                " · free"
            } else {
                " · constrained"
            });
            if e.replications > 1 {
                s.push_str(&format!(" · ×{}", e.replications));
            }
        }
        s
    }

    /// The status to show in a page that is running `live` (if any): a run
    /// stored as running that is not that one was left by a page that closed.
    pub fn shown_status(&self, live: Option<&str>) -> RunStatus {
        if self.status == RunStatus::Running && live != Some(self.id.as_str()) {
            RunStatus::Interrupted
        } else {
            self.status
        }
    }

    /// Whether row `row` is one of the run's tasks.
    pub fn has_row(&self, row: u32) -> bool {
        self.task_rows
            .as_ref()
            .is_none_or(|ranges| ranges_contain(ranges, row))
    }
}

/// Whether sorted, disjoint `[start, end)` ranges (from [`row_ranges`]) hold `row`.
pub fn ranges_contain(ranges: &[[u32; 2]], row: u32) -> bool {
    let i = ranges.partition_point(|r| r[1] <= row);
    ranges.get(i).is_some_and(|r| r[0] <= row)
}

#[cfg(test)]
impl RunRecord {
    /// A running run of `attribute` on dataset `d` of project `p`, for tests.
    pub(crate) fn for_test(id: &str, attribute: &str) -> Self {
        RunRecord {
            id: id.into(),
            project_id: "p".into(),
            dataset_id: "d".into(),
            attribute: attribute.into(),
            free_text: false,
            codebook_version: 1,
            endpoint: EndpointConfig::new("p", Provider::Vllm, None, None),
            status: RunStatus::Running,
            total: 0,
            valid: 0,
            invalid: 0,
            failed: 0,
            started_at: 0.0,
            finished_at: None,
            error: None,
            scope: Scope::All,
            task_rows: None,
            experiment: None,
        }
    }
}

/// A grid of configurations measured on the validation set for one attribute:
/// each cell is a run of its own, so cells persist and resume like any run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Random unique id.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Dataset whose validation rows are measured.
    pub dataset_id: String,
    /// Attribute measured (categorical).
    pub attribute: String,
    /// Name shown in the experiment list.
    pub name: String,
    /// Milliseconds since the epoch.
    pub created_at: f64,
    /// The validation rows measured, as `[start, end)` ranges: fixed when the
    /// experiment is made, so every configuration sees the same items.
    pub task_rows: Vec<[u32; 2]>,
    /// The configurations, in grid order.
    pub cells: Vec<ExperimentCell>,
    /// Prices per model, for cost figures.
    #[serde(default)]
    pub prices: Vec<ModelPrice>,
    /// Endpoints besides the project's (cells with `endpoint` k use the k-th),
    /// never with an API key: keys live in the tab's memory only.
    #[serde(default)]
    pub endpoints: Vec<EndpointConfig>,
    /// Items to process per day, for the projection.
    pub daily_volume: u64,
    /// Parallel requests assumed by the projection.
    pub workers: u32,
}

/// One configuration of an experiment and the run that measures it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentCell {
    /// Model, prompt version, temperature, replications and decoding.
    pub spec: CellSpec,
    /// The run measuring it, once started.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Kept at the top of the leaderboard.
    #[serde(default)]
    pub pinned: bool,
}

/// What one model costs, per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// Which endpoint (0: the project's), as in [`CellSpec::endpoint`].
    #[serde(default)]
    pub endpoint: usize,
    /// Model name as sent to the endpoint.
    pub model: String,
    /// Price per million prompt tokens.
    pub price_in_per_m: Option<f64>,
    /// Price per million completion tokens.
    pub price_out_per_m: Option<f64>,
}

impl Experiment {
    /// The prices entered for `model` at endpoint `endpoint`, if any.
    pub fn price(&self, endpoint: usize, model: &str) -> (Option<f64>, Option<f64>) {
        model_price(&self.prices, endpoint, model)
    }

    /// The endpoint a cell calls: the project's (`base`) or one of the others.
    pub fn endpoint_of<'a>(
        &'a self,
        base: &'a EndpointConfig,
        spec: &CellSpec,
    ) -> &'a EndpointConfig {
        endpoint_at(base, &self.endpoints, spec.endpoint)
    }

    /// The endpoint settings of a cell: its endpoint with the cell's model,
    /// temperature, replications, decoding and the model's prices.
    pub fn cell_endpoint(&self, base: &EndpointConfig, spec: &CellSpec) -> EndpointConfig {
        let at = self.endpoint_of(base, spec);
        let mut e = at.clone();
        e.model = spec.model.clone();
        e.temperature = spec.temperature;
        e.replications = spec.replications.max(1);
        e.constraint = if spec.constrained {
            constrained_decoding(at)
        } else {
            Constraint::None
        };
        // The grid fixed the decoding: a later probe must not change the record.
        e.constraint_mode = ConstraintMode::Manual;
        (e.price_in_per_m, e.price_out_per_m) = self.price(spec.endpoint, &spec.model);
        e
    }

    /// A short description of a cell, e.g. "smollm2 · v2 · T 0.7 · ×3 ·
    /// constrained", with the host when it is not the project's endpoint.
    pub fn describe(&self, spec: &CellSpec) -> String {
        describe_cell(spec, &self.endpoints)
    }
}

/// Set one price of `model` at `endpoint` (`input`: per million prompt tokens,
/// else completion tokens), adding the model's entry when it has none.
pub fn set_model_price(
    prices: &mut Vec<ModelPrice>,
    endpoint: usize,
    model: &str,
    input: bool,
    value: Option<f64>,
) {
    let i = match prices
        .iter()
        .position(|p| p.endpoint == endpoint && p.model == model)
    {
        Some(i) => i,
        None => {
            prices.push(ModelPrice {
                endpoint,
                model: model.to_string(),
                price_in_per_m: None,
                price_out_per_m: None,
            });
            prices.len() - 1
        }
    };
    if input {
        prices[i].price_in_per_m = value;
    } else {
        prices[i].price_out_per_m = value;
    }
}

/// Settings for one more endpoint of an experiment: its provider's defaults at
/// `base_url`, with the project endpoint's limits and prompt settings, so the
/// only differences measured are the server and the model.
pub fn other_endpoint(
    project: &EndpointConfig,
    provider: Provider,
    base_url: &str,
) -> EndpointConfig {
    let mut e = EndpointConfig::new(&project.project_id, provider, Some(base_url.trim()), None);
    e.max_tokens = project.max_tokens;
    e.free_text_max_tokens = project.free_text_max_tokens;
    e.max_text_chars = project.max_text_chars;
    e.timeout_secs = project.timeout_secs;
    e.concurrency = project.concurrency;
    e.system_prompt = project.system_prompt.clone();
    e
}

/// The prices of `model` at endpoint `endpoint` among `prices`, if any.
pub fn model_price(
    prices: &[ModelPrice],
    endpoint: usize,
    model: &str,
) -> (Option<f64>, Option<f64>) {
    prices
        .iter()
        .find(|p| p.endpoint == endpoint && p.model == model)
        .map_or((None, None), |p| (p.price_in_per_m, p.price_out_per_m))
}

/// Endpoint `k` of a grid: 0 is the project's (`base`), `k` the `k`-th of
/// `others` (the project's when there is no such endpoint).
pub fn endpoint_at<'a>(
    base: &'a EndpointConfig,
    others: &'a [EndpointConfig],
    k: usize,
) -> &'a EndpointConfig {
    k.checked_sub(1).and_then(|i| others.get(i)).unwrap_or(base)
}

/// A model's name for people, with its endpoint's host when it is not the
/// project's: "smollm2", "llama3 @ http://gpu:11434".
pub fn model_label(others: &[EndpointConfig], endpoint: usize, model: &str) -> String {
    let model = if model.is_empty() {
        "(server default)"
    } else {
        model
    };
    match endpoint {
        0 => model.to_string(),
        k => {
            let host = others
                .get(k - 1)
                .and_then(|e| fannotate_core::url::origin_of(&e.base_url))
                .unwrap_or_else(|| format!("endpoint {}", k + 1));
            format!("{model} @ {host}")
        }
    }
}

/// [`Experiment::describe`] for a cell of a grid whose other endpoints are `others`.
pub fn describe_cell(spec: &CellSpec, others: &[EndpointConfig]) -> String {
    let mut s = model_label(others, spec.endpoint, &spec.model);
    s.push_str(&format!(" · v{} · T {}", spec.version, spec.temperature));
    if spec.replications > 1 {
        s.push_str(&format!(" · ×{}", spec.replications));
    }
    s.push_str(if spec.constrained {
        " · constrained"
    } else {
        " · free"
    });
    s
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

/// Sorted row numbers as `[start, end)` ranges (compact for long runs of rows).
pub fn row_ranges(rows: impl IntoIterator<Item = u32>) -> Vec<[u32; 2]> {
    let mut sorted: Vec<u32> = rows.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<[u32; 2]> = Vec::new();
    for r in sorted {
        match out.last_mut() {
            Some(last) if last[1] == r => last[1] = r + 1,
            _ => out.push([r, r + 1]),
        }
    }
    out
}

/// Which rows a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Scope {
    /// Every row of the dataset.
    #[default]
    All,
    /// The dataset's validation set, or rows with a human label when none was chosen.
    Validation,
    /// Rows with neither a human label nor a valid model label for the attribute.
    Unlabelled,
    /// Rows whose latest model answer for the attribute failed or was invalid.
    Failed,
}

impl Scope {
    /// Every scope, for pickers.
    pub const ALL: [Scope; 4] = [
        Scope::All,
        Scope::Validation,
        Scope::Unlabelled,
        Scope::Failed,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Validation => "validation",
            Scope::Unlabelled => "unlabelled",
            Scope::Failed => "failed",
        }
    }

    /// Inverse of [`Scope::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The rows of a dataset of `row_count` rows in this scope, in order.
    /// `validation`: the chosen validation set, if any; `human`: rows with a human
    /// label for the attribute; `model_valid`: rows with a valid model label from
    /// any run; `latest`: each row's most recent model outcome.
    pub fn rows(
        self,
        row_count: u32,
        validation: Option<&ValidationSet>,
        human: &std::collections::HashSet<u32>,
        model_valid: &std::collections::HashSet<u32>,
        latest: &std::collections::HashMap<u32, AnnotationStatus>,
    ) -> Vec<u32> {
        (0..row_count)
            .filter(|r| match self {
                Scope::All => true,
                Scope::Validation => match validation {
                    Some(v) => v.contains(*r),
                    None => human.contains(r),
                },
                Scope::Unlabelled => !human.contains(r) && !model_valid.contains(r),
                Scope::Failed => matches!(
                    latest.get(r),
                    Some(AnnotationStatus::Error | AnnotationStatus::Invalid)
                ),
            })
            .collect()
    }

    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Scope::All => "All rows",
            Scope::Validation => "Validation set",
            Scope::Unlabelled => "Unlabelled rows",
            Scope::Failed => "Failed or invalid answers",
        }
    }
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
    /// Probability of the answer from token log-probabilities, or else the share
    /// of agreeing replications, when available.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Share of replications that gave the chosen value (with replications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
    /// Each replication's value (`None`: invalid or failed), with replications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_values: Vec<Option<String>>,
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
            agreement: None,
            replica_values: Vec::new(),
            ts,
        }
    }
}

/// The annotation source of labels a person gave.
pub const HUMAN_SOURCE: &str = "human";

/// The annotation source string of a run.
pub fn run_source(run_id: &str) -> String {
    format!("run:{run_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_stored_as_running_is_interrupted_unless_this_page_runs_it() {
        let r = RunRecord::for_test("r", "spam");
        assert_eq!(r.shown_status(Some("r")), RunStatus::Running);
        assert_eq!(r.shown_status(Some("other")), RunStatus::Interrupted);
        assert_eq!(r.shown_status(None), RunStatus::Interrupted);
        let done = RunRecord {
            status: RunStatus::Completed,
            ..r
        };
        assert_eq!(done.shown_status(None), RunStatus::Completed);
    }

    #[test]
    fn a_runs_configuration_names_model_prompt_temperature_decoding_and_replications() {
        let mut r = RunRecord::for_test("r", "spam");
        r.endpoint.model = "m".into();
        r.endpoint.temperature = 0.7;
        r.codebook_version = 2;
        r.endpoint.constraint = Constraint::None;
        assert_eq!(r.configuration(), "m · prompt v2 · T 0.7 · free");
        r.endpoint.constraint = Constraint::JsonSchema;
        r.endpoint.replications = 3;
        assert_eq!(
            r.configuration(),
            "m · prompt v2 · T 0.7 · constrained · ×3"
        );
        r.free_text = true;
        r.endpoint.model.clear();
        assert_eq!(r.configuration(), "(server default) · prompt v2 · T 0.7");
    }

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
    fn row_ranges_are_compact_and_searchable() {
        let ranges = row_ranges([5, 1, 2, 3, 9, 3, 10]);
        assert_eq!(ranges, vec![[1, 4], [5, 6], [9, 11]]);
        let run = RunRecord {
            task_rows: Some(ranges),
            ..sample_run()
        };
        let hits: Vec<u32> = (0..12).filter(|r| run.has_row(*r)).collect();
        assert_eq!(hits, vec![1, 2, 3, 5, 9, 10]);
        assert!(sample_run().has_row(123_456));
    }

    #[test]
    fn scopes_pick_their_rows() {
        use std::collections::{HashMap, HashSet};
        let human: HashSet<u32> = [0, 1].into();
        let valid: HashSet<u32> = [1, 2].into();
        let latest: HashMap<u32, AnnotationStatus> = [
            (2, AnnotationStatus::Valid),
            (3, AnnotationStatus::Error),
            (4, AnnotationStatus::Invalid),
        ]
        .into();
        let rows = |s: Scope| s.rows(6, None, &human, &valid, &latest);
        assert_eq!(rows(Scope::All), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(rows(Scope::Validation), vec![0, 1]);
        assert_eq!(rows(Scope::Unlabelled), vec![3, 4, 5]);
        assert_eq!(rows(Scope::Failed), vec![3, 4]);
        let v = ValidationSet::new([5, 2, 3], "random, seed 1".into());
        assert_eq!((v.size, v.contains(4), v.contains(5)), (3, false, true));
        assert_eq!(
            Scope::Validation.rows(6, Some(&v), &human, &valid, &latest),
            vec![2, 3, 5]
        );
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn gold_columns_per_attribute_fall_back_to_the_import_choice() {
        let mut m: DatasetMeta = serde_json::from_value(serde_json::json!({
            "id": "d", "project_id": "p", "name": "x", "columns": ["a", "b", "c"],
            "text_col": 0, "id_col": null, "gold_col": 1, "row_count": 0,
            "encoding": "UTF-8", "delimiter": ",", "imported_at": 0.0
        }))
        .unwrap();
        assert_eq!(m.gold_for("topic"), Some(1));
        m.set_gold("topic", Some(2));
        m.set_gold("mood", None);
        m.set_gold("topic", Some(2));
        assert_eq!(
            (m.gold_for("topic"), m.gold_for("mood"), m.gold_for("x")),
            (Some(2), None, Some(1))
        );
        assert_eq!(m.gold_cols.len(), 2);
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
    fn old_records_read_with_defaults() {
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
        let mut r = serde_json::to_value(sample_run()).unwrap();
        r.as_object_mut().unwrap().remove("scope");
        r.as_object_mut().unwrap().remove("task_rows");
        let r: RunRecord = serde_json::from_value(r).unwrap();
        assert_eq!((r.scope, r.task_rows), (Scope::All, None));
    }

    #[test]
    fn an_experiment_cell_calls_its_own_endpoint_with_its_own_price() {
        let mut project = EndpointConfig::new("p", Provider::Vllm, None, Some("a"));
        project.max_tokens = 7;
        project.constraint = Constraint::GuidedChoice;
        let other = other_endpoint(&project, Provider::Ollama, " http://gpu:11434/v1 ");
        assert_eq!(
            (other.base_url.as_str(), other.max_tokens, other.provider),
            ("http://gpu:11434/v1", 7, Provider::Ollama)
        );
        let mut prices = Vec::new();
        set_model_price(&mut prices, 1, "m", true, Some(2.0));
        set_model_price(&mut prices, 1, "m", false, Some(8.0));
        set_model_price(&mut prices, 0, "m", true, Some(1.0));
        let x = Experiment {
            id: "x".into(),
            project_id: "p".into(),
            dataset_id: "d".into(),
            attribute: "a".into(),
            name: "n".into(),
            created_at: 0.0,
            task_rows: Vec::new(),
            cells: Vec::new(),
            prices,
            endpoints: vec![other],
            daily_volume: 1,
            workers: 1,
        };
        let spec = |endpoint| CellSpec {
            endpoint,
            model: "m".into(),
            version: 1,
            temperature: 0.5,
            replications: 3,
            constrained: true,
        };
        let at_other = x.cell_endpoint(&project, &spec(1));
        assert_eq!(at_other.base_url, "http://gpu:11434/v1");
        assert_eq!(
            (at_other.price_in_per_m, at_other.price_out_per_m),
            (Some(2.0), Some(8.0))
        );
        // Ollama honours no constraint by default: constrained means a JSON schema.
        assert_eq!(at_other.constraint, Constraint::JsonSchema);
        let at_project = x.cell_endpoint(&project, &spec(0));
        assert_eq!(at_project.base_url, project.base_url);
        assert_eq!(
            (at_project.price_in_per_m, at_project.price_out_per_m),
            (Some(1.0), None)
        );
        assert_eq!(at_project.constraint, Constraint::GuidedChoice);
        assert_eq!((at_project.replications, at_project.temperature), (3, 0.5));
        // A cell naming an endpoint the experiment lacks falls back to the project's.
        assert_eq!(
            x.cell_endpoint(&project, &spec(5)).base_url,
            project.base_url
        );
    }

    fn sample_run() -> RunRecord {
        RunRecord::for_test("r", "a")
    }
}
