//! The bypass unit's interfaces: the cache side (`mem_req_*` in, `mem_rsp_*` out), DRAM
//! (`dram_req_*` out, `dram_rsp_*` in), the per-frame records (`meta_req_*` out, `meta_rsp_*`
//! in), the page allocator's map and reclaim events (`map_*`, `dead_*` in, on the bypass alone),
//! the events as `memento_top` shows them (`evt_*`), and the counters (`cnt_*`).

use super::memory::{MemoryAgent, Payload};
use super::{port, Sink, Source};
use crate::line::{bytes, words};
use crate::model::bypass::{record_words, BypassCounters, DramAccess, MetaAccess};
use crate::scoreboard::Diff;
use memento_sim::{Model, Port, VTable};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A request of the cache to the bypass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineReq {
    pub write: bool,
    pub addr: u64,
    /// The line written (for a fill, whatever the cache side drives).
    pub data: [u8; 64],
}

/// The cache side: the testbench's cache issues fills and writebacks and takes fill data.
pub struct CacheAgent {
    req: Source,
    write: Port,
    addr: Port,
    wdata: Port,
    rsp: Sink,
    rdata: Port,
}

impl CacheAgent {
    /// The ports of `vt`, or `None` when the design has no bypass; fill data refused in a cycle
    /// with chance `rsp_stall`.
    pub fn of(vt: &VTable, rsp_stall: f64) -> Option<Self> {
        vt.port("mem_req_valid")?;
        Some(CacheAgent {
            req: Source::of(vt, "mem_req", 0.0),
            write: port(vt, "mem_req_write"),
            addr: port(vt, "mem_req_addr"),
            wdata: port(vt, "mem_req_wdata"),
            rsp: Sink::of(vt, "mem_rsp", rsp_stall),
            rdata: port(vt, "mem_rsp_rdata"),
        })
    }

    /// Driver: the request on offer (if any).
    pub fn drive_req(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, req: Option<LineReq>) {
        let req = self.req.offer(dut, rng, req);
        let r = req.unwrap_or(LineReq {
            write: false,
            addr: 0,
            data: [0; 64],
        });
        dut.poke(self.write, r.write as u64);
        dut.poke(self.addr, r.addr);
        dut.poke_wide(self.wdata, &words(&r.data));
    }

    /// Driver: the fill data's ready.
    pub fn drive_rsp(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng) {
        self.rsp.drive(dut, rng);
    }

    /// Driver: nothing on offer (across a reset).
    pub fn hold(&mut self, dut: &mut Model) {
        self.req.hold(dut);
    }

    /// Monitor: the request on offer was taken this cycle.
    pub fn taken(&self, dut: &mut Model) -> bool {
        self.req.fired(dut)
    }

    /// Monitor: the bypass takes a request (it is in `Idle`).
    pub fn ready(&self, dut: &mut Model) -> bool {
        self.req.ready(dut)
    }

    /// Monitor: the fill data taken this cycle.
    pub fn fill(&self, dut: &mut Model) -> Option<[u8; 64]> {
        self.rsp.fired(dut).then(|| {
            let mut wide = [0u32; 16];
            dut.peek_wide(self.rdata, &mut wide);
            bytes(&wide)
        })
    }
}

/// DRAM lines: 64 bytes the bypass reads and writes at a physical address.
pub struct DramLines;

