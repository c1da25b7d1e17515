//! The program on the core: it issues one command at a time and uses each answer like a program
//! would. It writes a pattern into every object it allocates (touching each page first, so a
//! missing page faults to the page allocator through the walker port) and checks the pattern
//! before it frees the object. In `memento_top` an object's lines come through the cache model
//! before they are read or written.

use crate::agents::chance;
use crate::env::mem_path::{Kind, MemPath};
use crate::env::mmu::PhysMem;
use crate::env::FastMap;
use crate::model::object_alloc::{Effects, Op, Path, Response, Status};
use crate::model::page_alloc::MapAnswer;
use crate::scoreboard::fmt_op;
use crate::scoreboard::{Mismatch, Place};
use crate::seed;
use crate::stats::{Answer, LatencyHist, RunStats};
use crate::stimulus::{Next, Stimulus};
use memento_hw::Params;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// How often a page's first touch is preceded by a fault outside the region.
const STRAY_FAULT: f64 = 0.03;

/// How often a command that makes a new arena meets a fault of the core's other accesses on the
/// walker port (a TLB miss on a page of the last object written, while the allocation is on the
/// go), offered 0..=SIDE_DELAY cycles after the command is accepted: the page allocator then
/// has a walk and an arena request to arbitrate, sometimes in the same cycle.
const SIDE_FAULT: f64 = 0.25;
const SIDE_DELAY: u64 = 6;

/// A side fault: its page, the cycle it is offered from, and whether the walker took it.
struct SideFault {
    va: u64,
    due: u64,
    sent: bool,
}

/// A page address outside the region `[mrs, mrs + 2^region_log2)`: mostly `page` with one bit
/// above the region's size flipped (so a region compare that ignores any one bit answers a
/// frame), else anywhere below or above the region.
fn stray_va(p: &Params, mrs: u64, page: u64, rng: &mut ChaCha8Rng) -> u64 {
    let (lo, top) = (p.region_log2(), p.va_bits);
    let va = match rng.gen_range(0..4) {
        0 if mrs > 0 => rng.gen_range(0..mrs),
        1 if mrs + (1 << lo) < 1u64 << top => rng.gen_range(mrs + (1 << lo)..1u64 << top),
        _ => page ^ (1 << rng.gen_range(lo..top)),
    };
    va & !4095
}

/// Byte `i` of the pattern of the object at `ptr` written with `tag`.
fn pattern(ptr: u64, tag: u64, i: u64) -> u8 {
    (seed::mix(ptr ^ tag.rotate_left(17) ^ (i / 8)) >> (8 * (i % 8))) as u8
}

enum Phase {
    /// Ready for the next command.
    Idle,
    /// A command on the port or awaiting its answer.
    Command {
        op: Op,
        accepted: Option<u64>,
        expected: Option<Effects>,
        traffic: bool,
        refill: bool,
    },
    /// Bringing an object's lines into the cache, then checking its pattern before `op` frees it.
    Fetch {
        op: Op,
        ptr: u64,
        len: u64,
        tag: u64,
    },
    /// Bringing a new object's lines into the cache, then writing its pattern.
    Store { ptr: u64, len: u64 },
    /// Touching the pages of a new object before writing its pattern.
    Touch {
        ptr: u64,
        len: u64,
        page: u64,
        fault: Option<(u64, bool)>,
    },
}

impl Phase {
    /// `op` on the command port, not yet accepted.
    fn command(op: Op) -> Self {
        Phase::Command {
            op,
            accepted: None,
            expected: None,
            traffic: false,
            refill: false,
        }
    }
}

/// What the program does when it has no command on the go.
pub enum Idle {
    /// It has a command (or an object to read first).
    Busy,
    /// The stream is over (and the final exit answered).
    Done,
}

