//! Reading batch output files: OpenAI, Azure and vLLM
//! (`{"id","custom_id","response":{"status_code","body"}|null,"error":{…}|null}`)
//! and Anthropic Message Batches
//! (`{"custom_id","result":{"type":"succeeded","message":{…}}|{"type":"errored"|"canceled"|"expired",…}}`).
//!
//! Each answer is read by the same [`Completion`] as a live one. A line that
//! cannot be read (malformed, cut short, a second answer to the same request)
//! becomes a [`Problem`] with its line number, never a result and never lost.

use super::custom_id::CustomId;
use super::BatchError;
use crate::chat::Completion;
use crate::records::{ChatAnswer, Failure};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// Which engine's shape an output file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// OpenAI Batch API output, also written by Azure and `vllm run-batch`.
    OpenAi,
    /// Anthropic Message Batches results.
    Anthropic,
}

impl OutputFormat {
    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::OpenAi => "openai",
            OutputFormat::Anthropic => "anthropic",
        }
    }
}

/// Whether a request brought an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultStatus {
    /// A chat completion came back.
    Ok,
    /// The request failed.
    Error,
}

impl ResultStatus {
    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::Ok => "ok",
            ResultStatus::Error => "error",
        }
    }
}

/// Why a request brought no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server answered with this non-2xx status.
    Http(u16),
    /// The engine reported an error instead of a response (OpenAI's `error`).
    Engine,
    /// A 2xx response whose body is not a chat completion.
    NotACompletion,
    /// Anthropic: the request errored.
    Errored,
    /// Anthropic: the batch was canceled before the request ran.
    Canceled,
    /// Anthropic: the batch expired before the request ran.
    Expired,
}

/// A failed request, as its output line tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultError {
    /// What kind of failure.
    pub kind: FailureKind,
    /// What to tell the user.
    pub message: String,
    /// The response body or error object as sent (compact JSON).
    pub raw: String,
}

impl ResultError {
    /// The failure an annotation keeps, as for a failed live request.
    pub fn failure(&self) -> Failure {
        Failure {
            message: self.message.clone(),
            raw: self.raw.clone(),
        }
    }
}

/// One request's outcome in an output file.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult {
    /// The request's `custom_id`, as written in the file.
    pub custom_id: String,
    /// Its line (from 1).
    pub line: usize,
    /// The answer, or why there is none.
    pub outcome: Result<Completion, ResultError>,
}

impl BatchResult {
    /// Whether the request brought an answer.
    pub fn status(&self) -> ResultStatus {
        match self.outcome {
            Ok(_) => ResultStatus::Ok,
            Err(_) => ResultStatus::Error,
        }
    }

    /// The assistant message text, for an answer.
    pub fn content(&self) -> Option<&str> {
        self.outcome.as_ref().ok().map(|c| c.content.as_str())
    }

    /// The failure, for a failed request.
    pub fn error(&self) -> Option<&ResultError> {
        self.outcome.as_ref().err()
    }

    /// The request of run `run_id` this answers, or why it answers none of
    /// its requests (`asked(row, replication)` says which it asked).
    pub fn request_of(
        &self,
        run_id: &str,
        asked: impl Fn(u32, u32) -> bool,
    ) -> Result<CustomId, ProblemKind> {
        match CustomId::parse(&self.custom_id) {
            Err(_) => Err(ProblemKind::ForeignId(self.custom_id.clone())),
            Ok(id) if id.run_id() != run_id => Err(ProblemKind::OtherRun(id.run_id().to_string())),
            Ok(id) if !asked(id.row(), id.replication()) => {
                Err(ProblemKind::Unexpected(self.custom_id.clone()))
            }
            Ok(id) => Ok(id),
        }
    }

    /// The answer as a run keeps it, exactly as for a live answer (see
    /// [`Completion::into_answer`]; a batch reports no latency, so 0), or the
    /// failure. `prompt_chars` is the request's ([`crate::chat::RowRequest::prompt_chars`]).
    pub fn answer(&self, prompt_chars: usize, logprobs: bool) -> Result<ChatAnswer, Failure> {
        match &self.outcome {
            Ok(c) => Ok(c.clone().into_answer(prompt_chars, logprobs, 0.0)),
            Err(e) => Err(e.failure()),
        }
    }
}

