//! The expected-draw objective for sequences: bins, per-sequence
//! contributions, marginals, targets and exact deltas of moves.
//!
//! The metric draws, per sequence, one row uniformly among its first
//! `len − 1` rows (the only row when `len` is 1) plus the row after it, and
//! adds a `Sequence Length` column. A sequence therefore contributes to the
//! *expected* count of every per-row marginal `1/(len − 1)` per row among
//! its first `len − 1` rows (the only row when `len` is 1), and to every
//! next-row marginal `1/(len − 1)` per consecutive pair. The two
//! per-sequence coherence parts count whole sequences: one cell of "distinct
//! bins per sequence" per column, and one cell per present slot of
//! "sequences per category".
//!
//! Each drawn-row record is stored as `width = 1 + 2d` bytes: the
//! `Sequence Length` code, the `d` drawn-row codes and the `d` next-row
//! codes. Every per-row marginal (uni-, bi-, trivariate, next-row) reads up
//! to three positions of such a record.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::binning::Bins;
use crate::codes::CodeMatrix;
use crate::pool::Encoder;
use crate::sequences::Sequences;
use crate::table::{ColumnData, Table};

/// Bins per column of the accuracy metric.
pub const ACCURACY_BINS: usize = crate::metrics::accuracy::ACCURACY_BINS;
/// Bins per column of the coherence parts.
pub const COHERENCE_BINS: usize = 30;
/// Slots with their own cell in "sequences per category" (the rest share
/// one `(other)` slot).
pub const TOP_CATEGORIES: usize = 9;
/// The metric looks at a random subset of at most this many rows per
/// sequence for coherence.
pub const MAX_SEQUENCE_ROWS: usize = 100;

/// Everything fitted on the training data to code sequences.
#[derive(Debug, Clone)]
pub struct SeqBins {
    /// Accuracy bins of the drawn row, per data column.
    pub tgt: Encoder,
    /// Accuracy bins of the row after the drawn row, per data column.
    pub nxt: Encoder,
    /// Coherence bins (30), per data column.
    pub coh: Encoder,
    /// Bins of `Sequence Length`.
    pub length: Bins,
    /// Per data column: bins of the number of distinct coherence bins per
    /// sequence.
    pub counts: Vec<Bins>,
    /// Per data column: the "sequences per category" slot of every
    /// coherence code (`TOP_CATEGORIES` is `(other)`).
    pub slot_of: Vec<Vec<u8>>,
}

/// Rows of a sequence coherence looks at: all of them, or for a longer
/// sequence a random `MAX_SEQUENCE_ROWS` of them, as the metric draws. The
/// draw is seeded by the sequence's first row, so every column of a sequence
/// sees the same rows and a run is reproducible.
fn coherence_rows(rows: &[usize]) -> std::borrow::Cow<'_, [usize]> {
    if rows.len() <= MAX_SEQUENCE_ROWS {
        return std::borrow::Cow::Borrowed(rows);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(rows[0] as u64);
    let mut r = rows.to_vec();
    for i in 0..MAX_SEQUENCE_ROWS {
        let j = rng.random_range(i..r.len());
        r.swap(i, j);
    }
    r.truncate(MAX_SEQUENCE_ROWS);
    std::borrow::Cow::Owned(r)
}

fn presence(codes: &[u8], rows: &[usize]) -> u64 {
    coherence_rows(rows)
        .iter()
        .fold(0u64, |m, &r| m | 1u64 << (codes[r] & 63))
}

