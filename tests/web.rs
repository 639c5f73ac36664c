//! Browser tests (wasm-bindgen-test in headless Chromium): IndexedDB storage
//! (the shared storage contract in `tests/contract`, plus what only IndexedDB
//! has: its schema, migrations and per-key databases), backups, a component
//! mounted alone, and the mounted app.
#![cfg(target_arch = "wasm32")]

use fannotate::services::browser::{random_id, sleep};
use fannotate::services::idb::{db_name, open_database, stores, IdbStorage, DB_VERSION};
use fannotate::services::storage::{Storage, StorageError};
use fannotate_core::records::{
    run_source, Annotation, AnnotationStatus, CodebookVersion, DatasetMeta, EndpointConfig,
    Project, Provider, RowRecord,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod contract;

#[wasm_bindgen_test]
async fn indexeddb_keeps_the_storage_contract() {
    // Every part on a database of its own.
    contract::storage_contract(async || {
        IdbStorage::open(&format!("contract-{}", random_id()))
            .await
            .unwrap()
    })
    .await;
}

fn project(name: &str) -> Project {
    Project {
        id: random_id(),
        name: name.into(),
        created_at: 1.0,
        updated_at: 2.0,
        sample: false,
        student: None,
    }
}

fn dataset(project_id: &str, n: u32) -> (DatasetMeta, Vec<RowRecord>) {
    let id = random_id();
    (contract::meta(&id, project_id, n), contract::rows(&id, n))
}

fn annotation(ds: &str, row: u32, source: &str) -> Annotation {
    Annotation {
        dataset_id: ds.into(),
        row,
        attribute: "spam".into(),
        source: source.into(),
        value: Some("ham".into()),
        raw: "ham".into(),
        status: AnnotationStatus::Valid,
        reason: None,
        latency_ms: 12.0,
        tokens_in: 30,
        tokens_out: 1,
        tokens_estimated: false,
        confidence: Some(0.9),
        agreement: Some(2.0 / 3.0),
        replica_values: vec![Some("ham".into()), None, Some("ham".into())],
        ts: 4.0,
    }
}

#[wasm_bindgen_test]
async fn fresh_database_has_every_store_of_the_current_version() {
    let name = db_name(&format!("test-{}", random_id()));
    let db = open_database(&name, DB_VERSION).await.unwrap();
    assert_eq!(db.version() as u32, DB_VERSION);
    let names: Vec<String> = db.object_store_names().collect();
    for s in stores::ALL {
        assert!(names.iter().any(|n| n == s), "missing store {s}");
    }
    db.close();
    // Opening again at the same version runs no migration and keeps the stores.
    let db = open_database(&name, DB_VERSION).await.unwrap();
    assert_eq!(db.object_store_names().len(), stores::ALL.len());
    db.close();
}

/// Open an existing database at its version with raw web-sys, as an older
/// release (or another tool reading the data) would.
async fn raw_open(name: &str) -> web_sys::IdbDatabase {
    let req = web_sys::window()
        .unwrap()
        .indexed_db()
        .unwrap()
        .unwrap()
        .open(name)
        .unwrap();
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    wasm_bindgen_futures::JsFuture::from(done).await.unwrap();
    req.result().unwrap().unchecked_into()
}

/// Whether `db` has a store named `store`.
fn has_store(db: &indexed_db_futures::database::Database, store: &str) -> bool {
    db.object_store_names().any(|n| n == store)
}

/// Write records straight into a store, as an older release would have.
async fn raw_put<T: serde::Serialize>(db: &web_sys::IdbDatabase, store: &str, values: &[T]) {
    let tx = db
        .transaction_with_str_and_mode(store, web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    let s = tx.object_store(store).unwrap();
    for v in values {
        let js = v
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap();
        s.put(&js).unwrap();
    }
    let done = js_sys::Promise::new(&mut |resolve, _| tx.set_oncomplete(Some(&resolve)));
    wasm_bindgen_futures::JsFuture::from(done).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_version_1_database_upgrades_with_its_data_intact() {
    let key = format!("migrate-{}", random_id());
    // A database as the first release made it: version 1, one record per row.
    let db = open_database(&db_name(&key), 1).await.unwrap();
    assert!(!has_store(&db, stores::IMPORTS));
    db.close();
    let db = raw_open(&db_name(&key)).await;
    assert_eq!(db.version(), 1.0);
    let p = project("old");
    let (meta, rows) = dataset(&p.id, 30);
    raw_put(&db, stores::PROJECTS, std::slice::from_ref(&p)).await;
    raw_put(&db, stores::DATASETS, std::slice::from_ref(&meta)).await;
    raw_put(&db, stores::ROWS, &rows).await;
    db.close();
    let ds_rows = (meta, rows);
    // This release opens it at the current version: step 2 runs, data stays.
    let s = IdbStorage::open(&key).await.unwrap();
    assert_eq!(s.list_projects().await.unwrap(), vec![p.clone()]);
    assert_eq!(
        s.dataset(p.id.clone()).await.unwrap(),
        Some(ds_rows.0.clone())
    );
    assert_eq!(
        s.rows(ds_rows.0.id.clone(), 0, 100).await.unwrap(),
        ds_rows.1
    );
    // And the new store works.
    let (meta, rows) = dataset(&p.id, 7);
    s.begin_import(fannotate_core::records::ImportMarker {
        dataset_id: meta.id.clone(),
        project_id: p.id.clone(),
        started_at: 1.0,
    })
    .await
    .unwrap();
    s.put_rows(rows.clone()).await.unwrap();
    s.commit_import(meta.clone()).await.unwrap();
    assert_eq!(s.dataset(p.id.clone()).await.unwrap(), Some(meta.clone()));
    assert_eq!(s.rows(meta.id.clone(), 0, 100).await.unwrap(), rows);
    assert!(s
        .rows(ds_rows.0.id.clone(), 0, 100)
        .await
        .unwrap()
        .is_empty());
}

/// An experiment of one cell measured by `run_id`.
fn experiment(
    project_id: &str,
    id: &str,
    run_id: Option<&str>,
) -> fannotate_core::records::Experiment {
    fannotate_core::records::Experiment {
        id: id.into(),
        project_id: project_id.into(),
        dataset_id: "d".into(),
        attribute: "spam".into(),
        name: "grid".into(),
        created_at: 3.0,
        task_rows: vec![[0, 3]],
        cells: vec![fannotate_core::records::ExperimentCell {
            spec: fannotate_core::experiment::CellSpec {
                endpoint: 0,
                model: "m".into(),
                version: 1,
                temperature: 0.7,
                replications: 3,
                constrained: false,
            },
            run_id: run_id.map(str::to_string),
            pinned: false,
        }],
        prices: Vec::new(),
        endpoints: Vec::new(),
        daily_volume: 6500,
        workers: 8,
    }
}

/// A finished run of one row (no error: its `error` is `None`).
fn run_record(project_id: &str) -> fannotate_core::records::RunRecord {
    fannotate_core::records::RunRecord {
        id: "r1".into(),
        project_id: project_id.into(),
        dataset_id: "d".into(),
        attribute: "spam".into(),
        free_text: false,
        codebook_version: 1,
        endpoint: EndpointConfig::new(project_id, Provider::Vllm, None, Some("m")),
        status: fannotate_core::records::RunStatus::Completed,
        total: 1,
        valid: 1,
        invalid: 0,
        failed: 0,
        started_at: 1.0,
        finished_at: Some(2.0),
        error: None,
        scope: fannotate_core::records::Scope::Validation,
        task_rows: None,
        experiment: None,
        aggregate: None,
        batch: None,
    }
}

#[wasm_bindgen_test]
async fn a_version_2_database_gains_experiments_and_keeps_its_runs() {
    let key = format!("migrate3-{}", random_id());
    let db = open_database(&db_name(&key), 2).await.unwrap();
    assert!(!has_store(&db, stores::EXPERIMENTS));
    db.close();
    let db = raw_open(&db_name(&key)).await;
    assert_eq!(db.version(), 2.0);
    let p = project("v2");
    let mut run = run_record(&p.id);
    raw_put(&db, stores::PROJECTS, std::slice::from_ref(&p)).await;
    raw_put(&db, stores::RUNS, std::slice::from_ref(&run)).await;
    db.close();
    let s = IdbStorage::open(&key).await.unwrap();
    assert_eq!(s.runs(p.id.clone()).await.unwrap(), vec![run.clone()]);
    let x = experiment(&p.id, "x1", Some("r1"));
    s.put_experiment(x.clone()).await.unwrap();
    run.experiment = Some("x1".into());
    s.put_run(run).await.unwrap();
    assert_eq!(s.experiments(p.id.clone()).await.unwrap(), vec![x]);
    s.delete_experiment("x1".into()).await.unwrap();
    assert!(s.experiments(p.id.clone()).await.unwrap().is_empty());
    // Deleting the project takes its experiments along.
    s.put_experiment(experiment(&p.id, "x2", None))
        .await
        .unwrap();
    s.delete_project(p.id.clone()).await.unwrap();
    assert!(s.experiments(p.id.clone()).await.unwrap().is_empty());
    assert!(s.runs(p.id.clone()).await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn stores_indexes_and_records_keep_the_stored_format_of_earlier_releases() {
    let key = format!("format-{}", random_id());
    let s = IdbStorage::open(&key).await.unwrap();
    let p = project("format");
    let (meta, rows) = dataset(&p.id, 3);
    s.put_dataset(meta.clone(), rows).await.unwrap();
    s.put_run(run_record(&p.id)).await.unwrap();
    drop(s);

    // Read back with raw web-sys: what an older release would open.
    let db = raw_open(&db_name(&key)).await;
    let names: js_sys::Array = stores::ALL
        .iter()
        .map(|n| wasm_bindgen::JsValue::from_str(n))
        .collect();
    let tx = db.transaction_with_str_sequence(&names).unwrap();
    let json = |v: &wasm_bindgen::JsValue| String::from(js_sys::JSON::stringify(v).unwrap());
    for (store, key_path, by_project) in [
        (stores::PROJECTS, r#""id""#, false),
        (stores::DATASETS, r#""id""#, true),
        (stores::ROWS, r#"["dataset_id","idx"]"#, false),
        (stores::CODEBOOKS, r#"["project_id","version"]"#, false),
        (stores::ENDPOINTS, r#""project_id""#, false),
        (stores::RUNS, r#""id""#, true),
        (
            stores::ANNOTATIONS,
            r#"["dataset_id","source","row","attribute"]"#,
            false,
        ),
        (stores::IMPORTS, r#""dataset_id""#, false),
        (stores::ROW_CHUNKS, r#"["dataset_id","chunk"]"#, false),
        (stores::EXPERIMENTS, r#""id""#, true),
    ] {
        let os = tx.object_store(store).unwrap();
        assert_eq!(
            json(&os.key_path().unwrap()),
            key_path,
            "key path of {store}"
        );
        assert!(!os.auto_increment(), "{store} has no key generator");
        let indexes = os.index_names();
        if by_project {
            assert_eq!(indexes.length(), 1, "indexes of {store}");
            let idx = os.index(stores::BY_PROJECT).unwrap();
            assert_eq!(json(&idx.key_path().unwrap()), r#""project_id""#);
            assert!(!idx.unique() && !idx.multi_entry(), "index of {store}");
        } else {
            assert_eq!(indexes.length(), 0, "indexes of {store}");
        }
    }

    // Records are JSON-compatible: a missing value is stored as null.
    let get = |store: &str, k: wasm_bindgen::JsValue| {
        let req = tx.object_store(store).unwrap().get(&k).unwrap();
        async move {
            let done = js_sys::Promise::new(&mut |resolve, _| req.set_onsuccess(Some(&resolve)));
            wasm_bindgen_futures::JsFuture::from(done).await.unwrap();
            req.result().unwrap()
        }
    };
    let run = get(stores::RUNS, "r1".into()).await;
    let error = js_sys::Reflect::get(&run, &"error".into()).unwrap();
    assert!(error.is_null(), "a run without error stores error: null");
    // Rows: one chunk record holding `[[id, [cells…]], …]` as one JSON string.
    let chunk_key: js_sys::Array = [meta.id.as_str().into(), wasm_bindgen::JsValue::from(0)]
        .into_iter()
        .collect::<js_sys::Array>();
    let chunk = get(stores::ROW_CHUNKS, chunk_key.into()).await;
    let body = js_sys::Reflect::get(&chunk, &"rows".into()).unwrap();
    let rows: Vec<(String, Vec<String>)> =
        serde_json::from_str(&body.as_string().unwrap()).unwrap();
    assert_eq!(rows.len(), 3);
    db.close();
}

#[wasm_bindgen_test]
async fn a_failed_migration_step_reports_its_error_and_keeps_the_old_version() {
    let name = db_name(&format!("badmigrate-{}", random_id()));
    // A version 1 database that already has the store step 2 creates.
    let req = web_sys::window()
        .unwrap()
        .indexed_db()
        .unwrap()
        .unwrap()
        .open_with_u32(&name, 1)
        .unwrap();
    let on_upgrade =
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| {
            let req: web_sys::IdbOpenDbRequest = ev.target().unwrap().unchecked_into();
            let db: web_sys::IdbDatabase = req.result().unwrap().unchecked_into();
            db.create_object_store(stores::IMPORTS).unwrap();
        });
    req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let done = js_sys::Promise::new(&mut |resolve, _| req.set_onsuccess(Some(&resolve)));
    wasm_bindgen_futures::JsFuture::from(done).await.unwrap();
    let db: web_sys::IdbDatabase = req.result().unwrap().unchecked_into();
    db.close();

    let err = open_database(&name, 2).await.expect_err("step 2 must fail");
    match err {
        StorageError::Other(m) => assert!(m.starts_with("ConstraintError: "), "{m}"),
        e => panic!("expected the step's ConstraintError, got {e}"),
    }
    // The upgrade was rolled back: still version 1, without step 2's stores.
    let db = raw_open(&name).await;
    assert_eq!(db.version(), 1.0);
    assert!(!db.object_store_names().contains(stores::ROW_CHUNKS));
    db.close();
}

#[wasm_bindgen_test]
async fn two_persistence_keys_never_share_data() {
    let key = random_id();
    let a = IdbStorage::open(&format!("a-{key}")).await.unwrap();
    let b = IdbStorage::open(&format!("b-{key}")).await.unwrap();
    a.put_project(project("only in a")).await.unwrap();
    assert_eq!(a.list_projects().await.unwrap().len(), 1);
    assert!(b.list_projects().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn the_app_mounts_creates_a_project_and_unmounts() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(
        &opts,
        &"persistenceKey".into(),
        &format!("mount-{}", random_id()).into(),
    )
    .unwrap();
    let mut handle = fannotate::mount(host.clone(), opts.into()).unwrap();
    let find = |sel: &str| host.query_selector(sel).unwrap();
    let has_text = |t: &str| host.text_content().unwrap_or_default().contains(t);
    for _ in 0..200 {
        if has_text("No projects yet") {
            break;
        }
        sleep(20.0).await;
    }
    assert!(
        find("[data-testid=projects-view]").is_some(),
        "projects view did not appear"
    );
    assert!(has_text("No projects yet"), "empty state did not appear");

    let input: web_sys::HtmlInputElement =
        find("[data-testid=project-name]").unwrap().unchecked_into();
    input.set_value("From a test");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    let button: web_sys::HtmlElement = find("[data-testid=create-project]")
        .unwrap()
        .unchecked_into();
    button.click();
    for _ in 0..100 {
        if find("[data-testid=data-view]").is_some() {
            break;
        }
        sleep(20.0).await;
    }
    assert_eq!(
        find("[data-testid=current-project]")
            .unwrap()
            .text_content()
            .unwrap(),
        "From a test"
    );

    handle.unmount();
    assert!(
        find("[data-testid=fannotate]").is_none(),
        "unmount must remove the app"
    );
}

#[wasm_bindgen_test]
fn bad_mount_options_are_an_error_not_a_panic() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    let err = fannotate::mount(host, wasm_bindgen::JsValue::from_f64(3.0))
        .err()
        .unwrap();
    assert!(err
        .as_string()
        .unwrap()
        .contains("invalid Fannotate options"));
}

#[wasm_bindgen_test]
async fn a_backup_restores_into_an_empty_database_store_for_store() {
    use fannotate::services::backup::{backup, restore};
    let key = random_id();
    let a = IdbStorage::open(&format!("bk-a-{key}")).await.unwrap();
    let p = project("Backed up");
    a.put_project(p.clone()).await.unwrap();
    let (meta, rows) = dataset(&p.id, 40);
    a.put_dataset(meta.clone(), rows).await.unwrap();
    for v in 1..=2 {
        a.put_codebook(CodebookVersion {
            project_id: p.id.clone(),
            version: v,
            saved_at: 0.0,
            json: "{\"codes\":[]}".into(),
        })
        .await
        .unwrap();
    }
    a.put_endpoint(EndpointConfig::new(&p.id, Provider::LlamaCpp, None, None))
        .await
        .unwrap();
    let anns: Vec<Annotation> = (0..40)
        .map(|i| annotation(&meta.id, i, &run_source("r1")))
        .collect();
    a.put_annotations(anns, None).await.unwrap();
    a.put_annotations(vec![annotation(&meta.id, 3, "human")], None)
        .await
        .unwrap();

    let original = backup(&a, p.clone()).await.unwrap();
    assert_eq!(original.codebooks.len(), 2);
    assert_eq!(original.annotations.len(), 41);
    let b = IdbStorage::open(&format!("bk-b-{key}")).await.unwrap();
    restore(&b, original.clone()).await.unwrap();
    assert_eq!(backup(&b, p).await.unwrap(), original);
}

/// A fresh `<div>` in the page's body, for mounting one component into.
fn component_host() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

#[wasm_bindgen_test]
async fn the_run_panel_mounted_alone_updates_its_figures_in_place() {
    use fannotate::components::RunProgressPanel;
    use fannotate::services::runner::RunProgress;
    use leptos::prelude::*;

    let host = component_host();
    let progress = RwSignal::new(None::<RunProgress>);
    let run = RwSignal::new(None::<(u32, String)>);
    let live = RwSignal::new(true);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! { <RunProgressPanel progress=progress run=run live=live /> }
    });
    let find = |sel: &str| host.query_selector(sel).unwrap();
    let attr = |sel: &str, name: &str| find(sel).unwrap().get_attribute(name).unwrap();
    let text = |sel: &str| find(sel).unwrap().text_content().unwrap();

    // No run yet: nothing at all.
    leptos::task::tick().await;
    assert!(find("[data-testid=run-progress]").is_none());
    assert_eq!(host.text_content().unwrap(), "");

    progress.set(Some(RunProgress {
        total: 10,
        valid: 2,
        invalid: 1,
        ..RunProgress::default()
    }));
    run.set(Some((1, "r1".into())));
    leptos::task::tick().await;
    assert_eq!(text("[data-testid=run-done]"), "3 / 10");
    assert_eq!(attr("[data-testid=run-progress]", "data-state"), "running");
    assert_eq!(attr("[data-testid=run-progress]", "data-run-id"), "r1");
    assert_eq!(attr("[data-testid=run-progress]", "data-run-seq"), "1");
    assert!(find("[data-testid=run-paused]").is_none());
    let panel = find("[data-testid=run-progress]").unwrap();
    let done = find("[data-testid=run-done]").unwrap();

    // New figures change the text, not the nodes.
    progress.update(|p| {
        let p = p.as_mut().unwrap();
        p.valid = 5;
        p.failed = 1;
        p.in_flight = 2;
        p.paused = true;
    });
    leptos::task::tick().await;
    assert_eq!(text("[data-testid=run-done]"), "7 / 10");
    assert_eq!(text("[data-testid=run-in-flight]"), "2");
    assert!(find("[data-testid=run-paused]").is_some());
    assert!(find("[data-testid=run-done]")
        .unwrap()
        .is_same_node(Some(&done)));
    assert!(find("[data-testid=run-progress]")
        .unwrap()
        .is_same_node(Some(&panel)));

    // The run ends: the same panel, now finished.
    live.set(false);
    leptos::task::tick().await;
    assert_eq!(attr("[data-testid=run-progress]", "data-state"), "finished");
    assert!(find("[data-testid=run-done]")
        .unwrap()
        .is_same_node(Some(&done)));

    // No figures again: the panel goes.
    progress.set(None);
    leptos::task::tick().await;
    assert!(find("[data-testid=run-progress]").is_none());

    drop(handle);
    assert_eq!(host.child_element_count(), 0, "unmounting leaves nothing");
    host.remove();
}

#[wasm_bindgen_test]
async fn a_select_field_mounted_alone_is_named_and_reports_the_choice() {
    use fannotate::components::SelectField;
    use leptos::prelude::*;

    let host = component_host();
    let chosen = RwSignal::new(None::<String>);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <SelectField label="Rows" testid="rows-select"
                on_change=Callback::new(move |v: String| chosen.set(Some(v)))>
                <option value="all">"All rows"</option>
                <option value="validation">"Validation set"</option>
            </SelectField>
        }
    });
    leptos::task::tick().await;
    let select: web_sys::HtmlSelectElement = host
        .query_selector("[data-testid=rows-select]")
        .unwrap()
        .expect("the list is rendered")
        .unchecked_into();
    // Its accessible name is the field's name, not the options' text.
    assert_eq!(select.get_attribute("aria-label").as_deref(), Some("Rows"));
    assert_eq!(
        select
            .closest("label")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "RowsAll rowsValidation set"
    );
    assert_eq!(select.length(), 2);
    assert_eq!(chosen.get_untracked(), None);

    select.set_value("validation");
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    leptos::task::tick().await;
    assert_eq!(chosen.get_untracked().as_deref(), Some("validation"));

    drop(handle);
    host.remove();
}

#[wasm_bindgen_test]
async fn a_button_mounted_alone_is_busy_while_its_work_runs_and_runs_it_once() {
    use fannotate::components::{Button, Tone};
    use leptos::prelude::*;

    let host = component_host();
    let pending = RwSignal::new(false);
    let blocked = RwSignal::new(false);
    let clicks = RwSignal::new(0u32);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <Button tone=Tone::Primary label="Export all rows" pending_label="Exporting…"
                pending=pending disabled=blocked attr:data-testid="export"
                on_click=move || { clicks.update(|n| *n += 1); pending.set(true); } />
        }
    });
    leptos::task::tick().await;
    let button: web_sys::HtmlElement = host
        .query_selector("[data-testid=export]")
        .unwrap()
        .expect("the attribute lands on the <button>")
        .unchecked_into();
    assert_eq!(button.text_content().unwrap(), "Export all rows");
    assert_eq!(button.class_name(), "fa-btn fa-btn--primary");
    assert_eq!(
        button.get_attribute("type").as_deref(),
        Some("button"),
        "not a form's submit by accident"
    );
    assert!(!button.has_attribute("disabled"));
    assert_eq!(button.get_attribute("aria-busy"), None);

    // A double click: the first starts the work, the second finds it running.
    button.click();
    leptos::task::tick().await;
    button.click();
    leptos::task::tick().await;
    assert_eq!(
        clicks.get_untracked(),
        1,
        "a double click runs the work once"
    );
    assert_eq!(button.text_content().unwrap(), "Exporting…");
    assert!(button.has_attribute("disabled"));
    assert_eq!(button.get_attribute("aria-busy").as_deref(), Some("true"));

    // The work ends: the same node says its label again and can be used.
    pending.set(false);
    leptos::task::tick().await;
    assert_eq!(button.text_content().unwrap(), "Export all rows");
    assert!(!button.has_attribute("disabled"));
    assert!(host
        .query_selector("[data-testid=export]")
        .unwrap()
        .unwrap()
        .is_same_node(Some(&button)));

    // Disabled for another reason: a click does nothing and the label stays.
    blocked.set(true);
    leptos::task::tick().await;
    assert!(button.has_attribute("disabled"));
    button.click();
    leptos::task::tick().await;
    assert_eq!(clicks.get_untracked(), 1);
    assert_eq!(button.get_attribute("aria-busy"), None);

    drop(handle);
    host.remove();
}
