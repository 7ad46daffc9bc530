//! Records → L2-normalised vectors, as mostlyai-qa 1.9.8's
//! `prepare_data_for_embeddings` and `_embeddings.encode_data`.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

use super::embed::{CategoryEncoder, DIM};
use super::linalg::pca_scores;
use crate::table::{Column, ColumnData, ColumnKind, Table, MISSING};

/// Name of the sequence-length column added for sequential data.
pub const COUNT_COLUMN: &str = "Sequence Length";
/// At most this many columns are encoded (mostlyai-qa's `EMBEDDINGS_MAX_COLUMNS`).
pub const MAX_COLUMNS: usize = 300;

pub(crate) fn shuffle<T>(v: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// `k` distinct indices of `0..n` in random order.
pub(crate) fn sample_indices(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = rng.random_range(i..n);
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx
}

/// Row indices per sequence (rows with a missing key are dropped, as pandas' groupby does).
pub(crate) fn groups(key: &ColumnData) -> Vec<Vec<usize>> {
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in 0..key.len() {
        if key.is_missing(i) {
            continue;
        }
        let k = match key {
            ColumnData::Numeric(v) => v[i].to_bits(),
            ColumnData::Datetime(v) => v[i].unwrap() as u64,
            ColumnData::Categorical { codes, .. } => codes[i] as u64,
        };
        let g = *index.entry(k).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[g].push(i);
    }
    out
}

/// Linear-interpolated quantile of unsorted values (as pandas' `quantile`).
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let pos = q * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
}

/// The 95th percentile of the training sequence lengths, capped at 100:
/// at most this many rows (rounded up) of each sequence are used.
pub(crate) fn sequence_cap(trn_key: &ColumnData) -> f64 {
    let mut lens: Vec<f64> = groups(trn_key).iter().map(|g| g.len() as f64).collect();
    if lens.is_empty() {
        return 100.0;
    }
    quantile(&mut lens, 0.95).min(100.0)
}

/// Sequential input → records: a `Sequence Length` column first (the whole
/// sequence's length), at most `ceil(cap)` randomly chosen rows per sequence,
/// the key dropped.
pub(crate) fn sequence_records(table: &Table, key: &str, cap: f64, rng: &mut ChaCha8Rng) -> Table {
    let key_col = &table.column(key).expect("checked by the caller").data;
    let mut rows: Vec<Option<usize>> = Vec::new();
    let mut lens: Vec<f64> = Vec::new();
    for mut g in groups(key_col) {
        let len = g.len();
        shuffle(&mut g, rng);
        for &i in g.iter().take(cap.ceil() as usize) {
            rows.push(Some(i));
            lens.push(len as f64);
        }
    }
    let mut t = table.take(&rows).without(key);
    t.columns.insert(
        0,
        Column {
            name: COUNT_COLUMN.into(),
            data: ColumnData::Numeric(lens),
        },
    );
    t
}

/// Values of a column as numbers (`NaN` = missing); strings that do not
/// parse become missing (as `pd.to_numeric(errors="coerce")`).
fn as_numbers(c: &ColumnData) -> Vec<f64> {
    match c {
        ColumnData::Numeric(v) => v.clone(),
        ColumnData::Datetime(v) => v.iter().map(|x| x.map_or(f64::NAN, |x| x as f64)).collect(),
        ColumnData::Categorical { codes, dict } => {
            let parsed: Vec<f64> = dict
                .iter()
                .map(|s| s.trim().parse().unwrap_or(f64::NAN))
                .collect();
            codes
                .iter()
                .map(|&c| {
                    if c == MISSING {
                        f64::NAN
                    } else {
                        parsed[c as usize]
                    }
                })
                .collect()
        }
    }
}

/// Values of a column as the strings mostlyai-qa embeds: missing → `"nan"`
/// (what `astype(str)` makes of a missing value), empty → `"(empty)"`.
fn as_strings(c: &ColumnData) -> Vec<String> {
    let fix = |s: String| {
        if s.is_empty() {
            "(empty)".to_string()
        } else {
            s
        }
    };
    match c {
        ColumnData::Categorical { codes, dict } => codes
            .iter()
            .map(|&c| {
                if c == MISSING {
                    "nan".into()
                } else {
                    fix(dict[c as usize].clone())
                }
            })
            .collect(),
        ColumnData::Numeric(v) => v
            .iter()
            .map(|x| {
                if x.is_nan() {
                    "nan".into()
                } else if x.fract() == 0.0 && x.abs() < 1e16 {
                    format!("{x:.1}")
                } else {
                    format!("{x}")
                }
            })
            .collect(),
        ColumnData::Datetime(v) => v
            .iter()
            .map(|x| x.map_or("nan".into(), |x| x.to_string()))
            .collect(),
    }
}

