//! Requests and transactions as futures, IndexedDB errors as [`StorageError`],
//! and records to and from JS values and keys.

use crate::services::storage::{StorageError, StorageResult};
use futures::channel::oneshot;
use js_sys::Array;
use serde::{de::DeserializeOwned, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{Event, EventTarget, IdbKeyRange, IdbRequest, IdbTransaction};

/// A DOM error as a [`StorageError`] (a full quota is its own kind).
pub(super) fn dom_error(err: Option<web_sys::DomException>) -> StorageError {
    match err {
        Some(e) if e.name() == "QuotaExceededError" => StorageError::QuotaExceeded,
        Some(e) => StorageError::Other(format!("{}: {}", e.name(), e.message())),
        None => StorageError::Other("unknown IndexedDB error".into()),
    }
}

/// A failed IndexedDB call as a [`StorageError`].
pub(super) fn js_err(v: JsValue) -> StorageError {
    match v.dyn_into::<web_sys::DomException>() {
        Ok(e) => dom_error(Some(e)),
        Err(v) => StorageError::Other(
            v.as_string()
                .unwrap_or_else(|| "IndexedDB call failed".into()),
        ),
    }
}

/// Wait until `target` fires one of `ok` (→ `Ok`) or `errs` (→ `Err`).
pub(super) async fn wait_event(
    target: &EventTarget,
    ok: &str,
    errs: &[&str],
) -> Result<(), String> {
    let (tx, rx) = oneshot::channel::<Result<(), String>>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let make = |result: fn(&Event) -> Result<(), String>| {
        let tx = tx.clone();
        Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            if let Some(s) = tx.borrow_mut().take() {
                // The receiver only goes away if the future was dropped; nothing to tell then.
                let _ = s.send(result(&ev));
            }
        })
    };
    let on_ok = make(|_| Ok(()));
    let on_err = make(|ev| {
        // Keep the error from also surfacing as an uncaught window error.
        ev.prevent_default();
        Err(ev.type_())
    });
    let _ = target.add_event_listener_with_callback(ok, on_ok.as_ref().unchecked_ref());
    for e in errs {
        let _ = target.add_event_listener_with_callback(e, on_err.as_ref().unchecked_ref());
    }
    let out = rx.await.unwrap_or_else(|_| Err("cancelled".into()));
    let _ = target.remove_event_listener_with_callback(ok, on_ok.as_ref().unchecked_ref());
    for e in errs {
        let _ = target.remove_event_listener_with_callback(e, on_err.as_ref().unchecked_ref());
    }
    out
}

/// Await a request's result.
pub(super) async fn request(req: IdbRequest) -> StorageResult<JsValue> {
    match wait_event(&req, "success", &["error"]).await {
        Ok(()) => req.result().map_err(js_err),
        Err(_) => Err(dom_error(req.error().ok().flatten())),
    }
}

/// Await a transaction's commit; an abort reports the transaction's error.
pub(super) async fn commit(tx: &IdbTransaction) -> StorageResult<()> {
    match wait_event(tx, "complete", &["abort", "error"]).await {
        Ok(()) => Ok(()),
        Err(_) => Err(dom_error(tx.error())),
    }
}

/// A record as a JSON-compatible JS value.
pub(super) fn to_js<T: Serialize>(v: &T) -> StorageResult<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// A record from a JS value.
pub(super) fn from_js<T: DeserializeOwned>(v: JsValue) -> StorageResult<T> {
    serde_wasm_bindgen::from_value(v).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Records from a JS array.
pub(super) fn from_array<T: DeserializeOwned>(v: JsValue) -> StorageResult<Vec<T>> {
    Array::from(&v).iter().map(from_js).collect()
}

/// An array key from its parts.
pub(super) fn key(parts: &[JsValue]) -> JsValue {
    parts.iter().collect::<Array>().into()
}

/// Every key starting with `prefix` (array keys: `[p..]` up to `[p.., []]`,
/// since arrays sort after strings and numbers).
pub(super) fn prefix_range(prefix: &[JsValue]) -> StorageResult<IdbKeyRange> {
    let mut upper: Vec<JsValue> = prefix.to_vec();
    upper.push(Array::new().into());
    IdbKeyRange::bound(&key(prefix), &key(&upper)).map_err(js_err)
}

/// Put one record into `store` inside `tx`.
pub(super) fn put<T: Serialize>(
    tx: &IdbTransaction,
    store: &str,
    v: &T,
) -> StorageResult<IdbRequest> {
    tx.object_store(store)
        .map_err(js_err)?
        .put(&to_js(v)?)
        .map_err(js_err)
}
