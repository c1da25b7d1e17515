//! The regression runner's verb, a seed's waveform window, and code coverage.

use super::{jobs_arg, root, seed_arg};
use crate::seed;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// `memento regress`'s arguments.
#[derive(clap::Args)]
pub struct RegressArgs {
    /// The list to run (see [lists] in tb/regressions.toml).
    #[arg(long, default_value = "default")]
    pub list: String,
    /// Run this one test instead of a list (coverage is reported; only the default list must
    /// hit every bin).
    #[arg(long)]
    pub test: Option<String>,
    /// First seed; a test's seeds are consecutive from it (default: MEMENTO_SEED, else random).
    #[arg(long)]
    pub seed: Option<String>,
    /// Seeds per test instead of the list's.
    #[arg(long)]
    pub seeds: Option<u64>,
    /// At least this many commands in all: every test's seeds are multiplied by the smallest
    /// factor that gets there, so the list's mix stays (a soak). Shards of one run compute the
    /// same factor.
    #[arg(long, conflicts_with = "seeds", value_parser = parse_count)]
    pub commands: Option<u64>,
    /// Commands per seed instead of the list's.
    #[arg(long)]
    pub ops: Option<u64>,
    /// Parallel jobs (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where to write the JSON report; the HTML report goes beside it as index.html
    /// (default: build/report/regress.json for a list, build/report/<test>/regress.json for one
    /// test).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Seconds to spend shrinking the first failing seed of each test to a short command
    /// script (build/shrink/<test>-seed-<seed>.cmds); 0: no shrinking.
    #[arg(long, default_value_t = 300)]
    pub shrink_secs: u64,
    /// Play this command script (from shrinking, or written by hand) through --test's
    /// design, with the environment of --seed, instead of a random stream.
    #[arg(long, requires = "test", requires = "seed")]
    pub script: Option<PathBuf>,
    /// Run only shard I of N (`--shard 2/8`): every N-th (test, seed) pair of the list, from the
    /// I-th. Every shard needs the same first seed (--seed or MEMENTO_SEED). Coverage is not
    /// gated (a shard need not hit every bin); the report goes to
    /// build/report/shard-I-of-N/regress.json unless --report says otherwise.
    #[arg(long, conflicts_with = "script")]
    pub shard: Option<crate::flows::regress::Shard>,
}

