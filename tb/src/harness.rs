//! The cycle loop: drives the Verilated object allocator from a stimulus, answers its header and
//! new-arena ports from the environment models, and checks every response and every header write
//! against the golden model the cycle it happens.

use crate::agents::chance;
use crate::env::{ArenaResponder, EnvTiming, HeaderMemory};
use crate::line::bytes;
use crate::model::object_alloc::{
    Effects, Geometry, HeaderWrite, ObjectAllocModel, Op, Response, Status,
};
use crate::scoreboard::Mismatch;
use crate::seed;
use crate::stats::RunStats;
use memento_hw::object_alloc::{
    OP_ALLOC, OP_EXIT, OP_FREE, OP_RESERVED, ST_DOUBLE_FREE, ST_FALLBACK, ST_INVALID, ST_OK,
};
use memento_hw::Params;
use memento_sim::object_alloc as p;
use memento_sim::{Model, WaveFormat};
use rand::Rng;
use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;

/// What a stimulus offers the driver in a cycle.
pub enum Next {
    Cmd(Op),
    /// Nothing yet: the next command needs a response that has not arrived.
    Wait,
    Done,
}

/// A source of commands.
pub trait Stimulus {
    fn next(&mut self) -> Next;
    /// The command was accepted; `expected` is the golden model's prediction.
    fn issued(&mut self, _op: Op, _expected: &Effects) {}
    /// The hardware answered the command.
    fn answered(&mut self, _op: Op, _rsp: Response) {}
}

/// A waveform window: cycles `from..to` of the run.
#[derive(Clone, Debug)]
pub struct TraceWindow {
    pub from: u64,
    pub to: u64,
    pub path: PathBuf,
    pub format: WaveFormat,
}

/// One run's set-up.
#[derive(Clone)]
pub struct RunConfig {
    pub params: Params,
    pub mrs: u64,
    pub timing: EnvTiming,
    pub seed: u64,
    pub trace: Option<TraceWindow>,
    /// Cycles a command may wait for its response before the run fails.
    pub watchdog: u64,
    /// One EXIT of the stimulus in this many (0: none) is played as a reset instead: once every
    /// command before it is answered, the allocator is reset and MRS written again, and the model
    /// takes the EXIT (a reset must leave the state an EXIT leaves: no HOT entry, class-table
    /// entry or cached header). The reset meets a function's state, so every register's reset
    /// value is checked like every other value.
    pub reset_for_exit: u32,
}

impl RunConfig {
    pub fn new(seed: u64, timing: EnvTiming) -> Self {
        RunConfig {
            params: Params::default(),
            mrs: 1 << 44,
            timing,
            seed,
            trace: None,
            watchdog: 20_000,
            reset_for_exit: 0,
        }
    }
}

struct Pending {
    index: u64,
    op: Op,
    accepted: u64,
    expected: Effects,
    port_traffic: bool,
    refill: bool,
}

pub(crate) fn fmt_op(op: Op) -> String {
    let (name, arg) = op.log_fields();
    format!("{name} {arg:x}")
}

pub(crate) fn fmt_rsp(r: Response) -> String {
    format!("{} {:x}", r.status.name(), r.ptr)
}

pub(crate) fn fmt_write(w: &HeaderWrite) -> String {
    let h = crate::model::object_alloc::Header::from_line(&w.line);
    format!(
        "header write {:x}: bitmap {:016x}{:016x}{:016x}{:016x} next {:x} count {} state {}",
        w.va, h.bitmap[3], h.bitmap[2], h.bitmap[1], h.bitmap[0], h.next, h.count, h.state
    )
}

/// The hardware, the golden model and the environment, kept between runs so that a stream can be
/// fed in pieces (proptest drives it one command at a time).
pub struct Bench {
    cfg: RunConfig,
    rng: rand_chacha::ChaCha8Rng,
    golden: ObjectAllocModel,
    dut: Model,
    mem: HeaderMemory,
    arena: ArenaResponder,
    pending: VecDeque<Pending>,
    writes: VecDeque<(u64, HeaderWrite)>,
    issued: u64,
    start: u64,
}

