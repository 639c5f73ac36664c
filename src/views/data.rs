//! Import a CSV/TSV file: pick it, map its columns, store its rows.

use super::snippet;
use crate::error::{AppError, ImportError};
use crate::model::{DatasetMeta, RowRecord};
use crate::services::browser::{now_ms, random_id};
use crate::services::files::{read_bytes, take_picked_file};
use crate::state::{AppState, ToastKind};
use fannotate_core::import::{import_file, FileFormat, ImportOptions, Imported};
use fannotate_core::table::{TextEncoding, DELIMITERS};
use fannotate_core::Table;
use leptos::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

/// Rows shown in previews.
const PREVIEW_ROWS: u32 = 10;

/// A read file waiting for its column mapping.
#[derive(Debug, Clone, PartialEq)]
struct Picked {
    name: String,
    imported: Imported,
}

/// Guess the text column: a column named like one, else the longest on average.
fn guess_text_col(t: &Table) -> Option<usize> {
    const NAMES: [&str; 5] = ["text", "input_text", "tekst", "content", "body"];
    if let Some(i) = t
        .columns
        .iter()
        .position(|c| NAMES.contains(&c.to_lowercase().as_str()))
    {
        return Some(i);
    }
    (0..t.columns.len()).max_by_key(|&c| t.rows.iter().take(200).map(|r| r[c].len()).sum::<usize>())
}

fn guess_col(t: &Table, names: &[&str]) -> Option<usize> {
    t.columns
        .iter()
        .position(|c| names.contains(&c.to_lowercase().as_str()))
}

/// Build the stored rows, checking the mapping.
fn build_rows(
    dataset_id: &str,
    t: &Table,
    text_col: Option<usize>,
    id_col: Option<usize>,
) -> Result<Vec<RowRecord>, ImportError> {
    let Some(text_col) = text_col else {
        return Err(ImportError::NoTextColumn);
    };
    if text_col >= t.columns.len() {
        return Err(ImportError::MissingColumn(format!("#{}", text_col + 1)));
    }
    let rows: Vec<RowRecord> = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, cells)| RowRecord {
            dataset_id: dataset_id.to_string(),
            idx: i as u32,
            id: match id_col {
                Some(c) => cells[c].trim().to_string(),
                None => format!("row-{}", i + 1),
            },
            cells: cells.clone(),
        })
        .collect();
    let mut seen = HashSet::new();
    let dups: Vec<&str> = rows
        .iter()
        .filter(|r| !seen.insert(r.id.as_str()))
        .map(|r| r.id.as_str())
        .collect();
    if let Some(first) = dups.first() {
        return Err(ImportError::DuplicateIds {
            count: dups.len(),
            first: first.to_string(),
        });
    }
    Ok(rows)
}

