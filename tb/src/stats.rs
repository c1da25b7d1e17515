//! Counters and latency histograms of a run, mergeable across runs.

use serde::Serialize;
use std::collections::BTreeMap;

/// Latencies below this are counted exactly, one bucket per cycle count.
pub const EXACT: u64 = 64;
/// Above [`EXACT`], each power of two is split into this many buckets of equal width, so a
/// bucket is at most 1/32 (3.1%) of its values wide (HdrHistogram's layout, two significant
/// binary digits more).
const SUB: u64 = 32;

/// The bucket of `v`: `v` itself below [`EXACT`], else its power of two and its top five bits
/// after the leading one.
pub fn bucket_of(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as u64; // 6 and up
    let top = (v >> (e - 5)) - SUB; // 0..SUB
    (EXACT + (e - 6) * SUB + top) as usize
}

/// The smallest value in bucket `i`.
pub fn bucket_low(i: usize) -> u64 {
    let i = i as u64;
    if i < EXACT {
        return i;
    }
    let (e, top) = (6 + (i - EXACT) / SUB, (i - EXACT) % SUB);
    // Past the last bucket (2^64 and up), the largest value there is.
    u64::try_from(u128::from(SUB + top) << (e - 5)).unwrap_or(u64::MAX)
}

/// A histogram of command latencies in cycles: exact below [`EXACT`], log-bucketed above (a run's
/// walk latencies reach tens of thousands of cycles, which a dense array per cycle count made
/// into megabytes of report). The count, sum and maximum are exact.
#[derive(Clone, Default, Serialize, serde::Deserialize)]
pub struct LatencyHist {
    counts: Vec<u64>,
    pub n: u64,
    pub sum: u64,
    pub max: u64,
}

impl std::fmt::Debug for LatencyHist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.summary();
        write!(
            f,
            "n {} mean {:.2} p50 {} p99 {} max {}",
            s.n, s.mean, s.p50, s.p99, s.max
        )
    }
}

impl LatencyHist {
    pub fn add(&mut self, cycles: u64) {
        let i = bucket_of(cycles);
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.n += 1;
        self.sum += cycles;
        self.max = self.max.max(cycles);
    }

    pub fn merge(&mut self, o: &LatencyHist) {
        if self.counts.len() < o.counts.len() {
            self.counts.resize(o.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.n += o.n;
        self.sum += o.sum;
        self.max = self.max.max(o.max);
    }

    /// Commands per bucket: index = cycles below [`EXACT`], then [`bucket_low`]'s buckets.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / self.n as f64
        }
    }

    /// The smallest latency at or below which a fraction `q` of the commands fall: exact below
    /// [`EXACT`], else the highest value of its bucket (at most 3.1% above it), never above the
    /// maximum.
    pub fn quantile(&self, q: f64) -> u64 {
        let target = (q * self.n as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return (bucket_low(i + 1) - 1).min(self.max);
            }
        }
        self.max
    }

    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            n: self.n,
            mean: self.mean(),
            p50: self.quantile(0.5),
            p99: self.quantile(0.99),
            max: self.max,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LatencySummary {
    pub n: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// What the hardware did over a run, counted at its ports.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct RunStats {
    pub commands: u64,
    pub cycles: u64,
    pub allocs: u64,
    pub allocs_ok: u64,
    pub alloc_hits: u64,
    pub frees: u64,
    pub frees_ok: u64,
    pub free_hits: u64,
    pub fallbacks: u64,
    pub invalid: u64,
    pub double_frees: u64,
    pub exits: u64,
    /// Op-3 commands (answered INVALID).
    pub reserved: u64,
    /// Resets of the allocator in place of an EXIT, mid-run.
    pub resets: u64,
    pub arena_refills: u64,
    pub arena_creations: u64,
    pub header_reads: u64,
    pub header_writes: u64,
    pub latency_all: LatencyHist,
    pub latency_alloc: LatencyHist,
    pub latency_free: LatencyHist,
    /// Latency of commands that used no port but the command port (HOT hits, rejects, exit).
    pub latency_hit: LatencyHist,
    /// Commands per path the golden model took (AllocHit, FreeMissPush, FreeInvalid(InHeader), ...).
    pub paths: BTreeMap<String, u64>,
    /// OK allocs and OK frees per size class.
    pub alloc_class: Vec<u64>,
    pub free_class: Vec<u64>,
    /// EXITs taken while objects were still live.
    pub exits_with_live: u64,
    /// Objects live now (allocated, not freed, since the last EXIT).
    #[serde(skip)]
    pub live: u64,
}

/// An answered command as an env saw it.
pub struct Answer {
    pub op: crate::model::object_alloc::Op,
    pub status: crate::model::object_alloc::Status,
    /// Cycles from acceptance to answer.
    pub latency: u64,
    /// The command made header or arena traffic.
    pub traffic: bool,
    /// An allocation served from the HOT.
    pub alloc_hit: bool,
    /// An allocation that refilled an arena from the available list.
    pub refill: bool,
}

