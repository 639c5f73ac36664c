//! Distillation: train the student on a teacher's labels (an LLM run, or the
//! human labels), never on the validation rows, then measure it beside the
//! teacher on the gold labels, with a learning curve and a student trained on
//! the gold labels alone.
//!
//! Everything is compared on the same rows: the validation rows (those with a
//! gold label) that the teacher labelled, so a row the LLM failed on counts for
//! neither side.

use super::{
    fit_labels, FitOptions, FitReport, HashingSpec, SparseVec, StudentError, StudentModel,
};
use crate::metrics::{
    bootstrap_cis, classify, mcnemar, BootstrapCis, Interval, McNemar, SplitMix64,
};
use serde::{Deserialize, Serialize};

/// Fractions of the training rows the learning curve trains on.
pub const CURVE_FRACTIONS: [f64; 4] = [0.1, 0.25, 0.5, 1.0];
/// Folds of the human-labels-only student's cross-validation.
pub const HUMAN_FOLDS: usize = 5;
/// Bootstrap resamples behind every interval of the report.
pub const RESAMPLES: usize = 1000;

/// The app's fit: stop when the gradient of the mean loss is within 1e-4,
/// scikit-learn's own default for `LogisticRegression` (the references use
/// 1e-10 to compare models to 1e-4 in probability; the app compares accuracies
/// over hundreds of rows, where 1e-4 changes nothing and trains 2–3× faster).
pub const APP_FIT: FitOptions = FitOptions {
    c: 1.0,
    tol: 1e-4,
    max_iter: 100,
};

/// What to distil: one entry per row in `texts`, `teacher` and `gold`.
#[derive(Debug, Clone, PartialEq)]
pub struct DistilInput {
    /// The attribute's categories; label codes index them.
    pub classes: Vec<String>,
    /// Each row's text.
    pub texts: Vec<String>,
    /// The teacher's label code of each row, where it gave a valid one.
    pub teacher: Vec<Option<u32>>,
    /// The gold label code of each validation row.
    pub gold: Vec<Option<u32>>,
    /// Seed of the learning curve's subsets, the folds and the bootstrap.
    pub seed: u64,
}

impl DistilInput {
    /// Rows the student trains on: the teacher labelled them and they have no
    /// gold label (gold rows are held out, always).
    pub fn train_rows(&self) -> Vec<usize> {
        (0..self.texts.len())
            .filter(|&i| self.teacher[i].is_some() && self.gold[i].is_none())
            .collect()
    }

    /// Rows with a gold label (the validation rows).
    pub fn n_gold(&self) -> usize {
        self.gold.iter().flatten().count()
    }

    /// Why training cannot start, if it cannot.
    pub fn blocked(&self) -> Option<Blocked> {
        if self.n_gold() == 0 {
            Some(Blocked::NoGold)
        } else if self.train_rows().is_empty() {
            Some(Blocked::NoTrainingRows)
        } else {
            None
        }
    }
}

/// Where the student's training labels come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeacherKind {
    /// An LLM run's labels (runs combined are a run too).
    #[default]
    Run,
    /// The human labels themselves (the Review step's, else a gold column's).
    Human,
}

/// Why a distillation cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// No validation row has a gold label: nothing to score the student on.
    NoGold,
    /// Every labelled row is a validation row: nothing to train on.
    NoTrainingRows,
}

/// A distillation's teacher and gold labels, per row (see [`split_labels`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The label the student may learn from ([`DistilInput::teacher`]).
    pub teacher: Vec<Option<u32>>,
    /// The gold label of each validation row ([`DistilInput::gold`]).
    pub gold: Vec<Option<u32>>,
    /// Validation rows the teacher labelled that have no gold label yet:
    /// neither trained on (they are validation rows) nor scored.
    pub unlabelled_validation: usize,
}

/// Teacher and gold labels from each row's run label (`run`, ignored for
/// [`TeacherKind::Human`]), gold label (`labels`: a human label first, else the
/// gold column's) and whether it is a validation row.
///
/// Gold labels are the validation rows' labels. A validation row is never a
/// training row, labelled or not. With [`TeacherKind::Human`] the teacher is
/// the human labels: those of the rows outside the validation set are what the
/// student learns from, and on the validation rows the teacher is the gold
/// label itself (right by construction, so it is no rival to compare with).
pub fn split_labels(
    kind: TeacherKind,
    run: &[Option<u32>],
    labels: &[Option<u32>],
    validation: &[bool],
) -> Split {
    let n = labels.len();
    let mut split = Split {
        teacher: Vec::with_capacity(n),
        gold: Vec::with_capacity(n),
        unlabelled_validation: 0,
    };
    for (i, &label) in labels.iter().enumerate() {
        let held = validation.get(i).copied().unwrap_or(false);
        let taught = match kind {
            TeacherKind::Run => run.get(i).copied().flatten(),
            TeacherKind::Human => label,
        };
        let gold = if held { label } else { None };
        if held && gold.is_none() && taught.is_some() {
            split.unlabelled_validation += 1;
        }
        split.gold.push(gold);
        split
            .teacher
            .push(if held && gold.is_none() { None } else { taught });
    }
    split
}