/// The data step: current dataset, or an import form.
#[component]
pub fn DataView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let project_id = move || state.project_id().unwrap_or_default();
    let dataset = LocalResource::new(move || {
        state.revision.track();
        let (storage, pid) = (state.storage(), project_id());
        async move {
            let meta = storage.dataset(pid).await?;
            let rows = match &meta {
                Some(m) => storage.rows(m.id.clone(), 0, PREVIEW_ROWS).await?,
                None => Vec::new(),
            };
            Ok::<_, AppError>((meta, rows))
        }
    });

    // Column choices the user made; `None` falls back to the guess for the file.
    let text_choice = RwSignal::new(None::<Option<usize>>);
    let id_choice = RwSignal::new(None::<Option<usize>>);
    let gold_choice = RwSignal::new(None::<Option<usize>>);

    // Reading the file is the only async step; parsing is derived from the bytes
    // and the user's overrides, so changing an override re-parses without re-reading.
    let read = Action::new_local(move |file: &web_sys::File| {
        let file = file.clone();
        async move {
            let bytes = read_bytes(&file).await?;
            Ok::<_, AppError>((file.name(), Arc::new(bytes)))
        }
    });
    let options = RwSignal::new(ImportOptions::default());
    let picked = Memo::new(move |_| {
        read.value().with(|r| {
            r.as_ref().map(|r| match r {
                Err(e) => Err(e.clone()),
                Ok((name, bytes)) => import_file(name, bytes, &options.get())
                    .map(|imported| Picked {
                        name: name.clone(),
                        imported,
                    })
                    .map_err(|e| AppError::from(ImportError::from(e))),
            })
        })
    });
    // The user's choice, else the guess for the file just read.
    let column = move |choice: RwSignal<Option<Option<usize>>>,
                       guess: fn(&Table) -> Option<usize>| {
        Memo::new(move |_| {
            choice.get().unwrap_or_else(|| {
                picked.with(|p| {
                    p.as_ref()
                        .and_then(|r| r.as_ref().ok())
                        .and_then(|p| guess(&p.imported.table))
                })
            })
        })
    };
    let text_col = column(text_choice, guess_text_col);
    let id_col = column(id_choice, |t| guess_col(t, &["id", "row_id", "uid"]));
    let gold_col = column(gold_choice, |t| {
        guess_col(t, &["label", "gold", "category", "class"])
    });

    let import = Action::new_local(move |_: &()| {
        let storage = state.storage();
        let pid = project_id();
        let picked = picked.get_untracked();
        let (tc, ic, gc) = (
            text_col.get_untracked(),
            id_col.get_untracked(),
            gold_col.get_untracked(),
        );
        async move {
            let Some(Ok(p)) = picked else { return Ok(()) };
            let id = random_id();
            let rows = build_rows(&id, &p.imported.table, tc, ic)?;
            let meta = DatasetMeta {
                id,
                project_id: pid,
                name: p.name.clone(),
                columns: p.imported.table.columns.clone(),
                text_col: tc.unwrap_or(0),
                id_col: ic,
                gold_col: gc,
                row_count: rows.len() as u32,
                encoding: match p.imported.format {
                    FileFormat::Xlsx => "Excel workbook".to_string(),
                    _ => p.imported.table.encoding.as_str().to_string(),
                },
                delimiter: match p.imported.format {
                    FileFormat::Csv | FileFormat::Tsv => p.imported.table.delimiter.to_string(),
                    _ => String::new(),
                },
                imported_at: now_ms(),
            };
            let n = rows.len();
            storage.put_dataset(meta, rows).await?;
            // Now there is data worth keeping: ask the browser not to evict it.
            crate::services::browser::request_persistence().await;
            state.toast(
                ToastKind::Success,
                format!("Imported {n} rows from {}.", p.name),
            );
            read.clear();
            state.touch();
            Ok::<_, AppError>(())
        }
    });
    let import_error = move || {
        import
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.user_message())
    };

    let on_file = move |ev: leptos::ev::Event| {
        if let Some(file) = take_picked_file(&ev) {
            text_choice.set(None);
            id_choice.set(None);
            gold_choice.set(None);
            options.set(ImportOptions::default());
            read.dispatch_local(file);
        }
    };

    let column_select = move |label: &'static str,
                              testid: &'static str,
                              optional: bool,
                              current: Memo<Option<usize>>,
                              choice: RwSignal<Option<Option<usize>>>| {
        let columns = picked
            .with(|p| {
                p.as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .map(|p| p.imported.table.columns.clone())
            })
            .unwrap_or_default();
        view! {
            <label class="fa-field">
                <span>{label}</span>
                <select
                    data-testid=testid
                    on:change:target=move |ev| {
                        let v = ev.target().value();
                        choice.set(Some(v.parse::<usize>().ok()));
                    }
                >
                    {optional.then(|| view! { <option value="" selected=move || current.get().is_none()>"(none)"</option> })}
                    {columns.into_iter().enumerate().map(|(i, c)| view! {
                        <option value=i.to_string() selected=move || current.get() == Some(i)>{c}</option>
                    }).collect_view()}
                </select>
            </label>
        }
    };

    view! {
        <section class="fa-view" data-testid="data-view">
            <h2>"Data"</h2>
            {move || match dataset.get() {
                None => view! { <p class="fa-muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any(),
                Some(Ok((None, _))) => view! {
                    <p class="fa-empty">"No data yet. Choose a CSV or TSV file with one text per row; a column of known labels (gold) lets you measure the LLM later."</p>
                }.into_any(),
                Some(Ok((Some(meta), rows))) => dataset_summary(meta, rows).into_any(),
            }}
            <div class="fa-card">
                <h3>"Import a file"</h3>
                <label class="fa-field">
                    <span>"CSV, TSV, Excel (.xlsx) or JSON Lines file"</span>
                    <input type="file" accept=".csv,.tsv,.txt,.xlsx,.jsonl,.ndjson,text/csv,text/tab-separated-values" data-testid="file-input" on:change=on_file />
                </label>
                {move || read.pending().get().then(|| view! { <p class="fa-muted">"Reading file…"</p> })}
                {move || picked.with(|p| match p {
                    None => None,
                    Some(Err(e)) => Some(view! { <p class="fa-error" role="alert" data-testid="import-error">{e.user_message()}</p> }.into_any()),
                    Some(Ok(p)) => Some(view! {
                        <div data-testid="import-mapping">
                            <p class="fa-muted" data-testid="file-summary">
                                {summary_line(p)}
                            </p>
                            {format_options(p.imported.format, p.imported.sheets.clone(), p.imported.sheet.clone(), p.imported.table.encoding, p.imported.table.delimiter, options)}
                            <div class="fa-row">
                                {column_select("Text column", "text-col", false, text_col, text_choice)}
                                {column_select("Id column", "id-col", true, id_col, id_choice)}
                                {column_select("Gold label column", "gold-col", true, gold_col, gold_choice)}
                            </div>
                            {preview_table(&p.imported.table)}
                        </div>
                    }.into_any()),
                })}
                {move || import_error().map(|m| view! { <p class="fa-error" role="alert" data-testid="import-error">{m}</p> })}
                <button
                    class="fa-btn fa-btn--primary"
                    data-testid="import-button"
                    disabled=move || !matches!(picked.with(|p| p.as_ref().map(|r| r.is_ok())), Some(true)) || import.pending().get()
                    on:click=move |_| { import.dispatch(()); }
                >
                    {move || if import.pending().get() { "Importing…" } else { "Import" }}
                </button>
            </div>
        </section>
    }
}

