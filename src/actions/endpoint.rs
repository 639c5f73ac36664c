//! The endpoint workflows: save the draft, test the connection (and keep what
//! the probes found), list the server's models.

use crate::error::AppError;
use crate::services::llm::{list_models, test_connection, ConnectionReport};
use crate::state::{AppState, ToastKind};
use fannotate_core::records::EndpointConfig;
use leptos::prelude::*;

/// Store `cfg` (with the session's key only when the user opted in to keeping it).
async fn persist(state: AppState, mut cfg: EndpointConfig) -> Result<(), AppError> {
    let key = state.session_key.get_untracked();
    cfg.api_key = (cfg.store_key && !key.is_empty()).then_some(key);
    // No `touch()`: it would reload the editor and drop the report on screen;
    // other steps read the endpoint when they open.
    Ok(state.storage().put_endpoint(cfg).await?)
}

/// The endpoint editor's three workflows over its draft.
#[derive(Clone, Copy)]
pub struct EndpointActions {
    /// Save the draft.
    pub save: Action<(), Result<(), AppError>>,
    /// Probe the endpoint; in automatic mode the draft takes the constraint and
    /// logprobs the probes found, and is saved.
    pub test: Action<(), Result<ConnectionReport, AppError>>,
    /// The models the server lists.
    pub models: Action<(), Result<Vec<String>, AppError>>,
}

/// The workflows of an editor over `draft`; `saved` turns true once it is stored.
pub fn endpoint_actions(
    state: AppState,
    draft: RwSignal<EndpointConfig>,
    saved: WriteSignal<bool>,
) -> EndpointActions {
    let save = Action::new_local(move |_: &()| {
        let cfg = draft.get_untracked();
        async move {
            persist(state, cfg).await?;
            saved.set(true);
            state.toast(ToastKind::Success, "Endpoint saved.");
            Ok(())
        }
    });
    let test = Action::new_local(move |_: &()| {
        let cfg = draft.get_untracked();
        let key = state.session_key.get_untracked();
        async move {
            let report = test_connection(&cfg, &key).await?;
            let mut updated = cfg;
            report.capabilities.apply_to(&mut updated);
            draft.set(updated.clone());
            persist(state, updated).await?;
            saved.set(true);
            Ok(report)
        }
    });
    let models = Action::new_local(move |_: &()| {
        let cfg = draft.get_untracked();
        let key = state.session_key.get_untracked();
        async move { Ok(list_models(&cfg, &key).await?) }
    });
    EndpointActions { save, test, models }
}
