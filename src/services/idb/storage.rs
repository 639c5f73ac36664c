//! [`IdbStorage`]: the app's [`Storage`] on one IndexedDB database, each write
//! in one transaction.

use super::chunks::{from_chunk, put_chunks, RowChunk, ROWS_PER_CHUNK};
use super::schema::{db_name, open_database, stores, DB_VERSION};
use super::transaction::{open, send, write};
use super::values::{between, from_js, key, prefix_bounds, prefix_range, records, to_js};
use crate::services::storage::{Storage, StorageError, StorageResult};
use fannotate_core::records::{
    Annotation, CodebookVersion, DatasetMeta, EndpointConfig, Experiment, ImportMarker, Project,
    RowRecord, RunRecord,
};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use indexed_db_futures::database::Database;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use indexed_db_futures::KeyRange;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// Records read per request from the big stores (rows, annotations).
const READ_PAGE: u32 = 5_000;

/// [`Storage`] backed by one IndexedDB database.
pub struct IdbStorage {
    db: Database,
}

impl Drop for IdbStorage {
    fn drop(&mut self) {
        // A handle to the same connection: closing it closes ours.
        self.db.clone().close();
    }
}

impl IdbStorage {
    /// Open the database for a persistence key at the current version.
    pub async fn open(persistence_key: &str) -> StorageResult<Self> {
        Self::open_version(persistence_key, DB_VERSION).await
    }

    /// Open at an older schema version: for migration tests, which create a
    /// database as an earlier release did and then open it with this one.
    pub async fn open_version(persistence_key: &str, version: u32) -> StorageResult<Self> {
        Ok(IdbStorage {
            db: open_database(&db_name(persistence_key), version).await?,
        })
    }

    /// Put one record into one store, in its own transaction.
    async fn put_one<T: Serialize>(&self, store: &str, v: &T) -> StorageResult<()> {
        write(&self.db, &[store], async |tx| {
            send(tx.object_store(store)?.put(to_js(v)?).primitive())
        })
        .await
    }

