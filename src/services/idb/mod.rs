//! IndexedDB implementation of [`Storage`], on the `indexed_db_futures` crate.
//!
//! Every database is namespaced by the embed's persistence key, so two instances
//! on one page never see each other's data. Schema changes go through [`migrate`],
//! one step per version.
//!
//! `schema` owns the names, the version and the migrations (and opening, which
//! runs them); `transaction` runs each write in one transaction; `values` is the
//! stored format of records and keys as JS values; `chunks` is the stored format
//! of rows; `errors` turns IndexedDB failures into [`StorageError`]s; `storage`
//! is [`IdbStorage`].
//!
//! [`Storage`]: crate::services::storage::Storage
//! [`StorageError`]: crate::services::storage::StorageError

mod chunks;
mod errors;
mod schema;
mod storage;
mod transaction;
mod values;

pub use chunks::ROWS_PER_CHUNK;
pub use schema::{db_name, migrate, open_database, stores, DB_PREFIX, DB_VERSION};
pub use storage::IdbStorage;
