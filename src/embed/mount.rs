//! `mount(element, options) → handle`: the handle's calls wait for the app's
//! storage to open, and fail at once after `unmount()`.

use super::host_api;
use crate::app::App;
use crate::options::MountOptions;
use crate::route::Step;
use crate::state::{AppState, Bridge, Mounted};
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Reject options the app cannot honour, with a message for the host's developer.
fn validate(options: MountOptions) -> Result<MountOptions, String> {
    if let Some(v) = &options.start_view {
        if Step::parse(v).is_none() {
            // From the enum, so a new step is never missing here (issue #22).
            let all: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
            return Err(format!(
                "start-view \"{v}\" is not one of {}",
                all.join(", ")
            ));
        }
    }
    Ok(options)
}

/// A mounted app; dropping it or calling `unmount` removes it.
#[wasm_bindgen]
pub struct MountHandle {
    inner: Option<Box<dyn std::any::Any>>,
    bridge: Bridge,
}

#[wasm_bindgen]
impl MountHandle {
    /// Remove the app from its element and free its state.
    pub fn unmount(&mut self) {
        *self.bridge.borrow_mut() = Mounted::Unmounted;
        self.inner.take();
    }

    /// Resolves once the app's storage is open and it takes calls (the moment
    /// it also dispatches `fannotate:ready`); rejects after `unmount()`.
    #[wasm_bindgen(getter)]
    pub fn ready(&self) -> js_sys::Promise {
        self.call(|_| async { Ok(JsValue::TRUE) })
    }

    /// Hand rows to the app without a file: `rows` is an array of objects,
    /// `options` `{textField, idField?, name?, project?, replace?, goldField?,
    /// goldFields?}`. They become the dataset of project `project` (an id), else
    /// of the open project, else of a new project called `name`; a project that
    /// has a dataset is only replaced with `replace: true` (atomically).
    /// `goldFields` maps attributes to the field of their gold labels. Resolves
    /// to the project's id, the handle for `openProject` after a reload.
    #[wasm_bindgen(js_name = loadRows)]
    pub fn load_rows(&self, rows: JsValue, options: JsValue) -> js_sys::Promise {
        self.call(move |state| async move {
            host_api::load(state, rows, options)
                .await
                .map(|id| JsValue::from_str(&id))
        })
    }

    /// Resolves to the projects of this instance: `[{id, name, createdAt, updatedAt, sample}]`.
    #[wasm_bindgen(js_name = listProjects)]
    pub fn list_projects(&self) -> js_sys::Promise {
        self.call(host_api::list)
    }

    /// Open project `id` (as a click in the project list would); rejects for an
    /// unknown id.
    #[wasm_bindgen(js_name = openProject)]
    pub fn open_project(&self, id: String) -> js_sys::Promise {
        self.call(
            move |state| async move { host_api::open(state, &id).await.map(|()| JsValue::TRUE) },
        )
    }

    /// Resolves to the open project's rows with every label and its provenance,
    /// as objects with the export's columns.
    #[wasm_bindgen(js_name = exportAnnotations)]
    pub fn export_annotations(&self) -> js_sys::Promise {
        self.call(host_api::export)
    }
}

impl MountHandle {
    /// A promise of `f` run on the app's state once it is ready: every host
    /// call waits (or fails after `unmount()`) the same way, and its error
    /// message reaches the host as the rejection.
    fn call<F, Fut>(&self, f: F) -> js_sys::Promise
    where
        F: FnOnce(AppState) -> Fut + 'static,
        Fut: std::future::Future<Output = Result<JsValue, String>> + 'static,
    {
        let bridge = self.bridge.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let state = ready_state(&bridge).await?;
            f(state).await.map_err(|e| JsValue::from_str(&e))
        })
    }
}

/// The app's state once its storage is open (waits up to ten seconds); at once
/// an error after `unmount()`.
async fn ready_state(bridge: &Bridge) -> Result<AppState, JsValue> {
    for _ in 0..500 {
        match *bridge.borrow() {
            Mounted::Ready(ref s) => return Ok(**s),
            Mounted::Unmounted => {
                return Err(JsValue::from_str(
                    "Fannotate was unmounted: mount it again before calling it",
                ))
            }
            Mounted::Opening => {}
        }
        crate::services::browser::sleep(20.0).await;
    }
    Err(JsValue::from_str(
        "Fannotate is not ready: its storage did not open within ten seconds",
    ))
}

/// Mount into `element` with options already checked.
pub(super) fn mount_with(element: web_sys::HtmlElement, options: MountOptions) -> MountHandle {
    let bridge: Bridge = Rc::default();
    let (b, host) = (bridge.clone(), element.clone());
    let handle = leptos::mount::mount_to(element, move || {
        view! { <App options host=host.clone() bridge=b.clone() /> }
    });
    MountHandle {
        inner: Some(Box::new(handle)),
        bridge,
    }
}

/// Mount Fannotate into `element`. `options` is an object with optional
/// `persistenceKey`, `endpoint` and `model`.
#[wasm_bindgen]
pub fn mount(element: web_sys::HtmlElement, options: JsValue) -> Result<MountHandle, JsValue> {
    let options: MountOptions = if options.is_undefined() || options.is_null() {
        MountOptions::default()
    } else {
        serde_wasm_bindgen::from_value::<MountOptions>(options)
            .map_err(|e| e.to_string())
            .and_then(validate)
            .map_err(|e| JsValue::from_str(&format!("invalid Fannotate options: {e}")))?
    };
    Ok(mount_with(element, options))
}
