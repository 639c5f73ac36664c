//! The app's error type: one enum per layer rolled up into [`AppError`], whose
//! [`AppError::user_message`] is the only text the UI shows for a failure.

use crate::services::backup::BackupError;
use crate::services::export::ExportError;
use crate::services::files::FileError;
use crate::services::importer::ImportError;
use crate::services::llm::LlmError;
use crate::services::runner::RunError;
use crate::services::sample::SampleError;
use crate::services::storage::StorageError;
use crate::services::worker::WorkerError;
use fannotate_core::batch::BatchError;
use fannotate_core::{CodebookError, TableError};

/// Any failure the user can be told about.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    /// Browser storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The model endpoint failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// An imported file could not be read.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The codebook is invalid.
    #[error(transparent)]
    Codebook(#[from] CodebookError),
    /// A backup could not be made or restored.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// A run could not start, or could not store its results.
    #[error(transparent)]
    Run(RunError),
    /// A run was asked to start while another is going.
    #[error("a run is already in progress")]
    RunInProgress,
    /// Something a workflow needs is not there yet.
    #[error(transparent)]
    Missing(#[from] Missing),
    /// A download could not be offered (a read failure is an import's).
    #[error(transparent)]
    File(FileError),
    /// A calculation in the compute worker failed.
    #[error(transparent)]
    Compute(#[from] WorkerError),
    /// A batch file could not be made, or an output file read.
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// An error that can tell the user what happened.
pub trait Explain {
    /// A sentence for the user: what happened and, where we know it, what to do.
    fn user_message(&self) -> String;
}

impl Explain for AppError {
    fn user_message(&self) -> String {
        AppError::user_message(self)
    }
}

impl Explain for StorageError {
    fn user_message(&self) -> String {
        StorageError::user_message(self)
    }
}

impl AppError {
    /// A sentence for the user: what happened and, where we know it, what to do.
    pub fn user_message(&self) -> String {
        match self {
            AppError::Storage(e) => e.user_message(),
            AppError::Llm(e) => e.user_message(),
            AppError::Import(e) => format!("Import failed: {e}."),
            AppError::Codebook(e) => format!("The codebook needs a fix: {e}."),
            AppError::Backup(BackupError::Storage(e)) => e.user_message(),
            AppError::Backup(e) => format!("{e}."),
            AppError::Run(RunError::Storage(e)) => e.user_message(),
            AppError::Run(e) => format!("The run could not start: {e}."),
            AppError::Missing(e) => format!("{e}."),
            AppError::RunInProgress => {
                "A run is already in progress: wait for it to finish, or cancel it.".into()
            }
            AppError::File(e) => format!("The download failed: {e}."),
            AppError::Compute(e) => e.user_message(),
            AppError::Batch(e) => format!("Batch: {e}."),
        }
    }
}

impl From<TableError> for AppError {
    fn from(e: TableError) -> Self {
        AppError::Import(ImportError::Table(e))
    }
}

impl From<FileError> for AppError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Read(_) => AppError::Import(ImportError::File(e)),
            FileError::Download(_) => AppError::File(e),
        }
    }
}

impl From<RunError> for AppError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Storage(e) => AppError::Storage(e),
            other => AppError::Run(other),
        }
    }
}

/// What a workflow needs before it can start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Missing {
    /// The project has no dataset.
    #[error("Import a dataset first (the Data step)")]
    Dataset,
    /// The project has no saved codebook.
    #[error("Save a codebook first (the Codebook step)")]
    Codebook,
    /// The codebook version has no such attribute.
    #[error("The codebook has no attribute \"{0}\"; pick another")]
    Attribute(String),
    /// Combining runs needs at least two of one attribute.
    #[error("Choose at least two runs of the same attribute to combine")]
    Runs,
    /// The run is gone, or can no longer take results (its dataset or prompt version is gone).
    #[error("The run can no longer take results (it, its dataset or its prompt version is gone)")]
    Run,
}

impl From<ExportError> for AppError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Storage(e) => AppError::Storage(e),
            ExportError::Codebook(e) => AppError::Codebook(e),
        }
    }
}

impl From<SampleError> for AppError {
    fn from(e: SampleError) -> Self {
        match e {
            SampleError::Import(e) => AppError::Import(e),
            SampleError::Storage(e) => AppError::Storage(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #15: a failed export download read "Import failed: …".
    #[test]
    fn each_failure_is_told_under_its_own_name() {
        let download = AppError::from(FileError::Download("blocked".into())).user_message();
        assert_eq!(
            download,
            "The download failed: the browser could not offer the download: blocked."
        );
        let read = AppError::from(FileError::Read("gone".into())).user_message();
        assert_eq!(
            read,
            "Import failed: the browser could not read the file: gone."
        );
        let quota = StorageError::QuotaExceeded;
        let export = AppError::from(ExportError::Storage(quota.clone())).user_message();
        assert_eq!(export, AppError::Storage(quota).user_message());
        let controller = AppError::from(RunError::Controller("no AbortController".into()));
        assert_eq!(
            controller.user_message(),
            "The run could not start: the browser could not set up the run's cancel switch: no AbortController."
        );
        assert_eq!(
            AppError::from(Missing::Dataset).user_message(),
            "Import a dataset first (the Data step)."
        );
    }
}
