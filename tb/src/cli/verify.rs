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

/// `memento xsim`'s arguments.
#[derive(clap::Args)]
pub struct XsimArgs {
    /// The list of tests (tb/regressions.toml) whose variants to cross-simulate.
    #[arg(long, default_value = "default")]
    pub list: String,
    /// Only this test.
    #[arg(long)]
    pub test: Option<String>,
    /// The seed of every test's run (default: MEMENTO_SEED, else random).
    #[arg(long)]
    pub seed: Option<String>,
    /// Cycles recorded and compared per test.
    #[arg(long, default_value_t = 5000)]
    pub cycles: usize,
    /// Tests run in parallel (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where the files of each test go (`<dir>/<test>/`), and the report (`<dir>/xsim.json`).
    #[arg(long, default_value = "build/xsim")]
    pub dir: std::path::PathBuf,
    #[command(flatten)]
    pub naming: super::hw::NamingArgs,
}

/// The `--prefix` / `--flat-names` flags that give `naming`.
fn naming_flags(naming: &memento_hw::emit::Naming) -> String {
    let mut f = String::new();
    if !naming.prefix.is_empty() {
        f += &format!(" --prefix {}", naming.prefix);
    }
    if naming.flat {
        f += " --flat-names";
    }
    f
}

/// `memento xsim`: each test's recorded run through Icarus, every output compared every cycle;
/// build/report/xsim.json; fails naming every test that differs.
pub fn xsim(a: XsimArgs) -> Result<()> {
    use crate::flows::xsim;
    let rl = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    let tests = super::tests_of(&rl, &a.list, a.test.as_deref())?;
    if a.cycles < 16 {
        bail!(
            "--cycles {}: at least 16 (reset and configuration come first)",
            a.cycles
        );
    }
    let seed = super::seed_arg(a.seed.clone())?;
    let naming = a.naming.naming();
    println!(
        "xsim: {} tests, {} cycles each, seed {seed}, Verilator against Icarus ({})",
        tests.len(),
        a.cycles,
        if naming == Default::default() {
            "module names as emitted".to_string()
        } else {
            format!("prefix {:?}, flat names {}", naming.prefix, naming.flat)
        }
    );
    let bar = crate::flows::bench::progress_bar(tests.len() as u64, true);
    let results = crate::flows::bench::parallel(jobs_arg(a.jobs), &tests, |t| {
        bar.set_message(t.name.clone());
        let r = xsim::xsim_test(t, seed, a.cycles, &naming, &a.dir.join(&t.name));
        bar.inc(1);
        r
    });
    bar.finish_and_clear();
    let mut done = vec![];
    let mut failed = vec![];
    for (t, r) in tests.iter().zip(results) {
        match r {
            Ok(r) => {
                println!("{}", xsim::summary(&r));
                if !r.passed() {
                    failed.push(t.name.clone());
                }
                done.push(r);
            }
            Err(e) => {
                println!("{:<22} ERROR: {e:#}", t.name);
                failed.push(t.name.clone());
            }
        }
    }
    let report = a.dir.join("xsim.json");
    std::fs::create_dir_all(&a.dir)?;
    std::fs::write(&report, serde_json::to_string_pretty(&done)?)?;
    println!("report: {}", report.display());
    if !failed.is_empty() {
        bail!(
            "xsim: {} differ or failed: {} (replay one: memento xsim --test {} --seed {seed} --cycles {}{})",
            failed.len(),
            failed.join(", "),
            failed[0],
            a.cycles,
            naming_flags(&naming)
        );
    }
    println!(
        "xsim: PASSED, every output equal on every cycle in {} tests",
        done.len()
    );
    Ok(())
}
