//! Distil: train a small, fast classifier (the student) on an LLM run's labels
//! in the compute worker, never on the validation rows, and compare it with
//! the LLM on the gold labels, on time and cost per day as well as accuracy.

use crate::actions::aggregate::combine_action;
use crate::components::{
    when_loaded, Bar, BarChart, Button, CombineChoice, CombineRuns, CurvePoint, LearningCurve,
    RefLine, SelectField, Tone,
};
use crate::data::codebook::run_attribute;
use crate::data::job::{stop_on_cleanup, JobState};
use crate::error::AppError;
use crate::format::{duration_text, format_date, pct};
use crate::services::browser::{mono_ms, now_ms};
use crate::services::export::ExportFormat;
use crate::services::files::download_bytes;
use crate::state::{AppState, ToastKind, Topic};
use fannotate_core::metrics::Interval;
use fannotate_core::projection::{project, ProjectionInput};
use fannotate_core::records::{run_source, AnnotationStatus, RunRecord, StudentMeasure};
use fannotate_core::student::distil::{
    distil, distil_steps, training_set, DistilInput, DistilReport, Scored, TRAINING_SET_COLUMNS,
};
use leptos::prelude::*;

/// Texts a day the projection is for (the seed's customer-service calls).
const DAILY_VOLUME: u64 = 6500;
/// Seed of the subsets, folds and bootstrap, so a retrain gives the same figures.
const SEED: u64 = 42;

/// A run's labels, ready to distil.
#[derive(Debug, Clone, PartialEq)]
struct Source {
    run: RunRecord,
    input: DistilInput,
    /// Row ids, for the training set.
    ids: Vec<String>,
    /// The run's confidence per row.
    confidence: Vec<Option<f64>>,
    /// (latency ms, tokens in, tokens out) of the run's answers.
    answers: Vec<(f64, u32, u32)>,
}

impl Source {
    fn teacher_name(&self) -> String {
        run_source(&self.run.id)
    }
}

/// What the screen shows before training.
#[derive(Debug, Clone, PartialEq)]
struct Loaded {
    /// Runs of categorical attributes on the current dataset.
    runs: Vec<RunRecord>,
    /// The chosen one's labels (`None` when the project has no such run).
    source: Option<Source>,
}

async fn load(state: AppState, choice: Option<String>) -> Result<Option<Loaded>, AppError> {
    let storage = state.storage();
    let pid = state.project_id().unwrap_or_default();
    let Some(meta) = storage.dataset(pid.clone()).await? else {
        return Ok(None);
    };
    let runs: Vec<RunRecord> = storage
        .runs(pid)
        .await?
        .into_iter()
        .filter(|r| r.dataset_id == meta.id && !r.free_text)
        .collect();
    let Some(run) = choice
        .and_then(|id| runs.iter().find(|r| r.id == id))
        .or(runs.first())
        .cloned()
    else {
        return Ok(Some(Loaded { runs, source: None }));
    };
    let Some(attribute) = run_attribute(&*storage, &run).await? else {
        return Ok(Some(Loaded { runs, source: None }));
    };
    let classes: Vec<String> = attribute
        .category_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let code = |label: &str| classes.iter().position(|c| c == label).map(|i| i as u32);
    let rows = state.rows(&meta).await?;
    let rows: Vec<_> = rows.iter().filter(|r| run.has_row(r.idx)).collect();
    let position: std::collections::HashMap<u32, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.idx, i)).collect();
    let mut teacher = vec![None; rows.len()];
    let mut confidence = vec![None; rows.len()];
    let mut answers = Vec::new();
    for a in storage
        .annotations(meta.id.clone(), run_source(&run.id))
        .await?
    {
        if a.attribute != run.attribute {
            continue;
        }
        // A combined run sent no request: its time and cost are its runs'.
        if a.status != AnnotationStatus::Error && run.aggregate.is_none() {
            answers.push((a.latency_ms, a.tokens_in, a.tokens_out));
        }
        if let (Some(&i), AnnotationStatus::Valid) = (position.get(&a.row), a.status) {
            teacher[i] = a.value.as_deref().and_then(code);
            confidence[i] = a.confidence;
        }
    }
    let gold_col = meta.gold_for(&run.attribute);
    let gold = rows
        .iter()
        .map(|r| {
            gold_col
                .and_then(|g| attribute.match_label(r.cell(g)))
                .and_then(code)
        })
        .collect();
    let source = Source {
        input: DistilInput {
            classes,
            texts: rows
                .iter()
                .map(|r| r.cell(meta.text_col).to_string())
                .collect(),
            teacher,
            gold,
            seed: SEED,
        },
        ids: rows.iter().map(|r| r.id.clone()).collect(),
        confidence,
        answers,
        run,
    };
    Ok(Some(Loaded {
        runs,
        source: Some(source),
    }))
}

