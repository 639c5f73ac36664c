//! The app's error type: one enum per layer rolled up into [`AppError`], whose
//! [`AppError::user_message`] is the only text the UI shows for a failure.

use crate::services::backup::BackupError;
use crate::services::export::ExportError;
use crate::services::files::FileError;
use crate::services::importer::ImportError;
use crate::services::llm::LlmError;
use crate::services::sample::SampleError;
use crate::services::storage::StorageError;
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
    /// A download could not be offered (a read failure is an import's).
    #[error(transparent)]
    File(FileError),
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
            AppError::File(e) => format!("The download failed: {e}."),
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
    }
}
