//! Browse a stored dataset: search, page, per-column statistics, and a viewer
//! for one row's full text.

use crate::components::when_loaded;
use crate::format::snippet;
use crate::state::AppState;
use fannotate_core::records::{column_stats, DatasetMeta};
use leptos::prelude::*;

/// Rows per page.
const PAGE: usize = 25;

/// Search, pages, column statistics and a row viewer over the dataset.
#[component]
pub fn DataBrowser(
    /// The dataset to browse.
    meta: DatasetMeta,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let m = meta.clone();
    let rows = LocalResource::new(move || {
        let m = m.clone();
        async move { state.rows(&m).await }
    });
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(0usize);
    let open = RwSignal::new(None::<usize>);
    let meta = StoredValue::new(meta);
    view! {
        <details class="fa-card" data-testid="data-browser">
            <summary>"Browse, search and column statistics"</summary>
            {when_loaded(rows, "Loading rows…", move |all| {
                    let (columns, text_col) = meta.with_value(|m| (m.columns.clone(), m.text_col));
                    let stats = column_stats(&columns, &all);
                    let all_f = all.clone();
                    let hits = Memo::new(move |_| {
                        let needle = search.get().to_lowercase();
                        (0..all_f.len())
                            .filter(|&i| needle.is_empty() || all_f[i].cells.iter().any(|c| c.to_lowercase().contains(&needle)) || all_f[i].id.to_lowercase().contains(&needle))
                            .collect::<Vec<usize>>()
                    });
                    let pages = move || hits.with(|h| h.len().div_ceil(PAGE).max(1));
                    let all_v = all.clone();
                    let all_o = all.clone();
                    view! {
                        <table class="fa-table fa-table--compact" data-testid="column-stats">
                            <caption>{format!("Columns over all {} rows", all.len())}</caption>
                            <thead><tr><th scope="col">"Column"</th><th scope="col">"Filled"</th><th scope="col">"Distinct"</th><th scope="col">"Mean length"</th><th scope="col">"Most frequent"</th></tr></thead>
                            <tbody>
                                {stats.into_iter().map(|s| view! {
                                    <tr data-testid="column-stat">
                                        <th scope="row">{s.name.clone()}</th>
                                        <td>{s.filled}</td>
                                        <td>{if s.distinct_capped { format!("> {}", s.distinct) } else { s.distinct.to_string() }}</td>
                                        <td>{format!("{:.0}", s.mean_chars)}</td>
                                        <td>{s.top.iter().map(|(v, n)| format!("{} ({n})", snippet(v, 30))).collect::<Vec<_>>().join(", ")}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="fa-row">
                            <label class="fa-field">
                                <span>"Search in all columns"</span>
                                <input type="search" data-testid="data-search" prop:value=move || search.get()
                                    on:input:target=move |ev| { search.set(ev.target().value()); page.set(0) } />
                            </label>
                            <p class="fa-muted" data-testid="data-hits">{move || format!("{} rows", hits.with(Vec::len))}</p>
                        </div>
                        <div class="fa-scroll" tabindex="0" role="region" aria-label="Rows">
                        <table class="fa-table" data-testid="data-rows">
                            <thead><tr><th scope="col">"Id"</th><th scope="col">"Text"</th><th scope="col"><span class="fa-visually-hidden">"Open"</span></th></tr></thead>
                            <tbody>
                                {move || {
                                    let p = page.get().min(pages() - 1);
                                    hits.with(|h| h.iter().skip(p * PAGE).take(PAGE).copied().collect::<Vec<_>>())
                                        .into_iter()
                                        .map(|i| {
                                            let r = &all_v[i];
                                            view! {
                                                <tr data-testid="data-row">
                                                    <td>{r.id.clone()}</td>
                                                    <td class="fa-cell--text">{snippet(r.cell(text_col), 160)}</td>
                                                    <td><button class="fa-btn" data-testid="open-row" on:click=move |_| open.set(Some(i))>"Open"</button></td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </tbody>
                        </table>
                        </div>
                        <div class="fa-row fa-pager">
                            <button class="fa-btn" data-testid="data-prev" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
                            <span data-testid="data-page">{move || format!("Page {} of {}", page.get().min(pages() - 1) + 1, pages())}</span>
                            // Braced: unbraced, the `>=` ended the tag and the button was always disabled (issue #22).
                            <button class="fa-btn" data-testid="data-next" disabled=move || { page.get() + 1 >= pages() } on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
                        </div>
                        {move || open.get().map(|i| {
                            let r = all_o[i].clone();
                            let columns = columns.clone();
                            view! {
                                <section class="fa-card fa-row-viewer" data-testid="row-viewer" aria-label="Row">
                                    <header class="fa-row"><strong>{r.id.clone()}</strong><span class="fa-muted">{format!("row {}", r.idx + 1)}</span>
                                        <button class="fa-btn" data-testid="close-row" on:click=move |_| open.set(None)>"Close"</button></header>
                                    <div class="fa-review__text" data-testid="row-text" tabindex="0" role="region" aria-label="Row text">{r.cell(text_col).to_string()}</div>
                                    <dl class="fa-stats">
                                        {columns.iter().enumerate().filter(|(c, _)| *c != text_col).map(|(c, name)| view! {
                                            <div><dt>{name.clone()}</dt><dd>{r.cell(c).to_string()}</dd></div>
                                        }).collect_view()}
                                    </dl>
                                </section>
                            }
                        })}
                    }.into_any()
                })}
        </details>
    }
}
