//! Output files read into the run that waits for them.

use super::*;
use crate::services::runner::Counts;

/// Annotations written per transaction while an output file is read.
const WRITE_BATCH: usize = 5_000;
/// Problems kept per file for the report (all are counted).
pub const PROBLEMS_SHOWN: usize = 200;

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

/// Read output files (name, bytes) into the stored run `st`: every answer of
/// the run not seen before is applied once; everything else is counted and
/// listed by line. `batch_id` names the submitted batch they came from.
pub(super) async fn import(
    state: AppState,
    st: Stored,
    files: Vec<(String, web_sys::Blob)>,
    batch_id: Option<String>,
) -> Result<ImportReport, AppError> {
    let storage = state.storage();
    let mut run = st.run.clone();
    let mut done = st.done.clone();
    let mut merger = Merger::new(&st.run, &st.attribute);
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
    let c = Counts::of(new);
    run.valid += c.valid;
    run.invalid += c.invalid;
    run.failed += c.failed;
}
