//! Pools: large files of generated records, binned with the training data's
//! bins in one streaming pass, and streamed again to write out the chosen
//! records exactly as they were.
//!
//! No pool value is held in memory beyond one record (CSV) or one record
//! batch (Parquet): what stays is one code byte per cell and one 64-bit
//! fingerprint per record, used to recognise copies of training records.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::binning::Bins;
use crate::codes::CodeMatrix;
use crate::table::{
    coerce, for_each_parquet_batch, kinds, parse_datetime, ColumnData, ColumnKind, CsvSource,
    FileFormat, Table, TableError, MISSING,
};

/// Errors while reading or writing a pool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{path}: the columns differ from the training data's{}{}",
        if missing.is_empty() { String::new() } else { format!("; missing: {}", missing.join(", ")) },
        if extra.is_empty() { String::new() } else { format!("; not in the training data: {}", extra.join(", ")) })]
    Columns {
        path: PathBuf,
        missing: Vec<String>,
        extra: Vec<String>,
    },
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parquet { path: PathBuf, message: String },
}

/// How to bin the data columns of any table like the training data.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// Data columns, in the training data's order.
    pub columns: Vec<String>,
    pub kinds: Vec<ColumnKind>,
    pub bins: Vec<Bins>,
}

impl Encoder {
    /// Fits `n_bins` bins per data column of `training` (all columns but
    /// `key`).
    pub fn fit(training: &Table, key: Option<&str>, n_bins: usize) -> Encoder {
        let data: Vec<&crate::table::Column> = training
            .columns
            .iter()
            .filter(|c| Some(c.name.as_str()) != key)
            .collect();
        Encoder {
            columns: data.iter().map(|c| c.name.clone()).collect(),
            kinds: data.iter().map(|c| c.data.kind()).collect(),
            bins: data.iter().map(|c| Bins::fit(&c.data, n_bins)).collect(),
        }
    }

    fn matrix(&self, n_rows: usize) -> CodeMatrix {
        CodeMatrix {
            n_rows,
            names: self.columns.clone(),
            columns: vec![Vec::with_capacity(n_rows); self.columns.len()],
            cardinalities: self.bins.iter().map(Bins::n_codes).collect(),
        }
    }

    /// Codes of a table that has (at least) the data columns, converting
    /// kinds as the metric does.
    pub fn encode_table(&self, table: &Table) -> CodeMatrix {
        let mut m = self.matrix(table.n_rows);
        for (j, name) in self.columns.iter().enumerate() {
            let data = &table.column(name).expect("columns checked").data;
            let coerced = coerce(data, self.kinds[j]);
            m.columns[j] = self.bins[j].encode(&coerced.data);
        }
        m
    }

    /// Fingerprints of the records of a table, over the data columns.
    pub fn fingerprints(&self, table: &Table) -> Vec<u64> {
        let mut hashers: Vec<DefaultHasher> = vec![DefaultHasher::new(); table.n_rows];
        for (j, name) in self.columns.iter().enumerate() {
            let coerced = coerce(
                &table.column(name).expect("columns checked").data,
                self.kinds[j],
            );
            match &coerced.data {
                ColumnData::Numeric(v) => v
                    .iter()
                    .zip(&mut hashers)
                    .for_each(|(x, h)| hash_number(*x, h)),
                ColumnData::Datetime(v) => v.iter().zip(&mut hashers).for_each(|(x, h)| x.hash(h)),
                ColumnData::Categorical { codes, dict } => {
                    codes.iter().zip(&mut hashers).for_each(|(&c, h)| {
                        hash_text((c != MISSING).then(|| dict[c as usize].as_str()), h)
                    })
                }
            }
        }
        hashers.into_iter().map(|h| h.finish()).collect()
    }
}

fn hash_number(x: f64, h: &mut DefaultHasher) {
    // -0.0 and 0.0 are one value; every NaN is "missing".
    let bits = if x.is_nan() {
        u64::MAX
    } else {
        (x + 0.0).to_bits()
    };
    bits.hash(h);
}

fn hash_text(s: Option<&str>, h: &mut DefaultHasher) {
    match s {
        None => 0u8.hash(h),
        Some(s) => {
            1u8.hash(h);
            s.hash(h);
        }
    }
}

/// A pool binned with the training data's bins.
#[derive(Debug, Clone)]
pub struct EncodedPool {
    /// Codes with the first encoder's bins.
    pub codes: CodeMatrix,
    /// Codes with each further encoder's bins (same columns, other bins).
    pub extra_codes: Vec<CodeMatrix>,
    /// One fingerprint per record over its data values (see
    /// [`Encoder::fingerprints`]).
    pub fingerprints: Vec<u64>,
    /// Per data column, values that did not convert to the training's kind.
    pub unconvertible: Vec<usize>,
}

