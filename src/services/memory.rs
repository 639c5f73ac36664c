//! An in-memory [`Storage`] for tests: same contract, no browser.

use super::storage::{Storage, StorageResult};
use fannotate_core::records::{
    Annotation, CodebookVersion, DatasetMeta, EndpointConfig, Experiment, ImportMarker, Project,
    RowRecord, RunRecord,
};
use futures::future::{ready, LocalBoxFuture};
use futures::FutureExt;
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Default)]
struct Tables {
    projects: BTreeMap<String, Project>,
    datasets: BTreeMap<String, DatasetMeta>,
    rows: BTreeMap<(String, u32), RowRecord>,
    codebooks: BTreeMap<(String, u32), CodebookVersion>,
    endpoints: BTreeMap<String, EndpointConfig>,
    runs: BTreeMap<String, RunRecord>,
    experiments: BTreeMap<String, Experiment>,
    annotations: BTreeMap<(String, u32, String, String), Annotation>,
    imports: BTreeMap<String, ImportMarker>,
}

impl Tables {
    /// Remove a project's datasets with their rows and annotations.
    fn drop_project_datasets(&mut self, project_id: &str) {
        let old: Vec<String> = self
            .datasets
            .values()
            .filter(|d| d.project_id == project_id)
            .map(|d| d.id.clone())
            .collect();
        self.datasets.retain(|_, d| d.project_id != project_id);
        self.rows.retain(|(d, _), _| !old.contains(d));
        self.annotations.retain(|(d, ..), _| !old.contains(d));
    }
}

/// Storage held in memory; lost when dropped.
#[derive(Default)]
pub struct MemoryStorage {
    t: RefCell<Tables>,
}

fn done<'a, T: 'a>(v: T) -> LocalBoxFuture<'a, StorageResult<T>> {
    ready(Ok(v)).boxed_local()
}

