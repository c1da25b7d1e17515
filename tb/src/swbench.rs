//! The software side of `memento bench`: the same trace replayed natively through glibc malloc,
//! jemalloc and mimalloc, each called directly through its `GlobalAlloc` (none of them is this
//! process's global allocator, so all three run in one process).
//!
//! Every object is touched as the hardware run touches it: all its bytes are written with a
//! pattern after the allocation, and read back and checked before it is freed or reallocated.
//! The end of the trace frees what is still live, untimed (the hardware's EXIT is one command).
//!
//! Two views of the same replay:
//! - **Whole replay** (the figure the ratios use): the time-stamp counter is read only at the
//!   replay's two ends, and the same replay through an empty allocator ([`Empty`]: every address
//!   planned before the timer starts) is taken off, so what remains is the allocator's work, per
//!   operation. At least [`MIN_WHOLE_RUNS`] runs; the median is the figure, the lowest and
//!   highest its spread.
//! - **Per call** (the histogram): each call fenced by the counter, less an empty timed region.
//!   Where the counter ticks coarsely (26 ticks on one EPYC) or the process is preempted (10 M
//!   ticks once in a run), this view's p50 and mean say more about the clock than the allocator.
//!
//! Cold numbers come from first runs in fresh processes (`memento swbench`, started by the
//! bench), so the allocator's start-up and its page faults are included. Warm numbers come from
//! the bench process after a first, untimed run of the same trace.

use crate::stats::{LatencyHist, LatencySummary};
use crate::trace::{Trace, TraceOp};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Allocator {
    Glibc,
    Jemalloc,
    Mimalloc,
}

pub const ALLOCATORS: [Allocator; 3] = [Allocator::Glibc, Allocator::Jemalloc, Allocator::Mimalloc];

impl Allocator {
    pub fn name(self) -> &'static str {
        match self {
            Allocator::Glibc => "glibc",
            Allocator::Jemalloc => "jemalloc",
            Allocator::Mimalloc => "mimalloc",
        }
    }

    pub fn by_name(s: &str) -> Result<Self> {
        ALLOCATORS
            .into_iter()
            .find(|a| a.name() == s)
            .with_context(|| format!("allocator {s:?}: expected glibc, jemalloc or mimalloc"))
    }

    fn global(self) -> &'static dyn GlobalAlloc {
        static JE: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
        static MI: mimalloc::MiMalloc = mimalloc::MiMalloc;
        match self {
            Allocator::Glibc => &System,
            Allocator::Jemalloc => &JE,
            Allocator::Mimalloc => &MI,
        }
    }
}

/// One replay of a trace through one allocator: time-stamp-counter ticks per call.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SwRun {
    pub allocator: String,
    pub ops: u64,
    pub all: Summary,
    pub alloc: Summary,
    pub free: Summary,
    pub realloc: Summary,
    /// Ticks of an empty timed region, taken off every sample.
    pub overhead: u64,
}

/// A latency summary that survives a round trip through JSON (the cold runs report this way).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl From<LatencySummary> for Summary {
    fn from(s: LatencySummary) -> Self {
        Summary {
            n: s.n,
            mean: s.mean,
            p50: s.p50,
            p99: s.p99,
            max: s.max,
        }
    }
}

#[inline(always)]
fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use std::arch::x86_64::{_mm_lfence, _rdtsc};
        _mm_lfence();
        let t = _rdtsc();
        _mm_lfence();
        t
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static T0: OnceLock<std::time::Instant> = OnceLock::new();
        T0.get_or_init(std::time::Instant::now).elapsed().as_nanos() as u64
    }
}

