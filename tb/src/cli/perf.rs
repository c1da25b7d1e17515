//! Performance: the latency bench, the trace benchmark against software allocators, the
//! design-space sweep, and one software replay (the bench starts it in a fresh process).

use super::{jobs_arg, joined, root, seed_arg};
use anyhow::{bail, Context, Result};
use memento_hw::emit::Design;
use std::path::PathBuf;

/// `memento bench`'s arguments.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Traces (malloc-lab format, gzip or plain).
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
    /// Environment latency profile: default (header 4, table 30, DRAM 100, OS 2000), l2, far,
    /// stressed, or header=H,table=T,dram=D,os=O.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Seed of the environment's randomness (default: MEMENTO_SEED, else random).
    #[arg(long)]
    pub seed: Option<String>,
    /// Timed replays per software allocator, warm and cold (the median is reported; whole
    /// replays take at least 5); 0 skips software.
    #[arg(long, default_value_t = 15)]
    pub reps: usize,
    /// The design's parameters: a set of tb/regressions.toml (`default`, `hdc0`, ...). Its
    /// memento_top must be generated in all three memory modes (on, off, off-dram).
    #[arg(long, default_value = "default")]
    pub params: String,
    /// Parallel hardware replays (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Directory for bench.json and bench.html.
    #[arg(long, default_value = "build/report")]
    pub out: PathBuf,
    /// For captured traces: the hardware's clock in GHz (default: the capture machine's TSC
    /// rate, its core's nominal clock).
    #[arg(long)]
    pub clock_ghz: Option<f64>,
    /// For captured traces: the function's memory in MB under the per-use price.
    #[arg(long, default_value_t = 128.0)]
    pub memory_mb: f64,
    /// Dollars per GB-second (default: x86 AWS Lambda).
    #[arg(long, default_value_t = 0.0000166667)]
    pub price_gb_second: f64,
    /// Dollars per million requests.
    #[arg(long, default_value_t = 0.20)]
    pub price_per_million: f64,
    /// Billing granularity in milliseconds (the duration is rounded up to it).
    #[arg(long, default_value_t = 1.0)]
    pub billing_ms: f64,
}

/// `memento sweep`'s arguments.
#[derive(clap::Args)]
pub struct SweepArgs {
    /// Traces (malloc-lab format, gzip or plain).
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
    /// Environment latency profile (as for bench).
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Seed of the environment's randomness (default: MEMENTO_SEED, else random).
    #[arg(long)]
    pub seed: Option<String>,
    /// Parallel runs (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Leave out the Yosys area of each point.
    #[arg(long)]
    pub no_synth: bool,
    /// The free hit rate to find a point for.
    #[arg(long, default_value_t = 0.83)]
    pub target: f64,
    /// The traces (by file name without .rep.gz) that must reach it: the Python ones.
    #[arg(long, value_delimiter = ',', default_value = "ast_fn,xml_fn")]
    pub target_traces: Vec<String>,
    /// Directory for sweep.json and sweep.html.
    #[arg(long, default_value = "build/report")]
    pub out: PathBuf,
}

