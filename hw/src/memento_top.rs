//! `memento_top`: the object allocator, the page allocator and the main-memory bypass.
//!
//! ```text
//!  cmd_*, rsp_*, hdr_* <--> object_alloc --arena, exit--> page_alloc <--> walk_*, pte_*, refill_*, drain_*
//!                                                             | map_evt, dead_evt
//!  mem_* (from the last-level cache) <-------------------> bypass <--> dram_*
//!  meta_* (frame records, through the last-level cache) <-->
//! ```
//!
//! Every frame the page allocator maps reaches the bypass fresh before its table entry is written;
//! every frame it reclaims at exit reaches it as dead before it goes back to the pool. The config
//! port: `cfg_sel` 0 MRS, 1 page-table root, 2 LOW, 3 HIGH. The bypass counters are status outputs,
//! and `evt_*` show each event the bypass takes (for the testbench's memory model and waveforms).

use crate::bypass::Bypass;
use crate::memento_core::MementoCore;
use crate::params::{ParamError, Params};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct MementoTop {
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
    pub mem_req_valid: Signal<In, Bit>,
    pub mem_req_ready: Signal<Out, Bit>,
    pub mem_req_write: Signal<In, Bit>,
    pub mem_req_addr: Signal<In, Bits<52>>,
    pub mem_req_wdata: Signal<In, Bits<512>>,
    pub mem_rsp_valid: Signal<Out, Bit>,
    pub mem_rsp_ready: Signal<In, Bit>,
    pub mem_rsp_rdata: Signal<Out, Bits<512>>,
    pub dram_req_valid: Signal<Out, Bit>,
    pub dram_req_ready: Signal<In, Bit>,
    pub dram_req_write: Signal<Out, Bit>,
    pub dram_req_addr: Signal<Out, Bits<52>>,
    pub dram_req_wdata: Signal<Out, Bits<512>>,
    pub dram_rsp_valid: Signal<In, Bit>,
    pub dram_rsp_ready: Signal<Out, Bit>,
    pub dram_rsp_rdata: Signal<In, Bits<512>>,
    pub cnt_reads_bypassed: Signal<Out, Bits<32>>,
    pub cnt_writebacks_dropped: Signal<Out, Bits<32>>,
    pub cnt_zero_lines: Signal<Out, Bits<32>>,
    pub cnt_dram_reads: Signal<Out, Bits<32>>,
    pub cnt_dram_writes: Signal<Out, Bits<32>>,
    /// Observation only: the bypass takes a map (`evt_map`) or dead event of `evt_frame` in this
    /// cycle. The memory path's model follows the events in the order the unit takes them.
    pub meta_req_valid: Signal<Out, Bit>,
    pub meta_req_ready: Signal<In, Bit>,
    pub meta_req_write: Signal<Out, Bit>,
    pub meta_req_frame: Signal<Out, Bits<40>>,
    pub meta_req_wdata: Signal<Out, Bits<65>>,
    pub meta_rsp_valid: Signal<In, Bit>,
    pub meta_rsp_ready: Signal<Out, Bit>,
    pub meta_rsp_rdata: Signal<In, Bits<65>>,
    pub evt_taken: Signal<Out, Bit>,
    pub evt_map: Signal<Out, Bit>,
    pub evt_frame: Signal<Out, Bits<40>>,

    core: MementoCore,
    byp: Bypass,
}

impl MementoTop {
    pub fn new(p: &Params) -> Result<Self, ParamError> {
        Ok(MementoTop {
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
            mem_req_valid: Default::default(),
            mem_req_ready: Default::default(),
            mem_req_write: Default::default(),
            mem_req_addr: Default::default(),
            mem_req_wdata: Default::default(),
            mem_rsp_valid: Default::default(),
            mem_rsp_ready: Default::default(),
            mem_rsp_rdata: Default::default(),
            dram_req_valid: Default::default(),
            dram_req_ready: Default::default(),
            dram_req_write: Default::default(),
            dram_req_addr: Default::default(),
            dram_req_wdata: Default::default(),
            dram_rsp_valid: Default::default(),
            dram_rsp_ready: Default::default(),
            dram_rsp_rdata: Default::default(),
            cnt_reads_bypassed: Default::default(),
            cnt_writebacks_dropped: Default::default(),
            cnt_zero_lines: Default::default(),
            cnt_dram_reads: Default::default(),
            cnt_dram_writes: Default::default(),
            meta_req_valid: Default::default(),
            meta_req_ready: Default::default(),
            meta_req_write: Default::default(),
            meta_req_frame: Default::default(),
            meta_req_wdata: Default::default(),
            meta_rsp_valid: Default::default(),
            meta_rsp_ready: Default::default(),
            meta_rsp_rdata: Default::default(),
            evt_taken: Default::default(),
            evt_map: Default::default(),
            evt_frame: Default::default(),
            core: MementoCore::new(p)?,
            byp: Bypass::new(p)?,
        })
    }
}

