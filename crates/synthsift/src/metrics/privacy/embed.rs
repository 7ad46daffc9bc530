//! Category encoders: 256-dimensional vectors for category strings, before
//! the per-column PCA.
//!
//! * [`CategoryEncoder::Model2Vec`] (cargo feature `embeddings`, on by
//!   default in the CLI): the static model `potion-base-8M` through
//!   `model2vec-rs`, exactly what mostlyai-qa 1.9.8 embeds with
//!   (`load_embedder().encode(values)`: the model's own tokenizer, mean of
//!   the token vectors, L2-normalised as the model's config asks, no prefix;
//!   an empty or all-blank string gives the zero vector in both). Checked
//!   against the Python reference by `tests/embeddings.rs`: largest
//!   difference 9.2e-8 over 45 strings (tabular codes, "nan", "_RARE_",
//!   accents, CJK, emoji, a 13,500-character text), and the per-column PCA
//!   scores equal sklearn's to 1e-5 up to the sign of a component. Its
//!   files (30 MB, MIT) ship inside the `mostlyai-qa` wheel; synthsift never
//!   downloads them (`scripts/fetch-embedder.sh` does, once, on request).
//!   They are taken from, in order: `PrivacyOptions::embedder_dir` (CLI
//!   `--embedder-dir`), the environment variable `SYNTHSIFT_EMBEDDER_DIR`,
//!   or an installed `mostlyai-qa` found under `$VIRTUAL_ENV`, `$CONDA_PREFIX`,
//!   `~/.local`, `/usr/local`, `/usr` or a direct subfolder of `/opt`
//!   (`lib/python3.*/site-packages/mostlyai/qa/assets/embedders/potion-base-8M`).
//!   The feature costs 3.6 MB of stripped binary (17.9 → 21.6 MB) and about
//!   250 s of crate compile time on a busy 2-core machine (tokenizers,
//!   model2vec-rs and their dependencies, partly in parallel with arrow).
//! * [`CategoryEncoder::Hashed`] (always available, the fallback): each
//!   distinct string gets a deterministic pseudo-random Gaussian vector
//!   seeded by a hash of its bytes. After the same PCA this places the
//!   categories of a column at distinct, generic positions, as the model's
//!   vectors do for the short codes typical of tabular data; the DCR share it
//!   gives is compared with the model's in the README's privacy section.

use std::path::{Path, PathBuf};

/// Dimension of the category vectors (that of potion-base-8M).
pub const DIM: usize = 256;

/// How category strings become vectors.
pub enum CategoryEncoder {
    #[cfg(feature = "embeddings")]
    Model2Vec(Box<model2vec_rs::model::StaticModel>, PathBuf),
    Hashed,
}

impl CategoryEncoder {
    /// Short name for reports: `potion-base-8M` or `hashed`.
    pub fn name(&self) -> String {
        match self {
            #[cfg(feature = "embeddings")]
            CategoryEncoder::Model2Vec(..) => "potion-base-8M".into(),
            CategoryEncoder::Hashed => "hashed".into(),
        }
    }

    /// The model's embedding of each string (`strings.len() × DIM`, row-major).
    pub fn encode(&self, strings: &[String]) -> Vec<f64> {
        match self {
            #[cfg(feature = "embeddings")]
            CategoryEncoder::Model2Vec(model, _) => model
                .encode_flat(strings)
                .into_iter()
                .map(f64::from)
                .collect(),
            CategoryEncoder::Hashed => strings.iter().flat_map(|s| hashed_vector(s)).collect(),
        }
    }

    /// The encoder to use: the model when it can be loaded from `dir` or
    /// found installed (see the module docs), else [`CategoryEncoder::Hashed`].
    /// An explicitly given `dir` that cannot be loaded is an error.
    pub fn resolve(dir: Option<&Path>) -> Result<CategoryEncoder, String> {
        if let Some(dir) = dir {
            return load(dir);
        }
        if let Some(dir) = std::env::var_os("SYNTHSIFT_EMBEDDER_DIR") {
            return load(Path::new(&dir));
        }
        if let Some(dir) = find_installed_model() {
            if let Ok(enc) = load(&dir) {
                return Ok(enc);
            }
        }
        Ok(CategoryEncoder::Hashed)
    }
}

#[cfg(feature = "embeddings")]
fn load(dir: &Path) -> Result<CategoryEncoder, String> {
    if !dir.join("model.safetensors").is_file() {
        return Err(format!(
            "{}: no model.safetensors (expected the potion-base-8M folder)",
            dir.display()
        ));
    }
    let model = model2vec_rs::model::StaticModel::from_pretrained(dir, None, None, None)
        .map_err(|e| format!("{}: cannot load the embedding model: {e:#}", dir.display()))?;
    Ok(CategoryEncoder::Model2Vec(
        Box::new(model),
        dir.to_path_buf(),
    ))
}

#[cfg(not(feature = "embeddings"))]
fn load(dir: &Path) -> Result<CategoryEncoder, String> {
    Err(format!(
        "{}: this synthsift was built without the `embeddings` feature; rebuild with it to use the model",
        dir.display()
    ))
}

/// Looks for the potion-base-8M folder of an installed mostlyai-qa wheel.
pub fn find_installed_model() -> Option<PathBuf> {
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(p) = std::env::var_os(var) {
            prefixes.push(PathBuf::from(p));
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        prefixes.push(PathBuf::from(home).join(".local"));
    }
    prefixes.push("/usr/local".into());
    prefixes.push("/usr".into());
    if let Ok(rd) = std::fs::read_dir("/opt") {
        let mut opt: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        opt.sort();
        prefixes.extend(opt);
    }
    for prefix in prefixes {
        let Ok(rd) = std::fs::read_dir(prefix.join("lib")) else {
            continue;
        };
        let mut libs: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("python3"))
            })
            .collect();
        libs.sort();
        for lib in libs {
            for sp in ["site-packages", "dist-packages"] {
                let dir = lib
                    .join(sp)
                    .join("mostlyai/qa/assets/embedders/potion-base-8M");
                if dir.join("model.safetensors").is_file() {
                    return Some(dir);
                }
            }
        }
    }
    None
}

/// A unit-length pseudo-random Gaussian vector determined by `s` alone.
fn hashed_vector(s: &str) -> Vec<f64> {
    // FNV-1a 64 of the bytes, then splitmix64 as the stream.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    let mut next = move || {
        h = h.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    };
    let mut v = Vec::with_capacity(DIM);
    while v.len() < DIM {
        // Box-Muller
        let u1 = ((next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let u2 = (next() >> 11) as f64 / (1u64 << 53) as f64;
        let r = (-2.0 * u1.ln()).sqrt();
        v.push(r * (std::f64::consts::TAU * u2).cos());
        v.push(r * (std::f64::consts::TAU * u2).sin());
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_vectors_are_deterministic_unit_and_distinct() {
        let a = hashed_vector("A1");
        assert_eq!(a, hashed_vector("A1"));
        assert!((a.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-12);
        let b = hashed_vector("A2");
        let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!(dot.abs() < 0.5);
    }
}
