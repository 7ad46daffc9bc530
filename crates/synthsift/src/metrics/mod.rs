//! Quality metrics: accuracy, coherence, privacy.

pub mod privacy;
