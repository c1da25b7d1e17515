//! The page allocator's scoreboard: the page model's predictions (table accesses, answers to
//! the walker and the arena requester, refill requests, drained frames, bypass events) against
//! every monitored transaction. The `memento_core` env holds one for the page allocator inside
//! its design.

use crate::agents::events::Events;
use crate::agents::walker::WalkRsp;
use crate::model::page_alloc::{MapAnswer, PageAllocModel, Requester, TableAccess};
use crate::scoreboard::{Mismatch, Place};

type Check<T = ()> = Result<T, Box<Mismatch>>;

pub struct PageScoreboard {
    pub place: Place,
    pub hpa: PageAllocModel,
}

impl PageScoreboard {
    pub fn new(hpa: PageAllocModel) -> Self {
        PageScoreboard {
            place: Place::default(),
            hpa,
        }
    }

    /// A table access against the page model's next one.
    pub fn table_access(&mut self, got: TableAccess) -> Check<TableAccess> {
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

    /// An answer to the arena requester against the page model's next answer.
    pub fn arena_answer(&mut self) -> Check {
        match self.hpa.expected_answers.pop_front() {
            Some((Requester::Arena, MapAnswer::Frame(_))) => Ok(()),
            exp => Err(self.place.fail(
                "arena answer differs",
                format!("{exp:?}"),
                "arena mapped".into(),
            )),
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

    /// At the end of a run, with nothing in flight: every event the model expects was offered
    /// and taken (an event the design never raises is as wrong as a wrong one).
    pub fn events_left(&self, place: &Place) -> Check {
        for (queue, name) in [
            (&self.hpa.expected_map_events, "map event"),
            (&self.hpa.expected_dead_events, "reclaim event"),
        ] {
            if let Some(f) = queue.front() {
                return Err(place.fail(
                    &format!("{name} never offered"),
                    format!("{} {name}s, the first of frame {f:x}", queue.len()),
                    "none".into(),
                ));
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
