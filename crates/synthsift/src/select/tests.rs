use super::*;
use rand::RngExt;

/// Training with dependent columns and a noisier pool of the same kind.
fn data(n_trn: usize, n_pool: usize, seed: u64) -> (CodeMatrix, CodeMatrix) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cards = vec![4usize, 5, 3, 6];
    let mut gen = |n: usize, noise: f64| {
        let mut cols = vec![Vec::new(); 4];
        for _ in 0..n {
            let a = rng.random_range(0..4u8);
            let b = if rng.random::<f64>() < noise {
                rng.random_range(0..5u8)
            } else {
                a
            };
            let c = if rng.random::<f64>() < noise {
                rng.random_range(0..3u8)
            } else {
                (a + b) % 3
            };
            let d = if rng.random::<f64>() < noise {
                rng.random_range(0..6u8)
            } else {
                a + c
            };
            for (k, v) in [a, b, c, d].into_iter().enumerate() {
                cols[k].push(v);
            }
        }
        CodeMatrix {
            n_rows: n,
            names: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            columns: cols,
            cardinalities: cards.clone(),
        }
    };
    let trn = gen(n_trn, 0.2);
    let pool = gen(n_pool, 0.5);
    (trn, pool)
}

fn opts(n: usize) -> FlatOptions {
    let mut o = FlatOptions::new(n);
    o.max_rounds = Some(6);
    o.anneal_batches = 4;
    o
}

fn quiet(_: Progress) {}

#[test]
fn exactly_n_distinct_sorted_indices() {
    let (trn, pool) = data(300, 1000, 1);
    for init in [InitialSet::Random, InitialSet::Ipf] {
        let mut o = opts(250);
        o.initial = init;
        o.refine = true;
        let s = select_flat(&trn, &pool, None, &o, &quiet).unwrap();
        assert_eq!(s.indices.len(), 250);
        assert!(s.indices.windows(2).all(|w| w[0] < w[1]));
        assert!(s.indices.iter().all(|&i| i < pool.n_rows));
    }
}

#[test]
fn ineligible_rows_are_never_chosen() {
    let (trn, pool) = data(200, 600, 2);
    let eligible: Vec<bool> = (0..pool.n_rows).map(|i| i % 3 != 0).collect();
    for init in [InitialSet::Random, InitialSet::Ipf] {
        let mut o = opts(300);
        o.initial = init;
        o.refine = true;
        let s = select_flat(&trn, &pool, Some(&eligible), &o, &quiet).unwrap();
        assert_eq!(s.indices.len(), 300);
        assert!(s.indices.iter().all(|&i| eligible[i]));
    }
    // Exactly as many eligible rows as requested: all of them.
    let mut o = opts(400);
    o.max_rounds = Some(2);
    let s = select_flat(&trn, &pool, Some(&eligible), &o, &quiet).unwrap();
    assert_eq!(
        s.indices,
        (0..pool.n_rows)
            .filter(|&i| eligible[i])
            .collect::<Vec<_>>()
    );
}

#[test]
fn improving_stages_never_make_the_objective_worse() {
    let (trn, pool) = data(400, 1500, 3);
    for (cross, temp) in [(0, 30.0), (16, 30.0), (0, 0.0)] {
        let mut o = opts(400);
        o.refine = true;
        o.anneal_cross = cross;
        o.anneal_temperature = temp;
        let s = select_flat(&trn, &pool, None, &o, &quiet).unwrap();
        for st in &s.stages {
            if st.name == "refine" || st.name == "anneal" {
                assert!(st.objective_after <= st.objective_before + 1e-12, "{st:?}");
            }
        }
        let first = s.stages[0].objective_after;
        assert!(s.objective < first, "{first} -> {}", s.objective);
    }
}

#[test]
fn same_seed_same_selection_regardless_of_threads() {
    let (trn, pool) = data(300, 1200, 4);
    for cross in [0, 16] {
        let mut o = opts(300);
        o.refine = true;
        o.anneal_cross = cross;
        o.seed = 7;
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| select_flat(&trn, &pool, None, &o, &quiet).unwrap().indices)
        };
        let a = run(1);
        assert_eq!(a, run(2));
        assert_eq!(a, run(3));
        o.seed = 8;
        let other = select_flat(&trn, &pool, None, &o, &quiet).unwrap().indices;
        assert_ne!(a, other);
    }
}

