//! IndexedDB failures as [`StorageError`]s: a full quota is its own kind, any
//! other DOM error keeps the browser's name and message.

use crate::services::storage::StorageError;
use indexed_db_futures::error::{Error, JSError, OpenDbError};

/// A DOM error as a [`StorageError`].
pub(super) fn dom_error(e: &web_sys::DomException) -> StorageError {
    if e.name() == "QuotaExceededError" {
        StorageError::QuotaExceeded
    } else {
        StorageError::Other(format!("{}: {}", e.name(), e.message()))
    }
}

impl From<Error> for StorageError {
    fn from(e: Error) -> Self {
        match e {
            Error::DomException(e) => dom_error(&e.into()),
            // A stored value that is not what the store holds (e.g. not an array
            // where records were asked for).
            Error::Serialisation(e) => StorageError::Corrupt(e.to_string()),
            Error::MissingData(e) => StorageError::Other(e.to_string()),
            Error::Unknown(JSError::Error(e)) => {
                StorageError::Other(format!("{}: {}", e.name(), e.message()))
            }
            Error::Unknown(JSError::Unknown(v)) => StorageError::Other(
                v.as_string()
                    .unwrap_or_else(|| "IndexedDB call failed".into()),
            ),
        }
    }
}

/// A failed open as a [`StorageError`]. The crate reports any exception thrown
/// by `indexedDB.open()` as `VersionZero`; [`super::open_database`] never asks
/// for version 0, so that can only be the browser refusing IndexedDB to this
/// page (a `SecurityError`, e.g. in an opaque-origin frame).
pub(super) fn open_error(e: OpenDbError) -> StorageError {
    match e {
        OpenDbError::Base(e) => e.into(),
        OpenDbError::VersionZero
        | OpenDbError::UnsupportedEnvironment
        | OpenDbError::NullFactory => StorageError::Unavailable,
    }
}
