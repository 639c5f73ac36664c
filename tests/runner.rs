//! The job runner on the host: `execute` with a scripted LLM client, an
//! in-memory store and a virtual clock (`tests/sim`). Every timing asserted
//! here is exact virtual time, so nothing depends on how fast the machine is.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use fannotate::services::llm::LlmError;
use fannotate::services::memory::MemoryStorage;
use fannotate::services::runner::{
    execute, Counts, RunControl, RunDeps, RunError, RunEvent, RunProgress, RunTask,
};
use fannotate::services::storage::Storage;
use fannotate_core::records::{
    run_source, Annotation, AnnotationStatus, EndpointConfig, Provider, RunRecord, RunStatus, Scope,
};
use fannotate_core::{Attribute, AttributeKind, Category};
use futures::FutureExt;
use sim::client::{answer, fail, http, Call, Outcome, Reply, ScriptedClient};
use sim::{Sim, EPOCH_MS};
use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

const PROJECT: &str = "p1";
const DATASET: &str = "d1";
const RUN: &str = "r1";
const A: &str = "https://a.test/v1";
const B: &str = "https://b.test/v1";
const C: &str = "https://c.test/v1";

// ---- the world a run sees ------------------------------------------------------

fn spam() -> Attribute {
    Attribute::categorical(
        "spam",
        "Is this spam? <<text>>",
        vec![Category::new("ham", ""), Category::new("spam", "")],
    )
}

fn summary() -> Attribute {
    Attribute {
        kind: AttributeKind::FreeText,
        categories: Vec::new(),
        ..Attribute::categorical("summary", "Summarise: <<text>>", Vec::new())
    }
}

/// An https endpoint (no six-connection cap) with `concurrency` requests in flight.
fn endpoint(concurrency: u32) -> EndpointConfig {
    let mut e = EndpointConfig::new(PROJECT, Provider::Vllm, Some(A), Some("m"));
    e.concurrency = concurrency;
    e
}

fn run_of(endpoint: EndpointConfig, attribute: &Attribute) -> RunRecord {
    RunRecord {
        id: RUN.into(),
        project_id: PROJECT.into(),
        dataset_id: DATASET.into(),
        attribute: attribute.name.clone(),
        free_text: attribute.kind == AttributeKind::FreeText,
        codebook_version: 1,
        endpoint,
        status: RunStatus::Running,
        total: 0,
        valid: 0,
        invalid: 0,
        failed: 0,
        started_at: EPOCH_MS,
        finished_at: None,
        error: None,
        scope: Scope::All,
        task_rows: None,
        experiment: None,
        aggregate: None,
        batch: None,
    }
}

fn tasks(rows: Range<u32>) -> Vec<RunTask> {
    rows.map(|row| RunTask {
        row,
        id: format!("id{row}"),
        text: format!("text {row}"),
    })
    .collect()
}

/// What a finished `execute` left.
struct Done {
    result: Result<RunRecord, RunError>,
    /// Virtual time `execute` returned.
    ended: f64,
    progress: Vec<RunProgress>,
    /// Rows of the annotation events, in order.
    annotated: Vec<u32>,
}

impl Done {
    fn run(&self) -> &RunRecord {
        self.result
            .as_ref()
            .expect("the run ends without a RunError")
    }

    fn last(&self) -> RunProgress {
        *self.progress.last().expect("a run reports progress")
    }
}

/// A run's world: virtual time, a store, a scripted client and the control.
struct World {
    sim: Sim,
    storage: Rc<MemoryStorage>,
    client: Rc<ScriptedClient>,
    control: RunControl,
}

impl World {
    fn new(script: impl Fn(&Call) -> Reply + 'static) -> Self {
        let sim = Sim::default();
        let client = Rc::new(ScriptedClient::new(sim.rt.clone(), script));
        World {
            sim,
            storage: Rc::default(),
            client,
            control: RunControl::new().expect("a control off the browser needs no AbortController"),
        }
    }

