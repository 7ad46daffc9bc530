//! Binned tables: every column reduced to small integer codes.
//!
//! Both the accuracy metric and the selection engine work on codes rather
//! than values. A [`CodeMatrix`] stores one `u8` per cell, column-major, so a
//! marginal's cell for a row is computed from two or three byte lookups.

/// A binned table: `columns[j][i]` is the bin of row `i` in column `j`.
///
/// Codes of column `j` are always `< cardinalities[j]`; which code means what
/// is decided by the binning that produced the matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeMatrix {
    /// Number of rows (records).
    pub n_rows: usize,
    /// Column names, in the order of `columns`.
    pub names: Vec<String>,
    /// One code vector per column, each of length `n_rows`.
    pub columns: Vec<Vec<u8>>,
    /// Number of distinct codes a column can take.
    pub cardinalities: Vec<usize>,
}

impl CodeMatrix {
    /// Number of columns.
    pub fn n_columns(&self) -> usize {
        self.columns.len()
    }

    /// The rows at `indices`, in that order, as a new matrix.
    pub fn take(&self, indices: &[usize]) -> CodeMatrix {
        CodeMatrix {
            n_rows: indices.len(),
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|col| indices.iter().map(|&i| col[i]).collect())
                .collect(),
            cardinalities: self.cardinalities.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_keeps_order_and_metadata() {
        let m = CodeMatrix {
            n_rows: 3,
            names: vec!["a".into(), "b".into()],
            columns: vec![vec![0, 1, 2], vec![3, 4, 5]],
            cardinalities: vec![3, 6],
        };
        let t = m.take(&[2, 0]);
        assert_eq!(t.n_rows, 2);
        assert_eq!(t.columns, vec![vec![2, 0], vec![5, 3]]);
        assert_eq!(t.cardinalities, vec![3, 6]);
    }
}
