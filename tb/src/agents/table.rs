//! The page-table interface (`pte_req_*` out, `pte_rsp_*` in): the page allocator's 8-byte
//! reads and writes of table entries, answered by a table memory (or the cache above DRAM).

use super::{port, Sink, Source};
use crate::model::page_alloc::TableAccess;
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;

pub struct TableAgent {
    req: Sink,
    addr: Port,
    write: Port,
    wdata: Port,
    rsp: Source,
    rdata: Port,
}

impl TableAgent {
    /// The ports of `vt`: a request refused with chance `req_stall`, a due answer held back a
    /// cycle with chance `rsp_stall`.
    pub fn of(vt: &VTable, req_stall: f64, rsp_stall: f64) -> Self {
        TableAgent {
            req: Sink::of(vt, "pte_req", req_stall),
            addr: port(vt, "pte_req_addr"),
            write: port(vt, "pte_req_write"),
            wdata: port(vt, "pte_req_wdata"),
            rsp: Source::of(vt, "pte_rsp", rsp_stall),
            rdata: port(vt, "pte_rsp_rdata"),
        }
    }

    /// Driver: the request's ready.
    pub fn drive_req(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng) {
        self.req.drive(dut, rng);
    }

    /// Driver: the read answer due this cycle (if any); returns whether one is on offer.
    pub fn drive_rsp(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, due: Option<u64>) -> bool {
        let data = self.rsp.offer(dut, rng, due);
        dut.poke(self.rdata, data.unwrap_or(0));
        data.is_some()
    }

    /// Monitor: the access taken this cycle.
    pub fn request(&self, dut: &mut Model) -> Option<TableAccess> {
        if !self.req.fired(dut) {
            return None;
        }
        let addr = dut.peek(self.addr);
        Some(if dut.peek(self.write) == 1 {
            TableAccess::Write(addr, dut.peek(self.wdata))
        } else {
            TableAccess::Read(addr)
        })
    }

    /// Monitor: the design takes the offered answer this cycle.
    pub fn answered(&self, dut: &mut Model) -> bool {
        self.rsp.fired(dut)
    }

    /// Monitor: a request is on the port, taken or not.
    pub fn requesting(&self, dut: &mut Model) -> bool {
        self.req.valid(dut)
    }
}
