use super::*;
use crate::table::{Column, ColumnData};
use rand::RngExt;

fn table(name: &str, cols: Vec<(&str, ColumnData)>) -> Table {
    let n_rows = cols[0].1.len();
    Table {
        source: PathBuf::from(name),
        n_rows,
        columns: cols
            .into_iter()
            .map(|(n, data)| Column {
                name: n.into(),
                data,
            })
            .collect(),
    }
}

/// Records from one population: two continuous columns (one with missing
/// values) and a categorical one.
fn population(name: &str, n: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 10.0).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            if i % 7 == 0 {
                f64::NAN
            } else {
                x[i] + rng.random::<f64>()
            }
        })
        .collect();
    let codes: Vec<u32> = (0..n).map(|_| rng.random_range(0..4)).collect();
    let dict = ["a", "b", "c", "d"].map(String::from).to_vec();
    table(
        name,
        vec![
            ("x", ColumnData::Numeric(x)),
            ("y", ColumnData::Numeric(y)),
            ("c", ColumnData::Categorical { codes, dict }),
        ],
    )
}

fn opts() -> PrivacyOptions {
    PrivacyOptions {
        seed: 1,
        ..Default::default()
    }
}

#[test]
fn a_copy_of_training_is_all_identical_matches_and_closer_to_training() {
    let trn = population("trn", 400, 1);
    let hol = population("hol", 400, 2);
    let m = evaluate_privacy(&trn, &trn.clone(), Some(&hol), &opts()).unwrap();
    assert_eq!(m.ims_training, 1.0);
    assert_eq!(m.dcr_training, 0.0);
    assert_eq!(m.ims_holdout, Some(0.0));
    assert_eq!(m.dcr_share, Some(1.0));
    assert_eq!(m.records, 400);
    assert_eq!(m.dimensions, 2 + 1 + 2); // x, y, y - N/A, c - PCA 1..2
    assert_eq!(m.column_groups, 1);
}

#[test]
fn synthetic_drawn_from_the_population_has_a_share_near_one_half() {
    let trn = population("trn", 2000, 1);
    let hol = population("hol", 2000, 2);
    let syn = population("syn", 2000, 3);
    let m = evaluate_privacy(&trn, &syn, Some(&hol), &opts()).unwrap();
    let share = m.dcr_share.unwrap();
    assert!((share - 0.5).abs() < 0.04, "{share}");
    assert_eq!(m.ims_training, 0.0);
    // DCRs to training and to holdout are alike, as training vs holdout
    let (a, b) = (m.dcr_training, m.dcr_holdout.unwrap());
    assert!((a / b - 1.0).abs() < 0.1, "{a} {b}");
}

#[test]
fn half_copies_give_a_share_near_three_quarters() {
    let trn = population("trn", 2000, 1);
    let hol = population("hol", 2000, 2);
    let fresh = population("syn", 2000, 3);
    let idx: Vec<Option<usize>> = (0..2000).map(Some).collect();
    let mut syn = fresh.take(&idx[..1000]);
    for (c, t) in syn.columns.iter_mut().zip(&trn.columns) {
        c.data.append(&t.data.take(&idx[..1000]));
    }
    syn.n_rows = 2000;
    let m = evaluate_privacy(&trn, &syn, Some(&hol), &opts()).unwrap();
    assert!((m.ims_training - 0.5).abs() < 1e-12);
    let share = m.dcr_share.unwrap();
    assert!((share - 0.75).abs() < 0.04, "{share}");
}

