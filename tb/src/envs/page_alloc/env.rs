//! The page allocator's env: the design, an agent per interface (walker, arena requester,
//! table, events, and the OS side), the table memory, and the scoreboard against the page model,
//! stepped once each per cycle in a fixed order.

use super::os_side::OsSide;
use super::scoreboard::PageScoreboard;
use super::{PageReq, PageRunConfig, PageRunStats};
use crate::agents::arena::ArenaRequester;
use crate::agents::events::EventAgent;
use crate::agents::table::TableAgent;
use crate::agents::walker::WalkerAgent;
use crate::env::TableMemory;
use crate::model::page_alloc::{PageAllocModel, PoolGeometry, Requester, TableAccess};
use crate::scoreboard::{Mismatch, Place};
use crate::seed;
use memento_sim::page_alloc as p;
use memento_sim::Model;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

type Check<T = ()> = Result<T, Box<Mismatch>>;

pub struct PageEnv<'c> {
    cfg: &'c PageRunConfig,
    dut: Model,
    rng: ChaCha8Rng,
    start: u64,
    walker: WalkerAgent,
    arena: ArenaRequester,
    table: TableAgent,
    events: EventAgent,
    os: OsSide,
    mem: TableMemory,
    sb: PageScoreboard,
    stats: PageRunStats,
    /// The stream's next request, and the requests on offer at the ports.
    next: Option<PageReq>,
    walk: Option<u64>,
    arena_va: Option<u64>,
    exit: bool,
    /// Requests taken and not yet answered, with their index.
    outstanding: VecDeque<(u64, PageReq)>,
    issued: u64,
    done: bool,
    last_progress: u64,
}

impl<'c> PageEnv<'c> {
    /// The design reset and configured (`MRS`, the root, the watermarks of `cfg`).
    pub fn new(cfg: &'c PageRunConfig) -> Self {
        let t = &cfg.timing;
        let vt = &p::VTABLE;
        let mut dut = Model::new(crate::envs::TraceWindow::table(&cfg.trace, vt));
        let mut hpa = PageAllocModel::new(PoolGeometry::from((&cfg.params, cfg.mrs)), cfg.root);
        dut.reset();
        dut.configure(&[(0, cfg.mrs), (1, cfg.root)]);
        if let Some((low, high)) = cfg.watermarks {
            dut.configure(&[(2, low as u64), (3, high as u64)]);
            hpa.g.low = low;
            hpa.g.high = high;
        }
        let start = dut.cycle();
        PageEnv {
            rng: seed::rng(cfg.seed, 0x9a6f),
            walker: WalkerAgent::of(vt, t.rsp_stall),
            arena: ArenaRequester::of(vt, t.rsp_stall),
            table: TableAgent::of(vt, t.pte_stall, t.pte_rsp_stall),
            events: EventAgent::of(vt, t.pte_stall).expect("page_alloc shows its events"),
            os: OsSide::new(vt, t, 0x1000, hpa.g.low as u64, start),
            mem: TableMemory::default(),
            sb: PageScoreboard::new(hpa),
            stats: PageRunStats::default(),
            next: None,
            walk: None,
            arena_va: None,
            exit: false,
            outstanding: VecDeque::new(),
            issued: 0,
            done: false,
            last_progress: 0,
            start,
            dut,
            cfg,
        }
    }

    /// One cycle of every part; `Ok(true)` once the stream is over and everything has settled.
    pub fn step(&mut self, stream: &mut dyn Iterator<Item = PageReq>) -> Check<bool> {
        let cycle = self.dut.cycle() - self.start;
        crate::envs::TraceWindow::apply(&self.cfg.trace, &mut self.dut, cycle);
        self.pull(stream);
        if self.finished() {
            return Ok(true);
        }
        self.drive(cycle);
        self.dut.settle();
        let (index, what) = match self.outstanding.front() {
            Some((i, r)) => (*i, format!("{r:?}")),
            None => (self.issued, "idle".into()),
        };
        self.sb.place.at(cycle, index, what);
        let dut = &mut self.dut;
        self.os
            .check(dut, &self.sb.place, &mut self.stats.starved_cycles)?;
        // The OS side first: within a cycle its events precede a request taken the same cycle.
        if self.os.observe(dut, &mut self.rng, cycle, &mut self.sb)? {
            self.last_progress = cycle;
        }
        self.observe_table(cycle)?;
        self.sb.events(self.events.taken(&mut self.dut))?;
        self.observe_answers(cycle)?;
        self.observe_requests(cycle);
        self.sb.end_of_cycle()?;
        self.dut.step();
        if self.dut.rtl_errors() > 0 {
            return Err(self.sb.place.fail(
                "RTL assertion failed (its message is printed above)",
                "no $error".into(),
                format!("{} errors", self.dut.rtl_errors()),
            ));
        }
        if cycle - self.last_progress > self.cfg.watchdog {
            return Err(self.watchdog());
        }
        Ok(false)
    }

    /// Pulls requests onto free ports, in stream order. An exit waits until nothing is
    /// outstanding.
    fn pull(&mut self, stream: &mut dyn Iterator<Item = PageReq>) {
        loop {
            if self.next.is_none() && !self.done {
                self.next = stream.next();
                self.done = self.next.is_none();
            }
            match self.next {
                Some(PageReq::Walk(va)) if self.walk.is_none() && !self.exit => {
                    self.walk = self.next.take().map(|_| va)
                }
                Some(PageReq::Arena(va)) if self.arena_va.is_none() && !self.exit => {
                    self.arena_va = self.next.take().map(|_| va)
                }
                Some(PageReq::Exit)
                    if self.walk.is_none()
                        && self.arena_va.is_none()
                        && self.outstanding.is_empty()
                        && !self.exit =>
                {
                    self.exit = true;
                    self.next = None;
                }
                _ => break,
            }
        }
    }

