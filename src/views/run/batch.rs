//! The run step's batch hand-off: export a run as request files for a batch
//! engine, and read its output files back into the run that waits for them.

use crate::actions::batch::{BatchJob, ImportReport, NewBatch, PROBLEMS_SHOWN};
use crate::actions::run::RunSetup;
use crate::components::{Button, SelectField};
use crate::format::format_date;
use crate::services::browser::Timeout;
use crate::services::files::take_picked_files;
use fannotate_core::batch::poll_delay_ms;
use fannotate_core::records::{BatchEngine, RemoteBatch, RunRecord, RunStatus, Scope};
use leptos::prelude::*;

/// "Export as batch file", beside "Start run": the same attribute, prompt
/// version and rows, written as request files instead of sent.
#[component]
pub fn BatchExport(
    /// What the run step loaded.
    setup: RunSetup,
    /// The attribute chosen (a single one: a batch file is one run).
    attribute: Signal<String>,
    /// The rows chosen.
    scope: Signal<Scope>,
    /// The prompt version chosen (the latest when `None`).
    version: Signal<Option<u32>>,
    /// Whether the button is off (nothing to run, or a choice of all attributes).
    disabled: Signal<bool>,
    /// The step's batch action.
    act: Action<BatchJob, Option<ImportReport>>,
) -> impl IntoView {
    let engine = RwSignal::new(setup.endpoint.as_ref().map_or(BatchEngine::OpenAi, |e| {
        BatchEngine::for_provider(e.provider)
    }));
    let dispatch = move |setup: RunSetup, submit: bool| {
        act.dispatch_local(BatchJob::Export(NewBatch {
            setup,
            attribute: attribute.get_untracked(),
            scope: scope.get_untracked(),
            version: version.get_untracked(),
            engine: engine.get_untracked(),
            submit,
        }));
    };
    view! {
        <div class="fa-row" data-testid="batch-export-card">
            <SelectField label="Batch file format" testid="batch-engine" on_change=Callback::new(move |v: String| if let Some(e) = BatchEngine::parse(&v) { engine.set(e) })>
                {BatchEngine::ALL.into_iter().map(|e| view! {
                    <option value=e.as_str() selected=move || engine.get() == e>{e.label()}</option>
                }).collect_view()}
            </SelectField>
            <Button label="Export as batch file" pending_label="Writing the batch…" pending=act.pending() attr:data-testid="batch-export"
                disabled=disabled
                on_click={
                    let setup = setup.clone();
                    move || dispatch(setup.clone(), false)
                } />
            <Button label="Submit to the endpoint's batch API" pending_label="Submitting…" pending=act.pending() attr:data-testid="batch-submit"
                disabled=disabled
                on_click=move || dispatch(setup.clone(), true) />
            <p class="fa-muted">"The requests this run would send, to run elsewhere: a file for OpenAI or Azure Batch, vllm run-batch or Ray Data (see the README), or submitted to this endpoint's OpenAI-compatible or Anthropic batch API. The results come back under Batch runs below."</p>
        </div>
    }
}

/// The project's batch runs: their files, their imports, and the way to read
/// output files in, make the files again or write what is still missing.
#[component]
pub fn BatchRuns(
    /// The project's runs, newest first.
    runs: Vec<RunRecord>,
    /// The step's batch action.
    act: Action<BatchJob, Option<ImportReport>>,
) -> impl IntoView {
    let batch_runs: Vec<RunRecord> = runs.into_iter().filter(|r| r.batch.is_some()).collect();
    if batch_runs.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="fa-card" data-testid="batch-runs" aria-label="Batch runs">
            <h3>"Batch runs"</h3>
            {batch_runs.into_iter().map(|run| view! { <BatchRunItem run act /> }).collect_view()}
        </section>
    }
    .into_any()
}

