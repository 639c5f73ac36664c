//! Gold labels of an attribute, read with the one rule every screen scores by
//! (`fannotate_core::records::gold`): a human label first, else the gold
//! column's cell.

use crate::data::rows::RowStore;
use crate::error::AppError;
use crate::services::storage::Storage;
use fannotate_core::records::{add_human_labels, column_gold, DatasetMeta, HUMAN_SOURCE};
use fannotate_core::Attribute;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// The gold column's labels of every row, kept between reloads by a screen
/// that reloads often (the leaderboard, after each measured cell): reading
/// every row's cell again would cost more than the scoring. Keyed by dataset,
/// column and attribute; the human labels are read fresh each time. Cheap to
/// clone: clones share the cache.
#[derive(Clone, Default)]
pub struct GoldCache(Rc<RefCell<Option<Cached>>>);

/// The cache's key and the column's labels by row.
type Cached = (String, Rc<HashMap<u32, String>>);

/// Gold labels of `attribute` on the rows of `ds` that `keep` admits: a human
/// label first, else the gold column's cell (naming a category loosely, like
/// "Spam "; see `column_gold`).
pub async fn gold_labels(
    storage: &Rc<dyn Storage>,
    rows: &RowStore,
    ds: &DatasetMeta,
    attribute: &Attribute,
    keep: impl Fn(u32) -> bool,
    cache: &GoldCache,
) -> Result<HashMap<u32, String>, AppError> {
    let col = ds.gold_for(&attribute.name);
    let key = format!("{}\u{1f}{:?}\u{1f}{}", ds.id, col, attribute.name);
    let cached = cache
        .0
        .borrow()
        .as_ref()
        .filter(|(k, _)| *k == key)
        .map(|(_, g)| g.clone());
    let column = match (cached, col) {
        (Some(g), _) => g,
        (None, None) => Rc::default(),
        (None, Some(col)) => {
            let g: HashMap<u32, String> = rows
                .rows(storage, ds)
                .await?
                .iter()
                .filter_map(|r| Some((r.idx, column_gold(attribute, r.cell(col))?)))
                .collect();
            let g = Rc::new(g);
            *cache.0.borrow_mut() = Some((key, g.clone()));
            g
        }
    };
    let mut gold: HashMap<u32, String> = column
        .iter()
        .filter(|(r, _)| keep(**r))
        .map(|(r, v)| (*r, v.clone()))
        .collect();
    let human = storage
        .annotations(ds.id.clone(), HUMAN_SOURCE.to_string())
        .await?;
    add_human_labels(&mut gold, &attribute.name, &human, keep);
    Ok(gold)
}
