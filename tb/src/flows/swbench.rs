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
//!   replay's two ends, and the same replay through an empty allocator ([`Empty`]: it hands out
//!   the addresses the allocator returned, moved into a buffer written before the timer starts)
//!   is taken off pair by pair, so what remains is the allocator's work, per operation. At least
//!   [`MIN_WHOLE_RUNS`] pairs; the median is the figure, the lowest and highest its spread, and a
//!   sign test over the pairs says whether there is a figure at all ([`Whole::measurable`]).
//! - **Per call** (the histogram): each call fenced by the counter, less an empty timed region.
//!   Where the counter ticks coarsely (26 ticks on one EPYC) or the process is preempted (10 M
//!   ticks once in a run), this view's p50 and mean say more about the clock than the allocator.
//!
//! Cold numbers come from first runs in fresh processes (`memento swbench`, started by the
//! bench), so the allocator's start-up and its page faults are included. Warm numbers come from
//! the bench process after a first, untimed run of the same trace.

use crate::stats::{LatencyHist, LatencySummary};
use crate::stimulus::trace::{Trace, TraceOp};
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
    let v = id as u8 ^ 0x5a;
    // 64 bytes at a time with no early exit inside a block, so that the compiler vectorizes it:
    // the replay's own work is what the empty replay takes off, and the less of it there is the
    // less of its noise is left in the difference.
    let intact = s
        .chunks(64)
        .all(|c| c.iter().fold(0u8, |acc, &b| acc | (b ^ v)) == 0);
    if intact {
        return Ok(());
    }
    if let Some(i) = s.iter().position(|&b| b != v) {
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

/// The empty allocator: it hands out, in trace order, the addresses a real allocator returned for
/// the same trace in this process, moved into a buffer of its own. Every page the real replay
/// touched has a page here, in the same order and with the same offsets inside it, and runs of
/// adjacent pages stay adjacent; so a replay through it touches memory exactly as the real replay
/// did (the same cache sets, the same number of pages, the same reuse) and does all the
/// replay's own work (the loop, writing and checking every object's bytes) but none of the
/// allocator's. Its buffer is written before any timer starts. (An empty allocator that placed
/// objects its own way measured the placement, not the allocator: on perl, whose buffers grow by
/// `realloc`, a size-class plan took 100 ticks per operation more than glibc's whole replay.)
struct Empty {
    arena: Vec<u128>,
    /// Byte offset in `arena` of each alloc and realloc, in trace order.
    plan: Vec<usize>,
    next: usize,
}

const PAGE: usize = 4096;

impl Empty {
    /// An empty allocator that mirrors `placed`: the address and size of every alloc and
    /// realloc of one real replay, in trace order.
    fn mirror(placed: &[(usize, usize)]) -> Self {
        // Runs of touched pages: (first page, last page), sorted and merged.
        let mut spans: Vec<(usize, usize)> = placed
            .iter()
            .map(|&(a, s)| (a / PAGE, (a + s.max(1) - 1) / PAGE))
            .collect();
        spans.sort_unstable();
        let mut runs: Vec<(usize, usize, usize)> = vec![]; // (first, last, page in the arena)
        let mut pages = 0;
        for (first, last) in spans {
            match runs.last_mut() {
                Some(r) if first <= r.1 + 1 => r.1 = r.1.max(last),
                _ => {
                    if let Some(r) = runs.last() {
                        pages += r.1 - r.0 + 1;
                    }
                    runs.push((first, last, pages));
                }
            }
        }
        if let Some(r) = runs.last() {
            pages += r.1 - r.0 + 1;
        }
        let arena = vec![0xa5a5_a5a5_a5a5_a5a5_a5a5_a5a5_a5a5_a5a5u128; (pages + 1) * PAGE / 16];
        let skew = (PAGE - arena.as_ptr() as usize % PAGE) % PAGE;
        let plan = placed
            .iter()
            .map(|&(a, _)| {
                let i = runs.partition_point(|r| r.0 <= a / PAGE) - 1;
                let (first, _, at) = runs[i];
                skew + at * PAGE + (a - first * PAGE)
            })
            .collect();
        Empty {
            arena,
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

/// A heap that writes down where each alloc and realloc of the heap inside it went (into room
/// reserved before the replay), for [`Empty::mirror`].
struct Recorder<H> {
    inner: H,
    placed: Vec<(usize, usize)>,
}

impl<H: Heap> Recorder<H> {
    fn new(inner: H, trace: &Trace) -> Self {
        Recorder {
            inner,
            placed: Vec::with_capacity(trace.ops.len()),
        }
    }
}

impl<H: Heap> Heap for Recorder<H> {
    fn alloc(&mut self, l: Layout) -> *mut u8 {
        let p = self.inner.alloc(l);
        self.placed.push((p as usize, l.size()));
        p
    }
    fn free(&mut self, p: *mut u8, l: Layout) {
        self.inner.free(p, l)
    }
    fn realloc(&mut self, p: *mut u8, old: Layout, new: usize) -> *mut u8 {
        let q = self.inner.realloc(p, old, new);
        self.placed.push((q as usize, new));
        q
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

/// The one-sided sign test's level below which a whole-replay figure counts as measured: the
/// chance that at least as many pairs would come out with the allocator dearer if the allocator
/// cost nothing.
pub const SIGN_TEST_LEVEL: f64 = 0.05;

/// An allocator's cost from whole replays. Each run is a pair: one replay through the allocator
/// and one through the empty allocator that mirrors it ([`Empty`]), each with nothing but the
/// time-stamp counter at its two ends, taken one after the other (in alternating order) so that
/// whatever the machine is doing at the time hits both. A run's figure is the difference of its
/// pair, over the operations. Preemption and the counter's granularity cost a whole replay a few
/// parts in a million, where they cost a single call its whole figure; what is left is the
/// machine's run-to-run variation, which the spread shows.
///
/// Where the allocator's work is small beside the replay's own (writing and checking every
/// byte), the differences scatter around zero, and a median of them is not a cost: `measurable`
/// says whether the pairs show one (a one-sided sign test at [`SIGN_TEST_LEVEL`], and a
/// positive median), and the reports print "not measurable here" instead of a figure or a ratio.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Whole {
    pub ops: u64,
    /// Ticks per operation of each replay through the allocator, and through the empty one,
    /// pair by pair.
    pub replays: Vec<f64>,
    pub empties: Vec<f64>,
    /// Net ticks per operation of every pair (`replays[i] - empties[i]`).
    pub runs: Vec<f64>,
    /// The median, lowest and highest of `runs`.
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The median of `empties`: the replay's own work.
    pub empty: f64,
    /// How many pairs had the allocator's replay the slower, and the sign test's p-value for it.
    #[serde(default)]
    pub dearer: usize,
    #[serde(default)]
    pub p_value: f64,
    #[serde(default)]
    pub measurable: bool,
}

impl Whole {
    fn of(ops: u64, replays: Vec<f64>, empties: Vec<f64>) -> Self {
        let runs: Vec<f64> = replays.iter().zip(&empties).map(|(r, e)| r - e).collect();
        let dearer = runs.iter().filter(|&&d| d > 0.0).count();
        let p_value = sign_test(dearer, runs.len());
        let mid = median(&runs);
        Whole {
            ops,
            median: mid,
            min: runs.iter().copied().fold(f64::INFINITY, f64::min),
            max: runs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            empty: median(&empties),
            dearer,
            p_value,
            measurable: mid > 0.0 && p_value < SIGN_TEST_LEVEL,
            runs,
            replays,
            empties,
        }
    }

    /// The figure, where there is one.
    pub fn figure(&self) -> Option<f64> {
        self.measurable.then_some(self.median)
    }
}

/// The chance of `k` or more heads in `n` fair coin tosses.
fn sign_test(k: usize, n: usize) -> f64 {
    let mut c = 1.0f64; // C(n, i), from i = 0
    let mut tail = 0.0;
    for i in 0..=n {
        if i >= k {
            tail += c;
        }
        c = c * (n - i) as f64 / (i + 1) as f64;
    }
    tail / 2f64.powi(n as i32)
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

/// Ticks of one replay through `a`, with where its allocations went.
fn real_ticks(trace: &Trace, a: Allocator) -> Result<(u64, Vec<(usize, usize)>)> {
    let mut rec = Recorder::new(Real(a.global()), trace);
    let (t, live) = whole_ticks(trace, &mut rec, a.name())?;
    release(a, live);
    Ok((t, rec.placed))
}

const EMPTY: &str = "the empty allocator";

/// Warm whole replays: one untimed replay through the allocator (whose placement the empty
/// allocator mirrors) and one through the empty allocator, then `runs` (at least
/// [`MIN_WHOLE_RUNS`]) timed pairs, the empty replay first in every other pair.
pub fn warm_whole(trace: &Trace, a: Allocator, runs: usize) -> Result<Whole> {
    let (_, placed) = real_ticks(trace, a)?;
    let mut empty = Empty::mirror(&placed);
    drop(placed);
    drive(trace, &mut empty, EMPTY)?;
    let ops = trace.ops.len().max(1) as f64;
    let (mut replays, mut empties) = (vec![], vec![]);
    for i in 0..runs.max(MIN_WHOLE_RUNS) {
        let (t, e) = if i % 2 == 0 {
            let (e, _) = whole_ticks(trace, &mut empty, EMPTY)?;
            (real_ticks(trace, a)?.0, e)
        } else {
            let t = real_ticks(trace, a)?.0;
            (t, whole_ticks(trace, &mut empty, EMPTY)?.0)
        };
        replays.push(t as f64 / ops);
        empties.push(e as f64 / ops);
    }
    Ok(Whole::of(trace.ops.len() as u64, replays, empties))
}

/// One cold whole replay in this fresh process: the allocator's first replay, start-up and
/// page faults included, then the empty allocator mirroring it (its buffer written before its
/// timer starts, so its page faults are not in its time).
pub fn cold_whole_once(trace: &Trace, a: Allocator) -> Result<Whole> {
    let (t, placed) = real_ticks(trace, a)?;
    let mut empty = Empty::mirror(&placed);
    drop(placed);
    let (e, _) = whole_ticks(trace, &mut empty, EMPTY)?;
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
        let t = crate::stimulus::trace::parse(std::io::Cursor::new(text), "inline").unwrap();
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
    fn the_empty_allocator_mirrors_pages_and_offsets_and_keeps_adjacent_pages_adjacent() {
        // Two objects on page 0x10 (one runs into 0x11), one far away on 0x90, one on 0x12
        // (adjacent to 0x11, so in the same run), and the first address again (reused).
        let p = |page: usize, off: usize| page * PAGE + off;
        let placed = [
            (p(0x10, 16), 32),
            (p(0x10, 4000), 200),
            (p(0x90, 48), 8),
            (p(0x12, 0), 64),
            (p(0x10, 16), 32),
        ];
        let mut e = Empty::mirror(&placed);
        let base = e.plan[0] - 16;
        assert_eq!(
            base % PAGE,
            (PAGE - e.arena.as_ptr() as usize % PAGE) % PAGE
        );
        assert_eq!(
            e.plan,
            vec![
                base + 16,
                base + 4000,
                base + 3 * PAGE + 48,
                base + 2 * PAGE,
                base + 16
            ]
        );
        assert!(
            e.arena.len() * 16 >= base + 4 * PAGE,
            "room for the four pages"
        );
        let first = e.take();
        assert_eq!(first as usize % PAGE, 16, "page offsets kept");
        for _ in 0..4 {
            e.take();
        }
        assert_eq!(e.take(), first, "the plan starts over");
    }

    #[test]
    fn whole_replays_subtract_pair_by_pair_and_say_when_there_is_no_figure() {
        assert!(median(&[3.0, 1.0, 2.0, 10.0]) == 2.5 && median(&[5.0, 1.0, 4.0]) == 4.0);
        assert!((sign_test(5, 5) - 1.0 / 32.0).abs() < 1e-12);
        assert!((sign_test(0, 7) - 1.0).abs() < 1e-12);
        assert!((sign_test(12, 15) - 576.0 / 32768.0).abs() < 1e-12);
        let w = Whole::of(
            10,
            vec![110.0, 90.0, 105.0, 130.0, 100.5],
            vec![100.0, 80.0, 104.0, 100.0, 100.0],
        );
        assert_eq!(w.runs, vec![10.0, 10.0, 1.0, 30.0, 0.5]);
        assert_eq!((w.median, w.min, w.max, w.empty), (10.0, 0.5, 30.0, 100.0));
        assert_eq!(w.dearer, 5);
        assert_eq!(w.figure(), Some(10.0));
        // One pair the other way round: 4 of 5 is what chance gives 3 times in 16.
        let w = Whole::of(
            10,
            vec![110.0, 90.0, 99.0, 130.0, 100.5],
            vec![100.0, 80.0, 104.0, 100.0, 100.0],
        );
        assert_eq!(w.dearer, 4);
        assert!(!w.measurable && w.figure().is_none(), "{w:?}");
    }

    #[test]
    fn every_allocator_replays_a_small_trace() {
        let text = "0\n3\n6\n1\na 0 24\na 1 600\nr 0 100\nf 1\na 2 8\nf 0\n";
        let t = crate::stimulus::trace::parse(std::io::Cursor::new(text), "inline").unwrap();
        for a in ALLOCATORS {
            let r = replay(&t, a).unwrap();
            assert_eq!(r.ops, 6, "{}", a.name());
            assert_eq!((r.alloc.n, r.free.n, r.realloc.n), (3, 2, 1));
        }
    }
}