/// Why a line gave no result.
#[derive(Debug, Clone, PartialEq)]
pub enum ProblemKind {
    /// Not JSON, or JSON that is not a batch result (the detail says how).
    Malformed(String),
    /// The line ends before its JSON does (a cut-off download or copy).
    Truncated,
    /// A second line for a `custom_id` already answered on `first_line`.
    Duplicate {
        /// Where the request's first answer is.
        first_line: usize,
    },
    /// A result of the other engine's shape, in a file of this shape.
    OtherFormat(OutputFormat),
    /// A `custom_id` Fannotate did not write.
    ForeignId(String),
    /// A request of another run.
    OtherRun(String),
    /// A request of this run that it did not ask (a row outside the run, a
    /// replication beyond its count).
    Unexpected(String),
    /// A request of this run whose answer an earlier file already brought.
    AlreadyImported(String),
}

/// A line that gave no result, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The line (from 1).
    pub line: usize,
    /// Why.
    pub kind: ProblemKind,
}

impl Problem {
    /// The reason, for people.
    pub fn reason(&self) -> String {
        match &self.kind {
            ProblemKind::Malformed(detail) => format!("malformed: {detail}"),
            ProblemKind::Truncated => "truncated: the line ends before its JSON does".into(),
            ProblemKind::Duplicate { first_line } => {
                format!("duplicate: the same custom_id was answered on line {first_line}")
            }
            ProblemKind::OtherFormat(f) => {
                format!(
                    "malformed: a {} result in a file of the other shape",
                    f.as_str()
                )
            }
            ProblemKind::ForeignId(id) => format!("foreign: {id:?} is not a Fannotate request id"),
            ProblemKind::OtherRun(run) => format!("another run: the request belongs to run {run}"),
            ProblemKind::Unexpected(id) => format!("unexpected: this run did not ask {id}"),
            ProblemKind::AlreadyImported(id) => {
                format!("duplicate: {id} was already imported into this run")
            }
        }
    }
}

/// An output file read: its shape, its results in file order, its problems.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutput {
    /// The file's shape.
    pub format: OutputFormat,
    /// One result per request answered, in file order.
    pub results: Vec<BatchResult>,
    /// One problem per line that gave no result, in file order.
    pub problems: Vec<Problem>,
}

impl BatchOutput {
    /// The results for run `run_id`, each with its request; results for other
    /// runs, ids of other tools and requests the run did not ask (`asked(row,
    /// replication)` false) are problems instead.
    pub fn for_run(
        &self,
        run_id: &str,
        asked: impl Fn(u32, u32) -> bool,
    ) -> (Vec<(CustomId, &BatchResult)>, Vec<Problem>) {
        let mut ours = Vec::new();
        let mut problems = Vec::new();
        for r in &self.results {
            match r.request_of(run_id, &asked) {
                Ok(id) => ours.push((id, r)),
                Err(kind) => problems.push(Problem { line: r.line, kind }),
            }
        }
        (ours, problems)
    }

    /// The report of the `batch` example (`parse-output`): format, results and
    /// problems with the key names of its documented contract.
    pub fn report(&self) -> Value {
        let results: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                json!({
                    "custom_id": r.custom_id,
                    "line": r.line,
                    "status": r.status().as_str(),
                    "content": r.content(),
                    "error": r.error().map(|e| e.message.as_str()),
                })
            })
            .collect();
        let problems: Vec<Value> = self
            .problems
            .iter()
            .map(|p| json!({"line": p.line, "reason": p.reason()}))
            .collect();
        json!({"format": self.format.as_str(), "results": results, "problems": problems})
    }
}

/// What one line is.
enum Line {
    Result(OutputFormat, BatchResult),
    /// A request line (of an input file), which says what the file is.
    Request,
    Problem(ProblemKind),
}