/// One batch run.
#[component]
fn BatchRunItem(
    /// The run.
    run: RunRecord,
    /// The batch action the list shares.
    act: Action<BatchJob, Option<ImportReport>>,
) -> impl IntoView {
    let Some(batch) = run.batch.clone() else {
        return ().into_any();
    };
    let done = run.valid + run.invalid + run.failed;
    let waiting = run.status == RunStatus::WaitingForBatch;
    // Submitted batches still running are asked about, less and less often,
    // while this item is on screen; the stored count of polls sets the wait,
    // so a reload (or another day) picks up where it was.
    let unsettled: Vec<&RemoteBatch> = batch.remote.iter().filter(|r| !r.settled).collect();
    if let Some(polls) = unsettled.iter().map(|r| r.polls).min() {
        let poll_run = run.clone();
        let timer = Timeout::new(poll_delay_ms(polls) as u32, move || {
            if !act.pending().get_untracked() {
                act.dispatch_local(BatchJob::Poll(poll_run.clone()));
            }
        });
        let timer = StoredValue::new_local(Some(timer));
        on_cleanup(move || timer.set_value(None));
    }
    let poll_run = run.clone();
    let has_remote = !unsettled.is_empty();
    let (import_run, again_run, missing_run) = (run.clone(), run.clone(), run.clone());
    view! {
        <div class="fa-batch-run" data-testid="batch-run" data-run=run.id.clone() data-status=run.status.label() data-done=done.to_string() data-total=run.total.to_string()>
            <p>
                <strong>{format!("{} · {}", run.attribute, run.configuration())}</strong>
                {format!(" · started {} · {} · {} requests ({} per row) in {} file{} · ", format_date(run.started_at), batch.engine.label(), batch.requests(), batch.replications, batch.parts.len(), if batch.parts.len() == 1 { "" } else { "s" })}
                <span data-testid="batch-status">{format!("{}: {done} of {} rows done", run.status.label(), run.total)}</span>
                {(!batch.partial.is_empty()).then(|| format!(" · {} rows answered in part", batch.partial.len()))}
            </p>
            <ul class="fa-muted">
                {batch.parts.iter().map(|p| view! { <li data-testid="batch-part">{format!("{}: {} rows, {} requests, {} bytes", p.name, p.tasks, p.lines, p.bytes)}</li> }).collect_view()}
                {batch.remote.iter().map(|r| view! { <li data-testid="batch-remote" data-status=r.status.clone()>{format!("Batch {} ({}): {}{}", r.id, r.part, r.status, r.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())}</li> }).collect_view()}
                {batch.imports.iter().map(|i| view! { <li data-testid="batch-import-line">{format!("Imported {} ({}{}) {}: {} answers applied, {} lines gave nothing", i.file, i.format, i.batch_id.as_ref().map(|b| format!(", batch {b}")).unwrap_or_default(), format_date(i.at), i.applied, i.problems)}</li> }).collect_view()}
            </ul>
            <div class="fa-row">
                {view! {
                    <label class="fa-btn fa-btn--primary">
                        "Import batch results…"
                        <input type="file" multiple accept=".jsonl,.ndjson,.json,.txt,application/jsonl" class="fa-visually-hidden" data-testid="batch-import"
                            on:change=move |ev| {
                                let files = take_picked_files(&ev);
                                if !files.is_empty() { act.dispatch_local(BatchJob::Import(import_run.clone(), files)); }
                            } />
                    </label>
                }}
                {has_remote.then(|| view! {
                    <Button label="Check the batch now" pending=act.pending() attr:data-testid="batch-poll"
                        on_click=move || { act.dispatch_local(BatchJob::Poll(poll_run.clone())); } />
                })}
                <Button label="Download the request files again" pending=act.pending() attr:data-testid="batch-again"
                    on_click=move || { act.dispatch_local(BatchJob::Again(again_run.clone())); } />
                {waiting.then(|| view! {
                    <Button label="Export what is still missing" pending=act.pending() attr:data-testid="batch-missing"
                        on_click=move || { act.dispatch_local(BatchJob::Missing(missing_run.clone())); } />
                })}
            </div>
        </div>
    }
    .into_any()
}

/// What the step's last import did, file by file, with the lines that gave
/// nothing; outside the run list, so a reload of the runs keeps it.
#[component]
pub fn LastImport(
    /// The step's batch action.
    act: Action<BatchJob, Option<ImportReport>>,
) -> impl IntoView {
    // The count of finished batch jobs lets a test wait for this job's report,
    // not the one before.
    view! {
        <div data-testid="batch-last" data-version=move || act.version().get().to_string()>
            {move || act.value().get().flatten().map(|report| view! { <BatchReport report /> })}
        </div>
    }
}

/// What one import did.
#[component]
fn BatchReport(
    /// The import's report.
    report: ImportReport,
) -> impl IntoView {
    let applied: u32 = report.files.iter().map(|f| f.applied).sum();
    let problems: u32 = report.files.iter().map(|f| f.problem_count).sum();
    view! {
        <div data-testid="batch-report" data-applied=applied.to_string() data-problems=problems.to_string() data-done=report.rows_done.to_string() role="status">
            <h4>{format!("Last import: {applied} answers applied, {problems} lines gave nothing; {} of {} rows done", report.rows_done, report.run.total)}</h4>
            {report.files.into_iter().map(|f| view! {
                <div data-testid="batch-file-report" data-file=f.name.clone() data-applied=f.applied.to_string() data-problems=f.problem_count.to_string()>
                    <p>{format!("{}: {} applied, {} lines gave nothing", f.name, f.applied, f.problem_count)}</p>
                    {f.error.map(|e| view! { <p class="fa-error" data-testid="batch-file-error">{e}</p> })}
                    {(!f.problems.is_empty()).then(|| view! {
                        <table class="fa-table fa-table--compact">
                            <thead><tr><th scope="col">"Line"</th><th scope="col">"Why it gave nothing"</th></tr></thead>
                            <tbody>
                                {f.problems.into_iter().map(|(line, reason)| view! {
                                    <tr data-testid="batch-problem" data-line=line.to_string()><td>{line}</td><td>{reason}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                    {(f.problem_count as usize > PROBLEMS_SHOWN).then(|| view! { <p class="fa-muted">{format!("The first {PROBLEMS_SHOWN} are listed.")}</p> })}
                </div>
            }).collect_view()}
        </div>
    }
}
