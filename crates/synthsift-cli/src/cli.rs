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
    /// Learn a fast generator (a Bayesian network) from training data and
    /// write a pool of new records.
    Generate(crate::generate::GenerateArgs),
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
}