    fn read(&self, store: &str) -> StorageResult<Transaction<'_>> {
        open(&self.db, &[store], TransactionMode::Readonly)
    }

    /// Every record of `store` in `range` (all of them without one).
    async fn get_all<T: DeserializeOwned>(
        &self,
        store: &str,
        range: Option<KeyRange<JsValue>>,
    ) -> StorageResult<Vec<T>> {
        let tx = self.read(store)?;
        let s = tx.object_store(store)?;
        let all = s.get_all::<JsValue>();
        records(match range {
            Some(r) => all.with_query::<JsValue, _>(r).primitive()?.await?,
            None => all.primitive()?.await?,
        })
    }

    /// The row chunks holding rows `start..end`, [`READ_PAGE`] rows' worth a
    /// request, in one transaction (see [`IdbStorage::annotations_between`]).
    async fn row_chunks(&self, ds: &JsValue, start: u32, end: u32) -> StorageResult<Vec<RowChunk>> {
        let tx = self.read(stores::ROW_CHUNKS)?;
        let s = tx.object_store(stores::ROW_CHUNKS)?;
        let per_page = (READ_PAGE / ROWS_PER_CHUNK).max(1);
        let (first, last) = (start / ROWS_PER_CHUNK, (end - 1) / ROWS_PER_CHUNK);
        let mut out: Vec<RowChunk> = Vec::new();
        let mut from = first;
        while from <= last {
            let to = from.saturating_add(per_page - 1).min(last);
            let range = between(
                &[ds.clone(), JsValue::from(from)],
                &[ds.clone(), JsValue::from(to)],
            );
            let page: Vec<RowChunk> = records(
                s.get_all::<JsValue>()
                    .with_query::<JsValue, _>(range)
                    .primitive()?
                    .await?,
            )?;
            // A dataset's chunks are numbered without gaps: a short page is its
            // last (a read "to the end" asks for up to u32::MAX rows).
            let short = page.len() < (to - from + 1) as usize;
            out.extend(page);
            if short {
                break;
            }
            from = to + 1;
        }
        Ok(out)
    }

    /// Every annotation in the keys from `lower` up to `upper`, read
    /// [`READ_PAGE`] at a time in one transaction.
    ///
    /// Each request's result is deserialised by the browser in the task that
    /// reads it, so one request for 100,000 records held the page's thread for
    /// about half a second; pages keep each task short.
    async fn annotations_between(
        &self,
        lower: JsValue,
        upper: JsValue,
    ) -> StorageResult<Vec<Annotation>> {
        let tx = self.read(stores::ANNOTATIONS)?;
        let s = tx.object_store(stores::ANNOTATIONS)?;
        let (mut lower, mut open_lower) = (lower, false);
        let mut out: Vec<Annotation> = Vec::new();
        loop {
            let range = KeyRange::Bound(lower.clone(), open_lower, upper.clone(), false);
            let page: Vec<Annotation> = records(
                s.get_all::<JsValue>()
                    .with_query::<JsValue, _>(range)
                    .with_limit(READ_PAGE)
                    .primitive()?
                    .await?,
            )?;
            let full = page.len() == READ_PAGE as usize;
            if let Some(last) = page.last() {
                // The store's key path: [dataset_id, source, row, attribute].
                lower = key(&[
                    JsValue::from_str(&last.dataset_id),
                    JsValue::from_str(&last.source),
                    JsValue::from(last.row),
                    JsValue::from_str(&last.attribute),
                ]);
                open_lower = true;
            }
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    /// The records of `store` whose `project_id` is `project_id`.
    async fn by_project<T: DeserializeOwned>(
        &self,
        store: &str,
        project_id: &str,
    ) -> StorageResult<Vec<T>> {
        let tx = self.read(store)?;
        let s = tx.object_store(store)?;
        project_records(&s, project_id).await
    }

    /// The record of `store` under `k`, if there is one.
    async fn get<T: DeserializeOwned>(&self, store: &str, k: JsValue) -> StorageResult<Option<T>> {
        let tx = self.read(store)?;
        let found: Option<JsValue> = tx.object_store(store)?.get(k).primitive()?.await?;
        found.map(from_js).transpose()
    }
}

/// The records of `store` (one with a [`stores::BY_PROJECT`] index) of a project.
async fn project_records<T: DeserializeOwned>(
    store: &ObjectStore<'_>,
    project_id: &str,
) -> StorageResult<Vec<T>> {
    let found = store
        .index(stores::BY_PROJECT)?
        .get_all::<JsValue>()
        .with_query(JsValue::from_str(project_id))
        .primitive()?
        .await?;
    records(found)
}

/// Delete a dataset's rows and annotations inside `tx`.
fn delete_dataset_contents(tx: &Transaction<'_>, dataset_id: &str) -> StorageResult<()> {
    let ds = JsValue::from_str(dataset_id);
    for store in [stores::ROWS, stores::ROW_CHUNKS, stores::ANNOTATIONS] {
        send(
            tx.object_store(store)?
                .delete::<JsValue, _>(prefix_range(std::slice::from_ref(&ds)))
                .primitive(),
        )?;
    }
    send(tx.object_store(stores::DATASETS)?.delete(ds).primitive())
}

/// Ids of the project's datasets, read inside `tx`.
async fn project_dataset_ids(tx: &Transaction<'_>, project_id: &str) -> StorageResult<Vec<String>> {
    let metas: Vec<DatasetMeta> =
        project_records(&tx.object_store(stores::DATASETS)?, project_id).await?;
    Ok(metas.into_iter().map(|m| m.id).collect())
}

/// Inside `tx`: delete the project's datasets with their rows and annotations,
/// and store `meta` as its dataset.
async fn replace_project_dataset(tx: &Transaction<'_>, meta: &DatasetMeta) -> StorageResult<()> {
    for old in project_dataset_ids(tx, &meta.project_id).await? {
        delete_dataset_contents(tx, &old)?;
    }
    send(
        tx.object_store(stores::DATASETS)?
            .put(to_js(meta)?)
            .primitive(),
    )
}

type Fut<'a, T> = LocalBoxFuture<'a, StorageResult<T>>;

impl Storage for IdbStorage {
    fn list_projects(&self) -> Fut<'_, Vec<Project>> {
        async move {
            let mut v: Vec<Project> = self.get_all(stores::PROJECTS, None).await?;
            v.sort_by(|a, b| b.updated_at.total_cmp(&a.updated_at));
            Ok(v)
        }
        .boxed_local()
    }

    fn put_project(&self, p: Project) -> Fut<'_, ()> {
        async move { self.put_one(stores::PROJECTS, &p).await }.boxed_local()
    }

    fn delete_project(&self, project_id: String) -> Fut<'_, ()> {
        async move {
            write(&self.db, &stores::ALL, async |tx| {
                for ds in project_dataset_ids(tx, &project_id).await? {
                    delete_dataset_contents(tx, &ds)?;
                }
                let pid = JsValue::from_str(&project_id);
                for name in [stores::RUNS, stores::EXPERIMENTS] {
                    let store = tx.object_store(name)?;
                    let keys = store
                        .index(stores::BY_PROJECT)?
                        .get_all_keys::<JsValue>()
                        .with_query(pid.clone())
                        .primitive()?
                        .await?;
                    for k in keys {
                        send(store.delete(k?).primitive())?;
                    }
                }
                let codebooks = prefix_range(std::slice::from_ref(&pid));
                send(
                    tx.object_store(stores::CODEBOOKS)?
                        .delete::<JsValue, _>(codebooks)
                        .primitive(),
                )?;
                send(
                    tx.object_store(stores::ENDPOINTS)?
                        .delete(pid.clone())
                        .primitive(),
                )?;
                send(tx.object_store(stores::PROJECTS)?.delete(pid).primitive())
            })
            .await
        }
        .boxed_local()
    }

    fn put_dataset(&self, meta: DatasetMeta, rows: Vec<RowRecord>) -> Fut<'_, ()> {
        async move {
            write(
                &self.db,
                &[
                    stores::DATASETS,
                    stores::ROWS,
                    stores::ROW_CHUNKS,
                    stores::ANNOTATIONS,
                ],
                async |tx| {
                    replace_project_dataset(tx, &meta).await?;
                    put_chunks(tx, &rows)
                },
            )
            .await
        }
        .boxed_local()
    }

    fn update_dataset(&self, meta: DatasetMeta) -> Fut<'_, ()> {
        async move { self.put_one(stores::DATASETS, &meta).await }.boxed_local()
    }

    fn begin_import(&self, marker: ImportMarker) -> Fut<'_, ()> {
        async move { self.put_one(stores::IMPORTS, &marker).await }.boxed_local()
    }

    fn put_rows(&self, rows: Vec<RowRecord>) -> Fut<'_, ()> {
        async move {
            write(&self.db, &[stores::ROW_CHUNKS], async |tx| {
                put_chunks(tx, &rows)
            })
            .await
        }
        .boxed_local()
    }

    fn commit_import(&self, meta: DatasetMeta) -> Fut<'_, ()> {
        async move {
            write(
                &self.db,
                &[
                    stores::DATASETS,
                    stores::ROWS,
                    stores::ROW_CHUNKS,
                    stores::ANNOTATIONS,
                    stores::IMPORTS,
                ],
                async |tx| {
                    // Another tab may have swept this import as abandoned; its
                    // rows are then gone and it must not become a dataset.
                    let imports = tx.object_store(stores::IMPORTS)?;
                    let id = JsValue::from_str(&meta.id);
                    let marker: Option<JsValue> = imports.get(id.clone()).primitive()?.await?;
                    if marker.is_none() {
                        return Err(StorageError::Interrupted);
                    }
                    replace_project_dataset(tx, &meta).await?;
                    send(imports.delete(id).primitive())
                },
            )
            .await
        }
        .boxed_local()
    }

    fn abort_imports(&self, dataset_id: Option<String>) -> Fut<'_, u32> {
        async move {
            let mut n = 0;
            write(
                &self.db,
                &[stores::ROW_CHUNKS, stores::IMPORTS],
                async |tx| {
                    let imports = tx.object_store(stores::IMPORTS)?;
                    let ids: Vec<String> = match &dataset_id {
                        Some(id) => vec![id.clone()],
                        None => records::<ImportMarker>(
                            imports.get_all::<JsValue>().primitive()?.await?,
                        )?
                        .into_iter()
                        .map(|m| m.dataset_id)
                        .collect(),
                    };
                    let chunks = tx.object_store(stores::ROW_CHUNKS)?;
                    for id in &ids {
                        let id = JsValue::from_str(id);
                        send(
                            chunks
                                .delete::<JsValue, _>(prefix_range(std::slice::from_ref(&id)))
                                .primitive(),
                        )?;
                        send(imports.delete(id).primitive())?;
                    }
                    n = ids.len() as u32;
                    Ok(())
                },
            )
            .await?;
            Ok(n)
        }
        .boxed_local()
    }

    fn dataset(&self, project_id: String) -> Fut<'_, Option<DatasetMeta>> {
        async move {
            let mut v: Vec<DatasetMeta> = self.by_project(stores::DATASETS, &project_id).await?;
            v.sort_by(|a, b| b.imported_at.total_cmp(&a.imported_at));
            Ok(v.into_iter().next())
        }
        .boxed_local()
    }

    fn rows(&self, dataset_id: String, start: u32, limit: u32) -> Fut<'_, Vec<RowRecord>> {
        async move {
            let end = start.saturating_add(limit);
            if limit == 0 {
                return Ok(Vec::new());
            }
            let ds = JsValue::from_str(&dataset_id);
            let found = self.row_chunks(&ds, start, end).await?;
            if !found.is_empty() {
                let mut out = Vec::with_capacity(limit.min(1 << 20) as usize);
                for c in found {
                    out.extend(
                        from_chunk(c)?
                            .into_iter()
                            .filter(|r| r.idx >= start && r.idx < end),
                    );
                }
                return Ok(out);
            }
            // A dataset imported by version 1 keeps one record per row.
            let range = between(
                &[ds.clone(), JsValue::from(start)],
                &[ds, JsValue::from(end)],
            );
            let tx = self.read(stores::ROWS)?;
            let found = tx
                .object_store(stores::ROWS)?
                .get_all::<JsValue>()
                .with_query::<JsValue, _>(range)
                .with_limit(limit)
                .primitive()?
                .await?;
            let mut v: Vec<RowRecord> = records(found)?;
            v.retain(|r| r.idx < end);
            Ok(v)
        }
        .boxed_local()
    }

    fn put_codebook(&self, v: CodebookVersion) -> Fut<'_, ()> {
        async move { self.put_one(stores::CODEBOOKS, &v).await }.boxed_local()
    }

    fn latest_codebook(&self, project_id: String) -> Fut<'_, Option<CodebookVersion>> {
        async move {
            let range = prefix_range(&[JsValue::from_str(&project_id)]);
            let v: Vec<CodebookVersion> = self.get_all(stores::CODEBOOKS, Some(range)).await?;
            Ok(v.into_iter().max_by_key(|c| c.version))
        }
        .boxed_local()
    }

    fn codebook_versions(&self, project_id: String) -> Fut<'_, Vec<CodebookVersion>> {
        async move {
            let range = prefix_range(&[JsValue::from_str(&project_id)]);
            self.get_all(stores::CODEBOOKS, Some(range)).await
        }
        .boxed_local()
    }

    fn all_annotations(&self, dataset_id: String) -> Fut<'_, Vec<Annotation>> {
        async move {
            let (lower, upper) = prefix_bounds(&[JsValue::from_str(&dataset_id)]);
            self.annotations_between(lower, upper).await
        }
        .boxed_local()
    }

    fn put_endpoint(&self, e: EndpointConfig) -> Fut<'_, ()> {
        async move { self.put_one(stores::ENDPOINTS, &e).await }.boxed_local()
    }

    fn endpoint(&self, project_id: String) -> Fut<'_, Option<EndpointConfig>> {
        async move {
            self.get(stores::ENDPOINTS, JsValue::from_str(&project_id))
                .await
        }
        .boxed_local()
    }

    fn put_run(&self, r: RunRecord) -> Fut<'_, ()> {
        async move { self.put_one(stores::RUNS, &r).await }.boxed_local()
    }

    fn runs(&self, project_id: String) -> Fut<'_, Vec<RunRecord>> {
        async move {
            let mut v: Vec<RunRecord> = self.by_project(stores::RUNS, &project_id).await?;
            v.sort_by(|a, b| b.started_at.total_cmp(&a.started_at));
            Ok(v)
        }
        .boxed_local()
    }

    fn put_experiment(&self, x: Experiment) -> Fut<'_, ()> {
        async move { self.put_one(stores::EXPERIMENTS, &x).await }.boxed_local()
    }

    fn experiments(&self, project_id: String) -> Fut<'_, Vec<Experiment>> {
        async move {
            let mut v: Vec<Experiment> = self.by_project(stores::EXPERIMENTS, &project_id).await?;
            v.sort_by(|a, b| b.created_at.total_cmp(&a.created_at));
            Ok(v)
        }
        .boxed_local()
    }

    fn delete_experiment(&self, id: String) -> Fut<'_, ()> {
        async move {
            write(&self.db, &[stores::EXPERIMENTS], async |tx| {
                send(
                    tx.object_store(stores::EXPERIMENTS)?
                        .delete(JsValue::from_str(&id))
                        .primitive(),
                )
            })
            .await
        }
        .boxed_local()
    }

    fn put_annotations(&self, batch: Vec<Annotation>, run: Option<RunRecord>) -> Fut<'_, ()> {
        async move {
            // One transaction: the run's counters never disagree with its
            // stored annotations.
            write(&self.db, &[stores::ANNOTATIONS, stores::RUNS], async |tx| {
                let store = tx.object_store(stores::ANNOTATIONS)?;
                for a in &batch {
                    send(store.put(to_js(a)?).primitive())?;
                }
                if let Some(r) = &run {
                    send(tx.object_store(stores::RUNS)?.put(to_js(r)?).primitive())?;
                }
                Ok(())
            })
            .await
        }
        .boxed_local()
    }

    fn delete_annotation(
        &self,
        dataset_id: String,
        source: String,
        row: u32,
        attribute: String,
    ) -> Fut<'_, ()> {
        async move {
            write(&self.db, &[stores::ANNOTATIONS], async |tx| {
                let k = key(&[
                    JsValue::from_str(&dataset_id),
                    JsValue::from_str(&source),
                    JsValue::from(row),
                    JsValue::from_str(&attribute),
                ]);
                send(tx.object_store(stores::ANNOTATIONS)?.delete(k).primitive())
            })
            .await
        }
        .boxed_local()
    }

    fn annotations(&self, dataset_id: String, source: String) -> Fut<'_, Vec<Annotation>> {
        async move {
            let (lower, upper) =
                prefix_bounds(&[JsValue::from_str(&dataset_id), JsValue::from_str(&source)]);
            self.annotations_between(lower, upper).await
        }
        .boxed_local()
    }
}
