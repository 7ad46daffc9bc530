//! Helpers shared by the CLI integration tests: run the built binary and
//! read what it printed.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `synthsift` with `args` and returns what it printed and its status.
pub fn synthsift(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synthsift"))
        .args(args)
        .output()
        .expect("runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[allow(dead_code)] // not every test file reads stdout
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A path as a command-line argument.
pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}
