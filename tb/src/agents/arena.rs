//! The arena interface between the object allocator and the page allocator: a new arena's
//! pages to map (`arena_req_*`, `arena_rsp_*`) and the function's exit (`exit_*`). The object
//! allocator drives the requests and the page allocator answers them, so each design alone
//! meets the testbench on the other side: [`ArenaRequester`] plays the object allocator for
//! `page_alloc`, [`ArenaServer`] the page allocator for `object_alloc`.

use super::{port, Sink, Source};
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;

/// The object allocator's side, driving `page_alloc`.
pub struct ArenaRequester {
    req: Source,
    va: Port,
    rsp: Sink,
    exit: Source,
}

impl ArenaRequester {
    /// The ports of `vt`; an answer refused in a cycle with chance `rsp_stall`.
    pub fn of(vt: &VTable, rsp_stall: f64) -> Self {
        ArenaRequester {
            req: Source::of(vt, "arena_req", 0.0),
            va: port(vt, "arena_req_va"),
            rsp: Sink::of(vt, "arena_rsp", rsp_stall),
            exit: Source::of(vt, "exit", 0.0),
        }
    }

    /// Driver: the arena page at `va` and the exit on offer (if any), then the answer's ready.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, va: Option<u64>, exit: bool) {
        let va = self.req.offer(dut, rng, va);
        dut.poke(self.va, va.unwrap_or(0));
        self.exit.offer(dut, rng, exit.then_some(()));
        self.rsp.drive(dut, rng);
    }

    /// Monitor: the arena request on offer was taken this cycle.
    pub fn sent(&self, dut: &mut Model) -> bool {
        self.req.fired(dut)
    }

    /// Monitor: the exit on offer was taken this cycle.
    pub fn exited(&self, dut: &mut Model) -> bool {
        self.exit.fired(dut)
    }

    /// Monitor: an answer was taken this cycle.
    pub fn answered(&self, dut: &mut Model) -> bool {
        self.rsp.fired(dut)
    }
}

/// The page allocator's side, answering `object_alloc`.
pub struct ArenaServer {
    req: Sink,
    va: Port,
    rsp: Source,
    exit: Sink,
}

impl ArenaServer {
    /// The ports of `vt`; a request or an exit refused in a cycle with chance `stall`.
    pub fn of(vt: &VTable, stall: f64) -> Self {
        ArenaServer {
            req: Sink::of(vt, "arena_req", stall),
            va: port(vt, "arena_req_va"),
            rsp: Source::of(vt, "arena_rsp", 0.0),
            exit: Sink::of(vt, "exit", stall),
        }
    }

    /// Driver: the request's ready, the answer due (if any), the exit's ready.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, answer_due: bool) {
        self.req.drive(dut, rng);
        self.rsp.offer(dut, rng, answer_due.then_some(()));
        self.exit.drive(dut, rng);
    }

    /// Monitor: the arena page requested this cycle.
    pub fn request(&self, dut: &mut Model) -> Option<u64> {
        self.req.fired(dut).then(|| dut.peek(self.va))
    }

    /// Monitor: the exit taken this cycle.
    pub fn exited(&self, dut: &mut Model) -> bool {
        self.exit.fired(dut)
    }

    /// Monitor: a request is on the port, taken or not.
    pub fn requesting(&self, dut: &mut Model) -> bool {
        self.req.valid(dut)
    }

    /// Monitor: the answer on offer was taken this cycle.
    pub fn answered(&self, dut: &mut Model) -> bool {
        self.rsp.fired(dut)
    }
}
