//! Combine runs: several LLM configurations' labels made into one run by
//! majority vote or Dawid–Skene, so cheap configurations can stand in for an
//! expensive one as the student's teacher.

use crate::actions::aggregate::aggregate_runs;
use crate::components::{Button, SelectField, Tone};
use crate::format::format_date;
use crate::state::{AppState, ToastKind};
use fannotate_core::aggregate::AggregateMethod;
use fannotate_core::records::RunRecord;
use leptos::prelude::*;

/// Checkboxes for the runs of one attribute, a method, and Combine. `on_made`
/// hears the new run's id.
#[component]
pub fn CombineRuns(
    /// Runs of categorical attributes on the dataset.
    runs: Vec<RunRecord>,
    /// Called with the new run's id once it is stored.
    on_made: Callback<String>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let chosen = RwSignal::new(Vec::<String>::new());
    let method = RwSignal::new(AggregateMethod::DawidSkene);
    let attribute_of: Vec<(String, String)> = runs
        .iter()
        .map(|r| (r.id.clone(), r.attribute.clone()))
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
    let combine = Action::new_local(move |(): &()| {
        let (ids, m) = (chosen.get_untracked(), method.get_untracked());
        async move {
            match aggregate_runs(state, ids, m).await {
                Ok(run) => {
                    let n = run.aggregate.as_ref().map_or(0, |a| a.runs.len());
                    state.toast(
                        ToastKind::Success,
                        format!(
                            "Combined {n} runs by {} into a new run of {} rows.",
                            m.label(),
                            run.total
                        ),
                    );
                    chosen.set(Vec::new());
                    on_made.run(run.id);
                }
                Err(e) => state.toast(ToastKind::Error, e.user_message()),
            }
        }
    });
    let can = Signal::derive(same_attribute);
    view! {
        <div class="fa-card" data-testid="combine-runs">
            <h3>"Combine runs"</h3>
            <p class="fa-muted">"Several configurations' labels, made into one run: a majority vote, or Dawid–Skene, which weighs each run by how often it agrees with the others. The combined run is stored like any other, so the Results step scores it and the student can learn from it."</p>
            <fieldset class="fa-fieldset">
                <legend>"Runs of one attribute to combine"</legend>
                {runs.into_iter().filter(|r| r.aggregate.is_none()).map(|r| {
                    let id = r.id.clone();
                    let id_check = id.clone();
                    let label = format!("{} · {} · {}", r.attribute, r.configuration(), format_date(r.started_at));
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
                            {label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <div class="fa-row">
                <SelectField label="Method" testid="combine-method" on_change=Callback::new(move |v: String| if let Some(m) = AggregateMethod::parse(&v) { method.set(m) })>
                    {AggregateMethod::ALL.into_iter().map(|m| view! { <option value=m.as_str() selected=move || method.get() == m>{m.label()}</option> }).collect_view()}
                </SelectField>
                <Button tone=Tone::Primary label="Combine runs" pending_label="Combining…" pending=combine.pending()
                    disabled=Signal::derive(move || !can.get()) attr:data-testid="combine-start" on_click=move || { combine.dispatch(()); } />
            </div>
            {move || (!can.get() && chosen.with(|c| !c.is_empty())).then(|| view! { <p class="fa-muted" data-testid="combine-hint">"Choose at least two runs of the same attribute."</p> })}
        </div>
    }
}