/// `np.interp(x, xp, fp)` for increasing (possibly repeated) `xp`.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if x < xp[0] {
        return fp[0];
    }
    if x >= xp[n - 1] {
        return fp[n - 1];
    }
    let j = xp.partition_point(|&v| v <= x) - 1;
    if x == xp[j] {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    slope * (x - xp[j]) + fp[j]
}

/// scikit-learn's `QuantileTransformer(output_distribution="uniform")`:
/// fitted on `ori` (subsampled to 10,000 values when longer, as its default
/// `subsample`), mapping to [0, 1].
struct Quantiles {
    q: Vec<f64>,
    refs: Vec<f64>,
    neg_q_rev: Vec<f64>,
    neg_refs_rev: Vec<f64>,
}

impl Quantiles {
    fn fit(ori: &[f64], rng: &mut ChaCha8Rng) -> Option<Quantiles> {
        let nq = ori.len().clamp(1, 100);
        let sample: Vec<f64> = if ori.len() > 10_000 {
            sample_indices(ori.len(), 10_000, rng)
                .into_iter()
                .map(|i| ori[i])
                .collect()
        } else {
            ori.to_vec()
        };
        let mut v: Vec<f64> = sample.into_iter().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let refs: Vec<f64> = (0..nq)
            .map(|i| {
                if nq == 1 {
                    0.0
                } else {
                    i as f64 / (nq - 1) as f64
                }
            })
            .collect();
        let mut q: Vec<f64> = refs
            .iter()
            .map(|&r| {
                let pos = r * (v.len() - 1) as f64;
                let lo = pos.floor() as usize;
                let hi = (lo + 1).min(v.len() - 1);
                let t = pos - lo as f64;
                let (a, b) = (v[lo], v[hi]);
                let diff = b - a;
                if t >= 0.5 {
                    b - diff * (1.0 - t)
                } else {
                    a + diff * t
                }
            })
            .collect();
        for i in 1..q.len() {
            q[i] = q[i].max(q[i - 1]);
        }
        let neg_q_rev = q.iter().rev().map(|x| -x).collect();
        let neg_refs_rev = refs.iter().rev().map(|x| -x).collect();
        Some(Quantiles {
            q,
            refs,
            neg_q_rev,
            neg_refs_rev,
        })
    }

    fn transform(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let (lo, hi) = (self.q[0], self.q[self.q.len() - 1]);
        // sklearn sets the upper bound first, then the lower (which wins for a constant column)
        if x == lo {
            return 0.0;
        }
        if x == hi {
            return 1.0;
        }
        0.5 * (interp(x, &self.q, &self.refs) - interp(-x, &self.neg_q_rev, &self.neg_refs_rev))
    }
}

/// Encoded records of synthetic, training and (optional) holdout samples,
/// row-major with `dims` columns, each row L2-normalised.
pub struct Encoded {
    pub names: Vec<String>,
    pub dims: usize,
    pub syn: Vec<f64>,
    pub trn: Vec<f64>,
    pub hol: Option<Vec<f64>>,
}

/// Column-wise building of the three matrices.
struct Builder {
    names: Vec<String>,
    cols: [Vec<Vec<f64>>; 3],
}

impl Builder {
    fn push(&mut self, name: String, syn: Vec<f64>, trn: Vec<f64>, hol: Vec<f64>) {
        self.names.push(name);
        self.cols[0].push(syn);
        self.cols[1].push(trn);
        self.cols[2].push(hol);
    }
}

