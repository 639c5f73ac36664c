//! Distil: train a small, fast classifier (the student) on an LLM run's
//! labels, or on the human labels, in the compute worker, never on the
//! validation rows, and compare it with the LLM on the gold labels, on time
//! and cost per day as well as accuracy.

use crate::actions::aggregate::combine_action;
use crate::components::{when_loaded, Button, CombineChoice, CombineRuns, SelectField, Tone};
use crate::data::codebook::run_attribute;
use crate::data::gold::{gold_labels, GoldCache};
use crate::data::job::{stop_on_cleanup, JobState};
use crate::error::AppError;
use crate::format::format_date;
use crate::services::browser::{mono_ms, now_ms};
use crate::services::export::ExportFormat;
use crate::services::files::download_bytes;
use crate::state::{AppState, ToastKind, Topic};
use fannotate_core::records::{
    in_validation, run_source, AnnotationStatus, RunRecord, StudentMeasure, ValidationSet,
    HUMAN_SOURCE,
};
use fannotate_core::student::distil::{
    distil, distil_steps, split_labels, training_set, Blocked, DistilInput, DistilReport,
    TeacherKind, TRAINING_SET_COLUMNS,
};
use fannotate_core::AttributeKind;
use leptos::prelude::*;

mod report;
use report::report_view;

/// Texts a day the projection is for (the seed's customer-service calls).
const DAILY_VOLUME: u64 = 6500;
/// Seed of the subsets, folds and bootstrap, so a retrain gives the same figures.
const SEED: u64 = 42;

/// Where the student's training labels come from, as the source list offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TrainingSource {
    /// A run's labels (runs combined are a run too), by run id.
    Run(String),
    /// The human labels of an attribute (the Review step's, else its gold column's).
    Human(String),
}

impl TrainingSource {
    /// The option's value in the source list.
    fn value(&self) -> String {
        match self {
            TrainingSource::Run(id) => run_source(id),
            TrainingSource::Human(attribute) => format!("{HUMAN_SOURCE}:{attribute}"),
        }
    }

    /// Inverse of [`TrainingSource::value`].
    fn parse(value: &str) -> Option<Self> {
        if let Some(id) = value.strip_prefix("run:") {
            return Some(TrainingSource::Run(id.to_string()));
        }
        value
            .strip_prefix(HUMAN_SOURCE)
            .and_then(|v| v.strip_prefix(':'))
            .map(|a| TrainingSource::Human(a.to_string()))
    }
}

/// Who taught the student.
#[derive(Debug, Clone, PartialEq)]
enum Teacher {
    /// An LLM run (or runs combined).
    Run(Box<RunRecord>),
    /// The human labels: on the validation rows they are the gold labels
    /// themselves, so there is no teacher to compare the student with.
    Human,
}

impl Teacher {
    fn kind(&self) -> TeacherKind {
        match self {
            Teacher::Run(_) => TeacherKind::Run,
            Teacher::Human => TeacherKind::Human,
        }
    }
}

/// The chosen source's labels, ready to distil.
#[derive(Debug, Clone, PartialEq)]
struct Source {
    teacher: Teacher,
    /// The attribute labelled.
    attribute: String,
    input: DistilInput,
    /// Row ids, for the training set.
    ids: Vec<String>,
    /// The run's confidence per row.
    confidence: Vec<Option<f64>>,
    /// (latency ms, tokens in, tokens out) of the run's answers.
    answers: Vec<(f64, u32, u32)>,
    /// Validation rows the run labelled that have no gold label yet.
    unlabelled_validation: usize,
    /// The dataset's validation set, if one was chosen.
    validation: Option<ValidationSet>,
}

impl Source {
    /// The training set's `source` of the training rows.
    fn teacher_name(&self) -> String {
        match &self.teacher {
            Teacher::Run(run) => run_source(&run.id),
            Teacher::Human => HUMAN_SOURCE.to_string(),
        }
    }

