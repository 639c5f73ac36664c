//! Small browser facilities: clocks, timers and ids.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(
    inline_js = "export function fannotate_asset_base() { return new URL('../../', import.meta.url).href; }"
)]
extern "C" {
    /// The directory the app's files are served from (this snippet lives two
    /// levels below it, in `snippets/<crate>/`): the page's own directory in the
    /// standalone app, the script's directory on a host page that embeds it.
    #[wasm_bindgen(js_name = fannotate_asset_base)]
    pub fn asset_base() -> String;
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A monotonic clock in milliseconds, for durations.
pub fn mono_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// A random id, unique enough for records made in one browser.
pub fn random_id() -> String {
    let r = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("{:x}{:08x}{:08x}", now_ms() as u64, r(), r())
}

/// Resolve after `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match set_timeout {
            Some(f) => {
                let _ = f.call2(&global, &resolve, &JsValue::from_f64(ms.max(0.0)));
            }
            // No timer at all: resolve at once rather than hang forever.
            None => {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Long work on the page's thread, cut into slices of about `budget_ms`: the
/// loop asks [`TimeSlice::due`] between steps, and [`TimeSlice::pause`] lets the
/// page paint and take clicks before the next slice.
pub struct TimeSlice {
    budget_ms: f64,
    since: f64,
}

impl TimeSlice {
    /// A slice starting now.
    pub fn new(budget_ms: f64) -> Self {
        TimeSlice {
            budget_ms,
            since: mono_ms(),
        }
    }

    /// Whether this slice has run its time.
    pub fn due(&self) -> bool {
        mono_ms() - self.since >= self.budget_ms
    }

    /// Yield to the browser, then start a new slice.
    pub async fn pause(&mut self) {
        sleep(0.0).await;
        self.since = mono_ms();
    }

    /// [`TimeSlice::pause`] if the slice is [`due`](TimeSlice::due).
    pub async fn pause_if_due(&mut self) {
        if self.due() {
            self.pause().await;
        }
    }
}

/// A timer that calls a closure once after a delay unless dropped first.
pub struct Timeout {
    id: Option<i32>,
    _closure: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Schedule `f` after `ms` milliseconds.
    pub fn new(ms: u32, f: impl FnMut() + 'static) -> Self {
        let closure = Closure::<dyn FnMut()>::new(f);
        let id = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                ms.min(i32::MAX as u32) as i32,
            )
            .ok()
        });
        Timeout {
            id,
            _closure: closure,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let (Some(id), Some(w)) = (self.id, web_sys::window()) {
            w.clear_timeout_with_handle(id);
        }
    }
}

/// How much this origin stores, and may store, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageUse {
    /// Bytes used by this origin.
    pub usage: f64,
    /// Bytes the browser allows this origin.
    pub quota: f64,
    /// Whether the browser promised not to evict the data under pressure.
    pub persisted: bool,
}

/// The page's `localStorage`, when the browser gives one (not in private
/// modes that refuse it).
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn storage_manager() -> Option<web_sys::StorageManager> {
    Some(web_sys::window()?.navigator().storage())
}

/// The browser's storage estimate; `None` where the API is missing.
pub async fn storage_use() -> Option<StorageUse> {
    let sm = storage_manager()?;
    let est: web_sys::StorageEstimate = wasm_bindgen_futures::JsFuture::from(sm.estimate().ok()?)
        .await
        .ok()?
        .unchecked_into();
    let persisted = match sm.persisted() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        Err(_) => false,
    };
    Some(StorageUse {
        usage: est.get_usage().unwrap_or(0.0),
        quota: est.get_quota().unwrap_or(0.0),
        persisted,
    })
}

/// Ask the browser to keep this origin's data under storage pressure. Browsers
/// decide silently (Chromium by site engagement), so the answer is only reported.
pub async fn request_persistence() -> Option<bool> {
    let p = storage_manager()?.persist().ok()?;
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .ok()?
        .as_bool()
}
