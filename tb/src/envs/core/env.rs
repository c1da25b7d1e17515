//! The env of `memento_core` and `memento_top`: the design, an agent per interface, the
//! environment models behind them, the program on the core and the scoreboard, stepped once
//! each per cycle in a fixed order (the order is what a seed means: every part draws its stalls
//! and latencies from the env's one random stream).

use super::program::{Idle, Program};
use super::scoreboard::CoreScoreboard;
use super::{CoreRunConfig, CoreRunStats};
use crate::agents::command::CommandAgent;
use crate::agents::events::EventAgent;
use crate::agents::header::HeaderAgent;
use crate::agents::table::TableAgent;
use crate::agents::walker::WalkerAgent;
use crate::env::mem_path::{Kind, MemPath};
use crate::env::mmu::PhysMem;
use crate::env::HeaderMemory;
use crate::envs::page_alloc::os_side::OsSide;
use crate::line::words;
use crate::model::object_alloc::{HeaderWrite, Status};
use crate::model::page_alloc::{Requester, TableAccess};
use crate::scoreboard::{Mismatch, Place};
use crate::seed;
use crate::stimulus::Stimulus;
use memento_sim::Model;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::io::Write;

type Check<T = ()> = Result<T, Box<Mismatch>>;

pub struct CoreEnv<'c> {
    cfg: &'c CoreRunConfig,
    dut: Model,
    rng: ChaCha8Rng,
    /// The model's cycle when the run began (after reset and configuration).
    start: u64,
    cmd: CommandAgent,
    hdr: HeaderAgent,
    walker: WalkerAgent,
    table: TableAgent,
    events: Option<EventAgent>,
    mem: PhysMem,
    hdr_reads: HeaderMemory,
    /// A header read waiting for its line in the cache (`memento_top`).
    hdr_wait: Option<u64>,
    os: OsSide,
    /// The cache, the bypass's memory ports and DRAM (`memento_top` only).
    mp: Option<MemPath>,
    flushed: bool,
    /// Watermarks still to write, once the pool has filled after reset.
    watermarks: Option<(u64, u64)>,
    program: Program,
    sb: CoreScoreboard,
    pub stats: CoreRunStats,
    last_progress: u64,
}

impl<'c> CoreEnv<'c> {
    /// The design of `cfg`, reset and configured, with its environment.
    pub fn new(cfg: &'c CoreRunConfig) -> Self {
        let (th, tp) = (&cfg.hoa_timing, &cfg.page_timing);
        let vt = memento_sim::model_for(cfg.design, &cfg.params).unwrap_or_else(|| {
            panic!(
                "no compiled memento_core for {:?}: add it to memento_hw::emit::variants",
                cfg.params
            )
        });
        let mut dut = Model::new(crate::envs::TraceWindow::table(&cfg.trace, vt));
        let mut mp = MemPath::of(vt, &cfg.params, cfg.llc.clone(), cfg.seed, tp.pte_stall);
        if let Some(m) = mp.as_mut() {
            m.dram_latency = cfg.dram_latency;
            // A record is read through the cache like a table entry.
            m.meta_latency = (tp.pte_lat_min, tp.pte_lat_max);
            m.os_table(cfg.root);
        }
        dut.reset();
        dut.configure(&[(0, cfg.mrs), (1, cfg.root)]);
        // The watermarks are written before the first command, once the pool has filled to the
        // reset HIGH (the refill request raised as reset ends is answered): a LOW above that
        // raises a request of its own.
        let start = dut.cycle();
        let cached = mp.is_some();
        CoreEnv {
            cmd: CommandAgent::of(vt, th.rsp_stall),
            hdr: HeaderAgent::of(vt, th.hdr_stall, th.hdr_rsp_stall),
            walker: WalkerAgent::of(vt, tp.rsp_stall),
            table: TableAgent::of(vt, tp.pte_stall, tp.pte_rsp_stall),
            events: EventAgent::of(vt, tp.pte_stall),
            rng: seed::rng(cfg.seed, 0xc0e),
            mem: PhysMem::new(cfg.root),
            hdr_reads: HeaderMemory::default(),
            hdr_wait: None,
            os: OsSide::new(vt, tp, cfg.first_frame, cfg.params.low as u64, start),
            mp,
            flushed: false,
            watermarks: cfg.watermarks,
            program: Program::new(cfg.final_exit, cached, cfg.seed),
            sb: CoreScoreboard::new(&cfg.params, cfg.mrs, cfg.root),
            stats: CoreRunStats::default(),
            last_progress: 0,
            start,
            dut,
            cfg,
        }
    }

