//! The `synthsift` binary, run end to end on real files in temporary
//! directories.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

mod common;
use common::{p, stderr, stdout, synthsift};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn gz_lines(path: &Path) -> Vec<String> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines().map(String::from).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn evaluate_prints_the_table_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let case = repo().join("tests/fixtures/edge/many_categories");
    let json = dir.path().join("out.json");
    let o = synthsift(&[
        "evaluate",
        "--training",
        p(&case.join("training.csv")),
        "--synthetic",
        p(&case.join("synthetic.csv")),
        "--holdout",
        p(&case.join("holdout.csv")),
        "--json",
        p(&json),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("overall") && out.contains("trivariate"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // The reference's figure for this case (tests/golden/edge-many_categories.json).
    assert!((v["accuracy"]["overall"].as_f64().unwrap() - 0.7579311).abs() < 1e-6);
    assert!(!v["bivariates"].as_array().unwrap().is_empty());
}

#[test]
fn evaluate_privacy_of_a_training_copy_with_and_without_holdout() {
    let dir = tempfile::tempdir().unwrap();
    let case = repo().join("tests/fixtures/edge/many_categories");
    let json = dir.path().join("out.json");
    // The synthetic data is the training data itself.
    let o = synthsift(&[
        "evaluate",
        "--training",
        p(&case.join("training.csv")),
        "--synthetic",
        p(&case.join("training.csv")),
        "--holdout",
        p(&case.join("holdout.csv")),
        "--json",
        p(&json),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("DCR share"), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let d = &v["distances"];
    // Equal-sized samples (the holdout is smaller than the training data) are
    // drawn independently, so not every sampled synthetic record has its
    // training twin in the training sample; most do.
    assert!(d["ims_training"].as_f64().unwrap() > 0.8, "{d}");
    assert!(d["ims_holdout"].as_f64().unwrap() < 0.1, "{d}");
    assert!(
        d["dcr_training"].as_f64() < d["dcr_holdout"].as_f64(),
        "{d}"
    );
    assert!(d["dcr_share"].as_f64().unwrap() > 0.9, "{d}");
    assert_eq!(d["records"].as_u64(), Some(250), "{d}");
    for name in [
        "ims_holdout",
        "ims_trn_hol",
        "dcr_holdout",
        "dcr_trn_hol",
        "nndr_training",
        "nndr_holdout",
        "nndr_trn_hol",
    ] {
        assert!(d[name].is_number(), "{name}: {d}");
    }

    // Without a holdout: what can be computed, and a pointer to what needs one.
    let o = synthsift(&[
        "evaluate",
        "--training",
        p(&case.join("training.csv")),
        "--synthetic",
        p(&case.join("synthetic.csv")),
        "--json",
        p(&json),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("needs --holdout"), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let d = &v["distances"];
    assert!(d["dcr_training"].as_f64().unwrap() > 0.0, "{d}");
    assert!(
        d["dcr_share"].is_null() && d["ims_holdout"].is_null(),
        "{d}"
    );
}

#[test]
fn evaluate_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "a,b\n1,x\n2,y\n").unwrap();
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, "a,b\n1,x\n2,y,3\n").unwrap();
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "a,c\n1,x\n").unwrap();
    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"a,b\n1,caf\xe9\n").unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("nope.csv");

    let cases: Vec<(&Path, &[&str])> = vec![
        (&missing, &["nope.csv"]),
        (&ragged, &["ragged.csv", "line 3", "3 fields"]),
        (&other, &["other.csv", "b"]),
        (&latin1, &["latin1.csv", "line 2", "UTF-8"]),
        (&empty, &["empty.csv", "empty"]),
    ];
    for (synthetic, expected) in cases {
        let o = synthsift(&[
            "evaluate",
            "--training",
            p(&good),
            "--synthetic",
            p(synthetic),
        ]);
        assert!(!o.status.success());
        let err = stderr(&o);
        for e in expected {
            assert!(err.contains(e), "expected {e:?} in: {err}");
        }
    }
    let o = synthsift(&[
        "evaluate",
        "--training",
        p(&good),
        "--synthetic",
        p(&good),
        "--group-key",
        "id",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("\"id\""), "{}", stderr(&o));
}

/// A small flat case from the bundled data: 1,000 training records and a
/// pool of 4,000 generated records plus 50 copies of training records.
fn small_flat_case(dir: &Path) -> (PathBuf, PathBuf, Vec<String>, Vec<String>) {
    let fixtures = repo().join("tests/fixtures");
    let trn = gz_lines(&fixtures.join("flat-training.csv.gz"));
    let syn = gz_lines(&fixtures.join("flat-syn.csv.gz"));
    let training: Vec<String> = trn[..1001].to_vec();
    let mut pool: Vec<String> = syn[..4001].to_vec();
    pool.extend(trn[1..51].iter().cloned());
    let (t, p) = (dir.join("training.csv"), dir.join("pool.csv"));
    write_lines(&t, &training);
    write_lines(&p, &pool);
    (t, p, training, pool)
}

#[test]
fn select_writes_n_distinct_pool_records_and_no_training_copies() {
    let dir = tempfile::tempdir().unwrap();
    let (t, pool_path, training, pool) = small_flat_case(dir.path());
    let out = dir.path().join("selected.csv");
    let args = |out: &Path| {
        vec![
            "select".to_string(),
            "--training".into(),
            p(&t).into(),
            "--pool".into(),
            p(&pool_path).into(),
            "--size".into(),
            "800".into(),
            "--output".into(),
            p(out).into(),
            "--seed".into(),
            "7".into(),
            "--time-budget".into(),
            "3s".into(),
        ]
    };
    let a: Vec<String> = args(&out);
    let o = synthsift(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));

    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], pool[0], "header kept");
    let records = &lines[1..];
    assert_eq!(records.len(), 800);
    // Byte-identical pool records (a pool line may occur twice in the pool
    // itself, so compare as multisets of distinct pool rows).
    let pool_set: HashSet<&str> = pool[1..].iter().map(String::as_str).collect();
    assert!(records.iter().all(|r| pool_set.contains(r)));
    let training_set: HashSet<&str> = training[1..].iter().map(String::as_str).collect();
    assert!(
        records.iter().all(|r| !training_set.contains(r)),
        "a training copy was selected"
    );
    let n_pool_copies = pool[1..]
        .iter()
        .filter(|r| training_set.contains(r.as_str()))
        .count();
    assert!(n_pool_copies >= 50);
}

