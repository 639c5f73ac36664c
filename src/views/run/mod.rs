//! Start, watch and cancel an auto-annotation run.

use crate::actions::run::{run_action, Continue, RunJob, RunSetup};
use crate::components::{when_loaded, Button, RunControls, RunProgressPanel, SelectField, Tone};
use crate::error::AppError;
use crate::format::format_date;
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::records::{run_source, AnnotationStatus, RunRecord, RunStatus, Scope};
use leptos::prelude::*;

mod batch;

use crate::actions::batch::batch_action;
use batch::{BatchExport, BatchRuns, LastImport};

/// The attribute choice that runs every attribute in turn.
const ALL_ATTRIBUTES: &str = "__all_attributes__";

/// The run step.
#[component]
pub fn RunView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let setup = LocalResource::new(move || {
        state.track(&[
            Topic::Dataset,
            Topic::Codebook,
            Topic::Endpoint,
            Topic::Runs,
        ]);
        RunSetup::load(state.storage(), state.project_id().unwrap_or_default())
    });
    let act = run_action(state);
    let batch = batch_action(state);
    let attribute_choice = RwSignal::new(None::<String>);
    let scope = RwSignal::new(Scope::All);
    let version_choice = RwSignal::new(None::<u32>);
    let running = move || state.active_run.with(|r| r.is_some());

    view! {
        <section class="fa-view" data-testid="run-view">
            <h2>"Run"</h2>
            {when_loaded(setup, "Loading…", move |s| {
                    // Every attribute can run: categorical ones are compared as labels,
                    // free-text ones by ROUGE.
                    let attributes: Vec<String> = s.codebook.as_ref().and_then(|v| v.codebook().ok())
                        .map(|cb| cb.attributes.into_iter().map(|a| a.name).collect())
                        .unwrap_or_default();
                    let missing = if s.dataset.is_none() {
                        Some("Import a dataset first (Data step).")
                    } else if attributes.is_empty() {
                        Some("Save a codebook with at least one attribute first (Codebook step).")
                    } else {
                        None
                    };
                    let concurrency_note = s.endpoint.as_ref().and_then(|e| e.concurrency_note());
                    let endpoint_note = match &s.endpoint {
                        Some(e) => format!("{} · model {} · {} in flight · constraint: {}", e.base_url, if e.model.is_empty() { "(server default)" } else { &e.model }, e.concurrency, e.constraint.label()),
                        None => "No endpoint saved: the default local endpoint will be used (Endpoint step).".into(),
                    };
                    let rows = s.dataset.as_ref().map_or(0, |d| d.row_count);
                    // The attributes of the chosen prompt version (the latest by default).
                    let versions = StoredValue::new(s.versions.clone());
                    let names = Memo::new(move |_| {
                        let want = version_choice.get();
                        versions.with_value(|vs| {
                            vs.iter()
                                .find(|v| want.is_none_or(|n| v.version == n))
                                .and_then(|v| v.codebook().ok())
                                .map(|cb| cb.attributes.into_iter().map(|a| a.name).collect::<Vec<_>>())
                                .unwrap_or_default()
                        })
                    });
                    let chosen = move || {
                        let names = names.get();
                        attribute_choice
                            .get()
                            .filter(|a| a == ALL_ATTRIBUTES || names.contains(a))
                            .unwrap_or_else(|| names.first().cloned().unwrap_or_default())
                    };
                    let s_start = s.clone();
                    let s_batch = s.clone();
                    view! {
                        <div class="fa-card">
                            {missing.map(|m| view! { <p class="fa-empty" data-testid="run-missing">{m}</p> })}
                            <div class="fa-row">
                                <SelectField label="Attribute" testid="run-attribute" on_change=Callback::new(move |v: String| attribute_choice.set(Some(v)))>
                                        {move || names.get().into_iter().map(|a| { let a2 = a.clone(); view! {
                                            <option value=a.clone() selected=move || chosen() == a2>{a.clone()}</option>
                                        }}).collect_view()}
                                        {move || (names.with(Vec::len) > 1).then(|| view! {
                                            <option value=ALL_ATTRIBUTES selected=move || chosen() == ALL_ATTRIBUTES>"All attributes (one run each)"</option>
                                        })}
                                    </SelectField>
                                <SelectField label="Prompt version" testid="run-version" on_change=Callback::new(move |v: String| version_choice.set(v.parse().ok()))>
                                        {s.versions.iter().enumerate().map(|(i, v)| { let n = v.version; view! {
                                            <option value=n.to_string() selected=move || version_choice.get().map_or(i == 0, |c| c == n)>
                                                {format!("v{n}{}", if i == 0 { " (latest)" } else { "" })}
                                            </option>
                                        }}).collect_view()}
                                    </SelectField>
                                <SelectField label="Rows" testid="run-scope" on_change=Callback::new(move |v: String| if let Some(x) = Scope::parse(&v) { scope.set(x) })>
                                        {Scope::ALL.into_iter().map(|x| view! {
                                            <option value=x.as_str() selected=move || scope.get() == x>{x.label()}</option>
                                        }).collect_view()}
                                    </SelectField>
                                <p class="fa-muted">{format!("{rows} rows in the dataset · {endpoint_note}")}</p>
                            </div>
                            {concurrency_note.map(|n| view! { <p class="fa-muted" data-testid="concurrency-note">{n}</p> })}
                            <div class="fa-row">
                                <Button tone=Tone::Primary label="Start run" pending_label="Starting…" pending=act.pending() attr:data-testid="start-run"
                                    disabled=Signal::derive(move || missing.is_some() || running())
                                    on_click=move || {
                                        let (setup, attribute) = (s_start.clone(), chosen());
                                        let (scope, version) = (scope.get_untracked(), version_choice.get_untracked());
                                        act.dispatch_local(if attribute == ALL_ATTRIBUTES {
                                            RunJob::StartAll { setup, scope, version }
                                        } else {
                                            RunJob::Start { setup, attribute, scope, version }
                                        });
                                    } />
                                <RunControls enabled=Signal::derive(running) paused=Signal::derive(move || state.run_paused())
                                    on_pause=Callback::new(move |_| state.toggle_pause()) on_cancel=Callback::new(move |_| state.cancel_run()) cancel_label="Cancel" />
                            </div>
                            <BatchExport setup=s_batch attribute=Signal::derive(chosen) scope=scope.into() version=version_choice.into()
                                disabled=Signal::derive(move || missing.is_some() || chosen() == ALL_ATTRIBUTES) act=batch />
                        </div>
                    }.into_any()
                })}
            // Outside the loaded form: a write that reloads the setup (the run's own
            // start touches the runs) rebuilds the form, never the live panel.
            <RunProgressPanel progress=state.progress run=state.progress_run live=Signal::derive(move || state.run_live()) />
            {when_loaded(setup, "Loading runs…", move |s| view! { <RunList runs=s.runs.clone()/> <BatchRuns runs=s.runs act=batch/> }.into_any())}
            <LastImport act=batch />
        </section>
    }
}

