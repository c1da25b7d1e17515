//! `memento bench`: real programs' allocation traces through the Verilated `memento_top` and,
//! in the same run, through glibc malloc, jemalloc and mimalloc ([`crate::flows::swbench`]).
//!
//! The hardware side replays each trace three times, once per memory mode (bypass on, `off`: the
//! OS zeroes pages through the cache, `off-dram`: pages zeroed in DRAM), under an environment
//! latency profile, with both golden models checking every cycle (a mismatch fails the bench). It
//! reports cycles per command per op, the first-touch page faults the page allocator serves, HOT
//! hit rates, the share of commands that needed arena-list work, pages mapped, and DRAM traffic by
//! kind for each mode and for the ideal (`crate::env::traffic`).

use crate::env::traffic::{Mode, Traffic};
use crate::env::{EnvTiming, OsTiming};
use crate::envs::core::{run, CoreRunConfig, CoreRunStats};
use crate::envs::page_alloc::PageTiming;
use crate::flows::swbench::{Summary, SwRun, Whole};
use crate::stimulus::trace::{Trace, TraceReplay};
use anyhow::{bail, Context, Result};
use memento_hw::emit::Design;
use memento_hw::Params;
use serde::{Deserialize, Serialize};

/// The environment's latencies in cycles (fixed; no stalls), or random stalls everywhere.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    /// Header port: request to data.
    pub header: u64,
    /// Page-table port: request to data.
    pub table: u64,
    /// DRAM read: request to data.
    pub dram: u64,
    /// OS page refill: request to the first frame.
    pub os: u64,
    /// Random stalls on every port (the regression's environment) instead of fixed latencies.
    pub stalls: bool,
}

impl Profile {
    pub const NAMES: &'static str =
        "default (header 4, table 30, DRAM 100, OS 2000), l2 (header 14), \
        far (header 40, table 100, DRAM 300, OS 10000), stressed (random stalls), or \
        header=H,table=T,dram=D,os=O";

    /// A named profile, or `header=4,table=30,dram=100,os=2000` (keys left out keep the default).
    pub fn parse(s: &str) -> Result<Self> {
        let named = |name: &str, header, table, dram, os| Profile {
            name: name.into(),
            header,
            table,
            dram,
            os,
            stalls: false,
        };
        Ok(match s {
            "default" => named("default", 4, 30, 100, 2000),
            "l2" => named("l2", 14, 30, 100, 2000),
            "far" => named("far", 40, 100, 300, 10_000),
            "stressed" => Profile {
                stalls: true,
                ..named("stressed", 0, 0, 0, 0)
            },
            custom if custom.contains('=') => {
                let mut p = named(custom, 4, 30, 100, 2000);
                for kv in custom.split(',') {
                    let (k, v) = kv
                        .split_once('=')
                        .with_context(|| format!("--profile {s:?}: {kv:?} is not key=value"))?;
                    let v: u64 = v.trim().parse().with_context(|| {
                        format!("--profile {s:?}: {k} = {v:?} is not a number of cycles")
                    })?;
                    if v == 0 {
                        bail!("--profile {s:?}: {k} must be at least 1 cycle");
                    }
                    match k.trim() {
                        "header" => p.header = v,
                        "table" => p.table = v,
                        "dram" => p.dram = v,
                        "os" => p.os = v,
                        other => bail!(
                            "--profile {s:?}: unknown key {other:?} (header, table, dram, os)"
                        ),
                    }
                }
                p
            }
            other => bail!("--profile {other:?}: expected {}", Self::NAMES),
        })
    }

    /// The core harness's configuration for this profile.
    pub fn config(&self, seed: u64, params: Params, mode: Mode) -> CoreRunConfig {
        let mut cfg = CoreRunConfig::new(seed, self.stalls);
        cfg.design = Design::MementoTop;
        cfg.params = params;
        mode.apply(&mut cfg.params);
        if !self.stalls {
            cfg.hoa_timing = EnvTiming::fixed(self.header, self.header);
            cfg.page_timing = PageTiming {
                pte_lat_min: self.table,
                pte_lat_max: self.table,
                pte_stall: 0.0,
                pte_rsp_stall: 0.0,
                rsp_stall: 0.0,
                os: OsTiming {
                    latency_min: self.os,
                    latency_max: self.os,
                    gap_min: 1,
                    gap_max: 1,
                },
                os_req_stall: 0.0,
                drain_stall: 0.0,
            };
            cfg.dram_latency = (self.dram, self.dram);
            cfg.watchdog = cfg.watchdog.max(20 * self.os);
        }
        cfg
    }
}

