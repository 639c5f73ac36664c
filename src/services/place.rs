//! Where the user was: the open project and step, kept per persistence key in
//! `localStorage`, so a reload (or a re-mount) comes back to the same place and
//! two embedded instances never share it.

use super::browser::local_storage;
use serde::{Deserialize, Serialize};

/// The remembered place of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// The open project's id.
    pub project: String,
    /// The step shown (`Step::as_str`).
    pub step: String,
}

/// The `localStorage` key of an instance's place. Do not change without
/// reading the old key once: users would lose their place on upgrade.
pub fn place_key(persistence_key: &str) -> String {
    format!("fannotate:{persistence_key}:place")
}

/// The place last remembered for `persistence_key`, if any (and readable).
pub fn recall(persistence_key: &str) -> Option<Place> {
    let text = local_storage()?
        .get_item(&place_key(persistence_key))
        .ok()??;
    serde_json::from_str(&text).ok()
}

/// Remember `place` (or, with `None`, that no project is open). Storage that
/// refuses (private mode, a full quota) only costs the place after a reload.
pub fn remember(persistence_key: &str, place: Option<&Place>) {
    let Some(s) = local_storage() else { return };
    let key = place_key(persistence_key);
    let _ = match place.and_then(|p| serde_json::to_string(p).ok()) {
        Some(text) => s.set_item(&key, &text),
        None => s.remove_item(&key),
    };
}
