//! `memento`: emit, lint, regress and replay the Memento hardware. The verbs live in
//! `memento_tb::cli`; this file is the command line.

use anyhow::Result;
use clap::{Parser, Subcommand};
use memento_tb::cli;
use std::path::PathBuf;

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
        #[command(flatten)]
        naming: cli::hw::NamingArgs,
    },
    /// Run `verilator --lint-only -Wall` on the emitted Verilog with the project's waivers.
    Lint {
        #[arg(long, default_value = "build/verilog")]
        dir: PathBuf,
        /// How the Verilog in `dir` was emitted.
        #[command(flatten)]
        naming: cli::hw::NamingArgs,
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
    Waves(cli::regress::WavesArgs),
    /// Performance: traces through the Verilated memento_top (bypass on, off and off-dram, with
    /// DRAM traffic by kind and the ideal) and through glibc, jemalloc and mimalloc; writes
    /// bench.json and bench.html.
    Bench(cli::perf::BenchArgs),
    /// Run a program with an allocation interposer preloaded: one malloc-lab trace per process
    /// and a JSON of what the run cost (wall time, TSC cycles, cycles inside the allocator, page
    /// faults); `memento bench` on the trace estimates what Memento would save it.
    Capture(cli::capture::CaptureArgs),
    /// Simulation speed: one design built several ways (tracing, evaluations a cycle, Verilator
    /// version), each timed on the same seed against the baseline build in this process.
    BenchSim(cli::perf::SimBenchArgs),
    /// Design-space sweep: the traces through memento_top at every point of tb/sweep.toml, with
    /// hit rates, cycles, traffic and Yosys area; writes sweep.json and sweep.html. Needs the
    /// sweep variants (`make sweep` builds them).
    Sweep(cli::perf::SweepArgs),
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
    Regress(cli::regress::RegressArgs),
    /// A soak: the list's mix scaled to a number of commands (default 10^9), with progress, then
    /// the rate and the time 10^9 commands take on N nodes like this one.
    Soak(cli::regress::SoakArgs),
    /// One report from the shards of a run (`memento regress --shard I/N`): coverage bins summed,
    /// failing seeds kept with their replay commands, the HTML written again.
    Merge {
        /// Each shard's report, or the folder holding its regress.json.
        #[arg(required = true)]
        shards: Vec<std::path::PathBuf>,
        /// Where to write the merged JSON (index.html goes beside it).
        #[arg(long, default_value = "build/report/merged/regress.json")]
        out: std::path::PathBuf,
    },
    /// Cross-simulation: each test's seed recorded port by port from Verilator and played on the
    /// same emitted Verilog under Icarus; every output compared on every cycle, no X after reset.
    Xsim(cli::verify::XsimArgs),
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

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Emit { out, naming } => cli::hw::emit(&out, &naming.naming()),
        Cmd::Lint { dir, naming } => cli::hw::lint(&dir, &naming.naming()),
        Cmd::Synth { dir, report, only } => cli::hw::synth(&dir, &report, only),
        Cmd::Timing {
            dir,
            report,
            check,
            only,
            stage_levels,
            jobs,
        } => cli::hw::timing(
            &dir,
            &report,
            check,
            only,
            stage_levels,
            cli::jobs_arg(jobs),
        ),
        Cmd::Replay {
            trace,
            log,
            stall,
            seed,
            bypass,
        } => {
            let modes = memento_tb::env::traffic::Mode::parse_list(&bypass)
                .map_err(|e| anyhow::anyhow!("--bypass {bypass:?}: {e}"))?;
            cli::replay::replay(&trace, log.as_deref(), stall, seed, &modes)
        }
        Cmd::Latency {
            commands,
            hdr_latency,
        } => cli::perf::latency(commands, hdr_latency),
        Cmd::Coverage { dir, report } => cli::regress::coverage(&dir, &report),
        Cmd::Waves(a) => cli::regress::waves(a),
        Cmd::Bench(a) => cli::perf::bench(a),
        Cmd::Capture(a) => {
            let code = cli::capture::capture(a)?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        Cmd::Sweep(a) => cli::perf::sweep(a),
        Cmd::BenchSim(a) => cli::perf::bench_sim(a),
        Cmd::Swbench {
            allocator,
            whole,
            trace,
        } => cli::perf::swbench(&allocator, whole, &trace),
        Cmd::Regress(a) => cli::regress::regress(a),
        Cmd::Soak(a) => cli::regress::soak(a),
        Cmd::Merge { shards, out } => cli::regress::merge(&shards, &out),
        Cmd::Xsim(a) => cli::verify::xsim(a),
        Cmd::Formal { only, fast } => cli::verify::formal(&only, fast),
        Cmd::Mutate {
            block,
            count,
            equiv_depth,
            check_proofs,
            seed,
            list,
            jobs,
        } => cli::verify::mutate(block, (count, equiv_depth, check_proofs), seed, &list, jobs),
    }
}
