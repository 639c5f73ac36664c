//! Edit the codebook: attributes, categories, instruction templates. Each save is
//! a new version; the original tool's JSON imports and exports unchanged.

use crate::error::{AppError, ImportError};
use crate::model::CodebookVersion;
use crate::services::browser::now_ms;
use crate::services::files::{download, read_bytes, take_picked_file};
use crate::state::{AppState, ToastKind};
use fannotate_core::codebook::{Attribute, AttributeKind, Category, Codebook};
use fannotate_core::prompt::{render_prompt, PromptOptions};
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
        state.revision.track();
        let (storage, pid) = (state.storage(), state.project_id().unwrap_or_default());
        async move { storage.latest_codebook(pid).await.map_err(AppError::from) }
    });
    view! {
        <section class="fa-view" data-testid="codebook-view">
            <h2>"Codebook"</h2>
            {move || match loaded.get() {
                None => view! { <p class="fa-muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Some(Ok(stored)) => {
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
                }
            }}
        </section>
    }
}

/// Save a codebook as the project's next version after validating it.
async fn save_version(state: AppState, cb: Codebook, version: u32) -> Result<(), AppError> {
    cb.validate()?;
    let pid = state.project_id().unwrap_or_default();
    let v = CodebookVersion {
        project_id: pid,
        version: version + 1,
        saved_at: now_ms(),
        json: cb.to_json(),
    };
    state.storage().put_codebook(v).await?;
    state.toast(
        ToastKind::Success,
        format!("Codebook saved as version {}.", version + 1),
    );
    state.touch();
    Ok(())
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

    let save = Action::new_local(move |_: &()| save_version(state, draft.get_untracked(), version));
    let save_error = move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.user_message())
    };

    let import = Action::new_local(move |file: &web_sys::File| {
        let file = file.clone();
        async move {
            let bytes = read_bytes(&file).await?;
            let text = String::from_utf8(bytes)
                .map_err(|_| ImportError::Read("the codebook file is not UTF-8 text".into()))?;
            let cb = Codebook::from_json(&text)?;
            save_version(state, cb, version).await
        }
    });
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
    let preview = Memo::new(move |_| {
        draft.with(|d| {
            d.attributes
                .get(sel())
                .map(|a| render_prompt(a, "<the text of a row>", &PromptOptions::default()))
        })
    });

    view! {
        <div class="fa-card">
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Attribute"</span>
                    <select data-testid="attribute-select" on:change:target=move |ev| selected.set(ev.target().value().parse().unwrap_or(0))>
                        {move || draft.with(|d| d.attributes.iter().enumerate().map(|(i, a)| {
                            let name = if a.name.is_empty() { format!("(attribute {})", i + 1) } else { a.name.clone() };
                            view! { <option value=i.to_string() selected=move || sel() == i>{name}</option> }
                        }).collect_view())}
                    </select>
                </label>
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
                <label class="fa-field">
                    <span>"Type"</span>
                    <select on:change:target=move |ev| {
                        let kind = if ev.target().value() == "freetext" { AttributeKind::FreeText } else { AttributeKind::Categorical };
                        draft.update(|d| if let Some(a) = d.attributes.get_mut(sel()) { a.kind = kind });
                    }>
                        <option value="categorical" selected=move || is_categorical.get()>"Categorical"</option>
                        <option value="freetext" selected=move || !is_categorical.get()>"Free text"</option>
                    </select>
                </label>
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
            <details class="fa-details">
                <summary>"Prompt preview"</summary>
                <pre class="fa-pre" data-testid="prompt-preview">{move || preview.get().unwrap_or_default()}</pre>
            </details>
            {move || save_error().map(|m| view! { <p class="fa-error" role="alert" data-testid="codebook-error">{m}</p> })}
            {move || import_error().map(|m| view! { <p class="fa-error" role="alert">{m}</p> })}
            <div class="fa-row">
                <button class="fa-btn fa-btn--primary" data-testid="save-codebook" disabled=move || save.pending().get()
                    on:click=move |_| { save.dispatch(()); }>
                    {format!("Save (version {})", version + 1)}
                </button>
                <label class="fa-btn">
                    "Import codebook JSON"
                    <input type="file" accept=".json,application/json" class="fa-visually-hidden" data-testid="codebook-file"
                        on:change=move |ev| {
                            if let Some(f) = take_picked_file(&ev) { import.dispatch_local(f); }
                        } />
                </label>
                <button class="fa-btn" on:click=move |_| {
                    if let Err(e) = download("codebook.json", "application/json", &draft.get_untracked().to_json()) {
                        state.toast(ToastKind::Error, format!("Download failed: {e}"));
                    }
                }>"Export codebook JSON"</button>
                <span class="fa-muted">{if version == 0 { "Not saved yet".to_string() } else { format!("Saved version: {version}") }}</span>
            </div>
        </div>
    }
}