    fn cycle(&self) -> u64 {
        self.dut.cycle() - self.start
    }

    /// One cycle of every part; `Ok(true)` once the stream is over and everything has settled.
    pub fn step(
        &mut self,
        stim: &mut dyn Stimulus,
        log: &mut Option<&mut dyn Write>,
    ) -> Check<bool> {
        let cycle = self.cycle();
        self.trace_window(cycle);
        let (index, what) = (self.program.index, self.program.describe());
        self.sb.pages.place.at(cycle, index, what);
        if self.program.idle() {
            if self.write_watermarks() {
                return Ok(false);
            }
            if self.watermarks.is_none() && self.next_command(stim)? {
                return Ok(true);
            }
        }
        self.drive(cycle)?;
        self.dut.settle();
        let dut = &mut self.dut;
        let place = &self.sb.pages.place;
        self.os.check(dut, place, &mut self.stats.starved_cycles)?;
        if self
            .os
            .observe(dut, &mut self.rng, cycle, &mut self.sb.pages)?
        {
            self.last_progress = cycle;
        }
        self.observe_memory(cycle)?;
        self.observe_table(cycle)?;
        if let Some(ev) = &self.events {
            self.sb.pages.events(ev.taken(&mut self.dut))?;
        }
        self.observe_header(cycle)?;
        self.observe_walker(cycle)?;
        self.observe_command(cycle, stim);
        self.observe_response(cycle, stim, log)?;
        let cfg = self.cfg;
        self.program
            .touch(&mut self.mem, &mut self.rng, &cfg.params, cfg.mrs);
        self.through_cache(cycle)?;
        self.sb.pages.end_of_cycle()?;
        self.dut.step();
        if self.dut.rtl_errors() > 0 {
            return Err(self.sb.pages.place.fail(
                "RTL assertion failed (its message is printed above)",
                "no $error".into(),
                format!("{} errors", self.dut.rtl_errors()),
            ));
        }
        if cycle - self.last_progress > cfg.watchdog {
            return Err(self.watchdog());
        }
        Ok(false)
    }

    fn trace_window(&mut self, cycle: u64) {
        crate::envs::TraceWindow::apply(&self.cfg.trace, &mut self.dut, cycle);
    }

    /// Writes HIGH, then LOW, on the config port once the refills after reset have settled,
    /// with the pool's OS side quiet (no refill offered, no request or drain taken), so that
    /// nothing moves at the pool's ports unobserved meanwhile. Returns whether it did.
    fn write_watermarks(&mut self) -> bool {
        let Some((low, high)) = self.watermarks else {
            return false;
        };
        if !self.sb.pages.hpa.refills_settled() || self.os.pool.draining(&mut self.dut) {
            return false;
        }
        self.os.pool.quiet(&mut self.dut);
        self.dut.configure(&[(3, high), (2, low)]);
        self.os.set_low(low, self.dut.cycle());
        self.sb
            .pages
            .hpa
            .set_watermarks(low as usize, high as usize);
        // The writes' cycles were idle ones: a HIGH below the count drains from now on.
        self.sb.pages.hpa.end_of_cycle();
        self.watermarks = None;
        true
    }

    /// The program's next command; at the end of the stream, the cache flush after the last
    /// reclaim, and `true` once nothing is left in flight.
    fn next_command(&mut self, stim: &mut dyn Stimulus) -> Check<bool> {
        let idle = self.program.next(
            stim,
            &self.mem,
            &mut self.stats.objects_checked,
            &self.sb.pages.place,
        )?;
        if let Idle::Busy = idle {
            return Ok(false);
        }
        // The cache is flushed once the exit's reclaim is over (every event taken by the
        // bypass): the dirty lines left are written back after the function.
        if let (Some(m), false, true) = (self.mp.as_mut(), self.flushed, self.sb.reclaimed()) {
            m.flush();
            self.flushed = true;
        }
        let flushed = self.flushed;
        let dut = &mut self.dut;
        Ok(self.mp.as_ref().is_none_or(|m| flushed && m.settled(dut))
            && self.sb.settled()
            && !self.table.requesting(&mut self.dut)
            && !self.os.pool.draining(&mut self.dut))
    }

