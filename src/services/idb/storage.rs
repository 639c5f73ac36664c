//! [`IdbStorage`]: the app's [`Storage`] on one IndexedDB database, each write
//! in one transaction.

use super::chunks::{from_chunk, put_chunks, RowChunk, ROWS_PER_CHUNK};
use super::request::{commit, from_array, from_js, js_err, key, prefix_range, put, request, to_js};
use super::schema::{db_name, open_database, stores, DB_VERSION};
use crate::services::storage::{Storage, StorageError, StorageResult};
use fannotate_core::records::{
    Annotation, CodebookVersion, DatasetMeta, EndpointConfig, Experiment, ImportMarker, Project,
    RowRecord, RunRecord,
};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use js_sys::Array;
use serde::Serialize;
use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbKeyRange, IdbTransaction, IdbTransactionMode};

/// [`Storage`] backed by one IndexedDB database.
pub struct IdbStorage {
    db: IdbDatabase,
}

impl Drop for IdbStorage {
    fn drop(&mut self) {
        self.db.close();
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

    fn tx(&self, names: &[&str], mode: IdbTransactionMode) -> StorageResult<IdbTransaction> {
        let arr: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
        self.db
            .transaction_with_str_sequence_and_mode(&arr, mode)
            .map_err(js_err)
    }

    /// Run `body` in one transaction over `names` and wait for it to commit. Every
    /// write of the app goes through here, so each is all-or-nothing.
    async fn write<F>(&self, names: &[&str], body: F) -> StorageResult<()>
    where
        F: AsyncFnOnce(&IdbTransaction) -> StorageResult<()>,
    {
        let tx = self.tx(names, IdbTransactionMode::Readwrite)?;
        if let Err(e) = body(&tx).await {
            let _ = tx.abort();
            return Err(e);
        }
        commit(&tx).await
    }

    /// Put one record into one store, in its own transaction.
    async fn put_one<T: Serialize>(&self, store: &str, v: &T) -> StorageResult<()> {
        self.write(&[store], async |tx| put(tx, store, v).map(drop))
            .await
    }

    async fn get_all(
        &self,
        store: &str,
        range: Option<&JsValue>,
        limit: Option<u32>,
    ) -> StorageResult<JsValue> {
        let tx = self.tx(&[store], IdbTransactionMode::Readonly)?;
        let s = tx.object_store(store).map_err(js_err)?;
        let req = match (range, limit) {
            (Some(r), Some(l)) => s.get_all_with_key_and_limit(r, l),
            (Some(r), None) => s.get_all_with_key(r),
            _ => s.get_all(),
        }
        .map_err(js_err)?;
        request(req).await
    }

    async fn by_project(&self, store: &str, project_id: &str) -> StorageResult<JsValue> {
        let tx = self.tx(&[store], IdbTransactionMode::Readonly)?;
        let idx = tx
            .object_store(store)
            .map_err(js_err)?
            .index(stores::BY_PROJECT)
            .map_err(js_err)?;
        request(
            idx.get_all_with_key(&JsValue::from_str(project_id))
                .map_err(js_err)?,
        )
        .await
    }

    async fn get(&self, store: &str, k: &JsValue) -> StorageResult<JsValue> {
        let tx = self.tx(&[store], IdbTransactionMode::Readonly)?;
        request(
            tx.object_store(store)
                .map_err(js_err)?
                .get(k)
                .map_err(js_err)?,
        )
        .await
    }
}

/// Delete a dataset's rows and annotations inside `tx`.
fn delete_dataset_contents(tx: &IdbTransaction, dataset_id: &str) -> StorageResult<()> {
    let range = prefix_range(&[JsValue::from_str(dataset_id)])?;
    for store in [stores::ROWS, stores::ROW_CHUNKS, stores::ANNOTATIONS] {
        tx.object_store(store)
            .map_err(js_err)?
            .delete(&range)
            .map_err(js_err)?;
    }
    tx.object_store(stores::DATASETS)
        .map_err(js_err)?
        .delete(&JsValue::from_str(dataset_id))
        .map_err(js_err)?;
    Ok(())
}

/// Ids of the project's datasets, read inside `tx`.
async fn project_dataset_ids(tx: &IdbTransaction, project_id: &str) -> StorageResult<Vec<String>> {
    let idx = tx
        .object_store(stores::DATASETS)
        .map_err(js_err)?
        .index(stores::BY_PROJECT)
        .map_err(js_err)?;
    let metas: Vec<DatasetMeta> = from_array(
        request(
            idx.get_all_with_key(&JsValue::from_str(project_id))
                .map_err(js_err)?,
        )
        .await?,
    )?;
    Ok(metas.into_iter().map(|m| m.id).collect())
}

/// Inside `tx`: delete the project's datasets with their rows and annotations,
/// and store `meta` as its dataset.
async fn replace_project_dataset(tx: &IdbTransaction, meta: &DatasetMeta) -> StorageResult<()> {
    for old in project_dataset_ids(tx, &meta.project_id).await? {
        delete_dataset_contents(tx, &old)?;
    }
    put(tx, stores::DATASETS, meta).map(drop)
}

type Fut<'a, T> = LocalBoxFuture<'a, StorageResult<T>>;

impl Storage for IdbStorage {
    fn list_projects(&self) -> Fut<'_, Vec<Project>> {
        async move {
            let mut v: Vec<Project> =
                from_array(self.get_all(stores::PROJECTS, None, None).await?)?;
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
            self.write(&stores::ALL, async |tx| {
                for ds in project_dataset_ids(tx, &project_id).await? {
                    delete_dataset_contents(tx, &ds)?;
                }
                let pid = JsValue::from_str(&project_id);
                for name in [stores::RUNS, stores::EXPERIMENTS] {
                    let store = tx.object_store(name).map_err(js_err)?;
                    let keys = request(
                        store
                            .index(stores::BY_PROJECT)
                            .map_err(js_err)?
                            .get_all_keys_with_key(&pid)
                            .map_err(js_err)?,
                    )
                    .await?;
                    for k in Array::from(&keys).iter() {
                        store.delete(&k).map_err(js_err)?;
                    }
                }
                let codebooks = prefix_range(std::slice::from_ref(&pid))?;
                tx.object_store(stores::CODEBOOKS)
                    .map_err(js_err)?
                    .delete(&codebooks)
                    .map_err(js_err)?;
                tx.object_store(stores::ENDPOINTS)
                    .map_err(js_err)?
                    .delete(&pid)
                    .map_err(js_err)?;
                tx.object_store(stores::PROJECTS)
                    .map_err(js_err)?
                    .delete(&pid)
                    .map_err(js_err)?;
                Ok(())
            })
            .await
        }
        .boxed_local()
    }

