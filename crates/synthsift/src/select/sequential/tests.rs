use std::time::Duration;

use super::model::{RowMarg, COUNT, SLOT};
use super::*;
use crate::sequences::Sequences;
use crate::table::{Column, ColumnData, Table};

/// A table with a key column `k`, a numeric column `x` and a categorical
/// column `c`; `keys[i]` is the key of row `i`.
fn table(keys: &[u32], x: &[f64], c: &[u32]) -> Table {
    let n_keys = keys.iter().max().map_or(0, |&m| m + 1);
    Table {
        source: "t".into(),
        n_rows: keys.len(),
        columns: vec![
            Column {
                name: "k".into(),
                data: ColumnData::Categorical {
                    codes: keys.to_vec(),
                    dict: (0..n_keys).map(|i| format!("s{i}")).collect(),
                },
            },
            Column {
                name: "x".into(),
                data: ColumnData::Numeric(x.to_vec()),
            },
            Column {
                name: "c".into(),
                data: ColumnData::Categorical {
                    codes: c.to_vec(),
                    dict: ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect(),
                },
            },
        ],
    }
}

/// A pseudo-random sequential table: `n_seq` sequences of 1..=max_len rows,
/// rows of different sequences interleaved (non-contiguous keys).
fn random_table(n_seq: usize, max_len: usize, seed: u64) -> Table {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut rows: Vec<(u32, f64, u32)> = Vec::new();
    for s in 0..n_seq {
        let len = 1 + next() % max_len;
        let base = (next() % 7) as f64;
        let cat = (next() % 4) as u32;
        for _ in 0..len {
            let x = base + (next() % 5) as f64;
            let c = if next() % 3 == 0 {
                (next() % 4) as u32
            } else {
                cat
            };
            rows.push((s as u32, x, c));
        }
    }
    // Interleave: rotate every second sequence's rows to the end.
    let (mut a, b): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.0 % 2 == 0);
    a.extend(b);
    let keys: Vec<u32> = a.iter().map(|r| r.0).collect();
    let x: Vec<f64> = a.iter().map(|r| r.1).collect();
    let c: Vec<u32> = a.iter().map(|r| r.2).collect();
    table(&keys, &x, &c)
}

fn codes_of(bins: &SeqBins, t: &Table) -> SeqCodes {
    let seqs = Sequences::group(t, "k");
    SeqCodes::build(
        bins,
        &bins.tgt.encode_table(t),
        &bins.nxt.encode_table(t),
        &bins.coh.encode_table(t),
        &seqs,
    )
}

/// The cell of marginal `m` for a drawn row `i` of a sequence and its next
/// row `next`, from the raw code matrices (positions: 0 = length,
/// 1..=d drawn row, d+1..=2d next row).
#[allow(clippy::too_many_arguments)]
fn brute_cell(
    m: &RowMarg,
    d: usize,
    len_code: u8,
    tgt: &crate::codes::CodeMatrix,
    nxt: &crate::codes::CodeMatrix,
    na: &[u8],
    row: usize,
    next: Option<usize>,
) -> u32 {
    let code = |p: usize| -> u32 {
        if p == 0 {
            len_code as u32
        } else if p <= d {
            tgt.columns[p - 1][row] as u32
        } else {
            match next {
                Some(r) => nxt.columns[p - 1 - d][r] as u32,
                None => na[p - 1 - d] as u32,
            }
        }
    };
    m.off
        + (0..3)
            .map(|k| code(m.pos[k] as usize) * m.stride[k])
            .sum::<u32>()
}

