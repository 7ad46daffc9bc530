//! A fast built-in generator: a Bayesian network over binned columns.
//!
//! Selection lifts the output of any generator, even a weak and fast one;
//! this one exists so that a pool can be made without leaving the tool.
//!
//! **Model.** Every column is cut into bins (by default 24, quantile-spaced
//! for numbers and timestamps, the most frequent values for categories, with
//! missing values in a bin of their own), see [`crate::binning::Bins`]. The
//! columns are ordered along a maximum spanning tree of their pairwise mutual
//! information; each column then gets up to `max_parents` parents among the
//! columns before it, chosen greedily by the (bias-corrected) gain in mutual
//! information they bring. Conditional tables are smoothed towards the
//! column's marginal distribution, so that parent combinations seen rarely
//! in training do not produce erratic records.
//!
//! **Values.** A record is sampled bin by bin along the column order, then
//! each bin is turned into a value: continuous numbers and timestamps are
//! drawn uniformly between two neighbouring training values of the bin
//! (rounded to the training's decimals or time step), so records are new
//! combinations rather than copies; discrete columns resample a training
//! value of the bin; categories are drawn by their training frequency within
//! the bin. A category seen fewer than 5 times in training is never emitted:
//! its share goes to the placeholder [`RARE_PLACEHOLDER`].
//!
//! **Sequences.** With a group key, each row's parents may also be the
//! previous row's bins (each column always has its own previous value as a
//! parent) and the binned sequence length. A sequence's length is drawn from
//! the training's lengths; group keys are fresh and unique.
//!
//! **Determinism.** Records are sampled in chunks of a fixed size, each from
//! its own random stream, so the output depends on the seed only, not on the
//! number of threads.
//!
//! ```
//! use synthsift::generate::{Generator, GeneratorOptions};
//! use synthsift::population::{draw, Population};
//!
//! let training = draw(Population::Flat, 2_000, 1);
//! let model = Generator::fit(&training, &GeneratorOptions::default()).unwrap();
//! let pool = model.sample(5_000, 7);
//! assert_eq!(pool.n_rows, 5_000);
//! assert_eq!(pool.names(), training.names());
//! ```

mod fit;
mod sample;

pub use fit::Generator;

/// The category emitted instead of values seen fewer than
/// [`crate::binning::MIN_CATEGORY_COUNT`] times in training.
pub const RARE_PLACEHOLDER: &str = crate::binning::RARE_BIN;

/// Settings of [`Generator::fit`].
#[derive(Debug, Clone)]
pub struct GeneratorOptions {
    /// Bins per column (plus one for missing values).
    pub bins: usize,
    /// Parents per column among the current row's columns (for sequences,
    /// the column's own previous value comes on top).
    pub max_parents: usize,
    /// Weight, in records, of the marginal distribution mixed into every
    /// conditional table.
    pub smoothing: f64,
    /// The column that groups rows into sequences, if any.
    pub group_key: Option<String>,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        GeneratorOptions {
            bins: 24,
            max_parents: 2,
            smoothing: 2.0,
            group_key: None,
        }
    }
}

/// Training data the generator cannot be fitted to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    #[error("{file}: no records to learn from")]
    NoRecords { file: String },
    #[error("{file}: no group key column {key:?}")]
    MissingGroupKey { file: String, key: String },
    #[error("{file}: group key column {key:?} holds timestamps; use a text or number key")]
    DatetimeGroupKey { file: String, key: String },
    #[error("{file}: no columns besides the group key")]
    NoColumns { file: String },
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

#[cfg(test)]
mod tests;
