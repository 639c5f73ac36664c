//! Scoring an experiment grid (models × prompt versions × temperatures ×
//! replications × constrained decoding) on a validation set with human gold
//! labels: one [`Score`] per configuration, a leaderboard, McNemar comparisons
//! against the best configuration, and what running a grid would cost.
//!
//! Conventions (the metrics module's, extended to requests that gave no answer):
//! - A gold label or answer that is `None` or blank (after trimming) is missing.
//!   Only items with a gold label enter accuracy, macro-F1 and κ.
//! - An item answers only when its outcome is [`Outcome::Valid`] and its `value`
//!   is present. Otherwise (invalid, failed) it predicts a reserved extra class,
//!   "no answer", which never matches gold, so it counts as wrong.
//! - Accuracy is the diagonal over all gold items.
//! - Cohen's κ is taken over the full confusion matrix including the no-answer
//!   column, as scikit-learn's `cohen_kappa_score` with a sentinel label would.
//! - Macro-F1 averages per-class F1 over the real classes only (labels seen in
//!   gold or in valid answers on gold items), not the no-answer class: failing to
//!   answer costs recall of the gold class, but is not a class of its own. F1 is
//!   0 when undefined (scikit-learn's `zero_division=0`).
//! - Bootstrap intervals are 95% percentile intervals over resampled gold items,
//!   seeded with [`SplitMix64`]; resamples where κ is undefined are left out.

use crate::agreement::krippendorff_alpha_nominal;
use crate::metrics::{bootstrap_with, mcnemar, quantile, BootstrapCis, Confusion, McNemar};
use crate::projection::ProjectionInput;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Confidence level of the bootstrap intervals.
pub const CI_LEVEL: f64 = 0.95;

/// χ² with one degree of freedom at p = 0.05 (`scipy.stats.chi2.ppf(0.95, 1)`).
pub const CHI2_CRITICAL_05: f64 = 3.841_458_820_694_124;

/// How one item's request came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The answer parsed into a label of the codebook.
    Valid,
    /// The endpoint answered, but not with a usable label.
    Invalid,
    /// No answer at all (network error, timeout, API error).
    Failed,
}

/// One validation item's outcome under one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemOutcome {
    /// Row of the item in the validation set; pairs items across configurations.
    pub row: u32,
    /// Human gold label; `None` when the row has none.
    pub gold: Option<String>,
    /// The model's (majority-vote) label; `None` when invalid or failed.
    pub value: Option<String>,
    /// How the request came out.
    pub outcome: Outcome,
    /// Mean request time of the item, in milliseconds.
    pub latency_ms: f64,
    /// Prompt tokens, summed over replications.
    pub tokens_in: u32,
    /// Completion tokens, summed over replications.
    pub tokens_out: u32,
    /// Each replication's label (`None` = no answer); empty without replications.
    pub replica_values: Vec<Option<String>>,
}

/// What was measured for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigMeasure {
    /// One entry per validation item.
    pub items: Vec<ItemOutcome>,
    /// Wall time of the run in seconds (for throughput).
    pub elapsed_s: f64,
    /// Requests in flight the run used.
    pub concurrency: u32,
    /// Requests per item (1 without replications).
    pub replications: u32,
    /// Price per million prompt tokens.
    pub price_in_per_m: Option<f64>,
    /// Price per million completion tokens.
    pub price_out_per_m: Option<f64>,
}

/// How stable a configuration is across repeated requests for the same item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicationScore {
    /// Requests per item.
    pub replications: u32,
    /// Accuracy of the majority vote (the item's `value`) on gold items.
    pub majority_accuracy: Option<f64>,
    /// Mean over replications k of the accuracy of replica k alone on gold items
    /// (a missing replica answer counts as wrong).
    pub mean_single_accuracy: Option<f64>,
    /// Krippendorff's α (nominal) with items as units and replications as coders.
    pub alpha: Option<f64>,
    /// Mean over items with a majority value of the share of replicas that gave it.
    pub mean_agreement: Option<f64>,
}

/// Quality, reliability, speed and cost of one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Items measured.
    pub n_items: usize,
    /// Items with a gold label.
    pub n_gold: usize,
    /// Share of gold items answered correctly (no answer counts as wrong).
    pub accuracy: Option<f64>,
    /// Mean F1 over the real classes (see the module doc).
    pub macro_f1: Option<f64>,
    /// Cohen's κ including the no-answer class; `None` when undefined.
    pub cohen_kappa: Option<f64>,
    /// 95% percentile bootstrap intervals of the three, resampling gold items.
    pub cis: BootstrapCis,
    /// Share of items whose answer was invalid (0 without items).
    pub invalid_rate: f64,
    /// Share of items whose request failed (0 without items).
    pub failed_rate: f64,
    /// Median latency over items that got an answer (valid or invalid).
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile latency (numpy's linear interpolation).
    pub latency_p95_ms: Option<f64>,
    /// Mean latency over items that got an answer.
    pub latency_mean_ms: Option<f64>,
    /// Prompt tokens per item, all replications included.
    pub tokens_in_per_item: f64,
    /// Completion tokens per item, all replications included.
    pub tokens_out_per_item: f64,
    /// Items finished per second of wall time.
    pub items_per_s: Option<f64>,
    /// Cost of 1,000 items; needs at least one price (a missing one counts as 0).
    pub cost_per_1000: Option<f64>,
    /// Stability across replications, when there were more than one.
    pub replication: Option<ReplicationScore>,
}

fn present(v: Option<&String>) -> Option<&str> {
    v.map(String::as_str).filter(|s| !s.trim().is_empty())
}

fn gold_of(i: &ItemOutcome) -> Option<&str> {
    present(i.gold.as_ref())
}

/// The item's answer, `None` for the no-answer class.
fn answer_of(i: &ItemOutcome) -> Option<&str> {
    if i.outcome == Outcome::Valid {
        present(i.value.as_ref())
    } else {
        None
    }
}

