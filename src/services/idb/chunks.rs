//! Rows stored in chunks: one `row_chunks` record per [`ROWS_PER_CHUNK`] rows.

use super::schema::stores;
use super::transaction::send;
use super::values::to_js;
use crate::services::storage::{StorageError, StorageResult};
use fannotate_core::records::RowRecord;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::Transaction;
use serde::Serialize;

/// Rows per record of the `row_chunks` store. Part of the stored format: do not
/// change without a migration.
pub const ROWS_PER_CHUNK: u32 = 1000;

/// One record of the `row_chunks` store.
#[derive(Serialize, serde::Deserialize)]
pub(super) struct RowChunk {
    dataset_id: String,
    chunk: u32,
    /// `[[id, [cells…]], …]` for rows `chunk * ROWS_PER_CHUNK ..`, as JSON.
    rows: String,
}

/// Group rows (of one dataset, in order) into chunk records. Rows must start at
/// a chunk boundary, and only the last chunk written for a dataset may be short.
fn to_chunks(rows: &[RowRecord]) -> StorageResult<Vec<RowChunk>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let first = &rows[i];
        let chunk = first.idx / ROWS_PER_CHUNK;
        if first.idx % ROWS_PER_CHUNK != 0 {
            return Err(StorageError::Other(format!(
                "rows must be written from a chunk boundary (row {})",
                first.idx
            )));
        }
        let end = rows[i..]
            .iter()
            .position(|r| r.idx / ROWS_PER_CHUNK != chunk || r.dataset_id != first.dataset_id)
            .map_or(rows.len(), |k| i + k);
        let body: Vec<(&str, &Vec<String>)> = rows[i..end]
            .iter()
            .map(|r| (r.id.as_str(), &r.cells))
            .collect();
        out.push(RowChunk {
            dataset_id: first.dataset_id.clone(),
            chunk,
            rows: serde_json::to_string(&body).map_err(|e| StorageError::Corrupt(e.to_string()))?,
        });
        i = end;
    }
    Ok(out)
}

/// The rows of a chunk record.
pub(super) fn from_chunk(c: RowChunk) -> StorageResult<Vec<RowRecord>> {
    let body: Vec<(String, Vec<String>)> =
        serde_json::from_str(&c.rows).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    Ok(body
        .into_iter()
        .enumerate()
        .map(|(k, (id, cells))| RowRecord {
            dataset_id: c.dataset_id.clone(),
            idx: c.chunk * ROWS_PER_CHUNK + k as u32,
            id,
            cells,
        })
        .collect())
}

/// Write rows as chunk records inside `tx`.
pub(super) fn put_chunks(tx: &Transaction<'_>, rows: &[RowRecord]) -> StorageResult<()> {
    let store = tx.object_store(stores::ROW_CHUNKS)?;
    for c in to_chunks(rows)? {
        send(store.put(to_js(&c)?).primitive())?;
    }
    Ok(())
}
