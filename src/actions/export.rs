//! The export workflow: every row of the project's dataset with all its
//! annotations, encoded and downloaded.

use crate::error::AppError;
use crate::services::browser::mono_ms;
use crate::services::export::{project_table, ExportFormat};
use crate::services::files::download_parts;
use crate::state::{AppState, ToastKind};
use leptos::prelude::*;

/// Export every row of the project's dataset with all annotations; returns the
/// rows written and the milliseconds it took.
async fn export_all(state: AppState, format: ExportFormat) -> Result<(u32, f64), AppError> {
    let t0 = mono_ms();
    let pid = state.project_id().unwrap_or_default();
    let Some((meta, header, body)) = project_table(state.storage().as_ref(), &pid).await? else {
        return Ok((0, 0.0));
    };
    let stem = meta
        .name
        .rsplit_once('.')
        .map_or(meta.name.as_str(), |(s, _)| s);
    let name = format!("{stem}-annotated.{}", format.extension());
    let parts = format.encode_sliced("annotations", &header, &body).await;
    download_parts(&name, format.mime(), &parts)?;
    state.toast(ToastKind::Success, format!("Exported {name}."));
    Ok((body.len() as u32, mono_ms() - t0))
}

/// Export in the format chosen when dispatched; its value is the rows written
/// and the milliseconds it took.
pub fn export_action(
    state: AppState,
    format: impl Fn() -> ExportFormat + 'static,
) -> Action<(), Result<(u32, f64), AppError>> {
    Action::new_local(move |_: &()| export_all(state, format()))
}
