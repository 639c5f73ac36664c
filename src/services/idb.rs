//! IndexedDB implementation of [`Storage`].
//!
//! Every database is namespaced by the embed's persistence key, so two instances
//! on one page never see each other's data. Schema changes go through [`migrate`],
//! one step per version.

use super::storage::{Storage, StorageError, StorageResult};
use fannotate_core::records::{
    Annotation, CodebookVersion, DatasetMeta, EndpointConfig, Experiment, ImportMarker, Project,
    RowRecord, RunRecord,
};
use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use js_sys::Array;
use serde::{de::DeserializeOwned, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Event, EventTarget, IdbDatabase, IdbIndexParameters, IdbKeyRange, IdbObjectStore,
    IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
    IdbVersionChangeEvent,
};

/// Prefix of every database name. Do not change without a migration: users'
/// data lives under it.
pub const DB_PREFIX: &str = "fannotate";
/// Current schema version. Bump only together with a new step in [`migrate`].
pub const DB_VERSION: u32 = 3;

/// Object store names. Do not change without a migration.
pub mod stores {
    /// Projects, keyed by `id`.
    pub const PROJECTS: &str = "projects";
    /// Dataset metadata, keyed by `id`, indexed by `project_id`.
    pub const DATASETS: &str = "datasets";
    /// Rows, keyed by `[dataset_id, idx]`.
    pub const ROWS: &str = "rows";
    /// Codebook versions, keyed by `[project_id, version]`.
    pub const CODEBOOKS: &str = "codebooks";
    /// Endpoint settings, keyed by `project_id`.
    pub const ENDPOINTS: &str = "endpoints";
    /// Runs, keyed by `id`, indexed by `project_id`.
    pub const RUNS: &str = "runs";
    /// Annotations, keyed by `[dataset_id, source, row, attribute]`.
    pub const ANNOTATIONS: &str = "annotations";
    /// Imports in progress (since version 2), keyed by `dataset_id`: rows written
    /// under a marker belong to no dataset until the import commits.
    pub const IMPORTS: &str = "imports";
    /// Rows in chunks of [`super::ROWS_PER_CHUNK`] (since version 2), keyed by
    /// `[dataset_id, chunk]`, each holding its rows as one JSON string: one
    /// record per thousand rows makes large imports and reads many times
    /// faster than one per row. Datasets imported at version 1 stay in `rows`.
    pub const ROW_CHUNKS: &str = "row_chunks";
    /// Experiments (since version 3), keyed by `id`, indexed by `project_id`.
    pub const EXPERIMENTS: &str = "experiments";
    /// Index on `project_id` in datasets, runs and experiments.
    pub const BY_PROJECT: &str = "by_project";
    /// Every store, for whole-database transactions.
    pub const ALL: [&str; 10] = [
        PROJECTS,
        DATASETS,
        ROWS,
        CODEBOOKS,
        ENDPOINTS,
        RUNS,
        ANNOTATIONS,
        IMPORTS,
        ROW_CHUNKS,
        EXPERIMENTS,
    ];
}

/// The database name for a persistence key.
pub fn db_name(persistence_key: &str) -> String {
    format!("{DB_PREFIX}:{persistence_key}")
}

fn create_store(
    db: &IdbDatabase,
    name: &str,
    key_path: &[&str],
) -> Result<IdbObjectStore, JsValue> {
    let params = IdbObjectStoreParameters::new();
    if let [one] = key_path {
        params.set_key_path(&JsValue::from_str(one));
    } else {
        let arr: Array = key_path.iter().map(|k| JsValue::from_str(k)).collect();
        params.set_key_path(&arr);
    }
    db.create_object_store_with_optional_parameters(name, &params)
}

fn add_project_index(store: &IdbObjectStore) -> Result<(), JsValue> {
    let p = IdbIndexParameters::new();
    p.set_unique(false);
    store.create_index_with_str_and_optional_parameters(stores::BY_PROJECT, "project_id", &p)?;
    Ok(())
}

