//! The root component: opens storage, provides the app state, lays out the shell.

use crate::components::{when_loaded, Toasts};
use crate::options::MountOptions;
use crate::services::idb::IdbStorage;
use crate::services::place;
use crate::services::storage::Storage;
use crate::state::{AppState, Step, ToastKind};
use crate::views::locality::DataLocality;
use crate::views::review::ReviewView;
use crate::views::{
    codebook::CodebookView,
    data::DataView,
    distil::DistilView,
    endpoint::EndpointView,
    experiments::ExperimentsView,
    projects::ProjectsView,
    results::ResultsView,
    run::{InterruptedRun, RunView},
};
use leptos::prelude::*;
use std::rc::Rc;

/// The whole app for one mount point.
#[component]
pub fn App(
    /// Options from the host page or the bundled index.html.
    options: MountOptions,
    /// The element mounted into, for `fannotate:*` events.
    #[prop(optional)]
    host: Option<web_sys::HtmlElement>,
    /// Filled with the app state once storage is open, for the host API.
    #[prop(optional)]
    bridge: Option<crate::state::Bridge>,
) -> impl IntoView {
    let theme = options.theme.unwrap_or_default().as_str();
    // Not `Send`: kept in local arena slots so the view closures can read them.
    let host = StoredValue::new_local(host);
    let bridge = StoredValue::new_local(bridge);
    let key = options.persistence_key.clone();
    let opened = LocalResource::new(move || {
        let key = key.clone();
        async move {
            let storage = IdbStorage::open(&key).await?;
            // Rows of an import that never finished (a closed tab) belong to no
            // dataset: remove them.
            storage.abort_imports(None).await?;
            Ok::<_, crate::services::storage::StorageError>(Rc::new(storage) as Rc<dyn Storage>)
        }
    });
    view! {
        <div class="fa-app" data-testid="fannotate" data-theme=theme>
            {when_loaded(opened, "Opening local storage…", move |storage| view! { <Workbench storage options=options.clone() host=host.get_value() bridge=bridge.get_value() /> }.into_any())}
        </div>
    }
}

