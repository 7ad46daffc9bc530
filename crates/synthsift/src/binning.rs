//! Discretisation into bins, exactly as the reference metric bins columns.
//!
//! Bins are fitted on the original data and then applied to any other data
//! (synthetic records, a pool). Every value maps to a small integer code:
//!
//! * numeric: with at most `n` distinct values one bin per value, otherwise a
//!   greedy search for `n + 1` distinct quantile-spaced break points; breaks
//!   are then floored to the fewest decimals that keep them distinct; values
//!   are clipped into the break range; missing values get the last code;
//! * datetime: the same search without flooring;
//! * categorical: the `n` most frequent values (missing counted as `(n/a)`)
//!   that occur at least 5 times keep their own bin, everything else goes
//!   to `(other)`; empty strings are `(empty)`, missing values `(n/a)`.
//!
//! The reference is `bin_numeric`, `bin_datetime`, `bin_categorical` and
//! `search_bin_boundaries` in `mostlyai-qa` 1.9.8 (`_accuracy.py`).

use std::collections::HashMap;

use crate::table::{ColumnData, MISSING};

/// Label of the bin for missing values.
pub const NA_BIN: &str = "(n/a)";
/// Label of the bin for categories not among the kept ones.
pub const OTHER_BIN: &str = "(other)";
/// Label of the bin for empty strings.
pub const EMPTY_BIN: &str = "(empty)";
/// A bin the reference always appends to categorical bins (for protected
/// rare values of its own generator); it stays empty here.
pub const RARE_BIN: &str = "_RARE_";
/// A category must occur at least this often to keep its own bin.
pub const MIN_CATEGORY_COUNT: usize = 5;

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// Fitted bins of one column.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Bins {
    /// Lower edges `breaks[..k-1]`; values are clipped into
    /// `[breaks[0], breaks[k-1]]`. Codes `0..k-1` are value bins, code
    /// `k-1` is missing.
    Numeric { breaks: Vec<f64> },
    /// As `Numeric`, in nanoseconds since the epoch.
    Datetime { breaks: Vec<i64> },
    /// The categories in code order; the last four are always `(empty)`,
    /// `(other)`, `_RARE_` and `(n/a)`.
    Categorical { categories: Vec<String> },
}

impl Bins {
    /// Fits `n` bins (10 in the accuracy metric, 30 for coherence) to the
    /// values of an original column.
    pub fn fit(data: &ColumnData, n: usize) -> Bins {
        match data {
            ColumnData::Numeric(values) => fit_numeric(values, n),
            ColumnData::Datetime(values) => fit_datetime(values, n),
            ColumnData::Categorical { codes, dict } => fit_categorical(codes, dict, n),
        }
    }

    /// Number of distinct codes, including the one for missing values.
    pub fn n_codes(&self) -> usize {
        match self {
            Bins::Numeric { breaks } => breaks.len(),
            Bins::Datetime { breaks } => breaks.len(),
            Bins::Categorical { categories } => categories.len(),
        }
    }

    /// The code of missing values.
    pub fn na_code(&self) -> u8 {
        (self.n_codes() - 1) as u8
    }

    /// The code of `(other)`, for categorical bins.
    pub fn other_code(&self) -> Option<u8> {
        match self {
            Bins::Categorical { categories } => Some((categories.len() - 3) as u8),
            _ => None,
        }
    }

    /// A human-readable label per code.
    pub fn labels(&self) -> Vec<String> {
        match self {
            Bins::Numeric { breaks } => {
                let lower = &breaks[..breaks.len() - 1];
                let all_int = lower.iter().all(|b| b.fract() == 0.0 && b.abs() < 1e15);
                let mut labels: Vec<String> = lower
                    .iter()
                    .map(|b| {
                        if all_int {
                            format!("⪰ {}", *b as i64)
                        } else {
                            format!("⪰ {b}")
                        }
                    })
                    .collect();
                labels.push(NA_BIN.into());
                labels
            }
            Bins::Datetime { breaks } => {
                let mut labels: Vec<String> = breaks[..breaks.len() - 1]
                    .iter()
                    .map(|b| format!("⪰ {b}ns"))
                    .collect();
                labels.push(NA_BIN.into());
                labels
            }
            Bins::Categorical { categories } => categories.clone(),
        }
    }

