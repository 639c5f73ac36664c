//! The leaderboard's data: every configuration's answers scored against the gold labels.

use super::*;

use crate::data::gold::gold_labels;
pub(super) use crate::data::gold::GoldCache;

/// What a leaderboard line measures.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LineKind {
    /// A configuration of the grid.
    Cell { spec: CellSpec, pinned: bool },
    /// A run combining the runs of some of the grid's configurations (positions
    /// in the grid), scored on the same gold rows.
    Combined {
        method: AggregateMethod,
        cells: Vec<usize>,
    },
}

/// One leaderboard line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Line {
    /// Position: the grid's cells first, then the combined runs.
    pub(super) cell: usize,
    pub(super) kind: LineKind,
    pub(super) run: Option<RunRecord>,
    /// Items answered so far (of the experiment's items).
    pub(super) answered: usize,
    pub(super) score: Option<Score>,
    /// Against the best configuration (`None` for the best itself).
    pub(super) comparison: Option<Comparison>,
    /// Requests in flight the run could use.
    pub(super) concurrency: u32,
}

impl Line {
    /// Pinned lines lead the leaderboard.
    pub(super) fn pinned(&self) -> bool {
        matches!(self.kind, LineKind::Cell { pinned: true, .. })
    }

    /// The grid configuration, unless the line is a combination.
    pub(super) fn spec(&self) -> Option<&CellSpec> {
        match &self.kind {
            LineKind::Cell { spec, .. } => Some(spec),
            LineKind::Combined { .. } => None,
        }
    }
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

impl Board {
    /// A line as the user knows it: the configuration, or the method and its parts.
    pub(super) fn describe(&self, l: &Line) -> String {
        match &l.kind {
            LineKind::Cell { spec, .. } => self.experiment.describe(spec),
            LineKind::Combined { method, cells } => {
                let parts: Vec<String> = cells
                    .iter()
                    .filter_map(|&c| self.experiment.cells.get(c))
                    .map(|c| self.experiment.describe(&c.spec))
                    .collect();
                format!(
                    "{} of {}: {}",
                    method.label(),
                    parts.len(),
                    combined_name(&parts)
                )
            }
        }
    }
}

/// Configurations' names (" · "-separated settings) joined with "+", the settings
/// they share said once: "a + b (v1 · T 0)" rather than "a · v1 · T 0 + b · v1 · T 0".
pub(super) fn combined_name(parts: &[String]) -> String {
    let split: Vec<Vec<&str>> = parts.iter().map(|p| p.split(" · ").collect()).collect();
    let Some(first) = split.first() else {
        return String::new();
    };
    let shared: Vec<&str> = first
        .iter()
        .copied()
        .filter(|s| split.iter().all(|p| p.contains(s)))
        .collect();
    let own: Vec<String> = split
        .iter()
        .map(|p| {
            let rest: Vec<&str> = p.iter().copied().filter(|s| !shared.contains(s)).collect();
            rest.join(" · ")
        })
        .collect();
    if own.iter().any(String::is_empty) {
        // Parts differing in no setting: named in full.
        return parts.join(" + ");
    }
    match shared.is_empty() {
        true => own.join(" + "),
        false => format!("{} ({})", own.join(" + "), shared.join(" · ")),
    }
}

/// Score every cell of an experiment from its run's stored answers, and every
/// run that combines some of them.
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
    let mut measured: Vec<Option<ConfigMeasure>> = Vec::with_capacity(x.cells.len());
    for (i, c) in x.cells.iter().enumerate() {
        let run = c
            .run_id
            .as_ref()
            .and_then(|id| runs.iter().find(|r| &r.id == id))
            .cloned();
        let (measure, score, answered, concurrency) = match &run {
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
                (Some(m), s, stored.len(), concurrency)
            }
            None => (None, None, 0, 0),
        };
        measured.push(measure);
        lines.push(Line {
            cell: i,
            kind: LineKind::Cell {
                spec: c.spec.clone(),
                pinned: c.pinned,
            },
            run,
            answered,
            score,
            comparison: None,
            concurrency,
        });
    }
    // Runs combining measured cells (made here or in the Distil step) stand
    // beside them, on the same gold rows.
    let cell_of_run: HashMap<&str, usize> = x
        .cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((c.run_id.as_deref()?, i)))
        .collect();
    let mut combined_items: Vec<Vec<ItemOutcome>> = Vec::new();
    for r in runs.iter().filter(|r| r.attribute == x.attribute) {
        let Some(of) = &r.aggregate else {
            continue;
        };
        let Some(cells) = of
            .runs
            .iter()
            .map(|id| cell_of_run.get(id.as_str()).copied())
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        // Named in grid order, whatever order they were picked in.
        let mut cells = cells;
        cells.sort_unstable();
        let parts: Vec<(&ConfigMeasure, &Score)> = cells
            .iter()
            .filter_map(|&c| Some((measured[c].as_ref()?, lines[c].score.as_ref()?)))
            .collect();
        if parts.len() != cells.len() {
            continue;
        }
        let items: Vec<ItemOutcome> = storage
            .annotations(ds.id.clone(), run_source(&r.id))
            .await?
            .iter()
            .filter(|a| a.attribute == x.attribute && ranges_contain(&x.task_rows, a.row))
            .map(|a| outcome_of(a, &gold))
            .collect();
        if items.is_empty() {
            continue;
        }
        let answered = items.len();
        let concurrency = parts.iter().map(|(m, _)| m.concurrency).min().unwrap_or(1);
        let s = combined_score(items.clone(), &parts, RESAMPLES, BOOTSTRAP_SEED);
        combined_items.push(items);
        lines.push(Line {
            cell: lines.len(),
            kind: LineKind::Combined {
                method: of.method,
                cells,
            },
            run: Some(r.clone()),
            answered,
            score: Some(s),
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
                let items = |k: usize| match measured.get(k) {
                    Some(m) => m.as_ref().map_or(&[][..], |m| &m.items[..]),
                    None => &combined_items[k - measured.len()][..],
                };
                lines[i].comparison = Some(compare(items(b), items(i)));
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

#[cfg(test)]
mod tests {
    use super::combined_name;

    #[test]
    fn a_combination_names_its_parts_and_what_they_share_once() {
        let parts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            combined_name(&parts(&["a · v1 · T 0", "b · v1 · T 0", "c · v1 · T 0"])),
            "a + b + c (v1 · T 0)"
        );
        assert_eq!(
            combined_name(&parts(&["a · v1 · T 0", "a · v2 · T 0.7"])),
            "v1 · T 0 + v2 · T 0.7 (a)"
        );
        assert_eq!(
            combined_name(&parts(&["a · v1", "a · v1"])),
            "a · v1 + a · v1"
        );
        assert_eq!(combined_name(&parts(&["a", "b"])), "a + b");
    }
}
