//! A configuration projected to the daily volume: time and cost per day.

use super::*;
use fannotate_core::student::distil::TeacherKind;

/// Each measured configuration projected to the daily volume: hours a day
/// against the 24-hour line, and cost a day.
#[component]
pub(super) fn ProjectionPanel(
    /// The scored experiment.
    board: Board,
    /// Saves the experiment with a changed volume, worker count or price.
    on_save: Callback<Experiment>,
) -> impl IntoView {
    // Measured configurations; then combinations, as positions among them.
    let (lines, models): (Vec<(String, Score)>, Vec<ModelKey>) = board
        .lines
        .iter()
        .filter_map(|l| {
            let spec = l.spec()?;
            Some((
                (board.describe(l), l.score.clone()?),
                (spec.endpoint, spec.model.clone()),
            ))
        })
        .unzip();
    let measured_cells: Vec<usize> = board
        .lines
        .iter()
        .filter(|l| l.spec().is_some() && l.score.is_some())
        .map(|l| l.cell)
        .collect();
    let combined: Vec<(String, Vec<usize>)> = board
        .lines
        .iter()
        .filter_map(|l| match &l.kind {
            LineKind::Combined { cells, .. } => Some((
                board.describe(l),
                cells
                    .iter()
                    .map(|c| measured_cells.iter().position(|m| m == c))
                    .collect::<Option<Vec<usize>>>()?,
            )),
            LineKind::Cell { .. } => None,
        })
        .collect();
    let mut priced_models: Vec<(usize, String)> = Vec::new();
    for c in &board.experiment.cells {
        let m = (c.spec.endpoint, c.spec.model.clone());
        if !priced_models.contains(&m) {
            priced_models.push(m);
        }
    }
    // The experiment as edited here; volume and workers are read from it.
    let x = RwSignal::new(board.experiment.clone());
    let daily_volume = Memo::new(move |_| x.with(|e| e.daily_volume.max(1)));
    let workers = Memo::new(move |_| x.with(|e| e.workers.max(1)));
    // The student the Distil step last trained, beside the LLMs (it runs on
    // one thread of this browser and costs nothing per text).
    let student = expect_context::<AppState>()
        .project
        .with_untracked(|p| p.as_ref().and_then(|p| p.student.clone()));
    let projections = Memo::new(move |_| {
        let (v, w) = (daily_volume.get(), workers.get());
        let mut rows = lines
            .iter()
            .zip(&models)
            .map(|((d, s), m)| {
                let (pi, po) = x.with(|x| x.price(m.0, &m.1));
                (
                    d.clone(),
                    projection_input(s, w, v, pi, po).map(|i| project(&i)),
                    pi.is_some() || po.is_some(),
                )
            })
            .collect::<Vec<(String, Option<Projection>, bool)>>();
        let sums: Vec<(String, Option<Projection>, bool)> = combined
            .iter()
            .map(|(d, parts)| {
                let each: Option<Vec<Projection>> = parts.iter().map(|&k| rows[k].1).collect();
                (
                    d.clone(),
                    each.and_then(|e| Projection::sequence(&e)),
                    parts.iter().any(|&k| rows[k].2),
                )
            })
            .collect();
        rows.extend(sums);
        if let Some(st) = &student {
            rows.push((
                format!(
                    "Student trained on {} {} labels (Distil step; {} on the gold rows; one browser thread)",
                    st.n_train,
                    match st.teacher {
                        TeacherKind::Run => "LLM",
                        TeacherKind::Human => "human",
                    },
                    pct(st.accuracy)
                ),
                Some(project(&ProjectionInput::local(st.items_per_s, v))),
                true,
            ));
        }
        rows
    });
    let hours_bars = move || {
        projections
            .get()
            .into_iter()
            .map(|(d, p, _)| Bar {
                label: d,
                value: p.map_or(f64::NAN, |p| p.hours_per_day),
                text: p.map_or("–".into(), |p| duration_text(p.hours_per_day)),
                warn: p.is_some_and(|p| !p.fits_in_24h),
            })
            .collect::<Vec<_>>()
    };
    let cost_bars = move || {
        projections
            .get()
            .into_iter()
            .map(|(d, p, priced)| Bar {
                label: d,
                value: p.filter(|_| priced).map_or(f64::NAN, |p| p.cost_per_day),
                text: match p {
                    Some(p) if priced => format!("{:.2}", p.cost_per_day),
                    _ => "no price".into(),
                },
                warn: false,
            })
            .collect::<Vec<_>>()
    };
    let edit = move |f: &dyn Fn(&mut Experiment)| {
        x.update(|e| f(e));
        on_save.run(x.get_untracked());
    };
    let set_price = move |(endpoint, model): (usize, String), input: bool, v: String| {
        let parsed = v.trim().parse::<f64>().ok().filter(|p| *p >= 0.0);
        edit(&|e| set_model_price(&mut e.prices, endpoint, &model, input, parsed));
    };
    view! {
        <section class="fa-card" data-testid="projection" aria-label="Projection to the daily volume">
            <h3>"Projection to the daily volume"</h3>
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Items per day"</span>
                    <input type="number" min="1" data-testid="projection-volume" prop:value=move || daily_volume.get().to_string()
                        on:change:target=move |ev| { if let Ok(v) = ev.target().value().trim().parse::<u64>() { edit(&|e| e.daily_volume = v.max(1)) } } />
                </label>
                <label class="fa-field">
                    <span>"Parallel workers"</span>
                    <input type="number" min="1" max="1024" data-testid="projection-workers" prop:value=move || workers.get().to_string()
                        on:change:target=move |ev| { if let Ok(v) = ev.target().value().trim().parse::<u32>() { edit(&|e| e.workers = v.clamp(1, 1024)) } } />
                </label>
            </div>
            <div class="fa-row" data-testid="projection-prices">
                {priced_models.into_iter().map(|m| {
                    let (pi, po) = x.with_untracked(|e| e.price(m.0, &m.1));
                    let (m1, m2) = (m.clone(), m.clone());
                    let name = x.with_untracked(|e| model_label(&e.endpoints, m.0, &m.1));
                    view! {
                        <label class="fa-field">
                            <span>{format!("{name}: price per million tokens in")}</span>
                            <input inputmode="decimal" data-testid="projection-price-in" prop:value=pi.map(|v| v.to_string()).unwrap_or_default()
                                on:change:target=move |ev| set_price(m1.clone(), true, ev.target().value()) />
                        </label>
                        <label class="fa-field">
                            <span>"out"</span>
                            <input inputmode="decimal" data-testid="projection-price-out" prop:value=po.map(|v| v.to_string()).unwrap_or_default()
                                on:change:target=move |ev| set_price(m2.clone(), false, ev.target().value()) />
                        </label>
                    }
                }).collect_view()}
            </div>
            <p class="fa-muted">"From each configuration's measured mean latency and tokens per item: hours = items × latency × replications ÷ workers. A plain-HTTP endpoint serves at most 6 requests at once per browser, whatever the worker count."</p>
            <div class="fa-row fa-row--top">
                {move || view! { <BarChart bars=hours_bars() title="Hours per day for the daily volume".to_string() caption=format!("Hours needed per day for {} items at {} parallel requests; the dashed line marks 24 hours.", daily_volume.get(), workers.get()) reference=RefLine { value: 24.0, label: "24 h".into() } testid="chart-hours" /> }}
                {move || view! { <BarChart bars=cost_bars() title="Cost per day".to_string() caption=format!("Cost of {} items a day at the prices entered per model.", daily_volume.get()) testid="chart-cost" /> }}
            </div>
            <table class="fa-table fa-table--compact" data-testid="projection-table">
                <thead><tr><th scope="col">"Configuration"</th><th scope="col">"Items/hour"</th><th scope="col">"Hours/day"</th><th scope="col">"Fits in 24 h"</th><th scope="col">"Tokens/day"</th><th scope="col">"Cost/day"</th></tr></thead>
                <tbody>
                    {move || projections.get().into_iter().map(|(d, p, priced)| view! {
                        <tr data-testid="projection-row" data-hours=p.map(|p| p.hours_per_day.to_string()).unwrap_or_default()
                            data-cost=p.filter(|_| priced).map(|p| p.cost_per_day.to_string()).unwrap_or_default()>
                            <td>{d}</td>
                            <td>{p.map_or("–".into(), |p| format!("{:.0}", p.items_per_hour))}</td>
                            <td>{p.map_or("–".into(), |p| duration_text(p.hours_per_day))}</td>
                            <td>{p.map_or("–", |p| if p.fits_in_24h { "yes" } else { "no" })}</td>
                            <td>{p.map_or("–".into(), |p| format!("{:.0}", p.tokens_per_day))}</td>
                            <td>{match p { Some(p) if priced => format!("{:.2}", p.cost_per_day), _ => "–".into() }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
