//! `memento`: emit, lint, regress and replay the Memento hardware.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use memento_hw::emit::{variant_verilog, Design};
use memento_tb::seed;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "memento",
    about = "Generate, lint and verify the Memento hardware"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the Verilog of every design to build/verilog/.
    Emit {
        #[arg(long, default_value = "build/verilog")]
        out: PathBuf,
    },
    /// Run `verilator --lint-only -Wall` on the emitted Verilog with the project's waivers.
    Lint {
        #[arg(long, default_value = "build/verilog")]
        dir: PathBuf,
    },
    /// Yosys `synth` of every design: cells, flip-flops and memory bits per block.
    Synth {
        #[arg(long, default_value = "build/verilog")]
        dir: PathBuf,
        #[arg(long, default_value = "build/report/synth.json")]
        report: PathBuf,
        /// Only this variant (for example `page_alloc`).
        #[arg(long)]
        only: Option<String>,
    },
    /// Logic levels of the longest path in one cycle, per block and per design (SPEC section 10):
    /// Yosys and ABC onto two-input gates, unit delay. Writes a table and build/report/timing.json.
    Timing {
        #[arg(long, default_value = "build/verilog")]
        dir: PathBuf,
        #[arg(long, default_value = "build/report/timing.json")]
        report: PathBuf,
        /// Fail, naming every path over the budget.
        #[arg(long)]
        check: bool,
        /// Only the blocks of this name (`lowest_free`), or the whole of this design (`bypass`).
        #[arg(long)]
        only: Option<String>,
        /// The budget in two-input gate levels (SPEC's STAGE_LEVELS).
        #[arg(long, default_value_t = memento_hw::params::STAGE_LEVELS)]
        stage_levels: u32,
        /// Parallel Yosys runs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Replay a real program's allocation trace through the RTL and the golden model.
    Replay {
        /// Trace file (malloc-lab format, gzip or plain).
        trace: PathBuf,
        /// Write the command log (`OP ARG STATUS PTR LATENCY`, one line per command).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Random stalls on every port instead of the fixed profile (header port 4 cycles, table
        /// port 30 cycles, OS refill 2,000 cycles).
        #[arg(long)]
        stall: bool,
        /// Seed of the environment's randomness (default: MEMENTO_SEED, else random).
        #[arg(long)]
        seed: Option<String>,
        /// Memory modes to run: `on` (the bypass), `off` (the OS zeroes pages through the cache),
        /// `off-dram` (pages zeroed straight in DRAM), a comma-separated list, or `all`. With `on`
        /// and `off` both run, the traffic saved against `off` and the ideal are printed.
        #[arg(long, default_value = "all")]
        bypass: String,
    },
    /// Latency benchmark: HOT-hit latency and back-to-back throughput, header port at 4 cycles.
    Latency {
        #[arg(long, default_value_t = 1_000_000)]
        commands: u64,
        #[arg(long, default_value_t = 4)]
        hdr_latency: u64,
    },
    /// Code coverage of a `--coverage` build's runs (`make coverage`): line and toggle per block.
    Coverage {
        #[arg(long, default_value = "build/coverage")]
        dir: PathBuf,
        #[arg(long, default_value = "build/report/coverage.json")]
        report: PathBuf,
    },
    /// Re-run one seed of a test with a waveform window, and write the GTKWave save file.
    Waves {
        /// The test (from tb/regressions.toml).
        #[arg(long)]
        test: String,
        /// The seed to re-run.
        #[arg(long)]
        seed: String,
        /// First cycle of the window.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Cycle after the last one of the window.
        #[arg(long, default_value_t = 20_000)]
        to: u64,
        /// Commands instead of the test's.
        #[arg(long)]
        ops: Option<u64>,
        /// Write VCD instead of FST.
        #[arg(long)]
        vcd: bool,
        /// Also write the command log (`OP ARG STATUS PTR LATENCY`, one line per command).
        #[arg(long)]
        log: Option<PathBuf>,
    },
    /// Performance: traces through the Verilated memento_top (bypass on, off and off-dram, with
    /// DRAM traffic by kind and the ideal) and through glibc, jemalloc and mimalloc; writes
    /// bench.json and bench.html.
    Bench {
        /// Traces (malloc-lab format, gzip or plain).
        #[arg(required = true)]
        traces: Vec<PathBuf>,
        /// Environment latency profile: default (header 4, table 30, DRAM 100, OS 2000), l2, far,
        /// stressed, or header=H,table=T,dram=D,os=O.
        #[arg(long, default_value = "default")]
        profile: String,
        /// Seed of the environment's randomness (default: MEMENTO_SEED, else random).
        #[arg(long)]
        seed: Option<String>,
        /// Timed replays per software allocator, warm and cold (the median is reported; whole
        /// replays take at least 5); 0 skips software.
        #[arg(long, default_value_t = 15)]
        reps: usize,
        /// The design's parameters: a set of tb/regressions.toml (`default`, `hdc0`, ...). Its
        /// memento_top must be generated in all three memory modes (on, off, off-dram).
        #[arg(long, default_value = "default")]
        params: String,
        /// Parallel hardware replays (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Directory for bench.json and bench.html.
        #[arg(long, default_value = "build/report")]
        out: PathBuf,
    },
    /// Design-space sweep: the traces through memento_top at every point of tb/sweep.toml, with
    /// hit rates, cycles, traffic and Yosys area; writes sweep.json and sweep.html. Needs the
    /// sweep variants (`make sweep` builds them).
    Sweep {
        /// Traces (malloc-lab format, gzip or plain).
        #[arg(required = true)]
        traces: Vec<PathBuf>,
        /// Environment latency profile (as for bench).
        #[arg(long, default_value = "default")]
        profile: String,
        /// Seed of the environment's randomness (default: MEMENTO_SEED, else random).
        #[arg(long)]
        seed: Option<String>,
        /// Parallel runs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Leave out the Yosys area of each point.
        #[arg(long)]
        no_synth: bool,
        /// The free hit rate to find a point for.
        #[arg(long, default_value_t = 0.83)]
        target: f64,
        /// The traces (by file name without .rep.gz) that must reach it: the Python ones.
        #[arg(long, value_delimiter = ',', default_value = "ast_fn,xml_fn")]
        target_traces: Vec<String>,
        /// Directory for sweep.json and sweep.html.
        #[arg(long, default_value = "build/report")]
        out: PathBuf,
    },
    /// One cold software replay in this fresh process, printed as JSON (the bench starts it).
    #[command(hide = true)]
    Swbench {
        #[arg(long)]
        allocator: String,
        /// Time the whole first replay against the empty allocator instead of every call.
        #[arg(long)]
        whole: bool,
        trace: PathBuf,
    },
    /// Randomized regression: the tests of a list in tb/regressions.toml, every seed in parallel.
    Regress(RegressArgs),
    /// Formal checks: each block's properties (hw/formal/) under yosys-smtbmc and z3, BMC to
    /// the check's depth then k-induction; proven, bounded or failed with a counterexample VCD.
    /// Writes build/report/formal.json.
    Formal {
        /// Only these checks (frame_stack, ...).
        #[arg(long)]
        only: Vec<String>,
        /// Only the checks that take seconds (what `make test` runs).
        #[arg(long)]
        fast: bool,
    },
    /// Mutation testing: Yosys `mutate` over every block of the designs of the `mutate` list, each
    /// mutant run through that list's tests; kill rate per block and every survivor. Writes
    /// build/report/mutate.json and mutate.html.
    Mutate {
        /// Only the block of this name (`header_cache`, `page_mapper`, ...).
        #[arg(long)]
        block: Option<String>,
        /// Mutants per block.
        #[arg(long, default_value_t = 40)]
        count: usize,
        /// Cycles of the bounded equivalence check (yosys-smtbmc, z3) of each survivor; 0: none.
        /// A whole-design miter takes z3 many minutes a mutant, so it is off by default.
        #[arg(long, default_value_t = 0)]
        equiv_depth: u32,
        /// The block proofs' soundness check: run them on up to N killed mutants of each block;
        /// proving any is an error.
        #[arg(long, default_value_t = 0)]
        check_proofs: usize,
        /// The campaign's seed: picks the mutants and the tests' seeds (default: MEMENTO_SEED,
        /// else the last campaign's, so that a rerun resumes it, else random).
        #[arg(long)]
        seed: Option<String>,
        /// The list of tests to run each mutant through.
        #[arg(long, default_value = "mutate")]
        list: String,
        /// Parallel jobs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
}

/// `memento regress`'s arguments.
#[derive(clap::Args)]
struct RegressArgs {
    /// The list to run (see [lists] in tb/regressions.toml).
    #[arg(long, default_value = "default")]
    list: String,
    /// Run this one test instead of a list (coverage is reported; only the default list must
    /// hit every bin).
    #[arg(long)]
    test: Option<String>,
    /// First seed; a test's seeds are consecutive from it (default: MEMENTO_SEED, else random).
    #[arg(long)]
    seed: Option<String>,
    /// Seeds per test instead of the list's.
    #[arg(long)]
    seeds: Option<u64>,
    /// Commands per seed instead of the list's.
    #[arg(long)]
    ops: Option<u64>,
    /// Parallel jobs (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Where to write the JSON report; the HTML report goes beside it as index.html
    /// (default: build/report/regress.json for a list, build/report/<test>/regress.json for one
    /// test).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Seconds to spend shrinking the first failing seed of each test to a short command
    /// script (build/shrink/<test>-seed-<seed>.cmds); 0: no shrinking.
    #[arg(long, default_value_t = 300)]
    shrink_secs: u64,
    /// Play this command script (from shrinking, or written by hand) through --test's
    /// design, with the environment of --seed, instead of a random stream.
    #[arg(long, requires = "test", requires = "seed")]
    script: Option<PathBuf>,
}

/// Every generated variant: the built-in ones and those the regression list asks for.
fn all_variants() -> Result<Vec<memento_hw::emit::Variant>> {
    let list = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    Ok(memento_runs::variants_with(&list))
}

/// `--seed`, else `MEMENTO_SEED`, else a fresh one.
fn seed_arg(s: Option<String>) -> Result<u64> {
    match s {
        Some(s) => seed::parse(&s).with_context(|| format!("--seed {s:?} is not a u64")),
        None => Ok(seed::seed()),
    }
}

/// `--jobs`, else every core.
fn jobs_arg(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Paths as a command line shows them.
fn joined(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn timing(
    dir: &std::path::Path,
    report: &std::path::Path,
    check: bool,
    only: Option<String>,
    budget: u32,
    jobs: usize,
) -> Result<()> {
    use memento_tb::timing;
    let mut designs = vec![];
    for v in all_variants()? {
        let file = dir.join(format!("{}.v", v.name));
        if !file.exists() {
            bail!(
                "{} does not exist: run `make verilog` first",
                file.display()
            );
        }
        designs.push((v.name.clone(), v.params.summary(), file));
    }
    let plan = timing::TimingPlan {
        designs,
        only,
        budget,
        cache: root().join("build/timing/cache"),
        jobs,
        progress: true,
    };
    let started = std::time::Instant::now();
    let result = timing::run(&plan)?;
    print!("{}", timing::table(&result, budget));
    if let Some(p) = report.parent() {
        std::fs::create_dir_all(p)?;
    }
    let json = serde_json::json!({ "stage_levels": budget, "designs": result });
    std::fs::write(report, serde_json::to_string_pretty(&json)?)?;
    println!(
        "report: {} ({:.0} s)",
        report.display(),
        started.elapsed().as_secs_f64()
    );
    let bad = timing::violations(&result);
    if check && !bad.is_empty() {
        for b in &bad {
            eprintln!("over {budget} levels: {b}");
        }
        bail!("{} paths over the budget of {budget} levels", bad.len());
    }
    if check {
        println!("every path within {budget} levels");
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

fn mutate(
    block: Option<String>,
    (count, equiv_depth, check_proofs): (usize, u32, usize),
    s: Option<String>,
    list: &str,
    jobs: Option<usize>,
) -> Result<()> {
    use memento_tb::mutate;
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

fn root() -> PathBuf {
    std::env::current_dir().expect("current directory")
}

fn replay(
    path: &std::path::Path,
    log: Option<&std::path::Path>,
    stall: bool,
    s: Option<String>,
    modes: &[memento_tb::traffic::Mode],
) -> Result<()> {
    use memento_tb::envs::core::{run, CoreRunConfig};
    use memento_tb::traffic::Mode;
    let seed = seed_arg(s)?;
    let t = memento_tb::trace::read(path)?;
    let mut runs: Vec<(Mode, memento_tb::env::mem_path::MemStats)> = vec![];
    for (k, &mode) in modes.iter().enumerate() {
        let mut cfg = CoreRunConfig::new(seed, stall);
        cfg.design = Design::MementoTop;
        mode.apply(&mut cfg.params);
        let log = if k == 0 { log } else { None };
        let mut stim = memento_tb::trace::TraceReplay::new(&t, cfg.mrs, cfg.params.lane_bits);
        let mut writer = match log {
            Some(p) => {
                if let Some(d) = p.parent() {
                    std::fs::create_dir_all(d)?;
                }
                Some(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ))
            }
            None => None,
        };
        let started = std::time::Instant::now();
        let res = run(
            &cfg,
            &mut stim,
            writer.as_mut().map(|w| w as &mut dyn std::io::Write),
        );
        let core = match res {
            Ok(s) => s,
            Err(m) => {
                let again = format!(
                    "cargo run --release --bin memento -- replay {} --seed {seed} --bypass {}{}",
                    path.display(),
                    mode.name(),
                    if stall { " --stall" } else { "" }
                );
                bail!(
                    "replay of {} disagrees with the model (seed {seed}): {m}\n  replay: {again}",
                    path.display()
                );
            }
        };
        let stats = &core.hoa;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "replay {} (bypass {}): {} trace operations, {} commands, {} cycles, 0 mismatches ({:.1} s)",
            path.display(),
            mode.name(),
            t.ops.len(),
            stats.commands,
            stats.cycles,
            secs
        );
        println!(
            "  allocs {} (OK {}, FALLBACK {}), frees {} (OK {}, rejected {})",
            stats.allocs,
            stats.allocs_ok,
            stats.fallbacks,
            stats.frees,
            stats.frees_ok,
            stats.invalid + stats.double_frees
        );
        println!(
            "  HOT hit rate: alloc {:.2}% (paper 99.8%), free {:.2}% (paper 83%)",
            100.0 * stats.alloc_hit_rate(),
            100.0 * stats.free_hit_rate()
        );
        println!(
            "  arena refills {} (available-list pops), arena creations {}",
            stats.arena_refills, stats.arena_creations
        );
        let levels = memento_tb::timing::design_levels(
            &[(
                format!("replay_{}", mode.name().replace('-', "_")),
                Design::MementoTop,
                cfg.params.clone(),
            )],
            &root(),
            2,
        )?[0];
        println!(
            "  cycles below are counted at {levels} gate levels per cycle (make timing's method; SPEC's budget {})",
            memento_hw::params::STAGE_LEVELS
        );
        for (name, h) in [
            ("all", &stats.latency_all),
            ("alloc", &stats.latency_alloc),
            ("free", &stats.latency_free),
        ] {
            let s = h.summary();
            println!(
                "  cycles per command ({name:>5}): mean {:.2}, p50 {}, p99 {}, max {}",
                s.mean, s.p50, s.p99, s.max
            );
        }
        let pg = &core.pages;
        println!(
        "  page allocator: pages mapped {} ({} on first touch by the walker, {} arena first pages), tables allocated {}",
        pg.pages_mapped,
        core.walker_faults,
        pg.pages_mapped - core.walker_faults,
        pg.tables_allocated
    );
        println!(
        "  frames returned at exit {}, drained to the OS {}, refill requests {}, starved walks {}, frames lost {}",
        pg.frames_returned_at_exit, pg.frames_drained, pg.refill_requests, pg.starved_walks, core.frames_lost
    );
        println!(
            "  objects written and checked through their frames: {}",
            core.objects_checked
        );
        if let Some(p) = log {
            println!("  command log: {}", p.display());
        }
        runs.push((mode, core.mem.clone()));
    }
    print_traffic(&runs);
    Ok(())
}

/// The DRAM traffic of each mode by kind, the ideal, and the savings against `off`.
fn print_traffic(
    runs: &[(
        memento_tb::traffic::Mode,
        memento_tb::env::mem_path::MemStats,
    )],
) {
    use memento_tb::traffic::{saving, table, Mode};
    println!("  DRAM traffic in 64-byte lines, reads/writes by kind (LLC 2 MiB, 16 ways; flushed at the end):");
    let mut rows: Vec<(String, memento_tb::traffic::Traffic)> = runs
        .iter()
        .map(|(m, s)| (m.name().to_string(), s.traffic.clone()))
        .collect();
    let on = runs.iter().find(|(m, _)| *m == Mode::On).map(|(_, s)| s);
    if let Some(on) = on {
        rows.push(("ideal".into(), on.ideal.clone()));
    }
    let off = runs
        .iter()
        .find(|(m, _)| *m == Mode::Off)
        .map(|(_, s)| &s.traffic);
    let base = off.cloned().unwrap_or_else(|| rows[0].1.clone());
    print!("{}", table(&rows, &base, "    "));
    for (m, s) in runs.iter().filter(|(m, _)| *m == Mode::On) {
        let b = &s.bypass;
        println!(
            "  bypass {}: reads bypassed {}, writebacks dropped {}, zero lines {}, entries evicted with fresh lines {}",
            m.name(), b.reads_bypassed, b.writebacks_dropped, b.zero_lines, s.evictions_with_fresh
        );
    }
    if let (Some(on), Some(off)) = (on, off) {
        let (got, ceiling) = (
            saving(on.traffic.total(), off.total()),
            saving(on.ideal.total(), off.total()),
        );
        println!(
            "  saving against off (the OS zeroing through the cache): on {got:.1}%, ideal {ceiling:.1}%; on reaches {:.1}% of the ideal saving (paper: -30%)",
            if ceiling > 0.0 { 100.0 * got / ceiling } else { 0.0 }
        );
    }
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Emit { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for v in all_variants()? {
                let text = variant_verilog(&v)?;
                let path = out.join(format!("{}.v", v.name));
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
        }
        Cmd::Lint { dir } => {
            let waivers = root().join("hw/lint/waivers.vlt");
            for variant in all_variants()? {
                let v = dir.join(format!("{}.v", variant.name));
                if !v.exists() {
                    bail!("{} does not exist: run `make verilog` first", v.display());
                }
                let st = std::process::Command::new("verilator")
                    .args(["--lint-only", "-Wall", "--top-module", &variant.name])
                    .arg(&waivers)
                    .arg(&v)
                    .status()
                    .context("running verilator (install it with scripts/install-deps.sh)")?;
                if !st.success() {
                    bail!("lint failed on {}", v.display());
                }
                println!("lint clean: {}", v.display());
            }
        }
        Cmd::Synth { dir, report, only } => {
            let mut all = vec![];
            for variant in all_variants()?
                .into_iter()
                .filter(|v| only.as_deref().is_none_or(|o| o == v.name))
            {
                let v = dir.join(format!("{}.v", variant.name));
                if !v.exists() {
                    bail!("{} does not exist: run `make verilog` first", v.display());
                }
                let rows =
                    memento_tb::synth::synth(&v, &variant.name, &root().join("build/synth"))?;
                println!(
                    "{}: Yosys synth ({})",
                    variant.name,
                    variant.params.summary()
                );
                println!(
                    "  {:<16} {:>9} {:>9} {:>12}",
                    "block", "cells", "flops", "memory bits"
                );
                for r in &rows {
                    println!(
                        "  {:<16} {:>9} {:>9} {:>12}",
                        r.block, r.cells, r.flops, r.memory_bits
                    );
                }
                all.push(serde_json::json!({ "design": variant.name, "blocks": rows }));
            }
            if let Some(p) = report.parent() {
                std::fs::create_dir_all(p)?;
            }
            std::fs::write(&report, serde_json::to_string_pretty(&all)?)?;
            println!("report: {}", report.display());
        }
        Cmd::Timing {
            dir,
            report,
            check,
            only,
            stage_levels,
            jobs,
        } => timing(&dir, &report, check, only, stage_levels, jobs_arg(jobs))?,
        Cmd::Replay {
            trace,
            log,
            stall,
            seed: s,
            bypass,
        } => {
            let modes = memento_tb::traffic::Mode::parse_list(&bypass)
                .map_err(|e| anyhow::anyhow!("--bypass {bypass:?}: {e}"))?;
            replay(&trace, log.as_deref(), stall, s, &modes)?
        }
        Cmd::Latency {
            commands,
            hdr_latency,
        } => {
            let started = std::time::Instant::now();
            let r = memento_tb::latency::bench(commands, hdr_latency)?;
            println!("latency bench, header port answering in {hdr_latency} cycles, no stalls");
            let levels = memento_tb::timing::design_levels(
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
        }
        Cmd::Coverage { dir, report } => {
            let merged = memento_tb::code_coverage::merge(&dir)?;
            let blocks = memento_tb::code_coverage::per_block(&merged)?;
            println!(
                "code coverage ({}; annotated sources in {}):",
                merged.display(),
                dir.join("annotated").display()
            );
            println!(
                "  {:<44} {:>8} {:>8} {:>7} {:>9} {:>9} {:>7}",
                "block", "lines", "hit", "line %", "toggles", "hit", "tgl %"
            );
            for b in &blocks {
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
            if let Some(d) = report.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(&report, serde_json::to_string_pretty(&blocks)?)?;
            println!("report: {}", report.display());
        }
        Cmd::Waves {
            test,
            seed: s,
            from,
            to,
            ops,
            vcd,
            log,
        } => {
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
            let window = memento_tb::envs::TraceWindow {
                from,
                to,
                path: path.clone(),
                format,
            };
            let outcome = match &log {
                Some(p) => {
                    let mut out = Vec::new();
                    let o = memento_tb::regress::run_seed_logged(&t, seed, Some(window), &mut out);
                    std::fs::write(p, out)
                        .with_context(|| format!("writing the command log {}", p.display()))?;
                    o
                }
                None => memento_tb::regress::run_seed(&t, seed, Some(window)),
            };
            match &outcome {
                Ok(st) => println!(
                    "{test} seed {seed}: passed, {} commands, {} cycles",
                    st.hoa.commands, st.hoa.cycles
                ),
                Err(m) => println!("{test} seed {seed}: FAILED: {m}"),
            }
            let gtkw = dir.join("memento.gtkw");
            let groups = memento_tb::waves::save_file(&path, &gtkw)?;
            println!("waveform: {} (cycles {from}..{to})", path.display());
            println!("save file: {} ({groups} groups)", gtkw.display());
            println!("open with: gtkwave {} {}", path.display(), gtkw.display());
            if let Err(m) = outcome {
                bail!("{test} seed {seed} failed at cycle {}", m.cycle);
            }
        }
        Cmd::Bench {
            traces,
            profile,
            seed: s,
            reps,
            params,
            jobs,
            out,
        } => {
            use memento_tb::bench::{bench, BenchPlan, Profile};
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
            print!("{}", memento_tb::bench_report::text(&report));
            memento_tb::bench_report::write(&report, &out)?;
            println!(
                "bench: done in {:.0} s; {} and {}",
                report.seconds,
                out.join("bench.json").display(),
                out.join("bench.html").display()
            );
        }
        Cmd::Sweep {
            traces,
            profile,
            seed: s,
            jobs,
            no_synth,
            target,
            target_traces,
            out,
        } => {
            use memento_tb::sweep::{sweep, SweepPlan};
            let seed = seed_arg(s)?;
            let list =
                memento_runs::sweep_list::workspace_sweep(&root()).map_err(anyhow::Error::msg)?;
            let plan = SweepPlan {
                sweep: list,
                traces,
                profile: memento_tb::bench::Profile::parse(&profile)?,
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
            print!("{}", memento_tb::bench_report::sweep_text(&r));
            memento_tb::bench_report::write_sweep(&r, &out)?;
            println!(
                "sweep: done in {:.0} s; {} and {}",
                r.seconds,
                out.join("sweep.json").display(),
                out.join("sweep.html").display()
            );
        }
        Cmd::Swbench {
            allocator,
            whole,
            trace,
        } => {
            let a = memento_tb::swbench::Allocator::by_name(&allocator)?;
            let t = memento_tb::trace::read(&trace)?;
            if whole {
                let r = memento_tb::swbench::cold_whole_once(&t, a)?;
                println!("{}", serde_json::to_string(&r)?);
            } else {
                let r = memento_tb::swbench::replay(&t, a)?;
                println!("{}", serde_json::to_string(&r)?);
            }
        }
        Cmd::Formal { only, fast } => formal(&only, fast)?,
        Cmd::Mutate {
            block,
            count,
            equiv_depth,
            check_proofs,
            seed: s,
            list,
            jobs,
        } => mutate(block, (count, equiv_depth, check_proofs), s, &list, jobs)?,
        Cmd::Regress(args) => regress(args)?,
    }
    Ok(())
}

/// `memento regress`: a list or one test, the reports, the table; fails on a failed seed or (for
/// the default list) a coverage bin at zero.
fn regress(a: RegressArgs) -> Result<()> {
    let RegressArgs {
        list,
        test,
        seed: s,
        seeds,
        ops,
        jobs,
        report,
        shrink_secs,
        script,
    } = a;
    let rl = memento_runs::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    if let (Some(path), Some(t)) = (&script, &test) {
        let t = rl.test(t).map_err(anyhow::Error::msg)?;
        return play_script(t, seed_arg(s)?, path);
    }
    let (name, mut tests, gate) = match &test {
        Some(t) => (
            t.clone(),
            vec![rl.test(t).map_err(anyhow::Error::msg)?.clone()],
            false,
        ),
        None => (
            list.clone(),
            rl.list(&list)
                .map_err(anyhow::Error::msg)?
                .into_iter()
                .cloned()
                .collect(),
            // The default list is the complete one: it must hit every bin. Others only report.
            list == "default",
        ),
    };
    for t in &mut tests {
        t.seeds = seeds.unwrap_or(t.seeds);
        t.ops = ops.unwrap_or(t.ops);
    }
    let first_seed = seed_arg(s)?;
    let jobs = jobs_arg(jobs);
    let runs: u64 = tests.iter().map(|t| t.seeds).sum();
    println!(
        "regress {name}: {} tests, {runs} seeds in all, first seed {first_seed}, {jobs} jobs",
        tests.len()
    );
    let plan = memento_tb::regress::Plan {
        name,
        tests,
        first_seed,
        jobs,
        gate_coverage: gate,
        progress: true,
        shrink: std::time::Duration::from_secs(shrink_secs),
    };
    let r = memento_tb::regress::regress(&plan, &root());
    let report = report.unwrap_or_else(|| match &test {
        Some(t) => PathBuf::from(format!("build/report/{t}/regress.json")),
        None => PathBuf::from("build/report/regress.json"),
    });
    let dir = report.parent().map(PathBuf::from).unwrap_or_default();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&report, serde_json::to_string_pretty(&r)?)?;
    let html = dir.join("index.html");
    std::fs::write(&html, memento_tb::regress::html(&r))?;
    print_regress(&r);
    println!(
        "regress {}: {} in {:.1} s; reports {} and {}",
        r.name,
        if r.passed { "PASSED" } else { "FAILED" },
        r.seconds,
        report.display(),
        html.display()
    );
    if !r.passed {
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
    Ok(())
}

/// The regression's table: a line a test, its page and memory-path totals, and the coverage.
fn print_regress(r: &memento_tb::regress::RegressReport) {
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
    match memento_tb::regress::run_script(t, seed, path)? {
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

/// `memento formal`: the checks, a table, build/report/formal.json; fails on a counterexample.
fn formal(only: &[String], fast: bool) -> Result<()> {
    use memento_tb::formal;
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
