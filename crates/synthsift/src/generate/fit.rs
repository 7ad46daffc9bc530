//! Fitting: binning, the network structure and the conditional tables.

use rayon::prelude::*;

use super::{GenerateError, GeneratorOptions};
use crate::binning::{Bins, MIN_CATEGORY_COUNT};
use crate::sequences::Sequences;
use crate::table::{ColumnData, Table, ValueType, MISSING};

/// Conditional tables are kept below this many cells per column, which
/// bounds memory and keeps the tables from being mostly empty.
const MAX_CELLS: usize = 1 << 16;

/// The structure is learnt on at most this many rows (evenly spread over
/// the training data); more change the chosen parents little and cost
/// time. Conditional tables use all rows.
const STRUCTURE_ROWS: usize = 40_000;

/// Bins of the sequence length when it serves as a parent.
const LENGTH_BINS: usize = 10;

/// A parent is only added when it brings at least this much mutual
/// information (nats) beyond its small-sample bias.
const MIN_GAIN: f64 = 0.002;

/// A column whose distinct values exceed this many per bin counts as
/// continuous: its values are interpolated rather than resampled.
const CONTINUOUS_PER_BIN: usize = 4;

/// A fitted generator; see the [module documentation](super).
#[derive(Debug, Clone)]
pub struct Generator {
    /// Output column names, in the training's order (group key included).
    pub(super) names: Vec<String>,
    /// Position of the group key among `names`.
    pub(super) key_position: Option<usize>,
    /// Whether group keys are numbers (else text).
    pub(super) numeric_key: bool,
    /// The data columns (every column but the key), in table order.
    pub(super) columns: Vec<ColumnModel>,
    /// Sampling order over `columns`.
    pub(super) order: Vec<usize>,
    /// Training sequence lengths and their bins, for sequences.
    pub(super) lengths: Option<LengthModel>,
}

#[derive(Debug, Clone)]
pub(super) struct LengthModel {
    pub lengths: Vec<u32>,
    pub bins: Bins,
}

/// Where a parent's bin comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parent {
    /// Column `j` of the same row.
    Current(usize),
    /// Column `j` of the previous row (its cardinality plus one "start"
    /// code for a sequence's first row).
    Previous(usize),
    /// The binned length of the sequence.
    Length,
}

#[derive(Debug, Clone)]
pub(super) struct ColumnModel {
    /// Number of codes, missing included.
    pub card: usize,
    pub parents: Vec<Parent>,
    /// Multiplier of each parent's code in the configuration index.
    pub strides: Vec<usize>,
    /// Cumulative probabilities: `cum[config * card + code]`.
    pub cum: Vec<f32>,
    pub decoder: Decoder,
    pub value_type: ValueType,
}

#[derive(Debug, Clone)]
pub(super) enum Decoder {
    Numeric {
        /// How to draw a value of each code.
        pickers: Vec<Picker<f64>>,
        /// Decimals all training values have at most.
        decimals: Option<i32>,
    },
    Datetime {
        pickers: Vec<Picker<i64>>,
        /// The coarsest time step all training values are multiples of.
        step: i64,
    },
    Categorical {
        /// The categories that may be emitted (rare ones left out, the
        /// placeholder added when needed).
        dict: Vec<String>,
        /// Per code: categories (indices into `dict`) and cumulative
        /// frequencies; empty for missing.
        choices: Vec<(Vec<u32>, Vec<f32>)>,
    },
}

/// Quantiles kept per bin of a continuous column. A few dozen describe
/// the distribution within a bin closely, and unlike all training values
/// they stay in cache while sampling.
const QUANTILES: usize = 64;

/// How the values of one bin are drawn.
#[derive(Debug, Clone)]
pub(super) enum Picker<T> {
    /// No training values (the missing bin, or an unused one).
    Empty,
    /// Equal-mass quantiles of the bin's training values: a value is drawn
    /// uniformly between two neighbouring quantiles.
    Quantiles(Vec<T>),
    /// The bin's distinct training values and their cumulative frequencies.
    Values(Vec<T>, Vec<f32>),
}