/// Where training stands.
type Training = JobState<Box<DistilReport>>;

/// The distil step.
#[component]
pub fn DistilView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let choice = RwSignal::new(None::<String>);
    let data = LocalResource::new(move || {
        state.track(&[
            Topic::Dataset,
            Topic::Codebook,
            Topic::Runs,
            Topic::Annotations,
        ]);
        load(state, choice.get())
    });
    view! {
        <section class="fa-view" data-testid="distil-view">
            <h2>"Distil"</h2>
            <p class="fa-muted">"Train a small classifier on the LLM's labels and see whether it can replace the LLM: how accurate it is on your gold labels, how many labels it needs, and what it saves per day. It trains here, in a background worker; nothing leaves the browser."</p>
            {when_loaded(data, "Loading…", move |loaded| match loaded {
                None => view! { <p class="fa-empty">"Import a dataset first (the Data step)."</p> }.into_any(),
                Some(Loaded { source: None, .. }) => view! { <p class="fa-empty" data-testid="distil-empty">"No run of a categorical attribute yet. Label the data with a run first (the Run step); the student learns from its labels."</p> }.into_any(),
                Some(Loaded { runs, source: Some(source) }) => distil_panel(state, runs, source, choice).into_any(),
            })}
        </section>
    }
}

/// The runs Combine offers: single runs (a combination is not combined again).
fn combine_choices(runs: &[RunRecord]) -> Vec<CombineChoice> {
    runs.iter()
        .filter(|r| r.aggregate.is_none())
        .map(|r| CombineChoice {
            id: r.id.clone(),
            attribute: r.attribute.clone(),
            label: format!(
                "{} · {} · {}",
                r.attribute,
                r.configuration(),
                format_date(r.started_at)
            ),
        })
        .collect()
}

