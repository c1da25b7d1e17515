//! The header interface (`hdr_req_*` out, `hdr_rsp_*` in): the object allocator's reads and
//! writes of arena header lines, answered by a header memory.

use super::{port, Sink, Source};
use crate::line::bytes;
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;

/// A header access the design made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderReq {
    pub va: u64,
    /// The line written; `None` for a read.
    pub write: Option<[u8; 64]>,
}

pub struct HeaderAgent {
    req: Sink,
    addr: Port,
    write: Port,
    wdata: Port,
    rsp: Source,
    rdata: Port,
}

impl HeaderAgent {
    /// The ports of `vt`: a request refused with chance `req_stall`, due read data held back a
    /// cycle with chance `rsp_stall`.
    pub fn of(vt: &VTable, req_stall: f64, rsp_stall: f64) -> Self {
        HeaderAgent {
            req: Sink::of(vt, "hdr_req", req_stall),
            addr: port(vt, "hdr_req_addr"),
            write: port(vt, "hdr_req_write"),
            wdata: port(vt, "hdr_req_wdata"),
            rsp: Source::of(vt, "hdr_rsp", rsp_stall),
            rdata: port(vt, "hdr_rsp_rdata"),
        }
    }

    /// Driver: the request's ready, then the read data due this cycle (if any); returns whether
    /// data is on offer.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, due: Option<[u32; 16]>) -> bool {
        self.req.drive(dut, rng);
        let data = self.rsp.offer(dut, rng, due);
        dut.poke_wide(self.rdata, &data.unwrap_or([0; 16]));
        data.is_some()
    }

    /// Monitor: the access taken this cycle.
    pub fn request(&self, dut: &mut Model) -> Option<HeaderReq> {
        if !self.req.fired(dut) {
            return None;
        }
        let va = dut.peek(self.addr);
        let write = (dut.peek(self.write) == 1).then(|| {
            let mut wide = [0u32; 16];
            dut.peek_wide(self.wdata, &mut wide);
            bytes(&wide)
        });
        Some(HeaderReq { va, write })
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
