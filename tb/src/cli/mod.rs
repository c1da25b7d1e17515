//! The `memento` verbs behind the command line: each reads its inputs, runs a flow or an env,
//! prints what a person reads and writes the reports. The binary (`src/bin/memento.rs`) only
//! parses the arguments and calls one of these.

pub mod capture;
pub mod hw;
pub mod perf;
pub mod regress;
pub mod replay;
pub mod verify;

use crate::seed;
use anyhow::{Context, Result};
use std::path::PathBuf;

pub fn root() -> PathBuf {
    std::env::current_dir().expect("current directory")
}

/// Every generated variant: the built-in ones and those the regression list asks for.
pub fn all_variants() -> Result<Vec<memento_hw::emit::Variant>> {
    let list = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    Ok(memento_runs::variants_with(&list))
}

/// `--test T` as one test, else the tests of `--list`, from tb/regressions.toml.
pub fn tests_of(
    rl: &memento_runs::RegressionList,
    list: &str,
    test: Option<&str>,
) -> Result<Vec<memento_runs::TestSpec>> {
    Ok(match test {
        Some(t) => vec![rl.test(t).map_err(anyhow::Error::msg)?.clone()],
        None => rl
            .list(list)
            .map_err(anyhow::Error::msg)?
            .into_iter()
            .cloned()
            .collect(),
    })
}

/// `--seed`, else `MEMENTO_SEED`, else a fresh one.
pub fn seed_arg(s: Option<String>) -> Result<u64> {
    match s {
        Some(s) => seed::parse(&s).with_context(|| format!("--seed {s:?} is not a u64")),
        None => Ok(seed::seed()),
    }
}

/// `--jobs`, else every core.
pub fn jobs_arg(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Paths as a command line shows them.
pub fn joined(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
