//! The page allocator on its own: a random stream of walker faults, arena pages and exits
//! through the Verilated `page_alloc`, with the table memory, the OS page supply and the
//! requesters as environment models, checked against the golden model every cycle.

use crate::agents::chance;
use crate::env::{OsSupply, OsTiming, RefillWatch, TableMemory};
use crate::harness::TraceWindow;
use crate::model::page_alloc::{
    MapAnswer, PageAllocModel, PageStats, PoolGeometry, Requester, TableAccess,
};
use crate::scoreboard::Mismatch;
use crate::seed;
use memento_hw::Params;
use memento_sim::page_alloc as p;
use memento_sim::{Model, Port};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// A request of the page-allocator stream.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PageReq {
    Walk(u64),
    Arena(u64),
    Exit,
}

/// Timing of the page allocator's environment.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PageTiming {
    pub pte_lat_min: u64,
    pub pte_lat_max: u64,
    pub pte_stall: f64,
    pub pte_rsp_stall: f64,
    pub rsp_stall: f64,
    pub os: OsTiming,
    pub os_req_stall: f64,
    pub drain_stall: f64,
}

impl PageTiming {
    /// Random stalls on every port; with `starve`, the OS answers refills very late.
    pub fn stressed(starve: bool) -> Self {
        PageTiming {
            pte_lat_min: 1,
            pte_lat_max: 10,
            pte_stall: 0.3,
            pte_rsp_stall: 0.2,
            rsp_stall: 0.3,
            os: OsTiming {
                latency_min: if starve { 500 } else { 1 },
                latency_max: if starve { 5000 } else { 60 },
                gap_min: 1,
                gap_max: if starve { 400 } else { 20 },
            },
            os_req_stall: 0.5,
            drain_stall: 0.5,
        }
    }
}

#[derive(Clone)]
pub struct PageRunConfig {
    pub params: Params,
    pub mrs: u64,
    pub root: u64,
    pub seed: u64,
    pub timing: PageTiming,
    pub trace: Option<TraceWindow>,
    /// Cycles any one wait may last before the run fails, naming the port.
    pub watchdog: u64,
    /// `LOW` and `HIGH` written on the config port (`cfg_sel` 2 and 3) after reset, instead of
    /// the generator's values.
    pub watermarks: Option<(usize, usize)>,
}

impl PageRunConfig {
    pub fn new(seed: u64, timing: PageTiming) -> Self {
        PageRunConfig {
            params: Params::default(),
            mrs: 1 << 44,
            root: 0x80,
            seed,
            timing,
            trace: None,
            watchdog: 200_000,
            watermarks: None,
        }
    }
}

/// What a page-allocator run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageRunStats {
    pub requests: u64,
    pub cycles: u64,
    pub starved_cycles: u64,
    pub os_frames_given: u64,
    pub os_frames_taken_back: u64,
    pub model: PageStats,
}

/// A seeded random stream of page requests: phases of sparse faults, dense faults, repeats of
/// mapped pages and faults outside the region, with arena pages between and an exit now and then.
pub struct PageStream {
    rng: ChaCha8Rng,
    remaining: u64,
    mrs: u64,
    lane_bits: u32,
    region: u64,
    cursors: Vec<u64>,
    arena_cursors: Vec<u64>,
    touched: Vec<u64>,
    phase_left: u64,
    mode: u8,
    /// Mean requests per function; each function's length is uniform in `[mean/2, 3*mean/2]`.
    exit_every: u64,
    function_left: u64,
}

impl PageStream {
    pub fn new(seed: u64, requests: u64, params: &Params, mrs: u64, exit_every: u64) -> Self {
        PageStream {
            rng: seed::rng(seed, 0x9a6e),
            remaining: requests,
            mrs,
            lane_bits: params.lane_bits,
            region: 1 << params.region_log2(),
            cursors: vec![0; params.classes as usize],
            arena_cursors: vec![0; params.classes as usize],
            touched: vec![],
            phase_left: 0,
            mode: 0,
            exit_every,
            function_left: 0,
        }
    }

    fn lane(&mut self) -> u64 {
        self.rng.gen_range(0..self.cursors.len() as u64)
    }
}

impl Iterator for PageStream {
    type Item = PageReq;