impl RunStats {
    /// Counts an answered command: by kind and status, with its latency.
    pub fn count_response(&mut self, a: &Answer) {
        use crate::model::object_alloc::{Op, Status};
        let (lat, ok) = (a.latency, a.status == Status::Ok);
        self.commands += 1;
        self.latency_all.add(lat);
        if !a.traffic {
            self.latency_hit.add(lat);
        }
        match a.op {
            Op::Alloc(_) => {
                self.allocs += 1;
                self.latency_alloc.add(lat);
                if ok {
                    self.allocs_ok += 1;
                    self.alloc_hits += a.alloc_hit as u64;
                    self.arena_refills += a.refill as u64;
                }
            }
            Op::Free(_) => {
                self.frees += 1;
                self.latency_free.add(lat);
                if ok {
                    self.frees_ok += 1;
                    self.free_hits += !a.traffic as u64;
                }
            }
            Op::Exit => self.exits += 1,
            Op::Reserved(_) => self.reserved += 1,
        }
        match a.status {
            Status::Fallback => self.fallbacks += 1,
            Status::Invalid => self.invalid += 1,
            Status::DoubleFree => self.double_frees += 1,
            Status::Ok => {}
        }
    }

    /// Counts an answered command by size class and keeps the live count (for coverage).
    pub fn count_answer(
        &mut self,
        op: crate::model::object_alloc::Op,
        ok: bool,
        class_of_ptr: impl Fn(u64) -> u64,
    ) {
        use crate::model::object_alloc::Op;
        if self.alloc_class.is_empty() {
            self.alloc_class = vec![0; 64];
            self.free_class = vec![0; 64];
        }
        match op {
            Op::Alloc(size) if ok => {
                self.alloc_class[(size.saturating_sub(1) / 8) as usize] += 1;
                self.live += 1;
            }
            Op::Free(ptr) if ok => {
                self.free_class[class_of_ptr(ptr) as usize] += 1;
                self.live -= 1;
            }
            Op::Exit => {
                self.exits_with_live += (self.live > 0) as u64;
                self.live = 0;
            }
            _ => {}
        }
    }

    pub fn merge(&mut self, o: &RunStats) {
        if self.alloc_class.len() < o.alloc_class.len() {
            self.alloc_class.resize(o.alloc_class.len(), 0);
            self.free_class.resize(o.free_class.len(), 0);
        }
        for (a, b) in self.alloc_class.iter_mut().zip(&o.alloc_class) {
            *a += b;
        }
        for (a, b) in self.free_class.iter_mut().zip(&o.free_class) {
            *a += b;
        }
        self.exits_with_live += o.exits_with_live;
        self.commands += o.commands;
        self.cycles += o.cycles;
        self.allocs += o.allocs;
        self.allocs_ok += o.allocs_ok;
        self.alloc_hits += o.alloc_hits;
        self.frees += o.frees;
        self.frees_ok += o.frees_ok;
        self.free_hits += o.free_hits;
        self.fallbacks += o.fallbacks;
        self.invalid += o.invalid;
        self.double_frees += o.double_frees;
        self.exits += o.exits;
        self.reserved += o.reserved;
        self.resets += o.resets;
        self.arena_refills += o.arena_refills;
        self.arena_creations += o.arena_creations;
        self.header_reads += o.header_reads;
        self.header_writes += o.header_writes;
        self.latency_all.merge(&o.latency_all);
        self.latency_alloc.merge(&o.latency_alloc);
        self.latency_free.merge(&o.latency_free);
        self.latency_hit.merge(&o.latency_hit);
        for (k, v) in &o.paths {
            *self.paths.entry(k.clone()).or_default() += v;
        }
    }

    pub fn alloc_hit_rate(&self) -> f64 {
        ratio(self.alloc_hits, self.allocs_ok)
    }

    pub fn free_hit_rate(&self) -> f64 {
        ratio(self.free_hits, self.frees_ok)
    }
}

pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_below_64_and_within_a_32nd_above() {
        for v in 0..EXACT {
            assert_eq!(bucket_of(v), v as usize);
            assert_eq!(bucket_low(v as usize), v);
        }
        let mut last = bucket_of(EXACT - 1);
        for v in (EXACT..1 << 20).chain([u64::MAX / 3, u64::MAX]) {
            let i = bucket_of(v);
            assert!(i >= last, "buckets grow with the value ({v})");
            last = i;
            let (lo, next) = (bucket_low(i), bucket_low(i + 1));
            assert!(
                lo <= v && (v < next || next == u64::MAX),
                "{v} in [{lo}, {next})"
            );
            assert!(next - lo <= lo / 32 + 1, "bucket of {v} is {lo}..{next}");
        }
    }

    #[test]
    fn quantiles_exact_low_and_bounded_high() {
        let mut h = LatencyHist::default();
        for v in [2u64, 2, 3, 5, 63] {
            h.add(v);
        }
        assert_eq!((h.quantile(0.5), h.quantile(1.0), h.max), (3, 63, 63));
        let mut h = LatencyHist::default();
        for v in 1000..2000u64 {
            h.add(v);
        }
        let p50 = h.quantile(0.5);
        assert!((1499..=1499 + 1499 / 32).contains(&p50), "p50 {p50}");
        assert_eq!(h.quantile(1.0), 1999);
        assert!(h.counts().len() < 400, "{} buckets", h.counts().len());
    }
}