impl<T: Copy + PartialEq> Picker<T> {
    /// From the sorted training values of a bin.
    fn new(sorted: &[T], interpolate: bool) -> Picker<T> {
        let n = sorted.len();
        if n == 0 {
            return Picker::Empty;
        }
        if interpolate {
            let q = QUANTILES.min(n - 1).max(1);
            let points = (0..=q).map(|i| sorted[i * (n - 1) / q]).collect();
            return Picker::Quantiles(points);
        }
        let mut values = Vec::new();
        let mut cum = Vec::new();
        for (i, &v) in sorted.iter().enumerate() {
            if values.last() != Some(&v) {
                values.push(v);
                cum.push(0.0);
            }
            *cum.last_mut().expect("pushed") = (i + 1) as f32 / n as f32;
        }
        Picker::Values(values, cum)
    }
}

/// The variables the structure is learnt over: one code vector per
/// variable, all of the same length (training rows).
struct Variables {
    current: Vec<Vec<u8>>,
    cards: Vec<usize>,
    previous: Vec<Vec<u8>>,
    length: Option<(Vec<u8>, usize)>,
}

impl Variables {
    fn codes(&self, p: Parent) -> &[u8] {
        match p {
            Parent::Current(j) => &self.current[j],
            Parent::Previous(j) => &self.previous[j],
            Parent::Length => &self.length.as_ref().expect("sequential").0,
        }
    }

    fn card(&self, p: Parent) -> usize {
        match p {
            Parent::Current(j) => self.cards[j],
            Parent::Previous(j) => self.cards[j] + 1,
            Parent::Length => self.length.as_ref().expect("sequential").1,
        }
    }
}

