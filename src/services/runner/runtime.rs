//! [`Runtime`]: the clocks, timers, tasks and chance a run uses, and
//! [`BrowserRuntime`], the browser's.

use crate::services::browser;
use futures::future::LocalBoxFuture;

/// Time and tasks as a run sees them. The browser's are real; a host test's
/// are virtual (its clock moves only when every task waits on a timer), so
/// a run's timing can be checked to the millisecond without waiting for it.
pub trait Runtime {
    /// A monotonic clock in milliseconds, for durations, pacing and timers.
    fn mono_ms(&self) -> f64;
    /// Milliseconds since the Unix epoch, for the times records keep.
    fn now_ms(&self) -> f64;
    /// Resolves `ms` milliseconds after this call, on [`Runtime::mono_ms`]'s clock.
    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()>;
    /// Run `task` on this thread alongside the caller.
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);
    /// A number in `[0, 1)`, to spread retries apart.
    fn random(&self) -> f64;
}

/// The browser's clocks (`performance.now`, `Date.now`), `setTimeout` and
/// microtask queue, and `Math.random`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserRuntime;

impl Runtime for BrowserRuntime {
    fn mono_ms(&self) -> f64 {
        browser::mono_ms()
    }

    fn now_ms(&self) -> f64 {
        browser::now_ms()
    }

    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()> {
        Box::pin(browser::sleep(ms))
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
