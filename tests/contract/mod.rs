//! The storage contract: what every [`Storage`] promises the app, written once
//! and run against each implementation, [`MemoryStorage`] on the host
//! (`tests/memory_storage.rs`) and [`IdbStorage`] in the browser (`tests/web.rs`).
//!
//! A test module shared by both test crates (a directory under `tests/`, so it
//! is no test target of its own), so none of it ships in the app.
//!
//! Not asserted, because the trait does not promise it and the stores differ:
//! the order of [`Storage::all_annotations`] (memory: by row, attribute, source;
//! IndexedDB: by source, row, attribute), which [`Storage::dataset`] answers if a
//! project somehow had two (memory: lowest id; IndexedDB: newest import), and
//! `put_rows` from a row that is not a chunk boundary (IndexedDB refuses it,
//! memory takes it; the importer always writes whole chunks).
//!
//! [`MemoryStorage`]: fannotate::services::memory::MemoryStorage
//! [`IdbStorage`]: fannotate::services::idb::IdbStorage

use fannotate::services::storage::{Storage, StorageError};
use fannotate_core::experiment::CellSpec;
use fannotate_core::records::{
    run_source, Annotation, AnnotationStatus, CodebookVersion, DatasetMeta, EndpointConfig,
    Experiment, ExperimentCell, ImportMarker, Project, Provider, RowRecord, RunRecord, RunStatus,
    Scope, ValidationSet, HUMAN_SOURCE,
};

/// Run every part of the contract, each on a store of its own from `fresh`.
pub async fn storage_contract<S: Storage>(fresh: impl AsyncFn() -> S) {
    an_empty_store_has_nothing(&fresh().await).await;
    every_record_kind_round_trips(&fresh().await).await;
    rows_page_in_file_order_across_chunks(&fresh().await).await;
    a_staged_import_shows_only_once_committed(&fresh().await).await;
    aborted_imports_leave_nothing_and_cannot_commit(&fresh().await).await;
    a_new_dataset_replaces_the_old_with_its_rows_and_annotations(&fresh().await).await;
    the_latest_codebook_is_the_highest_version(&fresh().await).await;
    annotations_and_run_counters_are_stored_together(&fresh().await).await;
    sources_are_kept_apart_and_delete_removes_one(&fresh().await).await;
    reads_bigger_than_a_page_return_every_record_once(&fresh().await).await;
    two_projects_never_mix_and_delete_takes_only_its_own(&fresh().await).await;
}

// ---- records -----------------------------------------------------------------

fn project(id: &str, updated_at: f64) -> Project {
    Project {
        id: id.into(),
        name: format!("Project {id}"),
        created_at: 1.0,
        updated_at,
        sample: false,
        student: None,
    }
}

/// A dataset's metadata with `n` rows of `id` and `text` (shared with `tests/web.rs`).
pub fn meta(id: &str, project_id: &str, n: u32) -> DatasetMeta {
    DatasetMeta {
        id: id.into(),
        project_id: project_id.into(),
        name: format!("{id}.csv"),
        columns: vec!["id".into(), "text".into()],
        text_col: 1,
        id_col: Some(0),
        gold_col: None,
        gold_cols: Vec::new(),
        validation: None,
        row_count: n,
        bytes: 10 * u64::from(n),
        encoding: "UTF-8".into(),
        delimiter: ",".into(),
        imported_at: 3.0,
    }
}

/// `n` rows of [`meta`]'s columns, with non-ASCII text and quotes.
pub fn rows(dataset_id: &str, n: u32) -> Vec<RowRecord> {
    (0..n)
        .map(|i| RowRecord {
            dataset_id: dataset_id.into(),
            idx: i,
            id: format!("{dataset_id}-r{i}"),
            cells: vec![format!("r{i}"), format!("text æøå \"{i}\", ✓")],
        })
        .collect()
}

fn marker(dataset_id: &str, project_id: &str) -> ImportMarker {
    ImportMarker {
        dataset_id: dataset_id.into(),
        project_id: project_id.into(),
        started_at: 1.0,
    }
}

