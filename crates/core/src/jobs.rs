//! The compute worker's protocol: the jobs the page hands to it, what comes
//! back, and [`run`], which does a job (the worker is a thin shell around it,
//! so every job is host-tested here).
//!
//! A message is a small JSON header plus columns of integers. The columns
//! travel beside the JSON as transferred `ArrayBuffer`s, so a million labels
//! are neither encoded as text nor copied by the structured clone.

use crate::metrics::{bootstrap_coded, BootstrapCis, Interned};
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
}

impl Job {
    /// The job of [`crate::metrics::bootstrap_cis`] over interned rows, with
    /// its two columns.
    pub fn bootstrap(
        coded: Interned,
        resamples: usize,
        level: f64,
        seed: u64,
    ) -> (Job, Vec<Vec<u32>>) {
        let Interned { labels, gold, pred } = coded;
        let job = Job::Bootstrap {
            labels,
            resamples,
            level,
            seed,
        };
        (job, vec![gold, pred])
    }

    /// Columns the job reads.
    fn columns(&self) -> usize {
        match self {
            Job::Bootstrap { .. } => 2,
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
}

/// Progress is reported at most this many times per job: a message per
/// resample would cost more than the resample.
const PROGRESS_STEPS: u64 = 100;

/// Do `job` on its `columns`, telling `progress` (done, total) as it goes.
pub fn run(
    job: &Job,
    columns: Vec<Vec<u32>>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<JobOutput, JobError> {
    if columns.len() != job.columns() {
        return Err(JobError::Columns(format!(
            "{} columns, expected {}",
            columns.len(),
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
            let mut it = columns.into_iter();
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
        let out = run(&back.job, columns, &mut |d, t| seen.push((d, t))).unwrap();
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
        let (job, mut columns) = Job::bootstrap(intern(&[Some("a")], &[Some("a")]), 10, 0.95, 1);
        columns[1].push(0);
        assert!(matches!(
            run(&job, columns.clone(), &mut |_, _| {}),
            Err(JobError::Columns(_))
        ));
        columns[0].push(3);
        assert!(matches!(
            run(&job, columns, &mut |_, _| {}),
            Err(JobError::Columns(m)) if m.contains("code 3")
        ));
        assert!(matches!(
            run(&job, vec![vec![0]], &mut |_, _| {}),
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
