//! The full classify suite on one million rows of string labels, interning included.
//! `.ci/bench metrics` runs this and scikit-learn on the same machine and compares.

use criterion::{criterion_group, criterion_main, Criterion};
use fannotate_core::classify;
use fannotate_core::metrics::SplitMix64;
use std::hint::black_box;

/// Rows in the benchmark (the 1 M).
pub const ROWS: usize = 1_000_000;
const LABELS: [&str; 5] = ["billing", "cancel", "complaint", "other", "tech"];

/// Skewed gold labels and predictions that are right about 78 % of the time.
fn data() -> (Vec<String>, Vec<String>) {
    let mut rng = SplitMix64::new(42);
    let skew = [0.35, 0.25, 0.2, 0.12, 0.08];
    let pick = |u: f64| {
        let mut acc = 0.0;
        for (i, w) in skew.iter().enumerate() {
            acc += w;
            if u < acc {
                return i;
            }
        }
        LABELS.len() - 1
    };
    let mut gold = Vec::with_capacity(ROWS);
    let mut pred = Vec::with_capacity(ROWS);
    for _ in 0..ROWS {
        let g = pick(rng.next_u64() as f64 / u64::MAX as f64);
        let p = if rng.below(100) < 78 {
            g
        } else {
            rng.below(LABELS.len())
        };
        gold.push(LABELS[g].to_string());
        pred.push(LABELS[p].to_string());
    }
    (gold, pred)
}

fn bench(c: &mut Criterion) {
    let (gold, pred) = data();
    let g: Vec<Option<&str>> = gold.iter().map(|s| Some(s.as_str())).collect();
    let p: Vec<Option<&str>> = pred.iter().map(|s| Some(s.as_str())).collect();
    let mut group = c.benchmark_group("metrics");
    group.sample_size(10);
    group.bench_function("classify_1m", |b| {
        b.iter(|| black_box(classify(black_box(&g), black_box(&p))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
