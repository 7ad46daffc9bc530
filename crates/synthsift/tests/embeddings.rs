//! Category embeddings against mostlyai-qa 1.9.8: `tests/golden/embeddings.json`
//! (written by `scripts/reference/make_embed_golden.py`) holds the reference's
//! potion-base-8M vectors of the seq-training categories and of edge strings,
//! and its per-column PCA projections of three columns.
//!
//! The model folder is found as `evaluate` finds it (`$SYNTHSIFT_EMBEDDER_DIR`,
//! else an installed mostlyai-qa). Without one the tests print a note and
//! pass, unless `SYNTHSIFT_REQUIRE_EMBEDDER=1` (as CI sets it), when they fail.

fn required() -> bool {
    std::env::var("SYNTHSIFT_REQUIRE_EMBEDDER").is_ok_and(|v| v == "1")
}

#[cfg(not(feature = "embeddings"))]
#[test]
fn embeddings_feature_is_on_when_required() {
    assert!(
        !required(),
        "SYNTHSIFT_REQUIRE_EMBEDDER=1 but synthsift was built without the `embeddings` feature"
    );
}

#[cfg(feature = "embeddings")]
mod with_model {
    use super::*;
    use serde_json::Value;
    use std::path::PathBuf;
    use synthsift::metrics::privacy::embed::{CategoryEncoder, DIM};
    use synthsift::metrics::privacy::linalg::pca_scores;

    /// Largest difference allowed between a value of ours and the reference's
    /// (both are float32 computations; the golden values are rounded to 1e-8).
    const TOL: f64 = 1e-5;

    fn golden() -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/embeddings.json");
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// The model, or `None` (after a note) when it is not available and not required.
    fn model() -> Option<CategoryEncoder> {
        let encoder = CategoryEncoder::resolve(None).unwrap_or_else(|e| panic!("{e}"));
        if matches!(encoder, CategoryEncoder::Model2Vec(..)) {
            return Some(encoder);
        }
        let msg = "no potion-base-8M folder: set SYNTHSIFT_EMBEDDER_DIR to it (it ships in the \
                   mostlyai-qa 1.9.8 wheel under mostlyai/qa/assets/embedders/potion-base-8M) \
                   or install mostlyai-qa";
        assert!(!required(), "SYNTHSIFT_REQUIRE_EMBEDDER=1: {msg}");
        eprintln!("note: embedding parity skipped: {msg}");
        None
    }

    fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
            .collect()
    }

    #[test]
    fn vectors_match_the_reference() {
        let Some(model) = model() else { return };
        let g = golden();
        let strings = strings(&g["strings"]);
        let want = floats(&g["vectors"]);
        let got = model.encode(&strings);
        assert_eq!(got.len(), strings.len() * DIM);
        let mut worst = (0.0f64, 0);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            let d = (a - b).abs();
            if d > worst.0 {
                worst = (d, i / DIM);
            }
        }
        eprintln!(
            "max |ours - reference| over {} strings: {:.2e} ({:?})",
            strings.len(),
            worst.0,
            strings[worst.1].chars().take(30).collect::<String>()
        );
        assert!(
            worst.0 < TOL,
            "embedding of {:?} differs from the reference by {:.2e}",
            strings[worst.1],
            worst.0
        );
    }

    /// Per-column PCA as `_embeddings.encode_strings`: equal to the
    /// reference's up to the sign of each component.
    #[test]
    fn column_projections_match_the_reference() {
        let Some(model) = model() else { return };
        let g = golden();
        for p in g["projections"].as_array().unwrap() {
            let column = p["column"].as_str().unwrap();
            let mut values = strings(&p["values"]);
            values.push("_RARE_".into());
            let want = floats(&p["scores"]);
            let m = values.len();
            let dims = want.len() / m;
            let got = pca_scores(&model.encode(&values), m, DIM, dims);
            for k in 0..dims {
                let dot: f64 = (0..m).map(|i| got[i * dims + k] * want[i * dims + k]).sum();
                let sign = if dot < 0.0 { -1.0 } else { 1.0 };
                for i in 0..m {
                    let (a, b) = (sign * got[i * dims + k], want[i * dims + k]);
                    assert!(
                        (a - b).abs() < TOL,
                        "{column}: PCA {} of {:?}: ours {a}, reference {b}",
                        k + 1,
                        values[i]
                    );
                }
            }
        }
    }
}
