//! The one app-state context and the user actions that change it.

mod changes;

pub use crate::components::toasts::{Toast, ToastKind};
use crate::data::endpoint::{default_endpoint, project_endpoint};
use crate::data::rows::{RowStore, Rows};
use crate::error::AppError;
use crate::options::MountOptions;
pub use crate::route::Step;
use crate::services::runner::{RunControl, RunProgress};
use crate::services::storage::Storage;
use crate::services::worker::ComputeWorker;
pub use changes::{Changes, Topic};
use fannotate_core::records::{DatasetMeta, EndpointConfig, Project};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// How long a success message stays (milliseconds).
const SUCCESS_TOAST_MS: u64 = 6000;

/// Live state of the run in progress, if any.
#[derive(Clone)]
pub struct ActiveRun {
    /// Run id.
    pub run_id: String,
    /// The experiment it measures a cell of, if any.
    pub experiment: Option<String>,
    /// Cancels it.
    pub control: RunControl,
}

/// The app state, provided once at the root. `Copy`: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct AppState {
    /// Where everything is saved.
    pub storage: StoredValue<Rc<dyn Storage>, LocalStorage>,
    /// Options the app was mounted with.
    pub options: StoredValue<MountOptions>,
    /// The open project, if any.
    pub project: RwSignal<Option<Project>>,
    /// The step shown for the open project.
    pub step: RwSignal<Step>,
    /// What writes changed, per topic, for the reads that depend on it.
    pub changes: Changes,
    /// API key for this session only (kept in memory unless the user opts in).
    pub session_key: RwSignal<String>,
    /// API keys typed for an experiment's other endpoints, by base URL; in
    /// memory only, like `session_key`.
    pub endpoint_keys: RwSignal<std::collections::HashMap<String, String>>,
    /// Progress of the current run.
    pub progress: RwSignal<Option<RunProgress>>,
    /// The run in progress, for cancelling.
    pub active_run: RwSignal<Option<ActiveRun>, LocalStorage>,
    /// Which run `progress` is about: how many runs this page has launched so
    /// far (a resumed run counts again) and the run's id, so the page and its
    /// tests can tell one run's figures from the next.
    pub progress_run: RwSignal<Option<(u32, String)>>,
    /// Messages to show.
    pub toasts: RwSignal<Vec<Toast>>,
    /// The element the app is mounted in; host events are dispatched on it.
    pub host: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
    /// The rows of the dataset in use, read once for every reader.
    pub rows: StoredValue<RowStore, LocalStorage>,
    /// The compute worker, started on first use.
    pub worker: StoredValue<ComputeWorker, LocalStorage>,
}

/// Where a mount handle's app is: opening its storage, running, or gone.
#[derive(Clone, Default)]
pub enum Mounted {
    /// Storage is still opening.
    #[default]
    Opening,
    /// Running, with this state.
    Ready(Box<AppState>),
    /// `unmount()` was called: calls fail at once instead of waiting (issue #22).
    Unmounted,
}

/// Lets a mount handle reach the state of the app it mounted once storage is open.
pub type Bridge = Rc<RefCell<Mounted>>;

/// Empties a signal when dropped: whatever way a task leaves (an error, a `?`,
/// a cancel), what it marked as in progress is marked done again.
pub struct ClearOnDrop<T: 'static> {
    slot: RwSignal<Option<T>, LocalStorage>,
}

impl<T: 'static> ClearOnDrop<T> {
    /// Put `value` in `slot` until the guard is dropped.
    pub fn set(slot: RwSignal<Option<T>, LocalStorage>, value: T) -> Self {
        slot.set(Some(value));
        ClearOnDrop { slot }
    }
}

impl<T: 'static> Drop for ClearOnDrop<T> {
    fn drop(&mut self) {
        // The app may be unmounted by the time a task ends.
        self.slot.try_set(None);
    }
}

impl AppState {
    /// State around an opened storage.
    pub fn new(
        storage: Rc<dyn Storage>,
        options: MountOptions,
        host: Option<web_sys::HtmlElement>,
    ) -> Self {
        AppState {
            host: StoredValue::new_local(host),
            storage: StoredValue::new_local(storage),
            options: StoredValue::new(options),
            project: RwSignal::new(None),
            step: RwSignal::new(Step::Data),
            changes: Changes::new(),
            session_key: RwSignal::new(String::new()),
            endpoint_keys: RwSignal::new(Default::default()),
            progress: RwSignal::new(None),
            active_run: RwSignal::new_local(None),
            progress_run: RwSignal::new(None),
            toasts: RwSignal::new(Vec::new()),
            rows: StoredValue::new_local(RowStore::default()),
            worker: StoredValue::new_local(ComputeWorker::default()),
        }
    }

    /// The compute worker (one per mounted app).
    pub fn worker(&self) -> ComputeWorker {
        self.worker.get_value()
    }

    /// The storage handle.
    pub fn storage(&self) -> Rc<dyn Storage> {
        self.storage.get_value()
    }

    /// The endpoint the open project starts with when none is saved.
    pub fn default_endpoint(&self) -> EndpointConfig {
        let pid = self.project_id().unwrap_or_default();
        self.options.with_value(|o| default_endpoint(&pid, o))
    }

    /// Project `pid`'s saved endpoint settings, else the default ones.
    pub async fn project_endpoint(&self, pid: String) -> Result<EndpointConfig, AppError> {
        let options = self.options.get_value();
        project_endpoint(self.storage().as_ref(), pid, &options).await
    }

