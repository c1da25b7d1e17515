//! `memento`: emit, lint, regress and replay the Memento hardware.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use memento_hw::emit::{variant_verilog, Design};
use memento_hw::Params;
use memento_tb::regress::{regress, RegressOptions};
use memento_tb::seed;
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
        /// The main-memory bypass: `on`, `off`, or `both` (two runs and the DRAM traffic saved).
        #[arg(long, default_value = "both")]
        bypass: String,
    },
    /// Latency benchmark: HOT-hit latency and back-to-back throughput, header port at 4 cycles.
    Latency {
        #[arg(long, default_value_t = 1_000_000)]
        commands: u64,
        #[arg(long, default_value_t = 4)]
        hdr_latency: u64,
    },
    /// Randomized regression: seeds x commands through the RTL and the golden model.
    Regress {
        /// Number of seeds (consecutive from --seed).
        #[arg(long, default_value_t = 64)]
        seeds: u64,
        /// Commands per seed.
        #[arg(long, default_value_t = 100_000)]
        ops: u64,
        /// Parallel jobs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// First seed (default: MEMENTO_SEED, else random).
        #[arg(long)]
        seed: Option<String>,
        /// Fixed 4-cycle header port and no stalls, instead of random stalls on every port.
        #[arg(long)]
        no_stall: bool,
        /// Design: `memento_core` (object + page allocator, MMU model) or `object_alloc` (alone,
        /// pipelined commands, a testbench arena responder).
        #[arg(long, default_value = "memento_core")]
        design: String,
        /// Parameter set: `default`, or `corner` (OBJS=32, LANE_BITS=15: full arenas and lanes often).
        #[arg(long, default_value = "default")]
        params: String,
        /// Where to write the JSON report.
        #[arg(long, default_value = "build/report/regress.json")]
        report: PathBuf,
    },
}

/// Every generated variant: the built-in ones and those the regression list asks for.
fn all_variants() -> Result<Vec<memento_hw::emit::Variant>> {
    let list = memento_hw::emit::workspace_list(&root()).map_err(anyhow::Error::msg)?;
    Ok(memento_hw::emit::variants_with(&list))
}

fn root() -> PathBuf {
    std::env::current_dir().expect("current directory")
}

