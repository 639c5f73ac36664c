//! Labels in a paged table, agreement with the gold column, and CSV export.

use crate::actions::export::export_action;
use crate::components::{
    when_loaded, Button, ClassBars, ConfusionMatrix, Histogram, SelectField, Tone,
};
use crate::data::codebook::run_attribute;
use crate::data::job::{stop_on_cleanup, JobState};
use crate::error::AppError;
use crate::format::{format_date, pct, snippet};
use crate::services::export::ExportFormat;
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::metrics::{bootstrap_coded, intern, BootstrapCis, Interned, Interval};
use fannotate_core::records::{
    run_source, Annotation, AnnotationStatus, DatasetMeta, RowRecord, RunRecord,
};
use fannotate_core::rouge::{rouge_mean, RougeReport, Tokenizer};
use fannotate_core::{classify, ClassificationReport};
use leptos::prelude::*;

/// Which rows the label table lists.
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    All,
    Disagreements,
    /// One confusion-matrix cell: gold label, model label.
    Cell(String, String),
}

/// Rows per page of the label table.
const PAGE_SIZE: usize = 25;

/// A run's labels joined to the rows.
#[derive(Debug, Clone, PartialEq)]
struct Labelled {
    meta: DatasetMeta,
    run: RunRecord,
    rows: Vec<RowRecord>,
    /// The attribute as the run's codebook version defined it.
    attribute: Option<fannotate_core::Attribute>,
    /// `labels[i]` is the annotation of `rows[i]`, if any.
    labels: Vec<Option<Annotation>>,
}

/// One label (or none) per row.
type Labels<'a> = Vec<Option<&'a str>>;

impl Labelled {
    /// Gold labels (a cell that names a category loosely, like "Spam ", counts
    /// as it) and predictions, by row.
    fn gold_pred(&self) -> Option<(Labels<'_>, Labels<'_>)> {
        let gold_col = self.meta.gold_for(&self.run.attribute)?;
        let gold = self
            .rows
            .iter()
            .map(|r| {
                let cell = r.cell(gold_col);
                Some(
                    self.attribute
                        .as_ref()
                        .and_then(|a| a.match_label(cell))
                        .unwrap_or(cell),
                )
            })
            .collect();
        let pred = self
            .labels
            .iter()
            .map(|a| a.as_ref().and_then(|a| a.value.as_deref()))
            .collect();
        Some((gold, pred))
    }

    /// ROUGE of free-text answers against the gold column, over rows that have both.
    fn rouge(&self, tok: Tokenizer) -> Option<RougeReport> {
        let gold_col = self.meta.gold_for(&self.run.attribute)?;
        let pairs: Vec<(&str, &str)> = self
            .rows
            .iter()
            .zip(&self.labels)
            .filter_map(|(r, a)| Some((r.cell(gold_col), a.as_ref()?.value.as_deref()?)))
            .filter(|(g, _)| !g.trim().is_empty())
            .collect();
        Some(rouge_mean(&pairs, tok))
    }

    /// ROUGE-L F of each row's free-text answer against its gold text (Unicode
    /// words), where both exist.
    fn rouge_per_row(&self) -> Vec<Option<f64>> {
        let Some(gold_col) = self.meta.gold_for(&self.run.attribute) else {
            return vec![None; self.rows.len()];
        };
        self.rows
            .iter()
            .zip(&self.labels)
            .map(|(r, a)| {
                let gold = r.cell(gold_col);
                let answer = a.as_ref()?.value.as_deref()?;
                (!gold.trim().is_empty()).then(|| {
                    fannotate_core::rouge::rouge(gold, answer, Tokenizer::UnicodeWords).rouge_l
                })
            })
            .collect()
    }

    fn count(&self, status: AnnotationStatus) -> usize {
        self.labels
            .iter()
            .flatten()
            .filter(|a| a.status == status)
            .count()
    }
}

const NO_GOLD: &str = "The dataset has no gold column, so agreement cannot be measured. Re-import with a gold column to see it.";