fn codebook(project_id: &str, version: u32) -> CodebookVersion {
    CodebookVersion {
        project_id: project_id.into(),
        version,
        saved_at: f64::from(version),
        json: format!("{{\"codes\":[],\"v\":{version}}}"),
    }
}

fn run(id: &str, project_id: &str, dataset_id: &str, started_at: f64) -> RunRecord {
    RunRecord {
        id: id.into(),
        project_id: project_id.into(),
        dataset_id: dataset_id.into(),
        attribute: "spam".into(),
        free_text: false,
        codebook_version: 1,
        endpoint: EndpointConfig::new(project_id, Provider::Vllm, None, Some("m")),
        status: RunStatus::Running,
        total: 4,
        valid: 0,
        invalid: 0,
        failed: 0,
        started_at,
        finished_at: None,
        error: None,
        scope: Scope::All,
        task_rows: Some(vec![[0, 4]]),
        experiment: None,
        aggregate: None,
        batch: None,
    }
}

fn experiment(id: &str, project_id: &str, created_at: f64) -> Experiment {
    Experiment {
        id: id.into(),
        project_id: project_id.into(),
        dataset_id: "d".into(),
        attribute: "spam".into(),
        name: format!("grid {id}"),
        created_at,
        task_rows: vec![[0, 3]],
        cells: vec![ExperimentCell {
            spec: CellSpec {
                endpoint: 0,
                model: "m".into(),
                version: 1,
                temperature: 0.7,
                replications: 3,
                constrained: false,
            },
            run_id: Some("r1".into()),
            pinned: true,
        }],
        prices: Vec::new(),
        endpoints: Vec::new(),
        daily_volume: 6500,
        workers: 8,
    }
}

/// An annotation with every field set, so a round trip checks them all.
fn annotation(dataset_id: &str, row: u32, attribute: &str, source: &str) -> Annotation {
    Annotation {
        dataset_id: dataset_id.into(),
        row,
        attribute: attribute.into(),
        source: source.into(),
        value: Some(format!("ham {row}")),
        raw: format!("ham {row} from {source}"),
        status: AnnotationStatus::Valid,
        reason: Some("because".into()),
        latency_ms: 12.5,
        tokens_in: 30,
        tokens_out: 1,
        tokens_estimated: true,
        confidence: Some(0.9),
        agreement: Some(2.0 / 3.0),
        replica_values: vec![Some("ham".into()), None, Some("ham".into())],
        ts: 4.0,
    }
}

/// `all_annotations` in a fixed order: its own order is not part of the contract.
async fn all_sorted(s: &dyn Storage, dataset_id: &str) -> Vec<Annotation> {
    let mut v = s.all_annotations(dataset_id.into()).await.unwrap();
    v.sort_by(|a, b| (a.row, &a.attribute, &a.source).cmp(&(b.row, &b.attribute, &b.source)));
    v
}

fn rows_of(v: &[Annotation]) -> Vec<u32> {
    v.iter().map(|a| a.row).collect()
}

// ---- the contract ------------------------------------------------------------

async fn an_empty_store_has_nothing(s: &dyn Storage) {
    assert!(s.list_projects().await.unwrap().is_empty());
    assert_eq!(s.dataset("p".into()).await.unwrap(), None);
    assert!(s.rows("d".into(), 0, 10).await.unwrap().is_empty());
    assert_eq!(s.latest_codebook("p".into()).await.unwrap(), None);
    assert!(s.codebook_versions("p".into()).await.unwrap().is_empty());
    assert_eq!(s.endpoint("p".into()).await.unwrap(), None);
    assert!(s.runs("p".into()).await.unwrap().is_empty());
    assert!(s.experiments("p".into()).await.unwrap().is_empty());
    assert!(s.all_annotations("d".into()).await.unwrap().is_empty());
    assert!(s
        .annotations("d".into(), HUMAN_SOURCE.into())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.abort_imports(None).await.unwrap(), 0);
    // Deleting what is not there is no error.
    s.delete_project("p".into()).await.unwrap();
    s.delete_experiment("x".into()).await.unwrap();
    s.delete_annotation("d".into(), HUMAN_SOURCE.into(), 0, "spam".into())
        .await
        .unwrap();
}

