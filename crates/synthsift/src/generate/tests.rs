use std::collections::HashSet;

use super::fit::{parents_of, Parent};
use super::*;
use crate::metrics::{evaluate_accuracy, AccuracyOptions};
use crate::population::{draw, Population};
use crate::sequences::Sequences;
use crate::table::{ColumnData, Table, MISSING};

fn missing_rate(t: &Table, j: usize) -> f64 {
    let c = &t.columns[j].data;
    (0..t.n_rows).filter(|&i| c.is_missing(i)).count() as f64 / t.n_rows as f64
}

fn fit(t: &Table, key: Option<&str>) -> Generator {
    let opts = GeneratorOptions {
        group_key: key.map(str::to_string),
        ..GeneratorOptions::default()
    };
    Generator::fit(t, &opts).unwrap()
}

/// Every record as text, for exact-copy counts.
fn records(t: &Table) -> Vec<String> {
    (0..t.n_rows)
        .map(|i| {
            t.columns
                .iter()
                .map(|c| match &c.data {
                    ColumnData::Numeric(v) => format!("{}", v[i]),
                    ColumnData::Datetime(v) => format!("{:?}", v[i]),
                    ColumnData::Categorical { codes, dict } => {
                        if codes[i] == MISSING {
                            "<na>".into()
                        } else {
                            dict[codes[i] as usize].clone()
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[test]
fn generated_records_keep_columns_kinds_and_missing_rates() {
    let training = draw(Population::Flat, 5_000, 1);
    let synthetic = fit(&training, None).sample(5_000, 9);
    assert_eq!(synthetic.names(), training.names());
    for (j, (a, b)) in training.columns.iter().zip(&synthetic.columns).enumerate() {
        assert_eq!(a.data.kind(), b.data.kind(), "{}", a.name);
        let (ma, mb) = (missing_rate(&training, j), missing_rate(&synthetic, j));
        assert!((ma - mb).abs() < 0.02, "{}: {ma} vs {mb}", a.name);
    }
    // Integer columns stay integral.
    let ColumnData::Numeric(age) = &synthetic.column("age").unwrap().data else {
        panic!()
    };
    assert!(age.iter().all(|x| x.fract() == 0.0));
    // Two decimals stay two decimals.
    let ColumnData::Numeric(income) = &synthetic.column("income").unwrap().data else {
        panic!()
    };
    assert!(income
        .iter()
        .filter(|x| !x.is_nan())
        .all(|x| (x * 100.0).round() / 100.0 == *x));
}

#[test]
fn rare_categories_are_never_emitted() {
    let training = draw(Population::Flat, 3_000, 1);
    let synthetic = fit(&training, None).sample(10_000, 2);
    let ColumnData::Categorical { codes, dict } = &training.column("city").unwrap().data else {
        panic!()
    };
    let mut counts = vec![0; dict.len()];
    for &c in codes.iter().filter(|&&c| c != MISSING) {
        counts[c as usize] += 1;
    }
    let rare: HashSet<&str> = dict
        .iter()
        .zip(&counts)
        .filter(|(_, &n)| n < 5)
        .map(|(s, _)| s.as_str())
        .collect();
    assert!(!rare.is_empty());
    let ColumnData::Categorical { codes, dict } = &synthetic.column("city").unwrap().data else {
        panic!()
    };
    let emitted: HashSet<&str> = codes
        .iter()
        .filter(|&&c| c != MISSING)
        .map(|&c| dict[c as usize].as_str())
        .collect();
    assert!(emitted.is_disjoint(&rare));
    assert!(emitted.contains(RARE_PLACEHOLDER));
}

#[test]
fn accuracy_is_well_above_chance_and_below_a_holdout() {
    let training = draw(Population::Flat, 5_000, 1);
    let holdout = draw(Population::Flat, 5_000, 2);
    let synthetic = fit(&training, None).sample(5_000, 3);
    let opts = AccuracyOptions {
        group_key: None,
        seed: 1,
    };
    let syn = evaluate_accuracy(&training, &synthetic, None, &opts).unwrap();
    let hol = evaluate_accuracy(&training, &holdout, None, &opts).unwrap();
    // Independent columns drawn from the right marginals would reach about
    // the univariate accuracy but much lower bi- and trivariate ones.
    let (s, h) = (syn.accuracy, hol.accuracy);
    eprintln!("synthetic {s:?}\nholdout {h:?}");
    assert!(s.overall > 0.85, "{s:?}");
    assert!(s.overall < h.overall, "{s:?} vs {h:?}");
    assert!(s.bivariate.unwrap() > 0.85, "{s:?}");
}

#[test]
fn no_more_exact_copies_than_a_holdout_has() {
    let training = draw(Population::Flat, 5_000, 1);
    let holdout = draw(Population::Flat, 5_000, 2);
    let synthetic = fit(&training, None).sample(5_000, 3);
    let seen: HashSet<String> = records(&training).into_iter().collect();
    let copies = |t: &Table| records(t).iter().filter(|r| seen.contains(*r)).count();
    assert!(copies(&synthetic) <= copies(&holdout));
}

#[test]
fn seeded_sampling_is_reproducible_and_chunk_independent() {
    let training = draw(Population::Flat, 2_000, 1);
    let g = fit(&training, None);
    // Debug text compares missing values (NaN) as equal.
    let text = |t: Table| format!("{:?}", t.columns);
    let a = text(g.sample(20_000, 5));
    assert_eq!(a, text(g.sample(20_000, 5)));
    assert_ne!(a, text(g.sample(20_000, 6)));
    let mut rows = 0;
    g.sample_chunks(20_000, 5, |c| {
        rows += c.n_rows;
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(rows, 20_000);
    // A refit gives the same model.
    assert_eq!(
        text(fit(&training, None).sample(1_000, 5)),
        text(g.sample(1_000, 5))
    );
}

#[test]
fn sequences_keep_the_length_distribution_and_unique_keys() {
    let training = draw(Population::Sequential, 3_000, 1);
    let g = fit(&training, Some("customer_id"));
    assert!(g.is_sequential());
    assert!(parents_of(&g, "category").contains(&Parent::Previous(3)));
    let synthetic = g.sample(3_000, 4);
    assert_eq!(synthetic.names(), training.names());
    let lengths = |t: &Table| {
        let s = Sequences::group(t, "customer_id");
        let mut hist = [0f64; 21];
        for i in 0..s.len() {
            hist[s.rows_of(i).len()] += 1.0 / s.len() as f64;
        }
        (s.len(), hist)
    };
    let (n_train, h_train) = lengths(&training);
    let (n_syn, h_syn) = lengths(&synthetic);
    assert_eq!((n_train, n_syn), (3_000, 3_000));
    let tvd: f64 = h_train
        .iter()
        .zip(&h_syn)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / 2.0;
    assert!(tvd < 0.05, "{tvd}");

    let opts = AccuracyOptions {
        group_key: Some("customer_id".into()),
        seed: 1,
    };
    let holdout = draw(Population::Sequential, 3_000, 2);
    let syn = evaluate_accuracy(&training, &synthetic, None, &opts).unwrap();
    let hol = evaluate_accuracy(&training, &holdout, None, &opts).unwrap();
    eprintln!("synthetic {:?}\nholdout {:?}", syn.accuracy, hol.accuracy);
    assert!(syn.accuracy.overall > 0.8, "{:?}", syn.accuracy);
    assert!(syn.accuracy.overall < hol.accuracy.overall);
    assert!(syn.accuracy.coherence.unwrap() > 0.8, "{:?}", syn.accuracy);
}

#[test]
fn bad_inputs_are_named() {
    let training = draw(Population::Flat, 100, 1);
    let opts = GeneratorOptions {
        group_key: Some("nope".into()),
        ..GeneratorOptions::default()
    };
    assert!(matches!(
        Generator::fit(&training, &opts),
        Err(GenerateError::MissingGroupKey { .. })
    ));
    let empty = training.take(&[]);
    assert!(matches!(
        Generator::fit(&empty, &GeneratorOptions::default()),
        Err(GenerateError::NoRecords { .. })
    ));
}
