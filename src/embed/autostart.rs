//! Start-up of the bundled page (and any page that marks elements): every
//! `[data-fannotate-mount]` element is mounted, its options read from `data-*`
//! attributes.

use super::mount::mount_with;
use crate::options::{default_key, MountOptions, Theme};
use crate::route::Step;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Read options from `data-persistence-key`, `data-endpoint`, `data-model`.
fn options_from_attributes(el: &web_sys::Element) -> MountOptions {
    let attr = |n: &str| el.get_attribute(n).filter(|v| !v.trim().is_empty());
    MountOptions {
        persistence_key: attr("data-persistence-key").unwrap_or_else(default_key),
        endpoint: attr("data-endpoint"),
        model: attr("data-model"),
        theme: attr("data-theme").and_then(|t| Theme::parse(&t)),
        start_view: attr("data-start-view").filter(|v| Step::parse(v).is_some()),
    }
}

/// The local endpoint announced by the serving command in `config.json` beside
/// the page, if any: `{"default_endpoint": "...", "default_model": "..."}`.
async fn served_config() -> Option<(String, Option<String>)> {
    let resp = gloo_net::http::Request::get("config.json")
        .send()
        .await
        .ok()?;
    if !resp.ok() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&resp.text().await.ok()?).ok()?;
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
