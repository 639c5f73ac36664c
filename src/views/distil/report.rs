//! The Distil report: the student beside its teacher and a student of the gold
//! labels alone, the learning curve, the time per day, and the model's download.

use super::{Source, Teacher, DAILY_VOLUME, SEED};
use crate::components::{Bar, BarChart, Button, CurvePoint, LearningCurve, RefLine};
use crate::error::AppError;
use crate::format::{duration_text, pct};
use crate::services::files::download_bytes;
use crate::state::{AppState, ToastKind};
use fannotate_core::metrics::Interval;
use fannotate_core::projection::{project, ProjectionInput};
use fannotate_core::records::RunRecord;
use fannotate_core::student::distil::{DistilReport, Scored};
use leptos::prelude::*;

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

/// The LLM a run-taught student is compared with.
struct Llm<'a> {
    run: &'a RunRecord,
    /// Its name in the table and charts.
    name: String,
}

impl<'a> Llm<'a> {
    fn of(run: &'a RunRecord) -> Self {
        let model = &run.endpoint.model;
        let name = match (&run.aggregate, model.is_empty()) {
            (Some(_), _) => format!("LLM runs combined ({})", run.configuration()),
            (None, true) => "LLM (server default)".to_string(),
            (None, false) => format!("LLM {model}"),
        };
        Llm { run, name }
    }
}

