//! `synthsift-bench`: end-to-end figures of `synthsift select` and
//! `synthsift evaluate` — accuracy reached, wall time and peak memory — on
//! the shared competition data and on a generated wide table.
//!
//! Each case compares a seeded random subset of the pool with the selection,
//! both measured by `synthsift evaluate` with the holdout. Every command runs
//! as a child process, so wall time and peak RSS are the command's own.
//!
//! ```text
//! cargo build --release
//! target/release/synthsift-bench [--cases flat,sequential,wide] [--shared ../shared/data]
//!     [--work bench-out] [--time-budget 60s] [--seeds 1]
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synthsift::table::{copy_csv_records, CsvSource};

struct Opts {
    cases: Vec<String>,
    shared: PathBuf,
    work: PathBuf,
    time_budget: String,
    seeds: Vec<u64>,
    stages: bool,
    privacy: bool,
}

fn parse_args() -> anyhow::Result<Opts> {
    let mut o = Opts {
        cases: vec!["flat".into(), "sequential".into(), "wide".into()],
        shared: PathBuf::from("../shared/data"),
        work: PathBuf::from("bench-out"),
        time_budget: "60s".into(),
        seeds: vec![1],
        stages: false,
        privacy: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--cases" => o.cases = value()?.split(',').map(String::from).collect(),
            "--shared" => o.shared = value()?.into(),
            "--work" => o.work = value()?.into(),
            "--time-budget" => o.time_budget = value()?,
            "--seeds" => {
                o.seeds = value()?
                    .split(',')
                    .map(|s| s.parse())
                    .collect::<Result<_, _>>()?
            }
            "--stages" => o.stages = true,
            "--no-privacy" => o.privacy = false,
            "-h" | "--help" => {
                println!(
                    "synthsift-bench [--cases flat,sequential,wide] [--shared DIR] [--work DIR] \
                     [--time-budget 60s] [--seeds 1,2,3] [--stages] [--no-privacy]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    Ok(o)
}

/// Wall seconds and peak RSS (MB) of one child process.
struct Run {
    seconds: f64,
    peak_mb: f64,
    stdout: String,
}

fn run(exe: &Path, args: &[&str]) -> anyhow::Result<Run> {
    let start = Instant::now();
    let child = Command::new(exe)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    let mut status = 0;
    // SAFETY: plain FFI call on our own child's pid with valid pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        bail!(
            "waiting for {}: {}",
            exe.display(),
            std::io::Error::last_os_error()
        );
    }
    let seconds = start.elapsed().as_secs_f64();
    let stdout = reader.join().expect("reader thread")?;
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{} {} failed", exe.display(), args.join(" "));
    }
    Ok(Run {
        seconds,
        peak_mb: usage.ru_maxrss as f64 / 1024.0,
        stdout,
    })
}

/// Headline figures from `evaluate --json`.
fn evaluate(
    privacy: bool,
    exe: &Path,
    training: &Path,
    synthetic: &Path,
    holdout: &Path,
    key: Option<&str>,
    json: &Path,
) -> anyhow::Result<(HashMap<String, f64>, Run)> {
    let mut args = vec![
        "evaluate",
        "--training",
        s(training),
        "--synthetic",
        s(synthetic),
        "--holdout",
        s(holdout),
        "--json",
        s(json),
    ];
    if !privacy {
        args.push("--no-privacy");
    }
    if let Some(k) = key {
        args.extend(["--group-key", k]);
    }
    let r = run(exe, &args)?;
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json)?)?;
    let mut figures: HashMap<String, f64> = v["accuracy"]
        .as_object()
        .context("accuracy in json")?
        .iter()
        .filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), x)))
        .collect();
    if let Some(share) = v["distances"]["dcr_share"].as_f64() {
        figures.insert("dcr_share".into(), share);
    }
    Ok((figures, r))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Writes `pool` without the column `key` (the flat view of sequential
/// data), unless that file exists already.
fn drop_column(pool: &Path, key: &str, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        return Ok(());
    }
    let source = CsvSource::open(pool)?;
    let k = source
        .header()
        .iter()
        .position(|h| h == key)
        .context("key column")?;
    let tmp = out.with_extension("tmp");
    let file = std::fs::File::create(&tmp)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut w = csv::Writer::from_writer(gz);
    w.write_record(
        source
            .header()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != k)
            .map(|(_, h)| h),
    )?;
    source.for_each(|r| {
        w.write_record(
            r.fields
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, f)| f),
        )
        .map_err(|e| synthsift::table::TableError::Csv {
            path: out.into(),
            line: r.line,
            message: e.to_string(),
        })
    })?;
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .finish()?;
    std::fs::rename(&tmp, out)?;
    Ok(())
}

