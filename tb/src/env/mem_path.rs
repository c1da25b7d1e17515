//! The memory path below the core in `memento_top`: the last-level cache model, the bypass's
//! cache port on the RTL, and DRAM behind it.
//!
//! Everything the hardware touches in memory goes through the one [`Llc`]: object bytes and
//! header lines from the core, and the page allocator's table entries (a read is answered from
//! the cached line, a write is merged into it, allocating with a fill). A miss queues a fill for
//! the bypass, a dirty victim a writeback. Every fill's data is checked against the architectural
//! memory (the last value written since the frame was mapped, or zero) and, when the bypass model
//! says it was a fresh line, against zero. Every DRAM access is compared with the bypass model,
//! which takes the page allocator's map and reclaim events in the cycles the unit takes them
//! (`memento_top`'s `evt_*` outputs). At the end the cache is flushed, so dead lines cost what
//! they cost.
//!
//! With the bypass off and `dram_zero` clear (the `off` baseline, SPEC section 6) the OS zeroes
//! each mapped page with 64 full-line stores through this cache: 64 dirty zero lines, installed
//! without a fill, written back when evicted.
//!
//! The bypass keeps a record per frame (fresh mask, dead bit) in a region the OS sets up
//! ([`META_BASE`], 16 bytes a frame); its metadata port reads and writes records through this
//! cache too. The region's lines are outside every frame: their fills and writebacks go to DRAM
//! on a channel of their own (the unit would pass them through unchanged, and this way it never
//! waits on itself), and are counted as `meta` traffic.
//!
//! Every DRAM access is counted by the kind of line it moves ([`Kind`]), and an [`Ideal`] ledger
//! follows the cache's requests to count the traffic that no bypass can avoid.

use super::{FastMap, FastSet};
use crate::agents::bypass::{CacheAgent, Counters, DramAgent, EventTap, LineReq, MetaAgent};
use crate::env::llc::{Llc, LlcConfig};
pub use crate::env::traffic::{Ideal, Kind, Traffic};
use crate::env::Dram;
use crate::line::short;
use crate::model::bypass::{BypassCounters, BypassModel, DramAccess, FillSource, MetaAccess};
use crate::model::page_alloc::PageAllocModel;
use crate::scoreboard::{take_expected, Diff};
use memento_sim::{Model, VTable};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Where the OS puts the bypass's records: frame `f`'s is the 16 bytes at `META_BASE + 16 f`
/// (fresh mask little-endian, then a byte whose bit 0 is dead). Above every physical address.
pub const META_BASE: u64 = 1 << 60;

fn record_addr(frame: u64) -> u64 {
    META_BASE + 16 * frame
}

fn is_meta(line: u64) -> bool {
    line >= META_BASE
}

/// The bypass's interfaces, as the memory path drives and watches them.
struct MemPorts {
    cache: CacheAgent,
    dram: DramAgent,
    meta: MetaAgent,
    evt: EventTap,
    cnt: Counters,
}

/// What the memory path did.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct MemStats {
    pub llc_hits: u64,
    pub llc_misses: u64,
    pub fills_checked: u64,
    pub bypass: BypassCounters,
    pub evictions_with_fresh: u64,
    /// Cycles in which a map or reclaim event met a cache request at the bypass's ports (the
    /// bypass harness's overlapping phases).
    pub events_meeting_requests: u64,
    /// Table reads answered from the cache.
    pub table_reads: u64,
    /// Table writes merged into the cache.
    pub table_writes: u64,
    /// Records the bypass read and wrote on its metadata port.
    pub record_reads: u64,
    pub record_writes: u64,
    /// DRAM traffic of the run by kind.
    pub traffic: Traffic,
    /// What no bypass could have avoided of this run's cache traffic.
    pub ideal: Traffic,
}

/// A table read waiting for its line: answered once the line is cached and `due` has come.
struct TableRead {
    line: u64,
    word: usize,
    /// The entry's value in the architectural table when the read was made.
    want: u64,
    due: u64,
}

