//! A run handed to a batch engine: how its requests went out (the files and
//! their rows) and what came back (each import, and the rows of which only
//! some replications have been answered so far).

use super::annotation::{ChatAnswer, Failure};
use super::endpoint::Provider;
use serde::{Deserialize, Serialize};

/// The shape of the request files a run goes out as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BatchEngine {
    /// OpenAI Batch JSONL, read by OpenAI, Azure, `vllm run-batch` and Ray Data.
    #[default]
    OpenAi,
    /// Anthropic Message Batches requests (`{"custom_id","params"}` per line).
    Anthropic,
    /// Azure OpenAI Batch JSONL: OpenAI's lines with Azure's `url`
    /// (`/chat/completions`) and the deployment as `model`.
    Azure,
}

impl BatchEngine {
    /// Every engine, for pickers.
    pub const ALL: [BatchEngine; 3] = [
        BatchEngine::OpenAi,
        BatchEngine::Azure,
        BatchEngine::Anthropic,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchEngine::OpenAi => "openai",
            BatchEngine::Anthropic => "anthropic",
            BatchEngine::Azure => "azure",
        }
    }

    /// Read [`BatchEngine::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The shape an endpoint of `provider` takes: Azure's for Azure, else
    /// OpenAI's.
    pub fn for_provider(provider: Provider) -> Self {
        match provider {
            Provider::Azure => BatchEngine::Azure,
            _ => BatchEngine::OpenAi,
        }
    }

    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            BatchEngine::OpenAi => "OpenAI Batch JSONL (OpenAI, vLLM, Ray Data)",
            BatchEngine::Azure => "Azure OpenAI Batch JSONL (a global batch deployment)",
            BatchEngine::Anthropic => "Anthropic Message Batches JSONL",
        }
    }
}

/// One request file of a batch run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPart {
    /// The file's name as downloaded.
    pub name: String,
    /// Its first row, as a position in the run's task order.
    pub first_task: u32,
    /// How many rows it holds (each with all its replications).
    pub tasks: u32,
    /// Request lines.
    pub lines: u32,
    /// Bytes, newlines included.
    pub bytes: u64,
}

/// One output file read into the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchImport {
    /// The file's name.
    pub file: String,
    /// Milliseconds since the epoch.
    pub at: f64,
    /// The output's shape (`openai`, `anthropic`).
    pub format: String,
    /// The engine's batch id, when the file came from a submitted batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// Results of this run in the file.
    pub results: u32,
    /// Results applied (the rest were already imported).
    pub applied: u32,
    /// Lines that gave no result for this run.
    pub problems: u32,
}

/// One replication's answer, kept until the row's other replications come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialAnswer {
    /// The replication, from 0.
    pub replication: u32,
    /// The answer, or why there is none.
    pub answer: Result<ChatAnswer, Failure>,
}

/// A row of which some replications are answered and some are not yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialRow {
    /// Row position.
    pub row: u32,
    /// The replications answered so far.
    pub answers: Vec<PartialAnswer>,
}

/// How a run went out to a batch engine and what has come back.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BatchRun {
    /// The request files' shape.
    pub engine: BatchEngine,
    /// Requests per row.
    pub replications: u32,
    /// The request files written, in order.
    pub parts: Vec<BatchPart>,
    /// The output files read, in order.
    #[serde(default)]
    pub imports: Vec<BatchImport>,
    /// Rows answered in part.
    #[serde(default)]
    pub partial: Vec<PartialRow>,
    /// The batches submitted to the endpoint's API, one per file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote: Vec<RemoteBatch>,
}

/// A request file submitted to the endpoint's batch API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteBatch {
    /// The engine's batch id.
    pub id: String,
    /// The request file (a name of [`BatchRun::parts`]).
    pub part: String,
    /// The uploaded file's id (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_file_id: Option<String>,
    /// The engine's last word on it.
    pub status: String,
    /// Status requests made so far (they space out).
    #[serde(default)]
    pub polls: u32,
    /// Whether its results are in the run (or it failed as a whole).
    #[serde(default)]
    pub settled: bool,
    /// Why the engine refused it, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl BatchRun {
    /// Requests the run's files hold.
    pub fn requests(&self) -> u64 {
        self.parts.iter().map(|p| u64::from(p.lines)).sum()
    }
}
