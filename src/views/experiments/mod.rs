//! Experiments: measure a grid of configurations (models × prompt versions ×
//! temperatures × replications × constrained decoding) on the validation set,
//! rank them against the human gold labels, and project each to the daily volume.
//! Measure first, annotate at scale second.

mod board;
mod grid;
mod panel;
mod projection;

use crate::actions::aggregate::combine_action;
use crate::actions::experiment::{experiment_action, is_complete, ExperimentJob};
use crate::actions::run::scope_rows;
use crate::components::{
    when_loaded, Bar, BarChart, Button, CombineChoice, CombineRuns, RefLine, RunControls,
    RunProgressPanel, SelectField, Tone,
};
use crate::error::AppError;
use crate::format::{ci_text, duration_text, format_date, pct, pct_or_dash};
use crate::services::browser::{now_ms, random_id};
use crate::services::llm::{estimate_tokens, list_models};
use crate::services::storage::Storage;
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::aggregate::AggregateMethod;
use fannotate_core::experiment::{
    best_index, cells, combined_score, compare, estimate_cell, projection_input, score,
    CellEstimate, CellSpec, Comparison, ConfigMeasure, GridAxes, ItemOutcome, ModelRef, Score,
};
use fannotate_core::projection::{project, Projection, ProjectionInput};
use fannotate_core::prompt::{render_prompt, Constraint, PromptOptions};
use fannotate_core::records::{
    model_label, other_endpoint, outcome_of, ranges_contain, row_ranges, run_source,
    set_model_price, span_s, Annotation, CodebookVersion, DatasetMeta, EndpointConfig, Experiment,
    ExperimentCell, ModelPrice, Provider, RunRecord, RunStatus, Scope,
};
use fannotate_core::{Attribute, AttributeKind};
use leptos::prelude::*;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The seed's daily volume: customer-service calls per day.
pub const DEFAULT_DAILY_VOLUME: u64 = 6_500;
/// Bootstrap resamples for the leaderboard's intervals.
const RESAMPLES: usize = 1_000;
/// Fixed seed, so intervals do not move between visits.
const BOOTSTRAP_SEED: u64 = 42;

use board::*;
use grid::*;
use panel::*;
use projection::*;

/// A model at an endpoint: (endpoint index, model name), as prices are keyed.
type ModelKey = (usize, String);

/// Another endpoint as typed into the grid builder.
#[derive(Debug, Clone, PartialEq)]
struct OtherDraft {
    provider: Provider,
    url: String,
    models: String,
    key: String,
}

/// What the grid builder needs, loaded together.
#[derive(Debug, Clone, PartialEq)]
struct Setup {
    dataset: Option<DatasetMeta>,
    /// Every saved codebook version, newest first.
    versions: Vec<CodebookVersion>,
    endpoint: EndpointConfig,
    /// Experiments made so far (for the default name).
    experiment_count: usize,
}

/// Comma- or space-separated values, each parsed; unparsable ones are dropped.
fn parse_list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split([',', ' ', ';'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// Model names from a comma-separated list, in order, without repeats.
fn parse_models(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in s.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        if !out.iter().any(|x| x == m) {
            out.push(m.to_string());
        }
    }
    out
}

/// A cell's identity, for remembering removed cells while the axes change.
fn cell_key(c: &CellSpec) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        c.endpoint, c.model, c.version, c.temperature, c.replications, c.constrained
    )
}

/// Prompt tokens per item (estimated from characters) for an attribute's
/// prompt over `texts`, with the endpoint's system message and text cut.
fn prompt_tokens_per_item(attribute: &Attribute, texts: &[String], e: &EndpointConfig) -> f64 {
    if texts.is_empty() {
        return 0.0;
    }
    let opts = PromptOptions {
        max_text_chars: Some(e.max_text_chars as usize),
        examples: Vec::new(),
        system: e.system_prompt.clone(),
    };
    let system = e.system_prompt.as_deref().map_or(0, str::len);
    let total: u64 = texts
        .iter()
        .map(|t| {
            u64::from(estimate_tokens(
                render_prompt(attribute, t, &opts).len() + system,
            ))
        })
        .sum();
    total as f64 / texts.len() as f64
}

/// Completion tokens per request: the longest label under constrained decoding
/// (a JSON object around it for JSON schemas), else the cap (an upper bound).
fn out_tokens_per_request(attribute: &Attribute, e: &EndpointConfig, constrained: bool) -> f64 {
    if !constrained {
        return f64::from(e.max_tokens);
    }
    let longest = attribute
        .categories
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(1);
    let wrapper = if fannotate_core::records::constrained_decoding(e) == Constraint::JsonSchema {
        12
    } else {
        0
    };
    f64::from(estimate_tokens(longest + wrapper) + 1)
}

