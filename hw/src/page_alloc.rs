//! The page allocator (HPA): the [`PagePool`] and the [`PageMapper`] behind one set of ports.
//!
//! ```text
//!  walk_*, arena_*, exit_* ---> page_mapper ---> pte_* (table port)
//!                                  |  ^
//!                      take/give   v  |  busy, drain offered
//!  refill_req_*, refill_* <---> page_pool ---> drain_*, starved
//! ```
//!
//! Config port: `cfg_sel` 0 MRS, 1 page-table root frame, 2 LOW, 3 HIGH.

use crate::page_mapper::PageMapper;
use crate::page_pool::PagePool;
use crate::params::{ParamError, Params};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct PageAlloc {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_sel: Signal<In, Bits<2>>,
    pub cfg_data: Signal<In, Bits<64>>,
    pub walk_req_valid: Signal<In, Bit>,
    pub walk_req_ready: Signal<Out, Bit>,
    pub walk_req_va: Signal<In, Bits<48>>,
    pub walk_rsp_valid: Signal<Out, Bit>,
    pub walk_rsp_ready: Signal<In, Bit>,
    pub walk_rsp_frame: Signal<Out, Bits<40>>,
    pub walk_rsp_err: Signal<Out, Bit>,
    pub arena_req_valid: Signal<In, Bit>,
    pub arena_req_ready: Signal<Out, Bit>,
    pub arena_req_va: Signal<In, Bits<48>>,
    pub arena_rsp_valid: Signal<Out, Bit>,
    pub arena_rsp_ready: Signal<In, Bit>,
    pub exit_valid: Signal<In, Bit>,
    pub exit_ready: Signal<Out, Bit>,
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

    mapper: PageMapper,
    pool: PagePool,
}

impl PageAlloc {
    pub fn new(p: &Params) -> Result<Self, ParamError> {
        p.validate()?;
        Ok(PageAlloc {
            clock: Default::default(),
            rst: Default::default(),
            cfg_valid: Default::default(),
            cfg_sel: Default::default(),
            cfg_data: Default::default(),
            walk_req_valid: Default::default(),
            walk_req_ready: Default::default(),
            walk_req_va: Default::default(),
            walk_rsp_valid: Default::default(),
            walk_rsp_ready: Default::default(),
            walk_rsp_frame: Default::default(),
            walk_rsp_err: Default::default(),
            arena_req_valid: Default::default(),
            arena_req_ready: Default::default(),
            arena_req_va: Default::default(),
            arena_rsp_valid: Default::default(),
            arena_rsp_ready: Default::default(),
            exit_valid: Default::default(),
            exit_ready: Default::default(),
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
            mapper: PageMapper::new(p),
            pool: PagePool::new(p),
        })
    }
}

impl Logic for PageAlloc {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, mapper, pool);
        // Mapper outputs that feed the pool come from its flops: wire them first.
        self.pool.busy.next = self.mapper.busy.val();
        self.pool.take_valid.next = self.mapper.take_valid.val();
        self.pool.give_valid.next = self.mapper.give_valid.val();
        self.pool.give_frame.next = self.mapper.give_frame.val();
        self.pool.rst.next = self.rst.val();
        self.pool.cfg_valid.next = self.cfg_valid.val();
        self.pool.cfg_sel.next = self.cfg_sel.val();
        self.pool.cfg_data.next = self.cfg_data.val();
        self.pool.refill_req_ready.next = self.refill_req_ready.val();
        self.pool.refill_valid.next = self.refill_valid.val();
        self.pool.refill_frame.next = self.refill_frame.val();
        self.pool.drain_ready.next = self.drain_ready.val();

        self.mapper.rst.next = self.rst.val();
        self.mapper.cfg_valid.next = self.cfg_valid.val();
        self.mapper.cfg_sel.next = self.cfg_sel.val();
        self.mapper.cfg_data.next = self.cfg_data.val();
        self.mapper.walk_req_valid.next = self.walk_req_valid.val();
        self.mapper.walk_req_va.next = self.walk_req_va.val();
        self.mapper.walk_rsp_ready.next = self.walk_rsp_ready.val();
        self.mapper.arena_req_valid.next = self.arena_req_valid.val();
        self.mapper.arena_req_va.next = self.arena_req_va.val();
        self.mapper.arena_rsp_ready.next = self.arena_rsp_ready.val();
        self.mapper.exit_valid.next = self.exit_valid.val();
        self.mapper.pte_req_ready.next = self.pte_req_ready.val();
        self.mapper.pte_rsp_valid.next = self.pte_rsp_valid.val();
        self.mapper.pte_rsp_rdata.next = self.pte_rsp_rdata.val();
        self.mapper.pool_drain_valid.next = self.pool.drain_valid.val();
        self.mapper.pool_refill_fire.next = self.pool.refill_fire.val();
        self.mapper.take_ready.next = self.pool.take_ready.val();
        self.mapper.take_frame.next = self.pool.take_frame.val();
        self.mapper.give_ready.next = self.pool.give_ready.val();
        self.mapper.map_evt_ready.next = self.map_evt_ready.val();
        self.mapper.dead_evt_ready.next = self.dead_evt_ready.val();

        self.walk_req_ready.next = self.mapper.walk_req_ready.val();
        self.walk_rsp_valid.next = self.mapper.walk_rsp_valid.val();
        self.walk_rsp_frame.next = self.mapper.walk_rsp_frame.val();
        self.walk_rsp_err.next = self.mapper.walk_rsp_err.val();
        self.arena_req_ready.next = self.mapper.arena_req_ready.val();
        self.arena_rsp_valid.next = self.mapper.arena_rsp_valid.val();
        self.exit_ready.next = self.mapper.exit_ready.val();
        self.pte_req_valid.next = self.mapper.pte_req_valid.val();
        self.pte_req_write.next = self.mapper.pte_req_write.val();
        self.pte_req_addr.next = self.mapper.pte_req_addr.val();
        self.pte_req_wdata.next = self.mapper.pte_req_wdata.val();
        self.pte_rsp_ready.next = self.mapper.pte_rsp_ready.val();
        self.refill_req_valid.next = self.pool.refill_req_valid.val();
        self.refill_req_count.next = self.pool.refill_req_count.val();
        self.refill_ready.next = self.pool.refill_ready.val();
        self.drain_valid.next = self.pool.drain_valid.val();
        self.drain_frame.next = self.pool.drain_frame.val();
        self.starved.next = self.pool.starved.val();
        self.pool_count.next = self.pool.count.val();
        self.map_evt_valid.next = self.mapper.map_evt_valid.val();
        self.map_evt_frame.next = self.mapper.map_evt_frame.val();
        self.dead_evt_valid.next = self.mapper.dead_evt_valid.val();
        self.dead_evt_frame.next = self.mapper.dead_evt_frame.val();
    }
}
