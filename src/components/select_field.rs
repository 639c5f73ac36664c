//! A labelled list of choices.

use leptos::prelude::*;

/// A `<select>` under its name. The name is also the list's accessible name, so
/// a screen reader hears "Rows", not the label and every option's text.
#[component]
pub fn SelectField(
    /// The field's name, shown above the list.
    #[prop(into)]
    label: String,
    /// `data-testid` of the list.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// Called with the chosen option's value.
    on_change: Callback<String>,
    /// The options.
    children: Children,
) -> impl IntoView {
    view! {
        <label class="fa-field">
            <span>{label.clone()}</span>
            <select aria-label=label data-testid=testid on:change:target=move |ev| on_change.run(ev.target().value())>
                {children()}
            </select>
        </label>
    }
}