impl SeqBins {
    /// Fits the bins on `training` grouped by `key`.
    ///
    /// The metric fits its drawn-row and next-row bins on one random draw
    /// of the original; here they are fitted on `draws` seeded draws
    /// together, a closer estimate of the quantiles the metric will find.
    pub fn fit(training: &Table, key: &str, seed: u64, draws: usize) -> SeqBins {
        let seqs = Sequences::group(training, key);
        let data: Vec<&crate::table::Column> =
            training.columns.iter().filter(|c| c.name != key).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(11);
        let mut first = Vec::new();
        let mut next = Vec::new();
        for _ in 0..draws.max(1) {
            for s in 0..seqs.len() {
                let rows = seqs.rows_of(s);
                let i = ((rows.len() - 1) as f64 * rng.random::<f64>()) as usize;
                first.push(Some(rows[i]));
                next.push(rows.get(i + 1).copied());
            }
        }
        let columns: Vec<String> = data.iter().map(|c| c.name.clone()).collect();
        let kinds: Vec<_> = data.iter().map(|c| c.data.kind()).collect();
        let tgt = Encoder {
            columns: columns.clone(),
            kinds: kinds.clone(),
            bins: data
                .iter()
                .map(|c| Bins::fit(&c.data.take(&first), ACCURACY_BINS))
                .collect(),
        };
        let nxt = Encoder {
            columns: columns.clone(),
            kinds: kinds.clone(),
            bins: data
                .iter()
                .map(|c| Bins::fit(&c.data.take(&next), ACCURACY_BINS))
                .collect(),
        };
        let coh = Encoder::fit(training, Some(key), COHERENCE_BINS);
        let lengths: Vec<f64> = (0..seqs.len())
            .map(|s| seqs.rows_of(s).len() as f64)
            .collect();
        let length = Bins::fit(&ColumnData::Numeric(lengths), ACCURACY_BINS);

        let coh_codes = coh.encode_table(training);
        let mut counts = Vec::new();
        let mut slot_of = Vec::new();
        for (j, codes) in coh_codes.columns.iter().enumerate() {
            let masks: Vec<u64> = (0..seqs.len())
                .map(|s| presence(codes, seqs.rows_of(s)))
                .collect();
            let n: Vec<f64> = masks.iter().map(|m| m.count_ones() as f64).collect();
            counts.push(Bins::fit(&ColumnData::Numeric(n), ACCURACY_BINS));
            let n_codes = coh.bins[j].n_codes();
            let mut per_code = vec![0usize; n_codes];
            for m in &masks {
                (0..n_codes)
                    .filter(|&b| m >> b & 1 == 1)
                    .for_each(|b| per_code[b] += 1);
            }
            let mut order: Vec<usize> = (0..n_codes).collect();
            order.sort_by(|&a, &b| per_code[b].cmp(&per_code[a]));
            let other = coh.bins[j].other_code().map(usize::from);
            let mut slots = vec![TOP_CATEGORIES as u8; n_codes];
            for (slot, &code) in order.iter().take(TOP_CATEGORIES).enumerate() {
                if Some(code) != other {
                    slots[code] = slot as u8;
                }
            }
            slot_of.push(slots);
        }
        SeqBins {
            tgt,
            nxt,
            coh,
            length,
            counts,
            slot_of,
        }
    }

    /// Number of data columns.
    pub fn n_columns(&self) -> usize {
        self.tgt.columns.len()
    }

    /// Cardinality of every position of a drawn-row record.
    pub fn record_cardinalities(&self) -> Vec<usize> {
        std::iter::once(self.length.n_codes())
            .chain(self.tgt.bins.iter().map(Bins::n_codes))
            .chain(self.nxt.bins.iter().map(Bins::n_codes))
            .collect()
    }
}

/// Sequences reduced to what the objective needs.
#[derive(Debug, Clone)]
pub struct SeqCodes {
    /// Data columns `d`.
    pub d: usize,
    /// Bytes per drawn-row record: `1 + 2d`.
    pub width: usize,
    /// Records of sequence `s`: `frame_off[s]..frame_off[s + 1]`.
    pub frame_off: Vec<u32>,
    /// Drawn-row records, `width` bytes each.
    pub frame: Vec<u8>,
    /// Weight of each record of a sequence: `1 / (number of records)`.
    pub weight: Vec<f64>,
    /// Per sequence and data column, the bin of its distinct-bin count.
    pub count_code: Vec<u8>,
    /// Per sequence and data column, the bit set of its category slots.
    pub slots: Vec<u16>,
    /// Per sequence, the record positions whose code is the same in all its
    /// records (a marginal over only such positions has one cell).
    pub const_mask: Vec<u32>,
}

