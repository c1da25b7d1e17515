//! `memento_core`: the object allocator with the page allocator behind its new-arena and exit
//! ports, so arenas are mapped by real hardware.
//!
//! ```text
//!  cmd_*, rsp_*, hdr_* <--> object_alloc --arena_req/rsp, exit--> page_alloc <--> walk_*, pte_*,
//!                                                                               refill_*, drain_*
//! ```
//!
//! The config port reaches both: `cfg_sel` 0 MRS, 1 page-table root, 2 LOW, 3 HIGH.

use crate::object_alloc::ObjectAlloc;
use crate::page_alloc::PageAlloc;
use crate::params::{ParamError, Params};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct MementoCore {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_sel: Signal<In, Bits<2>>,
    pub cfg_data: Signal<In, Bits<64>>,
    pub cmd_valid: Signal<In, Bit>,
    pub cmd_ready: Signal<Out, Bit>,
    pub cmd_op: Signal<In, Bits<2>>,
    pub cmd_arg: Signal<In, Bits<64>>,
    pub rsp_valid: Signal<Out, Bit>,
    pub rsp_ready: Signal<In, Bit>,
    pub rsp_status: Signal<Out, Bits<2>>,
    pub rsp_ptr: Signal<Out, Bits<64>>,
    pub hdr_req_valid: Signal<Out, Bit>,
    pub hdr_req_ready: Signal<In, Bit>,
    pub hdr_req_write: Signal<Out, Bit>,
    pub hdr_req_addr: Signal<Out, Bits<48>>,
    pub hdr_req_wdata: Signal<Out, Bits<512>>,
    pub hdr_rsp_valid: Signal<In, Bit>,
    pub hdr_rsp_ready: Signal<Out, Bit>,
    pub hdr_rsp_rdata: Signal<In, Bits<512>>,
    pub walk_req_valid: Signal<In, Bit>,
    pub walk_req_ready: Signal<Out, Bit>,
    pub walk_req_va: Signal<In, Bits<48>>,
    pub walk_rsp_valid: Signal<Out, Bit>,
    pub walk_rsp_ready: Signal<In, Bit>,
    pub walk_rsp_frame: Signal<Out, Bits<40>>,
    pub walk_rsp_err: Signal<Out, Bit>,
    pub pte_req_valid: Signal<Out, Bit>,
    pub pte_req_ready: Signal<In, Bit>,
    pub pte_req_write: Signal<Out, Bit>,
    pub pte_req_addr: Signal<Out, Bits<52>>,
    pub pte_req_wdata: Signal<Out, Bits<64>>,
    pub pte_rsp_valid: Signal<In, Bit>,
    pub pte_rsp_ready: Signal<Out, Bit>,
    pub pte_rsp_rdata: Signal<In, Bits<64>>,
    pub refill_req_valid: Signal<Out, Bit>,
    pub refill_req_ready: Signal<In, Bit>,
    pub refill_req_count: Signal<Out, Bits<16>>,
    pub refill_valid: Signal<In, Bit>,
    pub refill_ready: Signal<Out, Bit>,
    pub refill_frame: Signal<In, Bits<40>>,
    pub drain_valid: Signal<Out, Bit>,
    pub drain_ready: Signal<In, Bit>,
    pub drain_frame: Signal<Out, Bits<40>>,
    pub starved: Signal<Out, Bit>,
    pub pool_count: Signal<Out, Bits<13>>,
    pub map_evt_valid: Signal<Out, Bit>,
    pub map_evt_ready: Signal<In, Bit>,
    pub map_evt_frame: Signal<Out, Bits<40>>,
    pub dead_evt_valid: Signal<Out, Bit>,
    pub dead_evt_ready: Signal<In, Bit>,
    pub dead_evt_frame: Signal<Out, Bits<40>>,

    hoa: ObjectAlloc,
    hpa: PageAlloc,
}

impl MementoCore {
    pub fn new(p: &Params) -> Result<Self, ParamError> {
        Ok(MementoCore {
            clock: Default::default(),
            rst: Default::default(),
            cfg_valid: Default::default(),
            cfg_sel: Default::default(),
            cfg_data: Default::default(),
            cmd_valid: Default::default(),
            cmd_ready: Default::default(),
            cmd_op: Default::default(),
            cmd_arg: Default::default(),
            rsp_valid: Default::default(),
            rsp_ready: Default::default(),
            rsp_status: Default::default(),
            rsp_ptr: Default::default(),
            hdr_req_valid: Default::default(),
            hdr_req_ready: Default::default(),
            hdr_req_write: Default::default(),
            hdr_req_addr: Default::default(),
            hdr_req_wdata: Default::default(),
            hdr_rsp_valid: Default::default(),
            hdr_rsp_ready: Default::default(),
            hdr_rsp_rdata: Default::default(),
            walk_req_valid: Default::default(),
            walk_req_ready: Default::default(),
            walk_req_va: Default::default(),
            walk_rsp_valid: Default::default(),
            walk_rsp_ready: Default::default(),
            walk_rsp_frame: Default::default(),
            walk_rsp_err: Default::default(),
            pte_req_valid: Default::default(),
            pte_req_ready: Default::default(),
            pte_req_write: Default::default(),
            pte_req_addr: Default::default(),
            pte_req_wdata: Default::default(),
            pte_rsp_valid: Default::default(),
            pte_rsp_ready: Default::default(),
            pte_rsp_rdata: Default::default(),
            refill_req_valid: Default::default(),
            refill_req_ready: Default::default(),
            refill_req_count: Default::default(),
            refill_valid: Default::default(),
            refill_ready: Default::default(),
            refill_frame: Default::default(),
            drain_valid: Default::default(),
            drain_ready: Default::default(),
            drain_frame: Default::default(),
            starved: Default::default(),
            pool_count: Default::default(),
            map_evt_valid: Default::default(),
            map_evt_ready: Default::default(),
            map_evt_frame: Default::default(),
            dead_evt_valid: Default::default(),
            dead_evt_ready: Default::default(),
            dead_evt_frame: Default::default(),
            hoa: ObjectAlloc::new(p)?,
            hpa: PageAlloc::new(p)?,
        })
    }
}

