//! Environment models around the object allocator: header memory with random latency and
//! stalls, and the new-arena responder that stands in for the page allocator.

use crate::seed;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, VecDeque};

/// Timing of the environment, in cycles and probabilities.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EnvTiming {
    /// Header read latency: uniform in `hdr_lat_min..=hdr_lat_max` cycles from request to data.
    pub hdr_lat_min: u64,
    pub hdr_lat_max: u64,
    /// Probability that the header port refuses a request in a cycle.
    pub hdr_stall: f64,
    /// Probability that the header read data is held back one more cycle when due.
    pub hdr_rsp_stall: f64,
    /// New-arena answer delay, uniform in `arena_lat_min..=arena_lat_max` (an empty pool is a
    /// long delay).
    pub arena_lat_min: u64,
    pub arena_lat_max: u64,
    pub arena_stall: f64,
    /// Probability that the core does not take a response in a cycle.
    pub rsp_stall: f64,
    /// Probability that the core has no command ready in a cycle (a bubble).
    pub cmd_bubble: f64,
}

impl EnvTiming {
    /// Random stalls on every port at once.
    pub fn stressed() -> Self {
        EnvTiming {
            hdr_lat_min: 1,
            hdr_lat_max: 12,
            hdr_stall: 0.3,
            hdr_rsp_stall: 0.2,
            arena_lat_min: 1,
            arena_lat_max: 60,
            arena_stall: 0.3,
            rsp_stall: 0.25,
            cmd_bubble: 0.2,
        }
    }

    /// No stalls: the header port answers in a fixed number of cycles, the core never waits.
    pub fn fixed(hdr_latency: u64, arena_latency: u64) -> Self {
        EnvTiming {
            hdr_lat_min: hdr_latency,
            hdr_lat_max: hdr_latency,
            hdr_stall: 0.0,
            hdr_rsp_stall: 0.0,
            arena_lat_min: arena_latency,
            arena_lat_max: arena_latency,
            arena_stall: 0.0,
            rsp_stall: 0.0,
            cmd_bubble: 0.0,
        }
    }
}

/// Read data in flight: each entry is due at a cycle, in request order.
pub struct ReadPipe<T> {
    reads: VecDeque<(u64, T)>,
}

impl<T> Default for ReadPipe<T> {
    fn default() -> Self {
        ReadPipe {
            reads: VecDeque::new(),
        }
    }
}

impl<T> ReadPipe<T> {
    pub fn push(&mut self, due: u64, data: T) {
        self.reads.push_back((due, data));
    }

    /// The oldest read's data, once it is due at `cycle`.
    pub fn due(&self, cycle: u64) -> Option<&T> {
        self.reads
            .front()
            .filter(|(d, _)| *d <= cycle)
            .map(|(_, data)| data)
    }

    pub fn pop(&mut self) {
        self.reads.pop_front();
    }

    pub fn len(&self) -> usize {
        self.reads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reads.is_empty()
    }
}

/// Header memory: sparse 64-byte lines, zero where never written, with a read pipeline.
#[derive(Default)]
pub struct HeaderMemory {
    lines: HashMap<u64, [u32; 16]>,
    reads: ReadPipe<[u32; 16]>,
}

impl HeaderMemory {
    pub fn read_now(&self, va: u64) -> [u32; 16] {
        self.lines.get(&va).copied().unwrap_or([0; 16])
    }

    pub fn write(&mut self, va: u64, line: [u32; 16]) {
        self.lines.insert(va, line);
    }

    /// Queues a read whose data is due at `due`.
    pub fn start_read(&mut self, va: u64, due: u64) {
        let data = self.read_now(va);
        self.start_read_data(data, due);
    }

    /// Queues read data that another memory supplied.
    pub fn start_read_data(&mut self, data: [u32; 16], due: u64) {
        self.reads.push(due, data);
    }

    /// The read data due at `cycle`, if any.
    pub fn due(&self, cycle: u64) -> Option<&[u32; 16]> {
        self.reads.due(cycle)
    }

