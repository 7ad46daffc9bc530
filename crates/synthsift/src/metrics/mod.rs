//! The quality metrics: accuracy (univariate, bivariate, trivariate and,
//! for sequences, coherence), as `mostlyai-qa` 1.9.8 defines them.

pub mod accuracy;
mod coherence;

pub use accuracy::{
    accuracy_from_counts, evaluate_accuracy, Accuracy, AccuracyOptions, AccuracyReport,
    CoherenceReport, MarginalAccuracy, MetricsError,
};