async fn every_record_kind_round_trips(s: &dyn Storage) {
    // Projects: newest update first; a put with a known id replaces.
    let (a, b) = (project("a", 1.0), project("b", 2.0));
    s.put_project(a.clone()).await.unwrap();
    s.put_project(b.clone()).await.unwrap();
    assert_eq!(s.list_projects().await.unwrap(), vec![b.clone(), a.clone()]);
    let a2 = Project {
        name: "Renamed".into(),
        updated_at: 5.0,
        sample: true,
        ..a.clone()
    };
    s.put_project(a2.clone()).await.unwrap();
    assert_eq!(s.list_projects().await.unwrap(), vec![a2, b]);

    // A dataset, and its metadata updated without touching its rows.
    let (m, r) = (meta("d", "a", 3), rows("d", 3));
    s.put_dataset(m.clone(), r.clone()).await.unwrap();
    assert_eq!(s.dataset("a".into()).await.unwrap(), Some(m.clone()));
    assert_eq!(s.rows("d".into(), 0, 10).await.unwrap(), r);
    let mut m2 = m.clone();
    m2.set_gold("spam", Some(1));
    m2.validation = Some(ValidationSet::new([0, 2], "random, seed 1".into()));
    s.update_dataset(m2.clone()).await.unwrap();
    assert_eq!(s.dataset("a".into()).await.unwrap(), Some(m2));
    assert_eq!(s.rows("d".into(), 0, 10).await.unwrap(), r);

    // Endpoint: one per project, replaced by the next save.
    let mut ep = EndpointConfig::new("a", Provider::OpenAi, None, Some("gpt"));
    ep.api_key = Some("sk-test".into());
    ep.store_key = true;
    s.put_endpoint(ep.clone()).await.unwrap();
    assert_eq!(s.endpoint("a".into()).await.unwrap(), Some(ep.clone()));
    ep.model = "other".into();
    s.put_endpoint(ep.clone()).await.unwrap();
    assert_eq!(s.endpoint("a".into()).await.unwrap(), Some(ep));
    assert_eq!(s.endpoint("b".into()).await.unwrap(), None);

    // Runs: newest start first; a put with a known id replaces.
    let (r1, r2) = (run("r1", "a", "d", 1.0), run("r2", "a", "d", 2.0));
    s.put_run(r1.clone()).await.unwrap();
    s.put_run(r2.clone()).await.unwrap();
    assert_eq!(
        s.runs("a".into()).await.unwrap(),
        vec![r2.clone(), r1.clone()]
    );
    let r1done = RunRecord {
        status: RunStatus::Completed,
        valid: 3,
        failed: 1,
        finished_at: Some(9.0),
        error: Some("one failed".into()),
        experiment: Some("x1".into()),
        aggregate: None,
        batch: None,
        ..r1
    };
    s.put_run(r1done.clone()).await.unwrap();
    assert_eq!(
        s.runs("a".into()).await.unwrap(),
        vec![r2.clone(), r1done.clone()]
    );

    // Experiments: newest first; deleting one keeps the other and every run.
    let (x1, x2) = (experiment("x1", "a", 1.0), experiment("x2", "a", 2.0));
    s.put_experiment(x1.clone()).await.unwrap();
    s.put_experiment(x2.clone()).await.unwrap();
    assert_eq!(
        s.experiments("a".into()).await.unwrap(),
        vec![x2.clone(), x1.clone()]
    );
    let mut x1b = x1.clone();
    x1b.name = "renamed".into();
    s.put_experiment(x1b.clone()).await.unwrap();
    assert_eq!(
        s.experiments("a".into()).await.unwrap(),
        vec![x2, x1b.clone()]
    );
    s.delete_experiment("x2".into()).await.unwrap();
    assert_eq!(s.experiments("a".into()).await.unwrap(), vec![x1b]);
    assert_eq!(s.runs("a".into()).await.unwrap(), vec![r2, r1done]);

    // Codebook versions, oldest first.
    for v in 1..=3 {
        s.put_codebook(codebook("a", v)).await.unwrap();
    }
    assert_eq!(
        s.codebook_versions("a".into()).await.unwrap(),
        (1..=3).map(|v| codebook("a", v)).collect::<Vec<_>>()
    );

    // Annotations with every field; a put with a known key replaces.
    let src = run_source("r1");
    let one = annotation("d", 1, "spam", &src);
    s.put_annotations(vec![one.clone()], None).await.unwrap();
    assert_eq!(
        s.annotations("d".into(), src.clone()).await.unwrap(),
        vec![one.clone()]
    );
    let sparse = Annotation {
        value: None,
        status: AnnotationStatus::Error,
        confidence: None,
        agreement: None,
        replica_values: Vec::new(),
        ..one
    };
    s.put_annotations(vec![sparse.clone()], None).await.unwrap();
    assert_eq!(
        s.annotations("d".into(), src).await.unwrap(),
        vec![sparse.clone()]
    );
    assert_eq!(s.all_annotations("d".into()).await.unwrap(), vec![sparse]);
}

