//! The distribution of per-item scores in [0, 1] as an SVG histogram.

use leptos::prelude::*;

/// Counts of `values` in `bins` equal-width bins over [0, 1].
pub fn bin_counts(values: &[f64], bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins.max(1)];
    for v in values.iter().filter(|v| v.is_finite()) {
        let i = ((v.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        counts[i] += 1;
    }
    counts
}

/// Histogram of scores between 0 and 1.
#[component]
pub fn Histogram(
    /// The scores.
    values: Vec<f64>,
    /// What the scores are, for the caption and labels.
    name: String,
) -> impl IntoView {
    const BINS: usize = 10;
    const W: f64 = 480.0;
    const H: f64 = 160.0;
    const BASE: f64 = 130.0;
    let counts = bin_counts(&values, BINS);
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bw = W / BINS as f64;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let h = (c as f64 / max) * (BASE - 10.0);
            let (lo, hi) = (i as f64 / BINS as f64, (i + 1) as f64 / BINS as f64);
            view! {
                <g data-testid="histogram-bin" data-count=c.to_string()>
                    <rect class="fa-bar fa-bar--f" x=i as f64 * bw + 2.0 y=BASE - h width=bw - 4.0 height=h.max(0.5)>
                        <title>{format!("{name} {lo:.1}–{hi:.1}: {c} items")}</title>
                    </rect>
                    <text class="fa-bar__value" x=i as f64 * bw + bw / 2.0 y=BASE + 16.0 text-anchor="middle">{format!("{lo:.1}")}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="fa-figure">
            <svg class="fa-bars" role="img" aria-label=format!("Distribution of {name} over {} items", values.len()) viewBox=format!("0 0 {W} {H}") width="100%">
                {bars}
            </svg>
            <figcaption class="fa-muted">{format!("{name} per item ({} items with a gold text), in bins of 0.1.", values.len())}</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::bin_counts;

    #[test]
    fn scores_fall_in_their_bins_with_one_in_the_last() {
        assert_eq!(
            bin_counts(&[0.0, 0.05, 0.1, 0.95, 1.0, f64::NAN], 10),
            vec![2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
        );
    }
}
