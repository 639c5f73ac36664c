//! Start, watch and cancel an auto-annotation run.

use super::endpoint::default_endpoint;
use super::projects::format_date;
use crate::components::ProgressBar;
use crate::error::AppError;
use crate::model::{run_source, AnnotationStatus, RunRecord, RunStatus};
use crate::services::browser::{now_ms, random_id};
use crate::services::runner::{execute, Counts, RunControl, RunTask};
use crate::state::{ActiveRun, AppState, ToastKind};
use fannotate_core::AttributeKind;
use leptos::prelude::*;

/// What a run needs, loaded together.
#[derive(Clone)]
struct Setup {
    dataset: Option<crate::model::DatasetMeta>,
    codebook: Option<crate::model::CodebookVersion>,
    endpoint: Option<crate::model::EndpointConfig>,
    runs: Vec<RunRecord>,
}

/// Start a run of `attribute` over every row of the project's dataset.
async fn start_run(state: AppState, setup: Setup, attribute_name: String) -> Result<(), AppError> {
    let storage = state.storage();
    let (Some(ds), Some(cbv)) = (setup.dataset, setup.codebook) else {
        return Ok(());
    };
    let endpoint = setup.endpoint.unwrap_or_else(|| default_endpoint(&state));
    let codebook = cbv.codebook()?;
    let Some(attribute) = codebook.attribute(&attribute_name).cloned() else {
        return Ok(());
    };
    let rows = storage.rows(ds.id.clone(), 0, ds.row_count).await?;
    let tasks: Vec<RunTask> = rows
        .iter()
        .map(|r| RunTask {
            row: r.idx,
            text: r.cell(ds.text_col).to_string(),
        })
        .collect();
    let mut stored_endpoint = endpoint.clone();
    stored_endpoint.api_key = None;
    let run = RunRecord {
        id: random_id(),
        project_id: ds.project_id.clone(),
        dataset_id: ds.id.clone(),
        attribute: attribute.name.clone(),
        free_text: attribute.kind != AttributeKind::Categorical,
        codebook_version: cbv.version,
        endpoint: stored_endpoint,
        status: RunStatus::Running,
        total: tasks.len() as u32,
        valid: 0,
        invalid: 0,
        failed: 0,
        started_at: now_ms(),
        finished_at: None,
        error: None,
    };
    launch(state, run, attribute, tasks, Counts::default()).await
}

/// Which rows of an earlier run to (re)do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Continue {
    /// Rows with no stored outcome (after a cancel or a closed page).
    Resume,
    /// Rows whose request failed.
    RetryFailed,
}

/// Continue an earlier run with its own settings and codebook version; finished
/// rows are skipped, so no task is done twice.
async fn continue_run(state: AppState, mut run: RunRecord, how: Continue) -> Result<(), AppError> {
    let storage = state.storage();
    let Some(ds) = storage
        .dataset(run.project_id.clone())
        .await?
        .filter(|d| d.id == run.dataset_id)
    else {
        state.toast(
            ToastKind::Error,
            "The run's dataset was replaced by a new import; start a new run.",
        );
        return Ok(());
    };
    let versions = storage.codebook_versions(run.project_id.clone()).await?;
    let Some(attribute) = versions
        .iter()
        .find(|v| v.version == run.codebook_version)
        .and_then(|v| v.codebook().ok())
        .and_then(|cb| cb.attribute(&run.attribute).cloned())
    else {
        state.toast(
            ToastKind::Error,
            "The run's codebook version is gone; start a new run.",
        );
        return Ok(());
    };
    let stored = storage
        .annotations(ds.id.clone(), run_source(&run.id))
        .await?;
    let outcome: std::collections::HashMap<u32, AnnotationStatus> = stored
        .iter()
        .filter(|a| a.attribute == run.attribute)
        .map(|a| (a.row, a.status))
        .collect();
    let redo = |row: u32| {
        matches!(
            (how, outcome.get(&row)),
            (Continue::Resume, None) | (Continue::RetryFailed, Some(AnnotationStatus::Error))
        )
    };
    let rows = storage.rows(ds.id.clone(), 0, ds.row_count).await?;
    let tasks: Vec<RunTask> = rows
        .iter()
        .filter(|r| redo(r.idx))
        .map(|r| RunTask {
            row: r.idx,
            text: r.cell(ds.text_col).to_string(),
        })
        .collect();
    let base = Counts::of(
        stored
            .iter()
            .filter(|a| a.attribute == run.attribute && !redo(a.row)),
    );
    run.status = RunStatus::Running;
    run.finished_at = None;
    run.error = None;
    launch(state, run, attribute, tasks, base).await
}