/// An interval as "[lo–hi]", or nothing when undefined.
fn ci(i: Option<fannotate_core::metrics::Interval>, pct: bool) -> String {
    match i {
        Some(i) if pct => format!("95 % CI {:.1}–{:.1} %", i.lo * 100.0, i.hi * 100.0),
        Some(i) => format!("95 % CI {:.3}–{:.3}", i.lo, i.hi),
        None => "CI undefined".into(),
    }
}

/// Accuracy, κ and macro-F1 with bootstrap intervals, the confusion matrix (its
/// cells list their rows) and per-class bars of a categorical run.
fn classification_view(
    report: Option<ClassificationReport>,
    cis: Option<Intervals>,
    on_cell: Callback<(usize, usize)>,
) -> impl IntoView {
    let (Some(r), Some(cis)) = (report, cis) else {
        return view! { <p class="fa-empty">{NO_GOLD}</p> }.into_any();
    };
    let n_gold = r.n_rows - r.n_missing_gold;
    let n = r.n_used;
    let shown = move |pick: fn(&BootstrapCis) -> Option<Interval>, pct: bool| {
        move || match cis.state.get() {
            CiState::Done(c, _) => format!("n = {n} · {}", ci(pick(&c), pct)),
            _ => format!("n = {n} · interval pending"),
        }
    };
    view! {
        <dl class="fa-stats" data-testid="metrics">
            <div>
                <dt>"Accuracy"</dt>
                <dd data-testid="accuracy" data-value=r.accuracy_missing_pred_as_wrong.to_string()>{pct(r.accuracy_missing_pred_as_wrong)}</dd>
                <dd class="fa-muted">{format!("n = {n_gold} with gold; invalid and failed count as wrong")}</dd>
            </div>
            <div>
                <dt>"Accuracy on valid answers"</dt>
                <dd data-testid="accuracy-valid" data-value=r.accuracy.to_string()>{pct(r.accuracy)}</dd>
                <dd class="fa-muted" data-testid="accuracy-ci">{shown(|c| c.accuracy, true)}</dd>
            </div>
            <div>
                <dt>"Cohen's κ"</dt>
                <dd data-testid="kappa">{r.cohen_kappa.map_or("undefined".to_string(), |k| format!("{k:.3}"))}</dd>
                <dd class="fa-muted" data-testid="kappa-ci">{shown(|c| c.cohen_kappa, false)}</dd>
            </div>
            <div>
                <dt>"Macro F1"</dt>
                <dd>{format!("{:.3}", r.macro_f1)}</dd>
                <dd class="fa-muted" data-testid="f1-ci">{shown(|c| c.macro_f1, false)}</dd>
            </div>
        </dl>
        <IntervalsStatus cis />
        <div class="fa-row fa-row--top">
            <ConfusionMatrix labels=r.labels.clone() matrix=r.confusion_matrix.clone() on_cell />
            <ClassBars classes=r.per_class.clone() />
        </div>
    }
    .into_any()
}

/// Bootstrap resamples behind the intervals.
const RESAMPLES: usize = 1000;
/// Seed of the resampling, so the figures do not move between visits.
const SEED: u64 = 42;

/// Where the bootstrap intervals stand.
type CiState = JobState<BootstrapCis>;

/// The bootstrap intervals of one results screen, computed in the compute
/// worker (95 %, 1,000 resamples, seed 42).
#[derive(Clone, Copy)]
struct Intervals {
    state: RwSignal<CiState>,
    start: Callback<()>,
    cancel: Callback<()>,
}

