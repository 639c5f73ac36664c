//! Row numbers as sorted `[start, end)` ranges: how a run or a validation set
//! stores which rows it covers, compactly for long runs of rows.

/// Whether sorted, disjoint `[start, end)` ranges (from [`row_ranges`]) hold `row`.
pub fn ranges_contain(ranges: &[[u32; 2]], row: u32) -> bool {
    let i = ranges.partition_point(|r| r[1] <= row);
    ranges.get(i).is_some_and(|r| r[0] <= row)
}

/// Sorted row numbers as `[start, end)` ranges (compact for long runs of rows).
pub fn row_ranges(rows: impl IntoIterator<Item = u32>) -> Vec<[u32; 2]> {
    let mut sorted: Vec<u32> = rows.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<[u32; 2]> = Vec::new();
    for r in sorted {
        match out.last_mut() {
            Some(last) if last[1] == r => last[1] = r + 1,
            _ => out.push([r, r + 1]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_compact_and_searchable() {
        let ranges = row_ranges([5, 1, 2, 3, 9, 3, 10]);
        assert_eq!(ranges, vec![[1, 4], [5, 6], [9, 11]]);
        let hits: Vec<u32> = (0..12).filter(|r| ranges_contain(&ranges, *r)).collect();
        assert_eq!(hits, vec![1, 2, 3, 5, 9, 10]);
        assert!(!ranges_contain(&[], 0));
    }
}
