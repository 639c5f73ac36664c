//! "Where your data goes": every host this browser profile's Fannotate has
//! contacted, from the app's own request log, and the page's network policy.

use crate::services::netpolicy::{self, HostCount};
use leptos::prelude::*;

/// The panel; `on_close` hides it.
#[component]
pub fn DataLocality(
    /// Called when the user closes the panel.
    on_close: Callback<()>,
) -> impl IntoView {
    // Read when opened; "Refresh" re-reads.
    let hosts = RwSignal::new(netpolicy::hosts());
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
                let list: Vec<HostCount> = hosts.get();
                if list.is_empty() {
                    view! { <p class="fa-empty" data-testid="locality-empty">"No endpoint has been contacted from this browser yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="fa-table fa-table--compact">
                            <caption>"Hosts contacted by Fannotate in this browser profile"</caption>
                            <thead><tr><th scope="col">"Host"</th><th scope="col">"Requests"</th><th scope="col">"Blocked by the page's policy"</th><th scope="col">"Last"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|h| view! {
                                    <tr data-testid="locality-host">
                                        <td>{h.origin.clone()}</td>
                                        <td data-testid="locality-requests">{h.requests}</td>
                                        <td>{h.blocked}</td>
                                        <td>{crate::views::projects::format_date(h.last)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
            <div class="fa-row">
                <button class="fa-btn" data-testid="locality-refresh" on:click=move |_| { netpolicy::flush(); hosts.set(netpolicy::hosts()) }>"Refresh"</button>
                <button class="fa-btn fa-btn--danger" data-testid="locality-clear" on:click=move |_| { netpolicy::clear(); hosts.set(Vec::new()) }>"Clear the log"</button>
                <button class="fa-btn" data-testid="locality-close" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </section>
    }
}
