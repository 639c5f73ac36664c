//! Gold labels: what a row's right answer is, one rule for every screen that
//! scores against it (the Experiments leaderboard, Distil), and which rows are
//! the validation rows.
//!
//! A row's gold label for an attribute is its human label (given in the Review
//! step) first, else its gold column's cell. A team that labels its validation
//! set by hand has no gold column; one that imported one can still correct a
//! cell in Review.

use super::annotation::{Annotation, HUMAN_SOURCE};
use super::dataset::ValidationSet;
use crate::Attribute;
use std::collections::HashMap;

/// The gold label a gold column's cell gives: the category it names loosely
/// (like "Spam "), else its trimmed text (a label outside the codebook, which
/// scores as a miss), else `None` for an empty cell.
pub fn column_gold(attribute: &Attribute, cell: &str) -> Option<String> {
    match attribute.match_label(cell) {
        Some(label) => Some(label.to_string()),
        None => Some(cell.trim().to_string()).filter(|c| !c.is_empty()),
    }
}

/// Put the human labels of `attribute` among `annotations` over the column's
/// labels in `gold`, on the rows `keep` admits (a human label wins).
pub fn add_human_labels<'a>(
    gold: &mut HashMap<u32, String>,
    attribute: &str,
    annotations: impl IntoIterator<Item = &'a Annotation>,
    keep: impl Fn(u32) -> bool,
) {
    for a in annotations {
        if a.source == HUMAN_SOURCE && a.attribute == attribute && keep(a.row) {
            if let Some(v) = &a.value {
                gold.insert(a.row, v.clone());
            }
        }
    }
}

/// Whether a row is a validation row: in the dataset's validation set, or,
/// when none was chosen, any row with a gold label (`labelled`). The rule of
/// the Run step's "Validation set" scope and of Distil's held-out rows.
pub fn in_validation(set: Option<&ValidationSet>, row: u32, labelled: bool) -> bool {
    match set {
        Some(v) => v.contains(row),
        None => labelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::AnnotationStatus;
    use crate::{Attribute, Category};

    fn spam() -> Attribute {
        let cat = |n: &str| Category {
            name: n.into(),
            description: String::new(),
            icon: None,
            extra: Default::default(),
        };
        Attribute::categorical("spam", "<<text>>", vec![cat("ham"), cat("spam")])
    }

    fn human(row: u32, attribute: &str, value: Option<&str>) -> Annotation {
        Annotation {
            value: value.map(str::to_string),
            status: AnnotationStatus::Valid,
            ..Annotation::pending("d", row, attribute, HUMAN_SOURCE, 1.0)
        }
    }

    #[test]
    fn a_cell_names_a_category_loosely_else_stands_as_written() {
        let a = spam();
        assert_eq!(column_gold(&a, " Spam ").as_deref(), Some("spam"));
        assert_eq!(column_gold(&a, "ham").as_deref(), Some("ham"));
        assert_eq!(column_gold(&a, " maybe ").as_deref(), Some("maybe"));
        assert_eq!(column_gold(&a, "  "), None);
    }

    #[test]
    fn a_human_label_wins_over_the_column_on_the_rows_kept() {
        let mut gold: HashMap<u32, String> =
            [(0, "ham".to_string()), (1, "ham".to_string())].into();
        let run = Annotation {
            value: Some("spam".into()),
            ..Annotation::pending("d", 0, "spam", "run:r", 1.0)
        };
        let anns = [
            human(1, "spam", Some("spam")),
            human(2, "spam", Some("ham")),
            human(3, "spam", Some("spam")),
            human(4, "other", Some("x")),
            human(5, "spam", None),
            run,
        ];
        add_human_labels(&mut gold, "spam", &anns, |r| r != 3);
        let mut got: Vec<(u32, &str)> = gold.iter().map(|(r, v)| (*r, v.as_str())).collect();
        got.sort_unstable();
        // Row 0 keeps its column label (a run's answer is no gold label), row 1
        // takes the person's, row 2 gains one, row 3 is not kept, row 4 is
        // another attribute's and row 5's label was cleared.
        assert_eq!(got, vec![(0, "ham"), (1, "spam"), (2, "ham")]);
    }

    #[test]
    fn validation_rows_are_the_chosen_set_else_the_labelled_rows() {
        let set = ValidationSet::new([2, 3], "random, seed 1".into());
        assert!(in_validation(Some(&set), 2, false));
        assert!(!in_validation(Some(&set), 5, true));
        assert!(in_validation(None, 5, true));
        assert!(!in_validation(None, 2, false));
    }
}
