//! The codebook workflows: save the draft as the next version, or import the
//! original tool's JSON as one. Either way the codebook is validated first.

use crate::error::AppError;
use crate::services::browser::now_ms;
use crate::services::files::read_bytes;
use crate::services::importer::ImportError;
use crate::state::{AppState, ToastKind, Topic};
use fannotate_core::codebook::Codebook;
use fannotate_core::records::CodebookVersion;
use leptos::prelude::*;

/// Save `cb` as the project's version `after + 1` after validating it.
async fn save_version(state: AppState, cb: Codebook, after: u32) -> Result<(), AppError> {
    cb.validate()?;
    let v = CodebookVersion {
        project_id: state.project_id().unwrap_or_default(),
        version: after + 1,
        saved_at: now_ms(),
        json: cb.to_json(),
    };
    state.storage().put_codebook(v).await?;
    state.toast(
        ToastKind::Success,
        format!("Codebook saved as version {}.", after + 1),
    );
    state.touch(&[Topic::Codebook]);
    Ok(())
}

/// Save the draft (read when dispatched) as the version after `version`.
pub fn save_action(
    state: AppState,
    draft: impl Fn() -> Codebook + 'static,
    version: u32,
) -> Action<(), Result<(), AppError>> {
    Action::new_local(move |_: &()| save_version(state, draft(), version))
}

/// Import a codebook JSON file (the original tool's format) as the version
/// after `version`.
pub fn import_action(state: AppState, version: u32) -> Action<web_sys::File, Result<(), AppError>> {
    Action::new_local(move |file: &web_sys::File| {
        let file = file.clone();
        async move {
            let bytes = read_bytes(&file).await?;
            let text = String::from_utf8(bytes).map_err(|_| ImportError::NotText)?;
            let cb = Codebook::from_json(&text)?;
            save_version(state, cb, version).await
        }
    })
}