fn distil_panel(
    state: AppState,
    runs: Vec<RunRecord>,
    source: Source,
    choice: RwSignal<Option<String>>,
) -> impl IntoView {
    let input = &source.input;
    let (n_train, n_gold) = (input.train_rows().len(), input.n_gold());
    let run_id = source.run.id.clone();
    let runs_all = runs.clone();
    let combine = combine_action(state, Callback::new(move |id: String| choice.set(Some(id))));
    let training = RwSignal::new(Training::Idle);
    let source = StoredValue::new_local(source);
    let start = Callback::new(move |()| {
        training.set(Training::Running(0, distil_steps()));
        let worker = state.worker();
        let (input, run_id_now) = source.with_value(|s| (s.input.clone(), s.run.id.clone()));
        leptos::task::spawn_local(async move {
            let progress = move |done, total| {
                training.try_set(Training::Running(done, total));
            };
            let result = worker.distil(&input, progress).await.map(Box::new);
            let on_page = || {
                Some(
                    distil(&input, &mut |_, _| {}, &mono_ms)
                        .map(Box::new)
                        .map_err(|e| format!("The student could not be trained: {e}.")),
                )
            };
            if let Some(next) = Training::settle(result, on_page) {
                if let Training::Done(report, _) = &next {
                    remember_student(state, run_id_now, report).await;
                }
                training.try_set(next);
            }
        });
    });
    let cancel = Callback::new(move |()| state.worker().cancel());
    stop_on_cleanup(state.worker, training);
    let export_set = move |format: ExportFormat| {
        source.with_value(|s| {
            let header: Vec<String> = TRAINING_SET_COLUMNS.iter().map(|c| c.to_string()).collect();
            let rows = training_set(&s.input, &s.ids, &s.confidence, &s.teacher_name());
            let bytes = format.encode("training set", &header, &rows);
            let name = format!("training-set-{}.{}", s.run.attribute, format.extension());
            if let Err(e) = download_bytes(&name, format.mime(), &bytes) {
                state.toast(ToastKind::Error, AppError::from(e).user_message());
            }
        })
    };
    let can_train = n_train > 0 && n_gold > 0;
    view! {
        <div class="fa-card">
            {(runs.len() > 1).then(|| view! {
                <SelectField label="Learn from run" testid="distil-run" on_change=Callback::new(move |v: String| choice.set(Some(v)))>
                    {runs.iter().map(|r| {
                        let label = format!("{} · {} · {}", r.attribute, r.configuration(), format_date(r.started_at));
                        view! { <option value=r.id.clone() selected=r.id == run_id>{label}</option> }
                    }).collect_view()}
                </SelectField>
            })}
            <p data-testid="distil-split" data-train=n_train.to_string() data-gold=n_gold.to_string()>
                {format!("The student trains on the {n_train} rows this run labelled that have no gold label. The {n_gold} rows with a gold label are held out of training: both the student and the LLM are scored on them.")}
            </p>
            {(!can_train).then(|| view! {
                <p class="fa-empty" data-testid="distil-blocked">{if n_gold == 0 {
                    "There are no gold labels to score the student on: import a gold column, or label rows in the Review step."
                } else {
                    "Every labelled row has a gold label, so none is left to train on: run the LLM on more rows first."
                }}</p>
            })}
            <div class="fa-row">
                <Button tone=Tone::Primary label="Train student" pending_label="Training…"
                    pending=Signal::derive(move || matches!(training.get(), Training::Running(..)))
                    disabled=!can_train attr:data-testid="distil-train" on_click=move || start.run(()) />
                <Button label="Download training set (JSONL)" attr:data-testid="distil-export-jsonl" disabled=!can_train on_click=move || export_set(ExportFormat::Jsonl) />
                <Button label="Download training set (CSV)" attr:data-testid="distil-export-csv" disabled=!can_train on_click=move || export_set(ExportFormat::Csv) />
            </div>
            <TrainingStatus training cancel retry=start />
        </div>
        <CombineRuns choices=combine_choices(&runs_all) on_combine=Callback::new(move |args| { combine.dispatch(args); }) pending=combine.pending()
            intro="Several configurations' labels, made into one run: a majority vote, or Dawid–Skene, which weighs each run by how often it agrees with the others. The combined run is stored like any other, so the Results step scores it and the student can learn from it." />
        {move || match training.get() {
            Training::Done(report, _) => source.with_value(|s| report_view(state, s, &report)).into_any(),
            _ => ().into_any(),
        }}
    }
}

/// Keep what the student measured with the project, for the Experiments
/// projection. The open project is updated without notifying its readers: the
/// workspace follows the project, and this screen must not be rebuilt.
async fn remember_student(state: AppState, run_id: String, report: &DistilReport) {
    let measure = StudentMeasure {
        run_id,
        n_train: report.n_train,
        accuracy: report.student.accuracy,
        items_per_s: report.score_items_per_s,
        trained_at: now_ms(),
    };
    let Some(mut project) = state.project.get_untracked() else {
        return;
    };
    project.student = Some(measure);
    match state.storage().put_project(project.clone()).await {
        Ok(()) => state.project.update_untracked(|p| *p = Some(project)),
        Err(e) => state.toast(ToastKind::Error, AppError::from(e).user_message()),
    }
}