impl EncodedPool {
    fn new(
        mut matrices: Vec<CodeMatrix>,
        fingerprints: Vec<u64>,
        unconvertible: Vec<usize>,
    ) -> Self {
        let codes = matrices.remove(0);
        EncodedPool {
            codes,
            extra_codes: matrices,
            fingerprints,
            unconvertible,
        }
    }
}

fn check_header(
    path: &Path,
    header: &[String],
    enc: &Encoder,
    key: Option<&str>,
) -> Result<Vec<usize>, PoolError> {
    let missing: Vec<String> = enc
        .columns
        .iter()
        .filter(|c| !header.contains(c))
        .cloned()
        .collect();
    let mut missing = missing;
    if let Some(k) = key {
        if !header.iter().any(|h| h == k) {
            missing.insert(0, k.to_string());
        }
    }
    let extra: Vec<String> = header
        .iter()
        .filter(|h| Some(h.as_str()) != key && !enc.columns.contains(h))
        .cloned()
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(PoolError::Columns {
            path: path.to_path_buf(),
            missing,
            extra,
        });
    }
    Ok(enc
        .columns
        .iter()
        .map(|c| header.iter().position(|h| h == c).expect("checked"))
        .collect())
}

/// Reads a pool (CSV, CSV.gz or Parquet) and bins every record.
///
/// With `key`, the key column's values are returned too (as fingerprints of
/// their text), one per record, so sequences can be formed.
pub fn encode_pool(
    path: &Path,
    enc: &Encoder,
    extra: &[&Encoder],
    key: Option<&str>,
    progress: &dyn Fn(usize),
) -> Result<(EncodedPool, Vec<u64>), PoolError> {
    match FileFormat::of(path)? {
        FileFormat::Csv => encode_csv_pool(path, enc, extra, key, progress),
        FileFormat::Parquet => encode_parquet_pool(path, enc, extra, key, progress),
    }
}

fn encode_csv_pool(
    path: &Path,
    enc: &Encoder,
    extra: &[&Encoder],
    key: Option<&str>,
    progress: &dyn Fn(usize),
) -> Result<(EncodedPool, Vec<u64>), PoolError> {
    let source = CsvSource::open(path)?;
    let fields = check_header(path, source.header(), enc, key)?;
    let key_field = key.map(|k| {
        source
            .header()
            .iter()
            .position(|h| h == k)
            .expect("checked")
    });
    let all: Vec<&Encoder> = std::iter::once(enc).chain(extra.iter().copied()).collect();
    let lookups: Vec<Vec<Option<HashMap<&str, u8>>>> = all
        .iter()
        .map(|e| {
            e.bins
                .iter()
                .map(|b| matches!(b, Bins::Categorical { .. }).then(|| b.category_lookup()))
                .collect()
        })
        .collect();
    let mut matrices: Vec<CodeMatrix> = all.iter().map(|e| e.matrix(0)).collect();
    let mut fingerprints = Vec::new();
    let mut keys = Vec::new();
    let mut unconvertible = vec![0usize; enc.columns.len()];
    let mut n = 0usize;
    source.for_each(|record| {
        let mut h = DefaultHasher::new();
        for (j, &f) in fields.iter().enumerate() {
            let field = record.fields[f];
            let na = kinds::is_na_token(field);
            match enc.kinds[j] {
                ColumnKind::Numeric => {
                    let v = if na {
                        f64::NAN
                    } else {
                        kinds::parse_number(field).unwrap_or_else(|| {
                            unconvertible[j] += 1;
                            f64::NAN
                        })
                    };
                    hash_number(v, &mut h);
                    for (e, m) in all.iter().zip(&mut matrices) {
                        m.columns[j].push(e.bins[j].encode_number(v));
                    }
                }
                ColumnKind::Datetime => {
                    let v = if na { None } else { parse_datetime(field) };
                    if !na && v.is_none() {
                        unconvertible[j] += 1;
                    }
                    v.hash(&mut h);
                    for (e, m) in all.iter().zip(&mut matrices) {
                        m.columns[j].push(e.bins[j].encode_datetime(v));
                    }
                }
                ColumnKind::Categorical => {
                    let v = (!na).then_some(field);
                    hash_text(v, &mut h);
                    for ((e, m), l) in all.iter().zip(&mut matrices).zip(&lookups) {
                        let lookup = l[j].as_ref().expect("categorical");
                        m.columns[j].push(e.bins[j].encode_str_with(lookup, v));
                    }
                }
            }
        }
        fingerprints.push(h.finish());
        if let Some(k) = key_field {
            let mut kh = DefaultHasher::new();
            let field = record.fields[k];
            hash_text((!kinds::is_na_token(field)).then_some(field), &mut kh);
            keys.push(kh.finish());
        }
        n += 1;
        if n % 100_000 == 0 {
            progress(n);
        }
        Ok(())
    })?;
    matrices.iter_mut().for_each(|m| m.n_rows = n);
    progress(n);
    Ok((
        EncodedPool::new(matrices, fingerprints, unconvertible),
        keys,
    ))
}

