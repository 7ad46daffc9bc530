//! `synthsift select`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use synthsift::pool::{encode_pool, write_selected, Encoder};
use synthsift::select::{select_flat, FlatOptions, InitialSet, Progress, Stop};
use synthsift::table::read_table;

use crate::cli::SelectArgs;
use crate::output::write_atomically;

/// Bins per column of the objective: the metric's own.
const BINS: usize = synthsift::metrics::accuracy::ACCURACY_BINS;

pub fn run(args: SelectArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let budget = args.time_budget;
    if args.size == 0 {
        bail!("--size must be at least 1");
    }
    check_output_format(&args.pool, &args.output)?;
    if let Some(key) = args.group_key.clone() {
        return crate::select_sequential::run(args, &key, start);
    }

    // 1. Training data: bins of the metric, codes, fingerprints.
    let training = read_table(&args.training)?;
    if training.n_rows == 0 {
        bail!("{}: no records", args.training.display());
    }
    let encoder = Encoder::fit(&training, None, BINS);
    let training_codes = encoder.encode_table(&training);
    let training_prints: std::collections::HashSet<u64> =
        encoder.fingerprints(&training).into_iter().collect();
    drop(training);
    tracing::info!(
        "training: {} records, {} columns, read and binned in {:.1}s",
        training_codes.n_rows,
        training_codes.n_columns(),
        start.elapsed().as_secs_f64()
    );

    // 2. The pool, binned in one streaming pass.
    let bar = spinner("reading pool");
    let (pool, _) = encode_pool(&args.pool, &encoder, &[], None, &|n| {
        bar.set_message(format!("reading pool: {n} records"))
    })?;
    bar.finish_and_clear();
    for (name, &n) in encoder.columns.iter().zip(&pool.unconvertible) {
        if n > 0 {
            eprintln!(
                "note: {}: column {name:?}: {n} value(s) do not convert to the training's kind and count as missing",
                args.pool.display()
            );
        }
    }
    let copies: Vec<bool> = pool
        .fingerprints
        .iter()
        .map(|h| training_prints.contains(h))
        .collect();
    let n_copies = copies.iter().filter(|&&c| c).count();
    tracing::info!(
        "pool: {} records read and binned ({:.1}s); {n_copies} are exact copies of training records{}",
        pool.codes.n_rows,
        start.elapsed().as_secs_f64(),
        if args.allow_copies { " (allowed)" } else { " and are never selected" }
    );
    let eligible: Vec<bool> = copies.iter().map(|&c| args.allow_copies || !c).collect();

    // 3. Select, within what is left of the time budget (writing the output
    //    is a streaming pass of about the same cost as reading the pool).
    let read_time = start.elapsed();
    let remaining = budget
        .saturating_sub(read_time * 2)
        .max(Duration::from_secs(1));
    let mut opts = FlatOptions::new(args.size);
    opts.seed = args.seed;
    opts.time_budget = remaining;
    if args.ipf {
        opts.initial = InitialSet::Ipf;
    }
    opts.trim = !args.no_trim;
    opts.refine = !args.no_refine;
    opts.anneal = !args.no_anneal;
    if let Some(t) = args.max_triples {
        opts.max_triples = t;
    }
    opts.max_rounds = args.max_rounds;
    if !(0.0..=1.0).contains(&args.triple_smoothing) {
        bail!("--triple-smoothing must be between 0 and 1");
    }
    opts.triple_smoothing = args.triple_smoothing;
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{elapsed_precise}] {wide_bar} {percent:>3}%")
            .expect("valid template"),
    );
    let selection = select_flat(
        &training_codes,
        &pool.codes,
        Some(&eligible),
        &opts,
        &|p: Progress| {
            bar.set_message(format!("{} (objective {:.5})", p.stage, p.objective));
            if let Some(permille) = (p.done * 1000).checked_div(p.total) {
                bar.set_position(permille);
            }
        },
    )?;
    bar.finish_and_clear();
    match selection.stop {
        Stop::Budget => tracing::info!(
            "search stopped by the time budget ({:.1}s of selection): the result depends on machine speed; use --max-rounds for a reproducible run",
            opts.time_budget.as_secs_f64()
        ),
        Stop::Rounds => tracing::info!(
            "search stopped after --max-rounds {} (reproducible)",
            opts.max_rounds.unwrap_or(0)
        ),
        Stop::Converged => tracing::info!("search stopped on convergence (reproducible)"),
    }
    for s in &selection.stages {
        tracing::info!(
            "stage {}: objective {:.6} -> {:.6}, {} records moved, {:.1}s",
            s.name,
            s.objective_before,
            s.objective_after,
            s.moved,
            s.seconds
        );
    }

    // 4. Write the chosen records exactly as they are in the pool.
    let mut keep = vec![false; pool.codes.n_rows];
    selection.indices.iter().for_each(|&i| keep[i] = true);
    write_chosen(&args.pool, &args.output, &keep)?;
    eprintln!(
        "selected {} of {} pool records ({n_copies} training copies excluded) -> {} in {:.1}s",
        selection.indices.len(),
        pool.codes.n_rows,
        args.output.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The chosen records keep the pool's format: CSV in, CSV (or CSV.gz) out;
/// Parquet in, Parquet out.
fn check_output_format(pool: &Path, output: &Path) -> anyhow::Result<()> {
    use synthsift::table::FileFormat;
    let (p, o) = (FileFormat::of(pool)?, FileFormat::of(output)?);
    if p != o {
        bail!(
            "{}: the output keeps the pool's format ({p:?}); name it .csv/.csv.gz for a CSV pool, .parquet for a Parquet pool",
            output.display()
        );
    }
    Ok(())
}

pub(crate) fn spinner(msg: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Writes the pool records flagged in `keep` to `output`, exactly as they
/// are in the pool, through a temporary file renamed on success (`.gz`
/// compresses CSV).
pub(crate) fn write_chosen(pool: &Path, output: &Path, keep: &[bool]) -> anyhow::Result<()> {
    let gzip = output.to_string_lossy().to_lowercase().ends_with(".gz");
    write_atomically(output, |w| {
        write_selected(pool, keep, w, gzip)?;
        Ok(())
    })
    .with_context(|| format!("writing {}", output.display()))
}

/// Parses `90`, `90s`, `10m`, `1h`, `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let err = || format!("{text:?} is not a duration (examples: 90s, 10m, 1h)");
    let mut total = 0u64;
    let mut number = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(err()),
        };
        total += number.parse::<u64>().map_err(|_| err())? * unit;
        number.clear();
        any = true;
    }
    if !number.is_empty() {
        total += number.parse::<u64>().map_err(|_| err())?;
        any = true;
    }
    if !any || total == 0 {
        return Err(err());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