/// `memento merge`: one report from the shards of a run (`memento regress --shard I/N`): each
/// argument a shard's report or the folder holding its regress.json. Writes the merged JSON and
/// the HTML beside it; fails like the whole run would (a failed seed, or for the default list a
/// coverage bin at zero).
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<()> {
    let mut reports = vec![];
    for s in shards {
        let file = if s.is_dir() {
            s.join("regress.json")
        } else {
            s.clone()
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading the shard report {}", file.display()))?;
        let r: crate::flows::regress::RegressReport = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a regression report", file.display()))?;
        reports.push((file.display().to_string(), r));
    }
    let n = reports.len();
    let r = crate::flows::regress::merge_shards(reports).map_err(anyhow::Error::msg)?;
    let html = write_reports(&r, out)?;
    merge_code_coverage(shards, out)?;
    println!(
        "merge {}: {n} shards, {} (longest shard {:.1} s); reports {} and {}",
        r.name,
        if r.passed { "PASSED" } else { "FAILED" },
        r.seconds,
        out.display(),
        html.display()
    );
    verdict(&r)?;
    Ok(())
}

/// The shards' code coverage points (a coverage build's shards keep them in `coverage/` beside
/// their reports), merged by `verilator_coverage` into `coverage/` beside the merged report, with
/// the table per block and `coverage.json`. Nothing when no shard has any.
fn merge_code_coverage(shards: &[PathBuf], out: &Path) -> Result<()> {
    let mut inputs = vec![];
    let mut with = 0;
    for s in shards {
        let dir = if s.is_dir() {
            s.clone()
        } else {
            s.parent().map(PathBuf::from).unwrap_or_default()
        };
        let files =
            crate::flows::code_coverage::dat_files(&dir.join("coverage")).unwrap_or_default();
        with += usize::from(!files.is_empty());
        inputs.extend(files);
    }
    if inputs.is_empty() {
        return Ok(());
    }
    if with < shards.len() {
        println!(
            "code coverage: only {with} of {} shards have points (a shard of a build without --coverage has none)",
            shards.len()
        );
    }
    let dir = out.parent().unwrap_or(Path::new(".")).join("coverage");
    let merged = crate::flows::code_coverage::merge_files(&inputs, &dir)?;
    let blocks = crate::flows::code_coverage::per_block(&merged)?;
    println!(
        "code coverage of {} files from {with} shards ({}; annotated sources in {}):",
        inputs.len(),
        merged.display(),
        dir.join("annotated").display()
    );
    print_blocks(&blocks);
    let json = out.parent().unwrap_or(Path::new(".")).join("coverage.json");
    std::fs::write(&json, serde_json::to_string_pretty(&blocks)?)
        .with_context(|| format!("writing {}", json.display()))?;
    println!("code coverage report: {}", json.display());
    Ok(())
}

/// `memento waves`'s arguments.
#[derive(clap::Args)]
pub struct WavesArgs {
    /// The test (from tb/regressions.toml).
    #[arg(long)]
    pub test: String,
    /// The seed to re-run.
    #[arg(long)]
    pub seed: String,
    /// First cycle of the window.
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Cycle after the last one of the window.
    #[arg(long, default_value_t = 20_000)]
    pub to: u64,
    /// Commands instead of the test's.
    #[arg(long)]
    pub ops: Option<u64>,
    /// Write VCD instead of FST.
    #[arg(long)]
    pub vcd: bool,
    /// Also write the command log (`OP ARG STATUS PTR LATENCY`, one line per command).
    #[arg(long)]
    pub log: Option<PathBuf>,
}

/// `memento regress`: a list or one test, the reports, the table; fails on a failed seed or (for
/// the default list) a coverage bin at zero.
pub fn regress(a: RegressArgs) -> Result<()> {
    let RegressArgs {
        list,
        test,
        seed: s,
        seeds,
        commands,
        ops,
        jobs,
        report,
        shrink_secs,
        script,
        shard,
    } = a;
    let rl = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    if let (Some(path), Some(t)) = (&script, &test) {
        let t = rl.test(t).map_err(anyhow::Error::msg)?;
        return play_script(t, seed_arg(s)?, path);
    }
    let (name, tests, gate) = chosen_tests(&rl, &list, test.as_deref(), (seeds, ops, commands))?;
    if shard.is_some() && s.is_none() && std::env::var("MEMENTO_SEED").is_err() {
        bail!(
            "--shard needs --seed (or MEMENTO_SEED): every shard must draw the same seeds, or \
             the shards do not make one run"
        );
    }
    let first_seed = seed_arg(s)?;
    let jobs = jobs_arg(jobs);
    let seeds: Vec<u64> = tests.iter().map(|t| t.seeds).collect();
    let runs = crate::flows::regress::shard_pairs(&seeds, shard).len();
    let part = shard.map_or(String::new(), |s| format!(" (shard {s})"));
    println!(
        "regress {name}{part}: {} tests, {runs} seeds in all, first seed {first_seed}, {jobs} jobs",
        tests.len()
    );
    let report = report.unwrap_or_else(|| default_report(test.as_deref(), shard));
    if memento_sim::LINKED.coverage && shard.is_some() {
        shard_coverage_beside(&report);
    }
    let plan = crate::flows::regress::Plan {
        name,
        tests,
        first_seed,
        jobs,
        gate_coverage: gate && shard.is_none(),
        progress: true,
        shrink: std::time::Duration::from_secs(shrink_secs),
        shard,
    };
    let r = crate::flows::regress::regress(&plan, &root());
    let html = write_reports(&r, &report)?;
    println!(
        "regress {}: {} in {:.1} s; reports {} and {}",
        r.name,
        if r.passed { "PASSED" } else { "FAILED" },
        r.seconds,
        report.display(),
        html.display()
    );
    verdict(&r)?;
    Ok(())
}

/// The tests a run takes: one (`--test`) or a list's, with `--seeds`, `--ops` and `--commands`
/// applied. Also the run's name and whether its coverage is gated (the default list only: it
/// is the complete one, and must hit every bin).
fn chosen_tests(
    rl: &memento_runs::RegressionList,
    list: &str,
    test: Option<&str>,
    (seeds, ops, commands): (Option<u64>, Option<u64>, Option<u64>),
) -> Result<(String, Vec<memento_runs::TestSpec>, bool)> {
    let mut tests = super::tests_of(rl, list, test)?;
    let (name, gate) = match test {
        Some(t) => (t.to_string(), false),
        None => (list.to_string(), list == "default"),
    };
    for t in &mut tests {
        t.seeds = seeds.unwrap_or(t.seeds);
        t.ops = ops.unwrap_or(t.ops);
    }
    if let Some(n) = commands {
        let k = soak_factor(&tests, n);
        for t in &mut tests {
            t.seeds *= k;
        }
        let total: u64 = tests.iter().map(|t| t.seeds * t.ops).sum();
        println!(
            "regress {name}: every test's seeds x {k} for at least {n} commands ({total} in all)"
        );
    }
    Ok((name, tests, gate))
}

/// Where a run's JSON report goes when `--report` does not say.
fn default_report(test: Option<&str>, shard: Option<crate::flows::regress::Shard>) -> PathBuf {
    match (test, shard) {
        (_, Some(s)) => PathBuf::from(format!(
            "build/report/shard-{}-of-{}/regress.json",
            s.index, s.count
        )),
        (Some(t), None) => PathBuf::from(format!("build/report/{t}/regress.json")),
        (None, None) => PathBuf::from("build/report/regress.json"),
    }
}

/// A coverage build's shard keeps its points in `coverage/` beside its report (an earlier run's
/// removed), for `memento merge`.
fn shard_coverage_beside(report: &Path) {
    let dir = report.parent().unwrap_or(Path::new(".")).join("coverage");
    for old in crate::flows::code_coverage::dat_files(&dir).unwrap_or_default() {
        let _ = std::fs::remove_file(old);
    }
    println!("code coverage points of this shard: {}", dir.display());
    memento_sim::set_coverage_dir(&dir);
}

/// The smallest factor of every test's seeds that makes `tests` run at least `n` commands.
pub fn soak_factor(tests: &[memento_runs::TestSpec], n: u64) -> u64 {
    let once: u64 = tests.iter().map(|t| t.seeds * t.ops).sum::<u64>().max(1);
    n.div_ceil(once).max(1)
}

/// A count as a user writes it: `100000000`, `1e8`, `100M` or `1G`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G') => (&t[..t.len() - 1], 1e9),
        _ => (t.as_str(), 1.0),
    };
    if let Ok(v) = num.parse::<u64>() {
        return Ok(v * mult as u64);
    }
    match num.parse::<f64>() {
        Ok(v) if v >= 0.0 && (v * mult).fract() == 0.0 && v * mult < 1.8e19 => {
            Ok((v * mult) as u64)
        }
        _ => Err(format!(
            "{s:?} is not a count (examples: 100000000, 1e8, 100M, 1G)"
        )),
    }
}

