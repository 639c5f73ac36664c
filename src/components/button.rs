//! [`Button`]: the app's button, which knows when the work it started is still
//! running, so a second click cannot start it twice and the user sees it busy.

use leptos::prelude::*;

/// A button's weight in its row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Tone {
    /// An ordinary button.
    #[default]
    Plain,
    /// The step's main action.
    Primary,
    /// Deletes or stops something.
    Danger,
    /// Chrome: no border until hovered.
    Ghost,
    /// A compact button inside a table.
    Small,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Plain => "fa-btn",
            Tone::Primary => "fa-btn fa-btn--primary",
            Tone::Danger => "fa-btn fa-btn--danger",
            Tone::Ghost => "fa-btn fa-btn--ghost",
            Tone::Small => "fa-btn fa-btn--small",
        }
    }
}

/// A button bound to a piece of work: disabled and `aria-busy` while `pending`,
/// saying `pending_label` then. Attributes such as `attr:data-testid` land on
/// the `<button>`.
#[component]
pub fn Button(
    /// What the button says.
    #[prop(into)]
    label: Signal<String>,
    /// What it says while its work runs (else its label).
    #[prop(optional, into)]
    pending_label: Option<Signal<String>>,
    /// Whether the work it started is running.
    #[prop(optional, into)]
    pending: Signal<bool>,
    /// Whether it is unavailable for another reason (e.g. nothing to act on yet).
    #[prop(optional, into)]
    disabled: Signal<bool>,
    /// How it looks.
    #[prop(optional)]
    tone: Tone,
    /// Submit its form rather than run `on_click`.
    #[prop(optional)]
    submit: bool,
    /// What a click does (ignored while pending or disabled).
    #[prop(optional, into)]
    on_click: Option<Callback<()>>,
) -> impl IntoView {
    let text = move || match pending_label {
        Some(busy) if pending.get() => busy.get(),
        _ => label.get(),
    };
    view! {
        <button
            class=tone.class()
            type=if submit { "submit" } else { "button" }
            disabled=move || pending.get() || disabled.get()
            aria-busy=move || pending.get().then_some("true")
            on:click=move |_| {
                if let Some(f) = on_click {
                    if !pending.get_untracked() && !disabled.get_untracked() {
                        f.run(())
                    }
                }
            }
        >
            {text}
        </button>
    }
}
