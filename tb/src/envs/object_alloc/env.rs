//! The object allocator's env: the design, its agents (command, header, arena server), the
//! header memory and the arena responder, and the scoreboard, stepped once each per cycle in a
//! fixed order.

use super::scoreboard::{ObjectScoreboard, Pending};
use super::RunConfig;
use crate::agents::arena::ArenaServer;
use crate::agents::chance;
use crate::agents::command::CommandAgent;
use crate::agents::header::HeaderAgent;
use crate::env::{ArenaResponder, HeaderMemory};
use crate::line::words;
use crate::model::object_alloc::{Geometry, HeaderWrite, ObjectAllocModel, Op, Response, Status};
use crate::scoreboard::{fmt_op, Mismatch, Place};
use crate::seed;
use crate::stats::{Answer, RunStats};
use crate::stimulus::{Next, Stimulus};
use memento_sim::Model;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::io::Write;

type Check<T = ()> = Result<T, Box<Mismatch>>;

pub struct ObjectAllocEnv {
    cfg: RunConfig,
    rng: ChaCha8Rng,
    dut: Model,
    start: u64,
    cmd: CommandAgent,
    hdr: HeaderAgent,
    arena: ArenaServer,
    mem: HeaderMemory,
    arenas: ArenaResponder,
    sb: ObjectScoreboard,
    /// This run's: the command on offer and the cycle it was first offered in, whether the
    /// stimulus is over, and whether a reset stands for its EXIT (once every command before it
    /// is answered).
    cur: Option<Op>,
    offered: u64,
    stim_done: bool,
    reset_due: bool,
    stats: RunStats,
}

impl ObjectAllocEnv {
    /// Builds the model, resets it and configures `MRS`.
    pub fn new(cfg: RunConfig) -> Self {
        let vt = memento_sim::model_for(memento_hw::emit::Design::ObjectAlloc, &cfg.params)
            .unwrap_or_else(|| {
                panic!(
                    "no compiled object_alloc for {:?}: add it to memento_hw::emit::variants",
                    cfg.params
                )
            });
        let mut dut = Model::new(crate::envs::TraceWindow::table(&cfg.trace, vt));
        dut.reset();
        dut.configure(&[(0, cfg.mrs)]);
        let t = &cfg.timing;
        ObjectAllocEnv {
            rng: seed::rng(cfg.seed, 0xe7),
            start: dut.cycle(),
            cmd: CommandAgent::of(vt, t.rsp_stall),
            hdr: HeaderAgent::of(vt, t.hdr_stall, t.hdr_rsp_stall),
            arena: ArenaServer::of(vt, t.arena_stall),
            dut,
            mem: HeaderMemory::default(),
            arenas: ArenaResponder::default(),
            sb: ObjectScoreboard::new(ObjectAllocModel::new(Geometry::from(&cfg.params), cfg.mrs)),
            cur: None,
            offered: 0,
            stim_done: false,
            reset_due: false,
            stats: RunStats::default(),
            cfg,
        }
    }

    /// The golden model, as it stands after the commands issued so far.
    pub fn golden(&self) -> &ObjectAllocModel {
        &self.sb.golden
    }

    /// Cycles since reset and configuration.
    pub fn cycle(&self) -> u64 {
        self.dut.cycle() - self.start
    }

    /// Runs a stimulus until it is done and every command has answered, comparing every response
    /// and header write. Writes one command-log line per response to `log` when given.
    pub fn run(
        &mut self,
        stim: &mut dyn Stimulus,
        mut log: Option<&mut dyn Write>,
    ) -> Result<RunStats, Box<Mismatch>> {
        self.stats = RunStats::default();
        self.stim_done = false;
        self.reset_due = false;
        let first_cycle = self.dut.cycle();
        while !self.step(stim, &mut log)? {}
        let mut stats = std::mem::take(&mut self.stats);
        stats.cycles = self.dut.cycle() - first_cycle;
        Ok(stats)
    }

