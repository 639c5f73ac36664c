//! Combine several runs' labels into a run of its own (majority vote or
//! Dawid–Skene, in the compute worker), stored with its provenance so it is
//! usable wherever a run is: Results, Review, export and Distil.

use crate::data::codebook::run_attribute;
use crate::error::{AppError, Missing};
use crate::services::browser::{now_ms, random_id};
use crate::services::worker::WorkerError;
use crate::state::{AppState, ToastKind, Topic};
use fannotate_core::aggregate::{aggregate_rows, AggregateMethod};
use fannotate_core::records::{
    row_ranges, run_source, AggregateOf, Annotation, AnnotationStatus, RunRecord, RunStatus,
};
use leptos::prelude::*;

/// Annotations written per transaction.
const BATCH: usize = 5_000;

/// [`aggregate_runs`] as an action that says how it went; `on_made` hears the
/// new run's id once it is stored.
pub fn combine_action(
    state: AppState,
    on_made: Callback<String>,
) -> Action<(Vec<String>, AggregateMethod), ()> {
    Action::new_local(move |(ids, method): &(Vec<String>, AggregateMethod)| {
        let (ids, method) = (ids.clone(), *method);
        async move {
            match aggregate_runs(state, ids, method).await {
                Ok(run) => {
                    let n = run.aggregate.as_ref().map_or(0, |a| a.runs.len());
                    state.toast(
                        ToastKind::Success,
                        format!(
                            "Combined {n} runs by {} into a new run of {} rows.",
                            method.label(),
                            run.total
                        ),
                    );
                    on_made.run(run.id);
                }
                Err(e) => state.toast(ToastKind::Error, e.user_message()),
            }
        }
    })
}

/// Combine the runs `ids` (of one attribute on the current dataset) by `method`
/// into a new run; returns it once its labels are stored.
pub async fn aggregate_runs(
    state: AppState,
    ids: Vec<String>,
    method: AggregateMethod,
) -> Result<RunRecord, AppError> {
    let storage = state.storage();
    let pid = state.project_id().unwrap_or_default();
    let meta = storage
        .dataset(pid.clone())
        .await?
        .ok_or(Missing::Dataset)?;
    let runs: Vec<RunRecord> = storage
        .runs(pid)
        .await?
        .into_iter()
        .filter(|r| ids.contains(&r.id))
        .collect();
    let Some(first) = runs.first().cloned() else {
        return Err(Missing::Runs.into());
    };
    if runs.len() < 2
        || runs
            .iter()
            .any(|r| r.attribute != first.attribute || r.free_text)
    {
        return Err(Missing::Runs.into());
    }
    let attribute = run_attribute(&*storage, &first)
        .await?
        .ok_or_else(|| Missing::Attribute(first.attribute.clone()))?;
    let classes: Vec<String> = attribute
        .category_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let n = meta.row_count as usize;
    let mut per_run = Vec::with_capacity(runs.len());
    for run in &runs {
        let mut labels = vec![None; n];
        for a in storage
            .annotations(meta.id.clone(), run_source(&run.id))
            .await?
        {
            if a.attribute == first.attribute && a.status == AnnotationStatus::Valid {
                let code = a
                    .value
                    .as_deref()
                    .and_then(|v| classes.iter().position(|c| c == v));
                if let (Some(slot), Some(code)) = (labels.get_mut(a.row as usize), code) {
                    *slot = Some(code as u32);
                }
            }
        }
        per_run.push(labels);
    }
    let rows = match state.worker().aggregate(&per_run, method).await {
        Ok(rows) => rows,
        // No worker here: the same function on the page.
        Err(WorkerError::Unavailable(_)) => aggregate_rows(&per_run, method)
            .map_err(|e| AppError::Compute(WorkerError::Job(e.to_string())))?,
        Err(e) => return Err(e.into()),
    };
    let now = now_ms();
    let labelled: Vec<u32> = (0..n as u32)
        .filter(|&i| rows[i as usize].is_some())
        .collect();
    let mut run = RunRecord {
        id: random_id(),
        status: RunStatus::Running,
        total: labelled.len() as u32,
        valid: labelled.len() as u32,
        invalid: 0,
        failed: 0,
        started_at: now,
        finished_at: None,
        error: None,
        task_rows: Some(row_ranges(labelled.iter().copied())),
        experiment: None,
        aggregate: Some(AggregateOf {
            method,
            runs: runs.iter().map(|r| r.id.clone()).collect(),
        }),
        batch: None,
        ..first
    };
    storage.put_run(run.clone()).await?;
    let source = run_source(&run.id);
    let annotations: Vec<Annotation> = labelled
        .iter()
        .filter_map(|&row| {
            let (code, p) = rows[row as usize]?;
            let label = classes.get(code as usize)?.clone();
            let mut a = Annotation::pending(&meta.id, row, &run.attribute, &source, now);
            a.status = AnnotationStatus::Valid;
            a.raw = label.clone();
            a.value = Some(label);
            a.confidence = Some(p);
            Some(a)
        })
        .collect();
    for batch in annotations.chunks(BATCH) {
        storage.put_annotations(batch.to_vec(), None).await?;
    }
    run.status = RunStatus::Completed;
    run.finished_at = Some(now_ms());
    storage.put_run(run.clone()).await?;
    state.touch(&[Topic::Runs, Topic::Annotations]);
    Ok(run)
}
