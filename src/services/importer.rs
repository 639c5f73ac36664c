//! Storing an imported table: mapping checks, then chunked, cancellable and
//! atomic writes (rows staged under an import marker, committed at the end).

use super::browser::{mono_ms, now_ms, sleep};
use super::files::FileError;
use super::storage::Storage;
use super::storage::StorageError;
use fannotate_core::records::{DatasetMeta, ImportMarker, RowRecord};
use fannotate_core::Table;
use leptos::prelude::*;
use std::collections::HashSet;
use std::rc::Rc;

/// Rows written per transaction while importing: big enough that transactions
/// are few, small enough that progress moves and cancel answers quickly.
pub const IMPORT_CHUNK: usize = 5_000;

/// How far an import got.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ImportProgress {
    /// Rows written.
    pub done: u32,
    /// Rows in the import.
    pub total: u32,
    /// When the writing started (monotonic milliseconds).
    pub started_ms: f64,
}

/// Problems with a file the user picked, beyond what the table parser reports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// The parser rejected the file.
    #[error(transparent)]
    Table(#[from] fannotate_core::TableError),
    /// The browser could not read the file.
    #[error(transparent)]
    File(#[from] FileError),
    /// The file is not UTF-8 text where text is needed.
    #[error("the file is not UTF-8 text")]
    NotText,
    /// No text column was chosen.
    #[error("choose the column that holds the text to annotate")]
    NoTextColumn,
    /// The sample project's data could not be fetched.
    #[error("the sample data could not be loaded ({0})")]
    Sample(String),
    /// A chosen column does not exist in the file.
    #[error("the file has no column \"{0}\"")]
    MissingColumn(String),
    /// Several rows share an id.
    #[error("the id column has {count} duplicate ids (first: \"{first}\"); pick another id column or none")]
    DuplicateIds {
        /// How many rows repeat an earlier id.
        count: usize,
        /// The first repeated id.
        first: String,
    },
}

/// Metadata of a new dataset for `table` with the chosen columns (a fresh id,
/// row count and text size from the table). Callers say how the file was read
/// by setting `encoding` and `delimiter`.
pub fn new_dataset(
    project_id: &str,
    name: String,
    table: &Table,
    text_col: usize,
    id_col: Option<usize>,
    gold_col: Option<usize>,
) -> DatasetMeta {
    DatasetMeta {
        id: super::browser::random_id(),
        project_id: project_id.to_string(),
        name,
        columns: table.columns.clone(),
        text_col,
        id_col,
        gold_col,
        gold_cols: Vec::new(),
        validation: None,
        row_count: table.rows.len() as u32,
        bytes: table.rows.iter().flatten().map(|c| c.len() as u64).sum(),
        encoding: String::new(),
        delimiter: String::new(),
        imported_at: now_ms(),
    }
}

/// Check the mapping before anything is written: a text column, and unique ids.
pub fn check_mapping(
    t: &Table,
    text_col: Option<usize>,
    id_col: Option<usize>,
) -> Result<usize, ImportError> {
    let Some(text_col) = text_col else {
        return Err(ImportError::NoTextColumn);
    };
    if text_col >= t.columns.len() {
        return Err(ImportError::MissingColumn(format!("#{}", text_col + 1)));
    }
    if let Some(c) = id_col {
        let mut seen = HashSet::with_capacity(t.rows.len());
        let dups: Vec<&str> = t
            .rows
            .iter()
            .map(|r| r[c].trim())
            .filter(|id| !seen.insert(*id))
            .collect();
        if let Some(first) = dups.first() {
            return Err(ImportError::DuplicateIds {
                count: dups.len(),
                first: first.to_string(),
            });
        }
    }
    Ok(text_col)
}

/// Stored rows for rows `start..` of a table (ids generated when there is no id column).
pub fn row_records(
    dataset_id: &str,
    start: usize,
    cells: &[Vec<String>],
    id_col: Option<usize>,
) -> Vec<RowRecord> {
    cells
        .iter()
        .enumerate()
        .map(|(k, cells)| {
            let i = start + k;
            RowRecord {
                dataset_id: dataset_id.to_string(),
                idx: i as u32,
                id: match id_col {
                    Some(c) => cells[c].trim().to_string(),
                    None => format!("row-{}", i + 1),
                },
                cells: cells.clone(),
            }
        })
        .collect()
}

/// Write a table in chunks under an import marker, yielding to the browser
/// between chunks; commit at the end. On cancel or failure the staged rows are
/// removed, so there is never a half dataset.
pub async fn import_table(
    storage: Rc<dyn Storage>,
    meta: DatasetMeta,
    table: &Table,
    id_col: Option<usize>,
    cancel: RwSignal<bool>,
    progress: RwSignal<Option<ImportProgress>>,
) -> Result<bool, StorageError> {
    storage
        .begin_import(ImportMarker {
            dataset_id: meta.id.clone(),
            project_id: meta.project_id.clone(),
            started_at: now_ms(),
        })
        .await?;
    let total = table.rows.len() as u32;
    let started_ms = mono_ms();
    let staged = async {
        for (c, chunk) in table.rows.chunks(IMPORT_CHUNK).enumerate() {
            if cancel.get_untracked() {
                return Ok(false);
            }
            storage
                .put_rows(row_records(&meta.id, c * IMPORT_CHUNK, chunk, id_col))
                .await?;
            progress.set(Some(ImportProgress {
                done: (c * IMPORT_CHUNK + chunk.len()) as u32,
                total,
                started_ms,
            }));
            // Let the page paint and take clicks (Cancel) between chunks.
            sleep(0.0).await;
        }
        if cancel.get_untracked() {
            return Ok(false);
        }
        storage.commit_import(meta.clone()).await?;
        Ok::<_, StorageError>(true)
    };
    let result = staged.await;
    if !matches!(result, Ok(true)) {
        // Best effort: a failure here leaves the marker, swept on the next start.
        let _ = storage.abort_imports(Some(meta.id.clone())).await;
    }
    result
}
