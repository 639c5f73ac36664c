//! Choosing the validation set: a seeded random or stratified sample.

use super::*;
use crate::components::{Button, SelectField, Tone};

/// How a validation set is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sampling {
    Random,
    Stratified,
}

/// Choose the validation set: a seeded random or stratified sample.
#[component]
pub(super) fn ValidationPanel(
    /// The dataset (for its gold columns).
    meta: StoredValue<DatasetMeta>,
    /// The current validation set.
    validation: RwSignal<Option<ValidationSet>>,
    /// The attribute whose gold column stratifies.
    attribute: RwSignal<String>,
    /// All rows.
    rows: StoredValue<Arc<Vec<RowRecord>>>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let size = RwSignal::new(200u32);
    let seed = RwSignal::new(1u64);
    let method = RwSignal::new(Sampling::Random);
    let gold = move || meta.with_value(|m| m.gold_for(&attribute.get()));
    let draw = Action::new_local(move |_: &()| {
        let (k, sd, how) = (
            size.get_untracked(),
            seed.get_untracked(),
            method.get_untracked(),
        );
        let gold_col = gold();
        let picked: Vec<u32> = rows.with_value(|rows| match (how, gold_col) {
            (Sampling::Stratified, Some(c)) => {
                let labels: Vec<&str> = rows.iter().map(|r| r.cell(c)).collect();
                fannotate_core::sample::stratified_sample(&labels, k, sd)
            }
            _ => fannotate_core::sample::random_sample(rows.len() as u32, k, sd),
        });
        let described = match (how, gold_col) {
            (Sampling::Stratified, Some(c)) => format!(
                "stratified by {}, seed {sd}",
                meta.with_value(|m| m.columns.get(c).cloned().unwrap_or_default())
            ),
            _ => format!("random, seed {sd}"),
        };
        let set = ValidationSet::new(picked, described);
        let mut m = meta.get_value();
        m.validation = Some(set.clone());
        let storage = state.storage();
        async move {
            storage.update_dataset(m.clone()).await?;
            meta.set_value(m);
            validation.set(Some(set));
            Ok::<_, AppError>(())
        }
    });
    view! {
        <details class="fa-validation" data-testid="validation-panel">
            <summary data-testid="validation-summary">{move || match validation.get() {
                Some(v) => format!("Validation set: {} rows ({})", v.size, v.method),
                None => "Validation set: none yet (choose one to measure models on)".to_string(),
            }}</summary>
            <div class="fa-row">
                <label class="fa-field fa-field--narrow">
                    <span>"Rows"</span>
                    <input type="number" min="1" data-testid="validation-size" prop:value=move || size.get().to_string()
                        on:change:target=move |ev| { if let Ok(n) = ev.target().value().trim().parse::<u32>() { size.set(n.max(1)) } } />
                </label>
                <SelectField label="Sampling" testid="validation-method" on_change=Callback::new(move |v: String| method.set(if v == "stratified" { Sampling::Stratified } else { Sampling::Random }))>
                        <option value="random" selected=move || method.get() == Sampling::Random>"Random"</option>
                        <option value="stratified" selected=move || method.get() == Sampling::Stratified disabled=move || gold().is_none()>"Stratified by the gold column"</option>
                    </SelectField>
                <label class="fa-field fa-field--narrow">
                    <span>"Seed"</span>
                    <input type="number" min="0" data-testid="validation-seed" prop:value=move || seed.get().to_string()
                        on:change:target=move |ev| { if let Ok(n) = ev.target().value().trim().parse::<u64>() { seed.set(n) } } />
                </label>
                <Button tone=Tone::Primary label="Choose rows" pending_label="Choosing…" pending=draw.pending() attr:data-testid="validation-draw" on_click=move || { draw.dispatch(()); } />
            </div>
            <p class="fa-muted">"Label these rows in the Validation set queue (blind by default); runs can then be limited to them in the Run step."</p>
            {move || draw.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert">{e.user_message()}</p> })}
        </details>
    }
}