    /// Every agent drives its side of the pins for this cycle.
    fn drive(&mut self, cycle: u64) -> Check {
        let (dut, rng) = (&mut self.dut, &mut self.rng);
        self.cmd.drive(dut, rng, self.program.command());
        self.hdr.drive_req(dut, rng);
        self.hdr
            .drive_rsp(dut, rng, self.hdr_reads.due(cycle).copied());
        self.walker.drive(dut, rng, self.program.fault(cycle));
        self.table.drive_req(dut, rng);
        let answer = match self.mp.as_mut() {
            Some(m) => m
                .table_answer(cycle)
                .map_err(|d| self.sb.pages.place.diff(d))?,
            None => self.mem.tables.due(cycle),
        };
        self.table.drive_rsp(dut, rng, answer);
        self.os.drive(dut, rng, cycle);
        if let Some(m) = self.mp.as_mut() {
            m.drive(dut, rng, cycle);
        }
        if let Some(ev) = self.events.as_mut() {
            ev.drive(dut, rng);
        }
        Ok(())
    }

    /// The cache, the bypass's memory ports and DRAM.
    fn observe_memory(&mut self, cycle: u64) -> Check {
        let Some(m) = self.mp.as_mut() else {
            return Ok(());
        };
        let mem = &self.mem;
        let arch = |addr: u64| mem.line(addr);
        if m.observe(
            &mut self.dut,
            &mut self.rng,
            cycle,
            &mut self.sb.pages.hpa,
            &arch,
        )
        .map_err(|d| self.sb.pages.place.diff(d))?
        {
            self.last_progress = cycle;
        }
        Ok(())
    }

    /// The table port: an access against the page model, then into the table memory (through
    /// the cache in `memento_top`).
    fn observe_table(&mut self, cycle: u64) -> Check {
        if let Some(got) = self.table.request(&mut self.dut) {
            match self.sb.table_access(got)? {
                TableAccess::Write(addr, value) => {
                    let old = self.mem.tables.read_now(addr);
                    self.mem.write_pte(addr, value);
                    if let Some(m) = self.mp.as_mut() {
                        m.table_write(addr, old, value);
                        if value & 1 == 1 {
                            m.frame_mapped((value >> 12) & ((1 << 40) - 1));
                        }
                    }
                }
                TableAccess::Read(addr) => {
                    let tp = &self.cfg.page_timing;
                    let due = cycle + self.rng.gen_range(tp.pte_lat_min..=tp.pte_lat_max);
                    let want = self.mem.tables.read_now(addr);
                    match self.mp.as_mut() {
                        Some(m) => m.table_read(addr, want, due),
                        None => self.mem.tables.start_read(addr, due),
                    }
                }
            }
            self.last_progress = cycle;
        }
        if self.table.answered(&mut self.dut) {
            match self.mp.as_mut() {
                Some(m) => m.table_answered(),
                None => self.mem.tables.pop_read(),
            }
        }
        Ok(())
    }

