//! An in-memory [`Storage`] for tests: same contract, no browser (the contract
//! suite in `tests/contract` runs against both).

use super::storage::{Storage, StorageError, StorageResult};
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
    /// Annotations it holds before a write is refused as a full disk (tests).
    annotation_quota: std::cell::Cell<Option<usize>>,
}

impl MemoryStorage {
    /// Refuse, as a full disk does, any annotation write that would hold more
    /// than `quota` annotations in all (nothing of that write is kept): how
    /// tests meet a browser out of space.
    pub fn set_annotation_quota(&self, quota: Option<usize>) {
        self.annotation_quota.set(quota);
    }
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
        if let Some(quota) = self.annotation_quota.get() {
            let new = batch
                .iter()
                .filter(|a| {
                    let key = (
                        a.dataset_id.clone(),
                        a.row,
                        a.attribute.clone(),
                        a.source.clone(),
                    );
                    !t.annotations.contains_key(&key)
                })
                .count();
            if t.annotations.len() + new > quota {
                return ready(Err(StorageError::QuotaExceeded)).boxed_local();
            }
        }
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
