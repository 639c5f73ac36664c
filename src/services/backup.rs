//! Whole-project backup: one JSON file with the project, its dataset and rows,
//! codebook versions, endpoint settings (never the API key), runs and annotations.
//! Restoring it reproduces the project with the same ids.

use super::storage::{Storage, StorageError};
use fannotate_core::records::{
    Annotation, CodebookVersion, DatasetMeta, EndpointConfig, Experiment, Project, RowRecord,
    RunRecord,
};
use serde::{Deserialize, Serialize};

/// Marks a file as a Fannotate backup.
pub const BACKUP_FORMAT: &str = "fannotate-backup";
/// Backup file version; bump with a conversion when the layout changes.
pub const BACKUP_VERSION: u32 = 1;

/// Everything of one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// Always [`BACKUP_FORMAT`].
    pub format: String,
    /// The file layout version.
    pub version: u32,
    /// The project.
    pub project: Project,
    /// Its dataset, if one was imported.
    pub dataset: Option<DatasetMeta>,
    /// The dataset's rows in order.
    pub rows: Vec<RowRecord>,
    /// Every codebook version.
    pub codebooks: Vec<CodebookVersion>,
    /// Endpoint settings, without the API key.
    pub endpoint: Option<EndpointConfig>,
    /// Every run.
    pub runs: Vec<RunRecord>,
    /// Every annotation, from runs and humans.
    pub annotations: Vec<Annotation>,
    /// Every experiment (files from before experiments have none).
    #[serde(default)]
    pub experiments: Vec<Experiment>,
}

/// Why a backup could not be made or restored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackupError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The file is not a backup this version can read.
    #[error("this is not a Fannotate backup file ({0})")]
    NotABackup(String),
    /// The backup could not be written out.
    #[error("the backup could not be written: {0}")]
    Write(String),
    /// The project is already in this browser.
    #[error(
        "the project \"{0}\" is already in this browser; delete it first to restore the backup"
    )]
    Exists(String),
}

impl Backup {
    /// The same project under fresh ids and a new name, so it can live beside
    /// the original (duplicating a project). `new_id` makes unique ids.
    pub fn renewed(mut self, name: String, now: f64, mut new_id: impl FnMut() -> String) -> Self {
        let pid = new_id();
        self.project.id = pid.clone();
        self.project.name = name;
        self.project.created_at = now;
        self.project.updated_at = now;
        let did = new_id();
        if let Some(d) = &mut self.dataset {
            d.id = did.clone();
            d.project_id = pid.clone();
        }
        for r in &mut self.rows {
            r.dataset_id = did.clone();
        }
        for v in &mut self.codebooks {
            v.project_id = pid.clone();
        }
        if let Some(e) = &mut self.endpoint {
            e.project_id = pid.clone();
        }
        let mut run_ids = std::collections::HashMap::new();
        for r in &mut self.runs {
            let id = new_id();
            run_ids.insert(std::mem::replace(&mut r.id, id), r.id.clone());
            r.project_id = pid.clone();
            r.dataset_id = did.clone();
        }
        let mut experiment_ids = std::collections::HashMap::new();
        for x in &mut self.experiments {
            let id = new_id();
            experiment_ids.insert(std::mem::replace(&mut x.id, id), x.id.clone());
            x.project_id = pid.clone();
            x.dataset_id = did.clone();
            for c in &mut x.cells {
                c.run_id = c.run_id.as_ref().and_then(|r| run_ids.get(r)).cloned();
            }
        }
        for r in &mut self.runs {
            r.experiment = r
                .experiment
                .as_ref()
                .and_then(|x| experiment_ids.get(x))
                .cloned();
        }
        let sources: std::collections::HashMap<String, String> = run_ids
            .iter()
            .map(|(old, new)| {
                (
                    fannotate_core::records::run_source(old),
                    fannotate_core::records::run_source(new),
                )
            })
            .collect();
        for a in &mut self.annotations {
            a.dataset_id = did.clone();
            if let Some(s) = sources.get(&a.source) {
                a.source = s.clone();
            }
        }
        self
    }
}

