//! The regression runner: the tests of a list (`tb/regressions.toml`), every seed of every test in
//! parallel, each a random stream through the hardware and the golden models. A failing seed is
//! re-run with a waveform of its last cycles. The report is JSON for machines and HTML for people:
//! a pass/fail table with each failure's replay command and waveform, and the coverage bins.

use crate::env::EnvTiming;
use crate::envs;
use crate::envs::core::{CoreRunConfig, CoreRunStats};
use crate::envs::object_alloc::RunConfig;
use crate::envs::TraceWindow;
use crate::flows::coverage;
use crate::model::object_alloc::Geometry;
use crate::scoreboard::Mismatch;
use crate::stimulus::shrink::{self, Cmd, Playback, Recording};
use crate::stimulus::Stimulus;
use crate::stimulus::{Mix, RandomStream};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use memento_hw::emit::Design;
use memento_runs::regression_list::TestSpec;
use memento_sim::WaveFormat;
use rand::Rng as _;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Cycles of waveform kept before a failure.
pub const WAVE_WINDOW: u64 = 2000;

/// What to run.
pub struct Plan {
    /// The list's name, or the test's when one test runs alone.
    pub name: String,
    pub tests: Vec<TestSpec>,
    pub first_seed: u64,
    pub jobs: usize,
    /// Fail on a coverage bin at zero (a whole list).
    pub gate_coverage: bool,
    pub progress: bool,
    /// Time to shrink the first failing seed of each test (zero: no shrinking).
    pub shrink: std::time::Duration,
    /// Only this shard of the (test, seed) pairs.
    pub shard: Option<Shard>,
}

