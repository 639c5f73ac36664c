//! Combine runs: several LLM configurations' labels made into one run by
//! majority vote or Dawid–Skene, so cheap configurations can stand in for an
//! expensive one (as the student's teacher, or in the leaderboard).

use crate::components::{Button, SelectField, Tone};
use fannotate_core::aggregate::AggregateMethod;
use leptos::prelude::*;

/// A run the picker offers.
#[derive(Debug, Clone, PartialEq)]
pub struct CombineChoice {
    /// The run's id.
    pub id: String,
    /// Its attribute: only runs of one attribute combine.
    pub attribute: String,
    /// How the user knows it.
    pub label: String,
}

/// Checkboxes for runs, a method, and Combine.
#[component]
pub fn CombineRuns(
    /// The runs that may be combined.
    choices: Vec<CombineChoice>,
    /// Says what combining gives, where the picker stands.
    intro: &'static str,
    /// Combine the chosen runs' ids by the method.
    on_combine: Callback<(Vec<String>, AggregateMethod)>,
    /// While a combination is being made.
    #[prop(into)]
    pending: Signal<bool>,
) -> impl IntoView {
    let chosen = RwSignal::new(Vec::<String>::new());
    let method = RwSignal::new(AggregateMethod::DawidSkene);
    let attribute_of: Vec<(String, String)> = choices
        .iter()
        .map(|c| (c.id.clone(), c.attribute.clone()))
        .collect();
    let same_attribute = move || {
        let ids = chosen.get();
        let attrs: Vec<&String> = attribute_of
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(_, a)| a)
            .collect();
        attrs.len() >= 2 && attrs.windows(2).all(|w| w[0] == w[1])
    };
    let can = Signal::derive(same_attribute);
    view! {
        <div class="fa-card" data-testid="combine-runs">
            <h3>"Combine runs"</h3>
            <p class="fa-muted">{intro}</p>
            <fieldset class="fa-fieldset">
                <legend>"Runs of one attribute to combine"</legend>
                {choices.into_iter().map(|c| {
                    let id = c.id.clone();
                    let id_check = c.id;
                    view! {
                        <label class="fa-check">
                            <input type="checkbox" data-testid="combine-run"
                                prop:checked=move || chosen.get().contains(&id_check)
                                on:change:target=move |ev| {
                                    let on = ev.target().checked();
                                    chosen.update(|c| {
                                        c.retain(|x| x != &id);
                                        if on { c.push(id.clone()); }
                                    });
                                } />
                            {c.label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <div class="fa-row">
                <SelectField label="Method" testid="combine-method" on_change=Callback::new(move |v: String| if let Some(m) = AggregateMethod::parse(&v) { method.set(m) })>
                    {AggregateMethod::ALL.into_iter().map(|m| view! { <option value=m.as_str() selected=move || method.get() == m>{m.label()}</option> }).collect_view()}
                </SelectField>
                <Button tone=Tone::Primary label="Combine runs" pending_label="Combining…" pending=pending
                    disabled=Signal::derive(move || !can.get()) attr:data-testid="combine-start"
                    on_click=move || on_combine.run((chosen.get_untracked(), method.get_untracked())) />
            </div>
            {move || (!can.get() && chosen.with(|c| !c.is_empty())).then(|| view! { <p class="fa-muted" data-testid="combine-hint">"Choose at least two runs of the same attribute."</p> })}
        </div>
    }
}