async fn rows_page_in_file_order_across_chunks(s: &dyn Storage) {
    // 2,500 rows: more than two of IndexedDB's 1,000-row chunks.
    let (m, r) = (meta("d", "p", 2_500), rows("d", 2_500));
    s.put_dataset(m, r.clone()).await.unwrap();
    let page = |start: u32, limit: u32| s.rows("d".into(), start, limit);
    assert_eq!(page(0, 25).await.unwrap(), r[..25]);
    assert_eq!(page(100, 25).await.unwrap(), r[100..125]);
    assert_eq!(page(990, 20).await.unwrap(), r[990..1010]);
    assert_eq!(page(999, 1002).await.unwrap(), r[999..2001]);
    assert_eq!(page(1000, 1000).await.unwrap(), r[1000..2000]);
    assert_eq!(page(0, 2_500).await.unwrap(), r);
    assert_eq!(page(0, u32::MAX).await.unwrap(), r);
    // Short at the end, empty past it and for no rows.
    assert_eq!(page(2_490, 25).await.unwrap(), r[2_490..]);
    assert!(page(2_500, 25).await.unwrap().is_empty());
    assert!(page(5_000, 25).await.unwrap().is_empty());
    assert!(page(10, 0).await.unwrap().is_empty());
    // Another dataset's rows are not in the page.
    assert!(s.rows("d2".into(), 0, 10).await.unwrap().is_empty());
}

async fn a_staged_import_shows_only_once_committed(s: &dyn Storage) {
    let (old, old_rows) = (meta("old", "p", 5), rows("old", 5));
    s.put_dataset(old.clone(), old_rows.clone()).await.unwrap();
    let (new, new_rows) = (meta("new", "p", 1_200), rows("new", 1_200));
    s.begin_import(marker("new", "p")).await.unwrap();
    // Written in chunks, the way the importer writes them.
    s.put_rows(new_rows[..1_000].to_vec()).await.unwrap();
    s.put_rows(new_rows[1_000..].to_vec()).await.unwrap();
    // Until the commit the project still has its old dataset, rows and all.
    assert_eq!(s.dataset("p".into()).await.unwrap(), Some(old.clone()));
    assert_eq!(s.rows("old".into(), 0, 10).await.unwrap(), old_rows);
    s.commit_import(new.clone()).await.unwrap();
    assert_eq!(s.dataset("p".into()).await.unwrap(), Some(new));
    assert_eq!(s.rows("new".into(), 0, 2_000).await.unwrap(), new_rows);
    assert!(s.rows("old".into(), 0, 10).await.unwrap().is_empty());
    // A committed import is no longer pending: a sweep leaves it alone.
    assert_eq!(s.abort_imports(None).await.unwrap(), 0);
    assert_eq!(s.rows("new".into(), 0, 2_000).await.unwrap(), new_rows);
    // Committing it again finds no import.
    assert_eq!(
        s.commit_import(meta("new", "p", 1_200)).await,
        Err(StorageError::Interrupted)
    );
}