/// A write of part of a line not cached: merged into the line when its fill arrives.
struct Merge {
    off: usize,
    old: Vec<u8>,
    new: Vec<u8>,
}

/// A record read waiting for its line, answered no earlier than `due`.
struct RecordRead {
    frame: u64,
    /// The record the bypass model says memory holds.
    want: (u64, bool),
    due: u64,
}

fn record_bytes(fresh: u64, dead: bool) -> Vec<u8> {
    let mut b = fresh.to_le_bytes().to_vec();
    b.push(dead as u8);
    b
}

pub struct MemPath {
    ports: MemPorts,
    llc: Llc,
    dram: Dram,
    model: BypassModel,
    /// The kind of each DRAM access `model.expected_dram` holds, in the same order.
    expected_kinds: VecDeque<Kind>,
    /// The kind of each line the cache has seen.
    kinds: FastMap<u64, Kind>,
    ideal: Ideal,
    /// The OS zeroes mapped pages through this cache (the `off` baseline).
    os_zero: bool,
    /// Requests for the bypass's cache port: (write, line address, data, kind).
    out: VecDeque<(bool, u64, [u8; 64], Kind)>,
    pending: FastSet<u64>,
    merges: FastMap<u64, Vec<Merge>>,
    table_reads: VecDeque<TableRead>,
    /// The record read in flight, and what the metadata port offers this cycle.
    record_read: Option<RecordRead>,
    record_offer: Option<(u64, bool)>,
    /// The record region's lines in DRAM (zero until written), and their fills in flight:
    /// (line, due cycle).
    meta_mem: FastMap<u64, [u8; 64]>,
    meta_fills: VecDeque<(u64, u64)>,
    /// Latency of a cache hit on the metadata port, uniform in this range.
    pub meta_latency: (u64, u64),
    /// The cycle being driven.
    now: u64,
    fill_inflight: Option<(u64, FillSource)>,
    /// DRAM read latency in cycles, uniform in this range.
    pub dram_latency: (u64, u64),
    /// The bypass's counter width (`CNT_BITS`).
    cnt_bits: u32,
    pub stats: MemStats,
}

fn line_of(pa: u64) -> u64 {
    pa & !63
}

impl MemPath {
    /// The memory path of `vt`, if the design has the bypass's ports; every port refuses or
    /// holds back a transfer in a cycle with chance `stall`.
    pub fn of(
        vt: &VTable,
        params: &memento_hw::Params,
        llc: LlcConfig,
        seed: u64,
        stall: f64,
    ) -> Option<Self> {
        let ports = MemPorts {
            cache: CacheAgent::of(vt, stall)?,
            dram: DramAgent::of(vt, stall, stall),
            meta: MetaAgent::of(vt, stall, stall),
            evt: EventTap::of(vt),
            cnt: Counters::of(vt),
        };
        Some(MemPath {
            ports,
            llc: Llc::new(llc),
            dram: Dram::new(seed),
            model: BypassModel::new(params),
            expected_kinds: VecDeque::new(),
            kinds: FastMap::default(),
            ideal: Ideal::default(),
            os_zero: !params.bypass_on && !params.dram_zero,
            out: VecDeque::new(),
            pending: FastSet::default(),
            merges: FastMap::default(),
            table_reads: VecDeque::new(),
            record_read: None,
            record_offer: None,
            meta_mem: FastMap::default(),
            meta_fills: VecDeque::new(),
            meta_latency: (10, 10),
            now: 0,
            fill_inflight: None,
            dram_latency: (20, 100),
            cnt_bits: params.cnt_bits,
            stats: MemStats::default(),
        })
    }

    /// The OS set up `frame` as a zeroed table before the run (the page-table root).
    pub fn os_table(&mut self, frame: u64) {
        for l in 0..64 {
            self.dram.preload((frame << 12) | (l << 6), [0; 64]);
            self.kinds.insert((frame << 12) | (l << 6), Kind::Table);
        }
    }

    fn kind_of(&self, line: u64) -> Kind {
        self.kinds.get(&line).copied().unwrap_or(Kind::Data)
    }

