//! A batch submitted to an engine's API: the state its status answers tell
//! (OpenAI/Azure `/v1/batches/{id}`, Anthropic `/v1/messages/batches/{id}`),
//! and how long to wait before asking again.

use serde_json::Value;

/// Where a submitted batch is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteState {
    /// Still running: the engine's word for it (`validating`, `in_progress`…).
    Working(String),
    /// Done, with whatever came out (also for an expired or cancelled batch,
    /// whose finished requests still have answers).
    Ended {
        /// The engine's word (`completed`, `expired`, `cancelled`, `ended`).
        status: String,
        /// OpenAI: the file of answers.
        output_file_id: Option<String>,
        /// OpenAI: the file of failed requests.
        error_file_id: Option<String>,
        /// Anthropic: where the results are.
        results_url: Option<String>,
    },
    /// The engine refused the batch as a whole (why).
    Failed(String),
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Read an OpenAI Batch object: its id and state; `None` when it is not one.
pub fn read_openai_batch(v: &Value) -> Option<(String, RemoteState)> {
    let id = text(v, "id")?;
    let status = text(v, "status")?;
    let state = match status.as_str() {
        "completed" | "expired" | "cancelled" => RemoteState::Ended {
            status,
            output_file_id: text(v, "output_file_id"),
            error_file_id: text(v, "error_file_id"),
            results_url: None,
        },
        "failed" => {
            let why: Vec<String> = v
                .pointer("/errors/data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| {
                    let msg = text(e, "message").unwrap_or_else(|| "failed".into());
                    match e.get("line").and_then(Value::as_u64) {
                        Some(l) => format!("line {l}: {msg}"),
                        None => msg,
                    }
                })
                .collect();
            RemoteState::Failed(if why.is_empty() {
                "the engine failed the batch".into()
            } else {
                why.join("; ")
            })
        }
        _ => RemoteState::Working(status),
    };
    Some((id, state))
}

/// Read an Anthropic Message Batch object: its id and state.
pub fn read_anthropic_batch(v: &Value) -> Option<(String, RemoteState)> {
    let id = text(v, "id")?;
    let status = text(v, "processing_status")?;
    let state = if status == "ended" {
        RemoteState::Ended {
            status,
            output_file_id: None,
            error_file_id: None,
            results_url: text(v, "results_url"),
        }
    } else {
        RemoteState::Working(status)
    };
    Some((id, state))
}

/// Milliseconds to wait before status request `polls + 1`: half a second,
/// doubling, at most ten minutes (a batch can take a day).
pub fn poll_delay_ms(polls: u32) -> f64 {
    (500.0 * 2f64.powi(polls.min(20) as i32)).min(600_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_states() {
        let b = |status: &str| json!({"id": "batch_1", "status": status, "output_file_id": "file-o", "error_file_id": null});
        assert_eq!(
            read_openai_batch(&b("in_progress")),
            Some(("batch_1".into(), RemoteState::Working("in_progress".into())))
        );
        assert_eq!(
            read_openai_batch(&b("completed")).unwrap().1,
            RemoteState::Ended {
                status: "completed".into(),
                output_file_id: Some("file-o".into()),
                error_file_id: None,
                results_url: None
            }
        );
        let failed = json!({"id": "b", "status": "failed", "errors": {"data": [{"code": "x", "line": 3, "message": "bad json"}]}});
        assert_eq!(
            read_openai_batch(&failed).unwrap().1,
            RemoteState::Failed("line 3: bad json".into())
        );
        assert_eq!(read_openai_batch(&json!({"error": {}})), None);
    }

    #[test]
    fn anthropic_states_and_backoff() {
        let v = json!({"id": "msgbatch_1", "processing_status": "ended", "results_url": "https://x/results"});
        assert!(matches!(
            read_anthropic_batch(&v).unwrap().1,
            RemoteState::Ended {
                results_url: Some(_),
                ..
            }
        ));
        assert_eq!(poll_delay_ms(0), 500.0);
        assert_eq!(poll_delay_ms(3), 4000.0);
        assert_eq!(poll_delay_ms(40), 600_000.0);
    }
}
