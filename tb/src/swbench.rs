//! The software side of `memento bench`: the same trace replayed natively through glibc malloc,
//! jemalloc and mimalloc, each called directly through its `GlobalAlloc` (none of them is this
//! process's global allocator, so all three run in one process).
//!
//! Every object is touched as the hardware run touches it: all its bytes are written with a
//! pattern after the allocation, and read back and checked before it is freed or reallocated.
//! Only the allocator call is timed, with the time-stamp counter fenced on both sides; the cost of
//! an empty timed region is measured first and taken off every sample. The end of the trace frees
//! what is still live, untimed (the hardware's EXIT is one command).
//!
//! Cold numbers come from a first run in a fresh process (`memento swbench`, started by the bench),
//! so the allocator's start-up and its page faults are included. Warm numbers come from the bench
//! process after a first, untimed run of the same trace.

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

/// Replays `trace` through `a`, timing every call.
pub fn replay(trace: &Trace, a: Allocator) -> Result<SwRun> {
    let g = a.global();
    let over = overhead();
    let mut live: Vec<(*mut u8, usize)> = vec![(std::ptr::null_mut(), 0); trace.ids];
    let (mut ha, mut hf, mut hr, mut all) = (
        LatencyHist::default(),
        LatencyHist::default(),
        LatencyHist::default(),
        LatencyHist::default(),
    );
    for op in &trace.ops {
        match *op {
            TraceOp::Alloc { id, size } => {
                let l = layout(size);
                let t0 = ticks();
                let p = unsafe { g.alloc(l) };
                let t = (ticks() - t0).saturating_sub(over);
                if p.is_null() {
                    bail!("{} returned null for {} bytes", a.name(), l.size());
                }
                ha.add(t);
                all.add(t);
                fill(p, l.size(), id);
                live[id] = (p, l.size());
            }
            TraceOp::Free { id } => {
                let (p, size) = live[id];
                check(p, size, id, "its free")?;
                let t0 = ticks();
                unsafe { g.dealloc(p, layout(size as u64)) };
                let t = (ticks() - t0).saturating_sub(over);
                hf.add(t);
                all.add(t);
                live[id] = (std::ptr::null_mut(), 0);
            }
            TraceOp::Realloc { id, size } => {
                let (p, old) = live[id];
                check(p, old, id, "its realloc")?;
                let new = size.max(1) as usize;
                let t0 = ticks();
                let q = unsafe { g.realloc(p, layout(old as u64), new) };
                let t = (ticks() - t0).saturating_sub(over);
                if q.is_null() {
                    bail!("{} returned null reallocating to {new} bytes", a.name());
                }
                hr.add(t);
                all.add(t);
                fill(q, new, id);
                live[id] = (q, new);
            }
        }
    }
    for (p, size) in live {
        if !p.is_null() {
            unsafe { g.dealloc(p, layout(size as u64)) };
        }
    }
    Ok(SwRun {
        allocator: a.name().into(),
        ops: all.n,
        all: all.summary().into(),
        alloc: ha.summary().into(),
        free: hf.summary().into(),
        realloc: hr.summary().into(),
        overhead: over,
    })
}

/// Warm: an untimed first replay, then `reps` timed ones; the one with the median mean.
pub fn warm(trace: &Trace, a: Allocator, reps: usize) -> Result<SwRun> {
    replay(trace, a)?;
    let mut runs = (0..reps.max(1))
        .map(|_| replay(trace, a))
        .collect::<Result<Vec<_>>>()?;
    runs.sort_by(|x, y| x.all.mean.total_cmp(&y.all.mean));
    Ok(runs.swap_remove(runs.len() / 2))
}

/// Cold: a first replay in a fresh process (`memento swbench`, run from the executable `exe`),
/// read back as JSON.
pub fn cold(exe: &Path, trace_path: &Path, a: Allocator) -> Result<SwRun> {
    let out = std::process::Command::new(exe)
        .arg("swbench")
        .arg("--allocator")
        .arg(a.name())
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
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "reading the cold run's report: {}",
            String::from_utf8_lossy(&out.stdout)
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