impl Logic for MementoCore {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, hoa, hpa);
        // The object allocator's requests toward the page allocator first.
        self.hpa.arena_req_valid.next = self.hoa.arena_req_valid.val();
        self.hpa.arena_req_va.next = self.hoa.arena_req_va.val();
        self.hpa.arena_rsp_ready.next = self.hoa.arena_rsp_ready.val();
        self.hpa.exit_valid.next = self.hoa.exit_valid.val();

        self.hoa.rst.next = self.rst.val();
        self.hoa.cfg_valid.next = self.cfg_valid.val();
        self.hoa.cfg_sel.next = self.cfg_sel.val();
        self.hoa.cfg_data.next = self.cfg_data.val();
        self.hoa.cmd_valid.next = self.cmd_valid.val();
        self.hoa.cmd_op.next = self.cmd_op.val();
        self.hoa.cmd_arg.next = self.cmd_arg.val();
        self.hoa.rsp_ready.next = self.rsp_ready.val();
        self.hoa.hdr_req_ready.next = self.hdr_req_ready.val();
        self.hoa.hdr_rsp_valid.next = self.hdr_rsp_valid.val();
        self.hoa.hdr_rsp_rdata.next = self.hdr_rsp_rdata.val();
        self.hoa.arena_req_ready.next = self.hpa.arena_req_ready.val();
        self.hoa.arena_rsp_valid.next = self.hpa.arena_rsp_valid.val();
        self.hoa.exit_ready.next = self.hpa.exit_ready.val();

        self.hpa.rst.next = self.rst.val();
        self.hpa.cfg_valid.next = self.cfg_valid.val();
        self.hpa.cfg_sel.next = self.cfg_sel.val();
        self.hpa.cfg_data.next = self.cfg_data.val();
        self.hpa.walk_req_valid.next = self.walk_req_valid.val();
        self.hpa.walk_req_va.next = self.walk_req_va.val();
        self.hpa.walk_rsp_ready.next = self.walk_rsp_ready.val();
        self.hpa.pte_req_ready.next = self.pte_req_ready.val();
        self.hpa.pte_rsp_valid.next = self.pte_rsp_valid.val();
        self.hpa.pte_rsp_rdata.next = self.pte_rsp_rdata.val();
        self.hpa.refill_req_ready.next = self.refill_req_ready.val();
        self.hpa.refill_valid.next = self.refill_valid.val();
        self.hpa.refill_frame.next = self.refill_frame.val();
        self.hpa.drain_ready.next = self.drain_ready.val();
        self.hpa.map_evt_ready.next = self.map_evt_ready.val();
        self.hpa.dead_evt_ready.next = self.dead_evt_ready.val();

        self.cmd_ready.next = self.hoa.cmd_ready.val();
        self.rsp_valid.next = self.hoa.rsp_valid.val();
        self.rsp_status.next = self.hoa.rsp_status.val();
        self.rsp_ptr.next = self.hoa.rsp_ptr.val();
        self.hdr_req_valid.next = self.hoa.hdr_req_valid.val();
        self.hdr_req_write.next = self.hoa.hdr_req_write.val();
        self.hdr_req_addr.next = self.hoa.hdr_req_addr.val();
        self.hdr_req_wdata.next = self.hoa.hdr_req_wdata.val();
        self.hdr_rsp_ready.next = self.hoa.hdr_rsp_ready.val();
        self.walk_req_ready.next = self.hpa.walk_req_ready.val();
        self.walk_rsp_valid.next = self.hpa.walk_rsp_valid.val();
        self.walk_rsp_frame.next = self.hpa.walk_rsp_frame.val();
        self.walk_rsp_err.next = self.hpa.walk_rsp_err.val();
        self.pte_req_valid.next = self.hpa.pte_req_valid.val();
        self.pte_req_write.next = self.hpa.pte_req_write.val();
        self.pte_req_addr.next = self.hpa.pte_req_addr.val();
        self.pte_req_wdata.next = self.hpa.pte_req_wdata.val();
        self.pte_rsp_ready.next = self.hpa.pte_rsp_ready.val();
        self.refill_req_valid.next = self.hpa.refill_req_valid.val();
        self.refill_req_count.next = self.hpa.refill_req_count.val();
        self.refill_ready.next = self.hpa.refill_ready.val();
        self.drain_valid.next = self.hpa.drain_valid.val();
        self.drain_frame.next = self.hpa.drain_frame.val();
        self.starved.next = self.hpa.starved.val();
        self.pool_count.next = self.hpa.pool_count.val();
        self.map_evt_valid.next = self.hpa.map_evt_valid.val();
        self.map_evt_frame.next = self.hpa.map_evt_frame.val();
        self.dead_evt_valid.next = self.hpa.dead_evt_valid.val();
        self.dead_evt_frame.next = self.hpa.dead_evt_frame.val();
    }
}