impl Bench {
    /// Builds the model, resets it and configures `MRS`.
    pub fn new(cfg: RunConfig) -> Self {
        let vt = memento_sim::model_for(memento_hw::emit::Design::ObjectAlloc, &cfg.params)
            .unwrap_or_else(|| {
                panic!(
                    "no compiled object_alloc for {:?}: add it to memento_hw::emit::variants",
                    cfg.params
                )
            });
        assert_eq!(
            vt.ports,
            p::PORTS,
            "every object_alloc variant has the same ports"
        );
        let mut dut = Model::new(vt);
        dut.reset();
        dut.configure(&[(0, cfg.mrs)]);
        let start = dut.cycle();
        Bench {
            rng: seed::rng(cfg.seed, 0xe7),
            golden: ObjectAllocModel::new(Geometry::from(&cfg.params), cfg.mrs),
            dut,
            mem: HeaderMemory::default(),
            arena: ArenaResponder::default(),
            pending: VecDeque::new(),
            writes: VecDeque::new(),
            issued: 0,
            start,
            cfg,
        }
    }

    /// The golden model, as it stands after the commands issued so far.
    pub fn golden(&self) -> &ObjectAllocModel {
        &self.golden
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
        let Bench {
            cfg,
            rng,
            golden,
            dut,
            mem,
            arena,
            pending,
            writes,
            issued,
            start,
            ..
        } = self;
        let start = *start;
        let t = &cfg.timing;
        let mut stats = RunStats::default();
        let mut cur: Option<Op> = None;
        let mut stim_done = false;
        let mut wide = [0u32; 16];
        let page = cfg.params.page;
        let first_cycle = dut.cycle();
        // The cycle the command on offer was first offered in.
        let mut offered = 0u64;
        // A reset stands for the stimulus's EXIT, once every command before it is answered.
        let mut reset_due = false;

        let fail = |cycle: u64, command: u64, op: Op, what: &str, expected: String, got: String| {
            Box::new(Mismatch {
                cycle,
                command,
                op: fmt_op(op),
                what: what.into(),
                expected,
                got,
            })
        };

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
            if reset_due && cur.is_none() && pending.is_empty() {
                dut.reset();
                dut.configure(&[(0, cfg.mrs)]);
                let e = golden.apply(Op::Exit);
                assert!(e.writes.is_empty(), "an EXIT writes no header");
                stim.issued(Op::Exit, &e);
                stim.answered(Op::Exit, e.rsp);
                mem.clear();
                stats.resets += 1;
                reset_due = false;
                continue;
            }
            // Drive this cycle's inputs.
            if cur.is_none() && !stim_done && !reset_due && !chance(rng, t.cmd_bubble) {
                match stim.next() {
                    Next::Cmd(Op::Exit)
                        if cfg.reset_for_exit > 0 && rng.gen_ratio(1, cfg.reset_for_exit) =>
                    {
                        reset_due = true;
                    }
                    Next::Cmd(op) => {
                        cur = Some(op);
                        offered = cycle;
                    }
                    Next::Wait => {}
                    Next::Done => stim_done = true,
                }
            }
            if stim_done && cur.is_none() && pending.is_empty() {
                break;
            }
            let (opc, arg) = match cur {
                Some(Op::Alloc(s)) => (OP_ALLOC, s),
                Some(Op::Free(ptr)) => (OP_FREE, ptr),
                Some(Op::Exit) => (OP_EXIT, 0),
                Some(Op::Reserved(a)) => (OP_RESERVED, a),
                None => (0, 0),
            };
            dut.poke(p::CMD_VALID, cur.is_some() as u64);
            dut.poke(p::CMD_OP, opc);
            dut.poke(p::CMD_ARG, arg);
            let rsp_ready = !chance(rng, t.rsp_stall);
            dut.poke(p::RSP_READY, rsp_ready as u64);
            let hdr_req_ready = !chance(rng, t.hdr_stall);
            dut.poke(p::HDR_REQ_READY, hdr_req_ready as u64);
            let hdr_data = mem
                .due(cycle)
                .copied()
                .filter(|_| !chance(rng, t.hdr_rsp_stall));
            dut.poke(p::HDR_RSP_VALID, hdr_data.is_some() as u64);
            dut.poke_wide(p::HDR_RSP_RDATA, &hdr_data.unwrap_or([0; 16]));
            let arena_req_ready = !chance(rng, t.arena_stall);
            dut.poke(p::ARENA_REQ_READY, arena_req_ready as u64);
            let arena_rsp = arena.due(cycle);
            dut.poke(p::ARENA_RSP_VALID, arena_rsp as u64);
            let exit_ready = !chance(rng, t.arena_stall);
            dut.poke(p::EXIT_READY, exit_ready as u64);
            dut.settle();

            // Sample this cycle's handshakes.
            if pending.is_empty()
                && (dut.peek(p::HDR_REQ_VALID) == 1 || dut.peek(p::ARENA_REQ_VALID) == 1)
            {
                return Err(fail(
                    cycle,
                    *issued,
                    Op::Exit,
                    "port request with no command outstanding",
                    "idle header and new-arena ports".into(),
                    format!(
                        "hdr_req_valid {} arena_req_valid {}",
                        dut.peek(p::HDR_REQ_VALID),
                        dut.peek(p::ARENA_REQ_VALID)
                    ),
                ));
            }
            if let Some(front) = pending.front_mut() {
                if dut.peek(p::HDR_REQ_VALID) == 1 && hdr_req_ready {
                    front.port_traffic = true;
                    let va = dut.peek(p::HDR_REQ_ADDR);
                    if dut.peek(p::HDR_REQ_WRITE) == 1 {
                        dut.peek_wide(p::HDR_REQ_WDATA, &mut wide);
                        let got = HeaderWrite {
                            va,
                            line: bytes(&wide),
                        };
                        stats.header_writes += 1;
                        match writes.pop_front() {
                            Some((_, exp)) if exp == got => {}
                            Some((_, exp)) => {
                                return Err(fail(
                                    cycle,
                                    front.index,
                                    front.op,
                                    "header write differs",
                                    fmt_write(&exp),
                                    fmt_write(&got),
                                ))
                            }
                            None => {
                                return Err(fail(
                                    cycle,
                                    front.index,
                                    front.op,
                                    "unexpected header write",
                                    "no write".into(),
                                    fmt_write(&got),
                                ))
                            }
                        }
                        mem.write(va, wide);
                    } else {
                        stats.header_reads += 1;
                        if matches!(front.op, Op::Alloc(_)) {
                            front.refill = true;
                        }
                        let lat = rng.gen_range(t.hdr_lat_min..=t.hdr_lat_max);
                        mem.start_read(va, cycle + lat);
                    }
                }
                if dut.peek(p::ARENA_REQ_VALID) == 1 && arena_req_ready {
                    front.port_traffic = true;
                    stats.arena_creations += 1;
                    mem.zero_page(dut.peek(p::ARENA_REQ_VA), page);
                    arena.request(cycle + rng.gen_range(t.arena_lat_min..=t.arena_lat_max));
                }
            }
            if dut.peek(p::EXIT_VALID) == 1 && exit_ready {
                match pending.front_mut() {
                    Some(front) if front.op == Op::Exit => front.port_traffic = true,
                    _ => {
                        return Err(fail(
                            cycle,
                            *issued,
                            Op::Exit,
                            "exit handshake with no EXIT outstanding",
                            "no exit_valid".into(),
                            "exit_valid".into(),
                        ))
                    }
                }
            }
            if hdr_data.is_some() && dut.peek(p::HDR_RSP_READY) == 1 {
                mem.pop_read();
            }
            if arena_rsp && dut.peek(p::ARENA_RSP_READY) == 1 {
                arena.pop();
            }
            if dut.peek(p::RSP_VALID) == 1 && rsp_ready {
                let status = match dut.peek(p::RSP_STATUS) {
                    ST_OK => Status::Ok,
                    ST_FALLBACK => Status::Fallback,
                    ST_INVALID => Status::Invalid,
                    ST_DOUBLE_FREE => Status::DoubleFree,
                    _ => unreachable!("2-bit status"),
                };
                let got = Response {
                    status,
                    ptr: dut.peek(p::RSP_PTR),
                };
                let Some(done) = pending.pop_front() else {
                    return Err(fail(
                        cycle,
                        *issued,
                        Op::Exit,
                        "response with no command outstanding",
                        "nothing".into(),
                        fmt_rsp(got),
                    ));
                };
                if got != done.expected.rsp {
                    return Err(fail(
                        cycle,
                        done.index,
                        done.op,
                        "response differs",
                        fmt_rsp(done.expected.rsp),
                        fmt_rsp(got),
                    ));
                }
                if let Some((_, w)) = writes.front().filter(|(i, _)| *i == done.index) {
                    return Err(fail(
                        cycle,
                        done.index,
                        done.op,
                        "response before its header write",
                        fmt_write(w),
                        "no write".into(),
                    ));
                }
                let lat = cycle - done.accepted;
                stats.commands += 1;
                stats.latency_all.add(lat);
                match done.op {
                    Op::Alloc(_) => {
                        stats.allocs += 1;
                        stats.latency_alloc.add(lat);
                        if status == Status::Ok {
                            stats.allocs_ok += 1;
                            stats.alloc_hits += !done.port_traffic as u64;
                            stats.arena_refills += done.refill as u64;
                        }
                    }
                    Op::Free(_) => {
                        stats.frees += 1;
                        stats.latency_free.add(lat);
                        if status == Status::Ok {
                            stats.frees_ok += 1;
                            stats.free_hits += !done.port_traffic as u64;
                        }
                    }
                    Op::Exit => {
                        stats.exits += 1;
                        mem.clear();
                    }
                    Op::Reserved(_) => stats.reserved += 1,
                }
                match status {
                    Status::Fallback => stats.fallbacks += 1,
                    Status::Invalid => stats.invalid += 1,
                    Status::DoubleFree => stats.double_frees += 1,
                    Status::Ok => {}
                }
                if !done.port_traffic {
                    stats.latency_hit.add(lat);
                }
                if let Some(l) = log.as_mut() {
                    let (name, a) = done.op.log_fields();
                    let _ = writeln!(l, "{name} {a:x} {} {:x} {lat}", status.name(), got.ptr);
                }
                let (mrs, lane_bits) = (cfg.mrs, cfg.params.lane_bits);
                stats.count_answer(done.op, status == Status::Ok, |p| (p - mrs) >> lane_bits);
                stim.answered(done.op, got);
            }
            if let Some(op) = cur.filter(|_| dut.peek(p::CMD_READY) == 1) {
                let expected = golden.apply(op);
                for w in &expected.writes {
                    writes.push_back((*issued, *w));
                }
                *stats
                    .paths
                    .entry(format!("{:?}", expected.path))
                    .or_default() += 1;
                expected.count_extras(&mut stats.paths);
                stim.issued(op, &expected);
                pending.push_back(Pending {
                    index: *issued,
                    op,
                    accepted: cycle,
                    expected,
                    port_traffic: false,
                    refill: false,
                });
                *issued += 1;
                cur = None;
            }
            // A command on offer that the allocator never takes, with none in flight, is a hang
            // the response watchdog below cannot see.
            if let Some(op) = cur.filter(|_| pending.is_empty() && cycle - offered > cfg.watchdog) {
                return Err(fail(
                    cycle,
                    *issued,
                    op,
                    "watchdog: command not taken",
                    format!("cmd_ready within {} cycles", cfg.watchdog),
                    "cmd_ready low with no command in flight".into(),
                ));
            }
            if let Some(front) = pending.front() {
                if cycle - front.accepted > cfg.watchdog {
                    let waiting = if mem.reads_in_flight() > 0 {
                        "the header port's read response (hdr_rsp)"
                    } else if arena.in_flight() > 0 {
                        "the new-arena response (arena_rsp)"
                    } else {
                        "the response port (rsp): the allocator never answered"
                    };
                    return Err(fail(
                        cycle,
                        front.index,
                        front.op,
                        "watchdog: no response",
                        format!("a response within {} cycles", cfg.watchdog),
                        format!("still waiting on {waiting}"),
                    ));
                }
            }
            dut.step();
        }
        stats.cycles = dut.cycle() - first_cycle;
        Ok(stats)
    }
}

/// Runs a stimulus on a fresh bench.
pub fn run(
    cfg: &RunConfig,
    stim: &mut dyn Stimulus,
    log: Option<&mut dyn Write>,
) -> Result<RunStats, Box<Mismatch>> {
    Bench::new(cfg.clone()).run(stim, log)
}
