//! The object allocator's execute stage (its `Exec` state): the HOT entry and the class-table
//! entry read for the executing command, decoded, and what the command does with them: an answer
//! from the HOT (and the entry it leaves), or the miss state it goes to and the arena that miss
//! is about. Combinational; every input is a register of the allocator, a port of one of its
//! RAMs or an output of `slot_calc`. Inside: `obj_offset` (the ready object's offset) and
//! `lowest_free` (the entry's next free object once that one is taken; in `PopHit`, a popped
//! arena's first free object).
//!
//! ```text
//!  hot_data, hot_valid, ct_data -------->|          |----> rsp_valid, rsp_status, rsp_ptr
//!  ex_op, ex_arg, ex_cls, ex_oversize -->|          |----> hot_wr_en, hot_wr_data
//!  ex_stride, mrs, status_q, rsp_ready ->| hoa_exec |----> miss, miss_state, miss_va
//!  arena_off, slot, in_header, --------->|          |----> set_va, alloc_miss, use_pop
//!  misaligned, past_end, active -------->|          |----> hot_base, next_bump
//!  miss_rsp_valid, miss_wr_en/data ----->|          |
//!  pop_bitmap, pop_count, pop_va, pop_hit|          |
//! ```
//!
//! Outside `Exec` (`active` low) the answer and the HOT write are the miss states', passed
//! through, and in `PopHit` the HOT write is the popped arena's entry.
//!
//! - ALLOC: oversize is FALLBACK; a live entry with room answers its ready lowest free object
//!   (`obj_offset` of its `nxt`) and leaves the bitmap with that bit set, the count one higher
//!   and `lowest_free`'s next free object as its next; else the class's available list (`PopReq`) or a new arena at the
//!   bump pointer (`NewReq`), after evicting a full dirty entry (`AllocEvict`); with neither, the
//!   lane is full: FALLBACK.
//! - FREE: a pointer outside the region, in a header, between objects, past the arena's end or
//!   above the bump pointer is INVALID; one in the HOT's arena frees its slot (DOUBLE_FREE if it
//!   was free); any other goes to the header (`FreeReq`).
//! - EXIT goes to `ExitReq`; the reserved op is INVALID.
//!
//! Entry fields (bit offsets): HOT base 0, count 48, dirty 57, bitmap 64, nxt 320; class table
//! head 0, bump 48.