impl Logic for MementoTop {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, core, byp);
        // The page allocator's events into the bypass first (they come from its flops).
        self.byp.map_valid.next = self.core.map_evt_valid.val();
        self.byp.map_frame.next = self.core.map_evt_frame.val();
        self.byp.dead_valid.next = self.core.dead_evt_valid.val();
        self.byp.dead_frame.next = self.core.dead_evt_frame.val();
        self.byp.rst.next = self.rst.val();
        self.byp.mem_req_valid.next = self.mem_req_valid.val();
        self.byp.mem_req_write.next = self.mem_req_write.val();
        self.byp.mem_req_addr.next = self.mem_req_addr.val();
        self.byp.mem_req_wdata.next = self.mem_req_wdata.val();
        self.byp.mem_rsp_ready.next = self.mem_rsp_ready.val();
        self.byp.dram_req_ready.next = self.dram_req_ready.val();
        self.byp.dram_rsp_valid.next = self.dram_rsp_valid.val();
        self.byp.dram_rsp_rdata.next = self.dram_rsp_rdata.val();
        self.byp.meta_req_ready.next = self.meta_req_ready.val();
        self.byp.meta_rsp_valid.next = self.meta_rsp_valid.val();
        self.byp.meta_rsp_rdata.next = self.meta_rsp_rdata.val();
        self.core.rst.next = self.rst.val();
        self.core.cfg_valid.next = self.cfg_valid.val();
        self.core.cfg_sel.next = self.cfg_sel.val();
        self.core.cfg_data.next = self.cfg_data.val();
        self.core.cmd_valid.next = self.cmd_valid.val();
        self.core.cmd_op.next = self.cmd_op.val();
        self.core.cmd_arg.next = self.cmd_arg.val();
        self.core.rsp_ready.next = self.rsp_ready.val();
        self.core.hdr_req_ready.next = self.hdr_req_ready.val();
        self.core.hdr_rsp_valid.next = self.hdr_rsp_valid.val();
        self.core.hdr_rsp_rdata.next = self.hdr_rsp_rdata.val();
        self.core.walk_req_valid.next = self.walk_req_valid.val();
        self.core.walk_req_va.next = self.walk_req_va.val();
        self.core.walk_rsp_ready.next = self.walk_rsp_ready.val();
        self.core.pte_req_ready.next = self.pte_req_ready.val();
        self.core.pte_rsp_valid.next = self.pte_rsp_valid.val();
        self.core.pte_rsp_rdata.next = self.pte_rsp_rdata.val();
        self.core.refill_req_ready.next = self.refill_req_ready.val();
        self.core.refill_valid.next = self.refill_valid.val();
        self.core.refill_frame.next = self.refill_frame.val();
        self.core.drain_ready.next = self.drain_ready.val();
        self.core.map_evt_ready.next = self.byp.map_ready.val();
        self.core.dead_evt_ready.next = self.byp.dead_ready.val();
        self.cmd_ready.next = self.core.cmd_ready.val();
        self.rsp_valid.next = self.core.rsp_valid.val();
        self.rsp_status.next = self.core.rsp_status.val();
        self.rsp_ptr.next = self.core.rsp_ptr.val();
        self.hdr_req_valid.next = self.core.hdr_req_valid.val();
        self.hdr_req_write.next = self.core.hdr_req_write.val();
        self.hdr_req_addr.next = self.core.hdr_req_addr.val();
        self.hdr_req_wdata.next = self.core.hdr_req_wdata.val();
        self.hdr_rsp_ready.next = self.core.hdr_rsp_ready.val();
        self.walk_req_ready.next = self.core.walk_req_ready.val();
        self.walk_rsp_valid.next = self.core.walk_rsp_valid.val();
        self.walk_rsp_frame.next = self.core.walk_rsp_frame.val();
        self.walk_rsp_err.next = self.core.walk_rsp_err.val();
        self.pte_req_valid.next = self.core.pte_req_valid.val();
        self.pte_req_write.next = self.core.pte_req_write.val();
        self.pte_req_addr.next = self.core.pte_req_addr.val();
        self.pte_req_wdata.next = self.core.pte_req_wdata.val();
        self.pte_rsp_ready.next = self.core.pte_rsp_ready.val();
        self.refill_req_valid.next = self.core.refill_req_valid.val();
        self.refill_req_count.next = self.core.refill_req_count.val();
        self.refill_ready.next = self.core.refill_ready.val();
        self.drain_valid.next = self.core.drain_valid.val();
        self.drain_frame.next = self.core.drain_frame.val();
        self.starved.next = self.core.starved.val();
        self.pool_count.next = self.core.pool_count.val();
        self.mem_req_ready.next = self.byp.mem_req_ready.val();
        self.mem_rsp_valid.next = self.byp.mem_rsp_valid.val();
        self.mem_rsp_rdata.next = self.byp.mem_rsp_rdata.val();
        self.dram_req_valid.next = self.byp.dram_req_valid.val();
        self.dram_req_write.next = self.byp.dram_req_write.val();
        self.dram_req_addr.next = self.byp.dram_req_addr.val();
        self.dram_req_wdata.next = self.byp.dram_req_wdata.val();
        self.dram_rsp_ready.next = self.byp.dram_rsp_ready.val();
        self.cnt_reads_bypassed.next = self.byp.cnt_reads_bypassed.val();
        self.cnt_writebacks_dropped.next = self.byp.cnt_writebacks_dropped.val();
        self.cnt_zero_lines.next = self.byp.cnt_zero_lines.val();
        self.cnt_dram_reads.next = self.byp.cnt_dram_reads.val();
        self.cnt_dram_writes.next = self.byp.cnt_dram_writes.val();
        self.meta_req_valid.next = self.byp.meta_req_valid.val();
        self.meta_req_write.next = self.byp.meta_req_write.val();
        self.meta_req_frame.next = self.byp.meta_req_frame.val();
        self.meta_req_wdata.next = self.byp.meta_req_wdata.val();
        self.meta_rsp_ready.next = self.byp.meta_rsp_ready.val();
        // The bypass raises map_ready only in Idle, with map_valid (its priority); dead_ready is
        // up in Idle whenever no map is offered, so the dead event's own valid takes part.
        self.evt_map.next = self.byp.map_ready.val();
        self.evt_taken.next =
            self.byp.map_ready.val() | (self.core.dead_evt_valid.val() & self.byp.dead_ready.val());
        self.evt_frame.next = self.core.dead_evt_frame.val();
        if self.core.map_evt_valid.val() {
            self.evt_frame.next = self.core.map_evt_frame.val();
        }
    }
}
