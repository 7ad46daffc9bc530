//! Built-in population models: training-like tables with no files.
//!
//! They serve the demo, tests and benchmarks. Every table is drawn from a
//! fixed model whose structure does not depend on the seed, so tables drawn
//! with two seeds (say, training and holdout) come from the same
//! population.
//!
//! * [`Population::Flat`] — customers, 14 columns: a latent segment
//!   (`young`, `family`, `affluent`, `senior`, published as `segment` with
//!   some noise) drives age, education, channel and spending; income depends
//!   on age, education and segment (log-normal, 7–15 % missing); credit
//!   score on income; churn risk on segment and credit score; `is_active` on
//!   churn risk. `occupation` (80 values) and `city` (300 values) have long
//!   Zipf tails with values seen fewer than 5 times; `has_children` and
//!   `is_active` are booleans (0/1), `age`, `n_children` and `credit_score`
//!   integers, `signup_date` a timestamp (first of a month).
//! * [`Population::Sequential`] — transactions of customers, keyed by
//!   `customer_id`: a customer's tier (`basic`, `plus`, `premium`) sets the
//!   number of transactions (1–5, 3–11, 8–20) and their level; the day
//!   increases along the sequence; `amount` follows a log-AR(1) process;
//!   `category` and `channel` tend to repeat the previous row's value;
//!   `balance` runs down with spending and up with deposits; refunds depend
//!   on the category; `rating` is mostly missing.
//! * [`Population::Wide`] — 60 numeric and 20 categorical columns
//!   (`n00`…`n59`, `c00`…`c19`) driven by a latent segment and four latent
//!   factors; each numeric column also depends on its predecessor. Numeric
//!   columns come as floats, skewed floats, integers and small counts, some
//!   with missing values; categorical columns have 2 to 300 values with
//!   long tails.
//!
//! ```
//! use synthsift::population::{draw, Population};
//!
//! let training = draw(Population::Flat, 1_000, 1);
//! let holdout = draw(Population::Flat, 1_000, 2);
//! assert_eq!(training.names(), holdout.names());
//! assert_eq!(training.n_rows, 1_000);
//! ```

use std::collections::HashMap;
use std::f64::consts::PI;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::table::{Column, ColumnData, Table, MISSING};

/// Which built-in population to draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Population {
    /// One record per customer, 14 columns of mixed kinds.
    Flat,
    /// Sequences of transactions keyed by `customer_id`.
    Sequential,
    /// 60 numeric and 20 categorical columns.
    Wide,
}

impl Population {
    /// The group key column of the population, if it is sequential.
    pub fn group_key(self) -> Option<&'static str> {
        match self {
            Population::Sequential => Some("customer_id"),
            _ => None,
        }
    }

    /// The population's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Population::Flat => "flat",
            Population::Sequential => "sequential",
            Population::Wide => "wide",
        }
    }
}

