//! Configure the model endpoint and test the connection.

use crate::actions::endpoint::{endpoint_actions, EndpointActions};
use crate::components::{when_loaded, Button, SelectField, Tone};
use crate::error::AppError;
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::prompt::Constraint;
use fannotate_core::records::{ConstraintMode, EndpointConfig, Provider};
use leptos::prelude::*;

/// The endpoint step.
#[component]
pub fn EndpointView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let loaded = LocalResource::new(move || {
        state.track(&[Topic::Endpoint]);
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.endpoint(pid).await.map_err(AppError::from) }
    });
    view! {
        <section class="fa-view" data-testid="endpoint-view">
            <h2>"Endpoint"</h2>
            {when_loaded(loaded, "Loading…", move |stored| {
                    let saved = stored.is_some();
                    let initial = stored.unwrap_or_else(|| state.default_endpoint());
                    view! { <EndpointEditor initial saved/> }.into_any()
                })}
        </section>
    }
}

/// Editor over a draft of the endpoint settings.
#[component]
fn EndpointEditor(
    /// Stored settings or defaults.
    initial: EndpointConfig,
    /// Whether `initial` was stored.
    saved: bool,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    if let Some(k) = initial
        .api_key
        .clone()
        .filter(|_| state.session_key.get_untracked().is_empty())
    {
        state.session_key.set(k);
    }
    let draft = RwSignal::new(initial);
    let (saved, set_saved) = signal(saved);

    let EndpointActions { save, test, models } = endpoint_actions(state, draft, set_saved);

    let text = move |get: fn(&EndpointConfig) -> String, set: fn(&mut EndpointConfig, String)| {
        (
            move || draft.with(get),
            move |v: String| draft.update(|d| set(d, v)),
        )
    };
    let num = move |get: fn(&EndpointConfig) -> f64, set: fn(&mut EndpointConfig, f64)| {
        (
            move || draft.with(get).to_string(),
            move |v: String| {
                if let Ok(x) = v.trim().parse::<f64>() {
                    draft.update(|d| set(d, x))
                }
            },
        )
    };
    let (base_get, base_set) = text(|d| d.base_url.clone(), |d, v| d.base_url = v);
    let (model_get, model_set) = text(|d| d.model.clone(), |d, v| d.model = v);
    let (temp_get, temp_set) = num(|d| d.temperature, |d, v| d.temperature = v.clamp(0.0, 2.0));
    let (maxtok_get, maxtok_set) = num(
        |d| d.max_tokens as f64,
        |d, v| d.max_tokens = v.clamp(1.0, 32_768.0) as u32,
    );
    let (ftmax_get, ftmax_set) = num(
        |d| d.free_text_max_tokens as f64,
        |d, v| d.free_text_max_tokens = v.clamp(1.0, 32_768.0) as u32,
    );
    // Optional numbers: an empty field means "not sent".
    let opt = move |get: fn(&EndpointConfig) -> String, set: fn(&mut EndpointConfig, &str)| {
        (
            move || draft.with(get),
            move |v: String| draft.update(|d| set(d, v.trim())),
        )
    };
    let (top_p_get, top_p_set) = opt(
        |d| d.top_p.map(|x| x.to_string()).unwrap_or_default(),
        |d, v| d.top_p = v.parse::<f64>().ok().map(|x| x.clamp(0.0, 1.0)),
    );
    let (seed_get, seed_set) = opt(
        |d| d.seed.map(|x| x.to_string()).unwrap_or_default(),
        |d, v| d.seed = v.parse().ok(),
    );
    let (rpm_get, rpm_set) = opt(
        |d| {
            d.requests_per_minute
                .map(|x| x.to_string())
                .unwrap_or_default()
        },
        |d, v| d.requests_per_minute = v.parse::<u32>().ok().filter(|n| *n > 0),
    );
    let (conc_get, conc_set) = num(
        |d| d.concurrency as f64,
        |d, v| d.concurrency = v.clamp(1.0, 256.0) as u32,
    );
    let (timeout_get, timeout_set) = num(
        |d| d.timeout_secs as f64,
        |d, v| d.timeout_secs = v.clamp(1.0, 3600.0) as u32,
    );
    let (maxchars_get, maxchars_set) = num(
        |d| d.max_text_chars as f64,
        |d, v| d.max_text_chars = v.clamp(50.0, 1_000_000.0) as u32,
    );
    let (repl_get, repl_set) = num(
        |d| d.replications as f64,
        |d, v| d.replications = v.clamp(1.0, 20.0) as u32,
    );
    let (price_in_get, price_in_set) = opt(
        |d| d.price_in_per_m.map(|x| x.to_string()).unwrap_or_default(),
        |d, v| d.price_in_per_m = v.parse::<f64>().ok().filter(|x| *x >= 0.0),
    );
    let (price_out_get, price_out_set) = opt(
        |d| d.price_out_per_m.map(|x| x.to_string()).unwrap_or_default(),
        |d, v| d.price_out_per_m = v.parse::<f64>().ok().filter(|x| *x >= 0.0),
    );
    let provider = Memo::new(move |_| draft.with(|d| d.provider));
    // "auto" or a constraint's id: the select shows the mode and the manual choice.
    let constraint_choice = Memo::new(move |_| {
        draft.with(|d| match d.constraint_mode {
            ConstraintMode::Auto => "auto".to_string(),
            ConstraintMode::Manual => d.constraint.as_str().to_string(),
        })
    });

    view! {
        <div class="fa-card">
            <div class="fa-row">
                <SelectField label="Server" testid="provider" on_change=Callback::new(move |v: String| {
                        if let Some(p) = Provider::parse(&v) {
                            draft.update(|d| {
                                d.provider = p;
                                d.base_url = p.default_base_url().to_string();
                                d.constraint = p.default_constraint();
                                d.capabilities = None;
                                let fresh = EndpointConfig::new("", p, None, None);
                                d.logprobs = fresh.logprobs;
                                d.api_version = fresh.api_version;
                            });
                        }
                    })>
                        {Provider::ALL.into_iter().map(|p| view! {
                            <option value=p.as_str() selected=move || provider.get() == p>{p.label()}</option>
                        }).collect_view()}
                    </SelectField>
                <Show when=move || provider.get() == Provider::Azure>
                    <label class="fa-field fa-field--narrow">
                        <span>"api-version"</span>
                        <input type="text" data-testid="api-version" prop:value=move || draft.with(|d| d.api_version.clone().unwrap_or_default())
                            on:input:target=move |ev| { let v = ev.target().value(); draft.update(|d| d.api_version = (!v.trim().is_empty()).then_some(v)) } />
                    </label>
                </Show>
                <label class="fa-field fa-field--wide">
                    <span>"Base URL"</span>
                    <input type="url" data-testid="base-url" prop:value=base_get on:input:target=move |ev| base_set(ev.target().value()) />
                </label>
            </div>
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Model"</span>
                    <input type="text" list="fa-models" data-testid="model" prop:value=model_get on:input:target=move |ev| model_set(ev.target().value()) />
                    <datalist id="fa-models">
                        {move || models.value().get().and_then(|r| r.ok()).unwrap_or_default().into_iter().map(|m| view! { <option value=m></option> }).collect_view()}
                    </datalist>
                </label>
                <Button label="List models" pending_label="Listing…" pending=models.pending() attr:data-testid="list-models" on_click=move || { models.dispatch(()); } />
                <label class="fa-field">
                    <span>"API key (optional)"</span>
                    <input type="password" autocomplete="off" data-testid="api-key" prop:value=move || state.session_key.get()
                        on:input:target=move |ev| state.session_key.set(ev.target().value()) />
                </label>
                <label class="fa-check">
                    <input type="checkbox" data-testid="logprobs" prop:checked=move || draft.with(|d| d.logprobs)
                        on:change:target=move |ev| draft.update(|d| d.logprobs = ev.target().checked()) />
                    "Confidence from token probabilities (logprobs)"
                </label>
                <label class="fa-check">
                    <input type="checkbox" prop:checked=move || draft.with(|d| d.store_key)
                        on:change:target=move |ev| draft.update(|d| d.store_key = ev.target().checked()) />
                    "Remember the key in this browser"
                </label>
            </div>
            {move || models.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert">{e.user_message()}</p> })}
            <div class="fa-row">
                <label class="fa-field fa-field--narrow">
                    <span>"Temperature"</span>
                    <input type="number" min="0" max="2" step="0.1" data-testid="temperature" prop:value=temp_get on:change:target=move |ev| temp_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"top_p"</span>
                    <input type="number" min="0" max="1" step="0.05" placeholder="server default" prop:value=top_p_get on:change:target=move |ev| top_p_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Seed"</span>
                    <input type="number" min="0" placeholder="none" prop:value=seed_get on:change:target=move |ev| seed_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Requests/min"</span>
                    <input type="number" min="1" placeholder="no limit" data-testid="rpm" prop:value=rpm_get on:change:target=move |ev| rpm_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Max tokens"</span>
                    <input type="number" min="1" prop:value=maxtok_get on:change:target=move |ev| maxtok_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Max tokens (free text)"</span>
                    <input type="number" min="1" prop:value=ftmax_get on:change:target=move |ev| ftmax_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Concurrency"</span>
                    <input type="number" min="1" max="256" data-testid="concurrency" prop:value=conc_get on:change:target=move |ev| conc_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Timeout (s)"</span>
                    <input type="number" min="1" data-testid="timeout" prop:value=timeout_get on:change:target=move |ev| timeout_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Max text chars"</span>
                    <input type="number" min="50" prop:value=maxchars_get on:change:target=move |ev| maxchars_set(ev.target().value()) />
                </label>
                <SelectField label="Answer constraint" testid="constraint" on_change=Callback::new(move |v: String| {
                        draft.update(|d| match Constraint::parse(&v) {
                            Some(c) => { d.constraint_mode = ConstraintMode::Manual; d.constraint = c; }
                            None => {
                                d.constraint_mode = ConstraintMode::Auto;
                                if let Some(caps) = d.capabilities { caps.apply_to(d) }
                            }
                        })
                    })>
                        <option value="auto" selected=move || constraint_choice.get() == "auto">
                            {move || draft.with(|d| format!("Automatic: {}{}", d.constraint.label(), if d.capabilities.is_none() { " (until tested)" } else { "" }))}
                        </option>
                        {Constraint::ALL.into_iter().map(|c| view! {
                            <option value=c.as_str() selected=move || constraint_choice.get() == c.as_str()>{c.label()}</option>
                        }).collect_view()}
                    </SelectField>
                <label class="fa-field fa-field--narrow">
                    <span>"Replications"</span>
                    <input type="number" min="1" max="20" data-testid="replications" prop:value=repl_get on:change:target=move |ev| repl_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Price in / 1M tokens"</span>
                    <input type="number" min="0" step="0.01" placeholder="none" data-testid="price-in" prop:value=price_in_get on:change:target=move |ev| price_in_set(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--narrow">
                    <span>"Price out / 1M tokens"</span>
                    <input type="number" min="0" step="0.01" placeholder="none" data-testid="price-out" prop:value=price_out_get on:change:target=move |ev| price_out_set(ev.target().value()) />
                </label>
            </div>
            <label class="fa-field fa-field--wide">
                <span>"Replicas: more base URLs serving the same model, one per line (requests are spread over all; one that keeps failing rests for 30 s)"</span>
                <textarea rows="2" data-testid="replicas"
                    prop:value=move || draft.with(|d| d.replicas.join("\n"))
                    on:change:target=move |ev| {
                        let v = ev.target().value();
                        draft.update(|d| d.replicas = v.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect());
                    }></textarea>
            </label>
            {move || draft.with(|d| d.concurrency_note()).map(|n| view! { <p class="fa-muted" data-testid="concurrency-note">{n}</p> })}
            {move || draft.with(|d| (d.replications > 1 && d.temperature == 0.0 && d.seed.is_none()).then(|| view! {
                <p class="fa-muted" data-testid="replication-note">"Replications at temperature 0 without a seed usually repeat the same answer; raise the temperature for a meaningful agreement figure."</p>
            }))}
            <label class="fa-field fa-field--wide">
                <span>"System message (optional, sent before every prompt)"</span>
                <textarea rows="2" data-testid="system-prompt"
                    prop:value=move || draft.with(|d| d.system_prompt.clone().unwrap_or_default())
                    on:input:target=move |ev| {
                        let v = ev.target().value();
                        draft.update(|d| d.system_prompt = (!v.trim().is_empty()).then_some(v));
                    }></textarea>
            </label>
            <div class="fa-row">
                <Button tone=Tone::Primary label="Save" pending_label="Saving…" pending=save.pending() attr:data-testid="save-endpoint" on_click=move || { save.dispatch(()); } />
                <Button label="Test connection" pending_label="Testing…" pending=test.pending() attr:data-testid="test-connection" on_click=move || { test.dispatch(()); } />
                <span class="fa-muted">{move || if saved.get() { "Saved" } else { "Not saved yet" }}</span>
            </div>
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert">{e.user_message()}</p> })}
            {move || models.value().get().and_then(|r| r.err()).map(|e| view! { <p class="fa-error" role="alert" data-testid="models-error">{e.user_message()}</p> })}
            {move || test.value().get().map(|r| match r {
                Ok(rep) => view! {
                    <div class="fa-report fa-report--ok" data-testid="connection-ok" role="status">
                        <p><strong>"Connected."</strong>{format!(" Answered in {:.0} ms: \"{}\"", rep.latency_ms, rep.sample_answer.trim())}</p>
                        <p>{match rep.model_listed {
                            None => "The server lists no models.".to_string(),
                            Some(true) => format!("Model found among {} listed: {}", rep.models.len(), rep.models.join(", ")),
                            Some(false) => format!("The model is not among those listed ({}); the server may still accept it.", rep.models.join(", ")),
                        }}</p>
                        <CapabilityReport caps=rep.capabilities />
                        <p>{move || draft.with(|d| match d.constraint_mode {
                            ConstraintMode::Auto => format!("Runs will use: {} (chosen automatically; saved).", d.constraint.label()),
                            ConstraintMode::Manual => format!("Runs will use your choice: {}{} (saved).", d.constraint.label(),
                                if rep.capabilities.honours(d.constraint) { "" } else { ", which this server did not honour in the test" }),
                        })}</p>
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="fa-error" role="alert" data-testid="connection-error">{e.user_message()}</p> }.into_any(),
            })}
        </div>
    }
}

/// What the probe found, one line per mechanism.
#[component]
fn CapabilityReport(
    /// Probe results.
    caps: fannotate_core::records::Capabilities,
) -> impl IntoView {
    let rows = [
        ("guided_choice", "vLLM guided_choice", caps.guided_choice),
        ("grammar", "llama.cpp grammar (GBNF)", caps.grammar),
        (
            "json_schema",
            "response_format with a JSON schema",
            caps.json_schema,
        ),
        (
            "logprobs",
            "token log-probabilities (confidence)",
            caps.logprobs,
        ),
    ];
    view! {
        <table class="fa-table fa-table--compact" data-testid="capabilities">
            <caption>"What this endpoint honours (probed with tiny requests)"</caption>
            <tbody>
                {rows.into_iter().map(|(id, name, ok)| view! {
                    <tr data-testid=format!("cap-{id}")>
                        <th scope="row">{name}</th>
                        <td class=if ok { "fa-ok" } else { "fa-muted" }>{if ok { "yes" } else { "no" }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
