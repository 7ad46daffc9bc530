//! `synthsift select --group-key K`: choose N whole sequences.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use synthsift::pool::encode_pool;
use synthsift::select::sequential::{
    group_by_hash, select_sequential, sequence_fingerprints, SeqBins, SeqCodes, SeqOptions,
};
use synthsift::select::Progress;
use synthsift::sequences::Sequences;
use synthsift::table::read_table;

use crate::cli::SelectArgs;
use crate::select::{spinner, write_chosen};

/// Seeded draws of the training data the drawn-row bins are fitted on.
const BIN_DRAWS: usize = 5;

/// The key fingerprint `encode_pool` gives a missing key (such rows belong
/// to no sequence, as in pandas' `groupby`).
fn missing_key_hash() -> u64 {
    let mut h = DefaultHasher::new();
    0u8.hash(&mut h);
    h.finish()
}

pub fn run(args: SelectArgs, key: &str, start: Instant) -> anyhow::Result<()> {
    let budget = args.time_budget;

    // 1. Training data: bins, sequence codes, sequence fingerprints.
    let training = read_table(&args.training)?;
    if training.column(key).is_none() {
        bail!("{}: no group key column {key:?}", args.training.display());
    }
    if training.n_rows == 0 {
        bail!("{}: no records", args.training.display());
    }
    if training.columns.len() < 2 {
        bail!(
            "{}: no columns besides the group key",
            args.training.display()
        );
    }
    let bins = SeqBins::fit(&training, key, args.seed, BIN_DRAWS);
    let seqs = Sequences::group(&training, key);
    let train_codes = SeqCodes::build(
        &bins,
        &bins.tgt.encode_table(&training),
        &bins.nxt.encode_table(&training),
        &bins.coh.encode_table(&training),
        &seqs,
    );
    let training_prints: std::collections::HashSet<u64> =
        sequence_fingerprints(&bins.tgt.fingerprints(&training), &seqs)
            .into_iter()
            .collect();
    drop(training);
    tracing::info!(
        "training: {} sequences ({} rows), {} data columns, read and binned in {:.1}s",
        train_codes.len(),
        seqs.rows.len(),
        bins.n_columns(),
        start.elapsed().as_secs_f64()
    );
    drop(seqs);

    // 2. The pool, binned with all three bin sets in one streaming pass.
    let t_pool = Instant::now();
    let bar = spinner("reading pool");
    let (pool, keys) = encode_pool(
        &args.pool,
        &bins.tgt,
        &[&bins.nxt, &bins.coh],
        Some(key),
        &|n| bar.set_message(format!("reading pool: {n} records")),
    )?;
    bar.finish_and_clear();
    for (name, &n) in bins.tgt.columns.iter().zip(&pool.unconvertible) {
        if n > 0 {
            eprintln!(
                "note: {}: column {name:?}: {n} value(s) do not convert to the training's kind and count as missing",
                args.pool.display()
            );
        }
    }
    let n_rows = pool.codes.n_rows;
    let pool_seqs = group_by_hash(&keys, Some(missing_key_hash()));
    drop(keys);
    let no_key = n_rows - pool_seqs.rows.len();
    if no_key > 0 {
        eprintln!(
            "note: {}: {no_key} row(s) have no {key:?} value, belong to no sequence and are never selected",
            args.pool.display()
        );
    }
    let pool_codes = SeqCodes::build(
        &bins,
        &pool.codes,
        &pool.extra_codes[0],
        &pool.extra_codes[1],
        &pool_seqs,
    );
    let copies: Vec<bool> = sequence_fingerprints(&pool.fingerprints, &pool_seqs)
        .iter()
        .map(|h| training_prints.contains(h))
        .collect();
    drop(pool);
    let n_copies = copies.iter().filter(|&&c| c).count();
    let pool_time = t_pool.elapsed();
    tracing::info!(
        "pool: {} sequences ({n_rows} rows) read and binned ({:.1}s); {n_copies} are exact copies of training sequences{}",
        pool_codes.len(),
        pool_time.as_secs_f64(),
        if args.allow_copies { " (allowed)" } else { " and are never selected" }
    );
    let eligible: Vec<bool> = copies.iter().map(|&c| args.allow_copies || !c).collect();

    // 3. Select, within what is left of the budget (writing the output is a
    //    streaming pass of about the cost of reading the pool).
    let reserve = pool_time.mul_f64(0.8) + Duration::from_millis(1500);
    let remaining = budget
        .saturating_sub(start.elapsed() + reserve)
        .max(Duration::from_secs(1));
    let mut opts = SeqOptions::new(args.size);
    opts.seed = args.seed;
    opts.time_budget = remaining;
    if let Some(t) = args.max_triples {
        opts.max_triples = t;
    }
    if args.max_rounds.is_some() {
        opts.max_rounds = args.max_rounds;
    }
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{elapsed_precise}] {wide_bar} {percent:>3}%")
            .expect("valid template"),
    );
    let selection = select_sequential(
        &bins,
        &train_codes,
        &pool_codes,
        Some(&eligible),
        &opts,
        &|p: Progress| {
            bar.set_message(format!("{} (objective {:.5})", p.stage, p.objective));
            if let Some(pos) = (p.done * 1000).checked_div(p.total) {
                bar.set_position(pos);
            }
        },
    )?;
    bar.finish_and_clear();
    for s in &selection.stages {
        tracing::info!(
            "stage {}: objective {:.6} -> {:.6}, {} moves, {:.1}s",
            s.name,
            s.objective_before,
            s.objective_after,
            s.moved,
            s.seconds
        );
    }
    tracing::info!(
        "per family (uni, bi, tri, next-row, categories/sequence, sequences/category): {:.5?}",
        selection.families
    );

    // 4. Write every row of the chosen sequences exactly as in the pool.
    let mut keep = vec![false; n_rows];
    let mut n_out = 0usize;
    for &s in &selection.sequences {
        for &r in pool_seqs.rows_of(s) {
            keep[r] = true;
            n_out += 1;
        }
    }
    write_chosen(&args.pool, &args.output, &keep)?;
    eprintln!(
        "selected {} of {} pool sequences ({n_out} rows; {n_copies} training copies {}) -> {} in {:.1}s",
        selection.sequences.len(),
        pool_codes.len(),
        if args.allow_copies { "allowed" } else { "excluded" },
        args.output.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
