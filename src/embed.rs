//! The JS mount API: `mount(element, options) → handle` with `handle.unmount()`,
//! `handle.loadRows(rows, options)` and `handle.exportAnnotations()`; the app
//! tells the host what happens through `fannotate:*` DOM events.
//!
//! The bundled page and host pages use the same entry; every element with a
//! `data-fannotate-mount` attribute is mounted at start-up, reading its options
//! from `data-*` attributes.

use crate::app::App;
use crate::state::AppState;
use leptos::prelude::*;
use serde::Deserialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Persistence key used when the host gives none.
pub const DEFAULT_PERSISTENCE_KEY: &str = "default";

fn default_key() -> String {
    DEFAULT_PERSISTENCE_KEY.to_string()
}

/// Options a host passes to [`mount`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountOptions {
    /// Namespaces all stored data; two mounts with different keys never share data.
    #[serde(default = "default_key", alias = "persistence_key")]
    pub persistence_key: String,
    /// Default endpoint base URL for new projects.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Default model name for new projects.
    #[serde(default)]
    pub model: Option<String>,
    /// Light, dark, or the system's choice (`None`: the system's).
    #[serde(default)]
    pub theme: Option<Theme>,
    /// The step a project opens at (`data`, `codebook`, `endpoint`, `run`, `results`).
    #[serde(default, alias = "start_view")]
    pub start_view: Option<String>,
}

/// Colour theme of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    #[default]
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// The `data-theme` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// Inverse of [`Theme::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Theme::Auto, Theme::Light, Theme::Dark]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl MountOptions {
    /// Reject options the app cannot honour, with a message for the host's developer.
    fn validate(self) -> Result<Self, String> {
        if let Some(v) = &self.start_view {
            if crate::state::Step::parse(v).is_none() {
                // From the enum, so a new step is never missing here (issue #22).
                let all: Vec<&str> = crate::state::Step::ALL.iter().map(|s| s.as_str()).collect();
                return Err(format!(
                    "start-view \"{v}\" is not one of {}",
                    all.join(", ")
                ));
            }
        }
        Ok(self)
    }
}

/// Where a [`MountHandle`]'s app is: opening its storage, running, or gone.
#[derive(Clone, Copy, Default)]
pub enum Mounted {
    /// Storage is still opening.
    #[default]
    Opening,
    /// Running, with this state.
    Ready(AppState),
    /// `unmount()` was called: calls fail at once instead of waiting (issue #22).
    Unmounted,
}

/// Lets a [`MountHandle`] reach the state of the app it mounted once storage is open.
pub type Bridge = Rc<RefCell<Mounted>>;

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            persistence_key: default_key(),
            endpoint: None,
            model: None,
            theme: None,
            start_view: None,
        }
    }
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
            host_rows::load(state, rows, options)
                .await
                .map(|id| JsValue::from_str(&id))
        })
    }

    /// Resolves to the projects of this instance: `[{id, name, createdAt, updatedAt, sample}]`.
    #[wasm_bindgen(js_name = listProjects)]
    pub fn list_projects(&self) -> js_sys::Promise {
        self.call(host_rows::list)
    }

    /// Open project `id` (as a click in the project list would); rejects for an
    /// unknown id.
    #[wasm_bindgen(js_name = openProject)]
    pub fn open_project(&self, id: String) -> js_sys::Promise {
        self.call(
            move |state| async move { host_rows::open(state, &id).await.map(|()| JsValue::TRUE) },
        )
    }

    /// Resolves to the open project's rows with every label and its provenance,
    /// as objects with the export's columns.
    #[wasm_bindgen(js_name = exportAnnotations)]
    pub fn export_annotations(&self) -> js_sys::Promise {
        self.call(host_rows::export)
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
            Mounted::Ready(s) => return Ok(s),
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

fn mount_with(element: web_sys::HtmlElement, options: MountOptions) -> MountHandle {
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
            .and_then(MountOptions::validate)
            .map_err(|e| JsValue::from_str(&format!("invalid Fannotate options: {e}")))?
    };
    Ok(mount_with(element, options))
}