impl Generator {
    /// Learns the model from `training`.
    pub fn fit(training: &Table, opts: &GeneratorOptions) -> Result<Generator, GenerateError> {
        let file = training.source.display().to_string();
        if opts.bins < 2 || opts.bins > 200 {
            return Err(GenerateError::InvalidOption(format!(
                "bins must be between 2 and 200, not {}",
                opts.bins
            )));
        }
        if training.n_rows == 0 {
            return Err(GenerateError::NoRecords { file });
        }

        // 1. Which rows, in which order: all rows, or the rows of every
        //    sequence one after the other.
        let mut key_position = None;
        let mut numeric_key = false;
        let (rows, lengths): (Option<Vec<usize>>, Option<Vec<u32>>) = match &opts.group_key {
            None => (None, None),
            Some(key) => {
                let Some(k) = training.column_index(key) else {
                    return Err(GenerateError::MissingGroupKey {
                        file,
                        key: key.clone(),
                    });
                };
                match training.columns[k].data {
                    ColumnData::Datetime(_) => {
                        return Err(GenerateError::DatetimeGroupKey {
                            file,
                            key: key.clone(),
                        })
                    }
                    ColumnData::Numeric(_) => numeric_key = true,
                    ColumnData::Categorical { .. } => {}
                }
                key_position = Some(k);
                let seqs = Sequences::group(training, key);
                if seqs.is_empty() {
                    return Err(GenerateError::NoRecords { file });
                }
                let lengths = (0..seqs.len())
                    .map(|s| seqs.rows_of(s).len() as u32)
                    .collect();
                (Some(seqs.rows.clone()), Some(lengths))
            }
        };
        let data_idx: Vec<usize> = (0..training.columns.len())
            .filter(|&j| Some(j) != key_position)
            .collect();
        if data_idx.is_empty() {
            return Err(GenerateError::NoColumns { file });
        }

        // 2. Bin every data column and build its value decoder.
        let binned: Vec<(Vec<u8>, usize, Decoder, ValueType)> = data_idx
            .par_iter()
            .map(|&j| bin_column(&training.columns[j].data, rows.as_deref(), opts.bins))
            .collect();
        let mut vars = Variables {
            current: Vec::with_capacity(binned.len()),
            cards: Vec::with_capacity(binned.len()),
            previous: Vec::new(),
            length: None,
        };
        let mut decoders = Vec::with_capacity(binned.len());
        for (codes, card, decoder, t) in binned {
            vars.current.push(codes);
            vars.cards.push(card);
            decoders.push((decoder, t));
        }

        // 3. For sequences: previous-row codes and binned lengths.
        let length_model = lengths.map(|lengths| {
            let as_f64 = ColumnData::Numeric(lengths.iter().map(|&l| l as f64).collect());
            let bins = Bins::fit(&as_f64, LENGTH_BINS);
            let mut per_row = Vec::with_capacity(vars.current[0].len());
            for &l in &lengths {
                let code = bins.encode_number(l as f64);
                per_row.extend(std::iter::repeat_n(code, l as usize));
            }
            vars.previous = vars
                .current
                .iter()
                .zip(&vars.cards)
                .map(|(codes, &card)| {
                    let mut prev = Vec::with_capacity(codes.len());
                    let mut pos = 0;
                    for &l in &lengths {
                        prev.push(card as u8);
                        prev.extend_from_slice(&codes[pos..pos + l as usize - 1]);
                        pos += l as usize;
                    }
                    prev
                })
                .collect();
            let n_length_codes = bins.n_codes();
            vars.length = Some((per_row, n_length_codes));
            LengthModel { lengths, bins }
        });

        // 4. Structure: an order along the maximum spanning tree of pairwise
        //    mutual information, then parents by greedy information gain.
        let m = vars.current.len();
        let n = vars.current[0].len();
        let sample_vars;
        let svars = if n > STRUCTURE_ROWS {
            let pick: Vec<usize> = (0..STRUCTURE_ROWS)
                .map(|i| i * n / STRUCTURE_ROWS)
                .collect();
            let take = |v: &Vec<u8>| pick.iter().map(|&i| v[i]).collect::<Vec<u8>>();
            sample_vars = Variables {
                current: vars.current.iter().map(take).collect(),
                cards: vars.cards.clone(),
                previous: vars.previous.iter().map(take).collect(),
                length: vars.length.as_ref().map(|(v, c)| (take(v), *c)),
            };
            &sample_vars
        } else {
            &vars
        };
        let n_structure = svars.current[0].len();
        let pairs: Vec<(usize, usize)> = (0..m)
            .flat_map(|a| (a + 1..m).map(move |b| (a, b)))
            .collect();
        let mi_values: Vec<f64> = pairs
            .par_iter()
            .map(|&(a, b)| {
                mutual_information(
                    &[&svars.current[a]],
                    &[svars.cards[a]],
                    &svars.current[b],
                    svars.cards[b],
                )
            })
            .collect();
        let mut mi = vec![0.0; m * m];
        for (&(a, b), &v) in pairs.iter().zip(&mi_values) {
            mi[a * m + b] = v;
            mi[b * m + a] = v;
        }
        let order = spanning_tree_order(&mi, m);
        let mut position = vec![0; m];
        for (p, &j) in order.iter().enumerate() {
            position[j] = p;
        }
        let parents: Vec<Vec<Parent>> = (0..m)
            .into_par_iter()
            .map(|j| {
                let mut candidates: Vec<Parent> = order[..position[j]]
                    .iter()
                    .map(|&k| Parent::Current(k))
                    .collect();
                let mut forced = Vec::new();
                if svars.length.is_some() {
                    forced.push(Parent::Previous(j));
                    candidates.push(Parent::Length);
                    candidates.extend((0..m).filter(|&k| k != j).map(Parent::Previous));
                }
                choose_parents(svars, j, forced, candidates, opts.max_parents, n_structure)
            })
            .collect();

        // 5. Conditional tables.
        let columns: Vec<ColumnModel> = parents
            .into_par_iter()
            .zip(decoders)
            .enumerate()
            .map(|(j, (parents, (decoder, value_type)))| {
                let card = vars.cards[j];
                let mut strides = Vec::with_capacity(parents.len());
                let mut configs = 1;
                for &p in &parents {
                    strides.push(configs);
                    configs *= vars.card(p);
                }
                let cum = conditional_table(&vars, j, &parents, &strides, configs, opts.smoothing);
                ColumnModel {
                    card,
                    parents,
                    strides,
                    cum,
                    decoder,
                    value_type,
                }
            })
            .collect();

        let names = training.columns.iter().map(|c| c.name.clone()).collect();
        let generator = Generator {
            names,
            key_position,
            numeric_key,
            columns,
            order,
            lengths: length_model,
        };
        tracing::info!(
            "fitted a network over {} columns on {} rows ({} parents in all)",
            m,
            n,
            generator
                .columns
                .iter()
                .map(|c| c.parents.len())
                .sum::<usize>()
        );
        for &j in &generator.order {
            tracing::debug!(
                "column {:?}: {} bins, parents {}",
                generator.names[data_idx[j]],
                generator.columns[j].card,
                generator.describe_parents(j, &data_idx)
            );
        }
        Ok(generator)
    }

