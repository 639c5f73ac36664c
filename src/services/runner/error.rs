//! [`RunError`]: why a run stopped short of its requests' own outcomes.

use crate::services::storage::StorageError;

/// Why a run stopped short of its requests' own outcomes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Writing results failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The browser could not make the run's cancel switch (issue #15: this
    /// used to read as "cancelled").
    #[error("the browser could not set up the run's cancel switch: {0}")]
    Controller(String),
}
