//! Annotations: one value for one row and attribute from a run or a person,
//! and how a run turns an item's answers into one.

use crate::{parse_answer, Attribute, AttributeKind, Parsed};
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

/// One model answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatAnswer {
    /// The assistant message text.
    pub content: String,
    /// Prompt tokens (0 when not reported).
    pub tokens_in: u32,
    /// Completion tokens (0 when not reported).
    pub tokens_out: u32,
    /// Whether the token counts are our estimate (the server sent no `usage`).
    pub tokens_estimated: bool,
    /// Probability of the whole answer (product of its token probabilities).
    pub confidence: Option<f64>,
    /// Wall time of the request in milliseconds.
    pub latency_ms: f64,
}

/// A request that brought no answer, as an annotation keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What to tell the user (the annotation's reason).
    pub message: String,
    /// What the annotation keeps as the raw answer: the response body when the
    /// server sent one that is not a chat completion, else the error itself.
    pub raw: String,
}

/// One replication's reading: the value, or why there is none.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    Value(String),
    Invalid(String),
    Failed(String),
}

/// Read one answer for an attribute.
fn read_answer(attribute: &Attribute, content: &str) -> Reading {
    match attribute.kind {
        // Free text is the answer itself; only an empty answer is unusable.
        AttributeKind::FreeText | AttributeKind::Other(_) => {
            if content.trim().is_empty() {
                Reading::Invalid(crate::answer::InvalidReason::Empty.as_str().to_string())
            } else {
                Reading::Value(content.trim().to_string())
            }
        }
        AttributeKind::Categorical => match parse_answer(content, &attribute.category_names()) {
            Parsed::Valid(i) => Reading::Value(attribute.categories[i].name.clone()),
            Parsed::Invalid { reason, .. } => Reading::Invalid(reason.as_str().to_string()),
        },
    }
}

