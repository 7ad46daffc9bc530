//! `synthsift select --group-key`: whole sequences, end to end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::{p, stderr, synthsift};
use std::process::Output;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Rows `id,cat,num,txt` of `n` sequences of 1..=6 rows, ids `prefix{i}`.
fn sequences(prefix: &str, n: usize, seed: u64) -> Vec<Vec<String>> {
    let mut rng = Lcg(seed);
    (0..n)
        .map(|i| {
            let len = 1 + rng.next() as usize % 6;
            let cat = ["A", "B", "C"][rng.next() as usize % 3];
            let base = rng.next() % 50;
            (0..len)
                .map(|k| {
                    let num = if rng.next() % 9 == 0 {
                        String::new()
                    } else {
                        format!("{}.{}", base + k as u64 * (rng.next() % 4), rng.next() % 10)
                    };
                    let txt = ["x", "y", "\"quoted, text\"", "z"][rng.next() as usize % 4];
                    format!("{prefix}{i},{cat},{num},{txt}")
                })
                .collect()
        })
        .collect()
}

/// Training file and a pool file whose sequences are interleaved (rows of
/// one group not contiguous); one pool sequence copies a training sequence.
fn case(dir: &Path) -> (PathBuf, PathBuf, Vec<String>, String) {
    let header = "group_id,cat,num,txt".to_string();
    let trn = sequences("t", 60, 1);
    let mut lines = vec![header.clone()];
    trn.iter().for_each(|s| lines.extend(s.iter().cloned()));
    let training = dir.join("training.csv");
    std::fs::write(&training, lines.join("\n") + "\n").unwrap();

    let mut pool_seqs = sequences("p", 150, 2);
    // A copy of training sequence t5 (same rows, same order) under key p-copy.
    let copy: Vec<String> = trn[5]
        .iter()
        .map(|l| l.replacen("t5,", "pcopy,", 1))
        .collect();
    pool_seqs.push(copy);
    // Interleave: round-robin over sequences, one row at a time.
    let mut pool_lines = vec![header];
    let max = pool_seqs.iter().map(Vec::len).max().unwrap();
    for k in 0..max {
        for s in &pool_seqs {
            if let Some(l) = s.get(k) {
                pool_lines.push(l.clone());
            }
        }
    }
    let pool = dir.join("pool.csv");
    std::fs::write(&pool, pool_lines.join("\n") + "\n").unwrap();
    (training, pool, pool_lines, "pcopy".to_string())
}

fn group_rows(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &lines[1..] {
        let key = l.split(',').next().unwrap().to_string();
        m.entry(key).or_default().push(l.clone());
    }
    m
}

fn select(training: &Path, pool: &Path, out: &Path, size: &str, seed: &str) -> Output {
    // A fixed number of search epochs, so that the result does not depend
    // on the machine's speed (a run bounded by its time budget does).
    synthsift(&[
        "select",
        "--max-rounds",
        "6",
        "--training",
        p(training),
        "--pool",
        p(pool),
        "--size",
        size,
        "--group-key",
        "group_id",
        "--output",
        p(out),
        "--seed",
        seed,
        "--time-budget",
        "60s",
    ])
}

#[test]
fn selects_whole_sequences_byte_exact_without_training_copies() {
    let dir = tempfile::tempdir().unwrap();
    let (training, pool, pool_lines, copy_key) = case(dir.path());
    let out = dir.path().join("out.csv");
    let o = select(&training, &pool, &out, "40", "1");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<String> = text.lines().map(String::from).collect();
    assert_eq!(lines[0], pool_lines[0], "header kept");

    // Every output row is a pool row, in pool order, none twice: the
    // output is a subsequence of the pool's lines.
    let mut k = 1;
    for l in &lines[1..] {
        while k < pool_lines.len() && &pool_lines[k] != l {
            k += 1;
        }
        assert!(
            k < pool_lines.len(),
            "row {l:?} is not a pool row in pool order"
        );
        k += 1;
    }

    // Exactly 40 sequences, each complete, none a training copy.
    let chosen = group_rows(&lines);
    let all = group_rows(&pool_lines);
    assert_eq!(chosen.len(), 40);
    for (k, rows) in &chosen {
        assert_eq!(rows, &all[k], "sequence {k} complete and in order");
    }
    assert!(!chosen.contains_key(&copy_key), "training copy selected");

    // The same seed gives the same bytes.
    let out2 = dir.path().join("out2.csv");
    let o = select(&training, &pool, &out2, "40", "1");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(text, std::fs::read_to_string(&out2).unwrap());
}

#[test]
fn allow_copies_makes_every_pool_sequence_eligible() {
    let dir = tempfile::tempdir().unwrap();
    let (training, pool, _, _) = case(dir.path());
    let out = dir.path().join("out.csv");
    // 151 pool sequences, one a training copy: 151 only with --allow-copies.
    let o = select(&training, &pool, &out, "151", "1");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("eligible"), "{}", stderr(&o));
    assert!(!out.exists());
    let o = synthsift(&[
        "select",
        "--training",
        p(&training),
        "--pool",
        p(&pool),
        "--size",
        "151",
        "--group-key",
        "group_id",
        "--output",
        p(&out),
        "--allow-copies",
        "--time-budget",
        "2s",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(group_rows(&lines).len(), 151);
}

#[test]
fn errors_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let (training, pool, _, _) = case(dir.path());
    let out = dir.path().join("out.csv");

    // More sequences than the pool has.
    let o = select(&training, &pool, &out, "500", "1");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("151 sequences"), "{}", stderr(&o));
    assert!(!out.exists());

    // N = 0.
    let o = select(&training, &pool, &out, "0", "1");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--size"), "{}", stderr(&o));
    assert!(!out.exists());

    // The group key is missing from the pool.
    let no_key = dir.path().join("nokey.csv");
    let text = std::fs::read_to_string(&pool).unwrap();
    let stripped: Vec<String> = text
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string())
        .collect();
    std::fs::write(&no_key, stripped.join("\n") + "\n").unwrap();
    let o = select(&training, &no_key, &out, "10", "1");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("group_id"), "{}", stderr(&o));
    assert!(!out.exists());

    // ... and from the training data.
    let o = select(&no_key, &pool, &out, "10", "1");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("group_id"), "{}", stderr(&o));
    assert!(!out.exists());
}
