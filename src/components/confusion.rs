use leptos::prelude::*;

/// A confusion matrix as a table with heat-tinted cells (rows = gold, columns = predicted).
#[component]
pub fn ConfusionMatrix(
    /// Label order of rows and columns.
    labels: Vec<String>,
    /// Counts, `matrix[gold][pred]`.
    matrix: Vec<Vec<u64>>,
) -> impl IntoView {
    let max = matrix.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
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
                    view! { <td class=class style=("--fa-heat", heat)>{n}</td> }
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
            <caption>"Rows: gold label · columns: LLM label"</caption>
            <thead>
                <tr>
                    <th></th>
                    {header}
                </tr>
            </thead>
            <tbody>{body}</tbody>
        </table>
    }
}