    /// Every row of `meta`'s dataset, from the shared row store.
    pub async fn rows(&self, meta: &DatasetMeta) -> Result<Rows, AppError> {
        let store = self.rows.get_value();
        store.rows(&self.storage(), meta).await
    }

    /// Tell the reads of `topics` that stored data changed.
    pub fn touch(&self, topics: &[Topic]) {
        self.changes.touch(topics);
    }

    /// Make the running read depend on `topics`.
    pub fn track(&self, topics: &[Topic]) {
        self.changes.track(topics);
    }

    /// Show a message. Success messages go away by themselves; errors stay until
    /// dismissed, so they are not missed.
    pub fn toast(&self, kind: ToastKind, text: impl Into<String>) {
        let text = text.into();
        if kind == ToastKind::Error {
            self.emit("error", &serde_json::json!({ "message": text }));
        }
        let mut id = 0;
        self.toasts.update(|t| {
            id = t.last().map_or(1, |l| l.id + 1);
            t.push(Toast { id, kind, text });
            // Keep the stack short; the oldest go first.
            if t.len() > 4 {
                t.remove(0);
            }
        });
        if kind == ToastKind::Success {
            let toasts = self.toasts;
            set_timeout(
                move || {
                    toasts.try_update(|t| t.retain(|x| x.id != id));
                },
                std::time::Duration::from_millis(SUCCESS_TOAST_MS),
            );
        }
    }

    /// The step a project opens at: the host's `start-view`, else Data.
    pub fn start_step(&self) -> Step {
        self.options
            .with_value(|o| o.start_view.as_deref().and_then(Step::parse))
            .unwrap_or(Step::Data)
    }

    /// Tell the host page: dispatch `fannotate:<name>` on the mount element
    /// (bubbling and composed, so it leaves a shadow root too).
    pub fn emit(&self, name: &str, detail: &impl serde::Serialize) {
        let Some(host) = self.host.get_value() else {
            return;
        };
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        if let Ok(d) = detail.serialize(&serde_wasm_bindgen::Serializer::json_compatible()) {
            init.set_detail(&d);
        }
        if let Ok(ev) =
            web_sys::CustomEvent::new_with_event_init_dict(&format!("fannotate:{name}"), &init)
        {
            let _ = host.dispatch_event(&ev);
        }
    }

    /// Show an error's user message.
    pub fn error(&self, e: &AppError) {
        self.toast(ToastKind::Error, e.user_message());
    }

    /// Remove a toast.
    pub fn dismiss(&self, id: u64) {
        self.toasts.update(|t| t.retain(|x| x.id != id));
    }

    /// Open `project` at the start step (the host's `start-view`, else Data), as
    /// a click in the project list does.
    pub fn open_project(&self, project: Project) {
        self.step.set(self.start_step());
        self.project.set(Some(project));
    }

    /// How many runs this page has launched (tracked; 0 before the first).
    pub fn launches(&self) -> u32 {
        self.progress_run
            .with(|p| p.as_ref().map_or(0, |(n, _)| *n))
    }

    /// Whether the run in progress is paused (tracked).
    pub fn run_paused(&self) -> bool {
        self.progress.with(|p| p.is_some_and(|p| p.paused))
    }

    /// Whether the run the progress panel shows is still going (tracked).
    pub fn run_live(&self) -> bool {
        let shown = self
            .progress_run
            .with(|p| p.as_ref().map(|(_, id)| id.clone()));
        self.active_run.with(|r| {
            r.as_ref()
                .is_some_and(|r| Some(&r.run_id) == shown.as_ref())
        })
    }

    /// Pause the run in progress, or let it continue.
    pub fn toggle_pause(&self) {
        self.active_run.with_untracked(|r| {
            if let Some(r) = r {
                let paused = !r.control.is_paused();
                r.control.set_paused(paused);
                self.progress.update(|p| {
                    if let Some(p) = p {
                        p.paused = paused
                    }
                });
            }
        })
    }

    /// Cancel the run in progress; finished results are kept.
    pub fn cancel_run(&self) {
        self.active_run.with_untracked(|r| {
            if let Some(r) = r {
                r.control.cancel()
            }
        })
    }

    /// The open project's id, if any (tracked).
    pub fn project_id(&self) -> Option<String> {
        self.project.with(|p| p.as_ref().map(|p| p.id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #14: a run that failed before its first request (its API key could
    /// not be read) left `active_run` set, and the page showed a run in progress
    /// until a reload.
    #[test]
    fn an_early_return_clears_what_the_guard_set() {
        let owner = Owner::new();
        owner.with(|| {
            let slot = RwSignal::new_local(None::<u32>);
            let fails = |slot| -> Result<(), &'static str> {
                let _guard = ClearOnDrop::set(slot, 7);
                assert_eq!(slot.get_untracked(), Some(7));
                Err("no key")?;
                unreachable!("the error returns first")
            };
            assert_eq!(fails(slot), Err("no key"));
            assert_eq!(slot.get_untracked(), None);
            let ok = |slot| {
                let _guard = ClearOnDrop::set(slot, 8);
                slot.get_untracked()
            };
            assert_eq!(ok(slot), Some(8));
            assert_eq!(slot.get_untracked(), None);
        });
    }
}
