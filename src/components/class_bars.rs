//! Per-class precision, recall and F1 as horizontal SVG bars.

use fannotate_core::ClassReport;
use leptos::prelude::*;

/// A bar's name, CSS class and value.
type Metric = (&'static str, &'static str, fn(&ClassReport) -> f64);

/// Bar chart of precision, recall and F1 for each class.
#[component]
pub fn ClassBars(
    /// One entry per class, in display order.
    classes: Vec<ClassReport>,
) -> impl IntoView {
    const ROW: f64 = 54.0;
    const LABEL_W: f64 = 140.0;
    const BAR_W: f64 = 320.0;
    let height = ROW * classes.len() as f64 + 24.0;
    let metrics: [Metric; 3] = [
        ("precision", "fa-bar--p", |c| c.precision),
        ("recall", "fa-bar--r", |c| c.recall),
        ("F1", "fa-bar--f", |c| c.f1),
    ];
    let rows = classes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let y = 8.0 + ROW * i as f64;
            let bars = metrics
                .iter()
                .enumerate()
                .map(|(k, (name, class, get))| {
                    let v = get(c);
                    let by = y + 14.0 * k as f64;
                    view! {
                        <g>
                            <rect class=format!("fa-bar {class}") x=LABEL_W y=by width=format!("{:.1}", (v * BAR_W).max(0.5)) height="11">
                                <title>{format!("{}: {name} {:.3}", c.label, v)}</title>
                            </rect>
                            <text class="fa-bar__value" x=format!("{:.1}", LABEL_W + (v * BAR_W).max(0.5) + 4.0) y=by + 10.0>{format!("{name} {v:.2}")}</text>
                        </g>
                    }
                })
                .collect_view();
            view! {
                <g data-testid="class-bar">
                    <text class="fa-bar__label" x="0" y=y + 22.0>{format!("{} (n = {})", c.label, c.support)}</text>
                    {bars}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="fa-figure">
            <svg class="fa-bars" role="img" aria-label="Precision, recall and F1 per class" viewBox=format!("0 0 {} {height}", LABEL_W + BAR_W + 110.0) width="100%">
                {rows}
            </svg>
            <figcaption class="fa-muted">"Per class: precision (of rows the model gave this label, how many are right), recall (of rows with this gold label, how many the model found) and F1."</figcaption>
        </figure>
    }
}