/// A JSON body, also when an engine wrote it as a string of JSON; borrowed
/// when it is an object already, since bodies are most of an output file.
fn body_value(body: &Value) -> Cow<'_, Value> {
    match body {
        Value::String(s) => serde_json::from_str(s).map_or(Cow::Borrowed(body), Cow::Owned),
        other => Cow::Borrowed(other),
    }
}

/// The message of an API error body (`{"error":{"message"}}`) or error object.
fn error_message(v: &Value) -> Option<String> {
    v.pointer("/error/message")
        .or_else(|| v.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn openai_outcome(line: &Value) -> Result<Result<Completion, ResultError>, String> {
    let response = line.get("response").filter(|r| !r.is_null());
    let error = line.get("error").filter(|e| !e.is_null());
    if let Some(resp) = response {
        let status = resp
            .get("status_code")
            .and_then(Value::as_u64)
            .ok_or("the response has no status_code")?;
        let body = body_value(resp.get("body").unwrap_or(&Value::Null));
        if !(200..300).contains(&status) {
            let status = u16::try_from(status).unwrap_or(u16::MAX);
            return Ok(Err(ResultError {
                kind: FailureKind::Http(status),
                message: match error_message(&body) {
                    Some(m) => format!("HTTP {status}: {m}"),
                    None => format!("HTTP {status}"),
                },
                raw: body.to_string(),
            }));
        }
        return Ok(
            Completion::from_chat_completion(&body).ok_or_else(|| ResultError {
                kind: FailureKind::NotACompletion,
                message: "the answer is not a chat completion".into(),
                raw: body.to_string(),
            }),
        );
    }
    if let Some(e) = error {
        let code = e.get("code").and_then(Value::as_str);
        let message = match (code, error_message(e)) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (None, Some(m)) => m,
            (Some(c), None) => c.to_string(),
            (None, None) => "the engine reported an error".into(),
        };
        return Ok(Err(ResultError {
            kind: FailureKind::Engine,
            message,
            raw: e.to_string(),
        }));
    }
    Err("neither a response nor an error".into())
}

fn anthropic_outcome(result: &Value) -> Result<Result<Completion, ResultError>, String> {
    let kind = result
        .get("type")
        .and_then(Value::as_str)
        .ok_or("the result has no type")?;
    let fail = |kind, message: String| {
        Ok(Err(ResultError {
            kind,
            message,
            raw: result.to_string(),
        }))
    };
    match kind {
        "succeeded" => {
            let message = result.get("message").ok_or("a success without a message")?;
            Ok(
                Completion::from_anthropic_message(message).ok_or_else(|| ResultError {
                    kind: FailureKind::NotACompletion,
                    message: "the answer is not a message".into(),
                    raw: message.to_string(),
                }),
            )
        }
        "errored" => {
            // `{"type":"errored","error":{"type":"error","error":{"type","message"}}}`
            let e = result.get("error").unwrap_or(&Value::Null);
            let detail = e.get("error").unwrap_or(e);
            let message = match (
                detail.get("type").and_then(Value::as_str),
                detail.get("message").and_then(Value::as_str),
            ) {
                (Some(t), Some(m)) => format!("{t}: {m}"),
                (None, Some(m)) => m.to_string(),
                (Some(t), None) => t.to_string(),
                (None, None) => "the request errored".into(),
            };
            fail(FailureKind::Errored, message)
        }
        "canceled" => fail(
            FailureKind::Canceled,
            "the batch was canceled before this request ran".into(),
        ),
        "expired" => fail(
            FailureKind::Expired,
            "the batch expired before this request ran".into(),
        ),
        other => Err(format!("unknown result type {other:?}")),
    }
}

fn read_line(bytes: &[u8], line: usize) -> Line {
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) if e.is_eof() => return Line::Problem(ProblemKind::Truncated),
        // Each line is parsed alone, so serde's "line 1" says nothing.
        Err(e) => {
            return Line::Problem(ProblemKind::Malformed(format!(
                "not JSON ({} at column {})",
                e.to_string().split(" at line ").next().unwrap_or_default(),
                e.column()
            )))
        }
    };
    let Some(o) = v.as_object() else {
        return Line::Problem(ProblemKind::Malformed("not a JSON object".into()));
    };
    if (o.contains_key("method") && o.contains_key("body")) || o.contains_key("params") {
        return Line::Request;
    }
    let format = if o.contains_key("result") {
        OutputFormat::Anthropic
    } else if o.contains_key("response") || o.contains_key("error") {
        OutputFormat::OpenAi
    } else {
        return Line::Problem(ProblemKind::Malformed(
            "not a batch result (no response, error or result)".into(),
        ));
    };
    let Some(custom_id) = o.get("custom_id").and_then(Value::as_str) else {
        return Line::Problem(ProblemKind::Malformed("no custom_id".into()));
    };
    let outcome = match format {
        OutputFormat::OpenAi => openai_outcome(&v),
        OutputFormat::Anthropic => anthropic_outcome(&v["result"]),
    };
    match outcome {
        Ok(outcome) => Line::Result(
            format,
            BatchResult {
                custom_id: custom_id.to_string(),
                line,
                outcome,
            },
        ),
        Err(detail) => Line::Problem(ProblemKind::Malformed(detail)),
    }
}

