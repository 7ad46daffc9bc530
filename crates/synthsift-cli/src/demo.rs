//! `synthsift demo`: the whole job on built-in data, with nothing to
//! download — draw a training and a holdout table from a built-in
//! population, generate a 10× pool with the built-in generator, select, and
//! compare a random subset of the pool with the selection.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synthsift::generate::{Generator, GeneratorOptions};
use synthsift::metrics::{evaluate_accuracy, AccuracyOptions, AccuracyReport};
use synthsift::population::{self, Population};
use synthsift::sequences::Sequences;
use synthsift::table::{read_table, write_table, Table};

use crate::cli::{DemoArgs, SelectArgs};

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let kind = if args.sequential {
        Population::Sequential
    } else {
        Population::Flat
    };
    let key = kind.group_key();
    let n = args
        .size
        .unwrap_or(if args.sequential { 2_000 } else { 10_000 });
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => tempfile::Builder::new()
            .prefix("synthsift-demo-")
            .tempdir()?
            .keep(),
    };
    let unit = if key.is_some() {
        "sequences"
    } else {
        "records"
    };
    println!(
        "synthsift demo: {} population, {n} {unit}; files in {}",
        kind.name(),
        dir.display()
    );

    // 1. Training and holdout from the built-in population.
    let path = |name: &str| dir.join(name);
    let training = population::draw(kind, n, args.seed);
    let holdout = population::draw(kind, n, args.seed.wrapping_add(1_000_003));
    write_table(&path("training.csv"), &training)?;
    write_table(&path("holdout.csv"), &holdout)?;

    // 2. A pool ten times the training size from the built-in generator.
    let t = Instant::now();
    let opts = GeneratorOptions {
        group_key: key.map(String::from),
        ..Default::default()
    };
    let generator = Generator::fit(&training, &opts)?;
    let pool = generator.sample(10 * n, args.seed);
    write_table(&path("pool.csv"), &pool)?;
    println!(
        "generated a pool of {} {unit} in {:.1}s",
        10 * n,
        t.elapsed().as_secs_f64()
    );

    // 3. A random subset of the pool, the baseline a selection must beat.
    let random = random_subset(&pool, key, n, args.seed);
    write_table(&path("random.csv"), &random)?;

    // 4. Select.
    let t = Instant::now();
    crate::select::run(SelectArgs {
        training: path("training.csv"),
        pool: path("pool.csv"),
        size: n,
        output: path("selected.csv"),
        group_key: key.map(String::from),
        seed: args.seed,
        time_budget: args.time_budget,
        allow_copies: false,
        ipf: false,
        no_trim: false,
        no_refine: false,
        no_anneal: false,
        max_triples: None,
        max_rounds: None,
        triple_smoothing: 0.1,
    })?;
    let select_secs = t.elapsed().as_secs_f64();

    // 5. Measure both against training + holdout.
    let eval_opts = AccuracyOptions {
        group_key: key.map(String::from),
        seed: args.seed,
    };
    let training = read_table(&path("training.csv"))?;
    let holdout = read_table(&path("holdout.csv"))?;
    let measure = |file: &str| -> anyhow::Result<AccuracyReport> {
        let synthetic = read_table(&path(file))?;
        Ok(evaluate_accuracy(
            &training,
            &synthetic,
            Some(&holdout),
            &eval_opts,
        )?)
    };
    let before = measure("random.csv")?;
    let after = measure("selected.csv")?;
    let reference = evaluate_accuracy(&training, &holdout, None, &eval_opts)?;

    println!("\naccuracy (original = training + holdout)");
    println!(
        "{:<12} {:>12} {:>12} {:>12}",
        "", "random pool", "selected", "max"
    );
    let a = (&before.accuracy, &after.accuracy);
    // (name, random subset, selection, expected maximum)
    let rows = [
        (
            "overall",
            Some(a.0.overall),
            Some(a.1.overall),
            Some(a.1.overall_max),
        ),
        (
            "univariate",
            Some(a.0.univariate),
            Some(a.1.univariate),
            Some(a.1.univariate_max),
        ),
        ("bivariate", a.0.bivariate, a.1.bivariate, a.1.bivariate_max),
        (
            "trivariate",
            a.0.trivariate,
            a.1.trivariate,
            a.1.trivariate_max,
        ),
        ("coherence", a.0.coherence, a.1.coherence, a.1.coherence_max),
    ];
    for (name, b, s, m) in rows {
        if let (Some(b), Some(s), Some(m)) = (b, s, m) {
            println!("{name:<12} {b:>12.5} {s:>12.5} {m:>12.5}");
        }
    }
    println!(
        "(a holdout of the same size scores {:.5} overall against the training data alone)",
        reference.accuracy.overall
    );
    print_copies(&training, &path("random.csv"), &path("selected.csv"), key)?;
    println!(
        "\nselect took {select_secs:.1}s; whole demo {:.1}s. Files: {}",
        start.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}

/// `n` random records, or all rows of `n` random sequences, of `pool`.
fn random_subset(pool: &Table, key: Option<&str>, n: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows: Vec<Option<usize>> = match key {
        None => {
            let mut idx: Vec<usize> = (0..pool.n_rows).collect();
            idx.shuffle(&mut rng);
            let mut chosen = idx[..n.min(idx.len())].to_vec();
            chosen.sort_unstable();
            chosen.into_iter().map(Some).collect()
        }
        Some(k) => {
            let seqs = Sequences::group(pool, k);
            let mut order: Vec<usize> = (0..seqs.len()).collect();
            order.shuffle(&mut rng);
            let mut chosen = order[..n.min(order.len())].to_vec();
            chosen.sort_unstable();
            chosen
                .iter()
                .flat_map(|&s| seqs.rows_of(s).iter().map(|&r| Some(r)))
                .collect()
        }
    };
    pool.take(&rows)
}

/// Exact copies of training records among the two sets (the selection
/// excludes them by construction).
fn print_copies(
    training: &Table,
    random: &Path,
    selected: &Path,
    key: Option<&str>,
) -> anyhow::Result<()> {
    let enc = synthsift::pool::Encoder::fit(training, key, 10);
    let known: std::collections::HashSet<u64> = enc.fingerprints(training).into_iter().collect();
    let count = |p: &PathBuf| -> anyhow::Result<(usize, usize)> {
        let t = read_table(p)?;
        let prints = enc.fingerprints(&t);
        Ok((
            prints.iter().filter(|h| known.contains(h)).count(),
            prints.len(),
        ))
    };
    let (rc, rn) = count(&random.to_path_buf())?;
    let (sc, sn) = count(&selected.to_path_buf())?;
    println!("\nrows identical to a training row: random pool {rc} of {rn}, selected {sc} of {sn}");
    Ok(())
}