    /// Run `run` of `attribute` over `tasks` after `base` to its end.
    fn execute(
        &self,
        run: RunRecord,
        attribute: Attribute,
        tasks: Vec<RunTask>,
        base: Counts,
    ) -> Done {
        let deps = RunDeps {
            storage: self.storage.clone(),
            client: self.client.clone(),
            runtime: self.sim.rt.clone(),
        };
        let progress = Rc::new(RefCell::new(Vec::new()));
        let annotated = Rc::new(RefCell::new(Vec::new()));
        let (p, a) = (progress.clone(), annotated.clone());
        let result = self.sim.run(execute(
            deps,
            run,
            attribute,
            "key".into(),
            tasks,
            base,
            self.control.clone(),
            move |ev| match ev {
                RunEvent::Progress(x) => p.borrow_mut().push(x),
                RunEvent::Annotation(x, _) => a.borrow_mut().push(x.row),
            },
        ));
        Done {
            result,
            ended: self.sim.now(),
            progress: progress.take(),
            annotated: annotated.take(),
        }
    }

    /// A new run of [`spam`] over `rows`.
    fn fresh(&self, endpoint: EndpointConfig, rows: Range<u32>) -> Done {
        self.execute(
            run_of(endpoint, &spam()),
            spam(),
            tasks(rows),
            Counts::default(),
        )
    }

    /// The run as stored.
    fn stored_run(&self) -> RunRecord {
        stored_run(&self.storage)
    }

    /// The run's stored annotations, by row.
    fn stored(&self) -> Vec<Annotation> {
        stored(&self.storage)
    }

    fn calls(&self) -> Vec<Call> {
        self.client.calls()
    }
}

fn stored_run(storage: &MemoryStorage) -> RunRecord {
    let runs = storage
        .runs(PROJECT.into())
        .now_or_never()
        .expect("memory storage answers at once")
        .expect("memory storage does not fail");
    runs.into_iter()
        .find(|r| r.id == RUN)
        .expect("the run is stored")
}

fn stored(storage: &MemoryStorage) -> Vec<Annotation> {
    let mut v = storage
        .annotations(DATASET.into(), run_source(RUN))
        .now_or_never()
        .expect("memory storage answers at once")
        .expect("memory storage does not fail");
    v.sort_by_key(|a| a.row);
    v
}

fn rows_of(calls: &[Call]) -> Vec<u32> {
    calls.iter().map(|c| c.row).collect()
}

fn starts_of(calls: &[Call]) -> Vec<f64> {
    calls.iter().map(|c| c.start).collect()
}

fn label(row: u32) -> &'static str {
    if row % 2 == 0 {
        "spam"
    } else {
        "ham"
    }
}

// ---- tests -------------------------------------------------------------------

#[test]
fn every_row_answered_completes_the_run_with_its_counts_and_annotations_stored() {
    let w = World::new(|c| answer(label(c.row)));
    let done = w.fresh(endpoint(4), 0..10);
    let run = done.run();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        (run.total, run.valid, run.invalid, run.failed),
        (10, 10, 0, 0)
    );
    assert_eq!(run.error, None);
    // Four at a time, 100 ms each: 4 + 4 + 2 requests, done at 300 ms.
    let calls = w.calls();
    assert_eq!(rows_of(&calls), (0..10).collect::<Vec<_>>());
    assert!(calls
        .iter()
        .all(|c| c.replicate == 0 && c.attempt == 0 && c.url == A));
    assert_eq!(
        starts_of(&calls),
        [0.0, 0.0, 0.0, 0.0, 100.0, 100.0, 100.0, 100.0, 200.0, 200.0]
    );
    assert_eq!(w.client.max_in_flight(), 4);
    assert_eq!(done.ended, 300.0);
    assert_eq!(run.finished_at, Some(EPOCH_MS + 300.0));
    assert_eq!(&w.stored_run(), run);
    let stored = w.stored();
    assert_eq!(stored.len(), 10);
    for a in &stored {
        assert_eq!(a.status, AnnotationStatus::Valid);
        assert_eq!(a.value.as_deref(), Some(label(a.row)), "row {}", a.row);
        assert_eq!((a.tokens_in, a.tokens_out), (10, 1));
    }
    let mut annotated = done.annotated.clone();
    annotated.sort_unstable();
    assert_eq!(annotated, (0..10).collect::<Vec<_>>());
    let last = done.last();
    assert_eq!((last.total, last.done(), last.valid), (10, 10, 10));
    assert_eq!(
        (last.in_flight, last.max_in_flight, last.tokens_in),
        (0, 4, 100)
    );
    assert_eq!(last.elapsed_ms, 300.0);
}