    /// The code of every value of `data`, which must be of this kind.
    ///
    /// # Panics
    /// When `data` is of another kind than the fitted column; coerce it
    /// first (see [`crate::table::coerce`]).
    pub fn encode(&self, data: &ColumnData) -> Vec<u8> {
        match (self, data) {
            (Bins::Numeric { .. }, ColumnData::Numeric(values)) => {
                values.iter().map(|&v| self.encode_number(v)).collect()
            }
            (Bins::Datetime { .. }, ColumnData::Datetime(values)) => {
                values.iter().map(|&v| self.encode_datetime(v)).collect()
            }
            (Bins::Categorical { .. }, ColumnData::Categorical { codes, dict }) => {
                let lookup = self.category_lookup();
                let dict_codes: Vec<u8> = dict
                    .iter()
                    .map(|s| self.encode_str_with(&lookup, Some(s)))
                    .collect();
                let na = self.na_code();
                codes
                    .iter()
                    .map(|&c| {
                        if c == MISSING {
                            na
                        } else {
                            dict_codes[c as usize]
                        }
                    })
                    .collect()
            }
            (bins, data) => panic!("{:?} values cannot be encoded with {bins:?}", data.kind()),
        }
    }

    /// The code of one number (`NaN` is missing).
    pub fn encode_number(&self, v: f64) -> u8 {
        let Bins::Numeric { breaks } = self else {
            panic!("not numeric bins")
        };
        let k = breaks.len();
        if v.is_nan() {
            return (k - 1) as u8;
        }
        let v = v.clamp(breaks[0], breaks[k - 1]);
        // pandas cuts with a last edge of `breaks[k-1] + 1`; at magnitudes
        // where adding one changes nothing the top value falls outside.
        if v >= breaks[k - 1] + 1.0 {
            return (k - 1) as u8;
        }
        let lower = &breaks[..k - 1];
        (lower.partition_point(|&b| b <= v) - 1) as u8
    }

    /// The code of one timestamp.
    pub fn encode_datetime(&self, v: Option<i64>) -> u8 {
        let Bins::Datetime { breaks } = self else {
            panic!("not datetime bins")
        };
        let k = breaks.len();
        let Some(v) = v else { return (k - 1) as u8 };
        let v = v.clamp(breaks[0], breaks[k - 1]);
        let lower = &breaks[..k - 1];
        (lower.partition_point(|&b| b <= v) - 1) as u8
    }

    /// A map from category to code, for [`Bins::encode_str_with`].
    pub fn category_lookup(&self) -> HashMap<&str, u8> {
        let Bins::Categorical { categories } = self else {
            panic!("not categorical bins")
        };
        categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i as u8))
            .collect()
    }

    /// The code of one string value (`None` is missing).
    pub fn encode_str_with(&self, lookup: &HashMap<&str, u8>, v: Option<&str>) -> u8 {
        let key = match v {
            None => NA_BIN,
            Some("") => EMPTY_BIN,
            Some(s) => s,
        };
        match lookup.get(key) {
            Some(&c) => c,
            None => self.other_code().expect("categorical bins"),
        }
    }
}

/// Floors `x` to `precision` decimals as `np.floor(x * 10**p) / 10**p`.
fn floor_to(x: f64, precision: usize) -> f64 {
    // Powers of ten up to 1e19 are exact in f64, as Python's ints are.
    const POW10: [f64; 20] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19,
    ];
    (x * POW10[precision]).floor() / POW10[precision]
}

/// `search_bin_boundaries`: tries ever denser quantile grids until `n + 1`
/// distinct values are hit; returns the distinct sorted values of the last
/// grid tried.
fn search_boundaries<T: Copy + PartialOrd>(sorted: &[T], n: usize) -> Vec<T> {
    let len = sorted.len();
    if len == 0 {
        return Vec::new();
    }
    let mut breaks = Vec::new();
    let end = (n + 1).max(1000.min(len + 1));
    for i in n..end {
        // np.linspace(0, len - 1, i).astype(int)
        breaks.clear();
        let step = (len - 1) as f64 / (i - 1).max(1) as f64;
        for k in 0..i {
            let idx = if k == i - 1 {
                len - 1
            } else {
                (k as f64 * step) as usize
            };
            let v = sorted[idx];
            if breaks.last().is_none_or(|&last| last < v) {
                breaks.push(v);
            }
        }
        if breaks.len() > n {
            break;
        }
    }
    breaks
}