impl SeqCodes {
    /// Codes the sequences `seqs` of a table whose rows were binned into
    /// `tgt`, `nxt` and `coh` with `bins`.
    pub fn build(
        bins: &SeqBins,
        tgt: &CodeMatrix,
        nxt: &CodeMatrix,
        coh: &CodeMatrix,
        seqs: &Sequences,
    ) -> SeqCodes {
        let d = bins.n_columns();
        let width = 1 + 2 * d;
        let n = seqs.len();
        let mut frame_off = Vec::with_capacity(n + 1);
        frame_off.push(0u32);
        let mut frame = Vec::with_capacity(seqs.rows.len() * width);
        let mut weight = Vec::with_capacity(n);
        let mut count_code = Vec::with_capacity(n * d);
        let mut slots = Vec::with_capacity(n * d);
        let na: Vec<u8> = bins.nxt.bins.iter().map(Bins::na_code).collect();
        let mut const_mask = Vec::with_capacity(n);
        for s in 0..n {
            let rows = seqs.rows_of(s);
            let len_code = bins.length.encode_number(rows.len() as f64);
            let n_rec = (rows.len() - 1).max(1);
            for i in 0..n_rec {
                frame.push(len_code);
                frame.extend(tgt.columns.iter().map(|c| c[rows[i]]));
                match rows.get(i + 1) {
                    Some(&r) => frame.extend(nxt.columns.iter().map(|c| c[r])),
                    None => frame.extend_from_slice(&na),
                }
            }
            frame_off.push((frame.len() / width) as u32);
            weight.push(1.0 / n_rec as f64);
            let recs = &frame[frame.len() - n_rec * width..];
            let mut mask = 0u32;
            for p in 0..width.min(32) {
                if recs.chunks_exact(width).all(|r| r[p] == recs[p]) {
                    mask |= 1 << p;
                }
            }
            const_mask.push(mask);
            for j in 0..d {
                let mask = presence(&coh.columns[j], rows);
                count_code.push(bins.counts[j].encode_number(mask.count_ones() as f64));
                let mut sl = 0u16;
                let mut m = mask;
                while m != 0 {
                    let b = m.trailing_zeros() as usize;
                    m &= m - 1;
                    let slot = bins.slot_of[j]
                        .get(b)
                        .copied()
                        .unwrap_or(TOP_CATEGORIES as u8);
                    sl |= 1 << slot;
                }
                slots.push(sl);
            }
        }
        SeqCodes {
            d,
            width,
            frame_off,
            frame,
            weight,
            count_code,
            slots,
            const_mask,
        }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    /// Whether there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }

    /// The `Sequence Length` code of sequence `s`.
    #[inline]
    pub fn length_code(&self, s: usize) -> u8 {
        self.frame[self.frame_off[s] as usize * self.width]
    }

    #[inline(always)]
    fn records(&self, s: usize) -> &[u8] {
        let (a, b) = (self.frame_off[s] as usize, self.frame_off[s + 1] as usize);
        &self.frame[a * self.width..b * self.width]
    }
}

/// Groups rows by key fingerprints (one per row; `skip` marks missing
/// keys), in order of first appearance, rows in file order.
pub fn group_by_hash(keys: &[u64], skip: Option<u64>) -> Sequences {
    let mut slot: HashMap<u64, u32> = HashMap::new();
    let mut seq_of = Vec::with_capacity(keys.len());
    let mut sizes: Vec<usize> = Vec::new();
    for &k in keys {
        if Some(k) == skip {
            seq_of.push(u32::MAX);
            continue;
        }
        let s = *slot.entry(k).or_insert_with(|| {
            sizes.push(0);
            (sizes.len() - 1) as u32
        });
        sizes[s as usize] += 1;
        seq_of.push(s);
    }
    let mut offsets = Vec::with_capacity(sizes.len() + 1);
    offsets.push(0);
    for &n in &sizes {
        offsets.push(offsets.last().unwrap() + n);
    }
    let mut fill = offsets.clone();
    let mut rows = vec![0usize; *offsets.last().unwrap()];
    for (r, &s) in seq_of.iter().enumerate() {
        if s != u32::MAX {
            rows[fill[s as usize]] = r;
            fill[s as usize] += 1;
        }
    }
    Sequences { offsets, rows }
}

/// Fingerprint of a sequence: its rows' fingerprints in order.
pub fn sequence_fingerprints(row_prints: &[u64], seqs: &Sequences) -> Vec<u64> {
    (0..seqs.len())
        .map(|s| {
            let mut h = DefaultHasher::new();
            let rows = seqs.rows_of(s);
            rows.len().hash(&mut h);
            rows.iter().for_each(|&r| row_prints[r].hash(&mut h));
            h.finish()
        })
        .collect()
}

/// Marginal families, as the metric averages them.
pub(crate) const UNI: usize = 0;
pub(crate) const BI: usize = 1;
pub(crate) const TRI: usize = 2;
pub(crate) const NEXT: usize = 3;
pub(crate) const COUNT: usize = 4;
pub(crate) const SLOT: usize = 5;
pub(crate) const FAMILIES: usize = 6;

/// A marginal over up to three positions of a drawn-row record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowMarg {
    /// Bit set of the positions (for the constant-position shortcut).
    pub mask: u32,
    pub pos: [u16; 3],
    pub stride: [u32; 3],
    pub off: u32,
    pub n_cells: u32,
    pub fam: u8,
}

