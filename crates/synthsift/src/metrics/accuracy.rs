//! Accuracy: one minus the total variation distance between the binned
//! distributions of original and synthetic data, over every column, every
//! column pair and (up to 10,000) column triples.
//!
//! With a holdout the original is training and holdout together. For
//! sequences (a group key), one random row of each sequence and the row
//! after it are drawn, a `Sequence Length` column joins the data columns,
//! and coherence is added. The reference is `reporting.py`, `_accuracy.py`,
//! `_sampling.py` and `_coherence.py` of `mostlyai-qa` 1.9.8.

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::binning::Bins;
use crate::codes::CodeMatrix;
use crate::sequences::Sequences;
use crate::table::{coerce, Column, ColumnData, Table};

/// The reference evaluates at most this many column triples.
pub const MAX_TRIVARIATES: usize = 10_000;
/// Name of the column the reference adds for sequences.
pub const COUNT_COLUMN: &str = "Sequence Length";
/// Bins per column in the accuracy metric.
pub const ACCURACY_BINS: usize = 10;
/// The reference compares only the first this-many data columns in sorted
/// name order (coherence still looks at all).
pub const ACCURACY_MAX_COLUMNS: usize = 300;

/// Random streams, one per purpose, so that adding a draw in one place does
/// not shift another.
pub(crate) mod streams {
    pub const TRAINING_ROWS: u64 = 1;
    pub const HOLDOUT_ROWS: u64 = 2;
    pub const SYNTHETIC_ROWS: u64 = 3;
    pub const TRIPLES: u64 = 4;
    pub const COHERENCE_ORIGINAL: u64 = 5;
    pub const COHERENCE_SYNTHETIC: u64 = 6;
}

pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Options of [`evaluate_accuracy`].
#[derive(Debug, Clone, Default)]
pub struct AccuracyOptions {
    /// The column that groups rows into sequences, if the data is
    /// sequential.
    pub group_key: Option<String>,
    /// Seed of every random draw (rows of sequences, sampled triples).
    pub seed: u64,
}

/// The accuracy of one marginal (one, two or three columns).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MarginalAccuracy {
    pub columns: Vec<String>,
    pub accuracy: f64,
    /// What a same-sized sample of the original would reach.
    pub accuracy_max: f64,
}

/// The headline figures, under the reference's names.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Accuracy {
    pub overall: f64,
    pub univariate: f64,
    pub bivariate: Option<f64>,
    pub trivariate: Option<f64>,
    pub coherence: Option<f64>,
    pub overall_max: f64,
    pub univariate_max: f64,
    pub bivariate_max: Option<f64>,
    pub trivariate_max: Option<f64>,
    pub coherence_max: Option<f64>,
}

/// The three parts of coherence, per column.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CoherenceReport {
    /// Each column against its value in the next row of the sequence.
    pub next_row: Vec<MarginalAccuracy>,
    /// Distribution of the number of distinct bins per sequence.
    pub categories_per_sequence: Vec<MarginalAccuracy>,
    /// Share of sequences in which each of the top bins occurs.
    pub sequences_per_category: Vec<MarginalAccuracy>,
}

/// Everything `evaluate` computes about accuracy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccuracyReport {
    pub accuracy: Accuracy,
    pub univariates: Vec<MarginalAccuracy>,
    pub bivariates: Vec<MarginalAccuracy>,
    pub trivariates: Vec<MarginalAccuracy>,
    pub coherence: Option<CoherenceReport>,
    /// Records (or sequences) of the original: training plus holdout.
    pub n_original: usize,
    /// Records (or sequences) of the synthetic data.
    pub n_synthetic: usize,
    /// Whether the data was evaluated as sequences.
    pub sequential: bool,
    /// Things a user should know about the inputs (coerced values, ...).
    pub notes: Vec<String>,
}

/// Inputs the metric cannot be computed on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    #[error("{file}: missing column(s) that the training data has: {}", names.join(", "))]
    MissingColumns { file: String, names: Vec<String> },
    #[error("{file}: column(s) that the training data does not have: {}", names.join(", "))]
    ExtraColumns { file: String, names: Vec<String> },
    #[error("{file}: no group key column {key:?}")]
    MissingGroupKey { file: String, key: String },
    #[error("{file}: no records")]
    Empty { file: String },
    #[error("{file}: no columns besides the group key")]
    NoColumns { file: String },
}