/// `memento latency`.
pub fn latency(commands: u64, hdr_latency: u64) -> Result<()> {
    let started = std::time::Instant::now();
    let r = crate::flows::latency::bench(commands, hdr_latency)?;
    println!("latency bench, header port answering in {hdr_latency} cycles, no stalls");
    let levels = crate::flows::timing::design_levels(
        &[(
            "latency_object_alloc".into(),
            Design::ObjectAlloc,
            memento_hw::Params::default(),
        )],
        &root(),
        2,
    )?;
    println!(
            "object_alloc at its default parameters: {} gate levels per cycle at most (make timing; SPEC's budget {})",
            levels[0],
            memento_hw::params::STAGE_LEVELS
        );
    let h = r.hits.latency_hit.summary();
    let hits_cpc = r.hits.cycles as f64 / r.hits.commands as f64;
    let miss_cpc = r.misses.cycles as f64 / r.misses.commands as f64;
    println!(
            "  HOT hits: {} commands, accept-to-response latency mean {:.3}, p50 {}, p99 {}, max {} cycles",
            h.n, h.mean, h.p50, h.p99, h.max
        );
    println!(
        "  back-to-back hits: {} commands in {} cycles = {hits_cpc:.4} cycles per command",
        r.hits.commands, r.hits.cycles
    );
    let m = r.misses.latency_free.summary();
    println!(
            "  baseline, FIFO frees that miss the HOT: {} commands in {} cycles = {miss_cpc:.4} cycles per command (free latency mean {:.2}, max {})",
            r.misses.commands, r.misses.cycles, m.mean, m.max
        );
    println!(
        "  ratio baseline / hits: {:.2}x  ({:.1} s)",
        miss_cpc / hits_cpc,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `memento bench`.
pub fn bench(a: BenchArgs) -> Result<()> {
    let BenchArgs {
        traces,
        profile,
        seed: s,
        reps,
        params,
        jobs,
        out,
        clock_ghz,
        memory_mb,
        price_gb_second,
        price_per_million,
        billing_ms,
    } = a;

    use crate::flows::bench::{bench, BenchPlan, Profile};
    for (flag, v) in [
        ("--memory-mb", memory_mb),
        ("--billing-ms", billing_ms),
        ("--clock-ghz", clock_ghz.unwrap_or(1.0)),
    ] {
        if !(v > 0.0 && v.is_finite()) {
            bail!("{flag} {v}: must be a positive number");
        }
    }
    if !(price_gb_second >= 0.0 && price_per_million >= 0.0) {
        bail!("--price-gb-second and --price-per-million must not be negative");
    }
    for t in &traces {
        crate::flows::bench::capture_summary(t)?;
    }
    let list = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    let Some(set) = list.params.get(&params) else {
        bail!(
            "--params {params:?}: no such parameter set in tb/regressions.toml (there are: {})",
            list.params.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    };
    for on in [true, false] {
        let p = memento_hw::Params {
            bypass_on: on,
            ..set.clone()
        };
        if memento_sim::model_for(Design::MementoTop, &p).is_none() {
            bail!(
                "--params {params}: no Verilated memento_top with {} (bypass {}); a test of \
                     tb/regressions.toml must use it for it to be generated",
                p.summary(),
                if on { "on" } else { "off" }
            );
        }
    }
    let seed = seed_arg(s)?;
    let plan = BenchPlan {
        traces,
        profile: Profile::parse(&profile)?,
        params: set.clone(),
        params_name: params.clone(),
        seed,
        jobs: jobs_arg(jobs),
        reps,
        progress: true,
        exe: std::env::current_exe().context("finding the memento executable")?,
        levels_root: Some(root()),
        clock_hz: clock_ghz.map(|g| g * 1e9),
        pricing: crate::flows::estimate::Pricing {
            gb_second: price_gb_second,
            per_million_requests: price_per_million,
            billing_ms,
            memory_mb,
        },
    };
    println!(
        "bench: {} traces, profile {}, seed {seed}",
        plan.traces.len(),
        plan.profile.name
    );
    let report = bench(&plan).map_err(|e| {
            e.context(format!(
                "replay: cargo run --release --bin memento -- bench {} --profile {profile} --params {params} --seed {seed}",
                joined(&plan.traces)
            ))
        })?;
    print!("{}", crate::report::bench::text(&report));
    crate::report::bench::write(&report, &out)?;
    println!(
        "bench: done in {:.0} s; {} and {}",
        report.seconds,
        out.join("bench.json").display(),
        out.join("bench.html").display()
    );
    Ok(())
}

/// `memento sweep`.
pub fn sweep(a: SweepArgs) -> Result<()> {
    let SweepArgs {
        traces,
        profile,
        seed: s,
        jobs,
        no_synth,
        target,
        target_traces,
        out,
    } = a;

    use crate::flows::sweep::{sweep, SweepPlan};
    let seed = seed_arg(s)?;
    let list = memento_runs::sweep_list::workspace_sweep(&root()).map_err(anyhow::Error::msg)?;
    let plan = SweepPlan {
        sweep: list,
        traces,
        profile: crate::flows::bench::Profile::parse(&profile)?,
        seed,
        jobs: jobs_arg(jobs),
        synth: !no_synth,
        work: root().join("build/sweep"),
        root: root(),
        progress: true,
        target_traces,
        target,
    };
    println!(
        "sweep: {} points ({} distinct designs) x {} traces, profile {}, seed {seed}",
        plan.sweep
            .axes
            .iter()
            .map(|a| a.points.len())
            .sum::<usize>(),
        plan.sweep.distinct_params().len(),
        plan.traces.len(),
        plan.profile.name
    );
    let r = sweep(&plan).map_err(|e| {
        e.context(format!(
            "replay: target/sweep/release/memento sweep {} --profile {profile} --seed {seed}",
            joined(&plan.traces)
        ))
    })?;
    print!("{}", crate::report::bench::sweep_text(&r));
    crate::report::bench::write_sweep(&r, &out)?;
    println!(
        "sweep: done in {:.0} s; {} and {}",
        r.seconds,
        out.join("sweep.json").display(),
        out.join("sweep.html").display()
    );
    Ok(())
}

/// `memento swbench`: one cold software replay, printed as JSON.
pub fn swbench(allocator: &str, whole: bool, trace: &std::path::Path) -> Result<()> {
    let a = crate::flows::swbench::Allocator::by_name(allocator)?;
    let t = crate::stimulus::trace::read(trace)?;
    if whole {
        let r = crate::flows::swbench::cold_whole_once(&t, a)?;
        println!("{}", serde_json::to_string(&r)?);
    } else {
        let r = crate::flows::swbench::replay(&t, a)?;
        println!("{}", serde_json::to_string(&r)?);
    }
    Ok(())
}

/// `memento bench-sim`'s arguments.
#[derive(clap::Args)]
pub struct SimBenchArgs {
    /// Tests of tb/regressions.toml to time (one design each).
    #[arg(long = "test", default_values_t = ["top".to_string(), "core_corner".to_string(), "hoa_pipelined".to_string()])]
    pub tests: Vec<String>,
    /// The seed every configuration runs (default: MEMENTO_SEED, else random).
    #[arg(long)]
    pub seed: Option<String>,
    /// Commands of each run (default: the test's own, from the list).
    #[arg(long)]
    pub commands: Option<u64>,
    /// Rounds; a configuration's time is its best round.
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Only these configurations (baseline, no-trace, 2-evals, word-forms, wheel, linked); the baseline
    /// always runs.
    #[arg(long = "only")]
    pub only: Vec<String>,
    /// Directory for bench-sim.json.
    #[arg(long, default_value = "build/report")]
    pub out: PathBuf,
}

/// `memento bench-sim`: simulation speed of each build configuration against the baseline.
pub fn bench_sim(a: SimBenchArgs) -> Result<()> {
    use crate::flows::simbench;
    let seed = seed_arg(a.seed)?;
    if a.rounds == 0 {
        bail!("--rounds 0: at least one round is needed");
    }
    let rl = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    let mut tests = vec![];
    for name in &a.tests {
        let mut t = rl.test(name).map_err(anyhow::Error::msg)?.clone();
        if t.design == Design::Bypass || t.design == Design::PageAlloc {
            bail!(
                "--test {name}: bench-sim times the command-driven designs (object_alloc, memento_core, memento_top); {name} is a {} test",
                t.design.name()
            );
        }
        t.ops = a.commands.unwrap_or(t.ops);
        tests.push(t);
    }
    let mut configs = simbench::configs(&root())?;
    for o in &a.only {
        if !configs.iter().any(|c| &c.label == o) {
            let known: Vec<&str> = configs.iter().map(|c| c.label.as_str()).collect();
            bail!(
                "--only {o}: no such configuration (known: {})",
                known.join(", ")
            );
        }
    }
    if !a.only.is_empty() {
        configs.retain(|c| c.label == "baseline" || a.only.contains(&c.label));
    }
    let runs: Vec<String> = tests
        .iter()
        .map(|t| format!("{} {}", t.name, t.ops))
        .collect();
    println!(
        "bench-sim: seed {seed}, {} rounds, commands a run: {}",
        a.rounds,
        runs.join(", ")
    );
    let plan = simbench::SimBenchPlan {
        tests,
        seed,
        rounds: a.rounds,
        configs,
    };
    let b = simbench::run(&plan)?;
    print!("{}", simbench::table(&b));
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let path = a.out.join("bench-sim.json");
    std::fs::write(&path, serde_json::to_string_pretty(&b)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}
