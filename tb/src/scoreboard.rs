//! The scoreboard's common part: where the run stands (cycle, command, what the core is doing)
//! and the report of the first difference between what a monitor saw and what a golden model
//! predicted. Each env's scoreboard (`envs::*`) holds its models' predictions and compares every
//! monitored transaction as it arrives; the first difference ends the run as a [`Mismatch`].

use crate::model::object_alloc::{HeaderWrite, Op, Response};
use std::collections::VecDeque;
use std::fmt::Display;

/// The first difference between the hardware and the model.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Mismatch {
    pub cycle: u64,
    /// Index of the command concerned (0-based, in issue order).
    pub command: u64,
    pub op: String,
    pub what: String,
    pub expected: String,
    pub got: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at cycle {}, command #{} ({})\n  expected: {}\n  got:      {}",
            self.what, self.cycle, self.command, self.op, self.expected, self.got
        )
    }
}

/// A difference found by an environment model or a check that does not know the run's place:
/// (what, expected, got).
pub type Diff = (String, String, String);

/// Where the run stands, for the report of a difference.
#[derive(Default)]
pub struct Place {
    pub cycle: u64,
    pub command: u64,
    pub op: String,
}

impl Place {
    /// At `cycle`, on command `command`, doing `op`.
    pub fn new(cycle: u64, command: u64, op: String) -> Self {
        Place { cycle, command, op }
    }

    /// The run is at `cycle`, on command `command` (0-based), doing `op`.
    pub fn at(&mut self, cycle: u64, command: u64, op: String) {
        self.cycle = cycle;
        self.command = command;
        self.op = op;
    }

    /// The difference `what` at this place.
    pub fn fail(&self, what: &str, expected: String, got: String) -> Box<Mismatch> {
        Box::new(Mismatch {
            cycle: self.cycle,
            command: self.command,
            op: self.op.clone(),
            what: what.into(),
            expected,
            got,
        })
    }

    /// A [`Diff`] at this place.
    pub fn diff(&self, (what, expected, got): Diff) -> Box<Mismatch> {
        self.fail(&what, expected, got)
    }
}

/// Takes the next expected item and checks it is `got`; on a difference, (expected, got), with
/// "no access" when nothing was expected.
pub fn take_expected<T: PartialEq + Display>(
    expected: &mut VecDeque<T>,
    got: &T,
) -> Result<(), (String, String)> {
    match expected.pop_front() {
        Some(e) if e == *got => Ok(()),
        e => Err((
            e.map_or("no access".into(), |e| e.to_string()),
            got.to_string(),
        )),
    }
}

/// A command as a report shows it.
pub fn fmt_op(op: Op) -> String {
    let (name, arg) = op.log_fields();
    format!("{name} {arg:x}")
}

/// A response as a report shows it.
pub fn fmt_rsp(r: Response) -> String {
    format!("{} {:x}", r.status.name(), r.ptr)
}

/// A header write as a report shows it.
pub fn fmt_write(w: &HeaderWrite) -> String {
    let h = crate::model::object_alloc::Header::from_line(&w.line);
    format!(
        "header write {:x}: bitmap {:016x}{:016x}{:016x}{:016x} next {:x} count {} state {}",
        w.va, h.bitmap[3], h.bitmap[2], h.bitmap[1], h.bitmap[0], h.next, h.count, h.state
    )
}
