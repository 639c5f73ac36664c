//! The JS mount API: `mount(element, options) → handle`, `handle.unmount()`.
//!
//! The bundled page and host pages use the same entry; every element with a
//! `data-fannotate-mount` attribute is mounted at start-up, reading its options
//! from `data-*` attributes.

use crate::app::App;
use leptos::prelude::*;
use serde::Deserialize;
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
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            persistence_key: default_key(),
            endpoint: None,
            model: None,
        }
    }
}

/// A mounted app; dropping it or calling `unmount` removes it.
#[wasm_bindgen]
pub struct MountHandle {
    inner: Option<Box<dyn std::any::Any>>,
}

#[wasm_bindgen]
impl MountHandle {
    /// Remove the app from its element and free its state.
    pub fn unmount(&mut self) {
        self.inner.take();
    }
}

fn mount_with(element: web_sys::HtmlElement, options: MountOptions) -> MountHandle {
    let handle = leptos::mount::mount_to(element, move || view! { <App options/> });
    MountHandle {
        inner: Some(Box::new(handle)),
    }
}

/// Mount Fannotate into `element`. `options` is an object with optional
/// `persistenceKey`, `endpoint` and `model`.
#[wasm_bindgen]
pub fn mount(element: web_sys::HtmlElement, options: JsValue) -> Result<MountHandle, JsValue> {
    let options: MountOptions = if options.is_undefined() || options.is_null() {
        MountOptions::default()
    } else {
        serde_wasm_bindgen::from_value(options)
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
