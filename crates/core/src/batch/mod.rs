//! Handing a run to a batch engine and reading its answers back.
//!
//! A run goes out as OpenAI Batch JSONL (OpenAI, Azure, `vllm run-batch`, Ray
//! Data) or as Anthropic Message Batches requests, one request per row and
//! replication, each body built by [`crate::chat::RowRequest`] exactly as the
//! live runner builds it. The answers come back as output files in either
//! shape and are read by [`parse_output`] into results (each read by the same
//! [`crate::chat::Completion`] as a live answer) and line-numbered problems.
//!
//! `custom_id` names the run, row and replication of a request ([`CustomId`]);
//! `requests` writes request lines; `split` cuts them into files within the
//! APIs' limits as they stream out; `output` reads output files.

mod custom_id;
mod merge;
mod output;
mod remote;
mod requests;
mod split;

pub use custom_id::{check_run_id, CustomId, MAX_CUSTOM_ID_LEN, MAX_RUN_ID_LEN};
pub use merge::Merger;
pub use output::{
    parse_output, BatchOutput, BatchResult, FailureKind, OutputFormat, OutputReader, Problem,
    ProblemKind, ResultError, ResultStatus,
};
pub use remote::{poll_delay_ms, read_anthropic_batch, read_openai_batch, RemoteState};
pub use requests::{
    anthropic_params, azure_deployment, azure_resource_url, openai_line, BatchRequests,
    AZURE_CHAT_COMPLETIONS_URL, CHAT_COMPLETIONS_URL,
};
pub use split::{
    PartSummary, PartWriter, Placement, SplitLimits, Splitter, MAX_BYTES_PER_FILE,
    MAX_LINES_PER_FILE,
};

/// What can go wrong preparing a batch or reading its output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    /// The run's id cannot be part of a `custom_id`.
    #[error(
        "run id {0:?} cannot stand in a batch custom_id (1 to {max} characters of A-Z, a-z, 0-9, _ and -)",
        max = MAX_RUN_ID_LEN
    )]
    RunId(String),
    /// A `custom_id` Fannotate did not write.
    #[error("{0:?} is not a request id Fannotate wrote")]
    ForeignId(String),
    /// One request line is larger than a whole batch file may be.
    #[error("a request line of {bytes} bytes is larger than a batch file may be ({limit} bytes)")]
    LineTooLarge {
        /// The line's size with its newline.
        bytes: usize,
        /// The file size limit.
        limit: usize,
    },
    /// An Azure batch names its deployment, and the endpoint names none.
    #[error("an Azure batch needs the deployment's name: in the endpoint URL (…/deployments/NAME) or as the model")]
    AzureDeployment,
    /// Anthropic refuses temperatures outside 0 to 1.
    #[error("Anthropic takes a temperature from 0 to 1, not {0}")]
    AnthropicTemperature(f64),
    /// The file holds no batch results at all.
    #[error("not a batch output file: {0}")]
    NotBatchOutput(String),
    /// Writing a part failed (the message of the I/O error).
    #[error("writing a batch file: {0}")]
    Io(String),
}
