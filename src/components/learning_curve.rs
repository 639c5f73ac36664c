//! Accuracy against training rows, with intervals, as an SVG line chart.

use leptos::prelude::*;

/// One point: rows trained on, accuracy (0–1) and its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// Rows trained on.
    pub n: usize,
    /// Accuracy, 0–1.
    pub accuracy: f64,
    /// Lower and upper bound of its interval.
    pub ci: Option<(f64, f64)>,
}

const W: f64 = 520.0;
const H: f64 = 220.0;
const PAD_L: f64 = 48.0;
const PAD_R: f64 = 16.0;
const PAD_T: f64 = 12.0;
const PAD_B: f64 = 36.0;

/// The learning curve: points joined in order of n, interval bars, and a
/// dashed reference (the teacher's accuracy) when given.
#[component]
pub fn LearningCurve(
    /// The points, in increasing n.
    points: Vec<CurvePoint>,
    /// A horizontal reference accuracy and its name.
    #[prop(optional)]
    reference: Option<(f64, String)>,
    /// Accessible name of the chart.
    title: String,
) -> impl IntoView {
    let lows = points.iter().map(|p| p.ci.map_or(p.accuracy, |c| c.0));
    let lo = lows
        .chain(reference.iter().map(|r| r.0))
        .fold(1.0f64, f64::min);
    // The scale starts at a round tenth under the lowest value, so small gains show.
    let y0 = (lo * 10.0).floor() / 10.0;
    let y0 = y0.clamp(0.0, 0.9);
    let n_max = points.iter().map(|p| p.n).max().unwrap_or(1).max(1) as f64;
    let x = move |n: usize| PAD_L + (W - PAD_L - PAD_R) * (n as f64 / n_max);
    let y = move |a: f64| PAD_T + (H - PAD_T - PAD_B) * (1.0 - (a - y0) / (1.0 - y0));
    let line: String = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p.n), y(p.accuracy)))
        .collect::<Vec<_>>()
        .join(" ");
    let label = title.clone();
    let ticks: Vec<f64> = (0..=5).map(|k| y0 + (1.0 - y0) * k as f64 / 5.0).collect();
    view! {
        <figure class="fa-chart" data-testid="learning-curve">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=label class="fa-chart__svg">
                <title>{title}</title>
                {ticks.into_iter().map(|t| view! {
                    <g>
                        <line x1=PAD_L x2=W - PAD_R y1=y(t) y2=y(t) class="fa-chart__grid" />
                        <text x=PAD_L - 6.0 y=y(t) + 4.0 text-anchor="end" class="fa-chart__tick">{format!("{:.0} %", t * 100.0)}</text>
                    </g>
                }).collect_view()}
                {reference.clone().map(|(a, name)| view! {
                    <g data-testid="curve-reference">
                        <line x1=PAD_L x2=W - PAD_R y1=y(a) y2=y(a) class="fa-chart__ref" />
                        <text x=W - PAD_R y=y(a) - 4.0 text-anchor="end" class="fa-chart__tick">{name}</text>
                    </g>
                })}
                <polyline points=line class="fa-chart__line" fill="none" />
                {points.iter().map(|p| {
                    let (cx, cy) = (x(p.n), y(p.accuracy));
                    let bar = p.ci.map(|(l, h)| view! { <line x1=cx x2=cx y1=y(l) y2=y(h) class="fa-chart__err" /> });
                    view! {
                        <g data-testid="curve-point" data-n=p.n.to_string() data-accuracy=p.accuracy.to_string()>
                            {bar}
                            <circle cx=cx cy=cy r="4" class="fa-chart__dot" />
                            <text x=cx y=H - PAD_B + 16.0 text-anchor="middle" class="fa-chart__tick">{p.n.to_string()}</text>
                        </g>
                    }
                }).collect_view()}
                <text x=(PAD_L + W - PAD_R) / 2.0 y=H - 4.0 text-anchor="middle" class="fa-chart__tick">"rows trained on"</text>
            </svg>
        </figure>
    }
}
