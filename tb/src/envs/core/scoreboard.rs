//! The scoreboard of `memento_core` and `memento_top`: both golden models' predictions, and the
//! comparison of every transaction the agents monitor against them as it arrives.
//!
//! The object allocator's model predicts every response and header write. The page allocator's
//! predicts every table access, walk answer, refill request, drained frame and bypass event.
//! Arena maps and exits reach the page allocator inside the design; the page model starts them
//! at the first table access after the command that causes them once it expects no other access
//! (a reclaim may still be running after its EXIT was answered).

use crate::agents::events::Events;
use crate::agents::walker::WalkRsp;
use crate::harness::{fmt_rsp, fmt_write};
use crate::model::object_alloc::{
    Effects, Geometry, HeaderWrite, ObjectAllocModel, Op, Path, Response,
};
use crate::model::page_alloc::{MapAnswer, PageAllocModel, PoolGeometry, Requester, TableAccess};
use crate::scoreboard::{Mismatch, Place};
use std::collections::VecDeque;

/// A page-allocator operation the object allocator starts inside the design.
enum HpaStart {
    Arena(u64),
    Exit,
}

pub struct CoreScoreboard {
    pub place: Place,
    pub hoa: ObjectAllocModel,
    pub hpa: PageAllocModel,
    g: Geometry,
    mrs: u64,
    header_writes: VecDeque<HeaderWrite>,
    hpa_starts: VecDeque<HpaStart>,
}

type Check<T = ()> = Result<T, Box<Mismatch>>;

impl CoreScoreboard {
    pub fn new(params: &memento_hw::Params, mrs: u64, root: u64) -> Self {
        let g = Geometry::from(params);
        CoreScoreboard {
            place: Place::default(),
            hoa: ObjectAllocModel::new(g.clone(), mrs),
            hpa: PageAllocModel::new(PoolGeometry::from((params, mrs)), root),
            g,
            mrs,
            header_writes: VecDeque::new(),
            hpa_starts: VecDeque::new(),
        }
    }

    /// No page-allocator work predicted or waiting to start.
    pub fn pages_quiet(&self) -> bool {
        self.hpa.expected_accesses.is_empty() && self.hpa_starts.is_empty()
    }

    /// The exit's reclaim is over: no table work left and every bypass event taken.
    pub fn reclaimed(&self) -> bool {
        self.pages_quiet() && self.hpa.bypass_events.is_empty()
    }

    /// Nothing left the page model expects at the ports.
    pub fn settled(&self) -> bool {
        self.pages_quiet() && self.hpa.expected_drains.is_empty()
    }

    /// The design took `op`: the object model's prediction, and the page-allocator work it
    /// starts inside the design.
    pub fn accepted(&mut self, op: Op) -> Effects {
        let e = self.hoa.apply(op);
        self.header_writes.extend(e.writes.iter().copied());
        match e.path {
            Path::AllocNew => {
                let stride = self.g.stride((e.rsp.ptr - self.mrs) >> self.g.lane_bits);
                self.hpa_starts
                    .push_back(HpaStart::Arena(e.rsp.ptr & !(stride - 1)));
            }
            Path::Exit => self.hpa_starts.push_back(HpaStart::Exit),
            _ => {}
        }
        e
    }

    /// The response of a command against its prediction; every header write comes first.
    pub fn response(&self, expected: &Effects, got: Response) -> Check {
        if got != expected.rsp {
            return Err(self
                .place
                .fail("response differs", fmt_rsp(expected.rsp), fmt_rsp(got)));
        }
        if let Some(w) = self.header_writes.front() {
            return Err(self.place.fail(
                "response before its header write",
                fmt_write(w),
                "no write".into(),
            ));
        }
        Ok(())
    }

    /// A header write against the next predicted one.
    pub fn header_write(&mut self, got: HeaderWrite) -> Check {
        match self.header_writes.pop_front() {
            Some(exp) if exp == got => Ok(()),
            exp => Err(self.place.fail(
                "header write differs",
                exp.map_or("no write".into(), |e| fmt_write(&e)),
                fmt_write(&got),
            )),
        }
    }

