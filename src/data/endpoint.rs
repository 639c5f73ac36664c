//! The endpoint settings a project runs with.

use crate::error::AppError;
use crate::state::AppState;
use fannotate_core::records::{EndpointConfig, Provider};
use leptos::prelude::*;

/// The endpoint a new project starts with: the mount options' (or the local
/// server's, from `config.json`), else llama.cpp's usual address.
pub fn default_endpoint(state: &AppState) -> EndpointConfig {
    let pid = state.project_id().unwrap_or_default();
    let opts = state.options.get_value();
    EndpointConfig::new(
        &pid,
        Provider::LlamaCpp,
        opts.endpoint.as_deref(),
        opts.model.as_deref(),
    )
}

/// The project's saved endpoint settings, or the default ones when none are saved.
pub async fn project_endpoint(
    state: &AppState,
    project_id: String,
) -> Result<EndpointConfig, AppError> {
    Ok(state
        .storage()
        .endpoint(project_id)
        .await?
        .unwrap_or_else(|| default_endpoint(state)))
}