use crate::lowest_free::LowestFree;
use crate::obj_offset::ObjOffset;
use crate::object_alloc::HoaState;
use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct HoaExec {
    pub hot_data: Signal<In, Bits<328>>,
    pub hot_valid: Signal<In, Bit>,
    pub ct_data: Signal<In, Bits<96>>,
    pub ex_op: Signal<In, Bits<2>>,
    pub ex_arg: Signal<In, Bits<64>>,
    pub ex_cls: Signal<In, Bits<6>>,
    pub ex_oversize: Signal<In, Bit>,
    pub ex_stride: Signal<In, Bits<48>>,
    pub mrs: Signal<In, Bits<48>>,
    /// The registered status, which `rsp_status` shows while nothing is answered.
    pub status_q: Signal<In, Bits<2>>,
    pub rsp_ready: Signal<In, Bit>,
    /// The allocator is in `Exec`; else the HOT write and the answer are the miss states'
    /// (`miss_*`), passed through.
    pub active: Signal<In, Bit>,
    pub miss_rsp_valid: Signal<In, Bit>,
    pub miss_wr_en: Signal<In, Bit>,
    pub miss_wr_data: Signal<In, Bits<328>>,
    pub arena_off: Signal<In, Bits<48>>,
    pub slot: Signal<In, Bits<8>>,
    pub in_header: Signal<In, Bit>,
    pub misaligned: Signal<In, Bit>,
    pub past_end: Signal<In, Bit>,
    /// In `PopHit` (`pop_hit`), the popped arena's bitmap and count (from its header line in
    /// `line_q`) and address: the HOT entry it becomes is written here, beside an alloc's, so
    /// that the lowest free object passes one multiplexer on its way to the HOT for both.
    pub pop_bitmap: Signal<In, Bits<256>>,
    pub pop_count: Signal<In, Bits<9>>,
    pub pop_va: Signal<In, Bits<48>>,
    pub pop_hit: Signal<In, Bit>,
    pub rsp_valid: Signal<Out, Bit>,
    pub rsp_status: Signal<Out, Bits<2>>,
    pub rsp_ptr: Signal<Out, Bits<64>>,
    pub hot_wr_en: Signal<Out, Bit>,
    pub hot_wr_data: Signal<Out, Bits<328>>,
    /// The command leaves `Exec` for `miss_state`; with `set_va`, about the arena or header at
    /// `miss_va` (an exit is about no address).
    pub miss: Signal<Out, Bit>,
    pub miss_state: Signal<Out, HoaState>,
    pub set_va: Signal<Out, Bit>,
    pub miss_va: Signal<Out, Bits<48>>,
    /// An alloc's miss: `use_pop` says whether it pops the available list (else a new arena).
    pub alloc_miss: Signal<Out, Bit>,
    pub use_pop: Signal<Out, Bit>,
    /// The entry's arena (the header `AllocEvict` writes) and the class's bump pointer after a
    /// new arena (what `NewWait` writes to the class table).
    pub hot_base: Signal<Out, Bits<48>>,
    pub next_bump: Signal<Out, Bits<48>>,

    /// The entry's `nxt` object's offset in its arena.
    obj_offset: ObjOffset,
    /// The lowest free object after the entry's `nxt` is taken (or of `pop_bitmap`).
    lowest_free: LowestFree,
    lane_bits: Constant<Bits<8>>,
    region_log2: Constant<Bits<8>>,
    lane_mask: Constant<Bits<64>>,
    objs: Constant<Bits<9>>,

    hot_count: Signal<Local, Bits<9>>,
    hot_dirty: Signal<Local, Bit>,
    hot_bitmap: Signal<Local, Bits<256>>,
    hot_nxt: Signal<Local, Bits<8>>,
    hot_full: Signal<Local, Bit>,
    /// The entry's count after an alloc and after a free, at the count's own width (an
    /// expression inside the 328-bit entry would be computed at 328 bits).
    hot_inc: Signal<Local, Bits<9>>,
    hot_dec: Signal<Local, Bits<9>>,
    ct_head: Signal<Local, Bits<48>>,
    ct_bump: Signal<Local, Bits<48>>,
    lane_base: Signal<Local, Bits<48>>,
    lane_room: Signal<Local, Bit>,
    alloc_ptr: Signal<Local, Bits<64>>,
    taken_bitmap: Signal<Local, Bits<256>>,
    region_base: Signal<Local, Bits<48>>,
    free_base: Signal<Local, Bits<48>>,
    free_invalid: Signal<Local, Bit>,
    slot_live: Signal<Local, Bit>,
    freed_bitmap: Signal<Local, Bits<256>>,
    freed_nxt: Signal<Local, Bits<8>>,
    /// The alloc is answered from the HOT: the HOT is written with `alloc_entry`, last (the
    /// entry's next free object is the deepest input of the HOT's write, so it passes one
    /// multiplexer only).
    alloc_hit: Signal<Local, Bit>,
    /// The entry an alloc or a pop writes, but its next free object (bits 320..327, zero here).
    lf_base: Signal<Local, Bits<328>>,
    other_wr_data: Signal<Local, Bits<328>>,
    exec_rsp_valid: Signal<Local, Bit>,
}

impl HoaExec {
    pub fn new(p: &Params) -> Self {
        HoaExec {
            hot_data: Default::default(),
            hot_valid: Default::default(),
            ct_data: Default::default(),
            ex_op: Default::default(),
            ex_arg: Default::default(),
            ex_cls: Default::default(),
            ex_oversize: Default::default(),
            ex_stride: Default::default(),
            mrs: Default::default(),
            status_q: Default::default(),
            rsp_ready: Default::default(),
            active: Default::default(),
            miss_rsp_valid: Default::default(),
            miss_wr_en: Default::default(),
            miss_wr_data: Default::default(),
            arena_off: Default::default(),
            slot: Default::default(),
            in_header: Default::default(),
            misaligned: Default::default(),
            past_end: Default::default(),
            pop_bitmap: Default::default(),
            pop_count: Default::default(),
            pop_va: Default::default(),
            pop_hit: Default::default(),
            rsp_valid: Default::default(),
            rsp_status: Default::default(),
            rsp_ptr: Default::default(),
            hot_wr_en: Default::default(),
            hot_wr_data: Default::default(),
            miss: Default::default(),
            miss_state: Default::default(),
            set_va: Default::default(),
            miss_va: Default::default(),
            alloc_miss: Default::default(),
            use_pop: Default::default(),
            hot_base: Default::default(),
            next_bump: Default::default(),
            obj_offset: ObjOffset::new(p),
            lowest_free: LowestFree::new(p),
            lane_bits: Constant::new((p.lane_bits as u64).to_bits()),
            region_log2: Constant::new((p.region_log2() as u64).to_bits()),
            lane_mask: Constant::new(((1u64 << p.lane_bits) - 1).to_bits()),
            objs: Constant::new((p.objs as u64).to_bits()),
            hot_count: Default::default(),
            hot_dirty: Default::default(),
            hot_bitmap: Default::default(),
            hot_nxt: Default::default(),
            hot_full: Default::default(),
            hot_inc: Default::default(),
            hot_dec: Default::default(),
            ct_head: Default::default(),
            ct_bump: Default::default(),
            lane_base: Default::default(),
            lane_room: Default::default(),
            alloc_ptr: Default::default(),
            taken_bitmap: Default::default(),
            region_base: Default::default(),
            free_base: Default::default(),
            free_invalid: Default::default(),
            slot_live: Default::default(),
            freed_bitmap: Default::default(),
            freed_nxt: Default::default(),
            alloc_hit: Default::default(),
            lf_base: Default::default(),
            other_wr_data: Default::default(),
            exec_rsp_valid: Default::default(),
        }
    }
}