async fn aborted_imports_leave_nothing_and_cannot_commit(s: &dyn Storage) {
    let (old, old_rows) = (meta("old", "p", 5), rows("old", 5));
    s.put_dataset(old.clone(), old_rows.clone()).await.unwrap();

    // Cancelled: its staged rows go, the old dataset stays.
    s.begin_import(marker("d1", "p")).await.unwrap();
    s.put_rows(rows("d1", 12)).await.unwrap();
    assert_eq!(s.abort_imports(Some("d1".into())).await.unwrap(), 1);
    assert!(s.rows("d1".into(), 0, 100).await.unwrap().is_empty());
    assert_eq!(
        s.commit_import(meta("d1", "p", 12)).await,
        Err(StorageError::Interrupted)
    );
    assert_eq!(s.dataset("p".into()).await.unwrap(), Some(old.clone()));
    assert_eq!(s.rows("old".into(), 0, 10).await.unwrap(), old_rows);

    // Tabs closed mid-import: a sweep removes every pending import, of every
    // project, and counts them; a late commit then fails and changes nothing.
    s.begin_import(marker("d2", "p")).await.unwrap();
    s.put_rows(rows("d2", 6)).await.unwrap();
    s.begin_import(marker("d3", "q")).await.unwrap();
    s.put_rows(rows("d3", 6)).await.unwrap();
    assert_eq!(s.abort_imports(None).await.unwrap(), 2);
    assert_eq!(s.abort_imports(None).await.unwrap(), 0);
    for id in ["d2", "d3"] {
        assert!(s.rows(id.into(), 0, 100).await.unwrap().is_empty());
    }
    assert_eq!(
        s.commit_import(meta("d2", "p", 6)).await,
        Err(StorageError::Interrupted)
    );
    assert_eq!(
        s.commit_import(meta("d3", "q", 6)).await,
        Err(StorageError::Interrupted)
    );
    assert_eq!(s.dataset("p".into()).await.unwrap(), Some(old));
    assert_eq!(s.rows("old".into(), 0, 10).await.unwrap(), old_rows);
    assert_eq!(s.dataset("q".into()).await.unwrap(), None);
}