impl Payload for DramLines {
    const PORTS: (&'static str, &'static str, &'static str) =
        ("dram_req", "dram_req_addr", "dram_rsp");
    type Data = [u8; 64];
    type Req = DramAccess;

    fn put(dut: &mut Model, rdata: Port, data: &[u8; 64]) {
        dut.poke_wide(rdata, &words(data));
    }

    fn junk(rng: &mut ChaCha8Rng) -> [u8; 64] {
        std::array::from_fn(|_| rng.gen())
    }

    fn take(dut: &mut Model, a: u64, write: bool, wdata: Port) -> DramAccess {
        if write {
            let mut wide = [0u32; 16];
            dut.peek_wide(wdata, &mut wide);
            DramAccess::Write(a, bytes(&wide))
        } else {
            DramAccess::Read(a)
        }
    }
}

/// DRAM's side: it takes the bypass's reads and writes and answers reads.
pub type DramAgent = MemoryAgent<DramLines>;

/// Per-frame records: (fresh mask, dead) read and written by frame number.
pub struct Records;

impl Payload for Records {
    const PORTS: (&'static str, &'static str, &'static str) =
        ("meta_req", "meta_req_frame", "meta_rsp");
    type Data = (u64, bool);
    type Req = MetaAccess;

    fn put(dut: &mut Model, rdata: Port, &(fresh, dead): &(u64, bool)) {
        dut.poke_wide(rdata, &record_words(fresh, dead));
    }

    fn junk(rng: &mut ChaCha8Rng) -> (u64, bool) {
        (rng.gen(), rng.gen())
    }

    fn take(dut: &mut Model, f: u64, write: bool, wdata: Port) -> MetaAccess {
        let mut w = [0u32; 3];
        dut.peek_wide(wdata, &mut w);
        MetaAccess::of_port(f, write, &w)
    }
}

/// The record memory's side: it takes the bypass's record reads and writes and answers reads.
pub type MetaAgent = MemoryAgent<Records>;

/// The page allocator's side of the bypass alone: it offers map and reclaim events.
pub struct EventSource {
    map: Source,
    map_frame: Port,
    dead: Source,
    dead_frame: Port,
}

impl EventSource {
    pub fn of(vt: &VTable) -> Self {
        EventSource {
            map: Source::of(vt, "map", 0.0),
            map_frame: port(vt, "map_frame"),
            dead: Source::of(vt, "dead", 0.0),
            dead_frame: port(vt, "dead_frame"),
        }
    }

    /// Driver: the frames to map and to reclaim on offer (if any).
    pub fn drive(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        map: Option<u64>,
        dead: Option<u64>,
    ) {
        let map = self.map.offer(dut, rng, map);
        dut.poke(self.map_frame, map.unwrap_or(0));
        let dead = self.dead.offer(dut, rng, dead);
        dut.poke(self.dead_frame, dead.unwrap_or(0));
    }

    /// Driver: nothing on offer (across a reset).
    pub fn hold(&mut self, dut: &mut Model) {
        self.map.hold(dut);
        self.dead.hold(dut);
    }

    /// Monitor: (the map was taken, the reclaim was taken) this cycle.
    pub fn taken(&self, dut: &mut Model) -> (bool, bool) {
        (self.map.fired(dut), self.dead.fired(dut))
    }

    /// Monitor: either event's ready is up (the unit is in `Idle`).
    pub fn ready(&self, dut: &mut Model) -> bool {
        self.map.ready(dut) || self.dead.ready(dut)
    }
}

/// The events `memento_top` shows as the bypass takes them (`evt_taken`, `evt_map`,
/// `evt_frame`).
pub struct EventTap {
    taken: Port,
    map: Port,
    frame: Port,
}

impl EventTap {
    pub fn of(vt: &VTable) -> Self {
        EventTap {
            taken: port(vt, "evt_taken"),
            map: port(vt, "evt_map"),
            frame: port(vt, "evt_frame"),
        }
    }

    /// Monitor: the event taken this cycle, (map, frame); `evt_map` may be up only with
    /// `evt_taken`.
    pub fn taken(&self, dut: &mut Model) -> Result<Option<(bool, u64)>, Diff> {
        if dut.peek(self.taken) == 0 {
            if dut.peek(self.map) == 1 {
                return Err((
                    "evt_map without evt_taken".into(),
                    "evt_map only in a cycle the bypass takes a map event".into(),
                    "evt_map = 1, evt_taken = 0".into(),
                ));
            }
            return Ok(None);
        }
        Ok(Some((dut.peek(self.map) == 1, dut.peek(self.frame))))
    }
}

/// The unit's counters (`cnt_*`).
pub struct Counters([Port; 5]);

impl Counters {
    pub fn of(vt: &VTable) -> Self {
        Counters(
            [
                "cnt_reads_bypassed",
                "cnt_writebacks_dropped",
                "cnt_zero_lines",
                "cnt_dram_reads",
                "cnt_dram_writes",
            ]
            .map(|n| port(vt, n)),
        )
    }

    /// Monitor: the counters now.
    pub fn read(&self, dut: &mut Model) -> BypassCounters {
        let c = &self.0;
        BypassCounters {
            reads_bypassed: dut.peek(c[0]),
            writebacks_dropped: dut.peek(c[1]),
            zero_lines: dut.peek(c[2]),
            dram_reads: dut.peek(c[3]),
            dram_writes: dut.peek(c[4]),
        }
    }
}
