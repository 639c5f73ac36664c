//! The app's error type: one enum per layer rolled up into [`AppError`], whose
//! [`AppError::user_message`] is the only text the UI shows for a failure.

use crate::services::backup::BackupError;
use crate::services::llm::LlmError;
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
}

/// Problems with a file the user picked, beyond what the table parser reports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// The parser rejected the file.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The browser could not read the file.
    #[error("the browser could not read the file: {0}")]
    Read(String),
    /// No text column was chosen.
    #[error("choose the column that holds the text to annotate")]
    NoTextColumn,
    /// The sample project's data could not be fetched.
    #[error("the sample data could not be loaded ({0})")]
    Sample(String),
    /// A chosen column does not exist in the file.
    #[error("the file has no column \"{0}\"")]
    MissingColumn(String),
    /// Several rows share an id.
    #[error("the id column has {count} duplicate ids (first: \"{first}\"); pick another id column or none")]
    DuplicateIds {
        /// How many rows repeat an earlier id.
        count: usize,
        /// The first repeated id.
        first: String,
    },
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
        }
    }
}

impl From<TableError> for AppError {
    fn from(e: TableError) -> Self {
        AppError::Import(ImportError::Table(e))
    }
}