impl Intervals {
    /// Start computing the intervals of `coded` (and again on `start`).
    fn new(state: AppState, coded: Interned) -> Self {
        let cis = RwSignal::new(CiState::Running(0, RESAMPLES as u64));
        let coded = StoredValue::new_local(coded);
        let start = Callback::new(move |()| {
            cis.set(CiState::Running(0, RESAMPLES as u64));
            let worker = state.worker();
            let coded_now = coded.with_value(Interned::clone);
            leptos::task::spawn_local(async move {
                let progress = move |done, total| {
                    cis.try_set(CiState::Running(done, total));
                };
                let result = worker
                    .bootstrap(coded_now, RESAMPLES, 0.95, SEED, progress)
                    .await;
                let on_page = || {
                    coded.try_with_value(|c| {
                        Ok(bootstrap_coded(c, RESAMPLES, 0.95, SEED, &mut |_| {}))
                    })
                };
                if let Some(next) = CiState::settle(result, on_page) {
                    cis.try_set(next);
                }
            });
        });
        let cancel = Callback::new(move |()| state.worker().cancel());
        stop_on_cleanup(state.worker, cis);
        start.run(());
        Intervals {
            state: cis,
            start,
            cancel,
        }
    }
}

/// The intervals' progress (with Cancel), or how they were made (with Retry
/// after a failure).
#[component]
fn IntervalsStatus(
    /// The intervals shown.
    cis: Intervals,
) -> impl IntoView {
    move || {
        match cis.state.get() {
        CiState::Idle => ().into_any(),
        CiState::Running(done, total) => view! {
            <div class="fa-row" data-testid="intervals-status" data-state="running">
                <p class="fa-muted" role="status">{format!("Computing 95 % intervals in the background: {done} of {total} bootstrap resamples.")}</p>
                <Button label="Cancel" attr:data-testid="intervals-cancel" on_click=move || cis.cancel.run(()) />
            </div>
        }
        .into_any(),
        CiState::Done(c, on_page) => view! {
            <p class="fa-muted" data-testid="intervals-status" data-state="done">
                {format!("Intervals: {} bootstrap resamples of the rows with both labels (seed {SEED}).", c.resamples)}
                {on_page.map(|why| format!(" Computed on the page: {why}."))}
            </p>
        }
        .into_any(),
        CiState::Cancelled => view! {
            <div class="fa-row" data-testid="intervals-status" data-state="cancelled">
                <p class="fa-muted">"Intervals cancelled."</p>
                <Button label="Compute intervals" attr:data-testid="intervals-retry" on_click=move || cis.start.run(()) />
            </div>
        }
        .into_any(),
        CiState::Failed(message) => view! {
            <div class="fa-row" data-testid="intervals-status" data-state="failed">
                <p class="fa-error" role="alert">{message}</p>
                <Button label="Retry" attr:data-testid="intervals-retry" on_click=move || cis.start.run(()) />
            </div>
        }
        .into_any(),
    }
    }
}

/// ROUGE of a free-text run against the gold column, with both tokenizers.
fn rouge_view(l: &Labelled) -> impl IntoView {
    let (Some(default), Some(unicode)) = (
        l.rouge(Tokenizer::Default),
        l.rouge(Tokenizer::UnicodeWords),
    ) else {
        return view! { <p class="fa-empty">{NO_GOLD}</p> }.into_any();
    };
    let per_item: Vec<f64> = l.rouge_per_row().into_iter().flatten().collect();
    let row = |name: &'static str, testid: &'static str, r: &RougeReport| {
        view! {
            <tr data-testid=testid>
                <th scope="row">{name}</th>
                <td data-value=r.mean_f.rouge1.to_string()>{format!("{:.3}", r.mean_f.rouge1)}</td>
                <td>{format!("{:.3}", r.mean_f.rouge2)}</td>
                <td>{format!("{:.3}", r.mean_f.rouge_l)}</td>
            </tr>
        }
    };
    view! {
        <table class="fa-table" data-testid="rouge">
            <caption>{format!("Mean ROUGE F over {} answers with a gold text", default.n_pairs)}</caption>
            <thead><tr><th scope="col">"Tokenizer"</th><th scope="col">"ROUGE-1"</th><th scope="col">"ROUGE-2"</th><th scope="col">"ROUGE-L"</th></tr></thead>
            <tbody>
                {row("Unicode words (keeps æøå)", "rouge-unicode", &unicode)}
                {row("rouge-score default (a–z, 0–9 only)", "rouge-default", &default)}
            </tbody>
        </table>
        <Histogram values=per_item name="ROUGE-L F (Unicode words)".to_string() />
    }
    .into_any()
}

