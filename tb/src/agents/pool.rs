//! The pool's OS interface: refill requests (`refill_req_*` out), frames handed in (`refill_*`
//! in) and frames drained back (`drain_*` out), plus the pool's status outputs.

use super::{port, Sink, Source};
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;

pub struct PoolAgent {
    request: Sink,
    count: Port,
    refill: Source,
    frame: Port,
    drain: Sink,
    drained: Port,
    pool_count: Port,
    starved: Port,
}

impl PoolAgent {
    /// The ports of `vt`: the OS refuses a request in a cycle with chance `req_stall` and a
    /// drained frame with chance `drain_stall`.
    pub fn of(vt: &VTable, req_stall: f64, drain_stall: f64) -> Self {
        PoolAgent {
            request: Sink::of(vt, "refill_req", req_stall),
            count: port(vt, "refill_req_count"),
            refill: Source::of(vt, "refill", 0.0),
            frame: port(vt, "refill_frame"),
            drain: Sink::of(vt, "drain", drain_stall),
            drained: port(vt, "drain_frame"),
            pool_count: port(vt, "pool_count"),
            starved: port(vt, "starved"),
        }
    }

    /// Driver: the request's ready, the frame the OS offers (if any), the drain's ready.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, offer: Option<u64>) {
        self.request.drive(dut, rng);
        let f = self.refill.offer(dut, rng, offer);
        dut.poke(self.frame, f.unwrap_or(0));
        self.drain.drive(dut, rng);
    }

    /// Driver: nothing offered and nothing taken (the OS side quiet), without a draw.
    pub fn quiet(&mut self, dut: &mut Model) {
        self.request.hold(dut);
        self.refill.hold(dut);
        self.drain.hold(dut);
    }

    /// Monitor: the count of the refill request taken this cycle.
    pub fn request(&self, dut: &mut Model) -> Option<u64> {
        self.request.fired(dut).then(|| dut.peek(self.count))
    }

    /// Monitor: the refill request is up, taken or not.
    pub fn requesting(&self, dut: &mut Model) -> bool {
        self.request.valid(dut)
    }

    /// Monitor: the offered frame was taken this cycle.
    pub fn refilled(&self, dut: &mut Model) -> bool {
        self.refill.fired(dut)
    }

    /// Monitor: the frame drained this cycle.
    pub fn drained(&self, dut: &mut Model) -> Option<u64> {
        self.drain.fired(dut).then(|| dut.peek(self.drained))
    }

    /// Monitor: a drained frame is on offer, taken or not.
    pub fn draining(&self, dut: &mut Model) -> bool {
        self.drain.valid(dut)
    }

    /// Monitor: frames in the pool.
    pub fn count(&self, dut: &mut Model) -> u64 {
        dut.peek(self.pool_count)
    }

    /// Monitor: the mapper waits on an empty pool.
    pub fn starved(&self, dut: &mut Model) -> bool {
        dut.peek(self.starved) == 1
    }
}