/// The shell once storage is open.
#[component]
fn Workbench(
    /// Opened storage.
    storage: Rc<dyn Storage>,
    /// Mount options.
    options: MountOptions,
    /// The element mounted into.
    host: Option<web_sys::HtmlElement>,
    /// Where the host API finds the state.
    bridge: Option<crate::state::Bridge>,
) -> impl IntoView {
    let state = AppState::new(storage, options, host);
    provide_context(state);
    // Back to where this instance was before a reload or a re-mount: the open
    // project and its step, remembered per persistence key (issue #14).
    let persistence_key = state.options.with_value(|o| o.persistence_key.clone());
    let restored = RwSignal::new(false);
    {
        let key = persistence_key.clone();
        let storage = state.storage();
        leptos::task::spawn_local(async move {
            if let Some(place) = place::recall(&key) {
                // A project deleted elsewhere (or unreadable storage) just opens the list.
                let found = storage
                    .list_projects()
                    .await
                    .ok()
                    .and_then(|list| list.into_iter().find(|p| p.id == place.project));
                if let Some(project) = found {
                    if state.project.with_untracked(Option::is_none) {
                        state
                            .step
                            .set(Step::parse(&place.step).unwrap_or_else(|| state.start_step()));
                        state.project.set(Some(project));
                    }
                }
            }
            restored.try_set(true);
            // Host calls wait for this (the handle's `ready`, the event), so a
            // `loadRows` cannot race the restored project.
            if let Some(b) = &bridge {
                let mut b = b.borrow_mut();
                if matches!(*b, crate::state::Mounted::Unmounted) {
                    return;
                }
                *b = crate::state::Mounted::Ready(Box::new(state));
            }
            state.emit("ready", &serde_json::json!({ "persistenceKey": key }));
        });
    }
    // Talks to the outside world only: the place follows the state, never the reverse.
    Effect::new(move |_| {
        let place = state.project.with(|p| {
            p.as_ref().map(|p| place::Place {
                project: p.id.clone(),
                step: state.step.get().as_str().to_string(),
            })
        });
        if restored.get() {
            place::remember(&persistence_key, place.as_ref());
        }
    });
    let project_name = move || state.project.with(|p| p.as_ref().map(|p| p.name.clone()));
    let show_locality = RwSignal::new(false);
    // The service worker (boot.js) announces a new version; say so once.
    let update = window_event_listener_untyped("fannotate:update-ready", move |_| {
        state.toast(
            ToastKind::Success,
            "A new version of Fannotate was installed; it is used from the next load.",
        );
    });
    // An embedded instance can be unmounted while the page lives on.
    on_cleanup(move || update.remove());
    view! {
        // How many runs this page has launched: tests wait on this, not on a
        // panel that a view may not have drawn yet.
        <header class="fa-header" data-testid="app-header" data-run-seq=move || state.launches()>
            <h1 class="fa-title">"Fannotate"</h1>
            {move || project_name().map(|n| view! { <span class="fa-header__project" data-testid="current-project">{n}</span> })}
            {move || state.project.with(|p| p.as_ref().is_some_and(|p| p.sample)).then(|| view! { <span class="fa-badge" data-testid="sample-header">"sample"</span> })}
            <button class="fa-btn fa-btn--ghost fa-header__actions" data-testid="nav-locality" aria-expanded=move || show_locality.get().to_string()
                on:click=move |_| show_locality.update(|v| *v = !*v)>"Where your data goes"</button>
            <button class="fa-btn fa-btn--ghost" data-testid="nav-projects" on:click=move |_| state.project.set(None)>"Projects"</button>
        </header>
        <Show when=move || show_locality.get()>
            <DataLocality on_close=Callback::new(move |_| show_locality.set(false)) />
        </Show>
        {move || if !restored.get() {
            // No flash of the project list before the remembered project opens.
            view! { <main class="fa-main"><p class="fa-muted">"Opening…"</p></main> }.into_any()
        } else if state.project.with(Option::is_none) {
            view! { <main class="fa-main"><ProjectsView/></main> }.into_any()
        } else {
            view! {
                <div class="fa-layout">
                    <nav class="fa-stepper" aria-label="Workflow">
                        <ol>
                            {Step::ALL.into_iter().enumerate().map(|(i, s)| view! {
                                <li>
                                    <button
                                        class="fa-stepper__step"
                                        data-testid=format!("step-{}", s.as_str())
                                        aria-current=move || (state.step.get() == s).then_some("step")
                                        on:click=move |_| {
                                            // Re-selecting the current step must not rebuild it and drop unsaved edits.
                                            if state.step.get_untracked() != s {
                                                state.step.set(s);
                                            }
                                        }
                                    >
                                        // The number is for the eye; a screen reader hears the step's name
                                        // (issue #14: it heard "1Data").
                                        <span class="fa-stepper__num" aria-hidden="true">{i + 1}</span>
                                        {s.label()}
                                    </button>
                                </li>
                            }).collect_view()}
                        </ol>
                    </nav>
                    <main class="fa-main">
                        <InterruptedRun/>
                        {move || match state.step.get() {
                            Step::Data => view! { <DataView/> }.into_any(),
                            Step::Codebook => view! { <CodebookView/> }.into_any(),
                            Step::Endpoint => view! { <EndpointView/> }.into_any(),
                            Step::Experiments => view! { <ExperimentsView/> }.into_any(),
                            Step::Run => view! { <RunView/> }.into_any(),
                            Step::Review => view! { <ReviewView/> }.into_any(),
                            Step::Results => view! { <ResultsView/> }.into_any(),
                            Step::Distil => view! { <DistilView/> }.into_any(),
                        }}
                    </main>
                </div>
            }.into_any()
        }}
        <Toasts toasts=state.toasts on_dismiss=Callback::new(move |id| state.dismiss(id)) />
    }
}