    /// One cycle of every part; `Ok(true)` once the stimulus is done and every command answered.
    fn step(&mut self, stim: &mut dyn Stimulus, log: &mut Option<&mut dyn Write>) -> Check<bool> {
        let cycle = self.cycle();
        crate::envs::TraceWindow::apply(&self.cfg.trace, &mut self.dut, cycle);
        if self.reset_due && self.cur.is_none() && self.sb.pending.is_empty() {
            self.reset_for_exit(stim);
            return Ok(false);
        }
        self.next_command(stim, cycle);
        if self.stim_done && self.cur.is_none() && self.sb.pending.is_empty() {
            return Ok(true);
        }
        self.drive(cycle);
        self.dut.settle();
        let (hdr, arena) = (
            self.hdr.requesting(&mut self.dut),
            self.arena.requesting(&mut self.dut),
        );
        self.sb.idle_ports(cycle, hdr, arena)?;
        self.observe_requests(cycle)?;
        if self.arena.exited(&mut self.dut) {
            self.sb.exit_handshake(cycle)?;
        }
        if self.hdr.answered(&mut self.dut) {
            self.mem.pop_read();
        }
        if self.arena.answered(&mut self.dut) {
            self.arenas.pop();
        }
        if self.cmd.offering(&mut self.dut) {
            self.sb.offered(cycle);
        }
        if let Some(got) = self.cmd.response(&mut self.dut) {
            let done = self.sb.response(cycle, got)?;
            self.answered(cycle, done, got, stim, log);
        }
        self.observe_command(cycle, stim);
        self.watchdog(cycle)?;
        self.dut.step();
        Ok(false)
    }

    /// Resets the allocator in place of the stimulus's EXIT: `MRS` written again, and the
    /// model takes the EXIT (a reset must leave the state an EXIT leaves).
    fn reset_for_exit(&mut self, stim: &mut dyn Stimulus) {
        self.dut.reset();
        self.dut.configure(&[(0, self.cfg.mrs)]);
        let e = self.sb.golden.apply(Op::Exit);
        assert!(e.writes.is_empty(), "an EXIT writes no header");
        stim.issued(Op::Exit, &e);
        stim.answered(Op::Exit, e.rsp);
        self.mem.clear();
        self.stats.resets += 1;
        self.reset_due = false;
    }

    /// The core's next command, unless it has one on offer or pauses (a bubble); one EXIT in
    /// `reset_for_exit` is played as a reset.
    fn next_command(&mut self, stim: &mut dyn Stimulus, cycle: u64) {
        if self.cur.is_some()
            || self.stim_done
            || self.reset_due
            || chance(&mut self.rng, self.cfg.timing.cmd_bubble)
        {
            return;
        }
        match stim.next() {
            Next::Cmd(Op::Exit)
                if self.cfg.reset_for_exit > 0
                    && self.rng.gen_ratio(1, self.cfg.reset_for_exit) =>
            {
                self.reset_due = true;
            }
            Next::Cmd(op) => {
                self.cur = Some(op);
                self.offered = cycle;
            }
            Next::Wait => {}
            Next::Done => self.stim_done = true,
        }
    }

    /// Every agent drives its side of the pins.
    fn drive(&mut self, cycle: u64) {
        let (dut, rng) = (&mut self.dut, &mut self.rng);
        self.cmd.drive(dut, rng, self.cur);
        self.hdr.drive_req(dut, rng);
        self.hdr.drive_rsp(dut, rng, self.mem.due(cycle).copied());
        self.arena.drive(dut, rng, self.arenas.due(cycle));
    }

