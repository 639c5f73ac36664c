//! Merging a batch engine's answers into the run that waits for them: rows
//! whose every replication has come become annotations exactly as a live run
//! makes them; rows answered in part wait (in the run record) for the rest;
//! an answer that came before is a problem, never applied twice.

use super::custom_id::CustomId;
use super::output::{BatchResult, Problem, ProblemKind};
use crate::records::{Annotation, ChatAnswer, Failure, PartialAnswer, PartialRow, RunRecord};
use crate::Attribute;
use std::collections::{BTreeMap, HashSet};

/// Applies one run's batch results, file after file.
#[derive(Debug)]
pub struct Merger<'a> {
    run: &'a RunRecord,
    attribute: &'a Attribute,
    replications: u32,
    /// Answers of rows not complete yet, by row then replication.
    partial: BTreeMap<u32, BTreeMap<u32, Result<ChatAnswer, Failure>>>,
    /// Rows completed by this merger.
    completed: HashSet<u32>,
}

impl<'a> Merger<'a> {
    /// A merger for `run` (of `attribute`; its batch says how many requests
    /// a row has), starting from the rows it holds answered in part.
    pub fn new(run: &'a RunRecord, attribute: &'a Attribute) -> Self {
        let replications = run.batch.as_ref().map_or(1, |b| b.replications);
        let partial = run
            .batch
            .iter()
            .flat_map(|b| &b.partial)
            .map(|p| {
                let answers = p
                    .answers
                    .iter()
                    .map(|a| (a.replication, a.answer.clone()))
                    .collect();
                (p.row, answers)
            })
            .collect();
        Merger {
            run,
            attribute,
            replications: replications.max(1),
            partial,
            completed: HashSet::new(),
        }
    }

    /// Whether the run asked replication `replication` of row `row`.
    pub fn asked(&self, row: u32, replication: u32) -> bool {
        self.run.has_row(row) && replication < self.replications
    }

    /// Apply one result. `stored(row)` says whether the row already has an
    /// annotation of this run; `prompt_chars` is the request's (for token
    /// estimates); `ts` stamps a new annotation. Gives the row's annotation
    /// when this was its last missing replication, or the line's problem.
    pub fn push(
        &mut self,
        result: &BatchResult,
        stored: impl Fn(u32) -> bool,
        prompt_chars: impl Fn(&CustomId) -> usize,
        ts: f64,
    ) -> Result<Option<Annotation>, Problem> {
        let problem = |kind| Problem {
            line: result.line,
            kind,
        };
        let id = result
            .request_of(&self.run.id, |row, k| self.asked(row, k))
            .map_err(problem)?;
        let (row, k) = (id.row(), id.replication());
        let again = || problem(ProblemKind::AlreadyImported(result.custom_id.clone()));
        if self.completed.contains(&row) || stored(row) {
            return Err(again());
        }
        let answers = self.partial.entry(row).or_default();
        if answers.contains_key(&k) {
            return Err(again());
        }
        answers.insert(
            k,
            result.answer(prompt_chars(&id), self.run.endpoint.logprobs),
        );
        if answers.len() < self.replications as usize {
            return Ok(None);
        }
        let answers: Vec<_> = self
            .partial
            .remove(&row)
            .unwrap_or_default()
            .into_values()
            .collect();
        self.completed.insert(row);
        Ok(Some(Annotation::from_answers(
            &self.run.dataset_id,
            &self.run.id,
            self.attribute,
            row,
            &answers,
            ts,
        )))
    }

