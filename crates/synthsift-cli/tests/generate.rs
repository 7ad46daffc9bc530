//! `synthsift generate`, run as a user would.

use std::path::Path;
use std::process::Command;

fn synthsift(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_synthsift"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    eprintln!(
        "synthsift {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn population_then_generate_then_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = |args: &[&str]| assert!(synthsift(d, args).status.success());
    ok(&[
        "generate",
        "--population",
        "flat",
        "--rows",
        "2000",
        "--output",
        "trn.csv",
    ]);
    ok(&[
        "generate",
        "--training",
        "trn.csv",
        "--rows",
        "3000",
        "--output",
        "pool.csv",
        "--seed",
        "4",
    ]);
    ok(&[
        "generate",
        "--training",
        "trn.csv",
        "--rows",
        "3000",
        "--output",
        "pool2.csv",
        "--seed",
        "4",
    ]);
    ok(&[
        "generate",
        "--training",
        "trn.csv",
        "--rows",
        "500",
        "--output",
        "pool.parquet",
    ]);

    let trn = lines(&d.join("trn.csv"));
    let pool = lines(&d.join("pool.csv"));
    assert_eq!(pool[0], trn[0], "same header");
    assert_eq!(pool.len(), 3001);
    assert_eq!(pool, lines(&d.join("pool2.csv")), "same seed, same file");

    let out = synthsift(
        d,
        &[
            "evaluate",
            "--training",
            "trn.csv",
            "--synthetic",
            "pool.parquet",
        ],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("overall"));
}

#[test]
fn sequences_get_fresh_unique_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = |args: &[&str]| assert!(synthsift(d, args).status.success());
    ok(&[
        "generate",
        "--population",
        "sequential",
        "--rows",
        "500",
        "--output",
        "trn.csv",
    ]);
    ok(&[
        "generate",
        "--training",
        "trn.csv",
        "--rows",
        "300",
        "--group-key",
        "customer_id",
        "--output",
        "syn.csv",
    ]);
    let syn = lines(&d.join("syn.csv"));
    let mut keys: Vec<&str> = syn[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), 300, "300 contiguous, distinct sequences");
}

#[test]
fn errors_are_clear_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = synthsift(
        d,
        &[
            "generate",
            "--training",
            "nope.csv",
            "--rows",
            "10",
            "--output",
            "o.csv",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));

    std::fs::write(d.join("t.csv"), "a,b\n1,x\n2,y\n").unwrap();
    let out = synthsift(
        d,
        &[
            "generate",
            "--training",
            "t.csv",
            "--rows",
            "10",
            "--output",
            "o.txt",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported file type"));
    let out = synthsift(
        d,
        &[
            "generate",
            "--training",
            "t.csv",
            "--rows",
            "10",
            "--group-key",
            "k",
            "--output",
            "o.csv",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no group key column \"k\""));
    let names: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}