/// The experiments step.
#[component]
pub fn ExperimentsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let loaded = LocalResource::new(move || {
        state.track(&[
            Topic::Dataset,
            Topic::Codebook,
            Topic::Endpoint,
            Topic::Experiments,
        ]);
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        let fallback = state.default_endpoint();
        async move {
            let mut versions = storage.codebook_versions(pid.clone()).await?;
            versions.sort_by_key(|v| std::cmp::Reverse(v.version));
            let experiments = storage.experiments(pid.clone()).await?;
            Ok::<_, AppError>((
                Setup {
                    dataset: storage.dataset(pid.clone()).await?,
                    versions,
                    endpoint: storage.endpoint(pid).await?.unwrap_or(fallback),
                    experiment_count: experiments.len(),
                },
                experiments,
            ))
        }
    });
    // Each part is rebuilt only when its own inputs change: a run saving results
    // (every measured cell touches the runs) must not reset a half-filled form
    // or reload the leaderboard from scratch.
    let setup =
        Memo::new(
            move |prev: Option<&Option<Result<Setup, AppError>>>| match loaded.get() {
                Some(r) => Some(r.map(|(s, _)| s)),
                None => prev.cloned().flatten(),
            },
        );
    let list = Memo::new(
        move |prev: Option<&Vec<(String, String)>>| match loaded.get() {
            Some(Ok((_, xs))) => xs
                .iter()
                .map(|x| {
                    (
                        x.id.clone(),
                        format!(
                            "{} · {} · {} configurations · {}",
                            x.name,
                            x.attribute,
                            x.cells.len(),
                            format_date(x.created_at)
                        ),
                    )
                })
                .collect(),
            _ => prev.cloned().unwrap_or_default(),
        },
    );
    let selected = RwSignal::new(None::<String>);
    // The experiment shown: the chosen one while it exists, else the newest.
    let current_id = Memo::new(move |_| {
        let want = selected.get();
        list.with(|l| {
            l.iter()
                .find(|(id, _)| want.as_deref() == Some(id.as_str()))
                .or(l.first())
                .map(|(id, _)| id.clone())
        })
    });
    view! {
        <section class="fa-view" data-testid="experiments-view">
            <h2>"Experiments"</h2>
            <p class="fa-muted">"Measure before annotating at scale: run a grid of models, prompt versions, temperatures, replications and decoding modes on the validation set, compare them with sound statistics, and see what each would take to process the daily volume."</p>
            {when_loaded(setup, "Loading…", move |s| {
                    let missing = if s.dataset.is_none() {
                        Some("Import a dataset first (Data step).")
                    } else if s.versions.is_empty() {
                        Some("Save a codebook with a categorical attribute first (Codebook step).")
                    } else {
                        None
                    };
                    match missing {
                        Some(m) => view! { <p class="fa-empty" data-testid="experiments-missing">{m}</p> }.into_any(),
                        None => view! { <GridBuilder setup=s on_start=Callback::new(move |id: String| selected.set(Some(id))) /> }.into_any(),
                    }
                })}
            {move || (!list.with(Vec::is_empty)).then(|| view! {
                <div class="fa-card">
                    <SelectField label="Experiment" testid="experiment-select" on_change=Callback::new(move |v: String| selected.set(Some(v)))>
                            {move || list.get().into_iter().map(|(id, label)| {
                                let id2 = id.clone();
                                view! { <option value=id selected=move || current_id.get().as_deref() == Some(id2.as_str())>{label}</option> }
                            }).collect_view()}
                        </SelectField>
                </div>
            })}
            {move || current_id.get().map(|id| view! { <ExperimentPanel id /> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_leniently() {
        assert_eq!(parse_list::<f64>("0, 0.7 ;1 x"), vec![0.0, 0.7, 1.0]);
        assert_eq!(parse_models(" a, b ,a,, c"), vec!["a", "b", "c"]);
    }

    #[test]
    fn cells_have_keys_of_their_own() {
        let c = CellSpec {
            endpoint: 0,
            model: "m".into(),
            version: 2,
            temperature: 0.7,
            replications: 3,
            constrained: false,
        };
        let at = CellSpec {
            endpoint: 1,
            ..c.clone()
        };
        assert_ne!(cell_key(&c), cell_key(&at));
        assert_ne!(
            cell_key(&c),
            cell_key(&CellSpec {
                version: 1,
                ..c.clone()
            })
        );
    }

    #[test]
    fn a_draft_routes_prices_and_names_cells_as_the_saved_experiment_will() {
        let project = EndpointConfig::new("p", Provider::Vllm, None, Some("m"));
        let other = other_endpoint(&project, Provider::Ollama, "http://gpu:11434/v1");
        let mut prices = Vec::new();
        set_model_price(&mut prices, 1, "m", true, Some(2.0));
        let x = draft_experiment(vec![other], prices);
        let c = CellSpec {
            endpoint: 1,
            model: "m".into(),
            version: 2,
            temperature: 0.7,
            replications: 1,
            constrained: false,
        };
        assert_eq!(x.endpoint_of(&project, &c).base_url, "http://gpu:11434/v1");
        assert_eq!(x.price(1, "m"), (Some(2.0), None));
        assert_eq!(x.describe(&c), "m @ http://gpu:11434 · v2 · T 0.7 · free");
    }

    #[test]
    fn durations_read_in_minutes_below_an_hour() {
        assert_eq!(duration_text(0.04), "3 min");
        assert_eq!(duration_text(2.5), "2.5 h");
        assert_eq!(duration_text(f64::INFINITY), "never (no answers)");
    }
}