fn summary_line(p: &Picked) -> String {
    let t = &p.imported.table;
    let how = match p.imported.format {
        FileFormat::Xlsx => format!("Excel sheet {}", p.imported.sheet.as_deref().unwrap_or("")),
        FileFormat::Jsonl => format!("JSON Lines · {}", t.encoding.as_str()),
        FileFormat::Csv | FileFormat::Tsv => format!(
            "{} · delimiter {}",
            t.encoding.as_str(),
            delimiter_name(t.delimiter)
        ),
    };
    format!(
        "{}: {} rows, {} columns · {how}",
        p.name,
        t.rows.len(),
        t.columns.len()
    )
}

/// Pickers that override what was detected: sheet for workbooks, encoding and
/// delimiter for text.
fn format_options(
    format: FileFormat,
    sheets: Vec<String>,
    sheet: Option<String>,
    encoding: TextEncoding,
    delimiter: char,
    options: RwSignal<ImportOptions>,
) -> impl IntoView {
    match format {
        FileFormat::Xlsx => view! {
            <div class="fa-row">
                <label class="fa-field">
                    <span>"Sheet"</span>
                    <select data-testid="sheet" on:change:target=move |ev| options.update(|o| o.sheet = Some(ev.target().value()))>
                        {sheets.into_iter().map(|s| {
                            let selected = sheet.as_deref() == Some(s.as_str());
                            view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </div>
        }
        .into_any(),
        FileFormat::Jsonl | FileFormat::Csv | FileFormat::Tsv => {
            let text = format != FileFormat::Jsonl;
            view! {
                <div class="fa-row">
                    <label class="fa-field">
                        <span>"Encoding"</span>
                        <select data-testid="encoding" on:change:target=move |ev| options.update(|o| o.encoding = TextEncoding::parse(&ev.target().value()))>
                            {TextEncoding::ALL.into_iter().map(|e| view! {
                                <option value=e.as_str() selected=e == encoding>{e.as_str()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    {text.then(|| view! {
                        <label class="fa-field">
                            <span>"Delimiter"</span>
                            <select data-testid="delimiter" on:change:target=move |ev| options.update(|o| o.delimiter = ev.target().value().chars().next())>
                                {DELIMITERS.into_iter().map(|d| view! {
                                    <option value=d.to_string() selected=d == delimiter>{delimiter_name(d)}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    })}
                </div>
            }
            .into_any()
        }
    }
}

fn delimiter_name(d: char) -> String {
    match d {
        '\t' => "tab".into(),
        c => format!("\"{c}\""),
    }
}

fn preview_table(t: &Table) -> impl IntoView {
    let head = t
        .columns
        .iter()
        .map(|c| view! { <th scope="col">{c.clone()}</th> })
        .collect_view();
    let body = t
        .rows
        .iter()
        .take(PREVIEW_ROWS as usize)
        .map(|r| {
            let cells = r
                .iter()
                .map(|c| view! { <td>{snippet(c, 120)}</td> })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <div class="fa-scroll">
            <table class="fa-table">
                <thead><tr>{head}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

fn dataset_summary(meta: DatasetMeta, rows: Vec<RowRecord>) -> impl IntoView {
    let col = |c: Option<usize>| {
        c.and_then(|i| meta.columns.get(i).cloned())
            .unwrap_or_else(|| "(none)".into())
    };
    let text_name = col(Some(meta.text_col));
    let id_name = col(meta.id_col);
    let gold_name = col(meta.gold_col);
    let body = rows
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <td>{r.id.clone()}</td>
                    <td>{snippet(r.cell(meta.text_col), 160)}</td>
                    <td>{meta.gold_col.map(|g| r.cell(g).to_string()).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="fa-card" data-testid="dataset-summary">
            <p>
                <strong data-testid="dataset-rows">{meta.row_count}</strong>
                {format!(" rows from {} · text: {text_name} · id: {id_name} · gold: {gold_name}", meta.name)}
            </p>
            <table class="fa-table">
                <thead><tr><th scope="col">"Id"</th><th scope="col">"Text"</th><th scope="col">"Gold"</th></tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}
