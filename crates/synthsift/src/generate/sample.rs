//! Sampling records (or sequences) from a fitted generator.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::fit::{Decoder, Generator, Parent, Picker};
use crate::table::{Column, ColumnData, Table, MISSING};

/// Records per random stream (flat data).
const CHUNK_ROWS: usize = 8_192;
/// Sequences per random stream.
const CHUNK_SEQUENCES: usize = 1_024;
/// Chunks sampled in parallel before they are handed out in order; bounds
/// the memory held at once.
const WAVE: usize = 8;

impl Generator {
    /// Samples `n` records (or `n` sequences, for a sequential model).
    pub fn sample(&self, n: usize, seed: u64) -> Table {
        let mut out: Option<Table> = None;
        let _ = self.sample_chunks(n, seed, |chunk| {
            match &mut out {
                None => out = Some(chunk),
                Some(t) => {
                    t.n_rows += chunk.n_rows;
                    for (a, b) in t.columns.iter_mut().zip(&chunk.columns) {
                        a.data.append(&b.data);
                    }
                }
            }
            Ok::<(), std::convert::Infallible>(())
        });
        out.unwrap_or_else(|| self.sample_chunk(0, 0, 0, seed))
    }

    /// Samples `n` records (or sequences) and hands them to `sink` in
    /// chunks, in order; stops at the first error `sink` returns.
    ///
    /// The concatenated chunks equal [`Generator::sample`] with the same
    /// arguments.
    pub fn sample_chunks<E: Send>(
        &self,
        n: usize,
        seed: u64,
        mut sink: impl FnMut(Table) -> Result<(), E> + Send,
    ) -> Result<(), E> {
        let per_chunk = if self.is_sequential() {
            CHUNK_SEQUENCES
        } else {
            CHUNK_ROWS
        };
        let n_chunks = n.div_ceil(per_chunk);
        let wave = |start: usize| -> Vec<Table> {
            (start..(start + WAVE).min(n_chunks))
                .into_par_iter()
                .map(|k| {
                    let first = k * per_chunk;
                    self.sample_chunk(k, first, per_chunk.min(n - first), seed)
                })
                .collect()
        };
        // The sink (typically a file writer, which is serial) takes one
        // wave while the next is being sampled.
        let mut pending: Vec<Table> = Vec::new();
        for start in (0..n_chunks).step_by(WAVE) {
            let (next, done) =
                rayon::join(|| wave(start), || pending.drain(..).try_for_each(&mut sink));
            done?;
            pending = next;
        }
        pending.into_iter().try_for_each(sink)
    }

    /// Chunk `k`: `count` records or sequences, numbered from `first`.
    fn sample_chunk(&self, k: usize, first: usize, count: usize, seed: u64) -> Table {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(k as u64);

        // 1. Bins of every cell, and the sequence of every row.
        let (codes, seq_of_row) = match &self.lengths {
            None => (self.sample_flat_codes(count, &mut rng), None),
            Some(_) => {
                let (codes, seq) = self.sample_sequence_codes(count, &mut rng);
                (codes, Some(seq))
            }
        };
        let n_rows = codes.first().map_or(0, Vec::len);

        // 2. Values within the bins.
        let mut columns: Vec<Column> = Vec::with_capacity(self.names.len());
        let mut j = 0;
        for (pos, name) in self.names.iter().enumerate() {
            let data = if Some(pos) == self.key_position {
                let seq = seq_of_row.as_deref().expect("sequential");
                self.keys(seq, first)
            } else {
                let data = decode(&self.columns[j].decoder, &codes[j], &mut rng);
                j += 1;
                data
            };
            columns.push(Column {
                name: name.clone(),
                data,
            });
        }
        Table {
            source: "generated".into(),
            n_rows,
            columns,
        }
    }