/// Progress with Cancel, or what became of the last training.
#[component]
fn TrainingStatus(
    /// Where training stands.
    training: RwSignal<Training>,
    /// Stops the training.
    cancel: Callback<()>,
    /// Starts it again.
    retry: Callback<()>,
) -> impl IntoView {
    move || {
        match training.get() {
        Training::Idle => ().into_any(),
        Training::Running(done, total) => view! {
            <div class="fa-row" data-testid="distil-status" data-state="running">
                <p class="fa-muted" role="status">{format!("Training in the background: step {done} of {total} (features, four learning-curve fits, five folds on the human labels, timing).")}</p>
                <Button label="Cancel" attr:data-testid="distil-cancel" on_click=move || cancel.run(()) />
            </div>
        }.into_any(),
        Training::Done(report, on_page) => view! {
            <p class="fa-muted" data-testid="distil-status" data-state="done">
                {format!("Trained on {} rows in {} Newton steps.", report.n_train, report.fit.iterations)}
                {on_page.map(|why| format!(" Trained on the page: {why}."))}
            </p>
        }.into_any(),
        Training::Cancelled => view! {
            <p class="fa-muted" data-testid="distil-status" data-state="cancelled">"Training cancelled."</p>
        }.into_any(),
        Training::Failed(message) => view! {
            <div class="fa-row" data-testid="distil-status" data-state="failed">
                <p class="fa-error" role="alert">{message}</p>
                <Button label="Retry" attr:data-testid="distil-retry" on_click=move || retry.run(()) />
            </div>
        }.into_any(),
    }
    }
}

fn ci(i: Option<Interval>, as_pct: bool) -> String {
    crate::format::ci_text(i, as_pct)
}

/// One row of the comparison table.
fn scored_row(name: String, testid: &'static str, s: &Scored) -> impl IntoView {
    view! {
        <tr data-testid=testid data-accuracy=s.accuracy.to_string()>
            <th scope="row">{name}</th>
            <td>{s.n.to_string()}</td>
            <td>{pct(s.accuracy)}<span class="fa-ci">{ci(s.cis.accuracy, true)}</span></td>
            <td>{format!("{:.3}", s.macro_f1)}<span class="fa-ci">{ci(s.cis.macro_f1, false)}</span></td>
            <td>{s.cohen_kappa.map_or("undefined".into(), |k| format!("{k:.3}"))}<span class="fa-ci">{ci(s.cis.cohen_kappa, false)}</span></td>
        </tr>
    }
}