fn share(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Gold items coded for the confusion matrix: real classes `0..k` in code-point
/// order, `k` for no answer.
struct Coded {
    k: usize,
    gold: Vec<u32>,
    pred: Vec<u32>,
}

fn code(items: &[ItemOutcome]) -> Coded {
    let pairs: Vec<(&str, Option<&str>)> = items
        .iter()
        .filter_map(|i| Some((gold_of(i)?, answer_of(i))))
        .collect();
    let mut index: BTreeMap<&str, u32> = BTreeMap::new();
    for (g, p) in &pairs {
        index.insert(g, 0);
        if let Some(p) = p {
            index.insert(p, 0);
        }
    }
    for (i, c) in index.values_mut().enumerate() {
        *c = i as u32;
    }
    let k = index.len();
    let none = k as u32;
    let gold = pairs.iter().map(|(g, _)| index[g]).collect();
    let pred = pairs
        .iter()
        .map(|(_, p)| p.map_or(none, |p| index[p]))
        .collect();
    Coded { k, gold, pred }
}

/// Accuracy, macro-F1 over the `k` real classes, and κ over all `k + 1` of a
/// confusion matrix whose last class is "no answer".
fn headline(k: usize, cm: &Confusion) -> (f64, f64, Option<f64>) {
    let rows = cm.rows();
    let f1_sum: f64 = (0..k)
        .map(|i| {
            let row: u64 = rows[i].iter().sum();
            let col: u64 = rows.iter().map(|r| r[i]).sum();
            if row + col == 0 {
                0.0
            } else {
                2.0 * rows[i][i] as f64 / (row + col) as f64
            }
        })
        .sum();
    let macro_f1 = if k == 0 { 0.0 } else { f1_sum / k as f64 };
    (cm.accuracy(), macro_f1, cm.cohen_kappa())
}

fn bootstrap(c: &Coded, resamples: usize, seed: u64) -> BootstrapCis {
    bootstrap_with(c.gold.len(), resamples, CI_LEVEL, seed, |idx| {
        let cm = Confusion::from_indices(c.k + 1, &c.gold, &c.pred, idx.iter().copied());
        headline(c.k, &cm)
    })
}

fn replication_score(m: &ConfigMeasure, accuracy: Option<f64>) -> ReplicationScore {
    let observed = m
        .items
        .iter()
        .map(|i| i.replica_values.len())
        .max()
        .unwrap_or(0);
    // Replicas beyond the longest list are missing everywhere: they score 0 and
    // add nothing to α, so they need no loop of their own.
    let r = observed.max(m.replications as usize);
    let gold_items: Vec<(&ItemOutcome, &str)> = m
        .items
        .iter()
        .filter_map(|i| Some((i, gold_of(i)?)))
        .collect();
    let mean_single_accuracy = (!gold_items.is_empty() && r > 0).then(|| {
        let correct: usize = gold_items
            .iter()
            .map(|(i, g)| {
                i.replica_values
                    .iter()
                    .filter(|v| present(v.as_ref()) == Some(*g))
                    .count()
            })
            .sum();
        correct as f64 / (gold_items.len() * r) as f64
    });

    let coders: Vec<String> = (1..=observed).map(|k| format!("r{k}")).collect();
    let units: Vec<Vec<Option<&str>>> = m
        .items
        .iter()
        .map(|i| {
            i.replica_values
                .iter()
                .map(|v| present(v.as_ref()))
                .collect()
        })
        .collect();
    let alpha = if observed == 0 {
        None
    } else {
        krippendorff_alpha_nominal(&coders, &units).krippendorff_alpha_nominal
    };

    let shares: Vec<f64> = m
        .items
        .iter()
        .filter_map(|i| {
            let v = answer_of(i)?;
            let same = i
                .replica_values
                .iter()
                .filter(|x| present(x.as_ref()) == Some(v))
                .count();
            share(same, r)
        })
        .collect();
    ReplicationScore {
        replications: m.replications,
        majority_accuracy: accuracy,
        mean_single_accuracy,
        alpha,
        mean_agreement: (!shares.is_empty())
            .then(|| shares.iter().sum::<f64>() / shares.len() as f64),
    }
}

/// Score one configuration; `resamples` bootstrap draws seeded with `seed`.
pub fn score(m: &ConfigMeasure, resamples: usize, seed: u64) -> Score {
    let n_items = m.items.len();
    let coded = code(&m.items);
    let n_gold = coded.gold.len();
    let (accuracy, macro_f1, cohen_kappa) = if n_gold == 0 {
        (None, None, None)
    } else {
        let (a, f, k) = headline(
            coded.k,
            &Confusion::from_codes(coded.k + 1, &coded.gold, &coded.pred),
        );
        (Some(a), Some(f), k)
    };
    let count = |o: Outcome| m.items.iter().filter(|i| i.outcome == o).count();
    let rate = |o: Outcome| share(count(o), n_items).unwrap_or(0.0);

    let mut latencies: Vec<f64> = m
        .items
        .iter()
        .filter(|i| i.outcome != Outcome::Failed && i.latency_ms.is_finite())
        .map(|i| i.latency_ms)
        .collect();
    latencies.sort_unstable_by(f64::total_cmp);
    let latency_mean_ms =
        (!latencies.is_empty()).then(|| latencies.iter().sum::<f64>() / latencies.len() as f64);

    let per_item = |f: fn(&ItemOutcome) -> u32| {
        let total: u64 = m.items.iter().map(|i| u64::from(f(i))).sum();
        if n_items == 0 {
            0.0
        } else {
            total as f64 / n_items as f64
        }
    };
    let tokens_in_per_item = per_item(|i| i.tokens_in);
    let tokens_out_per_item = per_item(|i| i.tokens_out);
    let items_per_s =
        (m.elapsed_s.is_finite() && m.elapsed_s > 0.0).then(|| n_items as f64 / m.elapsed_s);
    let cost_per_1000 = (n_items > 0)
        .then(|| {
            cost(
                tokens_in_per_item * 1000.0,
                tokens_out_per_item * 1000.0,
                m.price_in_per_m,
                m.price_out_per_m,
            )
        })
        .flatten();

    Score {
        n_items,
        n_gold,
        accuracy,
        macro_f1,
        cohen_kappa,
        cis: bootstrap(&coded, resamples, seed),
        invalid_rate: rate(Outcome::Invalid),
        failed_rate: rate(Outcome::Failed),
        latency_p50_ms: quantile(&latencies, 0.5),
        latency_p95_ms: quantile(&latencies, 0.95),
        latency_mean_ms,
        tokens_in_per_item,
        tokens_out_per_item,
        items_per_s,
        cost_per_1000,
        replication: (m.replications > 1).then(|| replication_score(m, accuracy)),
    }
}

/// Score a combination of configurations (an aggregated run, see
/// [`crate::aggregate`]) on the same items as its parts.
///
/// `items` carry the combined label of each item; what it took to get them is
/// the parts' together, since every part sent its own requests: per item, the
/// parts' request times (all replications) and tokens are summed, the wall
/// times of the runs are summed (they ran one after another), and the cost is
/// the sum of the parts' costs at their own prices. Accuracy, F1, κ and their
/// intervals are the combined labels' own.
pub fn combined_score(
    items: Vec<ItemOutcome>,
    parts: &[(&ConfigMeasure, &Score)],
    resamples: usize,
    seed: u64,
) -> Score {
    let mut per_row: HashMap<u32, (f64, u32, u32)> = HashMap::new();
    for (m, _) in parts {
        let requests = f64::from(m.replications.max(1));
        for i in &m.items {
            let e = per_row.entry(i.row).or_default();
            e.0 += i.latency_ms * requests;
            e.1 += i.tokens_in;
            e.2 += i.tokens_out;
        }
    }
    let items = items
        .into_iter()
        .map(|mut i| {
            let (latency, tin, tout) = per_row.get(&i.row).copied().unwrap_or_default();
            i.latency_ms = latency;
            i.tokens_in = tin;
            i.tokens_out = tout;
            i.replica_values = Vec::new();
            i
        })
        .collect();
    let m = ConfigMeasure {
        items,
        elapsed_s: parts.iter().map(|(m, _)| m.elapsed_s).sum(),
        concurrency: parts.iter().map(|(m, _)| m.concurrency).min().unwrap_or(1),
        replications: 1,
        price_in_per_m: None,
        price_out_per_m: None,
    };
    let mut s = score(&m, resamples, seed);
    let costs: Vec<f64> = parts.iter().filter_map(|(_, s)| s.cost_per_1000).collect();
    s.cost_per_1000 = (!costs.is_empty()).then(|| costs.iter().sum());
    s
}

/// Cost of the tokens; `None` without any price, a missing price counting as 0.
fn cost(
    tokens_in: f64,
    tokens_out: f64,
    price_in: Option<f64>,
    price_out: Option<f64>,
) -> Option<f64> {
    if price_in.is_none() && price_out.is_none() {
        return None;
    }
    Some((tokens_in * price_in.unwrap_or(0.0) + tokens_out * price_out.unwrap_or(0.0)) / 1e6)
}

/// McNemar's test of one configuration against the best one, on rows both answered with gold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// Rows with a gold label in both configurations.
    pub n_paired: usize,
    /// The test with `a` = best, `b` = other; no answer counts as wrong.
    pub mcnemar: McNemar,
    /// Whether p < 0.05.
    pub significant: bool,
    /// When not significant but the discordant counts differ: how many more gold
    /// items, at the same discordance rates, until the continuity-corrected χ²
    /// test reaches p < 0.05. At least 1: the verdict itself comes from the exact
    /// test below 25 discordant pairs and from an erfc approximation above, whose
    /// boundaries could sit a hair off the χ² threshold. `None` when significant
    /// or when no difference was seen.
    pub more_gold_needed: Option<u64>,
}