fn fit_numeric(values: &[f64], n: usize) -> Bins {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("NaN filtered out"));
    let mut distinct = sorted.clone();
    distinct.dedup();

    // 1. Break points: every distinct value (plus max + 1), or a search.
    let mut breaks = if distinct.len() <= n {
        let mut b = distinct.clone();
        if let Some(&max) = distinct.last() {
            b.push(max + 1.0);
        }
        b
    } else {
        search_boundaries(&sorted, n)
    };
    breaks.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    breaks.dedup();
    if breaks.is_empty() {
        breaks = vec![-1e10, 1e10];
    }

    // 2. Floor all but the last break to the fewest decimals that keep
    //    every break (the last included) distinct.
    for precision in 0..20 {
        let mut floored: Vec<f64> = breaks.iter().map(|&b| floor_to(b, precision)).collect();
        floored.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        floored.dedup();
        if floored.len() == breaks.len() {
            let last = *breaks.last().expect("non-empty");
            let k = breaks.len();
            for b in &mut breaks[..k - 1] {
                *b = floor_to(*b, precision);
            }
            breaks[k - 1] = last;
            break;
        }
    }
    Bins::Numeric { breaks }
}

fn fit_datetime(values: &[Option<i64>], n: usize) -> Bins {
    let mut sorted: Vec<i64> = values.iter().flatten().copied().collect();
    sorted.sort_unstable();
    let mut distinct = sorted.clone();
    distinct.dedup();
    let mut breaks = if distinct.len() == 1 {
        vec![distinct[0], distinct[0] + NANOS_PER_DAY]
    } else {
        search_boundaries(&sorted, n)
    };
    breaks.sort_unstable();
    breaks.dedup();
    if breaks.is_empty() {
        // 1700-01-01 and 2200-01-01
        breaks = vec![-8_520_336_000_000_000_000, 7_258_118_400_000_000_000];
    }
    // The reference cuts with a last edge one day past the last break, but
    // clips values to the last break first, so the edge never decides.
    Bins::Datetime { breaks }
}