    /// Queues a fill of `line` unless one is on its way (a record line's on its own channel).
    fn miss(&mut self, line: u64) {
        if self.pending.insert(line) {
            self.stats.llc_misses += 1;
            if is_meta(line) {
                let (lo, hi) = self.dram_latency;
                self.meta_fills
                    .push_back((line, self.now + lo + (hi - lo) / 2));
            } else {
                self.out
                    .push_back((false, line, [0; 64], self.kind_of(line)));
            }
        }
    }

    /// A dirty line leaves the cache: a writeback at the bypass, or a record line to DRAM.
    fn write_back(&mut self, a: u64, d: [u8; 64]) {
        if is_meta(a) {
            self.stats.traffic.write(Kind::Meta);
            self.meta_mem.insert(a, d);
        } else {
            self.out.push_back((true, a, d, self.kind_of(a)));
        }
    }

    /// Installs a line; a dirty victim is written back.
    fn install(&mut self, line: u64, data: [u8; 64], dirty: bool) {
        if let Some((a, d)) = self.llc.install(line, data, dirty) {
            self.write_back(a, d);
        }
    }

    /// Installs a fetched line with the writes that waited for it merged in.
    fn install_merged(&mut self, line: u64, data: [u8; 64], merges: &[Merge]) {
        let mut l = data;
        for m in merges {
            l[m.off..m.off + m.new.len()].copy_from_slice(&m.new);
        }
        self.pending.remove(&line);
        self.install(line, l, !merges.is_empty());
    }

    /// Writes `new` over `old` at byte `off` of `line`: into the cached line, or merged into it
    /// when its fill arrives.
    fn store(&mut self, line: u64, off: usize, old: Vec<u8>, new: Vec<u8>) {
        if self.llc.contains(line) {
            self.write(line, off, &new);
        } else {
            self.miss(line);
            self.merges
                .entry(line)
                .or_default()
                .push(Merge { off, old, new });
        }
    }

    /// The line is in the cache; if not, a fill is queued. `kind` is what the access is for.
    pub fn present(&mut self, line: u64, kind: Kind) -> bool {
        self.kinds.insert(line, kind);
        if self.llc.contains(line) {
            return true;
        }
        self.miss(line);
        false
    }

    /// A cached line's data (an access).
    pub fn read(&mut self, line: u64) -> [u8; 64] {
        *self.llc.access(line).expect("present")
    }

    /// Writes bytes into a cached line.
    pub fn write(&mut self, line: u64, off: usize, data: &[u8]) {
        self.llc.access(line).expect("present")[off..off + data.len()].copy_from_slice(data);
        self.llc.set_dirty(line);
    }

    /// Writes a whole line (no fill needed).
    pub fn write_line(&mut self, line: u64, data: [u8; 64], kind: Kind) {
        self.kinds.insert(line, kind);
        self.install(line, data, true);
    }

    /// The page allocator reads the table entry at `pa`, whose value in the architectural table
    /// is `want`; it is answered from the cached line no earlier than cycle `due`.
    pub fn table_read(&mut self, pa: u64, want: u64, due: u64) {
        let line = line_of(pa);
        self.kinds.insert(line, Kind::Table);
        if !self.llc.contains(line) {
            self.miss(line);
        }
        self.table_reads.push_back(TableRead {
            line,
            word: (pa & 63) as usize,
            want,
            due,
        });
    }

    /// The page allocator writes `new` over `old` at `pa`: merged into the cached line, or into
    /// the line when its fill arrives.
    pub fn table_write(&mut self, pa: u64, old: u64, new: u64) {
        self.stats.table_writes += 1;
        let (line, off) = (line_of(pa), (pa & 63) as usize);
        self.kinds.insert(line, Kind::Table);
        self.store(
            line,
            off,
            old.to_le_bytes().to_vec(),
            new.to_le_bytes().to_vec(),
        );
    }