    /// The header port, through the page table: a write against the object model, a read
    /// answered from memory (through the cache in `memento_top`).
    fn observe_header(&mut self, cycle: u64) -> Check {
        if let Some(req) = self.hdr.request(&mut self.dut) {
            let va = req.va;
            let Some(frame) = self.mem.translate(va) else {
                return Err(self.sb.pages.place.fail(
                    "header access to an unmapped page",
                    "a mapped arena header".into(),
                    format!("{va:x}"),
                ));
            };
            let pa = (frame << 12) | (va & 4095);
            self.program.header_traffic(req.write.is_none());
            match req.write {
                Some(line) => {
                    self.stats.hoa.header_writes += 1;
                    self.sb.header_write(HeaderWrite { va, line })?;
                    for (i, b) in line.iter().enumerate() {
                        self.mem.set_byte(frame, (va & 4095) + i as u64, *b);
                    }
                    if let Some(m) = self.mp.as_mut() {
                        m.write_line(pa, line, Kind::Header);
                    }
                }
                None => {
                    self.stats.hoa.header_reads += 1;
                    if self.mp.is_some() {
                        // Through the cache: answered once the line is in.
                        self.hdr_wait = Some(pa);
                    } else {
                        let line = self.mem.line(pa);
                        self.read_header(cycle, line);
                    }
                }
            }
            self.last_progress = cycle;
        }
        if self.hdr.answered(&mut self.dut) {
            self.hdr_reads.pop_read();
        }
        Ok(())
    }

    /// Header read data `line`, due after the header latency.
    fn read_header(&mut self, cycle: u64, line: [u8; 64]) {
        let th = &self.cfg.hoa_timing;
        let due = cycle + self.rng.gen_range(th.hdr_lat_min..=th.hdr_lat_max);
        self.hdr_reads.start_read_data(words(&line), due);
    }

    /// The walker port: a fault taken starts a map in the page model; its answer against it.
    fn observe_walker(&mut self, cycle: u64) -> Check {
        if self.walker.sent(&mut self.dut) {
            if let Some(va) = self.program.fault_sent() {
                self.sb.pages.hpa.start_map(va, Requester::Walker);
                self.stats.walker_faults += 1;
                self.last_progress = cycle;
            }
        }
        if let Some(rsp) = self.walker.answer(&mut self.dut) {
            let got = self.sb.pages.walk_answer(rsp)?;
            self.program.fault_answered(
                cycle,
                got,
                &mut self.stats.walk_latency,
                &self.sb.pages.place,
            )?;
            self.last_progress = cycle;
        }
        self.sb.arena_answer_inside();
        Ok(())
    }

    /// The command port: a command taken gets the object model's prediction.
    fn observe_command(&mut self, cycle: u64, stim: &mut dyn Stimulus) {
        let Some(op) = self.program.command() else {
            return;
        };
        if !self.cmd.accepted(&mut self.dut) {
            return;
        }
        let e = self.sb.accepted(op);
        let paths = &mut self.stats.hoa.paths;
        *paths.entry(format!("{:?}", e.path)).or_default() += 1;
        e.count_extras(paths);
        stim.issued(op, &e);
        self.program.accepted(cycle, e);
        self.last_progress = cycle;
    }

    /// The response port: an answer against its prediction, counted and logged.
    fn observe_response(
        &mut self,
        cycle: u64,
        stim: &mut dyn Stimulus,
        log: &mut Option<&mut dyn Write>,
    ) -> Check {
        let Some(got) = self.cmd.response(&mut self.dut) else {
            return Ok(());
        };
        let Some(a) = self.program.take_answer(cycle) else {
            return Err(self.sb.pages.place.fail(
                "response with no command outstanding",
                "nothing".into(),
                crate::scoreboard::fmt_rsp(got),
            ));
        };
        self.sb.response(&a.expected, got)?;
        self.program.answered(&a, got, &mut self.stats.hoa);
        if let Some(l) = log.as_mut() {
            let (name, arg) = a.op.log_fields();
            let _ = writeln!(
                l,
                "{name} {arg:x} {} {:x} {}",
                got.status.name(),
                got.ptr,
                a.latency
            );
        }
        let (mrs, lane_bits) = (self.cfg.mrs, self.sb.hoa.g.lane_bits);
        self.stats
            .hoa
            .count_answer(a.op, got.status == Status::Ok, |p| (p - mrs) >> lane_bits);
        stim.answered(a.op, got);
        self.last_progress = cycle;
        Ok(())
    }

