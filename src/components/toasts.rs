//! Short messages in the corner.

use leptos::prelude::*;

/// How serious a toast is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    /// Something worked.
    Success,
    /// Something failed.
    Error,
}

/// A short message in the corner.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// Unique within the session, for removal.
    pub id: u64,
    /// Colour and role.
    pub kind: ToastKind,
    /// The text.
    pub text: String,
}

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