    /// Header and new-arena requests of the oldest command in flight: writes against the
    /// model, reads answered from the header memory after its latency, arenas after theirs.
    fn observe_requests(&mut self, cycle: u64) -> Check {
        if self.sb.pending.is_empty() {
            return Ok(());
        }
        let t = &self.cfg.timing;
        if let Some(req) = self.hdr.request(&mut self.dut) {
            let front = self.sb.pending.front_mut().expect("in flight");
            front.port_traffic = true;
            match req.write {
                Some(line) => {
                    self.stats.header_writes += 1;
                    self.sb
                        .header_write(cycle, HeaderWrite { va: req.va, line })?;
                    self.mem.write(req.va, words(&line));
                }
                None => {
                    self.stats.header_reads += 1;
                    if matches!(front.op, Op::Alloc(_)) {
                        front.refill = true;
                    }
                    let lat = self.rng.gen_range(t.hdr_lat_min..=t.hdr_lat_max);
                    self.mem.start_read(req.va, cycle + lat);
                }
            }
        }
        if let Some(va) = self.arena.request(&mut self.dut) {
            let front = self.sb.pending.front_mut().expect("in flight");
            front.port_traffic = true;
            self.stats.arena_creations += 1;
            self.mem.zero_page(va, self.cfg.params.page);
            let lat = self.rng.gen_range(t.arena_lat_min..=t.arena_lat_max);
            self.arenas.request(cycle + lat);
        }
        Ok(())
    }

    /// The command on offer taken: the model's prediction goes to the scoreboard.
    fn observe_command(&mut self, cycle: u64, stim: &mut dyn Stimulus) {
        let Some(op) = self.cur.filter(|_| self.cmd.accepted(&mut self.dut)) else {
            return;
        };
        let expected = self.sb.accepted(op, cycle);
        let paths = &mut self.stats.paths;
        *paths.entry(format!("{:?}", expected.path)).or_default() += 1;
        expected.count_extras(paths);
        stim.issued(op, expected);
        self.cur = None;
    }

    /// A command answered (and checked): counted and logged.
    fn answered(
        &mut self,
        cycle: u64,
        done: Pending,
        got: Response,
        stim: &mut dyn Stimulus,
        log: &mut Option<&mut dyn Write>,
    ) {
        let stats = &mut self.stats;
        let status = got.status;
        let lat = cycle - done.accepted;
        stats.count_response(&Answer {
            op: done.op,
            status,
            latency: lat,
            traffic: done.port_traffic,
            alloc_hit: !done.port_traffic,
            refill: done.refill,
        });
        if done.op == Op::Exit {
            self.mem.clear();
        }
        if let Some(l) = log.as_mut() {
            let (name, a) = done.op.log_fields();
            let _ = writeln!(l, "{name} {a:x} {} {:x} {lat}", status.name(), got.ptr);
        }
        let (mrs, lane_bits) = (self.cfg.mrs, self.cfg.params.lane_bits);
        stats.count_answer(done.op, status == Status::Ok, |p| (p - mrs) >> lane_bits);
        stim.answered(done.op, got);
    }

    /// A command on offer that the allocator never takes, with none in flight, is a hang the
    /// response watchdog cannot see; a command in flight must be answered in time.
    fn watchdog(&self, cycle: u64) -> Check {
        let limit = self.cfg.watchdog;
        if let Some(op) = self
            .cur
            .filter(|_| self.sb.pending.is_empty() && cycle - self.offered > limit)
        {
            return Err(Place::new(cycle, self.sb.issued, fmt_op(op)).fail(
                "watchdog: command not taken",
                format!("cmd_ready within {limit} cycles"),
                "cmd_ready low with no command in flight".into(),
            ));
        }
        let Some(front) = self.sb.pending.front() else {
            return Ok(());
        };
        if cycle - front.accepted <= limit {
            return Ok(());
        }
        let waiting = if self.mem.reads_in_flight() > 0 {
            "the header port's read response (hdr_rsp)"
        } else if self.arenas.in_flight() > 0 {
            "the new-arena response (arena_rsp)"
        } else {
            "the response port (rsp): the allocator never answered"
        };
        Err(Place::new(cycle, front.index, fmt_op(front.op)).fail(
            "watchdog: no response",
            format!("a response within {limit} cycles"),
            format!("still waiting on {waiting}"),
        ))
    }
}
