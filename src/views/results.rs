//! Labels in a paged table, agreement with the gold column, and CSV export.

use super::snippet;
use crate::components::ConfusionMatrix;
use crate::error::AppError;
use crate::error::ImportError;
use crate::model::{run_source, Annotation, AnnotationStatus, DatasetMeta, RowRecord, RunRecord};
use crate::services::browser::mono_ms;
use crate::services::export::{project_table, ExportFormat};
use crate::services::files::download_bytes;
use crate::state::{AppState, ToastKind};
use fannotate_core::rouge::{rouge_mean, RougeReport, Tokenizer};
use fannotate_core::{classify, ClassificationReport};
use leptos::prelude::*;

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

impl Labelled {
    fn report(&self) -> Option<ClassificationReport> {
        let gold_col = self.meta.gold_for(&self.run.attribute)?;
        // A gold cell that names a category loosely ("Spam ") counts as it.
        let gold: Vec<Option<&str>> = self
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
        let pred: Vec<Option<&str>> = self
            .labels
            .iter()
            .map(|a| a.as_ref().and_then(|a| a.value.as_deref()))
            .collect();
        Some(classify(&gold, &pred))
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

    fn count(&self, status: AnnotationStatus) -> usize {
        self.labels
            .iter()
            .flatten()
            .filter(|a| a.status == status)
            .count()
    }
}

const NO_GOLD: &str = "The dataset has no gold column, so agreement cannot be measured. Re-import with a gold column to see it.";

/// Accuracy, κ, macro-F1 and the confusion matrix of a categorical run.
fn classification_view(report: Option<ClassificationReport>) -> impl IntoView {
    match report {
        None => view! { <p class="fa-empty">{NO_GOLD}</p> }.into_any(),
        Some(r) => view! {
            <dl class="fa-stats" data-testid="metrics">
                <div>
                    <dt>"Accuracy"</dt>
                    <dd data-testid="accuracy" data-value=r.accuracy_missing_pred_as_wrong.to_string()>{pct(r.accuracy_missing_pred_as_wrong)}</dd>
                    <dd class="fa-muted">{format!("n = {} with gold; invalid and failed count as wrong", r.n_rows - r.n_missing_gold)}</dd>
                </div>
                <div>
                    <dt>"Accuracy on valid answers"</dt>
                    <dd data-testid="accuracy-valid" data-value=r.accuracy.to_string()>{pct(r.accuracy)}</dd>
                    <dd class="fa-muted">{format!("n = {}", r.n_used)}</dd>
                </div>
                <div><dt>"Cohen's κ"</dt><dd data-testid="kappa">{r.cohen_kappa.map_or("undefined".to_string(), |k| format!("{k:.3}"))}</dd></div>
                <div><dt>"Macro F1"</dt><dd>{format!("{:.3}", r.macro_f1)}</dd></div>
            </dl>
            <ConfusionMatrix labels=r.labels.clone() matrix=r.confusion_matrix.clone() />
        }.into_any(),
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
    }
    .into_any()
}

/// Export every row of the project's dataset with all annotations; returns the
/// rows written and the milliseconds it took.
async fn export_all(state: AppState, format: ExportFormat) -> Result<(u32, f64), AppError> {
    let t0 = mono_ms();
    let storage = state.storage();
    let pid = state.project_id().unwrap_or_default();
    let Some((meta, header, body)) = project_table(storage.as_ref(), &pid).await? else {
        return Ok((0, 0.0));
    };
    let stem = meta
        .name
        .rsplit_once('.')
        .map_or(meta.name.as_str(), |(s, _)| s);
    let name = format!("{stem}-annotated.{}", format.extension());
    let bytes = format.encode("annotations", &header, &body);
    download_bytes(&name, format.mime(), &bytes)
        .map_err(|e| AppError::from(ImportError::Read(e)))?;
    state.toast(ToastKind::Success, format!("Exported {name}."));
    Ok((body.len() as u32, mono_ms() - t0))
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
    let rows = storage.rows(meta.id.clone(), 0, meta.row_count).await?;
    let mut labels: Vec<Option<Annotation>> = vec![None; rows.len()];
    for a in storage
        .annotations(meta.id.clone(), run_source(&run.id))
        .await?
    {
        if a.attribute == run.attribute {
            if let Some(slot) = labels.get_mut(a.row as usize) {
                *slot = Some(a);
            }
        }
    }
    let attribute = storage
        .codebook_versions(meta.project_id.clone())
        .await?
        .into_iter()
        .find(|v| v.version == run.codebook_version)
        .and_then(|v| v.codebook().ok())
        .and_then(|cb| cb.attribute(&run.attribute).cloned());
    Ok(Some(Labelled {
        meta,
        run,
        rows,
        attribute,
        labels,
    }))
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// The results step.
#[component]
pub fn ResultsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let run_choice = RwSignal::new(None::<String>);
    let runs = LocalResource::new(move || {
        state.revision.track();
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.runs(pid).await.map_err(AppError::from) }
    });
    let data = LocalResource::new(move || {
        state.revision.track();
        load(state, run_choice.get())
    });
    let page = RwSignal::new(0usize);