#[test]
fn expected_draw_weighting_matches_brute_force_enumeration() {
    // Sequences of lengths 1, 2, 3, 4 with keys interleaved in the file.
    let keys = [0, 1, 2, 3, 1, 2, 3, 2, 3, 3];
    let x = [1.0, 2.0, 3.0, 4.0, 2.0, 5.0, 1.0, 3.0, 2.0, 6.0];
    let c = [0, 1, 2, 3, 1, 0, 3, 2, 2, 1];
    let t = table(&keys, &x, &c);
    let bins = SeqBins::fit(&t, "k", 1, 1);
    let codes = codes_of(&bins, &t);
    let model = Model::new(&bins, 10_000, 1);
    // Fractional contributions of all sequences (r = −h).
    let mut r = vec![0.0; model.n_cells];
    for s in 0..codes.len() {
        model.apply(&codes, &mut r, s, 1.0);
    }

    // Every combination of the metric's draws: one of the first len − 1
    // rows per sequence (the only row when len = 1), plus its next row.
    let seqs = Sequences::group(&t, "k");
    let tgt = bins.tgt.encode_table(&t);
    let nxt = bins.nxt.encode_table(&t);
    let na: Vec<u8> = bins.nxt.bins.iter().map(|b| b.na_code()).collect();
    let d = bins.n_columns();
    let choices: Vec<usize> = (0..seqs.len())
        .map(|s| (seqs.rows_of(s).len() - 1).max(1))
        .collect();
    assert_eq!(choices, vec![1, 1, 2, 3]);
    let n_combos: usize = choices.iter().product();
    let mut mean = vec![0.0; model.n_cells];
    let mut pick = vec![0usize; seqs.len()];
    for combo in 0..n_combos {
        let mut rest = combo;
        for (s, &k) in choices.iter().enumerate() {
            pick[s] = rest % k;
            rest /= k;
        }
        for s in 0..seqs.len() {
            let rows = seqs.rows_of(s);
            let len_code = bins.length.encode_number(rows.len() as f64);
            let row = rows[pick[s]];
            let next = rows.get(pick[s] + 1).copied();
            for m in &model.row {
                let cell = brute_cell(m, d, len_code, &tgt, &nxt, &na, row, next);
                mean[cell as usize] += 1.0 / n_combos as f64;
            }
        }
    }
    for m in &model.row {
        for cell in m.off..m.off + m.n_cells {
            let (h, b) = (-r[cell as usize], mean[cell as usize]);
            assert!(
                (h - b).abs() < 1e-9,
                "marginal {m:?} cell {cell}: {h} vs {b}"
            );
        }
    }
    // Per-sequence parts: one count cell per column, one per present slot.
    for sm in &model.seq {
        let cells = &r[sm.off as usize..(sm.off + sm.n_cells) as usize];
        let total: f64 = -cells.iter().sum::<f64>();
        if sm.fam as usize == COUNT {
            assert!((total - seqs.len() as f64).abs() < 1e-9);
        } else {
            assert_eq!(sm.fam as usize, SLOT);
            assert!(total >= seqs.len() as f64 - 1e-9);
        }
    }
    // Distinct categories of column c per sequence: {0}, {1}, {2, 0}, {3, 2, 1}.
    let j = bins.tgt.columns.iter().position(|n| n == "c").unwrap();
    let counts: Vec<u8> = (0..4).map(|s| codes.count_code[s * d + j]).collect();
    let code_of = |n: f64| bins.counts[j].encode_number(n);
    assert_eq!(
        counts,
        vec![code_of(1.0), code_of(1.0), code_of(2.0), code_of(3.0)]
    );
}

#[test]
fn delta_is_exact() {
    let trn = random_table(40, 6, 1);
    let pool = random_table(120, 7, 2);
    let bins = SeqBins::fit(&trn, "k", 1, 3);
    let tc = codes_of(&bins, &trn);
    let pc = codes_of(&bins, &pool);
    let mut model = Model::new(&bins, 10_000, 1);
    let mut r = model.targets(&tc, 30);
    for s in 0..30 {
        model.apply(&pc, &mut r, s, 1.0);
    }
    let mut buf = Vec::new();
    for (l, j) in [(0u32, 50u32), (3, 31), (29, 119), (7, 7 + 60)] {
        let before = model.objective(&r);
        let d = model.delta(&pc, &r, &[(l, -1.0), (j, 1.0)], &mut buf);
        let mut r2 = r.clone();
        model.apply(&pc, &mut r2, l as usize, -1.0);
        model.apply(&pc, &mut r2, j as usize, 1.0);
        let after = model.objective(&r2);
        assert!(
            (after - before - d).abs() < 1e-12,
            "{d} vs {}",
            after - before
        );
    }
}