    fn next(&mut self) -> Option<PageReq> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if self.exit_every > 0 && self.function_left == 0 {
            self.function_left = self
                .rng
                .gen_range(self.exit_every / 2..=self.exit_every * 3 / 2);
        }
        if self.exit_every > 0 && self.function_left == 1 {
            self.function_left = 0;
            self.cursors.iter_mut().for_each(|c| *c = 0);
            self.arena_cursors.iter_mut().for_each(|c| *c = 0);
            self.touched.clear();
            return Some(PageReq::Exit);
        }
        self.function_left = self.function_left.saturating_sub(1);
        if self.phase_left == 0 {
            self.phase_left = self.rng.gen_range(50..800);
            self.mode = self.rng.gen_range(0..3);
        }
        self.phase_left -= 1;
        if self.rng.gen_range(0..10) == 0 {
            let c = self.rng.gen_range(0..4);
            let va = self.mrs + (c << self.lane_bits) + self.arena_cursors[c as usize];
            self.arena_cursors[c as usize] += 1 << 16;
            return Some(PageReq::Arena(va));
        }
        let r = self.rng.gen_range(0..100);
        let va = if r < 3 {
            // Outside the region, below or above it.
            if self.rng.gen_bool(0.5) {
                self.rng.gen_range(0..self.mrs)
            } else {
                self.mrs + self.region + self.rng.gen_range(0..1 << 40)
            }
        } else if r < 10 && !self.touched.is_empty() {
            *self.touched.choose(&mut self.rng).unwrap()
        } else {
            match self.mode {
                // Sparse: anywhere in the region, new tables at every level.
                0 => self.mrs + self.rng.gen_range(0..self.region),
                // Dense: consecutive pages in a few lanes.
                1 => {
                    let c = self.rng.gen_range(0..3);
                    let v = self.mrs
                        + (c << self.lane_bits)
                        + (4 << 20)
                        + self.cursors[c as usize] * 4096;
                    self.cursors[c as usize] += 1;
                    v
                }
                // Clustered: random pages within a few MiB of one lane.
                _ => {
                    let c = self.lane();
                    self.mrs + (c << self.lane_bits) + self.rng.gen_range(0..8u64 << 20)
                }
            }
        };
        let va = va & !4095;
        if va >= self.mrs && va < self.mrs + self.region {
            self.touched.push(va);
        }
        Some(PageReq::Walk(va))
    }
}

/// The table-port request signals of a design.
pub(crate) struct PtePorts {
    pub addr: Port,
    pub write: Port,
    pub wdata: Port,
}

const PTE_PORTS: PtePorts = PtePorts {
    addr: p::PTE_REQ_ADDR,
    write: p::PTE_REQ_WRITE,
    wdata: p::PTE_REQ_WDATA,
};
const EVENT_PORTS: EventPorts = EventPorts {
    map_valid: p::MAP_EVT_VALID,
    map_ready: p::MAP_EVT_READY,
    map_frame: p::MAP_EVT_FRAME,
    dead_valid: p::DEAD_EVT_VALID,
    dead_ready: p::DEAD_EVT_READY,
    dead_frame: p::DEAD_EVT_FRAME,
};

/// The table access the hardware makes this cycle, checked against the next one the model
/// expects; on a difference, (expected, got).
pub(crate) fn table_access(
    dut: &mut Model,
    ports: &PtePorts,
    expected: &mut VecDeque<TableAccess>,
) -> Result<TableAccess, (String, String)> {
    let addr = dut.peek(ports.addr);
    let got = if dut.peek(ports.write) == 1 {
        TableAccess::Write(addr, dut.peek(ports.wdata))
    } else {
        TableAccess::Read(addr)
    };
    match expected.pop_front() {
        Some(exp) if exp == got => Ok(got),
        exp => Err((
            exp.map_or("no access".into(), |e| e.to_string()),
            got.to_string(),
        )),
    }
}

/// The bypass-event signals of a design.
pub(crate) struct EventPorts {
    pub map_valid: Port,
    pub map_ready: Port,
    pub map_frame: Port,
    pub dead_valid: Port,
    pub dead_ready: Port,
    pub dead_frame: Port,
}

/// Drives random readiness on the map and reclaim event ports (before `settle`).
pub(crate) fn offer_event_ready(
    dut: &mut Model,
    ports: &EventPorts,
    rng: &mut ChaCha8Rng,
    stall: f64,
) -> (bool, bool) {
    let (m, d) = (!chance(rng, stall), !chance(rng, stall));
    dut.poke(ports.map_ready, m as u64);
    dut.poke(ports.dead_ready, d as u64);
    (m, d)
}