#[test]
#[allow(clippy::needless_range_loop)]
fn known_optimum_copies_of_training_are_found() {
    // Training: 4 records. Pool: those 4 records hidden among 12 others that
    // never occur in training; the only zero-objective selection is the copies.
    let trn = CodeMatrix {
        n_rows: 4,
        names: vec!["x".into(), "y".into(), "z".into()],
        columns: vec![vec![0, 1, 2, 0], vec![1, 1, 0, 2], vec![0, 1, 1, 0]],
        cardinalities: vec![3, 3, 2],
    };
    let mut cols = vec![vec![], vec![], vec![]];
    let copies = [3usize, 7, 10, 14];
    let mut k = 0;
    for i in 0..16 {
        if copies.contains(&i) {
            for c in 0..3 {
                cols[c].push(trn.columns[c][k]);
            }
            k += 1;
        } else {
            // (2, 2, 1) and (1, 0, 0) never occur in training.
            let v = if i % 2 == 0 { [2u8, 2, 1] } else { [1u8, 0, 0] };
            for c in 0..3 {
                cols[c].push(v[c]);
            }
        }
    }
    let pool = CodeMatrix {
        n_rows: 16,
        names: trn.names.clone(),
        columns: cols,
        cardinalities: trn.cardinalities.clone(),
    };
    for (cross, refine) in [(0, false), (4, false), (0, true)] {
        let mut o = opts(4);
        o.anneal_cross = cross;
        o.refine = refine;
        o.max_rounds = Some(20);
        let s = select_flat(&trn, &pool, None, &o, &quiet).unwrap();
        assert_eq!(s.indices, copies.to_vec(), "cross {cross} refine {refine}");
        assert!(s.objective.abs() < 1e-12);
    }
}

