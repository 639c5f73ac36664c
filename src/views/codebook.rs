//! Edit the codebook: attributes, categories, instruction templates. Each save is
//! a new version; the original tool's JSON imports and exports unchanged.

use crate::actions::codebook::{import_action, save_action};
use crate::components::{when_loaded, Button, SelectField, Tone};
use crate::error::AppError;
use crate::services::files::{download, take_picked_file};
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::codebook::{Attribute, AttributeKind, Category, Codebook};
use fannotate_core::diff::{diff_lines, DiffLine};
use fannotate_core::prompt::{render_messages, PromptOptions, Role};
use leptos::prelude::*;

/// Instruction for new attributes.
pub const DEFAULT_INSTRUCTION: &str =
    "Classify the text into exactly one of these categories:\n\n<<categories>>\n\nText:\n<<text>>\n\nAnswer with the category name only.";

fn starter_codebook() -> Codebook {
    Codebook {
        attributes: vec![Attribute::categorical(
            "label",
            DEFAULT_INSTRUCTION,
            vec![Category::new("", ""), Category::new("", "")],
        )],
        ..Default::default()
    }
}

/// The codebook step.
#[component]
pub fn CodebookView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let loaded = LocalResource::new(move || {
        state.track(&[Topic::Codebook]);
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.latest_codebook(pid).await.map_err(AppError::from) }
    });
    view! {
        <section class="fa-view" data-testid="codebook-view">
            <h2>"Codebook"</h2>
            {when_loaded(loaded, "Loading…", move |stored| {
                    let version = stored.as_ref().map_or(0, |v| v.version);
                    let initial = match stored.as_ref().map(|v| v.codebook()) {
                        Some(Ok(cb)) => cb,
                        Some(Err(e)) => {
                            state.error(&e.into());
                            starter_codebook()
                        }
                        None => starter_codebook(),
                    };
                    view! { <CodebookEditor initial version/> }.into_any()
                })}
        </section>
    }
}