    /// The stream is over, nothing is on offer or expected, and the hardware has finished any
    /// reclaim bookkeeping.
    fn finished(&mut self) -> bool {
        let hpa = &self.sb.hpa;
        self.done
            && self.next.is_none()
            && self.walk.is_none()
            && self.arena_va.is_none()
            && !self.exit
            && self.outstanding.is_empty()
            && hpa.expected_accesses.is_empty()
            && hpa.expected_drains.is_empty()
            && !hpa.walking()
            && !self.table.requesting(&mut self.dut)
            && !self.os.pool.draining(&mut self.dut)
    }

    /// Every agent drives its side of the pins.
    fn drive(&mut self, cycle: u64) {
        let (dut, rng) = (&mut self.dut, &mut self.rng);
        self.walker.drive(dut, rng, self.walk);
        self.arena.drive(dut, rng, self.arena_va, self.exit);
        self.table.drive_req(dut, rng);
        self.table.drive_rsp(dut, rng, self.mem.due(cycle));
        self.os.drive(dut, rng, cycle);
        self.events.drive(dut, rng);
    }

    /// The table port: an access against the page model, then into the table memory.
    fn observe_table(&mut self, cycle: u64) -> Check {
        if let Some(got) = self.table.request(&mut self.dut) {
            match self.sb.table_access(got)? {
                TableAccess::Write(addr, value) => self.mem.write(addr, value),
                TableAccess::Read(addr) => {
                    let t = &self.cfg.timing;
                    let due = cycle + self.rng.gen_range(t.pte_lat_min..=t.pte_lat_max);
                    self.mem.start_read(addr, due)
                }
            }
            self.last_progress = cycle;
        }
        if self.table.answered(&mut self.dut) {
            self.mem.pop_read();
        }
        Ok(())
    }

    /// Answers to the walker and the arena requester against the page model's.
    fn observe_answers(&mut self, cycle: u64) -> Check {
        if let Some(rsp) = self.walker.answer(&mut self.dut) {
            self.sb.walk_answer(rsp)?;
            self.outstanding.pop_front();
            self.last_progress = cycle;
        }
        if self.arena.answered(&mut self.dut) {
            self.sb.arena_answer()?;
            self.outstanding.pop_front();
            self.last_progress = cycle;
        }
        Ok(())
    }

    /// A request taken starts its work in the page model (one a cycle: an exit, else a fault,
    /// else an arena page).
    fn observe_requests(&mut self, cycle: u64) {
        let dut = &mut self.dut;
        if self.exit && self.arena.exited(dut) {
            self.sb.hpa.exit();
            self.exit = false;
        } else if let Some(va) = self.walk.filter(|_| self.walker.sent(dut)) {
            self.sb.hpa.start_map(va, Requester::Walker);
            self.outstanding.push_back((self.issued, PageReq::Walk(va)));
            self.walk = None;
            self.issued += 1;
        } else if let Some(va) = self.arena_va.filter(|_| self.arena.sent(dut)) {
            self.sb.hpa.start_map(va, Requester::Arena);
            self.outstanding
                .push_back((self.issued, PageReq::Arena(va)));
            self.arena_va = None;
            self.issued += 1;
        } else {
            return;
        }
        self.stats.requests += 1;
        self.last_progress = cycle;
    }

    /// The port the run waits on when the watchdog fires.
    fn watchdog(&mut self) -> Box<Mismatch> {
        let dut = &mut self.dut;
        let port = if let Some(s) = self.os.starved_wait(dut) {
            s
        } else if self.mem.reads_in_flight() > 0 || self.table.requesting(dut) {
            "the table port (pte_req / pte_rsp)".into()
        } else if self.events.offering(dut) {
            "the bypass event ports (map_evt / dead_evt)".into()
        } else if self.os.pool.draining(dut) {
            "the drain stream (drain_ready)".into()
        } else if !self.outstanding.is_empty() {
            "the walk / arena response ports".into()
        } else {
            "the request ports (walk_req / arena_req / exit)".into()
        };
        self.sb.place.fail(
            "watchdog: no progress",
            format!("progress within {} cycles", self.cfg.watchdog),
            format!("waiting on {port}"),
        )
    }

    /// At the end: every event offered, the pool's count as the model's; the run's statistics.
    pub fn finish(mut self) -> Check<PageRunStats> {
        let cycle = self.dut.cycle() - self.start;
        let mut place = Place::default();
        place.at(cycle, self.issued, "end of run".into());
        self.sb.events_left(&place)?;
        let count = self.os.pool.count(&mut self.dut);
        let hpa = &self.sb.hpa;
        if count != hpa.pool_len() as u64 {
            return Err(place.fail(
                "pool count differs",
                hpa.pool_len().to_string(),
                count.to_string(),
            ));
        }
        let mut stats = self.stats;
        stats.cycles = cycle;
        stats.os_frames_given = self.os.os.given;
        stats.os_frames_taken_back = self.os.os.taken_back;
        stats.model = hpa.stats.clone();
        Ok(stats)
    }
}
