//! The live figures of a run and its Pause/Cancel buttons.

use super::ProgressBar;
use crate::services::runner::RunProgress;
use leptos::prelude::*;

/// Pause/Continue and Cancel of the run in progress.
#[component]
pub fn RunControls(
    /// Whether the buttons act (a run of this screen is going).
    #[prop(into)]
    enabled: Signal<bool>,
    /// Whether the run is paused (the first button then reads "Continue").
    #[prop(into)]
    paused: Signal<bool>,
    /// Pause or continue.
    on_pause: Callback<()>,
    /// Cancel.
    on_cancel: Callback<()>,
    /// Text of the cancel button.
    cancel_label: &'static str,
) -> impl IntoView {
    view! {
        <button class="fa-btn" data-testid="pause-run" disabled=move || !enabled.get()
            on:click=move |_| on_pause.run(())>
            {move || if paused.get() { "Continue" } else { "Pause" }}
        </button>
        <button class="fa-btn fa-btn--danger" data-testid="cancel-run" disabled=move || !enabled.get()
            on:click=move |_| on_cancel.run(())>{cancel_label}</button>
    }
}

/// Live figures of the current (or last) run.
#[component]
pub fn RunProgressPanel(
    /// The figures of the run shown, if any.
    #[prop(into)]
    progress: Signal<Option<RunProgress>>,
    /// Which run they are about: its launch number on this page and its id.
    #[prop(into)]
    run: Signal<Option<(u32, String)>>,
    /// Whether that run is still going.
    #[prop(into)]
    live: Signal<bool>,
) -> impl IntoView {
    // The panel is built once per run and its figures update in place: rebuilding
    // it four times a second cost more than the requests at high rates.
    let p = move || progress.get().unwrap_or_default();
    view! {
        <Show when=move || progress.with(Option::is_some)>
            <div class="fa-progress-panel" data-testid="run-progress"
                data-run-id=move || run.get().map(|(_, id)| id).unwrap_or_default()
                data-run-seq=move || run.with(|r| r.as_ref().map_or(0, |(n, _)| *n))
                data-state=move || if live.get() { "running" } else { "finished" }>
                <ProgressBar done=Signal::derive(move || p().done()) total=Signal::derive(move || p().total) label="Run progress" />
                <dl class="fa-stats">
                    <div><dt>"Done"</dt><dd data-testid="run-done">{move || format!("{} / {}", p().done(), p().total)}</dd></div>
                    <div><dt>"Labelled"</dt><dd>{move || p().valid}</dd></div>
                    <div><dt>"Invalid"</dt><dd>{move || p().invalid}</dd></div>
                    <div><dt>"Failed"</dt><dd>{move || p().failed}</dd></div>
                    <div><dt>"In flight"</dt><dd data-testid="run-in-flight">{move || p().in_flight}</dd></div>
                    <div><dt>"Most in flight"</dt><dd data-testid="run-max-in-flight">{move || p().max_in_flight}</dd></div>
                    <div><dt>"Items/s"</dt><dd data-testid="run-rate" data-rate=move || p().rate().to_string()>{move || format!("{:.1}", p().rate())}</dd></div>
                    <div><dt>"ETA"</dt><dd>{move || p().eta_secs().map_or("–".to_string(), |s| format!("{s:.0} s"))}</dd></div>
                    <div><dt>"Tokens in / out"</dt><dd data-testid="run-tokens">{move || {
                        let p = p();
                        if p.tokens_estimated {
                            format!("≈ {} / {} (estimated: the server reports no usage)", p.tokens_in, p.tokens_out)
                        } else {
                            format!("{} / {}", p.tokens_in, p.tokens_out)
                        }
                    }}</dd></div>
                    <Show when=move || p().cost.is_some()>
                        <div><dt>"Cost so far"</dt><dd data-testid="run-cost">{move || format!("{:.4}", p().cost.unwrap_or_default())}</dd></div>
                    </Show>
                    <Show when=move || { p().replicas > 1 }>
                        <div><dt>"Replicas in rotation"</dt><dd data-testid="run-replicas">{move || { let p = p(); format!("{} of {}", p.replicas - p.replicas_out, p.replicas) }}</dd></div>
                    </Show>
                </dl>
                <Show when=move || { p().queued > 0 }>
                    <p class="fa-muted" data-testid="run-queued">{move || format!("{} more sent, waiting in the browser for a free connection.", p().queued)}</p>
                </Show>
                <Show when=move || p().paused>
                    <p class="fa-muted" data-testid="run-paused" role="status"
                        data-in-flight=move || p().in_flight + p().queued data-held=move || p().held>
                        {move || {
                            let p = p();
                            format!("Paused: {} requests in flight finish, {} are held back and no new ones start. Results so far are saved.", p.in_flight + p.queued, p.held)
                        }}
                    </p>
                </Show>
            </div>
        </Show>
    }
}
