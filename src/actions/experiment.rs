//! The experiment workflow: measure every configuration of a grid on the
//! validation set, one after another, and annotate everything with the one chosen.

use crate::actions::run::{continue_run, launch, new_run, same_dataset, Continue};
use crate::error::AppError;
use crate::services::runner::Counts;
use crate::state::Topic;
use crate::state::{AppState, Step, ToastKind};
use fannotate_core::experiment::CellSpec;
use fannotate_core::records::{version_attribute, Experiment, RunRecord, RunStatus, Scope};
use leptos::prelude::*;

/// Run every configuration of an experiment that is not finished, one after
/// another (each at the endpoint's full concurrency, so throughput figures are
/// comparable). A cell interrupted earlier resumes; a cancel stops the queue.
pub async fn run_experiment(state: AppState, experiment_id: String) -> Result<RunStatus, AppError> {
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
    let endpoint = state.project_endpoint(pid.clone()).await?;
    let selected: Vec<u32> = x.task_rows.iter().flat_map(|r| r[0]..r[1]).collect();
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
                let rows = state.rows(&ds).await?;
                let cfg = current.cell_endpoint(&endpoint, &spec);
                let (mut run, tasks) = new_run(
                    &ds,
                    spec.version,
                    &attribute,
                    &cfg,
                    &rows,
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
        state.touch(&[Topic::Experiments, Topic::Runs]);
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
pub async fn annotate_everything(
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
    let endpoint = state.project_endpoint(pid).await?;
    let cfg = x.cell_endpoint(&endpoint, &spec);
    let rows = state.rows(&ds).await?;
    let (run, tasks) = new_run(&ds, spec.version, &attribute, &cfg, &rows, Scope::All, None);
    // Watch it where runs are watched.
    state.step.set(Step::Run);
    launch(state, run, attribute, tasks, Counts::default()).await
}

/// Whether every cell of `x` has a completed run among `runs`.
pub fn is_complete(x: &Experiment, runs: &[RunRecord]) -> bool {
    x.cells.iter().all(|c| {
        c.run_id.as_ref().is_some_and(|id| {
            runs.iter()
                .any(|r| &r.id == id && r.status == RunStatus::Completed)
        })
    })
}

/// What the user asked of an experiment.
#[derive(Clone)]
pub enum ExperimentJob {
    /// Save a new experiment and measure its configurations.
    Create(Experiment),
    /// Measure the configurations not finished yet.
    Run(String),
    /// Save a change (a pin, a note) to an experiment.
    Save(Experiment),
    /// Delete an experiment; its runs stay.
    Delete(String),
    /// Annotate every row with one configuration.
    AnnotateEverything(Experiment, CellSpec),
}

/// The experiment workflow as one action: pending while a job runs (its
/// buttons are disabled then), its error shown.
pub fn experiment_action(state: AppState) -> Action<ExperimentJob, ()> {
    Action::new_local(move |job: &ExperimentJob| {
        let job = job.clone();
        async move {
            let done = run(state, job).await;
            state.touch(&[Topic::Experiments, Topic::Runs]);
            if let Err(e) = done {
                state.error(&e);
            }
        }
    })
}

/// Do `job`.
async fn run(state: AppState, job: ExperimentJob) -> Result<(), AppError> {
    let storage = state.storage();
    match job {
        ExperimentJob::Create(x) => {
            let id = x.id.clone();
            storage.put_experiment(x).await?;
            // The new experiment is listed while its configurations run.
            state.touch(&[Topic::Experiments, Topic::Runs]);
            run_experiment(state, id).await?;
        }
        ExperimentJob::Run(id) => {
            run_experiment(state, id).await?;
        }
        ExperimentJob::Save(x) => storage.put_experiment(x).await?,
        ExperimentJob::Delete(id) => {
            storage.delete_experiment(id).await?;
            state.toast(
                ToastKind::Success,
                "Experiment deleted; its runs stay in the Run step.",
            );
        }
        ExperimentJob::AnnotateEverything(x, spec) => {
            annotate_everything(state, x, spec).await?;
        }
    }
    Ok(())
}
