//! The scoreboard of `memento_core` and `memento_top`: both golden models' predictions, and the
//! comparison of every transaction the agents monitor against them as it arrives. The page
//! allocator's part is the `page_alloc` env's scoreboard.
//!
//! The object allocator's model predicts every response and header write. The page allocator's
//! predicts every table access, walk answer, refill request, drained frame and bypass event.
//! Arena maps and exits reach the page allocator inside the design; the page model starts them
//! at the first table access after the command that causes them once it expects no other access
//! (a reclaim may still be running after its EXIT was answered).

use crate::envs::page_alloc::scoreboard::PageScoreboard;
use crate::model::object_alloc::{
    Effects, Geometry, HeaderWrite, ObjectAllocModel, Op, Path, Response,
};
use crate::model::page_alloc::{PageAllocModel, PoolGeometry, Requester, TableAccess};
use crate::scoreboard::Mismatch;
use crate::scoreboard::{fmt_rsp, fmt_write};
use std::collections::VecDeque;

/// A page-allocator operation the object allocator starts inside the design.
enum HpaStart {
    Arena(u64),
    Exit,
}

pub struct CoreScoreboard {
    /// The page allocator's scoreboard, with the run's place.
    pub pages: PageScoreboard,
    pub hoa: ObjectAllocModel,
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
            pages: PageScoreboard::new(PageAllocModel::new(
                PoolGeometry::from((params, mrs)),
                root,
            )),
            hoa: ObjectAllocModel::new(g.clone(), mrs),
            g,
            mrs,
            header_writes: VecDeque::new(),
            hpa_starts: VecDeque::new(),
        }
    }

    /// No page-allocator work predicted or waiting to start.
    pub fn pages_quiet(&self) -> bool {
        self.pages.hpa.expected_accesses.is_empty() && self.hpa_starts.is_empty()
    }

    /// The exit's reclaim is over: no table work left and every bypass event taken.
    pub fn reclaimed(&self) -> bool {
        self.pages_quiet() && self.pages.hpa.bypass_events.is_empty()
    }

    /// Nothing left the page model expects at the ports.
    pub fn settled(&self) -> bool {
        self.pages_quiet() && self.pages.hpa.expected_drains.is_empty()
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
            return Err(self.pages.place.fail(
                "response differs",
                fmt_rsp(expected.rsp),
                fmt_rsp(got),
            ));
        }
        if let Some(w) = self.header_writes.front() {
            return Err(self.pages.place.fail(
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
            exp => Err(self.pages.place.fail(
                "header write differs",
                exp.map_or("no write".into(), |e| fmt_write(&e)),
                fmt_write(&got),
            )),
        }
    }

    /// A table access against the page model's next one; an arena map or an exit begins with
    /// its first access.
    pub fn table_access(&mut self, got: TableAccess) -> Check<TableAccess> {
        if self.pages.hpa.expected_accesses.is_empty() {
            match self.hpa_starts.pop_front() {
                Some(HpaStart::Arena(va)) => self.pages.hpa.start_map(va, Requester::Arena),
                Some(HpaStart::Exit) => self.pages.hpa.exit(),
                None => {}
            }
        }
        self.pages.table_access(got)
    }

    /// Arena answers go to the object allocator inside the design; nothing to see outside.
    pub fn arena_answer_inside(&mut self) {
        if let Some((Requester::Arena, _)) = self.pages.hpa.expected_answers.front() {
            self.pages.hpa.expected_answers.pop_front();
        }
    }
}