/// For each record of a CSV file, the unit it belongs to (its own index, or
/// its sequence's with `key`), and the number of units.
fn units_of_rows(path: &Path, key: Option<&str>) -> anyhow::Result<(Vec<usize>, usize)> {
    let source = CsvSource::open(path)?;
    let k = match key {
        Some(key) => Some(
            source
                .header()
                .iter()
                .position(|h| h == key)
                .with_context(|| format!("{}: no column {key:?}", path.display()))?,
        ),
        None => None,
    };
    let mut unit_of_row = Vec::new();
    let mut units: HashMap<String, usize> = HashMap::new();
    source.for_each(|r| {
        let unit = match k {
            Some(k) => {
                let next = units.len();
                *units.entry(r.fields[k].to_string()).or_insert(next)
            }
            None => unit_of_row.len(),
        };
        unit_of_row.push(unit);
        Ok(())
    })?;
    let n = if k.is_some() {
        units.len()
    } else {
        unit_of_row.len()
    };
    Ok((unit_of_row, n))
}

/// A seeded random subset of `n` records (or sequences, with `key`) of a
/// CSV pool, written byte for byte.
fn random_subset(
    pool: &Path,
    n: usize,
    key: Option<&str>,
    seed: u64,
    out: &Path,
) -> anyhow::Result<()> {
    let (unit_of_row, n_units) = units_of_rows(pool, key)?;
    if n > n_units {
        bail!(
            "{}: {n_units} records or sequences, fewer than {n}",
            pool.display()
        );
    }
    let mut order: Vec<usize> = (0..n_units).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut chosen = vec![false; n_units];
    order[..n].iter().for_each(|&u| chosen[u] = true);
    let keep: Vec<bool> = unit_of_row.iter().map(|&u| chosen[u]).collect();
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    copy_csv_records(pool, &keep, &mut f)?;
    f.flush()?;
    Ok(())
}

struct Case {
    name: &'static str,
    training: PathBuf,
    holdout: PathBuf,
    pool: PathBuf,
    size: usize,
    key: Option<&'static str>,
}

fn count_units(path: &Path, key: Option<&str>) -> anyhow::Result<usize> {
    Ok(units_of_rows(path, key)?.1)
}

