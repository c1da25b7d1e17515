//! The page pool: up to `POOL` free physical frames, refilled from and drained to the OS side.
//!
//! ```text
//!                 +-----------+
//!  take_valid --->|           |---> take_ready / take_frame      (mapper takes a frame)
//!  give_valid --->|           |---> give_ready                   (reclaim gives one back)
//!  give_frame --->| page_pool |
//!  busy --------->|           |---> refill_req_valid / _count    (ask the OS for frames)
//!  refill_* ----->|  LIFO of  |<--- refill_req_ready
//!  drain_ready -->|  frames   |---> refill_ready                 (OS delivers frames)
//!                 |           |---> drain_valid / drain_frame    (excess back to the OS)
//!                 |           |---> starved / count
//!                 +-----------+
//! ```
//!
//! One stack operation per cycle. The rules make every frame number a function of the order of
//! the events at the pool's outer ports, so the golden model predicts them exactly:
//! - The mapper owns the pool while `busy` (a walk or a reclaim in progress). Meanwhile refills are
//!   taken only when the mapper waits on an empty pool (`starved`), and drains only when a give
//!   waits on a full pool.
//! - When the mapper is idle, refills enter and frames above `HIGH` drain. A refill waits while a
//!   drain is offered. The mapper does not start while a drain is offered, so an offered drain is
//!   never withdrawn, nor in a cycle in which a refill frame enters (`refill_fire`), so a request
//!   always sees the pool as the refills before it left it.
//! - A refill request (`refill_req_count = HIGH - count`) is raised when, after a cycle's
//!   operation, the count is below `LOW`, no frames are outstanding and no request is pending.
//!   The OS then owes exactly that many frames.
//!
//! `LOW`/`HIGH` reset to the parameters and can be rewritten on the config port (`cfg_sel` 2, 3),
//! under the parameters' rule `LOW < HIGH < POOL`: a watermark keeps only the bits a count of
//! 0..=POOL has, so a write outside that range is a configuration error, not a larger watermark.
//! Storage: the [`FrameStack`] (`POOL * 40` bits) and about 60 flops.

use crate::frame_stack::FrameStack;
use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct PagePool {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_sel: Signal<In, Bits<2>>,
    pub cfg_data: Signal<In, Bits<64>>,
    pub busy: Signal<In, Bit>,
    pub take_valid: Signal<In, Bit>,
    pub take_ready: Signal<Out, Bit>,
    pub take_frame: Signal<Out, Bits<40>>,
    pub give_valid: Signal<In, Bit>,
    pub give_ready: Signal<Out, Bit>,
    pub give_frame: Signal<In, Bits<40>>,
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
    pub count: Signal<Out, Bits<13>>,
    /// A refill frame enters this cycle (the mapper takes no request in such a cycle).
    pub refill_fire: Signal<Out, Bit>,

    stack: FrameStack,
    low: DFF<Bits<13>>,
    high: DFF<Bits<13>>,
    req_valid: DFF<Bit>,
    req_count: DFF<Bits<13>>,
    outstanding: DFF<Bits<13>>,

    capacity: Constant<Bits<13>>,
    /// The bits a count of 0..=POOL can have: a watermark and a request's size keep only those.
    count_kept: Constant<Bits<13>>,
    low_reset: Constant<Bits<13>>,
    high_reset: Constant<Bits<13>>,

    take_fire: Signal<Local, Bit>,
    give_fire: Signal<Local, Bit>,
    drain_fire: Signal<Local, Bit>,
    /// No frame is owed after this cycle.
    owed_none: Signal<Local, Bit>,
    grows: Signal<Local, Bit>,
    shrinks: Signal<Local, Bit>,
    below_low: Signal<Local, Bit>,
    wanted: Signal<Local, Bits<13>>,
}

impl PagePool {
    pub fn new(p: &Params) -> Self {
        PagePool {
            clock: Default::default(),
            rst: Default::default(),
            cfg_valid: Default::default(),
            cfg_sel: Default::default(),
            cfg_data: Default::default(),
            busy: Default::default(),
            take_valid: Default::default(),
            take_ready: Default::default(),
            take_frame: Default::default(),
            give_valid: Default::default(),
            give_ready: Default::default(),
            give_frame: Default::default(),
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
            count: Default::default(),
            refill_fire: Default::default(),
            stack: FrameStack::new(p.pool as usize),
            low: Default::default(),
            high: Default::default(),
            req_valid: Default::default(),
            req_count: Default::default(),
            outstanding: Default::default(),
            capacity: Constant::new((p.pool as u64).to_bits()),
            count_kept: Constant::new(
                ((1u64 << (u32::BITS - p.pool.leading_zeros())) - 1).to_bits(),
            ),
            low_reset: Constant::new((p.low as u64).to_bits()),
            high_reset: Constant::new((p.high as u64).to_bits()),
            take_fire: Default::default(),
            give_fire: Default::default(),
            drain_fire: Default::default(),
            owed_none: Default::default(),
            grows: Default::default(),
            shrinks: Default::default(),
            below_low: Default::default(),
            wanted: Default::default(),
        }
    }
}