/// Rounds as `numpy.round(x, 5)` does: scale, round half to even, unscale.
pub fn round5(x: f64) -> f64 {
    (x * 1e5).round_ties_even() / 1e5
}

/// Accuracy and its expected maximum from the cell counts of a marginal in
/// the original and the synthetic data (`calculate_accuracy_cnts`).
///
/// `accuracy = 1 − ½ Σ |p − q|`; the maximum is `1 − ½ Σ E|p̂ − p̂'|` for
/// two multinomial samples of the two sizes drawn from the original's
/// frequencies, by the normal approximation per cell. Both are rounded to 5
/// decimals, as in the reference.
pub fn accuracy_from_counts(original: &[f64], synthetic: &[f64]) -> (f64, f64) {
    let n_ori: f64 = original.iter().sum();
    let n_syn: f64 = synthetic.iter().sum();
    let mut observed = 0.0;
    let mut expected = 0.0;
    for (&o, &s) in original.iter().zip(synthetic) {
        if o == 0.0 && s == 0.0 {
            continue;
        }
        let p = o / n_ori;
        observed += (p - s / n_syn).abs();
        let variance = p * (1.0 - p) / n_ori + p * (1.0 - p) / n_syn;
        expected += (variance * 2.0 / PI).sqrt();
    }
    (round5(1.0 - observed / 2.0), round5(1.0 - expected / 2.0))
}

/// Cell counts of the marginal over `columns` of a code matrix.
pub fn marginal_counts(m: &CodeMatrix, columns: &[usize]) -> Vec<f64> {
    let n_cells: usize = columns.iter().map(|&c| m.cardinalities[c]).product();
    let mut counts = vec![0u32; n_cells];
    match columns {
        [a] => m.columns[*a].iter().for_each(|&x| counts[x as usize] += 1),
        [a, b] => {
            let kb = m.cardinalities[*b];
            for (&x, &y) in m.columns[*a].iter().zip(&m.columns[*b]) {
                counts[x as usize * kb + y as usize] += 1;
            }
        }
        [a, b, c] => {
            let (kb, kc) = (m.cardinalities[*b], m.cardinalities[*c]);
            let (ca, cb, cc) = (&m.columns[*a], &m.columns[*b], &m.columns[*c]);
            for i in 0..m.n_rows {
                counts[(ca[i] as usize * kb + cb[i] as usize) * kc + cc[i] as usize] += 1;
            }
        }
        _ => panic!("marginals have one to three columns"),
    }
    counts.into_iter().map(f64::from).collect()
}