    pub fn pop_read(&mut self) {
        self.reads.pop();
    }

    pub fn reads_in_flight(&self) -> usize {
        self.reads.len()
    }

    /// A freshly mapped page reads as zero.
    pub fn zero_page(&mut self, va: u64, page: u64) {
        let base = va & !(page - 1);
        self.lines.retain(|&a, _| a < base || a >= base + page);
    }

    /// Every page of the region is reclaimed at exit.
    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

/// The new-arena responder: answers each request after a delay.
#[derive(Default)]
pub struct ArenaResponder {
    pending: ReadPipe<()>,
}

impl ArenaResponder {
    pub fn request(&mut self, due: u64) {
        self.pending.push(due, ());
    }

    pub fn due(&self, cycle: u64) -> bool {
        self.pending.due(cycle).is_some()
    }

    pub fn pop(&mut self) {
        self.pending.pop();
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}

pub fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    p > 0.0 && rng.gen::<f64>() < p
}

/// Physical memory as the page allocator's table port sees it: 8-byte entries, zero where never
/// written, with a read pipeline. A frame that a table entry starts pointing at reads as zero
/// from then on, as the bypass guarantees for a freshly mapped frame.
#[derive(Default)]
pub struct TableMemory {
    frames: HashMap<u64, Box<[u64; 512]>>,
    reads: ReadPipe<u64>,
}

impl TableMemory {
    pub fn read_now(&self, pa: u64) -> u64 {
        self.frames
            .get(&(pa >> 12))
            .map_or(0, |f| f[((pa >> 3) & 511) as usize])
    }

    /// The 64 bytes of the table line at `line`, if its frame holds a table (entries little-endian).
    pub fn line_bytes(&self, line: u64) -> Option<[u8; 64]> {
        let f = self.frames.get(&(line >> 12))?;
        let first = ((line >> 3) & 511) as usize & !7;
        let mut out = [0u8; 64];
        for (k, w) in f[first..first + 8].iter().enumerate() {
            out[8 * k..8 * k + 8].copy_from_slice(&w.to_le_bytes());
        }
        Some(out)
    }

    pub fn write(&mut self, pa: u64, value: u64) {
        self.frames
            .entry(pa >> 12)
            .or_insert_with(|| Box::new([0; 512]))[((pa >> 3) & 511) as usize] = value;
        if value & 1 == 1 {
            self.frames.remove(&((value >> 12) & ((1 << 40) - 1)));
        }
    }

    pub fn start_read(&mut self, pa: u64, due: u64) {
        let v = self.read_now(pa);
        self.reads.push(due, v);
    }

    pub fn due(&self, cycle: u64) -> Option<u64> {
        self.reads.due(cycle).copied()
    }

    pub fn pop_read(&mut self) {
        self.reads.pop();
    }

    pub fn reads_in_flight(&self) -> usize {
        self.reads.len()
    }
}

/// The pool's promise at its ports: a count below LOW with no frame owed has a refill request
/// up. The request is a register, so it shows the cycle after the count falls below LOW, or after
/// a LOW is written; from then on every cycle is checked, so a request raised a cycle late fails.
pub struct RefillWatch {
    low: u64,
    /// The first cycle (`Model::cycle`) the check applies to.
    from: u64,
}

impl RefillWatch {
    /// LOW is `low` as of cycle `now` (after reset and configuration, before the first check).
    pub fn new(low: u64, now: u64) -> Self {
        RefillWatch { low, from: now }
    }

    /// LOW was written in the cycle before `now`.
    pub fn set_low(&mut self, low: u64, now: u64) {
        self.low = low;
        self.from = now + 1;
    }