#[test]
fn retryable_errors_wait_their_backoff_or_retry_after_then_succeed() {
    // Row 1: a 429 asking for 2 s, then a 503, then an answer.
    let w = World::new(|c| match (c.row, c.attempt) {
        (1, 0) => fail(http(429, "slow down", Some(2.0))),
        (1, 1) => fail(http(503, "busy", None)),
        _ => answer("spam"),
    });
    // The jitter source is the runtime's: half way up the cap.
    w.sim.rt.set_random(0.5);
    let done = w.fresh(endpoint(1), 0..3);
    let calls: Vec<(u32, u32, f64)> = w
        .calls()
        .iter()
        .map(|c| (c.row, c.attempt, c.start))
        .collect();
    assert_eq!(
        calls,
        [
            (0, 0, 0.0),
            (1, 0, 100.0),
            // Failed at 200, Retry-After 2 s.
            (1, 1, 2200.0),
            // Failed at 2300; second backoff: cap 1000 ms, 500 + 0.5 × 500.
            (1, 2, 3050.0),
            (2, 0, 3150.0),
        ]
    );
    let run = done.run();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!((run.valid, run.failed), (3, 0));
    assert_eq!(w.stored()[1].value.as_deref(), Some("spam"));
}

#[test]
fn a_request_failing_every_attempt_is_kept_as_an_error_and_the_run_goes_on() {
    let w = World::new(|c| match c.row {
        0 => fail(http(503, "busy", None)),
        _ => answer("ham"),
    });
    let done = w.fresh(endpoint(1), 0..2);
    let calls = w.calls();
    // Four attempts with backoffs of 250, 500 and 1000 ms (no jitter), then row 1.
    assert_eq!(rows_of(&calls), [0, 0, 0, 0, 1]);
    assert_eq!(starts_of(&calls), [0.0, 350.0, 950.0, 2050.0, 2150.0]);
    let run = done.run();
    assert_eq!(
        run.status,
        RunStatus::Completed,
        "a retryable failure does not stop the run"
    );
    assert_eq!((run.valid, run.invalid, run.failed), (1, 0, 1));
    let stored = w.stored();
    let e = http(503, "busy", None);
    assert_eq!(stored[0].status, AnnotationStatus::Error);
    assert_eq!(stored[0].reason.as_deref(), Some(e.user_message().as_str()));
    assert_eq!(stored[0].raw, e.to_string());
    assert_eq!(stored[1].value.as_deref(), Some("ham"));
}

#[test]
fn a_fatal_error_fails_the_run_with_its_message_and_stops_asking() {
    let auth = LlmError::Auth {
        status: 401,
        body: "bad key".into(),
    };
    let refused = auth.clone();
    let w = World::new(move |c| match c.row {
        2 => fail(refused.clone()).after(50.0),
        _ => answer("spam"),
    });
    let done = w.fresh(endpoint(2), 0..6);
    let calls = w.calls();
    // Rows 2 and 3 went out at 100 ms; the 401 came at 150 ms, row 3 was aborted
    // then, and rows 4 and 5 were never asked.
    assert_eq!(rows_of(&calls), [0, 1, 2, 3]);
    assert_eq!(calls[2].outcome, Some(Outcome::Failed));
    assert_eq!(
        (calls[3].outcome, calls[3].end),
        (Some(Outcome::Aborted), Some(150.0))
    );
    assert_eq!(done.ended, 150.0);
    let run = done.run();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_deref(), Some(auth.user_message().as_str()));
    assert_eq!((run.valid, run.failed), (2, 1));
    assert_eq!(&w.stored_run(), run);
    let stored = w.stored();
    assert_eq!(stored.iter().map(|a| a.row).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(stored[2].status, AnnotationStatus::Error);
    assert!(w.control.is_cancelled());
}

