//! Sequences: rows grouped by a key column.

use std::collections::HashMap;

use crate::table::{ColumnData, Table, MISSING};

/// The rows of every sequence, in order of each key's first appearance;
/// within a sequence rows keep their file order. Rows whose key is missing
/// belong to no sequence (pandas' `groupby` drops them too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequences {
    /// `rows[offsets[s]..offsets[s + 1]]` are the rows of sequence `s`.
    pub offsets: Vec<usize>,
    pub rows: Vec<usize>,
}

impl Sequences {
    /// Groups the rows of `table` by the values of its column `key`.
    ///
    /// # Panics
    /// When `key` is not a column of `table`; callers check that first.
    pub fn group(table: &Table, key: &str) -> Sequences {
        let column = &table.column(key).expect("group key column exists").data;
        let ids: Vec<Option<u64>> = match column {
            ColumnData::Categorical { codes, .. } => codes
                .iter()
                .map(|&c| (c != MISSING).then_some(c as u64))
                .collect(),
            ColumnData::Numeric(v) => v
                .iter()
                .map(|x| (!x.is_nan()).then_some((*x + 0.0).to_bits()))
                .collect(),
            ColumnData::Datetime(v) => v.iter().map(|x| x.map(|x| x as u64)).collect(),
        };
        let mut slot: HashMap<u64, usize> = HashMap::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (row, id) in ids.into_iter().enumerate() {
            let Some(id) = id else { continue };
            let s = *slot.entry(id).or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[s].push(row);
        }
        let mut offsets = Vec::with_capacity(members.len() + 1);
        offsets.push(0);
        let mut rows = Vec::with_capacity(table.n_rows);
        for m in members {
            rows.extend(m);
            offsets.push(rows.len());
        }
        Sequences { offsets, rows }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows of sequence `s`.
    pub fn rows_of(&self, s: usize) -> &[usize] {
        &self.rows[self.offsets[s]..self.offsets[s + 1]]
    }

    /// Whether every sequence has exactly one row.
    pub fn all_single(&self) -> bool {
        (0..self.len()).all(|s| self.offsets[s + 1] - self.offsets[s] == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    #[test]
    fn groups_non_contiguous_keys_in_first_appearance_order() {
        let table = Table {
            source: "t".into(),
            n_rows: 5,
            columns: vec![Column {
                name: "k".into(),
                data: ColumnData::Categorical {
                    codes: vec![1, 0, 1, MISSING, 0],
                    dict: vec!["a".into(), "b".into()],
                },
            }],
        };
        let s = Sequences::group(&table, "k");
        assert_eq!(s.len(), 2);
        assert_eq!(s.rows_of(0), &[0, 2]);
        assert_eq!(s.rows_of(1), &[1, 4]);
        assert!(!s.all_single());
    }
}
