//! The grid builder: a new experiment's axes, validation set, prices and confirmation.

use super::*;

/// An unsaved experiment with only other endpoints and prices, for the grid
/// builder's estimates before the experiment is made.
pub(super) fn draft_experiment(
    endpoints: Vec<EndpointConfig>,
    prices: Vec<ModelPrice>,
) -> Experiment {
    Experiment {
        id: String::new(),
        project_id: String::new(),
        dataset_id: String::new(),
        attribute: String::new(),
        name: String::new(),
        created_at: 0.0,
        task_rows: Vec::new(),
        cells: Vec::new(),
        prices,
        endpoints,
        daily_volume: DEFAULT_DAILY_VOLUME,
        workers: 1,
    }
}

/// The form that builds a grid, with its cost before it starts.
#[component]
pub(super) fn GridBuilder(
    /// Loaded project data.
    setup: Setup,
    /// Called with the new experiment's id when it starts.
    on_start: Callback<String>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let act = experiment_action(state);
    let ds = setup.dataset.clone().expect("checked by the caller");
    let endpoint = setup.endpoint.clone();
    let versions = StoredValue::new(setup.versions.clone());
    let latest = setup.versions.first().map_or(1, |v| v.version);
    // Categorical attributes of the latest version: free text has no accuracy.
    let attributes: Vec<String> = setup
        .versions
        .first()
        .and_then(|v| v.codebook().ok())
        .map(|cb| {
            cb.attributes
                .into_iter()
                .filter(|a| a.kind == AttributeKind::Categorical)
                .map(|a| a.name)
                .collect()
        })
        .unwrap_or_default();
    let attribute = RwSignal::new(attributes.first().cloned().unwrap_or_default());
    let name = RwSignal::new(format!("Experiment {}", setup.experiment_count + 1));
    let models = RwSignal::new(endpoint.model.clone());
    let chosen_versions = RwSignal::new(vec![latest]);
    let temperatures = RwSignal::new("0".to_string());
    let replications = RwSignal::new("1".to_string());
    let constrained_on = RwSignal::new(true);
    let free_on = RwSignal::new(false);
    let removed = RwSignal::new(HashSet::<String>::new());
    let prices = RwSignal::new(if endpoint.model.is_empty() {
        Vec::new()
    } else {
        vec![ModelPrice {
            endpoint: 0,
            model: endpoint.model.clone(),
            price_in_per_m: endpoint.price_in_per_m,
            price_out_per_m: endpoint.price_out_per_m,
        }]
    });
    let endpoint_sv = StoredValue::new(endpoint.clone());
    let others = RwSignal::new(Vec::<OtherDraft>::new());
    let others_cfg = Memo::new(move |_| {
        let base = endpoint_sv.get_value();
        others.with(|os| {
            os.iter()
                .map(|o| other_endpoint(&base, o.provider, &o.url))
                .collect::<Vec<_>>()
        })
    });
    // The experiment as drafted so far: only its other endpoints and prices
    // matter here, to route, price and name each cell as the saved one will.
    let draft = Memo::new(move |_| draft_experiment(others_cfg.get(), prices.get()));
    let list_action = Action::new_local(move |_: &()| {
        let cfg = endpoint_sv.get_value();
        let key = state.session_key.get_untracked();
        async move { list_models(&cfg, &key).await.map_err(AppError::from) }
    });
    // What the server listed, derived from the last listing (its error shown under the button).
    let listed = move || {
        list_action
            .value()
            .get()
            .and_then(|r| r.ok())
            .unwrap_or_default()
    };

    // The validation rows of the chosen attribute and their texts. Without a
    // chosen set they are every row with a gold label, which can be thousands:
    // the user must choose a set, or say that all of them it is (issue #14).
    let ds_sv = StoredValue::new(ds.clone());
    let vset = RwSignal::new(ds.validation.clone());
    let all_gold = RwSignal::new(false);
    let validation = LocalResource::new(move || {
        let attr = attribute.get();
        let storage = state.storage();
        let mut ds = ds_sv.get_value();
        ds.validation = vset.get();
        async move {
            let rows = state.rows(&ds).await?;
            let picked = scope_rows(&storage, &ds, &attr, &rows, Scope::Validation)
                .await?
                .unwrap_or_default();
            let set: HashSet<u32> = picked.iter().copied().collect();
            let texts: Vec<String> = rows
                .iter()
                .filter(|r| set.contains(&r.idx))
                .map(|r| r.cell(ds.text_col).to_string())
                .collect();
            Ok::<_, AppError>((picked, texts))
        }
    });

    let axes = Memo::new(move |_| GridAxes {
        models: {
            let mut lists = vec![models.get()];
            others.with(|os| lists.extend(os.iter().map(|o| o.models.clone())));
            lists
                .iter()
                .enumerate()
                .flat_map(|(endpoint, list)| {
                    let mut names = parse_models(list);
                    // An empty model field means the server's default model.
                    if names.is_empty() {
                        names.push(String::new());
                    }
                    names
                        .into_iter()
                        .map(move |model| ModelRef { endpoint, model })
                })
                .collect()
        },
        versions: chosen_versions.get(),
        temperatures: parse_list(&temperatures.get()),
        replications: parse_list::<u32>(&replications.get())
            .into_iter()
            .filter(|r| (1..=20).contains(r))
            .collect(),
        constrained: [
            constrained_on.get().then_some(true),
            free_on.get().then_some(false),
        ]
        .into_iter()
        .flatten()
        .collect(),
    });
    let grid = Memo::new(move |_| cells(&axes.get()));
    let kept = Memo::new(move |_| {
        let removed = removed.get();
        grid.get()
            .into_iter()
            .filter(|c| !removed.contains(&cell_key(c)))
            .collect::<Vec<_>>()
    });
    // Prompt tokens per item for each chosen version, over the validation texts.
    let tokens_by_version = Memo::new(move |_| {
        let attr = attribute.get();
        let Some(Ok((_, texts))) = validation.get() else {
            return HashMap::new();
        };
        let e = endpoint_sv.get_value();
        versions.with_value(|vs| {
            vs.iter()
                .filter_map(|v| {
                    let a = v.codebook().ok()?.attribute(&attr).cloned()?;
                    Some((v.version, (prompt_tokens_per_item(&a, &texts, &e), a)))
                })
                .collect::<HashMap<u32, (f64, Attribute)>>()
        })
    });
    let estimates = Memo::new(move |_| {
        let n = validation
            .get()
            .and_then(Result::ok)
            .map_or(0, |(rows, _)| rows.len() as u64);
        let e = endpoint_sv.get_value();
        let by_version = tokens_by_version.get();
        let kept = kept.get();
        draft.with(|x| {
            kept.into_iter()
                .map(|c| {
                    let at = x.endpoint_of(&e, &c);
                    let est = by_version.get(&c.version).map(|(t, a)| {
                        let (pi, po) = x.price(c.endpoint, &c.model);
                        estimate_cell(
                            n,
                            c.replications,
                            *t,
                            out_tokens_per_request(a, at, c.constrained),
                            pi,
                            po,
                        )
                    });
                    (c, est)
                })
                .collect::<Vec<(CellSpec, Option<CellEstimate>)>>()
        })
    });
    let totals = Memo::new(move |_| {
        estimates.with(|es| {
            es.iter().flat_map(|(_, e)| e).fold(
                (0u64, 0u64, 0u64, None::<f64>),
                |(r, ti, to, c), e| {
                    (
                        r + e.requests,
                        ti + e.tokens_in,
                        to + e.tokens_out,
                        match (c, e.cost) {
                            (None, None) => None,
                            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
                        },
                    )
                },
            )
        })
    });
    let missing_version = Memo::new(move |_| {
        let by_version = tokens_by_version.get();
        chosen_versions
            .get()
            .into_iter()
            .filter(|v| !by_version.contains_key(v))
            .collect::<Vec<u32>>()
    });
    let running = move || state.active_run.with(Option::is_some);
    let problem = Memo::new(move |_| {
        let n = validation
            .get()
            .and_then(Result::ok)
            .map_or(0, |(r, _)| r.len());
        if attribute.with(String::is_empty) {
            Some("The codebook has no categorical attribute to measure.".to_string())
        } else if n == 0 {
            Some("No validation rows: choose a validation set and label it in the Review step, or map a gold column in the Data step.".to_string())
        } else if vset.with(Option::is_none) && !all_gold.get() {
            Some(format!("Choose the validation set first: draw a sample of the {n} rows with a gold label, or tick that all of them are the validation set."))
        } else if let Some(k) = others.with(|os| os.iter().position(|o| o.url.trim().is_empty())) {
            Some(format!("Other endpoint {} has no base URL.", k + 2))
        } else if kept.with(Vec::is_empty) {
            Some("The grid is empty: every axis needs at least one value.".to_string())
        } else if !missing_version.with(Vec::is_empty) {
            Some(format!(
                "Prompt version(s) {} have no attribute \"{}\".",
                missing_version
                    .get()
                    .iter()
                    .map(|v| format!("v{v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                attribute.get()
            ))
        } else {
            None
        }
    });
    let sample_size = RwSignal::new(VALIDATION_SAMPLE);
    let draw = Action::new_local(move |_: &()| {
        let k = sample_size.get_untracked();
        let attr = attribute.get_untracked();
        let storage = state.storage();
        let mut meta = ds_sv.get_value();
        async move {
            meta.validation = None;
            let rows = state.rows(&meta).await?;
            let set = draw_validation_set(&storage, &meta, &attr, &rows, k).await?;
            meta.validation = Some(set.clone());
            storage.update_dataset(meta.clone()).await?;
            ds_sv.set_value(meta);
            vset.set(Some(set));
            Ok::<_, AppError>(())
        }
    });
    // Large grids are confirmed first: the request count shows, but a click is
    // all it takes to send thousands of requests to a paid endpoint.
    let confirming = RwSignal::new(false);
    let needs_confirm = move || {
        let (r, _, _, c) = totals.get_untracked();
        r > CONFIRM_REQUESTS || c.is_some_and(|c| c > CONFIRM_COST)
    };
    let start = move |confirmed: bool| {
        if !confirmed && needs_confirm() {
            confirming.set(true);
            return;
        }
        confirming.set(false);
        let Some(Ok((rows, _))) = validation.get_untracked() else {
            return;
        };
        let ds = ds_sv.get_value();
        let models_used: HashSet<(usize, String)> = kept
            .get_untracked()
            .iter()
            .map(|c| (c.endpoint, c.model.clone()))
            .collect();
        // Keys for the other endpoints stay in this tab's memory only.
        others.with_untracked(|os| {
            state.endpoint_keys.update(|keys| {
                for o in os.iter().filter(|o| !o.key.is_empty()) {
                    keys.insert(o.url.trim().to_string(), o.key.clone());
                }
            })
        });
        let x = Experiment {
            id: random_id(),
            project_id: ds.project_id.clone(),
            dataset_id: ds.id.clone(),
            attribute: attribute.get_untracked(),
            name: name.get_untracked(),
            created_at: now_ms(),
            task_rows: row_ranges(rows),
            cells: kept
                .get_untracked()
                .into_iter()
                .map(|spec| ExperimentCell {
                    spec,
                    run_id: None,
                    pinned: false,
                })
                .collect(),
            prices: prices
                .get_untracked()
                .into_iter()
                .filter(|p| models_used.contains(&(p.endpoint, p.model.clone())))
                .collect(),
            endpoints: others_cfg.get_untracked(),
            daily_volume: DEFAULT_DAILY_VOLUME,
            workers: endpoint_sv.with_value(EndpointConfig::effective_concurrency),
        };
        let id = x.id.clone();
        on_start.run(id.clone());
        act.dispatch_local(ExperimentJob::Create(x));
    };
    let set_price = move |(endpoint, model): (usize, String), input: bool, v: String| {
        let parsed = v.trim().parse::<f64>().ok().filter(|x| *x >= 0.0);
        prices.update(|ps| set_model_price(ps, endpoint, &model, input, parsed));
    };
    let version_list = setup.versions.clone();
    view! {
        <details class="fa-card" data-testid="grid-builder" open=setup.experiment_count == 0>
            <summary><h3 class="fa-inline">"New experiment"</h3></summary>
            <div class="fa-grid-axes">
                <label class="fa-field">
                    <span>"Name"</span>
                    <input data-testid="grid-name" prop:value=move || name.get() on:input:target=move |ev| name.set(ev.target().value()) />
                </label>
                <SelectField label="Attribute" testid="grid-attribute" on_change=Callback::new(move |v: String| attribute.set(v))>
                        {attributes.iter().map(|a| { let a2 = a.clone(); view! {
                            <option value=a.clone() selected=move || attribute.get() == a2>{a.clone()}</option>
                        }}).collect_view()}
                    </SelectField>
                <div class="fa-field">
                    <label for="fa-grid-models">"Models (comma-separated)"</label>
                    <input id="fa-grid-models" data-testid="grid-models" prop:value=move || models.get() on:input:target=move |ev| models.set(ev.target().value()) />
                    <Button label="List the endpoint's models" pending_label="Listing…" pending=list_action.pending() attr:data-testid="grid-list-models" on_click=move || { list_action.dispatch(()); } />
                    {move || list_action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert" data-testid="grid-models-error">{e.user_message()}</p> })}
                    <div class="fa-row">
                        {move || listed().into_iter().map(|m| {
                            let (m2, m3) = (m.clone(), m.clone());
                            view! {
                                <label class="fa-check">
                                    <input type="checkbox" prop:checked=move || parse_models(&models.get()).contains(&m2)
                                        on:change:target=move |ev| {
                                            let mut list = parse_models(&models.get_untracked());
                                            if ev.target().checked() { if !list.contains(&m3) { list.push(m3.clone()); } } else { list.retain(|x| x != &m3); }
                                            models.set(list.join(", "));
                                        } />
                                    {m}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </div>
                <fieldset class="fa-field" data-testid="grid-versions">
                    <legend>"Prompt versions"</legend>
                    {version_list.iter().map(|v| { let n = v.version; view! {
                        <label class="fa-check">
                            <input type="checkbox" data-testid=format!("grid-version-{n}") prop:checked=move || chosen_versions.with(|c| c.contains(&n))
                                on:change:target=move |ev| chosen_versions.update(|c| { c.retain(|x| *x != n); if ev.target().checked() { c.push(n); c.sort_unstable(); } }) />
                            {format!("v{n}")}
                        </label>
                    }}).collect_view()}
                </fieldset>
                <label class="fa-field">
                    <span>"Temperatures"</span>
                    <input data-testid="grid-temperatures" prop:value=move || temperatures.get() on:input:target=move |ev| temperatures.set(ev.target().value()) />
                </label>
                <label class="fa-field">
                    <span>"Replications (requests per item; 1–20)"</span>
                    <input data-testid="grid-replications" prop:value=move || replications.get() on:input:target=move |ev| replications.set(ev.target().value()) />
                </label>
                <fieldset class="fa-field">
                    <legend>"Decoding"</legend>
                    <label class="fa-check"><input type="checkbox" data-testid="grid-constrained" prop:checked=move || constrained_on.get() on:change:target=move |ev| constrained_on.set(ev.target().checked()) />{format!("constrained ({})", fannotate_core::records::constrained_decoding(&endpoint).label())}</label>
                    <label class="fa-check"><input type="checkbox" data-testid="grid-free" prop:checked=move || free_on.get() on:change:target=move |ev| free_on.set(ev.target().checked()) />"free (parsed afterwards)"</label>
                </fieldset>
            </div>
            <fieldset class="fa-field" data-testid="grid-other-endpoints">
                <legend>"Other endpoints (compare servers, not only models)"</legend>
                <p class="fa-muted">"Limits and prompt settings come from the project's endpoint. Keys typed here stay in this tab's memory and go only to their own endpoint. The page's network policy must allow each server."</p>
                {move || others.get().into_iter().enumerate().map(|(i, o)| view! {
                    <div class="fa-row" data-testid="grid-other-endpoint">
                        <SelectField label=format!("Endpoint {} provider", i + 2) testid="other-provider"
                            on_change=Callback::new(move |v: String| { if let Some(p) = Provider::parse(&v) { others.update(|os| os[i].provider = p) } })>
                            {Provider::ALL.into_iter().map(|p| view! { <option value=p.as_str() selected=p == o.provider>{p.label()}</option> }).collect_view()}
                        </SelectField>
                        <label class="fa-field fa-field--wide">
                            <span>"Base URL"</span>
                            <input data-testid="other-url" placeholder="http://127.0.0.1:11434/v1" prop:value=o.url.clone() on:change:target=move |ev| others.update(|os| os[i].url = ev.target().value()) />
                        </label>
                        <label class="fa-field">
                            <span>"Models (comma-separated)"</span>
                            <input data-testid="other-models" prop:value=o.models.clone() on:change:target=move |ev| others.update(|os| os[i].models = ev.target().value()) />
                        </label>
                        <label class="fa-field">
                            <span>"API key (this tab only)"</span>
                            <input type="password" autocomplete="off" data-testid="other-key" prop:value=o.key.clone() on:change:target=move |ev| others.update(|os| os[i].key = ev.target().value()) />
                        </label>
                        <button class="fa-btn" data-testid="other-remove" on:click=move |_| others.update(|os| { os.remove(i); })>"Remove"</button>
                    </div>
                }).collect_view()}
                <button class="fa-btn" data-testid="grid-add-endpoint" on:click=move |_| others.update(|os| os.push(OtherDraft { provider: Provider::Generic, url: String::new(), models: String::new(), key: String::new() }))>"Add an endpoint"</button>
            </fieldset>
            <h4>"Prices per model (per million tokens, for cost figures)"</h4>
            <div class="fa-row">
                {move || axes.get().models.into_iter().map(|m| {
                    let (pi, po) = draft.with(|x| x.price(m.endpoint, &m.model));
                    let name = others_cfg.with(|os| model_label(os, m.endpoint, &m.model));
                    let (k1, k2) = ((m.endpoint, m.model.clone()), (m.endpoint, m.model.clone()));
                    view! {
                        <div class="fa-field" data-testid="grid-price">
                            <span>{name.clone()}</span>
                            <input aria-label=format!("{name} input price") placeholder="input" inputmode="decimal" prop:value=pi.map(|v| v.to_string()).unwrap_or_default() on:change:target=move |ev| set_price(k1.clone(), true, ev.target().value()) />
                            <input aria-label=format!("{name} output price") placeholder="output" inputmode="decimal" prop:value=po.map(|v| v.to_string()).unwrap_or_default() on:change:target=move |ev| set_price(k2.clone(), false, ev.target().value()) />
                        </div>
                    }
                }).collect_view()}
            </div>
            <p class="fa-muted" data-testid="grid-validation">{move || match validation.get() {
                None => "Counting validation rows…".to_string(),
                Some(Err(e)) => e.user_message(),
                Some(Ok((rows, _))) => match vset.get() {
                    Some(v) => format!("{} validation rows for \"{}\" (validation set: {}).", rows.len(), attribute.get(), v.method),
                    None => format!("{} rows with a gold label for \"{}\", and no validation set chosen.", rows.len(), attribute.get()),
                },
            }}</p>
            <Show when=move || vset.with(Option::is_none)>
                <div class="fa-row" data-testid="grid-choose-validation">
                    <label class="fa-field fa-field--narrow">
                        <span>"Validation rows"</span>
                        <input type="number" min="1" data-testid="grid-validation-size" prop:value=move || sample_size.get().to_string()
                            on:change:target=move |ev| { if let Ok(n) = ev.target().value().trim().parse::<u32>() { sample_size.set(n.max(1)) } } />
                    </label>
                    <Button tone=Tone::Primary label="Choose them as the validation set" pending_label="Choosing…" pending=draw.pending() attr:data-testid="grid-validation-draw" on_click=move || { draw.dispatch(()); } />
                    <label class="fa-check">
                        <input type="checkbox" data-testid="grid-validation-all" prop:checked=move || all_gold.get() on:change:target=move |ev| all_gold.set(ev.target().checked()) />
                        "Or measure on every row with a gold label"
                    </label>
                    <p class="fa-muted">"A sample is drawn from the rows with a gold label, stratified by it (seed 1); it becomes the project's validation set, as in the Review step."</p>
                    {move || draw.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert">{e.user_message()}</p> })}
                </div>
            </Show>
            <div class="fa-table-scroll">
                <table class="fa-table fa-table--compact" data-testid="grid-cells">
                    <thead><tr><th scope="col">"Configuration"</th><th scope="col">"Requests"</th><th scope="col">"Tokens in (est.)"</th><th scope="col">"Tokens out (est.)"</th><th scope="col">"Cost (est.)"</th><th scope="col"><span class="fa-visually-hidden">"Remove"</span></th></tr></thead>
                    <tbody>
                        {move || estimates.get().into_iter().map(|(c, e)| {
                            let key = cell_key(&c);
                            view! {
                                <tr data-testid="grid-cell">
                                    <td>{draft.with(|x| x.describe(&c))}</td>
                                    <td>{e.as_ref().map_or("–".into(), |e| e.requests.to_string())}</td>
                                    <td>{e.as_ref().map_or("–".into(), |e| e.tokens_in.to_string())}</td>
                                    <td>{e.as_ref().map_or("–".into(), |e| e.tokens_out.to_string())}</td>
                                    <td>{e.as_ref().and_then(|e| e.cost).map_or("–".into(), |c| format!("{c:.4}"))}</td>
                                    <td><button class="fa-btn fa-btn--small" data-testid="grid-remove-cell" aria-label=format!("Remove {}", draft.with(|x| x.describe(&c))) on:click=move |_| removed.update(|r| { r.insert(key.clone()); })>"Remove"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p data-testid="grid-totals">{move || {
                let (r, ti, to, c) = totals.get();
                format!("{} configurations · {r} requests · ≈ {ti} tokens in, ≤ {to} tokens out{}",
                    kept.with(Vec::len),
                    c.map_or(" · no prices entered, no cost estimate".to_string(), |c| format!(" · ≈ {c:.4} in the prices' currency")))
            }}</p>
            <p class="fa-muted">"Token figures are estimates (about four characters a token); free decoding is counted at its token cap, an upper bound."</p>
            {move || problem.get().map(|p| view! { <p class="fa-error" role="alert" data-testid="grid-problem">{p}</p> })}
            <Show when=move || confirming.get()>
                <div class="fa-row" role="alertdialog" aria-labelledby="fa-grid-confirm" data-testid="grid-confirm">
                    <p id="fa-grid-confirm">{move || {
                        let (r, _, _, c) = totals.get();
                        format!("This experiment sends {r} requests{}. Start it?", c.map_or(String::new(), |c| format!(" and costs about {c:.2} in the prices' currency")))
                    }}</p>
                    <Button tone=Tone::Primary label=Signal::derive(move || format!("Send {} requests", totals.get().0)) pending=act.pending() attr:data-testid="grid-confirm-start" on_click=move || start(true) />
                    <button class="fa-btn" data-testid="grid-confirm-cancel" on:click=move |_| confirming.set(false)>"Not now"</button>
                </div>
            </Show>
            <div class="fa-row">
                <Button tone=Tone::Primary label="Start experiment" pending_label="Starting…" pending=act.pending() attr:data-testid="grid-start"
                    disabled=Signal::derive(move || problem.with(Option::is_some) || running() || confirming.get()) on_click=move || start(false) />
                <Show when=move || removed.with(|r| !r.is_empty())>
                    <button class="fa-btn" data-testid="grid-restore" on:click=move |_| removed.set(HashSet::new())>"Restore removed configurations"</button>
                </Show>
            </div>
        </details>
    }
}

/// Rows drawn for a validation set by default.
pub(super) const VALIDATION_SAMPLE: u32 = 200;
/// A grid over this many requests is confirmed before it starts.
pub(super) const CONFIRM_REQUESTS: u64 = 1_000;
/// Nor does one estimated to cost more than this (in the prices' currency).
pub(super) const CONFIRM_COST: f64 = 1.0;

/// `k` of the rows with a gold label (or a human label) for `attribute`,
/// stratified by the gold column (seed 1), as a validation set.
pub(super) async fn draw_validation_set(
    storage: &Rc<dyn Storage>,
    meta: &DatasetMeta,
    attribute: &str,
    rows: &[fannotate_core::records::RowRecord],
    k: u32,
) -> Result<fannotate_core::records::ValidationSet, AppError> {
    let candidates = scope_rows(storage, meta, attribute, rows, Scope::Validation)
        .await?
        .unwrap_or_default();
    let gold = meta.gold_for(attribute);
    let labels: Vec<&str> = candidates
        .iter()
        .map(|&i| {
            gold.and_then(|c| rows.get(i as usize).map(|r| r.cell(c)))
                .unwrap_or("")
        })
        .collect();
    let picked = fannotate_core::sample::stratified_sample(&labels, k, 1)
        .into_iter()
        .filter_map(|p| candidates.get(p as usize).copied());
    let n = candidates.len().min(k as usize);
    Ok(fannotate_core::records::ValidationSet::new(
        picked,
        format!(
            "{n} of {} rows with a gold label, stratified, seed 1",
            candidates.len()
        ),
    ))
}