#[test]
fn a_pause_holds_new_requests_while_those_in_flight_finish_and_continue_resumes() {
    let w = World::new(|c| answer(label(c.row)));
    let seen = Rc::new(RefCell::new(None));
    let (control, client, at_600) = (w.control.clone(), w.client.clone(), seen.clone());
    w.sim.at(150.0, move || control.set_paused(true));
    let control = w.control.clone();
    w.sim.at(600.0, move || {
        *at_600.borrow_mut() = Some((control.held(), client.in_flight(), control.is_paused()));
    });
    let control = w.control.clone();
    w.sim.at(1000.0, move || control.set_paused(false));
    let done = w.fresh(endpoint(4), 0..12);
    let calls = w.calls();
    // Rows 4-7 were in flight at the pause and finished at 200 ms; rows 8-11
    // waited until the run continued at 1000 ms, and went out at once then.
    assert_eq!(
        starts_of(&calls),
        [0.0, 0.0, 0.0, 0.0, 100.0, 100.0, 100.0, 100.0, 1000.0, 1000.0, 1000.0, 1000.0]
    );
    assert!(calls[4..8]
        .iter()
        .all(|c| c.end == Some(200.0) && c.outcome == Some(Outcome::Answered)));
    assert_eq!(
        *seen.borrow(),
        Some((4, 0, true)),
        "(held, in flight, paused) at 600 ms"
    );
    // While paused the progress still ticks, and shows the held requests.
    assert!(done
        .progress
        .iter()
        .any(|p| p.paused && p.held == 4 && p.in_flight == 0 && p.done() == 8));
    let run = done.run();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.valid, 12);
    assert_eq!(done.ended, 1100.0);
    assert!(!done.last().paused);
}

#[test]
fn cancel_aborts_the_requests_in_flight_and_asks_no_more() {
    let w = World::new(|c| answer(label(c.row)));
    let control = w.control.clone();
    w.sim.at(250.0, move || control.cancel());
    let done = w.fresh(endpoint(4), 0..20);
    let calls = w.calls();
    assert_eq!(
        calls.len(),
        12,
        "three rounds of four went out before the cancel"
    );
    assert!(calls[8..]
        .iter()
        .all(|c| c.outcome == Some(Outcome::Aborted) && c.end == Some(250.0)));
    // The run ends at the cancel, not when the aborted requests would have.
    assert_eq!(done.ended, 250.0);
    let run = done.run();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(
        (run.valid, run.failed),
        (8, 0),
        "aborted requests are no failures"
    );
    assert_eq!(run.finished_at, Some(EPOCH_MS + 250.0));
    assert_eq!(&w.stored_run(), run);
    assert_eq!(
        w.stored().iter().map(|a| a.row).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
}

#[test]
fn cancel_ends_a_backoff_wait_and_a_pause_at_once() {
    // Row 0 is told to come back in 30 s; row 1 waits at a pause.
    let w = World::new(|c| match c.row {
        0 => fail(http(429, "later", Some(30.0))),
        _ => answer("ham"),
    });
    let control = w.control.clone();
    w.sim.at(50.0, move || control.set_paused(true));
    let control = w.control.clone();
    w.sim.at(1000.0, move || control.cancel());
    let done = w.fresh(endpoint(2), 0..3);
    let calls = w.calls();
    assert_eq!(rows_of(&calls), [0, 1], "nothing is asked after the cancel");
    assert_eq!(done.ended, 1000.0);
    let run = done.run();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!((run.valid, run.failed), (1, 0));
}

#[test]
fn replications_are_voted_on_per_row_for_a_categorical_attribute() {
    let votes = [
        ["spam", "spam", "ham"],
        ["ham", "spam", "ham"],
        ["spam", "ham", "maybe"],
    ];
    let w = World::new(move |c| answer(votes[c.row as usize][c.replicate as usize]));
    let mut e = endpoint(2);
    e.replications = 3;
    let done = w.fresh(e, 0..3);
    let calls = w.calls();
    assert_eq!(calls.len(), 9);
    for row in 0..3 {
        let replicates: Vec<u32> = calls
            .iter()
            .filter(|c| c.row == row)
            .map(|c| c.replicate)
            .collect();
        assert_eq!(
            replicates,
            [0, 1, 2],
            "row {row}: one request per replication, in turn"
        );
    }
    let stored = w.stored();
    let values: Vec<Option<&str>> = stored.iter().map(|a| a.value.as_deref()).collect();
    // Row 2 ties 1-1 (its third answer is no label): the first seen wins.
    assert_eq!(values, [Some("spam"), Some("ham"), Some("spam")]);
    let agreement: Vec<Option<f64>> = stored.iter().map(|a| a.agreement).collect();
    assert_eq!(
        agreement,
        [Some(2.0 / 3.0), Some(2.0 / 3.0), Some(1.0 / 3.0)]
    );
    assert_eq!(
        stored[2].replica_values,
        [Some("spam".to_string()), Some("ham".to_string()), None]
    );
    assert_eq!(stored[0].tokens_in, 30, "tokens of every replication count");
    assert_eq!(done.run().valid, 3);
    assert_eq!(done.last().tokens_in, 90);
}

#[test]
fn free_text_is_asked_once_per_row_whatever_the_replications() {
    let w = World::new(|c| answer(&format!("summary of {}", c.row)));
    let mut e = endpoint(2);
    e.replications = 3;
    let done = w.execute(
        run_of(e, &summary()),
        summary(),
        tasks(0..3),
        Counts::default(),
    );
    assert_eq!(rows_of(&w.calls()), [0, 1, 2]);
    assert_eq!(w.stored()[1].value.as_deref(), Some("summary of 1"));
    assert_eq!(done.run().valid, 3);
}

#[test]
fn requests_rotate_over_the_replicas_and_a_failing_one_leaves_the_rotation() {
    // Replica B always answers 503.
    let w = World::new(|c| {
        if c.url == B {
            fail(http(503, "down", None))
        } else {
            answer("spam")
        }
    });
    let mut e = endpoint(1);
    e.replicas = vec![B.into(), format!("  {C} ")];
    let done = w.fresh(e, 0..8);
    let calls = w.calls();
    let urls: Vec<&str> = calls.iter().map(|c| c.url.as_str()).collect();
    // Each failure on B is retried on the next replica; after its third failure
    // in a row B is out for 30 s and the rotation skips it.
    assert_eq!(urls, [A, B, C, A, B, C, A, B, C, A, C]);
    let b: Vec<&Call> = calls.iter().filter(|c| c.url == B).collect();
    assert_eq!(b.len(), 3);
    assert_eq!(b[2].end, Some(1300.0));
    let run = done.run();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        (run.valid, run.failed),
        (8, 0),
        "every row found a working replica"
    );
    let last = done.last();
    assert_eq!((last.replicas, last.replicas_out), (3, 1));
}

