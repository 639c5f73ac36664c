//! The project list's workflows: back up, duplicate, rename, delete.

use crate::error::AppError;
use crate::services::backup::{backup, restore, BackupError};
use crate::services::browser::{now_ms, random_id};
use crate::services::files::download;
use crate::state::{AppState, ToastKind, Topic};
use fannotate_core::records::Project;
use leptos::prelude::*;

/// What the user asked of a project in the list.
#[derive(Debug, Clone)]
pub enum ProjectJob {
    /// Download a backup file of it.
    Backup(Project),
    /// Copy it under fresh ids and a new name.
    Duplicate(Project),
    /// Give it a new name.
    Rename(Project, String),
    /// Delete it with all its data (the user has confirmed).
    Delete(Project),
}

/// The project list's workflows as one action: pending while a job runs, so a
/// double click on Duplicate makes one copy, not two; its error shown.
pub fn project_action(state: AppState) -> Action<ProjectJob, ()> {
    Action::new_local(move |job: &ProjectJob| {
        let job = job.clone();
        async move {
            match run(state, job).await {
                Ok(Some(done)) => {
                    state.toast(ToastKind::Success, done);
                    state.touch(&[Topic::Projects]);
                }
                Ok(None) => {}
                Err(e) => state.error(&e),
            }
        }
    })
}

/// Do `job`; the success message, if any.
async fn run(state: AppState, job: ProjectJob) -> Result<Option<String>, AppError> {
    let storage = state.storage();
    Ok(Some(match job {
        ProjectJob::Backup(p) => {
            let b = backup(storage.as_ref(), p.clone()).await?;
            let text = serde_json::to_string(&b).map_err(|e| BackupError::Write(e.to_string()))?;
            download(
                &format!("{}.fannotate.json", p.name),
                "application/json",
                &text,
            )?;
            format!("Backup of \"{}\" saved.", p.name)
        }
        ProjectJob::Duplicate(p) => {
            let b = backup(storage.as_ref(), p.clone()).await?;
            let copy = b.renewed(format!("{} (copy)", p.name), now_ms(), random_id);
            let q = restore(storage.as_ref(), copy).await?;
            format!("Duplicated as \"{}\".", q.name)
        }
        ProjectJob::Rename(p, name) => {
            let name = name.trim().to_string();
            if name.is_empty() || name == p.name {
                return Ok(None);
            }
            let renamed = Project {
                name,
                updated_at: now_ms(),
                ..p
            };
            storage.put_project(renamed.clone()).await?;
            format!("Renamed to \"{}\".", renamed.name)
        }
        ProjectJob::Delete(p) => {
            storage.delete_project(p.id.clone()).await?;
            format!("Deleted \"{}\".", p.name)
        }
    }))
}