/// Run tasks with progress, cancel and a closing message.
async fn launch(
    state: AppState,
    run: RunRecord,
    attribute: fannotate_core::Attribute,
    tasks: Vec<RunTask>,
    base: Counts,
) -> Result<(), AppError> {
    let control = RunControl::new()?;
    state.active_run.set(Some(ActiveRun {
        run_id: run.id.clone(),
        control: control.clone(),
    }));
    state.touch();
    let key = state.session_key.get_untracked();
    let result = execute(
        state.storage(),
        run,
        attribute,
        key,
        tasks,
        base,
        control,
        move |p| state.progress.set(Some(p)),
    )
    .await;
    state.active_run.set(None);
    state.touch();
    let run = result?;
    match run.status {
        RunStatus::Completed => state.toast(
            ToastKind::Success,
            format!(
                "Run finished: {} labelled, {} invalid, {} failed.",
                run.valid, run.invalid, run.failed
            ),
        ),
        RunStatus::Cancelled => state.toast(
            ToastKind::Success,
            "Run cancelled; finished results are kept.",
        ),
        _ => state.toast(
            ToastKind::Error,
            run.error
                .clone()
                .unwrap_or_else(|| "The run stopped.".into()),
        ),
    }
    Ok(())
}

/// Spawn a run-changing task, reporting its error.
fn spawn_run(
    state: AppState,
    fut: impl std::future::Future<Output = Result<(), AppError>> + 'static,
) {
    leptos::task::spawn_local(async move {
        if let Err(e) = fut.await {
            state.error(&e);
        }
    });
}