impl Storage for MemoryStorage {
    fn list_projects(&self) -> LocalBoxFuture<'_, StorageResult<Vec<Project>>> {
        let mut v: Vec<Project> = self.t.borrow().projects.values().cloned().collect();
        v.sort_by(|a, b| b.updated_at.total_cmp(&a.updated_at));
        done(v)
    }
    fn put_project(&self, p: Project) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t.borrow_mut().projects.insert(p.id.clone(), p);
        done(())
    }
    fn delete_project(&self, id: String) -> LocalBoxFuture<'_, StorageResult<()>> {
        let mut t = self.t.borrow_mut();
        t.projects.remove(&id);
        t.drop_project_datasets(&id);
        t.codebooks.retain(|(p, _), _| *p != id);
        t.endpoints.remove(&id);
        t.runs.retain(|_, r| r.project_id != id);
        t.experiments.retain(|_, x| x.project_id != id);
        done(())
    }
    fn put_dataset(
        &self,
        meta: DatasetMeta,
        rows: Vec<RowRecord>,
    ) -> LocalBoxFuture<'_, StorageResult<()>> {
        let mut t = self.t.borrow_mut();
        t.drop_project_datasets(&meta.project_id);
        for r in rows {
            t.rows.insert((r.dataset_id.clone(), r.idx), r);
        }
        t.datasets.insert(meta.id.clone(), meta);
        done(())
    }
    fn update_dataset(&self, meta: DatasetMeta) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t.borrow_mut().datasets.insert(meta.id.clone(), meta);
        done(())
    }
    fn delete_annotation(
        &self,
        dataset_id: String,
        source: String,
        row: u32,
        attribute: String,
    ) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t
            .borrow_mut()
            .annotations
            .remove(&(dataset_id, row, attribute, source));
        done(())
    }
    fn begin_import(&self, marker: ImportMarker) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t
            .borrow_mut()
            .imports
            .insert(marker.dataset_id.clone(), marker);
        done(())
    }
    fn put_rows(&self, rows: Vec<RowRecord>) -> LocalBoxFuture<'_, StorageResult<()>> {
        let mut t = self.t.borrow_mut();
        for r in rows {
            t.rows.insert((r.dataset_id.clone(), r.idx), r);
        }
        done(())
    }
    fn commit_import(&self, meta: DatasetMeta) -> LocalBoxFuture<'_, StorageResult<()>> {
        let mut t = self.t.borrow_mut();
        if t.imports.remove(&meta.id).is_none() {
            return ready(Err(super::storage::StorageError::Interrupted)).boxed_local();
        }
        t.drop_project_datasets(&meta.project_id);
        t.datasets.insert(meta.id.clone(), meta);
        done(())
    }
    fn abort_imports(&self, dataset_id: Option<String>) -> LocalBoxFuture<'_, StorageResult<u32>> {
        let mut t = self.t.borrow_mut();
        let ids: Vec<String> = match dataset_id {
            Some(id) => vec![id],
            None => t.imports.keys().cloned().collect(),
        };
        t.rows.retain(|(d, _), _| !ids.contains(d));
        t.imports.retain(|d, _| !ids.contains(d));
        done(ids.len() as u32)
    }
    fn dataset(
        &self,
        project_id: String,
    ) -> LocalBoxFuture<'_, StorageResult<Option<DatasetMeta>>> {
        done(
            self.t
                .borrow()
                .datasets
                .values()
                .find(|d| d.project_id == project_id)
                .cloned(),
        )
    }
    fn rows(
        &self,
        dataset_id: String,
        start: u32,
        limit: u32,
    ) -> LocalBoxFuture<'_, StorageResult<Vec<RowRecord>>> {
        let end = start.saturating_add(limit);
        let t = self.t.borrow();
        let v = t
            .rows
            .range((dataset_id.clone(), start)..(dataset_id, end))
            .map(|(_, r)| r.clone())
            .collect();
        done(v)
    }
    fn put_codebook(&self, v: CodebookVersion) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t
            .borrow_mut()
            .codebooks
            .insert((v.project_id.clone(), v.version), v);
        done(())
    }
    fn latest_codebook(
        &self,
        project_id: String,
    ) -> LocalBoxFuture<'_, StorageResult<Option<CodebookVersion>>> {
        let t = self.t.borrow();
        done(
            t.codebooks
                .range((project_id.clone(), 0)..=(project_id, u32::MAX))
                .next_back()
                .map(|(_, v)| v.clone()),
        )
    }
    fn codebook_versions(
        &self,
        project_id: String,
    ) -> LocalBoxFuture<'_, StorageResult<Vec<CodebookVersion>>> {
        let t = self.t.borrow();
        done(
            t.codebooks
                .range((project_id.clone(), 0)..=(project_id, u32::MAX))
                .map(|(_, v)| v.clone())
                .collect(),
        )
    }
    fn all_annotations(
        &self,
        dataset_id: String,
    ) -> LocalBoxFuture<'_, StorageResult<Vec<Annotation>>> {
        let t = self.t.borrow();
        done(
            t.annotations
                .values()
                .filter(|a| a.dataset_id == dataset_id)
                .cloned()
                .collect(),
        )
    }
    fn put_endpoint(&self, e: EndpointConfig) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t
            .borrow_mut()
            .endpoints
            .insert(e.project_id.clone(), e);
        done(())
    }
    fn endpoint(
        &self,
        project_id: String,
    ) -> LocalBoxFuture<'_, StorageResult<Option<EndpointConfig>>> {
        done(self.t.borrow().endpoints.get(&project_id).cloned())
    }
    fn put_run(&self, r: RunRecord) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t.borrow_mut().runs.insert(r.id.clone(), r);
        done(())
    }
    fn runs(&self, project_id: String) -> LocalBoxFuture<'_, StorageResult<Vec<RunRecord>>> {
        let mut v: Vec<RunRecord> = self
            .t
            .borrow()
            .runs
            .values()
            .filter(|r| r.project_id == project_id)
            .cloned()
            .collect();
        v.sort_by(|a, b| b.started_at.total_cmp(&a.started_at));
        done(v)
    }
    fn put_experiment(&self, x: Experiment) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t.borrow_mut().experiments.insert(x.id.clone(), x);
        done(())
    }
    fn experiments(
        &self,
        project_id: String,
    ) -> LocalBoxFuture<'_, StorageResult<Vec<Experiment>>> {
        let mut v: Vec<Experiment> = self
            .t
            .borrow()
            .experiments
            .values()
            .filter(|x| x.project_id == project_id)
            .cloned()
            .collect();
        v.sort_by(|a, b| b.created_at.total_cmp(&a.created_at));
        done(v)
    }
    fn delete_experiment(&self, id: String) -> LocalBoxFuture<'_, StorageResult<()>> {
        self.t.borrow_mut().experiments.remove(&id);
        done(())
    }
    fn put_annotations(
        &self,
        batch: Vec<Annotation>,
        run: Option<RunRecord>,
    ) -> LocalBoxFuture<'_, StorageResult<()>> {
        let mut t = self.t.borrow_mut();
        for a in batch {
            t.annotations.insert(
                (
                    a.dataset_id.clone(),
                    a.row,
                    a.attribute.clone(),
                    a.source.clone(),
                ),
                a,
            );
        }
        if let Some(r) = run {
            t.runs.insert(r.id.clone(), r);
        }
        done(())
    }
    fn annotations(
        &self,
        dataset_id: String,
        source: String,
    ) -> LocalBoxFuture<'_, StorageResult<Vec<Annotation>>> {
        let t = self.t.borrow();
        done(
            t.annotations
                .values()
                .filter(|a| a.dataset_id == dataset_id && a.source == source)
                .cloned()
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fannotate_core::records::{AnnotationStatus, Project};
    use futures::executor::block_on;

    fn rows(ds: &str, n: u32) -> Vec<RowRecord> {
        (0..n)
            .map(|i| RowRecord {
                dataset_id: ds.into(),
                idx: i,
                id: format!("r{i}"),
                cells: vec![format!("t{i}")],
            })
            .collect()
    }

    fn meta(id: &str, project: &str, n: u32) -> DatasetMeta {
        DatasetMeta {
            id: id.into(),
            project_id: project.into(),
            name: "f.csv".into(),
            columns: vec!["text".into()],
            text_col: 0,
            id_col: None,
            gold_col: None,
            gold_cols: Vec::new(),
            validation: None,
            row_count: n,
            bytes: 0,
            encoding: "UTF-8".into(),
            delimiter: ",".into(),
            imported_at: 0.0,
        }
    }

    #[test]
    fn staged_imports_commit_whole_or_leave_nothing() {
        use crate::services::storage::StorageError;
        use fannotate_core::records::ImportMarker;
        block_on(async {
            let s = MemoryStorage::default();
            s.put_dataset(meta("old", "p", 3), rows("old", 3))
                .await
                .unwrap();
            let marker = |id: &str| ImportMarker {
                dataset_id: id.into(),
                project_id: "p".into(),
                started_at: 0.0,
            };
            s.begin_import(marker("d1")).await.unwrap();
            s.put_rows(rows("d1", 4)).await.unwrap();
            assert_eq!(s.abort_imports(None).await.unwrap(), 1);
            assert!(s.rows("d1".into(), 0, 10).await.unwrap().is_empty());
            assert_eq!(
                s.commit_import(meta("d1", "p", 4)).await,
                Err(StorageError::Interrupted)
            );
            assert_eq!(s.dataset("p".into()).await.unwrap().unwrap().id, "old");
            s.begin_import(marker("d2")).await.unwrap();
            s.put_rows(rows("d2", 4)).await.unwrap();
            s.commit_import(meta("d2", "p", 4)).await.unwrap();
            assert_eq!(s.dataset("p".into()).await.unwrap().unwrap().id, "d2");
            assert!(s.rows("old".into(), 0, 10).await.unwrap().is_empty());
            assert_eq!(s.rows("d2".into(), 0, 10).await.unwrap().len(), 4);
        });
    }

    #[test]
    fn same_contract_as_indexeddb() {
        block_on(async {
            let s = MemoryStorage::default();
            s.put_project(Project {
                id: "p".into(),
                name: "P".into(),
                created_at: 0.0,
                updated_at: 0.0,
                sample: false,
            })
            .await
            .unwrap();
            s.put_dataset(meta("d1", "p", 50), rows("d1", 50))
                .await
                .unwrap();
            assert_eq!(s.rows("d1".into(), 45, 10).await.unwrap().len(), 5);
            let a = Annotation {
                status: AnnotationStatus::Valid,
                value: Some("v".into()),
                raw: "v".into(),
                ..Annotation::pending("d1", 3, "a", "run:x", 0.0)
            };
            s.put_annotations(vec![a], None).await.unwrap();
            assert_eq!(
                s.annotations("d1".into(), "run:x".into())
                    .await
                    .unwrap()
                    .len(),
                1
            );
            // Re-import replaces rows and annotations of the old dataset.
            s.put_dataset(meta("d2", "p", 2), rows("d2", 2))
                .await
                .unwrap();
            assert!(s.rows("d1".into(), 0, 100).await.unwrap().is_empty());
            assert!(s
                .annotations("d1".into(), "run:x".into())
                .await
                .unwrap()
                .is_empty());
            assert_eq!(s.dataset("p".into()).await.unwrap().unwrap().id, "d2");
            s.delete_project("p".into()).await.unwrap();
            assert!(s.list_projects().await.unwrap().is_empty());
            assert!(s.rows("d2".into(), 0, 100).await.unwrap().is_empty());
        });
    }
}