fn report_view(state: AppState, s: &Source, r: &DistilReport) -> impl IntoView {
    let model = s.run.endpoint.model.clone();
    let llm_name = match (&s.run.aggregate, model.is_empty()) {
        (Some(_), _) => format!("LLM runs combined ({})", s.run.configuration()),
        (None, true) => "LLM (server default)".to_string(),
        (None, false) => format!("LLM {model}"),
    };
    let mc = r.mcnemar;
    let verdict = if mc.p_value < 0.05 {
        if mc.b > mc.c {
            "The student is right significantly more often than the LLM on these rows."
        } else {
            "The LLM is right significantly more often than the student on these rows."
        }
    } else {
        "The student and the LLM do not differ significantly on these rows."
    };
    let points: Vec<CurvePoint> = r
        .curve
        .iter()
        .map(|p| CurvePoint {
            n: p.n_train,
            accuracy: p.accuracy,
            ci: p.ci.map(|c| (c.lo, c.hi)),
        })
        .collect();
    let teacher_acc = r.teacher.accuracy;
    let llm = ProjectionInput::measured(
        &s.answers,
        s.run.endpoint.concurrency,
        s.run.endpoint.price_in_per_m.unwrap_or(0.0),
        s.run.endpoint.price_out_per_m.unwrap_or(0.0),
        DAILY_VOLUME,
    )
    .map(|i| project(&i));
    let student = project(&ProjectionInput::local(r.score_items_per_s, DAILY_VOLUME));
    let mut bars = vec![Bar {
        label: "Student (this browser, one thread)".into(),
        value: student.hours_per_day,
        text: duration_text(student.hours_per_day),
        warn: !student.fits_in_24h,
    }];
    if let Some(p) = llm {
        bars.push(Bar {
            label: format!("{llm_name} ×{}", s.run.endpoint.concurrency),
            value: p.hours_per_day,
            text: duration_text(p.hours_per_day),
            warn: !p.fits_in_24h,
        });
    }
    let priced =
        s.run.endpoint.price_in_per_m.is_some() || s.run.endpoint.price_out_per_m.is_some();
    let cost = llm.map(|p| if priced { format!("The LLM costs {:.2} per day for {DAILY_VOLUME} texts at the endpoint's prices; the student costs nothing per text.", p.cost_per_day) } else { format!("The endpoint has no prices set, so its cost per day is not known; the student costs nothing per text ({:.0} tokens a day saved).", p.tokens_per_day) });
    let model_json = r.model.to_json();
    let attribute = s.run.attribute.clone();
    let download_model = move || {
        let name = format!("student-{attribute}.json");
        if let Err(e) = download_bytes(&name, "application/json", model_json.as_bytes()) {
            state.toast(ToastKind::Error, AppError::from(e).user_message());
        }
    };
    view! {
        <div class="fa-card" data-testid="distil-report">
            <h3>"Student against LLM on the gold labels"</h3>
            <p class="fa-muted" data-testid="distil-held-out">{format!("Scored on the {} held-out rows with a gold label that the LLM also labelled; {} rows with a gold label in all were never trained on. Intervals: {} bootstrap resamples (seed {SEED}).", r.held_out, r.n_validation, r.student.cis.resamples)}</p>
            <div class="fa-table-scroll">
            <table class="fa-table fa-leaderboard" data-testid="distil-table">
                <thead><tr><th scope="col">"Classifier"</th><th scope="col">"n"</th><th scope="col">"Accuracy"</th><th scope="col">"Macro F1"</th><th scope="col">"Cohen's κ"</th></tr></thead>
                <tbody>
                    {scored_row(format!("Student trained on {} LLM labels", r.n_train), "distil-student", &r.student)}
                    {scored_row(llm_name.clone(), "distil-teacher", &r.teacher)}
                    {r.human.as_ref().map(|h| scored_row("Student trained on the gold labels only (5-fold cross-validation)".into(), "distil-human", h))}
                </tbody>
            </table>
            </div>
            <p data-testid="distil-mcnemar">{format!("McNemar, student against LLM: {} rows only the student got right, {} only the LLM; p = {:.3}{}. {verdict}", mc.b, mc.c, mc.p_value, if mc.exact { " (exact test)" } else { "" })}</p>
            {r.human.is_none().then(|| view! { <p class="fa-muted">"Too few gold labels (fewer than 10) to cross-validate a student trained on them alone."</p> })}
        </div>
        <div class="fa-card">
            <h3>"Learning curve"</h3>
            <p class="fa-muted">"The student trained on 10 %, 25 %, 50 % and all of the LLM-labelled rows (seeded subsets), scored on the same held-out rows. A curve still rising says more labels would still pay."</p>
            <LearningCurve points reference=(teacher_acc, format!("{llm_name}: {}", pct(teacher_acc))) title="Student accuracy against rows trained on".to_string() />
        </div>
        <div class="fa-card">
            <h3>{format!("Time per day for {DAILY_VOLUME} texts")}</h3>
            <p data-testid="distil-throughput" data-items-per-s=r.score_items_per_s.to_string()>{format!("The student scores {:.0} texts per second in this browser (features included, measured in the worker).", r.score_items_per_s)}</p>
            <BarChart bars title=format!("Hours per day for {DAILY_VOLUME} texts") caption="Measured: the student's scoring speed here, the LLM's mean latency at its concurrency in this run.".to_string() reference=RefLine { value: 24.0, label: "24 h".into() } testid="distil-projection" />
            {cost.map(|c| view! { <p class="fa-muted" data-testid="distil-cost">{c}</p> })}
            <div class="fa-row">
                <Button label="Download the student (JSON)" attr:data-testid="distil-export-model" on_click=download_model />
            </div>
            <p class="fa-muted">"The model file holds the hashing settings, classes, sparse weights and intercepts; `cargo run -p fannotate-core --example student -- score MODEL.json FILE.csv` scores a file with it."</p>
        </div>
    }
}
