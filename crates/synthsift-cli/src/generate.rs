//! `synthsift generate`: a pool from the built-in generator, or (hidden,
//! for demos and benchmarks) a table drawn from a built-in population.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use synthsift::generate::{Generator, GeneratorOptions};
use synthsift::population::{self, Population};
use synthsift::table::{read_table, write_table, FileFormat, TableWriter};

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The data to learn from: CSV, CSV.gz or Parquet.
    #[arg(long, required_unless_present = "population")]
    pub training: Option<PathBuf>,
    /// Records to generate (sequences, with --group-key).
    #[arg(long)]
    pub rows: usize,
    /// Where to write them: .csv, .csv.gz or .parquet.
    #[arg(long)]
    pub output: PathBuf,
    /// Column that groups rows into sequences.
    #[arg(long)]
    pub group_key: Option<String>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Draw from a built-in population instead of learning from a file.
    #[arg(long, value_enum, hide = true, conflicts_with_all = ["training", "group_key"])]
    pub population: Option<PopulationArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PopulationArg {
    Flat,
    Sequential,
    Wide,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    if args.rows == 0 {
        bail!("--rows must be at least 1");
    }
    FileFormat::of(&args.output)?;
    let t0 = Instant::now();

    if let Some(kind) = args.population {
        let kind = match kind {
            PopulationArg::Flat => Population::Flat,
            PopulationArg::Sequential => Population::Sequential,
            PopulationArg::Wide => Population::Wide,
        };
        let table = population::draw(kind, args.rows, args.seed);
        write_table(&args.output, &table)?;
        tracing::info!(
            "drew {} rows from the {} population (seed {}) into {} in {:.2}s",
            table.n_rows,
            kind.name(),
            args.seed,
            args.output.display(),
            t0.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    // 1. Learn.
    let path = args.training.as_ref().expect("clap requires it");
    let training = read_table(path)?;
    tracing::info!(
        "read {}: {} rows, {} columns in {:.2}s",
        path.display(),
        training.n_rows,
        training.columns.len(),
        t0.elapsed().as_secs_f64()
    );
    let t1 = Instant::now();
    let opts = GeneratorOptions {
        group_key: args.group_key.clone(),
        ..GeneratorOptions::default()
    };
    let model = Generator::fit(&training, &opts)?;
    drop(training);
    tracing::info!("fitted the generator in {:.2}s", t1.elapsed().as_secs_f64());

    // 2. Sample chunk by chunk straight into the output file.
    let t2 = Instant::now();
    let unit = if model.is_sequential() {
        "sequences"
    } else {
        "records"
    };
    let bar = progress_bar(args.rows as u64, unit);
    let mut writer = TableWriter::create(&args.output, model.names(), &model.value_types())?;
    let mut rows_written = 0usize;
    let sequential = model.is_sequential();
    let per_chunk_done = |chunk: &synthsift::table::Table| -> u64 {
        if sequential {
            let key = args.group_key.as_deref().expect("sequential");
            synthsift::sequences::Sequences::group(chunk, key).len() as u64
        } else {
            chunk.n_rows as u64
        }
    };
    model.sample_chunks(args.rows, args.seed, |chunk| {
        rows_written += chunk.n_rows;
        bar.inc(per_chunk_done(&chunk));
        writer.write(&chunk)
    })?;
    writer
        .finish()
        .with_context(|| format!("writing {}", args.output.display()))?;
    bar.finish_and_clear();
    tracing::info!(
        "wrote {} {unit} ({} rows) to {} in {:.2}s",
        args.rows,
        rows_written,
        args.output.display(),
        t2.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A progress bar on a terminal; hidden when stderr is piped.
fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("generating {{bar:40}} {{pos}}/{{len}} {unit} ({{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
