//! One experiment: its progress, leaderboard and verdicts.

use super::*;
use crate::state::Topic;

/// How the leaderboard is ordered (pinned lines always come first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortKey {
    Accuracy,
    MacroF1,
    Kappa,
    Cost,
    Throughput,
    Latency,
    Grid,
}

impl SortKey {
    const ALL: [SortKey; 7] = [
        SortKey::Accuracy,
        SortKey::MacroF1,
        SortKey::Kappa,
        SortKey::Cost,
        SortKey::Throughput,
        SortKey::Latency,
        SortKey::Grid,
    ];

    fn as_str(self) -> &'static str {
        match self {
            SortKey::Accuracy => "accuracy",
            SortKey::MacroF1 => "macro-f1",
            SortKey::Kappa => "kappa",
            SortKey::Cost => "cost",
            SortKey::Throughput => "throughput",
            SortKey::Latency => "latency",
            SortKey::Grid => "grid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            SortKey::Accuracy => "Accuracy",
            SortKey::MacroF1 => "Macro-F1",
            SortKey::Kappa => "Cohen's κ",
            SortKey::Cost => "Cost per 1,000 (lowest first)",
            SortKey::Throughput => "Items/s",
            SortKey::Latency => "Latency p50 (lowest first)",
            SortKey::Grid => "Grid order",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A key that sorts ascending: better first, unmeasured last.
    fn rank(self, l: &Line) -> f64 {
        let s = l.score.as_ref();
        let v = match self {
            SortKey::Accuracy => s.and_then(|s| s.accuracy).map(|v| -v),
            SortKey::MacroF1 => s.and_then(|s| s.macro_f1).map(|v| -v),
            SortKey::Kappa => s.and_then(|s| s.cohen_kappa).map(|v| -v),
            SortKey::Cost => s.and_then(|s| s.cost_per_1000),
            SortKey::Throughput => s.and_then(|s| s.items_per_s).map(|v| -v),
            SortKey::Latency => s.and_then(|s| s.latency_p50_ms),
            SortKey::Grid => Some(l.cell as f64),
        };
        v.filter(|v| !v.is_nan()).unwrap_or(f64::INFINITY)
    }
}

/// What McNemar's test says about a line against the best.
pub(super) fn verdict(c: &Comparison) -> String {
    if c.significant {
        format!("worse, p = {:.3}", c.mcnemar.p_value)
    } else {
        match c.more_gold_needed {
            Some(n) => format!(
                "not significant (p = {:.2}); about {n} more gold labels would settle it",
                c.mcnemar.p_value
            ),
            None => format!(
                "not significant (p = {:.2}); no difference on these items",
                c.mcnemar.p_value
            ),
        }
    }
}

/// One experiment: its progress, leaderboard and projection.
#[component]
pub(super) fn ExperimentPanel(
    /// Id of the experiment shown.
    id: String,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let act = experiment_action(state);
    let batch = crate::actions::batch::batch_action(state);
    // The combined run joins the leaderboard when the runs reload.
    let combine = combine_action(state, Callback::new(|_: String| {}));
    let id_sv = StoredValue::new(id.clone());
    let cache = StoredValue::new_local(GoldCache::default());
    let loaded = LocalResource::new(move || {
        state.track(&[
            Topic::Dataset,
            Topic::Experiments,
            Topic::Runs,
            Topic::Annotations,
        ]);
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        let id = id_sv.get_value();
        let cache = cache.get_value();
        async move {
            let found = storage
                .experiments(pid)
                .await?
                .into_iter()
                .find(|x| x.id == id);
            match found {
                Some(x) => load_board(state, x, cache).await.map(Some),
                None => Ok(None),
            }
        }
    });
    // While a new score loads (after every measured cell), the last one stays up.
    let board = Memo::new(
        move |prev: Option<&Option<Result<Option<Board>, AppError>>>| {
            loaded.get().or_else(|| prev.cloned().flatten())
        },
    );
    let sort = RwSignal::new(SortKey::Accuracy);
    let this_running = {
        let id = id.clone();
        move || {
            state
                .active_run
                .with(|r| r.as_ref().and_then(|r| r.experiment.clone()) == Some(id.clone()))
        }
    };
    let any_running = move || state.active_run.with(Option::is_some) || act.pending().get();
    let current = move || {
        board.with_untracked(|b| {
            b.as_ref()
                .and_then(|b| b.as_ref().ok())
                .and_then(|b| b.as_ref())
                .map(|b| b.experiment.clone())
        })
    };
    let save = move |f: Box<dyn FnOnce(&mut Experiment)>| {
        let Some(mut e) = current() else {
            return;
        };
        f(&mut e);
        act.dispatch_local(ExperimentJob::Save(e));
    };
    let resume_id = id.clone();
    let delete_id = id.clone();
    let this_running2 = this_running.clone();
    view! {
        <section class="fa-card" data-testid="experiment-panel" aria-label="Experiment">
            {move || board.get().map(|b| match b {
                Err(e) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Ok(None) => view! { <p class="fa-empty">"This experiment was deleted."</p> }.into_any(),
                Ok(Some(b)) => {
                    let done = b.lines.iter().filter(|l| l.run.as_ref().is_some_and(|r| r.status == RunStatus::Completed)).count();
                    let runs: Vec<RunRecord> = b.lines.iter().filter_map(|l| l.run.clone()).collect();
                    let complete = is_complete(&b.experiment, &runs);
                    view! {
                        <h3>{format!("{} · attribute \"{}\"", b.experiment.name, b.experiment.attribute)}</h3>
                        <p data-testid="experiment-status" data-complete=complete.to_string()>
                            {format!("{done} of {} configurations measured on {} items ({} with a gold label).", b.lines.len(), b.items, b.gold_items)}
                        </p>
                        {(!b.experiment.endpoints.is_empty()).then(|| {
                            let urls: Vec<String> = b.experiment.endpoints.iter().map(|e| e.base_url.trim().to_string()).collect();
                            view! {
                                <div class="fa-row" data-testid="experiment-keys">
                                    {urls.into_iter().map(|u| {
                                        let (u1, u2) = (u.clone(), u.clone());
                                        view! {
                                            <label class="fa-field">
                                                <span>{format!("API key for {u} (this tab only; empty if none)")}</span>
                                                <input type="password" autocomplete="off" data-testid="experiment-key"
                                                    prop:value=move || state.endpoint_keys.with(|m| m.get(&u1).cloned().unwrap_or_default())
                                                    on:change:target=move |ev| { let k = ev.target().value(); state.endpoint_keys.update(|m| { m.insert(u2.clone(), k); }) } />
                                            </label>
                                        }
                                    }).collect_view()}
                                </div>
                            }
                        })}
                        {(b.gold_items < b.items).then(|| view! { <p class="fa-muted">{format!("{} items have no gold label yet: label them in the Review step (validation queue) to measure on all of them.", b.items - b.gold_items)}</p> })}
                    }.into_any()
                }
            })}
            <div class="fa-row">
                <Button tone=Tone::Primary label="Run the remaining configurations" pending=act.pending() disabled=Signal::derive(any_running) attr:data-testid="experiment-resume"
                    on_click=move || { act.dispatch_local(ExperimentJob::Run(resume_id.clone())); } />
                <Show when=this_running2.clone()>
                    <RunControls enabled=Signal::derive(|| true) paused=Signal::derive(move || state.run_paused())
                                    on_pause=Callback::new(move |_| state.toggle_pause()) on_cancel=Callback::new(move |_| state.cancel_run()) cancel_label="Stop" />
                </Show>
                <Button tone=Tone::Danger label="Delete experiment" pending=act.pending() disabled=Signal::derive(any_running) attr:data-testid="experiment-delete"
                    on_click=move || { act.dispatch_local(ExperimentJob::Delete(delete_id.clone())); } />
            </div>
            <Show when=this_running.clone()>
                <RunProgressPanel progress=state.progress run=state.progress_run live=Signal::derive(move || state.run_live()) />
            </Show>
            <div class="fa-row">
                <SelectField label="Sort by" testid="leaderboard-sort" on_change=Callback::new(move |v: String| { if let Some(k) = SortKey::parse(&v) { sort.set(k) } })>
                        {SortKey::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=move || sort.get() == k>{k.label()}</option> }).collect_view()}
                    </SelectField>
            </div>
            {move || board.get().and_then(Result::ok).flatten().map(|b| {
                let mut order: Vec<usize> = (0..b.lines.len()).collect();
                let key = sort.get();
                order.sort_by(|&i, &j| {
                    let (a, c) = (&b.lines[i], &b.lines[j]);
                    c.pinned().cmp(&a.pinned()).then(key.rank(a).total_cmp(&key.rank(c))).then(a.cell.cmp(&c.cell))
                });
                let best = b.best;
                let choices: Vec<CombineChoice> = b.lines.iter().filter_map(|l| {
                    let run = l.run.as_ref().filter(|r| r.status == RunStatus::Completed && l.spec().is_some())?;
                    Some(CombineChoice { id: run.id.clone(), attribute: run.attribute.clone(), label: b.describe(l) })
                }).collect();
                view! {
                    // The note stands outside the table: as a caption it took the
                    // table's width and was cut off with it (issue #14).
                    <p class="fa-muted" id="fa-leaderboard-note" data-testid="leaderboard-note">"Against the human gold labels. Invalid and failed answers count as wrong. The bracket under each figure is its bootstrap 95 % interval (1,000 resamples). The last column compares each configuration with the best one on the same items (McNemar's test)."</p>
                    <div class="fa-table-scroll" data-testid="leaderboard-scroll">
                        <table class="fa-table fa-leaderboard" data-testid="leaderboard" aria-describedby="fa-leaderboard-note">
                            <caption class="fa-visually-hidden">"Leaderboard"</caption>
                            <thead><tr>
                                <th scope="col">"Configuration"</th><th scope="col">"Items"</th>
                                <th scope="col">"Accuracy"</th><th scope="col">"Macro-F1"</th><th scope="col">"Cohen's κ"</th>
                                <th scope="col">"Items/s · latency p50 / p95"</th><th scope="col">"Tokens in / out per item"</th>
                                <th scope="col">"Cost / 1,000"</th><th scope="col">"Replications"</th>
                                <th scope="col">"vs best (McNemar)"</th>
                            </tr></thead>
                            <tbody>
                                {order.into_iter().map(|i| {
                                    let l = b.lines[i].clone();
                                    let is_best = best == Some(i);
                                    let cell = l.cell;
                                    let pinned = l.pinned();
                                    let spec = l.spec().cloned();
                                    let described = b.describe(&l);
                                    let s = l.score.clone();
                                    let status = l.run.as_ref().map_or("not started".to_string(), |r| {
                                        if r.status == RunStatus::Completed { String::new() } else { format!(" ({})", if r.status == RunStatus::Running && !this_running() { RunStatus::Interrupted.label() } else { r.status.label() }) }
                                    });
                                    view! {
                                        <tr data-testid="leaderboard-row" data-cell=cell.to_string() data-model=spec.as_ref().map(|s| s.model.clone()).unwrap_or_default()
                                            data-kind=if spec.is_some() { "cell" } else { "combined" }
                                            data-accuracy=s.as_ref().and_then(|s| s.accuracy).map(|v| v.to_string()).unwrap_or_default()
                                            class:fa-row--best=is_best>
                                            // The action and the pin sit with the name, so they
                                            // stay in view when a narrow screen scrolls the table.
                                            <th scope="row" class="fa-leaderboard__config">
                                                {match spec.clone() {
                                                    Some(spec) => view! {
                                                        <label class="fa-check">
                                                            <input type="checkbox" data-testid="leaderboard-pin" prop:checked=pinned
                                                                on:change:target=move |ev| { let on = ev.target().checked(); save(Box::new(move |e: &mut Experiment| if let Some(c) = e.cells.get_mut(cell) { c.pinned = on })) } />
                                                            <span class="fa-visually-hidden">"Pin "</span>
                                                            {described.clone()}
                                                        </label>
                                                        {is_best.then(|| view! { <span class="fa-badge" data-testid="leaderboard-best">" best"</span> })}
                                                        <Button tone=Tone::Small label="Annotate everything with this" pending=act.pending() disabled=Signal::derive(any_running)
                                                            attr:data-testid="annotate-everything" attr:aria-label=format!("Annotate everything with this: {described}")
                                                            on_click={ let (x, spec) = (b.experiment.clone(), spec.clone()); move || { act.dispatch_local(ExperimentJob::AnnotateEverything(x.clone(), spec.clone())); } } />
                                                        <Button tone=Tone::Small label="Export everything as a batch file" pending=batch.pending()
                                                            attr:data-testid="batch-everything" attr:aria-label=format!("Export everything as a batch file: {described}")
                                                            on_click={ let x = b.experiment.clone(); move || { batch.dispatch_local(crate::actions::batch::BatchJob::Everything(x.clone(), spec.clone())); } } />
                                                    }.into_any(),
                                                    // A combination has no requests of its own: its parts do.
                                                    None => view! {
                                                        <span data-testid="leaderboard-combined">{described.clone()}</span>
                                                        {is_best.then(|| view! { <span class="fa-badge" data-testid="leaderboard-best">" best"</span> })}
                                                        <span class="fa-ci">"Time and cost: its configurations' together. To label everything this way, combine full runs in the Distil step."</span>
                                                    }.into_any(),
                                                }}
                                            </th>
                                            <td><span data-testid="lb-items">{format!("{}{}", l.answered, status)}</span>{s.as_ref().map(|s| view! {
                                                <span class="fa-ci">{format!("{} invalid{}", pct_or_dash(Some(s.invalid_rate)), if s.failed_rate > 0.0 { format!(", {} failed", pct_or_dash(Some(s.failed_rate))) } else { String::new() })}</span>
                                            })}</td>
                                            {match &s {
                                                None => view! { <td colspan="8" class="fa-muted">"not measured yet"</td> }.into_any(),
                                                Some(s) => view! {
                                                    <td data-testid="lb-accuracy">{pct_or_dash(s.accuracy)}<span class="fa-ci">{ci_text(s.cis.accuracy, true)}</span></td>
                                                    <td>{s.macro_f1.map_or("–".into(), |v| format!("{v:.3}"))}<span class="fa-ci">{ci_text(s.cis.macro_f1, false)}</span></td>
                                                    <td>{s.cohen_kappa.map_or("–".into(), |v| format!("{v:.3}"))}<span class="fa-ci">{ci_text(s.cis.cohen_kappa, false)}</span></td>
                                                    <td>
                                                        <span class="fa-lines">{s.items_per_s.map_or("–".into(), |v| format!("{v:.1} @ {}", l.concurrency))}</span>
                                                        <span class="fa-ci">{match (s.latency_p50_ms, s.latency_p95_ms) { (Some(a), Some(b)) => format!("{a:.0} / {b:.0} ms"), _ => "–".into() }}</span>
                                                    </td>
                                                    <td>{format!("{:.0} / {:.1}", s.tokens_in_per_item, s.tokens_out_per_item)}</td>
                                                    <td>{s.cost_per_1000.map_or("–".into(), |v| format!("{v:.4}"))}</td>
                                                    <td>{s.replication.as_ref().map_or_else(|| view! { "–" }.into_any(), |r| view! {
                                                        <span class="fa-lines">{format!("vote {}", pct_or_dash(r.majority_accuracy))}</span>
                                                        <span class="fa-lines">{format!("single {}", pct_or_dash(r.mean_single_accuracy))}</span>
                                                        <span class="fa-lines">{format!("α {}", r.alpha.map_or("–".into(), |a| format!("{a:.3}")))}</span>
                                                    }.into_any())}</td>
                                                    <td class="fa-leaderboard__verdict" data-testid="lb-verdict" data-significant=l.comparison.as_ref().map(|c| c.significant.to_string()).unwrap_or_default()>
                                                        {if is_best { "best".to_string() } else { l.comparison.as_ref().map_or("–".into(), verdict) }}
                                                    </td>
                                                }.into_any(),
                                            }}
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {(choices.len() >= 2).then(|| view! {
                        <CombineRuns choices on_combine=Callback::new(move |args| { combine.dispatch(args); }) pending=combine.pending()
                            intro="Several of these configurations' labels, made into one run: a majority vote, or Dawid–Skene, which weighs each configuration by how often it agrees with the others. The combination joins the leaderboard, scored on the same gold rows, at its configurations' time and cost together: does a set of cheap configurations beat one expensive one?" />
                    })}
                    <ProjectionPanel board=b.clone() on_save=Callback::new(move |e: Experiment| save(Box::new(move |cur: &mut Experiment| *cur = e))) />
                }
            })}
        </section>
    }
}