#[test]
fn errors_carry_the_numbers() {
    let (trn, pool) = data(50, 100, 5);
    let e =
        |o: &FlatOptions, el: Option<&[bool]>| select_flat(&trn, &pool, el, o, &quiet).unwrap_err();
    assert_eq!(e(&opts(0), None), SelectError::EmptySelection);
    assert_eq!(
        e(&opts(101), None),
        SelectError::PoolTooSmall {
            pool: 100,
            size: 101
        }
    );
    let el: Vec<bool> = (0..100).map(|i| i < 30).collect();
    assert_eq!(
        e(&opts(31), Some(&el)),
        SelectError::TooFewEligible {
            eligible: 30,
            pool: 100,
            size: 31
        }
    );
    assert_eq!(
        e(&opts(10), Some(&el[..5])),
        SelectError::EligibleLength { mask: 5, pool: 100 }
    );

    let mut p2 = pool.clone();
    p2.names[2] = "zz".into();
    let err = select_flat(&trn, &p2, None, &opts(10), &quiet).unwrap_err();
    assert_eq!(
        err,
        SelectError::ColumnName {
            index: 2,
            training: "c".into(),
            pool: "zz".into()
        }
    );
    let mut p3 = pool.clone();
    p3.columns.pop();
    p3.names.pop();
    p3.cardinalities.pop();
    let err = select_flat(&trn, &p3, None, &opts(10), &quiet).unwrap_err();
    assert_eq!(
        err,
        SelectError::ColumnCount {
            training: 4,
            pool: 3
        }
    );
    let mut p4 = pool.clone();
    p4.columns[1][7] = 9;
    let err = select_flat(&trn, &p4, None, &opts(10), &quiet).unwrap_err();
    assert!(
        matches!(
            err,
            SelectError::CodeOutOfRange {
                row: 7,
                code: 9,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn triples_are_sampled_when_too_many() {
    let t = model::sample_triples(10, 50, 3);
    assert_eq!(t.len(), 50);
    assert!(t.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(model::sample_triples(10, 50, 3), t);
    assert_eq!(model::sample_triples(5, 50, 3).len(), 10);
}

#[test]
fn swap_gain_matches_recomputed_objective() {
    let (trn, pool) = data(200, 400, 6);
    let marg = Marginals::new(&trn.cardinalities, 100, 150, 1);
    let targets = marg.targets(&trn, 150);
    let rows = RowCodes::from_columns(&pool);
    let mut st = State::new(&marg, &targets);
    for i in 0..150 {
        st.add(rows.row(i));
    }
    let mut shared = Vec::new();
    for (i, j) in [(0usize, 200usize), (5, 151), (149, 399), (3, 3 + 150)] {
        let before = st.objective();
        let d = st.swap_gain(rows.row(i), rows.row(j));
        let corr = st.shared_correction(rows.row(i), rows.row(j), &mut shared);
        let sum = st.rem_gain(rows.row(i)) + st.add_gain(rows.row(j));
        assert!((sum - corr - d).abs() < 1e-12);
        st.remove(rows.row(i));
        st.add(rows.row(j));
        assert!((st.objective() - before - d).abs() < 1e-12);
        st.remove(rows.row(j));
        st.add(rows.row(i));
    }
}

#[test]
fn bounded_swap_gain_is_exact_below_its_threshold() {
    let (trn, pool) = data(200, 400, 7);
    let marg = Marginals::new(&trn.cardinalities, 100, 150, 1);
    let targets = marg.targets(&trn, 150);
    let rows = RowCodes::from_columns(&pool);
    let mut st = State::new(&marg, &targets);
    for i in 0..150 {
        st.add(rows.row(i));
    }
    for (i, j) in (0..150).zip(150..400) {
        let d = st.swap_gain(rows.row(i), rows.row(j));
        for th in [d - 1e-9, d + 1e-9, d + 0.01, f64::INFINITY] {
            let b = st.swap_gain_below(rows.row(i), rows.row(j), th, 1.0);
            if d < th {
                assert!((b - d).abs() < 1e-9, "{b} vs {d}");
            } else {
                assert!(b >= th);
            }
            // A screen never reports a failing swap as passing.
            let s = st.swap_gain_below(rows.row(i), rows.row(j), th, 0.2);
            assert!(s >= th || (s - d).abs() < 1e-9);
        }
    }
}

#[test]
fn smoothed_triples_keep_their_pair_margins() {
    let (trn, _) = data(300, 10, 8);
    let marg = Marginals::new(&trn.cardinalities, 100, 300, 1);
    let raw = marg.targets(&trn, 300);
    let mut sm = raw.clone();
    marg.smooth_triples(&mut sm, 0.3);
    let nu = marg.uni.len() + marg.bi.len();
    // Uni- and bivariate targets untouched, triples changed but same totals.
    assert_eq!(raw[..marg.ranges[nu - 1].1], sm[..marg.ranges[nu - 1].1]);
    assert_ne!(raw, sm);
    for (k, t) in marg.tri.iter().enumerate() {
        let (s, e) = marg.ranges[nu + k];
        let (kc, kb) = (t.sb as usize, (t.sa / t.sb) as usize);
        let ka = (e - s) / (kb * kc);
        // The (a, b) margin of the smoothed triple equals the raw one.
        for x in 0..ka {
            for y in 0..kb {
                let m = |v: &[f32]| {
                    (0..kc)
                        .map(|z| v[s + (x * kb + y) * kc + z] as f64)
                        .sum::<f64>()
                };
                assert!(
                    (m(&raw) - m(&sm)).abs() < 1e-2,
                    "triple {k} cell ({x},{y}) {} {}",
                    m(&raw),
                    m(&sm)
                );
            }
        }
    }
    let mut zero = raw.clone();
    marg.smooth_triples(&mut zero, 0.0);
    assert_eq!(zero, raw);
}

#[test]
fn the_stop_reason_is_reported() {
    let (trn, pool) = data(300, 1000, 9);
    let mut o = opts(250);
    o.max_rounds = Some(3);
    assert_eq!(
        select_flat(&trn, &pool, None, &o, &quiet).unwrap().stop,
        Stop::Rounds
    );
    o.max_rounds = None;
    o.time_budget = std::time::Duration::from_millis(200);
    assert_eq!(
        select_flat(&trn, &pool, None, &o, &quiet).unwrap().stop,
        Stop::Budget
    );
    o.anneal = false;
    o.refine = true;
    o.time_budget = std::time::Duration::from_secs(60);
    assert_eq!(
        select_flat(&trn, &pool, None, &o, &quiet).unwrap().stop,
        Stop::Converged
    );
}