/// Compare `other` to `best`, pairing items by `row` (the first occurrence of a
/// row counts) over rows with a gold label in both.
pub fn compare(best: &[ItemOutcome], other: &[ItemOutcome]) -> Comparison {
    let mut others: HashMap<u32, &ItemOutcome> = HashMap::with_capacity(other.len());
    for o in other {
        others.entry(o.row).or_insert(o);
    }
    let mut seen = HashSet::with_capacity(best.len());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for x in best {
        if !seen.insert(x.row) {
            continue;
        }
        let Some(y) = others.get(&x.row) else {
            continue;
        };
        if let (Some(gx), Some(gy)) = (gold_of(x), gold_of(y)) {
            a.push(answer_of(x) == Some(gx));
            b.push(answer_of(y) == Some(gy));
        }
    }
    let n_paired = a.len();
    let test = mcnemar(&a, &b);
    let significant = test.p_value < 0.05;
    let more_gold_needed = if significant {
        None
    } else {
        gold_needed(test.b, test.c, n_paired)
            .map(|total| total.saturating_sub(n_paired as u64).max(1))
    };
    Comparison {
        n_paired,
        mcnemar: test,
        significant,
        more_gold_needed,
    }
}

/// The continuity-corrected McNemar χ² at `total` items, the discordant counts
/// scaled from `b` and `c` out of `n`. As in [`mcnemar`], a difference below 1 gives
/// 0: the correction cannot make it significant.
pub fn scaled_statistic(b: u64, c: u64, n: usize, total: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let scale = total as f64 / n as f64;
    let (bb, cc) = (b as f64 * scale, c as f64 * scale);
    if bb + cc <= 0.0 {
        return 0.0;
    }
    ((bb - cc).abs() - 1.0).max(0.0).powi(2) / (bb + cc)
}

/// Total gold items N at which discordant counts `b` and `c` seen among `n` items,
/// scaled to B = bN/n and C = cN/n, give (|B − C| − 1)² / (B + C) > 3.8415 (with
/// |B − C| > 1, see [`scaled_statistic`]): the smallest such integer N. `None` if
/// `b == c` (no difference to detect) or `n == 0`.
pub fn gold_needed(b: u64, c: u64, n: usize) -> Option<u64> {
    if b == c || n == 0 {
        return None;
    }
    let d = b.abs_diff(c) as f64 / n as f64;
    let s = (b + c) as f64 / n as f64;
    // With x = N: d²x² − (2d + χ²·s)x + 1 > 0 beyond the larger root.
    let p = 2.0 * d + CHI2_CRITICAL_05 * s;
    let root = (p + (p * p - 4.0 * d * d).max(0.0).sqrt()) / (2.0 * d * d);
    let mut total = (root.floor() as u64).saturating_add(1).max(1);
    let stat = |t: u64| scaled_statistic(b, c, n, t);
    // The root is computed in floating point; settle the last step exactly.
    for _ in 0..8 {
        if total > 1 && stat(total - 1) > CHI2_CRITICAL_05 {
            total -= 1;
        } else {
            break;
        }
    }
    for _ in 0..8 {
        if stat(total) <= CHI2_CRITICAL_05 && total < u64::MAX {
            total += 1;
        } else {
            break;
        }
    }
    Some(total)
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| !x.is_nan())
}