/// Reads an output file line by line, so a large file can be fed in slices.
#[derive(Debug, Default)]
pub struct OutputReader {
    line: usize,
    format: Option<OutputFormat>,
    results: Vec<BatchResult>,
    problems: Vec<Problem>,
    first_seen: HashMap<String, usize>,
    /// The first request line (of a batch input file), if any.
    first_request: Option<usize>,
}

impl OutputReader {
    /// A reader that has read nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read the next line (without its newline; a trailing `\r` is allowed).
    /// Blank lines hold nothing and are skipped, though they are counted.
    pub fn push_line(&mut self, bytes: &[u8]) {
        self.line += 1;
        let bytes = match (self.line, bytes.strip_prefix(b"\xEF\xBB\xBF")) {
            (1, Some(rest)) => rest,
            _ => bytes,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let line = self.line;
        let kind = match read_line(bytes, line) {
            Line::Result(format, result) => {
                let file_format = *self.format.get_or_insert(format);
                if format != file_format {
                    ProblemKind::OtherFormat(format)
                } else if let Some(&first_line) = self.first_seen.get(&result.custom_id) {
                    ProblemKind::Duplicate { first_line }
                } else {
                    self.first_seen.insert(result.custom_id.clone(), line);
                    self.results.push(result);
                    return;
                }
            }
            Line::Request => {
                self.first_request.get_or_insert(line);
                ProblemKind::Malformed("a batch request, not a result".into())
            }
            Line::Problem(kind) => kind,
        };
        self.problems.push(Problem { line, kind });
    }

    /// The file's shape, once a result has said it.
    pub fn format(&self) -> Option<OutputFormat> {
        self.format
    }

    /// Lines read so far (blank ones included).
    pub fn lines(&self) -> usize {
        self.line
    }

    /// Hand over the results read since the last call, so a large file's
    /// results can be applied as it is read; duplicates are still told apart
    /// from the whole file.
    pub fn take_results(&mut self) -> Vec<BatchResult> {
        std::mem::take(&mut self.results)
    }

    /// The file read; an error when no line of it is a batch result.
    pub fn finish(self) -> Result<BatchOutput, BatchError> {
        let Some(format) = self.format else {
            let reason = match (self.first_request, self.problems.first()) {
                (Some(line), _) => {
                    format!("line {line} is a batch request: this is an input file, not output")
                }
                (None, Some(p)) => format!(
                    "no line is a batch result (line {}: {})",
                    p.line,
                    p.reason()
                ),
                (None, None) => "the file is empty".into(),
            };
            return Err(BatchError::NotBatchOutput(reason));
        };
        Ok(BatchOutput {
            format,
            results: self.results,
            problems: self.problems,
        })
    }
}

/// Read a whole output file (see [`OutputReader`]).
pub fn parse_output(bytes: &[u8]) -> Result<BatchOutput, BatchError> {
    let mut reader = OutputReader::new();
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        // The empty piece after a final newline is not a line.
        if line.is_empty() && lines.peek().is_none() {
            break;
        }
        reader.push_line(line);
    }
    reader.finish()
}
