//! Start, watch and cancel an auto-annotation run.

use crate::components::ProgressBar;
use crate::data::endpoint::default_endpoint;
use crate::error::AppError;
use crate::format::format_date;
use crate::services::browser::{now_ms, random_id};
use crate::services::runner::{execute, Counts, RunControl, RunEvent, RunProgress, RunTask};
use crate::state::{ActiveRun, AppState, ClearOnDrop, ToastKind};
use fannotate_core::records::{
    row_ranges, run_source, version_attribute, AnnotationStatus, DatasetMeta, EndpointConfig,
    RowRecord, RunRecord, RunStatus, Scope,
};
use fannotate_core::AttributeKind;
use leptos::prelude::*;
use std::collections::HashSet;

/// The attribute choice that runs every attribute in turn.
const ALL_ATTRIBUTES: &str = "__all_attributes__";

/// What a run needs, loaded together.
#[derive(Clone)]
struct Setup {
    dataset: Option<fannotate_core::records::DatasetMeta>,
    codebook: Option<fannotate_core::records::CodebookVersion>,
    /// Every saved version, newest first, for the prompt-version choice.
    versions: Vec<fannotate_core::records::CodebookVersion>,
    endpoint: Option<fannotate_core::records::EndpointConfig>,
    runs: Vec<RunRecord>,
}

/// Start a run of `attribute` over the rows of `scope`.
async fn start_run(
    state: AppState,
    setup: Setup,
    attribute_name: String,
    scope: Scope,
    version: Option<u32>,
) -> Result<RunStatus, AppError> {
    let storage = state.storage();
    let chosen = version.and_then(|n| setup.versions.iter().find(|v| v.version == n).cloned());
    let (Some(ds), Some(cbv)) = (setup.dataset, chosen.or(setup.codebook)) else {
        return Ok(RunStatus::Failed);
    };
    let endpoint = setup.endpoint.unwrap_or_else(|| default_endpoint(&state));
    let codebook = cbv.codebook()?;
    let Some(attribute) = codebook.attribute(&attribute_name).cloned() else {
        return Ok(RunStatus::Failed);
    };
    let rows = storage.rows(ds.id.clone(), 0, ds.row_count).await?;
    let selected = scope_rows(&storage, &ds, &attribute.name, &rows, scope).await?;
    if selected.as_ref().is_some_and(Vec::is_empty) {
        state.toast(
            ToastKind::Error,
            format!(
                "No rows in the scope \"{}\": nothing to run.",
                scope.label()
            ),
        );
        return Ok(RunStatus::Failed);
    }
    let (run, tasks) = new_run(
        &ds,
        cbv.version,
        &attribute,
        &endpoint,
        &rows,
        scope,
        selected,
    );
    launch(state, run, attribute, tasks, Counts::default()).await
}

/// The rows of `scope` for `attribute` in a dataset whose rows are `rows`
/// (`None`: every row).
pub(crate) async fn scope_rows(
    storage: &std::rc::Rc<dyn crate::services::storage::Storage>,
    ds: &DatasetMeta,
    attribute: &str,
    rows: &[RowRecord],
    scope: Scope,
) -> Result<Option<Vec<u32>>, AppError> {
    if scope == Scope::All {
        return Ok(None);
    }
    let annotations = storage.all_annotations(ds.id.clone()).await?;
    Ok(Some(scope.select(ds, attribute, rows, &annotations)))
}

