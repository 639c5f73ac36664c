//! The compute worker's protocol: the jobs the page hands to it, what comes
//! back, and [`run`], which does a job (the worker is a thin shell around it,
//! so every job is host-tested here).
//!
//! A message is a small JSON header plus a [`Payload`]: columns of integers
//! and one buffer of texts, which travel beside the JSON as transferred
//! `ArrayBuffer`s, so a million labels are neither encoded as JSON nor copied
//! by the structured clone.

use crate::aggregate::{aggregate_rows, AggregateMethod};
use crate::metrics::{bootstrap_coded, BootstrapCis, Interned};
use crate::student::distil::{distil, throughput, DistilInput, DistilReport, APP_FIT};
use crate::student::{fit_labels, FitReport, HashingSpec, SparseVec, StudentModel};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One job for the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Bootstrap intervals of accuracy, macro-F1 and κ. Columns: the gold
    /// and predicted label code of each complete row (codes index `labels`).
    Bootstrap {
        /// Labels in code order.
        labels: Vec<String>,
        /// Resamples to draw.
        resamples: usize,
        /// Confidence level, e.g. 0.95.
        level: f64,
        /// Seed of the resampling.
        seed: u64,
    },
    /// Train the student on a teacher's labels and measure it
    /// ([`crate::student::distil`]). Columns: teacher codes, gold codes (both
    /// [`NO_LABEL`] for none) and the texts' end offsets.
    Distil {
        /// The attribute's categories; codes index them.
        classes: Vec<String>,
        /// Seed of the subsets, folds and bootstrap.
        seed: u64,
    },
    /// Train the student on every row ([`crate::student::fit_labels`] with
    /// the app's settings) and time it. Columns: label codes, text ends.
    Train {
        /// The classes; codes index them.
        classes: Vec<String>,
    },
    /// One label per row from several runs ([`aggregate_rows`]). Columns: each
    /// run's label codes ([`NO_LABEL`] for none).
    Aggregate {
        /// How to combine them.
        method: AggregateMethod,
        /// Runs (columns) in the payload.
        runs: usize,
    },
}

/// Code of "no label" in a label column.
pub const NO_LABEL: u32 = u32::MAX;

/// The bulk data of a job: integer columns, and texts as one UTF-8 buffer
/// whose end offsets are one of the columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload {
    /// Integer columns.
    pub columns: Vec<Vec<u32>>,
    /// Every text of the job, one after the other.
    pub text: Vec<u8>,
}

impl Payload {
    /// Add `texts` (their end offsets become the next column).
    pub fn push_texts<'a>(&mut self, texts: impl IntoIterator<Item = &'a str>) {
        let mut ends = Vec::new();
        for t in texts {
            self.text.extend_from_slice(t.as_bytes());
            ends.push(self.text.len() as u32);
        }
        self.columns.push(ends);
    }

    /// The texts whose end offsets are column `col`.
    fn texts(&self, col: usize) -> Result<Vec<String>, JobError> {
        let mut start = 0usize;
        self.columns[col]
            .iter()
            .map(|&end| {
                let piece = self
                    .text
                    .get(start..end as usize)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .ok_or_else(|| JobError::Columns(format!("text {start}..{end}")))?;
                start = end as usize;
                Ok(piece.to_string())
            })
            .collect()
    }
}

/// A label column with [`NO_LABEL`] for none.
pub fn label_column(codes: impl IntoIterator<Item = Option<u32>>) -> Vec<u32> {
    codes.into_iter().map(|c| c.unwrap_or(NO_LABEL)).collect()
}

impl Job {
    /// The job of [`crate::metrics::bootstrap_cis`] over interned rows, with
    /// its two columns.
    pub fn bootstrap(coded: Interned, resamples: usize, level: f64, seed: u64) -> (Job, Payload) {
        let Interned { labels, gold, pred } = coded;
        let job = Job::Bootstrap {
            labels,
            resamples,
            level,
            seed,
        };
        (
            job,
            Payload {
                columns: vec![gold, pred],
                text: Vec::new(),
            },
        )
    }

    /// The job of [`distil`]: columns teacher codes, gold codes, text ends.
    pub fn distil(input: &DistilInput) -> (Job, Payload) {
        let mut payload = Payload {
            columns: vec![
                label_column(input.teacher.iter().copied()),
                label_column(input.gold.iter().copied()),
            ],
            text: Vec::new(),
        };
        payload.push_texts(input.texts.iter().map(String::as_str));
        let job = Job::Distil {
            classes: input.classes.clone(),
            seed: input.seed,
        };
        (job, payload)
    }