    /// Checks one cycle's settled ports; the error is (what, expected, got).
    pub fn check(
        &self,
        now: u64,
        count: u64,
        requesting: bool,
        owed: u64,
    ) -> Result<(), (String, String, String)> {
        if now < self.from || count >= self.low || requesting || owed > 0 {
            return Ok(());
        }
        Err((
            "no refill request below LOW".into(),
            format!(
                "refill_req_valid: {count} frames in the pool, LOW {}, nothing owed",
                self.low
            ),
            "no request".into(),
        ))
    }
}

/// The OS side of the page pool: answers a refill request after a latency, then delivers the
/// frames it owes one at a time with gaps between them; takes drained frames back and hands them
/// out again later.
pub struct OsSupply {
    next_new: u64,
    free: VecDeque<u64>,
    owed: u64,
    next_due: u64,
    timing: OsTiming,
    pub given: u64,
    pub taken_back: u64,
}

/// Cycles from a refill request to its first frame, and between frames (uniform ranges).
#[derive(Clone, Debug, serde::Serialize)]
pub struct OsTiming {
    pub latency_min: u64,
    pub latency_max: u64,
    pub gap_min: u64,
    pub gap_max: u64,
}

impl OsSupply {
    pub fn new(first_frame: u64, timing: OsTiming) -> Self {
        OsSupply {
            next_new: first_frame,
            free: VecDeque::new(),
            owed: 0,
            next_due: 0,
            timing,
            given: 0,
            taken_back: 0,
        }
    }

    pub fn request(&mut self, count: u64, cycle: u64, rng: &mut ChaCha8Rng) {
        self.owed += count;
        self.next_due = cycle + rng.gen_range(self.timing.latency_min..=self.timing.latency_max);
    }

    /// The frame on offer this cycle, if one is due.
    pub fn offer(&mut self, cycle: u64) -> Option<u64> {
        if self.owed == 0 || cycle < self.next_due {
            return None;
        }
        Some(*self.free.front().unwrap_or(&self.next_new))
    }

    /// The offered frame was taken.
    pub fn delivered(&mut self, cycle: u64, rng: &mut ChaCha8Rng) {
        if self.free.pop_front().is_none() {
            self.next_new += 1;
        }
        self.owed -= 1;
        self.given += 1;
        self.next_due = cycle + rng.gen_range(self.timing.gap_min..=self.timing.gap_max);
    }

    pub fn owed(&self) -> u64 {
        self.owed
    }

    /// A drained frame comes back and will be handed out again.
    pub fn take_back(&mut self, frame: u64) {
        self.free.push_back(frame);
        self.taken_back += 1;
    }
}

/// DRAM with latency and stalls that keeps real contents. A line never written reads as stale
/// garbage derived from the seed.
pub struct Dram {
    lines: HashMap<u64, [u8; 64]>,
    stale: u64,
    reads: ReadPipe<[u8; 64]>,
    pub reads_done: u64,
    pub writes_done: u64,
}

impl Dram {
    pub fn new(seed: u64) -> Self {
        Dram {
            lines: HashMap::new(),
            stale: seed::mix(seed ^ 0xd7a),
            reads: ReadPipe::default(),
            reads_done: 0,
            writes_done: 0,
        }
    }

    pub fn read_now(&self, addr: u64) -> [u8; 64] {
        self.lines.get(&addr).copied().unwrap_or_else(|| {
            std::array::from_fn(|i| {
                (seed::mix(self.stale ^ addr ^ (i as u64 / 8)) >> (8 * (i % 8))) as u8
            })
        })
    }

    pub fn write(&mut self, addr: u64, data: [u8; 64]) {
        self.lines.insert(addr, data);
        self.writes_done += 1;
    }

    /// What memory holds before the run starts (the OS's own setup; not an access).
    pub fn preload(&mut self, addr: u64, data: [u8; 64]) {
        self.lines.insert(addr, data);
    }

    pub fn start_read(&mut self, addr: u64, due: u64) {
        let d = self.read_now(addr);
        self.reads.push(due, d);
        self.reads_done += 1;
    }

    pub fn due(&self, cycle: u64) -> Option<[u8; 64]> {
        self.reads.due(cycle).copied()
    }

    pub fn pop_read(&mut self) {
        self.reads.pop();
    }
}