/// "Run interrupted: Resume", shown on every step of a project whose run was
/// left running by a page that closed (issue #14: after a reload nothing said
/// so, and the run waited in the run list for someone to find it).
#[component]
pub fn InterruptedRun() -> impl IntoView {
    let state = expect_context::<AppState>();
    let act = run_action(state);
    let runs = LocalResource::new(move || {
        state.track(&[Topic::Runs]);
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.runs(pid).await.map_err(AppError::from) }
    });
    // Offered only while this page runs nothing: a resume would wait for it.
    let interrupted = move || {
        if state.active_run.with(Option::is_some) {
            return None;
        }
        runs.get()?
            .ok()?
            .into_iter()
            .find(|r| r.shown_status(None) == RunStatus::Interrupted)
    };
    view! {
        {move || interrupted().map(|run| {
            let done = run.valid + run.invalid + run.failed;
            let what = format!(
                "Run interrupted: {} · {} · {done} of {} done, when the page closed.",
                run.attribute,
                run.configuration(),
                run.total
            );
            let action = if run.experiment.is_some() {
                view! {
                    <button class="fa-btn fa-btn--primary" data-testid="interrupted-open"
                        on:click=move |_| state.step.set(crate::state::Step::Experiments)>"Continue in Experiments"</button>
                }.into_any()
            } else {
                view! {
                    <Button tone=Tone::Primary label="Resume" pending_label="Resuming…" pending=act.pending() attr:data-testid="interrupted-resume"
                        on_click=move || { act.dispatch_local(RunJob::Continue(run.clone(), Continue::Resume)); } />
                }.into_any()
            };
            view! {
                <div class="fa-card fa-banner" role="status" data-testid="interrupted-run">
                    <p>{what}</p>
                    {action}
                </div>
            }
        })}
    }
}