#[test]
fn ties_count_half() {
    assert_eq!(dcr_share(&[0.0, 1.0, 2.0, 3.0], &[0.0, 2.0, 1.0, 3.0]), 0.5);
    assert_eq!(dcr_share(&[0.0, 0.0], &[0.0, 1.0]), 0.75);
    // categories only, all present in training and holdout: every distance is 0
    let cat = |name: &str, codes: Vec<u32>| {
        table(
            name,
            vec![(
                "c",
                ColumnData::Categorical {
                    codes,
                    dict: vec!["a".into(), "b".into()],
                },
            )],
        )
    };
    let trn = cat("trn", vec![0, 1, 0, 1]);
    let hol = cat("hol", vec![1, 0, 1, 0]);
    let syn = cat("syn", vec![0, 0, 1, 1]);
    let m = evaluate_privacy(&trn, &syn, Some(&hol), &opts()).unwrap();
    assert_eq!(m.dcr_share, Some(0.5));
    assert_eq!((m.ims_training, m.ims_holdout), (1.0, Some(1.0)));
}

#[test]
fn without_holdout_only_training_figures() {
    let trn = population("trn", 300, 1);
    let syn = population("syn", 500, 3);
    let m = evaluate_privacy(&trn, &syn, None, &opts()).unwrap();
    assert_eq!(m.records, 300);
    assert!(m.dcr_share.is_none() && m.ims_holdout.is_none() && m.nndr_holdout.is_none());
    assert!(m.nndr_training.is_some());
    let rows = m.summary_rows();
    assert!(rows.iter().any(|(_, v)| v == "needs --holdout"));
}

#[test]
fn missing_synthetic_column_is_an_error_naming_the_file() {
    let trn = population("trn.csv", 50, 1);
    let syn = population("syn.csv", 50, 3).without("y");
    let err = evaluate_privacy(&trn, &syn, None, &opts())
        .unwrap_err()
        .to_string();
    assert!(err.contains("syn.csv") && err.contains("\"y\""), "{err}");
}

/// 19 sequences of 2 rows and one of 50: the cap is ceil(q95 = 4.4) = 5 rows.
fn sequences(name: &str, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut key = Vec::new();
    for g in 0..19u32 {
        key.extend([g, g]);
    }
    key.extend(std::iter::repeat_n(19u32, 50));
    let n = key.len();
    let v: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    table(
        name,
        vec![
            (
                "id",
                ColumnData::Categorical {
                    codes: key,
                    dict: (0..20).map(|g| format!("{name}{g}")).collect(),
                },
            ),
            ("v", ColumnData::Numeric(v)),
        ],
    )
}

#[test]
fn sequential_records_carry_their_length_and_are_capped() {
    let trn = sequences("t", 1);
    let cap = encode::sequence_cap(&trn.column("id").unwrap().data);
    assert!((cap - 4.4).abs() < 1e-12, "{cap}");
    let rec = encode::sequence_records(&trn, "id", cap, &mut ChaCha8Rng::seed_from_u64(1));
    assert_eq!(rec.n_rows, 19 * 2 + 5);
    assert_eq!(rec.names(), vec![encode::COUNT_COLUMN, "v"]);
    let ColumnData::Numeric(len) = &rec.columns[0].data else {
        panic!()
    };
    assert_eq!(len.iter().filter(|&&l| l == 50.0).count(), 5);
    assert_eq!(len.iter().filter(|&&l| l == 2.0).count(), 38);
}

#[test]
fn sequential_copy_and_fresh_sequences() {
    let trn = sequences("t", 1);
    let hol = sequences("h", 2);
    let o = PrivacyOptions {
        seed: 3,
        group_key: Some("id".into()),
        ..Default::default()
    };
    let m = evaluate_privacy(&trn, &trn.clone(), Some(&hol), &o).unwrap();
    assert_eq!(m.records, 43);
    // the 38 rows of the short sequences are copies; the long sequence's 5
    // sampled rows may differ between the two samples
    assert!(m.ims_training >= 38.0 / 43.0, "{m:?}");
    assert!(m.dcr_share.unwrap() >= 38.0 / 43.0, "{m:?}");
    let err = evaluate_privacy(&trn, &population("p.csv", 50, 1), None, &o).unwrap_err();
    assert!(err.to_string().contains("p.csv"));
}
