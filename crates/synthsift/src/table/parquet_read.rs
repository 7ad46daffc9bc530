//! Parquet input, with Arrow types mapped to column kinds as pandas maps
//! them when it reads the same file.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::{Column, ColumnData, Table, TableError, MISSING};

/// Reads a whole Parquet file into a [`Table`].
///
/// Integers, floats and booleans are numeric; timestamps are datetimes;
/// strings (plain, large, view or dictionary-encoded), dates and every other
/// type are categorical, compared as their text (pandas holds dates and
/// decimals as Python objects, which the metric compares as strings).
pub fn read_parquet(path: &Path) -> Result<Table, TableError> {
    let mut table: Option<Table> = None;
    for_each_parquet_batch(path, |batch| {
        match &mut table {
            None => table = Some(batch),
            Some(t) => {
                for (a, b) in t.columns.iter_mut().zip(&batch.columns) {
                    a.data.append(&b.data);
                }
                t.n_rows += batch.n_rows;
            }
        }
        Ok(())
    })?;
    match table {
        Some(t) => Ok(t),
        None => parquet_schema_table(path),
    }
}

/// Opens a Parquet file for reading record batches of 65,536 rows.
pub fn open_parquet(
    path: &Path,
) -> Result<(arrow_schema::SchemaRef, ParquetRecordBatchReader), TableError> {
    let err = |e: parquet::errors::ParquetError| TableError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(|source| TableError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(err)?;
    let schema = builder.schema().clone();
    let reader = builder.with_batch_size(65_536).build().map_err(err)?;
    Ok((schema, reader))
}

/// An empty table with the columns of a Parquet file that has no rows.
fn parquet_schema_table(path: &Path) -> Result<Table, TableError> {
    let (schema, _) = open_parquet(path)?;
    let columns = schema
        .fields()
        .iter()
        .map(|f| Column {
            name: f.name().clone(),
            data: empty_for(f.data_type()),
        })
        .collect();
    Ok(Table {
        source: path.to_path_buf(),
        n_rows: 0,
        columns,
    })
}

/// Calls `visit` with every record batch of a Parquet file as a [`Table`]
/// (in file order), so large files can be processed in bounded memory.
pub fn for_each_parquet_batch(
    path: &Path,
    mut visit: impl FnMut(Table) -> Result<(), TableError>,
) -> Result<(), TableError> {
    let err = |message: String| TableError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    let (schema, reader) = open_parquet(path)?;
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let mut columns: Vec<Column> = schema
            .fields()
            .iter()
            .map(|f| Column {
                name: f.name().clone(),
                data: empty_for(f.data_type()),
            })
            .collect();
        for (column, array) in columns.iter_mut().zip(batch.columns()) {
            let mut index = std::collections::HashMap::new();
            append_array(column, &mut index, array)
                .map_err(|message| err(format!("column {:?}: {message}", column.name)))?;
        }
        visit(Table {
            source: path.to_path_buf(),
            n_rows: batch.num_rows(),
            columns,
        })?;
    }
    Ok(())
}

fn empty_for(data_type: &DataType) -> ColumnData {
    match data_type {
        t if t.is_numeric()
            && !matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) =>
        {
            ColumnData::Numeric(Vec::new())
        }
        DataType::Boolean | DataType::Null => ColumnData::Numeric(Vec::new()),
        DataType::Timestamp(..) => ColumnData::Datetime(Vec::new()),
        _ => ColumnData::Categorical {
            codes: Vec::new(),
            dict: Vec::new(),
        },
    }
}

fn append_array(
    column: &mut Column,
    index: &mut std::collections::HashMap<String, u32>,
    array: &ArrayRef,
) -> Result<(), String> {
    match &mut column.data {
        ColumnData::Numeric(values) => {
            let floats = numeric_values(array)?;
            values.extend(floats);
        }
        ColumnData::Datetime(values) => {
            let DataType::Timestamp(unit, _) = array.data_type() else {
                return Err(format!("expected a timestamp, found {}", array.data_type()));
            };
            let scale: i64 = match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            };
            let raw: Vec<Option<i64>> = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().iter().collect(),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .collect(),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .collect(),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .collect(),
            };
            values.extend(raw.into_iter().map(|v| v.map(|v| v.saturating_mul(scale))));
        }
        ColumnData::Categorical { codes, dict } => {
            let strings = arrow_cast::cast(array, &DataType::LargeUtf8)
                .map_err(|e| format!("cannot read {} as text: {e}", array.data_type()))?;
            let strings = strings.as_string::<i64>();
            for v in strings.iter() {
                match v {
                    None => codes.push(MISSING),
                    Some(s) => {
                        let code = match index.get(s) {
                            Some(&c) => c,
                            None => {
                                let c = dict.len() as u32;
                                dict.push(s.to_string());
                                index.insert(s.to_string(), c);
                                c
                            }
                        };
                        codes.push(code);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The values of a numeric or boolean Arrow array as floats (NaN for null).
pub(crate) fn numeric_values(array: &ArrayRef) -> Result<Vec<f64>, String> {
    fn prim<T: arrow_array::ArrowPrimitiveType>(a: &ArrayRef) -> Vec<f64>
    where
        T::Native: num_like::ToF64,
    {
        a.as_primitive::<T>()
            .iter()
            .map(|v| v.map_or(f64::NAN, num_like::ToF64::to_f64))
            .collect()
    }
    Ok(match array.data_type() {
        DataType::Int8 => prim::<Int8Type>(array),
        DataType::Int16 => prim::<Int16Type>(array),
        DataType::Int32 => prim::<Int32Type>(array),
        DataType::Int64 => prim::<Int64Type>(array),
        DataType::UInt8 => prim::<UInt8Type>(array),
        DataType::UInt16 => prim::<UInt16Type>(array),
        DataType::UInt32 => prim::<UInt32Type>(array),
        DataType::UInt64 => prim::<UInt64Type>(array),
        DataType::Float32 => prim::<Float32Type>(array),
        DataType::Float64 => prim::<Float64Type>(array),
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| v.map_or(f64::NAN, |b| if b { 1.0 } else { 0.0 }))
            .collect(),
        DataType::Null => vec![f64::NAN; array.len()],
        other => {
            let cast = arrow_cast::cast(array, &DataType::Float64)
                .map_err(|e| format!("cannot read {other} as numbers: {e}"))?;
            let arr: Arc<dyn Array> = cast;
            return Ok(arr
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect());
        }
    })
}

mod num_like {
    pub trait ToF64: Copy {
        fn to_f64(self) -> f64;
    }
    macro_rules! to_f64 {
        ($($t:ty),*) => {$(impl ToF64 for $t { fn to_f64(self) -> f64 { self as f64 } })*};
    }
    to_f64!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
}