/// A new run record of `attribute` (from codebook version `version`) with
/// `endpoint`, and its tasks: the `selected` rows, or every row.
pub(crate) fn new_run(
    ds: &DatasetMeta,
    version: u32,
    attribute: &fannotate_core::Attribute,
    endpoint: &EndpointConfig,
    rows: &[RowRecord],
    scope: Scope,
    selected: Option<Vec<u32>>,
) -> (RunRecord, Vec<RunTask>) {
    let task_rows = selected.as_ref().map(|s| row_ranges(s.iter().copied()));
    let wanted: Option<HashSet<u32>> = selected.map(|s| s.into_iter().collect());
    let tasks: Vec<RunTask> = rows
        .iter()
        .filter(|r| wanted.as_ref().is_none_or(|w| w.contains(&r.idx)))
        .map(|r| RunTask {
            row: r.idx,
            id: r.id.clone(),
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
        codebook_version: version,
        endpoint: stored_endpoint,
        status: RunStatus::Running,
        total: tasks.len() as u32,
        valid: 0,
        invalid: 0,
        failed: 0,
        started_at: now_ms(),
        finished_at: None,
        error: None,
        scope,
        task_rows,
        experiment: None,
    };
    (run, tasks)
}

/// Run every attribute of the chosen codebook version, one run after another;
/// a cancel or a failure stops the queue.
async fn start_all(
    state: AppState,
    setup: Setup,
    scope: Scope,
    version: Option<u32>,
) -> Result<RunStatus, AppError> {
    let cbv = version
        .and_then(|n| setup.versions.iter().find(|v| v.version == n).cloned())
        .or_else(|| setup.codebook.clone());
    let names = match cbv {
        Some(v) => v.attribute_names()?,
        None => Vec::new(),
    };
    let mut last = RunStatus::Completed;
    for name in names {
        last = start_run(state, setup.clone(), name, scope, version).await?;
        if last != RunStatus::Completed {
            break;
        }
    }
    Ok(last)
}

/// The `fannotate:run-progress` event's detail.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressEvent<'a> {
    run_id: &'a str,
    total: u32,
    done: u32,
    valid: u32,
    invalid: u32,
    failed: u32,
    in_flight: u32,
    items_per_s: f64,
    eta_s: Option<f64>,
}

impl<'a> ProgressEvent<'a> {
    fn of(run_id: &'a str, p: &RunProgress) -> Self {
        ProgressEvent {
            run_id,
            total: p.total,
            done: p.done(),
            valid: p.valid,
            invalid: p.invalid,
            failed: p.failed,
            in_flight: p.in_flight,
            items_per_s: p.rate(),
            eta_s: p.eta_secs(),
        }
    }
}

/// Which rows of an earlier run to (re)do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Continue {
    /// Rows with no stored outcome (after a cancel or a closed page).
    Resume,
    /// Rows whose request failed.
    RetryFailed,
}

/// The project's dataset if it is still `dataset_id`; otherwise says that the
/// `what` (run, experiment) must start again, and gives `None`.
pub(crate) async fn same_dataset(
    state: AppState,
    project_id: &str,
    dataset_id: &str,
    what: &str,
) -> Result<Option<DatasetMeta>, AppError> {
    let ds = state
        .storage()
        .dataset(project_id.to_string())
        .await?
        .filter(|d| d.id == dataset_id);
    if ds.is_none() {
        state.toast(
            ToastKind::Error,
            format!("The {what}'s dataset was replaced by a new import; start a new {what}."),
        );
    }
    Ok(ds)
}

/// Continue an earlier run with its own settings and codebook version; finished
/// rows are skipped, so no task is done twice.
pub(crate) async fn continue_run(
    state: AppState,
    mut run: RunRecord,
    how: Continue,
) -> Result<RunStatus, AppError> {
    let storage = state.storage();
    let Some(ds) = same_dataset(state, &run.project_id, &run.dataset_id, "run").await? else {
        return Ok(RunStatus::Failed);
    };
    let versions = storage.codebook_versions(run.project_id.clone()).await?;
    let Some(attribute) = version_attribute(&versions, run.codebook_version, &run.attribute) else {
        state.toast(
            ToastKind::Error,
            "The run's codebook version is gone; start a new run.",
        );
        return Ok(RunStatus::Failed);
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
        run.has_row(row)
            && matches!(
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
            id: r.id.clone(),
            text: r.cell(ds.text_col).to_string(),
        })
        .collect();
    let base = Counts::of(
        stored
            .iter()
            .filter(|a| a.attribute == run.attribute && run.has_row(a.row) && !redo(a.row)),
    );
    run.status = RunStatus::Running;
    run.finished_at = None;
    run.error = None;
    launch(state, run, attribute, tasks, base).await
}

