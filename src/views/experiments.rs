//! Experiments: measure a grid of configurations (models × prompt versions ×
//! temperatures × replications × constrained decoding) on the validation set,
//! rank them against the human gold labels, and project each to the daily volume.
//! Measure first, annotate at scale second.

use super::run::{
    continue_run, launch, new_run, same_dataset, scope_rows, spawn_run, Continue, RunControls,
    RunProgressPanel,
};
use crate::components::{Bar, BarChart, RefLine};
use crate::data::endpoint::{default_endpoint, project_endpoint};
use crate::error::AppError;
use crate::format::{ci_text, duration_text, format_date, pct_or_dash};
use crate::services::browser::{now_ms, random_id};
use crate::services::llm::{estimate_tokens, list_models};
use crate::services::runner::Counts;
use crate::services::storage::Storage;
use crate::state::{AppState, Step, ToastKind};
use fannotate_core::experiment::{
    best_index, cells, compare, estimate_cell, projection_input, score, CellEstimate, CellSpec,
    Comparison, ConfigMeasure, GridAxes, ItemOutcome, ModelRef, Score,
};
use fannotate_core::projection::{project, Projection};
use fannotate_core::prompt::{render_prompt, Constraint, PromptOptions};
use fannotate_core::records::{
    model_label, other_endpoint, outcome_of, ranges_contain, row_ranges, run_source,
    set_model_price, span_s, version_attribute, Annotation, CodebookVersion, DatasetMeta,
    EndpointConfig, Experiment, ExperimentCell, ModelPrice, Provider, RunRecord, RunStatus, Scope,
    HUMAN_SOURCE,
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

/// Gold-column labels of an experiment's rows, kept by the leaderboard between
/// reloads: reading every row again after each measured cell would cost more
/// than the scoring. Keyed by dataset, column and attribute.
type GoldCache = Rc<std::cell::RefCell<Option<(String, HashMap<u32, String>)>>>;

/// Gold labels of the attribute on the experiment's rows: a human label first,
/// else the gold column's cell (naming a category loosely, like "Spam ").
async fn gold_labels(
    storage: &Rc<dyn Storage>,
    ds: &DatasetMeta,
    attribute: &Attribute,
    rows: &[[u32; 2]],
    cache: &GoldCache,
) -> Result<HashMap<u32, String>, AppError> {
    let col = ds.gold_for(&attribute.name);
    let key = format!("{}\u{1f}{:?}\u{1f}{}", ds.id, col, attribute.name);
    let cached = cache
        .borrow()
        .as_ref()
        .filter(|(k, _)| *k == key)
        .map(|(_, g)| g.clone());
    let mut gold = match (cached, col) {
        (Some(g), _) => g,
        (None, None) => HashMap::new(),
        (None, Some(col)) => {
            let mut g = HashMap::new();
            for r in storage.rows(ds.id.clone(), 0, ds.row_count).await? {
                if !ranges_contain(rows, r.idx) {
                    continue;
                }
                let cell = r.cell(col);
                if let Some(label) = attribute.match_label(cell) {
                    g.insert(r.idx, label.to_string());
                } else if !cell.trim().is_empty() {
                    g.insert(r.idx, cell.trim().to_string());
                }
            }
            *cache.borrow_mut() = Some((key, g.clone()));
            g
        }
    };
    for a in storage
        .annotations(ds.id.clone(), HUMAN_SOURCE.to_string())
        .await?
    {
        if a.attribute == attribute.name && ranges_contain(rows, a.row) {
            if let Some(v) = a.value {
                gold.insert(a.row, v);
            }
        }
    }
    Ok(gold)
}

/// One leaderboard line.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    /// Position in the grid.
    cell: usize,
    spec: CellSpec,
    pinned: bool,
    run: Option<RunRecord>,
    /// Items answered so far (of the experiment's items).
    answered: usize,
    score: Option<Score>,
    /// Against the best configuration (`None` for the best itself).
    comparison: Option<Comparison>,
    /// Requests in flight the run could use.
    concurrency: u32,
}

/// The measured experiment.
#[derive(Debug, Clone, PartialEq)]
struct Board {
    /// The experiment as stored.
    experiment: Experiment,
    lines: Vec<Line>,
    /// Index into `lines` of the best configuration.
    best: Option<usize>,
    /// Items in the experiment.
    items: usize,
    /// Of those, items with a gold label.
    gold_items: usize,
}

/// Score every cell of an experiment from its run's stored answers.
async fn load_board(
    storage: Rc<dyn Storage>,
    x: Experiment,
    cache: GoldCache,
) -> Result<Board, AppError> {
    let items = x.task_rows.iter().map(|r| (r[1] - r[0]) as usize).sum();
    let ds = storage
        .dataset(x.project_id.clone())
        .await?
        .filter(|d| d.id == x.dataset_id);
    let Some(ds) = ds else {
        return Ok(Board {
            experiment: x,
            lines: Vec::new(),
            best: None,
            items,
            gold_items: 0,
        });
    };
    let versions = storage.codebook_versions(x.project_id.clone()).await?;
    let attribute = versions
        .iter()
        .rev()
        .filter_map(|v| v.codebook().ok())
        .find_map(|cb| cb.attribute(&x.attribute).cloned());
    let gold = match &attribute {
        Some(a) => gold_labels(&storage, &ds, a, &x.task_rows, &cache).await?,
        None => HashMap::new(),
    };
    // `gold_labels` keeps only the experiment's rows.
    let gold_items = gold.len();
    let runs = storage.runs(x.project_id.clone()).await?;
    let mut lines = Vec::with_capacity(x.cells.len());
    let mut measured: Vec<Vec<ItemOutcome>> = Vec::with_capacity(x.cells.len());
    for (i, c) in x.cells.iter().enumerate() {
        let run = c
            .run_id
            .as_ref()
            .and_then(|id| runs.iter().find(|r| &r.id == id))
            .cloned();
        let (outcomes, score, answered, concurrency) = match &run {
            Some(r) => {
                let stored: Vec<Annotation> = storage
                    .annotations(ds.id.clone(), run_source(&r.id))
                    .await?
                    .into_iter()
                    .filter(|a| a.attribute == x.attribute && ranges_contain(&x.task_rows, a.row))
                    .collect();
                let (pi, po) = x.price(c.spec.endpoint, &c.spec.model);
                let concurrency = r.endpoint.effective_concurrency();
                let m = ConfigMeasure {
                    items: stored.iter().map(|a| outcome_of(a, &gold)).collect(),
                    elapsed_s: span_s(&stored),
                    concurrency,
                    replications: c.spec.replications.max(1),
                    price_in_per_m: pi,
                    price_out_per_m: po,
                };
                let s = (!stored.is_empty()).then(|| score(&m, RESAMPLES, BOOTSTRAP_SEED));
                (m.items, s, stored.len(), concurrency)
            }
            None => (Vec::new(), None, 0, 0),
        };
        measured.push(outcomes);
        lines.push(Line {
            cell: i,
            spec: c.spec.clone(),
            pinned: c.pinned,
            run,
            answered,
            score,
            comparison: None,
            concurrency,
        });
    }
    // Best among the measured; indices map back through `with_score`.
    let with_score: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].score.is_some())
        .collect();
    let scores: Vec<Score> = with_score
        .iter()
        .filter_map(|&i| lines[i].score.clone())
        .collect();
    let best = best_index(&scores).map(|k| with_score[k]);
    if let Some(b) = best {
        for i in with_score {
            if i != b {
                lines[i].comparison = Some(compare(&measured[b], &measured[i]));
            }
        }
    }
    Ok(Board {
        experiment: x,
        lines,
        best,
        items,
        gold_items,
    })
}