pub(super) fn report_view(state: AppState, s: &Source, r: &DistilReport) -> impl IntoView {
    let llm = match &s.teacher {
        Teacher::Run(run) => Some(Llm::of(run)),
        Teacher::Human => None,
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
    let reference = llm
        .as_ref()
        .map(|l| (teacher_acc, format!("{}: {}", l.name, pct(teacher_acc))));
    let llm_day = llm.as_ref().and_then(|l| {
        let e = &l.run.endpoint;
        ProjectionInput::measured(
            &s.answers,
            e.concurrency,
            e.price_in_per_m.unwrap_or(0.0),
            e.price_out_per_m.unwrap_or(0.0),
            DAILY_VOLUME,
        )
        .map(|i| (l, project(&i)))
    });
    let student = project(&ProjectionInput::local(r.score_items_per_s, DAILY_VOLUME));
    let mut bars = vec![Bar {
        label: "Student (this browser, one thread)".into(),
        value: student.hours_per_day,
        text: duration_text(student.hours_per_day),
        warn: !student.fits_in_24h,
    }];
    if let Some((l, p)) = &llm_day {
        bars.push(Bar {
            label: format!("{} ×{}", l.name, l.run.endpoint.concurrency),
            value: p.hours_per_day,
            text: duration_text(p.hours_per_day),
            warn: !p.fits_in_24h,
        });
    }
    let cost = llm_day.as_ref().map(|(l, p)| {
        let e = &l.run.endpoint;
        if e.price_in_per_m.is_some() || e.price_out_per_m.is_some() {
            format!("The LLM costs {:.2} per day for {DAILY_VOLUME} texts at the endpoint's prices; the student costs nothing per text.", p.cost_per_day)
        } else {
            format!("The endpoint has no prices set, so its cost per day is not known; the student costs nothing per text ({:.0} tokens a day saved).", p.tokens_per_day)
        }
    });
    let model_json = r.model.to_json();
    let attribute = s.attribute.clone();
    let download_model = move || {
        let name = format!("student-{attribute}.json");
        if let Err(e) = download_bytes(&name, "application/json", model_json.as_bytes()) {
            state.toast(ToastKind::Error, AppError::from(e).user_message());
        }
    };
    let (title, held_out, student_name, curve_text, caption) = match &llm {
        Some(_) => (
            "Student against LLM on the gold labels",
            format!("Scored on the {} held-out rows with a gold label that the LLM also labelled; {} rows with a gold label in all were never trained on. Intervals: {} bootstrap resamples (seed {SEED}).", r.held_out, r.n_validation, r.student.cis.resamples),
            format!("Student trained on {} LLM labels", r.n_train),
            "The student trained on 10 %, 25 %, 50 % and all of the LLM-labelled rows (seeded subsets), scored on the same held-out rows. A curve still rising says more labels would still pay.",
            "Measured: the student's scoring speed here, the LLM's mean latency at its concurrency in this run.",
        ),
        None => (
            "Student on the validation rows' human labels",
            format!("Scored on the {} held-out validation rows with a human label; none of them was trained on. Intervals: {} bootstrap resamples (seed {SEED}).", r.held_out, r.student.cis.resamples),
            format!("Student trained on {} human labels", r.n_train),
            "The student trained on 10 %, 25 %, 50 % and all of the human-labelled training rows (seeded subsets), scored on the same held-out rows. A curve still rising says more labels would still pay.",
            "Measured: the student's scoring speed here. No LLM is in this comparison; train on a run to see one beside it.",
        ),
    };
    view! {
        <div class="fa-card" data-testid="distil-report" data-source=if llm.is_some() { "run" } else { "human" }>
            <h3>{title}</h3>
            <p class="fa-muted" data-testid="distil-held-out" data-held-out=r.held_out.to_string()>{held_out}</p>
            <div class="fa-table-scroll">
            <table class="fa-table fa-leaderboard" data-testid="distil-table">
                <thead><tr><th scope="col">"Classifier"</th><th scope="col">"n"</th><th scope="col">"Accuracy"</th><th scope="col">"Macro F1"</th><th scope="col">"Cohen's κ"</th></tr></thead>
                <tbody>
                    {scored_row(student_name, "distil-student", &r.student)}
                    {llm.as_ref().map(|l| scored_row(l.name.clone(), "distil-teacher", &r.teacher))}
                    {r.human.as_ref().map(|h| scored_row("Student trained on the gold labels only (5-fold cross-validation)".into(), "distil-human", h))}
                </tbody>
            </table>
            </div>
            {match &llm {
                Some(_) => view! {
                    <p data-testid="distil-mcnemar">{format!("McNemar, student against LLM: {} rows only the student got right, {} only the LLM; p = {:.3}{}. {verdict}", mc.b, mc.c, mc.p_value, if mc.exact { " (exact test)" } else { "" })}</p>
                }.into_any(),
                None => view! {
                    <p class="fa-muted" data-testid="distil-no-teacher">"No LLM is compared here: the student learnt from human labels, and on the validation rows the human labels are the gold labels themselves, so there is no teacher to score beside it (nor a McNemar test against one). To compare a student with an LLM, learn from a run. The Experiments projection sets this student beside the LLMs as one trained on human labels."</p>
                }.into_any(),
            }}
            {r.human.is_none().then(|| view! { <p class="fa-muted">"Too few gold labels (fewer than 10) to cross-validate a student trained on them alone."</p> })}
        </div>
        <div class="fa-card">
            <h3>"Learning curve"</h3>
            <p class="fa-muted">{curve_text}</p>
            {match reference {
                Some(reference) => view! { <LearningCurve points reference title="Student accuracy against rows trained on".to_string() /> }.into_any(),
                None => view! { <LearningCurve points title="Student accuracy against rows trained on".to_string() /> }.into_any(),
            }}
        </div>
        <div class="fa-card">
            <h3>{format!("Time per day for {DAILY_VOLUME} texts")}</h3>
            <p data-testid="distil-throughput" data-items-per-s=r.score_items_per_s.to_string()>{format!("The student scores {:.0} texts per second in this browser (features included, measured in the worker).", r.score_items_per_s)}</p>
            <BarChart bars title=format!("Hours per day for {DAILY_VOLUME} texts") caption=caption.to_string() reference=RefLine { value: 24.0, label: "24 h".into() } testid="distil-projection" />
            {cost.map(|c| view! { <p class="fa-muted" data-testid="distil-cost">{c}</p> })}
            <div class="fa-row">
                <Button label="Download the student (JSON)" attr:data-testid="distil-export-model" on_click=download_model />
            </div>
            <p class="fa-muted">"The model file holds the hashing settings, classes, sparse weights and intercepts; `cargo run -p fannotate-core --example student -- score MODEL.json FILE.csv` scores a file with it."</p>
        </div>
    }
}
