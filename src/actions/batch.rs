//! The batch workflow (issue #18): hand a run to a batch engine as request
//! files, and merge the engine's output files back into the run that waits
//! for them, with a report of every line that gave nothing.

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
    run_source, version_attribute, Annotation, AnnotationStatus, BatchEngine, BatchImport,
    BatchPart, BatchRun, Experiment, RemoteBatch, RunRecord, RunStatus, Scope,
};
use fannotate_core::Attribute;
use leptos::prelude::*;
use std::collections::HashSet;

/// Request bytes gathered in wasm before they are copied into the download.
const PIECE_BYTES: usize = 4 << 20;
/// Annotations written per transaction while an output file is read.
const WRITE_BATCH: usize = 5_000;
/// Problems kept per file for the report (all are counted).
pub const PROBLEMS_SHOWN: usize = 200;
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

/// What one output file brought.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// The file's name.
    pub name: String,
    /// Results of the run in it that were applied.
    pub applied: u32,
    /// Lines that gave nothing, counted.
    pub problem_count: u32,
    /// The first [`PROBLEMS_SHOWN`] of them: line and reason.
    pub problems: Vec<(usize, String)>,
    /// Why nothing of the file could be read, if so.
    pub error: Option<String>,
}

/// What an import did to its run.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The run, as stored afterwards.
    pub run: RunRecord,
    /// One report per file, in the order picked.
    pub files: Vec<FileReport>,
    /// Rows of the run with a stored result.
    pub rows_done: u32,
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

