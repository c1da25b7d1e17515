//! The walker interface (`walk_req_*` in, `walk_rsp_*` out): the MMU's page faults on a missing
//! page of the region, and the page allocator's answers.

use super::{port, Sink, Source};
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;

/// An answer of the page allocator to a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkRsp {
    pub err: bool,
    pub frame: u64,
}

pub struct WalkerAgent {
    req: Source,
    va: Port,
    rsp: Sink,
    err: Port,
    frame: Port,
}

impl WalkerAgent {
    /// The ports of `vt`; the MMU refuses an answer in a cycle with chance `rsp_stall`.
    pub fn of(vt: &VTable, rsp_stall: f64) -> Self {
        WalkerAgent {
            req: Source::of(vt, "walk_req", 0.0),
            va: port(vt, "walk_req_va"),
            rsp: Sink::of(vt, "walk_rsp", rsp_stall),
            err: port(vt, "walk_rsp_err"),
            frame: port(vt, "walk_rsp_frame"),
        }
    }

    /// Driver: the fault at `va` on offer (if any), then the answer's ready.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, va: Option<u64>) {
        let va = self.req.offer(dut, rng, va);
        dut.poke(self.va, va.unwrap_or(0));
        self.rsp.drive(dut, rng);
    }

    /// Monitor: the fault on offer was taken this cycle.
    pub fn sent(&self, dut: &mut Model) -> bool {
        self.req.fired(dut)
    }

    /// Monitor: the answer taken this cycle.
    pub fn answer(&self, dut: &mut Model) -> Option<WalkRsp> {
        self.rsp.fired(dut).then(|| WalkRsp {
            err: dut.peek(self.err) == 1,
            frame: dut.peek(self.frame),
        })
    }
}