/// Past runs of the project.
#[component]
fn RunList(
    /// Runs, newest first.
    runs: Vec<RunRecord>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let act = run_action(state);
    if runs.is_empty() {
        return view! { <p class="fa-empty">"No runs yet."</p> }.into_any();
    }
    let active = move || {
        state
            .active_run
            .with(|r| r.as_ref().map(|r| r.run_id.clone()))
    };
    let failed_of = RwSignal::new(None::<RunRecord>);
    view! {
        <table class="fa-table" data-testid="run-list">
            <thead><tr><th scope="col">"Started"</th><th scope="col">"Attribute"</th><th scope="col">"Rows"</th><th scope="col">"Configuration"</th><th scope="col">"Status"</th><th scope="col">"Labelled"</th><th scope="col">"Invalid"</th><th scope="col">"Failed"</th><th scope="col"><span class="fa-visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let id = r.id.clone();
                    let this_page = Memo::new(move |_| active().as_deref() == Some(id.as_str()));
                    let running = move || state.active_run.with(Option::is_some) || act.pending().get();
                    let (finished, total, failed) = (r.valid + r.invalid + r.failed, r.total, r.failed);
                    let stored = r.clone();
                    let shown = Memo::new(move |_| stored.shown_status(active().as_deref()));
                    let can_resume = move || match shown.get() {
                        // A batch run's missing rows can also be done live.
                        RunStatus::Interrupted | RunStatus::Cancelled | RunStatus::WaitingForBatch => true,
                        RunStatus::Failed => finished < total,
                        _ => false,
                    };
                    let (resume_run, retry_run, list_run) = (r.clone(), r.clone(), r.clone());
                    view! {
                        <tr data-testid="run-row">
                            <td>{format_date(r.started_at)}</td>
                            <td>{r.attribute.clone()}</td>
                            <td>{format!("{} · {}{}", r.scope.label(), r.total, if r.experiment.is_some() { " · experiment" } else { "" })}</td>
                            <td data-testid="run-configuration">{r.configuration()}</td>
                            <td data-testid="run-status">{move || shown.get().label()}</td>
                            <td>{r.valid}</td>
                            <td>{r.invalid}</td>
                            <td>{r.failed}</td>
                            <td>
                                <Show when=can_resume>
                                    <Button label="Resume" pending=act.pending() disabled=Signal::derive(running) attr:data-testid="resume-run"
                                        on_click={
                                            let r = resume_run.clone();
                                            move || { act.dispatch_local(RunJob::Continue(r.clone(), Continue::Resume)); }
                                        } />
                                </Show>
                                <Show when=move || { failed > 0 && !this_page.get() }>
                                    <Button label=format!("Retry {} failed", r.failed) pending=act.pending() disabled=Signal::derive(running) attr:data-testid="retry-failed"
                                        on_click={
                                            let r = retry_run.clone();
                                            move || { act.dispatch_local(RunJob::Continue(r.clone(), Continue::RetryFailed)); }
                                        } />
                                    <button class="fa-btn" data-testid="show-failed"
                                        on:click={
                                            let r = list_run.clone();
                                            move |_| failed_of.set(Some(r.clone()))
                                        }>"Show failed"</button>
                                </Show>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || failed_of.get().map(|run| view! { <FailedRows run /> })}
    }.into_any()
}

/// Rows of a run whose request failed, with the reason.
#[component]
fn FailedRows(
    /// The run.
    run: RunRecord,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (dataset_id, source, attribute) = (
        run.dataset_id.clone(),
        run_source(&run.id),
        run.attribute.clone(),
    );
    let failed = LocalResource::new(move || {
        let storage = state.storage();
        let (d, s, attr) = (dataset_id.clone(), source.clone(), attribute.clone());
        async move {
            let all = storage.annotations(d.clone(), s).await?;
            let failed: Vec<_> = all
                .into_iter()
                .filter(|a| a.attribute == attr && a.status == AnnotationStatus::Error)
                .collect();
            // Show the row ids users know, not positions.
            let mut out = Vec::with_capacity(failed.len());
            for a in failed.into_iter().take(FAILED_SHOWN) {
                let id = storage
                    .rows(d.clone(), a.row, 1)
                    .await?
                    .pop()
                    .map(|r| r.id)
                    .unwrap_or_default();
                out.push((id, a.reason.unwrap_or_default()));
            }
            Ok::<_, AppError>(out)
        }
    });
    view! {
        <section class="fa-card" data-testid="failed-rows" aria-label="Failed rows">
            <h3>{format!("Failed rows of the run started {}", format_date(run.started_at))}</h3>
            {when_loaded(failed, "Loading…", move |value| match value {
                rows if rows.is_empty() => view! { <p class="fa-empty">"No failed rows: they were retried successfully."</p> }.into_any(),
                rows => view! {
                    <table class="fa-table fa-table--compact">
                        <thead><tr><th scope="col">"Row id"</th><th scope="col">"Reason"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(id, reason)| view! { <tr data-testid="failed-row"><td>{id}</td><td>{reason}</td></tr> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                        })}
        </section>
    }
}

/// At most this many failed rows are listed (the rest are retried all the same).
const FAILED_SHOWN: usize = 200;