/// A per-sequence coherence marginal of data column `col`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeqMarg {
    pub col: u16,
    pub off: u32,
    pub n_cells: u32,
    pub fam: u8,
}

/// The objective: marginals, their cells and weights.
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) row: Vec<RowMarg>,
    pub(crate) seq: Vec<SeqMarg>,
    pub(crate) row_w: Vec<f64>,
    pub(crate) seq_w: Vec<f64>,
    pub(crate) n_cells: usize,
    /// Marginals per family.
    pub counts: [usize; FAMILIES],
}

impl Model {
    /// All per-row marginals over the `Sequence Length` and data columns
    /// (uni, bi, up to `max_triples` seeded triples), the next-row
    /// marginals and the per-sequence coherence marginals.
    pub fn new(bins: &SeqBins, max_triples: usize, seed: u64) -> Model {
        let d = bins.n_columns();
        let card = bins.record_cardinalities();
        let n_tgt = d + 1;
        let mut row = Vec::new();
        let mut off = 0u32;
        let mut push = |pos: &[usize], fam: usize, row: &mut Vec<RowMarg>| {
            let mut p = [0u16; 3];
            let mut stride = [0u32; 3];
            let mut s = 1u32;
            let mask = pos
                .iter()
                .fold(0u32, |m, &q| if q < 32 { m | 1 << q } else { m | 1 << 31 });
            for k in (0..pos.len()).rev() {
                p[k] = pos[k] as u16;
                stride[k] = s;
                s *= card[pos[k]] as u32;
            }
            row.push(RowMarg {
                mask,
                pos: p,
                stride,
                off,
                n_cells: s,
                fam: fam as u8,
            });
            off += s;
        };
        for a in 0..n_tgt {
            push(&[a], UNI, &mut row);
        }
        for a in 0..n_tgt {
            for b in a + 1..n_tgt {
                push(&[a, b], BI, &mut row);
            }
        }
        let mut triples = Vec::new();
        for a in 0..n_tgt {
            for b in a + 1..n_tgt {
                for c in b + 1..n_tgt {
                    triples.push([a, b, c]);
                }
            }
        }
        if triples.len() > max_triples {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(12);
            triples.shuffle(&mut rng);
            triples.truncate(max_triples);
            triples.sort();
        }
        for t in &triples {
            push(t, TRI, &mut row);
        }
        for j in 0..d {
            push(&[1 + j, 1 + d + j], NEXT, &mut row);
        }
        let mut seq = Vec::new();
        for j in 0..d {
            let n = bins.counts[j].n_codes() as u32;
            seq.push(SeqMarg {
                col: j as u16,
                off,
                n_cells: n,
                fam: COUNT as u8,
            });
            off += n;
        }
        for j in 0..d {
            let n = TOP_CATEGORIES as u32 + 1;
            seq.push(SeqMarg {
                col: j as u16,
                off,
                n_cells: n,
                fam: SLOT as u8,
            });
            off += n;
        }
        let mut counts = [0usize; FAMILIES];
        row.iter().for_each(|m| counts[m.fam as usize] += 1);
        seq.iter().for_each(|m| counts[m.fam as usize] += 1);
        Model {
            row_w: vec![0.0; row.len()],
            seq_w: vec![0.0; seq.len()],
            row,
            seq,
            n_cells: off as usize,
            counts,
        }
    }