#[test]
fn select_errors_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let (t, pool_path, _, _) = small_flat_case(dir.path());
    let out = dir.path().join("selected.csv");
    let run = |size: &str, pool: &Path| {
        synthsift(&[
            "select",
            "--training",
            p(&t),
            "--pool",
            p(pool),
            "--size",
            size,
            "--output",
            p(&out),
            "--time-budget",
            "2s",
        ])
    };
    let o = run("0", &pool_path);
    assert!(
        !o.status.success() && stderr(&o).contains("size"),
        "{}",
        stderr(&o)
    );
    let o = run("100000", &pool_path);
    assert!(
        !o.status.success() && stderr(&o).contains("fewer"),
        "{}",
        stderr(&o)
    );
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "alice,zzz\nV1,3\n").unwrap();
    let o = run("1", &other);
    assert!(
        !o.status.success() && stderr(&o).contains("zzz"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "no output file after an error");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".synthsift"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn select_with_a_round_cap_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (t, pool_path, _, _) = small_flat_case(dir.path());
    let run = |out: &Path, seed: &str| {
        let o = synthsift(&[
            "select",
            "--training",
            p(&t),
            "--pool",
            p(&pool_path),
            "--size",
            "500",
            "--output",
            p(out),
            "--seed",
            seed,
            "--max-rounds",
            "20",
            "--time-budget",
            "10m",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out).unwrap()
    };
    let a = run(&dir.path().join("a.csv"), "3");
    let b = run(&dir.path().join("b.csv"), "3");
    let c = run(&dir.path().join("c.csv"), "4");
    assert_eq!(a, b, "same seed, same output");
    assert_ne!(a, c, "another seed, another selection");
}

#[test]
fn demo_runs_on_built_in_data_and_improves_on_random() {
    let dir = tempfile::tempdir().unwrap();
    let o = synthsift(&[
        "demo",
        "--dir",
        p(dir.path()),
        "--size",
        "2000",
        "--time-budget",
        "4s",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let overall: Vec<f64> = out
        .lines()
        .find(|l| l.starts_with("overall"))
        .expect("an overall row")
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        overall[1] > overall[0],
        "selection beats a random subset: {out}"
    );
    for f in [
        "training.csv",
        "holdout.csv",
        "pool.csv",
        "random.csv",
        "selected.csv",
    ] {
        assert!(dir.path().join(f).exists(), "{f} written");
    }
}
