//! The leaderboard's data: every configuration's answers scored against the gold labels.

use super::*;

use crate::data::gold::gold_labels;
pub(super) use crate::data::gold::GoldCache;

/// One leaderboard line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Line {
    /// Position in the grid.
    pub(super) cell: usize,
    pub(super) spec: CellSpec,
    pub(super) pinned: bool,
    pub(super) run: Option<RunRecord>,
    /// Items answered so far (of the experiment's items).
    pub(super) answered: usize,
    pub(super) score: Option<Score>,
    /// Against the best configuration (`None` for the best itself).
    pub(super) comparison: Option<Comparison>,
    /// Requests in flight the run could use.
    pub(super) concurrency: u32,
}

/// The measured experiment.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Board {
    /// The experiment as stored.
    pub(super) experiment: Experiment,
    pub(super) lines: Vec<Line>,
    /// Index into `lines` of the best configuration.
    pub(super) best: Option<usize>,
    /// Items in the experiment.
    pub(super) items: usize,
    /// Of those, items with a gold label.
    pub(super) gold_items: usize,
}

/// Score every cell of an experiment from its run's stored answers.
pub(super) async fn load_board(
    state: AppState,
    x: Experiment,
    cache: GoldCache,
) -> Result<Board, AppError> {
    let storage = state.storage();
    let items = x.task_rows.iter().map(|r| (r[1] - r[0]) as usize).sum();
    let ds = storage
        .dataset(x.project_id.clone())
        .await?
        .filter(|d| d.id == x.dataset_id);
    let Some(ds) = ds else {
        return Ok(Board {
            experiment: x,
            lines: Vec::new(),
            best: None,
            items,
            gold_items: 0,
        });
    };
    let versions = storage.codebook_versions(x.project_id.clone()).await?;
    let attribute = versions
        .iter()
        .rev()
        .filter_map(|v| v.codebook().ok())
        .find_map(|cb| cb.attribute(&x.attribute).cloned());
    let gold = match &attribute {
        Some(a) => {
            let within = |row| ranges_contain(&x.task_rows, row);
            gold_labels(&storage, &state.rows.get_value(), &ds, a, within, &cache).await?
        }
        None => HashMap::new(),
    };
    // `gold_labels` keeps only the experiment's rows.
    let gold_items = gold.len();
    let runs = storage.runs(x.project_id.clone()).await?;
    let mut lines = Vec::with_capacity(x.cells.len());
    let mut measured: Vec<Vec<ItemOutcome>> = Vec::with_capacity(x.cells.len());
    for (i, c) in x.cells.iter().enumerate() {
        let run = c
            .run_id
            .as_ref()
            .and_then(|id| runs.iter().find(|r| &r.id == id))
            .cloned();
        let (outcomes, score, answered, concurrency) = match &run {
            Some(r) => {
                let stored: Vec<Annotation> = storage
                    .annotations(ds.id.clone(), run_source(&r.id))
                    .await?
                    .into_iter()
                    .filter(|a| a.attribute == x.attribute && ranges_contain(&x.task_rows, a.row))
                    .collect();
                let (pi, po) = x.price(c.spec.endpoint, &c.spec.model);
                let concurrency = r.endpoint.effective_concurrency();
                let m = ConfigMeasure {
                    items: stored.iter().map(|a| outcome_of(a, &gold)).collect(),
                    elapsed_s: span_s(&stored),
                    concurrency,
                    replications: c.spec.replications.max(1),
                    price_in_per_m: pi,
                    price_out_per_m: po,
                };
                let s = (!stored.is_empty()).then(|| score(&m, RESAMPLES, BOOTSTRAP_SEED));
                (m.items, s, stored.len(), concurrency)
            }
            None => (Vec::new(), None, 0, 0),
        };
        measured.push(outcomes);
        lines.push(Line {
            cell: i,
            spec: c.spec.clone(),
            pinned: c.pinned,
            run,
            answered,
            score,
            comparison: None,
            concurrency,
        });
    }
    // Best among the measured; indices map back through `with_score`.
    let with_score: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].score.is_some())
        .collect();
    let scores: Vec<Score> = with_score
        .iter()
        .filter_map(|&i| lines[i].score.clone())
        .collect();
    let best = best_index(&scores).map(|k| with_score[k]);
    if let Some(b) = best {
        for i in with_score {
            if i != b {
                lines[i].comparison = Some(compare(&measured[b], &measured[i]));
            }
        }
    }
    Ok(Board {
        experiment: x,
        lines,
        best,
        items,
        gold_items,
    })
}
