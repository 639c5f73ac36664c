//! One value per item as horizontal SVG bars, with an optional reference line
//! (e.g. the 24 hours of a day).

use leptos::prelude::*;

/// A labelled reference value drawn across the bars.
#[derive(Debug, Clone, PartialEq)]
pub struct RefLine {
    /// Where the line is, in the chart's units.
    pub value: f64,
    /// What it means, e.g. "24 h".
    pub label: String,
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Name at the left.
    pub label: String,
    /// Length; infinite or NaN values are drawn as "–" with no bar.
    pub value: f64,
    /// Text at the end of the bar.
    pub text: String,
    /// Drawn in the warning colour (e.g. over the reference line).
    pub warn: bool,
}

const ROW: f64 = 24.0;
const LABEL_W: f64 = 230.0;
const BAR_W: f64 = 340.0;
const TEXT_W: f64 = 120.0;
/// A reference line more than this many times the longest bar is off the scale.
const OFF_SCALE_RATIO: f64 = 4.0;
/// Characters of a label that fit in `LABEL_W` at the chart's 12 px font (about
/// 6.5 px a character, with a gap before the bar).
const LABEL_CHARS: usize = 33;

/// A label cut to fit its column (SVG text does not wrap or clip, so a long
/// one ran under its bar); the whole label is the text's tooltip.
fn fit_label(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(LABEL_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Horizontal bar chart. The scale runs to the largest finite value or the
/// reference line, whichever is larger.
#[component]
pub fn BarChart(
    /// The bars, top to bottom.
    bars: Vec<Bar>,
    /// Accessible name of the chart.
    title: String,
    /// Caption under the chart.
    caption: String,
    /// Optional reference line.
    #[prop(optional)]
    reference: Option<RefLine>,
    /// `data-testid` of the figure.
    testid: &'static str,
) -> impl IntoView {
    let finite_max = bars
        .iter()
        .map(|b| b.value)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    // A reference far beyond every bar would squash them to slivers: then the
    // scale follows the bars and the line is named at the right edge instead.
    let off_scale = reference
        .as_ref()
        .is_some_and(|r| finite_max > 0.0 && r.value > finite_max * OFF_SCALE_RATIO);
    let max = reference
        .as_ref()
        .filter(|_| !off_scale)
        .map_or(finite_max, |r| finite_max.max(r.value))
        .max(f64::MIN_POSITIVE);
    let x_of = move |v: f64| LABEL_W + (v / max).clamp(0.0, 1.0) * BAR_W;
    let height = ROW * bars.len() as f64 + 28.0;
    let rows = bars
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let y = 20.0 + ROW * i as f64;
            let end = if b.value.is_finite() {
                x_of(b.value.max(0.0))
            } else {
                LABEL_W
            };
            let class = if b.warn {
                "fa-bar fa-bar--warn"
            } else {
                "fa-bar fa-bar--f"
            };
            view! {
                <g data-testid="chart-bar">
                    <text class="fa-bar__label" x="0" y=y + 12.0>{fit_label(&b.label)}<title>{b.label.clone()}</title></text>
                    <rect class=class x=LABEL_W y=y width=format!("{:.1}", (end - LABEL_W).max(0.5)) height="16">
                        <title>{format!("{}: {}", b.label, b.text)}</title>
                    </rect>
                    <text class="fa-bar__value" x=format!("{:.1}", end + 4.0) y=y + 12.0>{b.text}</text>
                </g>
            }
        })
        .collect_view();
    let line = reference.map(|r| {
        if off_scale {
            return view! {
                <g data-testid="chart-ref" data-off-scale="true">
                    <text class="fa-bar__value" x=LABEL_W + BAR_W + TEXT_W - 2.0 y="10" text-anchor="end">{format!("{} is far beyond every bar →", r.label)}</text>
                </g>
            }
            .into_any();
        }
        let x = format!("{:.1}", x_of(r.value));
        view! {
            <g data-testid="chart-ref">
                <line class="fa-chart__ref" x1=x.clone() x2=x.clone() y1="14" y2=height - 4.0 />
                <text class="fa-bar__value" x=x y="10">{r.label}</text>
            </g>
        }
        .into_any()
    });
    view! {
        <figure class="fa-figure" data-testid=testid>
            <svg class="fa-bars" role="img" aria-label=title viewBox=format!("0 0 {} {height}", LABEL_W + BAR_W + TEXT_W) width="100%">
                {rows}
                {line}
            </svg>
            <figcaption class="fa-muted">{caption}</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_to_their_column() {
        assert_eq!(fit_label("gpt-4o · v1"), "gpt-4o · v1");
        let long = "Majority vote of 3: cheap-a + cheap-b + cheap-c (v1 · T 0)";
        let cut = fit_label(long);
        assert_eq!(cut.chars().count(), LABEL_CHARS);
        assert!(cut.ends_with('…') && long.starts_with(cut.trim_end_matches('…')));
        // Cut between words, no space is left before the ellipsis.
        assert_eq!(
            fit_label(&format!("{} bbbb", "a".repeat(31))),
            format!("{}…", "a".repeat(31))
        );
    }
}
