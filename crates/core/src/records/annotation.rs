//! Annotations: one value for one row and attribute from a run or a person.

use serde::{Deserialize, Serialize};

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
    fn old_annotations_read_with_defaults_and_skip_empty_replications() {
        let a = Annotation::pending("d", 1, "spam", HUMAN_SOURCE, 2.0);
        let v = serde_json::to_value(&a).unwrap();
        assert!(v.get("agreement").is_none() && v.get("replica_values").is_none());
        let mut v = v;
        for k in ["tokens_estimated", "confidence"] {
            v.as_object_mut().unwrap().remove(k);
        }
        let back: Annotation = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
        assert_eq!(run_source("x"), "run:x");
    }
}