/// The median cost of an empty timed region.
fn overhead() -> u64 {
    let mut v: Vec<u64> = (0..10_001)
        .map(|_| {
            let t0 = ticks();
            let t1 = ticks();
            t1 - t0
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

fn layout(size: u64) -> Layout {
    Layout::from_size_align(size.max(1) as usize, 16).expect("trace sizes fit a layout")
}

fn fill(p: *mut u8, size: usize, id: usize) {
    unsafe { std::ptr::write_bytes(p, id as u8 ^ 0x5a, size) }
}

fn check(p: *mut u8, size: usize, id: usize, what: &str) -> Result<()> {
    let s = unsafe { std::slice::from_raw_parts(p, size) };
    if let Some(i) = s.iter().position(|&b| b != id as u8 ^ 0x5a) {
        bail!("object {id} lost its contents at byte {i} before {what}");
    }
    Ok(())
}

/// What a replay calls for each operation of the trace: a real allocator, the empty one, or
/// either with every call timed.
trait Heap {
    fn alloc(&mut self, l: Layout) -> *mut u8;
    fn free(&mut self, p: *mut u8, l: Layout);
    fn realloc(&mut self, p: *mut u8, old: Layout, new: usize) -> *mut u8;
}

/// One of the three allocators, called through its `GlobalAlloc`.
struct Real(&'static dyn GlobalAlloc);

impl Heap for Real {
    fn alloc(&mut self, l: Layout) -> *mut u8 {
        unsafe { self.0.alloc(l) }
    }
    fn free(&mut self, p: *mut u8, l: Layout) {
        unsafe { self.0.dealloc(p, l) }
    }
    fn realloc(&mut self, p: *mut u8, old: Layout, new: usize) -> *mut u8 {
        unsafe { self.0.realloc(p, old, new) }
    }
}

/// The empty allocator: where each allocation goes is worked out before the replay, the way a
/// simple size-class allocator would place it (16-byte classes, the most recently freed slot of
/// the class first, else a new slot at the top of one arena written before the timer starts), and
/// each call just takes the next planned address. A replay through it does all the replay's own
/// work (the loop, writing and checking every object's bytes, over memory reused much as an
/// allocator reuses it) and no allocator work, so its time is what a whole replay costs beside
/// the allocator. (Giving every object its own buffer instead spreads the replay over all the
/// memory the trace ever allocates, and its cache misses cost more than the allocators' work.)
struct Empty {
    arena: Vec<u128>,
    /// Byte offset in `arena` of each alloc and realloc, in trace order.
    plan: Vec<usize>,
    next: usize,
}

impl Empty {
    fn new(trace: &Trace) -> Self {
        use std::collections::HashMap;
        let class = |size: u64| layout(size).size().div_ceil(16) * 16;
        let mut free: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut slot: Vec<(usize, usize)> = vec![(0, 0); trace.ids];
        let mut top = 0usize;
        let mut plan = Vec::with_capacity(trace.ops.len());
        let mut take = |c: usize, free: &mut HashMap<usize, Vec<usize>>| {
            free.get_mut(&c).and_then(Vec::pop).unwrap_or_else(|| {
                top += c;
                top - c
            })
        };
        for op in &trace.ops {
            match *op {
                TraceOp::Alloc { id, size } => {
                    let c = class(size);
                    slot[id] = (take(c, &mut free), c);
                    plan.push(slot[id].0);
                }
                TraceOp::Free { id } => {
                    let (off, c) = slot[id];
                    free.entry(c).or_default().push(off);
                }
                TraceOp::Realloc { id, size } => {
                    let (off, old) = slot[id];
                    let c = class(size);
                    if c != old {
                        slot[id] = (take(c, &mut free), c);
                        free.entry(old).or_default().push(off);
                    }
                    plan.push(slot[id].0);
                }
            }
        }
        Empty {
            arena: vec![0xa5a5_a5a5_a5a5_a5a5_a5a5_a5a5_a5a5_a5a5u128; top.div_ceil(16).max(1)],
            plan,
            next: 0,
        }
    }

    /// The next planned address; the plan starts over when a replay has used it up.
    fn take(&mut self) -> *mut u8 {
        if self.next == self.plan.len() {
            self.next = 0;
        }
        let off = self.plan[self.next];
        self.next += 1;
        unsafe { (self.arena.as_mut_ptr() as *mut u8).add(off) }
    }
}

impl Heap for Empty {
    fn alloc(&mut self, _l: Layout) -> *mut u8 {
        self.take()
    }
    fn free(&mut self, _p: *mut u8, _l: Layout) {}
    fn realloc(&mut self, _p: *mut u8, _old: Layout, _new: usize) -> *mut u8 {
        self.take()
    }
}

/// A heap whose every call is timed with the fenced time-stamp counter, less the cost of an
/// empty timed region.
struct Timed<H> {
    inner: H,
    over: u64,
    alloc: LatencyHist,
    free: LatencyHist,
    realloc: LatencyHist,
    all: LatencyHist,
}

impl<H: Heap> Timed<H> {
    fn new(inner: H) -> Self {
        Timed {
            inner,
            over: overhead(),
            alloc: LatencyHist::default(),
            free: LatencyHist::default(),
            realloc: LatencyHist::default(),
            all: LatencyHist::default(),
        }
    }

    fn time<R>(&mut self, f: impl FnOnce(&mut H) -> R) -> (R, u64) {
        let t0 = ticks();
        let r = f(&mut self.inner);
        let t = (ticks() - t0).saturating_sub(self.over);
        self.all.add(t);
        (r, t)
    }
}

impl<H: Heap> Heap for Timed<H> {
    fn alloc(&mut self, l: Layout) -> *mut u8 {
        let (p, t) = self.time(|h| h.alloc(l));
        self.alloc.add(t);
        p
    }
    fn free(&mut self, p: *mut u8, l: Layout) {
        let ((), t) = self.time(|h| h.free(p, l));
        self.free.add(t);
    }
    fn realloc(&mut self, p: *mut u8, old: Layout, new: usize) -> *mut u8 {
        let (q, t) = self.time(|h| h.realloc(p, old, new));
        self.realloc.add(t);
        q
    }
}

/// Replays `trace` through `h`, writing every object's bytes after it is allocated and checking
/// them before it is freed or resized. Returns the objects still live at the end.
fn drive<H: Heap>(trace: &Trace, h: &mut H, name: &str) -> Result<Vec<(*mut u8, usize)>> {
    let mut live: Vec<(*mut u8, usize)> = vec![(std::ptr::null_mut(), 0); trace.ids];
    for op in &trace.ops {
        match *op {
            TraceOp::Alloc { id, size } => {
                let l = layout(size);
                let p = h.alloc(l);
                if p.is_null() {
                    bail!("{name} returned null for {} bytes", l.size());
                }
                fill(p, l.size(), id);
                live[id] = (p, l.size());
            }
            TraceOp::Free { id } => {
                let (p, size) = live[id];
                check(p, size, id, "its free")?;
                h.free(p, layout(size as u64));
                live[id] = (std::ptr::null_mut(), 0);
            }
            TraceOp::Realloc { id, size } => {
                let (p, old) = live[id];
                check(p, old, id, "its realloc")?;
                let new = size.max(1) as usize;
                let q = h.realloc(p, layout(old as u64), new);
                if q.is_null() {
                    bail!("{name} returned null reallocating to {new} bytes");
                }
                fill(q, new, id);
                live[id] = (q, new);
            }
        }
    }
    Ok(live)
}

/// Frees what a replay through `a` left live (the function's exit), untimed.
fn release(a: Allocator, live: Vec<(*mut u8, usize)>) {
    for (p, size) in live {
        if !p.is_null() {
            unsafe { a.global().dealloc(p, layout(size as u64)) };
        }
    }
}

/// Replays `trace` through `a`, timing every call (the per-call view).
pub fn replay(trace: &Trace, a: Allocator) -> Result<SwRun> {
    let mut h = Timed::new(Real(a.global()));
    let live = drive(trace, &mut h, a.name())?;
    release(a, live);
    Ok(SwRun {
        allocator: a.name().into(),
        ops: h.all.n,
        all: h.all.summary().into(),
        alloc: h.alloc.summary().into(),
        free: h.free.summary().into(),
        realloc: h.realloc.summary().into(),
        overhead: h.over,
    })
}

/// Warm, per call: an untimed first replay, then `reps` timed ones; the one with the median mean.
pub fn warm(trace: &Trace, a: Allocator, reps: usize) -> Result<SwRun> {
    replay(trace, a)?;
    let mut runs = (0..reps.max(1))
        .map(|_| replay(trace, a))
        .collect::<Result<Vec<_>>>()?;
    runs.sort_by(|x, y| x.all.mean.total_cmp(&y.all.mean));
    Ok(runs.swap_remove(runs.len() / 2))
}

/// The fewest whole replays a robust figure is the median of.
pub const MIN_WHOLE_RUNS: usize = 5;

/// An allocator's cost from whole replays: each run times one replay through the allocator and
/// one through the empty allocator with nothing but the time-stamp counter at their two ends.
/// A run's figure is its allocator replay less the median empty replay, over the operations, so
/// the empty replays' own noise enters once, through their median. Preemption and the counter's
/// granularity cost a whole replay a few parts in a million, where they cost a single call its
/// whole figure; what is left is the machine's run-to-run variation, which the spread shows.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Whole {
    pub ops: u64,
    /// Ticks per operation of each replay through the allocator, and through the empty one.
    pub replays: Vec<f64>,
    pub empties: Vec<f64>,
    /// Net ticks per operation of every run (`replays` less the median of `empties`).
    pub runs: Vec<f64>,
    /// The median, lowest and highest of `runs`.
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The median of `empties`: the replay's own work.
    pub empty: f64,
}

impl Whole {
    fn of(ops: u64, replays: Vec<f64>, empties: Vec<f64>) -> Self {
        let empty = median(&empties);
        let runs: Vec<f64> = replays.iter().map(|r| r - empty).collect();
        Whole {
            ops,
            median: median(&runs),
            min: runs.iter().copied().fold(f64::INFINITY, f64::min),
            max: runs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            empty,
            runs,
            replays,
            empties,
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Ticks of one untimed-inside replay through `h`.
fn whole_ticks<H: Heap>(
    trace: &Trace,
    h: &mut H,
    name: &str,
) -> Result<(u64, Vec<(*mut u8, usize)>)> {
    let t0 = ticks();
    let live = drive(trace, h, name)?;
    Ok((ticks() - t0, live))
}

/// Warm whole replays: one untimed replay of each, then `runs` (at least [`MIN_WHOLE_RUNS`])
/// pairs of an empty replay and an allocator replay, alternating so that drift hits both alike.
pub fn warm_whole(trace: &Trace, a: Allocator, runs: usize) -> Result<Whole> {
    let mut empty = Empty::new(trace);
    drive(trace, &mut empty, "the empty allocator")?;
    release(a, drive(trace, &mut Real(a.global()), a.name())?);
    let ops = trace.ops.len().max(1) as f64;
    let (mut replays, mut empties) = (vec![], vec![]);
    for _ in 0..runs.max(MIN_WHOLE_RUNS) {
        let (e, _) = whole_ticks(trace, &mut empty, "the empty allocator")?;
        let (t, live) = whole_ticks(trace, &mut Real(a.global()), a.name())?;
        release(a, live);
        replays.push(t as f64 / ops);
        empties.push(e as f64 / ops);
    }
    Ok(Whole::of(trace.ops.len() as u64, replays, empties))
}

/// One cold whole replay in this fresh process: the empty replay first (its buffers are not the
/// allocator's cost), then the allocator's first replay, start-up and page faults included.
pub fn cold_whole_once(trace: &Trace, a: Allocator) -> Result<Whole> {
    let mut empty = Empty::new(trace);
    let (e, _) = whole_ticks(trace, &mut empty, "the empty allocator")?;
    let (t, live) = whole_ticks(trace, &mut Real(a.global()), a.name())?;
    release(a, live);
    let ops = trace.ops.len().max(1) as f64;
    Ok(Whole::of(
        trace.ops.len() as u64,
        vec![t as f64 / ops],
        vec![e as f64 / ops],
    ))
}

/// Cold whole replays: `runs` (at least [`MIN_WHOLE_RUNS`]) fresh processes, each timing one
/// first replay ([`cold_whole_once`], run as `memento swbench --whole`).
pub fn cold_whole(exe: &Path, trace_path: &Path, a: Allocator, runs: usize) -> Result<Whole> {
    let (mut replays, mut empties, mut ops) = (vec![], vec![], 0);
    for _ in 0..runs.max(MIN_WHOLE_RUNS) {
        let out = swbench_process(exe, trace_path, a, true)?;
        let w: Whole = serde_json::from_slice(&out).with_context(|| {
            format!(
                "reading the cold whole run's report: {}",
                String::from_utf8_lossy(&out)
            )
        })?;
        ops = w.ops;
        replays.extend(w.replays);
        empties.extend(w.empties);
    }
    Ok(Whole::of(ops, replays, empties))
}

/// Runs `memento swbench` on one trace and allocator in a fresh process; its standard output.
fn swbench_process(exe: &Path, trace_path: &Path, a: Allocator, whole: bool) -> Result<Vec<u8>> {
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("swbench").arg("--allocator").arg(a.name());
    if whole {
        cmd.arg("--whole");
    }
    let out = cmd
        .arg(trace_path)
        .output()
        .with_context(|| format!("starting {} swbench", exe.display()))?;
    if !out.status.success() {
        bail!(
            "cold run of {} through {} failed: {}",
            trace_path.display(),
            a.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// Cold, per call: a first replay in a fresh process (`memento swbench`, run from the
/// executable `exe`), read back as JSON.
pub fn cold(exe: &Path, trace_path: &Path, a: Allocator) -> Result<SwRun> {
    let out = swbench_process(exe, trace_path, a, false)?;
    serde_json::from_slice(&out).with_context(|| {
        format!(
            "reading the cold run's report: {}",
            String::from_utf8_lossy(&out)
        )
    })
}

/// The time-stamp counter's rate in MHz as the kernel reports it, if it does.
pub fn tsc_mhz() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_replays_report_a_median_inside_their_spread() {
        let text = "0\n3\n6\n1\na 0 24\na 1 600\nr 0 100\nf 1\na 2 8\nf 0\n";
        let t = crate::trace::parse(std::io::Cursor::new(text), "inline").unwrap();
        for a in ALLOCATORS {
            let w = warm_whole(&t, a, 1).unwrap();
            assert_eq!(w.runs.len(), MIN_WHOLE_RUNS, "{}", a.name());
            assert_eq!(w.ops, 6);
            assert!(w.min <= w.median && w.median <= w.max, "{w:?}");
            assert!(
                w.empty > 0.0,
                "the empty replay does the replay's own work: {w:?}"
            );
        }
    }

    #[test]
    fn the_empty_allocator_plans_slots_as_a_size_class_allocator_reuses_them() {
        // a 0 (24 B: class 32), r 0 to 700 (class 704, new slot, 32 freed), a 1 (1 B: class
        // 16), f 0, a 2 (700 B again: takes 0's freed slot), a 3 (20 B: class 32, the freed slot).
        let text = "0\n4\n6\n1\na 0 24\nr 0 700\na 1 0\nf 0\na 2 700\na 3 20\n";
        let t = crate::trace::parse(std::io::Cursor::new(text), "inline").unwrap();
        let e = Empty::new(&t);
        assert_eq!(e.plan, vec![0, 32, 736, 32, 0]);
        assert!(e.arena.len() * 16 >= 752);
        assert!(median(&[3.0, 1.0, 2.0, 10.0]) == 2.5 && median(&[5.0, 1.0, 4.0]) == 4.0);
    }

    #[test]
    fn every_allocator_replays_a_small_trace() {
        let text = "0\n3\n6\n1\na 0 24\na 1 600\nr 0 100\nf 1\na 2 8\nf 0\n";
        let t = crate::trace::parse(std::io::Cursor::new(text), "inline").unwrap();
        for a in ALLOCATORS {
            let r = replay(&t, a).unwrap();
            assert_eq!(r.ops, 6, "{}", a.name());
            assert_eq!((r.alloc.n, r.free.n, r.realloc.n), (3, 2, 1));
        }
    }
}
