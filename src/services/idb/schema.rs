//! The database's schema: its name, version and object stores, the migration
//! per version, and opening a database (which upgrades it).

use super::errors::open_error;
use crate::services::storage::{StorageError, StorageResult};
use indexed_db_futures::database::Database;
use indexed_db_futures::factory::DBFactory;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::{Build, KeyPath};
use std::cell::Cell;
use std::rc::Rc;

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

/// A store keyed by one field (a string key path) or by several (an array key
/// path, so keys are arrays).
fn create_store<'a>(
    db: &'a Database,
    name: &str,
    key_path: &[&str],
) -> indexed_db_futures::Result<ObjectStore<'a>> {
    let key_path: KeyPath<&str> = match key_path {
        [one] => KeyPath::One(*one),
        many => many.iter().copied().collect(),
    };
    db.create_object_store(name).with_key_path(key_path).build()
}

fn add_project_index(store: &ObjectStore<'_>) -> indexed_db_futures::Result<()> {
    store
        .create_index(stores::BY_PROJECT, KeyPath::One("project_id"))
        .with_unique(false)
        .build()
        .map(drop)
}

/// Version 1: every store of the first schema.
fn migrate_to_1(db: &Database) -> indexed_db_futures::Result<()> {
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
fn migrate_to_2(db: &Database) -> indexed_db_futures::Result<()> {
    create_store(db, stores::IMPORTS, &["dataset_id"])?;
    create_store(db, stores::ROW_CHUNKS, &["dataset_id", "chunk"])?;
    Ok(())
}

/// Version 3: experiments (grids of configurations measured on the validation
/// set); their cells are ordinary runs.
fn migrate_to_3(db: &Database) -> indexed_db_futures::Result<()> {
    add_project_index(&create_store(db, stores::EXPERIMENTS, &["id"])?)?;
    Ok(())
}

/// Upgrade a database from `old` to `new`, one step per version. Runs inside the
/// versionchange transaction, so a failed step leaves the old version intact.
pub fn migrate(db: &Database, old: u32, new: u32) -> indexed_db_futures::Result<()> {
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
pub async fn open_database(name: &str, version: u32) -> StorageResult<Database> {
    if version == 0 {
        return Err(StorageError::Other("IndexedDB versions start at 1".into()));
    }
    let factory = DBFactory::new().map_err(|_| StorageError::Unavailable)?;
    // Another tab holding an older version open delays the upgrade until it
    // closes; the open then still reports that it was blocked.
    let blocked = Rc::new(Cell::new(false));
    let on_blocked = blocked.clone();
    let opened = factory
        .open_db(name)
        .with_version(version)
        .with_on_blocked(move |_| {
            on_blocked.set(true);
            Ok(())
        })
        // A failed step makes the handler throw, which aborts the versionchange
        // transaction; the open then fails with the step's error.
        .with_on_upgrade_needed(move |event, db| {
            let new = event.new_version().map_or(version, |v| v as u32);
            migrate(&db, event.old_version() as u32, new)
        })
        .build()
        .map_err(open_error)?
        .await;
    if blocked.get() {
        if let Ok(db) = opened {
            db.close();
        }
        return Err(StorageError::Blocked);
    }
    opened.map_err(open_error)
}
