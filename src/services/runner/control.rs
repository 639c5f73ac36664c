//! [`RunControl`]: pausing and cancelling a run.

use super::abort::Abort;
use super::error::RunError;
use super::wakers::Wakers;
use std::cell::Cell;
use std::rc::Rc;

/// Pauses or cancels a run. Pausing lets requests in flight finish and starts no
/// new ones; cancelling aborts those in flight too.
#[derive(Clone)]
pub struct RunControl {
    abort: Abort,
    pause: Rc<Pause>,
}

#[derive(Default)]
struct Pause {
    paused: Cell<bool>,
    /// Requests now waiting at the pause.
    held: Cell<u32>,
    /// Those requests, woken on continue or cancel.
    waiting: Wakers,
}

/// Counts a request as held for as long as it waits, however the wait ends.
struct Held<'a>(&'a Cell<u32>);

impl<'a> Held<'a> {
    fn new(held: &'a Cell<u32>) -> Self {
        held.set(held.get() + 1);
        Held(held)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl RunControl {
    /// A fresh control, neither paused nor cancelled. Fails only when the
    /// browser cannot make an `AbortController`.
    pub fn new() -> Result<Self, RunError> {
        Ok(RunControl {
            abort: Abort::new()?,
            pause: Rc::default(),
        })
    }

    /// Hold (`true`) or release (`false`) new requests.
    pub fn set_paused(&self, paused: bool) {
        self.pause.paused.set(paused);
        if !paused {
            self.pause.waiting.wake_all();
        }
    }

    /// Whether new requests are held.
    pub fn is_paused(&self) -> bool {
        self.pause.paused.get()
    }

    /// Wait while the run is paused (returns at once when cancelled).
    pub(super) async fn wait_while_paused(&self) {
        if !self.is_paused() {
            return;
        }
        let _held = Held::new(&self.pause.held);
        self.pause
            .waiting
            .until(|| !self.is_paused() || self.is_cancelled())
            .await;
    }

    /// Requests waiting at the pause: once every worker is held and none is in
    /// flight, nothing can go out until the run continues.
    pub fn held(&self) -> u32 {
        self.pause.held.get()
    }

    /// Stop the run.
    pub fn cancel(&self) {
        self.abort.abort();
        self.pause.waiting.wake_all();
    }

    /// Whether [`RunControl::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.abort.is_aborted()
    }

    /// What the run's requests watch to stop.
    pub(super) fn abort(&self) -> &Abort {
        &self.abort
    }
}
