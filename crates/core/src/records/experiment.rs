//! Experiments: a grid of configurations measured on the validation set, the
//! prices of its models, and how its cells are routed, priced and named.

use super::annotation::{Annotation, AnnotationStatus};
use super::endpoint::{constrained_decoding, ConstraintMode, EndpointConfig, Provider};
use crate::experiment::{CellSpec, ItemOutcome, Outcome};
use crate::prompt::Constraint;
use crate::url::origin_of;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
        self.prices
            .iter()
            .find(|p| p.endpoint == endpoint && p.model == model)
            .map_or((None, None), |p| (p.price_in_per_m, p.price_out_per_m))
    }

    /// The endpoint a cell calls: 0 is the project's (`base`), `k` the `k`-th
    /// of the experiment's others (the project's when there is no such endpoint).
    pub fn endpoint_of<'a>(
        &'a self,
        base: &'a EndpointConfig,
        spec: &CellSpec,
    ) -> &'a EndpointConfig {
        spec.endpoint
            .checked_sub(1)
            .and_then(|i| self.endpoints.get(i))
            .unwrap_or(base)
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
        let mut s = model_label(&self.endpoints, spec.endpoint, &spec.model);
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
                .and_then(|e| origin_of(&e.base_url))
                .unwrap_or_else(|| format!("endpoint {}", k + 1));
            format!("{model} @ {host}")
        }
    }
}

/// The leaderboard's view of one stored annotation, with the gold labels of
/// the experiment's rows.
pub fn outcome_of(a: &Annotation, gold: &HashMap<u32, String>) -> ItemOutcome {
    ItemOutcome {
        row: a.row,
        gold: gold.get(&a.row).cloned(),
        value: (a.status == AnnotationStatus::Valid)
            .then(|| a.value.clone())
            .flatten(),
        outcome: match a.status {
            AnnotationStatus::Valid => Outcome::Valid,
            AnnotationStatus::Invalid => Outcome::Invalid,
            AnnotationStatus::Error => Outcome::Failed,
        },
        latency_ms: a.latency_ms,
        tokens_in: a.tokens_in,
        tokens_out: a.tokens_out,
        replica_values: a.replica_values.clone(),
    }
}

/// Wall time the answers span, in seconds: from the first request's start to
/// the last answer (replications of an item go one after another).
pub fn span_s(annotations: &[Annotation]) -> f64 {
    let end = annotations.iter().map(|a| a.ts).fold(f64::MIN, f64::max);
    let start = annotations
        .iter()
        .map(|a| a.ts - a.latency_ms * a.replica_values.len().max(1) as f64)
        .fold(f64::MAX, f64::min);
    if annotations.is_empty() {
        0.0
    } else {
        ((end - start) / 1000.0).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(prices: Vec<ModelPrice>, endpoints: Vec<EndpointConfig>) -> Experiment {
        Experiment {
            id: "x".into(),
            project_id: "p".into(),
            dataset_id: "d".into(),
            attribute: "a".into(),
            name: "n".into(),
            created_at: 0.0,
            task_rows: Vec::new(),
            cells: Vec::new(),
            prices,
            endpoints,
            daily_volume: 1,
            workers: 1,
        }
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
        let x = experiment(prices, vec![other]);
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
        assert_eq!(x.price(2, "m"), (None, None));
        assert_eq!(x.price(0, "other"), (None, None));
    }

    #[test]
    fn cells_describe_themselves() {
        let c = CellSpec {
            endpoint: 0,
            model: "m".into(),
            version: 2,
            temperature: 0.7,
            replications: 3,
            constrained: false,
        };
        let alone = experiment(Vec::new(), Vec::new());
        assert_eq!(alone.describe(&c), "m · v2 · T 0.7 · ×3 · free");
        let other = EndpointConfig::new("p", Provider::Ollama, Some("http://gpu:11434/v1"), None);
        let at = CellSpec {
            endpoint: 1,
            constrained: true,
            replications: 1,
            ..c.clone()
        };
        let x = experiment(Vec::new(), vec![other.clone()]);
        assert_eq!(
            x.describe(&at),
            "m @ http://gpu:11434 · v2 · T 0.7 · constrained"
        );
        assert_eq!(model_label(&[other], 1, "m"), "m @ http://gpu:11434");
        assert_eq!(model_label(&[], 0, ""), "(server default)");
        assert_eq!(model_label(&[], 2, "m"), "m @ endpoint 3");
    }

    #[test]
    fn stored_annotations_become_leaderboard_items() {
        let gold: HashMap<u32, String> = [(3, "spam".to_string())].into();
        let mut a = Annotation::pending("d", 3, "a", "run:r", 0.0);
        a.status = AnnotationStatus::Valid;
        a.value = Some("ham".into());
        a.latency_ms = 12.0;
        a.tokens_in = 40;
        a.tokens_out = 2;
        a.replica_values = vec![Some("ham".into()), None];
        let item = outcome_of(&a, &gold);
        assert_eq!(
            item,
            ItemOutcome {
                row: 3,
                gold: Some("spam".into()),
                value: Some("ham".into()),
                outcome: Outcome::Valid,
                latency_ms: 12.0,
                tokens_in: 40,
                tokens_out: 2,
                replica_values: vec![Some("ham".into()), None],
            }
        );
        // An invalid answer's text is no label; a row without gold has none.
        a.status = AnnotationStatus::Invalid;
        a.row = 4;
        let item = outcome_of(&a, &gold);
        assert_eq!(
            (item.value, item.gold, item.outcome),
            (None, None, Outcome::Invalid)
        );
        a.status = AnnotationStatus::Error;
        assert_eq!(outcome_of(&a, &gold).outcome, Outcome::Failed);
    }

    #[test]
    fn the_span_covers_first_request_to_last_answer() {
        let mut a = Annotation::pending("d", 0, "a", "run:r", 1_000.0);
        a.latency_ms = 100.0;
        let mut b = a.clone();
        b.ts = 1_500.0;
        assert!((span_s(&[a.clone(), b]) - 0.6).abs() < 1e-9);
        assert_eq!(span_s(&[]), 0.0);
        // Three replications one after another started three latencies earlier.
        a.replica_values = vec![None, None, None];
        assert!((span_s(&[a]) - 0.3).abs() < 1e-9);
    }
}
