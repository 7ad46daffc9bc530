//! Writing tables to CSV (optionally gzip-compressed) or Parquet.
//!
//! Files are written to a temporary name beside the target and renamed into
//! place only when complete, so a failed run never leaves a partial output.
//! Large outputs can be written chunk by chunk with a [`TableWriter`]; the
//! chunks must all have the columns (names and kinds) the writer was created
//! with.
//!
//! CSV text is what our reader (and `pandas.read_csv`) reads back to the
//! same kinds: numbers in their shortest round-trip form, integral values
//! without a fractional part, missing values as empty fields. Timestamps
//! are written as `YYYY-MM-DD HH:MM:SS[.frac]`, which a CSV reader leaves
//! categorical (as pandas does); Parquet keeps them as timestamps.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::kinds::python_float_repr;
use super::{format_timestamp, ColumnData, FileFormat, Table, TableError, MISSING};

/// Rows per Parquet row group: large enough for good compression, small
/// enough that the writer's buffered pages stay modest.
const ROW_GROUP_ROWS: usize = 262_144;

/// Rows formatted as one CSV piece (in parallel with other pieces).
const CSV_PIECE_ROWS: usize = 16_384;

/// How the values of a column are stored in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Numbers with a fractional part (Parquet `double`).
    Float,
    /// Numbers that are all integral (Parquet `int64`; CSV without `.0`).
    Integer,
    /// Timestamps (Parquet `timestamp[ns]`).
    Datetime,
    /// Strings (Parquet `utf8`).
    Text,
}

impl ValueType {
    /// The type that stores `data` without loss: numeric columns whose
    /// values are all integral (and exactly representable) are integers.
    pub fn of(data: &ColumnData) -> ValueType {
        match data {
            ColumnData::Numeric(v) => {
                if v.iter().all(|x| x.is_nan() || is_integral(*x)) {
                    ValueType::Integer
                } else {
                    ValueType::Float
                }
            }
            ColumnData::Datetime(_) => ValueType::Datetime,
            ColumnData::Categorical { .. } => ValueType::Text,
        }
    }
}

/// Whether `x` is an integer that `i64` and `f64` both hold exactly.
fn is_integral(x: f64) -> bool {
    x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0
}

/// Writes `table` to `path` (CSV, CSV.gz or Parquet, by extension),
/// atomically.
pub fn write_table(path: &Path, table: &Table) -> Result<(), TableError> {
    let types: Vec<ValueType> = table
        .columns
        .iter()
        .map(|c| ValueType::of(&c.data))
        .collect();
    let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let mut writer = TableWriter::create(path, &names, &types)?;
    writer.write(table)?;
    writer.finish()
}

/// A table file being written chunk by chunk.
///
/// Nothing appears at the target path until [`TableWriter::finish`]
/// succeeds; dropping an unfinished writer removes the temporary file.
pub struct TableWriter {
    path: PathBuf,
    tmp: PathBuf,
    types: Vec<ValueType>,
    names: Vec<String>,
    sink: Option<Sink>,
}

enum Sink {
    Csv(BufWriter<File>),
    CsvGz(Box<flate2::write::GzEncoder<BufWriter<File>>>),
    Parquet(Box<ArrowWriter<BufWriter<File>>>, Arc<Schema>),
}

