use leptos::prelude::*;

/// A confusion matrix as a table with heat-tinted cells (rows = gold, columns = predicted).
#[component]
pub fn ConfusionMatrix(
    /// Label order of rows and columns.
    labels: Vec<String>,
    /// Counts, `matrix[gold][pred]`.
    matrix: Vec<Vec<u64>>,
    /// Called with `(gold, predicted)` label indices when a cell is chosen.
    #[prop(optional)]
    on_cell: Option<Callback<(usize, usize)>>,
) -> impl IntoView {
    let max = matrix.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let labels_for_cells = std::sync::Arc::new(labels.clone());
    let header = labels
        .iter()
        .map(|l| view! { <th scope="col">{l.clone()}</th> })
        .collect_view();
    let body = labels
        .iter()
        .zip(matrix)
        .enumerate()
        .map(|(i, (label, row))| {
            let cells = row
                .into_iter()
                .enumerate()
                .map(|(j, n)| {
                    let class = if i == j {
                        "fa-cm__cell fa-cm__cell--diag"
                    } else {
                        "fa-cm__cell"
                    };
                    let heat = format!("{:.3}", n as f64 / max);
                    let cell: AnyView = match on_cell {
                        Some(cb) if n > 0 => view! {
                            <button class="fa-cm__open" data-testid="cm-cell" data-gold=i.to_string() data-pred=j.to_string()
                                aria-label=format!("{n} rows, gold {}, predicted {}: show them", labels_for_cells[i], labels_for_cells[j])
                                on:click=move |_| cb.run((i, j))>{n}</button>
                        }.into_any(),
                        _ => view! { <span>{n}</span> }.into_any(),
                    };
                    view! { <td class=class style=("--fa-heat", heat)>{cell}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{label.clone()}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="fa-cm" data-testid="confusion-matrix">
            <caption>"Rows: gold label · columns: LLM label · choose a count to list those rows"</caption>
            <thead>
                <tr>
                    <td></td>
                    {header}
                </tr>
            </thead>
            <tbody>{body}</tbody>
        </table>
    }
}
