//! The quality metrics, as `mostlyai-qa` 1.9.8 defines them: accuracy
//! (univariate, bivariate, trivariate and, for sequences, coherence) and
//! privacy (distances to the closest records).

pub mod accuracy;
mod coherence;
pub mod privacy;

pub use accuracy::{
    accuracy_from_counts, evaluate_accuracy, Accuracy, AccuracyOptions, AccuracyReport,
    CoherenceReport, MarginalAccuracy, MetricsError,
};