    view! {
        <section class="fa-view" data-testid="results-view">
            <h2>"Results"</h2>
            {move || runs.get().and_then(|r| r.ok()).filter(|r| r.len() > 1).map(|list| view! {
                <label class="fa-field">
                    <span>"Run"</span>
                    <select on:change:target=move |ev| { page.set(0); run_choice.set(Some(ev.target().value())) }>
                        {list.into_iter().map(|r| {
                            let id = r.id.clone();
                            let label = format!("{} · {} · {}", super::projects::format_date(r.started_at), r.attribute, r.endpoint.model);
                            view! { <option value=r.id.clone() selected=move || run_choice.get().as_deref() == Some(id.as_str())>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
            })}
            {move || match data.get() {
                None => view! { <p class="fa-muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Some(Ok(None)) => view! { <p class="fa-empty">"No results yet. Start a run in the Run step."</p> }.into_any(),
                Some(Ok(Some(l))) => results(state, l, page).into_any(),
            }}
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
    let scope =
        format!(
        "Run of {} on {} rows of {} (model {}, codebook v{}), compared with the gold column {}.",
        l.run.attribute,
        l.rows.len(),
        l.meta.name,
        if l.run.endpoint.model.is_empty() { "server default" } else { &l.run.endpoint.model },
        l.run.codebook_version,
        gold_name.as_deref().unwrap_or("(none)")
    );
    let metrics = if l.run.free_text {
        rouge_view(&l).into_any()
    } else {
        classification_view(l.report()).into_any()
    };
    let total_pages = l.rows.len().div_ceil(PAGE_SIZE).max(1);
    let gold_col = l.meta.gold_for(&l.run.attribute);
    let text_col = l.meta.text_col;
    let l_table = l.clone();
    let table = move || {
        let p = page.get().min(total_pages - 1);
        l_table
            .rows
            .iter()
            .zip(&l_table.labels)
            .skip(p * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|(r, a)| {
                let (label, class, raw) = match a {
                    Some(a) if a.status == AnnotationStatus::Valid => (a.value.clone().unwrap_or_default(), "fa-label fa-label--llm", String::new()),
                    Some(a) if a.status == AnnotationStatus::Invalid => ("invalid".to_string(), "fa-label fa-label--invalid", a.raw.clone()),
                    Some(a) => ("failed".to_string(), "fa-label fa-label--invalid", a.reason.clone().unwrap_or_default()),
                    None => ("–".to_string(), "fa-muted", String::new()),
                };
                view! {
                    <tr data-testid="label-row">
                        <td>{r.id.clone()}</td>
                        <td>{snippet(r.cell(text_col), 140)}</td>
                        <td class="fa-label fa-label--human">{gold_col.map(|g| r.cell(g).to_string()).unwrap_or_default()}</td>
                        <td><span class=class data-testid="llm-label">{label}</span></td>
                        <td data-testid="confidence">{a.as_ref().and_then(|a| a.confidence).map(|c| format!("{:.0} %", c * 100.0)).unwrap_or_default()}</td>
                        <td class="fa-muted">{snippet(&raw, 80)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let format = RwSignal::new(ExportFormat::Csv);
    let export = Action::new_local(move |_: &()| export_all(state, format.get_untracked()));
    view! {
        <div class="fa-card">
            <p class="fa-muted" data-testid="results-scope">{scope}</p>
            <p data-testid="results-counts">{format!("{labelled} labelled · {invalid} invalid answers · {failed} failed requests")}</p>
            {metrics}
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Export format"</span>
                    <select data-testid="export-format" on:change:target=move |ev| if let Some(f) = ExportFormat::parse(&ev.target().value()) { format.set(f) }>
                        {ExportFormat::ALL.into_iter().map(|f| view! { <option value=f.as_str() selected=move || format.get() == f>{f.label()}</option> }).collect_view()}
                    </select>
                </label>
                <button class="fa-btn fa-btn--primary" data-testid="export-data" disabled=move || export.pending().get()
                    on:click=move |_| { export.dispatch(()); }>
                    {move || if export.pending().get() { "Exporting…" } else { "Export all rows" }}
                </button>
            </div>
            <p class="fa-muted">"The export has every row with its original columns, the human label, and each run's label, status, raw answer, confidence, model, prompt version and temperature. Cells that a spreadsheet would run as a formula are prefixed with ' in CSV."</p>
            {move || export.value().get().map(|r| match r {
                Ok((rows, ms)) => view! { <p class="fa-muted" data-testid="export-timing" data-rows=rows.to_string() data-ms=ms.to_string()>{format!("Exported {rows} rows in {:.1} s.", ms / 1000.0)}</p> }.into_any(),
                Err(e) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
            })}
        </div>
        <div class="fa-card">
            <table class="fa-table" data-testid="labels-table">
                <thead><tr><th scope="col">"Id"</th><th scope="col">"Text"</th><th scope="col">"Gold (human)"</th><th scope="col">"LLM label"</th><th scope="col">"Confidence"</th><th scope="col">"Raw answer"</th></tr></thead>
                <tbody>{table}</tbody>
            </table>
            <div class="fa-row fa-pager">
                <button class="fa-btn" data-testid="prev-page" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
                <span data-testid="page-info">{move || format!("Page {} of {total_pages}", page.get().min(total_pages - 1) + 1)}</span>
                <button class="fa-btn" data-testid="next-page" disabled=move || { page.get() + 1 >= total_pages } on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
            </div>
        </div>
    }
}