    /// Columns the job reads.
    fn columns(&self) -> usize {
        match self {
            Job::Bootstrap { .. } => 2,
            Job::Distil { .. } => 3,
            Job::Aggregate { runs, .. } => *runs,
            Job::Train { .. } => 2,
        }
    }
}

/// The page's message to the worker (the columns travel beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToWorker {
    /// The page's number for the job; replies carry it.
    pub id: u32,
    /// What to do.
    pub job: Job,
}

/// A finished job's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobOutput {
    /// The intervals of [`Job::Bootstrap`].
    Bootstrap {
        /// The intervals.
        cis: BootstrapCis,
    },
    /// The report of [`Job::Distil`].
    Distil {
        /// What the distillation found.
        report: Box<DistilReport>,
    },
    /// The model of [`Job::Train`] and how long each part took.
    Train {
        /// The student.
        model: Box<StudentModel>,
        /// How its fit went.
        fit: FitReport,
        /// Milliseconds turning the texts into features.
        features_ms: f64,
        /// Milliseconds fitting.
        fit_ms: f64,
        /// Texts scored per second (features included), on up to 1,000 of them.
        score_items_per_s: f64,
    },
    /// The rows of [`Job::Aggregate`].
    Aggregate {
        /// Label code per row ([`NO_LABEL`] where no run labelled it).
        labels: Vec<u32>,
        /// Its vote share or posterior (0 where there is no label).
        probability: Vec<f64>,
    },
}

/// The worker's messages to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// Listening: messages posted before this would have been lost.
    Ready,
    /// `done` of `total` steps of job `id`.
    Progress {
        /// The job.
        id: u32,
        /// Steps done.
        done: u64,
        /// Steps in all.
        total: u64,
    },
    /// Job `id` finished.
    Done {
        /// The job.
        id: u32,
        /// Its result.
        output: JobOutput,
    },
    /// Job `id` could not run.
    Failed {
        /// The job.
        id: u32,
        /// Why, for the user.
        message: String,
    },
}

/// Why a job could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JobError {
    /// The message was not a job this worker knows (an older or newer page).
    #[error("the compute worker did not understand the job ({0})")]
    Protocol(String),
    /// The columns do not fit the job.
    #[error("the job's data is inconsistent: {0}")]
    Columns(String),
    /// The job ran and could not finish (for example a student with one class).
    #[error("{0}")]
    Failed(String),
}

/// Progress is reported at most this many times per job: a message per
/// resample would cost more than the resample.
const PROGRESS_STEPS: u64 = 100;