/// Editor over a draft copy of the codebook.
#[component]
fn CodebookEditor(
    /// The stored codebook (or a starter one).
    initial: Codebook,
    /// Its version number (0 when never saved).
    version: u32,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = RwSignal::new(initial);
    let selected = RwSignal::new(0usize);
    let n_attrs = Memo::new(move |_| draft.with(|d| d.attributes.len()));
    let sel = move || selected.get().min(n_attrs.get().saturating_sub(1));

    let save = save_action(state, move || draft.get_untracked(), version);
    let save_error = move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.user_message())
    };

    let import = import_action(state, version);
    let import_error = move || {
        import
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.user_message())
    };

    // Field accessors of the selected attribute.
    let attr_get = move |f: fn(&Attribute) -> String| {
        move || draft.with(|d| d.attributes.get(sel()).map(f).unwrap_or_default())
    };
    let attr_set = move |f: fn(&mut Attribute, String)| {
        move |v: String| {
            draft.update(|d| {
                if let Some(a) = d.attributes.get_mut(sel()) {
                    f(a, v)
                }
            })
        }
    };
    let cat_count = Memo::new(move |_| {
        draft.with(|d| d.attributes.get(sel()).map_or(0, |a| a.categories.len()))
    });
    let is_categorical = Memo::new(move |_| {
        draft.with(|d| {
            d.attributes
                .get(sel())
                .is_some_and(|a| a.kind == AttributeKind::Categorical)
        })
    });
    let cat_get = move |i: usize, f: fn(&Category) -> String| {
        move || {
            draft.with(|d| {
                d.attributes
                    .get(sel())
                    .and_then(|a| a.categories.get(i))
                    .map(f)
                    .unwrap_or_default()
            })
        }
    };
    let cat_set = move |i: usize, f: fn(&mut Category, String)| {
        move |v: String| {
            draft.update(|d| {
                if let Some(c) = d
                    .attributes
                    .get_mut(sel())
                    .and_then(|a| a.categories.get_mut(i))
                {
                    f(c, v)
                }
            })
        }
    };
    // The prompt as a run would send it, on a row of the dataset (the endpoint's
    // system message and text cut included).
    let sample = LocalResource::new(move || {
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move {
            let endpoint = storage.endpoint(pid.clone()).await.ok().flatten();
            let rows = match storage.dataset(pid).await.ok().flatten() {
                Some(m) => storage
                    .rows(m.id.clone(), 0, PREVIEW_ROWS)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| (r.id.clone(), r.cell(m.text_col).to_string()))
                    .collect(),
                None => Vec::new(),
            };
            (rows, endpoint)
        }
    });
    let preview_row = RwSignal::new(0usize);
    let preview = Memo::new(move |_| {
        let (rows, endpoint) = sample.get().unwrap_or_default();
        let text = rows
            .get(preview_row.get().min(rows.len().saturating_sub(1)))
            .map(|r| r.1.clone())
            .unwrap_or_else(|| "<the text of a row>".into());
        let opts = PromptOptions {
            max_text_chars: endpoint.as_ref().map(|e| e.max_text_chars as usize),
            system: endpoint.and_then(|e| e.system_prompt),
            ..Default::default()
        };
        draft.with(|d| {
            d.attributes.get(sel()).map(|a| {
                render_messages(a, &text, &opts)
                    .iter()
                    .map(|m| {
                        let who = match m.role {
                            Role::System => "system",
                            Role::User => "user",
                        };
                        format!("── {who} ──\n{}", m.content)
                    })
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
        })
    });
    let preview_choices = move || {
        sample
            .get()
            .map(|(rows, _)| rows.into_iter().map(|r| r.0).collect::<Vec<_>>())
            .unwrap_or_default()
    };

    view! {
        <div class="fa-card">
            <div class="fa-row">
                <SelectField label="Attribute" testid="attribute-select" on_change=Callback::new(move |v: String| selected.set(v.parse().unwrap_or(0)))>
                        {move || draft.with(|d| d.attributes.iter().enumerate().map(|(i, a)| {
                            let name = if a.name.is_empty() { format!("(attribute {})", i + 1) } else { a.name.clone() };
                            view! { <option value=i.to_string() selected=move || sel() == i>{name}</option> }
                        }).collect_view())}
                    </SelectField>
                <button class="fa-btn" data-testid="add-attribute" on:click=move |_| {
                    draft.update(|d| d.attributes.push(Attribute::categorical("", DEFAULT_INSTRUCTION, vec![Category::new("", ""), Category::new("", "")])));
                    selected.set(n_attrs.get_untracked());
                }>"Add attribute"</button>
                <button class="fa-btn fa-btn--danger" disabled=move || { n_attrs.get() <= 1 } on:click=move |_| {
                    draft.update(|d| { let i = sel(); if d.attributes.len() > 1 { d.attributes.remove(i); } });
                    selected.set(0);
                }>"Remove attribute"</button>
            </div>
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Name"</span>
                    <input type="text" data-testid="attribute-name" prop:value=attr_get(|a| a.name.clone())
                        on:input:target=move |ev| attr_set(|a, v| a.name = v)(ev.target().value()) />
                </label>
                <label class="fa-field fa-field--wide">
                    <span>"Description"</span>
                    <input type="text" prop:value=attr_get(|a| a.description.clone())
                        on:input:target=move |ev| attr_set(|a, v| a.description = v)(ev.target().value()) />
                </label>
                <SelectField label="Type" on_change=Callback::new(move |v: String| {
                        let kind = if v == "freetext" { AttributeKind::FreeText } else { AttributeKind::Categorical };
                        draft.update(|d| if let Some(a) = d.attributes.get_mut(sel()) { a.kind = kind });
                    })>
                        <option value="categorical" selected=move || is_categorical.get()>"Categorical"</option>
                        <option value="freetext" selected=move || !is_categorical.get()>"Free text"</option>
                    </SelectField>
            </div>
            <Show when=move || is_categorical.get()>
                <fieldset class="fa-fieldset">
                    <legend>"Categories"</legend>
                    <For each=move || 0..cat_count.get() key=|i| *i let:i>
                        <div class="fa-row fa-category" data-testid="category-row">
                            <input type="text" class="fa-input--icon" aria-label="Icon" placeholder="🙂" prop:value=cat_get(i, |c| c.icon.clone().unwrap_or_default())
                                on:input:target=move |ev| cat_set(i, |c, v| c.icon = (!v.is_empty()).then_some(v))(ev.target().value()) />
                            <input type="text" aria-label="Category name" placeholder="name" data-testid="category-name" prop:value=cat_get(i, |c| c.name.clone())
                                on:input:target=move |ev| cat_set(i, |c, v| c.name = v)(ev.target().value()) />
                            <input type="text" class="fa-input--grow" aria-label="Category description" placeholder="when to choose it" data-testid="category-description" prop:value=cat_get(i, |c| c.description.clone())
                                on:input:target=move |ev| cat_set(i, |c, v| c.description = v)(ev.target().value()) />
                            <button class="fa-btn fa-btn--ghost" aria-label="Remove category" on:click=move |_| {
                                draft.update(|d| if let Some(a) = d.attributes.get_mut(sel()) { if i < a.categories.len() { a.categories.remove(i); } });
                            }>"×"</button>
                        </div>
                    </For>
                    <button class="fa-btn" data-testid="add-category" on:click=move |_| {
                        draft.update(|d| if let Some(a) = d.attributes.get_mut(sel()) { a.categories.push(Category::new("", "")) });
                    }>"Add category"</button>
                </fieldset>
            </Show>
            <label class="fa-field fa-field--wide">
                <span>"Instruction (use <<text>> and <<categories>>)"</span>
                <textarea rows="8" data-testid="instruction" prop:value=attr_get(|a| a.instruction.clone())
                    on:input:target=move |ev| attr_set(|a, v| a.instruction = v)(ev.target().value())></textarea>
            </label>
            <details class="fa-details" open>
                <summary>"Prompt preview (live, as a run sends it)"</summary>
                <SelectField label="On row" testid="preview-row" on_change=Callback::new(move |v: String| preview_row.set(v.parse().unwrap_or(0)))>
                        {move || {
                            let choices = preview_choices();
                            if choices.is_empty() {
                                view! { <option value="0">"(no data yet: a placeholder text)"</option> }.into_any()
                            } else {
                                choices.into_iter().enumerate().map(|(i, id)| view! {
                                    <option value=i.to_string() selected=move || preview_row.get() == i>{id}</option>
                                }).collect_view().into_any()
                            }
                        }}
                    </SelectField>
                <pre class="fa-pre" data-testid="prompt-preview">{move || preview.get().unwrap_or_default()}</pre>
            </details>
            {move || save_error().map(|m| view! { <p class="fa-error" role="alert" data-testid="codebook-error">{m}</p> })}
            {move || import_error().map(|m| view! { <p class="fa-error" role="alert">{m}</p> })}
            <div class="fa-row">
                <Button tone=Tone::Primary label=format!("Save (version {})", version + 1) pending_label="Saving…" attr:data-testid="save-codebook"
                    pending=Signal::derive(move || save.pending().get() || import.pending().get()) on_click=move || { save.dispatch(()); } />
                <label class="fa-btn">
                    "Import codebook JSON"
                    <input type="file" accept=".json,application/json" class="fa-visually-hidden" data-testid="codebook-file"
                        on:change=move |ev| {
                            if let Some(f) = take_picked_file(&ev) { import.dispatch_local(f); }
                        } />
                </label>
                <button class="fa-btn" on:click=move |_| {
                    if let Err(e) = download("codebook.json", "application/json", &draft.get_untracked().to_json()) {
                        state.error(&e.into());
                    }
                }>"Export codebook JSON"</button>
                <span class="fa-muted">{if version == 0 { "Not saved yet".to_string() } else { format!("Saved version: {version}") }}</span>
            </div>
        </div>
        <CodebookVersions />
    }
}

/// Rows offered for the prompt preview.
const PREVIEW_ROWS: u32 = 50;

/// Every saved version, and what changed between two of them.
#[component]
fn CodebookVersions() -> impl IntoView {
    let state = expect_context::<AppState>();
    let versions = LocalResource::new(move || {
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.codebook_versions(pid).await.unwrap_or_default() }
    });
    let from = RwSignal::new(None::<u32>);
    let to = RwSignal::new(None::<u32>);
    // Pretty JSON gives one field per line, so the diff reads field by field.
    let pretty = |json: &str| {
        serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| json.to_string())
    };
    let diff = Memo::new(move |_| {
        let list = versions.get().unwrap_or_default();
        let latest = list.iter().map(|v| v.version).max()?;
        let b = to.get().unwrap_or(latest);
        let a = from.get().unwrap_or(b.saturating_sub(1));
        let text = |n: u32| {
            list.iter()
                .find(|v| v.version == n)
                .map(|v| pretty(&v.json))
        };
        Some((a, b, diff_lines(&text(a)?, &text(b)?)))
    });
    let options = move |current: Box<dyn Fn() -> Option<u32> + Send + Sync>| {
        versions
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let n = v.version;
                let sel = current();
                view! { <option value=n.to_string() selected=sel == Some(n)>{format!("version {n}")}</option> }
            })
            .collect_view()
    };
    view! {
        {move || (versions.get().map_or(0, |v| v.len()) > 1).then(|| view! {
            <div class="fa-card" data-testid="codebook-versions">
                <h3>"Versions"</h3>
                <div class="fa-row">
                    <SelectField label="From" testid="diff-from" on_change=Callback::new(move |v: String| from.set(v.parse().ok()))>
                            {options(Box::new(move || diff.get().map(|d| d.0)))}
                        </SelectField>
                    <SelectField label="To" testid="diff-to" on_change=Callback::new(move |v: String| to.set(v.parse().ok()))>
                            {options(Box::new(move || diff.get().map(|d| d.1)))}
                        </SelectField>
                </div>
                <pre class="fa-pre fa-diff" data-testid="codebook-diff" tabindex="0" aria-label="Differences between the versions">
                    {move || diff.get().map(|(_, _, lines)| {
                        let changed = lines.iter().any(|l| !matches!(l, DiffLine::Same(_)));
                        if !changed {
                            return view! { <span class="fa-muted">"No differences."</span> }.into_any();
                        }
                        lines.into_iter().map(|l| match l {
                            DiffLine::Same(t) => view! { <span class="fa-diff__same">{format!("  {t}\n")}</span> }.into_any(),
                            DiffLine::Removed(t) => view! { <del class="fa-diff__del" data-testid="diff-removed">{format!("- {t}\n")}</del> }.into_any(),
                            DiffLine::Added(t) => view! { <ins class="fa-diff__add" data-testid="diff-added">{format!("+ {t}\n")}</ins> }.into_any(),
                        }).collect_view().into_any()
                    })}
                </pre>
            </div>
        })}
    }
}