impl Logic for PagePool {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, low, high, req_valid, req_count, outstanding);
        clock!(self, clock, stack);
        self.stack.rst.next = self.rst.val();

        self.count.next = self.stack.count.val();
        self.take_frame.next = self.stack.top.val();
        self.drain_frame.next = self.stack.top.val();
        self.take_ready.next = self.stack.count.val() != 0;
        self.give_ready.next = self.stack.count.val() != self.capacity.val();
        self.starved.next = self.take_valid.val() & (self.stack.count.val() == 0);
        self.drain_valid.next = (self.stack.count.val() > self.high.q.val())
            & (!self.busy.val()
                | (self.give_valid.val() & (self.stack.count.val() == self.capacity.val())));
        self.refill_ready.next = (self.outstanding.q.val() != 0)
            & (self.stack.count.val() != self.capacity.val())
            & !self.drain_valid.val()
            & (!self.busy.val() | (self.take_valid.val() & (self.stack.count.val() == 0)));
        self.refill_req_valid.next = self.req_valid.q.val();
        self.refill_req_count.next = bit_cast::<16, 13>(self.req_count.q.val());

        self.take_fire.next = self.take_valid.val() & (self.stack.count.val() != 0);
        self.give_fire.next =
            self.give_valid.val() & (self.stack.count.val() != self.capacity.val());
        self.refill_fire.next = self.refill_valid.val() & self.refill_ready.val();
        self.drain_fire.next = self.drain_valid.val() & self.drain_ready.val();

        self.stack.push.next = self.give_fire.val() | self.refill_fire.val();
        self.stack.push_frame.next = self.refill_frame.val();
        if self.give_fire.val() {
            self.stack.push_frame.next = self.give_frame.val();
        }
        self.stack.pop.next = self.take_fire.val() | self.drain_fire.val();

        // The count after this cycle's moves is count + 1, count - 1 or count (a pop wins when
        // both fire, as the stack does it). The watermark test and the request size are formed
        // for all three from the registered count, and the moves only choose among them, so the
        // handshakes do not run through an adder and a comparator in series.
        self.grows.next = self.give_fire.val() | self.refill_fire.val();
        self.shrinks.next = self.take_fire.val() | self.drain_fire.val();
        self.below_low.next = self.stack.count.val() < self.low.q.val();
        self.wanted.next = self.high.q.val() - self.stack.count.val();
        if self.grows.val() {
            self.below_low.next = (self.stack.count.val() + 1) < self.low.q.val();
            self.wanted.next = self.high.q.val() - self.stack.count.val() - 1;
        }
        if self.shrinks.val() {
            self.below_low.next = self.stack.count.val() <= self.low.q.val();
            self.wanted.next = self.high.q.val() - self.stack.count.val() + 1;
        }
        // A refill frame comes only while frames are owed (`refill_ready`), so the count owed
        // never wraps and keeps the bits of a count; nothing is owed after this cycle when none
        // was, or when this frame is the last.
        self.owed_none.next = self.outstanding.q.val() == 0;
        self.outstanding.d.next = self.outstanding.q.val();
        if self.refill_fire.val() {
            self.owed_none.next = self.outstanding.q.val() == 1;
            self.outstanding.d.next = (self.outstanding.q.val() - 1) & self.count_kept.val();
        }
        if self.req_valid.q.val() & self.refill_req_ready.val() {
            self.req_valid.d.next = false;
            self.outstanding.d.next = self.req_count.q.val();
        }
        if !self.req_valid.q.val() & self.owed_none.val() & self.below_low.val() {
            self.req_valid.d.next = true;
            self.req_count.d.next = self.wanted.val() & self.count_kept.val();
        }

        if self.cfg_valid.val() & (self.cfg_sel.val() == 2) {
            self.low.d.next = self.cfg_data.val().get_bits::<13>(0) & self.count_kept.val();
        }
        if self.cfg_valid.val() & (self.cfg_sel.val() == 3) {
            self.high.d.next = self.cfg_data.val().get_bits::<13>(0) & self.count_kept.val();
        }
        if self.rst.val() {
            self.low.d.next = self.low_reset.val();
            self.high.d.next = self.high_reset.val();
            self.req_valid.d.next = false;
            self.outstanding.d.next = 0.into();
        }
    }
}
