//! The object allocator's header-line datapath: the header line a miss works on, as the header
//! cache gave it (registered in `line_q`, in `FreeHit` and `PopHit`) or as the header port
//! returns it, and what it becomes. Combinational; every input is a register of the allocator, a
//! port, or an output of its class table or `slot_calc`.
//!
//! ```text
//!  state, hdr_rdata, line_q ---->|          |----> rd_live, rd_full
//!  slot, ct_data, src_va ------->| hoa_line |----> freed_line
//!                                |          |----> pop_ct, push_ct
//! ```
//!
//! - `rd_live`: the executing pointer's slot is taken in the line; `rd_full`: the line's arena
//!   is FULL.
//! - `freed_line`: the line after a free of that slot: the bit cleared, the count one lower, and
//!   a FULL arena made AVAILABLE with the class's list head as its next.
//! - `pop_ct`: a popped arena's class-table entry, with the arena's next as the list's head (its
//!   HOT entry is `hoa_exec`'s, beside an alloc's).
//! - `push_ct`: the class-table entry that puts the arena at `src_va` at the head of the list.
//!
//! Header line fields (bit offsets): bitmap 0, next 256, count 320, state 336 (AVAILABLE 1,
//! FULL 2).

use crate::object_alloc::HoaState;
use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct HoaLine {
    pub state: Signal<In, HoaState>,
    pub hdr_rdata: Signal<In, Bits<344>>,
    pub line_q: Signal<In, Bits<344>>,
    pub slot: Signal<In, Bits<8>>,
    pub ct_data: Signal<In, Bits<96>>,
    pub src_va: Signal<In, Bits<48>>,
    pub rd_live: Signal<Out, Bit>,
    pub rd_full: Signal<Out, Bit>,
    pub freed_line: Signal<Out, Bits<344>>,
    pub pop_ct: Signal<Out, Bits<96>>,
    pub push_ct: Signal<Out, Bits<96>>,
    /// The bits a header line can have set (`header_cache::line_kept`): the freed line keeps
    /// only those.
    line_kept: Constant<Bits<344>>,
    src_line: Signal<Local, Bits<344>>,
    ct_head: Signal<Local, Bits<48>>,
    ct_bump: Signal<Local, Bits<48>>,
    rd_bitmap: Signal<Local, Bits<256>>,
    rd_next: Signal<Local, Bits<64>>,
    rd_count: Signal<Local, Bits<16>>,
    /// The line's count after a free, at its own width.
    rd_dec: Signal<Local, Bits<16>>,
    rd_state: Signal<Local, Bits<8>>,
    new_next: Signal<Local, Bits<64>>,
    new_state: Signal<Local, Bits<8>>,
}

impl HoaLine {
    pub fn new(p: &Params) -> Self {
        HoaLine {
            state: Default::default(),
            hdr_rdata: Default::default(),
            line_q: Default::default(),
            slot: Default::default(),
            ct_data: Default::default(),
            src_va: Default::default(),
            rd_live: Default::default(),
            rd_full: Default::default(),
            freed_line: Default::default(),
            pop_ct: Default::default(),
            push_ct: Default::default(),
            line_kept: Constant::new(crate::header_cache::line_kept(p)),
            src_line: Default::default(),
            ct_head: Default::default(),
            ct_bump: Default::default(),
            rd_bitmap: Default::default(),
            rd_next: Default::default(),
            rd_count: Default::default(),
            rd_dec: Default::default(),
            rd_state: Default::default(),
            new_next: Default::default(),
            new_state: Default::default(),
        }
    }
}

impl Logic for HoaLine {
    #[hdl_gen]
    fn update(&mut self) {
        self.ct_head.next = self.ct_data.val().get_bits::<48>(0);
        self.ct_bump.next = self.ct_data.val().get_bits::<48>(48);
        self.src_line.next = self.hdr_rdata.val();
        if (self.state.val() == HoaState::FreeHit) | (self.state.val() == HoaState::PopHit) {
            self.src_line.next = self.line_q.val();
        }
        self.rd_bitmap.next = self.src_line.val().get_bits::<256>(0);
        self.rd_next.next = self.src_line.val().get_bits::<64>(256);
        self.rd_count.next = self.src_line.val().get_bits::<16>(320);
        self.rd_dec.next = self.rd_count.val() - 1;
        self.rd_state.next = self.src_line.val().get_bits::<8>(336);
        self.rd_full.next = self.rd_state.val() == 2;
        self.new_next.next = self.rd_next.val();
        self.new_state.next = self.rd_state.val();
        if self.rd_state.val() == 2 {
            self.new_next.next = bit_cast::<64, 48>(self.ct_head.val());
            self.new_state.next = 1.into();
        }
        self.rd_live.next = self.rd_bitmap.val().get_bit(self.slot.val().index());
        // Only the bits a line can have set (the header cache stores no other, and memory's are
        // zero): the rest of the fields' bits are constant zeros, not logic.
        self.freed_line.next = (bit_cast::<344, 256>(
            self.rd_bitmap
                .val()
                .replace_bit(self.slot.val().index(), false),
        ) | (bit_cast::<344, 64>(self.new_next.val()) << 256)
            | (bit_cast::<344, 16>(self.rd_dec.val()) << 320)
            | (bit_cast::<344, 8>(self.new_state.val()) << 336))
            & self.line_kept.val();
        self.pop_ct.next = bit_cast::<96, 48>(self.rd_next.val().get_bits::<48>(0))
            | (bit_cast::<96, 48>(self.ct_bump.val()) << 48);
        self.push_ct.next =
            bit_cast::<96, 48>(self.src_va.val()) | (bit_cast::<96, 48>(self.ct_bump.val()) << 48);
    }
}