fn run(
    trn: &Table,
    pool: &Table,
    eligible: Option<&[bool]>,
    size: usize,
    seed: u64,
) -> Result<SeqSelection, SeqSelectError> {
    let bins = SeqBins::fit(trn, "k", seed, 3);
    let tc = codes_of(&bins, trn);
    let pc = codes_of(&bins, pool);
    let mut opts = SeqOptions::new(size);
    opts.seed = seed;
    opts.max_rounds = Some(4);
    opts.batch = 256;
    opts.batches_per_epoch = 4;
    opts.time_budget = Duration::from_secs(600);
    select_sequential(&bins, &tc, &pc, eligible, &opts, &|_| {})
}

#[test]
fn selects_n_distinct_eligible_sequences_and_improves() {
    let trn = random_table(60, 6, 3);
    let pool = random_table(200, 8, 4);
    let eligible: Vec<bool> = (0..200).map(|i| i % 5 != 0).collect();
    let sel = run(&trn, &pool, Some(&eligible), 50, 1).unwrap();
    assert_eq!(sel.sequences.len(), 50);
    assert!(sel.sequences.windows(2).all(|w| w[0] < w[1]));
    assert!(sel.sequences.iter().all(|&s| eligible[s]));
    let swap = &sel.stages[1];
    assert!(swap.objective_after <= swap.objective_before + 1e-12);
    assert!(swap.objective_after < swap.objective_before, "{swap:?}");
}

#[test]
fn same_seed_same_selection() {
    let trn = random_table(60, 6, 5);
    let pool = random_table(200, 8, 6);
    let a = run(&trn, &pool, None, 40, 7).unwrap();
    let b = run(&trn, &pool, None, 40, 7).unwrap();
    assert_eq!(a.sequences, b.sequences);
    assert_eq!(a.objective, b.objective);
}

#[test]
fn errors() {
    let trn = random_table(20, 4, 8);
    let pool = random_table(30, 4, 9);
    assert_eq!(
        run(&trn, &pool, None, 0, 1).unwrap_err(),
        SeqSelectError::EmptySelection
    );
    assert_eq!(
        run(&trn, &pool, None, 31, 1).unwrap_err(),
        SeqSelectError::PoolTooSmall { pool: 30, size: 31 }
    );
    let eligible: Vec<bool> = (0..30).map(|i| i < 10).collect();
    assert_eq!(
        run(&trn, &pool, Some(&eligible), 11, 1).unwrap_err(),
        SeqSelectError::TooFewEligible {
            eligible: 10,
            pool: 30,
            size: 11
        }
    );
}

#[test]
fn groups_by_hash_in_first_appearance_order() {
    let s = group_by_hash(&[5, 9, 5, 0, 9, 7], Some(0));
    assert_eq!(s.len(), 3);
    assert_eq!(s.rows_of(0), &[0, 2]);
    assert_eq!(s.rows_of(1), &[1, 4]);
    assert_eq!(s.rows_of(2), &[5]);
}

#[test]
fn sequence_fingerprints_depend_on_order() {
    let seqs = group_by_hash(&[1, 1, 2, 2], None);
    let a = sequence_fingerprints(&[10, 20, 20, 10], &seqs);
    assert_ne!(a[0], a[1]);
    let b = sequence_fingerprints(&[10, 20, 10, 20], &seqs);
    assert_eq!(b[0], b[1]);
}
