//! Batch engine output read as Fannotate imports it, as JSON.
//!
//! ```text
//! cargo run -q -p fannotate-core --example batch -- parse-output FILE.jsonl
//! ```
//! prints `{"format":"openai"|"anthropic","results":[{"custom_id","line","status":"ok"|"error",
//! "content","error"}],"problems":[{"line","reason"}]}`: one result per request answered
//! (`content` is the assistant message text, `error` why a request failed), one problem
//! per malformed, truncated or duplicate line. OpenAI, Azure and `vllm run-batch` output
//! and Anthropic Message Batches results are told apart by their lines.
//!
//! A file that is not a batch output at all, an unreadable file or a bad usage prints
//! a message and exits with code 2.

use fannotate_core::batch::parse_output;
use serde_json::Value;
use std::process::ExitCode;

#[path = "support/cli.rs"]
mod cli;

const USAGE: &str = "usage: batch parse-output FILE.jsonl";

fn run(args: &[String]) -> Result<Value, String> {
    let [command, file] = args else {
        return Err(USAGE.into());
    };
    if command != "parse-output" {
        return Err(format!("unknown command {command:?}; {USAGE}"));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let output = parse_output(&bytes).map_err(|e| format!("{file}: {e}"))?;
    Ok(output.report())
}

fn main() -> ExitCode {
    cli::main_with(run)
}
