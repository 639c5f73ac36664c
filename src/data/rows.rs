//! One cached row store per dataset: the rows of the dataset in use, read from
//! storage once and shared by every view and workflow that needs all of them
//! (the review queue, the run and experiment launchers, the leaderboard, the
//! results and the browser), instead of each reading them again.
//!
//! A dataset's rows never change after its import commits (a new import is a
//! new dataset id), so the store is keyed by id and row count and needs no
//! other invalidation. It holds one dataset: asking for another replaces it.

use crate::error::AppError;
use crate::services::storage::{Storage, StorageError};
use fannotate_core::records::{DatasetMeta, RowRecord};
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Every row of one dataset, in row order.
pub type Rows = Arc<Vec<RowRecord>>;

type Load = Shared<LocalBoxFuture<'static, Result<Rows, StorageError>>>;

/// The cached rows of one dataset. Cheap to clone: clones share the cache.
#[derive(Clone, Default)]
pub struct RowStore {
    slot: Rc<RefCell<Option<Entry>>>,
}

struct Entry {
    dataset: String,
    row_count: u32,
    load: Load,
}

impl RowStore {
    /// Every row of `meta`'s dataset, read from `storage` on first use; a read
    /// already under way is joined, not repeated.
    pub async fn rows(
        &self,
        storage: &Rc<dyn Storage>,
        meta: &DatasetMeta,
    ) -> Result<Rows, AppError> {
        let storage = storage.clone();
        let (id, n) = (meta.id.clone(), meta.row_count);
        self.get_or_load(meta, move || {
            async move { storage.rows(id, 0, n).await.map(Arc::new) }.boxed_local()
        })
        .await
    }

    /// The cached load for `meta`, else a new one from `load`. A failed read is
    /// not kept: the next call tries again.
    async fn get_or_load(
        &self,
        meta: &DatasetMeta,
        load: impl FnOnce() -> LocalBoxFuture<'static, Result<Rows, StorageError>>,
    ) -> Result<Rows, AppError> {
        let fut = {
            let mut slot = self.slot.borrow_mut();
            match &*slot {
                Some(e) if e.dataset == meta.id && e.row_count == meta.row_count => e.load.clone(),
                _ => {
                    let fut = load().shared();
                    *slot = Some(Entry {
                        dataset: meta.id.clone(),
                        row_count: meta.row_count,
                        load: fut.clone(),
                    });
                    fut
                }
            }
        };
        let out = fut.clone().await;
        if out.is_err() {
            let mut slot = self.slot.borrow_mut();
            // Only forget this load, not one a later call has since put in its place.
            if slot.as_ref().is_some_and(|e| e.load.ptr_eq(&fut)) {
                *slot = None;
            }
        }
        Ok(out?)
    }

    /// Drop the cached rows (their dataset was deleted).
    pub fn forget(&self) {
        self.slot.borrow_mut().take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::cell::Cell;

    fn meta(id: &str, n: u32) -> DatasetMeta {
        serde_json::from_value(serde_json::json!({
            "id": id, "project_id": "p", "name": "d.csv", "columns": ["text"], "text_col": 0,
            "id_col": null, "gold_col": null, "row_count": n, "bytes": 0, "encoding": "UTF-8",
            "delimiter": ",", "imported_at": 0.0
        }))
        .expect("a minimal dataset record")
    }

    fn rows(n: u32) -> Rows {
        Arc::new(
            (0..n)
                .map(|i| RowRecord {
                    dataset_id: "d".into(),
                    idx: i,
                    id: i.to_string(),
                    cells: vec![format!("t{i}")],
                })
                .collect(),
        )
    }

    #[test]
    fn a_dataset_is_read_once_and_another_replaces_it() {
        let store = RowStore::default();
        let reads = Rc::new(Cell::new(0));
        let load = |n: u32| {
            let reads = reads.clone();
            move || {
                reads.set(reads.get() + 1);
                async move { Ok(rows(n)) }.boxed_local()
            }
        };
        let a = meta("a", 3);
        let first = block_on(store.get_or_load(&a, load(3))).expect("rows");
        let again = block_on(store.get_or_load(&a, load(3))).expect("rows");
        assert_eq!(reads.get(), 1, "the second ask is served from the store");
        assert!(Arc::ptr_eq(&first, &again), "both share one copy");
        block_on(store.get_or_load(&meta("b", 2), load(2))).expect("rows");
        block_on(store.get_or_load(&a, load(3))).expect("rows");
        assert_eq!(
            reads.get(),
            3,
            "one dataset is kept: b replaced a, a is read again"
        );
        store.forget();
        block_on(store.get_or_load(&a, load(3))).expect("rows");
        assert_eq!(reads.get(), 4, "forget drops the rows");
    }

    #[test]
    fn a_failed_read_is_not_kept() {
        let store = RowStore::default();
        let a = meta("a", 1);
        let failed = block_on(store.get_or_load(&a, || {
            async { Err(StorageError::Other("disk".into())) }.boxed_local()
        }));
        assert!(failed.is_err());
        let ok = block_on(store.get_or_load(&a, || async { Ok(rows(1)) }.boxed_local()));
        assert_eq!(ok.expect("read again").len(), 1, "the next ask reads again");
    }

    #[test]
    fn a_read_under_way_is_joined() {
        let store = RowStore::default();
        let a = meta("a", 2);
        let reads = Rc::new(Cell::new(0));
        let (r1, r2) = (reads.clone(), reads.clone());
        let one = store.get_or_load(&a, move || {
            r1.set(r1.get() + 1);
            async { Ok(rows(2)) }.boxed_local()
        });
        let two = store.get_or_load(&a, move || {
            r2.set(r2.get() + 1);
            async { Ok(rows(2)) }.boxed_local()
        });
        let (x, y) = block_on(futures::future::join(one, two));
        assert!(Arc::ptr_eq(&x.expect("rows"), &y.expect("rows")));
        assert_eq!(reads.get(), 1, "the second ask joined the first read");
    }
}
