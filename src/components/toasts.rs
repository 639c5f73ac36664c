use crate::state::{Toast, ToastKind};
use leptos::prelude::*;

/// The stack of messages; errors are announced assertively.
#[component]
pub fn Toasts(
    /// Messages to show, oldest first.
    #[prop(into)]
    toasts: Signal<Vec<Toast>>,
    /// Called with a toast's id when the user dismisses it.
    on_dismiss: Callback<u64>,
) -> impl IntoView {
    view! {
        <div class="fa-toasts" aria-live="polite">
            <For each=move || toasts.get() key=|t| t.id let:t>
                {
                    let (class, role) = match t.kind {
                        ToastKind::Success => ("fa-toast fa-toast--success", "status"),
                        ToastKind::Error => ("fa-toast fa-toast--error", "alert"),
                    };
                    let id = t.id;
                    view! {
                        <div class=class role=role data-testid="toast">
                            <span class="fa-toast__text">{t.text}</span>
                            <button
                                class="fa-btn fa-btn--ghost"
                                aria-label="Dismiss"
                                on:click=move |_| on_dismiss.run(id)
                            >
                                "×"
                            </button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
