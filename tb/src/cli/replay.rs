//! `memento replay`: a program's allocation trace through `memento_top` in each memory mode,
//! with DRAM traffic by kind.

use super::{root, seed_arg};
use crate::env::traffic::Mode;
use crate::envs::core::CoreRunStats;
use crate::stimulus::trace::Trace;
use anyhow::{bail, Context, Result};
use memento_hw::emit::Design;

pub fn replay(
    path: &std::path::Path,
    log: Option<&std::path::Path>,
    stall: bool,
    s: Option<String>,
    modes: &[crate::env::traffic::Mode],
) -> Result<()> {
    use crate::env::traffic::Mode;
    use crate::envs::core::{run, CoreRunConfig};
    let seed = seed_arg(s)?;
    let t = crate::stimulus::trace::read(path)?;
    let mut runs: Vec<(Mode, crate::env::mem_path::MemStats)> = vec![];
    for (k, &mode) in modes.iter().enumerate() {
        let mut cfg = CoreRunConfig::new(seed, stall);
        cfg.design = Design::MementoTop;
        mode.apply(&mut cfg.params);
        let log = if k == 0 { log } else { None };
        let mut stim = crate::stimulus::trace::TraceReplay::new(&t, cfg.mrs, cfg.params.lane_bits);
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
        print_run(
            path,
            mode,
            &t,
            &core,
            started.elapsed().as_secs_f64(),
            &cfg.params,
        )?;
        if let Some(p) = log {
            println!("  command log: {}", p.display());
        }
        runs.push((mode, core.mem.clone()));
    }
    print_traffic(&runs);
    Ok(())
}

/// What one mode's replay did: counts, hit rates, latencies at the design's logic depth, the
/// page allocator's work.
fn print_run(
    path: &std::path::Path,
    mode: Mode,
    t: &Trace,
    core: &CoreRunStats,
    secs: f64,
    params: &memento_hw::Params,
) -> Result<()> {
    let stats = &core.hoa;
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
    let levels = crate::flows::timing::design_levels(
        &[(
            format!("replay_{}", mode.name().replace('-', "_")),
            Design::MementoTop,
            params.clone(),
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
    Ok(())
}

/// The DRAM traffic of each mode by kind, the ideal, and the savings against `off`.
fn print_traffic(runs: &[(crate::env::traffic::Mode, crate::env::mem_path::MemStats)]) {
    use crate::env::traffic::{saving, table, Mode};
    println!("  DRAM traffic in 64-byte lines, reads/writes by kind (LLC 2 MiB, 16 ways; flushed at the end):");
    let mut rows: Vec<(String, crate::env::traffic::Traffic)> = runs
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