/// What the hardware did with one trace in one memory mode.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HwRun {
    pub bypass: bool,
    /// `on`, `off` or `off-dram`.
    pub mode: String,
    pub commands: u64,
    pub cycles: u64,
    /// Cycles from acceptance to answer, per op.
    pub all: Summary,
    pub alloc: Summary,
    pub free: Summary,
    /// The latency histograms (index = cycles) of alloc and free, for the plots.
    pub alloc_hist: Vec<u64>,
    pub free_hist: Vec<u64>,
    /// First-touch page faults the page allocator served through the walker port.
    pub walker_faults: u64,
    pub walk: Summary,
    /// Mean cycles per command counting each command's own latency plus the walker's cycles
    /// spread over all commands (misses, refills, arena maps and first-touch maps all included).
    pub mean_with_faults: f64,
    pub alloc_hit_rate: f64,
    pub free_hit_rate: f64,
    /// Allocations that popped the available list or created an arena.
    pub alloc_list_share: f64,
    /// Frees that pushed an arena on the available list.
    pub free_list_share: f64,
    pub fallbacks: u64,
    pub pages_mapped: u64,
    pub tables_allocated: u64,
    pub header_reads: u64,
    pub header_writes: u64,
    pub dram_reads: u64,
    pub dram_writes: u64,
    pub reads_bypassed: u64,
    pub writebacks_dropped: u64,
    pub zero_lines: u64,
    /// DRAM traffic by kind.
    pub traffic: Traffic,
    /// What no bypass could avoid of this run's cache traffic.
    pub ideal: Traffic,
}

impl HwRun {
    pub fn of(mode: Mode, s: &CoreRunStats) -> Self {
        let h = &s.hoa;
        let path = |p: &str| h.paths.get(p).copied().unwrap_or(0);
        let commands = h.commands.max(1);
        HwRun {
            bypass: mode == Mode::On,
            mode: mode.name().into(),
            commands: h.commands,
            cycles: h.cycles,
            all: h.latency_all.summary().into(),
            alloc: h.latency_alloc.summary().into(),
            free: h.latency_free.summary().into(),
            alloc_hist: h.latency_alloc.counts().to_vec(),
            free_hist: h.latency_free.counts().to_vec(),
            walker_faults: s.walker_faults,
            walk: s.walk_latency.summary().into(),
            mean_with_faults: (h.latency_all.sum + s.walk_latency.sum) as f64 / commands as f64,
            alloc_hit_rate: h.alloc_hit_rate(),
            free_hit_rate: h.free_hit_rate(),
            alloc_list_share: (path("AllocPop") + path("AllocNew")) as f64
                / h.allocs_ok.max(1) as f64,
            free_list_share: path("FreeMissPush") as f64 / h.frees_ok.max(1) as f64,
            fallbacks: h.fallbacks,
            pages_mapped: s.pages.pages_mapped,
            tables_allocated: s.pages.tables_allocated,
            header_reads: h.header_reads,
            header_writes: h.header_writes,
            dram_reads: s.mem.bypass.dram_reads,
            dram_writes: s.mem.bypass.dram_writes,
            reads_bypassed: s.mem.bypass.reads_bypassed,
            writebacks_dropped: s.mem.bypass.writebacks_dropped,
            zero_lines: s.mem.bypass.zero_lines,
            traffic: s.mem.traffic.clone(),
            ideal: s.mem.ideal.clone(),
        }
    }
}

/// Replays `trace` through `memento_top` with `params` in memory mode `mode` under `profile`.
pub fn hw_replay(
    trace: &Trace,
    name: &str,
    profile: &Profile,
    params: &Params,
    mode: Mode,
    seed: u64,
) -> Result<CoreRunStats> {
    let cfg = profile.config(seed, params.clone(), mode);
    let mut stim = TraceReplay::new(trace, cfg.mrs, cfg.params.lane_bits);
    run(&cfg, &mut stim, None).map_err(|m| {
        anyhow::anyhow!(
            "{name} (bypass {}) disagrees with the golden model (seed {seed}): {m}",
            mode.name()
        )
    })
}