/// The API key for a run's requests: one typed in this tab for its base URL (an
/// experiment's other endpoint), else, when it calls the project's endpoint,
/// the project's key (typed, or stored by choice). A key never goes to a server
/// it was not given for.
async fn run_key(state: AppState, run: &RunRecord) -> Result<String, AppError> {
    let url = run.endpoint.base_url.trim();
    if let Some(k) = state.endpoint_keys.with_untracked(|m| m.get(url).cloned()) {
        return Ok(k);
    }
    let project = state.storage().endpoint(run.project_id.clone()).await?;
    // No saved endpoint: runs use the default one, with the typed key.
    if project.as_ref().is_some_and(|e| e.base_url.trim() != url) {
        return Ok(String::new());
    }
    let typed = state.session_key.get_untracked();
    Ok(if typed.is_empty() {
        project.and_then(|e| e.api_key).unwrap_or_default()
    } else {
        typed
    })
}

/// Run tasks with progress, cancel and a closing message.
pub(crate) async fn launch(
    state: AppState,
    run: RunRecord,
    attribute: fannotate_core::Attribute,
    tasks: Vec<RunTask>,
    base: Counts,
) -> Result<RunStatus, AppError> {
    // Everything that can fail before the first request comes first; the guard
    // then clears the active run on every way out (issue #14: an early `?` left
    // the page showing a run in progress until a reload).
    let key = run_key(state, &run).await?;
    let control = RunControl::new()?;
    let active = ClearOnDrop::set(
        state.active_run,
        ActiveRun {
            run_id: run.id.clone(),
            experiment: run.experiment.clone(),
            control: control.clone(),
        },
    );
    state
        .progress_run
        .update(|p| *p = Some((p.as_ref().map_or(1, |(n, _)| n + 1), run.id.clone())));
    state.touch();
    let run_id = run.id.clone();
    let result = execute(
        state.storage(),
        run,
        attribute,
        key,
        tasks,
        base,
        control,
        move |ev| match ev {
            RunEvent::Progress(p) => {
                state.progress.set(Some(p));
                state.emit("run-progress", &ProgressEvent::of(&run_id, &p));
            }
            RunEvent::Annotation(a, id) => state.emit(
                "annotation",
                &serde_json::json!({
                    "runId": run_id, "row": a.row, "id": id, "attribute": a.attribute,
                    "source": a.source, "value": a.value,
                    // The export's words (valid, invalid, error), not the enum's (issue #22).
                    "status": crate::services::export::status_word(a.status),
                    "confidence": a.confidence,
                }),
            ),
        },
    )
    .await;
    drop(active);
    state.touch();
    let run = result?;
    state.emit(
        "run-finished",
        &serde_json::json!({
            "runId": run.id, "attribute": run.attribute, "status": run.status.label(),
            "total": run.total, "valid": run.valid, "invalid": run.invalid, "failed": run.failed,
            "error": run.error,
        }),
    );
    match run.status {
        // An experiment reports once, when all its configurations are done.
        RunStatus::Completed | RunStatus::Cancelled if run.experiment.is_some() => {}
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
    Ok(run.status)
}

/// Spawn a run-changing task, reporting its error.
pub(crate) fn spawn_run<T: 'static>(
    state: AppState,
    fut: impl std::future::Future<Output = Result<T, AppError>> + 'static,
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
                versions: {
                    let mut v = storage.codebook_versions(pid.clone()).await?;
                    v.sort_by_key(|v| std::cmp::Reverse(v.version));
                    v
                },
                endpoint: storage.endpoint(pid.clone()).await?,
                runs: storage.runs(pid).await?,
            })
        }
    });
    let attribute_choice = RwSignal::new(None::<String>);
    let scope = RwSignal::new(Scope::All);
    let version_choice = RwSignal::new(None::<u32>);
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
                    // The attributes of the chosen prompt version (the latest by default).
                    let versions = StoredValue::new(s.versions.clone());
                    let names = Memo::new(move |_| {
                        let want = version_choice.get();
                        versions.with_value(|vs| {
                            vs.iter()
                                .find(|v| want.is_none_or(|n| v.version == n))
                                .and_then(|v| v.codebook().ok())
                                .map(|cb| cb.attributes.into_iter().map(|a| a.name).collect::<Vec<_>>())
                                .unwrap_or_default()
                        })
                    });
                    let chosen = move || {
                        let names = names.get();
                        attribute_choice
                            .get()
                            .filter(|a| a == ALL_ATTRIBUTES || names.contains(a))
                            .unwrap_or_else(|| names.first().cloned().unwrap_or_default())
                    };
                    let runs = s.runs.clone();
                    let s_start = s.clone();
                    view! {
                        <div class="fa-card">
                            {missing.map(|m| view! { <p class="fa-empty" data-testid="run-missing">{m}</p> })}
                            <div class="fa-row">
                                <label class="fa-field">
                                    <span>"Attribute"</span>
                                    <select aria-label="Attribute" data-testid="run-attribute" on:change:target=move |ev| attribute_choice.set(Some(ev.target().value()))>
                                        {move || names.get().into_iter().map(|a| { let a2 = a.clone(); view! {
                                            <option value=a.clone() selected=move || chosen() == a2>{a.clone()}</option>
                                        }}).collect_view()}
                                        {move || (names.with(Vec::len) > 1).then(|| view! {
                                            <option value=ALL_ATTRIBUTES selected=move || chosen() == ALL_ATTRIBUTES>"All attributes (one run each)"</option>
                                        })}
                                    </select>
                                </label>
                                <label class="fa-field">
                                    <span>"Prompt version"</span>
                                    <select aria-label="Prompt version" data-testid="run-version" on:change:target=move |ev| version_choice.set(ev.target().value().parse().ok())>
                                        {s.versions.iter().enumerate().map(|(i, v)| { let n = v.version; view! {
                                            <option value=n.to_string() selected=move || version_choice.get().map_or(i == 0, |c| c == n)>
                                                {format!("v{n}{}", if i == 0 { " (latest)" } else { "" })}
                                            </option>
                                        }}).collect_view()}
                                    </select>
                                </label>
                                <label class="fa-field">
                                    <span>"Rows"</span>
                                    <select aria-label="Rows" data-testid="run-scope" on:change:target=move |ev| if let Some(x) = Scope::parse(&ev.target().value()) { scope.set(x) }>
                                        {Scope::ALL.into_iter().map(|x| view! {
                                            <option value=x.as_str() selected=move || scope.get() == x>{x.label()}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <p class="fa-muted">{format!("{rows} rows in the dataset · {endpoint_note}")}</p>
                            </div>
                            {concurrency_note.map(|n| view! { <p class="fa-muted" data-testid="concurrency-note">{n}</p> })}
                            <div class="fa-row">
                                <button class="fa-btn fa-btn--primary" data-testid="start-run"
                                    disabled=move || missing.is_some() || running()
                                    on:click=move |_| {
                                        let (s, attr) = (s_start.clone(), chosen());
                                        let (sc, v) = (scope.get_untracked(), version_choice.get_untracked());
                                        if attr == ALL_ATTRIBUTES {
                                            spawn_run(state, start_all(state, s, sc, v));
                                        } else {
                                            spawn_run(state, start_run(state, s, attr, sc, v));
                                        }
                                    }>"Start run"</button>
                                <RunControls enabled=Signal::derive(running) cancel_label="Cancel" />
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

/// "Run interrupted: Resume", shown on every step of a project whose run was
/// left running by a page that closed (issue #14: after a reload nothing said
/// so, and the run waited in the run list for someone to find it).
#[component]
pub fn InterruptedRun() -> impl IntoView {
    let state = expect_context::<AppState>();
    let runs = LocalResource::new(move || {
        state.revision.track();
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.runs(pid).await.map_err(AppError::from) }
    });
    // Offered only while this page runs nothing: a resume would wait for it.
    let interrupted = move || {
        if state.active_run.with(Option::is_some) {
            return None;
        }
        runs.get()?
            .ok()?
            .into_iter()
            .find(|r| r.shown_status(None) == RunStatus::Interrupted)
    };
    view! {
        {move || interrupted().map(|run| {
            let done = run.valid + run.invalid + run.failed;
            let what = format!(
                "Run interrupted: {} · {} · {done} of {} done, when the page closed.",
                run.attribute,
                run.configuration(),
                run.total
            );
            let action = if run.experiment.is_some() {
                view! {
                    <button class="fa-btn fa-btn--primary" data-testid="interrupted-open"
                        on:click=move |_| state.step.set(crate::state::Step::Experiments)>"Continue in Experiments"</button>
                }.into_any()
            } else {
                view! {
                    <button class="fa-btn fa-btn--primary" data-testid="interrupted-resume"
                        on:click=move |_| spawn_run(state, continue_run(state, run.clone(), Continue::Resume))>"Resume"</button>
                }.into_any()
            };
            view! {
                <div class="fa-card fa-banner" role="status" data-testid="interrupted-run">
                    <p>{what}</p>
                    {action}
                </div>
            }
        })}
    }
}

/// Pause/Continue and Cancel of the run in progress.
#[component]
pub(crate) fn RunControls(
    /// Whether the buttons act (a run of this screen is going).
    enabled: Signal<bool>,
    /// Text of the cancel button.
    cancel_label: &'static str,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <button class="fa-btn" data-testid="pause-run" disabled=move || !enabled.get()
            on:click=move |_| state.active_run.with_untracked(|r| if let Some(r) = r {
                let paused = !r.control.is_paused();
                r.control.set_paused(paused);
                state.progress.update(|p| if let Some(p) = p { p.paused = paused });
            })>
            {move || if state.progress.with(|p| p.is_some_and(|p| p.paused)) { "Continue" } else { "Pause" }}
        </button>
        <button class="fa-btn fa-btn--danger" data-testid="cancel-run" disabled=move || !enabled.get()
            on:click=move |_| state.active_run.with_untracked(|r| if let Some(r) = r { r.control.cancel() })>{cancel_label}</button>
    }
}

/// Live figures of the current (or last) run.
#[component]
pub(crate) fn RunProgressPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The panel is built once per run and its figures update in place: rebuilding
    // it four times a second cost more than the requests at high rates.
    let p = move || state.progress.get().unwrap_or_default();
    view! {
        <Show when=move || state.progress.with(Option::is_some)>
            <div class="fa-progress-panel" data-testid="run-progress"
                data-run-id=move || state.progress_run.get().map(|(_, id)| id).unwrap_or_default()
                data-run-seq=move || state.launches()
                data-state=move || {
                    let shown = state.progress_run.get().map(|(_, id)| id);
                    let live = state.active_run.with(|r| r.as_ref().is_some_and(|r| Some(&r.run_id) == shown.as_ref()));
                    if live { "running" } else { "finished" }
                }>
                <ProgressBar done=Signal::derive(move || p().done()) total=Signal::derive(move || p().total) label="Run progress" />
                <dl class="fa-stats">
                    <div><dt>"Done"</dt><dd data-testid="run-done">{move || format!("{} / {}", p().done(), p().total)}</dd></div>
                    <div><dt>"Labelled"</dt><dd>{move || p().valid}</dd></div>
                    <div><dt>"Invalid"</dt><dd>{move || p().invalid}</dd></div>
                    <div><dt>"Failed"</dt><dd>{move || p().failed}</dd></div>
                    <div><dt>"In flight"</dt><dd data-testid="run-in-flight">{move || p().in_flight}</dd></div>
                    <div><dt>"Most in flight"</dt><dd data-testid="run-max-in-flight">{move || p().max_in_flight}</dd></div>
                    <div><dt>"Items/s"</dt><dd data-testid="run-rate" data-rate=move || p().rate().to_string()>{move || format!("{:.1}", p().rate())}</dd></div>
                    <div><dt>"ETA"</dt><dd>{move || p().eta_secs().map_or("–".to_string(), |s| format!("{s:.0} s"))}</dd></div>
                    <div><dt>"Tokens in / out"</dt><dd data-testid="run-tokens">{move || {
                        let p = p();
                        if p.tokens_estimated {
                            format!("≈ {} / {} (estimated: the server reports no usage)", p.tokens_in, p.tokens_out)
                        } else {
                            format!("{} / {}", p.tokens_in, p.tokens_out)
                        }
                    }}</dd></div>
                    <Show when=move || p().cost.is_some()>
                        <div><dt>"Cost so far"</dt><dd data-testid="run-cost">{move || format!("{:.4}", p().cost.unwrap_or_default())}</dd></div>
                    </Show>
                    <Show when=move || { p().replicas > 1 }>
                        <div><dt>"Replicas in rotation"</dt><dd data-testid="run-replicas">{move || { let p = p(); format!("{} of {}", p.replicas - p.replicas_out, p.replicas) }}</dd></div>
                    </Show>
                </dl>
                <Show when=move || { p().queued > 0 }>
                    <p class="fa-muted" data-testid="run-queued">{move || format!("{} more sent, waiting in the browser for a free connection.", p().queued)}</p>
                </Show>
                <Show when=move || p().paused>
                    <p class="fa-muted" data-testid="run-paused" role="status"
                        data-in-flight=move || p().in_flight + p().queued data-held=move || p().held>
                        {move || {
                            let p = p();
                            format!("Paused: {} requests in flight finish, {} are held back and no new ones start. Results so far are saved.", p.in_flight + p.queued, p.held)
                        }}
                    </p>
                </Show>
            </div>
        </Show>
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
    let failed_of = RwSignal::new(None::<RunRecord>);
    view! {
        <table class="fa-table" data-testid="run-list">
            <thead><tr><th scope="col">"Started"</th><th scope="col">"Attribute"</th><th scope="col">"Rows"</th><th scope="col">"Configuration"</th><th scope="col">"Status"</th><th scope="col">"Labelled"</th><th scope="col">"Invalid"</th><th scope="col">"Failed"</th><th scope="col"><span class="fa-visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let id = r.id.clone();
                    let this_page = Memo::new(move |_| active().as_deref() == Some(id.as_str()));
                    let running = move || state.active_run.with(Option::is_some);
                    let (finished, total, failed) = (r.valid + r.invalid + r.failed, r.total, r.failed);
                    let stored = r.clone();
                    let shown = Memo::new(move |_| stored.shown_status(active().as_deref()));
                    let can_resume = move || match shown.get() {
                        RunStatus::Interrupted | RunStatus::Cancelled => true,
                        RunStatus::Failed => finished < total,
                        _ => false,
                    };
                    let (resume_run, retry_run, list_run) = (r.clone(), r.clone(), r.clone());
                    view! {
                        <tr data-testid="run-row">
                            <td>{format_date(r.started_at)}</td>
                            <td>{r.attribute.clone()}</td>
                            <td>{format!("{} · {}{}", r.scope.label(), r.total, if r.experiment.is_some() { " · experiment" } else { "" })}</td>
                            <td data-testid="run-configuration">{r.configuration()}</td>
                            <td data-testid="run-status">{move || shown.get().label()}</td>
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
                                    <button class="fa-btn" data-testid="show-failed"
                                        on:click={
                                            let r = list_run.clone();
                                            move |_| failed_of.set(Some(r.clone()))
                                        }>"Show failed"</button>
                                </Show>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || failed_of.get().map(|run| view! { <FailedRows run /> })}
    }.into_any()
}

/// Rows of a run whose request failed, with the reason.
#[component]
fn FailedRows(
    /// The run.
    run: RunRecord,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (dataset_id, source, attribute) = (
        run.dataset_id.clone(),
        run_source(&run.id),
        run.attribute.clone(),
    );
    let failed = LocalResource::new(move || {
        let storage = state.storage();
        let (d, s, attr) = (dataset_id.clone(), source.clone(), attribute.clone());
        async move {
            let all = storage.annotations(d.clone(), s).await?;
            let failed: Vec<_> = all
                .into_iter()
                .filter(|a| a.attribute == attr && a.status == AnnotationStatus::Error)
                .collect();
            // Show the row ids users know, not positions.
            let mut out = Vec::with_capacity(failed.len());
            for a in failed.into_iter().take(FAILED_SHOWN) {
                let id = storage
                    .rows(d.clone(), a.row, 1)
                    .await?
                    .pop()
                    .map(|r| r.id)
                    .unwrap_or_default();
                out.push((id, a.reason.unwrap_or_default()));
            }
            Ok::<_, AppError>(out)
        }
    });
    view! {
        <section class="fa-card" data-testid="failed-rows" aria-label="Failed rows">
            <h3>{format!("Failed rows of the run started {}", format_date(run.started_at))}</h3>
            {move || match failed.get() {
                None => view! { <p class="fa-muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="fa-empty">"No failed rows: they were retried successfully."</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <table class="fa-table fa-table--compact">
                        <thead><tr><th scope="col">"Row id"</th><th scope="col">"Reason"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(id, reason)| view! { <tr data-testid="failed-row"><td>{id}</td><td>{reason}</td></tr> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// At most this many failed rows are listed (the rest are retried all the same).
const FAILED_SHOWN: usize = 200;