impl Annotation {
    /// Combine an item's replications into one annotation: the majority value (ties
    /// go to the value seen first), its agreement, and a confidence from
    /// log-probabilities when the server gave them, else from agreement.
    /// Without any result it stays [`Annotation::pending`] (failed).
    /// `dataset_id` and `run_id` say whose answers they are.
    pub fn from_answers(
        dataset_id: &str,
        run_id: &str,
        attribute: &Attribute,
        row: u32,
        results: &[Result<ChatAnswer, Failure>],
        ts: f64,
    ) -> Annotation {
        let mut a = Annotation::pending(dataset_id, row, &attribute.name, &run_source(run_id), ts);
        let n = results.len().max(1);
        let readings: Vec<Reading> = results
            .iter()
            .map(|r| match r {
                Ok(ans) => read_answer(attribute, &ans.content),
                Err(e) => Reading::Failed(e.message.clone()),
            })
            .collect();
        let answers: Vec<&ChatAnswer> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        for ans in &answers {
            a.tokens_in += ans.tokens_in;
            a.tokens_out += ans.tokens_out;
            a.tokens_estimated |= ans.tokens_estimated;
        }
        if !answers.is_empty() {
            a.latency_ms = answers.iter().map(|x| x.latency_ms).sum::<f64>() / answers.len() as f64;
        }
        let mut tally: Vec<(&str, usize)> = Vec::new();
        for r in &readings {
            if let Reading::Value(v) = r {
                match tally.iter_mut().find(|(x, _)| *x == v.as_str()) {
                    Some((_, c)) => *c += 1,
                    None => tally.push((v, 1)),
                }
            }
        }
        // `max_by_key` keeps the last of equal maxima; reversing keeps the first seen.
        let majority = tally
            .iter()
            .rev()
            .max_by_key(|(_, c)| *c)
            .map(|(v, c)| (v.to_string(), *c));
        if n > 1 {
            a.replica_values = readings
                .iter()
                .map(|r| match r {
                    Reading::Value(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
        }
        match majority {
            Some((value, count)) => {
                let agreeing: Vec<usize> = (0..readings.len())
                    .filter(|&i| readings[i] == Reading::Value(value.clone()))
                    .collect();
                let lp: Vec<f64> = agreeing
                    .iter()
                    .filter_map(|&i| results[i].as_ref().ok().and_then(|x| x.confidence))
                    .collect();
                let agreement = count as f64 / n as f64;
                a.agreement = (n > 1).then_some(agreement);
                a.confidence = if !lp.is_empty() {
                    Some(lp.iter().sum::<f64>() / lp.len() as f64)
                } else {
                    a.agreement
                };
                a.raw = results[agreeing[0]]
                    .as_ref()
                    .map(|x| x.content.clone())
                    .unwrap_or_default();
                a.status = AnnotationStatus::Valid;
                a.value = Some(value);
            }
            None => {
                // No value: an invalid answer says more than a failed request.
                let invalid = readings
                    .iter()
                    .position(|r| matches!(r, Reading::Invalid(_)));
                let i = invalid.unwrap_or(0);
                match (readings.get(i), results.get(i)) {
                    (Some(Reading::Invalid(reason)), Some(Ok(ans))) => {
                        a.status = AnnotationStatus::Invalid;
                        a.reason = Some(reason.clone());
                        a.raw = ans.content.clone();
                    }
                    (_, Some(Err(e))) => {
                        a.reason = Some(e.message.clone());
                        a.raw = e.raw.clone();
                    }
                    _ => {}
                }
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Category;

    fn answer(content: &str, confidence: Option<f64>) -> Result<ChatAnswer, Failure> {
        Ok(ChatAnswer {
            content: content.into(),
            tokens_in: 10,
            tokens_out: 1,
            tokens_estimated: false,
            confidence,
            latency_ms: 100.0,
        })
    }

    fn timeout() -> Result<ChatAnswer, Failure> {
        Err(Failure {
            message: "No answer within 5 s.".into(),
            raw: "no answer within 5 s".into(),
        })
    }

    fn spam_attribute() -> Attribute {
        Attribute::categorical(
            "spam",
            "<<text>>",
            vec![Category::new("ham", ""), Category::new("spam", "")],
        )
    }

    fn annotate(results: &[Result<ChatAnswer, Failure>]) -> Annotation {
        Annotation::from_answers("d", "r", &spam_attribute(), 0, results, 0.0)
    }

    #[test]
    fn one_answer_becomes_one_annotation() {
        let a = Annotation::from_answers(
            "d",
            "r",
            &spam_attribute(),
            7,
            &[answer("Spam.", Some(0.9))],
            5.0,
        );
        assert_eq!(
            (a.status, a.value.as_deref(), a.row, a.ts),
            (AnnotationStatus::Valid, Some("spam"), 7, 5.0)
        );
        assert_eq!((a.source.as_str(), a.dataset_id.as_str()), ("run:r", "d"));
        assert_eq!((a.confidence, a.agreement), (Some(0.9), None));
        assert!(a.replica_values.is_empty());
        let a = annotate(&[answer("no idea", None)]);
        assert_eq!(a.status, AnnotationStatus::Invalid);
        assert_eq!(a.raw, "no idea");
        let a = annotate(&[Err(Failure {
            message: "The server's answer is not a chat completion: {\"choices\": [".into(),
            raw: "{\"choices\": [".into(),
        })]);
        assert_eq!(a.status, AnnotationStatus::Error);
        assert_eq!(a.raw, "{\"choices\": [", "the raw body is kept");
        assert!(a.reason.unwrap().contains("not a chat completion"));
        let a = annotate(&[]);
        assert_eq!((a.status, a.reason), (AnnotationStatus::Error, None));
    }

    #[test]
    fn free_text_is_the_answer_itself_unless_empty() {
        let summary = Attribute {
            kind: AttributeKind::FreeText,
            ..spam_attribute()
        };
        let a = Annotation::from_answers(
            "d",
            "r",
            &summary,
            0,
            &[answer("  A short one. ", None)],
            0.0,
        );
        assert_eq!(a.value.as_deref(), Some("A short one."));
        let a = Annotation::from_answers("d", "r", &summary, 0, &[answer(" ", None)], 0.0);
        assert_eq!(a.status, AnnotationStatus::Invalid);
    }

    #[test]
    fn replications_vote_and_agreement_is_the_confidence_without_logprobs() {
        let res = vec![
            answer("ham", None),
            answer("spam", None),
            answer("spam", None),
            timeout(),
            answer("blah", None),
        ];
        let a = annotate(&res);
        assert_eq!(a.value.as_deref(), Some("spam"));
        assert_eq!(a.agreement, Some(0.4));
        assert_eq!(a.confidence, Some(0.4));
        assert_eq!(
            a.replica_values,
            vec![
                Some("ham".into()),
                Some("spam".into()),
                Some("spam".into()),
                None,
                None
            ]
        );
        assert_eq!((a.tokens_in, a.tokens_out), (40, 4));
        // A tie goes to the value seen first; logprobs of the agreeing answers win.
        let res = vec![
            answer("ham", Some(0.8)),
            answer("spam", Some(0.9)),
            answer("ham", Some(0.6)),
        ];
        let a = annotate(&res);
        assert_eq!(a.value.as_deref(), Some("ham"));
        assert!((a.confidence.unwrap() - 0.7).abs() < 1e-12);
        let res = vec![answer("ham", None), answer("spam", None)];
        assert_eq!(annotate(&res).value.as_deref(), Some("ham"));
        // Nothing valid: invalid beats failed.
        let res = vec![timeout(), answer("hmm", None)];
        let a = annotate(&res);
        assert_eq!(a.status, AnnotationStatus::Invalid);
        // Only failures: the first one's message and raw text are kept.
        let a = annotate(&[timeout(), timeout()]);
        assert_eq!(
            (a.status, a.reason.as_deref(), a.raw.as_str()),
            (
                AnnotationStatus::Error,
                Some("No answer within 5 s."),
                "no answer within 5 s"
            )
        );
    }

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