/// At the end of a run, with nothing in flight: every event the model expects was offered and
/// taken (an event the design never raises is as wrong as a wrong one); on one left, (what,
/// expected, got).
pub(crate) fn events_left(model: &PageAllocModel) -> Result<(), (String, String, String)> {
    for (queue, name) in [
        (&model.expected_map_events, "map event"),
        (&model.expected_dead_events, "reclaim event"),
    ] {
        if let Some(f) = queue.front() {
            return Err((
                format!("{name} never offered"),
                format!("{} {name}s, the first of frame {f:x}", queue.len()),
                "none".into(),
            ));
        }
    }
    Ok(())
}

/// Checks the events taken this cycle against the frames the model expects; on a difference,
/// (what, expected, got).
pub(crate) fn take_events(
    dut: &mut Model,
    ports: &EventPorts,
    ready: (bool, bool),
    model: &mut PageAllocModel,
) -> Result<(), (String, String, String)> {
    for (valid, frame, is_ready, queue, name) in [
        (
            ports.map_valid,
            ports.map_frame,
            ready.0,
            &mut model.expected_map_events,
            "map event",
        ),
        (
            ports.dead_valid,
            ports.dead_frame,
            ready.1,
            &mut model.expected_dead_events,
            "reclaim event",
        ),
    ] {
        if dut.peek(valid) == 1 && is_ready {
            let got = dut.peek(frame);
            match queue.pop_front() {
                Some(f) if f == got => {}
                e => {
                    return Err((
                        format!("{name} differs"),
                        format!("{e:x?}"),
                        format!("{got:x}"),
                    ))
                }
            }
        }
    }
    Ok(())
}

fn mismatch(
    cycle: u64,
    index: u64,
    req: &str,
    what: &str,
    expected: String,
    got: String,
) -> Box<Mismatch> {
    Box::new(Mismatch {
        cycle,
        command: index,
        op: req.into(),
        what: what.into(),
        expected,
        got,
    })
}

