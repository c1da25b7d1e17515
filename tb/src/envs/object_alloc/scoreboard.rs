//! The object allocator's scoreboard: the golden model's prediction of every command taken,
//! held until its header writes and its response arrive, compared as they do. Commands are
//! pipelined: several may be in flight, answered in order.

use crate::model::object_alloc::{Effects, HeaderWrite, ObjectAllocModel, Op, Path, Response};
use crate::scoreboard::{fmt_op, fmt_rsp, fmt_write, Mismatch, Place};
use std::collections::VecDeque;

type Check<T = ()> = Result<T, Box<Mismatch>>;

/// A command taken and not yet answered.
pub struct Pending {
    pub index: u64,
    pub op: Op,
    pub accepted: u64,
    pub expected: Effects,
    /// The command made traffic on the header or arena ports.
    pub port_traffic: bool,
    /// A header read for an allocation: an arena refill.
    pub refill: bool,
    /// The first cycle its answer was on offer.
    pub offered: Option<u64>,
}

pub struct ObjectScoreboard {
    pub golden: ObjectAllocModel,
    pub pending: VecDeque<Pending>,
    /// Header writes predicted, with the index of the command that makes them.
    writes: VecDeque<(u64, HeaderWrite)>,
    /// Commands taken so far.
    pub issued: u64,
    /// The cycle the last answer was taken.
    last_answer: Option<u64>,
}

/// The paths the execute stage answers itself (no header or arena traffic, no exit).
fn answered_in_exec(p: Path) -> bool {
    matches!(
        p,
        Path::AllocHit
            | Path::AllocOversize
            | Path::AllocLaneFull
            | Path::FreeHit
            | Path::FreeInvalid(_)
            | Path::DoubleFreeHit
            | Path::Reserved
    )
}

/// The difference `what` at `cycle`, for command `index` (`op`).
fn fail(
    cycle: u64,
    index: u64,
    op: Op,
    what: &str,
    expected: String,
    got: String,
) -> Box<Mismatch> {
    Place::new(cycle, index, fmt_op(op)).fail(what, expected, got)
}

impl ObjectScoreboard {
    pub fn new(golden: ObjectAllocModel) -> Self {
        ObjectScoreboard {
            golden,
            pending: VecDeque::new(),
            writes: VecDeque::new(),
            issued: 0,
            last_answer: None,
        }
    }

    /// The design took `op` at `cycle`: the model's prediction, held until it is answered.
    pub fn accepted(&mut self, op: Op, cycle: u64) -> &Effects {
        let expected = self.golden.apply(op);
        for w in &expected.writes {
            self.writes.push_back((self.issued, *w));
        }
        self.pending.push_back(Pending {
            index: self.issued,
            op,
            accepted: cycle,
            expected,
            port_traffic: false,
            refill: false,
            offered: None,
        });
        self.issued += 1;
        &self.pending.back().expect("pushed").expected
    }

    /// With no command in flight, neither the header nor the arena port may have a request up.
    pub fn idle_ports(&self, cycle: u64, hdr: bool, arena: bool) -> Check {
        if !self.pending.is_empty() || !(hdr || arena) {
            return Ok(());
        }
        Err(fail(
            cycle,
            self.issued,
            Op::Exit,
            "port request with no command outstanding",
            "idle header and new-arena ports".into(),
            format!(
                "hdr_req_valid {} arena_req_valid {}",
                hdr as u8, arena as u8
            ),
        ))
    }

    /// A header write against the next predicted one.
    pub fn header_write(&mut self, cycle: u64, got: HeaderWrite) -> Check {
        let front = self.pending.front().expect("a command in flight");
        let f = |what: &str, exp: String| {
            fail(cycle, front.index, front.op, what, exp, fmt_write(&got))
        };
        match self.writes.pop_front() {
            Some((_, exp)) if exp == got => Ok(()),
            Some((_, exp)) => Err(f("header write differs", fmt_write(&exp))),
            None => Err(f("unexpected header write", "no write".into())),
        }
    }

    /// An exit handshake belongs to an EXIT in flight.
    pub fn exit_handshake(&mut self, cycle: u64) -> Check {
        match self.pending.front_mut() {
            Some(front) if front.op == Op::Exit => {
                front.port_traffic = true;
                Ok(())
            }
            _ => Err(fail(
                cycle,
                self.issued,
                Op::Exit,
                "exit handshake with no EXIT outstanding",
                "no exit_valid".into(),
                "exit_valid".into(),
            )),
        }
    }

    /// A response against the oldest command's prediction; every header write of the command
    /// comes first. Returns the command answered.
    pub fn response(&mut self, cycle: u64, got: Response) -> Check<Pending> {
        let Some(done) = self.pending.pop_front() else {
            return Err(fail(
                cycle,
                self.issued,
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
        if let Some((_, w)) = self.writes.front().filter(|(i, _)| *i == done.index) {
            return Err(fail(
                cycle,
                done.index,
                done.op,
                "response before its header write",
                fmt_write(w),
                "no write".into(),
            ));
        }
        // The pipeline's timing (docs/design.md): a command the execute stage answers itself is
        // offered its answer two cycles after it was taken, or the cycle after the answer ahead
        // of it was taken, whichever is later; so hits run at one per cycle.
        let due = (done.accepted + 2).max(self.last_answer.map_or(0, |p| p + 1));
        if answered_in_exec(done.expected.path) && done.offered != Some(due) {
            return Err(fail(
                cycle,
                done.index,
                done.op,
                "answer from the HOT not offered in its cycle",
                format!("offered in cycle {due}"),
                done.offered
                    .map_or("never".into(), |c| format!("offered in cycle {c}")),
            ));
        }
        self.last_answer = Some(cycle);
        Ok(done)
    }

    /// An answer is on offer in `cycle`: the first such cycle of the oldest command in flight.
    pub fn offered(&mut self, cycle: u64) {
        if let Some(p) = self.pending.front_mut() {
            p.offered.get_or_insert(cycle);
        }
    }
}