/// Writes the JSON report at `path` and the HTML beside it (returned), and prints the table.
fn write_reports(r: &crate::flows::regress::RegressReport, path: &Path) -> Result<PathBuf> {
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(path, serde_json::to_string_pretty(r)?)?;
    let html = dir.join("index.html");
    std::fs::write(&html, crate::flows::regress::html(r))?;
    print_regress(r);
    Ok(html)
}

/// Fails a run that did not pass: its failed seeds, and its coverage bins at zero when gated.
fn verdict(r: &crate::flows::regress::RegressReport) -> Result<()> {
    if r.passed {
        return Ok(());
    }
    let failed: u64 = r.tests.iter().map(|t| t.failed).sum();
    bail!(
        "{failed} seed(s) failed{}",
        if r.coverage_gated && !r.coverage_missing.is_empty() {
            format!(", {} coverage bin(s) at zero", r.coverage_missing.len())
        } else {
            String::new()
        }
    );
}

/// The regression's table: a line a test, its page and memory-path totals, and the coverage.
fn print_regress(r: &crate::flows::regress::RegressReport) {
    println!(
        "{:<24} {:<13} {:<11} {:>6} {:>6} {:>6} {:>11} {:>13} {:>9} {:>9}",
        "test",
        "design",
        "params",
        "seeds",
        "pass",
        "fail",
        "commands",
        "cycles",
        "alloc hit",
        "free hit"
    );
    for t in &r.tests {
        println!(
            "{:<24} {:<13} {:<11} {:>6} {:>6} {:>6} {:>11} {:>13} {:>8.1}% {:>8.1}%",
            t.name,
            t.design,
            t.params,
            t.seeds,
            t.passed,
            t.failed,
            t.commands,
            t.cycles,
            100.0 * t.totals.hoa.alloc_hit_rate(),
            100.0 * t.totals.hoa.free_hit_rate()
        );
        let pg = &t.totals.pages;
        if t.design != "object_alloc" && t.design != "bypass" {
            println!(
                "    frames taken {} ({} pages, {} tables), returned at exit {}, drained {}, lost {}; objects checked {}",
                pg.pages_mapped + pg.tables_allocated, pg.pages_mapped, pg.tables_allocated,
                pg.frames_returned_at_exit, pg.frames_drained, t.totals.frames_lost, t.totals.objects_checked
            );
        }
        if t.design == "memento_top" || t.design == "bypass" {
            let b = &t.totals.mem.bypass;
            println!(
                "    memory path: fills checked {}, bypassed {}, writebacks dropped {}, zero lines {}, DRAM reads {}, DRAM writes {}",
                t.totals.mem.fills_checked, b.reads_bypassed, b.writebacks_dropped, b.zero_lines, b.dram_reads, b.dram_writes
            );
        }
        if t.design == "bypass" {
            println!(
                "    cycles with a map or reclaim event and a cache request both on offer: {}",
                t.totals.mem.events_meeting_requests
            );
        }
    }
    println!(
        "coverage: {} bins, {} at zero{}",
        r.coverage.len(),
        r.coverage_missing.len(),
        if r.coverage_missing.is_empty() {
            String::new()
        } else {
            format!(": {}", r.coverage_missing.join(", "))
        }
    );
}