/// The run step.
#[component]
pub fn RunView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let setup = LocalResource::new(move || {
        state.revision.track();
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move {
            Ok::<_, AppError>(Setup {
                dataset: storage.dataset(pid.clone()).await?,
                codebook: storage.latest_codebook(pid.clone()).await?,
                endpoint: storage.endpoint(pid.clone()).await?,
                runs: storage.runs(pid).await?,
            })
        }
    });
    let attribute_choice = RwSignal::new(None::<String>);
    let running = move || state.active_run.with(|r| r.is_some());

    view! {
        <section class="fa-view" data-testid="run-view">
            <h2>"Run"</h2>
            {move || match setup.get() {
                None => view! { <p class="fa-muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Some(Ok(s)) => {
                    // Every attribute can run: categorical ones are compared as labels,
                    // free-text ones by ROUGE.
                    let attributes: Vec<String> = s.codebook.as_ref().and_then(|v| v.codebook().ok())
                        .map(|cb| cb.attributes.into_iter().map(|a| a.name).collect())
                        .unwrap_or_default();
                    let missing = if s.dataset.is_none() {
                        Some("Import a dataset first (Data step).")
                    } else if attributes.is_empty() {
                        Some("Save a codebook with at least one attribute first (Codebook step).")
                    } else {
                        None
                    };
                    let concurrency_note = s.endpoint.as_ref().and_then(|e| e.concurrency_note());
                    let endpoint_note = match &s.endpoint {
                        Some(e) => format!("{} · model {} · {} in flight · constraint: {}", e.base_url, if e.model.is_empty() { "(server default)" } else { &e.model }, e.concurrency, e.constraint.label()),
                        None => "No endpoint saved: the default local endpoint will be used (Endpoint step).".into(),
                    };
                    let rows = s.dataset.as_ref().map_or(0, |d| d.row_count);
                    let first = attributes.first().cloned().unwrap_or_default();
                    let chosen = move || attribute_choice.get().unwrap_or_else(|| first.clone());
                    let runs = s.runs.clone();
                    let s_start = s.clone();
                    view! {
                        <div class="fa-card">
                            {missing.map(|m| view! { <p class="fa-empty" data-testid="run-missing">{m}</p> })}
                            <div class="fa-row">
                                <label class="fa-field">
                                    <span>"Attribute"</span>
                                    <select data-testid="run-attribute" on:change:target=move |ev| attribute_choice.set(Some(ev.target().value()))>
                                        {attributes.iter().map(|a| { let a2 = a.clone(); let c = chosen.clone(); view! {
                                            <option value=a.clone() selected=move || c() == a2>{a.clone()}</option>
                                        }}).collect_view()}
                                    </select>
                                </label>
                                <p class="fa-muted">{format!("{rows} rows · {endpoint_note}")}</p>
                            </div>
                            {concurrency_note.map(|n| view! { <p class="fa-muted" data-testid="concurrency-note">{n}</p> })}
                            <div class="fa-row">
                                <button class="fa-btn fa-btn--primary" data-testid="start-run"
                                    disabled=move || missing.is_some() || running()
                                    on:click=move |_| {
                                        let (s, attr) = (s_start.clone(), chosen());
                                        spawn_run(state, start_run(state, s, attr));
                                    }>"Annotate all rows"</button>
                                <button class="fa-btn fa-btn--danger" data-testid="cancel-run" disabled=move || !running()
                                    on:click=move |_| state.active_run.with_untracked(|r| if let Some(r) = r { r.control.cancel() })>"Cancel"</button>
                            </div>
                            <RunProgressPanel/>
                        </div>
                        <RunList runs/>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// Live figures of the current (or last) run.
#[component]
fn RunProgressPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let p = move || state.progress.get();
    view! {
        {move || p().map(|p| view! {
            <div class="fa-progress-panel" data-testid="run-progress">
                <ProgressBar done=Signal::derive(move || state.progress.get().map_or(0, |p| p.done())) total=Signal::derive(move || state.progress.get().map_or(0, |p| p.total)) label="Run progress" />
                <dl class="fa-stats">
                    <div><dt>"Done"</dt><dd data-testid="run-done">{format!("{} / {}", p.done(), p.total)}</dd></div>
                    <div><dt>"Labelled"</dt><dd>{p.valid}</dd></div>
                    <div><dt>"Invalid"</dt><dd>{p.invalid}</dd></div>
                    <div><dt>"Failed"</dt><dd>{p.failed}</dd></div>
                    <div><dt>"In flight"</dt><dd data-testid="run-in-flight">{p.in_flight}</dd></div>
                    <div><dt>"Most in flight"</dt><dd data-testid="run-max-in-flight">{p.max_in_flight}</dd></div>
                    <div><dt>"Items/s"</dt><dd>{format!("{:.1}", p.rate())}</dd></div>
                    <div><dt>"ETA"</dt><dd>{p.eta_secs().map_or("–".to_string(), |s| format!("{s:.0} s"))}</dd></div>
                    <div><dt>"Tokens"</dt><dd>{if p.tokens_estimated { format!("≈ {} (estimated: the server reports no usage)", p.tokens) } else { p.tokens.to_string() }}</dd></div>
                </dl>
            </div>
        })}
    }
}

/// Past runs of the project.
#[component]
fn RunList(
    /// Runs, newest first.
    runs: Vec<RunRecord>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    if runs.is_empty() {
        return view! { <p class="fa-empty">"No runs yet."</p> }.into_any();
    }
    let active = move || {
        state
            .active_run
            .with(|r| r.as_ref().map(|r| r.run_id.clone()))
    };
    view! {
        <table class="fa-table" data-testid="run-list">
            <thead><tr><th scope="col">"Started"</th><th scope="col">"Attribute"</th><th scope="col">"Model"</th><th scope="col">"Status"</th><th scope="col">"Labelled"</th><th scope="col">"Invalid"</th><th scope="col">"Failed"</th><th scope="col"><span class="fa-visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let id = r.id.clone();
                    let this_page = Memo::new(move |_| active().as_deref() == Some(id.as_str()));
                    let running = move || state.active_run.with(Option::is_some);
                    let (status, finished, total, failed) = (r.status, r.valid + r.invalid + r.failed, r.total, r.failed);
                    // A run stored as running that is not this page's is left over from a closed page.
                    let shown = move || if status == RunStatus::Running && !this_page.get() { RunStatus::Interrupted } else { status };
                    let can_resume = move || match shown() {
                        RunStatus::Interrupted | RunStatus::Cancelled => true,
                        RunStatus::Failed => finished < total,
                        _ => false,
                    };
                    let (resume_run, retry_run) = (r.clone(), r.clone());
                    view! {
                        <tr data-testid="run-row">
                            <td>{format_date(r.started_at)}</td>
                            <td>{r.attribute.clone()}</td>
                            <td>{r.endpoint.model.clone()}</td>
                            <td data-testid="run-status">{move || shown().label()}</td>
                            <td>{r.valid}</td>
                            <td>{r.invalid}</td>
                            <td>{r.failed}</td>
                            <td>
                                <Show when=can_resume>
                                    <button class="fa-btn" data-testid="resume-run" disabled=running
                                        on:click={
                                            let r = resume_run.clone();
                                            move |_| spawn_run(state, continue_run(state, r.clone(), Continue::Resume))
                                        }>"Resume"</button>
                                </Show>
                                <Show when=move || { failed > 0 && !this_page.get() }>
                                    <button class="fa-btn" data-testid="retry-failed" disabled=running
                                        on:click={
                                            let r = retry_run.clone();
                                            move |_| spawn_run(state, continue_run(state, r.clone(), Continue::RetryFailed))
                                        }>{format!("Retry {} failed", r.failed)}</button>
                                </Show>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
