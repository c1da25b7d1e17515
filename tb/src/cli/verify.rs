//! Formal checks and mutation campaigns.

use super::{jobs_arg, root};
use crate::seed;
use anyhow::{bail, Context, Result};

/// `memento formal`: the checks, a table, build/report/formal.json; fails on a counterexample.
pub fn formal(only: &[String], fast: bool) -> Result<()> {
    use crate::flows::formal;
    let checks = formal::select(only, fast)?;
    let mut results = vec![];
    for c in checks {
        println!(
            "formal {}: BMC to depth {}{}...",
            c.name,
            c.depth,
            if c.induct { ", then k-induction" } else { "" }
        );
        results.push(formal::check(&root(), c)?);
    }
    print!("{}", formal::table(&results));
    let report = root().join("build/report/formal.json");
    std::fs::create_dir_all(report.parent().unwrap())?;
    std::fs::write(&report, serde_json::to_string_pretty(&results)?)?;
    println!("report: {}", report.display());
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.verdict == formal::Verdict::Failed)
        .map(|r| r.name.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("formal: {} failed", failed.join(", "));
    }
    Ok(())
}

/// The campaign seed: `--seed`, else MEMENTO_SEED, else the last campaign's, else a new one.
fn mutate_seed(given: Option<String>) -> Result<u64> {
    let last = root().join("build/mutate/last-seed");
    let seed = match given {
        Some(s) => seed::parse(&s).with_context(|| format!("--seed {s:?} is not a u64"))?,
        None if std::env::var(seed::SEED_ENV).is_ok() => seed::seed(),
        None => match std::fs::read_to_string(&last)
            .ok()
            .and_then(|t| seed::parse(&t))
        {
            Some(s) => {
                eprintln!("mutate: resuming the last campaign (seed {s}); --seed picks another");
                s
            }
            None => seed::seed(),
        },
    };
    std::fs::create_dir_all(last.parent().unwrap())?;
    std::fs::write(&last, seed.to_string())?;
    Ok(seed)
}

pub fn mutate(
    block: Option<String>,
    (count, equiv_depth, check_proofs): (usize, u32, usize),
    s: Option<String>,
    list: &str,
    jobs: Option<usize>,
) -> Result<()> {
    use crate::flows::mutate;
    let rl = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    let tests: Vec<_> = rl
        .list(list)
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .cloned()
        .collect();
    let seed = mutate_seed(s)?;
    println!("mutate: seed {seed} (replay: memento mutate --seed {seed} --count {count})");
    let plan = mutate::MutatePlan {
        tests,
        only: block,
        count,
        equiv_depth,
        check_proofs,
        seed,
        jobs: jobs_arg(jobs),
        root: root(),
        progress: true,
    };
    let r = mutate::run(&plan)?;
    print!("{}", mutate::table(&r));
    let dir = root().join("build/report");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("mutate.json"), serde_json::to_string_pretty(&r)?)?;
    std::fs::write(dir.join("mutate.html"), mutate::html(&r))?;
    println!(
        "reports: build/report/mutate.json and build/report/mutate.html ({:.0} s)",
        r.seconds
    );
    Ok(())
}
