//! `alpha_columns` on the Krippendorff (2011) reference file with a unit id column
//! prepended: the id column is detected and α is the reference value.

use fannotate_core::agreement::{alpha_columns, AlphaReport, UnitChoice, UnitReason};
use fannotate_core::parse_table;
use serde_json::Value;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/metrics/"
);

fn reference() -> (String, Value) {
    let csv = std::fs::read_to_string(format!("{DIR}case3b_alpha_krippendorff2011.csv")).unwrap();
    let want = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}case3b_alpha_krippendorff2011.expected.json"))
            .unwrap(),
    )
    .unwrap();
    (csv, want)
}

/// The reference CSV with a first column `header`, whose value in data row `i`
/// (from 0) is `id(i)`.
fn prepend(csv: &str, header: &str, id: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    for (i, line) in csv.lines().enumerate() {
        let first = if i == 0 {
            header.to_string()
        } else {
            id(i - 1)
        };
        out.push_str(&format!("{first},{line}\n"));
    }
    out
}

fn assert_matches_reference(r: &AlphaReport, want: &Value) {
    assert_eq!(
        serde_json::to_value(&r.annotators).unwrap(),
        want["annotators"]
    );
    assert_eq!(serde_json::to_value(&r.labels).unwrap(), want["labels"]);
    for (name, v) in [
        ("n_units", r.n_units),
        ("n_units_pairable", r.n_units_pairable),
        ("n_values_pairable", r.n_values_pairable),
        ("n_missing_cells", r.n_missing_cells),
    ] {
        assert_eq!(Some(v as u64), want[name].as_u64(), "{name}");
    }
    let alpha = r.krippendorff_alpha_nominal.unwrap();
    let expected = want["krippendorff_alpha_nominal"].as_f64().unwrap();
    assert!((alpha - expected).abs() < 1e-12, "{alpha} vs {expected}");
    let pairs = want["pairwise"].as_object().unwrap();
    assert_eq!(r.pairwise.len(), pairs.len());
    for p in &r.pairwise {
        let wp = &pairs[&r.pair_key(p)];
        assert_eq!(Some(p.n as u64), wp["n"].as_u64());
        assert!((p.agreement - wp["agreement"].as_f64().unwrap()).abs() < 1e-12);
    }
}

#[test]
fn reference_file_has_no_unit_column() {
    let (csv, want) = reference();
    let t = parse_table(csv.as_bytes()).unwrap();
    let c = alpha_columns(&t.columns, &t.rows, UnitChoice::Detect, None).unwrap();
    assert_eq!((c.unit, c.reason), (None, UnitReason::None));
    assert_eq!(c.annotators, vec![0, 1, 2, 3]);
    assert_matches_reference(&c.report(&t.rows), &want);
}

/// The id of data row `i`.
type IdOf = fn(usize) -> String;

#[test]
fn prepended_id_column_is_the_unit_and_alpha_is_unchanged() {
    let (csv, want) = reference();
    let cases: [(&str, IdOf, UnitReason); 4] = [
        ("id", |i| (i + 1).to_string(), UnitReason::Named),
        ("ID", |_| "same".to_string(), UnitReason::Named),
        ("n", |i| (i + 1).to_string(), UnitReason::AllDistinct),
        ("key", |i| format!("unit-{i:03}"), UnitReason::AllDistinct),
    ];
    for (header, id, reason) in cases {
        let t = parse_table(prepend(&csv, header, id).as_bytes()).unwrap();
        assert_eq!(
            t.columns,
            ["header", "A", "B", "C", "D"].map(|s| s.replace("header", header))
        );
        let c = alpha_columns(&t.columns, &t.rows, UnitChoice::Detect, None).unwrap();
        assert_eq!((c.unit, c.reason), (Some(0), reason), "{header}");
        assert_eq!(c.unit_name.as_deref(), Some(header));
        assert_eq!(c.annotators, vec![1, 2, 3, 4]);
        assert_matches_reference(&c.report(&t.rows), &want);

        // Naming the columns gives the same.
        let ann: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
        let given =
            alpha_columns(&t.columns, &t.rows, UnitChoice::Column(header), Some(&ann)).unwrap();
        assert_eq!((given.unit, given.reason), (Some(0), UnitReason::Given));
        assert_matches_reference(&given.report(&t.rows), &want);
    }
}

#[test]
fn id_counted_as_annotator_changes_alpha() {
    // What the example printed before: `--unit none` reproduces it on purpose.
    let (csv, want) = reference();
    let t = parse_table(prepend(&csv, "id", |i| (i + 1).to_string()).as_bytes()).unwrap();
    let c = alpha_columns(&t.columns, &t.rows, UnitChoice::NoUnit, None).unwrap();
    assert_eq!(c.annotators.len(), 5);
    let alpha = c.report(&t.rows).krippendorff_alpha_nominal.unwrap();
    let expected = want["krippendorff_alpha_nominal"].as_f64().unwrap();
    assert!((alpha - expected).abs() > 0.01, "{alpha}");
}