fn row_major(cols: &[Vec<f64>]) -> Vec<f64> {
    let d = cols.len();
    let n = cols.first().map_or(0, |c| c.len());
    let mut out = vec![0.0; n * d];
    for (j, c) in cols.iter().enumerate() {
        for (i, v) in c.iter().enumerate() {
            out[i * d + j] = *v;
        }
    }
    // sklearn.preprocessing.normalize(norm="l2"): zero rows stay zero
    for row in out.chunks_mut(d.max(1)) {
        let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
    out
}

/// Encodes the (already sampled, equally long) record tables. Columns are
/// those of `trn` (the first [`MAX_COLUMNS`]); `syn` and `hol` must have them.
pub(crate) fn encode(
    syn: &Table,
    trn: &Table,
    hol: Option<&Table>,
    encoder: &CategoryEncoder,
    rng: &mut ChaCha8Rng,
) -> Encoded {
    let cols: Vec<&Column> = trn.columns.iter().take(MAX_COLUMNS).collect();
    let get = |t: &Table, name: &str| t.column(name).expect("checked by the caller").data.clone();
    let mut b = Builder {
        names: Vec::new(),
        cols: [Vec::new(), Vec::new(), Vec::new()],
    };
    // numeric and datetime columns first, each with its N/A flag
    for c in cols
        .iter()
        .filter(|c| c.data.kind() != ColumnKind::Categorical)
    {
        let s = as_numbers(&get(syn, &c.name));
        let t = as_numbers(&c.data);
        let h = hol
            .map(|h| as_numbers(&get(h, &c.name)))
            .unwrap_or_default();
        let ori: Vec<f64> = t.iter().chain(h.iter()).copied().collect();
        let qt = Quantiles::fit(&ori, rng);
        let tr = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .map(|&x| match &qt {
                    Some(q) => {
                        let y = q.transform(x) - 0.5;
                        if y.is_nan() {
                            0.0
                        } else {
                            y
                        }
                    }
                    None => 0.0,
                })
                .collect()
        };
        b.push(c.name.clone(), tr(&s), tr(&t), tr(&h));
        if ori.iter().any(|x| x.is_nan()) {
            let flag = |v: &[f64]| {
                v.iter()
                    .map(|x| if x.is_nan() { 0.5 } else { -0.5 })
                    .collect()
            };
            b.push(format!("{} - N/A", c.name), flag(&s), flag(&t), flag(&h));
        }
    }
    // categorical columns: embeddings of the original's categories, PCA to 2-4 dims
    for c in cols
        .iter()
        .filter(|c| c.data.kind() == ColumnKind::Categorical)
    {
        let s = as_strings(&get(syn, &c.name));
        let t = as_strings(&c.data);
        let h = hol
            .map(|h| as_strings(&get(h, &c.name)))
            .unwrap_or_default();
        let mut uvals: Vec<String> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for v in t.iter().chain(h.iter()) {
            if !index.contains_key(v.as_str()) {
                index.insert(v.as_str(), uvals.len());
                uvals.push(v.clone());
            }
        }
        let rare = uvals.len();
        let dims = if uvals.len() <= 20 {
            2
        } else if uvals.len() <= 100 {
            3
        } else {
            4
        };
        let mut strings = uvals.clone();
        strings.push("_RARE_".into());
        let embeds = encoder.encode(&strings);
        // sklearn's PCA scores up to the sign of each component (checked in
        // tests/embeddings.rs). The sign does not matter: one table maps all
        // three sets, and column groups use |correlation|. Nor does the order
        // of `uvals` (first seen here, by frequency in the reference).
        let scores = pca_scores(&embeds, strings.len(), DIM, dims);
        let map = |v: &[String], k: usize| -> Vec<f64> {
            v.iter()
                .map(|x| {
                    let r = index.get(x.as_str()).copied().unwrap_or(rare);
                    scores[r * dims + k]
                })
                .collect()
        };
        for k in 0..dims {
            b.push(
                format!("{} - PCA {}", c.name, k + 1),
                map(&s, k),
                map(&t, k),
                map(&h, k),
            );
        }
    }
    let dims = b.names.len();
    let [cs, ct, ch] = b.cols;
    Encoded {
        names: b.names,
        dims,
        syn: row_major(&cs),
        trn: row_major(&ct),
        hol: hol.map(|_| row_major(&ch)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_like_numpy() {
        let xp = [0.0, 1.0, 1.0, 2.0];
        let fp = [0.0, 0.3, 0.6, 1.0];
        assert_eq!(interp(-1.0, &xp, &fp), 0.0);
        assert_eq!(interp(1.0, &xp, &fp), 0.6);
        assert!((interp(0.5, &xp, &fp) - 0.15).abs() < 1e-15);
        assert_eq!(interp(3.0, &xp, &fp), 1.0);
    }

    #[test]
    fn quantile_transform_of_uniform_values() {
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let ori: Vec<f64> = (0..101).map(|i| i as f64).collect();
        let q = Quantiles::fit(&ori, &mut rng).unwrap();
        assert_eq!(q.transform(0.0), 0.0);
        assert_eq!(q.transform(100.0), 1.0);
        assert!((q.transform(50.0) - 0.5).abs() < 1e-12);
        assert_eq!(q.transform(-5.0), 0.0);
        assert!(q.transform(f64::NAN).is_nan());
    }
}
