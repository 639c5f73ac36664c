//! The job runner: annotate many rows concurrently, spread over an endpoint's
//! replicas, retry what may succeed on a second try, persist results as they
//! arrive, and pause or stop promptly.
//!
//! `control` owns pausing and cancelling ([`RunControl`]) and `abort` the
//! switch a cancel throws ([`Abort`]), both waking their waiters through
//! `wakers`; `requests` one row's requests (rate limit, replica rotation,
//! retries with backoff) and the live figures they leave; `progress` what a run
//! reports; `writer` persisting results off the request loop; `execute` the run
//! itself; `error` [`RunError`].
//!
//! A run reaches the world only through [`RunDeps`]: its storage, the
//! [`LlmClient`] that answers its requests (`client`) and the [`Runtime`] whose
//! clocks, timers and tasks it uses (`runtime`). The app passes
//! [`RunDeps::browser`]; host tests pass a scripted client and a virtual clock
//! (`tests/runner.rs`).

mod abort;
mod client;
mod control;
mod deps;
mod error;
mod execute;
mod progress;
mod requests;
mod runtime;
mod wakers;
mod writer;

pub use abort::Abort;
pub use client::{ChatRequest, HttpClient, LlmClient};
pub use control::RunControl;
pub use deps::RunDeps;
pub use error::RunError;
pub use execute::execute;
pub use progress::{Counts, RunEvent, RunProgress};
pub use requests::RunTask;
pub use runtime::{BrowserRuntime, Runtime};