/// A classifier's figures on the comparison rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Rows compared.
    pub n: usize,
    /// Share of rows right.
    pub accuracy: f64,
    /// Macro-averaged F1.
    pub macro_f1: f64,
    /// Cohen's κ against the gold labels (undefined for a constant pairing).
    pub cohen_kappa: Option<f64>,
    /// 95 % bootstrap intervals of the three.
    pub cis: BootstrapCis,
}

/// One point of the learning curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Share of the training rows used.
    pub fraction: f64,
    /// Rows trained on.
    pub n_train: usize,
    /// Accuracy on the comparison rows.
    pub accuracy: f64,
    /// Its 95 % bootstrap interval.
    pub ci: Option<Interval>,
}

/// What a distillation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistilReport {
    /// Rows trained on: the teacher labelled them and they have no gold label.
    pub n_train: usize,
    /// Validation rows (with a gold label): never trained on.
    pub n_validation: usize,
    /// Validation rows the teacher had labelled, held out of training.
    pub held_out: usize,
    /// The student trained on every training row.
    pub student: Scored,
    /// The teacher on the same rows.
    pub teacher: Scored,
    /// A student trained on the gold labels alone, scored out of fold
    /// ([`HUMAN_FOLDS`]-fold cross-validation); `None` with too few of them.
    pub human: Option<Scored>,
    /// Student against teacher, row by row.
    pub mcnemar: McNemar,
    /// Accuracy against training rows used.
    pub curve: Vec<CurvePoint>,
    /// The student.
    pub model: StudentModel,
    /// How its fit went.
    pub fit: FitReport,
    /// Texts the student scores per second (features included), measured.
    pub score_items_per_s: f64,
}

/// Columns of [`training_set`].
pub const TRAINING_SET_COLUMNS: [&str; 6] =
    ["id", "text", "label", "source", "confidence", "split"];

/// The rows a distillation learns from and is judged on, for Hugging Face
/// `datasets` or pandas: the teacher's labels of the training rows (`source`
/// the teacher, split `train`) and the gold labels of the validation rows
/// (`source` `human`, split `validation`). `ids` and `confidence` are per row.
pub fn training_set(
    input: &DistilInput,
    ids: &[String],
    confidence: &[Option<f64>],
    teacher_name: &str,
) -> Vec<Vec<String>> {
    let label = |c: Option<u32>| c.and_then(|c| input.classes.get(c as usize)).cloned();
    (0..input.texts.len())
        .filter_map(|i| {
            let (label, source, conf, split) = match (label(input.gold[i]), label(input.teacher[i]))
            {
                (Some(g), _) => (g, "human".to_string(), String::new(), "validation"),
                (None, Some(t)) => (
                    t,
                    teacher_name.to_string(),
                    confidence
                        .get(i)
                        .copied()
                        .flatten()
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    "train",
                ),
                (None, None) => return None,
            };
            let id = ids.get(i).cloned().unwrap_or_else(|| (i + 1).to_string());
            Some(vec![
                id,
                input.texts[i].clone(),
                label,
                source,
                conf,
                split.to_string(),
            ])
        })
        .collect()
}

/// Steps [`distil`] reports progress in: the features, each fit, the timing.
pub fn distil_steps() -> u64 {
    (1 + CURVE_FRACTIONS.len() + HUMAN_FOLDS + 1) as u64
}