pub struct Program {
    phase: Phase,
    /// Live objects: pointer to (length, pattern tag).
    objects: FastMap<u64, (u64, u64)>,
    /// Commands answered.
    pub index: u64,
    stim_done: bool,
    exited_last: bool,
    walk_since: Option<u64>,
    final_exit: bool,
    /// Object lines go through the cache model (`memento_top`).
    cached: bool,
    /// The side fault on the go, if any (a touch's fault waits for it: one walk at a time).
    side: Option<SideFault>,
    /// Side faults come from their own stream, so that the commands and the stalls drawn are
    /// the same with or without them.
    side_rng: ChaCha8Rng,
    /// The first page of the last object written (mapped until the next exit).
    last_page: Option<u64>,
}

type Check<T = ()> = Result<T, Box<Mismatch>>;

impl Program {
    pub fn new(final_exit: bool, cached: bool, seed: u64) -> Self {
        Program {
            phase: Phase::Idle,
            objects: FastMap::default(),
            index: 0,
            stim_done: false,
            exited_last: false,
            walk_since: None,
            final_exit,
            cached,
            side: None,
            side_rng: seed::rng(seed, 0x51de),
            last_page: None,
        }
    }

    /// What the program is doing, for a mismatch report.
    pub fn describe(&self) -> String {
        match &self.phase {
            Phase::Command { op, .. } => fmt_op(*op),
            Phase::Touch { ptr, .. } => format!("touching object {ptr:x}"),
            Phase::Fetch { op, .. } => format!("reading the object before {}", fmt_op(*op)),
            Phase::Store { ptr, .. } => format!("writing object {ptr:x}"),
            Phase::Idle => "idle".into(),
        }
    }

    pub fn idle(&self) -> bool {
        matches!(self.phase, Phase::Idle)
    }

    pub fn touching(&self) -> bool {
        matches!(self.phase, Phase::Touch { .. })
    }

    /// Takes the next command of `stim` (or the final exit). A free of an object the program
    /// wrote checks its pattern first: through the cache (a fetch phase), or straight from
    /// memory.
    pub fn next(
        &mut self,
        stim: &mut dyn Stimulus,
        mem: &PhysMem,
        stats: &mut u64,
        place: &Place,
    ) -> Check<Idle> {
        if self.side.is_some() {
            // The next command waits for the side fault's walk (an exit must not overtake it).
            return Ok(Idle::Busy);
        }
        let next = if self.stim_done {
            None
        } else {
            match stim.next() {
                Next::Cmd(op) => Some(op),
                Next::Wait => unreachable!("one command at a time: every answer is back"),
                Next::Done => {
                    self.stim_done = true;
                    None
                }
            }
        };
        let next = next.or_else(|| (self.final_exit && !self.exited_last).then_some(Op::Exit));
        let Some(op) = next else {
            return Ok(Idle::Done);
        };
        let tracked = match op {
            Op::Free(ptr) => self.objects.remove(&ptr).map(|(len, tag)| (ptr, len, tag)),
            _ => None,
        };
        self.phase = match tracked {
            Some((ptr, len, tag)) if self.cached => Phase::Fetch { op, ptr, len, tag },
            Some((ptr, len, tag)) => {
                check_in_memory(mem, ptr, len, tag, place)?;
                *stats += 1;
                Phase::command(op)
            }
            None => Phase::command(op),
        };
        Ok(Idle::Busy)
    }

    /// The command to offer this cycle: one not yet accepted.
    pub fn command(&self) -> Option<Op> {
        match &self.phase {
            Phase::Command {
                op, accepted: None, ..
            } => Some(*op),
            _ => None,
        }
    }

    /// The fault to offer the walker this cycle, noting when a touch's walk began: a side fault
    /// once due, else a touch's.
    pub fn fault(&mut self, cycle: u64) -> Option<u64> {
        if let Some(side) = &self.side {
            return (!side.sent && cycle >= side.due).then_some(side.va);
        }
        let va = match &self.phase {
            Phase::Touch {
                fault: Some((va, false)),
                ..
            } => Some(*va),
            _ => None,
        };
        if va.is_some() && self.walk_since.is_none() {
            self.walk_since = Some(cycle);
        }
        va
    }