async fn a_new_dataset_replaces_the_old_with_its_rows_and_annotations(s: &dyn Storage) {
    s.put_dataset(meta("d1", "p", 50), rows("d1", 50))
        .await
        .unwrap();
    let src = run_source("r1");
    s.put_annotations(
        vec![
            annotation("d1", 3, "spam", &src),
            annotation("d1", 3, "spam", HUMAN_SOURCE),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(s.all_annotations("d1".into()).await.unwrap().len(), 2);

    let (m2, r2) = (meta("d2", "p", 2), rows("d2", 2));
    s.put_dataset(m2.clone(), r2.clone()).await.unwrap();
    assert_eq!(s.dataset("p".into()).await.unwrap(), Some(m2.clone()));
    assert_eq!(s.rows("d2".into(), 0, 100).await.unwrap(), r2);
    assert!(s.rows("d1".into(), 0, 100).await.unwrap().is_empty());
    assert!(s.annotations("d1".into(), src).await.unwrap().is_empty());
    assert!(s.all_annotations("d1".into()).await.unwrap().is_empty());

    // Put again under the same id with fewer rows: no row of the longer one is left.
    let (m3, r3) = (meta("d2", "p", 1), rows("d2", 1));
    s.put_dataset(m3.clone(), r3.clone()).await.unwrap();
    assert_eq!(s.dataset("p".into()).await.unwrap(), Some(m3));
    assert_eq!(s.rows("d2".into(), 0, 100).await.unwrap(), r3);
}

async fn the_latest_codebook_is_the_highest_version(s: &dyn Storage) {
    // Saved out of order, and past 9 so a textual order would pick 9.
    for v in [2, 10, 1, 9] {
        s.put_codebook(codebook("p", v)).await.unwrap();
    }
    assert_eq!(
        s.latest_codebook("p".into()).await.unwrap(),
        Some(codebook("p", 10))
    );
    let versions: Vec<u32> = s
        .codebook_versions("p".into())
        .await
        .unwrap()
        .iter()
        .map(|c| c.version)
        .collect();
    assert_eq!(versions, vec![1, 2, 9, 10]);
    // Saving a version again replaces it.
    let again = CodebookVersion {
        json: "{\"codes\":[],\"again\":true}".into(),
        ..codebook("p", 10)
    };
    s.put_codebook(again.clone()).await.unwrap();
    assert_eq!(s.latest_codebook("p".into()).await.unwrap(), Some(again));
    assert_eq!(s.codebook_versions("p".into()).await.unwrap().len(), 4);
}

async fn annotations_and_run_counters_are_stored_together(s: &dyn Storage) {
    s.put_dataset(meta("d", "p", 4), rows("d", 4))
        .await
        .unwrap();
    let r = run("r1", "p", "d", 1.0);
    s.put_run(r.clone()).await.unwrap();
    let src = run_source("r1");

    let counted = RunRecord {
        valid: 2,
        ..r.clone()
    };
    s.put_annotations(
        vec![
            annotation("d", 0, "spam", &src),
            annotation("d", 1, "spam", &src),
        ],
        Some(counted.clone()),
    )
    .await
    .unwrap();
    assert_eq!(s.runs("p".into()).await.unwrap(), vec![counted.clone()]);
    assert_eq!(
        rows_of(&s.annotations("d".into(), src.clone()).await.unwrap()),
        [0, 1]
    );

    // The last batch finishes the run.
    let mut failed = annotation("d", 3, "spam", &src);
    failed.status = AnnotationStatus::Error;
    failed.value = None;
    let finished = RunRecord {
        status: RunStatus::Completed,
        valid: 3,
        failed: 1,
        finished_at: Some(5.0),
        ..r
    };
    s.put_annotations(
        vec![failed, annotation("d", 2, "spam", &src)],
        Some(finished.clone()),
    )
    .await
    .unwrap();
    assert_eq!(s.runs("p".into()).await.unwrap(), vec![finished.clone()]);
    assert_eq!(
        rows_of(&s.annotations("d".into(), src.clone()).await.unwrap()),
        [0, 1, 2, 3]
    );

    // Without a run the run's record stays as it was.
    s.put_annotations(vec![annotation("d", 0, "spam", HUMAN_SOURCE)], None)
        .await
        .unwrap();
    assert_eq!(s.runs("p".into()).await.unwrap(), vec![finished]);
    // An empty batch can still carry the counters.
    let cancelled = RunRecord {
        status: RunStatus::Cancelled,
        ..counted
    };
    s.put_annotations(Vec::new(), Some(cancelled.clone()))
        .await
        .unwrap();
    assert_eq!(s.runs("p".into()).await.unwrap(), vec![cancelled]);
    assert_eq!(s.all_annotations("d".into()).await.unwrap().len(), 5);
}

async fn reads_bigger_than_a_page_return_every_record_once(s: &dyn Storage) {
    // IndexedDB reads these in pages of 5,000 records (rows: five chunks).
    let n = 12_345;
    let (m, r) = (meta("d", "p", n), rows("d", n));
    s.put_dataset(m, r.clone()).await.unwrap();
    assert_eq!(s.rows("d".into(), 0, n).await.unwrap(), r);
    assert_eq!(
        s.rows("d".into(), 4_321, 6_000).await.unwrap(),
        r[4_321..10_321]
    );
    let (a, b) = (run_source("a"), run_source("b"));
    let mut all: Vec<Annotation> = Vec::new();
    for row in 0..6_001 {
        all.push(annotation("d", row, "spam", &a));
        all.push(annotation("d", row, "tone", &a));
        if row % 3 == 0 {
            all.push(annotation("d", row, "spam", &b));
        }
    }
    s.put_annotations(all.clone(), None).await.unwrap();
    let got = s.annotations("d".into(), a.clone()).await.unwrap();
    let expected: Vec<(u32, String)> = (0..6_001)
        .flat_map(|row| [(row, "spam".to_string()), (row, "tone".to_string())])
        .collect();
    let keys: Vec<(u32, String)> = got.iter().map(|x| (x.row, x.attribute.clone())).collect();
    assert_eq!(
        keys, expected,
        "every record of the source once, in key order"
    );
    assert_eq!(s.annotations("d".into(), b).await.unwrap().len(), 2_001);
    let everything = s.all_annotations("d".into()).await.unwrap();
    assert_eq!(everything.len(), all.len());
    let mut seen: Vec<(String, u32, String)> = everything
        .iter()
        .map(|x| (x.source.clone(), x.row, x.attribute.clone()))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), all.len());
}

