//! The attribute a run was made with, as its codebook version defined it.

use crate::services::storage::{Storage, StorageError};
use fannotate_core::records::RunRecord;
use fannotate_core::Attribute;

/// The run's attribute in the codebook version it ran with (`None` when that
/// version is gone or no longer parses).
pub async fn run_attribute(
    storage: &dyn Storage,
    run: &RunRecord,
) -> Result<Option<Attribute>, StorageError> {
    Ok(storage
        .codebook_versions(run.project_id.clone())
        .await?
        .into_iter()
        .find(|v| v.version == run.codebook_version)
        .and_then(|v| v.codebook().ok())
        .and_then(|cb| cb.attribute(&run.attribute).cloned()))
}