/// `memento regress --script`: one command script through a test's design.
fn play_script(t: &memento_runs::regression_list::TestSpec, seed: u64, path: &Path) -> Result<()> {
    match crate::flows::regress::run_script(t, seed, path)? {
        Ok(stats) => {
            println!(
                "script {} through {} (environment seed {seed}): passed, {} commands in {} cycles",
                path.display(),
                t.name,
                stats.hoa.commands,
                stats.hoa.cycles
            );
            Ok(())
        }
        Err(m) => bail!(
            "script {} through {} (environment seed {seed}) FAILED: {m}",
            path.display(),
            t.name
        ),
    }
}

/// `memento waves`: one seed again with a waveform window, and the GTKWave save file.
pub fn waves(a: WavesArgs) -> Result<()> {
    let WavesArgs {
        test,
        seed: s,
        from,
        to,
        ops,
        vcd,
        log,
    } = a;

    let rl = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    let mut t = rl.test(&test).map_err(anyhow::Error::msg)?.clone();
    t.ops = ops.unwrap_or(t.ops);
    let seed = seed::parse(&s).with_context(|| format!("--seed {s:?} is not a u64"))?;
    if to <= from {
        bail!("--to {to} must be after --from {from}");
    }
    let format = if vcd {
        memento_sim::WaveFormat::Vcd
    } else {
        memento_sim::WaveFormat::Fst
    };
    let dir = root().join("build/waves");
    let path = dir.join(format!("{test}-seed-{seed}.{}", format.extension()));
    let window = crate::envs::TraceWindow {
        from,
        to,
        path: path.clone(),
        format,
    };
    let outcome = match &log {
        Some(p) => {
            let mut out = Vec::new();
            let o = crate::flows::regress::run_seed_logged(&t, seed, Some(window), &mut out);
            std::fs::write(p, out)
                .with_context(|| format!("writing the command log {}", p.display()))?;
            o
        }
        None => crate::flows::regress::run_seed(&t, seed, Some(window)),
    };
    match &outcome {
        Ok(st) => println!(
            "{test} seed {seed}: passed, {} commands, {} cycles",
            st.hoa.commands, st.hoa.cycles
        ),
        Err(m) => println!("{test} seed {seed}: FAILED: {m}"),
    }
    let gtkw = dir.join("memento.gtkw");
    let groups = crate::flows::waves::save_file(&path, &gtkw)?;
    println!("waveform: {} (cycles {from}..{to})", path.display());
    println!("save file: {} ({groups} groups)", gtkw.display());
    println!("open with: gtkwave {} {}", path.display(), gtkw.display());
    if let Err(m) = outcome {
        bail!("{test} seed {seed} failed at cycle {}", m.cycle);
    }
    Ok(())
}

/// `memento coverage`: line and toggle coverage per block of a `--coverage` build's runs.
pub fn coverage(dir: &Path, report: &Path) -> Result<()> {
    let merged = crate::flows::code_coverage::merge(dir)?;
    let blocks = crate::flows::code_coverage::per_block(&merged)?;
    println!(
        "code coverage ({}; annotated sources in {}):",
        merged.display(),
        dir.join("annotated").display()
    );
    print_blocks(&blocks);
    if let Some(d) = report.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(report, serde_json::to_string_pretty(&blocks)?)?;
    println!("report: {}", report.display());
    Ok(())
}