async fn sources_are_kept_apart_and_delete_removes_one(s: &dyn Storage) {
    s.put_dataset(meta("d", "p", 10), rows("d", 10))
        .await
        .unwrap();
    let (r1, r2) = (run_source("r1"), run_source("r2"));
    // Written out of row order; read back in row order.
    let run1: Vec<Annotation> = (0..5)
        .rev()
        .map(|i| annotation("d", i, "spam", &r1))
        .collect();
    s.put_annotations(run1, None).await.unwrap();
    s.put_annotations(vec![annotation("d", 3, "spam", &r2)], None)
        .await
        .unwrap();
    let human = vec![
        annotation("d", 3, "spam", HUMAN_SOURCE),
        annotation("d", 3, "tone", HUMAN_SOURCE),
        annotation("d", 4, "spam", HUMAN_SOURCE),
    ];
    s.put_annotations(human.clone(), None).await.unwrap();

    let got = s.annotations("d".into(), r1.clone()).await.unwrap();
    assert_eq!(rows_of(&got), [0, 1, 2, 3, 4]);
    assert!(got.iter().all(|a| a.source == r1));
    assert_eq!(
        s.annotations("d".into(), r2.clone()).await.unwrap(),
        vec![annotation("d", 3, "spam", &r2)]
    );
    assert_eq!(
        s.annotations("d".into(), HUMAN_SOURCE.into())
            .await
            .unwrap(),
        human
    );
    // A source that only shares a prefix with one stored is another source.
    assert!(s
        .annotations("d".into(), "run:r".into())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.all_annotations("d".into()).await.unwrap().len(), 9);

    // Undoing one human label removes that one only: not the same row's other
    // attribute, not another row, not a run's label of the same row.
    s.delete_annotation("d".into(), HUMAN_SOURCE.into(), 3, "spam".into())
        .await
        .unwrap();
    assert_eq!(
        s.annotations("d".into(), HUMAN_SOURCE.into())
            .await
            .unwrap(),
        vec![human[1].clone(), human[2].clone()]
    );
    assert_eq!(
        rows_of(&s.annotations("d".into(), r1.clone()).await.unwrap()),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(s.annotations("d".into(), r2).await.unwrap().len(), 1);
    assert_eq!(s.all_annotations("d".into()).await.unwrap().len(), 8);
    // Deleting what is not there changes nothing.
    s.delete_annotation("d".into(), HUMAN_SOURCE.into(), 3, "spam".into())
        .await
        .unwrap();
    s.delete_annotation("d".into(), r1, 9, "spam".into())
        .await
        .unwrap();
    assert_eq!(s.all_annotations("d".into()).await.unwrap().len(), 8);
}

/// Everything a project can own, under ids that share prefixes with the other
/// project's (`a`/`ab`, `da`/`dab`) so range reads cannot spill over.
async fn fill_project(s: &dyn Storage, p: &str) -> Snapshot {
    let ds = format!("d{p}");
    s.put_project(project(p, 1.0)).await.unwrap();
    s.put_dataset(meta(&ds, p, 30), rows(&ds, 30))
        .await
        .unwrap();
    for v in 1..=2 {
        s.put_codebook(codebook(p, v)).await.unwrap();
    }
    s.put_endpoint(EndpointConfig::new(p, Provider::LlamaCpp, None, Some(p)))
        .await
        .unwrap();
    let r = run(&format!("run-{p}"), p, &ds, 1.0);
    let src = run_source(&r.id);
    s.put_annotations(
        (0..3).map(|i| annotation(&ds, i, "spam", &src)).collect(),
        Some(r),
    )
    .await
    .unwrap();
    s.put_annotations(vec![annotation(&ds, 1, "spam", HUMAN_SOURCE)], None)
        .await
        .unwrap();
    s.put_experiment(experiment(&format!("x-{p}"), p, 1.0))
        .await
        .unwrap();
    snapshot(s, p).await
}

/// What the store answers about one project.
#[derive(Debug, PartialEq)]
struct Snapshot {
    project: Option<Project>,
    dataset: Option<DatasetMeta>,
    rows: Vec<RowRecord>,
    annotations: Vec<Annotation>,
    codebooks: Vec<CodebookVersion>,
    latest: Option<CodebookVersion>,
    endpoint: Option<EndpointConfig>,
    runs: Vec<RunRecord>,
    experiments: Vec<Experiment>,
}

async fn snapshot(s: &dyn Storage, p: &str) -> Snapshot {
    let ds = format!("d{p}");
    Snapshot {
        project: s
            .list_projects()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.id == p),
        dataset: s.dataset(p.into()).await.unwrap(),
        rows: s.rows(ds.clone(), 0, 1_000).await.unwrap(),
        annotations: all_sorted(s, &ds).await,
        codebooks: s.codebook_versions(p.into()).await.unwrap(),
        latest: s.latest_codebook(p.into()).await.unwrap(),
        endpoint: s.endpoint(p.into()).await.unwrap(),
        runs: s.runs(p.into()).await.unwrap(),
        experiments: s.experiments(p.into()).await.unwrap(),
    }
}