impl Logic for HoaExec {
    #[hdl_gen]
    fn update(&mut self) {
        self.obj_offset.index.next = self.hot_data.val().get_bits::<8>(320);
        self.obj_offset.cls.next = self.ex_cls.val();
        self.lowest_free.bitmap.next = self.hot_data.val().get_bits::<256>(64);
        self.lowest_free.set_en.next = true;
        self.lowest_free.set_index.next = self.hot_data.val().get_bits::<8>(320);
        self.lowest_free.alt.next = self.pop_bitmap.val();
        self.lowest_free.use_alt.next = self.pop_hit.val();
        // The entry of the executing command's class.
        self.hot_base.next = self.hot_data.val().get_bits::<48>(0);
        self.hot_count.next = self.hot_data.val().get_bits::<9>(48);
        self.hot_dirty.next = self.hot_data.val().get_bit(57);
        self.hot_bitmap.next = self.hot_data.val().get_bits::<256>(64);
        self.hot_nxt.next = self.hot_data.val().get_bits::<8>(320);
        self.hot_full.next = self.hot_count.val() == self.objs.val();
        self.hot_inc.next = self.hot_count.val() + 1;
        self.hot_dec.next = self.hot_count.val() - 1;
        // An invalid class-table entry reads as zero: no available arena, bump pointer 0.
        self.ct_head.next = self.ct_data.val().get_bits::<48>(0);
        self.ct_bump.next = self.ct_data.val().get_bits::<48>(48);
        // MRS is aligned to the region and a lane's base to its lane, so these sums are ORs.
        self.lane_base.next =
            self.mrs.val() | (bit_cast::<48, 6>(self.ex_cls.val()) << self.lane_bits.val());

        // Alloc: the entry's ready lowest free object; the bitmap once it is taken, whose own
        // lowest free object becomes the entry's next.
        self.alloc_ptr.next =
            bit_cast::<64, 48>(self.hot_base.val() | bit_cast::<48, 17>(self.obj_offset.off.val()));
        self.taken_bitmap.next = self
            .hot_bitmap
            .val()
            .replace_bit(self.hot_nxt.val().index(), true);
        self.next_bump.next = self.ct_bump.val() + self.ex_stride.val();
        // A bump pointer is a multiple of its class's stride, a power of two no larger than the
        // lane: the lane has room for one more arena exactly when the pointer is below the lane's
        // end, bit LANE_BITS clear (it is the highest bit the class table keeps).
        self.lane_room.next = !self.ct_bump.val().get_bit(self.lane_bits.val().index());

        // Free: decode the pointer of the executing command. The arena's base keeps the
        // pointer's bits above its lane offset (a pointer outside the region is INVALID anyway).
        self.region_base.next =
            self.ex_arg.val().get_bits::<48>(0) & !self.lane_mask.val().get_bits::<48>(0);
        self.free_base.next = self.region_base.val() | self.arena_off.val();
        self.free_invalid.next = ((self.ex_arg.val() >> self.region_log2.val())
            != (bit_cast::<64, 48>(self.mrs.val()) >> self.region_log2.val()))
            | self.in_header.val()
            | self.misaligned.val()
            | self.past_end.val()
            | (self.arena_off.val() >= self.ct_bump.val());
        self.slot_live.next = self.hot_bitmap.val().get_bit(self.slot.val().index());
        self.freed_bitmap.next = self
            .hot_bitmap
            .val()
            .replace_bit(self.slot.val().index(), false);
        self.freed_nxt.next = self.hot_nxt.val();
        if self.hot_full.val() | (self.slot.val() < self.hot_nxt.val()) {
            self.freed_nxt.next = self.slot.val();
        }

        self.lf_base.next = (bit_cast::<328, 256>(self.taken_bitmap.val()) << 64)
            | bit_cast::<328, 48>(self.hot_base.val())
            | (bit_cast::<328, 9>(self.hot_inc.val()) << 48)
            | (bit_cast::<328, 1>(true.into()) << 57);
        if self.pop_hit.val() {
            // A popped arena's line: bitmap 0, count 320 (at most OBJS, 9 bits); clean.
            self.lf_base.next = (bit_cast::<328, 256>(self.pop_bitmap.val()) << 64)
                | bit_cast::<328, 48>(self.pop_va.val())
                | (bit_cast::<328, 9>(self.pop_count.val()) << 48);
        }
        self.alloc_hit.next = self.active.val()
            & (self.ex_op.val() == 0)
            & !self.ex_oversize.val()
            & self.hot_valid.val()
            & !self.hot_full.val();

        self.exec_rsp_valid.next = false;
        self.rsp_status.next = self.status_q.val();
        self.rsp_ptr.next = 0.into();
        self.hot_wr_en.next = self.miss_wr_en.val();
        self.other_wr_data.next = self.miss_wr_data.val();
        self.miss.next = false;
        self.miss_state.next = HoaState::Exec;
        self.set_va.next = false;
        self.miss_va.next = 0.into();
        self.alloc_miss.next = false;
        self.use_pop.next = self.ct_head.val() != 0;
        if self.ex_op.val() == 0 {
            if self.ex_oversize.val() {
                self.exec_rsp_valid.next = true;
                self.rsp_status.next = 1.into();
            } else if self.hot_valid.val() & !self.hot_full.val() {
                self.exec_rsp_valid.next = true;
                self.rsp_status.next = 0.into();
                self.rsp_ptr.next = self.alloc_ptr.val();
                if self.active.val() {
                    self.hot_wr_en.next = self.rsp_ready.val();
                }
            } else if (self.ct_head.val() != 0) | self.lane_room.val() {
                // Miss with somewhere to go: the available list first, else a new arena.
                self.miss.next = true;
                self.set_va.next = true;
                self.alloc_miss.next = true;
                self.miss_va.next = self.lane_base.val() | self.ct_bump.val();
                if self.ct_head.val() != 0 {
                    self.miss_va.next = self.ct_head.val();
                }
                if self.hot_valid.val() & self.hot_dirty.val() {
                    self.miss_state.next = HoaState::AllocEvict;
                } else if self.ct_head.val() != 0 {
                    self.miss_state.next = HoaState::PopReq;
                } else {
                    self.miss_state.next = HoaState::NewReq;
                }
            } else {
                // The lane has no room for another arena: software serves it.
                self.exec_rsp_valid.next = true;
                self.rsp_status.next = 1.into();
            }
        } else if self.ex_op.val() == 1 {
            if self.free_invalid.val() {
                self.exec_rsp_valid.next = true;
                self.rsp_status.next = 2.into();
            } else if self.hot_valid.val() & (self.hot_base.val() == self.free_base.val()) {
                self.exec_rsp_valid.next = true;
                // The entry after the free; written only when the slot was live (a rejected
                // free changes nothing), so it need not depend on that.
                if self.active.val() {
                    self.other_wr_data.next = (bit_cast::<328, 256>(self.freed_bitmap.val()) << 64)
                        | bit_cast::<328, 48>(self.hot_base.val())
                        | (bit_cast::<328, 9>(self.hot_dec.val()) << 48)
                        | (bit_cast::<328, 1>(true.into()) << 57)
                        | (bit_cast::<328, 8>(self.freed_nxt.val()) << 320);
                }
                if self.slot_live.val() {
                    self.rsp_status.next = 0.into();
                    if self.active.val() {
                        self.hot_wr_en.next = self.rsp_ready.val();
                    }
                } else {
                    self.rsp_status.next = 3.into();
                }
            } else {
                self.miss.next = true;
                self.set_va.next = true;
                self.miss_va.next = self.free_base.val();
                self.miss_state.next = HoaState::FreeReq;
            }
        } else if self.ex_op.val() == 2 {
            self.miss.next = true;
            self.miss_state.next = HoaState::ExitReq;
        } else {
            self.exec_rsp_valid.next = true;
            self.rsp_status.next = 2.into();
        }
        self.rsp_valid.next = self.miss_rsp_valid.val();
        if self.active.val() {
            self.rsp_valid.next = self.exec_rsp_valid.val();
        }
        self.hot_wr_data.next = self.other_wr_data.val();
        if self.alloc_hit.val() | self.pop_hit.val() {
            self.hot_wr_data.next =
                self.lf_base.val() | (bit_cast::<328, 8>(self.lowest_free.index.val()) << 320);
        }
    }
}
