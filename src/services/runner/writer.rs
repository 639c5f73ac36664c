//! [`Writer`]: persisting batches of results in order, off the request loop.

use super::control::RunControl;
use super::error::RunError;
use super::progress::RunProgress;
use super::runtime::Runtime;
use crate::services::storage::Storage;
use fannotate_core::records::{Annotation, RunRecord};
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use std::cell::RefCell;
use std::rc::Rc;

/// Writes batches of results in order, off the request loop: a slow disk write
/// never holds up new requests.
pub(super) struct Writer {
    tx: mpsc::UnboundedSender<(Vec<Annotation>, RunRecord)>,
    done: oneshot::Receiver<Result<(), RunError>>,
    failed: Rc<RefCell<Option<RunError>>>,
}

impl Writer {
    /// Start the writing task on `storage`, spawned on `rt`. A failed write
    /// cancels the run through `control` at once: nothing more can be saved
    /// (e.g. the disk is full), so no more requests should go out.
    pub(super) fn start(storage: Rc<dyn Storage>, rt: &dyn Runtime, control: RunControl) -> Self {
        let (tx, mut rx) = mpsc::unbounded::<(Vec<Annotation>, RunRecord)>();
        let (done_tx, done) = oneshot::channel();
        let failed = Rc::new(RefCell::new(None));
        let seen = failed.clone();
        rt.spawn(Box::pin(async move {
            let mut result = Ok(());
            while let Some((batch, run)) = rx.next().await {
                if let Err(e) = storage.put_annotations(batch, Some(run)).await {
                    let e = RunError::from(e);
                    *seen.borrow_mut() = Some(e.clone());
                    control.cancel();
                    result = Err(e);
                    break;
                }
            }
            let _ = done_tx.send(result);
        }));
        Writer { tx, done, failed }
    }

    /// Queue waiting results with the run's counters (one transaction each).
    pub(super) fn write(
        &self,
        run: &mut RunRecord,
        progress: &RunProgress,
        pending: &mut Vec<Annotation>,
    ) -> Result<(), RunError> {
        if let Some(e) = self.failed.borrow().clone() {
            return Err(e);
        }
        run.valid = progress.valid;
        run.invalid = progress.invalid;
        run.failed = progress.failed;
        // The receiver only goes away after a failure, reported above next time.
        let _ = self
            .tx
            .unbounded_send((std::mem::take(pending), run.clone()));
        Ok(())
    }

    /// Wait until everything queued is written.
    pub(super) async fn finish(self) -> Result<(), RunError> {
        drop(self.tx);
        self.done.await.unwrap_or(Ok(()))
    }
}
