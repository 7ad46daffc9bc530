//! Privacy metrics of a synthetic file (a development tool until the CLI has them):
//! `cargo run --release --example privacy [--features embeddings] -- TRN SYN [HOL] [--group-key K] [--seed S] [--embedder-dir D]`
use std::path::{Path, PathBuf};
use std::time::Instant;
use synthsift::metrics::privacy::{evaluate_privacy, PrivacyOptions};
use synthsift::table::read_table;

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = PrivacyOptions {
        seed: 1,
        ..Default::default()
    };
    let mut take = |flag: &str| -> Option<String> {
        let i = args.iter().position(|a| a == flag)?;
        let v = args.remove(i + 1);
        args.remove(i);
        Some(v)
    };
    opts.group_key = take("--group-key");
    opts.seed = take("--seed").map_or(1, |s| s.parse().unwrap());
    opts.embedder_dir = take("--embedder-dir").map(PathBuf::from);
    let t0 = Instant::now();
    let trn = read_table(Path::new(&args[0])).unwrap();
    let syn = read_table(Path::new(&args[1])).unwrap();
    let hol = args.get(2).map(|h| read_table(Path::new(h)).unwrap());
    let t1 = Instant::now();
    let m = evaluate_privacy(&trn, &syn, hol.as_ref(), &opts).unwrap();
    let t2 = Instant::now();
    for (k, v) in m.summary_rows() {
        eprintln!("{k:>28}  {v}");
    }
    eprintln!(
        "read {:.1}s, privacy {:.1}s",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64()
    );
    println!("{}", serde_json::to_string(&m).unwrap());
}