/// Do `job` on its `payload`, telling `progress` (done, total) as it goes;
/// `now` is a clock in milliseconds, for the jobs that measure speed.
pub fn run(
    job: &Job,
    payload: Payload,
    progress: &mut dyn FnMut(u64, u64),
    now: &dyn Fn() -> f64,
) -> Result<JobOutput, JobError> {
    if payload.columns.len() != job.columns() {
        return Err(JobError::Columns(format!(
            "{} columns, expected {}",
            payload.columns.len(),
            job.columns()
        )));
    }
    match job {
        Job::Bootstrap {
            labels,
            resamples,
            level,
            seed,
        } => {
            let mut it = payload.columns.into_iter();
            let (gold, pred) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
            if gold.len() != pred.len() {
                return Err(JobError::Columns(format!(
                    "{} gold and {} predicted labels",
                    gold.len(),
                    pred.len()
                )));
            }
            let k = labels.len() as u32;
            if let Some(bad) = gold.iter().chain(&pred).find(|&&c| c >= k) {
                return Err(JobError::Columns(format!("label code {bad} of {k} labels")));
            }
            let coded = Interned {
                labels: labels.clone(),
                gold,
                pred,
            };
            let total = *resamples as u64;
            let every = (total / PROGRESS_STEPS).max(1);
            let mut tick = |done: usize| {
                let done = done as u64;
                if done % every == 0 || done == total {
                    progress(done, total);
                }
            };
            let cis = bootstrap_coded(&coded, *resamples, *level, *seed, &mut tick);
            Ok(JobOutput::Bootstrap { cis })
        }
        Job::Distil { classes, seed } => {
            let texts = payload.texts(2)?;
            let k = classes.len() as u32;
            let codes = |col: usize| -> Result<Vec<Option<u32>>, JobError> {
                payload.columns[col]
                    .iter()
                    .map(|&c| match c {
                        NO_LABEL => Ok(None),
                        c if c < k => Ok(Some(c)),
                        c => Err(JobError::Columns(format!("label code {c} of {k} labels"))),
                    })
                    .collect()
            };
            let input = DistilInput {
                classes: classes.clone(),
                teacher: codes(0)?,
                gold: codes(1)?,
                texts,
                seed: *seed,
            };
            if input.teacher.len() != input.texts.len() || input.gold.len() != input.texts.len() {
                return Err(JobError::Columns("columns of different lengths".into()));
            }
            let report =
                distil(&input, progress, now).map_err(|e| JobError::Failed(e.to_string()))?;
            Ok(JobOutput::Distil {
                report: Box::new(report),
            })
        }
        Job::Train { classes } => {
            let texts = payload.texts(1)?;
            let labels: Vec<&str> = payload.columns[0]
                .iter()
                .map(|&c| classes.get(c as usize).map(String::as_str))
                .collect::<Option<_>>()
                .ok_or_else(|| JobError::Columns("a label code outside the classes".into()))?;
            if labels.len() != texts.len() {
                return Err(JobError::Columns(
                    "labels and texts differ in number".into(),
                ));
            }
            let spec = HashingSpec::default();
            let t0 = now();
            let x: Vec<SparseVec> = texts.iter().map(|t| spec.transform(t)).collect();
            let t1 = now();
            progress(1, 3);
            let fit = fit_labels(spec, &x, &labels, None, &APP_FIT)
                .map_err(|e| JobError::Failed(e.to_string()))?;
            let t2 = now();
            progress(2, 3);
            let sample: Vec<usize> = (0..texts.len().min(1000)).collect();
            let score_items_per_s = throughput(&fit.model, &texts, &sample, now);
            progress(3, 3);
            Ok(JobOutput::Train {
                model: Box::new(fit.model),
                fit: fit.report,
                features_ms: t1 - t0,
                fit_ms: t2 - t1,
                score_items_per_s,
            })
        }
        Job::Aggregate { method, .. } => {
            let per_run: Vec<Vec<Option<u32>>> = payload
                .columns
                .iter()
                .map(|c| c.iter().map(|&x| (x != NO_LABEL).then_some(x)).collect())
                .collect();
            progress(0, 1);
            let rows =
                aggregate_rows(&per_run, *method).map_err(|e| JobError::Failed(e.to_string()))?;
            progress(1, 1);
            let (labels, probability) = rows
                .into_iter()
                .map(|r| r.map_or((NO_LABEL, 0.0), |(c, p)| (c, p)))
                .unzip();
            Ok(JobOutput::Aggregate {
                labels,
                probability,
            })
        }
    }
}

