//! The bypass's decision on a looked-up request (its `Decide` state): from the request and the
//! table's registered answer, the next state, the table write, and which counter counts it.
//! Combinational; every input is a register of the bypass or of its table.
//!
//! ```text
//!  event_q, write_q, new_dead ------->|               |----> next_state (after Decide)
//!  hit_q, hit_dead_q, hit_fresh_q --->| bypass_decide |----> wr_en, wr_index, wr_dead, wr_fresh,
//!  hit_index_q, line_fresh_q,         |               |      advance_rr
//!  req_line, rr_valid, rr_index ----->|               |----> clear_data, zero_line, drop, bypass
//! ```
//!
//! - An event (map or dead) writes its frame's entry: in place on a hit, else into the
//!   round-robin slot when it is free, else after the victim's record goes out (`VictimWrite`).
//!   With the bypass off an event does nothing, but a map zeroes the frame in DRAM (`OffZero`)
//!   in the `off-dram` baseline.
//! - A cache request whose frame is not in the table fetches the frame's record first
//!   (`VictimWrite` if the slot is taken, then `MetaRead`).
//! - A writeback to a dead frame is dropped (`drop`); any other clears its line's fresh bit and
//!   goes to DRAM (`DramWrite`).
//! - A fill of a fresh line of a live frame is answered with zeros (`bypass`, `Respond`); any
//!   other reads DRAM (`DramRead`). A fill's data register is cleared (`clear_data`).

use crate::bypass::BypassState;
use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BypassDecide {
    pub event_q: Signal<In, Bit>,
    pub write_q: Signal<In, Bit>,
    pub new_dead: Signal<In, Bit>,
    pub hit_q: Signal<In, Bit>,
    pub hit_dead_q: Signal<In, Bit>,
    pub hit_fresh_q: Signal<In, Bits<64>>,
    pub hit_index_q: Signal<In, Bits<6>>,
    pub line_fresh_q: Signal<In, Bit>,
    pub req_line: Signal<In, Bits<6>>,
    pub rr_valid: Signal<In, Bit>,
    pub rr_index: Signal<In, Bits<6>>,
    pub next_state: Signal<Out, BypassState>,
    pub wr_en: Signal<Out, Bit>,
    pub wr_index: Signal<Out, Bits<6>>,
    pub wr_dead: Signal<Out, Bit>,
    pub wr_fresh: Signal<Out, Bits<64>>,
    pub advance_rr: Signal<Out, Bit>,
    pub clear_data: Signal<Out, Bit>,
    pub zero_line: Signal<Out, Bit>,
    pub drop: Signal<Out, Bit>,
    pub bypass: Signal<Out, Bit>,
    enabled: Constant<Bit>,
    dram_zero: Constant<Bit>,
    all_fresh: Constant<Bits<64>>,
    /// The fresh mask an event writes: every line of a mapped frame, none of a dead one.
    new_fresh: Signal<Local, Bits<64>>,
}

impl BypassDecide {
    pub fn new(p: &Params) -> Self {
        BypassDecide {
            event_q: Default::default(),
            write_q: Default::default(),
            new_dead: Default::default(),
            hit_q: Default::default(),
            hit_dead_q: Default::default(),
            hit_fresh_q: Default::default(),
            hit_index_q: Default::default(),
            line_fresh_q: Default::default(),
            req_line: Default::default(),
            rr_valid: Default::default(),
            rr_index: Default::default(),
            next_state: Default::default(),
            wr_en: Default::default(),
            wr_index: Default::default(),
            wr_dead: Default::default(),
            wr_fresh: Default::default(),
            advance_rr: Default::default(),
            clear_data: Default::default(),
            zero_line: Default::default(),
            drop: Default::default(),
            bypass: Default::default(),
            enabled: Constant::new(p.bypass_on),
            dram_zero: Constant::new(p.dram_zero),
            all_fresh: Constant::new(Bits::<64>::mask()),
            new_fresh: Default::default(),
        }
    }
}

impl Logic for BypassDecide {
    #[hdl_gen]
    fn update(&mut self) {
        self.next_state.next = BypassState::Idle;
        self.wr_en.next = false;
        self.wr_index.next = self.hit_index_q.val();
        self.wr_dead.next = false;
        self.wr_fresh.next = self.all_fresh.val();
        self.advance_rr.next = false;
        self.zero_line.next = false;
        self.drop.next = false;
        self.bypass.next = false;
        // A writeback keeps its data for DramWrite; a fill is answered with zeros when its line
        // is fresh, else with what DramWait loads. After an event the data is nobody's until
        // Idle takes the next request, so the choice does not look at event_q.
        self.clear_data.next = !self.write_q.val();
        self.new_fresh.next = 0.into();
        if !self.new_dead.val() {
            self.new_fresh.next = self.all_fresh.val();
        }
        if self.event_q.val() {
            // A frame (re)enters the table: fresh when mapped, dead when reclaimed.
            if !self.enabled.val() {
                if !self.new_dead.val() & self.dram_zero.val() {
                    self.zero_line.next = true;
                    self.next_state.next = BypassState::OffZero;
                }
            } else if self.hit_q.val() {
                self.wr_en.next = true;
                self.wr_dead.next = self.new_dead.val();
                self.wr_fresh.next = self.new_fresh.val();
            } else if self.rr_valid.val() {
                self.next_state.next = BypassState::VictimWrite;
            } else {
                self.wr_en.next = true;
                self.wr_index.next = self.rr_index.val();
                self.wr_dead.next = self.new_dead.val();
                self.wr_fresh.next = self.new_fresh.val();
                self.advance_rr.next = true;
            }
        } else if self.enabled.val() & !self.hit_q.val() {
            // The frame's record comes into the table first (after the victim's goes out); the
            // request is then looked up again.
            self.next_state.next = BypassState::MetaRead;
            if self.rr_valid.val() {
                self.next_state.next = BypassState::VictimWrite;
            }
        } else if self.write_q.val() {
            if self.enabled.val() & self.hit_dead_q.val() {
                self.drop.next = true;
            } else {
                // The written line is no longer fresh (with the bypass on, the frame is in the
                // table here; the data needs no condition).
                self.wr_fresh.next = self
                    .hit_fresh_q
                    .val()
                    .replace_bit(self.req_line.val().index(), false);
                self.wr_en.next = self.enabled.val();
                self.next_state.next = BypassState::DramWrite;
            }
        } else {
            self.next_state.next = BypassState::DramRead;
            if self.enabled.val() & !self.hit_dead_q.val() & self.line_fresh_q.val() {
                self.bypass.next = true;
                self.next_state.next = BypassState::Respond;
            }
        }
    }
}