fn replay(
    path: &std::path::Path,
    log: Option<&std::path::Path>,
    stall: bool,
    s: Option<String>,
    settings: &[bool],
) -> Result<()> {
    use memento_tb::core_harness::{run, CoreRunConfig};
    let seed = match s {
        Some(s) => seed::parse(&s).with_context(|| format!("--seed {s:?} is not a u64"))?,
        None => seed::seed(),
    };
    let t = memento_tb::trace::read(path)?;
    let mut dram: Vec<(bool, memento_tb::model::bypass::BypassCounters)> = vec![];
    for (k, &on) in settings.iter().enumerate() {
        let mut cfg = CoreRunConfig::new(seed, stall);
        cfg.design = Design::MementoTop;
        cfg.params.bypass_on = on;
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
                    "cargo run --release --bin memento -- replay {} --seed {seed}{}",
                    path.display(),
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
            "replay {}: {} trace operations, {} commands, {} cycles, 0 mismatches ({:.1} s)",
            path.display(),
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
        dram.push((on, core.mem.bypass.clone()));
    }
    println!("  DRAM traffic (LLC 2 MiB, 16 ways, 64 B lines; the cache is flushed at the end):");
    println!(
        "    {:<8} {:>12} {:>12} {:>12} {:>14} {:>16} {:>12}",
        "bypass",
        "DRAM reads",
        "DRAM writes",
        "total",
        "reads bypassed",
        "writebacks dropped",
        "zero lines"
    );
    for (on, b) in &dram {
        println!(
            "    {:<8} {:>12} {:>12} {:>12} {:>14} {:>16} {:>12}",
            if *on { "on" } else { "off" },
            b.dram_reads,
            b.dram_writes,
            b.dram_reads + b.dram_writes,
            b.reads_bypassed,
            b.writebacks_dropped,
            b.zero_lines
        );
    }
    if let [(true, on), (false, off)] = dram.as_slice() {
        let pct = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                100.0 * (b as f64 - a as f64) / b as f64
            }
        };
        println!(
            "  reduction with the bypass: reads {:.1}%, writes {:.1}%, total {:.1}% (paper: main-memory traffic -30%)",
            pct(on.dram_reads, off.dram_reads),
            pct(on.dram_writes, off.dram_writes),
            pct(on.dram_reads + on.dram_writes, off.dram_reads + off.dram_writes)
        );
    }
    Ok(())
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
        Cmd::Replay {
            trace,
            log,
            stall,
            seed: s,
            bypass,
        } => {
            let settings: &[bool] = match bypass.as_str() {
                "on" => &[true],
                "off" => &[false],
                "both" => &[true, false],
                other => bail!("--bypass {other:?}: expected `on`, `off` or `both`"),
            };
            replay(&trace, log.as_deref(), stall, s, settings)?
        }
        Cmd::Latency {
            commands,
            hdr_latency,
        } => {
            let started = std::time::Instant::now();
            let r = memento_tb::latency::bench(commands, hdr_latency)?;
            let h = r.hits.latency_hit.summary();
            let hits_cpc = r.hits.cycles as f64 / r.hits.commands as f64;
            let miss_cpc = r.misses.cycles as f64 / r.misses.commands as f64;
            println!("latency bench, header port answering in {hdr_latency} cycles, no stalls");
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
        Cmd::Regress {
            seeds,
            ops,
            jobs,
            seed: s,
            no_stall,
            design,
            params,
            report,
        } => {
            let d = match design.as_str() {
                "memento_core" => Design::MementoCore,
                "memento_top" => Design::MementoTop,
                "object_alloc" => Design::ObjectAlloc,
                other => bail!(
                    "--design {other:?}: expected `memento_top`, `memento_core` or `object_alloc`"
                ),
            };
            let p = match params.as_str() {
                "default" => Params::default(),
                "corner" => Params::corner(),
                other => bail!("--params {other:?}: expected `default` or `corner`"),
            };
            let first_seed = match s {
                Some(s) => seed::parse(&s).with_context(|| format!("--seed {s:?} is not a u64"))?,
                None => seed::seed(),
            };
            let jobs = jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            });
            println!(
                "regress ({design}, {params} parameters): {seeds} seeds x {ops} commands from seed {first_seed}, {jobs} jobs"
            );
            let opt = RegressOptions {
                design: d,
                params: p,
                params_name: params.clone(),
                first_seed,
                seeds,
                ops,
                jobs,
                stressed: !no_stall,
                progress: true,
            };
            let r = regress(&opt, &root());
            if let Some(dir) = report.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&report, serde_json::to_string_pretty(&r)?)?;
            let t = &r.totals.hoa;
            println!(
                "regress: {} passed, {} failed, {} commands, {} cycles in {:.1} s",
                r.passed, r.failed, t.commands, t.cycles, r.seconds
            );
            println!(
                "  HOT hit rate: alloc {:.1}%, free {:.1}%; arena refills {}, creations {}; header reads {}, writes {}",
                100.0 * t.alloc_hit_rate(),
                100.0 * t.free_hit_rate(),
                t.arena_refills,
                t.arena_creations,
                t.header_reads,
                t.header_writes
            );
            let paths: Vec<String> = t.paths.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("  paths: {}", paths.join(", "));
            if matches!(d, Design::MementoCore | Design::MementoTop) {
                let c = &r.totals;
                let pg = &c.pages;
                println!(
                    "  frames: taken {} ({} pages, {} tables), returned at exit {}, drained {}, refill requests {}, lost {}",
                    pg.pages_mapped + pg.tables_allocated,
                    pg.pages_mapped,
                    pg.tables_allocated,
                    pg.frames_returned_at_exit,
                    pg.frames_drained,
                    pg.refill_requests,
                    c.frames_lost
                );
                if d == Design::MementoTop {
                    let b = &c.mem.bypass;
                    println!(
                        "  memory path: fills checked {}, LLC hits {} misses {}; bypass: reads bypassed {}, writebacks dropped {}, zero lines {}, DRAM reads {}, DRAM writes {}",
                        c.mem.fills_checked, c.mem.llc_hits, c.mem.llc_misses, b.reads_bypassed, b.writebacks_dropped, b.zero_lines, b.dram_reads, b.dram_writes
                    );
                }
                println!(
                    "  exits {}, walker faults {}, starved walks {} ({} starved cycles), objects checked through their frames {}",
                    pg.exits, c.walker_faults, pg.starved_walks, c.starved_cycles, c.objects_checked
                );
            }
            println!("  report: {}", report.display());
            if r.failed > 0 {
                bail!("{} of {} seeds failed", r.failed, r.seeds);
            }
        }
    }
    Ok(())
}
