//! Tables in memory: reading CSV and Parquet files, deciding column kinds.
//!
//! A [`Table`] holds typed columns. CSV columns are read as text over the
//! whole file and then given the kind `pandas.read_csv` would give them
//! (see [`kinds`]); Parquet columns keep their stored types. Categorical
//! values are dictionary-encoded, which keeps wide tables with repeated
//! strings small.

mod coerce;
mod csv_copy;
mod csv_read;
pub mod kinds;
mod parquet_read;
mod write;

use std::path::{Path, PathBuf};

pub use coerce::{coerce, format_timestamp, parse_datetime, Coerced};
pub use csv_copy::copy_csv_records;
pub use csv_read::{read_csv, CsvSource, Record};
pub use parquet_read::{for_each_parquet_batch, open_parquet, read_parquet};
pub use write::{write_table, TableWriter, ValueType};

/// Code used in [`ColumnData::Categorical`] for a missing value.
pub const MISSING: u32 = u32::MAX;

/// The kind of a column, as the accuracy metric distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Numbers, integers and booleans (as 0/1).
    Numeric,
    /// Timestamps.
    Datetime,
    /// Everything else, compared as strings.
    Categorical,
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// `NaN` marks a missing value.
    Numeric(Vec<f64>),
    /// Nanoseconds since the Unix epoch; `None` marks a missing value.
    Datetime(Vec<Option<i64>>),
    /// Dictionary-encoded strings: `codes[i]` indexes `dict`, or is
    /// [`MISSING`]. `dict` holds distinct strings in order of appearance.
    Categorical { codes: Vec<u32>, dict: Vec<String> },
}

impl ColumnData {
    /// The kind of these values.
    pub fn kind(&self) -> ColumnKind {
        match self {
            ColumnData::Numeric(_) => ColumnKind::Numeric,
            ColumnData::Datetime(_) => ColumnKind::Datetime,
            ColumnData::Categorical { .. } => ColumnKind::Categorical,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Numeric(v) => v.len(),
            ColumnData::Datetime(v) => v.len(),
            ColumnData::Categorical { codes, .. } => codes.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether value `i` is missing.
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            ColumnData::Numeric(v) => v[i].is_nan(),
            ColumnData::Datetime(v) => v[i].is_none(),
            ColumnData::Categorical { codes, .. } => codes[i] == MISSING,
        }
    }

    /// The values at `indices` (`None` gives a missing value), in order.
    pub fn take(&self, indices: &[Option<usize>]) -> ColumnData {
        match self {
            ColumnData::Numeric(v) => ColumnData::Numeric(
                indices
                    .iter()
                    .map(|i| i.map_or(f64::NAN, |i| v[i]))
                    .collect(),
            ),
            ColumnData::Datetime(v) => {
                ColumnData::Datetime(indices.iter().map(|i| i.and_then(|i| v[i])).collect())
            }
            ColumnData::Categorical { codes, dict } => ColumnData::Categorical {
                codes: indices
                    .iter()
                    .map(|i| i.map_or(MISSING, |i| codes[i]))
                    .collect(),
                dict: dict.clone(),
            },
        }
    }

    /// Appends `other`'s values, which must be of the same kind.
    ///
    /// Categorical dictionaries are merged by string value.
    pub fn append(&mut self, other: &ColumnData) {
        match (self, other) {
            (ColumnData::Numeric(a), ColumnData::Numeric(b)) => a.extend_from_slice(b),
            (ColumnData::Datetime(a), ColumnData::Datetime(b)) => a.extend_from_slice(b),
            (
                ColumnData::Categorical { codes, dict },
                ColumnData::Categorical {
                    codes: other_codes,
                    dict: other_dict,
                },
            ) => {
                let mut index: std::collections::HashMap<String, u32> = dict
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.clone(), i as u32))
                    .collect();
                let remap: Vec<u32> = other_dict
                    .iter()
                    .map(|s| {
                        *index.entry(s.clone()).or_insert_with(|| {
                            dict.push(s.clone());
                            (dict.len() - 1) as u32
                        })
                    })
                    .collect();
                codes.extend(other_codes.iter().map(|&c| {
                    if c == MISSING {
                        MISSING
                    } else {
                        remap[c as usize]
                    }
                }));
            }
            (a, b) => panic!(
                "cannot append {:?} values to a {:?} column",
                b.kind(),
                a.kind()
            ),
        }
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
}

/// A table read from a file (or derived from one).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Where the rows came from, for messages.
    pub source: PathBuf,
    pub n_rows: usize,
    pub columns: Vec<Column>,
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Column names in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The rows at `indices` (`None` gives a row of missing values).
    pub fn take(&self, indices: &[Option<usize>]) -> Table {
        Table {
            source: self.source.clone(),
            n_rows: indices.len(),
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    data: c.data.take(indices),
                })
                .collect(),
        }
    }

    /// This table without the column `name` (if it has one).
    pub fn without(mut self, name: &str) -> Table {
        self.columns.retain(|c| c.name != name);
        self
    }
}

/// Errors while reading a table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: unsupported file type (expected .csv, .csv.gz, .parquet)")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: the file is empty (no header line)")]
    NoHeader { path: PathBuf },
    #[error("{path}, line {line}: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error(
        "{path}, line {line}: not valid UTF-8 (column {column:?}); re-encode the file as UTF-8"
    )]
    NotUtf8 {
        path: PathBuf,
        line: u64,
        column: String,
    },
    #[error("{path}, line {line}: {found} fields where the header has {expected}")]
    Ragged {
        path: PathBuf,
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("{path}: column name {name:?} appears twice in the header")]
    DuplicateColumn { path: PathBuf, name: String },
    #[error("{path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: column {column:?} has unsupported type {data_type}")]
    UnsupportedType {
        path: PathBuf,
        column: String,
        data_type: String,
    },
}

/// Reads a CSV (optionally gzip-compressed) or Parquet file, by extension.
pub fn read_table(path: &Path) -> Result<Table, TableError> {
    match FileFormat::of(path)? {
        FileFormat::Csv => read_csv(path),
        FileFormat::Parquet => read_parquet(path),
    }
}

/// The file formats synthsift reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated text with a header line; `.csv` or `.csv.gz`.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// The format a path's extension names.
    pub fn of(path: &Path) -> Result<FileFormat, TableError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with(".csv") || name.ends_with(".csv.gz") {
            Ok(FileFormat::Csv)
        } else if name.ends_with(".parquet") || name.ends_with(".pq") {
            Ok(FileFormat::Parquet)
        } else {
            Err(TableError::UnknownFormat {
                path: path.to_path_buf(),
            })
        }
    }
}