/// Train and measure the student. `now` is a clock in milliseconds (for the
/// scoring throughput); `progress` hears (steps done, [`distil_steps`]).
pub fn distil(
    input: &DistilInput,
    progress: &mut dyn FnMut(u64, u64),
    now: &dyn Fn() -> f64,
) -> Result<DistilReport, StudentError> {
    let n = input.texts.len();
    if input.teacher.len() != n || input.gold.len() != n {
        return Err(StudentError::LengthMismatch {
            what: "teacher and gold labels",
            expected: n,
            got: input.teacher.len().min(input.gold.len()),
        });
    }
    let total = distil_steps();
    let mut step = 0;
    let mut tick = |progress: &mut dyn FnMut(u64, u64)| {
        step += 1;
        progress(step, total);
    };
    let spec = HashingSpec::default();
    let x: Vec<SparseVec> = input.texts.iter().map(|t| spec.transform(t)).collect();
    tick(progress);
    let label = |code: u32| input.classes.get(code as usize).map(String::as_str);
    let train = input.train_rows();
    let validation = input.n_gold();
    // The comparison rows: gold and a teacher label.
    let compare: Vec<usize> = (0..n)
        .filter(|&i| input.gold[i].is_some() && input.teacher[i].is_some())
        .collect();
    let gold: Vec<Option<&str>> = compare
        .iter()
        .map(|&i| input.gold[i].and_then(label))
        .collect();
    let fit_on = |rows: &[usize], codes: &dyn Fn(usize) -> Option<u32>| {
        let xs: Vec<SparseVec> = rows.iter().map(|&i| x[i].clone()).collect();
        let labels: Vec<&str> = rows
            .iter()
            .map(|&i| codes(i).and_then(label).unwrap_or(""))
            .collect();
        fit_labels(spec, &xs, &labels, None, &APP_FIT)
    };
    let teacher_code = |i: usize| input.teacher[i];
    // Predictions as the input's own class names (they outlive the models).
    let class_of = |p: &str| {
        input
            .classes
            .iter()
            .find(|c| c.as_str() == p)
            .map(String::as_str)
    };
    let scored = |pred: &[Option<&str>]| -> Scored {
        let r = classify(&gold, pred);
        Scored {
            n: r.n_used,
            accuracy: r.accuracy,
            macro_f1: r.macro_f1,
            cohen_kappa: r.cohen_kappa,
            cis: bootstrap_cis(&gold, pred, RESAMPLES, 0.95, input.seed),
        }
    };

    // The learning curve; its last point is the student.
    let mut order = train.clone();
    shuffle(&mut order, input.seed);
    let mut curve = Vec::new();
    let mut last = None;
    for fraction in CURVE_FRACTIONS {
        let k = ((order.len() as f64 * fraction).ceil() as usize).min(order.len());
        let mut rows = order[..k].to_vec();
        rows.sort_unstable();
        // A subset with one class (or none) has no model to draw.
        match fit_on(&rows, &teacher_code) {
            Ok(fit) => {
                let pred: Vec<Option<&str>> = compare
                    .iter()
                    .map(|&i| class_of(fit.model.predict(&x[i])))
                    .collect();
                let s = scored(&pred);
                curve.push(CurvePoint {
                    fraction,
                    n_train: k,
                    accuracy: s.accuracy,
                    ci: s.cis.accuracy,
                });
                if fraction == 1.0 {
                    last = Some((fit, pred, s));
                }
            }
            Err(e) if fraction == 1.0 => return Err(e),
            Err(_) => {}
        }
        tick(progress);
    }
    let Some((fit, student_pred, student)) = last else {
        return Err(StudentError::TooFewClasses(0));
    };
    let teacher_pred: Vec<Option<&str>> = compare
        .iter()
        .map(|&i| input.teacher[i].and_then(label))
        .collect();
    let teacher = scored(&teacher_pred);
    let right = |pred: &[Option<&str>]| -> Vec<bool> {
        pred.iter().zip(&gold).map(|(p, g)| p == g).collect()
    };
    let mcnemar = mcnemar(&right(&student_pred), &right(&teacher_pred));

    let human = human_only(input, &x, &compare, &gold, &mut || tick(progress));

    let score_items_per_s = throughput(&fit.model, &input.texts, &compare, now);
    tick(progress);
    Ok(DistilReport {
        n_train: train.len(),
        n_validation: validation,
        held_out: compare.len(),
        student,
        teacher,
        human: human.map(|pred| scored(&pred)),
        mcnemar,
        curve,
        model: fit.model,
        fit: fit.report,
        score_items_per_s,
    })
}

