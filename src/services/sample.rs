//! The sample project a first visit can open without a file of its own: 300
//! SpamAssassin emails (PDDL-1.0 / CC0-1.0) shipped beside the app, with a
//! two-category codebook and no saved endpoint, so runs use the default one.

use super::browser::{asset_base, now_ms, random_id};
use super::importer::ImportError;
use super::importer::{new_dataset, row_records};
use super::storage::Storage;
use super::storage::StorageError;
use fannotate_core::import::{import_file, ImportOptions};
use fannotate_core::records::{CodebookVersion, Project};
use fannotate_core::{Attribute, Category, Codebook};

/// The sample's file, relative to the app's files (`public/sample/`).
pub const SAMPLE_FILE: &str = "sample/spamassassin-300.csv";
/// The sample project's name.
pub const SAMPLE_NAME: &str = "Sample: SpamAssassin emails";

/// The sample's codebook: one attribute, spam or ham.
pub fn sample_codebook() -> Codebook {
    Codebook {
        dataset: Some("SpamAssassin emails (sample)".into()),
        attributes: vec![Attribute::categorical(
            "spam",
            "Is this email spam? <<categories>>\n\nEmail:\n<<text>>\n\nAnswer with the category name only.",
            vec![
                Category::new("ham", "a normal email someone wanted to get"),
                Category::new("spam", "unsolicited bulk email: adverts, scams, phishing"),
            ],
        )],
        ..Default::default()
    }
}

async fn fetch_sample() -> Result<Vec<u8>, ImportError> {
    let url = format!("{}{SAMPLE_FILE}", asset_base());
    let fail = |e: gloo_net::Error| ImportError::Sample(e.to_string());
    let resp = gloo_net::http::Request::get(&url)
        .send()
        .await
        .map_err(fail)?;
    if !resp.ok() {
        return Err(ImportError::Sample(format!(
            "HTTP {} for {url}",
            resp.status()
        )));
    }
    resp.binary().await.map_err(fail)
}

/// Why the sample project could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// Its data could not be fetched or read.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// Storing it failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Create the sample project with its dataset and codebook; returns it.
pub async fn create_sample(storage: &dyn Storage) -> Result<Project, SampleError> {
    let bytes = fetch_sample().await?;
    let table = import_file(SAMPLE_FILE, &bytes, &ImportOptions::default())
        .map_err(ImportError::from)?
        .table;
    let col = |name: &str| {
        table
            .column_index(name)
            .ok_or_else(|| ImportError::MissingColumn(name.into()))
    };
    let (id, text, label) = (col("id")?, col("text")?, col("label")?);
    let now = now_ms();
    let project = Project {
        id: random_id(),
        name: SAMPLE_NAME.into(),
        created_at: now,
        updated_at: now,
        sample: true,
        student: None,
    };
    storage.put_project(project.clone()).await?;
    let mut meta = new_dataset(
        &project.id,
        "spamassassin-300.csv".into(),
        &table,
        text,
        Some(id),
        Some(label),
    );
    meta.encoding = table.encoding.as_str().into();
    meta.delimiter = table.delimiter.to_string();
    let rows = row_records(&meta.id, 0, &table.rows, Some(id));
    storage.put_dataset(meta, rows).await?;
    storage
        .put_codebook(CodebookVersion {
            project_id: project.id.clone(),
            version: 1,
            saved_at: now,
            json: sample_codebook().to_json(),
        })
        .await?;
    Ok(project)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_sample_reads_strictly_and_its_codebook_is_valid() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/public/sample/spamassassin-300.csv"
        ))
        .unwrap();
        let t = import_file(SAMPLE_FILE, &bytes, &ImportOptions::default())
            .unwrap()
            .table;
        assert_eq!(t.columns, ["id", "text", "label"]);
        assert_eq!(t.rows.len(), 300);
        let labels: std::collections::BTreeSet<&str> =
            t.rows.iter().map(|r| r[2].as_str()).collect();
        assert_eq!(labels.into_iter().collect::<Vec<_>>(), ["ham", "spam"]);
        let cb = sample_codebook();
        cb.validate().unwrap();
        assert_eq!(Codebook::from_json(&cb.to_json()).unwrap(), cb);
    }
}
