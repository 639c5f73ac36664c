//! One item at a time: the keys, the labels, undo, search and the queues.

use super::*;
use crate::components::SelectField;

/// One human change, to undo.
#[derive(Debug, Clone)]
pub(super) struct Change {
    attribute: String,
    row: u32,
    before: Option<String>,
}

#[component]
pub(super) fn Reviewer(loaded: Loaded) -> impl IntoView {
    let state = expect_context::<AppState>();
    let Loaded {
        meta,
        dataset_id,
        rows,
        text_col,
        attributes,
        llm,
        human,
    } = loaded;
    let attributes = StoredValue::new(attributes);
    let first = attributes.with_value(|a| a.first().map(|a| a.name.clone()).unwrap_or_default());
    let attribute = RwSignal::new(first);
    let queue_kind = RwSignal::new(Queue::All);
    let search = RwSignal::new(String::new());
    let blind = RwSignal::new(false);
    let human = RwSignal::new(human);
    let undo = RwSignal::new(Vec::<Change>::new());
    let pos = RwSignal::new(0usize);
    let validation = RwSignal::new(meta.validation.clone());
    let meta = StoredValue::new(meta);
    let (rows_q, llm_q) = (rows.clone(), llm.clone());
    // Arena handles keep the closures below `Copy`.
    let rows_sv = StoredValue::new(rows.clone());
    let llm_sv = StoredValue::new(llm);
    // The queue is fixed when its filter changes, not when a label is given, so
    // labelling moves on to the next item instead of reshuffling the list.
    let queue = Memo::new(move |_| {
        let (attr, kind, needle) = (
            attribute.get(),
            queue_kind.get(),
            search.get().to_lowercase(),
        );
        let answers = llm_q.get(&attr);
        let set = validation.get();
        human.with_untracked(|h| {
            rows_q
                .iter()
                .filter(|r| {
                    let a = answers.and_then(|m| m.get(&r.idx));
                    kind.admits(a, h.get(&(attr.clone(), r.idx)).map(String::as_str))
                        && (kind != Queue::Validation
                            || set.as_ref().is_some_and(|v| v.contains(r.idx)))
                        && (needle.is_empty()
                            || r.cell(text_col).to_lowercase().contains(&needle)
                            || r.id.to_lowercase().contains(&needle))
                })
                .map(|r| r.idx as usize)
                .collect::<Vec<usize>>()
        })
    });
    // A new queue starts at its first item.
    let reset = move || pos.set(0);
    let current = move || queue.with(|q| q.get(pos.get().min(q.len().saturating_sub(1))).copied());
    let attr_def = move || {
        let name = attribute.get();
        attributes.with_value(|a| a.iter().find(|x| x.name == name).cloned())
    };
    let ds = StoredValue::new(dataset_id);
    // Labels are saved in the order given; a label whose write fails is taken
    // back on screen (unless the item was labelled again meanwhile).
    let save = Action::new_local(move |(change, before): &(LabelChange, Option<String>)| {
        let (change, before) = (change.clone(), before.clone());
        async move {
            if let Err(e) = save_label(state, &change).await {
                let key = (change.attribute.clone(), change.row);
                human.update(|h| {
                    if h.get(&key) == change.value.as_ref() {
                        match before {
                            Some(b) => h.insert(key, b),
                            None => h.remove(&key),
                        };
                    }
                });
                state.error(&e);
            }
        }
    });

    // Store (or clear) the human label of the current item for `attr`.
    let set_label = move |attr: String, row: u32, value: Option<String>, record: bool| {
        let before = human.with_untracked(|h| h.get(&(attr.clone(), row)).cloned());
        if before == value {
            return;
        }
        human.update(|h| match &value {
            Some(v) => {
                h.insert((attr.clone(), row), v.clone());
            }
            None => {
                h.remove(&(attr.clone(), row));
            }
        });
        if record {
            undo.update(|u| {
                u.push(Change {
                    attribute: attr.clone(),
                    row,
                    before: before.clone(),
                })
            });
        }
        let row_id = rows_sv.with_value(|r| {
            r.get(row as usize)
                .map(|r| r.id.clone())
                .unwrap_or_default()
        });
        let change = LabelChange {
            dataset: ds.get_value(),
            row,
            row_id,
            attribute: attr,
            value,
        };
        save.dispatch_local((change, before));
    };
    let advance = move || {
        let n = queue.with_untracked(Vec::len);
        pos.update(|p| *p = (*p + 1).min(n.saturating_sub(1)));
    };
    let label_current = move |value: String| {
        if let Some(row) = current() {
            set_label(attribute.get_untracked(), row as u32, Some(value), true);
            advance();
        }
    };
    let suggestion = move || {
        let row = current()? as u32;
        llm_sv.with_value(|l| l.get(&attribute.get())?.get(&row).cloned())
    };
    // Take the last human change back and show the item it touched (U and the button).
    let undo_last = move || {
        if let Some(c) = undo.try_update(|u| u.pop()).flatten() {
            set_label(c.attribute.clone(), c.row, c.before, false);
            if let Some(i) = queue.with_untracked(|q| q.iter().position(|&r| r == c.row as usize)) {
                pos.set(i);
            }
        }
    };
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let pane_ref = NodeRef::<leptos::html::Div>::new();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // Typing in a field is typing, not a command (Escape leaves the field).
        let in_field = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if in_field {
            if ev.key() == "Escape" {
                // Back to the pane, not to the page body, so the keys go on working.
                if let Some(pane) = pane_ref.get_untracked() {
                    let _ = pane.focus();
                }
            }
            return;
        }
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let key = ev.key();
        let handled = match key.as_str() {
            "ArrowRight" | "j" | "J" => {
                advance();
                true
            }
            "ArrowLeft" | "k" | "K" => {
                pos.update(|p| *p = p.saturating_sub(1));
                true
            }
            "Enter" => {
                if let Some(v) = suggestion()
                    .and_then(|a| a.value)
                    .filter(|_| !blind.get_untracked())
                {
                    label_current(v);
                }
                true
            }
            "u" | "U" => {
                undo_last();
                true
            }
            "/" => {
                if let Some(el) = search_ref.get() {
                    let _ = el.focus();
                }
                true
            }
            k if k.len() == 1 && k.as_bytes()[0].is_ascii_digit() && k != "0" => {
                let n = (k.as_bytes()[0] - b'1') as usize;
                if let Some(c) = attr_def()
                    .filter(|a| a.kind == AttributeKind::Categorical)
                    .and_then(|a| a.categories.get(n).cloned())
                {
                    label_current(c.name);
                }
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    };
    let on_key = std::rc::Rc::new(on_key);
    // Focus can still land on the page body (a click on empty space, a closed
    // dialog): keys typed there are meant for Review too (issue #14), as long as
    // Review is shown, which is as long as this listener lives.
    let on_body = on_key.clone();
    let body_keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let at_body = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "BODY" | "HTML"));
        if at_body {
            on_body(ev);
        }
    });
    on_cleanup(move || body_keys.remove());
    let reviewed = move || {
        let attr = attribute.get();
        human.with(|h| h.keys().filter(|(a, _)| *a == attr).count())
    };
    let total_rows = rows.len();

    view! {
        <div class="fa-card fa-review" tabindex="0" data-testid="review-pane" node_ref=pane_ref on:keydown=move |ev| on_key(ev)
            aria-label="Review. Keys: 1 to 9 pick a category, Enter accepts the suggestion, arrows or J and K move, U undoes, slash searches.">
            <div class="fa-row">
                <SelectField label="Attribute" testid="review-attribute" on_change=Callback::new(move |v: String| { attribute.set(v); reset() })>
                        {attributes.get_value().into_iter().map(|a| { let n = a.name.clone(); view! {
                            <option value=a.name.clone() selected=move || attribute.get() == n>{a.name.clone()}</option>
                        }}).collect_view()}
                    </SelectField>
                <SelectField label="Queue" testid="review-queue" on_change=Callback::new(move |v: String| { if let Some(q) = Queue::parse(&v) {
                        // Gold labels for validation should not be anchored by the model's.
                        if q == Queue::Validation { blind.set(true) }
                        queue_kind.set(q);
                        reset()
                    } })>
                        {Queue::ALL.into_iter().map(|q| view! { <option value=q.as_str() selected=move || queue_kind.get() == q>{q.label()}</option> }).collect_view()}
                    </SelectField>
                <label class="fa-field">
                    <span>"Search (/)"</span>
                    <input type="search" node_ref=search_ref data-testid="review-search" prop:value=move || search.get()
                        on:change:target=move |ev| { search.set(ev.target().value()); reset() } />
                </label>
                <label class="fa-check">
                    <input type="checkbox" data-testid="review-blind" prop:checked=move || blind.get() on:change:target=move |ev| blind.set(ev.target().checked()) />
                    "Blind: hide the model's answer (for unbiased gold labels)"
                </label>
            </div>
            <ValidationPanel meta validation attribute rows=rows_sv />
            <p class="fa-muted" data-testid="review-progress">
                {move || {
                    let n = queue.with(Vec::len);
                    let at = if n == 0 { 0 } else { pos.get().min(n - 1) + 1 };
                    format!("Item {at} of {n} in this queue · {} of {total_rows} rows have a human label for {}", reviewed(), attribute.get())
                }}
            </p>
            {move || match current() {
                None => view! { <p class="fa-empty" data-testid="review-empty">"Nothing in this queue. Pick another queue or attribute."</p> }.into_any(),
                Some(i) => {
                    let r = rows_sv.with_value(|rows| rows[i].clone());
                    let attr = attribute.get();
                    let mine = human.with(|h| h.get(&(attr.clone(), r.idx)).cloned());
                    let sug = suggestion();
                    let def = attr_def();
                    view! {
                        <article class="fa-review__item" data-testid="review-item" data-row=r.idx.to_string() aria-label=format!("Item {}", r.id)>
                            <header class="fa-row">
                                <span><span class="fa-muted">"Row id "</span><strong data-testid="review-id">{r.id.clone()}</strong></span>
                                <span class="fa-muted">{format!("row {}", r.idx + 1)}</span>
                            </header>
                            <div class="fa-review__text" data-testid="review-text" tabindex="0" role="region" aria-label="Item text">{r.cell(text_col).to_string()}</div>
                            <dl class="fa-stats">
                                <div>
                                    <dt>"Human"</dt>
                                    <dd><span class="fa-label fa-label--human" data-testid="review-human">{mine.clone().unwrap_or_else(|| "–".into())}</span></dd>
                                </div>
                                {(!blind.get()).then(|| view! {
                                    <div>
                                        <dt>"Model"</dt>
                                        <dd>{match &sug {
                                            Some(a) if a.status == AnnotationStatus::Valid => view! { <span class="fa-label fa-label--llm" data-testid="review-llm">{a.value.clone().unwrap_or_default()}</span> }.into_any(),
                                            Some(a) => view! { <span class="fa-label fa-label--invalid" data-testid="review-llm">{if a.status == AnnotationStatus::Invalid { "invalid" } else { "failed" }}</span> }.into_any(),
                                            None => view! { <span class="fa-muted" data-testid="review-llm">"no run yet"</span> }.into_any(),
                                        }}</dd>
                                    </div>
                                    <div><dt>"Confidence"</dt><dd data-testid="review-confidence">{sug.as_ref().and_then(|a| a.confidence).map_or("–".to_string(), |c| format!("{:.0} %", c * 100.0))}</dd></div>
                                    <div><dt>"Raw answer"</dt><dd class="fa-mono" data-testid="review-raw">{sug.as_ref().map(|a| a.raw.clone()).unwrap_or_default()}</dd></div>
                                })}
                            </dl>
                            {match def {
                                Some(d) if d.kind == AttributeKind::Categorical => view! {
                                    <div class="fa-row" role="group" aria-label="Categories">
                                        {d.categories.iter().enumerate().map(|(k, c)| {
                                            let name = c.name.clone();
                                            let chosen = mine.as_deref() == Some(c.name.as_str());
                                            view! {
                                                <button class=if chosen { "fa-btn fa-btn--primary" } else { "fa-btn" } data-testid="review-category" aria-pressed=chosen.to_string()
                                                    on:click=move |_| label_current(name.clone())>
                                                    {(k < 9).then(|| format!("{} ", k + 1))}{c.icon.clone().map(|i| format!("{i} ")).unwrap_or_default()}{c.name.clone()}
                                                </button>
                                            }
                                        }).collect_view()}
                                        <button class="fa-btn" data-testid="review-accept" disabled=move || blind.get() || suggestion().and_then(|a| a.value).is_none()
                                            on:click=move |_| if let Some(v) = suggestion().and_then(|a| a.value) { label_current(v) }>"Enter: accept the model's label"</button>
                                    </div>
                                }.into_any(),
                                _ => {
                                    let draft = RwSignal::new(mine.clone().or_else(|| sug.as_ref().and_then(|a| a.value.clone()).filter(|_| !blind.get_untracked())).unwrap_or_default());
                                    view! {
                                        <label class="fa-field fa-field--wide">
                                            <span>"Your text (Ctrl+Enter saves)"</span>
                                            <textarea rows="4" data-testid="review-freetext" prop:value=move || draft.get()
                                                on:input:target=move |ev| draft.set(ev.target().value())
                                                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) { ev.prevent_default(); label_current(draft.get_untracked()) }></textarea>
                                        </label>
                                        <button class="fa-btn fa-btn--primary" data-testid="review-save-text" on:click=move |_| label_current(draft.get_untracked())>"Save"</button>
                                    }.into_any()
                                }
                            }}
                        </article>
                    }.into_any()
                }
            }}
            <div class="fa-row">
                <button class="fa-btn" data-testid="review-prev" on:click=move |_| pos.update(|p| *p = p.saturating_sub(1))>"← Previous (K)"</button>
                <button class="fa-btn" data-testid="review-next" on:click=move |_| advance()>"Next (J) →"</button>
                <button class="fa-btn" data-testid="review-undo" disabled=move || undo.with(Vec::is_empty)
                    on:click=move |_| undo_last()>"Undo (U)"</button>
            </div>
        </div>
    }
}