/// Out-of-fold predictions of a student trained on the gold labels of the
/// comparison rows; `None` with fewer than two rows per fold or one class.
fn human_only<'a>(
    input: &'a DistilInput,
    x: &[SparseVec],
    compare: &[usize],
    gold: &[Option<&'a str>],
    tick: &mut dyn FnMut(),
) -> Option<Vec<Option<&'a str>>> {
    let mut folds: Vec<usize> = (0..compare.len()).collect();
    shuffle(&mut folds, input.seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut pred = vec![None; compare.len()];
    let mut ok = compare.len() >= 2 * HUMAN_FOLDS;
    for f in 0..HUMAN_FOLDS {
        if ok {
            let (test, train): (Vec<usize>, Vec<usize>) =
                folds
                    .iter()
                    .enumerate()
                    .fold((vec![], vec![]), |(mut te, mut tr), (k, &j)| {
                        if k % HUMAN_FOLDS == f {
                            te.push(j);
                        } else {
                            tr.push(j);
                        }
                        (te, tr)
                    });
            let xs: Vec<SparseVec> = train.iter().map(|&j| x[compare[j]].clone()).collect();
            let labels: Vec<&str> = train.iter().map(|&j| gold[j].unwrap_or("")).collect();
            match fit_labels(HashingSpec::default(), &xs, &labels, None, &APP_FIT) {
                Ok(fit) => {
                    for j in test {
                        let p = fit.model.predict(&x[compare[j]]);
                        pred[j] = input
                            .classes
                            .iter()
                            .find(|c| c.as_str() == p)
                            .map(String::as_str);
                    }
                }
                Err(_) => ok = false,
            }
        }
        tick();
    }
    ok.then_some(pred)
}

/// Texts per second the model scores, features included: passes over the
/// texts of `rows` (the first 1,000 texts when empty) until 200 ms have gone by.
pub fn throughput(
    model: &StudentModel,
    texts: &[String],
    rows: &[usize],
    now: &dyn Fn() -> f64,
) -> f64 {
    let rows: Vec<usize> = if rows.is_empty() {
        (0..texts.len().min(1000)).collect()
    } else {
        rows.to_vec()
    };
    if rows.is_empty() {
        return 0.0;
    }
    let t0 = now();
    let mut scored = 0usize;
    let mut sink = 0usize;
    while now() - t0 < 200.0 && scored < 10_000_000 {
        for &i in &rows {
            sink = sink.wrapping_add(model.predict(&model.features(&texts[i])).len());
        }
        scored += rows.len();
    }
    let ms = (now() - t0).max(1e-3);
    // `sink` keeps the scoring from being optimised away.
    std::hint::black_box(sink);
    scored as f64 / (ms / 1000.0)
}