/// The line and toggle coverage of each block, as a table.
fn print_blocks(blocks: &[crate::flows::code_coverage::BlockCoverage]) {
    println!(
        "  {:<44} {:>8} {:>8} {:>7} {:>9} {:>9} {:>7}",
        "block", "lines", "hit", "line %", "toggles", "hit", "tgl %"
    );
    for b in blocks {
        println!(
            "  {:<44} {:>8} {:>8} {:>6.1}% {:>9} {:>9} {:>6.1}%",
            b.block,
            b.lines,
            b.lines_hit,
            b.line_pct(),
            b.toggles,
            b.toggles_hit,
            b.toggle_pct()
        );
    }
}

/// `memento soak`'s arguments.
#[derive(clap::Args)]
pub struct SoakArgs {
    /// Commands in all (`1e9`, `100M`, ...): the list's tests, seeds scaled so that the mix stays.
    #[arg(long, default_value = "1e9", value_parser = parse_count)]
    pub commands: u64,
    /// The list whose mix the soak runs.
    #[arg(long, default_value = "default")]
    pub list: String,
    /// First seed (default: MEMENTO_SEED, else random; a shard needs it fixed).
    #[arg(long)]
    pub seed: Option<String>,
    /// Parallel jobs (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Commands per seed instead of the list's (a short soak to try the flow).
    #[arg(long)]
    pub ops: Option<u64>,
    /// Run only shard I of N of the soak (a Slurm array task runs one).
    #[arg(long)]
    pub shard: Option<crate::flows::regress::Shard>,
    /// Where to write the JSON report (index.html beside it); default build/report/soak/ (a
    /// shard: build/report/soak/shard-I-of-N/).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// CPU seconds this process has used, user and system, all its threads.
fn cpu_seconds() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// A duration as a person reads it.
fn human_secs(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 2.0 * 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// `memento soak`: a long regression of the list's mix, then its rate and what 10^9 commands
/// take on this node and on N like it.
pub fn soak(a: SoakArgs) -> Result<()> {
    let jobs = jobs_arg(a.jobs);
    let report = a.report.unwrap_or_else(|| match a.shard {
        Some(s) => PathBuf::from(format!(
            "build/report/soak/shard-{}-of-{}/regress.json",
            s.index, s.count
        )),
        None => PathBuf::from("build/report/soak/regress.json"),
    });
    let _ = std::fs::remove_file(&report);
    let cpu_before = cpu_seconds();
    let outcome = regress(RegressArgs {
        list: a.list,
        test: None,
        seed: a.seed,
        seeds: None,
        commands: Some(a.commands),
        ops: a.ops,
        jobs: Some(jobs),
        report: Some(report.clone()),
        shrink_secs: 300,
        script: None,
        shard: a.shard,
    });
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("the soak wrote no report at {}", report.display()))?;
    let r: crate::flows::regress::RegressReport = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a regression report", report.display()))?;
    let commands: u64 = r.tests.iter().map(|t| t.commands).sum();
    let failed: u64 = r.tests.iter().map(|t| t.failed).sum();
    let seeds: u64 = r.tests.iter().map(|t| t.seeds).sum();
    let rate = commands as f64 / r.seconds.max(1e-9);
    let cpu = cpu_seconds() - cpu_before;
    let cpu_rate = commands as f64 / cpu.max(1e-9);
    println!(
        "soak: {commands} commands ({seeds} seeds) in {} with {jobs} jobs, {} of CPU: {rate:.0} commands/s, \
         {cpu_rate:.0} commands per CPU-second; {failed} failed seeds",
        human_secs(r.seconds),
        human_secs(cpu)
    );
    let nodes = |per_node: f64| -> String {
        [1u32, 4, 16, 64]
            .iter()
            .map(|&n| {
                let s = 1e9 / per_node / n as f64;
                format!(
                    "{n} node{}: {}",
                    if n == 1 { "" } else { "s" },
                    human_secs(s)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "soak: 10^9 commands of this mix, one shard a node like this one ({jobs} jobs):\n  at this run's wall-clock rate: {}\n  with the node's {jobs} cores given to it alone (CPU rate x {jobs}): {}",
        nodes(rate),
        nodes(cpu_rate * jobs as f64)
    );
    outcome
}