    /// The answer to the oldest table read, if it can be given in `cycle`.
    pub fn table_answer(&mut self, cycle: u64) -> Result<Option<u64>, Diff> {
        let Some(r) = self.table_reads.front() else {
            return Ok(None);
        };
        let line = r.line;
        let Some(data) = self.llc.peek(line) else {
            // Evicted since it came in: fetch it again.
            self.miss(line);
            return Ok(None);
        };
        if r.due > cycle {
            return Ok(None);
        }
        let got = u64::from_le_bytes(data[r.word..r.word + 8].try_into().unwrap());
        if got != r.want {
            return Err((
                format!(
                    "table entry {:x} read from the cache",
                    r.line + r.word as u64
                ),
                format!("{:x}", r.want),
                format!("{got:x}"),
            ));
        }
        Ok(Some(got))
    }

    /// The page allocator took the oldest table read's answer.
    pub fn table_answered(&mut self) {
        let r = self.table_reads.pop_front().expect("a table read answered");
        self.stats.table_reads += 1;
        self.llc.access(r.line);
    }

    /// Table reads not yet answered.
    pub fn table_reads_waiting(&self) -> usize {
        self.table_reads.len()
    }

    /// The page allocator mapped `frame` (its table entry was written): its cached lines, and
    /// writebacks still queued for it, are dead. In the `off` baseline the OS then zeroes it
    /// through the cache.
    pub fn frame_mapped(&mut self, frame: u64) {
        self.llc.drop_frame(frame);
        self.out.retain(|(w, a, _, _)| !(*w && a >> 12 == frame));
        if self.os_zero {
            for l in 0..64 {
                self.write_line((frame << 12) | (l << 6), [0; 64], Kind::Zeroing);
            }
        }
    }

    /// Writes every dirty line back (the end of a run).
    pub fn flush(&mut self) {
        for (a, d) in self.llc.flush() {
            self.write_back(a, d);
        }
    }

    /// Nothing queued, in flight or expected.
    pub fn idle(&self) -> bool {
        self.out.is_empty()
            && self.fill_inflight.is_none()
            && self.model.expected_dram.is_empty()
            && self.table_reads.is_empty()
            && self.model.expected_meta.is_empty()
            && self.record_read.is_none()
            && self.meta_fills.is_empty()
    }

    /// Idle, and the bypass has finished its last request: it takes a new one (`mem_req_ready`
    /// is high only in its `Idle` state), so its counters are final.
    pub fn settled(&self, dut: &mut Model) -> bool {
        self.idle() && self.ports.cache.ready(dut)
    }

    /// Tags the DRAM accesses the model added since it held `before` with `kind`.
    fn tag(&mut self, before: usize, kind: Kind) {
        for _ in before..self.model.expected_dram.len() {
            self.expected_kinds.push_back(kind);
        }
    }

    /// The event the bypass takes in this cycle, if any, into the bypass model and the ledger.
    fn event(&mut self, dut: &mut Model, hpa: &mut PageAllocModel) -> Result<bool, Diff> {
        let Some(got) = self.ports.evt.taken(dut)? else {
            return Ok(false);
        };
        let show = |(map, f): (bool, u64)| format!("{} {f:x}", if map { "map" } else { "dead" });
        match hpa.bypass_events.pop_front() {
            Some(e) if e == got => {}
            e => {
                return Err((
                    "event taken by the bypass differs".into(),
                    e.map_or("no event".into(), show),
                    show(got),
                ))
            }
        }
        let before = self.model.expected_dram.len();
        if got.0 {
            self.model.map(got.1);
            self.ideal.map(got.1);
        } else {
            self.model.dead(got.1);
            self.ideal.dead(got.1);
        }
        self.tag(before, Kind::Zeroing);
        Ok(true)
    }