async fn two_projects_never_mix_and_delete_takes_only_its_own(s: &dyn Storage) {
    let a = fill_project(s, "a").await;
    let b = fill_project(s, "ab").await;
    // Each project sees exactly its own records.
    for (p, snap) in [("a", &a), ("ab", &b)] {
        let ds = format!("d{p}");
        assert_eq!(snap.project.as_ref().map(|x| x.id.as_str()), Some(p));
        assert_eq!(
            snap.dataset.as_ref().map(|d| d.id.clone()),
            Some(ds.clone())
        );
        assert_eq!(snap.rows, rows(&ds, 30));
        assert_eq!(snap.annotations.len(), 4);
        assert!(snap.annotations.iter().all(|x| x.dataset_id == ds));
        assert_eq!(snap.codebooks, vec![codebook(p, 1), codebook(p, 2)]);
        assert_eq!(snap.latest, Some(codebook(p, 2)));
        assert_eq!(snap.endpoint.as_ref().map(|e| e.model.as_str()), Some(p));
        assert_eq!(snap.runs.len(), 1);
        assert_eq!(snap.runs[0].project_id, p);
        assert_eq!(snap.experiments.len(), 1);
        assert_eq!(snap.experiments[0].project_id, p);
    }
    assert_eq!(snapshot(s, "a").await, a, "writing ab changed a");

    s.delete_project("a".into()).await.unwrap();
    assert_eq!(
        snapshot(s, "a").await,
        Snapshot {
            project: None,
            dataset: None,
            rows: Vec::new(),
            annotations: Vec::new(),
            codebooks: Vec::new(),
            latest: None,
            endpoint: None,
            runs: Vec::new(),
            experiments: Vec::new(),
        }
    );
    assert_eq!(snapshot(s, "ab").await, b, "deleting a touched ab");
    assert_eq!(s.list_projects().await.unwrap(), vec![project("ab", 1.0)]);
}