/// Read options from `data-persistence-key`, `data-endpoint`, `data-model`.
fn options_from_attributes(el: &web_sys::Element) -> MountOptions {
    let attr = |n: &str| el.get_attribute(n).filter(|v| !v.trim().is_empty());
    MountOptions {
        persistence_key: attr("data-persistence-key").unwrap_or_else(default_key),
        endpoint: attr("data-endpoint"),
        model: attr("data-model"),
        theme: attr("data-theme").and_then(|t| Theme::parse(&t)),
        start_view: attr("data-start-view").filter(|v| crate::state::Step::parse(v).is_some()),
    }
}

/// The local endpoint announced by the serving command in `config.json` beside
/// the page, if any: `{"default_endpoint": "...", "default_model": "..."}`.
async fn served_config() -> Option<(String, Option<String>)> {
    let window = web_sys::window()?;
    let resp = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str("config.json"))
        .await
        .ok()?;
    let resp: web_sys::Response = resp.dyn_into().ok()?;
    if !resp.ok() {
        return None;
    }
    let text = wasm_bindgen_futures::JsFuture::from(resp.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let endpoint = v.get("default_endpoint")?.as_str()?.to_string();
    let model = v
        .get("default_model")
        .and_then(|m| m.as_str())
        .map(str::to_string);
    Some((endpoint, model))
}

/// Start-up: mount into every `[data-fannotate-mount]` element of the page.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(list) = document.query_selector_all("[data-fannotate-mount]") else {
        return;
    };
    for i in 0..list.length() {
        let Some(el) = list
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        else {
            continue;
        };
        let mut options = options_from_attributes(&el);
        // The reactive executor starts with the first mount, so use the plain one here.
        wasm_bindgen_futures::spawn_local(async move {
            if options.endpoint.is_none() {
                // Absent for plain static hosting: then the built-in default applies.
                if let Some((endpoint, model)) = served_config().await {
                    options.endpoint = Some(endpoint);
                    options.model = options.model.or(model);
                }
            }
            // The page's own app lives as long as the page.
            std::mem::forget(mount_with(el, options));
        });
    }
}

/// Rows handed in by a host page, and rows handed back.
mod host_rows {
    use crate::services::browser::{now_ms, random_id};
    use crate::services::export::project_table;
    use crate::services::importer::{check_mapping, import_table, new_dataset};
    use crate::state::AppState;
    use fannotate_core::records::{DatasetMeta, Project};
    use fannotate_core::{Table, TextEncoding};
    use leptos::prelude::*;
    use serde::Deserialize;
    use serde_json::{Map, Value};
    use wasm_bindgen::JsValue;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct LoadOptions {
        text_field: String,
        #[serde(default)]
        id_field: Option<String>,
        #[serde(default)]
        name: Option<String>,
        /// The project to load into, by id.
        #[serde(default)]
        project: Option<String>,
        /// Replace the project's dataset if it has one.
        #[serde(default)]
        replace: bool,
        /// The gold-label field of every attribute without one of its own.
        #[serde(default)]
        gold_field: Option<String>,
        /// Gold-label fields per attribute.
        #[serde(default)]
        gold_fields: std::collections::BTreeMap<String, String>,
    }

