//! The memory path below the core in `memento_top`: the last-level cache model, the bypass's
//! cache port on the RTL, and DRAM behind it.
//!
//! The core's accesses (object bytes, header lines) go through the [`Llc`]. A miss queues a fill
//! for the bypass, a dirty victim a writeback. Every fill's data is checked against the
//! architectural memory (the last value the program wrote since the frame was mapped, or zero) and,
//! when the bypass model says it was a fresh line, against zero. Every DRAM access is compared with
//! the bypass model, which takes the page allocator's map and reclaim events in the order they
//! happened. At the end the cache is flushed, so dead lines cost what they cost. The cache holds
//! its requests while the page allocator has table work outstanding, so that the order of the
//! allocator's events and the cache's requests at the bypass is plain.

use crate::env::{chance, Dram};
use crate::line::{bytes, short, words};
use crate::llc::{Llc, LlcConfig};
use crate::model::bypass::{BypassCounters, BypassModel, DramAccess, FillSource};
use crate::model::page_alloc::PageAllocModel;
use memento_sim::{Model, Port, VTable};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashSet, VecDeque};

struct MemPorts {
    req_valid: Port,
    req_ready: Port,
    req_write: Port,
    req_addr: Port,
    req_wdata: Port,
    rsp_valid: Port,
    rsp_ready: Port,
    rsp_rdata: Port,
    dram_req_valid: Port,
    dram_req_ready: Port,
    dram_req_write: Port,
    dram_req_addr: Port,
    dram_req_wdata: Port,
    dram_rsp_valid: Port,
    dram_rsp_ready: Port,
    dram_rsp_rdata: Port,
    cnt: [Port; 5],
}

/// What the memory path did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MemStats {
    pub llc_hits: u64,
    pub llc_misses: u64,
    pub fills_checked: u64,
    pub bypass: BypassCounters,
    pub evictions_with_fresh: u64,
    /// Cycles in which a map or reclaim event met a cache request at the bypass's ports (the
    /// bypass harness's overlapping phases).
    pub events_meeting_requests: u64,
}

pub struct MemPath {
    ports: MemPorts,
    llc: Llc,
    dram: Dram,
    model: BypassModel,
    /// Requests for the bypass's cache port: (write, line address, data).
    out: VecDeque<(bool, u64, [u8; 64])>,
    pending: HashSet<u64>,
    fill_inflight: Option<(u64, FillSource)>,
    dram_data: Option<[u8; 64]>,
    ready: (bool, bool, bool),
    /// DRAM read latency in cycles, uniform in this range.
    pub dram_latency: (u64, u64),
    /// The bypass's counter width (`CNT_BITS`).
    cnt_bits: u32,
    pub stats: MemStats,
}

/// (what, expected, got) of a difference.
pub type Diff = (String, String, String);

impl MemPath {
    /// The memory path of `vt`, if the design has the bypass's ports.
    pub fn of(vt: &VTable, params: &memento_hw::Params, seed: u64) -> Option<Self> {
        let port = |n: &str| vt.port(n);
        let ports = MemPorts {
            req_valid: port("mem_req_valid")?,
            req_ready: port("mem_req_ready")?,
            req_write: port("mem_req_write")?,
            req_addr: port("mem_req_addr")?,
            req_wdata: port("mem_req_wdata")?,
            rsp_valid: port("mem_rsp_valid")?,
            rsp_ready: port("mem_rsp_ready")?,
            rsp_rdata: port("mem_rsp_rdata")?,
            dram_req_valid: port("dram_req_valid")?,
            dram_req_ready: port("dram_req_ready")?,
            dram_req_write: port("dram_req_write")?,
            dram_req_addr: port("dram_req_addr")?,
            dram_req_wdata: port("dram_req_wdata")?,
            dram_rsp_valid: port("dram_rsp_valid")?,
            dram_rsp_ready: port("dram_rsp_ready")?,
            dram_rsp_rdata: port("dram_rsp_rdata")?,
            cnt: [
                port("cnt_reads_bypassed")?,
                port("cnt_writebacks_dropped")?,
                port("cnt_zero_lines")?,
                port("cnt_dram_reads")?,
                port("cnt_dram_writes")?,
            ],
        };
        Some(MemPath {
            ports,
            llc: Llc::new(LlcConfig::default()),
            dram: Dram::new(seed),
            model: BypassModel::new(params),
            out: VecDeque::new(),
            pending: HashSet::new(),
            fill_inflight: None,
            dram_data: None,
            ready: (false, false, false),
            dram_latency: (20, 100),
            cnt_bits: params.cnt_bits,
            stats: MemStats::default(),
        })
    }