fn main() -> anyhow::Result<()> {
    let o = parse_args()?;
    let exe = std::env::current_exe()?.with_file_name("synthsift");
    if !exe.exists() {
        bail!(
            "{} not found; run `cargo build --release` first",
            exe.display()
        );
    }
    std::fs::create_dir_all(&o.work)?;
    let shared = &o.shared;
    let mut cases = Vec::new();
    for name in &o.cases {
        match name.as_str() {
            "flat" => {
                let w = o.work.join("flat");
                std::fs::create_dir_all(&w)?;
                for (src, dst) in [
                    ("seq-training.csv.gz", "training.csv.gz"),
                    ("seq-holdout.csv.gz", "holdout.csv.gz"),
                    ("seq-pool-dev.csv.gz", "pool.csv.gz"),
                ] {
                    drop_column(&shared.join(src), "group_id", &w.join(dst))?;
                }
                let size = count_units(&w.join("training.csv.gz"), None)?;
                cases.push(Case {
                    name: "flat",
                    training: w.join("training.csv.gz"),
                    holdout: w.join("holdout.csv.gz"),
                    pool: w.join("pool.csv.gz"),
                    size,
                    key: None,
                });
            }
            "sequential" => cases.push(Case {
                name: "sequential",
                training: shared.join("seq-training.csv.gz"),
                holdout: shared.join("seq-holdout.csv.gz"),
                pool: shared.join("seq-pool-dev.csv.gz"),
                size: count_units(&shared.join("seq-training.csv.gz"), Some("group_id"))?,
                key: Some("group_id"),
            }),
            "wide" => {
                let w = o.work.join("wide");
                std::fs::create_dir_all(&w)?;
                let (trn, hol, pool) = (
                    w.join("training.csv.gz"),
                    w.join("holdout.csv.gz"),
                    w.join("pool.csv.gz"),
                );
                for (file, seed) in [(&trn, "1"), (&hol, "2")] {
                    if !file.exists() {
                        run(
                            &exe,
                            &[
                                "generate",
                                "--population",
                                "wide",
                                "--rows",
                                "100000",
                                "--seed",
                                seed,
                                "--output",
                                s(file),
                            ],
                        )?;
                    }
                }
                if !pool.exists() {
                    let r = run(
                        &exe,
                        &[
                            "generate",
                            "--training",
                            s(&trn),
                            "--rows",
                            "2500000",
                            "--seed",
                            "3",
                            "--output",
                            s(&pool),
                        ],
                    )?;
                    println!(
                        "wide: generate 2,500,000 records: {:.1} s, {:.0} MB peak",
                        r.seconds, r.peak_mb
                    );
                }
                cases.push(Case {
                    name: "wide",
                    training: trn,
                    holdout: hol,
                    pool,
                    size: 100_000,
                    key: None,
                });
            }
            other => bail!("unknown case {other:?} (flat, sequential, wide)"),
        }
    }

    println!(
        "\n{:<11} {:>4} {:<9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "case",
        "seed",
        "set",
        "overall",
        "uni",
        "bi",
        "tri",
        "coher",
        "dcr shr",
        "wall s",
        "peak MB"
    );
    for case in &cases {
        for &seed in &o.seeds {
            let dir = o.work.join(case.name);
            std::fs::create_dir_all(&dir)?;
            let ext = "csv";
            let random = dir.join(format!("random-{seed}.{ext}"));
            random_subset(&case.pool, case.size, case.key, seed, &random)?;
            let (fig, eval_run) = evaluate(
                o.privacy,
                &exe,
                &case.training,
                &random,
                &case.holdout,
                case.key,
                &dir.join("random.json"),
            )?;
            print_row(case.name, seed, "random", &fig, None);
            // The prize winner's stages (IPF start and greedy trim, then
            // swap refinement) as variants, then the default pipeline.
            let variants: &[(&str, &[&str])] = if o.stages && case.key.is_none() {
                &[
                    ("ipf+trim", &["--ipf", "--no-refine", "--no-anneal"]),
                    ("+refine", &["--ipf", "--no-anneal"]),
                    ("selected", &[]),
                ]
            } else {
                &[("selected", &[])]
            };
            for (label, flags) in variants {
                let selected = dir.join(format!("selected-{seed}.{ext}"));
                let size = case.size.to_string();
                let seed_s = seed.to_string();
                let mut args = vec![
                    "select",
                    "--training",
                    s(&case.training),
                    "--pool",
                    s(&case.pool),
                    "--size",
                    &size,
                    "--output",
                    s(&selected),
                    "--seed",
                    &seed_s,
                    "--time-budget",
                    &o.time_budget,
                ];
                if let Some(k) = case.key {
                    args.extend(["--group-key", k]);
                }
                args.extend(flags.iter());
                let sel = run(&exe, &args)?;
                let json = dir.join("selected.json");
                let (fig, _) = evaluate(
                    o.privacy,
                    &exe,
                    &case.training,
                    &selected,
                    &case.holdout,
                    case.key,
                    &json,
                )?;
                print_row(case.name, seed, label, &fig, Some(&sel));
            }
            println!(
                "{:<11} {:>4} {:<9} evaluate: {:.1} s, {:.0} MB peak",
                case.name, seed, "", eval_run.seconds, eval_run.peak_mb
            );
            let _ = &eval_run.stdout;
        }
    }
    Ok(())
}

fn print_row(case: &str, seed: u64, set: &str, f: &HashMap<String, f64>, r: Option<&Run>) {
    let g = |k: &str| f.get(k).map_or("-".to_string(), |v| format!("{v:.5}"));
    let (wall, peak) = r.map_or(("".into(), "".into()), |r| {
        (format!("{:.1}", r.seconds), format!("{:.0}", r.peak_mb))
    });
    println!(
        "{case:<11} {seed:>4} {set:<9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {wall:>8} {peak:>8}",
        g("overall"),
        g("univariate"),
        g("bivariate"),
        g("trivariate"),
        g("coherence"),
        g("dcr_share")
    );
}
