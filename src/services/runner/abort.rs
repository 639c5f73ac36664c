//! [`Abort`]: the switch that stops a run's requests, those waiting and those
//! in flight.

use super::error::RunError;
use super::wakers::Wakers;
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use web_sys::AbortSignal;

/// Stops a run's requests: a flag each task reads before it asks, a wake-up
/// for tasks waiting on a timer, and in the browser the `AbortController`
/// whose signal every fetch carries, so requests in flight end at once.
///
/// Off the browser there is no `AbortController` (wasm-bindgen's imports are
/// missing there), and none is needed: a test's LLM client waits on
/// [`Abort::aborted`] instead.
#[derive(Clone)]
pub struct Abort(Rc<State>);

struct State {
    aborted: Cell<bool>,
    wakers: Wakers,
    #[cfg(target_arch = "wasm32")]
    controller: web_sys::AbortController,
}

impl Abort {
    /// A switch not yet thrown.
    pub(super) fn new() -> Result<Self, RunError> {
        Ok(Abort(Rc::new(State {
            aborted: Cell::new(false),
            wakers: Wakers::default(),
            #[cfg(target_arch = "wasm32")]
            controller: web_sys::AbortController::new()
                .map_err(|e| RunError::Controller(crate::services::files::js_message(&e)))?,
        })))
    }

    /// Throw the switch: abort the fetches in flight and wake every waiter.
    pub(super) fn abort(&self) {
        self.0.aborted.set(true);
        #[cfg(target_arch = "wasm32")]
        self.0.controller.abort();
        self.0.wakers.wake_all();
    }

    /// Whether the switch was thrown.
    pub fn is_aborted(&self) -> bool {
        self.0.aborted.get()
    }

    /// Ready once the switch is thrown (at once if it was).
    pub fn aborted(&self) -> impl Future<Output = ()> + Unpin + '_ {
        self.0.wakers.until(|| self.is_aborted())
    }

    /// The signal a fetch carries so that aborting ends it; `None` off the
    /// browser.
    pub fn signal(&self) -> Option<AbortSignal> {
        #[cfg(target_arch = "wasm32")]
        return Some(self.0.controller.signal());
        #[cfg(not(target_arch = "wasm32"))]
        None
    }
}