fn fit_categorical(codes: &[u32], dict: &[String], n: usize) -> Bins {
    // 1. Count values, missing as "(n/a)" and "" as "(empty)", in order of
    //    first appearance (ties in the top list keep that order).
    let mut counts: Vec<(String, usize, usize)> = Vec::new();
    let mut slot: HashMap<String, usize> = HashMap::new();
    let mut dict_slot: Vec<Option<usize>> = vec![None; dict.len()];
    let mut na_slot: Option<usize> = None;
    for (pos, &c) in codes.iter().enumerate() {
        let cached = if c == MISSING {
            &mut na_slot
        } else {
            &mut dict_slot[c as usize]
        };
        let s = match cached {
            Some(s) => *s,
            None => {
                let label = if c == MISSING {
                    NA_BIN.to_string()
                } else if dict[c as usize].is_empty() {
                    EMPTY_BIN.to_string()
                } else {
                    dict[c as usize].clone()
                };
                let s = *slot.entry(label.clone()).or_insert_with(|| {
                    counts.push((label, 0, pos));
                    counts.len() - 1
                });
                *cached = Some(s);
                s
            }
        };
        counts[s].1 += 1;
    }

    // 2. The `n` most frequent, if frequent enough, sorted by value.
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let mut top: Vec<String> = counts
        .into_iter()
        .take(n)
        .filter(|(_, count, _)| *count >= MIN_CATEGORY_COUNT)
        .map(|(label, _, _)| label)
        .collect();
    top.sort();

    // 3. Special bins last, in the reference's order.
    for special in [EMPTY_BIN, OTHER_BIN, RARE_BIN, NA_BIN] {
        top.retain(|c| c != special);
        top.push(special.to_string());
    }
    Bins::Categorical { categories: top }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_breaks(values: &[f64], n: usize) -> Vec<f64> {
        match Bins::fit(&ColumnData::Numeric(values.to_vec()), n) {
            Bins::Numeric { breaks } => breaks,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn few_distinct_values_get_one_bin_each() {
        let b = numeric_breaks(&[3.0, 1.0, 2.0, 2.0, f64::NAN], 10);
        assert_eq!(b, vec![1.0, 2.0, 3.0, 4.0]);
        let bins = Bins::Numeric { breaks: b };
        let codes = bins.encode(&ColumnData::Numeric(vec![
            1.0,
            2.0,
            3.0,
            f64::NAN,
            0.0,
            9.0,
        ]));
        // Out-of-range values clip into the first and the last bin.
        assert_eq!(codes, vec![0, 1, 2, 3, 0, 2]);
    }

    #[test]
    fn breaks_are_floored_to_fewest_distinct_decimals() {
        // 0.5, 1.5 -> floored 0, 1; the last break (2.5) stays.
        assert_eq!(numeric_breaks(&[0.5, 1.5], 10), vec![0.0, 1.0, 2.5]);
        // 0.11 and 0.12 need two decimals.
        assert_eq!(numeric_breaks(&[0.111, 0.123], 10), vec![0.11, 0.12, 1.123]);
    }

    #[test]
    fn quantile_search_finds_eleven_breaks() {
        let values: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let b = numeric_breaks(&values, 10);
        assert_eq!(b.len(), 11);
        assert_eq!(b[0], 0.0);
        assert_eq!(b[10], 999.0);
        // np.linspace(0, 999, 11).astype(int)
        assert_eq!(b[1], 99.0);
        assert_eq!(b[5], 499.0);
    }

    #[test]
    fn all_missing_numeric_has_a_default_range() {
        let b = numeric_breaks(&[f64::NAN, f64::NAN], 10);
        assert_eq!(b, vec![-1e10, 1e10]);
        let bins = Bins::Numeric { breaks: b };
        assert_eq!(bins.encode_number(f64::NAN), 1);
        assert_eq!(bins.encode_number(5.0), 0);
    }

    #[test]
    fn categorical_top_values_and_specials() {
        let mut dict: Vec<String> = (0..12).map(|i| format!("c{i:02}")).collect();
        dict.push(String::new());
        let mut codes = Vec::new();
        for i in 0..12u32 {
            // c00 once (rare), the others 5 + i times.
            let reps = if i == 0 { 1 } else { 5 + i };
            codes.extend(std::iter::repeat_n(i, reps as usize));
        }
        codes.extend([
            12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
        ]);
        codes.extend([MISSING; 3]);
        let data = ColumnData::Categorical { codes, dict };
        let bins = Bins::fit(&data, 10);
        let Bins::Categorical { categories } = &bins else {
            panic!()
        };
        // Top 10 by count: (empty) 17, c11..c03 -> 9 real values.
        let expected: Vec<&str> = vec![
            "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", EMPTY_BIN, OTHER_BIN,
            RARE_BIN, NA_BIN,
        ];
        assert_eq!(categories, &expected);
        let lookup = bins.category_lookup();
        assert_eq!(bins.encode_str_with(&lookup, Some("c05")), 2);
        assert_eq!(bins.encode_str_with(&lookup, Some("c01")), 10);
        assert_eq!(bins.encode_str_with(&lookup, Some("unseen")), 10);
        assert_eq!(bins.encode_str_with(&lookup, Some("")), 9);
        assert_eq!(bins.encode_str_with(&lookup, None), 12);
    }

    #[test]
    fn single_datetime_value_spans_a_day() {
        let t = 1_700_000_000_000_000_000i64;
        let bins = Bins::fit(&ColumnData::Datetime(vec![Some(t), None, Some(t)]), 10);
        assert_eq!(
            bins,
            Bins::Datetime {
                breaks: vec![t, t + NANOS_PER_DAY]
            }
        );
        assert_eq!(bins.encode_datetime(Some(t + 5)), 0);
        assert_eq!(bins.encode_datetime(None), 1);
    }
}
