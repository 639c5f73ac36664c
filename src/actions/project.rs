//! The project list's workflows: create, create the sample, restore a backup,
//! and back up, duplicate, rename or delete a project.

use crate::error::AppError;
use crate::services::backup::{backup, parse_backup, restore, BackupError};
use crate::services::browser::{now_ms, random_id};
use crate::services::files::{download, read_bytes};
use crate::services::sample::create_sample;
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
            // Its rows may be the ones held for the views; let them go.
            state.rows.get_value().forget();
            format!("Deleted \"{}\".", p.name)
        }
    }))
}

/// Create an empty project named `name` (trimmed) and open it; `on_created`
/// runs once it is stored (e.g. to clear the name field).
pub fn create_action(
    state: AppState,
    on_created: impl Fn() + Clone + 'static,
) -> Action<String, Result<(), AppError>> {
    Action::new_local(move |name: &String| {
        let now = now_ms();
        let project = Project {
            id: random_id(),
            name: name.trim().to_string(),
            created_at: now,
            updated_at: now,
            sample: false,
            student: None,
        };
        let on_created = on_created.clone();
        async move {
            state.storage().put_project(project.clone()).await?;
            on_created();
            state.touch(&[Topic::Projects]);
            state.open_project(project);
            Ok(())
        }
    })
}

/// Create the sample project and open it.
pub fn sample_action(state: AppState) -> Action<(), Result<(), AppError>> {
    Action::new_local(move |_: &()| async move {
        let project = create_sample(state.storage().as_ref()).await?;
        state.touch(&[Topic::Projects]);
        state.open_project(project);
        Ok(())
    })
}

/// Restore a project from a backup file the user picked.
pub fn restore_action(state: AppState) -> Action<web_sys::File, Result<(), AppError>> {
    Action::new_local(move |file: &web_sys::File| {
        let file = file.clone();
        async move {
            let bytes = read_bytes(&file).await?;
            let b = parse_backup(&String::from_utf8_lossy(&bytes))?;
            let p = restore(state.storage().as_ref(), b).await?;
            state.toast(ToastKind::Success, format!("Restored \"{}\".", p.name));
            state.touch(&[Topic::Projects]);
            Ok(())
        }
    })
}