    /// Drives this cycle's inputs of the cache, DRAM and metadata ports (before `settle`).
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, cycle: u64) {
        let req = self
            .out
            .front()
            .filter(|_| self.fill_inflight.is_none())
            .map(|&(write, addr, data, _)| LineReq { write, addr, data });
        let p = &mut self.ports;
        p.cache.drive_req(dut, rng, req);
        p.cache.drive_rsp(dut, rng);
        p.dram.drive_req(dut, rng);
        p.dram.drive_rsp(dut, rng, self.dram.due(cycle));
        self.now = cycle;
        self.ports.meta.drive_req(dut, rng);
        let due = self.record_answer(cycle);
        self.record_offer = self.ports.meta.drive_rsp(dut, rng, due);
        self.meta_fills_due(cycle);
    }

    /// Record lines whose fills are due come in from DRAM (the metadata channel).
    fn meta_fills_due(&mut self, cycle: u64) {
        while let Some(&(line, due)) = self.meta_fills.front() {
            if due > cycle {
                break;
            }
            self.meta_fills.pop_front();
            self.stats.traffic.read(Kind::Meta);
            let data = self.meta_mem.get(&line).copied().unwrap_or([0; 64]);
            let merges = self.merges.remove(&line).unwrap_or_default();
            self.install_merged(line, data, &merges);
        }
    }

    /// The record the metadata port can answer with in `cycle`, if its line is in and it is due.
    fn record_answer(&mut self, cycle: u64) -> Option<(u64, bool)> {
        let r = self.record_read.as_ref()?;
        let (addr, due) = (record_addr(r.frame), r.due);
        let Some(data) = self.llc.peek(line_of(addr)) else {
            self.miss(line_of(addr));
            return None;
        };
        if due > cycle {
            return None;
        }
        let off = (addr & 63) as usize;
        let fresh = u64::from_le_bytes(data[off..off + 8].try_into().unwrap());
        Some((fresh, data[off + 8] & 1 == 1))
    }

    /// The metadata port's handshakes in this cycle, against the bypass model.
    fn record_access(&mut self, dut: &mut Model, cycle: u64) -> Result<bool, Diff> {
        let mut progress = false;
        if self.ports.meta.answered(dut) {
            let r = self.record_read.take().expect("a record read answered");
            let got = self.record_offer.expect("offered");
            if got != r.want {
                return Err((
                    format!("record of frame {:x} read through the cache", r.frame),
                    format!("{:?}", r.want),
                    format!("{got:?}"),
                ));
            }
            self.llc.access(line_of(record_addr(r.frame)));
            progress = true;
        }
        let Some(got) = self.ports.meta.request(dut) else {
            return Ok(progress);
        };
        let f = got.frame();
        take_expected(&mut self.model.expected_meta, &got)
            .map_err(|(e, g)| ("metadata access differs".to_string(), e, g))?;
        let addr = record_addr(f);
        let (line, off) = (line_of(addr), (addr & 63) as usize);
        self.kinds.insert(line, Kind::Meta);
        match got {
            MetaAccess::Write(_, fresh, dead) => {
                self.stats.record_writes += 1;
                // (A record line's fill is not checked against anything, so the bytes it
                // held before the write do not matter.)
                let new = record_bytes(fresh, dead);
                self.store(line, off, new.clone(), new);
            }
            MetaAccess::Read(_) => {
                self.stats.record_reads += 1;
                if !self.llc.contains(line) {
                    self.miss(line);
                }
                let (lo, hi) = self.meta_latency;
                self.record_read = Some(RecordRead {
                    frame: f,
                    want: self.model.record(f),
                    due: cycle + lo + (hi - lo) / 2,
                });
            }
        }
        Ok(true)
    }

    /// The cache's request the bypass takes in this cycle, if any.
    fn request(&mut self, dut: &mut Model) -> bool {
        if !self.ports.cache.taken(dut) {
            return false;
        }
        let (write, addr, data, kind) = self.out.pop_front().unwrap();
        let before = self.model.expected_dram.len();
        if write {
            self.model.writeback(addr, data);
            self.ideal.writeback(addr, kind);
        } else {
            let src = self.model.fill(addr);
            self.ideal.fill(addr, kind);
            self.fill_inflight = Some((addr, src));
        }
        self.tag(before, kind);
        true
    }

    /// The DRAM access the unit makes in this cycle, against the model's next one.
    fn dram_access(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        cycle: u64,
    ) -> Result<bool, Diff> {
        let Some(got) = self.ports.dram.request(dut) else {
            return Ok(false);
        };
        take_expected(&mut self.model.expected_dram, &got)
            .map_err(|(e, g)| ("DRAM access differs".to_string(), e, g))?;
        let kind = self.expected_kinds.pop_front().expect("a kind per access");
        match got {
            DramAccess::Write(a, d) => {
                self.stats.traffic.write(kind);
                self.dram.write(a, d)
            }
            DramAccess::Read(a) => {
                self.stats.traffic.read(kind);
                let (lo, hi) = self.dram_latency;
                self.dram.start_read(a, cycle + rng.gen_range(lo..=hi))
            }
        }
        Ok(true)
    }

    /// A fill answered in this cycle: checked, installed, and the table writes that waited for
    /// it merged in. `arch` gives the line's architectural value now.
    fn fill_answer(
        &mut self,
        dut: &mut Model,
        arch: &dyn Fn(u64) -> [u8; 64],
    ) -> Result<bool, Diff> {
        let Some(got) = self.ports.cache.fill(dut) else {
            return Ok(false);
        };
        let Some((addr, src)) = self.fill_inflight.take() else {
            return Err((
                "fill answer with no fill outstanding".into(),
                "none".into(),
                short(&got),
            ));
        };
        if src == FillSource::Zero && got != [0; 64] {
            return Err((
                format!("bypassed fill of {addr:x} is not zero"),
                "zero line".into(),
                short(&got),
            ));
        }
        // What the line held before the table writes that wait for it.
        let merges = self.merges.remove(&addr).unwrap_or_default();
        let mut want = arch(addr);
        for m in merges.iter().rev() {
            want[m.off..m.off + m.old.len()].copy_from_slice(&m.old);
        }
        if got != want {
            return Err((
                format!("fill of {addr:x} breaks the guarantee (last write since mapped, or zero)"),
                short(&want),
                short(&got),
            ));
        }
        self.stats.fills_checked += 1;
        self.install_merged(addr, got, &merges);
        Ok(true)
    }

    /// This cycle's handshakes (after `settle`). `arch` gives the value the program last wrote to a
    /// line since its frame was mapped (zero if none).
    pub fn observe(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        cycle: u64,
        hpa: &mut PageAllocModel,
        arch: &dyn Fn(u64) -> [u8; 64],
    ) -> Result<bool, Diff> {
        let mut progress = self.event(dut, hpa)?;
        progress |= self.record_access(dut, cycle)?;
        progress |= self.request(dut);
        progress |= self.dram_access(dut, rng, cycle)?;
        if self.ports.dram.answered(dut) {
            self.dram.pop_read();
        }
        progress |= self.fill_answer(dut, arch)?;
        Ok(progress)
    }

    /// At the end: the hardware's counters against the model's and the DRAM's.
    pub fn finish(&mut self, dut: &mut Model, hpa: &mut PageAllocModel) -> Result<MemStats, Diff> {
        if let Some(&(map, f)) = hpa.bypass_events.front() {
            return Err((
                "events the bypass never took".into(),
                "none".into(),
                format!(
                    "{} events, the first {} {f:x}",
                    hpa.bypass_events.len(),
                    if map { "map" } else { "dead" }
                ),
            ));
        }
        let got = self.ports.cnt.read(dut);
        let expected = self.model.counters.wrapped(self.cnt_bits);
        let (reads, writes) = (self.dram.reads_done, self.dram.writes_done);
        if !self
            .model
            .counters
            .shown_as(&got, reads, writes, self.cnt_bits)
        {
            return Err((
                format!("bypass counters differ ({}-bit counters)", self.cnt_bits),
                format!("{expected:?}"),
                format!("{got:?}"),
            ));
        }
        self.stats.llc_hits = self.llc.hits;
        self.stats.evictions_with_fresh = self.model.evictions_with_fresh;
        self.stats.bypass = self.model.counters.clone();
        self.stats.ideal = self.ideal.traffic.clone();
        Ok(self.stats.clone())
    }
}