    /// The line is in the cache; if not, a fill is queued.
    pub fn present(&mut self, line: u64) -> bool {
        if self.llc.contains(line) {
            return true;
        }
        if self.pending.insert(line) {
            self.stats.llc_misses += 1;
            self.out.push_back((false, line, [0; 64]));
        }
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
    pub fn write_line(&mut self, line: u64, data: [u8; 64]) {
        if let Some((a, d)) = self.llc.install(line, data, true) {
            self.out.push_back((true, a, d));
        }
    }

    /// The page allocator mapped `frame`: its cached lines, and writebacks still queued for it,
    /// are dead.
    pub fn frame_mapped(&mut self, frame: u64) {
        self.llc.drop_frame(frame);
        self.out.retain(|(w, a, _)| !(*w && a >> 12 == frame));
    }

    /// Writes every dirty line back (the end of a run).
    pub fn flush(&mut self) {
        for (a, d) in self.llc.flush() {
            self.out.push_back((true, a, d));
        }
    }

    /// Nothing queued, in flight or expected.
    pub fn idle(&self) -> bool {
        self.out.is_empty() && self.fill_inflight.is_none() && self.model.expected_dram.is_empty()
    }

    /// Idle, and the bypass has finished its last request: it takes a new one (`mem_req_ready`
    /// is high only in its `Idle` state), so its counters are final.
    pub fn settled(&self, dut: &mut Model) -> bool {
        self.idle() && dut.peek(self.ports.req_ready) == 1
    }

    /// The page allocator's events so far, into the bypass model, in order.
    fn catch_up(&mut self, hpa: &mut PageAllocModel) {
        while let Some((map, f)) = hpa.bypass_events.pop_front() {
            if map {
                self.model.map(f);
            } else {
                self.model.dead(f);
            }
        }
    }

    /// Drives this cycle's inputs of the cache and DRAM ports (before `settle`). With `hold`, the
    /// cache offers nothing: the page allocator is mapping or reclaiming, and its events reach the
    /// bypass first.
    pub fn drive(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        cycle: u64,
        stall: f64,
        hold: bool,
    ) {
        let p = &self.ports;
        let req = self
            .out
            .front()
            .filter(|_| self.fill_inflight.is_none() && !hold)
            .copied();
        let (write, addr, data) = req.unwrap_or((false, 0, [0; 64]));
        dut.poke(p.req_valid, req.is_some() as u64);
        dut.poke(p.req_write, write as u64);
        dut.poke(p.req_addr, addr);
        dut.poke_wide(p.req_wdata, &words(&data));
        self.ready = (!chance(rng, stall), !chance(rng, stall), false);
        dut.poke(p.rsp_ready, self.ready.0 as u64);
        dut.poke(p.dram_req_ready, self.ready.1 as u64);
        self.dram_data = self.dram.due(cycle).filter(|_| !chance(rng, stall));
        dut.poke(p.dram_rsp_valid, self.dram_data.is_some() as u64);
        dut.poke_wide(p.dram_rsp_rdata, &words(&self.dram_data.unwrap_or([0; 64])));
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
        let mut progress = false;
        let mut wide = [0u32; 16];
        if self.fill_inflight.is_none()
            && dut.peek(self.ports.req_valid) == 1
            && dut.peek(self.ports.req_ready) == 1
        {
            self.catch_up(hpa);
            let (write, addr, data) = self.out.pop_front().unwrap();
            if write {
                self.model.writeback(addr, data);
            } else {
                let src = self.model.fill(addr);
                self.fill_inflight = Some((addr, src));
            }
            progress = true;
        }
        if dut.peek(self.ports.dram_req_valid) == 1 && self.ready.1 {
            self.catch_up(hpa);
            let a = dut.peek(self.ports.dram_req_addr);
            let got = if dut.peek(self.ports.dram_req_write) == 1 {
                dut.peek_wide(self.ports.dram_req_wdata, &mut wide);
                DramAccess::Write(a, bytes(&wide))
            } else {
                DramAccess::Read(a)
            };
            match self.model.expected_dram.pop_front() {
                Some(e) if e == got => {}
                e => {
                    return Err((
                        "DRAM access differs".into(),
                        e.map_or("no access".into(), |e| e.to_string()),
                        got.to_string(),
                    ))
                }
            }
            match got {
                DramAccess::Write(a, d) => self.dram.write(a, d),
                DramAccess::Read(a) => {
                    let (lo, hi) = self.dram_latency;
                    self.dram.start_read(a, cycle + rng.gen_range(lo..=hi))
                }
            }
            progress = true;
        }
        if self.dram_data.is_some() && dut.peek(self.ports.dram_rsp_ready) == 1 {
            self.dram.pop_read();
        }
        if dut.peek(self.ports.rsp_valid) == 1 && self.ready.0 {
            dut.peek_wide(self.ports.rsp_rdata, &mut wide);
            let got = bytes(&wide);
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
            let want = arch(addr);
            if got != want {
                return Err((
                    format!(
                        "fill of {addr:x} breaks the guarantee (last write since mapped, or zero)"
                    ),
                    short(&want),
                    short(&got),
                ));
            }
            self.stats.fills_checked += 1;
            self.pending.remove(&addr);
            if let Some((a, d)) = self.llc.install(addr, got, false) {
                self.out.push_back((true, a, d));
            }
            progress = true;
        }
        Ok(progress)
    }

    /// At the end: the hardware's counters against the model's and the DRAM's.
    pub fn finish(&mut self, dut: &mut Model, hpa: &mut PageAllocModel) -> Result<MemStats, Diff> {
        self.catch_up(hpa);
        let c = &self.ports.cnt;
        let got = BypassCounters {
            reads_bypassed: dut.peek(c[0]),
            writebacks_dropped: dut.peek(c[1]),
            zero_lines: dut.peek(c[2]),
            dram_reads: dut.peek(c[3]),
            dram_writes: dut.peek(c[4]),
        };
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
        Ok(self.stats.clone())
    }
}