    fn choice(&self) -> TrainingSource {
        match &self.teacher {
            Teacher::Run(run) => TrainingSource::Run(run.id.clone()),
            Teacher::Human => TrainingSource::Human(self.attribute.clone()),
        }
    }
}

/// What the screen shows before training.
#[derive(Debug, Clone, PartialEq)]
struct Loaded {
    /// Runs of categorical attributes on the current dataset.
    runs: Vec<RunRecord>,
    /// Categorical attributes of the current codebook: each one's human labels
    /// can teach too.
    human: Vec<String>,
    /// The chosen one's labels (`None` when there is nothing to choose).
    source: Option<Source>,
}

async fn load(state: AppState, choice: Option<TrainingSource>) -> Result<Option<Loaded>, AppError> {
    let storage = state.storage();
    let pid = state.project_id().unwrap_or_default();
    let Some(meta) = storage.dataset(pid.clone()).await? else {
        return Ok(None);
    };
    let runs: Vec<RunRecord> = storage
        .runs(pid.clone())
        .await?
        .into_iter()
        .filter(|r| r.dataset_id == meta.id && !r.free_text)
        .collect();
    let codebook = storage
        .latest_codebook(pid)
        .await?
        .and_then(|v| v.codebook().ok());
    let categorical: Vec<_> = codebook
        .map(|cb| cb.attributes)
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.kind == AttributeKind::Categorical)
        .collect();
    let human: Vec<String> = categorical.iter().map(|a| a.name.clone()).collect();
    let choice = match choice {
        Some(TrainingSource::Run(id)) if runs.iter().any(|r| r.id == id) => {
            Some(TrainingSource::Run(id))
        }
        Some(TrainingSource::Human(a)) if human.contains(&a) => Some(TrainingSource::Human(a)),
        _ => runs
            .first()
            .map(|r| TrainingSource::Run(r.id.clone()))
            .or_else(|| human.first().cloned().map(TrainingSource::Human)),
    };
    let empty = |runs, human| {
        Ok(Some(Loaded {
            runs,
            human,
            source: None,
        }))
    };
    let (teacher, attribute) = match choice {
        None => return empty(runs, human),
        Some(TrainingSource::Run(id)) => {
            let Some(run) = runs.iter().find(|r| r.id == id).cloned() else {
                return empty(runs, human);
            };
            let Some(attribute) = run_attribute(&*storage, &run).await? else {
                return empty(runs, human);
            };
            (Teacher::Run(Box::new(run)), attribute)
        }
        Some(TrainingSource::Human(name)) => {
            let Some(attribute) = categorical.into_iter().find(|a| a.name == name) else {
                return empty(runs, human);
            };
            (Teacher::Human, attribute)
        }
    };
    let classes: Vec<String> = attribute
        .category_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let code = |label: &str| classes.iter().position(|c| c == label).map(|i| i as u32);
    let in_scope = |row: u32| match &teacher {
        Teacher::Run(run) => run.has_row(row),
        Teacher::Human => true,
    };
    // One rule for gold labels, the leaderboard's: a human label, else the gold column.
    let labels = gold_labels(
        &storage,
        &state.rows.get_value(),
        &meta,
        &attribute,
        in_scope,
        &GoldCache::default(),
    )
    .await?;
    let all_rows = state.rows(&meta).await?;
    // A run's rows; for the human labels, the labelled rows (no other row can teach or score).
    let rows: Vec<_> = all_rows
        .iter()
        .filter(|r| match &teacher {
            Teacher::Run(run) => run.has_row(r.idx),
            Teacher::Human => labels.get(&r.idx).and_then(|l| code(l)).is_some(),
        })
        .collect();
    let position: std::collections::HashMap<u32, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.idx, i)).collect();
    let mut taught = vec![None; rows.len()];
    let mut confidence = vec![None; rows.len()];
    let mut answers = Vec::new();
    if let Teacher::Run(run) = &teacher {
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
                taught[i] = a.value.as_deref().and_then(code);
                confidence[i] = a.confidence;
            }
        }
    }
    let labelled: Vec<Option<u32>> = rows
        .iter()
        .map(|r| labels.get(&r.idx).and_then(|l| code(l)))
        .collect();
    let validation: Vec<bool> = rows
        .iter()
        .zip(&labelled)
        .map(|(r, l)| in_validation(meta.validation.as_ref(), r.idx, l.is_some()))
        .collect();
    let split = split_labels(teacher.kind(), &taught, &labelled, &validation);
    let source = Source {
        input: DistilInput {
            classes,
            texts: rows
                .iter()
                .map(|r| r.cell(meta.text_col).to_string())
                .collect(),
            teacher: split.teacher,
            gold: split.gold,
            seed: SEED,
        },
        ids: rows.iter().map(|r| r.id.clone()).collect(),
        confidence,
        answers,
        unlabelled_validation: split.unlabelled_validation,
        validation: meta.validation.clone(),
        attribute: attribute.name.clone(),
        teacher,
    };
    Ok(Some(Loaded {
        runs,
        human,
        source: Some(source),
    }))
}

