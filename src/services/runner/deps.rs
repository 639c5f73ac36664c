//! [`RunDeps`]: what a run talks to.

use super::client::{HttpClient, LlmClient};
use super::runtime::{BrowserRuntime, Runtime};
use crate::services::storage::Storage;
use std::rc::Rc;

/// What a run talks to: where results are kept, what answers its requests,
/// and its clocks and tasks.
#[derive(Clone)]
pub struct RunDeps {
    /// Where the run record and its annotations are written.
    pub storage: Rc<dyn Storage>,
    /// What answers the requests.
    pub client: Rc<dyn LlmClient>,
    /// Clocks, timers and tasks.
    pub runtime: Rc<dyn Runtime>,
}

impl RunDeps {
    /// The app's: `storage`, the endpoint over `fetch`, the browser's timers.
    pub fn browser(storage: Rc<dyn Storage>) -> Self {
        RunDeps {
            storage,
            client: Rc::new(HttpClient),
            runtime: Rc::new(BrowserRuntime),
        }
    }
}
