use leptos::prelude::*;

/// A confusion matrix as an SVG heatmap (rows = gold, columns = predicted);
/// with `on_cell`, each non-empty cell is a button that lists its rows.
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
    const CELL: f64 = 56.0;
    const LEFT: f64 = 120.0;
    const TOP: f64 = 40.0;
    let n = labels.len();
    let max = matrix.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let (w, h) = (LEFT + CELL * n as f64 + 8.0, TOP + CELL * n as f64 + 8.0);
    let short = |s: &str| {
        let cut: String = s.chars().take(14).collect();
        if cut.len() < s.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    let heads = labels
        .iter()
        .enumerate()
        .map(|(j, l)| {
            view! {
                <text class="fa-cm__head" x=LEFT + CELL * (j as f64 + 0.5) y=TOP - 10.0 text-anchor="middle">
                    <title>{l.clone()}</title>{short(l)}
                </text>
            }
        })
        .collect_view();
    let rows = matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .iter()
                .enumerate()
                .map(|(j, &count)| {
                    let (x, y) = (LEFT + CELL * j as f64, TOP + CELL * i as f64);
                    let heat = count as f64 / max;
                    let class = if i == j { "fa-cm__rect fa-cm__rect--diag" } else { "fa-cm__rect" };
                    let label = format!("{count} rows, gold {}, predicted {}", labels[i], labels[j]);
                    let dark = heat > 0.55;
                    let body = view! {
                        <rect class=class x=x + 1.0 y=y + 1.0 width=CELL - 2.0 height=CELL - 2.0 rx="3"
                            style=("--fa-heat", format!("{heat:.3}"))></rect>
                        <text class=if dark { "fa-cm__count fa-cm__count--dark" } else { "fa-cm__count" }
                            x=x + CELL / 2.0 y=y + CELL / 2.0 + 5.0 text-anchor="middle">{count}</text>
                    };
                    match on_cell {
                        Some(cb) if count > 0 => view! {
                            <g class="fa-cm__open" role="button" tabindex="0" data-testid="cm-cell"
                                data-gold=i.to_string() data-pred=j.to_string() data-count=count.to_string() aria-label=format!("{label}: show them")
                                on:click=move |_| cb.run((i, j))
                                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                    if ev.key() == "Enter" || ev.key() == " " {
                                        ev.prevent_default();
                                        cb.run((i, j));
                                    }
                                }>
                                <title>{label.clone()}</title>
                                {body}
                            </g>
                        }
                        .into_any(),
                        _ => view! { <g><title>{label.clone()}</title>{body}</g> }.into_any(),
                    }
                })
                .collect_view();
            view! {
                <g>
                    <text class="fa-cm__head" x=LEFT - 8.0 y=TOP + CELL * (i as f64 + 0.5) + 5.0 text-anchor="end">
                        <title>{labels[i].clone()}</title>{short(&labels[i])}
                    </text>
                    {cells}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="fa-figure fa-cm" data-testid="confusion-matrix">
            <svg role="group" aria-label="Confusion matrix" viewBox=format!("0 0 {w} {h}") width=w.to_string() class="fa-cm__svg">
                {heads}
                {rows}
            </svg>
            <figcaption class="fa-muted">"Rows: gold label · columns: LLM label · choose a count to list those rows"</figcaption>
        </figure>
    }
}
