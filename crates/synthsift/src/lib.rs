//! synthsift: select the records of an oversampled synthetic pool whose
//! statistics match the original data most closely, and measure that
//! closeness with the accuracy metric of `mostlyai-qa` 1.9.8.
//!
//! The pieces, in the order a run uses them:
//!
//! * [`table`] reads CSV (also gzip) and Parquet files into typed columns,
//!   with the column kinds `pandas.read_csv` would give them;
//! * [`binning`] discretises columns exactly as the reference metric does;
//! * [`metrics`] computes accuracy (univariate, bivariate, trivariate,
//!   coherence) and privacy (distances to the closest records);
//! * [`pool`] bins a large pool in one streaming pass and writes chosen
//!   records back out byte for byte;
//! * [`select`] chooses the records;
//! * [`generate`] and [`population`] make pools and test data without files.
//!
//! The crate has no command-line or terminal policy; the `synthsift` binary
//! lives in `synthsift-cli`.
//!
//! # Example
//!
//! ```
//! use synthsift::metrics::{evaluate_accuracy, AccuracyOptions};
//! use synthsift::table::{Column, ColumnData, Table};
//!
//! let table = |values: Vec<f64>| Table {
//!     source: "memory".into(),
//!     n_rows: values.len(),
//!     columns: vec![Column { name: "x".into(), data: ColumnData::Numeric(values) }],
//! };
//! let training = table((0..210).map(|i| (i % 7) as f64).collect());
//! let synthetic = table((0..210).map(|i| (i % 5) as f64).collect());
//! let report =
//!     evaluate_accuracy(&training, &synthetic, None, &AccuracyOptions::default()).unwrap();
//! // Five of seven values, each at 1/5 instead of 1/7: TVD 2/7.
//! assert!((report.accuracy.univariate - (1.0 - 2.0 / 7.0)).abs() < 1e-3);
//! ```

pub mod binning;
pub mod codes;
pub mod generate;
pub mod metrics;
pub mod pool;
pub mod population;
pub mod select;
pub mod sequences;
pub mod table;