    /// A table access against the page model's next one; an arena map or an exit begins with
    /// its first access.
    pub fn table_access(&mut self, got: TableAccess) -> Check<TableAccess> {
        if self.hpa.expected_accesses.is_empty() {
            match self.hpa_starts.pop_front() {
                Some(HpaStart::Arena(va)) => self.hpa.start_map(va, Requester::Arena),
                Some(HpaStart::Exit) => self.hpa.exit(),
                None => {}
            }
        }
        match self.hpa.expected_accesses.pop_front() {
            Some(exp) if exp == got => Ok(got),
            exp => Err(self.place.fail(
                "table access differs",
                exp.map_or("no access".into(), |e| e.to_string()),
                got.to_string(),
            )),
        }
    }

    /// A walk answer against the page model's next answer to the walker. An error answer
    /// carries frame 0 (a deterministic value on the port).
    pub fn walk_answer(&mut self, rsp: WalkRsp) -> Check<MapAnswer> {
        let got = if rsp.err {
            if rsp.frame != 0 {
                return Err(self.place.fail(
                    "walk error answer with a frame",
                    "walk_rsp_frame 0 with walk_rsp_err".into(),
                    format!("frame {:x}", rsp.frame),
                ));
            }
            MapAnswer::OutOfRegion
        } else {
            MapAnswer::Frame(rsp.frame)
        };
        match self.hpa.expected_answers.pop_front() {
            Some((Requester::Walker, a)) if a == got => Ok(got),
            exp => Err(self.place.fail(
                "walk answer differs",
                format!("{exp:?}"),
                format!("{got:?}"),
            )),
        }
    }

    /// Arena answers go to the object allocator inside the design; nothing to see outside.
    pub fn arena_answer_inside(&mut self) {
        if let Some((Requester::Arena, _)) = self.hpa.expected_answers.front() {
            self.hpa.expected_answers.pop_front();
        }
    }

    /// A refill request of `count` frames against the page model's.
    pub fn refill_request(&mut self, count: u64) -> Check {
        match self.hpa.request_taken() {
            Some(c) if c == count => Ok(()),
            exp => Err(self.place.fail(
                "refill request differs",
                format!("{exp:?}"),
                format!("count {count}"),
            )),
        }
    }

    /// A frame handed to the pool.
    pub fn refill(&mut self, frame: u64) -> Check {
        self.hpa
            .refill(frame)
            .map_err(|e| self.place.fail("refill", "a frame owed".into(), e))
    }

    /// A drained frame against the page model's.
    pub fn drained(&mut self, frame: u64) -> Check {
        match self.hpa.drain() {
            Some(f) if f == frame => Ok(()),
            exp => Err(self.place.fail(
                "drained frame differs",
                format!("{exp:?}"),
                format!("{frame:x}"),
            )),
        }
    }

    /// The bypass events taken this cycle against the frames the page model expects.
    pub fn events(&mut self, (map, dead): Events) -> Check {
        for (got, queue, name) in [
            (map, &mut self.hpa.expected_map_events, "map event"),
            (dead, &mut self.hpa.expected_dead_events, "reclaim event"),
        ] {
            let Some(got) = got else { continue };
            match queue.pop_front() {
                Some(f) if f == got => {}
                e => {
                    return Err(self.place.fail(
                        &format!("{name} differs"),
                        format!("{e:x?}"),
                        format!("{got:x}"),
                    ))
                }
            }
        }
        Ok(())
    }

    /// The cycle is over: the page model moves on, and frames are conserved.
    pub fn end_of_cycle(&mut self) -> Check {
        self.hpa.end_of_cycle();
        self.hpa.conserves_frames().map_err(|e| {
            self.place.fail(
                "frames not conserved",
                "frames in = pool + mapped + drained".into(),
                e,
            )
        })
    }
}