/// One trace's results.
#[derive(Clone, Debug, Serialize)]
pub struct TraceResult {
    pub trace: String,
    pub path: String,
    pub operations: u64,
    pub hw_on: HwRun,
    /// The headline baseline: the OS zeroes each mapped page through the cache.
    pub hw_off: HwRun,
    /// Pages zeroed straight in DRAM.
    pub hw_off_dram: HwRun,
    /// DRAM reads / writes / total with the bypass on, relative to `off` (negative = saved).
    pub dram_read_change: f64,
    pub dram_write_change: f64,
    pub dram_total_change: f64,
    /// Total with the bypass on relative to `off-dram`.
    pub dram_total_change_vs_dram: f64,
    /// The ideal's total relative to `off`: the most any bypass could save.
    pub ideal_total_change: f64,
    /// The share of the ideal saving the bypass reaches (none when the ideal saves nothing).
    pub ideal_share: Option<f64>,
    pub software: Vec<SwResult>,
    /// For a trace `memento capture` wrote (its JSON beside it): what Memento would save it.
    pub estimate: Option<crate::flows::estimate::Estimate>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SwResult {
    pub allocator: String,
    /// Whole replays against the empty allocator (the robust figure the ratios use).
    pub warm_whole: Whole,
    pub cold_whole: Whole,
    /// Every call timed (the histogram view).
    pub warm: SwRun,
    pub cold: SwRun,
    /// Software ticks per op (whole replays, median) over hardware cycles per command; none
    /// where the whole replays show no cost this machine can tell from noise.
    pub warm_ratio: Option<f64>,
    pub cold_ratio: Option<f64>,
}

/// One allocator's measurements of one trace.
pub struct SwMeasured {
    pub warm_whole: Whole,
    pub cold_whole: Whole,
    pub warm: SwRun,
    pub cold: SwRun,
}

/// The paper's numbers the report sets beside ours.
#[derive(Clone, Debug, Serialize)]
pub struct Paper {
    pub alloc_hit_rate: f64,
    pub free_hit_rate: f64,
    pub alloc_list_share_below: f64,
    pub free_list_share_below: f64,
    pub dram_traffic_change: f64,
}

pub const PAPER: Paper = Paper {
    alloc_hit_rate: 0.998,
    free_hit_rate: 0.83,
    alloc_list_share_below: 0.01,
    free_list_share_below: 0.006,
    dram_traffic_change: -0.30,
};

/// The deepest one-cycle path of the measured designs, in two-input gate levels (`make timing`):
/// the clock every cycle figure of the report is counted at.
#[derive(Clone, Debug, Serialize)]
pub struct Levels {
    pub bypass_on: u32,
    pub bypass_off: u32,
    /// SPEC's `STAGE_LEVELS`.
    pub budget: u32,
}

impl Levels {
    /// "at 23 gate levels per cycle (bypass off: 23; budget 24)".
    pub fn text(l: &Option<Levels>) -> String {
        match l {
            Some(l) => format!(
                "at {} gate levels per cycle (bypass off: {}; SPEC's budget {})",
                l.bypass_on, l.bypass_off, l.budget
            ),
            None => "at gate levels not measured here (`make timing` measures them)".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub seed: u64,
    pub profile: Profile,
    pub params_name: String,
    pub params: String,
    pub cpu: String,
    pub tsc_mhz: Option<f64>,
    /// Gate levels per cycle of the two designs, when measured.
    pub levels: Option<Levels>,
    pub paper: Paper,
    pub traces: Vec<TraceResult>,
    pub seconds: f64,
}

pub fn change(on: u64, off: u64) -> f64 {
    if off == 0 {
        0.0
    } else {
        on as f64 / off as f64 - 1.0
    }
}

impl TraceResult {
    pub fn new(
        trace: &str,
        path: &str,
        operations: u64,
        hw: [&CoreRunStats; 3],
        software: Vec<SwMeasured>,
    ) -> Self {
        let [hw_on, hw_off, hw_off_dram] = [0, 1, 2].map(|k| HwRun::of(Mode::ALL[k], hw[k]));
        let hw_mean = hw_on.mean_with_faults.max(f64::MIN_POSITIVE);
        let (on, off) = (&hw_on.traffic, &hw_off.traffic);
        let ideal_total_change = change(hw_on.ideal.total(), off.total());
        let total_change = change(on.total(), off.total());
        TraceResult {
            trace: trace.into(),
            path: path.into(),
            operations,
            dram_read_change: change(on.total_reads(), off.total_reads()),
            dram_write_change: change(on.total_writes(), off.total_writes()),
            dram_total_change: total_change,
            dram_total_change_vs_dram: change(on.total(), hw_off_dram.traffic.total()),
            ideal_total_change,
            ideal_share: (ideal_total_change < 0.0).then(|| total_change / ideal_total_change),
            software: software
                .into_iter()
                .map(|m| SwResult {
                    allocator: m.warm.allocator.clone(),
                    warm_ratio: m.warm_whole.figure().map(|x| x / hw_mean),
                    cold_ratio: m.cold_whole.figure().map(|x| x / hw_mean),
                    warm_whole: m.warm_whole,
                    cold_whole: m.cold_whole,
                    warm: m.warm,
                    cold: m.cold,
                })
                .collect(),
            hw_on,
            hw_off,
            hw_off_dram,
            estimate: None,
        }
    }
}

/// A trace's name in reports: its file name without `.rep.gz` / `.gz`.
pub fn trace_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| p.display().to_string())
        .trim_end_matches(".gz")
        .trim_end_matches(".rep")
        .to_string()
}

/// Reads every trace, named as [`trace_name`] names it.
pub fn read_traces(paths: &[std::path::PathBuf]) -> Result<Vec<(String, Trace)>> {
    paths
        .iter()
        .map(|p| crate::stimulus::trace::read(p).map(|t| (trace_name(p), t)))
        .collect()
}

/// A progress bar of `len` runs (hidden when `show` is false), ticking on its own.
pub fn progress_bar(len: u64, show: bool) -> indicatif::ProgressBar {
    let bar = if show {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} runs, {msg}",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bar
}

/// Runs `f` on every item of `work` with `jobs` threads, taking items in order; the results come
/// back in the order of `work`.
pub fn parallel<J: Sync, R: Send>(jobs: usize, work: &[J], f: impl Fn(&J) -> R + Sync) -> Vec<R> {
    use std::sync::Mutex;
    let next = Mutex::new(0usize);
    let results: Vec<Mutex<Option<R>>> = work.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(work.len().max(1)) {
            s.spawn(|| loop {
                let k = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(job) = work.get(k) else { break };
                let r = f(job);
                *results[k].lock().unwrap() = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap().expect("every job ran"))
        .collect()
}

/// What `memento bench` runs.
pub struct BenchPlan {
    pub traces: Vec<std::path::PathBuf>,
    pub profile: Profile,
    pub params: Params,
    /// The parameter set's name in tb/regressions.toml.
    pub params_name: String,
    pub seed: u64,
    pub jobs: usize,
    /// Timed warm replays per allocator (the median is reported); 0 leaves software out.
    pub reps: usize,
    pub progress: bool,
    /// The `memento` executable that runs the cold software replays.
    pub exe: std::path::PathBuf,
    /// The workspace, to measure the designs' gate levels per cycle (`make timing`'s method and
    /// cache); `None` leaves them unmeasured.
    pub levels_root: Option<std::path::PathBuf>,
    /// For captured traces: the hardware's clock (`None`: the capture machine's TSC rate) and
    /// the price.
    pub clock_hz: Option<f64>,
    pub pricing: crate::flows::estimate::Pricing,
}

/// The capture summary beside a trace, if `memento capture` wrote one.
pub fn capture_summary(
    trace: &std::path::Path,
) -> Result<Option<(std::path::PathBuf, memento_capture::Summary)>> {
    let json = memento_capture::json_path_for(trace);
    if !json.exists() {
        return Ok(None);
    }
    let s = memento_capture::Summary::read(&json)
        .with_context(|| format!("the capture summary beside {}", trace.display()))?;
    Ok(Some((json, s)))
}

/// Every trace through `memento_top` in each memory mode, in parallel: three runs a trace, in
/// the order of `Mode::ALL`.
fn hw_runs(
    plan: &BenchPlan,
    traces: &[(String, Trace)],
    bar: &indicatif::ProgressBar,
) -> Result<Vec<CoreRunStats>> {
    let work: Vec<(usize, Mode)> = (0..traces.len())
        .flat_map(|i| Mode::ALL.map(|m| (i, m)))
        .collect();
    let results = parallel(plan.jobs, &work, |&(i, mode)| {
        let (name, t) = &traces[i];
        bar.set_message(format!("hardware: {name}, bypass {}", mode.name()));
        let r = hw_replay(t, name, &plan.profile, &plan.params, mode, plan.seed);
        bar.inc(1);
        r
    });
    results.into_iter().collect()
}

/// The gate levels per cycle of the measured design, bypass on and off (when asked for).
fn bench_levels(plan: &BenchPlan, bar: &indicatif::ProgressBar) -> Result<Option<Levels>> {
    let Some(root) = &plan.levels_root else {
        return Ok(None);
    };
    bar.set_message("gate levels per cycle of both designs (Yosys)");
    let designs: Vec<_> = [true, false]
        .into_iter()
        .map(|on| {
            let name = format!("bench_{}", if on { "on" } else { "off" });
            let params = Params {
                bypass_on: on,
                ..plan.params.clone()
            };
            (name, Design::MementoTop, params)
        })
        .collect();
    let l = crate::flows::timing::design_levels(&designs, root, plan.jobs)?;
    Ok(Some(Levels {
        bypass_on: l[0],
        bypass_off: l[1],
        budget: memento_hw::params::STAGE_LEVELS,
    }))
}

/// Trace `i` through every software allocator, warm and cold, whole replays and per call.
fn software(
    plan: &BenchPlan,
    i: usize,
    (name, t): (&str, &Trace),
    bar: &indicatif::ProgressBar,
) -> Result<Vec<SwMeasured>> {
    use crate::flows::swbench;
    let mut sw = vec![];
    for a in swbench::ALLOCATORS {
        let step = |what: &str| {
            bar.set_message(format!("software: {name}, {} {what}", a.name()));
        };
        step("warm, whole replays");
        let warm_whole = swbench::warm_whole(t, a, plan.reps)?;
        bar.inc(1);
        step("cold, whole replays");
        let cold_whole = swbench::cold_whole(&plan.exe, &plan.traces[i], a, plan.reps)?;
        bar.inc(1);
        step("warm, per call");
        let warm = swbench::warm(t, a, plan.reps)?;
        bar.inc(1);
        step("cold, per call");
        let cold = swbench::cold(&plan.exe, &plan.traces[i], a)?;
        bar.inc(1);
        sw.push(SwMeasured {
            warm_whole,
            cold_whole,
            warm,
            cold,
        });
    }
    Ok(sw)
}

/// What Memento would save trace `i`, if `memento capture` wrote it: `on` is its bypass-on run,
/// whose command latencies and first-touch walks are the hardware's cycles.
fn estimate_for(
    plan: &BenchPlan,
    i: usize,
    on: &CoreRunStats,
) -> Result<Option<crate::flows::estimate::Estimate>> {
    let Some((json, s)) = capture_summary(&plan.traces[i])? else {
        return Ok(None);
    };
    Ok(Some(crate::flows::estimate::estimate(
        &s,
        &json.display().to_string(),
        on.hoa.latency_all.sum + on.walk_latency.sum,
        plan.clock_hz,
        &plan.pricing,
    )))
}

/// Runs the hardware replays (in parallel), then the software ones (one at a time, so they do
/// not share the machine with anything of ours).
pub fn bench(plan: &BenchPlan) -> Result<BenchReport> {
    let started = std::time::Instant::now();
    let traces = read_traces(&plan.traces)?;
    let sw_runs = if plan.reps > 0 {
        crate::flows::swbench::ALLOCATORS.len() * 4
    } else {
        0
    };
    let bar = progress_bar((traces.len() * (3 + sw_runs)) as u64, plan.progress);
    let hw = hw_runs(plan, &traces, &bar)?;
    let levels = bench_levels(plan, &bar)?;
    let mut out = vec![];
    for (i, (name, t)) in traces.iter().enumerate() {
        let sw = if plan.reps > 0 {
            software(plan, i, (name, t), &bar)?
        } else {
            vec![]
        };
        let mut r = TraceResult::new(
            name,
            &plan.traces[i].display().to_string(),
            t.ops.len() as u64,
            [&hw[3 * i], &hw[3 * i + 1], &hw[3 * i + 2]],
            sw,
        );
        r.estimate = estimate_for(plan, i, &hw[3 * i])?;
        out.push(r);
    }
    bar.finish_and_clear();
    Ok(BenchReport {
        seed: plan.seed,
        profile: plan.profile.clone(),
        params_name: plan.params_name.clone(),
        params: plan.params.summary(),
        cpu: crate::flows::swbench::cpu_model(),
        tsc_mhz: crate::flows::swbench::tsc_mhz(),
        levels,
        paper: PAPER,
        traces: out,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_reject_with_the_reason() {
        let p = Profile::parse("default").unwrap();
        assert_eq!((p.header, p.table, p.dram, p.os), (4, 30, 100, 2000));
        let p = Profile::parse("header=12,os=500").unwrap();
        assert_eq!((p.header, p.table, p.dram, p.os), (12, 30, 100, 500));
        let e = Profile::parse("header=x").unwrap_err().to_string();
        assert!(e.contains("not a number"), "{e}");
        let e = Profile::parse("disk=3").unwrap_err().to_string();
        assert!(e.contains("unknown key \"disk\""), "{e}");
        let e = Profile::parse("fast").unwrap_err().to_string();
        assert!(e.contains("expected default"), "{e}");
        assert!(Profile::parse("table=0").is_err());
    }

    #[test]
    fn change_is_relative_to_off() {
        assert!((change(70, 100) + 0.3).abs() < 1e-12);
        assert_eq!(change(5, 0), 0.0);
    }
}
