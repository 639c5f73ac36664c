//! The run workflow: start a run of one attribute or all, resume or retry an
//! earlier one, and launch its requests with progress, cancel and host events.

use crate::data::rows::Rows;
use crate::error::{AppError, Missing};
use crate::services::browser::{now_ms, random_id};
use crate::services::runner::{
    execute, Counts, RunControl, RunDeps, RunEvent, RunProgress, RunTask,
};
use crate::services::storage::Storage;
use crate::state::Topic;
use crate::state::{ActiveRun, AppState, ClearOnDrop, ToastKind};
use fannotate_core::records::{
    row_ranges, run_source, version_attribute, AnnotationStatus, CodebookVersion, DatasetMeta,
    EndpointConfig, RowRecord, RunRecord, RunStatus, Scope,
};
use fannotate_core::AttributeKind;
use leptos::prelude::*;
use std::collections::HashSet;
use std::rc::Rc;

/// What a run needs, loaded together.
#[derive(Clone)]
pub struct RunSetup {
    /// The project's dataset.
    pub dataset: Option<DatasetMeta>,
    /// The latest codebook version.
    pub codebook: Option<CodebookVersion>,
    /// Every saved version, newest first, for the prompt-version choice.
    pub versions: Vec<CodebookVersion>,
    /// The saved endpoint, if any (else the default one).
    pub endpoint: Option<EndpointConfig>,
    /// The project's runs.
    pub runs: Vec<RunRecord>,
}

