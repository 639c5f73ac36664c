//! [`RunControl`]: pausing and cancelling a run.

use super::error::RunError;
use crate::services::browser::sleep;
use crate::services::files::js_message;
use std::cell::Cell;
use std::rc::Rc;
use web_sys::AbortController;

/// How often a paused task looks whether it may go on (milliseconds).
const PAUSE_POLL_MS: f64 = 100.0;

/// Pauses or cancels a run. Pausing lets requests in flight finish and starts no
/// new ones; cancelling aborts those in flight too.
#[derive(Clone)]
pub struct RunControl {
    /// Aborts the requests in flight on cancel.
    pub(super) abort: AbortController,
    cancelled: Rc<Cell<bool>>,
    paused: Rc<Cell<bool>>,
    /// Requests now waiting at the pause.
    held: Rc<Cell<u32>>,
}

impl RunControl {
    /// A fresh control, not cancelled.
    pub fn new() -> Result<Self, RunError> {
        Ok(RunControl {
            abort: AbortController::new().map_err(|e| RunError::Controller(js_message(&e)))?,
            cancelled: Rc::new(Cell::new(false)),
            paused: Rc::new(Cell::new(false)),
            held: Rc::new(Cell::new(0)),
        })
    }

    /// Hold (`true`) or release (`false`) new requests.
    pub fn set_paused(&self, paused: bool) {
        self.paused.set(paused);
    }

    /// Whether new requests are held.
    pub fn is_paused(&self) -> bool {
        self.paused.get()
    }

    /// Wait while the run is paused (returns at once when cancelled).
    pub(super) async fn wait_while_paused(&self) {
        if !self.is_paused() {
            return;
        }
        self.held.set(self.held.get() + 1);
        while self.is_paused() && !self.is_cancelled() {
            sleep(PAUSE_POLL_MS).await;
        }
        self.held.set(self.held.get() - 1);
    }

    /// Requests waiting at the pause: once every worker is held and none is in
    /// flight, nothing can go out until the run continues.
    pub fn held(&self) -> u32 {
        self.held.get()
    }

    /// Stop the run.
    pub fn cancel(&self) {
        self.cancelled.set(true);
        self.abort.abort();
    }

    /// Whether [`RunControl::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }
}
