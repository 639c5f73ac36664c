//! Import a CSV/TSV file: pick it, map its columns, store its rows.

mod browse;
mod gold;

use crate::actions::import::{
    import_action, parse_file, read_action, ImportRequest, ImportTiming, ParseProgress, Picked,
};
use crate::components::{when_loaded, Button, ProgressBar, SelectField, Tone};
use crate::error::AppError;
use crate::format::{human_bytes, snippet};
use crate::services::browser::mono_ms;
use crate::services::files::take_picked_file;
use crate::services::importer::{ImportError, ImportProgress};
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::import::{FileFormat, ImportOptions};
use fannotate_core::records::{DatasetMeta, RowRecord};
use fannotate_core::table::{QuoteMode, RaggedRows, TableError, TextEncoding, DELIMITERS};
use fannotate_core::Table;
use leptos::prelude::*;

/// Rows shown in previews.
const PREVIEW_ROWS: u32 = 10;

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

/// The data step: current dataset, or an import form.
#[component]
pub fn DataView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let project_id = move || state.project_id().unwrap_or_default();
    let dataset = LocalResource::new(move || {
        state.track(&[Topic::Dataset]);
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

    // Reading and parsing are derived from the file and the user's overrides, so
    // changing an override re-parses without re-reading. Parsing runs in chunks
    // that yield to the browser: a large file shows progress instead of freezing.
    let read = read_action();
    let options = RwSignal::new(ImportOptions::default());
    let parse_progress = RwSignal::new(None::<ParseProgress>);
    let parsed = LocalResource::new(move || {
        let file = read.value().get();
        let opts = options.get();
        async move {
            match file? {
                Err(e) => Some(Err(e)),
                Ok((name, bytes)) => Some(parse_file(name, bytes, opts, parse_progress).await),
            }
        }
    });
    let picked = Memo::new(move |_| parsed.get().flatten());
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

    let cancel_import = RwSignal::new(false);
    let import_progress = RwSignal::new(None::<ImportProgress>);
    let import = import_action(state, cancel_import, import_progress, move || read.clear());
    let start_import = move || {
        if let Some(Ok(picked)) = picked.get_untracked() {
            import.dispatch(ImportRequest {
                project_id: project_id(),
                picked,
                text_col: text_col.get_untracked(),
                id_col: id_col.get_untracked(),
                gold_col: gold_col.get_untracked(),
            });
        }
    };
    let import_error = move || {
        import
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.user_message())
    };
    let last_timing = move || import.value().get().and_then(|r| r.ok().flatten());

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
            <SelectField label=label testid=testid
                on_change=Callback::new(move |v: String| choice.set(Some(v.parse::<usize>().ok())))>
                    {optional.then(|| view! { <option value="" selected=move || current.get().is_none()>"(none)"</option> })}
                    {columns.into_iter().enumerate().map(|(i, c)| view! {
                        <option value=i.to_string() selected=move || current.get() == Some(i)>{c}</option>
                    }).collect_view()}
            </SelectField>
        }
    };

    view! {
        <section class="fa-view" data-testid="data-view">
            <h2>"Data"</h2>
            {when_loaded(dataset, "Loading…", move |value| match value {
                (None, _) => view! {
                    <p class="fa-empty">"No data yet. Choose a CSV or TSV file with one text per row; a column of known labels (gold) lets you measure the LLM later."</p>
                }.into_any(),
                (Some(meta), rows) => view! {
                    {dataset_summary(meta.clone(), rows)}
                    <browse::DataBrowser meta=meta.clone() />
                    <gold::GoldMapping meta />
                }.into_any(),
                        })}
            <div class="fa-card">
                <h3>"Import a file"</h3>
                <label class="fa-field">
                    <span>"CSV, TSV, Excel (.xlsx) or JSON Lines file"</span>
                    <input type="file" accept=".csv,.tsv,.txt,.xlsx,.jsonl,.ndjson,text/csv,text/tab-separated-values" data-testid="file-input" on:change=on_file />
                </label>
                {move || read.pending().get().then(|| view! { <p class="fa-muted">"Reading file…"</p> })}
                // Built once per import; the bar and the line update in place.
                <Show when=move || parse_progress.with(Option::is_some)>
                    <div data-testid="parse-progress">
                        <ProgressBar done=Signal::derive(move || parse_progress.get().map_or(0, |p| (p.0 / 1024) as u32)) total=Signal::derive(move || parse_progress.get().map_or(0, |p| (p.1 / 1024) as u32)) label="Reading the file" />
                        <p class="fa-muted">{move || parse_progress.get().map(|(done, total, started)| {
                            format!("Reading the file: {} of {}{}", human_bytes(done as f64), human_bytes(total as f64),
                                time_left(done as f64, total as f64, started))
                        })}</p>
                    </div>
                </Show>
                {move || picked.with(|p| match p {
                    None => None,
                    Some(Err(e)) => Some(view! {
                        <p class="fa-error" role="alert" data-testid="import-error">{e.user_message()}</p>
                        // A file the strict reader refuses can still be read, but
                        // only as the user's explicit choice (issue #14).
                        {fixable(e).then(|| read_rules(options))}
                    }.into_any()),
                    Some(Ok(p)) => Some(view! {
                        <div data-testid="import-mapping">
                            <p class="fa-muted" data-testid="file-summary">
                                {summary_line(p)}
                            </p>
                            {format_options(p.imported.format, p.imported.sheets.clone(), p.imported.sheet.clone(), p.imported.table.encoding, p.imported.table.delimiter, options)}
                            {matches!(p.imported.format, FileFormat::Csv | FileFormat::Tsv).then(|| read_rules(options))}
                            {(!p.imported.repairs.is_empty()).then(|| view! {
                                <div class="fa-warning" role="status" data-testid="import-repairs">
                                    <p>"The file was not read exactly as written. Check these rows before importing:"</p>
                                    <ul>{p.imported.repairs.summary().into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                                </div>
                            })}
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
                <div class="fa-row">
                    <Button tone=Tone::Primary label="Import" pending_label="Importing…" attr:data-testid="import-button"
                        pending=import.pending()
                        disabled=Signal::derive(move || !matches!(picked.with(|p| p.as_ref().map(|r| r.is_ok())), Some(true)))
                        on_click=move || start_import() />
                    <Show when=move || import.pending().get()>
                        <Button tone=Tone::Danger label="Cancel import" attr:data-testid="cancel-import" on_click=move || cancel_import.set(true) />
                    </Show>
                </div>
                <Show when=move || import_progress.with(Option::is_some)>
                    <div data-testid="import-progress">
                        <ProgressBar done=Signal::derive(move || import_progress.get().map_or(0, |p| p.done)) total=Signal::derive(move || import_progress.get().map_or(0, |p| p.total)) label="Import progress" />
                        <p class="fa-muted">{move || import_progress.get().map(|p| {
                            format!("Saved {} of {} rows{}", p.done, p.total, time_left(f64::from(p.done), f64::from(p.total), p.started_ms))
                        })}</p>
                    </div>
                </Show>
                {move || last_timing().map(|ImportTiming { rows: n, parse_ms: parse, persist_ms: persist }| view! {
                    <p class="fa-muted" data-testid="import-timing" data-rows=n.to_string() data-parse-ms=parse.to_string() data-persist-ms=persist.to_string()>
                        {format!("Last import: {n} rows, read in {:.1} s, saved in {:.1} s.", parse / 1000.0, persist / 1000.0)}
                    </p>
                })}
            </div>
        </section>
    }
}

/// " · about N s left" for work that started at `started_ms` (monotonic) and has
/// `done` of `total` units behind it; empty before the first unit.
fn time_left(done: f64, total: f64, started_ms: f64) -> String {
    if done <= 0.0 {
        return String::new();
    }
    let elapsed = (mono_ms() - started_ms) / 1000.0;
    format!(" · about {:.0} s left", elapsed * (total - done) / done)
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
                <SelectField label="Sheet" testid="sheet" on_change=Callback::new(move |v: String| options.update(|o| o.sheet = Some(v)))>
                        {sheets.into_iter().map(|s| {
                            let selected = sheet.as_deref() == Some(s.as_str());
                            view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                        }).collect_view()}
                    </SelectField>
            </div>
        }
        .into_any(),
        FileFormat::Jsonl | FileFormat::Csv | FileFormat::Tsv => {
            let text = format != FileFormat::Jsonl;
            view! {
                <div class="fa-row">
                    <SelectField label="Encoding" testid="encoding" on_change=Callback::new(move |v: String| options.update(|o| o.encoding = TextEncoding::parse(&v)))>
                            {TextEncoding::ALL.into_iter().map(|e| view! {
                                <option value=e.as_str() selected=e == encoding>{e.as_str()}</option>
                            }).collect_view()}
                        </SelectField>
                    {text.then(|| view! {
                        <SelectField label="Delimiter" testid="delimiter" on_change=Callback::new(move |v: String| options.update(|o| o.delimiter = v.chars().next()))>
                                {DELIMITERS.into_iter().map(|d| view! {
                                    <option value=d.to_string() selected=d == delimiter>{delimiter_name(d)}</option>
                                }).collect_view()}
                            </SelectField>
                    })}
                </div>
            }
            .into_any()
        }
    }
}

/// Whether the strict reader refused the file for something a lenient choice can read.
fn fixable(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Import(ImportError::Table(
            TableError::Ragged { .. }
                | TableError::StrayQuote { .. }
                | TableError::UnbalancedQuote { .. }
        ))
    )
}

/// How delimited text is read: strict by default, lenient ways by choice.
fn read_rules(options: RwSignal<ImportOptions>) -> impl IntoView {
    view! {
        <div class="fa-row" data-testid="read-rules">
            <SelectField label="Rows with a different number of fields" testid="ragged-rows"
                on_change=Callback::new(move |v: String| { if let Some(r) = RaggedRows::parse(&v) { options.update(|o| o.ragged = r) } })>
                    {RaggedRows::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=move || options.with(|o| o.ragged == r)>{r.label()}</option>
                    }).collect_view()}
            </SelectField>
            <SelectField label="Quotes" testid="quote-mode"
                on_change=Callback::new(move |v: String| { if let Some(q) = QuoteMode::parse(&v) { options.update(|o| o.quotes = q) } })>
                    {QuoteMode::ALL.into_iter().map(|q| view! {
                        <option value=q.as_str() selected=move || options.with(|o| o.quotes == q)>{q.label()}</option>
                    }).collect_view()}
            </SelectField>
        </div>
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
        <div class="fa-scroll" tabindex="0" role="region" aria-label="Preview of the file">
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