/// Version 1: every store of the first schema.
fn migrate_to_1(db: &IdbDatabase) -> Result<(), JsValue> {
    create_store(db, stores::PROJECTS, &["id"])?;
    add_project_index(&create_store(db, stores::DATASETS, &["id"])?)?;
    create_store(db, stores::ROWS, &["dataset_id", "idx"])?;
    create_store(db, stores::CODEBOOKS, &["project_id", "version"])?;
    create_store(db, stores::ENDPOINTS, &["project_id"])?;
    add_project_index(&create_store(db, stores::RUNS, &["id"])?)?;
    create_store(
        db,
        stores::ANNOTATIONS,
        &["dataset_id", "source", "row", "attribute"],
    )?;
    Ok(())
}

/// Version 2: markers of imports in progress, so rows of an import that never
/// finished (a closed tab) can be found and removed; and rows in chunks. Rows
/// stored per record by version 1 are still read from `rows`.
fn migrate_to_2(db: &IdbDatabase) -> Result<(), JsValue> {
    create_store(db, stores::IMPORTS, &["dataset_id"])?;
    create_store(db, stores::ROW_CHUNKS, &["dataset_id", "chunk"])?;
    Ok(())
}

/// Version 3: experiments (grids of configurations measured on the validation
/// set); their cells are ordinary runs.
fn migrate_to_3(db: &IdbDatabase) -> Result<(), JsValue> {
    add_project_index(&create_store(db, stores::EXPERIMENTS, &["id"])?)?;
    Ok(())
}

/// Rows per record of the `row_chunks` store. Part of the stored format: do not
/// change without a migration.
pub const ROWS_PER_CHUNK: u32 = 1000;

/// One record of the `row_chunks` store.
#[derive(Serialize, serde::Deserialize)]
struct RowChunk {
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
fn from_chunk(c: RowChunk) -> StorageResult<Vec<RowRecord>> {
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
fn put_chunks(tx: &IdbTransaction, rows: &[RowRecord]) -> StorageResult<()> {
    let store = tx.object_store(stores::ROW_CHUNKS).map_err(js_err)?;
    for c in to_chunks(rows)? {
        store.put(&to_js(&c)?).map_err(js_err)?;
    }
    Ok(())
}

/// Upgrade a database from `old` to `new`, one step per version. Runs inside the
/// versionchange transaction, so a failed step leaves the old version intact.
pub fn migrate(db: &IdbDatabase, _tx: &IdbTransaction, old: u32, new: u32) -> Result<(), JsValue> {
    if old < 1 && new >= 1 {
        migrate_to_1(db)?;
    }
    if old < 2 && new >= 2 {
        migrate_to_2(db)?;
    }
    if old < 3 && new >= 3 {
        migrate_to_3(db)?;
    }
    Ok(())
}

fn dom_error(err: Option<web_sys::DomException>) -> StorageError {
    match err {
        Some(e) if e.name() == "QuotaExceededError" => StorageError::QuotaExceeded,
        Some(e) => StorageError::Other(format!("{}: {}", e.name(), e.message())),
        None => StorageError::Other("unknown IndexedDB error".into()),
    }
}

fn js_err(v: JsValue) -> StorageError {
    match v.dyn_into::<web_sys::DomException>() {
        Ok(e) => dom_error(Some(e)),
        Err(v) => StorageError::Other(
            v.as_string()
                .unwrap_or_else(|| "IndexedDB call failed".into()),
        ),
    }
}

/// Wait until `target` fires one of `ok` (→ `Ok`) or `errs` (→ `Err`).
async fn wait_event(target: &EventTarget, ok: &str, errs: &[&str]) -> Result<(), String> {
    let (tx, rx) = oneshot::channel::<Result<(), String>>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let make = |result: fn(&Event) -> Result<(), String>| {
        let tx = tx.clone();
        Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            if let Some(s) = tx.borrow_mut().take() {
                // The receiver only goes away if the future was dropped; nothing to tell then.
                let _ = s.send(result(&ev));
            }
        })
    };
    let on_ok = make(|_| Ok(()));
    let on_err = make(|ev| {
        // Keep the error from also surfacing as an uncaught window error.
        ev.prevent_default();
        Err(ev.type_())
    });
    let _ = target.add_event_listener_with_callback(ok, on_ok.as_ref().unchecked_ref());
    for e in errs {
        let _ = target.add_event_listener_with_callback(e, on_err.as_ref().unchecked_ref());
    }
    let out = rx.await.unwrap_or_else(|_| Err("cancelled".into()));
    let _ = target.remove_event_listener_with_callback(ok, on_ok.as_ref().unchecked_ref());
    for e in errs {
        let _ = target.remove_event_listener_with_callback(e, on_err.as_ref().unchecked_ref());
    }
    out
}

