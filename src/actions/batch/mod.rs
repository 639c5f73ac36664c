//! The batch workflow (issue #18): hand a run to a batch engine as request
//! files, and merge the engine's output files back into the run that waits
//! for them, with a report of every line that gave nothing.
//!
//! `export` writes request files (and hands them to a batch API); `import`
//! reads output files into the run; `submit` asks a batch API where its
//! batches are and imports those that ended.

mod export;
mod import;
mod submit;

pub use import::{FileReport, ImportReport, PROBLEMS_SHOWN};

use export::{again, everything, export};
use import::import;
use submit::poll;

use crate::actions::run::{prepare_run, run_key, same_dataset, RunSetup};
use crate::data::rows::Rows;
use crate::error::AppError;
use crate::services::browser::{now_ms, sleep, TimeSlice};
use crate::services::files::{offer_blob, text_blob, BlobFile, FileSlices};
use crate::services::llm::BatchApi;
use crate::state::{AppState, Step, ToastKind, Topic};
use fannotate_core::batch::{
    BatchRequests, Merger, OutputReader, Problem, RemoteState, SplitLimits, Splitter,
};
use fannotate_core::chat::RowRequest;
use fannotate_core::experiment::CellSpec;
use fannotate_core::records::{
    run_source, version_attribute, Annotation, BatchEngine, BatchImport, BatchPart, BatchRun,
    Experiment, RemoteBatch, RunRecord, RunStatus, Scope,
};
use fannotate_core::Attribute;
use leptos::prelude::*;
use std::collections::HashSet;

/// Main-thread time a slice of batch work may take (milliseconds).
const SLICE_MS: f64 = 40.0;

/// What the user asked of the batch workflow.
#[derive(Clone)]
pub enum BatchJob {
    /// A new run, written as request files and left waiting for their answers.
    Export(NewBatch),
    /// Every row, with a leaderboard configuration, written as request files.
    Everything(Experiment, CellSpec),
    /// The request files of a waiting run, made again.
    Again(RunRecord),
    /// A new request file of what a waiting run still lacks.
    Missing(RunRecord),
    /// Output files read into a waiting run.
    Import(RunRecord, Vec<web_sys::File>),
    /// Ask the batch API where a run's submitted batches are, and import
    /// those that ended.
    Poll(RunRecord),
}

/// A new batch run: what to run, and how it goes out.
#[derive(Clone)]
pub struct NewBatch {
    /// What the run step loaded.
    pub setup: RunSetup,
    /// The attribute.
    pub attribute: String,
    /// Which rows.
    pub scope: Scope,
    /// The codebook version (the latest by default).
    pub version: Option<u32>,
    /// The files' shape.
    pub engine: BatchEngine,
    /// Submit the files to the endpoint's batch API instead of downloading them.
    pub submit: bool,
}

/// The batch workflow as one action; its value is the last import's report.
pub fn batch_action(state: AppState) -> Action<BatchJob, Option<ImportReport>> {
    Action::new_local(move |job: &BatchJob| {
        let job = job.clone();
        async move {
            let done = match job {
                BatchJob::Export(job) => export(state, job).await.map(|_| None),
                BatchJob::Everything(x, spec) => everything(state, x, spec).await.map(|_| None),
                BatchJob::Again(run) => again(state, run, false).await.map(|_| None),
                BatchJob::Missing(run) => again(state, run, true).await.map(|_| None),
                BatchJob::Import(run, files) => {
                    let files = files
                        .into_iter()
                        .map(|f| (f.name(), web_sys::Blob::from(f)))
                        .collect();
                    match stored(state, &run).await {
                        Ok(Some(st)) => import(state, st, files, None).await.map(Some),
                        Ok(None) => Err(crate::error::Missing::Run.into()),
                        Err(e) => Err(e),
                    }
                }
                BatchJob::Poll(run) => poll(state, run).await,
            };
            state.touch(&[Topic::Runs, Topic::Annotations]);
            done.unwrap_or_else(|e| {
                state.error(&e);
                None
            })
        }
    })
}

/// What a stored batch run needs to make its requests again.
struct Stored {
    run: RunRecord,
    attribute: Attribute,
    /// The dataset's text column.
    text_col: usize,
    /// The dataset's rows (shared with the page's cache, not copied).
    rows: Rows,
    /// Rows with a stored result of the run.
    done: HashSet<u32>,
}

impl Stored {
    /// The run's rows as (position, text), in row order.
    fn texts(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.rows
            .iter()
            .filter(|r| self.run.has_row(r.idx))
            .map(|r| (r.idx, r.cell(self.text_col)))
    }

    /// The text of row `row`.
    fn text(&self, row: u32) -> Option<&str> {
        // Rows are stored in order, so a row's position is its index.
        let r = match self.rows.get(row as usize) {
            Some(r) if r.idx == row => r,
            _ => self.rows.iter().find(|r| r.idx == row)?,
        };
        Some(r.cell(self.text_col))
    }
}

/// The run `run` as stored now (the screen's copy may be older), with its
/// attribute, tasks and finished rows; `None` (said in a toast) when its
/// dataset or prompt version is gone.
async fn stored(state: AppState, run: &RunRecord) -> Result<Option<Stored>, AppError> {
    let storage = state.storage();
    let Some(run) = storage
        .runs(run.project_id.clone())
        .await?
        .into_iter()
        .find(|r| r.id == run.id)
    else {
        return Ok(None);
    };
    let Some(ds) = same_dataset(state, &run.project_id, &run.dataset_id, "batch").await? else {
        return Ok(None);
    };
    let versions = storage.codebook_versions(run.project_id.clone()).await?;
    let Some(attribute) = version_attribute(&versions, run.codebook_version, &run.attribute) else {
        state.toast(
            ToastKind::Error,
            "The run's codebook version is gone; start a new batch.",
        );
        return Ok(None);
    };
    let done = storage
        .annotations(ds.id.clone(), run_source(&run.id))
        .await?
        .into_iter()
        .filter(|a| a.attribute == run.attribute)
        .map(|a| a.row)
        .collect();
    let rows = state.rows(&ds).await?;
    Ok(Some(Stored {
        run,
        attribute,
        text_col: ds.text_col,
        rows,
        done,
    }))
}

/// The media type of request and output files.
const JSONL: &str = "application/jsonl";

/// The engine's word for where a batch is.
fn state_word(s: &RemoteState) -> String {
    match s {
        RemoteState::Working(w) => w.clone(),
        RemoteState::Ended { status, .. } => status.clone(),
        RemoteState::Failed(_) => "failed".into(),
    }
}
