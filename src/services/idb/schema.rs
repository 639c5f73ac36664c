//! The database's schema: its name, version and object stores, the migration
//! per version, and opening a database (which upgrades it).

use super::request::{dom_error, js_err, wait_event};
use crate::services::storage::{StorageError, StorageResult};
use js_sys::Array;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{
    Event, IdbDatabase, IdbIndexParameters, IdbObjectStore, IdbObjectStoreParameters,
    IdbOpenDbRequest, IdbTransaction, IdbVersionChangeEvent,
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
    /// Rows in chunks of [`ROWS_PER_CHUNK`](crate::services::idb::ROWS_PER_CHUNK) (since version 2), keyed by
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
