//! synthsift: select the records of an oversampled synthetic pool whose
//! statistics match the original data most closely, and measure that
//! closeness with the accuracy metric of `mostlyai-qa` 1.9.8.
//!
//! The crate has no command-line or terminal policy; the `synthsift` binary
//! lives in `synthsift-cli`.

pub mod codes;
pub mod metrics;
pub mod table;
