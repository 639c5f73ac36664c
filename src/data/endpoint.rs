//! The endpoint settings a project runs with.

use crate::error::AppError;
use crate::options::MountOptions;
use crate::services::storage::Storage;
use fannotate_core::records::{EndpointConfig, Provider};

/// The endpoint a new project starts with: the mount options' (or the local
/// server's, from `config.json`), else llama.cpp's usual address.
pub fn default_endpoint(project_id: &str, options: &MountOptions) -> EndpointConfig {
    EndpointConfig::new(
        project_id,
        Provider::LlamaCpp,
        options.endpoint.as_deref(),
        options.model.as_deref(),
    )
}

/// The project's saved endpoint settings, or the default ones when none are saved.
pub async fn project_endpoint(
    storage: &dyn Storage,
    project_id: String,
    options: &MountOptions,
) -> Result<EndpointConfig, AppError> {
    let fallback = default_endpoint(&project_id, options);
    Ok(storage.endpoint(project_id).await?.unwrap_or(fallback))
}