impl RunSetup {
    /// Read what project `pid`'s runs need.
    pub async fn load(storage: Rc<dyn Storage>, pid: String) -> Result<Self, AppError> {
        Ok(RunSetup {
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
}

/// What the user asked a run to do.
#[derive(Clone)]
pub enum RunJob {
    /// Run one attribute over a scope, with a prompt version (the latest by default).
    Start {
        /// What the run step loaded.
        setup: RunSetup,
        /// The attribute.
        attribute: String,
        /// Which rows.
        scope: Scope,
        /// The codebook version.
        version: Option<u32>,
    },
    /// Run every attribute of a version, one after another.
    StartAll {
        /// What the run step loaded.
        setup: RunSetup,
        /// Which rows.
        scope: Scope,
        /// The codebook version.
        version: Option<u32>,
    },
    /// Resume or retry an earlier run.
    Continue(RunRecord, Continue),
}

/// The run workflow as one action: while a job is pending its buttons are
/// disabled, so a double click never starts two runs (issue #15), and its
/// error is shown.
pub fn run_action(state: AppState) -> Action<RunJob, ()> {
    Action::new_local(move |job: &RunJob| {
        let job = job.clone();
        async move {
            let done = match job {
                RunJob::Start {
                    setup,
                    attribute,
                    scope,
                    version,
                } => start_run(state, setup, attribute, scope, version).await,
                RunJob::StartAll {
                    setup,
                    scope,
                    version,
                } => start_all(state, setup, scope, version).await,
                RunJob::Continue(run, how) => continue_run(state, run, how).await,
            };
            if let Err(e) = done {
                state.error(&e);
            }
        }
    })
}

/// Start a run of `attribute` over the rows of `scope`.
pub async fn start_run(
    state: AppState,
    setup: RunSetup,
    attribute_name: String,
    scope: Scope,
    version: Option<u32>,
) -> Result<RunStatus, AppError> {
    let Some(new) = prepare_run(state, setup, attribute_name, scope, version).await? else {
        return Ok(RunStatus::Failed);
    };
    let tasks = new.tasks();
    launch(state, new.run, new.attribute, tasks, Counts::default()).await
}

/// A new run's record, its attribute and its dataset's rows.
pub struct NewRun {
    /// The run, not stored yet.
    pub run: RunRecord,
    /// The attribute it annotates.
    pub attribute: fannotate_core::Attribute,
    /// The dataset.
    pub ds: DatasetMeta,
    /// The dataset's rows (the page's cache, not a copy).
    pub rows: Rows,
}

impl NewRun {
    /// The run's rows as (position, text), in row order, borrowed.
    pub fn texts(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.rows
            .iter()
            .filter(|r| self.run.has_row(r.idx))
            .map(|r| (r.idx, r.cell(self.ds.text_col)))
    }

    /// The run's tasks (copies of its rows' texts, for the live runner).
    pub fn tasks(&self) -> Vec<RunTask> {
        run_tasks(&self.ds, &self.rows, |row| self.run.has_row(row))
    }
}

/// A new run of `attribute_name` over the rows of `scope`, with the prompt
/// `version` (the latest by default); `None`, said in a toast, when the scope
/// holds no row. Shared by a live run and a batch file.
pub async fn prepare_run(
    state: AppState,
    setup: RunSetup,
    attribute_name: String,
    scope: Scope,
    version: Option<u32>,
) -> Result<Option<NewRun>, AppError> {
    let storage = state.storage();
    let chosen = version.and_then(|n| setup.versions.iter().find(|v| v.version == n).cloned());
    // Issue #15: these returned silently; the button is disabled without them,
    // but a host call or a stale view can still get here.
    let ds = setup.dataset.ok_or(Missing::Dataset)?;
    let cbv = chosen.or(setup.codebook).ok_or(Missing::Codebook)?;
    let endpoint = setup.endpoint.unwrap_or_else(|| state.default_endpoint());
    let codebook = cbv.codebook()?;
    let attribute = codebook
        .attribute(&attribute_name)
        .cloned()
        .ok_or(Missing::Attribute(attribute_name))?;
    let rows = state.rows(&ds).await?;
    let selected = scope_rows(&storage, &ds, &attribute.name, &rows, scope).await?;
    if selected.as_ref().is_some_and(Vec::is_empty) {
        state.toast(
            ToastKind::Error,
            format!(
                "No rows in the scope \"{}\": nothing to run.",
                scope.label()
            ),
        );
        return Ok(None);
    }
    let total = selected.as_ref().map_or(rows.len(), Vec::len) as u32;
    let run = new_run_record(
        &ds,
        cbv.version,
        &attribute,
        &endpoint,
        scope,
        selected.as_deref(),
        total,
    );
    Ok(Some(NewRun {
        run,
        attribute,
        ds,
        rows,
    }))
}

/// The rows of `scope` for `attribute` in a dataset whose rows are `rows`
/// (`None`: every row).
pub async fn scope_rows(
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
pub fn new_run(
    ds: &DatasetMeta,
    version: u32,
    attribute: &fannotate_core::Attribute,
    endpoint: &EndpointConfig,
    rows: &[RowRecord],
    scope: Scope,
    selected: Option<Vec<u32>>,
) -> (RunRecord, Vec<RunTask>) {
    let wanted: Option<HashSet<u32>> = selected.as_ref().map(|s| s.iter().copied().collect());
    let tasks = run_tasks(ds, rows, |row| {
        wanted.as_ref().is_none_or(|w| w.contains(&row))
    });
    let total = tasks.len() as u32;
    let run = new_run_record(
        ds,
        version,
        attribute,
        endpoint,
        scope,
        selected.as_deref(),
        total,
    );
    (run, tasks)
}

/// A new run record of `attribute` as [`new_run`] makes it, without its
/// tasks: `total` of them, the `selected` rows (`None`: every row).
fn new_run_record(
    ds: &DatasetMeta,
    version: u32,
    attribute: &fannotate_core::Attribute,
    endpoint: &EndpointConfig,
    scope: Scope,
    selected: Option<&[u32]>,
    total: u32,
) -> RunRecord {
    let task_rows = selected.map(|s| row_ranges(s.iter().copied()));
    let mut stored_endpoint = endpoint.clone();
    stored_endpoint.api_key = None;
    RunRecord {
        id: random_id(),
        project_id: ds.project_id.clone(),
        dataset_id: ds.id.clone(),
        attribute: attribute.name.clone(),
        free_text: attribute.kind != AttributeKind::Categorical,
        codebook_version: version,
        endpoint: stored_endpoint,
        status: RunStatus::Running,
        total,
        valid: 0,
        invalid: 0,
        failed: 0,
        started_at: now_ms(),
        finished_at: None,
        error: None,
        scope,
        task_rows,
        experiment: None,
        aggregate: None,
        batch: None,
    }
}

/// The tasks of the rows of `rows` that `keep` lets through, in row order.
pub fn run_tasks(ds: &DatasetMeta, rows: &[RowRecord], keep: impl Fn(u32) -> bool) -> Vec<RunTask> {
    rows.iter()
        .filter(|r| keep(r.idx))
        .map(|r| RunTask {
            row: r.idx,
            id: r.id.clone(),
            text: r.cell(ds.text_col).to_string(),
        })
        .collect()
}

/// Run every attribute of the chosen codebook version, one run after another;
/// a cancel or a failure stops the queue.
pub async fn start_all(
    state: AppState,
    setup: RunSetup,
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
pub enum Continue {
    /// Rows with no stored outcome (after a cancel or a closed page).
    Resume,
    /// Rows whose request failed.
    RetryFailed,
}

/// The project's dataset if it is still `dataset_id`; otherwise says that the
/// `what` (run, experiment) must start again, and gives `None`.
pub async fn same_dataset(
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
pub async fn continue_run(
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
    let rows = state.rows(&ds).await?;
    let tasks = run_tasks(&ds, &rows, redo);
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
pub(crate) async fn run_key(state: AppState, run: &RunRecord) -> Result<String, AppError> {
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
pub async fn launch(
    state: AppState,
    run: RunRecord,
    attribute: fannotate_core::Attribute,
    tasks: Vec<RunTask>,
    base: Counts,
) -> Result<RunStatus, AppError> {
    // Everything that can fail before the first request comes first; the guard
    // then clears the active run on every way out (issue #14: an early `?` left
    // the page showing a run in progress until a reload).
    if state.active_run.with_untracked(Option::is_some) {
        return Err(AppError::RunInProgress);
    }
    let control = RunControl::new()?;
    // Set before the first await, so nothing can start a second run meanwhile.
    let active = ClearOnDrop::set(
        state.active_run,
        ActiveRun {
            run_id: run.id.clone(),
            experiment: run.experiment.clone(),
            control: control.clone(),
        },
    );
    let key = run_key(state, &run).await?;
    state
        .progress_run
        .update(|p| *p = Some((p.as_ref().map_or(1, |(n, _)| n + 1), run.id.clone())));
    state.touch(&[Topic::Runs]);
    let run_id = run.id.clone();
    let result = execute(
        RunDeps::browser(state.storage()),
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
    state.touch(&[Topic::Runs, Topic::Annotations]);
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