    fn put_dataset(&self, meta: DatasetMeta, rows: Vec<RowRecord>) -> Fut<'_, ()> {
        async move {
            self.write(
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
            self.write(&[stores::ROW_CHUNKS], async |tx| put_chunks(tx, &rows))
                .await
        }
        .boxed_local()
    }

    fn commit_import(&self, meta: DatasetMeta) -> Fut<'_, ()> {
        async move {
            self.write(
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
                    let imports = tx.object_store(stores::IMPORTS).map_err(js_err)?;
                    let id = JsValue::from_str(&meta.id);
                    if request(imports.get(&id).map_err(js_err)?)
                        .await?
                        .is_undefined()
                    {
                        return Err(StorageError::Interrupted);
                    }
                    replace_project_dataset(tx, &meta).await?;
                    imports.delete(&id).map_err(js_err)?;
                    Ok(())
                },
            )
            .await
        }
        .boxed_local()
    }

    fn abort_imports(&self, dataset_id: Option<String>) -> Fut<'_, u32> {
        async move {
            let mut n = 0;
            self.write(&[stores::ROW_CHUNKS, stores::IMPORTS], async |tx| {
                let imports = tx.object_store(stores::IMPORTS).map_err(js_err)?;
                let ids: Vec<String> = match &dataset_id {
                    Some(id) => vec![id.clone()],
                    None => from_array::<ImportMarker>(
                        request(imports.get_all().map_err(js_err)?).await?,
                    )?
                    .into_iter()
                    .map(|m| m.dataset_id)
                    .collect(),
                };
                for id in &ids {
                    let range = prefix_range(&[JsValue::from_str(id)])?;
                    tx.object_store(stores::ROW_CHUNKS)
                        .map_err(js_err)?
                        .delete(&range)
                        .map_err(js_err)?;
                    imports.delete(&JsValue::from_str(id)).map_err(js_err)?;
                }
                n = ids.len() as u32;
                Ok(())
            })
            .await?;
            Ok(n)
        }
        .boxed_local()
    }

    fn dataset(&self, project_id: String) -> Fut<'_, Option<DatasetMeta>> {
        async move {
            let mut v: Vec<DatasetMeta> =
                from_array(self.by_project(stores::DATASETS, &project_id).await?)?;
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
            let chunks = IdbKeyRange::bound(
                &key(&[ds.clone(), JsValue::from(start / ROWS_PER_CHUNK)]),
                &key(&[ds.clone(), JsValue::from((end - 1) / ROWS_PER_CHUNK)]),
            )
            .map_err(js_err)?;
            let found: Vec<RowChunk> = from_array(
                self.get_all(stores::ROW_CHUNKS, Some(&chunks), None)
                    .await?,
            )?;
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
            let range = IdbKeyRange::bound(
                &key(&[ds.clone(), JsValue::from(start)]),
                &key(&[ds, JsValue::from(end)]),
            )
            .map_err(js_err)?;
            let mut v: Vec<RowRecord> = from_array(
                self.get_all(stores::ROWS, Some(&range), Some(limit))
                    .await?,
            )?;
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
            let range = prefix_range(&[JsValue::from_str(&project_id)])?;
            let v: Vec<CodebookVersion> =
                from_array(self.get_all(stores::CODEBOOKS, Some(&range), None).await?)?;
            Ok(v.into_iter().max_by_key(|c| c.version))
        }
        .boxed_local()
    }

    fn codebook_versions(&self, project_id: String) -> Fut<'_, Vec<CodebookVersion>> {
        async move {
            let range = prefix_range(&[JsValue::from_str(&project_id)])?;
            from_array(self.get_all(stores::CODEBOOKS, Some(&range), None).await?)
        }
        .boxed_local()
    }

    fn all_annotations(&self, dataset_id: String) -> Fut<'_, Vec<Annotation>> {
        async move {
            let range = prefix_range(&[JsValue::from_str(&dataset_id)])?;
            from_array(
                self.get_all(stores::ANNOTATIONS, Some(&range), None)
                    .await?,
            )
        }
        .boxed_local()
    }

    fn put_endpoint(&self, e: EndpointConfig) -> Fut<'_, ()> {
        async move { self.put_one(stores::ENDPOINTS, &e).await }.boxed_local()
    }

    fn endpoint(&self, project_id: String) -> Fut<'_, Option<EndpointConfig>> {
        async move {
            let v = self
                .get(stores::ENDPOINTS, &JsValue::from_str(&project_id))
                .await?;
            if v.is_undefined() {
                Ok(None)
            } else {
                from_js(v).map(Some)
            }
        }
        .boxed_local()
    }

    fn put_run(&self, r: RunRecord) -> Fut<'_, ()> {
        async move { self.put_one(stores::RUNS, &r).await }.boxed_local()
    }

    fn runs(&self, project_id: String) -> Fut<'_, Vec<RunRecord>> {
        async move {
            let mut v: Vec<RunRecord> =
                from_array(self.by_project(stores::RUNS, &project_id).await?)?;
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
            let mut v: Vec<Experiment> =
                from_array(self.by_project(stores::EXPERIMENTS, &project_id).await?)?;
            v.sort_by(|a, b| b.created_at.total_cmp(&a.created_at));
            Ok(v)
        }
        .boxed_local()
    }

    fn delete_experiment(&self, id: String) -> Fut<'_, ()> {
        async move {
            self.write(&[stores::EXPERIMENTS], async |tx| {
                tx.object_store(stores::EXPERIMENTS)
                    .map_err(js_err)?
                    .delete(&JsValue::from_str(&id))
                    .map_err(js_err)?;
                Ok(())
            })
            .await
        }
        .boxed_local()
    }

    fn put_annotations(&self, batch: Vec<Annotation>, run: Option<RunRecord>) -> Fut<'_, ()> {
        async move {
            self.write(&[stores::ANNOTATIONS, stores::RUNS], async |tx| {
                let store = tx.object_store(stores::ANNOTATIONS).map_err(js_err)?;
                for a in &batch {
                    store.put(&to_js(a)?).map_err(js_err)?;
                }
                if let Some(r) = &run {
                    put(tx, stores::RUNS, r)?;
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
            self.write(&[stores::ANNOTATIONS], async |tx| {
                let k = key(&[
                    JsValue::from_str(&dataset_id),
                    JsValue::from_str(&source),
                    JsValue::from(row),
                    JsValue::from_str(&attribute),
                ]);
                tx.object_store(stores::ANNOTATIONS)
                    .map_err(js_err)?
                    .delete(&k)
                    .map_err(js_err)?;
                Ok(())
            })
            .await
        }
        .boxed_local()
    }

    fn annotations(&self, dataset_id: String, source: String) -> Fut<'_, Vec<Annotation>> {
        async move {
            let range =
                prefix_range(&[JsValue::from_str(&dataset_id), JsValue::from_str(&source)])?;
            from_array(
                self.get_all(stores::ANNOTATIONS, Some(&range), None)
                    .await?,
            )
        }
        .boxed_local()
    }
}
