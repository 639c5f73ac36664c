//! Records and keys as JS values: the stored format.
//!
//! Records go through serde-wasm-bindgen's JSON-compatible serializer, as every
//! release so far wrote them (`None` as `null`, maps as plain objects). The
//! crate's `.serde()` writes `None` as `undefined`, which would change what is
//! stored, so its `serde` feature is not used: requests take and give
//! `JsValue`s and this module converts them.

use crate::services::storage::{StorageError, StorageResult};
use indexed_db_futures::KeyRange;
use js_sys::Array;
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::JsValue;

/// A record as a JSON-compatible JS value.
pub(super) fn to_js<T: Serialize>(v: &T) -> StorageResult<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// A record from a JS value.
pub(super) fn from_js<T: DeserializeOwned>(v: JsValue) -> StorageResult<T> {
    serde_wasm_bindgen::from_value(v).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Records from what a `get_all` request found.
pub(super) fn records<T: DeserializeOwned>(
    found: impl IntoIterator<Item = indexed_db_futures::Result<JsValue>>,
) -> StorageResult<Vec<T>> {
    found.into_iter().map(|v| from_js(v?)).collect()
}

/// An array key from its parts.
pub(super) fn key(parts: &[JsValue]) -> JsValue {
    parts.iter().collect::<Array>().into()
}

/// Every key from `lower` to `upper`, both included.
pub(super) fn between(lower: &[JsValue], upper: &[JsValue]) -> KeyRange<JsValue> {
    KeyRange::Bound(key(lower), false, key(upper), false)
}

/// Every key starting with `prefix` (array keys: `[p..]` up to `[p.., []]`,
/// since arrays sort after strings and numbers).
pub(super) fn prefix_range(prefix: &[JsValue]) -> KeyRange<JsValue> {
    let (lower, upper) = prefix_bounds(prefix);
    KeyRange::Bound(lower, false, upper, false)
}

/// The lowest and highest keys of [`prefix_range`].
pub(super) fn prefix_bounds(prefix: &[JsValue]) -> (JsValue, JsValue) {
    let mut upper: Vec<JsValue> = prefix.to_vec();
    upper.push(Array::new().into());
    (key(prefix), key(&upper))
}