/// Write a new run of `attribute` over `scope` as request files, offered as
/// downloads or (`submit`) handed to the endpoint's batch API, and store it as
/// waiting for their answers.
async fn export(state: AppState, job: NewBatch) -> Result<(), AppError> {
    let NewBatch {
        setup,
        attribute,
        scope,
        version,
        engine,
        submit,
    } = job;
    let Some(new) = prepare_run(state, setup, attribute, scope, version).await? else {
        return Ok(());
    };
    let mut run = new.run.clone();
    let attribute = &new.attribute;
    let endpoint = run.endpoint.clone();
    let requests = BatchRequests::new(&new.run.id, &endpoint, attribute)?;
    requests.check(engine)?;
    let stem = format!("fannotate-batch-{}", run.id);
    let made = write_parts(&requests, engine, new.texts(), |_, _| true, &stem).await?;
    let (parts, remote, failure) = if submit {
        let key = run_key(state, &run).await?;
        let api = BatchApi::new(&run.endpoint, &key, engine);
        let mut remote = Vec::new();
        let mut failure = None;
        for (p, blob) in &made {
            match api.submit(&p.name, blob, &run.id).await {
                Ok(s) => remote.push(RemoteBatch {
                    id: s.id,
                    part: p.name.clone(),
                    input_file_id: s.input_file_id,
                    status: state_word(&s.state),
                    polls: 0,
                    settled: false,
                    error: None,
                }),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        match failure {
            // Nothing went out: no run waits for anything.
            Some(e) if remote.is_empty() => return Err(e.into()),
            f => (made.into_iter().map(|(p, _)| p).collect(), remote, f),
        }
    } else {
        (offer_all(made).await?, Vec::new(), None)
    };
    let lines: u32 = parts.iter().map(|p| p.lines).sum();
    let files = parts.len();
    let sent = remote.len();
    run.status = RunStatus::WaitingForBatch;
    run.batch = Some(BatchRun {
        engine,
        replications: requests.replications(),
        parts,
        imports: Vec::new(),
        partial: Vec::new(),
        remote,
    });
    // Stored once its files are made: a failed export leaves no waiting run.
    state.storage().put_run(run).await?;
    let plural = if files == 1 { "" } else { "s" };
    match (submit, failure) {
        (false, _) => state.toast(
            ToastKind::Success,
            format!("Batch ready: {lines} requests in {files} file{plural}. Run them on your engine, then import its output under Batch runs."),
        ),
        (true, None) => state.toast(
            ToastKind::Success,
            format!("Batch submitted: {lines} requests in {files} file{plural}. Fannotate asks for its status while the Run step is open, and imports the results when it ends."),
        ),
        (true, Some(e)) => state.toast(
            ToastKind::Error,
            format!("{sent} of {files} batch files were submitted; the next one failed: {} Download the request files to submit the rest by hand.", e.user_message()),
        ),
    }
    Ok(())
}

/// Write every row with leaderboard configuration `spec` of experiment `x`
/// (its model, temperature, prompt version…) as request files, and show the
/// waiting run where batch runs are.
async fn everything(state: AppState, x: Experiment, spec: CellSpec) -> Result<(), AppError> {
    let mut setup = RunSetup::load(state.storage(), x.project_id.clone()).await?;
    let endpoint = state.project_endpoint(x.project_id.clone()).await?;
    setup.endpoint = Some(x.cell_endpoint(&endpoint, &spec));
    let attribute = x.attribute.clone();
    let job = NewBatch {
        setup,
        attribute,
        scope: Scope::All,
        version: Some(spec.version),
        engine: BatchEngine::for_provider(endpoint.provider),
        submit: false,
    };
    export(state, job).await?;
    state.step.set(Step::Run);
    Ok(())
}

/// The engine's word for where a batch is.
fn state_word(s: &RemoteState) -> String {
    match s {
        RemoteState::Working(w) => w.clone(),
        RemoteState::Ended { status, .. } => status.clone(),
        RemoteState::Failed(_) => "failed".into(),
    }
}

/// Ask where each of the run's unsettled batches is; import the output (and
/// error) files of those that ended, in one import.
async fn poll(state: AppState, run: RunRecord) -> Result<Option<ImportReport>, AppError> {
    let Some(mut st) = stored(state, &run).await? else {
        return Ok(None);
    };
    let Some(batch) = st.run.batch.clone() else {
        return Ok(None);
    };
    let key = run_key(state, &st.run).await?;
    let endpoint = st.run.endpoint.clone();
    let api = BatchApi::new(&endpoint, &key, batch.engine);
    let mut files: Vec<(String, web_sys::Blob)> = Vec::new();
    let mut ended: Vec<String> = Vec::new();
    let mut remote = batch.remote.clone();
    for r in remote.iter_mut().filter(|r| !r.settled) {
        r.polls += 1;
        match api.status(&r.id).await? {
            RemoteState::Working(w) => r.status = w,
            RemoteState::Failed(why) => {
                r.status = "failed".into();
                r.settled = true;
                state.toast(
                    ToastKind::Error,
                    format!("The engine failed batch {}: {why}", r.id),
                );
                r.error = Some(why);
            }
            RemoteState::Ended {
                status,
                output_file_id,
                error_file_id,
                results_url,
            } => {
                let out = api
                    .output(&r.id, output_file_id.as_deref(), results_url.as_deref())
                    .await?;
                files.push((format!("{}-output.jsonl", r.id), text_blob(&out, JSONL)?));
                if let Some(err_id) = error_file_id.as_deref() {
                    let errors = api.output(&r.id, Some(err_id), None).await?;
                    files.push((format!("{}-errors.jsonl", r.id), text_blob(&errors, JSONL)?));
                }
                r.status = status;
                r.settled = true;
                ended.push(r.id.clone());
            }
        }
    }
    if let Some(b) = st.run.batch.as_mut() {
        b.remote = remote;
    }
    if files.is_empty() {
        state.storage().put_run(st.run).await?;
        return Ok(None);
    }
    // An empty file (no failed request) is no output to read.
    let files = files.into_iter().filter(|(_, b)| b.size() > 0.0).collect();
    st.run.status = RunStatus::WaitingForBatch;
    import(state, st, files, Some(ended.join(",")))
        .await
        .map(Some)
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

/// Make a waiting run's request files again, byte for byte; or, with
/// `missing`, one new set of files of the requests still unanswered.
async fn again(state: AppState, run: RunRecord, missing: bool) -> Result<(), AppError> {
    let Some(st) = stored(state, &run).await? else {
        return Ok(());
    };
    let Some(batch) = st.run.batch.clone() else {
        return Ok(());
    };
    let requests = BatchRequests::new(&st.run.id, &st.run.endpoint, &st.attribute)?;
    if !missing {
        let stem = format!("fannotate-batch-{}", st.run.id);
        offer_all(write_parts(&requests, batch.engine, st.texts(), |_, _| true, &stem).await?)
            .await?;
        return Ok(());
    }
    let merger = Merger::new(&st.run, &st.attribute, batch.replications);
    let wanted = st.texts().filter(|(row, _)| !st.done.contains(row));
    let round = batch.parts.len() + 1;
    let stem = format!("fannotate-batch-{}-missing-{round}", st.run.id);
    let parts = offer_all(
        write_parts(
            &requests,
            batch.engine,
            wanted,
            |row, k| merger.missing(row).contains(&k),
            &stem,
        )
        .await?,
    )
    .await?;
    if parts.is_empty() {
        state.toast(ToastKind::Success, "Every request of the run is answered.");
        return Ok(());
    }
    let lines: u32 = parts.iter().map(|p| p.lines).sum();
    let mut run = st.run.clone();
    if let Some(b) = run.batch.as_mut() {
        b.parts.extend(parts);
    }
    state.storage().put_run(run).await?;
    state.toast(
        ToastKind::Success,
        format!("A batch of the {lines} requests still unanswered is ready."),
    );
    Ok(())
}

/// Write the request lines of `rows` (position and text; the replications
/// `keep(row, k)` lets through) as files of at most 50,000 lines and 200 MB named `STEM-N.jsonl`;
/// a row's replications share a file. The bytes go to the browser as they are
/// made: each file comes back as a Blob.
async fn write_parts(
    requests: &BatchRequests<'_>,
    engine: BatchEngine,
    rows: impl IntoIterator<Item = (u32, &str)>,
    keep: impl Fn(u32, u32) -> bool,
    stem: &str,
) -> Result<Vec<(BatchPart, web_sys::Blob)>, AppError> {
    let mut splitter = Splitter::new(SplitLimits::default());
    let mut parts: Vec<(BatchPart, web_sys::Blob)> = Vec::new();
    let mut current: Option<BatchPart> = None;
    let mut file = BlobFile::new();
    let mut piece: Vec<u8> = Vec::with_capacity(PIECE_BYTES + (64 << 10));
    let mut slice = TimeSlice::new(SLICE_MS);
    for (i, (row, text)) in rows.into_iter().enumerate() {
        let lines = requests.row_lines(engine, row, text, |k| keep(row, k));
        if lines.is_empty() {
            continue;
        }
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        if splitter.place_lines(lines.len(), bytes)?.starts_part {
            if let Some(done) = current.take() {
                file.push(&piece);
                piece.clear();
                parts.push((done, std::mem::take(&mut file).into_blob(JSONL)?));
            }
            current = Some(BatchPart {
                name: format!("{stem}-{}.jsonl", parts.len() + 1),
                first_task: i as u32,
                tasks: 0,
                lines: 0,
                bytes: 0,
            });
        }
        if let Some(p) = current.as_mut() {
            p.tasks += 1;
            p.lines += lines.len() as u32;
            p.bytes += bytes as u64;
        }
        for line in lines {
            piece.extend_from_slice(line.as_bytes());
            piece.push(b'\n');
        }
        if piece.len() >= PIECE_BYTES {
            file.push(&piece);
            piece.clear();
        }
        slice.pause_if_due().await;
    }
    if let Some(last) = current {
        file.push(&piece);
        parts.push((last, file.into_blob(JSONL)?));
    }
    Ok(parts)
}

/// Between two downloads: Chromium drops all but the first ten of downloads
/// started back to back (or 50 ms apart); 100 ms apart all twenty of a
/// million-row batch arrive.
const DOWNLOAD_GAP_MS: f64 = 250.0;

/// Offer every file as a download, one after another, and keep their descriptions.
async fn offer_all(parts: Vec<(BatchPart, web_sys::Blob)>) -> Result<Vec<BatchPart>, AppError> {
    let mut out = Vec::with_capacity(parts.len());
    for (i, (p, blob)) in parts.into_iter().enumerate() {
        if i > 0 {
            sleep(DOWNLOAD_GAP_MS).await;
        }
        offer_blob(&p.name, &blob)?;
        out.push(p);
    }
    Ok(out)
}

/// The media type of request files.
const JSONL: &str = "application/jsonl";

/// Read output files (name, bytes) into the stored run `st`: every answer of
/// the run not seen before is applied once; everything else is counted and
/// listed by line. `batch_id` names the submitted batch they came from.
async fn import(
    state: AppState,
    st: Stored,
    files: Vec<(String, web_sys::Blob)>,
    batch_id: Option<String>,
) -> Result<ImportReport, AppError> {
    let storage = state.storage();
    let mut run = st.run.clone();
    let mut done = st.done.clone();
    let replications = run.batch.as_ref().map_or(1, |b| b.replications.max(1));
    let mut merger = Merger::new(&st.run, &st.attribute, replications);
    let prompt_chars = |id: &fannotate_core::batch::CustomId| {
        st.text(id.row()).map_or(0, |t| {
            RowRequest::new(&st.run.endpoint, &st.attribute, t, id.replication()).prompt_chars()
        })
    };
    let mut reports = Vec::with_capacity(files.len());
    let mut slice = TimeSlice::new(SLICE_MS);
    for (name, file) in files {
        let mut reader = OutputReader::new();
        let mut slices = FileSlices::new(file);
        let mut carry: Vec<u8> = Vec::new();
        let mut pending: Vec<Annotation> = Vec::new();
        let mut problems: Vec<Problem> = Vec::new();
        let (mut results, mut applied) = (0u32, 0u32);
        let mut apply = |reader: &mut OutputReader,
                         pending: &mut Vec<Annotation>,
                         problems: &mut Vec<Problem>,
                         done: &mut HashSet<u32>| {
            for r in reader.take_results() {
                match merger.push(&r, |row| done.contains(&row), prompt_chars, now_ms()) {
                    Ok(Some(a)) => {
                        results += 1;
                        applied += 1;
                        done.insert(a.row);
                        pending.push(a);
                    }
                    Ok(None) => {
                        results += 1;
                        applied += 1;
                    }
                    Err(p) => {
                        if matches!(
                            p.kind,
                            fannotate_core::batch::ProblemKind::AlreadyImported(_)
                        ) {
                            results += 1;
                        }
                        problems.push(p);
                    }
                }
            }
        };
        while let Some(bytes) = slices.next().await {
            let bytes = bytes?;
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', &bytes) {
                if carry.is_empty() {
                    reader.push_line(&bytes[start..end]);
                } else {
                    carry.extend_from_slice(&bytes[start..end]);
                    reader.push_line(&carry);
                    carry.clear();
                }
                start = end + 1;
                if slice.due() {
                    apply(&mut reader, &mut pending, &mut problems, &mut done);
                    slice.pause().await;
                }
            }
            carry.extend_from_slice(&bytes[start..]);
            apply(&mut reader, &mut pending, &mut problems, &mut done);
            if pending.len() >= WRITE_BATCH {
                count(&mut run, &pending);
                storage
                    .put_annotations(std::mem::take(&mut pending), Some(run.clone()))
                    .await?;
            }
        }
        if !carry.is_empty() {
            reader.push_line(&carry);
        }
        apply(&mut reader, &mut pending, &mut problems, &mut done);
        let format = reader.format();
        let (error, mut all_problems) = match reader.finish() {
            Ok(out) => (None, out.problems),
            Err(e) => (Some(format!("{e}")), Vec::new()),
        };
        all_problems.extend(problems);
        all_problems.sort_by_key(|p| p.line);
        // A file that held no result (the request file, say) leaves no trace.
        if let (Some(b), None) = (run.batch.as_mut(), &error) {
            b.imports.push(BatchImport {
                file: name.clone(),
                at: now_ms(),
                format: format.map_or("none", |f| f.as_str()).to_string(),
                batch_id: batch_id.clone(),
                results,
                applied,
                problems: all_problems.len() as u32,
            });
            b.partial = merger.partial();
        }
        count(&mut run, &pending);
        if done.len() as u32 >= run.total {
            run.status = RunStatus::Completed;
            run.finished_at = Some(now_ms());
        }
        // The file's last answers, its provenance and the rows still answered
        // in part go in one transaction.
        storage.put_annotations(pending, Some(run.clone())).await?;
        reports.push(FileReport {
            name,
            applied,
            problem_count: all_problems.len() as u32,
            problems: all_problems
                .iter()
                .take(PROBLEMS_SHOWN)
                .map(|p| (p.line, p.reason()))
                .collect(),
            error,
        });
    }
    let applied: u32 = reports.iter().map(|r| r.applied).sum();
    let problems: u32 = reports.iter().map(|r| r.problem_count).sum();
    let unread: Vec<&str> = reports
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.name.as_str())
        .collect();
    let mut message = format!(
        "Batch import: {applied} answers applied, {problems} lines gave nothing (listed under the run); {} of {} rows done.",
        done.len(),
        run.total
    );
    if !unread.is_empty() {
        message.push_str(&format!(" Not batch output: {}.", unread.join(", ")));
    }
    let clean = problems == 0 && unread.is_empty();
    state.toast(
        if clean {
            ToastKind::Success
        } else {
            ToastKind::Error
        },
        message,
    );
    Ok(ImportReport {
        rows_done: done.len() as u32,
        run,
        files: reports,
    })
}

/// Add the outcomes of `new` annotations to the run's counters.
fn count(run: &mut RunRecord, new: &[Annotation]) {
    for a in new {
        match a.status {
            AnnotationStatus::Valid => run.valid += 1,
            AnnotationStatus::Invalid => run.invalid += 1,
            AnnotationStatus::Error => run.failed += 1,
        }
    }
}