    /// Target counts: the training sequences' expected counts scaled to
    /// `size` sequences. Also sets the marginal weights so that the
    /// objective is the mean over the metric's families of the mean total
    /// variation distance (≈ 1 − expected overall accuracy).
    pub fn targets(&mut self, training: &SeqCodes, size: usize) -> Vec<f64> {
        let mut t = vec![0.0; self.n_cells];
        for s in 0..training.len() {
            self.apply(training, &mut t, s, -1.0);
        }
        // Removing (sign −1) raises a residual: t holds the training counts.
        let scale = size as f64 / training.len().max(1) as f64;
        t.iter_mut().for_each(|x| *x *= scale);
        let family_w = |fam: usize, counts: &[usize; FAMILIES]| -> f64 {
            match fam {
                UNI | BI | TRI => 0.25 / counts[fam] as f64,
                _ => 0.25 / 3.0 / counts[fam] as f64,
            }
        };
        let n = size as f64;
        for (m, rm) in self.row.iter().enumerate() {
            self.row_w[m] = family_w(rm.fam as usize, &self.counts) * 0.5 / n;
        }
        for (m, sm) in self.seq.iter().enumerate() {
            let total = if sm.fam as usize == SLOT {
                let a = sm.off as usize;
                t[a..a + sm.n_cells as usize].iter().sum::<f64>().max(1e-9)
            } else {
                n
            };
            self.seq_w[m] = family_w(sm.fam as usize, &self.counts) * 0.5 / total;
        }
        t
    }

    /// Adds (`sign` = 1) or removes (−1) sequence `s` of `codes` to the
    /// selection whose residuals (target − counts) are `r`.
    pub fn apply(&self, codes: &SeqCodes, r: &mut [f64], s: usize, sign: f64) {
        self.for_each_entry(codes, s, sign, |_, cell, x| r[cell as usize] -= x);
    }

    /// As [`Model::apply`], keeping a single-precision copy `r32` of `r`
    /// (used for fast screening) equal to `r` rounded.
    pub fn apply_both(
        &self,
        codes: &SeqCodes,
        r: &mut [f64],
        r32: &mut [f32],
        s: usize,
        sign: f64,
    ) {
        self.for_each_entry(codes, s, sign, |_, cell, x| {
            let c = cell as usize;
            r[c] -= x;
            r32[c] = r[c] as f32;
        });
    }

    /// Calls `f(marginal, cell, amount)` for every cell sequence `s`
    /// contributes to (`marginal` indexes row marginals, then sequence
    /// marginals); `amount` is the change of the count, times `sign`.
    #[inline]
    pub(crate) fn for_each_entry(
        &self,
        codes: &SeqCodes,
        s: usize,
        sign: f64,
        mut f: impl FnMut(usize, u32, f64),
    ) {
        let amt = sign * codes.weight[s];
        let recs = codes.records(s);
        let cm = codes.const_mask[s];
        let whole = sign * (codes.weight[s] * (recs.len() / codes.width) as f64);
        for (m, rm) in self.row.iter().enumerate() {
            if cm & rm.mask == rm.mask {
                f(m, row_cell(rm, recs), whole);
                continue;
            }
            for rec in recs.chunks_exact(codes.width) {
                f(m, row_cell(rm, rec), amt);
            }
        }
        let nr = self.row.len();
        let d = codes.d;
        for (m, sm) in self.seq.iter().enumerate() {
            let j = sm.col as usize;
            if sm.fam as usize == COUNT {
                f(nr + m, sm.off + codes.count_code[s * d + j] as u32, sign);
            } else {
                let mut bits = codes.slots[s * d + j];
                while bits != 0 {
                    let b = bits.trailing_zeros();
                    bits &= bits - 1;
                    f(nr + m, sm.off + b, sign);
                }
            }
        }
    }