/// Leaderboard order of two scores, `Greater` when `a` ranks above `b`: higher
/// accuracy, then higher macro-F1, then lower cost per 1,000 (a known cost ranks
/// above an unknown one). Missing or NaN accuracy ranks below everything.
pub fn rank_cmp(a: &Score, b: &Score) -> Ordering {
    let key = |s: &Score| (finite(s.accuracy), finite(s.macro_f1));
    let (ka, kb) = (key(a), key(b));
    let by_quality = match (ka.0, kb.0) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
    .then_with(|| match (ka.1, kb.1) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    });
    by_quality.then_with(
        || match (finite(a.cost_per_1000), finite(b.cost_per_1000)) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (x, y) => x.is_some().cmp(&y.is_some()),
        },
    )
}

/// Indices of `scores`, best first (ties keep index order).
pub fn leaderboard(scores: &[Score]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Stable sort: equal scores stay in index order.
    order.sort_by(|&i, &j| rank_cmp(&scores[j], &scores[i]));
    order
}

/// Index of the best configuration: highest accuracy; ties by macro-F1, then lower
/// cost_per_1000, then lower index. None when no score has an accuracy.
pub fn best_index(scores: &[Score]) -> Option<usize> {
    leaderboard(scores)
        .first()
        .copied()
        .filter(|&i| finite(scores[i].accuracy).is_some())
}

/// The projection input for a measured configuration at `workers` parallel requests
/// and a daily volume; `None` when no latency was measured. Missing prices count as 0.
/// With replications an item takes one request per replication, one after another,
/// so its time is the mean request time times the replications.
pub fn projection_input(
    s: &Score,
    workers: u32,
    daily_volume: u64,
    price_in_per_m: Option<f64>,
    price_out_per_m: Option<f64>,
) -> Option<ProjectionInput> {
    let requests_per_item = s.replication.as_ref().map_or(1, |r| r.replications.max(1));
    Some(ProjectionInput {
        latency_s: s.latency_mean_ms? / 1000.0 * f64::from(requests_per_item),
        concurrency: workers,
        tokens_in_per_item: s.tokens_in_per_item,
        tokens_out_per_item: s.tokens_out_per_item,
        price_in_per_million: price_in_per_m.unwrap_or(0.0),
        price_out_per_million: price_out_per_m.unwrap_or(0.0),
        daily_volume,
    })
}

/// A model at one of an experiment's endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    /// Which endpoint: 0 is the project's, `k` the experiment's `k`-th other one.
    pub endpoint: usize,
    /// Model name as that endpoint knows it.
    pub model: String,
}

impl From<&str> for ModelRef {
    /// A model at the project's endpoint.
    fn from(model: &str) -> Self {
        ModelRef {
            endpoint: 0,
            model: model.to_string(),
        }
    }
}

/// One cell of a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSpec {
    /// Which endpoint: 0 is the project's, `k` the experiment's `k`-th other one.
    #[serde(default)]
    pub endpoint: usize,
    /// Model name as the endpoint knows it.
    pub model: String,
    /// Prompt version.
    pub version: u32,
    /// Sampling temperature.
    pub temperature: f64,
    /// Requests per item.
    pub replications: u32,
    /// Whether decoding is constrained to the codebook's labels.
    pub constrained: bool,
}

/// The axes of a grid.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GridAxes {
    /// Models to try, each at its endpoint.
    pub models: Vec<ModelRef>,
    /// Prompt versions to try.
    pub versions: Vec<u32>,
    /// Temperatures to try.
    pub temperatures: Vec<f64>,
    /// Replication counts to try.
    pub replications: Vec<u32>,
    /// Constrained decoding off and/or on.
    pub constrained: Vec<bool>,
}

/// The values in first-seen order without repeats.
fn distinct<T: Clone>(values: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(values.len());
    for v in values {
        if !out.iter().any(|o| same(o, v)) {
            out.push(v.clone());
        }
    }
    out
}

