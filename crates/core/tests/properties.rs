//! Property tests of the metrics and parsers: invariants that must hold for any input.

use fannotate_core::agreement::krippendorff_alpha_nominal;
use fannotate_core::{classify, parse_answer, parse_table, Codebook};
use proptest::prelude::*;

fn labels() -> impl Strategy<Value = Vec<(u8, u8)>> {
    prop::collection::vec((0u8..5, 0u8..5), 1..300)
}

fn named(
    pairs: &[(u8, u8)],
    names: &[&'static str; 5],
) -> (Vec<Option<&'static str>>, Vec<Option<&'static str>>) {
    pairs
        .iter()
        .map(|(g, p)| (Some(names[*g as usize]), Some(names[*p as usize])))
        .unzip()
}

const NAMES: [&str; 5] = ["ham", "spam", "Løst", "Annet/Ikke_oppgitt", "e"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn accuracy_is_trace_over_n(pairs in labels()) {
        let (g, p) = named(&pairs, &NAMES);
        let r = classify(&g, &p);
        let trace: u64 = (0..r.labels.len()).map(|i| r.confusion_matrix[i][i]).sum();
        let n: u64 = r.confusion_matrix.iter().flatten().sum();
        prop_assert_eq!(n as usize, pairs.len());
        prop_assert!((r.accuracy - trace as f64 / n as f64).abs() < 1e-12);
    }

    #[test]
    fn bounds_hold(pairs in labels()) {
        let (g, p) = named(&pairs, &NAMES);
        let r = classify(&g, &p);
        prop_assert!((0.0..=1.0).contains(&r.macro_f1));
        prop_assert!((0.0..=1.0).contains(&r.weighted_f1));
        prop_assert!((-1.0 - 1e-12..=1.0 + 1e-12).contains(&r.matthews_corrcoef));
        if let Some(k) = r.cohen_kappa {
            prop_assert!(k <= 1.0 + 1e-12);
        }
    }

    #[test]
    fn relabelling_changes_nothing_but_names(pairs in labels()) {
        // A bijection onto names that sort in a different order.
        const OTHER: [&str; 5] = ["zz", "aa", "mm", "bb", "yy"];
        let (g, p) = named(&pairs, &NAMES);
        let (g2, p2) = named(&pairs, &OTHER);
        let (a, b) = (classify(&g, &p), classify(&g2, &p2));
        prop_assert!((a.accuracy - b.accuracy).abs() < 1e-12);
        prop_assert!((a.macro_f1 - b.macro_f1).abs() < 1e-12);
        prop_assert!((a.weighted_f1 - b.weighted_f1).abs() < 1e-12);
        prop_assert!((a.balanced_accuracy - b.balanced_accuracy).abs() < 1e-12);
        prop_assert!((a.matthews_corrcoef - b.matthews_corrcoef).abs() < 1e-12);
        match (a.cohen_kappa, b.cohen_kappa) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-12),
            (x, y) => prop_assert_eq!(x, y),
        }
    }

    #[test]
    fn row_order_changes_nothing(mut pairs in labels(), seed in any::<u64>()) {
        let (g, p) = named(&pairs, &NAMES);
        let a = classify(&g, &p);
        let k = (seed as usize) % pairs.len();
        pairs.rotate_left(k);
        pairs.reverse();
        let (g, p) = named(&pairs, &NAMES);
        prop_assert_eq!(a, classify(&g, &p));
    }

    #[test]
    fn alpha_is_one_for_identical_annotators(values in prop::collection::vec(0u8..4, 2..100), raters in 2usize..5) {
        prop_assume!(values.iter().any(|v| *v != values[0]));
        let names: Vec<String> = (0..raters).map(|i| format!("r{i}")).collect();
        let units: Vec<Vec<Option<&str>>> = values.iter().map(|v| vec![Some(NAMES[*v as usize]); raters]).collect();
        let r = krippendorff_alpha_nominal(&names, &units);
        prop_assert!((r.krippendorff_alpha_nominal.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn parsers_never_panic(s in ".{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_answer(&s, &NAMES);
        let _ = Codebook::from_json(&s);
        let _ = parse_table(&bytes);
        let _ = parse_table(s.as_bytes());
    }
}
