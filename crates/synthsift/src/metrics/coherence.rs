//! The two per-sequence parts of coherence: distinct bins per sequence and
//! sequences per bin (`_coherence.py`, `prepare_data_for_coherence`).

use rand::seq::SliceRandom;
use rayon::prelude::*;

use super::accuracy::{accuracy_from_counts, rng, streams, MarginalAccuracy, ACCURACY_BINS};
use crate::binning::Bins;
use crate::sequences::Sequences;
use crate::table::{ColumnData, Table};

/// Bins per column for coherence.
pub const COHERENCE_BINS: usize = 30;
/// At most this many rows of a sequence are looked at (a random subset).
pub const MAX_SEQUENCE_ROWS: usize = 100;
/// Bins kept per column in "sequences per category"; the rest is `(other)`.
pub const TOP_CATEGORIES: usize = 9;

/// Per sequence, the rows coherence looks at.
fn sampled_rows(table: &Table, key: &str, seed: u64, stream: u64) -> (Vec<usize>, Vec<usize>) {
    let seqs = Sequences::group(table, key);
    let mut rng = rng(seed, stream);
    let mut rows = Vec::with_capacity(seqs.rows.len());
    let mut offsets = vec![0];
    for s in 0..seqs.len() {
        let mut r = seqs.rows_of(s).to_vec();
        if r.len() > MAX_SEQUENCE_ROWS {
            r.shuffle(&mut rng);
            r.truncate(MAX_SEQUENCE_ROWS);
        }
        rows.extend(r);
        offsets.push(rows.len());
    }
    (rows, offsets)
}

/// Bit mask of the codes present in each sequence (codes are below 64:
/// at most 30 bins plus four special ones).
fn presence(codes: &[u8], offsets: &[usize]) -> Vec<u64> {
    offsets
        .windows(2)
        .map(|w| codes[w[0]..w[1]].iter().fold(0u64, |m, &c| m | 1 << c))
        .collect()
}

/// Accuracies of distinct categories per sequence and of sequences per
/// category, per data column.
pub(super) fn parts(
    original: &Table,
    synthetic: &Table,
    key: &str,
    columns: &[String],
    seed: u64,
) -> (Vec<MarginalAccuracy>, Vec<MarginalAccuracy>) {
    let (ori_rows, ori_off) = sampled_rows(original, key, seed, streams::COHERENCE_ORIGINAL);
    let (syn_rows, syn_off) = sampled_rows(synthetic, key, seed, streams::COHERENCE_SYNTHETIC);
    let ori_take: Vec<Option<usize>> = ori_rows.iter().map(|&r| Some(r)).collect();
    let syn_take: Vec<Option<usize>> = syn_rows.iter().map(|&r| Some(r)).collect();

    columns
        .par_iter()
        .map(|name| {
            let ori = original.column(name).expect("checked").data.take(&ori_take);
            let syn = synthetic
                .column(name)
                .expect("checked")
                .data
                .take(&syn_take);
            let bins = Bins::fit(&ori, COHERENCE_BINS);
            let ori_mask = presence(&bins.encode(&ori), &ori_off);
            let syn_mask = presence(&bins.encode(&syn), &syn_off);

            // Distinct bins per sequence, binned like any numeric column.
            let count =
                |m: &[u64]| ColumnData::Numeric(m.iter().map(|x| x.count_ones() as f64).collect());
            let (ori_n, syn_n) = (count(&ori_mask), count(&syn_mask));
            let count_bins = Bins::fit(&ori_n, ACCURACY_BINS);
            let k = count_bins.n_codes();
            let hist = |codes: Vec<u8>| {
                let mut h = vec![0.0; k];
                codes.into_iter().for_each(|c| h[c as usize] += 1.0);
                h
            };
            let (acc, acc_max) = accuracy_from_counts(
                &hist(count_bins.encode(&ori_n)),
                &hist(count_bins.encode(&syn_n)),
            );
            let per_sequence = MarginalAccuracy {
                columns: vec![name.clone()],
                accuracy: acc,
                accuracy_max: acc_max,
            };

            // Sequences per bin: the 9 bins found in most original
            // sequences (ties by bin order) keep their own slot; the rest
            // share `(other)`, as does the categorical `(other)` bin.
            let n_codes = bins.n_codes();
            let seqs_with = |masks: &[u64]| {
                let mut c = vec![0usize; n_codes];
                for m in masks {
                    (0..n_codes)
                        .filter(|&b| m >> b & 1 == 1)
                        .for_each(|b| c[b] += 1);
                }
                c
            };
            let ori_per_code = seqs_with(&ori_mask);
            let mut order: Vec<usize> = (0..n_codes).collect();
            order.sort_by(|&a, &b| ori_per_code[b].cmp(&ori_per_code[a]));
            let other = bins.other_code().map(usize::from);
            let mut slot_of = vec![TOP_CATEGORIES; n_codes];
            for (slot, &code) in order.iter().take(TOP_CATEGORIES).enumerate() {
                if Some(code) != other {
                    slot_of[code] = slot;
                }
            }
            let slot_counts = |masks: &[u64]| {
                let mut c = vec![0.0; TOP_CATEGORIES + 1];
                for m in masks {
                    let mut slots = 0u32;
                    (0..n_codes)
                        .filter(|&b| m >> b & 1 == 1)
                        .for_each(|b| slots |= 1 << slot_of[b]);
                    (0..=TOP_CATEGORIES)
                        .filter(|&s| slots >> s & 1 == 1)
                        .for_each(|s| c[s] += 1.0);
                }
                c
            };
            let (acc, acc_max) =
                accuracy_from_counts(&slot_counts(&ori_mask), &slot_counts(&syn_mask));
            let per_category = MarginalAccuracy {
                columns: vec![name.clone()],
                accuracy: acc,
                accuracy_max: acc_max,
            };
            (per_sequence, per_category)
        })
        .unzip()
}
