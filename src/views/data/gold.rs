//! Which column holds each attribute's human labels, and which labels name no category.

use crate::components::{when_loaded, SelectField};
use crate::error::AppError;
use crate::format::snippet;
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::records::{DatasetMeta, RowRecord};
use leptos::prelude::*;
use std::sync::Arc;

/// Rows read to preview how a gold column maps onto categories.
const GOLD_SAMPLE: u32 = 5_000;

/// How one attribute's gold column maps onto its categories, over a sample.
#[derive(Debug, Clone, PartialEq, Default)]
struct GoldCheck {
    /// Rows read.
    rows: u32,
    /// Non-empty cells that name a category.
    mapped: u32,
    /// Non-empty cells that do not, by value, most frequent first.
    unmapped: Vec<(String, u32)>,
}

impl GoldCheck {
    fn of(attribute: &fannotate_core::Attribute, rows: &[RowRecord], col: usize) -> Self {
        let mut check = GoldCheck {
            rows: rows.len() as u32,
            ..Default::default()
        };
        let mut unmapped: std::collections::HashMap<&str, u32> = Default::default();
        for r in rows {
            let cell = r.cell(col).trim();
            if cell.is_empty() {
                continue;
            }
            match attribute.match_label(cell) {
                Some(_) => check.mapped += 1,
                None => *unmapped.entry(cell).or_default() += 1,
            }
        }
        check.unmapped = unmapped
            .into_iter()
            .map(|(v, n)| (v.to_string(), n))
            .collect();
        check
            .unmapped
            .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        check
    }
}

/// Per attribute of the codebook: which column holds its human labels (for a
/// free-text attribute, its reference texts), and which labels name no category.
#[component]
pub(super) fn GoldMapping(
    /// The dataset.
    meta: DatasetMeta,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (pid, ds_id) = (meta.project_id.clone(), meta.id.clone());
    let loaded = LocalResource::new(move || {
        let (storage, pid, ds_id) = (state.storage(), pid.clone(), ds_id.clone());
        async move {
            let attributes: Vec<fannotate_core::Attribute> =
                match storage.latest_codebook(pid).await? {
                    // Free-text attributes too: their gold column is the reference
                    // text ROUGE compares with (issue #22).
                    Some(v) => v.codebook()?.attributes,
                    None => Vec::new(),
                };
            let rows = storage.rows(ds_id, 0, GOLD_SAMPLE).await?;
            Ok::<_, AppError>((attributes, Arc::new(rows)))
        }
    });
    let meta = StoredValue::new(meta);
    let save = Action::new_local(move |(attribute, column): &(String, Option<usize>)| {
        let mut m = meta.get_value();
        m.set_gold(attribute, *column);
        let storage = state.storage();
        async move {
            storage.update_dataset(m).await?;
            state.touch(&[Topic::Dataset]);
            Ok::<_, AppError>(())
        }
    });
    view! {
        {when_loaded(loaded, "Checking the gold labels…", move |(attributes, rows)| if attributes.is_empty() {
            ().into_any()
        } else {
            view! {
                <div class="fa-card" data-testid="gold-mapping">
                    <h3>"Human (gold) labels per attribute"</h3>
                    <p class="fa-muted">{format!("Checked on the first {} rows.", rows.len())}</p>
                    {attributes.into_iter().map(|a| {
                        let m = meta.get_value();
                        let current = m.gold_for(&a.name);
                        let free_text = a.kind != fannotate_core::AttributeKind::Categorical;
                        let check = current.filter(|_| !free_text).map(|c| GoldCheck::of(&a, &rows, c));
                        let references = current.filter(|_| free_text).map(|c| rows.iter().filter(|r| !r.cell(c).trim().is_empty()).count());
                        let name = a.name.clone();
                        let columns = m.columns.clone();
                        let label = format!("{} column for {}", if free_text { "Reference text" } else { "Gold" }, a.name);
                        view! {
                            <div class="fa-row" data-testid="gold-attribute">
                                <SelectField label={label.clone()} testid="gold-attribute-col" on_change=Callback::new(move |v: String| {
                                        save.dispatch((name.clone(), v.parse::<usize>().ok()));
                                    })>
                                        <option value="" selected=current.is_none()>"(none)"</option>
                                        {columns.into_iter().enumerate().map(|(i, c)| view! {
                                            <option value=i.to_string() selected=current == Some(i)>{c}</option>
                                        }).collect_view()}
                                    </SelectField>
                                {references.map(|n| view! {
                                    <p class="fa-muted" data-testid="gold-references">{format!("{n} of {} rows have a reference text (ROUGE in Results).", rows.len())}</p>
                                })}
                                {check.map(|c| view! {
                                    <p data-testid="gold-check" class=if c.unmapped.is_empty() { "fa-muted" } else { "fa-warning" }>
                                        {format!("{} labels name a category", c.mapped)}
                                        {(!c.unmapped.is_empty()).then(|| format!(
                                            "; {} do not: {}",
                                            c.unmapped.iter().map(|(_, n)| n).sum::<u32>(),
                                            c.unmapped.iter().take(8).map(|(v, n)| format!("\"{}\" ×{n}", snippet(v, 40))).collect::<Vec<_>>().join(", ")
                                        ))}
                                        {(!c.unmapped.is_empty()).then_some(". They count as their own classes in the metrics; fix the values or the category names.")}
                                    </p>
                                })}
                            </div>
                        }
                    }).collect_view()}
                    {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert">{e.user_message()}</p> })}
                </div>
            }.into_any()
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fannotate_core::{Attribute, Category};

    #[test]
    fn gold_check_counts_loose_matches_and_lists_the_rest() {
        let a = Attribute::categorical(
            "spam",
            "<<text>>",
            vec![Category::new("ham", ""), Category::new("spam", "")],
        );
        let rows: Vec<RowRecord> = ["Spam", "ham ", "maybe", "", "maybe", "n/a"]
            .iter()
            .enumerate()
            .map(|(i, g)| RowRecord {
                dataset_id: "d".into(),
                idx: i as u32,
                id: i.to_string(),
                cells: vec!["t".into(), g.to_string()],
            })
            .collect();
        let c = GoldCheck::of(&a, &rows, 1);
        assert_eq!((c.rows, c.mapped), (6, 2));
        assert_eq!(
            c.unmapped,
            vec![("maybe".to_string(), 2), ("n/a".to_string(), 1)]
        );
    }
}
