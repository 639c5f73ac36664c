//! The job runner: annotate many rows concurrently, spread over an endpoint's
//! replicas, retry what may succeed on a second try, persist results as they
//! arrive, and pause or stop promptly.
//!
//! `control` owns pausing and cancelling ([`RunControl`]); `requests` one row's
//! requests (rate limit, replica rotation, retries with backoff) and the live
//! figures they leave; `progress` what a run reports; `writer` persisting results
//! off the request loop; `execute` the run itself; `error` [`RunError`].

mod control;
mod error;
mod execute;
mod progress;
mod requests;
mod writer;

pub use control::RunControl;
pub use error::RunError;
pub use execute::execute;
pub use progress::{Counts, RunEvent, RunProgress};
pub use requests::RunTask;