    /// Column names of sampled tables, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How each output column is stored, in order (for a
    /// [`crate::table::TableWriter`]).
    pub fn value_types(&self) -> Vec<ValueType> {
        let mut types: Vec<ValueType> = self.columns.iter().map(|c| c.value_type).collect();
        if let Some(k) = self.key_position {
            let t = if self.numeric_key {
                ValueType::Integer
            } else {
                ValueType::Text
            };
            types.insert(k, t);
        }
        types
    }

    /// Whether the model samples sequences.
    pub fn is_sequential(&self) -> bool {
        self.lengths.is_some()
    }

    fn describe_parents(&self, j: usize, data_idx: &[usize]) -> String {
        let parts: Vec<String> = self.columns[j]
            .parents
            .iter()
            .map(|p| match p {
                Parent::Current(k) => format!("{:?}", self.names[data_idx[*k]]),
                Parent::Previous(k) => format!("previous {:?}", self.names[data_idx[*k]]),
                Parent::Length => "sequence length".into(),
            })
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Codes, number of codes, decoder and output type of one column; `rows`
/// orders (and selects) the rows when given.
fn bin_column(
    data: &ColumnData,
    rows: Option<&[usize]>,
    n_bins: usize,
) -> (Vec<u8>, usize, Decoder, ValueType) {
    let reordered;
    let data = match rows {
        Some(rows) => {
            let idx: Vec<Option<usize>> = rows.iter().map(|&r| Some(r)).collect();
            reordered = data.take(&idx);
            &reordered
        }
        None => data,
    };
    let bins = Bins::fit(data, n_bins);
    let codes = bins.encode(data);
    let card = bins.n_codes();
    let value_type = ValueType::of(data);
    let decoder = match data {
        ColumnData::Numeric(v) => {
            let mut values = vec![Vec::new(); card];
            for (&x, &c) in v.iter().zip(&codes) {
                if !x.is_nan() {
                    values[c as usize].push(x);
                }
            }
            let mut distinct = 0;
            for vs in &mut values {
                vs.sort_by(f64::total_cmp);
                distinct += 1 + vs.windows(2).filter(|w| w[0] != w[1]).count();
            }
            let decimals = (0..=6).find(|&d| {
                let p = 10f64.powi(d);
                v.iter().all(|&x| x.is_nan() || (x * p).round() / p == x)
            });
            let interpolate = distinct > CONTINUOUS_PER_BIN * n_bins;
            Decoder::Numeric {
                pickers: values
                    .iter()
                    .map(|vs| Picker::new(vs, interpolate))
                    .collect(),
                decimals,
            }
        }
        ColumnData::Datetime(v) => {
            let mut values = vec![Vec::new(); card];
            for (&x, &c) in v.iter().zip(&codes) {
                if let Some(x) = x {
                    values[c as usize].push(x);
                }
            }
            let mut distinct = 0;
            for vs in &mut values {
                vs.sort_unstable();
                distinct += 1 + vs.windows(2).filter(|w| w[0] != w[1]).count();
            }
            const STEPS: [i64; 7] = [
                86_400_000_000_000,
                3_600_000_000_000,
                60_000_000_000,
                1_000_000_000,
                1_000_000,
                1_000,
                1,
            ];
            let step = STEPS
                .into_iter()
                .find(|&s| v.iter().flatten().all(|x| x.rem_euclid(s) == 0))
                .unwrap_or(1);
            let interpolate = distinct > CONTINUOUS_PER_BIN * n_bins;
            Decoder::Datetime {
                pickers: values
                    .iter()
                    .map(|vs| Picker::new(vs, interpolate))
                    .collect(),
                step,
            }
        }
        ColumnData::Categorical { codes: cats, dict } => {
            categorical_decoder(&bins, &codes, cats, dict, card)
        }
    };
    (codes, card, decoder, value_type)
}

fn categorical_decoder(
    bins: &Bins,
    bin_codes: &[u8],
    cats: &[u32],
    dict: &[String],
    card: usize,
) -> Decoder {
    // 1. Count each category and note its bin.
    let mut counts = vec![0usize; dict.len()];
    let mut bin_of = vec![0u8; dict.len()];
    for (&c, &b) in cats.iter().zip(bin_codes) {
        if c != MISSING {
            counts[c as usize] += 1;
            bin_of[c as usize] = b;
        }
    }

    // 2. Keep categories seen often enough; pool the rest per bin.
    let mut out_dict: Vec<String> = Vec::new();
    let mut members: Vec<Vec<(u32, f64)>> = vec![Vec::new(); card];
    let mut rare_mass = vec![0.0; card];
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let b = bin_of[i] as usize;
        if count >= MIN_CATEGORY_COUNT {
            members[b].push((out_dict.len() as u32, count as f64));
            out_dict.push(dict[i].clone());
        } else {
            rare_mass[b] += count as f64;
        }
    }
    if rare_mass.iter().any(|&m| m > 0.0) {
        let placeholder = unused_placeholder(&out_dict);
        let code = out_dict.len() as u32;
        out_dict.push(placeholder);
        for (b, &mass) in rare_mass.iter().enumerate() {
            if mass > 0.0 {
                members[b].push((code, mass));
            }
        }
    }
    let na = bins.na_code() as usize;
    let choices = members
        .into_iter()
        .enumerate()
        .map(|(b, ms)| {
            if b == na {
                return (Vec::new(), Vec::new());
            }
            let total: f64 = ms.iter().map(|m| m.1).sum();
            let mut acc = 0.0;
            let cum = ms
                .iter()
                .map(|m| {
                    acc += m.1;
                    (acc / total) as f32
                })
                .collect();
            (ms.into_iter().map(|m| m.0).collect(), cum)
        })
        .collect();
    Decoder::Categorical {
        dict: out_dict,
        choices,
    }
}

/// The rare-value placeholder, made distinct from every real category.
fn unused_placeholder(dict: &[String]) -> String {
    let mut p = super::RARE_PLACEHOLDER.to_string();
    while dict.contains(&p) {
        p.push('_');
    }
    p
}

/// Mutual information (nats) between the joint of `xs` and `y`.
fn mutual_information(xs: &[&[u8]], x_cards: &[usize], y: &[u8], y_card: usize) -> f64 {
    let n = y.len();
    let x_configs: usize = x_cards.iter().product();
    let mut joint = vec![0u32; x_configs * y_card];
    for i in 0..n {
        let mut cfg = 0;
        let mut stride = 1;
        for (x, &card) in xs.iter().zip(x_cards) {
            cfg += x[i] as usize * stride;
            stride *= card;
        }
        joint[cfg * y_card + y[i] as usize] += 1;
    }
    let mut px = vec![0u32; x_configs];
    let mut py = vec![0u32; y_card];
    for cfg in 0..x_configs {
        for v in 0..y_card {
            let c = joint[cfg * y_card + v];
            px[cfg] += c;
            py[v] += c;
        }
    }
    let nf = n as f64;
    let mut mi = 0.0;
    for cfg in 0..x_configs {
        if px[cfg] == 0 {
            continue;
        }
        for v in 0..y_card {
            let c = joint[cfg * y_card + v];
            if c > 0 {
                let c = c as f64;
                mi += c / nf * (c * nf / (px[cfg] as f64 * py[v] as f64)).ln();
            }
        }
    }
    mi
}

/// Prim's algorithm on mutual information: starts with the column most
/// connected to all others, then always adds the column with the strongest
/// link to one already placed.
fn spanning_tree_order(mi: &[f64], m: usize) -> Vec<usize> {
    let start = (0..m)
        .max_by(|&a, &b| {
            let sa: f64 = mi[a * m..(a + 1) * m].iter().sum();
            let sb: f64 = mi[b * m..(b + 1) * m].iter().sum();
            sa.total_cmp(&sb).then(b.cmp(&a))
        })
        .expect("at least one column");
    let mut order = vec![start];
    let mut placed = vec![false; m];
    placed[start] = true;
    let mut best: Vec<f64> = (0..m).map(|k| mi[start * m + k]).collect();
    while order.len() < m {
        let next = (0..m)
            .filter(|&k| !placed[k])
            .max_by(|&a, &b| best[a].total_cmp(&best[b]).then(b.cmp(&a)))
            .expect("unplaced columns remain");
        placed[next] = true;
        order.push(next);
        for k in 0..m {
            best[k] = best[k].max(mi[next * m + k]);
        }
    }
    order
}

/// Greedy parent choice for column `j`: starting from `forced`, repeatedly
/// adds the candidate that raises the mutual information with `j` most,
/// net of the bias of its extra cells (Miller–Madow), while the table stays
/// within [`MAX_CELLS`].
fn choose_parents(
    vars: &Variables,
    j: usize,
    forced: Vec<Parent>,
    candidates: Vec<Parent>,
    max_parents: usize,
    n: usize,
) -> Vec<Parent> {
    let y = &vars.current[j];
    let y_card = vars.cards[j];
    let score = |set: &[Parent]| -> f64 {
        let xs: Vec<&[u8]> = set.iter().map(|&p| vars.codes(p)).collect();
        let cards: Vec<usize> = set.iter().map(|&p| vars.card(p)).collect();
        let cells: usize = cards.iter().product::<usize>() * y_card;
        mutual_information(&xs, &cards, y, y_card) - cells as f64 / (2.0 * n as f64)
    };
    let mut chosen = forced;
    let mut current = score(&chosen);
    let limit = max_parents + chosen.len();
    while chosen.len() < limit {
        let configs: usize = chosen.iter().map(|&p| vars.card(p)).product();
        let mut best: Option<(Parent, f64)> = None;
        for &c in &candidates {
            if chosen.contains(&c) || configs * vars.card(c) * y_card > MAX_CELLS {
                continue;
            }
            let mut set = chosen.clone();
            set.push(c);
            let s = score(&set);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((c, s));
            }
        }
        match best {
            Some((c, s)) if s - current > MIN_GAIN => {
                chosen.push(c);
                current = s;
            }
            _ => break,
        }
    }
    chosen
}