async fn load(state: AppState, run_choice: Option<String>) -> Result<Option<Labelled>, AppError> {
    let storage = state.storage();
    let pid = state.project_id().unwrap_or_default();
    let Some(meta) = storage.dataset(pid.clone()).await? else {
        return Ok(None);
    };
    let runs = storage.runs(pid).await?;
    let run = match run_choice {
        Some(id) => runs.into_iter().find(|r| r.id == id),
        None => runs.into_iter().find(|r| r.dataset_id == meta.id),
    };
    let Some(run) = run else { return Ok(None) };
    // Only the rows the run was asked to label: a row outside its scope never
    // counts as wrong (an experiment's run sees the validation rows only).
    let rows: Vec<RowRecord> = state
        .rows(&meta)
        .await?
        .iter()
        .filter(|r| run.has_row(r.idx))
        .cloned()
        .collect();
    let position: std::collections::HashMap<u32, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.idx, i)).collect();
    let mut labels: Vec<Option<Annotation>> = vec![None; rows.len()];
    for a in storage
        .annotations(meta.id.clone(), run_source(&run.id))
        .await?
    {
        if a.attribute == run.attribute {
            if let Some(slot) = position.get(&a.row).and_then(|&i| labels.get_mut(i)) {
                *slot = Some(a);
            }
        }
    }
    let attribute = run_attribute(&*storage, &run).await?;
    Ok(Some(Labelled {
        meta,
        run,
        rows,
        attribute,
        labels,
    }))
}

/// The results step.
#[component]
pub fn ResultsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let run_choice = RwSignal::new(None::<String>);
    let runs = LocalResource::new(move || {
        state.track(&[Topic::Runs]);
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.runs(pid).await.map_err(AppError::from) }
    });
    let data = LocalResource::new(move || {
        state.track(&[
            Topic::Dataset,
            Topic::Codebook,
            Topic::Runs,
            Topic::Annotations,
        ]);
        load(state, run_choice.get())
    });
    let page = RwSignal::new(0usize);

    view! {
        <section class="fa-view" data-testid="results-view">
            <h2>"Results"</h2>
            {move || runs.get().and_then(|r| r.ok()).filter(|r| r.len() > 1).map(|list| view! {
                <SelectField label="Run" testid="results-run" on_change=Callback::new(move |v: String| { page.set(0); run_choice.set(Some(v)) })>
                        {list.into_iter().map(|r| {
                            let id = r.id.clone();
                            let label = format!("{} · {} · {}{}", r.attribute, r.configuration(), format_date(r.started_at), if r.experiment.is_some() { " · experiment" } else { "" });
                            view! { <option value=r.id.clone() selected=move || run_choice.get().as_deref() == Some(id.as_str())>{label}</option> }
                        }).collect_view()}
                    </SelectField>
            })}
            {when_loaded(data, "Loading…", move |value| match value {
                None => view! { <p class="fa-empty">"No results yet. Start a run in the Run step."</p> }.into_any(),
                Some(l) => results(state, l, page).into_any(),
                        })}
        </section>
    }
}