/// Cartesian product in the order models, versions, temperatures, replications,
/// constrained (last varies fastest); duplicate axis values removed (keep first);
/// an empty axis gives no cells.
pub fn cells(axes: &GridAxes) -> Vec<CellSpec> {
    let models = distinct(&axes.models, |a, b| a == b);
    let versions = distinct(&axes.versions, |a, b| a == b);
    // NaN == NaN here, so a repeated NaN is a duplicate like any other value.
    let temperatures = distinct(&axes.temperatures, |a, b| {
        a == b || (a.is_nan() && b.is_nan())
    });
    let replications = distinct(&axes.replications, |a, b| a == b);
    let constrained = distinct(&axes.constrained, |a, b| a == b);
    let mut out = Vec::new();
    for model in &models {
        for &version in &versions {
            for &temperature in &temperatures {
                for &reps in &replications {
                    for &constrained in &constrained {
                        out.push(CellSpec {
                            endpoint: model.endpoint,
                            model: model.model.clone(),
                            version,
                            temperature,
                            replications: reps,
                            constrained,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Estimated requests, tokens and cost of running one cell on `n_items` items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CellEstimate {
    /// Requests: items × replications.
    pub requests: u64,
    /// Prompt tokens over all requests.
    pub tokens_in: u64,
    /// Completion tokens over all requests.
    pub tokens_out: u64,
    /// Cost, `None` without any price (a missing price counts as 0).
    pub cost: Option<f64>,
}

/// Estimate one cell: every replication sends the whole prompt again.
pub fn estimate_cell(
    n_items: u64,
    replications: u32,
    prompt_tokens_per_item: f64,
    out_tokens_per_request: f64,
    price_in_per_m: Option<f64>,
    price_out_per_m: Option<f64>,
) -> CellEstimate {
    let requests = n_items.saturating_mul(u64::from(replications));
    // Float-to-int casts saturate, and NaN or negative token counts become 0.
    let tokens = |per: f64| (requests as f64 * per).round() as u64;
    let (tokens_in, tokens_out) = (
        tokens(prompt_tokens_per_item),
        tokens(out_tokens_per_request),
    );
    CellEstimate {
        requests,
        tokens_in,
        tokens_out,
        cost: cost(
            tokens_in as f64,
            tokens_out as f64,
            price_in_per_m,
            price_out_per_m,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::classify;
    use crate::metrics::{Interval, SplitMix64};
    use crate::projection::project;

    const SENTINEL: &str = "<no answer>";

    fn item(row: u32, gold: Option<&str>, value: Option<&str>) -> ItemOutcome {
        ItemOutcome {
            row,
            gold: gold.map(str::to_string),
            value: value.map(str::to_string),
            outcome: if value.is_some() {
                Outcome::Valid
            } else {
                Outcome::Invalid
            },
            latency_ms: 1000.0,
            tokens_in: 100,
            tokens_out: 5,
            replica_values: Vec::new(),
        }
    }

    fn measure(items: Vec<ItemOutcome>) -> ConfigMeasure {
        ConfigMeasure {
            items,
            elapsed_s: 10.0,
            concurrency: 4,
            replications: 1,
            price_in_per_m: None,
            price_out_per_m: None,
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn a_combination_is_scored_on_its_own_labels_at_its_parts_time_and_cost() {
        let gold = ["a", "b", "a", "b"];
        let part = |values: [&str; 4], latency: f64, replications: u32, price: Option<f64>| {
            let mut m = measure(
                (0..4)
                    .map(|r| {
                        let mut i = item(r, Some(gold[r as usize]), Some(values[r as usize]));
                        i.latency_ms = latency;
                        i
                    })
                    .collect(),
            );
            m.replications = replications;
            m.price_in_per_m = price;
            let s = score(&m, 0, 1);
            (m, s)
        };
        let p1 = part(["a", "b", "b", "b"], 100.0, 1, Some(1.0));
        let p2 = part(["a", "a", "a", "b"], 200.0, 2, None);
        let p3 = part(["b", "b", "a", "b"], 50.0, 1, Some(3.0));
        // The vote is right on all four.
        let combined: Vec<ItemOutcome> = (0..4)
            .map(|r| item(r, Some(gold[r as usize]), Some(gold[r as usize])))
            .collect();
        let parts = [(&p1.0, &p1.1), (&p2.0, &p2.1), (&p3.0, &p3.1)];
        let s = combined_score(combined, &parts, 0, 1);
        assert_eq!(s.accuracy, Some(1.0));
        assert_eq!(p1.1.accuracy, Some(0.75));
        // 100 + 2 × 200 + 50 ms per item; 300 tokens in, 15 out.
        close(s.latency_mean_ms.unwrap(), 550.0);
        close(s.tokens_in_per_item, 300.0);
        close(s.tokens_out_per_item, 15.0);
        // 4 items over 10 + 10 + 10 s.
        close(s.items_per_s.unwrap(), 4.0 / 30.0);
        // Each priced part at its own price; the unpriced one adds nothing.
        close(
            s.cost_per_1000.unwrap(),
            p1.1.cost_per_1000.unwrap() + p3.1.cost_per_1000.unwrap(),
        );
        assert!(s.replication.is_none());
        let unpriced = combined_score(vec![item(0, Some("a"), Some("a"))], &[(&p2.0, &p2.1)], 0, 1);
        assert_eq!(unpriced.cost_per_1000, None);
    }

    /// `n` items over three labels, each right with probability `acc`, else
    /// another label; every 20th wrong answer is invalid instead.
    fn simulate(n: usize, acc: f64, seed: u64) -> Vec<ItemOutcome> {
        let labels = ["neg", "neu", "pos"];
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|r| {
                let g = labels[rng.below(3)];
                let right = ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < acc;
                let v = if right {
                    Some(g)
                } else if rng.below(20) == 0 {
                    None
                } else {
                    let other: Vec<&str> = labels.iter().copied().filter(|l| *l != g).collect();
                    Some(other[rng.below(2)])
                };
                item(r as u32, Some(g), v)
            })
            .collect()
    }

    #[test]
    fn accuracy_f1_and_kappa_count_an_invalid_answer_as_wrong() {
        let gold = ["a", "a", "a", "b", "b", "c"];
        let pred = [Some("a"), Some("a"), Some("b"), Some("b"), None, Some("c")];
        let mut items: Vec<ItemOutcome> = gold
            .iter()
            .zip(pred)
            .enumerate()
            .map(|(r, (g, p))| item(r as u32, Some(g), p))
            .collect();
        // No gold: left out of quality, counted in rates.
        items.push(item(6, None, Some("a")));
        // Blank gold counts as none.
        items.push(item(7, Some("  "), Some("a")));
        let s = score(&measure(items), 200, 1);
        assert_eq!((s.n_items, s.n_gold), (8, 6));
        close(s.accuracy.unwrap(), 4.0 / 6.0);
        // F1: a = 2·2/(3+2), b = 2·1/(2+2), c = 1.
        close(s.macro_f1.unwrap(), (0.8 + 0.5 + 1.0) / 3.0);
        // po = 4/6, pe = (3·2 + 2·2 + 1·1 + 0·1)/36 = 11/36, κ = 13/25.
        close(s.cohen_kappa.unwrap(), 0.52);
        let sentinel: Vec<Option<&str>> = pred.iter().map(|p| p.or(Some(SENTINEL))).collect();
        let gold: Vec<Option<&str>> = gold.iter().copied().map(Some).collect();
        let oracle = classify(&gold, &sentinel);
        close(s.cohen_kappa.unwrap(), oracle.cohen_kappa.unwrap());
        close(s.accuracy.unwrap(), oracle.accuracy);
        close(s.invalid_rate, 1.0 / 8.0);
        assert_eq!(s.failed_rate, 0.0);
    }

    #[test]
    fn macro_f1_leaves_out_the_no_answer_class() {
        let s = score(
            &measure(vec![
                item(0, Some("a"), Some("a")),
                item(1, Some("a"), None),
                item(2, Some("b"), Some("b")),
                item(3, Some("b"), None),
            ]),
            0,
            1,
        );
        // a and b: tp 1, gold 2, predicted 1 → F1 2/3 each; with the no-answer
        // class as a third label (F1 0) it would be 4/9.
        close(s.macro_f1.unwrap(), 2.0 / 3.0);
        let with_sentinel = classify(
            &[Some("a"), Some("a"), Some("b"), Some("b")],
            &[Some("a"), Some(SENTINEL), Some("b"), Some(SENTINEL)],
        );
        close(with_sentinel.macro_f1, 4.0 / 9.0);
        // A label only predicted is a real class (F1 0); a gold label only
        // answered with "no answer" is one too (F1 0).
        let s = score(
            &measure(vec![
                item(0, Some("a"), Some("a")),
                item(1, Some("a"), Some("c")),
                item(2, Some("b"), None),
            ]),
            0,
            1,
        );
        // a: 2·1/(2+1); b: 0; c: 0.
        close(s.macro_f1.unwrap(), (2.0 / 3.0) / 3.0);
        assert_eq!(s.cis.accuracy, None);
    }

    #[test]
    fn bootstrap_intervals_shrink_with_n_and_cover_the_estimate() {
        let mut last = f64::INFINITY;
        for n in [50, 200, 1000] {
            let s = score(&measure(simulate(n, 0.8, 42)), 1000, 7);
            let ci = s.cis.accuracy.unwrap();
            let width = ci.hi - ci.lo;
            assert!(width < last, "n = {n}: {width} !< {last}");
            last = width;
            let covers = |i: Option<Interval>, v: Option<f64>| {
                let (i, v) = (i.unwrap(), v.unwrap());
                assert!(i.lo <= v && v <= i.hi, "n = {n}: {v} outside {i:?}");
            };
            covers(s.cis.accuracy, s.accuracy);
            covers(s.cis.macro_f1, s.macro_f1);
            covers(s.cis.cohen_kappa, s.cohen_kappa);
            assert_eq!(s.cis.level, CI_LEVEL);
            // Seeded: the same input gives the same intervals.
            assert_eq!(s.cis, score(&measure(simulate(n, 0.8, 42)), 1000, 7).cis);
        }
    }

    #[test]
    fn leaderboard_ranks_by_accuracy_then_f1_then_cost() {
        let scores: Vec<Score> = [0.75, 0.9, 0.6]
            .iter()
            .enumerate()
            .map(|(i, &acc)| score(&measure(simulate(400, acc, i as u64)), 0, 1))
            .collect();
        assert_eq!(best_index(&scores), Some(1));
        assert_eq!(leaderboard(&scores), vec![1, 0, 2]);
        let accs: Vec<f64> = leaderboard(&scores)
            .iter()
            .map(|&i| scores[i].accuracy.unwrap())
            .collect();
        assert!(accs.windows(2).all(|w| w[0] > w[1]), "{accs:?}");

        // Ties: equal accuracy → macro-F1; equal both → cheaper; then index.
        let with = |acc: Option<f64>, f1: Option<f64>, cost: Option<f64>| Score {
            accuracy: acc,
            macro_f1: f1,
            cost_per_1000: cost,
            ..scores[0].clone()
        };
        let tied = vec![
            with(Some(0.8), Some(0.5), Some(1.0)),
            with(Some(0.8), Some(0.7), None),
            with(Some(0.8), Some(0.7), Some(2.0)),
            with(Some(0.8), Some(0.7), Some(2.0)),
            with(None, None, Some(0.0)),
            with(Some(f64::NAN), Some(1.0), Some(0.0)),
        ];
        assert_eq!(best_index(&tied), Some(2));
        assert_eq!(leaderboard(&tied)[..4], [2, 3, 1, 0]);
        assert_eq!(best_index(&tied[4..]), None);
        assert_eq!(best_index(&[]), None);
    }

    #[test]
    fn mcnemar_pairs_rows_and_says_how_much_gold_is_missing() {
        let good = simulate(200, 0.9, 3);
        let poor = simulate(200, 0.6, 3);
        let c = compare(&good, &poor);
        assert_eq!(c.n_paired, 200);
        assert!(c.significant, "{c:?}");
        assert!(c.mcnemar.b > c.mcnemar.c);
        assert_eq!(c.more_gold_needed, None);

        // Same answers except two rows the other gets wrong; pairing by row,
        // whatever the order, and only rows with gold on both sides.
        let mut other = good.clone();
        let mut flipped = 0;
        for o in other.iter_mut() {
            if flipped < 2 && o.value == o.gold {
                o.value = Some("wrong".into());
                flipped += 1;
            }
        }
        other.reverse();
        other[0].gold = None;
        let c = compare(&good, &other);
        assert_eq!(c.n_paired, 199);
        assert_eq!((c.mcnemar.b, c.mcnemar.c), (2, 0));
        assert!(!c.significant);
        let more = c.more_gold_needed.unwrap();
        let total = 199 + more;
        assert!(scaled_statistic(2, 0, 199, total) > 3.8415);
        assert!(scaled_statistic(2, 0, 199, total - 1) <= 3.8415);
        // By hand: x = 2N/199 must exceed the larger root of x² − 5.8415x + 1.
        let x = (5.841_458_820_694_124 + (5.841_458_820_694_124f64.powi(2) - 4.0).sqrt()) / 2.0;
        assert_eq!(total, (x * 199.0 / 2.0).floor() as u64 + 1);

        let nothing = compare(&[], &good);
        assert_eq!(nothing.n_paired, 0);
        assert!(!nothing.significant);
        assert_eq!(nothing.more_gold_needed, None);
    }

    #[test]
    fn gold_needed_is_none_without_a_difference() {
        assert_eq!(gold_needed(3, 3, 100), None);
        assert_eq!(gold_needed(0, 0, 100), None);
        assert_eq!(gold_needed(3, 1, 0), None);
        // Already far past the threshold: the smallest N is below n.
        let n = gold_needed(40, 5, 100).unwrap();
        assert!(n < 100);
        assert!(scaled_statistic(40, 5, 100, n) > CHI2_CRITICAL_05);
        assert!(scaled_statistic(40, 5, 100, n - 1) <= CHI2_CRITICAL_05);
        // Extreme inputs do not panic.
        assert!(gold_needed(1, 0, usize::MAX).is_some());
        assert!(gold_needed(u64::MAX, 0, 1).is_some());
    }

    #[test]
    fn exact_verdict_never_lags_the_chi2_so_more_gold_is_at_least_one() {
        // Below 25 discordant pairs the exact test decides; where it says "not
        // significant" the χ² at the current size must not already pass,
        // or `more_gold_needed` would have to be clamped.
        for b in 0..25u64 {
            for c in 0..25 - b {
                let a: Vec<bool> = (0..b + c).map(|i| i < b).collect();
                let o: Vec<bool> = a.iter().map(|x| !x).collect();
                let m = mcnemar(&a, &o);
                if m.p_value >= 0.05 {
                    assert!(m.statistic <= CHI2_CRITICAL_05, "b = {b}, c = {c}");
                }
            }
        }
    }

    #[test]
    fn replications_score_majority_single_alpha_and_agreement() {
        let rep = |row, gold, value: Option<&str>, reps: [Option<&str>; 3]| ItemOutcome {
            replica_values: reps.iter().map(|r| r.map(str::to_string)).collect(),
            ..item(row, Some(gold), value)
        };
        let items = vec![
            rep(0, "a", Some("a"), [Some("a"), Some("a"), Some("b")]),
            rep(1, "b", Some("b"), [Some("b"), None, Some("b")]),
            rep(2, "a", Some("b"), [Some("b"), Some("b"), Some("b")]),
            rep(3, "b", None, [Some("a"), Some("b"), None]),
        ];
        let m = ConfigMeasure {
            replications: 3,
            ..measure(items.clone())
        };
        let r = score(&m, 0, 1).replication.unwrap();
        assert_eq!(r.replications, 3);
        close(r.majority_accuracy.unwrap(), 0.5);
        // Replica 1: 2/4, replica 2: 2/4, replica 3: 1/4.
        close(r.mean_single_accuracy.unwrap(), 1.25 / 3.0);
        // Items with a majority: 2/3, 2/3, 3/3.
        close(r.mean_agreement.unwrap(), 7.0 / 9.0);
        let units: Vec<Vec<Option<&str>>> = items
            .iter()
            .map(|i| i.replica_values.iter().map(|v| v.as_deref()).collect())
            .collect();
        let names: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        let want = krippendorff_alpha_nominal(&names, &units).krippendorff_alpha_nominal;
        close(r.alpha.unwrap(), want.unwrap());
        assert!(score(&measure(items), 0, 1).replication.is_none());

        // More replications configured than recorded: missing replicas are wrong.
        let m = ConfigMeasure {
            replications: 5,
            items: vec![rep(0, "a", Some("a"), [Some("a"), Some("a"), Some("a")])],
            ..m
        };
        let r = score(&m, 0, 1).replication.unwrap();
        close(r.mean_single_accuracy.unwrap(), 3.0 / 5.0);
        close(r.mean_agreement.unwrap(), 3.0 / 5.0);
        assert_eq!(r.alpha, None);
    }

    #[test]
    fn latency_percentiles_throughput_and_cost_with_one_price() {
        let mut items: Vec<ItemOutcome> = [100.0, 200.0, 300.0, 400.0, 1000.0]
            .iter()
            .enumerate()
            .map(|(r, &ms)| ItemOutcome {
                latency_ms: ms,
                tokens_in: 1000,
                tokens_out: 50,
                ..item(r as u32, Some("a"), Some("a"))
            })
            .collect();
        items[4].outcome = Outcome::Invalid;
        items[4].value = None;
        // Failed requests and unmeasured latencies do not enter the percentiles.
        items.push(ItemOutcome {
            outcome: Outcome::Failed,
            latency_ms: 5000.0,
            tokens_in: 1000,
            tokens_out: 50,
            ..item(5, Some("a"), None)
        });
        items.push(ItemOutcome {
            latency_ms: f64::NAN,
            tokens_in: 1000,
            tokens_out: 50,
            ..item(6, Some("a"), Some("a"))
        });
        let m = ConfigMeasure {
            elapsed_s: 3.5,
            price_in_per_m: Some(2.0),
            ..measure(items)
        };
        let s = score(&m, 0, 1);
        // numpy.percentile([100, 200, 300, 400, 1000], [50, 95]) = [300, 880].
        close(s.latency_p50_ms.unwrap(), 300.0);
        close(s.latency_p95_ms.unwrap(), 880.0);
        close(s.latency_mean_ms.unwrap(), 400.0);
        close(s.items_per_s.unwrap(), 2.0);
        close(s.failed_rate, 1.0 / 7.0);
        close(s.tokens_in_per_item, 1000.0);
        // 1,000 items × 1,000 tokens × 2 per million; output unpriced.
        close(s.cost_per_1000.unwrap(), 2.0);
        let out_only = ConfigMeasure {
            price_in_per_m: None,
            price_out_per_m: Some(4.0),
            ..m.clone()
        };
        close(score(&out_only, 0, 1).cost_per_1000.unwrap(), 0.2);
        let unpriced = ConfigMeasure {
            price_in_per_m: None,
            ..m
        };
        assert_eq!(score(&unpriced, 0, 1).cost_per_1000, None);
    }

    #[test]
    fn projection_input_gives_hours_from_mean_latency_and_workers() {
        let items: Vec<ItemOutcome> = [1500.0, 2500.0]
            .iter()
            .enumerate()
            .map(|(r, &ms)| ItemOutcome {
                latency_ms: ms,
                ..item(r as u32, Some("a"), Some("a"))
            })
            .collect();
        let m = ConfigMeasure {
            price_in_per_m: Some(0.15),
            price_out_per_m: Some(0.6),
            ..measure(items)
        };
        let s = score(&m, 0, 1);
        let input = projection_input(&s, 4, 6500, Some(0.15), Some(0.6)).unwrap();
        close(input.latency_s, 2.0);
        let p = project(&input);
        close(p.hours_per_day, 6500.0 * 2.0 / (4.0 * 3600.0));
        assert!(p.fits_in_24h);
        close(p.cost_per_1000, s.cost_per_1000.unwrap());
        let unpriced = projection_input(&s, 1, 10, None, None).unwrap();
        assert_eq!(unpriced.price_in_per_million, 0.0);
        let empty = score(&measure(Vec::new()), 0, 1);
        assert_eq!(projection_input(&empty, 4, 6500, None, None), None);
        // Three replications: three requests per item, so three times the hours.
        let replicated = ConfigMeasure {
            replications: 3,
            ..measure(
                m.items
                    .iter()
                    .map(|i| ItemOutcome {
                        replica_values: vec![Some("a".into()); 3],
                        ..i.clone()
                    })
                    .collect(),
            )
        };
        let r = score(&replicated, 0, 1);
        let p3 = project(&projection_input(&r, 4, 6500, None, None).unwrap());
        close(p3.hours_per_day, 3.0 * p.hours_per_day);
    }

    #[test]
    fn cells_are_the_ordered_product_without_duplicates() {
        let axes = GridAxes {
            models: vec!["m1".into(), "m2".into(), "m1".into()],
            versions: vec![1, 2, 2],
            temperatures: vec![0.0, 0.7, 0.0],
            replications: vec![1, 3],
            constrained: vec![false, true, false],
        };
        let c = cells(&axes);
        assert_eq!(c.len(), 32);
        let cell = |m: &str, v, t, r, k| CellSpec {
            endpoint: 0,
            model: m.into(),
            version: v,
            temperature: t,
            replications: r,
            constrained: k,
        };
        assert_eq!(c[0], cell("m1", 1, 0.0, 1, false));
        assert_eq!(c[1], cell("m1", 1, 0.0, 1, true));
        assert_eq!(c[2], cell("m1", 1, 0.0, 3, false));
        assert_eq!(c[4], cell("m1", 1, 0.7, 1, false));
        assert_eq!(c[8], cell("m1", 2, 0.0, 1, false));
        assert_eq!(c[16], cell("m2", 1, 0.0, 1, false));
        assert_eq!(c[31], cell("m2", 2, 0.7, 3, true));
        // The same model name at another endpoint is another model.
        let two = GridAxes {
            models: vec![
                "m1".into(),
                ModelRef {
                    endpoint: 1,
                    model: "m1".into(),
                },
            ],
            ..axes.clone()
        };
        let c2 = cells(&two);
        assert_eq!(c2.len(), 32);
        assert_eq!((c2[16].endpoint, c2[16].model.as_str()), (1, "m1"));
        for empty in [
            GridAxes {
                models: Vec::new(),
                ..axes.clone()
            },
            GridAxes {
                constrained: Vec::new(),
                ..axes.clone()
            },
            GridAxes::default(),
        ] {
            assert!(cells(&empty).is_empty());
        }
        let nan = GridAxes {
            temperatures: vec![f64::NAN, f64::NAN],
            ..axes
        };
        assert_eq!(cells(&nan).len(), 16);
    }

    #[test]
    fn estimate_cell_multiplies_out() {
        let e = estimate_cell(100, 3, 650.0, 10.0, Some(0.15), Some(0.6));
        assert_eq!(
            (e.requests, e.tokens_in, e.tokens_out),
            (300, 195_000, 3000)
        );
        close(e.cost.unwrap(), (195_000.0 * 0.15 + 3000.0 * 0.6) / 1e6);
        close(
            estimate_cell(100, 3, 650.0, 10.0, None, Some(0.6))
                .cost
                .unwrap(),
            0.0018,
        );
        assert_eq!(estimate_cell(100, 3, 650.0, 10.0, None, None).cost, None);
        let odd = estimate_cell(u64::MAX, u32::MAX, f64::NAN, -5.0, Some(1.0), None);
        assert_eq!(
            (odd.requests, odd.tokens_in, odd.tokens_out),
            (u64::MAX, 0, 0)
        );
    }

    #[test]
    fn empty_and_degenerate_measures_do_not_panic() {
        let m = ConfigMeasure {
            items: Vec::new(),
            elapsed_s: 0.0,
            concurrency: 0,
            replications: 0,
            price_in_per_m: Some(1.0),
            price_out_per_m: None,
        };
        let s = score(&m, 100, 1);
        assert_eq!((s.n_items, s.n_gold), (0, 0));
        assert_eq!((s.accuracy, s.macro_f1, s.cohen_kappa), (None, None, None));
        assert_eq!((s.invalid_rate, s.failed_rate), (0.0, 0.0));
        assert_eq!((s.latency_p50_ms, s.latency_mean_ms), (None, None));
        assert_eq!((s.items_per_s, s.cost_per_1000), (None, None));
        assert_eq!(s.cis.accuracy, None);
        assert!(s.replication.is_none());

        // Everything failed, with replications but no replica values recorded.
        let failed: Vec<ItemOutcome> = (0..5)
            .map(|r| ItemOutcome {
                outcome: Outcome::Failed,
                latency_ms: f64::NAN,
                ..item(r, Some("a"), None)
            })
            .collect();
        let m = ConfigMeasure {
            items: failed,
            elapsed_s: f64::NAN,
            replications: 3,
            ..m
        };
        let s = score(&m, 50, 1);
        assert_eq!(s.accuracy, Some(0.0));
        assert_eq!(s.failed_rate, 1.0);
        assert_eq!(s.latency_p95_ms, None);
        assert_eq!(s.items_per_s, None);
        let r = s.replication.clone().unwrap();
        assert_eq!(r.mean_single_accuracy, Some(0.0));
        assert_eq!((r.alpha, r.mean_agreement), (None, None));
        assert_eq!(best_index(&[s]), Some(0));
    }
}
