//! The bypass unit's interfaces: the cache side (`mem_req_*` in, `mem_rsp_*` out), DRAM
//! (`dram_req_*` out, `dram_rsp_*` in), the per-frame records (`meta_req_*` out, `meta_rsp_*`
//! in), the page allocator's map and reclaim events (`map_*`, `dead_*` in, on the bypass alone),
//! the events as `memento_top` shows them (`evt_*`), and the counters (`cnt_*`).

use super::{port, Sink, Source};
use crate::line::{bytes, words};
use crate::model::bypass::{record_words, BypassCounters, DramAccess, MetaAccess};
use crate::scoreboard::Diff;
use memento_sim::{Model, Port, VTable};
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

/// DRAM's side: it takes the bypass's reads and writes and answers reads.
pub struct DramAgent {
    req: Sink,
    write: Port,
    addr: Port,
    wdata: Port,
    rsp: Source,
    rdata: Port,
}

impl DramAgent {
    /// A request refused in a cycle with chance `req_stall`, due data held back with `rsp_stall`.
    pub fn of(vt: &VTable, req_stall: f64, rsp_stall: f64) -> Self {
        DramAgent {
            req: Sink::of(vt, "dram_req", req_stall),
            write: port(vt, "dram_req_write"),
            addr: port(vt, "dram_req_addr"),
            wdata: port(vt, "dram_req_wdata"),
            rsp: Source::of(vt, "dram_rsp", rsp_stall),
            rdata: port(vt, "dram_rsp_rdata"),
        }
    }

    /// Driver: the request's ready.
    pub fn drive_req(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng) {
        self.req.drive(dut, rng);
    }

    /// Driver: the read data due (if any); returns what is on offer.
    pub fn drive_rsp(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        due: Option<[u8; 64]>,
    ) -> Option<[u8; 64]> {
        let data = self.rsp.offer(dut, rng, due);
        dut.poke_wide(self.rdata, &words(&data.unwrap_or([0; 64])));
        data
    }

    /// Driver: nothing on offer (across a reset).
    pub fn hold(&mut self, dut: &mut Model) {
        self.rsp.hold(dut);
    }

    /// Monitor: the access taken this cycle.
    pub fn request(&self, dut: &mut Model) -> Option<DramAccess> {
        if !self.req.fired(dut) {
            return None;
        }
        let a = dut.peek(self.addr);
        Some(if dut.peek(self.write) == 1 {
            let mut wide = [0u32; 16];
            dut.peek_wide(self.wdata, &mut wide);
            DramAccess::Write(a, bytes(&wide))
        } else {
            DramAccess::Read(a)
        })
    }

    /// Monitor: the offered data was taken this cycle.
    pub fn answered(&self, dut: &mut Model) -> bool {
        self.rsp.fired(dut)
    }
}

/// The record memory's side: it takes the bypass's record reads and writes and answers reads.
pub struct MetaAgent {
    req: Sink,
    write: Port,
    frame: Port,
    wdata: Port,
    rsp: Source,
    rdata: Port,
}

impl MetaAgent {
    /// A request refused in a cycle with chance `req_stall`, a due record held back with
    /// `rsp_stall`.
    pub fn of(vt: &VTable, req_stall: f64, rsp_stall: f64) -> Self {
        MetaAgent {
            req: Sink::of(vt, "meta_req", req_stall),
            write: port(vt, "meta_req_write"),
            frame: port(vt, "meta_req_frame"),
            wdata: port(vt, "meta_req_wdata"),
            rsp: Source::of(vt, "meta_rsp", rsp_stall),
            rdata: port(vt, "meta_rsp_rdata"),
        }
    }

    /// Driver: the request's ready.
    pub fn drive_req(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng) {
        self.req.drive(dut, rng);
    }

    /// Driver: the record due (fresh mask, dead), if any; returns what is on offer.
    pub fn drive_rsp(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        due: Option<(u64, bool)>,
    ) -> Option<(u64, bool)> {
        let r = self.rsp.offer(dut, rng, due);
        let (fresh, dead) = r.unwrap_or((0, false));
        dut.poke_wide(self.rdata, &record_words(fresh, dead));
        r
    }

    /// Driver: nothing on offer (across a reset).
    pub fn hold(&mut self, dut: &mut Model) {
        self.rsp.hold(dut);
    }

    /// Monitor: the access taken this cycle.
    pub fn request(&self, dut: &mut Model) -> Option<MetaAccess> {
        if !self.req.fired(dut) {
            return None;
        }
        let f = dut.peek(self.frame);
        let mut w = [0u32; 3];
        dut.peek_wide(self.wdata, &mut w);
        Some(MetaAccess::of_port(f, dut.peek(self.write) == 1, &w))
    }

    /// Monitor: the offered record was taken this cycle.
    pub fn answered(&self, dut: &mut Model) -> bool {
        self.rsp.fired(dut)
    }
}

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