    /// The normalised objective of residuals `r`.
    pub fn objective(&self, r: &[f64]) -> f64 {
        let mut total = 0.0;
        for (m, rm) in self.row.iter().enumerate() {
            let a = rm.off as usize;
            total += self.row_w[m]
                * r[a..a + rm.n_cells as usize]
                    .iter()
                    .map(|x| x.abs())
                    .sum::<f64>();
        }
        for (m, sm) in self.seq.iter().enumerate() {
            let a = sm.off as usize;
            total += self.seq_w[m]
                * r[a..a + sm.n_cells as usize]
                    .iter()
                    .map(|x| x.abs())
                    .sum::<f64>();
        }
        total
    }

    /// Per family, the mean total variation distance of residuals `r`.
    pub fn family_objectives(&self, r: &[f64]) -> [f64; FAMILIES] {
        let mut out = [0.0; FAMILIES];
        let scale = |fam: usize| match fam {
            UNI | BI | TRI => 4.0,
            _ => 12.0,
        };
        let marginals = self
            .row
            .iter()
            .zip(&self.row_w)
            .map(|(rm, &w)| (rm.fam, rm.off, rm.n_cells, w))
            .chain(
                self.seq
                    .iter()
                    .zip(&self.seq_w)
                    .map(|(sm, &w)| (sm.fam, sm.off, sm.n_cells, w)),
            );
        for (fam, off, n_cells, w) in marginals {
            let a = off as usize;
            out[fam as usize] += scale(fam as usize)
                * w
                * r[a..a + n_cells as usize]
                    .iter()
                    .map(|x| x.abs())
                    .sum::<f64>();
        }
        out
    }

    /// The exact change of the objective when the sequences of `changes`
    /// (`(sequence, +1 add / −1 remove)`) are moved together.
    pub fn delta<T: Copy + Into<f64>>(
        &self,
        codes: &SeqCodes,
        r: &[T],
        changes: &[(u32, f64)],
        buf: &mut Vec<(u32, f64)>,
    ) -> f64 {
        let mut total = self.seq_delta(codes, r, changes, buf);
        for m in 0..self.row.len() {
            total += self.row_delta(m, codes, r, changes, buf);
        }
        total
    }

    /// As [`Model::delta`], but gives up (`None`) when the change over the
    /// per-sequence marginals and the first `n_screen` row marginals of
    /// `order` exceeds `tau`: a cheap screen for moves that will not pay.
    #[allow(clippy::too_many_arguments)]
    pub fn screened_delta<T: Copy + Into<f64>>(
        &self,
        codes: &SeqCodes,
        r: &[T],
        changes: &[(u32, f64)],
        buf: &mut Vec<(u32, f64)>,
        order: &[u32],
        n_screen: usize,
        tau: f64,
    ) -> Option<f64> {
        let mut total = self.seq_delta(codes, r, changes, buf);
        for (k, &m) in order.iter().enumerate() {
            if k == n_screen && total > tau {
                return None;
            }
            total += self.row_delta(m as usize, codes, r, changes, buf);
        }
        Some(total)
    }

    #[inline]
    fn row_delta<T: Copy + Into<f64>>(
        &self,
        m: usize,
        codes: &SeqCodes,
        r: &[T],
        changes: &[(u32, f64)],
        buf: &mut Vec<(u32, f64)>,
    ) -> f64 {
        let rm = &self.row[m];
        buf.clear();
        for &(s, sign) in changes {
            let s = s as usize;
            let recs = codes.records(s);
            if codes.const_mask[s] & rm.mask == rm.mask {
                let whole = sign * (codes.weight[s] * (recs.len() / codes.width) as f64);
                buf.push((row_cell(rm, recs), whole));
                continue;
            }
            let amt = sign * codes.weight[s];
            for rec in recs.chunks_exact(codes.width) {
                buf.push((row_cell(rm, rec), amt));
            }
        }
        self.row_w[m] * sum_change(r, buf)
    }

