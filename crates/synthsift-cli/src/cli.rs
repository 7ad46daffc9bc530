//! Command-line arguments, as typed.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Select the records of an oversampled synthetic pool that match the
/// original data best, and measure accuracy and privacy.
#[derive(Debug, Parser)]
#[command(name = "synthsift", version, about)]
pub struct Args {
    /// More log output on stderr (-v: phases, -vv: details).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure how closely synthetic data matches the original
    /// (the accuracy metric of mostlyai-qa 1.9.8).
    Evaluate(EvaluateArgs),
    /// Choose the N pool records whose statistics match the training data
    /// best.
    Select(SelectArgs),
    /// Learn a fast generator (a Bayesian network) from training data and
    /// write a pool of new records.
    Generate(crate::generate::GenerateArgs),
    /// Run the whole job on built-in data: population, pool, selection,
    /// before/after accuracy. Nothing to download.
    Demo(DemoArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// The original (training) data: CSV, CSV.gz or Parquet.
    #[arg(long)]
    pub training: PathBuf,
    /// The synthetic data to measure.
    #[arg(long)]
    pub synthetic: PathBuf,
    /// Holdout data; when given, the original is training plus holdout.
    #[arg(long)]
    pub holdout: Option<PathBuf>,
    /// Column that groups rows into sequences.
    #[arg(long)]
    pub group_key: Option<String>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write all figures, per column and per column pair, as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Skip the privacy figures (distances to closest records).
    #[arg(long)]
    pub no_privacy: bool,
    /// Records per set for the privacy figures (default: as the reference,
    /// all, up to the smallest set's size).
    #[arg(long)]
    pub privacy_sample: Option<usize>,
    /// Folder of the potion-base-8M model for category embeddings (default:
    /// $SYNTHSIFT_EMBEDDER_DIR, or an installed mostlyai-qa's copy; without
    /// one, a hashed encoding is used).
    #[arg(long)]
    pub embedder_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SelectArgs {
    /// The original (training) data: CSV, CSV.gz or Parquet.
    #[arg(long)]
    pub training: PathBuf,
    /// The pool of generated records to choose from.
    #[arg(long)]
    pub pool: PathBuf,
    /// How many records to select.
    #[arg(long)]
    pub size: usize,
    /// Where to write the selected records (the pool's format; `.gz`
    /// compresses CSV).
    #[arg(long)]
    pub output: PathBuf,
    /// Column that groups rows into sequences.
    #[arg(long)]
    pub group_key: Option<String>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Wall-clock budget of the whole run, e.g. 90s, 10m, 1h.
    #[arg(long, default_value = "60s", value_parser = crate::select::parse_duration)]
    pub time_budget: std::time::Duration,
    /// Allow pool records that are exact copies of training records.
    #[arg(long)]
    pub allow_copies: bool,
    /// Start from iterative proportional fitting (the prize winner's first
    /// stage) instead of a random subset.
    #[arg(long, help_heading = "Stages")]
    pub ipf: bool,
    /// Skip the greedy trim of an oversized initial set.
    #[arg(long, help_heading = "Stages")]
    pub no_trim: bool,
    /// Skip the greedy swap rounds.
    #[arg(long, help_heading = "Stages")]
    pub no_refine: bool,
    /// Skip the annealed random swaps.
    #[arg(long, help_heading = "Stages")]
    pub no_anneal: bool,
    /// Column triples in the objective (default: as many as pay off).
    #[arg(long)]
    pub max_triples: Option<usize>,
    /// Cap on the search's rounds (refine rounds plus anneal epochs of about
    /// a million proposals each). With a cap the cooling schedule follows the
    /// rounds instead of the clock, so the same seed gives the same output on
    /// any machine, provided the time budget is not hit first (the log says
    /// which one stopped the run). Default: use the whole time budget.
    #[arg(long)]
    pub max_rounds: Option<usize>,
    /// Weight of the pair-table fit in each column triple's target (0 = the
    /// training's own triple counts). Higher values copy less of the training
    /// sample's own noise: a lower DCR share for slightly lower accuracy
    /// (README, "Privacy of a selection").
    #[arg(long, default_value_t = 0.1)]
    pub triple_smoothing: f64,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Sequential data (customers with transaction sequences) instead of
    /// one record per customer.
    #[arg(long)]
    pub sequential: bool,
    /// Where to write the demo's files (default: a new temporary folder,
    /// which is kept).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Training records (or sequences); default 10,000 (2,000 sequences).
    #[arg(long)]
    pub size: Option<usize>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time budget of the selection.
    #[arg(long, default_value = "20s", value_parser = crate::select::parse_duration)]
    pub time_budget: std::time::Duration,
}
