//! "Where your data goes": every host this instance (its persistence key's
//! projects) has contacted, from the app's own request log; the standalone app
//! also shows the browser profile's total, labelled as such; and the page's
//! network policy.

use crate::services::netpolicy::{self, HostCount};
use crate::state::AppState;
use crate::state::Topic;
use leptos::prelude::*;
use std::collections::HashSet;

/// A table of hosts; `testid` marks its rows.
fn host_table(caption: String, list: Vec<HostCount>, testid: &'static str) -> impl IntoView {
    view! {
        <table class="fa-table fa-table--compact">
            <caption>{caption}</caption>
            <thead><tr><th scope="col">"Host"</th><th scope="col">"Requests"</th><th scope="col">"Blocked by the page's policy"</th><th scope="col">"Last"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|h| view! {
                    <tr data-testid=testid>
                        <td>{h.origin.clone()}</td>
                        <td data-testid="locality-requests">{h.requests}</td>
                        <td>{h.blocked}</td>
                        <td>{crate::format::format_date(h.last)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The panel; `on_close` hides it.
#[component]
pub fn DataLocality(
    /// Called when the user closes the panel.
    on_close: Callback<()>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    // This instance's projects: the log keeps requests per project, and projects
    // belong to one persistence key's database (issue #22: instance B listed the
    // endpoint that A contacted).
    let projects = LocalResource::new(move || {
        state.track(&[Topic::Projects]);
        let storage = state.storage();
        async move {
            storage
                .list_projects()
                .await
                .map(|ps| ps.into_iter().map(|p| p.id).collect::<HashSet<String>>())
                .unwrap_or_default()
        }
    });
    let standalone = state
        .options
        .with_value(|o| o.persistence_key == crate::options::DEFAULT_PERSISTENCE_KEY);
    // Read when opened; "Refresh" and "Clear" bump this.
    let reread = RwSignal::new(0u32);
    let mine = move || {
        reread.track();
        let ids = projects.get().unwrap_or_default();
        netpolicy::hosts(|p| ids.contains(p))
    };
    let profile = move || {
        reread.track();
        netpolicy::hosts(|_| true)
    };
    let policy = netpolicy::page_policy();
    let page_origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let policy_text = match &policy {
        None => "This page sets no Content-Security-Policy (a host page may embed Fannotate without one): the browser lets the app connect wherever you point it.".to_string(),
        Some(p) if p.permissive => format!(
            "Permissive build: this page may connect to any http(s) endpoint you configure ({}). Only the endpoints below were actually contacted.",
            p.connect.join(" ")
        ),
        Some(p) => format!(
            "Strict policy: besides its own server ({page_origin}), this page can only connect to: {}.",
            p.connect.iter().filter(|s| s.as_str() != "'self'").cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    let permissive = policy.as_ref().is_some_and(|p| p.permissive);
    view! {
        <section class="fa-card fa-locality" data-testid="data-locality" aria-label="Where your data goes">
            <h2>"Where your data goes"</h2>
            <p>"Your files, codebooks and labels stay in this browser (IndexedDB). Texts are sent only to the model endpoints you configure; nothing goes to Fannotate's authors or any third party."</p>
            <p class=if permissive { "fa-warning" } else { "fa-muted" } data-testid="csp-mode">{policy_text}</p>
            {move || {
                let list: Vec<HostCount> = mine();
                if list.is_empty() {
                    view! { <p class="fa-empty" data-testid="locality-empty">"No endpoint has been contacted by this instance's projects yet."</p> }.into_any()
                } else {
                    host_table("Hosts contacted by this instance's projects".into(), list, "locality-host").into_any()
                }
            }}
            // The bundled page may show the whole profile, said as such; an
            // embedded instance shows only its own.
            {move || standalone.then(|| {
                let list = profile();
                (!list.is_empty()).then(|| host_table("Hosts contacted by every Fannotate instance in this browser profile (embedded ones too)".into(), list, "locality-profile-host"))
            })}
            <div class="fa-row">
                <button class="fa-btn" data-testid="locality-refresh" on:click=move |_| { netpolicy::flush(); reread.update(|n| *n += 1) }>"Refresh"</button>
                <button class="fa-btn fa-btn--danger" data-testid="locality-clear" on:click=move |_| {
                    let ids = projects.get_untracked().unwrap_or_default();
                    // The bundled page clears the whole log; an embedded instance its own part.
                    netpolicy::clear(|p| standalone || ids.contains(p));
                    reread.update(|n| *n += 1)
                }>"Clear the log"</button>
                <button class="fa-btn" data-testid="locality-close" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </section>
    }
}