/// Cumulative conditional probabilities of column `j` given its parents,
/// each configuration's counts mixed with `smoothing` records' worth of the
/// column's marginal distribution.
fn conditional_table(
    vars: &Variables,
    j: usize,
    parents: &[Parent],
    strides: &[usize],
    configs: usize,
    smoothing: f64,
) -> Vec<f32> {
    let y = &vars.current[j];
    let card = vars.cards[j];
    let parent_codes: Vec<&[u8]> = parents.iter().map(|&p| vars.codes(p)).collect();
    let mut counts = vec![0u32; configs * card];
    let mut marginal = vec![0u32; card];
    for i in 0..y.len() {
        let cfg: usize = parent_codes
            .iter()
            .zip(strides)
            .map(|(c, s)| c[i] as usize * s)
            .sum();
        counts[cfg * card + y[i] as usize] += 1;
        marginal[y[i] as usize] += 1;
    }
    let n = y.len() as f64;
    let prior: Vec<f64> = marginal.iter().map(|&c| c as f64 / n).collect();
    let mut cum = vec![0f32; configs * card];
    for cfg in 0..configs {
        let row = &counts[cfg * card..(cfg + 1) * card];
        let total: f64 = row.iter().map(|&c| c as f64).sum::<f64>() + smoothing;
        let mut acc = 0.0;
        for v in 0..card {
            acc += (row[v] as f64 + smoothing * prior[v]) / total;
            cum[cfg * card + v] = acc as f32;
        }
    }
    cum
}

/// Helper for tests: the parents of the column called `name`.
#[cfg(test)]
pub(super) fn parents_of(g: &Generator, name: &str) -> Vec<Parent> {
    let data_names: Vec<&String> = g
        .names
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != g.key_position)
        .map(|(_, n)| n)
        .collect();
    let j = data_names.iter().position(|n| *n == name).expect("column");
    g.columns[j].parents.clone()
}