impl TableWriter {
    /// Starts writing a file with these columns, in the format its
    /// extension names.
    pub fn create(
        path: &Path,
        names: &[String],
        types: &[ValueType],
    ) -> Result<TableWriter, TableError> {
        assert_eq!(names.len(), types.len(), "one type per column");
        let format = FileFormat::of(path)?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
        let io_err = |source| TableError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io_err)?);
        let mut writer = TableWriter {
            path: path.to_path_buf(),
            tmp,
            types: types.to_vec(),
            names: names.to_vec(),
            sink: None,
        };
        let sink = match format {
            FileFormat::Csv if file_name.to_lowercase().ends_with(".gz") => Sink::CsvGz(Box::new(
                flate2::write::GzEncoder::new(file, flate2::Compression::fast()),
            )),
            FileFormat::Csv => Sink::Csv(file),
            FileFormat::Parquet => {
                let schema = Arc::new(arrow_schema(names, types));
                // Dictionary encoding only pays for text; for numbers it
                // costs much time and mostly falls back to plain anyway.
                let mut props = WriterProperties::builder().set_dictionary_enabled(false);
                for (name, t) in names.iter().zip(types) {
                    if *t == ValueType::Text {
                        props = props.set_column_dictionary_enabled(name.as_str().into(), true);
                    }
                }
                let props = props
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("valid")))
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .build();
                let w = ArrowWriter::try_new(file, schema.clone(), Some(props))
                    .map_err(|e| writer.parquet_err(e))?;
                Sink::Parquet(Box::new(w), schema)
            }
        };
        writer.sink = Some(sink);
        if !matches!(format, FileFormat::Parquet) {
            let header = csv_line(names.iter().map(|s| s.as_bytes()));
            writer.write_bytes(&header)?;
        }
        Ok(writer)
    }

    /// Appends the rows of `chunk`, whose columns must match the writer's.
    ///
    /// # Panics
    /// When `chunk`'s columns differ in number or kind from the writer's.
    pub fn write(&mut self, chunk: &Table) -> Result<(), TableError> {
        assert_eq!(chunk.columns.len(), self.types.len(), "column count");
        match self.sink.as_mut().expect("open until finished") {
            Sink::Parquet(w, schema) => {
                let arrays: Vec<ArrayRef> = chunk
                    .columns
                    .iter()
                    .zip(&self.types)
                    .map(|(c, &t)| arrow_array(&c.data, t))
                    .collect();
                let batch = RecordBatch::try_new(schema.clone(), arrays)
                    .expect("arrays built to the schema");
                w.write(&batch).map_err(|e| TableError::Parquet {
                    path: self.path.clone(),
                    message: e.to_string(),
                })
            }
            Sink::Csv(_) | Sink::CsvGz(_) => {
                let starts: Vec<usize> = (0..chunk.n_rows).step_by(CSV_PIECE_ROWS).collect();
                let pieces: Vec<Vec<u8>> = starts
                    .par_iter()
                    .map(|&s| {
                        csv_rows(
                            chunk,
                            &self.types,
                            s,
                            (s + CSV_PIECE_ROWS).min(chunk.n_rows),
                        )
                    })
                    .collect();
                for p in pieces {
                    self.write_bytes(&p)?;
                }
                Ok(())
            }
        }
    }

    /// Completes the file and moves it to its target path.
    pub fn finish(mut self) -> Result<(), TableError> {
        let io_err = |source| TableError::Io {
            path: self.path.clone(),
            source,
        };
        let file = match self.sink.take().expect("open until finished") {
            Sink::Csv(w) => w,
            Sink::CsvGz(w) => w.finish().map_err(io_err)?,
            Sink::Parquet(w, _) => w.into_inner().map_err(|e| TableError::Parquet {
                path: self.path.clone(),
                message: e.to_string(),
            })?,
        };
        let file = file.into_inner().map_err(|e| io_err(e.into_error()))?;
        file.sync_all().map_err(io_err)?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(io_err)?;
        Ok(())
    }

    /// Column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), TableError> {
        let r = match self.sink.as_mut().expect("open until finished") {
            Sink::Csv(w) => w.write_all(bytes),
            Sink::CsvGz(w) => w.write_all(bytes),
            Sink::Parquet(..) => unreachable!("CSV only"),
        };
        r.map_err(|source| TableError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn parquet_err(&self, e: parquet::errors::ParquetError) -> TableError {
        TableError::Parquet {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        if self.sink.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn arrow_schema(names: &[String], types: &[ValueType]) -> Schema {
    let fields: Vec<Field> = names
        .iter()
        .zip(types)
        .map(|(n, t)| {
            let dt = match t {
                ValueType::Float => DataType::Float64,
                ValueType::Integer => DataType::Int64,
                ValueType::Datetime => DataType::Timestamp(TimeUnit::Nanosecond, None),
                ValueType::Text => DataType::Utf8,
            };
            Field::new(n, dt, true)
        })
        .collect();
    Schema::new(fields)
}

fn arrow_array(data: &ColumnData, t: ValueType) -> ArrayRef {
    match (data, t) {
        (ColumnData::Numeric(v), ValueType::Integer) => {
            let mut b = Int64Builder::with_capacity(v.len());
            for &x in v {
                b.append_option((!x.is_nan()).then_some(x as i64));
            }
            Arc::new(b.finish())
        }
        (ColumnData::Numeric(v), _) => {
            let mut b = Float64Builder::with_capacity(v.len());
            for &x in v {
                b.append_option((!x.is_nan()).then_some(x));
            }
            Arc::new(b.finish())
        }
        (ColumnData::Datetime(v), _) => Arc::new(TimestampNanosecondArray::from(v.clone())),
        (ColumnData::Categorical { codes, dict }, _) => {
            let mut b = StringBuilder::with_capacity(codes.len(), codes.len() * 8);
            for &c in codes {
                if c == MISSING {
                    b.append_null();
                } else {
                    b.append_value(&dict[c as usize]);
                }
            }
            Arc::new(b.finish())
        }
    }
}

/// The CSV text of rows `start..end` of `table`.
fn csv_rows(table: &Table, types: &[ValueType], start: usize, end: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity((end - start) * table.columns.len() * 8);
    let mut field = Vec::with_capacity(64);
    for i in start..end {
        for (j, (col, &t)) in table.columns.iter().zip(types).enumerate() {
            if j > 0 {
                out.push(b',');
            }
            field.clear();
            match &col.data {
                ColumnData::Numeric(v) => format_number(&mut field, v[i], t),
                ColumnData::Datetime(v) => {
                    if let Some(x) = v[i] {
                        field.extend_from_slice(format_timestamp(x).as_bytes());
                    }
                }
                ColumnData::Categorical { codes, dict } => {
                    if codes[i] != MISSING {
                        field.extend_from_slice(dict[codes[i] as usize].as_bytes());
                    }
                }
            }
            push_field(&mut out, &field);
        }
        out.push(b'\n');
    }
    out
}

/// Shortest round-trip text of a number; empty for missing.
fn format_number(out: &mut Vec<u8>, x: f64, t: ValueType) {
    if x.is_nan() {
        return;
    }
    if is_integral(x) && (t == ValueType::Integer || x.abs() < 1e16) {
        let _ = write!(out, "{}", x as i64);
    } else if x.abs() >= 1e-4 && x.abs() < 1e16 {
        // Rust's `Display` gives the shortest digits that round-trip, in
        // positional notation; the same text Python's `repr` gives here.
        let _ = write!(out, "{x}");
    } else {
        out.extend_from_slice(python_float_repr(x).as_bytes());
    }
}

/// Appends one CSV field, quoted when it has to be.
fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    let needs_quotes = field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || field.first().is_some_and(|&b| b == b' ' || b == b'\t')
        || field.last().is_some_and(|&b| b == b' ' || b == b'\t');
    if !needs_quotes {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn csv_line<'a>(fields: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (j, f) in fields.enumerate() {
        if j > 0 {
            out.push(b',');
        }
        push_field(&mut out, f);
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{read_table, Column};

    fn sample() -> Table {
        Table {
            source: "mem".into(),
            n_rows: 4,
            columns: vec![
                Column {
                    name: "int".into(),
                    data: ColumnData::Numeric(vec![1.0, -20.0, f64::NAN, 3e12]),
                },
                Column {
                    name: "float".into(),
                    data: ColumnData::Numeric(vec![0.1, 2.5, 1e-7, f64::NAN]),
                },
                Column {
                    name: "text, quoted".into(),
                    data: ColumnData::Categorical {
                        codes: vec![0, 1, MISSING, 2],
                        dict: vec!["a".into(), "b,\"c\"".into(), "line\nbreak".into()],
                    },
                },
                Column {
                    name: "when".into(),
                    data: ColumnData::Datetime(vec![
                        Some(1_700_000_000_000_000_000),
                        None,
                        Some(0),
                        Some(86_400_000_000_000),
                    ]),
                },
            ],
        }
    }

    fn same_numbers(a: &ColumnData, b: &ColumnData) {
        let (ColumnData::Numeric(a), ColumnData::Numeric(b)) = (a, b) else {
            panic!("{a:?} {b:?}")
        };
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                "{x} {y}"
            );
        }
    }

    #[test]
    fn csv_round_trips_kinds_and_values() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["t.csv", "t.csv.gz"] {
            let path = dir.path().join(name);
            let t = sample();
            write_table(&path, &t).unwrap();
            let back = read_table(&path).unwrap();
            assert_eq!(back.names(), t.names());
            same_numbers(&back.columns[0].data, &t.columns[0].data);
            same_numbers(&back.columns[1].data, &t.columns[1].data);
            assert_eq!(back.columns[2].data, t.columns[2].data);
            // CSV leaves dates as text, as pandas does.
            let ColumnData::Categorical { codes, dict } = &back.columns[3].data else {
                panic!()
            };
            assert_eq!(dict[codes[0] as usize], "2023-11-14 22:13:20");
            assert_eq!(codes[1], MISSING);
        }
        let text = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
        assert!(
            text.starts_with("int,float,\"text, quoted\",when\n1,0.1,a,"),
            "{text}"
        );
        assert!(text.contains("\n3000000000000,,"), "{text}");
    }

    #[test]
    fn parquet_round_trips_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let t = sample();
        write_table(&path, &t).unwrap();
        let back = read_table(&path).unwrap();
        assert_eq!(back.names(), t.names());
        same_numbers(&back.columns[0].data, &t.columns[0].data);
        same_numbers(&back.columns[1].data, &t.columns[1].data);
        assert_eq!(back.columns[2].data, t.columns[2].data);
        assert_eq!(back.columns[3].data, t.columns[3].data);
    }

    #[test]
    fn failed_write_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let names = vec!["a".to_string()];
        let w = TableWriter::create(&path, &names, &[ValueType::Float]).unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(matches!(
            write_table(&dir.path().join("t.txt"), &sample()),
            Err(TableError::UnknownFormat { .. })
        ));
    }
}
