//! Rows handed in by a host page, and rows handed back: what the handle's
//! `loadRows`, `listProjects`, `openProject` and `exportAnnotations` do.

use crate::services::browser::{now_ms, random_id};
use crate::services::export::project_table;
use crate::services::importer::{check_mapping, import_table, new_dataset};
use crate::state::AppState;
use crate::state::Topic;
use fannotate_core::records::{DatasetMeta, Project};
use fannotate_core::{Table, TextEncoding};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoadOptions {
    text_field: String,
    #[serde(default)]
    id_field: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// The project to load into, by id.
    #[serde(default)]
    project: Option<String>,
    /// Replace the project's dataset if it has one.
    #[serde(default)]
    replace: bool,
    /// The gold-label field of every attribute without one of its own.
    #[serde(default)]
    gold_field: Option<String>,
    /// Gold-label fields per attribute.
    #[serde(default)]
    gold_fields: std::collections::BTreeMap<String, String>,
}

/// A project as `listProjects` gives it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ProjectInfo {
    id: String,
    name: String,
    created_at: f64,
    updated_at: f64,
    sample: bool,
}

pub(super) async fn list(state: AppState) -> Result<JsValue, String> {
    let projects: Vec<ProjectInfo> = state
        .storage()
        .list_projects()
        .await
        .map_err(|e| e.user_message())?
        .into_iter()
        .map(|p| ProjectInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            updated_at: p.updated_at,
            sample: p.sample,
        })
        .collect();
    serde::Serialize::serialize(
        &projects,
        &serde_wasm_bindgen::Serializer::json_compatible(),
    )
    .map_err(|e| e.to_string())
}

async fn find(state: AppState, id: &str) -> Result<Project, String> {
    state
        .storage()
        .list_projects()
        .await
        .map_err(|e| e.user_message())?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| format!("no project with id \"{id}\" in this instance (see listProjects())"))
}

pub(super) async fn open(state: AppState, id: &str) -> Result<(), String> {
    state.open_project(find(state, id).await?);
    Ok(())
}

/// A cell: strings as they are, other values as JSON, null as empty.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub(super) async fn load(
    state: AppState,
    rows: JsValue,
    options: JsValue,
) -> Result<String, String> {
    let opts: LoadOptions = serde_wasm_bindgen::from_value(options).map_err(|e| {
        format!("loadRows options: {e} (expected {{textField, idField?, name?, project?, replace?, goldField?, goldFields?}})")
    })?;
    let objects: Vec<Map<String, Value>> = serde_wasm_bindgen::from_value(rows)
        .map_err(|e| format!("loadRows rows: {e} (expected an array of objects)"))?;
    if objects.is_empty() {
        return Err("loadRows: no rows".into());
    }
    let mut columns: Vec<String> = Vec::new();
    for o in &objects {
        for k in o.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let col = |name: &str| columns.iter().position(|c| c == name);
    let text_col = col(&opts.text_field)
        .ok_or_else(|| format!("loadRows: no field \"{}\" in the rows", opts.text_field))?;
    let id_col = match &opts.id_field {
        Some(f) => Some(col(f).ok_or_else(|| format!("loadRows: no field \"{f}\" in the rows"))?),
        None => None,
    };
    let gold_col = match &opts.gold_field {
        Some(f) => {
            Some(col(f).ok_or_else(|| format!("loadRows: no gold field \"{f}\" in the rows"))?)
        }
        None => None,
    };
    let mut gold_cols = Vec::new();
    for (attribute, f) in &opts.gold_fields {
        let c = col(f).ok_or_else(|| {
            format!("loadRows: no gold field \"{f}\" (for {attribute}) in the rows")
        })?;
        gold_cols.push((attribute.clone(), c));
    }
    let table = Table {
        encoding: TextEncoding::Utf8,
        delimiter: ',',
        rows: objects
            .iter()
            .map(|o| columns.iter().map(|c| cell(o.get(c))).collect())
            .collect(),
        columns,
    };
    check_mapping(&table, Some(text_col), id_col).map_err(|e| e.to_string())?;
    let storage = state.storage();
    let target = match &opts.project {
        Some(id) => Some(find(state, id).await?),
        None => state.project.get_untracked(),
    };
    if let Some(p) = &target {
        let has_data = storage
            .dataset(p.id.clone())
            .await
            .map_err(|e| e.user_message())?
            .is_some();
        if has_data && !opts.replace {
            return Err(format!(
                "loadRows: project \"{}\" already has a dataset; pass replace: true to replace it",
                p.name
            ));
        }
    }
    let project = match target {
        Some(p) => p,
        None => {
            let now = now_ms();
            let p = Project {
                id: random_id(),
                name: opts
                    .name
                    .clone()
                    .unwrap_or_else(|| "Rows from the host page".into()),
                created_at: now,
                updated_at: now,
                sample: false,
                student: None,
            };
            storage
                .put_project(p.clone())
                .await
                .map_err(|e| e.user_message())?;
            p
        }
    };
    let mut meta = DatasetMeta {
        encoding: "from the host page".into(),
        ..new_dataset(
            &project.id,
            opts.name.unwrap_or_else(|| "host rows".into()),
            &table,
            text_col,
            id_col,
            gold_col,
        )
    };
    for (attribute, c) in &gold_cols {
        meta.set_gold(attribute, Some(*c));
    }
    let (cancel, progress) = (RwSignal::new(false), RwSignal::new(None));
    import_table(storage, meta, &table, id_col, cancel, progress)
        .await
        .map_err(|e| e.user_message())?;
    state.step.set(crate::route::Step::Data);
    let id = project.id.clone();
    state.project.set(Some(project));
    state.touch(&[Topic::Projects, Topic::Dataset, Topic::Annotations]);
    Ok(id)
}

pub(super) async fn export(state: AppState) -> Result<JsValue, String> {
    let Some(pid) = state.project.get_untracked().map(|p| p.id) else {
        return Err("exportAnnotations: no project is open".into());
    };
    let Some((_, header, body)) = project_table(state.storage().as_ref(), &pid)
        .await
        .map_err(|e| crate::error::AppError::from(e).user_message())?
    else {
        return Ok(js_sys::Array::new().into());
    };
    let rows: Vec<Map<String, Value>> = body
        .into_iter()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.into_iter().map(Value::String))
                .collect()
        })
        .collect();
    serde::Serialize::serialize(&rows, &serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())
}
