//! The project list: create, open, delete.

use crate::actions::project::{
    create_action, project_action, restore_action, sample_action, ProjectJob,
};
use crate::components::{when_loaded, Button, Tone};
use crate::error::AppError;
use crate::format::{format_date, human_bytes};
use crate::services::browser::storage_use;
use crate::services::files::take_picked_file;
use crate::state::Topic;
use crate::state::{AppState, ToastKind};
use fannotate_core::records::Project;
use leptos::prelude::*;

/// List of projects and a form to create one.
#[component]
pub fn ProjectsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let projects = LocalResource::new(move || {
        state.track(&[Topic::Projects]);
        let storage = state.storage();
        async move { storage.list_projects().await.map_err(AppError::from) }
    });
    let storage_use = LocalResource::new(move || {
        state.track(&Topic::ALL);
        storage_use()
    });
    let (name, set_name) = signal(String::new());
    let create = create_action(state, move || set_name.set(String::new()));
    let make_sample = sample_action(state);
    let submit = move || {
        let n = name.get_untracked();
        if n.trim().is_empty() {
            state.toast(ToastKind::Error, "Give the project a name.");
            return;
        }
        create.dispatch(n);
    };
    let act = project_action(state);
    let restore = restore_action(state);
    let delete = move |p: Project| {
        let ok = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message(&format!("Delete project \"{}\" and all its data?", p.name))
                    .ok()
            })
            .unwrap_or(false);
        if !ok {
            return;
        }
        act.dispatch_local(ProjectJob::Delete(p));
    };
    view! {
        <section class="fa-view" data-testid="projects-view">
            <h2>"Projects"</h2>
            <form
                class="fa-row"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <label class="fa-field">
                    <span>"New project"</span>
                    <input
                        type="text"
                        placeholder="e.g. Spam triage"
                        data-testid="project-name"
                        prop:value=name
                        on:input:target=move |ev| set_name.set(ev.target().value())
                    />
                </label>
                <Button tone=Tone::Primary submit=true label="Create" pending_label="Creating…" pending=create.pending() attr:data-testid="create-project" />
            </form>
            {move || create.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert" data-testid="create-error">{e.user_message()}</p> })}
            <div class="fa-row">
                <label class="fa-btn">
                    "Restore a backup…"
                    <input type="file" accept=".json,application/json" class="fa-visually-hidden" data-testid="restore-file"
                        on:change=move |ev| {
                            if let Some(f) = take_picked_file(&ev) { restore.dispatch_local(f); }
                        } />
                </label>
                {move || restore.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert" data-testid="restore-error">{e.user_message()}</p> })}
            </div>
            {move || storage_use.get().flatten().map(|u| view! {
                <p class="fa-muted" data-testid="storage-use">
                    {format!(
                        "Stored in this browser: {} of {} available{}",
                        human_bytes(u.usage),
                        human_bytes(u.quota),
                        if u.persisted { " · kept under storage pressure" } else { " · the browser may evict it under storage pressure; export backups" },
                    )}
                </p>
            })}
            {when_loaded(projects, "Loading projects…", move |value| match value {
                list if list.is_empty() => view! {
                    <p class="fa-empty">"No projects yet. Name one above and press Create; then import a CSV file."</p>
                    // A first look without a file of one's own (issue #14).
                    <div class="fa-card" data-testid="sample-offer">
                        <h3>"Or try the sample project"</h3>
                        <p>"300 SpamAssassin emails (public domain: PDDL / CC0) with a spam/ham gold label and a two-category codebook, pointed at the default endpoint. It is marked as a sample in the list; delete it whenever you like."</p>
                        <Button tone=Tone::Primary label="Create the sample project" pending_label="Creating the sample…" attr:data-testid="create-sample"
                            pending=make_sample.pending() on_click=move || { make_sample.dispatch(()); } />
                        {move || make_sample.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert">{e.user_message()}</p> })}
                    </div>
                }.into_any(),
                list => view! {
                    <ul class="fa-list" data-testid="project-list">
                        {list.into_iter().map(|p| {
                            let open = p.clone();
                            let del = p.clone();
                            view! {
                                <li class="fa-list__item">
                                    <button class="fa-link" data-testid="open-project" on:click=move |_| {
                                        state.open_project(open.clone());
                                    }>{p.name.clone()}</button>
                                    {p.sample.then(|| view! { <span class="fa-badge" data-testid="sample-badge">"sample"</span> })}
                                    <span class="fa-muted">{format_date(p.updated_at)}</span>
                                    <ProjectSize project_id=p.id.clone() />
                                    {
                                        let b = p.clone();
                                        view! { <Button label="Backup" pending=act.pending() attr:data-testid="backup-project" on_click=move || { act.dispatch_local(ProjectJob::Backup(b.clone())); } /> }
                                    }
                                    {
                                        let (d, r) = (p.clone(), p.clone());
                                        let editing = RwSignal::new(false);
                                        view! {
                                            <Button label="Duplicate" pending=act.pending() attr:data-testid="duplicate-project" on_click=move || { act.dispatch_local(ProjectJob::Duplicate(d.clone())); } />
                                            <Show when=move || editing.get() fallback=move || view! {
                                                <button class="fa-btn" data-testid="rename-project" on:click=move |_| editing.set(true)>"Rename"</button>
                                            }>
                                                {
                                                    let r = r.clone();
                                                    view! {
                                                        <input type="text" aria-label="New project name" data-testid="rename-input" prop:value=r.name.clone()
                                                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                                                if ev.key() == "Escape" { editing.set(false) }
                                                            }
                                                            on:change:target={
                                                                let r = r.clone();
                                                                move |ev| { act.dispatch_local(ProjectJob::Rename(r.clone(), ev.target().value())); editing.set(false) }
                                                            } />
                                                    }
                                                }
                                            </Show>
                                        }
                                    }
                                    <Button tone=Tone::Danger label="Delete" pending=act.pending() on_click=move || delete(del.clone()) />
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                        })}
        </section>
    }
}

/// What a project keeps in this browser: its dataset's rows and text size.
#[component]
fn ProjectSize(
    /// The project.
    project_id: String,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let meta = LocalResource::new(move || {
        let (storage, pid) = (state.storage(), project_id.clone());
        async move { storage.dataset(pid).await.map_err(AppError::from) }
    });
    // Nothing while it loads or when the project has no data; a failed read says so.
    move || match meta.get() {
        Some(Ok(Some(m))) => view! {
            <span class="fa-muted" data-testid="project-size">
                {format!("{} rows · {} of text", m.row_count, human_bytes(m.bytes as f64))}
            </span>
        }
        .into_any(),
        Some(Err(e)) => {
            view! { <span class="fa-error" role="alert">{e.user_message()}</span> }.into_any()
        }
        Some(Ok(None)) | None => ().into_any(),
    }
}
