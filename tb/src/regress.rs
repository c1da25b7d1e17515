//! The randomized regression: many seeds in parallel, each a random stream through the hardware
//! and the golden model; a failing seed is re-run with a waveform of its last cycles.

use crate::core_harness::{self, CoreRunConfig, CoreRunStats};
use crate::env::EnvTiming;
use crate::harness::{self, Mismatch, RunConfig, TraceWindow};
use crate::model::object_alloc::Geometry;
use crate::stimulus::{Mix, RandomStream};
use indicatif::{ProgressBar, ProgressStyle};
use memento_hw::emit::Design;
use memento_hw::Params;
use memento_sim::WaveFormat;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Cycles of waveform kept before a failure.
pub const WAVE_WINDOW: u64 = 2000;

#[derive(Clone, Debug)]
pub struct RegressOptions {
    /// `ObjectAlloc` (the object allocator alone, pipelined commands, a testbench arena
    /// responder) or `MementoCore` (with the page allocator and the MMU model).
    pub design: Design,
    pub params: Params,
    /// Name of the parameter set, for replay commands.
    pub params_name: String,
    pub first_seed: u64,
    pub seeds: u64,
    pub ops: u64,
    pub jobs: usize,
    pub stressed: bool,
    pub progress: bool,
}

#[derive(Debug, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub passed: bool,
    pub commands: u64,
    pub cycles: u64,
    pub mismatch: Option<Mismatch>,
    pub replay: Option<String>,
    pub waveform: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct RegressReport {
    pub design: String,
    pub params: String,
    pub first_seed: u64,
    pub seeds: u64,
    pub ops_per_seed: u64,
    pub passed: u64,
    pub failed: u64,
    pub seconds: f64,
    pub totals: CoreRunStats,
    pub failures: Vec<SeedResult>,
}

/// The command that replays one seed of a regression.
pub fn replay_command(opt: &RegressOptions, seed: u64) -> String {
    let timing = if opt.stressed { "" } else { " --no-stall" };
    format!(
        "cargo run --release --bin memento -- regress --design {} --params {} --seed {seed} --seeds 1 --ops {}{timing}",
        design_name(opt.design),
        opt.params_name,
        opt.ops
    )
}

fn timing(stressed: bool) -> EnvTiming {
    if stressed {
        EnvTiming::stressed()
    } else {
        EnvTiming::fixed(4, 4)
    }
}

/// The CLI name of a design.
pub fn design_name(d: Design) -> &'static str {
    match d {
        Design::ObjectAlloc => "object_alloc",
        Design::PageAlloc => "page_alloc",
        Design::MementoCore => "memento_core",
        Design::Bypass => "bypass",
        Design::MementoTop => "memento_top",
    }
}

/// Runs one seed; with `trace`, writes that waveform window.
pub fn run_seed(
    opt: &RegressOptions,
    seed: u64,
    trace: Option<TraceWindow>,
) -> Result<CoreRunStats, Box<Mismatch>> {
    let stream = |mrs| {
        RandomStream::new(
            seed,
            opt.ops,
            Geometry::from(&opt.params),
            mrs,
            Mix::default(),
        )
    };
    match opt.design {
        Design::MementoCore | Design::MementoTop => {
            let mut cfg = CoreRunConfig::new(seed, opt.stressed);
            cfg.design = opt.design;
            cfg.params = opt.params.clone();
            cfg.trace = trace;
            core_harness::run(&cfg, &mut stream(cfg.mrs), None)
        }
        _ => {
            let mut cfg = RunConfig::new(seed, timing(opt.stressed));
            cfg.params = opt.params.clone();
            cfg.trace = trace;
            let hoa = harness::run(&cfg, &mut stream(cfg.mrs), None)?;
            Ok(CoreRunStats {
                hoa,
                ..CoreRunStats::default()
            })
        }
    }
}

/// Re-runs a failing seed and writes the waveform of its last [`WAVE_WINDOW`] cycles.
pub fn wave_of_failure(opt: &RegressOptions, seed: u64, fail_cycle: u64, dir: &Path) -> PathBuf {
    let path = dir.join(format!(
        "{}-{}-seed-{seed}.fst",
        design_name(opt.design),
        opt.params_name
    ));
    let window = TraceWindow {
        from: fail_cycle.saturating_sub(WAVE_WINDOW),
        to: fail_cycle + 2,
        path: path.clone(),
        format: WaveFormat::Fst,
    };
    let _ = run_seed(opt, seed, Some(window));
    path
}

pub fn regress(opt: &RegressOptions, root: &Path) -> RegressReport {
    let started = std::time::Instant::now();
    let bar = if opt.progress {
        ProgressBar::new(opt.seeds * opt.ops)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} commands, {msg}",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let totals = Mutex::new(CoreRunStats::default());
    let waves = root.join("build/waves");
    std::thread::scope(|s| {
        for _ in 0..opt.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as u64;
                if i >= opt.seeds {
                    break;
                }
                let seed = opt.first_seed.wrapping_add(i);
                let res = match run_seed(opt, seed, None) {
                    Ok(stats) => {
                        let r = SeedResult {
                            seed,
                            passed: true,
                            commands: stats.hoa.commands,
                            cycles: stats.hoa.cycles,
                            mismatch: None,
                            replay: None,
                            waveform: None,
                        };
                        totals.lock().unwrap().merge(&stats);
                        r
                    }
                    Err(m) => {
                        let replay = replay_command(opt, seed);
                        let wave = wave_of_failure(opt, seed, m.cycle, &waves);
                        // println on a progress bar is dropped when stderr is not a terminal.
                        bar.suspend(|| {
                            eprintln!(
                                "FAIL seed {seed}: {m}\n  replay: {replay}\n  waveform: {}",
                                wave.display()
                            )
                        });
                        SeedResult {
                            seed,
                            passed: false,
                            commands: m.command,
                            cycles: m.cycle,
                            mismatch: Some(*m),
                            replay: Some(replay),
                            waveform: Some(wave),
                        }
                    }
                };
                bar.inc(opt.ops);
                let mut r = results.lock().unwrap();
                r.push(res);
                let failed = r.iter().filter(|x| !x.passed).count();
                bar.set_message(format!("{} seeds done, {failed} failed", r.len()));
            });
        }
    });
    bar.finish();
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.seed);
    let failed = results.iter().filter(|r| !r.passed).count() as u64;
    RegressReport {
        design: design_name(opt.design).into(),
        params: opt.params_name.clone(),
        first_seed: opt.first_seed,
        seeds: opt.seeds,
        ops_per_seed: opt.ops,
        passed: opt.seeds - failed,
        failed,
        seconds: started.elapsed().as_secs_f64(),
        totals: totals.into_inner().unwrap(),
        failures: results.into_iter().filter(|r| !r.passed).collect(),
    }
}