/// Runs `stream` through the page allocator and its model.
pub fn run(
    cfg: &PageRunConfig,
    stream: &mut dyn Iterator<Item = PageReq>,
) -> Result<PageRunStats, Box<Mismatch>> {
    let t = &cfg.timing;
    let mut rng = seed::rng(cfg.seed, 0x9a6f);
    let mut dut = Model::new(&p::VTABLE);
    let mut model = PageAllocModel::new(PoolGeometry::from((&cfg.params, cfg.mrs)), cfg.root);
    let mut mem = TableMemory::default();
    let mut os = OsSupply::new(0x1000, t.os.clone());
    let mut stats = PageRunStats::default();

    dut.reset();
    dut.configure(&[(0, cfg.mrs), (1, cfg.root)]);
    if let Some((low, high)) = cfg.watermarks {
        dut.configure(&[(2, low as u64), (3, high as u64)]);
        model.g.low = low;
        model.g.high = high;
    }
    let start = dut.cycle();
    let refill_watch = RefillWatch::new(model.g.low as u64, start);

    let mut next: Option<PageReq> = None;
    let mut walk: Option<u64> = None;
    let mut arena: Option<u64> = None;
    let mut exit = false;
    let mut outstanding: VecDeque<(u64, PageReq)> = VecDeque::new();
    let mut issued = 0u64;
    let mut done = false;
    let mut last_progress = 0u64;

    loop {
        let cycle = dut.cycle() - start;
        if let Some(w) = &cfg.trace {
            if cycle == w.from {
                let _ = dut.trace_on(&w.path, w.format);
            }
            if cycle == w.to {
                let _ = dut.trace_off();
            }
        }
        // Pull requests onto free ports, in stream order. An exit waits until nothing is outstanding.
        loop {
            if next.is_none() && !done {
                next = stream.next();
                done = next.is_none();
            }
            match next {
                Some(PageReq::Walk(va)) if walk.is_none() && !exit => {
                    walk = next.take().map(|_| va)
                }
                Some(PageReq::Arena(va)) if arena.is_none() && !exit => {
                    arena = next.take().map(|_| va)
                }
                Some(PageReq::Exit)
                    if walk.is_none() && arena.is_none() && outstanding.is_empty() && !exit =>
                {
                    exit = true;
                    next = None;
                }
                _ => break,
            }
        }
        let quiet = done
            && next.is_none()
            && walk.is_none()
            && arena.is_none()
            && !exit
            && outstanding.is_empty();
        if quiet
            && model.expected_accesses.is_empty()
            && model.expected_drains.is_empty()
            && !model.walking()
        {
            // Let the hardware finish any reclaim bookkeeping, then compare the pool.
            if dut.peek(p::PTE_REQ_VALID) == 0 && dut.peek(p::DRAIN_VALID) == 0 {
                break;
            }
        }

        dut.poke(p::WALK_REQ_VALID, walk.is_some() as u64);
        dut.poke(p::WALK_REQ_VA, walk.unwrap_or(0));
        dut.poke(p::ARENA_REQ_VALID, arena.is_some() as u64);
        dut.poke(p::ARENA_REQ_VA, arena.unwrap_or(0));
        dut.poke(p::EXIT_VALID, exit as u64);
        let walk_rsp_ready = !chance(&mut rng, t.rsp_stall);
        let arena_rsp_ready = !chance(&mut rng, t.rsp_stall);
        dut.poke(p::WALK_RSP_READY, walk_rsp_ready as u64);
        dut.poke(p::ARENA_RSP_READY, arena_rsp_ready as u64);
        let pte_req_ready = !chance(&mut rng, t.pte_stall);
        dut.poke(p::PTE_REQ_READY, pte_req_ready as u64);
        let pte_data = mem
            .due(cycle)
            .filter(|_| !chance(&mut rng, t.pte_rsp_stall));
        dut.poke(p::PTE_RSP_VALID, pte_data.is_some() as u64);
        dut.poke(p::PTE_RSP_RDATA, pte_data.unwrap_or(0));
        let req_ready = !chance(&mut rng, t.os_req_stall);
        dut.poke(p::REFILL_REQ_READY, req_ready as u64);
        let offer = os.offer(cycle);
        dut.poke(p::REFILL_VALID, offer.is_some() as u64);
        dut.poke(p::REFILL_FRAME, offer.unwrap_or(0));
        let drain_ready = !chance(&mut rng, t.drain_stall);
        dut.poke(p::DRAIN_READY, drain_ready as u64);
        let evt_ready = offer_event_ready(&mut dut, &EVENT_PORTS, &mut rng, t.pte_stall);
        dut.settle();

        let front = outstanding
            .front()
            .map(|(i, r)| (*i, format!("{r:?}")))
            .unwrap_or((issued, "idle".into()));
        let fail = |what: &str, expected: String, got: String| {
            mismatch(cycle, front.0, &front.1, what, expected, got)
        };
        stats.starved_cycles += dut.peek(p::STARVED);
        refill_watch
            .check(
                dut.cycle(),
                dut.peek(p::POOL_COUNT),
                dut.peek(p::REFILL_REQ_VALID) == 1,
                os.owed(),
            )
            .map_err(|(w, e, g)| fail(&w, e, g))?;

        // The OS side first: within a cycle its events precede a request taken the same cycle.
        if dut.peek(p::REFILL_REQ_VALID) == 1 && req_ready {
            let got = dut.peek(p::REFILL_REQ_COUNT);
            match model.request_taken() {
                Some(c) if c == got => os.request(c, cycle, &mut rng),
                exp => {
                    return Err(fail(
                        "refill request differs",
                        format!("{exp:?}"),
                        format!("count {got}"),
                    ))
                }
            }
        }
        if let Some(f) = offer.filter(|_| dut.peek(p::REFILL_READY) == 1) {
            os.delivered(cycle, &mut rng);
            model
                .refill(f)
                .map_err(|e| fail("refill", "a frame owed".into(), e))?;
            last_progress = cycle;
        }
        if dut.peek(p::DRAIN_VALID) == 1 && drain_ready {
            let got = dut.peek(p::DRAIN_FRAME);
            match model.drain() {
                Some(f) if f == got => os.take_back(f),
                exp => {
                    return Err(fail(
                        "drained frame differs",
                        format!("{exp:?}"),
                        format!("{got:x}"),
                    ))
                }
            }
            last_progress = cycle;
        }
        if dut.peek(p::PTE_REQ_VALID) == 1 && pte_req_ready {
            match table_access(&mut dut, &PTE_PORTS, &mut model.expected_accesses)
                .map_err(|(e, g)| fail("table access differs", e, g))?
            {
                TableAccess::Write(addr, value) => mem.write(addr, value),
                TableAccess::Read(addr) => {
                    mem.start_read(addr, cycle + rng.gen_range(t.pte_lat_min..=t.pte_lat_max))
                }
            }
            last_progress = cycle;
        }
        if pte_data.is_some() && dut.peek(p::PTE_RSP_READY) == 1 {
            mem.pop_read();
        }
        take_events(&mut dut, &EVENT_PORTS, evt_ready, &mut model)
            .map_err(|(w, e, g)| fail(&w, e, g))?;
        if dut.peek(p::WALK_RSP_VALID) == 1 && walk_rsp_ready {
            let got = if dut.peek(p::WALK_RSP_ERR) == 1 {
                // An error answer carries frame 0 (a deterministic value on the port).
                if dut.peek(p::WALK_RSP_FRAME) != 0 {
                    return Err(fail(
                        "walk error answer with a frame",
                        "walk_rsp_frame 0 with walk_rsp_err".into(),
                        format!("frame {:x}", dut.peek(p::WALK_RSP_FRAME)),
                    ));
                }
                MapAnswer::OutOfRegion
            } else {
                MapAnswer::Frame(dut.peek(p::WALK_RSP_FRAME))
            };
            match model.expected_answers.pop_front() {
                Some((Requester::Walker, a)) if a == got => {}
                exp => {
                    return Err(fail(
                        "walk answer differs",
                        format!("{exp:?}"),
                        format!("{got:?}"),
                    ))
                }
            }
            outstanding.pop_front();
            last_progress = cycle;
        }
        if dut.peek(p::ARENA_RSP_VALID) == 1 && arena_rsp_ready {
            match model.expected_answers.pop_front() {
                Some((Requester::Arena, MapAnswer::Frame(_))) => {}
                exp => {
                    return Err(fail(
                        "arena answer differs",
                        format!("{exp:?}"),
                        "arena mapped".into(),
                    ))
                }
            }
            outstanding.pop_front();
            last_progress = cycle;
        }
        if exit && dut.peek(p::EXIT_READY) == 1 {
            model.exit();
            exit = false;
            stats.requests += 1;
            last_progress = cycle;
        } else if let Some(va) = walk.filter(|_| dut.peek(p::WALK_REQ_READY) == 1) {
            model.start_map(va, Requester::Walker);
            outstanding.push_back((issued, PageReq::Walk(va)));
            walk = None;
            issued += 1;
            stats.requests += 1;
            last_progress = cycle;
        } else if let Some(va) = arena.filter(|_| dut.peek(p::ARENA_REQ_READY) == 1) {
            model.start_map(va, Requester::Arena);
            outstanding.push_back((issued, PageReq::Arena(va)));
            arena = None;
            issued += 1;
            stats.requests += 1;
            last_progress = cycle;
        }
        model.end_of_cycle();
        model.conserves_frames().map_err(|e| {
            fail(
                "frames not conserved",
                "frames in = pool + mapped + drained".into(),
                e,
            )
        })?;
        dut.step();
        if dut.rtl_errors() > 0 {
            return Err(fail(
                "RTL assertion failed (its message is printed above)",
                "no $error".into(),
                format!("{} errors", dut.rtl_errors()),
            ));
        }
        if cycle - last_progress > cfg.watchdog {
            let port = if dut.peek(p::STARVED) == 1 {
                format!(
                    "the refill stream: the pool is starved and the OS still owes {} frames",
                    os.owed()
                )
            } else if mem.reads_in_flight() > 0 || dut.peek(p::PTE_REQ_VALID) == 1 {
                "the table port (pte_req / pte_rsp)".into()
            } else if dut.peek(p::MAP_EVT_VALID) == 1 || dut.peek(p::DEAD_EVT_VALID) == 1 {
                "the bypass event ports (map_evt / dead_evt)".into()
            } else if dut.peek(p::DRAIN_VALID) == 1 {
                "the drain stream (drain_ready)".into()
            } else if !outstanding.is_empty() {
                "the walk / arena response ports".into()
            } else {
                "the request ports (walk_req / arena_req / exit)".into()
            };
            return Err(fail(
                "watchdog: no progress",
                format!("progress within {} cycles", cfg.watchdog),
                format!("waiting on {port}"),
            ));
        }
    }
    let cycle = dut.cycle() - start;
    if let Err((what, e, g)) = events_left(&model) {
        return Err(mismatch(cycle, issued, "end of run", &what, e, g));
    }
    let count = dut.peek(p::POOL_COUNT);
    if count != model.pool_len() as u64 {
        return Err(mismatch(
            cycle,
            issued,
            "end of run",
            "pool count differs",
            model.pool_len().to_string(),
            count.to_string(),
        ));
    }
    stats.cycles = cycle;
    stats.os_frames_given = os.given;
    stats.os_frames_taken_back = os.taken_back;
    stats.model = model.stats.clone();
    Ok(stats)
}