    /// The rows still answered in part, for the run record.
    pub fn partial(&self) -> Vec<PartialRow> {
        self.partial
            .iter()
            .map(|(&row, answers)| PartialRow {
                row,
                answers: answers
                    .iter()
                    .map(|(&replication, answer)| PartialAnswer {
                        replication,
                        answer: answer.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The replications of `row` still to be answered (all of them for a row
    /// not begun), for a new batch file of what is missing.
    pub fn missing(&self, row: u32) -> Vec<u32> {
        let have = self.partial.get(&row);
        (0..self.replications)
            .filter(|k| have.is_none_or(|h| !h.contains_key(k)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{parse_output, FailureKind, ResultError};
    use crate::chat::Completion;
    use crate::records::{AnnotationStatus, BatchRun};
    use crate::Category;

    const RUN: &str = "run1";

    fn spam() -> Attribute {
        Attribute::categorical(
            "spam",
            "<<categories>> <<text>>",
            vec![Category::new("ham", ""), Category::new("spam", "")],
        )
    }

    fn run() -> RunRecord {
        let mut r = RunRecord::for_test(RUN, "spam");
        r.task_rows = Some(vec![[0, 3]]);
        r.batch = Some(BatchRun {
            replications: 2,
            ..BatchRun::default()
        });
        r
    }

    fn answer(row: u32, k: u32, line: usize, content: &str) -> BatchResult {
        BatchResult {
            custom_id: CustomId::new(RUN, row, k).unwrap().to_string(),
            line,
            outcome: Ok(Completion {
                content: content.into(),
                usage: None,
                confidence: None,
            }),
        }
    }

    #[test]
    fn a_row_becomes_an_annotation_when_its_last_replication_comes_in_any_order() {
        let (run, attribute) = (run(), spam());
        let mut m = Merger::new(&run, &attribute);
        let none = |_| false;
        assert_eq!(
            m.push(&answer(1, 1, 1, "spam"), none, |_| 10, 5.0),
            Ok(None)
        );
        assert_eq!(m.partial().len(), 1);
        assert_eq!(m.missing(1), vec![0]);
        let a = m
            .push(&answer(1, 0, 2, "ham"), none, |_| 10, 5.0)
            .unwrap()
            .expect("both replications are in");
        // The live runner reads replications in order: replication 0 first.
        let live = Annotation::from_answers(
            "d",
            RUN,
            &attribute,
            1,
            &[
                answer(1, 0, 0, "ham").answer(10, false),
                answer(1, 1, 0, "spam").answer(10, false),
            ],
            5.0,
        );
        assert_eq!(a, live);
        assert!(m.partial().is_empty());
        // Once complete, any further answer for the row is a duplicate.
        let again = m.push(&answer(1, 0, 3, "spam"), none, |_| 10, 5.0);
        assert!(matches!(
            again,
            Err(Problem {
                line: 3,
                kind: ProblemKind::AlreadyImported(_)
            })
        ));
    }

    #[test]
    fn partial_rows_survive_the_run_record_and_stored_rows_are_not_applied_twice() {
        let attribute = spam();
        let mut run = run();
        let first = {
            let mut m = Merger::new(&run, &attribute);
            m.push(&answer(0, 0, 1, "ham"), |_| false, |_| 10, 1.0)
                .unwrap();
            m.partial()
        };
        run.batch.as_mut().unwrap().partial = first;
        let json = serde_json::to_string(&run).unwrap();
        let run: RunRecord = serde_json::from_str(&json).unwrap();
        let mut m = Merger::new(&run, &attribute);
        assert!(matches!(
            m.push(&answer(0, 0, 7, "ham"), |_| false, |_| 10, 1.0),
            Err(Problem {
                line: 7,
                kind: ProblemKind::AlreadyImported(_)
            })
        ));
        let failed = BatchResult {
            outcome: Err(ResultError {
                kind: FailureKind::Http(500),
                message: "HTTP 500".into(),
                raw: "{}".into(),
            }),
            ..answer(0, 1, 8, "")
        };
        let a = m.push(&failed, |_| false, |_| 10, 1.0).unwrap().unwrap();
        assert_eq!(
            a.status,
            AnnotationStatus::Valid,
            "one replication answered"
        );
        // A row a live retry already finished is never overwritten.
        assert!(matches!(
            m.push(&answer(2, 0, 9, "ham"), |row| row == 2, |_| 10, 1.0),
            Err(Problem {
                kind: ProblemKind::AlreadyImported(_),
                ..
            })
        ));
    }

    #[test]
    fn answers_the_run_did_not_ask_are_problems() {
        let (run, attribute) = (run(), spam());
        let mut m = Merger::new(&run, &attribute);
        let file = [
            answer(5, 0, 0, "ham"),
            answer(0, 2, 0, "ham"),
            BatchResult {
                custom_id: "fa-other-0-0".into(),
                ..answer(0, 0, 0, "ham")
            },
            BatchResult {
                custom_id: "request-1".into(),
                ..answer(0, 0, 0, "ham")
            },
        ];
        let kinds: Vec<_> = file
            .iter()
            .map(|r| m.push(r, |_| false, |_| 1, 0.0).unwrap_err().kind)
            .collect();
        assert!(
            matches!(kinds[0], ProblemKind::Unexpected(_)),
            "row outside the run"
        );
        assert!(
            matches!(kinds[1], ProblemKind::Unexpected(_)),
            "replication beyond the count"
        );
        assert!(matches!(kinds[2], ProblemKind::OtherRun(_)));
        assert!(matches!(kinds[3], ProblemKind::ForeignId(_)));
        assert!(m.partial().is_empty());
        // The parse itself still reads such a file.
        assert!(parse_output(b"{}").is_err());
    }
}