fn encode_parquet_pool(
    path: &Path,
    enc: &Encoder,
    extra: &[&Encoder],
    key: Option<&str>,
    progress: &dyn Fn(usize),
) -> Result<(EncodedPool, Vec<u64>), PoolError> {
    let all: Vec<&Encoder> = std::iter::once(enc).chain(extra.iter().copied()).collect();
    let mut matrices: Vec<CodeMatrix> = all.iter().map(|e| e.matrix(0)).collect();
    let mut fingerprints = Vec::new();
    let mut keys = Vec::new();
    let mut unconvertible = vec![0usize; enc.columns.len()];
    let mut checked = false;
    for_each_parquet_batch(path, |batch| {
        if !checked {
            let header: Vec<String> = batch.names().into_iter().map(String::from).collect();
            check_header(path, &header, enc, key).map_err(|e| match e {
                PoolError::Table(t) => t,
                other => TableError::Parquet {
                    path: path.to_path_buf(),
                    message: other.to_string(),
                },
            })?;
            checked = true;
        }
        for (j, name) in enc.columns.iter().enumerate() {
            let coerced = coerce(&batch.column(name).expect("checked").data, enc.kinds[j]);
            unconvertible[j] += coerced.unconvertible;
            for (e, m) in all.iter().zip(&mut matrices) {
                m.columns[j].extend(e.bins[j].encode(&coerced.data));
            }
        }
        fingerprints.extend(enc.fingerprints(&batch));
        if let Some(k) = key {
            let key_only = Encoder {
                columns: vec![k.to_string()],
                kinds: vec![ColumnKind::Categorical],
                bins: vec![Bins::Categorical { categories: vec![] }],
            };
            keys.extend(key_only.fingerprints(&batch));
        }
        matrices.iter_mut().for_each(|m| m.n_rows += batch.n_rows);
        progress(matrices[0].n_rows);
        Ok(())
    })?;
    Ok((
        EncodedPool::new(matrices, fingerprints, unconvertible),
        keys,
    ))
}

/// Writes the pool records whose `keep` flag is set to `output`, in pool
/// order, exactly as they are in the pool: for CSV the same bytes (header
/// line included), for Parquet the same schema and values. The output is
/// gzip-compressed when its name ends in `.gz`.
///
/// The caller writes to a temporary file and renames it (see the CLI).
pub fn write_selected(
    pool: &Path,
    keep: &[bool],
    output: &mut (dyn Write + Send),
    gzip: bool,
) -> Result<usize, PoolError> {
    match FileFormat::of(pool)? {
        FileFormat::Csv => {
            if gzip {
                let mut gz = flate2::write::GzEncoder::new(output, flate2::Compression::default());
                let n = crate::table::copy_csv_records(pool, keep, &mut gz)?;
                gz.finish().map_err(|source| PoolError::Write {
                    path: pool.to_path_buf(),
                    source,
                })?;
                Ok(n)
            } else {
                Ok(crate::table::copy_csv_records(pool, keep, output)?)
            }
        }
        FileFormat::Parquet => copy_parquet_records(pool, keep, output),
    }
}

fn copy_parquet_records(
    pool: &Path,
    keep: &[bool],
    output: &mut (dyn Write + Send),
) -> Result<usize, PoolError> {
    use parquet::arrow::ArrowWriter;
    let err = |message: String| PoolError::Parquet {
        path: pool.to_path_buf(),
        message,
    };
    let (schema, reader) = crate::table::open_parquet(pool)?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut writer =
        ArrowWriter::try_new(output, schema, Some(props)).map_err(|e| err(e.to_string()))?;
    let mut offset = 0usize;
    let mut written = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let n = batch.num_rows();
        let mask = arrow_array::BooleanArray::from(keep[offset..offset + n].to_vec());
        let filtered = arrow_select::filter::filter_record_batch(&batch, &mask)
            .map_err(|e| err(e.to_string()))?;
        written += filtered.num_rows();
        writer.write(&filtered).map_err(|e| err(e.to_string()))?;
        offset += n;
    }
    writer.close().map_err(|e| err(e.to_string()))?;
    Ok(written)
}