fn marginal(ori: &CodeMatrix, syn: &CodeMatrix, columns: &[usize]) -> MarginalAccuracy {
    let (accuracy, accuracy_max) = accuracy_from_counts(
        &marginal_counts(ori, columns),
        &marginal_counts(syn, columns),
    );
    MarginalAccuracy {
        columns: columns.iter().map(|&c| ori.names[c].clone()).collect(),
        accuracy,
        accuracy_max,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The columns the metric compares, per record: the drawn row (`tgt`) and,
/// for sequences, the row after it (`nxt`).
struct Frame {
    tgt: Vec<Column>,
    nxt: Vec<Column>,
    n: usize,
}

impl Frame {
    fn flat(table: &Table, data_columns: &[String]) -> Frame {
        let tgt = data_columns
            .iter()
            .map(|c| table.column(c).expect("checked").clone())
            .collect();
        Frame {
            tgt,
            nxt: Vec::new(),
            n: table.n_rows,
        }
    }

    /// One uniformly drawn row among the first `len − 1` of each sequence
    /// (the only row of a one-row sequence) and the row after it.
    fn sequential(
        table: &Table,
        key: &str,
        data_columns: &[String],
        rng: &mut ChaCha8Rng,
    ) -> Frame {
        let seqs = Sequences::group(table, key);
        let mut first = Vec::with_capacity(seqs.len());
        let mut next = Vec::with_capacity(seqs.len());
        let mut lengths = Vec::with_capacity(seqs.len());
        for s in 0..seqs.len() {
            let rows = seqs.rows_of(s);
            let i = ((rows.len() - 1) as f64 * rng.random::<f64>()) as usize;
            first.push(Some(rows[i]));
            next.push(rows.get(i + 1).copied());
            lengths.push(rows.len() as f64);
        }
        let mut tgt = vec![Column {
            name: COUNT_COLUMN.into(),
            data: ColumnData::Numeric(lengths),
        }];
        let mut nxt = Vec::new();
        for name in data_columns {
            let data = &table.column(name).expect("checked").data;
            tgt.push(Column {
                name: name.clone(),
                data: data.take(&first),
            });
            nxt.push(Column {
                name: name.clone(),
                data: data.take(&next),
            });
        }
        Frame {
            tgt,
            nxt,
            n: seqs.len(),
        }
    }

    fn append(&mut self, other: Frame) {
        for (a, b) in self.tgt.iter_mut().zip(&other.tgt) {
            a.data.append(&b.data);
        }
        for (a, b) in self.nxt.iter_mut().zip(&other.nxt) {
            a.data.append(&b.data);
        }
        self.n += other.n;
    }
}

/// Fits bins on the original frame and encodes both frames with them.
fn encode_frames(ori: &Frame, syn: &Frame) -> (CodeMatrix, CodeMatrix) {
    let columns: Vec<(&Column, &Column)> = ori
        .tgt
        .iter()
        .zip(&syn.tgt)
        .chain(ori.nxt.iter().zip(&syn.nxt))
        .collect();
    let encoded: Vec<(Vec<u8>, Vec<u8>, usize)> = columns
        .par_iter()
        .map(|(o, s)| {
            let bins = Bins::fit(&o.data, ACCURACY_BINS);
            (bins.encode(&o.data), bins.encode(&s.data), bins.n_codes())
        })
        .collect();
    let names: Vec<String> = ori
        .tgt
        .iter()
        .chain(&ori.nxt)
        .map(|c| c.name.clone())
        .collect();
    let mut ori_m = CodeMatrix {
        n_rows: ori.n,
        names: names.clone(),
        ..Default::default()
    };
    let mut syn_m = CodeMatrix {
        n_rows: syn.n,
        names,
        ..Default::default()
    };
    for (o, s, k) in encoded {
        ori_m.columns.push(o);
        syn_m.columns.push(s);
        ori_m.cardinalities.push(k);
        syn_m.cardinalities.push(k);
    }
    (ori_m, syn_m)
}

fn check_columns(
    training: &[String],
    other: &Table,
    key: Option<&str>,
) -> Result<(), MetricsError> {
    let file = other.source.display().to_string();
    if let Some(key) = key {
        if other.column(key).is_none() {
            return Err(MetricsError::MissingGroupKey {
                file,
                key: key.into(),
            });
        }
    }
    let missing: Vec<String> = training
        .iter()
        .filter(|c| other.column(c).is_none())
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(MetricsError::MissingColumns {
            file,
            names: missing,
        });
    }
    let extra: Vec<String> = other
        .names()
        .into_iter()
        .filter(|c| Some(*c) != key && !training.iter().any(|t| t == c))
        .map(String::from)
        .collect();
    if !extra.is_empty() {
        return Err(MetricsError::ExtraColumns { file, names: extra });
    }
    if other.n_rows == 0 {
        return Err(MetricsError::Empty { file });
    }
    Ok(())
}

/// Converts `table`'s data columns to the training column kinds, noting
/// values that did not convert.
fn harmonise(
    table: &Table,
    training: &Table,
    columns: &[String],
    notes: &mut Vec<String>,
) -> Table {
    let mut out = table.clone();
    for name in columns {
        let kind = training.column(name).expect("checked").data.kind();
        let idx = out.column_index(name).expect("checked");
        if out.columns[idx].data.kind() == kind {
            continue;
        }
        let coerced = coerce(&out.columns[idx].data, kind);
        let mut note = format!(
            "{}: column {name:?} read as {:?}, converted to the training's {:?}",
            table.source.display(),
            out.columns[idx].data.kind(),
            kind
        );
        if coerced.unconvertible > 0 {
            note.push_str(&format!(
                "; {} value(s) could not be converted and count as missing",
                coerced.unconvertible
            ));
        }
        notes.push(note);
        out.columns[idx].data = coerced.data;
    }
    out
}

/// Computes the accuracy of `synthetic` against `training` (and `holdout`,
/// which then joins the original), as the reference metric does.
pub fn evaluate_accuracy(
    training: &Table,
    synthetic: &Table,
    holdout: Option<&Table>,
    opts: &AccuracyOptions,
) -> Result<AccuracyReport, MetricsError> {
    let key = opts.group_key.as_deref();
    let mut notes = Vec::new();

    // 1. Check the inputs and bring them to the training's column kinds.
    let trn_file = training.source.display().to_string();
    if let Some(k) = key {
        if training.column(k).is_none() {
            return Err(MetricsError::MissingGroupKey {
                file: trn_file,
                key: k.into(),
            });
        }
    }
    if training.n_rows == 0 {
        return Err(MetricsError::Empty { file: trn_file });
    }
    let mut data_columns: Vec<String> = training
        .names()
        .into_iter()
        .filter(|c| Some(*c) != key)
        .map(String::from)
        .collect();
    if data_columns.is_empty() {
        return Err(MetricsError::NoColumns { file: trn_file });
    }
    data_columns.sort();
    check_columns(&data_columns, synthetic, key)?;
    if let Some(h) = holdout {
        check_columns(&data_columns, h, key)?;
    }
    let synthetic = harmonise(synthetic, training, &data_columns, &mut notes);
    let holdout = holdout.map(|h| harmonise(h, training, &data_columns, &mut notes));

    // 2. One record per row, or per sequence (unless every training
    //    sequence has a single row: then the reference compares rows).
    let sequential = match key {
        Some(k) => !Sequences::group(training, k).all_single(),
        None => false,
    };
    let compared = &data_columns[..data_columns.len().min(ACCURACY_MAX_COLUMNS)];
    if compared.len() < data_columns.len() {
        notes.push(format!(
            "{} columns: as the reference, accuracy compares the first {ACCURACY_MAX_COLUMNS} \
             in sorted name order",
            data_columns.len()
        ));
    }
    let frame = |t: &Table, stream| match (sequential, key) {
        (true, Some(k)) => Frame::sequential(t, k, compared, &mut rng(opts.seed, stream)),
        _ => Frame::flat(t, compared),
    };
    let mut ori = frame(training, streams::TRAINING_ROWS);
    if let Some(h) = &holdout {
        ori.append(frame(h, streams::HOLDOUT_ROWS));
    }
    let syn = frame(&synthetic, streams::SYNTHETIC_ROWS);
    check_sizes(ori.n, syn.n, &mut notes);

    // 3. Bin on the original, encode both.
    let (ori_m, syn_m) = encode_frames(&ori, &syn);
    let n_tgt = ori.tgt.len();
    let mut tgt: Vec<usize> = (0..n_tgt).collect();
    tgt.sort_by(|&a, &b| ori_m.names[a].cmp(&ori_m.names[b]));

    // 4. Every column, every pair, up to MAX_TRIVARIATES triples.
    let pairs: Vec<[usize; 2]> = tgt
        .iter()
        .enumerate()
        .flat_map(|(i, &a)| tgt[i + 1..].iter().map(move |&b| [a, b]))
        .collect();
    let mut triples: Vec<[usize; 3]> = Vec::new();
    for i in 0..n_tgt {
        for j in i + 1..n_tgt {
            for k in j + 1..n_tgt {
                triples.push([tgt[i], tgt[j], tgt[k]]);
            }
        }
    }
    if triples.len() > MAX_TRIVARIATES {
        triples.shuffle(&mut rng(opts.seed, streams::TRIPLES));
        triples.truncate(MAX_TRIVARIATES);
        triples.sort();
    }
    let univariates: Vec<MarginalAccuracy> = tgt
        .par_iter()
        .map(|&c| marginal(&ori_m, &syn_m, &[c]))
        .collect();
    let bivariates: Vec<MarginalAccuracy> = pairs
        .par_iter()
        .map(|p| marginal(&ori_m, &syn_m, p))
        .collect();
    let trivariates: Vec<MarginalAccuracy> = triples
        .par_iter()
        .map(|t| marginal(&ori_m, &syn_m, t))
        .collect();

    // 5. Coherence, for sequences with at least one data column.
    let coherence = match (sequential, key) {
        (true, Some(k)) => {
            let next_row: Vec<MarginalAccuracy> = (0..ori.nxt.len())
                .into_par_iter()
                .map(|j| {
                    // tgt column j + 1 (after Sequence Length) and its next.
                    let mut m = marginal(&ori_m, &syn_m, &[j + 1, n_tgt + j]);
                    m.columns.truncate(1);
                    m
                })
                .collect();
            let mut original = training.clone();
            if let Some(h) = &holdout {
                for (a, b) in original.columns.iter_mut().zip(&h.columns) {
                    let b = &h.column(&a.name).unwrap_or(b).data;
                    a.data.append(b);
                }
                original.n_rows += h.n_rows;
            }
            let (categories_per_sequence, sequences_per_category) =
                super::coherence::parts(&original, &synthetic, k, &data_columns, opts.seed);
            Some(CoherenceReport {
                next_row,
                categories_per_sequence,
                sequences_per_category,
            })
        }
        _ => None,
    };

    // 6. Family means and overall, as `_calculate_metrics`.
    let acc = |v: &[MarginalAccuracy]| mean(v.iter().map(|m| m.accuracy));
    let acc_max = |v: &[MarginalAccuracy]| mean(v.iter().map(|m| m.accuracy_max));
    let (coh, coh_max) = match &coherence {
        Some(c) => {
            let parts = [
                &c.next_row,
                &c.categories_per_sequence,
                &c.sequences_per_category,
            ];
            (
                mean(parts.iter().filter_map(|p| acc(p))),
                mean(parts.iter().filter_map(|p| acc_max(p))),
            )
        }
        None => (None, None),
    };
    let univariate = acc(&univariates).expect("at least one column");
    let univariate_max = acc_max(&univariates).expect("at least one column");
    let (bivariate, trivariate) = (acc(&bivariates), acc(&trivariates));
    let (bivariate_max, trivariate_max) = (acc_max(&bivariates), acc_max(&trivariates));
    let overall = mean(
        [Some(univariate), bivariate, trivariate, coh]
            .into_iter()
            .flatten(),
    )
    .expect("univariate exists");
    let overall_max = mean(
        [Some(univariate_max), bivariate_max, trivariate_max, coh_max]
            .into_iter()
            .flatten(),
    )
    .expect("univariate exists");

    Ok(AccuracyReport {
        accuracy: Accuracy {
            overall,
            univariate,
            bivariate,
            trivariate,
            coherence: coh,
            overall_max,
            univariate_max,
            bivariate_max,
            trivariate_max,
            coherence_max: coh_max,
        },
        univariates,
        bivariates,
        trivariates,
        coherence,
        n_original: ori.n,
        n_synthetic: syn.n,
        sequential,
        notes,
    })
}

fn check_sizes(n_ori: usize, n_syn: usize, notes: &mut Vec<String>) {
    // The reference skips its report below these sizes.
    if n_ori < 90 {
        notes.push(format!(
            "only {n_ori} original records; the reference reports nothing below 90"
        ));
    }
    if n_syn < 100 {
        notes.push(format!(
            "only {n_syn} synthetic records; the reference reports nothing below 100"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_distributions_are_fully_accurate() {
        let (acc, max) = accuracy_from_counts(&[10.0, 30.0, 60.0], &[1.0, 3.0, 6.0]);
        assert_eq!(acc, 1.0);
        assert!(max < 1.0 && max > 0.8, "{max}");
    }

    #[test]
    fn accuracy_is_one_minus_tvd() {
        // p = (0.5, 0.5), q = (1, 0): TVD 0.5.
        let (acc, _) = accuracy_from_counts(&[5.0, 5.0], &[4.0, 0.0]);
        assert_eq!(acc, 0.5);
        // A cell only the synthetic data has counts fully.
        let (acc, _) = accuracy_from_counts(&[4.0, 0.0], &[3.0, 1.0]);
        assert_eq!(acc, 0.75);
    }

    #[test]
    fn expected_max_matches_the_closed_form() {
        // One cell per p; n1 = n2 = 100: sum sqrt(2 p(1-p)/100 * 2/pi).
        let (_, max) = accuracy_from_counts(&[50.0, 50.0], &[50.0, 50.0]);
        let e = 2.0 * (2.0 * 0.25 / 100.0 * 2.0 / PI).sqrt();
        assert_eq!(max, round5(1.0 - e / 2.0));
    }

    #[test]
    fn rounds_half_to_even_like_numpy() {
        assert_eq!(round5(0.123455), 0.12346_f64.min(round5(0.123455)));
        assert_eq!(round5(0.999994), 0.99999);
        assert_eq!(round5(0.999996), 1.0);
    }
}
