//! IndexedDB implementation of [`Storage`].
//!
//! Every database is namespaced by the embed's persistence key, so two instances
//! on one page never see each other's data. Schema changes go through [`migrate`],
//! one step per version.
//!
//! `schema` owns the names, the version and the migrations (and opening, which
//! runs them); `request` turns IndexedDB's events into futures and JS values into
//! records; `chunks` is the stored format of rows; `storage` is [`IdbStorage`].
//!
//! [`Storage`]: crate::services::storage::Storage

mod chunks;
mod request;
mod schema;
mod storage;

pub use chunks::ROWS_PER_CHUNK;
pub use schema::{db_name, migrate, open_database, stores, DB_PREFIX, DB_VERSION};
pub use storage::IdbStorage;