/// Run every configuration of an experiment that is not finished, one after
/// another (each at the endpoint's full concurrency, so throughput figures are
/// comparable). A cell interrupted earlier resumes; a cancel stops the queue.
async fn run_experiment(state: AppState, experiment_id: String) -> Result<RunStatus, AppError> {
    let storage = state.storage();
    let pid = state.project_id().unwrap_or_default();
    let find = |xs: Vec<Experiment>| xs.into_iter().find(|x| x.id == experiment_id);
    let Some(x) = find(storage.experiments(pid.clone()).await?) else {
        return Ok(RunStatus::Failed);
    };
    let Some(ds) = same_dataset(state, &pid, &x.dataset_id, "experiment").await? else {
        return Ok(RunStatus::Failed);
    };
    let versions = storage.codebook_versions(pid.clone()).await?;
    let endpoint = project_endpoint(&state, pid.clone()).await?;
    let selected: Vec<u32> = x.task_rows.iter().flat_map(|r| r[0]..r[1]).collect();
    let mut rows = None;
    for i in 0..x.cells.len() {
        let spec = x.cells[i].spec.clone();
        // Re-read: pins or other edits may have been saved meanwhile.
        let Some(mut current) = find(storage.experiments(pid.clone()).await?) else {
            return Ok(RunStatus::Cancelled);
        };
        let existing = match current.cells.get(i).and_then(|c| c.run_id.clone()) {
            Some(id) => storage
                .runs(pid.clone())
                .await?
                .into_iter()
                .find(|r| r.id == id),
            None => None,
        };
        let status = match existing {
            Some(r) if r.status == RunStatus::Completed => continue,
            Some(r) => continue_run(state, r, Continue::Resume).await?,
            None => {
                let Some(attribute) = version_attribute(&versions, spec.version, &x.attribute)
                else {
                    state.toast(
                        ToastKind::Error,
                        format!(
                            "Prompt version v{} has no attribute \"{}\"; remove its cells.",
                            spec.version, x.attribute
                        ),
                    );
                    return Ok(RunStatus::Failed);
                };
                if rows.is_none() {
                    rows = Some(storage.rows(ds.id.clone(), 0, ds.row_count).await?);
                }
                let cfg = current.cell_endpoint(&endpoint, &spec);
                let (mut run, tasks) = new_run(
                    &ds,
                    spec.version,
                    &attribute,
                    &cfg,
                    rows.as_deref().unwrap_or_default(),
                    Scope::Validation,
                    Some(selected.clone()),
                );
                run.experiment = Some(current.id.clone());
                current.cells[i].run_id = Some(run.id.clone());
                // The cell knows its run before the first request, so a reload
                // mid-cell resumes it instead of starting it again (the runner
                // stores the run before its first request; a cell whose run was
                // never stored simply starts afresh).
                storage.put_experiment(current).await?;
                launch(state, run, attribute, tasks, Counts::default()).await?
            }
        };
        state.touch();
        if status != RunStatus::Completed {
            if status == RunStatus::Cancelled {
                state.toast(
                    ToastKind::Success,
                    "Experiment stopped; measured configurations are kept. Resume to finish it.",
                );
            }
            return Ok(status);
        }
    }
    state.toast(
        ToastKind::Success,
        format!(
            "Experiment finished: {} configurations measured.",
            x.cells.len()
        ),
    );
    state.emit(
        "experiment-finished",
        &serde_json::json!({ "experimentId": x.id, "cells": x.cells.len() }),
    );
    Ok(RunStatus::Completed)
}

/// Start a run over every row with one configuration of an experiment.
async fn annotate_everything(
    state: AppState,
    x: Experiment,
    spec: CellSpec,
) -> Result<RunStatus, AppError> {
    let storage = state.storage();
    let pid = x.project_id.clone();
    let Some(ds) = storage.dataset(pid.clone()).await? else {
        return Ok(RunStatus::Failed);
    };
    let versions = storage.codebook_versions(pid.clone()).await?;
    let Some(attribute) = version_attribute(&versions, spec.version, &x.attribute) else {
        state.toast(
            ToastKind::Error,
            format!("Prompt version v{} is gone.", spec.version),
        );
        return Ok(RunStatus::Failed);
    };
    let endpoint = project_endpoint(&state, pid).await?;
    let cfg = x.cell_endpoint(&endpoint, &spec);
    let rows = storage.rows(ds.id.clone(), 0, ds.row_count).await?;
    let (run, tasks) = new_run(&ds, spec.version, &attribute, &cfg, &rows, Scope::All, None);
    // Watch it where runs are watched.
    state.step.set(Step::Run);
    launch(state, run, attribute, tasks, Counts::default()).await
}

/// Whether every cell of `x` has a completed run among `runs`.
fn is_complete(x: &Experiment, runs: &[RunRecord]) -> bool {
    x.cells.iter().all(|c| {
        c.run_id.as_ref().is_some_and(|id| {
            runs.iter()
                .any(|r| &r.id == id && r.status == RunStatus::Completed)
        })
    })
}