#[test]
fn a_resumed_run_adds_the_earlier_counts_and_asks_only_the_rows_left() {
    // First session: row 1 answers outside the labels; cancelled at 250 ms with
    // rows 0-3 done and rows 4-5 in flight.
    let w = World::new(|c| answer(if c.row == 1 { "maybe" } else { "spam" }));
    let control = w.control.clone();
    w.sim.at(250.0, move || control.cancel());
    let first = w.fresh(endpoint(2), 0..10);
    assert_eq!(first.run().status, RunStatus::Cancelled);
    let stored = w.stored();
    let done_rows: Vec<u32> = stored.iter().map(|a| a.row).collect();
    assert_eq!(done_rows, [0, 1, 2, 3]);
    let base = Counts::of(&stored);
    assert_eq!(
        base,
        Counts {
            valid: 3,
            invalid: 1,
            failed: 0
        }
    );

    // Second session, as the app resumes it: a fresh control, the stored counts
    // as the base, and only the rows without a result.
    let w = World {
        control: RunControl::new().expect("a control off the browser needs no AbortController"),
        ..w
    };
    let asked_before = w.calls().len();
    let mut run = w.stored_run();
    run.status = RunStatus::Running;
    run.finished_at = None;
    let left: Vec<RunTask> = tasks(0..10)
        .into_iter()
        .filter(|t| !done_rows.contains(&t.row))
        .collect();
    let second = w.execute(run, spam(), left, base);
    assert_eq!(rows_of(&w.calls()[asked_before..]), [4, 5, 6, 7, 8, 9]);
    let first_report = second.progress[0];
    assert_eq!(
        (
            first_report.total,
            first_report.done(),
            first_report.base_done
        ),
        (10, 4, 4)
    );
    let run = second.run();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        (run.total, run.valid, run.invalid, run.failed),
        (10, 9, 1, 0)
    );
    assert_eq!(&w.stored_run(), run);
    assert_eq!(w.stored().len(), 10);
}

