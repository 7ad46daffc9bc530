//! The `synthsift` command-line tool.

mod cli;
mod demo;
mod evaluate;
mod generate;
mod output;
mod select;
mod select_sequential;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    init_logging(args.verbose, args.quiet);
    let result = match args.command {
        cli::Command::Evaluate(a) => evaluate::run(a),
        cli::Command::Select(a) => select::run(a),
        cli::Command::Generate(a) => generate::run(a),
        cli::Command::Demo(a) => demo::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SYNTHSIFT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