fn results(state: AppState, l: Labelled, page: RwSignal<usize>) -> impl IntoView {
    let (invalid, failed) = (
        l.count(AnnotationStatus::Invalid),
        l.count(AnnotationStatus::Error),
    );
    let labelled = l.count(AnnotationStatus::Valid);
    let gold_name = l
        .meta
        .gold_for(&l.run.attribute)
        .and_then(|c| l.meta.columns.get(c).cloned());
    let scope = format!(
        "Run of {} on {} rows ({}) of {} ({}, codebook v{}), compared with the gold column {}.",
        l.run.attribute,
        l.rows.len(),
        l.run.scope.label().to_lowercase(),
        l.meta.name,
        match (&l.run.aggregate, l.run.endpoint.model.as_str()) {
            (Some(_), _) => l.run.configuration(),
            (None, "") => "model server default".to_string(),
            (None, m) => format!("model {m}"),
        },
        l.run.codebook_version,
        gold_name.as_deref().unwrap_or("(none)")
    );
    // Which rows the table lists: all, the disagreements, or one matrix cell.
    let filter = RwSignal::new(Filter::All);
    // Gold and predicted labels are paired once (a million rows take a while)
    // for the report, the bootstrap job's codes and the table's filter.
    let paired = l.gold_pred();
    let categorical = paired.as_ref().filter(|_| !l.run.free_text);
    let report = categorical.map(|(g, p)| classify(g, p));
    let coded = categorical.map(|(g, p)| intern(g, p));
    let matrix_labels = report
        .as_ref()
        .map(|r| r.labels.clone())
        .unwrap_or_default();
    let on_cell = Callback::new(move |(g, p): (usize, usize)| {
        page.set(0);
        filter.set(Filter::Cell(
            matrix_labels[g].clone(),
            matrix_labels[p].clone(),
        ));
    });
    let metrics = if l.run.free_text {
        rouge_view(&l).into_any()
    } else {
        let cis = coded.map(|coded| Intervals::new(state, coded));
        classification_view(report, cis, on_cell).into_any()
    };
    let gold_col = l.meta.gold_for(&l.run.attribute);
    let text_col = l.meta.text_col;
    let golds: Vec<Option<String>> = paired
        .map(|(g, _)| g.into_iter().map(|g| g.map(str::to_string)).collect())
        .unwrap_or_else(|| vec![None; l.rows.len()]);
    let l_filter = l.clone();
    let shown = Memo::new(move |_| {
        let f = filter.get();
        (0..l_filter.rows.len())
            .filter(|&i| {
                let pred = l_filter.labels[i].as_ref().and_then(|a| a.value.as_deref());
                let gold = golds[i].as_deref().filter(|g| !g.trim().is_empty());
                match &f {
                    Filter::All => true,
                    Filter::Disagreements => gold.is_some() && gold != pred,
                    Filter::Cell(g, p) => gold == Some(g.as_str()) && pred == Some(p.as_str()),
                }
            })
            .collect::<Vec<usize>>()
    });
    let total_pages = move || shown.with(|s| s.len().div_ceil(PAGE_SIZE).max(1));
    let per_item: Vec<Option<f64>> = if l.run.free_text {
        l.rouge_per_row()
    } else {
        Vec::new()
    };
    let free_text = l.run.free_text;
    let l_table = l.clone();
    let table = move || {
        let p = page.get().min(total_pages() - 1);
        shown.with(|idx| idx.iter().skip(p * PAGE_SIZE).take(PAGE_SIZE).copied().collect::<Vec<_>>())
            .into_iter()
            .map(|i| (i, &l_table.rows[i], &l_table.labels[i]))
            .map(|(i, r, a)| {
                let (label, class, raw) = match a {
                    Some(a) if a.status == AnnotationStatus::Valid => (a.value.clone().unwrap_or_default(), "fa-label fa-label--llm", String::new()),
                    Some(a) if a.status == AnnotationStatus::Invalid => ("invalid".to_string(), "fa-label fa-label--invalid", a.raw.clone()),
                    Some(a) => ("failed".to_string(), "fa-label fa-label--invalid", a.reason.clone().unwrap_or_default()),
                    None => ("–".to_string(), "fa-muted", String::new()),
                };
                view! {
                    <tr data-testid="label-row">
                        <td>{r.id.clone()}</td>
                        <td class="fa-cell--text">{snippet(r.cell(text_col), 140)}</td>
                        <td class="fa-label fa-label--human">{gold_col.map(|g| r.cell(g).to_string()).unwrap_or_default()}</td>
                        <td><span class=class data-testid="llm-label">{label}</span></td>
                        <td data-testid="confidence">{a.as_ref().and_then(|a| a.confidence).map(|c| format!("{:.0} %", c * 100.0)).unwrap_or_default()}</td>
                        {free_text.then(|| view! { <td data-testid="rouge-item">{per_item.get(i).copied().flatten().map(|v| format!("{v:.3}")).unwrap_or_default()}</td> })}
                        <td class="fa-muted">{snippet(&raw, 80)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let format = RwSignal::new(ExportFormat::Csv);
    let export = export_action(state, move || format.get_untracked());
    view! {
        <div class="fa-card">
            <p class="fa-muted" data-testid="results-scope">{scope}</p>
            <p data-testid="results-counts">{format!("{labelled} labelled · {invalid} invalid answers · {failed} failed requests")}</p>
            {metrics}
            <div class="fa-row">
                <SelectField label="Export format" testid="export-format" on_change=Callback::new(move |v: String| if let Some(f) = ExportFormat::parse(&v) { format.set(f) })>
                        {ExportFormat::ALL.into_iter().map(|f| view! { <option value=f.as_str() selected=move || format.get() == f>{f.label()}</option> }).collect_view()}
                    </SelectField>
                <Button tone=Tone::Primary label="Export all rows" pending_label="Exporting…" pending=export.pending() attr:data-testid="export-data" on_click=move || { export.dispatch(()); } />
            </div>
            <p class="fa-muted">"The export has every row with its original columns; per attribute the imported gold label, the reviewer's label and when it was given, the latest model label, and each run's label, status, raw answer, confidence, model, prompt version and temperature. Cells that a spreadsheet would run as a formula are prefixed with ' in CSV."</p>
            {move || export.value().get().map(|r| match r {
                Ok((rows, ms)) => view! { <p class="fa-muted" data-testid="export-timing" data-rows=rows.to_string() data-ms=ms.to_string()>{format!("Exported {rows} rows in {:.1} s.", ms / 1000.0)}</p> }.into_any(),
                Err(e) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
            })}
        </div>
        <div class="fa-card">
            <div class="fa-row">
                <SelectField label="Rows" testid="results-filter" on_change=Callback::new(move |v: String| { page.set(0); filter.set(if v == "disagreements" { Filter::Disagreements } else { Filter::All }) })>
                        <option value="all" selected=move || filter.get() == Filter::All>"All rows"</option>
                        <option value="disagreements" selected=move || filter.get() == Filter::Disagreements>"Disagreements (gold ≠ model)"</option>
                        {move || match filter.get() { Filter::Cell(g, p) => Some(view! { <option value="cell" selected=true>{format!("Gold {g}, model {p}")}</option> }), _ => None }}
                    </SelectField>
                <p class="fa-muted" data-testid="results-shown">{move || format!("{} rows", shown.with(Vec::len))}</p>
            </div>
            <div class="fa-scroll" tabindex="0" role="region" aria-label="Labels">
            <table class="fa-table" data-testid="labels-table">
                <thead><tr><th scope="col">"Id"</th><th scope="col">"Text"</th><th scope="col">"Gold (human)"</th><th scope="col">"LLM label"</th><th scope="col">"Confidence"</th>{free_text.then(|| view! { <th scope="col">"ROUGE-L"</th> })}<th scope="col">"Raw answer"</th></tr></thead>
                <tbody>{table}</tbody>
            </table>
            </div>
            <div class="fa-row fa-pager">
                <button class="fa-btn" data-testid="prev-page" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
                <span data-testid="page-info">{move || format!("Page {} of {}", page.get().min(total_pages() - 1) + 1, total_pages())}</span>
                <button class="fa-btn" data-testid="next-page" disabled=move || { page.get() + 1 >= total_pages() } on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
            </div>
        </div>
    }
}
