//! CSV input: streaming records with positions, and whole-file reading into
//! a [`Table`] with pandas' kind decisions.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use super::kinds::{is_na_token, parse_bool, parse_number, CsvKind, KindTracker};
use super::{Column, ColumnData, Table, TableError, MISSING};

/// Opens `path` for reading, decompressing gzip when the file starts with
/// the gzip magic bytes (whatever its name).
pub(crate) fn open_maybe_gzip(path: &Path) -> Result<Box<dyn Read + Send>, TableError> {
    let io_err = |source| TableError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(io_err)?;
    let file = File::open(path).map_err(io_err)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 16, file),
        )))
    } else {
        Ok(Box::new(file))
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A CSV file with a header line, read as a stream of records.
#[derive(Debug, Clone)]
pub struct CsvSource {
    path: PathBuf,
    header: Vec<String>,
}

/// One data record as [`CsvSource::for_each`] hands it out.
pub struct Record<'a> {
    /// The line the record starts on (the header is line 1).
    pub line: u64,
    /// Byte offset of the record's start in the (decompressed) text.
    pub offset: u64,
    /// The fields, checked to be valid UTF-8 and as many as header columns.
    pub fields: &'a [&'a str],
}

impl CsvSource {
    /// Opens `path` and reads its header line.
    pub fn open(path: &Path) -> Result<CsvSource, TableError> {
        let mut reader = csv_reader(open_maybe_gzip(path)?);
        let mut record = ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(path, e))?;
        if !has_header {
            return Err(TableError::NoHeader {
                path: path.to_path_buf(),
            });
        }
        let mut header = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| TableError::NotUtf8 {
                path: path.to_path_buf(),
                line: 1,
                column: format!("header field {}", i + 1),
            })?;
            if header.iter().any(|h: &String| h == name) {
                return Err(TableError::DuplicateColumn {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                });
            }
            header.push(name.to_string());
        }
        Ok(CsvSource {
            path: path.to_path_buf(),
            header,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The column names from the header line.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Calls `visit` for every data record, in file order.
    ///
    /// A record with a different number of fields than the header, or with
    /// bytes that are not UTF-8, stops the reading with an error naming the
    /// line. Blank lines are skipped, as pandas skips them.
    pub fn for_each(
        &self,
        mut visit: impl FnMut(&Record<'_>) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        let mut reader = csv_reader(open_maybe_gzip(&self.path)?);
        let mut record = ByteRecord::new();
        let mut first = true;
        loop {
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|e| csv_error(&self.path, e))?;
            if !more {
                return Ok(());
            }
            if first {
                first = false;
                continue;
            }
            let pos = record
                .position()
                .expect("records read from a reader have positions");
            let (line, offset) = (pos.line(), pos.byte());
            if record.len() == 1 && record[0].is_empty() && self.header.len() > 1 {
                continue;
            }
            if record.len() != self.header.len() {
                return Err(TableError::Ragged {
                    path: self.path.clone(),
                    line,
                    expected: self.header.len(),
                    found: record.len(),
                });
            }
            let mut fields: Vec<&str> = Vec::with_capacity(record.len());
            for (i, field) in record.iter().enumerate() {
                fields.push(std::str::from_utf8(field).map_err(|_| TableError::NotUtf8 {
                    path: self.path.clone(),
                    line,
                    column: self.header[i].clone(),
                })?);
            }
            visit(&Record {
                line,
                offset,
                fields: &fields,
            })?;
        }
    }
}

fn csv_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(input)
}