/// The experiments step.
#[component]
pub fn ExperimentsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let loaded = LocalResource::new(move || {
        state.revision.track();
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        let fallback = default_endpoint(&state);
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
    // (every measured cell bumps the revision) must not reset a half-filled form
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
            {move || match setup.get() {
                None => view! { <p class="fa-muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Some(Ok(s)) => {
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
                }
            }}
            {move || (!list.with(Vec::is_empty)).then(|| view! {
                <div class="fa-card">
                    <label class="fa-field">
                        <span>"Experiment"</span>
                        <select aria-label="Experiment" data-testid="experiment-select" on:change:target=move |ev| selected.set(Some(ev.target().value()))>
                            {move || list.get().into_iter().map(|(id, label)| {
                                let id2 = id.clone();
                                view! { <option value=id selected=move || current_id.get().as_deref() == Some(id2.as_str())>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </div>
            })}
            {move || current_id.get().map(|id| view! { <ExperimentPanel id /> })}
        </section>
    }
}

/// An unsaved experiment with only other endpoints and prices, for the grid
/// builder's estimates before the experiment is made.
fn draft_experiment(endpoints: Vec<EndpointConfig>, prices: Vec<ModelPrice>) -> Experiment {
    Experiment {
        id: String::new(),
        project_id: String::new(),
        dataset_id: String::new(),
        attribute: String::new(),
        name: String::new(),
        created_at: 0.0,
        task_rows: Vec::new(),
        cells: Vec::new(),
        prices,
        endpoints,
        daily_volume: DEFAULT_DAILY_VOLUME,
        workers: 1,
    }
}

/// The form that builds a grid, with its cost before it starts.
#[component]
fn GridBuilder(
    /// Loaded project data.
    setup: Setup,
    /// Called with the new experiment's id when it starts.
    on_start: Callback<String>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let ds = setup.dataset.clone().expect("checked by the caller");
    let endpoint = setup.endpoint.clone();
    let versions = StoredValue::new(setup.versions.clone());
    let latest = setup.versions.first().map_or(1, |v| v.version);
    // Categorical attributes of the latest version: free text has no accuracy.
    let attributes: Vec<String> = setup
        .versions
        .first()
        .and_then(|v| v.codebook().ok())
        .map(|cb| {
            cb.attributes
                .into_iter()
                .filter(|a| a.kind == AttributeKind::Categorical)
                .map(|a| a.name)
                .collect()
        })
        .unwrap_or_default();
    let attribute = RwSignal::new(attributes.first().cloned().unwrap_or_default());
    let name = RwSignal::new(format!("Experiment {}", setup.experiment_count + 1));
    let models = RwSignal::new(endpoint.model.clone());
    let chosen_versions = RwSignal::new(vec![latest]);
    let temperatures = RwSignal::new("0".to_string());
    let replications = RwSignal::new("1".to_string());
    let constrained_on = RwSignal::new(true);
    let free_on = RwSignal::new(false);
    let removed = RwSignal::new(HashSet::<String>::new());
    let prices = RwSignal::new(if endpoint.model.is_empty() {
        Vec::new()
    } else {
        vec![ModelPrice {
            endpoint: 0,
            model: endpoint.model.clone(),
            price_in_per_m: endpoint.price_in_per_m,
            price_out_per_m: endpoint.price_out_per_m,
        }]
    });
    let listed = RwSignal::new(Vec::<String>::new());
    let endpoint_sv = StoredValue::new(endpoint.clone());
    let others = RwSignal::new(Vec::<OtherDraft>::new());
    let others_cfg = Memo::new(move |_| {
        let base = endpoint_sv.get_value();
        others.with(|os| {
            os.iter()
                .map(|o| other_endpoint(&base, o.provider, &o.url))
                .collect::<Vec<_>>()
        })
    });
    // The experiment as drafted so far: only its other endpoints and prices
    // matter here, to route, price and name each cell as the saved one will.
    let draft = Memo::new(move |_| draft_experiment(others_cfg.get(), prices.get()));
    let list_action = Action::new_local(move |_: &()| {
        let cfg = endpoint_sv.get_value();
        let key = state.session_key.get_untracked();
        async move { list_models(&cfg, &key).await.map_err(AppError::from) }
    });
    Effect::new(move |_| {
        if let Some(r) = list_action.value().get() {
            match r {
                Ok(m) => listed.set(m),
                Err(e) => state.error(&e),
            }
        }
    });

    // The validation rows of the chosen attribute and their texts. Without a
    // chosen set they are every row with a gold label, which can be thousands:
    // the user must choose a set, or say that all of them it is (issue #14).
    let ds_sv = StoredValue::new(ds.clone());
    let vset = RwSignal::new(ds.validation.clone());
    let all_gold = RwSignal::new(false);
    let validation = LocalResource::new(move || {
        let attr = attribute.get();
        let storage = state.storage();
        let mut ds = ds_sv.get_value();
        ds.validation = vset.get();
        async move {
            let rows = storage.rows(ds.id.clone(), 0, ds.row_count).await?;
            let picked = scope_rows(&storage, &ds, &attr, &rows, Scope::Validation)
                .await?
                .unwrap_or_default();
            let set: HashSet<u32> = picked.iter().copied().collect();
            let texts: Vec<String> = rows
                .iter()
                .filter(|r| set.contains(&r.idx))
                .map(|r| r.cell(ds.text_col).to_string())
                .collect();
            Ok::<_, AppError>((picked, texts))
        }
    });

    let axes = Memo::new(move |_| GridAxes {
        models: {
            let mut lists = vec![models.get()];
            others.with(|os| lists.extend(os.iter().map(|o| o.models.clone())));
            lists
                .iter()
                .enumerate()
                .flat_map(|(endpoint, list)| {
                    let mut names = parse_models(list);
                    // An empty model field means the server's default model.
                    if names.is_empty() {
                        names.push(String::new());
                    }
                    names
                        .into_iter()
                        .map(move |model| ModelRef { endpoint, model })
                })
                .collect()
        },
        versions: chosen_versions.get(),
        temperatures: parse_list(&temperatures.get()),
        replications: parse_list::<u32>(&replications.get())
            .into_iter()
            .filter(|r| (1..=20).contains(r))
            .collect(),
        constrained: [
            constrained_on.get().then_some(true),
            free_on.get().then_some(false),
        ]
        .into_iter()
        .flatten()
        .collect(),
    });
    let grid = Memo::new(move |_| cells(&axes.get()));
    let kept = Memo::new(move |_| {
        let removed = removed.get();
        grid.get()
            .into_iter()
            .filter(|c| !removed.contains(&cell_key(c)))
            .collect::<Vec<_>>()
    });
    // Prompt tokens per item for each chosen version, over the validation texts.
    let tokens_by_version = Memo::new(move |_| {
        let attr = attribute.get();
        let Some(Ok((_, texts))) = validation.get() else {
            return HashMap::new();
        };
        let e = endpoint_sv.get_value();
        versions.with_value(|vs| {
            vs.iter()
                .filter_map(|v| {
                    let a = v.codebook().ok()?.attribute(&attr).cloned()?;
                    Some((v.version, (prompt_tokens_per_item(&a, &texts, &e), a)))
                })
                .collect::<HashMap<u32, (f64, Attribute)>>()
        })
    });
    let estimates = Memo::new(move |_| {
        let n = validation
            .get()
            .and_then(Result::ok)
            .map_or(0, |(rows, _)| rows.len() as u64);
        let e = endpoint_sv.get_value();
        let by_version = tokens_by_version.get();
        let kept = kept.get();
        draft.with(|x| {
            kept.into_iter()
                .map(|c| {
                    let at = x.endpoint_of(&e, &c);
                    let est = by_version.get(&c.version).map(|(t, a)| {
                        let (pi, po) = x.price(c.endpoint, &c.model);
                        estimate_cell(
                            n,
                            c.replications,
                            *t,
                            out_tokens_per_request(a, at, c.constrained),
                            pi,
                            po,
                        )
                    });
                    (c, est)
                })
                .collect::<Vec<(CellSpec, Option<CellEstimate>)>>()
        })
    });
    let totals = Memo::new(move |_| {
        estimates.with(|es| {
            es.iter().flat_map(|(_, e)| e).fold(
                (0u64, 0u64, 0u64, None::<f64>),
                |(r, ti, to, c), e| {
                    (
                        r + e.requests,
                        ti + e.tokens_in,
                        to + e.tokens_out,
                        match (c, e.cost) {
                            (None, None) => None,
                            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
                        },
                    )
                },
            )
        })
    });
    let missing_version = Memo::new(move |_| {
        let by_version = tokens_by_version.get();
        chosen_versions
            .get()
            .into_iter()
            .filter(|v| !by_version.contains_key(v))
            .collect::<Vec<u32>>()
    });
    let running = move || state.active_run.with(Option::is_some);
    let problem = Memo::new(move |_| {
        let n = validation
            .get()
            .and_then(Result::ok)
            .map_or(0, |(r, _)| r.len());
        if attribute.with(String::is_empty) {
            Some("The codebook has no categorical attribute to measure.".to_string())
        } else if n == 0 {
            Some("No validation rows: choose a validation set and label it in the Review step, or map a gold column in the Data step.".to_string())
        } else if vset.with(Option::is_none) && !all_gold.get() {
            Some(format!("Choose the validation set first: draw a sample of the {n} rows with a gold label, or tick that all of them are the validation set."))
        } else if let Some(k) = others.with(|os| os.iter().position(|o| o.url.trim().is_empty())) {
            Some(format!("Other endpoint {} has no base URL.", k + 2))
        } else if kept.with(Vec::is_empty) {
            Some("The grid is empty: every axis needs at least one value.".to_string())
        } else if !missing_version.with(Vec::is_empty) {
            Some(format!(
                "Prompt version(s) {} have no attribute \"{}\".",
                missing_version
                    .get()
                    .iter()
                    .map(|v| format!("v{v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                attribute.get()
            ))
        } else {
            None
        }
    });
    let sample_size = RwSignal::new(VALIDATION_SAMPLE);
    let draw = Action::new_local(move |_: &()| {
        let k = sample_size.get_untracked();
        let attr = attribute.get_untracked();
        let storage = state.storage();
        let mut meta = ds_sv.get_value();
        async move {
            meta.validation = None;
            let rows = storage.rows(meta.id.clone(), 0, meta.row_count).await?;
            let set = draw_validation_set(&storage, &meta, &attr, &rows, k).await?;
            meta.validation = Some(set.clone());
            storage.update_dataset(meta.clone()).await?;
            ds_sv.set_value(meta);
            vset.set(Some(set));
            Ok::<_, AppError>(())
        }
    });
    // Large grids are confirmed first: the request count shows, but a click is
    // all it takes to send thousands of requests to a paid endpoint.
    let confirming = RwSignal::new(false);
    let needs_confirm = move || {
        let (r, _, _, c) = totals.get_untracked();
        r > CONFIRM_REQUESTS || c.is_some_and(|c| c > CONFIRM_COST)
    };
    let start = move |confirmed: bool| {
        if !confirmed && needs_confirm() {
            confirming.set(true);
            return;
        }
        confirming.set(false);
        let Some(Ok((rows, _))) = validation.get_untracked() else {
            return;
        };
        let ds = ds_sv.get_value();
        let models_used: HashSet<(usize, String)> = kept
            .get_untracked()
            .iter()
            .map(|c| (c.endpoint, c.model.clone()))
            .collect();
        // Keys for the other endpoints stay in this tab's memory only.
        others.with_untracked(|os| {
            state.endpoint_keys.update(|keys| {
                for o in os.iter().filter(|o| !o.key.is_empty()) {
                    keys.insert(o.url.trim().to_string(), o.key.clone());
                }
            })
        });
        let x = Experiment {
            id: random_id(),
            project_id: ds.project_id.clone(),
            dataset_id: ds.id.clone(),
            attribute: attribute.get_untracked(),
            name: name.get_untracked(),
            created_at: now_ms(),
            task_rows: row_ranges(rows),
            cells: kept
                .get_untracked()
                .into_iter()
                .map(|spec| ExperimentCell {
                    spec,
                    run_id: None,
                    pinned: false,
                })
                .collect(),
            prices: prices
                .get_untracked()
                .into_iter()
                .filter(|p| models_used.contains(&(p.endpoint, p.model.clone())))
                .collect(),
            endpoints: others_cfg.get_untracked(),
            daily_volume: DEFAULT_DAILY_VOLUME,
            workers: endpoint_sv.with_value(EndpointConfig::effective_concurrency),
        };
        let id = x.id.clone();
        on_start.run(id.clone());
        spawn_run(state, async move {
            state.storage().put_experiment(x).await?;
            state.touch();
            run_experiment(state, id).await
        });
    };
    let set_price = move |(endpoint, model): (usize, String), input: bool, v: String| {
        let parsed = v.trim().parse::<f64>().ok().filter(|x| *x >= 0.0);
        prices.update(|ps| set_model_price(ps, endpoint, &model, input, parsed));
    };
    let version_list = setup.versions.clone();
    view! {
        <details class="fa-card" data-testid="grid-builder" open=setup.experiment_count == 0>
            <summary><h3 class="fa-inline">"New experiment"</h3></summary>
            <div class="fa-grid-axes">
                <label class="fa-field">
                    <span>"Name"</span>
                    <input data-testid="grid-name" prop:value=move || name.get() on:input:target=move |ev| name.set(ev.target().value()) />
                </label>
                <label class="fa-field">
                    <span>"Attribute"</span>
                    <select aria-label="Attribute" data-testid="grid-attribute" on:change:target=move |ev| attribute.set(ev.target().value())>
                        {attributes.iter().map(|a| { let a2 = a.clone(); view! {
                            <option value=a.clone() selected=move || attribute.get() == a2>{a.clone()}</option>
                        }}).collect_view()}
                    </select>
                </label>
                <div class="fa-field">
                    <label for="fa-grid-models">"Models (comma-separated)"</label>
                    <input id="fa-grid-models" data-testid="grid-models" prop:value=move || models.get() on:input:target=move |ev| models.set(ev.target().value()) />
                    <button class="fa-btn" data-testid="grid-list-models" on:click=move |_| { list_action.dispatch(()); }>"List the endpoint's models"</button>
                    <div class="fa-row">
                        {move || listed.get().into_iter().map(|m| {
                            let (m2, m3) = (m.clone(), m.clone());
                            view! {
                                <label class="fa-check">
                                    <input type="checkbox" prop:checked=move || parse_models(&models.get()).contains(&m2)
                                        on:change:target=move |ev| {
                                            let mut list = parse_models(&models.get_untracked());
                                            if ev.target().checked() { if !list.contains(&m3) { list.push(m3.clone()); } } else { list.retain(|x| x != &m3); }
                                            models.set(list.join(", "));
                                        } />
                                    {m}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </div>
                <fieldset class="fa-field" data-testid="grid-versions">
                    <legend>"Prompt versions"</legend>
                    {version_list.iter().map(|v| { let n = v.version; view! {
                        <label class="fa-check">
                            <input type="checkbox" data-testid=format!("grid-version-{n}") prop:checked=move || chosen_versions.with(|c| c.contains(&n))
                                on:change:target=move |ev| chosen_versions.update(|c| { c.retain(|x| *x != n); if ev.target().checked() { c.push(n); c.sort_unstable(); } }) />
                            {format!("v{n}")}
                        </label>
                    }}).collect_view()}
                </fieldset>
                <label class="fa-field">
                    <span>"Temperatures"</span>
                    <input data-testid="grid-temperatures" prop:value=move || temperatures.get() on:input:target=move |ev| temperatures.set(ev.target().value()) />
                </label>
                <label class="fa-field">
                    <span>"Replications (requests per item; 1–20)"</span>
                    <input data-testid="grid-replications" prop:value=move || replications.get() on:input:target=move |ev| replications.set(ev.target().value()) />
                </label>
                <fieldset class="fa-field">
                    <legend>"Decoding"</legend>
                    <label class="fa-check"><input type="checkbox" data-testid="grid-constrained" prop:checked=move || constrained_on.get() on:change:target=move |ev| constrained_on.set(ev.target().checked()) />{format!("constrained ({})", fannotate_core::records::constrained_decoding(&endpoint).label())}</label>
                    <label class="fa-check"><input type="checkbox" data-testid="grid-free" prop:checked=move || free_on.get() on:change:target=move |ev| free_on.set(ev.target().checked()) />"free (parsed afterwards)"</label>
                </fieldset>
            </div>
            <fieldset class="fa-field" data-testid="grid-other-endpoints">
                <legend>"Other endpoints (compare servers, not only models)"</legend>
                <p class="fa-muted">"Limits and prompt settings come from the project's endpoint. Keys typed here stay in this tab's memory and go only to their own endpoint. The page's network policy must allow each server."</p>
                {move || others.get().into_iter().enumerate().map(|(i, o)| view! {
                    <div class="fa-row" data-testid="grid-other-endpoint">
                        <label class="fa-field">
                            <span>{format!("Endpoint {} provider", i + 2)}</span>
                            <select data-testid="other-provider" aria-label=format!("Endpoint {} provider", i + 2) on:change:target=move |ev| { if let Some(p) = Provider::parse(&ev.target().value()) { others.update(|os| os[i].provider = p) } }>
                                {Provider::ALL.into_iter().map(|p| view! { <option value=p.as_str() selected=p == o.provider>{p.label()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="fa-field fa-field--wide">
                            <span>"Base URL"</span>
                            <input data-testid="other-url" placeholder="http://127.0.0.1:11434/v1" prop:value=o.url.clone() on:change:target=move |ev| others.update(|os| os[i].url = ev.target().value()) />
                        </label>
                        <label class="fa-field">
                            <span>"Models (comma-separated)"</span>
                            <input data-testid="other-models" prop:value=o.models.clone() on:change:target=move |ev| others.update(|os| os[i].models = ev.target().value()) />
                        </label>
                        <label class="fa-field">
                            <span>"API key (this tab only)"</span>
                            <input type="password" autocomplete="off" data-testid="other-key" prop:value=o.key.clone() on:change:target=move |ev| others.update(|os| os[i].key = ev.target().value()) />
                        </label>
                        <button class="fa-btn" data-testid="other-remove" on:click=move |_| others.update(|os| { os.remove(i); })>"Remove"</button>
                    </div>
                }).collect_view()}
                <button class="fa-btn" data-testid="grid-add-endpoint" on:click=move |_| others.update(|os| os.push(OtherDraft { provider: Provider::Generic, url: String::new(), models: String::new(), key: String::new() }))>"Add an endpoint"</button>
            </fieldset>
            <h4>"Prices per model (per million tokens, for cost figures)"</h4>
            <div class="fa-row">
                {move || axes.get().models.into_iter().map(|m| {
                    let (pi, po) = draft.with(|x| x.price(m.endpoint, &m.model));
                    let name = others_cfg.with(|os| model_label(os, m.endpoint, &m.model));
                    let (k1, k2) = ((m.endpoint, m.model.clone()), (m.endpoint, m.model.clone()));
                    view! {
                        <div class="fa-field" data-testid="grid-price">
                            <span>{name.clone()}</span>
                            <input aria-label=format!("{name} input price") placeholder="input" inputmode="decimal" prop:value=pi.map(|v| v.to_string()).unwrap_or_default() on:change:target=move |ev| set_price(k1.clone(), true, ev.target().value()) />
                            <input aria-label=format!("{name} output price") placeholder="output" inputmode="decimal" prop:value=po.map(|v| v.to_string()).unwrap_or_default() on:change:target=move |ev| set_price(k2.clone(), false, ev.target().value()) />
                        </div>
                    }
                }).collect_view()}
            </div>
            <p class="fa-muted" data-testid="grid-validation">{move || match validation.get() {
                None => "Counting validation rows…".to_string(),
                Some(Err(e)) => e.user_message(),
                Some(Ok((rows, _))) => match vset.get() {
                    Some(v) => format!("{} validation rows for \"{}\" (validation set: {}).", rows.len(), attribute.get(), v.method),
                    None => format!("{} rows with a gold label for \"{}\", and no validation set chosen.", rows.len(), attribute.get()),
                },
            }}</p>
            <Show when=move || vset.with(Option::is_none)>
                <div class="fa-row" data-testid="grid-choose-validation">
                    <label class="fa-field fa-field--narrow">
                        <span>"Validation rows"</span>
                        <input type="number" min="1" data-testid="grid-validation-size" prop:value=move || sample_size.get().to_string()
                            on:change:target=move |ev| { if let Ok(n) = ev.target().value().trim().parse::<u32>() { sample_size.set(n.max(1)) } } />
                    </label>
                    <button class="fa-btn fa-btn--primary" data-testid="grid-validation-draw" disabled=move || draw.pending().get()
                        on:click=move |_| { draw.dispatch(()); }>"Choose them as the validation set"</button>
                    <label class="fa-check">
                        <input type="checkbox" data-testid="grid-validation-all" prop:checked=move || all_gold.get() on:change:target=move |ev| all_gold.set(ev.target().checked()) />
                        "Or measure on every row with a gold label"
                    </label>
                    <p class="fa-muted">"A sample is drawn from the rows with a gold label, stratified by it (seed 1); it becomes the project's validation set, as in the Review step."</p>
                    {move || draw.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert">{e.user_message()}</p> })}
                </div>
            </Show>
            <div class="fa-table-scroll">
                <table class="fa-table fa-table--compact" data-testid="grid-cells">
                    <thead><tr><th scope="col">"Configuration"</th><th scope="col">"Requests"</th><th scope="col">"Tokens in (est.)"</th><th scope="col">"Tokens out (est.)"</th><th scope="col">"Cost (est.)"</th><th scope="col"><span class="fa-visually-hidden">"Remove"</span></th></tr></thead>
                    <tbody>
                        {move || estimates.get().into_iter().map(|(c, e)| {
                            let key = cell_key(&c);
                            view! {
                                <tr data-testid="grid-cell">
                                    <td>{draft.with(|x| x.describe(&c))}</td>
                                    <td>{e.as_ref().map_or("–".into(), |e| e.requests.to_string())}</td>
                                    <td>{e.as_ref().map_or("–".into(), |e| e.tokens_in.to_string())}</td>
                                    <td>{e.as_ref().map_or("–".into(), |e| e.tokens_out.to_string())}</td>
                                    <td>{e.as_ref().and_then(|e| e.cost).map_or("–".into(), |c| format!("{c:.4}"))}</td>
                                    <td><button class="fa-btn fa-btn--small" data-testid="grid-remove-cell" aria-label=format!("Remove {}", draft.with(|x| x.describe(&c))) on:click=move |_| removed.update(|r| { r.insert(key.clone()); })>"Remove"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p data-testid="grid-totals">{move || {
                let (r, ti, to, c) = totals.get();
                format!("{} configurations · {r} requests · ≈ {ti} tokens in, ≤ {to} tokens out{}",
                    kept.with(Vec::len),
                    c.map_or(" · no prices entered, no cost estimate".to_string(), |c| format!(" · ≈ {c:.4} in the prices' currency")))
            }}</p>
            <p class="fa-muted">"Token figures are estimates (about four characters a token); free decoding is counted at its token cap, an upper bound."</p>
            {move || problem.get().map(|p| view! { <p class="fa-error" role="alert" data-testid="grid-problem">{p}</p> })}
            <Show when=move || confirming.get()>
                <div class="fa-row" role="alertdialog" aria-labelledby="fa-grid-confirm" data-testid="grid-confirm">
                    <p id="fa-grid-confirm">{move || {
                        let (r, _, _, c) = totals.get();
                        format!("This experiment sends {r} requests{}. Start it?", c.map_or(String::new(), |c| format!(" and costs about {c:.2} in the prices' currency")))
                    }}</p>
                    <button class="fa-btn fa-btn--primary" data-testid="grid-confirm-start" on:click=move |_| start(true)>{move || format!("Send {} requests", totals.get().0)}</button>
                    <button class="fa-btn" data-testid="grid-confirm-cancel" on:click=move |_| confirming.set(false)>"Not now"</button>
                </div>
            </Show>
            <div class="fa-row">
                <button class="fa-btn fa-btn--primary" data-testid="grid-start" disabled=move || problem.with(Option::is_some) || running() || confirming.get() on:click=move |_| start(false)>"Start experiment"</button>
                <Show when=move || removed.with(|r| !r.is_empty())>
                    <button class="fa-btn" data-testid="grid-restore" on:click=move |_| removed.set(HashSet::new())>"Restore removed configurations"</button>
                </Show>
            </div>
        </details>
    }
}

/// Rows drawn for a validation set by default.
const VALIDATION_SAMPLE: u32 = 200;
/// A grid over this many requests is confirmed before it starts.
const CONFIRM_REQUESTS: u64 = 1_000;
/// Nor does one estimated to cost more than this (in the prices' currency).
const CONFIRM_COST: f64 = 1.0;

/// `k` of the rows with a gold label (or a human label) for `attribute`,
/// stratified by the gold column (seed 1), as a validation set.
async fn draw_validation_set(
    storage: &Rc<dyn Storage>,
    meta: &DatasetMeta,
    attribute: &str,
    rows: &[fannotate_core::records::RowRecord],
    k: u32,
) -> Result<fannotate_core::records::ValidationSet, AppError> {
    let candidates = scope_rows(storage, meta, attribute, rows, Scope::Validation)
        .await?
        .unwrap_or_default();
    let gold = meta.gold_for(attribute);
    let labels: Vec<&str> = candidates
        .iter()
        .map(|&i| {
            gold.and_then(|c| rows.get(i as usize).map(|r| r.cell(c)))
                .unwrap_or("")
        })
        .collect();
    let picked = fannotate_core::sample::stratified_sample(&labels, k, 1)
        .into_iter()
        .filter_map(|p| candidates.get(p as usize).copied());
    let n = candidates.len().min(k as usize);
    Ok(fannotate_core::records::ValidationSet::new(
        picked,
        format!(
            "{n} of {} rows with a gold label, stratified, seed 1",
            candidates.len()
        ),
    ))
}

/// How the leaderboard is ordered (pinned lines always come first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Accuracy,
    MacroF1,
    Kappa,
    Cost,
    Throughput,
    Latency,
    Grid,
}

impl SortKey {
    const ALL: [SortKey; 7] = [
        SortKey::Accuracy,
        SortKey::MacroF1,
        SortKey::Kappa,
        SortKey::Cost,
        SortKey::Throughput,
        SortKey::Latency,
        SortKey::Grid,
    ];

    fn as_str(self) -> &'static str {
        match self {
            SortKey::Accuracy => "accuracy",
            SortKey::MacroF1 => "macro-f1",
            SortKey::Kappa => "kappa",
            SortKey::Cost => "cost",
            SortKey::Throughput => "throughput",
            SortKey::Latency => "latency",
            SortKey::Grid => "grid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            SortKey::Accuracy => "Accuracy",
            SortKey::MacroF1 => "Macro-F1",
            SortKey::Kappa => "Cohen's κ",
            SortKey::Cost => "Cost per 1,000 (lowest first)",
            SortKey::Throughput => "Items/s",
            SortKey::Latency => "Latency p50 (lowest first)",
            SortKey::Grid => "Grid order",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A key that sorts ascending: better first, unmeasured last.
    fn rank(self, l: &Line) -> f64 {
        let s = l.score.as_ref();
        let v = match self {
            SortKey::Accuracy => s.and_then(|s| s.accuracy).map(|v| -v),
            SortKey::MacroF1 => s.and_then(|s| s.macro_f1).map(|v| -v),
            SortKey::Kappa => s.and_then(|s| s.cohen_kappa).map(|v| -v),
            SortKey::Cost => s.and_then(|s| s.cost_per_1000),
            SortKey::Throughput => s.and_then(|s| s.items_per_s).map(|v| -v),
            SortKey::Latency => s.and_then(|s| s.latency_p50_ms),
            SortKey::Grid => Some(l.cell as f64),
        };
        v.filter(|v| !v.is_nan()).unwrap_or(f64::INFINITY)
    }
}

/// What McNemar's test says about a line against the best.
fn verdict(c: &Comparison) -> String {
    if c.significant {
        format!("worse, p = {:.3}", c.mcnemar.p_value)
    } else {
        match c.more_gold_needed {
            Some(n) => format!(
                "not significant (p = {:.2}); about {n} more gold labels would settle it",
                c.mcnemar.p_value
            ),
            None => format!(
                "not significant (p = {:.2}); no difference on these items",
                c.mcnemar.p_value
            ),
        }
    }
}

/// One experiment: its progress, leaderboard and projection.
#[component]
fn ExperimentPanel(
    /// Id of the experiment shown.
    id: String,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id_sv = StoredValue::new(id.clone());
    let cache = StoredValue::new_local(GoldCache::default());
    let loaded = LocalResource::new(move || {
        state.revision.track();
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        let id = id_sv.get_value();
        let cache = cache.get_value();
        async move {
            let found = storage
                .experiments(pid)
                .await?
                .into_iter()
                .find(|x| x.id == id);
            match found {
                Some(x) => load_board(storage, x, cache).await.map(Some),
                None => Ok(None),
            }
        }
    });
    // While a new score loads (after every measured cell), the last one stays up.
    let board = Memo::new(
        move |prev: Option<&Option<Result<Option<Board>, AppError>>>| {
            loaded.get().or_else(|| prev.cloned().flatten())
        },
    );
    let sort = RwSignal::new(SortKey::Accuracy);
    let this_running = {
        let id = id.clone();
        move || {
            state
                .active_run
                .with(|r| r.as_ref().and_then(|r| r.experiment.clone()) == Some(id.clone()))
        }
    };
    let any_running = move || state.active_run.with(Option::is_some);
    let current = move || {
        board.with_untracked(|b| {
            b.as_ref()
                .and_then(|b| b.as_ref().ok())
                .and_then(|b| b.as_ref())
                .map(|b| b.experiment.clone())
        })
    };
    let save = move |f: Box<dyn FnOnce(&mut Experiment)>| {
        let Some(mut e) = current() else {
            return;
        };
        f(&mut e);
        spawn_run(state, async move {
            state.storage().put_experiment(e).await?;
            state.touch();
            Ok(())
        });
    };
    let resume_id = id.clone();
    let delete_id = id.clone();
    let this_running2 = this_running.clone();
    view! {
        <section class="fa-card" data-testid="experiment-panel" aria-label="Experiment">
            {move || board.get().map(|b| match b {
                Err(e) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Ok(None) => view! { <p class="fa-empty">"This experiment was deleted."</p> }.into_any(),
                Ok(Some(b)) => {
                    let done = b.lines.iter().filter(|l| l.run.as_ref().is_some_and(|r| r.status == RunStatus::Completed)).count();
                    let runs: Vec<RunRecord> = b.lines.iter().filter_map(|l| l.run.clone()).collect();
                    let complete = is_complete(&b.experiment, &runs);
                    view! {
                        <h3>{format!("{} · attribute \"{}\"", b.experiment.name, b.experiment.attribute)}</h3>
                        <p data-testid="experiment-status" data-complete=complete.to_string()>
                            {format!("{done} of {} configurations measured on {} items ({} with a gold label).", b.lines.len(), b.items, b.gold_items)}
                        </p>
                        {(!b.experiment.endpoints.is_empty()).then(|| {
                            let urls: Vec<String> = b.experiment.endpoints.iter().map(|e| e.base_url.trim().to_string()).collect();
                            view! {
                                <div class="fa-row" data-testid="experiment-keys">
                                    {urls.into_iter().map(|u| {
                                        let (u1, u2) = (u.clone(), u.clone());
                                        view! {
                                            <label class="fa-field">
                                                <span>{format!("API key for {u} (this tab only; empty if none)")}</span>
                                                <input type="password" autocomplete="off" data-testid="experiment-key"
                                                    prop:value=move || state.endpoint_keys.with(|m| m.get(&u1).cloned().unwrap_or_default())
                                                    on:change:target=move |ev| { let k = ev.target().value(); state.endpoint_keys.update(|m| { m.insert(u2.clone(), k); }) } />
                                            </label>
                                        }
                                    }).collect_view()}
                                </div>
                            }
                        })}
                        {(b.gold_items < b.items).then(|| view! { <p class="fa-muted">{format!("{} items have no gold label yet: label them in the Review step (validation queue) to measure on all of them.", b.items - b.gold_items)}</p> })}
                    }.into_any()
                }
            })}
            <div class="fa-row">
                <button class="fa-btn fa-btn--primary" data-testid="experiment-resume" disabled=any_running
                    on:click=move |_| spawn_run(state, run_experiment(state, resume_id.clone()))>"Run the remaining configurations"</button>
                <Show when=this_running2.clone()>
                    <RunControls enabled=Signal::derive(|| true) cancel_label="Stop" />
                </Show>
                <button class="fa-btn fa-btn--danger" data-testid="experiment-delete" disabled=any_running
                    on:click=move |_| {
                        let id = delete_id.clone();
                        spawn_run(state, async move {
                            state.storage().delete_experiment(id).await?;
                            state.touch();
                            state.toast(ToastKind::Success, "Experiment deleted; its runs stay in the Run step.");
                            Ok(())
                        });
                    }>"Delete experiment"</button>
            </div>
            <Show when=this_running.clone()>
                <RunProgressPanel/>
            </Show>
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Sort by"</span>
                    <select aria-label="Sort by" data-testid="leaderboard-sort" on:change:target=move |ev| { if let Some(k) = SortKey::parse(&ev.target().value()) { sort.set(k) } }>
                        {SortKey::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=move || sort.get() == k>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            {move || board.get().and_then(Result::ok).flatten().map(|b| {
                let mut order: Vec<usize> = (0..b.lines.len()).collect();
                let key = sort.get();
                order.sort_by(|&i, &j| {
                    let (a, c) = (&b.lines[i], &b.lines[j]);
                    c.pinned.cmp(&a.pinned).then(key.rank(a).total_cmp(&key.rank(c))).then(a.cell.cmp(&c.cell))
                });
                let best = b.best;
                view! {
                    // The note stands outside the table: as a caption it took the
                    // table's width and was cut off with it (issue #14).
                    <p class="fa-muted" id="fa-leaderboard-note" data-testid="leaderboard-note">"Against the human gold labels. Invalid and failed answers count as wrong. The bracket under each figure is its bootstrap 95 % interval (1,000 resamples). The last column compares each configuration with the best one on the same items (McNemar's test)."</p>
                    <div class="fa-table-scroll" data-testid="leaderboard-scroll">
                        <table class="fa-table fa-leaderboard" data-testid="leaderboard" aria-describedby="fa-leaderboard-note">
                            <caption class="fa-visually-hidden">"Leaderboard"</caption>
                            <thead><tr>
                                <th scope="col">"Configuration"</th><th scope="col">"Items"</th>
                                <th scope="col">"Accuracy"</th><th scope="col">"Macro-F1"</th><th scope="col">"Cohen's κ"</th>
                                <th scope="col">"Items/s · latency p50 / p95"</th><th scope="col">"Tokens in / out per item"</th>
                                <th scope="col">"Cost / 1,000"</th><th scope="col">"Replications"</th>
                                <th scope="col">"vs best (McNemar)"</th>
                            </tr></thead>
                            <tbody>
                                {order.into_iter().map(|i| {
                                    let l = b.lines[i].clone();
                                    let is_best = best == Some(i);
                                    let cell = l.cell;
                                    let pinned = l.pinned;
                                    let spec = l.spec.clone();
                                    let described = b.experiment.describe(&spec);
                                    let s = l.score.clone();
                                    let status = l.run.as_ref().map_or("not started".to_string(), |r| {
                                        if r.status == RunStatus::Completed { String::new() } else { format!(" ({})", if r.status == RunStatus::Running && !this_running() { RunStatus::Interrupted.label() } else { r.status.label() }) }
                                    });
                                    view! {
                                        <tr data-testid="leaderboard-row" data-cell=cell.to_string() data-model=spec.model.clone()
                                            data-accuracy=s.as_ref().and_then(|s| s.accuracy).map(|v| v.to_string()).unwrap_or_default()
                                            class:fa-row--best=is_best>
                                            // The action and the pin sit with the name, so they
                                            // stay in view when a narrow screen scrolls the table.
                                            <th scope="row" class="fa-leaderboard__config">
                                                <label class="fa-check">
                                                    <input type="checkbox" data-testid="leaderboard-pin" prop:checked=pinned
                                                        on:change:target=move |ev| { let on = ev.target().checked(); save(Box::new(move |e: &mut Experiment| if let Some(c) = e.cells.get_mut(cell) { c.pinned = on })) } />
                                                    <span class="fa-visually-hidden">"Pin "</span>
                                                    {described.clone()}
                                                </label>
                                                {is_best.then(|| view! { <span class="fa-badge" data-testid="leaderboard-best">" best"</span> })}
                                                <button class="fa-btn fa-btn--small" data-testid="annotate-everything" disabled=any_running
                                                    aria-label=format!("Annotate everything with this: {described}")
                                                    on:click={ let (spec, x) = (spec.clone(), b.experiment.clone()); move |_| spawn_run(state, annotate_everything(state, x.clone(), spec.clone())) }>"Annotate everything with this"</button>
                                            </th>
                                            <td><span data-testid="lb-items">{format!("{}{}", l.answered, status)}</span>{s.as_ref().map(|s| view! {
                                                <span class="fa-ci">{format!("{} invalid{}", pct_or_dash(Some(s.invalid_rate)), if s.failed_rate > 0.0 { format!(", {} failed", pct_or_dash(Some(s.failed_rate))) } else { String::new() })}</span>
                                            })}</td>
                                            {match &s {
                                                None => view! { <td colspan="8" class="fa-muted">"not measured yet"</td> }.into_any(),
                                                Some(s) => view! {
                                                    <td data-testid="lb-accuracy">{pct_or_dash(s.accuracy)}<span class="fa-ci">{ci_text(s.cis.accuracy, true)}</span></td>
                                                    <td>{s.macro_f1.map_or("–".into(), |v| format!("{v:.3}"))}<span class="fa-ci">{ci_text(s.cis.macro_f1, false)}</span></td>
                                                    <td>{s.cohen_kappa.map_or("–".into(), |v| format!("{v:.3}"))}<span class="fa-ci">{ci_text(s.cis.cohen_kappa, false)}</span></td>
                                                    <td>
                                                        <span class="fa-lines">{s.items_per_s.map_or("–".into(), |v| format!("{v:.1} @ {}", l.concurrency))}</span>
                                                        <span class="fa-ci">{match (s.latency_p50_ms, s.latency_p95_ms) { (Some(a), Some(b)) => format!("{a:.0} / {b:.0} ms"), _ => "–".into() }}</span>
                                                    </td>
                                                    <td>{format!("{:.0} / {:.1}", s.tokens_in_per_item, s.tokens_out_per_item)}</td>
                                                    <td>{s.cost_per_1000.map_or("–".into(), |v| format!("{v:.4}"))}</td>
                                                    <td>{s.replication.as_ref().map_or_else(|| view! { "–" }.into_any(), |r| view! {
                                                        <span class="fa-lines">{format!("vote {}", pct_or_dash(r.majority_accuracy))}</span>
                                                        <span class="fa-lines">{format!("single {}", pct_or_dash(r.mean_single_accuracy))}</span>
                                                        <span class="fa-lines">{format!("α {}", r.alpha.map_or("–".into(), |a| format!("{a:.3}")))}</span>
                                                    }.into_any())}</td>
                                                    <td class="fa-leaderboard__verdict" data-testid="lb-verdict" data-significant=l.comparison.as_ref().map(|c| c.significant.to_string()).unwrap_or_default()>
                                                        {if is_best { "best".to_string() } else { l.comparison.as_ref().map_or("–".into(), verdict) }}
                                                    </td>
                                                }.into_any(),
                                            }}
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <ProjectionPanel board=b.clone() on_save=Callback::new(move |e: Experiment| save(Box::new(move |cur: &mut Experiment| *cur = e))) />
                }
            })}
        </section>
    }
}

/// Each measured configuration projected to the daily volume: hours a day
/// against the 24-hour line, and cost a day.
#[component]
fn ProjectionPanel(
    /// The scored experiment.
    board: Board,
    /// Saves the experiment with a changed volume, worker count or price.
    on_save: Callback<Experiment>,
) -> impl IntoView {
    let (lines, models): (Vec<(String, Score)>, Vec<ModelKey>) = board
        .lines
        .iter()
        .filter_map(|l| {
            Some((
                (board.experiment.describe(&l.spec), l.score.clone()?),
                (l.spec.endpoint, l.spec.model.clone()),
            ))
        })
        .unzip();
    let mut priced_models: Vec<(usize, String)> = Vec::new();
    for c in &board.experiment.cells {
        let m = (c.spec.endpoint, c.spec.model.clone());
        if !priced_models.contains(&m) {
            priced_models.push(m);
        }
    }
    // The experiment as edited here; volume and workers are read from it.
    let x = RwSignal::new(board.experiment.clone());
    let daily_volume = Memo::new(move |_| x.with(|e| e.daily_volume.max(1)));
    let workers = Memo::new(move |_| x.with(|e| e.workers.max(1)));
    let projections = Memo::new(move |_| {
        let (v, w) = (daily_volume.get(), workers.get());
        lines
            .iter()
            .zip(&models)
            .map(|((d, s), m)| {
                let (pi, po) = x.with(|x| x.price(m.0, &m.1));
                (
                    d.clone(),
                    projection_input(s, w, v, pi, po).map(|i| project(&i)),
                    pi.is_some() || po.is_some(),
                )
            })
            .collect::<Vec<(String, Option<Projection>, bool)>>()
    });
    let hours_bars = move || {
        projections
            .get()
            .into_iter()
            .map(|(d, p, _)| Bar {
                label: d,
                value: p.map_or(f64::NAN, |p| p.hours_per_day),
                text: p.map_or("–".into(), |p| duration_text(p.hours_per_day)),
                warn: p.is_some_and(|p| !p.fits_in_24h),
            })
            .collect::<Vec<_>>()
    };
    let cost_bars = move || {
        projections
            .get()
            .into_iter()
            .map(|(d, p, priced)| Bar {
                label: d,
                value: p.filter(|_| priced).map_or(f64::NAN, |p| p.cost_per_day),
                text: match p {
                    Some(p) if priced => format!("{:.2}", p.cost_per_day),
                    _ => "no price".into(),
                },
                warn: false,
            })
            .collect::<Vec<_>>()
    };
    let edit = move |f: &dyn Fn(&mut Experiment)| {
        x.update(|e| f(e));
        on_save.run(x.get_untracked());
    };
    let set_price = move |(endpoint, model): (usize, String), input: bool, v: String| {
        let parsed = v.trim().parse::<f64>().ok().filter(|p| *p >= 0.0);
        edit(&|e| set_model_price(&mut e.prices, endpoint, &model, input, parsed));
    };
    view! {
        <section class="fa-card" data-testid="projection" aria-label="Projection to the daily volume">
            <h3>"Projection to the daily volume"</h3>
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Items per day"</span>
                    <input type="number" min="1" data-testid="projection-volume" prop:value=move || daily_volume.get().to_string()
                        on:change:target=move |ev| { if let Ok(v) = ev.target().value().trim().parse::<u64>() { edit(&|e| e.daily_volume = v.max(1)) } } />
                </label>
                <label class="fa-field">
                    <span>"Parallel workers"</span>
                    <input type="number" min="1" max="1024" data-testid="projection-workers" prop:value=move || workers.get().to_string()
                        on:change:target=move |ev| { if let Ok(v) = ev.target().value().trim().parse::<u32>() { edit(&|e| e.workers = v.clamp(1, 1024)) } } />
                </label>
            </div>
            <div class="fa-row" data-testid="projection-prices">
                {priced_models.into_iter().map(|m| {
                    let (pi, po) = x.with_untracked(|e| e.price(m.0, &m.1));
                    let (m1, m2) = (m.clone(), m.clone());
                    let name = x.with_untracked(|e| model_label(&e.endpoints, m.0, &m.1));
                    view! {
                        <label class="fa-field">
                            <span>{format!("{name}: price per million tokens in")}</span>
                            <input inputmode="decimal" data-testid="projection-price-in" prop:value=pi.map(|v| v.to_string()).unwrap_or_default()
                                on:change:target=move |ev| set_price(m1.clone(), true, ev.target().value()) />
                        </label>
                        <label class="fa-field">
                            <span>"out"</span>
                            <input inputmode="decimal" data-testid="projection-price-out" prop:value=po.map(|v| v.to_string()).unwrap_or_default()
                                on:change:target=move |ev| set_price(m2.clone(), false, ev.target().value()) />
                        </label>
                    }
                }).collect_view()}
            </div>
            <p class="fa-muted">"From each configuration's measured mean latency and tokens per item: hours = items × latency × replications ÷ workers. A plain-HTTP endpoint serves at most 6 requests at once per browser, whatever the worker count."</p>
            <div class="fa-row fa-row--top">
                {move || view! { <BarChart bars=hours_bars() title="Hours per day for the daily volume".to_string() caption=format!("Hours needed per day for {} items at {} parallel requests; the dashed line marks 24 hours.", daily_volume.get(), workers.get()) reference=RefLine { value: 24.0, label: "24 h".into() } testid="chart-hours" /> }}
                {move || view! { <BarChart bars=cost_bars() title="Cost per day".to_string() caption=format!("Cost of {} items a day at the prices entered per model.", daily_volume.get()) testid="chart-cost" /> }}
            </div>
            <table class="fa-table fa-table--compact" data-testid="projection-table">
                <thead><tr><th scope="col">"Configuration"</th><th scope="col">"Items/hour"</th><th scope="col">"Hours/day"</th><th scope="col">"Fits in 24 h"</th><th scope="col">"Tokens/day"</th><th scope="col">"Cost/day"</th></tr></thead>
                <tbody>
                    {move || projections.get().into_iter().map(|(d, p, priced)| view! {
                        <tr data-testid="projection-row" data-hours=p.map(|p| p.hours_per_day.to_string()).unwrap_or_default()>
                            <td>{d}</td>
                            <td>{p.map_or("–".into(), |p| format!("{:.0}", p.items_per_hour))}</td>
                            <td>{p.map_or("–".into(), |p| duration_text(p.hours_per_day))}</td>
                            <td>{p.map_or("–", |p| if p.fits_in_24h { "yes" } else { "no" })}</td>
                            <td>{p.map_or("–".into(), |p| format!("{:.0}", p.tokens_per_day))}</td>
                            <td>{match p { Some(p) if priced => format!("{:.2}", p.cost_per_day), _ => "–".into() }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
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