    /// The walker took the fault on offer; returns its address.
    pub fn fault_sent(&mut self) -> Option<u64> {
        if let Some(side) = &mut self.side {
            side.sent = true;
            return Some(side.va);
        }
        match &mut self.phase {
            Phase::Touch {
                fault: Some((va, sent @ false)),
                ..
            } => {
                *sent = true;
                Some(*va)
            }
            _ => None,
        }
    }

    /// The walker answered the fault (with `got`); a touch's walk latency goes to `hist`.
    pub fn fault_answered(
        &mut self,
        cycle: u64,
        got: MapAnswer,
        hist: &mut LatencyHist,
        place: &Place,
    ) -> Check {
        if self.side.as_ref().is_some_and(|s| s.sent) {
            self.side = None;
            return Ok(());
        }
        match &mut self.phase {
            Phase::Touch { fault, .. } if matches!(fault, Some((_, true))) => {
                *fault = None;
                if let Some(t0) = self.walk_since.take() {
                    hist.add(cycle - t0);
                }
                Ok(())
            }
            _ => Err(place.fail(
                "walk answer with no fault outstanding",
                "none".into(),
                format!("{got:?}"),
            )),
        }
    }

    /// A header access went out while the command was on the go: it made port traffic, and a
    /// header read for an allocation is an arena refill.
    pub fn header_traffic(&mut self, read: bool) {
        if let Phase::Command {
            traffic,
            refill,
            op,
            ..
        } = &mut self.phase
        {
            *traffic = true;
            *refill |= matches!(op, Op::Alloc(_)) && read;
        }
    }

    /// The design took the command at `cycle`, with the model's prediction `e`.
    pub fn accepted(&mut self, cycle: u64, e: Effects) -> Op {
        let Phase::Command {
            op,
            accepted,
            expected,
            ..
        } = &mut self.phase
        else {
            unreachable!("a command is accepted only while offered");
        };
        let new_arena = e.path == Path::AllocNew;
        *accepted = Some(cycle);
        *expected = Some(e);
        let op = *op;
        if let Some(va) = self.last_page.filter(|_| new_arena && self.side.is_none()) {
            if chance(&mut self.side_rng, SIDE_FAULT) {
                let due = cycle + self.side_rng.gen_range(0..=SIDE_DELAY);
                self.side = Some(SideFault {
                    va,
                    due,
                    sent: false,
                });
            }
        }
        op
    }