/// Draws `n` records (or, for [`Population::Sequential`], `n` sequences).
pub fn draw(kind: Population, n: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let columns = match kind {
        Population::Flat => flat(n, &mut rng),
        Population::Sequential => sequential(n, &mut rng),
        Population::Wide => wide(n, &mut rng),
    };
    Table {
        source: format!("<{} population, seed {seed}>", kind.name()).into(),
        n_rows: columns.first().map_or(0, |c| c.data.len()),
        columns,
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; 1 - u keeps the logarithm finite.
    let u = 1.0 - rng.random::<f64>();
    let v = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Index drawn from weights (need not sum to one).
fn choose(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, &w) in weights.iter().enumerate() {
        if u < w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// Cumulative Zipf weights over `k` ranks with exponent `s`.
fn zipf_table(k: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cum: Vec<f64> = (1..=k)
        .map(|r| {
            acc += 1.0 / (r as f64).powf(s);
            acc
        })
        .collect();
    for c in &mut cum {
        *c /= acc;
    }
    cum
}

fn zipf(cum: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let u = rng.random::<f64>();
    cum.partition_point(|&c| c <= u).min(cum.len() - 1)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (x * p).round() / p
}

/// A categorical column from label indices, the dictionary in order of
/// first appearance.
fn categorical(labels: &[String], picks: &[Option<usize>]) -> ColumnData {
    let mut slot: HashMap<usize, u32> = HashMap::new();
    let mut dict = Vec::new();
    let codes = picks
        .iter()
        .map(|p| match p {
            None => MISSING,
            Some(i) => *slot.entry(*i).or_insert_with(|| {
                dict.push(labels[*i].clone());
                (dict.len() - 1) as u32
            }),
        })
        .collect();
    ColumnData::Categorical { codes, dict }
}

fn col(name: &str, data: ColumnData) -> Column {
    Column {
        name: name.into(),
        data,
    }
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

/// Nanoseconds of the first day of month `m` counted from January 2018.
fn month_start(m: i64) -> i64 {
    let (y, mo) = (2018 + m / 12, m % 12 + 1);
    // Days from the epoch to y-mo-01 (Howard Hinnant's days_from_civil).
    let (y2, mo2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * mo2 + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000_000_000
}

fn flat(n: usize, rng: &mut ChaCha8Rng) -> Vec<Column> {
    let segments = strings(&["young", "family", "affluent", "senior"]);
    let education = strings(&[
        "primary",
        "secondary",
        "vocational",
        "bachelor",
        "master",
        "doctorate",
    ]);
    let channels = strings(&["web", "app", "store", "phone"]);
    let occupations: Vec<String> = (0..80).map(|k| format!("occupation-{k:02}")).collect();
    let cities: Vec<String> = (0..300).map(|k| format!("city-{k:03}")).collect();
    let occ_zipf = zipf_table(80, 1.1);
    let city_zipf = zipf_table(300, 1.3);

    let mut c_segment = Vec::with_capacity(n);
    let mut c_age = Vec::with_capacity(n);
    let mut c_edu = Vec::with_capacity(n);
    let mut c_income = Vec::with_capacity(n);
    let mut c_occ = Vec::with_capacity(n);
    let mut c_city = Vec::with_capacity(n);
    let mut c_has = Vec::with_capacity(n);
    let mut c_kids = Vec::with_capacity(n);
    let mut c_credit = Vec::with_capacity(n);
    let mut c_signup = Vec::with_capacity(n);
    let mut c_channel = Vec::with_capacity(n);
    let mut c_spend = Vec::with_capacity(n);
    let mut c_churn = Vec::with_capacity(n);
    let mut c_active = Vec::with_capacity(n);
    for _ in 0..n {
        // 1. The latent segment, published with 10 % noise.
        let z = choose(&[0.35, 0.30, 0.25, 0.10], rng);
        let shown = if rng.random::<f64>() < 0.1 {
            rng.random_range(0..4)
        } else {
            z
        };
        c_segment.push(Some(shown));

        // 2. Age and education.
        let (mu, sd) = [(24.0, 4.0), (38.0, 7.0), (47.0, 9.0), (70.0, 7.0)][z];
        let age = (mu + sd * normal(rng)).round().clamp(18.0, 95.0);
        c_age.push(age);
        let edu_w: [[f64; 6]; 4] = [
            [0.05, 0.45, 0.2, 0.25, 0.05, 0.0],
            [0.05, 0.3, 0.3, 0.25, 0.08, 0.02],
            [0.0, 0.05, 0.1, 0.35, 0.38, 0.12],
            [0.2, 0.4, 0.25, 0.1, 0.04, 0.01],
        ];
        let edu = choose(&edu_w[z], rng);
        c_edu.push(Some(edu));

        // 3. Income from age, education and segment; skewed, missing.
        let career = (age - 18.0).min(40.0);
        let ln_income = 9.6
            + 0.18 * edu as f64
            + 0.015 * career
            + [-0.3, 0.0, 0.4, -0.2][z]
            + 0.45 * normal(rng);
        let income = round_to(ln_income.exp(), 2);
        let income_missing = rng.random::<f64>() < if z == 0 { 0.15 } else { 0.07 };
        c_income.push(if income_missing { f64::NAN } else { income });

        // 4. Long-tailed categories.
        let occ = (zipf(&occ_zipf, rng) + 3 * edu) % 80;
        c_occ.push(Some(occ));
        let city = zipf(&city_zipf, rng);
        c_city.push((rng.random::<f64>() >= 0.02).then_some(city));

        // 5. Children.
        let p_kids = match z {
            1 => 0.9,
            0 => 0.08,
            _ => sigmoid(-1.0 + 0.05 * (age - 30.0)),
        };
        let has = rng.random::<f64>() < p_kids;
        c_has.push(if has { 1.0 } else { 0.0 });
        let kids = if has {
            let lambda: f64 = if z == 1 { 1.2 } else { 0.6 };
            let mut k = 1.0;
            let mut p = rng.random::<f64>();
            let limit = (-lambda).exp();
            while p > limit && k < 7.0 {
                k += 1.0;
                p *= rng.random::<f64>();
            }
            k
        } else {
            0.0
        };
        c_kids.push(kids);

        // 6. Credit score from income.
        let credit = (580.0
            + 45.0 * (income / 20_000.0).ln()
            + [0.0, 10.0, 30.0, 20.0][z]
            + 45.0 * normal(rng))
        .round()
        .clamp(300.0, 850.0);
        c_credit.push(if rng.random::<f64>() < 0.04 {
            f64::NAN
        } else {
            credit
        });

        // 7. Sign-up month: the young joined later.
        let m = (50.0 + [15.0, 0.0, -5.0, -15.0][z] + 18.0 * normal(rng))
            .round()
            .clamp(0.0, 83.0) as i64;
        c_signup.push(Some(month_start(m)));

        // 8. Channel by segment, spending by income and channel.
        let ch_w: [[f64; 4]; 4] = [
            [0.3, 0.6, 0.08, 0.02],
            [0.4, 0.3, 0.25, 0.05],
            [0.5, 0.3, 0.15, 0.05],
            [0.15, 0.05, 0.4, 0.4],
        ];
        let ch = choose(&ch_w[z], rng);
        c_channel.push((rng.random::<f64>() >= 0.03).then_some(ch));
        let share = (-2.6 + [0.0, 0.3, -0.1, -0.3][ch] + 0.5 * normal(rng)).exp();
        c_spend.push(round_to(income / 12.0 * share, 2));

        // 9. Churn risk and activity.
        let risk = sigmoid(
            -1.0 + [0.8, -0.2, -0.5, 0.2][z] - 0.006 * (credit - 600.0) + 0.7 * normal(rng),
        );
        c_churn.push(round_to(risk, 3));
        c_active.push(if rng.random::<f64>() < 1.0 - 0.8 * risk {
            1.0
        } else {
            0.0
        });
    }
    vec![
        col("segment", categorical(&segments, &c_segment)),
        col("age", ColumnData::Numeric(c_age)),
        col("education", categorical(&education, &c_edu)),
        col("income", ColumnData::Numeric(c_income)),
        col("occupation", categorical(&occupations, &c_occ)),
        col("city", categorical(&cities, &c_city)),
        col("has_children", ColumnData::Numeric(c_has)),
        col("n_children", ColumnData::Numeric(c_kids)),
        col("credit_score", ColumnData::Numeric(c_credit)),
        col("signup_date", ColumnData::Datetime(c_signup)),
        col("channel", categorical(&channels, &c_channel)),
        col("monthly_spend", ColumnData::Numeric(c_spend)),
        col("churn_risk", ColumnData::Numeric(c_churn)),
        col("is_active", ColumnData::Numeric(c_active)),
    ]
}

fn sequential(n: usize, rng: &mut ChaCha8Rng) -> Vec<Column> {
    let tiers = strings(&["basic", "plus", "premium"]);
    let mut categories = strings(&[
        "groceries",
        "fuel",
        "restaurants",
        "travel",
        "electronics",
        "clothing",
        "health",
        "utilities",
        "entertainment",
        "education",
        "home",
        "sports",
    ]);
    categories.extend((0..40).map(|k| format!("misc-{k:02}")));
    let channels = strings(&["online", "in-store", "mobile"]);
    let cat_w: [[f64; 12]; 3] = [
        [30., 20., 10., 2., 3., 8., 6., 12., 5., 1., 2., 1.],
        [20., 12., 15., 8., 6., 10., 6., 10., 8., 2., 2., 3.],
        [10., 6., 18., 20., 10., 12., 5., 5., 8., 2., 2., 4.],
    ];

    let mut key = Vec::new();
    let mut c_tier = Vec::new();
    let mut c_day = Vec::new();
    let mut c_amount = Vec::new();
    let mut c_cat = Vec::new();
    let mut c_channel = Vec::new();
    let mut c_refund = Vec::new();
    let mut c_balance = Vec::new();
    let mut c_rating = Vec::new();
    for s in 0..n {
        // 1. The customer: tier and number of transactions.
        let z = choose(&[0.5, 0.3, 0.2], rng);
        let len = match z {
            0 => 1 + rng.random_range(0..5),
            1 => 3 + rng.random_range(0..9),
            _ => 8 + rng.random_range(0..13),
        };
        let mu = [3.0, 3.8, 4.6][z];

        // 2. Transactions, each depending on the previous one.
        let mut day = rng.random_range(0..30) as f64;
        let mut la = mu + 0.6 * normal(rng);
        let mut cat = choose(&cat_w[z], rng);
        let mut ch = choose(&[[0.3, 0.5, 0.2], [0.4, 0.3, 0.3], [0.5, 0.1, 0.4]][z], rng);
        let mut balance = (2000.0 * (z as f64 + 1.0) * (1.0 + 0.3 * normal(rng))).max(50.0);
        for i in 0..len {
            if i > 0 {
                day += (1.0 + (rng.random::<f64>() * [40.0, 20.0, 8.0][z])).floor();
                la = 0.6 * la + 0.4 * mu + 0.5 * normal(rng);
                if rng.random::<f64>() > 0.5 {
                    cat = choose(&cat_w[z], rng);
                }
                if rng.random::<f64>() > 0.8 {
                    ch = rng.random_range(0..3);
                }
            }
            // A rare miscellaneous category now and then.
            let shown_cat = if rng.random::<f64>() < 0.01 {
                12 + rng.random_range(0..40)
            } else {
                cat
            };
            let amount = round_to(la.exp(), 2);
            let refund = rng.random::<f64>() < 0.03 + 0.1 * f64::from(u8::from(cat == 3));
            if refund {
                balance += amount;
            } else {
                balance -= amount;
            }
            if balance < 200.0 || rng.random::<f64>() < 0.1 {
                balance += 500.0 * (z as f64 + 1.0) * (1.0 + rng.random::<f64>());
            }
            key.push(Some(s));
            c_tier.push(Some(z));
            c_day.push(day);
            c_amount.push(amount);
            c_cat.push(Some(shown_cat));
            c_channel.push((rng.random::<f64>() >= 0.04).then_some(ch));
            c_refund.push(if refund { 1.0 } else { 0.0 });
            c_balance.push(round_to(balance, 2));
            let rating = if rng.random::<f64>() < 0.4 {
                (3.5 + 0.4 * (z as f64) - 0.3 * (la - mu) + normal(rng))
                    .round()
                    .clamp(1.0, 5.0)
            } else {
                f64::NAN
            };
            c_rating.push(rating);
        }
    }
    let ids: Vec<String> = (0..n).map(|s| format!("cust-{:06}", s + 1)).collect();
    vec![
        col("customer_id", categorical(&ids, &key)),
        col("tier", categorical(&tiers, &c_tier)),
        col("day", ColumnData::Numeric(c_day)),
        col("amount", ColumnData::Numeric(c_amount)),
        col("category", categorical(&categories, &c_cat)),
        col("channel", categorical(&channels, &c_channel)),
        col("is_refund", ColumnData::Numeric(c_refund)),
        col("balance", ColumnData::Numeric(c_balance)),
        col("rating", ColumnData::Numeric(c_rating)),
    ]
}

/// A numeric column of the wide population: two factors, their weights,
/// the weight of the previous column, the segment shifts, the missing rate.
type NumericSpec = (usize, usize, f64, f64, f64, [f64; 6], f64);
/// A categorical column of the wide population: its factor, cardinality,
/// Zipf table, missing rate and labels.
type CategoricalSpec = (usize, usize, Vec<f64>, f64, Vec<String>);

/// Fixed structure of the wide population (independent of the seed).
struct WideSpec {
    numeric: Vec<NumericSpec>,
    categorical: Vec<CategoricalSpec>,
}

fn wide_spec() -> WideSpec {
    let mut p = ChaCha8Rng::seed_from_u64(0x05EE_D0FA);
    let numeric = (0..60)
        .map(|j| {
            let a = p.random_range(0..4);
            let b = (a + 1 + p.random_range(0..3)) % 4;
            let wa = 0.5 + p.random::<f64>();
            let wb = p.random::<f64>() - 0.5;
            let prev = if j % 5 == 0 {
                0.0
            } else {
                0.3 + 0.4 * p.random::<f64>()
            };
            let mut shift = [0.0; 6];
            for s in &mut shift {
                *s = 1.2 * (p.random::<f64>() - 0.5);
            }
            let missing = if j % 7 == 0 {
                0.03 + 0.15 * p.random::<f64>()
            } else {
                0.0
            };
            (a, b, wa, wb, prev, shift, missing)
        })
        .collect();
    const CARDS: [usize; 20] = [
        2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 3, 7, 60, 100, 200, 300,
    ];
    let categorical = (0..20)
        .map(|k| {
            let card = CARDS[k];
            let factor = p.random_range(0..4);
            let zipf = zipf_table(card, 0.8 + 0.6 * p.random::<f64>());
            let missing = if k % 4 == 1 { 0.05 } else { 0.0 };
            let labels = (0..card).map(|v| format!("c{k:02}_{v:03}")).collect();
            (factor, card, zipf, missing, labels)
        })
        .collect();
    WideSpec {
        numeric,
        categorical,
    }
}

fn wide(n: usize, rng: &mut ChaCha8Rng) -> Vec<Column> {
    let spec = wide_spec();
    let mut numeric: Vec<Vec<f64>> = (0..60).map(|_| Vec::with_capacity(n)).collect();
    let mut picks: Vec<Vec<Option<usize>>> = (0..20).map(|_| Vec::with_capacity(n)).collect();
    let seg_means: [[f64; 4]; 6] = [
        [0.0, 0.0, 0.0, 0.0],
        [1.5, -0.5, 0.0, 0.5],
        [-1.0, 1.0, 0.5, 0.0],
        [0.5, 0.5, -1.5, 1.0],
        [-0.5, -1.5, 1.0, -1.0],
        [2.0, 1.0, 1.0, 1.5],
    ];
    for _ in 0..n {
        // 1. Latent segment and factors.
        let z = choose(&[0.3, 0.2, 0.15, 0.15, 0.12, 0.08], rng);
        let f: [f64; 4] = std::array::from_fn(|i| seg_means[z][i] + normal(rng));

        // 2. Numeric columns: factors, the previous column, noise; then a
        //    shape per column (float, skewed, integer, count).
        let mut prev = 0.0;
        for (j, (a, b, wa, wb, wp, shift, missing)) in spec.numeric.iter().enumerate() {
            let x = wa * f[*a] + wb * f[*b] + wp * prev + shift[z] + 0.6 * normal(rng);
            prev = x;
            let v = match j % 4 {
                0 => round_to(x, 3),
                1 => round_to((0.5 * x).exp() * 100.0, 2),
                2 => (50.0 + 10.0 * x).round() + 0.0,
                _ => (0.4 * x + 1.0).exp().round().min(40.0),
            };
            let is_missing = *missing > 0.0 && rng.random::<f64>() < missing * (1.0 + f[0].tanh());
            numeric[j].push(if is_missing { f64::NAN } else { v });
        }

        // 3. Categorical columns: a factor picks a region of the values, a
        //    Zipf draw the value within it.
        for (k, (factor, card, zipf_cum, missing, _)) in spec.categorical.iter().enumerate() {
            let regions = (*card).min(6);
            let s = f[*factor] + 0.7 * normal(rng);
            let q = (((s + 3.0) / 6.0 * regions as f64).floor() as i64).clamp(0, regions as i64 - 1)
                as usize;
            let v = (q * card / regions + zipf(zipf_cum, rng)) % card;
            let is_missing = *missing > 0.0 && rng.random::<f64>() < *missing;
            picks[k].push((!is_missing).then_some(v));
        }
    }
    let mut columns: Vec<Column> = numeric
        .into_iter()
        .enumerate()
        .map(|(j, v)| col(&format!("n{j:02}"), ColumnData::Numeric(v)))
        .collect();
    for (k, p) in picks.iter().enumerate() {
        columns.push(col(
            &format!("c{k:02}"),
            categorical(&spec.categorical[k].4, p),
        ));
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequences::Sequences;

    #[test]
    fn flat_has_mixed_kinds_missing_values_and_rare_categories() {
        let t = draw(Population::Flat, 5_000, 3);
        assert_eq!(t.n_rows, 5_000);
        assert_eq!(t.columns.len(), 14);
        let missing = |name: &str| {
            let c = &t.column(name).unwrap().data;
            (0..t.n_rows).filter(|&i| c.is_missing(i)).count() as f64 / t.n_rows as f64
        };
        assert!(
            (0.06..0.15).contains(&missing("income")),
            "{}",
            missing("income")
        );
        assert_eq!(missing("age"), 0.0);
        let ColumnData::Categorical { codes, dict } = &t.column("city").unwrap().data else {
            panic!()
        };
        let mut counts = vec![0; dict.len()];
        for &c in codes.iter().filter(|&&c| c != MISSING) {
            counts[c as usize] += 1;
        }
        assert!(counts.iter().any(|&c| c < 5), "no rare city");
        assert_eq!(
            t.column("signup_date").unwrap().data.kind(),
            crate::table::ColumnKind::Datetime
        );
    }

    #[test]
    fn same_seed_same_table_other_seed_other_table() {
        // Debug text compares missing values (NaN) as equal.
        let text = |t: Table| format!("{:?}", t.columns);
        assert_eq!(
            text(draw(Population::Wide, 300, 5)),
            text(draw(Population::Wide, 300, 5))
        );
        assert_ne!(
            draw(Population::Flat, 300, 5).columns,
            draw(Population::Flat, 300, 6).columns
        );
    }

    #[test]
    fn sequential_lengths_follow_the_tiers() {
        let t = draw(Population::Sequential, 2_000, 1);
        let s = Sequences::group(&t, "customer_id");
        assert_eq!(s.len(), 2_000);
        let lengths: Vec<usize> = (0..s.len()).map(|i| s.rows_of(i).len()).collect();
        assert!(lengths.iter().all(|&l| (1..=20).contains(&l)));
        assert!(lengths.contains(&1) && lengths.contains(&20));
    }

    #[test]
    fn wide_has_sixty_numeric_and_twenty_categorical_columns() {
        let t = draw(Population::Wide, 1_000, 1);
        let numeric = t
            .columns
            .iter()
            .filter(|c| matches!(c.data, ColumnData::Numeric(_)))
            .count();
        assert_eq!((numeric, t.columns.len()), (60, 80));
    }

    #[test]
    fn month_start_is_the_first_of_the_month() {
        assert_eq!(
            crate::table::format_timestamp(month_start(0)),
            "2018-01-01 00:00:00"
        );
        assert_eq!(
            crate::table::format_timestamp(month_start(83)),
            "2024-12-01 00:00:00"
        );
    }
}
