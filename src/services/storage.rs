//! The storage interface the app uses, independent of IndexedDB so tests can use
//! [`super::memory::MemoryStorage`].

use fannotate_core::records::{
    Annotation, CodebookVersion, DatasetMeta, EndpointConfig, Experiment, ImportMarker, Project,
    RowRecord, RunRecord,
};
use futures::future::LocalBoxFuture;

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StorageError {
    /// IndexedDB is missing (private mode in some browsers, or disabled).
    #[error("browser storage (IndexedDB) is not available")]
    Unavailable,
    /// Another tab holds an older version of the database open.
    #[error("the database is open in another tab with an older version")]
    Blocked,
    /// The browser's storage quota is used up.
    #[error("the browser's storage quota is full")]
    QuotaExceeded,
    /// A stored record does not have the expected shape.
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
    /// An import's staged rows were removed before it could finish.
    #[error("the import was interrupted before it finished")]
    Interrupted,
    /// Any other IndexedDB failure, with the browser's message.
    #[error("browser storage failed: {0}")]
    Other(String),
}

impl StorageError {
    /// What to tell the user.
    pub fn user_message(&self) -> String {
        match self {
            StorageError::Unavailable => "This browser does not allow local storage (IndexedDB) for this page. Private windows sometimes block it; try a normal window.".into(),
            StorageError::Blocked => "Fannotate is open in another tab with an older version. Close the other tab and reload.".into(),
            StorageError::QuotaExceeded => "The browser's storage for this site is full. Nothing was half-written. Delete an old project or free disk space, then try again.".into(),
            StorageError::Corrupt(m) => format!("Stored data could not be read ({m}). Export what you can and re-import."),
            StorageError::Interrupted => "The import was interrupted (the page or another tab cleaned it up) and nothing was stored. Import the file again.".into(),
            StorageError::Other(m) => format!("Saving in the browser failed: {m}."),
        }
    }
}

/// Result alias for storage calls.
pub type StorageResult<T> = Result<T, StorageError>;
type Fut<'a, T> = LocalBoxFuture<'a, StorageResult<T>>;

/// Everything the app persists. Every write is atomic: it fully happens or not at all.
pub trait Storage {
    /// All projects, most recently updated first.
    fn list_projects(&self) -> Fut<'_, Vec<Project>>;
    /// Create or update a project.
    fn put_project(&self, project: Project) -> Fut<'_, ()>;
    /// Delete a project and everything that belongs to it.
    fn delete_project(&self, project_id: String) -> Fut<'_, ()>;
    /// Store a dataset with all its rows, replacing the project's previous dataset.
    fn put_dataset(&self, meta: DatasetMeta, rows: Vec<RowRecord>) -> Fut<'_, ()>;
    /// Start a chunked import: rows written under `marker.dataset_id` belong to
    /// no dataset until [`Storage::commit_import`].
    fn begin_import(&self, marker: ImportMarker) -> Fut<'_, ()>;
    /// Write a chunk of an import's rows.
    fn put_rows(&self, rows: Vec<RowRecord>) -> Fut<'_, ()>;
    /// Finish an import in one transaction: the dataset appears with all its rows
    /// and replaces the project's previous dataset, or nothing changes.
    fn commit_import(&self, meta: DatasetMeta) -> Fut<'_, ()>;
    /// Remove the rows of an unfinished import (`None`: of every unfinished
    /// import, e.g. after a tab closed mid-import). Returns how many imports.
    fn abort_imports(&self, dataset_id: Option<String>) -> Fut<'_, u32>;
    /// Update a dataset's metadata (e.g. its gold column mapping); rows stay.
    fn update_dataset(&self, meta: DatasetMeta) -> Fut<'_, ()>;
    /// The project's dataset, if one was imported.
    fn dataset(&self, project_id: String) -> Fut<'_, Option<DatasetMeta>>;
    /// Rows `[start, start + limit)` of a dataset in file order.
    fn rows(&self, dataset_id: String, start: u32, limit: u32) -> Fut<'_, Vec<RowRecord>>;
    /// Add a codebook version.
    fn put_codebook(&self, version: CodebookVersion) -> Fut<'_, ()>;
    /// The project's newest codebook version.
    fn latest_codebook(&self, project_id: String) -> Fut<'_, Option<CodebookVersion>>;
    /// Save the project's endpoint settings.
    fn put_endpoint(&self, endpoint: EndpointConfig) -> Fut<'_, ()>;
    /// The project's endpoint settings.
    fn endpoint(&self, project_id: String) -> Fut<'_, Option<EndpointConfig>>;
    /// Create or update a run.
    fn put_run(&self, run: RunRecord) -> Fut<'_, ()>;
    /// The project's runs, newest first.
    fn runs(&self, project_id: String) -> Fut<'_, Vec<RunRecord>>;
    /// Store a batch of annotations (and, atomically with them, the run's counters).
    fn put_annotations(&self, batch: Vec<Annotation>, run: Option<RunRecord>) -> Fut<'_, ()>;
    /// Remove one annotation (e.g. undoing a human label).
    fn delete_annotation(
        &self,
        dataset_id: String,
        source: String,
        row: u32,
        attribute: String,
    ) -> Fut<'_, ()>;
    /// Create or update an experiment.
    fn put_experiment(&self, experiment: Experiment) -> Fut<'_, ()>;
    /// The project's experiments, newest first.
    fn experiments(&self, project_id: String) -> Fut<'_, Vec<Experiment>>;
    /// Delete an experiment (its runs and their annotations stay).
    fn delete_experiment(&self, id: String) -> Fut<'_, ()>;
    /// Every codebook version of a project, oldest first.
    fn codebook_versions(&self, project_id: String) -> Fut<'_, Vec<CodebookVersion>>;
    /// Every annotation of a dataset, from every source.
    fn all_annotations(&self, dataset_id: String) -> Fut<'_, Vec<Annotation>>;
    /// All annotations of one dataset from one source, in row order.
    fn annotations(&self, dataset_id: String, source: String) -> Fut<'_, Vec<Annotation>>;
}