#[test]
fn a_rate_limit_spaces_requests_by_the_token_bucket() {
    let w = World::new(|_| answer("spam").after(10.0));
    // 120 a minute: one every 500 ms, however many may be in flight.
    let mut e = endpoint(8);
    e.requests_per_minute = Some(120);
    let done = w.fresh(e, 0..6);
    let starts = starts_of(&w.calls());
    let want = [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0];
    assert_eq!(starts.len(), want.len());
    for (got, want) in starts.iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{starts:?}");
    }
    assert_eq!(w.client.max_in_flight(), 1);
    assert_eq!(done.run().valid, 6);
}

#[test]
fn results_are_written_a_second_after_the_last_write_or_fifty_at_a_time() {
    // One at a time every 70 ms: the first write waits for the 1 s mark.
    let w = World::new(|_| answer("spam").after(70.0));
    let seen = Rc::new(RefCell::new(Vec::new()));
    for t in [990.0, 1010.0, 2010.0] {
        let (storage, seen) = (w.storage.clone(), seen.clone());
        w.sim.at(t, move || {
            let stored = stored(&storage).len();
            let counted = stored_run(&storage).valid;
            seen.borrow_mut().push((t, stored, counted));
        });
    }
    let done = w.fresh(endpoint(1), 0..30);
    // 14 answers by 980 ms written at 1000 ms; 14 more by 1960 ms written at 2000 ms.
    assert_eq!(
        *seen.borrow(),
        [(990.0, 0, 0), (1010.0, 14, 14), (2010.0, 28, 28)]
    );
    assert_eq!(done.run().valid, 30);
    assert_eq!(w.stored().len(), 30);

    // Sixty-four at a time: a write as soon as fifty are waiting.
    let w = World::new(|_| answer("spam"));
    let seen = Rc::new(RefCell::new(None));
    let (storage, at_150) = (w.storage.clone(), seen.clone());
    w.sim.at(150.0, move || {
        *at_150.borrow_mut() = Some(stored(&storage).len())
    });
    let done = w.fresh(endpoint(64), 0..120);
    assert_eq!(*seen.borrow(), Some(50));
    assert_eq!(w.stored().len(), 120);
    assert_eq!(done.ended, 200.0);
}

#[test]
fn progress_is_reported_at_most_four_times_a_second() {
    let w = World::new(|_| answer("spam"));
    let done = w.fresh(endpoint(10), 0..1000);
    assert_eq!(done.ended, 10_000.0);
    // The report at the start, then one at least every 250 ms, then the last.
    let times: Vec<f64> = done.progress.iter().map(|p| p.elapsed_ms).collect();
    let between = &times[1..times.len() - 1];
    assert!(
        between.windows(2).all(|w| w[1] - w[0] >= 250.0),
        "{times:?}"
    );
    // Answers come every 100 ms, so a report every 300 ms: 100, 400, … 10 000.
    assert_eq!(between.len(), 34);
    assert_eq!(between[..3], [100.0, 400.0, 700.0]);
    assert_eq!(done.last().done(), 1000);
}

#[test]
fn a_full_disk_stops_the_run_with_its_storage_error_and_asks_no_more() {
    // Room for 60 annotations: the first batch of fifty is kept, the second refused.
    let w = World::new(|_| answer("spam"));
    w.storage.set_annotation_quota(Some(60));
    let done = w.fresh(endpoint(64), 0..500);
    assert_eq!(
        done.result,
        Err(RunError::Storage(
            fannotate::services::storage::StorageError::QuotaExceeded
        ))
    );
    assert!(w.control.is_cancelled(), "the run stops asking");
    assert_eq!(w.stored().len(), 50, "the refused batch keeps nothing");
    // At 200 ms each answer frees a slot for the next row; the 36th answer
    // fills the second batch (14 left from 100 ms + 36), whose write fails and
    // cancels the run at once: 64 + 64 + 36 requests, then none (the failure
    // used to wait for the next write to be noticed, 50 answers later).
    let calls = w.calls();
    assert_eq!(calls.len(), 164);
    assert!(calls.iter().all(|c| c.start <= 200.0));
    assert_eq!(done.ended, 200.0);
}