/// Collect a project into a backup.
pub async fn backup(storage: &dyn Storage, project: Project) -> Result<Backup, BackupError> {
    let dataset = storage.dataset(project.id.clone()).await?;
    let (rows, annotations) = match &dataset {
        Some(d) => (
            storage.rows(d.id.clone(), 0, d.row_count).await?,
            storage.all_annotations(d.id.clone()).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut endpoint = storage.endpoint(project.id.clone()).await?;
    if let Some(e) = &mut endpoint {
        // Keys stay in the browser they were typed into.
        e.api_key = None;
        e.store_key = false;
    }
    Ok(Backup {
        format: BACKUP_FORMAT.into(),
        version: BACKUP_VERSION,
        codebooks: storage.codebook_versions(project.id.clone()).await?,
        runs: storage.runs(project.id.clone()).await?,
        experiments: storage.experiments(project.id.clone()).await?,
        project,
        dataset,
        rows,
        endpoint,
        annotations,
    })
}

/// Read a backup file's text.
pub fn parse_backup(text: &str) -> Result<Backup, BackupError> {
    let b: Backup =
        serde_json::from_str(text).map_err(|e| BackupError::NotABackup(e.to_string()))?;
    if b.format != BACKUP_FORMAT {
        return Err(BackupError::NotABackup(format!(
            "format is \"{}\"",
            b.format
        )));
    }
    if b.version > BACKUP_VERSION {
        return Err(BackupError::NotABackup(format!(
            "made by a newer version (file version {})",
            b.version
        )));
    }
    Ok(b)
}

/// Restore a backup into storage that does not have the project yet.
pub async fn restore(storage: &dyn Storage, b: Backup) -> Result<Project, BackupError> {
    if storage
        .list_projects()
        .await?
        .iter()
        .any(|p| p.id == b.project.id)
    {
        return Err(BackupError::Exists(b.project.name));
    }
    // The project goes last, so a failure part-way leaves no visible half project.
    if let Some(d) = b.dataset {
        storage.put_dataset(d, b.rows).await?;
    }
    for v in b.codebooks {
        storage.put_codebook(v).await?;
    }
    if let Some(e) = b.endpoint {
        storage.put_endpoint(e).await?;
    }
    for r in b.runs {
        storage.put_run(r).await?;
    }
    for x in b.experiments {
        storage.put_experiment(x).await?;
    }
    storage.put_annotations(b.annotations, None).await?;
    storage.put_project(b.project.clone()).await?;
    Ok(b.project)
}

#[cfg(test)]
mod duplicate_tests {
    use super::*;
    use crate::services::memory::MemoryStorage;
    use futures::executor::block_on;

    #[test]
    fn a_duplicate_has_everything_under_new_ids() {
        let storage = MemoryStorage::default();
        let p = super::tests::sample(&storage);
        block_on(async {
            let b = backup(&storage, p.clone()).await.unwrap();
            let mut n = 0;
            let copy = b.clone().renewed("Copy".into(), 9.0, || {
                n += 1;
                format!("new{n}")
            });
            let q = restore(&storage, copy).await.unwrap();
            assert_eq!((q.name.as_str(), q.id.as_str()), ("Copy", "new1"));
            assert_eq!(storage.list_projects().await.unwrap().len(), 2);
            let again = backup(&storage, q).await.unwrap();
            assert_eq!(again.rows.len(), b.rows.len());
            assert_eq!(again.annotations.len(), b.annotations.len());
            assert_eq!(again.runs.len(), b.runs.len());
            assert_eq!(again.codebooks.len(), b.codebooks.len());
            // The copy's experiment points at the copy's run, and back.
            let (x, run) = (&again.experiments[0], &again.runs[0]);
            assert_ne!(x.id, b.experiments[0].id);
            assert_eq!(x.cells[0].run_id.as_deref(), Some(run.id.as_str()));
            assert_eq!(run.experiment.as_deref(), Some(x.id.as_str()));
            assert!(again
                .runs
                .iter()
                .all(|r| !b.runs.iter().any(|o| o.id == r.id)));
            assert!(again.annotations.iter().all(|a| a.dataset_id == "new2"));
            // The original is untouched.
            let orig = backup(&storage, p).await.unwrap();
            assert_eq!(orig.annotations, b.annotations);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::memory::MemoryStorage;
    use fannotate_core::records::{run_source, AnnotationStatus, Provider, RunStatus};
    use futures::executor::block_on;

    pub(super) fn sample(storage: &MemoryStorage) -> Project {
        block_on(async {
            let p = Project {
                id: "p1".into(),
                name: "Spam".into(),
                created_at: 1.0,
                updated_at: 2.0,
                sample: false,
                student: None,
            };
            storage.put_project(p.clone()).await.unwrap();
            let d = DatasetMeta {
                id: "d1".into(),
                project_id: "p1".into(),
                name: "s.csv".into(),
                columns: vec!["id".into(), "text".into(), "label".into()],
                text_col: 1,
                id_col: Some(0),
                gold_col: Some(2),
                gold_cols: vec![fannotate_core::records::GoldColumn {
                    attribute: "other".into(),
                    column: None,
                }],
                validation: Some(fannotate_core::records::ValidationSet::new(
                    [0, 2],
                    "random, seed 1".into(),
                )),
                row_count: 3,
                bytes: 0,
                encoding: "UTF-8".into(),
                delimiter: ",".into(),
                imported_at: 3.0,
            };
            let rows = (0..3)
                .map(|i| RowRecord {
                    dataset_id: "d1".into(),
                    idx: i,
                    id: format!("r{i}"),
                    cells: vec![format!("r{i}"), "blåbær".into(), "ham".into()],
                })
                .collect();
            storage.put_dataset(d, rows).await.unwrap();
            for v in 1..=2 {
                storage
                    .put_codebook(CodebookVersion {
                        project_id: "p1".into(),
                        version: v,
                        saved_at: 0.0,
                        json: "{\"codes\":[]}".into(),
                    })
                    .await
                    .unwrap();
            }
            let mut e = EndpointConfig::new("p1", Provider::OpenAi, None, Some("gpt"));
            e.api_key = Some("sk-secret".into());
            e.store_key = true;
            storage.put_endpoint(e.clone()).await.unwrap();
            let mut stored = e;
            stored.api_key = None;
            let run = RunRecord {
                id: "run1".into(),
                project_id: "p1".into(),
                dataset_id: "d1".into(),
                attribute: "spam".into(),
                free_text: false,
                codebook_version: 2,
                endpoint: stored,
                status: RunStatus::Completed,
                total: 3,
                valid: 2,
                invalid: 1,
                failed: 0,
                started_at: 5.0,
                finished_at: Some(6.0),
                error: None,
                scope: fannotate_core::records::Scope::Validation,
                task_rows: Some(vec![[0, 3]]),
                experiment: Some("x1".into()),
                aggregate: None,
                batch: None,
            };
            storage.put_run(run).await.unwrap();
            storage
                .put_experiment(fannotate_core::records::Experiment {
                    id: "x1".into(),
                    project_id: "p1".into(),
                    dataset_id: "d1".into(),
                    attribute: "spam".into(),
                    name: "grid".into(),
                    created_at: 5.0,
                    task_rows: vec![[0, 3]],
                    cells: vec![fannotate_core::records::ExperimentCell {
                        spec: fannotate_core::experiment::CellSpec {
                            endpoint: 0,
                            model: "gpt".into(),
                            version: 2,
                            temperature: 0.0,
                            replications: 2,
                            constrained: true,
                        },
                        run_id: Some("run1".into()),
                        pinned: true,
                    }],
                    prices: Vec::new(),
                    endpoints: Vec::new(),
                    daily_volume: 6500,
                    workers: 8,
                })
                .await
                .unwrap();
            let ann = |row, source: String| Annotation {
                dataset_id: "d1".into(),
                row,
                attribute: "spam".into(),
                source,
                value: Some("ham".into()),
                raw: "ham".into(),
                status: AnnotationStatus::Valid,
                reason: None,
                latency_ms: 1.0,
                tokens_in: 2,
                tokens_out: 1,
                tokens_estimated: false,
                confidence: Some(0.95),
                agreement: Some(1.0),
                replica_values: vec![Some("ham".into()), Some("ham".into())],
                ts: 7.0,
            };
            storage
                .put_annotations(
                    vec![
                        ann(0, run_source("run1")),
                        ann(1, run_source("run1")),
                        ann(0, "human".into()),
                    ],
                    None,
                )
                .await
                .unwrap();
            p
        })
    }

    #[test]
    fn backup_then_restore_reproduces_every_store_without_the_key() {
        let a = MemoryStorage::default();
        let p = sample(&a);
        let b = block_on(backup(&a, p.clone())).unwrap();
        assert_eq!(b.endpoint.as_ref().unwrap().api_key, None);
        let text = serde_json::to_string(&b).unwrap();
        assert!(!text.contains("sk-secret"));
        let fresh = MemoryStorage::default();
        block_on(restore(&fresh, parse_backup(&text).unwrap())).unwrap();
        let again = block_on(backup(&fresh, p.clone())).unwrap();
        assert_eq!(again, b);
        assert_eq!(again.annotations.len(), 3);
        assert_eq!(again.codebooks.len(), 2);
        assert_eq!(again.experiments.len(), 1);
        // Restoring twice is refused, not merged.
        assert!(matches!(
            block_on(restore(&fresh, b)),
            Err(BackupError::Exists(_))
        ));
    }

    #[test]
    fn other_files_are_not_backups() {
        assert!(matches!(
            parse_backup("{}"),
            Err(BackupError::NotABackup(_))
        ));
        assert!(matches!(
            parse_backup("not json"),
            Err(BackupError::NotABackup(_))
        ));
        let a = MemoryStorage::default();
        let p = sample(&a);
        let mut b = block_on(backup(&a, p)).unwrap();
        b.version = BACKUP_VERSION + 1;
        let text = serde_json::to_string(&b).unwrap();
        assert!(
            matches!(parse_backup(&text), Err(BackupError::NotABackup(m)) if m.contains("newer"))
        );
    }
}