fn csv_error(path: &Path, e: csv::Error) -> TableError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    match e.into_kind() {
        csv::ErrorKind::Io(source) => TableError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => TableError::Csv {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

/// Reads a whole CSV file into a [`Table`], deciding each column's kind
/// over all its values as `pandas.read_csv` would.
///
/// Two passes over the file: the first decides kinds, the second stores
/// typed values, so no column is ever held as text it does not need.
pub fn read_csv(path: &Path) -> Result<Table, TableError> {
    let source = CsvSource::open(path)?;
    let n_cols = source.header().len();

    // 1. Decide kinds over the whole file.
    let mut trackers = vec![KindTracker::default(); n_cols];
    let mut n_rows = 0usize;
    source.for_each(|record| {
        for (tracker, field) in trackers.iter_mut().zip(record.fields) {
            tracker.observe(field);
        }
        n_rows += 1;
        Ok(())
    })?;
    let kinds: Vec<CsvKind> = trackers.iter().map(|t| t.kind()).collect();

    // 2. Store typed values.
    let mut builders: Vec<ColumnBuilder> = kinds
        .iter()
        .map(|&k| ColumnBuilder::new(k, n_rows))
        .collect();
    source.for_each(|record| {
        for (builder, field) in builders.iter_mut().zip(record.fields) {
            builder.push(field);
        }
        Ok(())
    })?;

    let columns = source
        .header()
        .iter()
        .zip(builders)
        .map(|(name, b)| Column {
            name: name.clone(),
            data: b.finish(),
        })
        .collect();
    Ok(Table {
        source: path.to_path_buf(),
        n_rows,
        columns,
    })
}

/// Collects one column's values for a decided kind.
pub(crate) enum ColumnBuilder {
    Numeric(Vec<f64>, CsvKind),
    Text(
        Vec<u32>,
        Vec<String>,
        std::collections::HashMap<String, u32>,
        CsvKind,
    ),
}

impl ColumnBuilder {
    pub(crate) fn new(kind: CsvKind, capacity: usize) -> ColumnBuilder {
        match kind {
            CsvKind::Integer | CsvKind::Float | CsvKind::Bool => {
                ColumnBuilder::Numeric(Vec::with_capacity(capacity), kind)
            }
            CsvKind::BoolObject | CsvKind::Text => ColumnBuilder::Text(
                Vec::with_capacity(capacity),
                Vec::new(),
                Default::default(),
                kind,
            ),
        }
    }

    pub(crate) fn push(&mut self, field: &str) {
        match self {
            ColumnBuilder::Numeric(values, kind) => {
                let v = if is_na_token(field) {
                    f64::NAN
                } else if *kind == CsvKind::Bool {
                    if parse_bool(field) == Some(true) {
                        1.0
                    } else {
                        0.0
                    }
                } else {
                    parse_number(field).unwrap_or(f64::NAN)
                };
                values.push(v);
            }
            ColumnBuilder::Text(codes, dict, index, kind) => {
                if is_na_token(field) {
                    codes.push(MISSING);
                    return;
                }
                // pandas holds Python booleans here; they compare as "True"
                // and "False" whatever their spelling in the file.
                let text = match (*kind, parse_bool(field)) {
                    (CsvKind::BoolObject, Some(true)) => "True",
                    (CsvKind::BoolObject, Some(false)) => "False",
                    _ => field,
                };
                let code = match index.get(text) {
                    Some(&c) => c,
                    None => {
                        let c = dict.len() as u32;
                        dict.push(text.to_string());
                        index.insert(text.to_string(), c);
                        c
                    }
                };
                codes.push(code);
            }
        }
    }

    pub(crate) fn finish(self) -> ColumnData {
        match self {
            ColumnBuilder::Numeric(values, _) => ColumnData::Numeric(values),
            ColumnBuilder::Text(codes, dict, _, _) => ColumnData::Categorical { codes, dict },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
        p
    }

    #[test]
    fn reads_kinds_like_pandas() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "t.csv",
            b"a,b,c,d,e\n1,x,,True,1.5\n2,,,False,NA\n\n3,y,,True,2\n",
        );
        let t = read_csv(&p).unwrap();
        assert_eq!(t.n_rows, 3);
        assert_eq!(t.columns[0].data, ColumnData::Numeric(vec![1.0, 2.0, 3.0]));
        match &t.columns[1].data {
            ColumnData::Categorical { codes, dict } => {
                assert_eq!(dict, &vec!["x".to_string(), "y".to_string()]);
                assert_eq!(codes, &vec![0, MISSING, 1]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.columns[2].data.kind(), super::super::ColumnKind::Numeric);
        assert_eq!(t.columns[3].data, ColumnData::Numeric(vec![1.0, 0.0, 1.0]));
        let ColumnData::Numeric(e) = &t.columns[4].data else {
            panic!()
        };
        assert!(e[1].is_nan() && e[2] == 2.0);
    }

    #[test]
    fn gzip_is_detected_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"a\n1\n2\n").unwrap();
        let p = write(&dir, "t.csv.gz", &gz.finish().unwrap());
        assert_eq!(read_csv(&p).unwrap().n_rows, 2);
    }

    #[test]
    fn ragged_and_non_utf8_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "r.csv", b"a,b\n1,2\n3\n");
        let err = read_csv(&p).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("1 fields"), "{err}");
        let p = write(&dir, "u.csv", b"a,b\n1,2\n3,\xff\n");
        let err = read_csv(&p).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("\"b\""), "{err}");
    }

    #[test]
    fn empty_file_and_duplicate_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "e.csv", b"");
        assert!(matches!(read_csv(&p), Err(TableError::NoHeader { .. })));
        let p = write(&dir, "d.csv", b"a,a\n1,2\n");
        assert!(matches!(
            read_csv(&p),
            Err(TableError::DuplicateColumn { .. })
        ));
    }
}