    /// `memento_top`: an object's lines come through the cache before it is read or written,
    /// and a header read is answered once its line is in.
    fn through_cache(&mut self, cycle: u64) -> Check {
        let Some(m) = self.mp.as_mut() else {
            self.sb.pages.hpa.bypass_events.clear();
            return Ok(());
        };
        if self
            .program
            .through_cache(m, &mut self.mem, &mut self.rng, &self.sb.pages.place)?
        {
            self.stats.objects_checked += 1;
        }
        if let Some(pa) = self.hdr_wait.filter(|pa| m.present(*pa, Kind::Header)) {
            let line = m.read(pa);
            self.hdr_wait = None;
            self.read_header(cycle, line);
        }
        Ok(())
    }

    /// The port the run waits on when the watchdog fires.
    fn watchdog(&mut self) -> Box<Mismatch> {
        let dut = &mut self.dut;
        let port = if let Some(s) = self.os.starved_wait(dut) {
            s
        } else if self.mem.tables.reads_in_flight() > 0
            || self
                .mp
                .as_ref()
                .is_some_and(|m| m.table_reads_waiting() > 0)
            || self.table.requesting(dut)
        {
            "the table port (pte_req / pte_rsp)".into()
        } else if self.hdr_reads.reads_in_flight() > 0 || self.hdr.requesting(dut) {
            "the header port (hdr_req / hdr_rsp)".into()
        } else if self.events.as_ref().is_some_and(|ev| ev.offering(dut)) {
            "the bypass event ports (map_evt / dead_evt)".into()
        } else if self.os.pool.draining(dut) {
            "the drain stream (drain_ready)".into()
        } else if self.mp.as_ref().is_some_and(|m| !m.idle()) {
            "the cache and DRAM ports (mem_req / mem_rsp / dram_req / dram_rsp)".into()
        } else if self.program.touching() {
            "the walker port (walk_req / walk_rsp)".into()
        } else {
            "the command port (cmd / rsp)".into()
        };
        let cfg = self.cfg;
        let (low, high) = cfg
            .watermarks
            .unwrap_or((cfg.params.low.into(), cfg.params.high.into()));
        self.sb.pages.place.fail(
            "watchdog: no progress",
            format!("progress within {} cycles", cfg.watchdog),
            format!(
                "waiting on {port} (the pool holds {} frames, LOW {low}, HIGH {high}; the OS owes {})",
                self.os.pool.count(dut),
                self.os.os.owed()
            ),
        )
    }

    /// At the end of the run, with nothing in flight: every event and frame accounted for, the
    /// memory path's counters checked; the run's statistics.
    pub fn finish(mut self) -> Check<CoreRunStats> {
        let cycle = self.cycle();
        let mut place = Place::default();
        place.at(cycle, self.program.index, "end of run".into());
        if self.events.is_some() {
            self.sb.pages.events_left(&place)?;
        }
        let hpa = &mut self.sb.pages.hpa;
        let count = self.os.pool.count(&mut self.dut);
        if count != hpa.pool_len() as u64 {
            return Err(place.fail(
                "pool count differs",
                hpa.pool_len().to_string(),
                count.to_string(),
            ));
        }
        if self.cfg.final_exit && (hpa.mapped_len() != 0 || !hpa.root_is_empty()) {
            return Err(place.fail(
                "frames still mapped after the final exit",
                "0".into(),
                hpa.mapped_len().to_string(),
            ));
        }
        let mut stats = self.stats;
        if let Some(m) = self.mp.as_mut() {
            stats.mem = m.finish(&mut self.dut, hpa).map_err(|d| place.diff(d))?;
        }
        stats.hoa.cycles = cycle;
        stats.pages = hpa.stats.clone();
        let os = &self.os.os;
        stats.os_frames_given = os.given;
        stats.os_frames_taken_back = os.taken_back;
        // Every frame the OS gave is back with the OS, in the pool, or mapped.
        let accounted = os.taken_back + hpa.pool_len() as u64 + hpa.mapped_len() as u64;
        if accounted != os.given {
            return Err(place.fail(
                "frames lost",
                format!("{} frames given by the OS accounted for", os.given),
                format!(
                    "{accounted} (back with the OS {}, pool {}, mapped {})",
                    os.taken_back,
                    hpa.pool_len(),
                    hpa.mapped_len()
                ),
            ));
        }
        stats.frames_lost = os.given - accounted;
        Ok(stats)
    }
}