/// Fisher–Yates with the crate's seeded generator.
fn shuffle(v: &mut [usize], seed: u64) {
    let mut rng = SplitMix64::new(seed);
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::HUMAN_SOURCE as HUMAN_SOURCE_NAME;
    use std::cell::Cell;

    /// Spam-like rows: the teacher is right on 90 % of them; every third row is gold.
    fn input(n: usize) -> DistilInput {
        let words = [
            ("offer win money cash prize", 1),
            ("meeting notes project lunch", 0),
        ];
        let mut texts = Vec::new();
        let (mut teacher, mut gold) = (Vec::new(), Vec::new());
        for i in 0..n {
            let (text, class) = words[i % 2];
            texts.push(format!(
                "{text} {} item{}",
                if i % 7 == 0 { "again" } else { "" },
                i % 13
            ));
            teacher.push(Some(if i % 10 == 3 { 1 - class } else { class }));
            gold.push((i % 3 == 0).then_some(class));
        }
        DistilInput {
            classes: vec!["ham".into(), "spam".into()],
            texts,
            teacher,
            gold,
            seed: 7,
        }
    }

    fn clock() -> impl Fn() -> f64 {
        let t = Cell::new(0.0);
        move || {
            t.set(t.get() + 1.0);
            t.get()
        }
    }

    #[test]
    fn trains_off_the_validation_rows_and_compares_on_the_same_rows() {
        let inp = input(300);
        let mut seen = Vec::new();
        let r = distil(&inp, &mut |d, t| seen.push((d, t)), &clock()).unwrap();
        assert_eq!(r.n_validation, 100);
        assert_eq!(r.n_train, 200);
        assert_eq!(r.held_out, 100);
        assert_eq!((r.student.n, r.teacher.n), (100, 100));
        // The text decides the class: the student learns past its teacher's noise.
        assert_eq!(r.student.accuracy, 1.0);
        assert!(
            (r.teacher.accuracy - 0.9).abs() < 0.011,
            "{}",
            r.teacher.accuracy
        );
        assert!(r.mcnemar.b > 0 && r.mcnemar.c == 0);
        assert_eq!(r.curve.len(), 4);
        assert_eq!(
            r.curve.iter().map(|p| p.n_train).collect::<Vec<_>>(),
            vec![20, 50, 100, 200]
        );
        assert_eq!(r.human.as_ref().map(|h| h.n), Some(100));
        assert!(r.score_items_per_s > 0.0);
        assert_eq!(seen.last(), Some(&(distil_steps(), distil_steps())));
        assert_eq!(seen.len() as u64, distil_steps());
    }

    #[test]
    fn the_training_set_names_each_label_source_and_split() {
        let inp = input(6);
        let ids: Vec<String> = (0..6).map(|i| format!("r{i}")).collect();
        let conf = vec![Some(0.9); 6];
        let rows = training_set(&inp, &ids, &conf, "run:abc");
        assert_eq!(rows.len(), 6);
        // Rows 0 and 3 are gold rows; row 3's teacher label (spam) was wrong,
        // and its gold label is the one kept.
        assert_eq!(rows[0][2..], ["spam", "human", "", "validation"]);
        assert_eq!(rows[3][2..], ["ham", "human", "", "validation"]);
        assert_eq!(rows[1][2..], ["ham", "run:abc", "0.9", "train"]);
        assert_eq!(rows[1][..2], ["r1".to_string(), inp.texts[1].clone()]);
        assert!(rows.iter().all(|r| r.len() == TRAINING_SET_COLUMNS.len()));
    }

    #[test]
    fn a_run_teaches_outside_the_validation_rows_and_unlabelled_ones_are_left_out() {
        // Rows 0-2 are validation rows; row 2 has no label yet.
        let run = [Some(1), Some(0), Some(1), Some(0), None];
        let labels = [Some(1), Some(1), None, Some(0), None];
        let validation = [true, true, true, false, false];
        let s = split_labels(TeacherKind::Run, &run, &labels, &validation);
        assert_eq!(s.gold, vec![Some(1), Some(1), None, None, None]);
        // Row 3's label is outside the validation set: the run's label is learnt.
        assert_eq!(s.teacher, vec![Some(1), Some(0), None, Some(0), None]);
        assert_eq!(s.unlabelled_validation, 1);
    }

    #[test]
    fn human_labels_teach_outside_the_validation_rows_only() {
        let labels = [Some(1), Some(0), None, Some(0), Some(1), None];
        let validation = [true, true, true, false, false, false];
        let s = split_labels(TeacherKind::Human, &[], &labels, &validation);
        assert_eq!(s.gold, vec![Some(1), Some(0), None, None, None, None]);
        assert_eq!(s.teacher, labels.to_vec());
        assert_eq!(s.unlabelled_validation, 0);
        let input = DistilInput {
            classes: vec!["ham".into(), "spam".into()],
            texts: (0..6).map(|i| format!("t{i}")).collect(),
            teacher: s.teacher,
            gold: s.gold,
            seed: 1,
        };
        assert_eq!(input.train_rows(), vec![3, 4]);
        assert_eq!(input.n_gold(), 2);
        assert_eq!(input.blocked(), None);
        // The export names the human labels as the training rows' source.
        let rows = training_set(&input, &[], &[], HUMAN_SOURCE_NAME);
        assert_eq!(
            rows.iter()
                .map(|r| (r[3].as_str(), r[5].as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("human", "validation"),
                ("human", "validation"),
                ("human", "train"),
                ("human", "train")
            ]
        );
    }

    #[test]
    fn every_human_label_on_a_validation_row_leaves_nothing_to_train_on() {
        // No validation set chosen: every labelled row is a validation row.
        let labels = [Some(1), Some(0), None];
        let validation: Vec<bool> = labels.iter().map(Option::is_some).collect();
        let s = split_labels(TeacherKind::Human, &[], &labels, &validation);
        let mut input = DistilInput {
            classes: vec!["ham".into(), "spam".into()],
            texts: (0..3).map(|i| format!("t{i}")).collect(),
            teacher: s.teacher,
            gold: s.gold,
            seed: 1,
        };
        assert_eq!(input.blocked(), Some(Blocked::NoTrainingRows));
        input.gold = vec![None; 3];
        assert_eq!(input.blocked(), Some(Blocked::NoGold));
    }

    #[test]
    fn the_same_input_gives_the_same_report() {
        let inp = input(120);
        let a = distil(&inp, &mut |_, _| {}, &clock()).unwrap();
        let b = distil(&inp, &mut |_, _| {}, &clock()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn one_class_of_teacher_labels_is_an_error_not_a_panic() {
        let mut inp = input(60);
        inp.teacher = vec![Some(0); 60];
        assert!(distil(&inp, &mut |_, _| {}, &clock()).is_err());
        inp.gold.pop();
        assert!(matches!(
            distil(&inp, &mut |_, _| {}, &clock()),
            Err(StudentError::LengthMismatch { .. })
        ));
    }
}