    /// The design answered: the command and its prediction, with whether it made header
    /// traffic and refilled an arena, and its latency; the program goes idle (an allocation
    /// then touches its pages, see [`Program::answered`]).
    pub fn take_answer(&mut self, cycle: u64) -> Option<Answered> {
        let Phase::Command {
            op,
            accepted: Some(acc),
            expected: Some(e),
            traffic,
            refill,
        } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            return None;
        };
        Some(Answered {
            op,
            expected: e,
            traffic,
            refill,
            latency: cycle - acc,
        })
    }

    /// Uses the answer to a command: counts it, and touches a new object's pages next.
    pub fn answered(&mut self, a: &Answered, got: Response, h: &mut RunStats) {
        let ok = got.status == Status::Ok;
        h.count_response(&Answer {
            op: a.op,
            status: got.status,
            latency: a.latency,
            traffic: a.traffic,
            // Arena creation is inside the design: classify by the path the model took.
            alloc_hit: a.expected.path == Path::AllocHit,
            refill: a.refill,
        });
        match a.op {
            Op::Alloc(size) if ok => {
                h.arena_creations += (a.expected.path == Path::AllocNew) as u64;
                self.phase = Phase::Touch {
                    ptr: got.ptr,
                    len: size.max(1),
                    page: got.ptr & !4095,
                    fault: None,
                };
            }
            Op::Exit => {
                self.objects.clear();
                self.last_page = None;
            }
            _ => {}
        }
        self.exited_last = a.op == Op::Exit;
        self.index += 1;
    }

    /// Touches the next page of a new object; once all are mapped, writes its pattern (or, with
    /// the cache, asks for its lines first). Now and then the MMU faults on an address outside
    /// the region first, which the page allocator must refuse (its answer is checked like any
    /// other).
    pub fn touch(&mut self, mem: &mut PhysMem, rng: &mut ChaCha8Rng, params: &Params, mrs: u64) {
        let Phase::Touch {
            ptr,
            len,
            page,
            fault: fault @ None,
        } = &mut self.phase
        else {
            return;
        };
        let end = *ptr + *len;
        while *page < end && mem.translate(*page).is_some() {
            *page += 4096;
        }
        if *page < end {
            let va = if chance(rng, STRAY_FAULT) {
                stray_va(params, mrs, *page, rng)
            } else {
                *page
            };
            *fault = Some((va, false));
            return;
        }
        let (ptr, len) = (*ptr, *len);
        if self.cached {
            self.phase = Phase::Store { ptr, len };
            return;
        }
        let tag = rng.gen::<u64>();
        for i in 0..len {
            let va = ptr + i;
            let frame = mem.translate(va).expect("touched");
            mem.set_byte(frame, va & 4095, pattern(ptr, tag, i));
        }
        self.objects.insert(ptr, (len, tag));
        self.last_page = Some(ptr & !4095);
        self.phase = Phase::Idle;
    }

    /// Through the cache: once every line of the object in a fetch or store is in, checks the
    /// pattern (then offers the free) or writes it. Returns whether an object was checked.
    pub fn through_cache(
        &mut self,
        m: &mut MemPath,
        mem: &mut PhysMem,
        rng: &mut ChaCha8Rng,
        place: &Place,
    ) -> Check<bool> {
        let (Phase::Fetch { ptr, len, .. } | Phase::Store { ptr, len }) = &self.phase else {
            return Ok(false);
        };
        let lines = mem.lines_of(*ptr, *len);
        let mut all = true;
        for (line, ..) in &lines {
            all &= m.present(*line, Kind::Data);
        }
        if !all {
            return Ok(false);
        }
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Fetch { op, ptr, tag, .. } => {
                for (line, off, at, n) in &lines {
                    let data = m.read(*line);
                    for k in 0..*n {
                        let i = at + k as u64;
                        if data[off + k] != pattern(ptr, tag, i) {
                            return Err(place.fail(
                                "object data differs before its free",
                                format!("byte {i} = {:02x}", pattern(ptr, tag, i)),
                                format!("{:02x} (line {line:x})", data[off + k]),
                            ));
                        }
                    }
                }
                self.phase = Phase::command(op);
                Ok(true)
            }
            Phase::Store { ptr, len } => {
                let tag = rng.gen::<u64>();
                for (line, off, at, n) in &lines {
                    let bytes: Vec<u8> =
                        (0..*n as u64).map(|k| pattern(ptr, tag, at + k)).collect();
                    m.write(*line, *off, &bytes);
                    for (k, b) in bytes.iter().enumerate() {
                        mem.set_byte(line >> 12, (line & 4095) + (*off + k) as u64, *b);
                    }
                }
                self.objects.insert(ptr, (len, tag));
                self.last_page = Some(ptr & !4095);
                Ok(false)
            }
            _ => unreachable!("matched above"),
        }
    }
}

/// A command the design answered, as the program saw it.
pub struct Answered {
    pub op: Op,
    pub expected: Effects,
    pub traffic: bool,
    pub refill: bool,
    pub latency: u64,
}

/// Checks an object's pattern in memory before its free.
fn check_in_memory(mem: &PhysMem, ptr: u64, len: u64, tag: u64, place: &Place) -> Check {
    for i in 0..len {
        let va = ptr + i;
        let Some(frame) = mem.translate(va) else {
            return Err(place.fail(
                "object page unmapped before its free",
                "mapped".into(),
                format!("{va:x}"),
            ));
        };
        let got = mem.byte(frame, va & 4095);
        if got != pattern(ptr, tag, i) {
            return Err(place.fail(
                "object data differs before its free",
                format!("byte {i} = {:02x}", pattern(ptr, tag, i)),
                format!("{got:02x} (frame {frame:x})"),
            ));
        }
    }
    Ok(())
}
