//! Transactions: every write of the app in one transaction that commits or
//! leaves nothing, and the requests sent inside it.

use crate::services::storage::StorageResult;
use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use indexed_db_futures::Build;

use super::errors::dom_error;

/// A transaction over `names`.
pub(super) fn open<'a>(
    db: &'a Database,
    names: &[&str],
    mode: TransactionMode,
) -> StorageResult<Transaction<'a>> {
    Ok(db.transaction(names).with_mode(mode).build()?)
}

/// Run `body` in one read-write transaction over `names` and wait for it to
/// commit, so each write is all-or-nothing.
pub(super) async fn write<F>(db: &Database, names: &[&str], body: F) -> StorageResult<()>
where
    F: AsyncFnOnce(&Transaction<'_>) -> StorageResult<()>,
{
    let tx = open(db, names, TransactionMode::Readwrite)?;
    // On an error the transaction is dropped uncommitted, which aborts it.
    body(&tx).await?;
    // The crate reports an abort without its reason, and a full quota is only
    // told that way (the transaction aborts at commit with a QuotaExceededError
    // as its `error`), so the transaction's own error is read here.
    let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
    tx.commit()
        .await
        .map_err(|e| raw.error().map_or_else(|| e.into(), |d| dom_error(&d)))
}

/// Send a request whose outcome the transaction reports: a request goes out
/// when it is built, and one that fails aborts the transaction, so its commit
/// fails. Awaiting each would cost a round trip per record.
pub(super) fn send<R>(request: indexed_db_futures::Result<R>) -> StorageResult<()> {
    request.map(drop).map_err(Into::into)
}