    fn sample_flat_codes(&self, count: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<u8>> {
        let mut codes: Vec<Vec<u8>> = vec![Vec::new(); self.columns.len()];
        for &j in &self.order {
            let col = &self.columns[j];
            let parents: Vec<(&[u8], usize)> = col
                .parents
                .iter()
                .zip(&col.strides)
                .map(|(p, &s)| match p {
                    Parent::Current(k) => (codes[*k].as_slice(), s),
                    _ => unreachable!("flat models have current-row parents only"),
                })
                .collect();
            let out: Vec<u8> = (0..count)
                .map(|r| {
                    let cfg: usize = parents.iter().map(|(c, s)| c[r] as usize * s).sum();
                    pick(&col.cum[cfg * col.card..(cfg + 1) * col.card], rng) as u8
                })
                .collect();
            codes[j] = out;
        }
        codes
    }

    /// Codes of `count` sequences, row after row, and the sequence (within
    /// the chunk) of every row.
    fn sample_sequence_codes(
        &self,
        count: usize,
        rng: &mut ChaCha8Rng,
    ) -> (Vec<Vec<u8>>, Vec<usize>) {
        let lm = self.lengths.as_ref().expect("sequential");
        let lengths: Vec<u32> = (0..count)
            .map(|_| lm.lengths[rng.random_range(0..lm.lengths.len())])
            .collect();
        let total: usize = lengths.iter().map(|&l| l as usize).sum();
        let mut codes: Vec<Vec<u8>> = vec![vec![0; total]; self.columns.len()];
        let mut seq_of_row = Vec::with_capacity(total);
        let mut row = 0;
        for (s, &len) in lengths.iter().enumerate() {
            let len_code = lm.bins.encode_number(len as f64) as usize;
            for i in 0..len as usize {
                for &j in &self.order {
                    let col = &self.columns[j];
                    let mut cfg = 0;
                    for (p, &stride) in col.parents.iter().zip(&col.strides) {
                        let code = match *p {
                            Parent::Current(k) => codes[k][row] as usize,
                            Parent::Previous(k) if i == 0 => self.columns[k].card,
                            Parent::Previous(k) => codes[k][row - 1] as usize,
                            Parent::Length => len_code,
                        };
                        cfg += code * stride;
                    }
                    codes[j][row] = pick(&col.cum[cfg * col.card..(cfg + 1) * col.card], rng) as u8;
                }
                seq_of_row.push(s);
                row += 1;
            }
        }
        (codes, seq_of_row)
    }

    /// Fresh group keys: sequence numbers from `first + 1` on.
    fn keys(&self, seq_of_row: &[usize], first: usize) -> ColumnData {
        if self.numeric_key {
            return ColumnData::Numeric(
                seq_of_row.iter().map(|&s| (first + s + 1) as f64).collect(),
            );
        }
        let n_seq = seq_of_row.last().map_or(0, |&s| s + 1);
        let dict = (0..n_seq)
            .map(|s| format!("s{:07}", first + s + 1))
            .collect();
        ColumnData::Categorical {
            codes: seq_of_row.iter().map(|&s| s as u32).collect(),
            dict,
        }
    }
}

/// Draws an index from cumulative weights (the last entry is the total).
fn pick(cum: &[f32], rng: &mut ChaCha8Rng) -> usize {
    let total = cum[cum.len() - 1];
    let u = rng.random::<f32>() * total;
    match cum.iter().position(|&c| u < c) {
        Some(v) => v,
        // `u` rounded up to the total: the last code with any weight.
        None => cum
            .iter()
            .position(|&c| c == total)
            .expect("total is an entry"),
    }
}

/// Values for the bins `codes` of one column.
fn decode(decoder: &Decoder, codes: &[u8], rng: &mut ChaCha8Rng) -> ColumnData {
    match decoder {
        Decoder::Numeric { pickers, decimals } => {
            let scale = decimals.map(|d| 10f64.powi(d));
            ColumnData::Numeric(
                codes
                    .iter()
                    .map(|&c| match &pickers[c as usize] {
                        Picker::Empty => f64::NAN,
                        Picker::Values(vs, cum) => vs[pick(cum, rng)],
                        Picker::Quantiles(qs) if qs.len() == 1 => qs[0],
                        Picker::Quantiles(qs) => {
                            let i = rng.random_range(0..qs.len() - 1);
                            let x = qs[i] + rng.random::<f64>() * (qs[i + 1] - qs[i]);
                            match scale {
                                Some(p) => (x * p).round() / p,
                                None => x,
                            }
                        }
                    })
                    .collect(),
            )
        }
        Decoder::Datetime { pickers, step } => ColumnData::Datetime(
            codes
                .iter()
                .map(|&c| match &pickers[c as usize] {
                    Picker::Empty => None,
                    Picker::Values(vs, cum) => Some(vs[pick(cum, rng)]),
                    Picker::Quantiles(qs) if qs.len() == 1 => Some(qs[0]),
                    Picker::Quantiles(qs) => {
                        let i = rng.random_range(0..qs.len() - 1);
                        let u = rng.random::<f64>();
                        let x = qs[i] + ((qs[i + 1] - qs[i]) as f64 * u) as i64;
                        Some(x - (x - qs[i]).rem_euclid(*step))
                    }
                })
                .collect(),
        ),
        Decoder::Categorical { dict, choices } => ColumnData::Categorical {
            codes: codes
                .iter()
                .map(|&c| {
                    let (cats, cum) = &choices[c as usize];
                    if cats.is_empty() {
                        MISSING
                    } else {
                        cats[pick(cum, rng)]
                    }
                })
                .collect(),
            dict: dict.clone(),
        },
    }
}
