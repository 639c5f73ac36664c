//! Choosing a validation set: a seeded random sample of rows, or one stratified
//! by a label column so every class is represented in proportion.

use crate::metrics::SplitMix64;
use std::collections::BTreeMap;

/// `k` of the rows `0..n`, uniformly at random without replacement, sorted.
/// The same seed gives the same sample.
pub fn random_sample(n: u32, k: u32, seed: u64) -> Vec<u32> {
    let mut all: Vec<u32> = (0..n).collect();
    let k = k.min(n) as usize;
    let mut rng = SplitMix64::new(seed);
    // Partial Fisher–Yates: the first k places end up a uniform sample.
    for i in 0..k {
        let j = i + rng.below(all.len() - i);
        all.swap(i, j);
    }
    all.truncate(k);
    all.sort_unstable();
    all
}

/// `k` rows sampled within each class of `labels` (one per row) in proportion
/// to the class's size; rounding goes to the largest remainders, and every
/// class with rows gets at least one when `k` allows. Sorted row numbers.
pub fn stratified_sample(labels: &[&str], k: u32, seed: u64) -> Vec<u32> {
    let n = labels.len();
    let k = (k as usize).min(n);
    if k == 0 {
        return Vec::new();
    }
    let mut strata: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        strata.entry(l.trim()).or_default().push(i as u32);
    }
    // Proportional shares, floors first.
    let mut alloc: Vec<(&str, usize, f64)> = strata
        .iter()
        .map(|(l, rows)| {
            let exact = k as f64 * rows.len() as f64 / n as f64;
            (*l, exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    // Small classes first get one each, when there is room for all of them.
    if strata.len() <= k {
        for a in alloc.iter_mut().filter(|a| a.1 == 0) {
            a.1 = 1;
            a.2 = -1.0;
        }
    }
    let mut given: usize = alloc.iter().map(|a| a.1).sum();
    // Hand out what is left by largest remainder (ties: larger class, then name).
    let mut order: Vec<usize> = (0..alloc.len()).collect();
    order.sort_by(|&a, &b| {
        alloc[b]
            .2
            .total_cmp(&alloc[a].2)
            .then(strata[alloc[b].0].len().cmp(&strata[alloc[a].0].len()))
            .then(alloc[a].0.cmp(alloc[b].0))
    });
    let mut i = 0;
    while given < k && !order.is_empty() {
        let s = order[i % order.len()];
        if alloc[s].1 < strata[alloc[s].0].len() {
            alloc[s].1 += 1;
            given += 1;
        }
        i += 1;
    }
    // Too many after the minimum of one each: take back from the largest shares.
    while given > k {
        let s = (0..alloc.len()).max_by_key(|&s| alloc[s].1).unwrap_or(0);
        alloc[s].1 -= 1;
        given -= 1;
    }
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(k);
    for (label, take, _) in alloc {
        let rows = &strata[label];
        for pick in random_sample(rows.len() as u32, take as u32, rng.next_u64()) {
            out.push(rows[pick as usize]);
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_samples_are_seeded_distinct_and_sized() {
        let a = random_sample(1000, 100, 7);
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, random_sample(1000, 100, 7));
        assert_ne!(a, random_sample(1000, 100, 8));
        assert_eq!(random_sample(5, 10, 1), vec![0, 1, 2, 3, 4]);
        assert!(random_sample(0, 3, 1).is_empty());
    }

    #[test]
    fn stratified_samples_keep_class_proportions() {
        // 700 ham, 250 spam, 50 phish.
        let labels: Vec<&str> = (0..1000)
            .map(|i| {
                if i < 700 {
                    "ham"
                } else if i < 950 {
                    "spam"
                } else {
                    "phish"
                }
            })
            .collect();
        let s = stratified_sample(&labels, 100, 3);
        assert_eq!(s.len(), 100);
        let count = |l: &str| s.iter().filter(|&&i| labels[i as usize] == l).count();
        assert_eq!((count("ham"), count("spam"), count("phish")), (70, 25, 5));
        assert_eq!(s, stratified_sample(&labels, 100, 3));
        // A rare class still gets a row.
        let mut rare = vec!["a"; 999];
        rare.push("b");
        let s = stratified_sample(&rare, 10, 1);
        assert_eq!(s.len(), 10);
        assert!(s.contains(&999));
        // Asking for more than there is gives everything.
        assert_eq!(stratified_sample(&["x", "y"], 5, 1), vec![0, 1]);
    }
}