/// Await a request's result.
async fn request(req: IdbRequest) -> StorageResult<JsValue> {
    match wait_event(&req, "success", &["error"]).await {
        Ok(()) => req.result().map_err(js_err),
        Err(_) => Err(dom_error(req.error().ok().flatten())),
    }
}

/// Await a transaction's commit; an abort reports the transaction's error.
async fn commit(tx: &IdbTransaction) -> StorageResult<()> {
    match wait_event(tx, "complete", &["abort", "error"]).await {
        Ok(()) => Ok(()),
        Err(_) => Err(dom_error(tx.error())),
    }
}

/// Open (creating or upgrading) a database at a version.
pub async fn open_database(name: &str, version: u32) -> StorageResult<IdbDatabase> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or(StorageError::Unavailable)?;
    let req: IdbOpenDbRequest = factory.open_with_u32(name, version).map_err(js_err)?;
    let failure: Rc<RefCell<Option<StorageError>>> = Rc::default();
    let fail = failure.clone();
    let on_upgrade =
        Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |ev: IdbVersionChangeEvent| {
            let Some(req) = ev
                .target()
                .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
            else {
                return;
            };
            let (Ok(db), Some(tx)) = (req.result(), req.transaction()) else {
                return;
            };
            let db: IdbDatabase = db.unchecked_into();
            let new = ev.new_version().unwrap_or(version as f64) as u32;
            if let Err(e) = migrate(&db, &tx, ev.old_version() as u32, new) {
                *fail.borrow_mut() = Some(js_err(e));
                let _ = tx.abort();
            }
        });
    req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let on_blocked = {
        let fail = failure.clone();
        Closure::<dyn FnMut(Event)>::new(move |_| {
            fail.borrow_mut().get_or_insert(StorageError::Blocked);
        })
    };
    req.set_onblocked(Some(on_blocked.as_ref().unchecked_ref()));
    let res = wait_event(&req, "success", &["error"]).await;
    req.set_onupgradeneeded(None);
    req.set_onblocked(None);
    if let Some(e) = failure.borrow_mut().take() {
        return Err(e);
    }
    match res {
        Ok(()) => Ok(req.result().map_err(js_err)?.unchecked_into()),
        Err(_) => Err(dom_error(req.error().ok().flatten())),
    }
}

fn to_js<T: Serialize>(v: &T) -> StorageResult<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StorageError::Corrupt(e.to_string()))
}

fn from_js<T: DeserializeOwned>(v: JsValue) -> StorageResult<T> {
    serde_wasm_bindgen::from_value(v).map_err(|e| StorageError::Corrupt(e.to_string()))
}

fn from_array<T: DeserializeOwned>(v: JsValue) -> StorageResult<Vec<T>> {
    Array::from(&v).iter().map(from_js).collect()
}

fn key(parts: &[JsValue]) -> JsValue {
    parts.iter().collect::<Array>().into()
}

/// Every key starting with `prefix` (array keys: `[p..]` up to `[p.., []]`,
/// since arrays sort after strings and numbers).
fn prefix_range(prefix: &[JsValue]) -> StorageResult<IdbKeyRange> {
    let mut upper: Vec<JsValue> = prefix.to_vec();
    upper.push(Array::new().into());
    IdbKeyRange::bound(&key(prefix), &key(&upper)).map_err(js_err)
}

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

fn put<T: Serialize>(tx: &IdbTransaction, store: &str, v: &T) -> StorageResult<IdbRequest> {
    tx.object_store(store)
        .map_err(js_err)?
        .put(&to_js(v)?)
        .map_err(js_err)
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
