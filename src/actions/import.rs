//! The import workflow: read a picked file, parse it in slices with progress,
//! then store its rows under the chosen column mapping (cancellable, atomic).

use crate::error::AppError;
use crate::services::browser::{mono_ms, request_persistence, TimeSlice};
use crate::services::files::read_bytes;
use crate::services::importer::{
    check_mapping, import_table, new_dataset, ImportError, ImportProgress,
};
use crate::state::{AppState, ToastKind, Topic};
use fannotate_core::import::{open_file, FileFormat, ImportOptions, Imported, Opened};
use fannotate_core::records::DatasetMeta;
use leptos::prelude::*;
use std::sync::Arc;

/// Rows parsed between checks of the clock.
const PARSE_CHUNK: usize = 2_000;
/// Parsing yields to the browser at least this often (milliseconds).
const PARSE_SLICE_MS: f64 = 40.0;

/// A read file waiting for its column mapping. The table is shared, not copied,
/// between the memo and the import (it can hold a million rows).
#[derive(Debug, Clone)]
pub struct Picked {
    /// The file's name.
    pub name: String,
    /// What was read from it.
    pub imported: Arc<Imported>,
    /// Milliseconds spent parsing.
    pub parse_ms: f64,
}

impl PartialEq for Picked {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.imported, &other.imported)
    }
}

/// How far parsing got: bytes read, bytes in all, when it started (monotonic ms).
pub type ParseProgress = (u64, u64, f64);

/// A read file: its name and bytes (shared: they can be hundreds of megabytes).
pub type ReadFile = (String, Arc<Vec<u8>>);

/// Read a picked file's bytes (the action behind the file input).
pub fn read_action() -> Action<web_sys::File, Result<ReadFile, AppError>> {
    Action::new_local(move |file: &web_sys::File| {
        let file = file.clone();
        async move {
            let bytes = read_bytes(&file).await?;
            Ok((file.name(), Arc::new(bytes)))
        }
    })
}

/// Parse a file, yielding to the browser between slices of rows and reporting
/// the bytes read.
pub async fn parse_file(
    name: String,
    bytes: Arc<Vec<u8>>,
    opts: ImportOptions,
    progress: RwSignal<Option<ParseProgress>>,
) -> Result<Picked, AppError> {
    let bad = |e| AppError::from(ImportError::from(e));
    let t0 = mono_ms();
    let imported = match open_file(&name, &bytes, &opts).map_err(bad)? {
        Opened::Done(imported) => imported,
        Opened::Text { format, mut reader } => {
            let mut rows = Vec::new();
            let mut slice = TimeSlice::new(PARSE_SLICE_MS);
            let result = loop {
                match reader.read_chunk(PARSE_CHUNK, &mut rows) {
                    Ok(true) => {}
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(bad(e)),
                }
                if slice.due() {
                    progress.set(Some((reader.position(), reader.total_bytes(), t0)));
                    slice.pause().await;
                }
            };
            progress.set(None);
            result?;
            Imported::from_text(format, reader, rows).map_err(bad)?
        }
    };
    Ok(Picked {
        name,
        imported: Arc::new(imported),
        parse_ms: mono_ms() - t0,
    })
}

/// What to import: the parsed file and the columns the user mapped.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The project that gets the dataset.
    pub project_id: String,
    /// The parsed file.
    pub picked: Picked,
    /// The text column (required; checked before anything is stored).
    pub text_col: Option<usize>,
    /// The id column, if any.
    pub id_col: Option<usize>,
    /// The gold label column, if any.
    pub gold_col: Option<usize>,
}

/// How long a finished import took, for the line under the form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImportTiming {
    /// Rows stored.
    pub rows: u32,
    /// Milliseconds parsing.
    pub parse_ms: f64,
    /// Milliseconds storing.
    pub persist_ms: f64,
}

/// The dataset's metadata for `req`, saying how its file was read.
fn dataset_meta(req: &ImportRequest, text_col: usize) -> DatasetMeta {
    let (imported, table) = (&req.picked.imported, &req.picked.imported.table);
    DatasetMeta {
        encoding: match imported.format {
            FileFormat::Xlsx => "Excel workbook".to_string(),
            _ => table.encoding.as_str().to_string(),
        },
        delimiter: match imported.format {
            FileFormat::Csv | FileFormat::Tsv => table.delimiter.to_string(),
            _ => String::new(),
        },
        ..new_dataset(
            &req.project_id,
            req.picked.name.clone(),
            table,
            text_col,
            req.id_col,
            req.gold_col,
        )
    }
}

/// Store a parsed file as the project's dataset: pending while it runs (so one
/// click stores one dataset), cancelled when `cancel` is set, its progress in
/// `progress`. `Ok(None)` when cancelled (nothing stored); `on_stored` runs once
/// the rows are committed.
pub fn import_action(
    state: AppState,
    cancel: RwSignal<bool>,
    progress: RwSignal<Option<ImportProgress>>,
    on_stored: impl Fn() + Clone + 'static,
) -> Action<ImportRequest, Result<Option<ImportTiming>, AppError>> {
    Action::new_local(move |req: &ImportRequest| {
        let (req, on_stored) = (req.clone(), on_stored.clone());
        cancel.set(false);
        async move {
            let table = &req.picked.imported.table;
            let text_col = check_mapping(table, req.text_col, req.id_col)?;
            let meta = dataset_meta(&req, text_col);
            let rows = table.rows.len() as u32;
            let t0 = mono_ms();
            let done =
                import_table(state.storage(), meta, table, req.id_col, cancel, progress).await;
            progress.set(None);
            if !done? {
                state.toast(ToastKind::Success, "Import cancelled; nothing was stored.");
                return Ok(None);
            }
            let timing = ImportTiming {
                rows,
                parse_ms: req.picked.parse_ms,
                persist_ms: mono_ms() - t0,
            };
            // Now there is data worth keeping: ask the browser not to evict it.
            request_persistence().await;
            state.toast(
                ToastKind::Success,
                format!("Imported {rows} rows from {}.", req.picked.name),
            );
            on_stored();
            state.touch(&[Topic::Projects, Topic::Dataset, Topic::Annotations]);
            Ok(Some(timing))
        }
    })
}