impl Job {
    /// The job of [`aggregate_rows`]: one column per run.
    pub fn aggregate(per_run: &[Vec<Option<u32>>], method: AggregateMethod) -> (Job, Payload) {
        let job = Job::Aggregate {
            method,
            runs: per_run.len(),
        };
        let columns = per_run
            .iter()
            .map(|r| label_column(r.iter().copied()))
            .collect();
        (
            job,
            Payload {
                columns,
                text: Vec::new(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{bootstrap_cis, intern};

    #[test]
    fn the_bootstrap_job_gives_what_the_page_would_compute() {
        let gold = [Some("a"), Some("b"), None, Some("b"), Some("a"), Some("c")];
        let pred = [Some("a"), Some("a"), Some("b"), Some("b"), None, Some("c")];
        let (job, columns) = Job::bootstrap(intern(&gold, &pred), 200, 0.95, 42);
        // The header survives the JSON it travels in.
        let msg = ToWorker { id: 7, job };
        let back: ToWorker = serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
        assert_eq!(back, msg);
        let mut seen = Vec::new();
        let out = run(&back.job, columns, &mut |d, t| seen.push((d, t)), &|| 0.0).unwrap();
        assert_eq!(
            out,
            JobOutput::Bootstrap {
                cis: bootstrap_cis(&gold, &pred, 200, 0.95, 42)
            }
        );
        assert_eq!(seen.len(), 100);
        assert_eq!(seen.last(), Some(&(200, 200)));
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn inconsistent_columns_are_refused() {
        let (job, mut payload) = Job::bootstrap(intern(&[Some("a")], &[Some("a")]), 10, 0.95, 1);
        let clock = || 0.0;
        payload.columns[1].push(0);
        assert!(matches!(
            run(&job, payload.clone(), &mut |_, _| {}, &clock),
            Err(JobError::Columns(_))
        ));
        payload.columns[0].push(3);
        assert!(matches!(
            run(&job, payload, &mut |_, _| {}, &clock),
            Err(JobError::Columns(m)) if m.contains("code 3")
        ));
        let one = Payload {
            columns: vec![vec![0]],
            text: Vec::new(),
        };
        assert!(matches!(
            run(&job, one, &mut |_, _| {}, &clock),
            Err(JobError::Columns(_))
        ));
    }

    #[test]
    fn the_distil_job_carries_texts_and_missing_labels_intact() {
        let texts = [
            "offer cash now",
            "lunch at noon",
            "blåbær ✓ prize",
            "notes",
            "win money",
            "agenda",
        ];
        let input = DistilInput {
            classes: vec!["ham".into(), "spam".into()],
            texts: texts.iter().map(|t| t.to_string()).collect(),
            teacher: vec![Some(1), Some(0), Some(1), None, Some(1), Some(0)],
            gold: vec![None, None, Some(1), Some(0), None, None],
            seed: 3,
        };
        let (job, payload) = Job::distil(&input);
        assert_eq!(payload.texts(2).unwrap(), input.texts);
        assert_eq!(payload.columns[0][3], NO_LABEL);
        let clock = std::cell::Cell::new(0.0);
        let now = || {
            clock.set(clock.get() + 1.0);
            clock.get()
        };
        let out = run(&job, payload.clone(), &mut |_, _| {}, &now).unwrap();
        let JobOutput::Distil { report } = out else {
            panic!("not a distil report")
        };
        assert_eq!(
            (report.n_train, report.n_validation, report.held_out),
            (4, 2, 1)
        );
        let mut bad = payload;
        bad.columns[1][0] = 5;
        assert!(matches!(
            run(&job, bad, &mut |_, _| {}, &now),
            Err(JobError::Columns(m)) if m.contains("code 5")
        ));
    }

    #[test]
    fn the_aggregate_job_gives_what_aggregate_rows_gives() {
        let runs = vec![
            vec![Some(0), Some(1), None],
            vec![Some(0), Some(0), None],
            vec![Some(1), Some(1), None],
        ];
        let (job, payload) = Job::aggregate(&runs, AggregateMethod::MajorityVote);
        let out = run(&job, payload, &mut |_, _| {}, &|| 0.0).unwrap();
        let want = aggregate_rows(&runs, AggregateMethod::MajorityVote).unwrap();
        let JobOutput::Aggregate {
            labels,
            probability,
        } = out
        else {
            panic!("not an aggregate")
        };
        assert_eq!(labels, vec![0, 1, NO_LABEL]);
        assert_eq!(Some((labels[0], probability[0])), want[0]);
        assert_eq!(probability[2], 0.0);
    }

    #[test]
    fn the_train_job_fits_every_row() {
        let mut payload = Payload {
            columns: vec![vec![1, 0, 1, 0]],
            text: Vec::new(),
        };
        payload.push_texts([
            "win cash now",
            "lunch notes",
            "cash prize win",
            "meeting notes",
        ]);
        let job = Job::Train {
            classes: vec!["ham".into(), "spam".into()],
        };
        let clock = std::cell::Cell::new(0.0);
        let now = || {
            clock.set(clock.get() + 1.0);
            clock.get()
        };
        let JobOutput::Train { model, fit, .. } =
            run(&job, payload.clone(), &mut |_, _| {}, &now).unwrap()
        else {
            panic!("not a model")
        };
        assert_eq!(model.classes, vec!["ham", "spam"]);
        assert_eq!(model.predict(&model.features("cash win")), "spam");
        assert!(fit.converged);
        payload.columns[0][0] = 9;
        assert!(matches!(
            run(&job, payload, &mut |_, _| {}, &now),
            Err(JobError::Columns(_))
        ));
    }

    #[test]
    fn worker_messages_are_tagged_json() {
        let ready = serde_json::to_string(&FromWorker::Ready).unwrap();
        assert_eq!(ready, r#"{"type":"ready"}"#);
        let p = FromWorker::Progress {
            id: 1,
            done: 2,
            total: 3,
        };
        let back: FromWorker = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