/// Where training stands.
type Training = JobState<Box<DistilReport>>;

/// The distil step.
#[component]
pub fn DistilView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let choice = RwSignal::new(None::<TrainingSource>);
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
            <p class="fa-muted">"Train a small classifier on the LLM's labels, or on your own, and see whether it can replace the LLM: how accurate it is on your gold labels, how many labels it needs, and what it saves per day. It trains here, in a background worker; nothing leaves the browser."</p>
            {when_loaded(data, "Loading…", move |loaded| match loaded {
                None => view! { <p class="fa-empty">"Import a dataset first (the Data step)."</p> }.into_any(),
                Some(Loaded { source: None, .. }) => view! { <p class="fa-empty" data-testid="distil-empty">"No run of a categorical attribute and no categorical attribute to label by hand yet. Define one in the Codebook step, then label the data with a run (the Run step) or by hand (the Review step); the student learns from those labels."</p> }.into_any(),
                Some(Loaded { runs, human, source: Some(source) }) => distil_panel(state, runs, human, source, choice).into_any(),
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

/// Which rows are validation rows, and why, for the split's sentence.
fn validation_why(s: &Source) -> String {
    let unlabelled = match s.unlabelled_validation {
        0 => String::new(),
        1 => " 1 validation row the run labelled has no gold label yet: it is neither trained on nor scored.".to_string(),
        k => format!(" {k} validation rows the run labelled have no gold label yet: they are neither trained on nor scored."),
    };
    let why = match &s.validation {
        Some(v) => format!("The validation rows are the dataset's validation set ({} rows, {}), chosen in the Review step.", v.size, v.method),
        None => "No validation set was chosen (the Review step), so every row with a gold label (a human label from Review, else the gold column) is a validation row.".to_string(),
    };
    format!("{why}{unlabelled}")
}

/// Why the student cannot train yet, and what to do.
fn blocked_text(s: &Source, why: Blocked) -> String {
    match (why, &s.teacher) {
        (Blocked::NoGold, _) => "There are no gold labels on the validation rows to score the student on: label the validation set in the Review step, or import a gold column.".to_string(),
        (Blocked::NoTrainingRows, Teacher::Run(_)) => "Every row this run labelled is a validation row, so none is left to train on: run the LLM on more rows first.".to_string(),
        (Blocked::NoTrainingRows, Teacher::Human) => {
            let rule = if s.validation.is_some() {
                "Every human label is on a row of the validation set"
            } else {
                "No validation set is chosen, so every row with a human label is a validation row"
            };
            format!("{rule}, and validation rows are never trained on (they are held out to score the student), so there is nothing to train on. Label rows outside the validation set in the Review step, or train on a run's labels instead.")
        }
    }
}

fn distil_panel(
    state: AppState,
    runs: Vec<RunRecord>,
    human: Vec<String>,
    source: Source,
    choice: RwSignal<Option<TrainingSource>>,
) -> impl IntoView {
    let input = &source.input;
    let (n_train, n_gold) = (input.train_rows().len(), input.n_gold());
    let blocked = input.blocked().map(|why| blocked_text(&source, why));
    let chosen = source.choice();
    let split_text = match &source.teacher {
        Teacher::Run(_) => format!("The student trains on the {n_train} rows this run labelled outside the validation rows. The {n_gold} validation rows with a gold label are held out of training: both the student and the LLM are scored on them. {}", validation_why(&source)),
        Teacher::Human => format!("The student trains on the {n_train} human labels outside the validation rows. The {n_gold} validation rows' human labels are held out of training: the student is scored on them. {}", validation_why(&source)),
    };
    let kind = match source.teacher.kind() {
        TeacherKind::Run => "run",
        TeacherKind::Human => "human",
    };
    let unlabelled = source.unlabelled_validation;
    let runs_all = runs.clone();
    let combine = combine_action(
        state,
        Callback::new(move |id: String| choice.set(Some(TrainingSource::Run(id)))),
    );
    let training = RwSignal::new(Training::Idle);
    let source = StoredValue::new_local(source);
    let start = Callback::new(move |()| {
        training.set(Training::Running(0, distil_steps()));
        let worker = state.worker();
        let (input, teacher) = source.with_value(|s| (s.input.clone(), s.teacher.clone()));
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
                    let kind = teacher.kind();
                    let run_id = match teacher {
                        Teacher::Run(run) => run.id,
                        Teacher::Human => HUMAN_SOURCE.to_string(),
                    };
                    remember_student(state, run_id, kind, report).await;
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
            let name = format!("training-set-{}.{}", s.attribute, format.extension());
            if let Err(e) = download_bytes(&name, format.mime(), &bytes) {
                state.toast(ToastKind::Error, AppError::from(e).user_message());
            }
        })
    };
    let can_train = blocked.is_none();
    let chosen_value = chosen.value();
    let on_choose = Callback::new(move |v: String| {
        if let Some(c) = TrainingSource::parse(&v) {
            choice.set(Some(c));
        }
    });
    view! {
        <div class="fa-card">
            <SelectField label="Learn from" testid="distil-run" on_change=on_choose>
                {runs.iter().map(|r| {
                    let label = format!("{} · {} · {}", r.attribute, r.configuration(), format_date(r.started_at));
                    let value = TrainingSource::Run(r.id.clone());
                    let selected = value == chosen;
                    view! { <option value=value.value() selected=selected>{label}</option> }
                }).collect_view()}
                {human.iter().map(|a| {
                    let value = TrainingSource::Human(a.clone());
                    let selected = value == chosen;
                    view! { <option value=value.value() selected=selected data-testid="distil-source-human">{format!("Human labels · {a}")}</option> }
                }).collect_view()}
            </SelectField>
            <p data-testid="distil-split" data-source=kind data-value=chosen_value data-train=n_train.to_string() data-gold=n_gold.to_string() data-unlabelled=unlabelled.to_string()>
                {split_text}
            </p>
            {blocked.map(|text| view! { <p class="fa-empty" data-testid="distil-blocked">{text}</p> })}
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
async fn remember_student(
    state: AppState,
    run_id: String,
    teacher: TeacherKind,
    report: &DistilReport,
) {
    let measure = StudentMeasure {
        run_id,
        teacher,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_choice_survives_the_option_value() {
        for c in [
            TrainingSource::Run("abc".into()),
            TrainingSource::Human("spam".into()),
            TrainingSource::Human("a:b".into()),
        ] {
            assert_eq!(TrainingSource::parse(&c.value()), Some(c));
        }
        assert_eq!(TrainingSource::parse("nonsense"), None);
        assert_eq!(TrainingSource::parse("human"), None);
    }
}