/// Shard `index` of `count` (1-based): every `count`-th (test, seed) pair of the list, in list
/// order (a test's seeds in turn), starting at pair `index - 1`. The shards of a count partition
/// the list, and interleaving spreads each long test over all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("--shard {text}: {why} (write I/N, 1 <= I <= N, e.g. 2/8)");
        let (i, n) = text.split_once('/').ok_or_else(|| bad("no '/'"))?;
        let index: usize = i.trim().parse().map_err(|_| bad("I is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(bad("I must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The (test index, seed offset) pairs to run: every seed of every test, or `shard`'s slice.
pub fn shard_pairs(seeds: &[u64], shard: Option<Shard>) -> Vec<(usize, u64)> {
    let all = seeds
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| (0..n).map(move |k| (i, k)));
    match shard {
        None => all.collect(),
        Some(s) => all.skip(s.index - 1).step_by(s.count).collect(),
    }
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct SeedFailure {
    pub seed: u64,
    pub mismatch: Mismatch,
    pub replay: String,
    pub waveform: PathBuf,
    /// The first failing seed of a test, cut down to a short script.
    pub shrunk: Option<ShrinkReport>,
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct TestResult {
    pub name: String,
    pub design: String,
    pub params: String,
    pub parameters: String,
    pub seeds: u64,
    pub ops_per_seed: u64,
    pub stalls: bool,
    pub passed: u64,
    pub failed: u64,
    pub commands: u64,
    pub cycles: u64,
    pub failures: Vec<SeedFailure>,
    pub totals: CoreRunStats,
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct RegressReport {
    pub name: String,
    /// The shard this report covers (`I/N`), if it is one.
    pub shard: Option<String>,
    pub first_seed: u64,
    pub seconds: f64,
    pub tests: Vec<TestResult>,
    pub coverage: BTreeMap<String, u64>,
    pub coverage_missing: Vec<String>,
    pub coverage_gated: bool,
    pub passed: bool,
}

/// The command that replays one seed of a test.
pub fn replay_command(t: &TestSpec, seed: u64) -> String {
    format!(
        "cargo run --release --bin memento -- regress --test {} --seed {seed} --seeds 1 --ops {}",
        t.name, t.ops
    )
}

/// The random stream seed `seed` of `t` issues.
pub fn random_stream(t: &TestSpec, seed: u64) -> RandomStream {
    let d = Mix::default();
    let mix = Mix {
        alloc: t.mix.map_or(d.alloc, |m| m[0]),
        free: t.mix.map_or(d.free, |m| m[1]),
        bad_free: t.mix.map_or(d.bad_free, |m| m[2]),
        exit_every: t.exit_every.unwrap_or(d.exit_every),
        classes: t.classes.map(|[lo, hi]| (lo, hi)),
        class_pairs: t.class_pairs,
        edges: t.edges,
    };
    let mrs = Addresses::of(t, seed).mrs;
    RandomStream::new(seed, t.ops, Geometry::from(&t.params), mrs, mix)
}

/// Where a seed of a test puts the region and the frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addresses {
    pub mrs: u64,
    /// The first frame the OS hands out; `None`: the harness's default.
    pub first_frame: Option<u64>,
    /// The page-table root frame; `None`: the harness's default.
    pub root: Option<u64>,
}

impl Addresses {
    /// The test's fixed addresses, or with `seeded_addresses` ones drawn from `seed`: the region
    /// anywhere aligned in the virtual space but at 0, the first frame anywhere that leaves
    /// 2^20 frames above it, and the root below the first frame (so no frame handed out is it).
    pub fn of(t: &TestSpec, seed: u64) -> Self {
        if !t.seeded_addresses {
            return Addresses {
                mrs: t.mrs.unwrap_or(1 << 44),
                first_frame: t.first_frame,
                root: None,
            };
        }
        let mut rng = crate::seed::rng(seed, 0xadd5);
        let p = &t.params;
        let regions = 1u64 << (p.va_bits - p.region_log2());
        let mrs = rng.gen_range(1..regions) << p.region_log2();
        let first_frame = rng.gen_range(0x100..(1u64 << (p.pa_bits - 12)) - (1 << 20));
        let root = rng.gen_range(1..first_frame);
        Addresses {
            mrs,
            first_frame: Some(first_frame),
            root: Some(root),
        }
    }
}

/// The pool's `(LOW, HIGH)` for a seed of `t`: with `seeded_watermarks`, drawn with
/// `1 <= LOW < HIGH < POOL` (the parameters' own rule: at HIGH = POOL a frame given back into a
/// full pool waits for a drain that never comes), every value of each equally likely, so each bit
/// of both registers below POOL's width is 0 in some seeds and 1 in others; else `None` (the reset
/// values).
pub fn watermarks(t: &TestSpec, seed: u64) -> Option<(u64, u64)> {
    if !t.seeded_watermarks {
        return None;
    }
    let mut rng = crate::seed::rng(seed, 0x3a7e);
    let pool = u64::from(t.params.pool);
    // Half the seeds put LOW above the reset HIGH, the count the pool has filled to when they are
    // written: the write itself raises a refill request.
    let above = u64::from(t.params.high) + 1;
    let low = if above < pool - 1 && rng.gen_bool(0.5) {
        rng.gen_range(above..pool - 1)
    } else {
        rng.gen_range(1..pool - 1)
    };
    let high = rng.gen_range(low + 1..pool);
    Some((low, high))
}

/// Runs one seed of `t`; with `trace`, writes that waveform window.
pub fn run_seed(
    t: &TestSpec,
    seed: u64,
    trace: Option<TraceWindow>,
) -> Result<CoreRunStats, Box<Mismatch>> {
    run_stimulus(t, seed, trace, &mut random_stream(t, seed))
}

/// Runs one seed of `t` like [`run_seed`], writing the command log (one line per command) to
/// `log`; the bypass harness has no commands and writes nothing.
pub fn run_seed_logged(
    t: &TestSpec,
    seed: u64,
    trace: Option<TraceWindow>,
    log: &mut dyn std::io::Write,
) -> Result<CoreRunStats, Box<Mismatch>> {
    run_logged(t, seed, trace, &mut random_stream(t, seed), Some(log))
}

/// Runs `stim` through `t`'s design and environment, the environment seeded with `seed`.
pub fn run_stimulus(
    t: &TestSpec,
    seed: u64,
    trace: Option<TraceWindow>,
    stim: &mut dyn Stimulus,
) -> Result<CoreRunStats, Box<Mismatch>> {
    run_logged(t, seed, trace, stim, None)
}

fn run_logged(
    t: &TestSpec,
    seed: u64,
    trace: Option<TraceWindow>,
    stim: &mut dyn Stimulus,
    log: Option<&mut dyn std::io::Write>,
) -> Result<CoreRunStats, Box<Mismatch>> {
    let addr = Addresses::of(t, seed);
    let mrs = addr.mrs;
    match t.design {
        Design::ObjectAlloc => {
            let timing = if t.stalls {
                EnvTiming::stressed()
            } else {
                EnvTiming::fixed(4, 4)
            };
            let mut cfg = RunConfig::new(seed, timing);
            cfg.params = t.params.clone();
            cfg.mrs = mrs;
            cfg.trace = trace;
            // Every other exit is played as a reset.
            cfg.reset_for_exit = 2;
            let hoa = envs::object_alloc::run(&cfg, stim, log)?;
            Ok(CoreRunStats {
                hoa,
                ..CoreRunStats::default()
            })
        }
        Design::Bypass => {
            // The bypass harness plays the cache and the page allocator itself, from the seed:
            // `ops` events over six frames per table entry, so that entries with fresh lines
            // are evicted all the time (its own cargo test's shape).
            let frames = 6 * u64::from(t.params.bypass.max(1));
            let d = envs::bypass::Knobs::default();
            let knobs = envs::bypass::Knobs {
                mix: t.mix.unwrap_or(d.mix),
                dead_access: t.dead_access.unwrap_or(d.dead_access),
                reset_every: t.reset_every.unwrap_or(d.reset_every),
                ..d
            };
            let st = envs::bypass::run(&t.params, seed, t.ops, frames, &knobs)?;
            Ok(CoreRunStats {
                hoa: crate::stats::RunStats {
                    commands: st.events,
                    cycles: st.cycles,
                    ..Default::default()
                },
                mem: crate::env::mem_path::MemStats {
                    fills_checked: st.fills_checked,
                    events_meeting_requests: st.events_meeting_requests,
                    bypass: st.counters.clone(),
                    ..Default::default()
                },
                ..CoreRunStats::default()
            })
        }
        design => {
            let mut cfg = CoreRunConfig::new(seed, t.stalls);
            cfg.design = design;
            cfg.mrs = mrs;
            cfg.first_frame = addr.first_frame.unwrap_or(cfg.first_frame);
            cfg.root = addr.root.unwrap_or(cfg.root);
            cfg.watermarks = watermarks(t, seed);
            if let Some(k) = t.llc_kib {
                cfg.llc.bytes = k << 10;
            }
            cfg.params = t.params.clone();
            cfg.trace = trace;
            envs::core::run(&cfg, stim, log)
        }
    }
}

/// A failing seed cut down to a short script.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ShrinkReport {
    /// Commands in the script, and in the recorded run it came from.
    pub commands: usize,
    pub from: usize,
    /// Runs the shrinking took, and whether it finished (else its time ran out).
    pub runs: usize,
    pub finished: bool,
    pub script: PathBuf,
    pub replay: String,
    /// The failure the script shows.
    pub mismatch: Mismatch,
}

/// The command that replays a script of `t` with the environment of `seed`.
pub fn script_command(t: &TestSpec, seed: u64, script: &Path) -> String {
    format!(
        "cargo run --release --bin memento -- regress --test {} --seed {seed} --script {}",
        t.name,
        script.display()
    )
}

/// Records what seed `seed` of `t` issues up to its failure and cuts it down by delta debugging
/// for at most `budget`; writes the script to `dir/<test>-seed-<seed>.cmds`. None when the seed
/// does not fail. An error when the recorded commands, played back, do not fail.
pub fn shrink_seed(
    t: &TestSpec,
    seed: u64,
    budget: std::time::Duration,
    dir: &Path,
) -> anyhow::Result<Option<ShrinkReport>> {
    if t.design == Design::Bypass {
        anyhow::bail!(
            "{}: the bypass harness draws its cache and page-allocator events from the seed itself, so there is no command stream to cut down; replay the seed",
            t.name
        );
    }
    let mut stream = random_stream(t, seed);
    let mut rec = Recording::new(&mut stream);
    let Err(m) = run_stimulus(t, seed, None, &mut rec) else {
        return Ok(None);
    };
    let cmds = std::mem::take(&mut rec.cmds);
    let play = |c: &[(usize, Cmd)]| run_stimulus(t, seed, None, &mut Playback::new(c)).err();
    if play(&shrink::indexed(&cmds)).is_none() {
        anyhow::bail!(
            "{} seed {seed}: the {} recorded commands do not fail when played back, so they cannot be shrunk",
            t.name,
            cmds.len()
        );
    }
    let s = shrink::ddmin(&cmds, *m, budget, |c| play(c).map(|b| *b));
    let script = dir.join(format!("{}-seed-{seed}.cmds", t.name));
    let header = format!(
        "memento command script: test {}, environment seed {seed}\n{} commands, shrunk from {} by delta debugging in {} runs{}\nit fails with: {}\nreplay: {}",
        t.name,
        s.cmds.len(),
        s.from,
        s.runs,
        if s.finished { "" } else { " (time ran out: it may shrink further)" },
        s.mismatch.to_string().replace('\n', "\n  "),
        script_command(t, seed, &script)
    );
    shrink::write(&script, &s.cmds, &header)?;
    Ok(Some(ShrinkReport {
        commands: s.cmds.len(),
        from: s.from,
        runs: s.runs,
        finished: s.finished,
        replay: script_command(t, seed, &script),
        script,
        mismatch: s.mismatch,
    }))
}

/// Plays a script through `t`'s design with the environment of `seed`.
pub fn run_script(
    t: &TestSpec,
    seed: u64,
    path: &Path,
) -> anyhow::Result<Result<CoreRunStats, Box<Mismatch>>> {
    if t.design == Design::Bypass {
        anyhow::bail!(
            "{}: a bypass test takes no command script (its events come from the seed)",
            t.name
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the command script {}", path.display()))?;
    let cmds = shrink::parse(&text, &path.display().to_string())?;
    Ok(run_stimulus(
        t,
        seed,
        None,
        &mut Playback::new(&shrink::indexed(&cmds)),
    ))
}

/// Re-runs a failing seed and writes the waveform of its last [`WAVE_WINDOW`] cycles.
pub fn wave_of_failure(t: &TestSpec, seed: u64, fail_cycle: u64, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{}-seed-{seed}.fst", t.name));
    let window = TraceWindow {
        from: fail_cycle.saturating_sub(WAVE_WINDOW),
        to: fail_cycle + 2,
        path: path.clone(),
        format: WaveFormat::Fst,
    };
    let _ = run_seed(t, seed, Some(window));
    path
}

/// A failing seed: reported with its replay command and the waveform of its last cycles, and
/// (with `shrink`) cut down to a short command script.
fn seed_failure(
    t: &TestSpec,
    seed: u64,
    m: Mismatch,
    (plan, root): (&Plan, &Path),
    shrink: bool,
    bar: &ProgressBar,
) -> SeedFailure {
    let replay = replay_command(t, seed);
    let waveform = wave_of_failure(t, seed, m.cycle, &root.join("build/waves"));
    // println on a progress bar is dropped when stderr is not a terminal.
    bar.suspend(|| {
        eprintln!(
            "FAIL {} seed {seed}: {m}\n  replay: {replay}\n  waveform: {}",
            t.name,
            waveform.display()
        )
    });
    let shrunk = if shrink {
        shrink_failure(t, seed, plan.shrink, &root.join("build/shrink"), bar)
    } else {
        None
    };
    SeedFailure {
        seed,
        mismatch: m,
        replay,
        waveform,
        shrunk,
    }
}

pub fn regress(plan: &Plan, root: &Path) -> RegressReport {
    let started = std::time::Instant::now();
    let seeds: Vec<u64> = plan.tests.iter().map(|t| t.seeds).collect();
    let work = shard_pairs(&seeds, plan.shard);
    // Seeds each test runs here (all of them, or the shard's).
    let mut runs = vec![0u64; plan.tests.len()];
    for &(i, _) in &work {
        runs[i] += 1;
    }
    let total: u64 = work.iter().map(|&(i, _)| plan.tests[i].ops).sum();
    let bar = progress_bar(total, plan.progress);
    let results: Vec<Mutex<TestResult>> = plan
        .tests
        .iter()
        .zip(&runs)
        .map(|(t, &n)| {
            let mut r = TestResult::empty(t);
            r.seeds = n;
            Mutex::new(r)
        })
        .collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let test_done: Vec<AtomicUsize> = plan.tests.iter().map(|_| AtomicUsize::new(0)).collect();
    let failed = AtomicUsize::new(0);
    // Without a terminal (a CI log, a Slurm job's output) the bar is not drawn: a line a minute.
    let lines = Ticker::new(plan.progress && !std::io::stderr().is_terminal(), total);
    let shrinking: Vec<AtomicBool> = plan.tests.iter().map(|_| AtomicBool::new(false)).collect();
    std::thread::scope(|s| {
        for _ in 0..plan.jobs.max(1) {
            s.spawn(|| {
                while let Some(&(i, k)) = work.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let t = &plan.tests[i];
                    let seed = plan.first_seed.wrapping_add(k);
                    let outcome = run_seed(t, seed, None);
                    match outcome {
                        Ok(stats) => {
                            let mut r = results[i].lock().unwrap();
                            r.passed += 1;
                            r.commands += stats.hoa.commands;
                            r.cycles += stats.hoa.cycles;
                            r.totals.merge(&stats);
                        }
                        Err(m) => {
                            failed.fetch_add(1, Ordering::SeqCst);
                            // Only a test's first failing seed is shrunk.
                            let shrink = !plan.shrink.is_zero()
                                && !shrinking[i].swap(true, Ordering::SeqCst);
                            let f = seed_failure(t, seed, *m, (plan, root), shrink, &bar);
                            let mut r = results[i].lock().unwrap();
                            r.failed += 1;
                            r.failures.push(f);
                        }
                    }
                    bar.inc(t.ops);
                    lines.add(t.ops, started);
                    if test_done[i].fetch_add(1, Ordering::SeqCst) + 1 == runs[i] as usize {
                        // A line per finished test, also when no progress bar can be drawn (CI logs).
                        let r = results[i].lock().unwrap();
                        let secs = started.elapsed().as_secs_f64();
                        bar.suspend(|| {
                            eprintln!(
                                "[{secs:>6.0} s] {}: {}/{} seeds passed",
                                t.name, r.passed, runs[i]
                            )
                        });
                    }
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    bar.set_message(format!(
                        "{n}/{} runs, {} failed",
                        work.len(),
                        failed.load(Ordering::SeqCst)
                    ));
                }
            });
        }
    });
    bar.finish();
    finished_report(plan, results, started)
}

/// The report of a run whose seeds are all done: the tests' results, the coverage bins from
/// their summed statistics, and the verdict.
fn finished_report(
    plan: &Plan,
    results: Vec<Mutex<TestResult>>,
    started: std::time::Instant,
) -> RegressReport {
    let tests: Vec<TestResult> = results
        .into_iter()
        .map(|m| m.into_inner().unwrap())
        .collect();
    let mut all = CoreRunStats::default();
    for t in &tests {
        all.merge(&t.totals);
    }
    let bins = coverage::bins(&all);
    let missing = coverage::missing(&bins);
    let passed = tests.iter().all(|t| t.failed == 0) && (!plan.gate_coverage || missing.is_empty());
    RegressReport {
        name: plan.name.clone(),
        shard: plan.shard.map(|s| s.to_string()),
        first_seed: plan.first_seed,
        seconds: started.elapsed().as_secs_f64(),
        tests,
        coverage: bins,
        coverage_missing: missing,
        coverage_gated: plan.gate_coverage,
        passed,
    }
}

/// One report from the shards of a run (`memento merge`): every shard of one count once, of the
/// same list and first seed. Seeds, commands, cycles, failures and statistics add up; the
/// coverage bins are counted again from the summed statistics and, for the default list, gated
/// as a whole run's are. `seconds` is the longest shard's (they run side by side).
pub fn merge_shards(shards: Vec<(String, RegressReport)>) -> Result<RegressReport, String> {
    let Some((first_file, first)) = shards.first() else {
        return Err("no shard reports to merge".into());
    };
    let count_of = |file: &str, r: &RegressReport| -> Result<Shard, String> {
        let text = r
            .shard
            .as_deref()
            .ok_or(format!("{file}: not a shard's report"))?;
        text.parse().map_err(|e| format!("{file}: {e}"))
    };
    let n = count_of(first_file, first)?.count;
    let mut seen = vec![false; n];
    for (file, r) in &shards {
        let s = count_of(file, r)?;
        if (&r.name, r.first_seed) != (&first.name, first.first_seed) || s.count != n {
            return Err(format!(
                "{file}: shard {s} of {} from seed {}, but {first_file} is of {n} shards of {} from seed {}",
                r.name, r.first_seed, first.name, first.first_seed
            ));
        }
        if std::mem::replace(&mut seen[s.index - 1], true) {
            return Err(format!("{file}: shard {s} given twice"));
        }
        let names = |r: &RegressReport| r.tests.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        if names(r) != names(first) {
            return Err(format!("{file}: other tests than {first_file}"));
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|i| !seen[i - 1])
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("shard(s) {} missing", missing.join(", ")));
    }
    let mut shards = shards.into_iter().map(|(_, r)| r);
    let mut out = shards.next().expect("checked non-empty");
    for r in shards {
        out.seconds = out.seconds.max(r.seconds);
        for (t, o) in out.tests.iter_mut().zip(r.tests) {
            t.seeds += o.seeds;
            t.passed += o.passed;
            t.failed += o.failed;
            t.commands += o.commands;
            t.cycles += o.cycles;
            t.failures.extend(o.failures);
            t.totals.merge(&o.totals);
        }
    }
    let mut all = CoreRunStats::default();
    for t in &mut out.tests {
        t.failures.sort_by_key(|f| f.seed);
        all.merge(&t.totals);
    }
    out.shard = None;
    out.coverage = coverage::bins(&all);
    out.coverage_missing = coverage::missing(&out.coverage);
    out.coverage_gated = out.name == "default";
    out.passed = out.tests.iter().all(|t| t.failed == 0)
        && (!out.coverage_gated || out.coverage_missing.is_empty());
    Ok(out)
}

/// Progress as lines of text, at most one a minute, for runs whose stderr is not a terminal.
struct Ticker {
    on: bool,
    total: u64,
    done: std::sync::atomic::AtomicU64,
    last: std::sync::atomic::AtomicU64,
}

impl Ticker {
    fn new(on: bool, total: u64) -> Self {
        Ticker {
            on,
            total,
            done: 0.into(),
            last: 0.into(),
        }
    }

    /// `ops` more commands done; prints a line when a minute has passed since the last.
    fn add(&self, ops: u64, started: std::time::Instant) {
        let done = self.done.fetch_add(ops, Ordering::SeqCst) + ops;
        if !self.on {
            return;
        }
        let secs = started.elapsed().as_secs();
        let last = self.last.load(Ordering::SeqCst);
        if secs < last + 60
            || self
                .last
                .compare_exchange(last, secs, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            return;
        }
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let eta = (self.total.saturating_sub(done)) as f64 / rate.max(1e-9);
        eprintln!(
            "[{secs:>6} s] {done}/{} commands ({:.1}%), {rate:.0} commands/s, about {:.0} s to go",
            self.total,
            100.0 * done as f64 / self.total.max(1) as f64,
            eta
        );
    }
}

/// The regression's progress bar over `total` commands (hidden without `show`).
fn progress_bar(total: u64, show: bool) -> ProgressBar {
    let bar = if show {
        ProgressBar::new(total)
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
    bar
}

impl TestResult {
    /// The result of `t` before any of its seeds has run.
    fn empty(t: &TestSpec) -> Self {
        TestResult {
            name: t.name.clone(),
            design: t.design.name().into(),
            params: t.params_name.clone(),
            parameters: t.params.summary(),
            seeds: t.seeds,
            ops_per_seed: t.ops,
            stalls: t.stalls,
            passed: 0,
            failed: 0,
            commands: 0,
            cycles: 0,
            failures: vec![],
            totals: CoreRunStats::default(),
        }
    }
}

/// Shrinks a failing seed for the regression, saying on the terminal what came of it.
fn shrink_failure(
    t: &TestSpec,
    seed: u64,
    budget: std::time::Duration,
    dir: &Path,
    bar: &ProgressBar,
) -> Option<ShrinkReport> {
    bar.suspend(|| {
        eprintln!(
            "  shrinking {} seed {seed} (at most {} s)...",
            t.name,
            budget.as_secs()
        )
    });
    match shrink_seed(t, seed, budget, dir) {
        Ok(Some(s)) => {
            bar.suspend(|| {
                eprintln!(
                    "  shrunk {} seed {seed} to {} commands (from {}, {} runs{}): {}\n  {}\n  replay: {}",
                    t.name,
                    s.commands,
                    s.from,
                    s.runs,
                    if s.finished { "" } else { ", time ran out" },
                    s.script.display(),
                    s.mismatch.to_string().replace('\n', "\n  "),
                    s.replay
                )
            });
            Some(s)
        }
        Ok(None) => None,
        Err(e) => {
            bar.suspend(|| eprintln!("  could not shrink {} seed {seed}: {e:#}", t.name));
            None
        }
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The report as one self-contained HTML page.
pub fn html(r: &RegressReport) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>memento regression</title><style>");
    h.push_str("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}td.l{text-align:left}.pass{background:#dfd}.fail{background:#fdd}.zero{background:#fdd}code{font-size:90%}");
    h.push_str("</style></head><body>");
    let verdict = if r.passed {
        "<span class=pass>PASSED</span>"
    } else {
        "<span class=fail>FAILED</span>"
    };
    h.push_str(&format!(
        "<h1>memento regression: {} {verdict}</h1><p>First seed {}, {:.1} s.</p>",
        esc(&r.name),
        r.first_seed,
        r.seconds
    ));
    h.push_str("<h2>Tests</h2><table><tr><th>test</th><th>design</th><th>parameters</th><th>stalls</th><th>seeds</th><th>passed</th><th>failed</th><th>commands</th><th>cycles</th><th>alloc hit</th><th>free hit</th></tr>");
    for t in &r.tests {
        let class = if t.failed == 0 { "pass" } else { "fail" };
        h.push_str(&format!(
            "<tr class={class}><td class=l>{}</td><td class=l>{}</td><td class=l title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1}%</td></tr>",
            esc(&t.name),
            esc(&t.design),
            esc(&t.parameters),
            esc(&t.params),
            if t.stalls { "yes" } else { "no" },
            t.seeds,
            t.passed,
            t.failed,
            t.commands,
            t.cycles,
            100.0 * t.totals.hoa.alloc_hit_rate(),
            100.0 * t.totals.hoa.free_hit_rate()
        ));
    }
    h.push_str("</table>");
    let failures: Vec<&SeedFailure> = r.tests.iter().flat_map(|t| &t.failures).collect();
    if !failures.is_empty() {
        h.push_str("<h2>Failures</h2><table><tr><th>seed</th><th>what</th><th>replay</th><th>waveform</th><th>shrunk</th></tr>");
        for f in failures {
            let wave = f.waveform.display().to_string();
            let shrunk = f.shrunk.as_ref().map_or(String::new(), |s| {
                let script = s.script.display().to_string();
                format!(
                    "{} commands (from {}): <a href=\"file://{}\">{}</a><br><code>{}</code>",
                    s.commands,
                    s.from,
                    esc(&script),
                    esc(&script),
                    esc(&s.replay)
                )
            });
            h.push_str(&format!(
                "<tr class=fail><td>{}</td><td class=l>{}</td><td class=l><code>{}</code></td><td class=l><a href=\"file://{}\">{}</a></td><td class=l>{shrunk}</td></tr>",
                f.seed,
                esc(&f.mismatch.to_string()).replace('\n', "<br>"),
                esc(&f.replay),
                esc(&wave),
                esc(&wave)
            ));
        }
        h.push_str("</table>");
    }
    h.push_str(&coverage_html(
        &r.coverage,
        r.coverage_missing.len(),
        r.coverage_gated,
    ));
    h.push_str("</body></html>\n");
    h
}

/// The coverage section: a table per group of bins (the name up to its first dot), in which
/// bins that differ only in a trailing number (one per class, per level) make one row of cells.
fn coverage_html(coverage: &BTreeMap<String, u64>, missing: usize, gated: bool) -> String {
    let mut h = format!(
        "<h2>Functional coverage</h2><p>{} bins, {missing} at zero{}.</p>",
        coverage.len(),
        if gated {
            " (a bin at zero fails the regression)"
        } else {
            ""
        }
    );
    let mut groups: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for (k, v) in coverage {
        let g = k.split('.').next().unwrap_or(k);
        groups.entry(g).or_default().push((k, *v));
    }
    for (g, bins) in &groups {
        let zero = bins.iter().filter(|(_, v)| *v == 0).count();
        let zero = if zero > 0 {
            format!(", {zero} at zero")
        } else {
            String::new()
        };
        let n = match bins.len() {
            1 => "1 bin".to_string(),
            n => format!("{n} bins"),
        };
        h.push_str(&format!(
            "<h3>{} <small>({n}{zero})</small></h3><table>",
            esc(g)
        ));
        // Bins named stem.N, grouped by stem; a stem with one number is an ordinary bin.
        let mut series: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
        for (k, v) in bins {
            match k.rsplit_once('.') {
                Some((stem, n)) if n.bytes().all(|b| b.is_ascii_digit()) => {
                    series.entry(stem).or_default().push((n, *v))
                }
                _ => series.entry(k).or_default().push(("", *v)),
            }
        }
        for (stem, cells) in &series {
            // Sixteen cells a row; the stem spans the rows.
            let rows = cells.len().div_ceil(16);
            for (i, row) in cells.chunks(16).enumerate() {
                h.push_str("<tr>");
                if i == 0 {
                    h.push_str(&format!("<td class=l rowspan={rows}>{}</td>", esc(stem)));
                }
                for (n, v) in row {
                    let class = if *v == 0 { " class=zero" } else { "" };
                    let label = if n.is_empty() {
                        String::new()
                    } else {
                        format!("<small>{n}</small><br>")
                    };
                    h.push_str(&format!("<td{class}>{label}{v}</td>"));
                }
                h.push_str("</tr>");
            }
        }
        h.push_str("</table>");
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use memento_runs::regression_list::RegressionList;

    fn spec(extra: &str) -> TestSpec {
        let text = format!(
            "[params.p]\nobjs = 32\nlane_bits = 25\n[[test]]\nname = \"t\"\ndesign = \"memento_core\"\nparams = \"p\"\nseeds = 1\nops = 1\n{extra}\n"
        );
        RegressionList::parse(&text, "t.toml").unwrap().tests[0].clone()
    }

    /// The shards of a count partition the list's pairs, each pair once, the same every time;
    /// a bad spelling says what is wrong.
    #[test]
    fn shards_partition_the_pairs() {
        let seeds = [3u64, 0, 5, 1];
        let all = shard_pairs(&seeds, None);
        assert_eq!(all.len(), 9);
        for n in 1..=10 {
            let mut got: Vec<(usize, u64)> = (1..=n)
                .flat_map(|i| shard_pairs(&seeds, Some(Shard { index: i, count: n })))
                .collect();
            got.sort();
            assert_eq!(got, all, "{n} shards");
        }
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!(shard_pairs(&seeds, Some(s)), vec![(0, 1), (2, 1), (2, 4)]);
        assert_eq!(s.to_string(), "2/3");
        for bad in ["0/3", "4/3", "3", "a/2", "1/0"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.starts_with(&format!("--shard {bad}: ")), "{e}");
        }
    }

    /// Merging a run's shards gives the unsharded run's counts and bins; a missing or doubled
    /// shard, or one of another run, is refused with the file named.
    #[test]
    fn merging_shards_gives_the_whole_run() {
        let text = "[[test]]\nname = \"t\"\ndesign = \"object_alloc\"\nparams = \"default\"\nseeds = 3\nops = 2000\n";
        let t = RegressionList::parse(text, "t.toml").unwrap().tests[0].clone();
        let plan = |shard| Plan {
            name: "l".into(),
            tests: vec![t.clone()],
            first_seed: 5,
            jobs: 1,
            gate_coverage: false,
            progress: false,
            shrink: std::time::Duration::ZERO,
            shard,
        };
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let whole = regress(&plan(None), &root);
        let part = |i| {
            let r = regress(&plan(Some(Shard { index: i, count: 2 })), &root);
            (format!("s{i}.json"), r)
        };
        let merged = merge_shards(vec![part(2), part(1)]).unwrap();
        assert_eq!(merged.tests[0].seeds, 3);
        assert_eq!(merged.tests[0].cycles, whole.tests[0].cycles);
        assert_eq!(merged.tests[0].commands, whole.tests[0].commands);
        assert_eq!(merged.coverage, whole.coverage);
        assert!(merged.passed && merged.shard.is_none());
        let e = merge_shards(vec![part(1)]).unwrap_err();
        assert_eq!(e, "shard(s) 2/2 missing");
        let e = merge_shards(vec![part(1), part(1)]).unwrap_err();
        assert_eq!(e, "s1.json: shard 1/2 given twice");
        let e = merge_shards(vec![(String::from("w.json"), whole)]).unwrap_err();
        assert_eq!(e, "w.json: not a shard's report");
    }

    /// Coverage bins grouped by their first name, numbered bins as rows of cells, zeros marked.
    #[test]
    fn coverage_html_groups_bins() {
        let mut c = BTreeMap::new();
        for i in 0..20 {
            c.insert(format!("alloc.class.{i:02}"), i as u64);
        }
        c.insert("alloc.oversize".into(), 3);
        c.insert("pool.drain".into(), 0);
        let h = coverage_html(&c, 2, true);
        assert!(
            h.contains("<h3>alloc <small>(21 bins, 1 at zero)</small></h3>"),
            "{h}"
        );
        assert!(
            h.contains("<h3>pool <small>(1 bin, 1 at zero)</small></h3>"),
            "{h}"
        );
        assert!(h.contains("<td class=l rowspan=2>alloc.class</td>"), "{h}");
        assert!(
            h.contains("<td class=zero><small>00</small><br>0</td>"),
            "{h}"
        );
        assert!(
            h.contains("<td class=l rowspan=1>alloc.oversize</td><td>3</td>"),
            "{h}"
        );
        assert_eq!(h.matches("<tr>").count(), 4, "{h}");
    }

    /// Seeded addresses are legal for every seed (the region aligned and inside the virtual
    /// space, the root below the first frame, 2^20 frames above it), repeat for a seed, and put
    /// every bit above the region's size at both values over a few hundred seeds.
    #[test]
    fn seeded_addresses_are_legal_and_vary() {
        let fixed = spec("mrs = 0x80000000");
        assert_eq!(Addresses::of(&fixed, 7).mrs, 0x8000_0000);
        assert_eq!(Addresses::of(&fixed, 7).root, None);
        let t = spec("seeded_addresses = true");
        let p = &t.params;
        let (mut ones, mut zeros) = (0u64, 0u64);
        for seed in 0..400 {
            let a = Addresses::of(&t, seed);
            assert_eq!(a, Addresses::of(&t, seed));
            assert_eq!(a.mrs % (1 << p.region_log2()), 0, "seed {seed}: {a:x?}");
            assert!(a.mrs > 0 && a.mrs + (1 << p.region_log2()) <= 1 << p.va_bits);
            let (first, root) = (a.first_frame.unwrap(), a.root.unwrap());
            assert!(root >= 1 && root < first, "seed {seed}: {a:x?}");
            assert!(first + (1 << 20) <= 1 << (p.pa_bits - 12));
            ones |= a.mrs;
            zeros |= !a.mrs;
        }
        let above = ((1u64 << p.va_bits) - 1) & !((1 << p.region_log2()) - 1);
        assert_eq!(ones & above, above, "every region bit is 1 in some seed");
        assert_eq!(zeros & above, above, "every region bit is 0 in some seed");
    }

    /// Seeded watermarks are legal for every seed (`1 <= LOW < HIGH < POOL`), repeat for a seed,
    /// put every bit below POOL's width at both values in both registers, and are absent unless
    /// asked for.
    #[test]
    fn seeded_watermarks_are_legal_and_vary() {
        assert_eq!(watermarks(&spec(""), 3), None);
        let t = spec("seeded_watermarks = true");
        let pool = u64::from(t.params.pool);
        let (mut ones, mut zeros) = ([0u64; 2], [0u64; 2]);
        for seed in 0..400 {
            let (low, high) = watermarks(&t, seed).unwrap();
            assert_eq!(watermarks(&t, seed), Some((low, high)));
            assert!(
                1 <= low && low < high && high < pool,
                "seed {seed}: {low} {high}"
            );
            for (i, v) in [low, high].into_iter().enumerate() {
                ones[i] |= v;
                zeros[i] |= !v;
            }
        }
        let bits = pool - 1;
        for i in 0..2 {
            assert_eq!(
                ones[i] & bits,
                bits,
                "register {i}: every bit 1 in some seed"
            );
            assert_eq!(
                zeros[i] & bits,
                bits,
                "register {i}: every bit 0 in some seed"
            );
        }
    }
}