    /// A project as `listProjects` gives it.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ProjectInfo {
        id: String,
        name: String,
        created_at: f64,
        updated_at: f64,
        sample: bool,
    }

    pub async fn list(state: AppState) -> Result<JsValue, String> {
        let projects: Vec<ProjectInfo> = state
            .storage()
            .list_projects()
            .await
            .map_err(|e| e.user_message())?
            .into_iter()
            .map(|p| ProjectInfo {
                id: p.id,
                name: p.name,
                created_at: p.created_at,
                updated_at: p.updated_at,
                sample: p.sample,
            })
            .collect();
        serde::Serialize::serialize(
            &projects,
            &serde_wasm_bindgen::Serializer::json_compatible(),
        )
        .map_err(|e| e.to_string())
    }

    async fn find(state: AppState, id: &str) -> Result<Project, String> {
        state
            .storage()
            .list_projects()
            .await
            .map_err(|e| e.user_message())?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| {
                format!("no project with id \"{id}\" in this instance (see listProjects())")
            })
    }

    pub async fn open(state: AppState, id: &str) -> Result<(), String> {
        state.open_project(find(state, id).await?);
        Ok(())
    }

    /// A cell: strings as they are, other values as JSON, null as empty.
    fn cell(v: Option<&Value>) -> String {
        match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }

    pub async fn load(state: AppState, rows: JsValue, options: JsValue) -> Result<String, String> {
        let opts: LoadOptions = serde_wasm_bindgen::from_value(options).map_err(|e| {
            format!("loadRows options: {e} (expected {{textField, idField?, name?, project?, replace?, goldField?, goldFields?}})")
        })?;
        let objects: Vec<Map<String, Value>> = serde_wasm_bindgen::from_value(rows)
            .map_err(|e| format!("loadRows rows: {e} (expected an array of objects)"))?;
        if objects.is_empty() {
            return Err("loadRows: no rows".into());
        }
        let mut columns: Vec<String> = Vec::new();
        for o in &objects {
            for k in o.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
        let col = |name: &str| columns.iter().position(|c| c == name);
        let text_col = col(&opts.text_field)
            .ok_or_else(|| format!("loadRows: no field \"{}\" in the rows", opts.text_field))?;
        let id_col = match &opts.id_field {
            Some(f) => {
                Some(col(f).ok_or_else(|| format!("loadRows: no field \"{f}\" in the rows"))?)
            }
            None => None,
        };
        let gold_col = match &opts.gold_field {
            Some(f) => {
                Some(col(f).ok_or_else(|| format!("loadRows: no gold field \"{f}\" in the rows"))?)
            }
            None => None,
        };
        let mut gold_cols = Vec::new();
        for (attribute, f) in &opts.gold_fields {
            let c = col(f).ok_or_else(|| {
                format!("loadRows: no gold field \"{f}\" (for {attribute}) in the rows")
            })?;
            gold_cols.push((attribute.clone(), c));
        }
        let table = Table {
            encoding: TextEncoding::Utf8,
            delimiter: ',',
            rows: objects
                .iter()
                .map(|o| columns.iter().map(|c| cell(o.get(c))).collect())
                .collect(),
            columns,
        };
        check_mapping(&table, Some(text_col), id_col).map_err(|e| e.to_string())?;
        let storage = state.storage();
        let target = match &opts.project {
            Some(id) => Some(find(state, id).await?),
            None => state.project.get_untracked(),
        };
        if let Some(p) = &target {
            let has_data = storage
                .dataset(p.id.clone())
                .await
                .map_err(|e| e.user_message())?
                .is_some();
            if has_data && !opts.replace {
                return Err(format!(
                    "loadRows: project \"{}\" already has a dataset; pass replace: true to replace it",
                    p.name
                ));
            }
        }
        let project = match target {
            Some(p) => p,
            None => {
                let now = now_ms();
                let p = Project {
                    id: random_id(),
                    name: opts
                        .name
                        .clone()
                        .unwrap_or_else(|| "Rows from the host page".into()),
                    created_at: now,
                    updated_at: now,
                    sample: false,
                };
                storage
                    .put_project(p.clone())
                    .await
                    .map_err(|e| e.user_message())?;
                p
            }
        };
        let mut meta = DatasetMeta {
            encoding: "from the host page".into(),
            ..new_dataset(
                &project.id,
                opts.name.unwrap_or_else(|| "host rows".into()),
                &table,
                text_col,
                id_col,
                gold_col,
            )
        };
        for (attribute, c) in &gold_cols {
            meta.set_gold(attribute, Some(*c));
        }
        let (cancel, progress) = (RwSignal::new(false), RwSignal::new(None));
        import_table(storage, meta, &table, id_col, cancel, progress)
            .await
            .map_err(|e| e.user_message())?;
        state.step.set(crate::state::Step::Data);
        let id = project.id.clone();
        state.project.set(Some(project));
        state.touch();
        Ok(id)
    }

    pub async fn export(state: AppState) -> Result<JsValue, String> {
        let Some(pid) = state.project.get_untracked().map(|p| p.id) else {
            return Err("exportAnnotations: no project is open".into());
        };
        let Some((_, header, body)) = project_table(state.storage().as_ref(), &pid)
            .await
            .map_err(|e| e.user_message())?
        else {
            return Ok(js_sys::Array::new().into());
        };
        let rows: Vec<Map<String, Value>> = body
            .into_iter()
            .map(|r| {
                header
                    .iter()
                    .cloned()
                    .zip(r.into_iter().map(Value::String))
                    .collect()
            })
            .collect();
        serde::Serialize::serialize(&rows, &serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| e.to_string())
    }
}
