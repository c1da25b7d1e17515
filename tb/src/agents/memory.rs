//! A memory the design reads and writes: requests on `<req>_valid` / `_ready` with an address,
//! `_write` and `_wdata`, taken by the testbench with its stall policy, and read data offered
//! back on `<rsp>_valid` / `_ready` / `_rdata`. The header, table, DRAM and record ports are
//! each one [`MemoryAgent`]; a [`Payload`] gives each its names and its data's types.

use super::{port, Sink, Source};
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;
use std::marker::PhantomData;

/// What one memory port carries.
pub trait Payload {
    /// The request port's prefix, its address port, the response port's prefix.
    const PORTS: (&'static str, &'static str, &'static str);
    /// Read data offered to the design.
    type Data;
    /// A request the design made.
    type Req;
    /// Puts read data on `rdata`.
    fn put(dut: &mut Model, rdata: Port, data: &Self::Data);
    /// Random read data, for the cycles no answer is on offer: the data lines mean nothing
    /// while `valid` is low, and a design that takes them then must not get zeros by luck.
    fn junk(rng: &mut ChaCha8Rng) -> Self::Data;
    /// The request at `addr`, a write (with its data on `wdata`) or a read.
    fn take(dut: &mut Model, addr: u64, write: bool, wdata: Port) -> Self::Req;
}

pub struct MemoryAgent<P: Payload> {
    req: Sink,
    addr: Port,
    write: Port,
    wdata: Port,
    rsp: Source,
    rdata: Port,
    /// Junk is on the read data lines (put once each time no answer is on offer).
    junk_on: bool,
    payload: PhantomData<P>,
}

impl<P: Payload> MemoryAgent<P> {
    /// The port of `vt`: a request refused in a cycle with chance `req_stall`, due read data
    /// held back with `rsp_stall`.
    pub fn of(vt: &VTable, req_stall: f64, rsp_stall: f64) -> Self {
        let (req, addr, rsp) = P::PORTS;
        MemoryAgent {
            req: Sink::of(vt, req, req_stall),
            addr: port(vt, addr),
            write: port(vt, &format!("{req}_write")),
            wdata: port(vt, &format!("{req}_wdata")),
            rsp: Source::of(vt, rsp, rsp_stall),
            rdata: port(vt, &format!("{rsp}_rdata")),
            junk_on: false,
            payload: PhantomData,
        }
    }

    /// Driver: the request's ready.
    pub fn drive_req(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng) {
        self.req.drive(dut, rng);
    }

    /// Driver: the read data due (if any); returns what is on offer.
    pub fn drive_rsp(
        &mut self,
        dut: &mut Model,
        rng: &mut ChaCha8Rng,
        due: Option<P::Data>,
    ) -> Option<P::Data> {
        let item = self.rsp.offer(dut, rng, due);
        match &item {
            Some(data) => {
                P::put(dut, self.rdata, data);
                self.junk_on = false;
            }
            // New junk once an answer is off the pins; it stays there until the next one.
            None if !self.junk_on => {
                P::put(dut, self.rdata, &P::junk(rng));
                self.junk_on = true;
            }
            None => {}
        }
        item
    }

    /// Driver: no read data on offer (across a reset).
    pub fn hold(&mut self, dut: &mut Model) {
        self.rsp.hold(dut);
    }

    /// Monitor: the request taken this cycle.
    pub fn request(&self, dut: &mut Model) -> Option<P::Req> {
        if !self.req.fired(dut) {
            return None;
        }
        let addr = dut.peek(self.addr);
        let write = dut.peek(self.write) == 1;
        Some(P::take(dut, addr, write, self.wdata))
    }

    /// Monitor: the design takes the offered read data this cycle.
    pub fn answered(&self, dut: &mut Model) -> bool {
        self.rsp.fired(dut)
    }

    /// Monitor: a request is on the port, taken or not.
    pub fn requesting(&self, dut: &mut Model) -> bool {
        self.req.valid(dut)
    }
}