    #[inline]
    fn seq_delta<T: Copy + Into<f64>>(
        &self,
        codes: &SeqCodes,
        r: &[T],
        changes: &[(u32, f64)],
        buf: &mut Vec<(u32, f64)>,
    ) -> f64 {
        let d = codes.d;
        let mut total = 0.0;
        for (m, sm) in self.seq.iter().enumerate() {
            buf.clear();
            let j = sm.col as usize;
            for &(s, sign) in changes {
                let s = s as usize;
                if sm.fam as usize == COUNT {
                    buf.push((sm.off + codes.count_code[s * d + j] as u32, sign));
                } else {
                    let mut bits = codes.slots[s * d + j];
                    while bits != 0 {
                        let b = bits.trailing_zeros();
                        bits &= bits - 1;
                        buf.push((sm.off + b, sign));
                    }
                }
            }
            total += self.seq_w[m] * sum_change(r, buf);
        }
        total
    }

    /// A seeded order of the row marginals with the families interleaved.
    pub fn screen_order(&self, seed: u64) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.row.len() as u32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(13);
        order.shuffle(&mut rng);
        order
    }
}

#[inline(always)]
pub(crate) fn row_cell(rm: &RowMarg, rec: &[u8]) -> u32 {
    rm.off
        + rec[rm.pos[0] as usize] as u32 * rm.stride[0]
        + rec[rm.pos[1] as usize] as u32 * rm.stride[1]
        + rec[rm.pos[2] as usize] as u32 * rm.stride[2]
}

/// `Σ_c |r_c − x_c| − |r_c|` over the distinct cells of `buf` (changes of
/// counts, merged per cell).
#[inline]
fn sum_change<T: Copy + Into<f64>>(r: &[T], buf: &mut [(u32, f64)]) -> f64 {
    if buf.len() > 24 {
        buf.sort_unstable_by_key(|e| e.0);
        let mut d = 0.0;
        let mut i = 0;
        while i < buf.len() {
            let c = buf[i].0;
            let mut x = 0.0;
            while i < buf.len() && buf[i].0 == c {
                x += buf[i].1;
                i += 1;
            }
            let rc: f64 = r[c as usize].into();
            d += (rc - x).abs() - rc.abs();
        }
        return d;
    }
    // Merge in place.
    let mut n = 0;
    for i in 0..buf.len() {
        let (c, x) = buf[i];
        match buf[..n].iter_mut().find(|e| e.0 == c) {
            Some(e) => e.1 += x,
            None => {
                buf[n] = (c, x);
                n += 1;
            }
        }
    }
    buf[..n]
        .iter()
        .map(|&(c, x)| {
            let rc: f64 = r[c as usize].into();
            (rc - x).abs() - rc.abs()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_sequences_show_a_random_hundred_rows_to_coherence() {
        // 300 rows: the first 100 have code 1, the rest code 2. A random
        // hundred sees both; the first hundred would see only code 1.
        let codes: Vec<u8> = (0..300).map(|i| if i < 100 { 1 } else { 2 }).collect();
        let rows: Vec<usize> = (0..300).collect();
        let picked = coherence_rows(&rows);
        assert_eq!(picked.len(), MAX_SEQUENCE_ROWS);
        let mut distinct = picked.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), MAX_SEQUENCE_ROWS);
        assert_eq!(presence(&codes, &rows), 0b110);
        // the same sequence always shows the same rows
        assert_eq!(coherence_rows(&rows), picked);
        // short sequences are seen whole
        assert_eq!(presence(&codes[..50], &rows[..50]), 0b10);
        assert_eq!(coherence_rows(&rows[..100]).len(), 100);
    }
}
