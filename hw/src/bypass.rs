//! The main-memory bypass: between the last-level cache and DRAM, it never reads a fresh line
//! from DRAM and drops writebacks to frames reclaimed at exit.
//!
//! ```text
//!                  +---------------------------+
//!  map_* --------->|                           |----> dram_req_valid / write / addr / wdata
//!  dead_* -------->|  bypass_table (BYPASS x   |<---- dram_req_ready
//!  mem_req_* ----->|  frame, fresh[64], dead)  |<---- dram_rsp_valid / rdata
//!  mem_rsp_* <-----|                           |----> meta_req_valid / write / frame / wdata
//!                  |  control FSM, counters    |<---> meta_rsp_*  (records, through the cache)
//!                  +---------------------------+----> cnt_* (status)
//! ```
//!
//! Every frame has a **record** in memory: its 64-bit fresh mask and a dead bit (16 bytes in a
//! region the OS sets up, reached through the cache above on the `meta_*` port, by frame number;
//! a frame never written reads as {no fresh line, live}). The table caches `BYPASS` records.
//! - `map_frame`: the page allocator mapped a frame; its entry gets all 64 lines fresh (a frame
//!   already in the table is updated in place, else it takes the round-robin victim's slot).
//! - `dead_frame`: the frame was reclaimed at exit: its entry is marked dead with no fresh line.
//! - Evicting an entry writes its record (one metadata write, whatever its fresh lines).
//! - `mem_req_*` from the cache for a frame not in the table first reads the frame's record into
//!   the table (evicting the victim). Then a fill (`write` = 0) of a fresh line is answered with
//!   zeros and no DRAM read; otherwise DRAM is read and its data returned on `mem_rsp_*`. A
//!   writeback (`write` = 1, posted) clears the line's fresh bit and goes to DRAM, unless the
//!   frame is dead: then it is dropped.
//! - With the bypass off (`bypass_on` = false) there is no table and no record: every fill reads
//!   DRAM and every writeback is written. With `dram_zero` a mapped frame is also zeroed with 64
//!   line writes to DRAM (the `off-dram` baseline); without it nothing else happens (the `off`
//!   baseline: the OS zeroes the page with stores through the cache above).
//!
//! One request at a time, map and dead events first (they come from the page allocator before the
//! program can touch the frame). A request is taken into registers in `Idle`, looked up in the
//! table the next cycle (`Lookup`) with its frame from a register, and the answer, registered,
//! decides in the cycle after (`Decide`): ports, CAM and decision are three cycles, each within
//! `STAGE_LEVELS` (SPEC section 10; docs/timing.md). A request that misses the table goes through
//! `VictimWrite` (if the victim slot is valid), `MetaRead`, `MetaWait` and `Install`, then
//! `Lookup` again, which now hits. Addresses are physical byte addresses of a 64-byte line: a
//! request's low six address bits are not looked at, and DRAM gets zeros there. Counters: reads
//! bypassed, writebacks dropped, zero lines written, DRAM reads, DRAM writes.

use crate::bypass_counters::BypassCounters;
use crate::bypass_decide::BypassDecide;
use crate::bypass_dram::BypassDram;
use crate::bypass_table::BypassTable;
use crate::params::{ParamError, Params};
use rust_hdl::prelude::*;

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum BypassState {
    Idle,
    Lookup,
    Decide,
    VictimWrite,
    MetaRead,
    MetaWait,
    Install,
    OffZero,
    DramRead,
    DramWait,
    Respond,
    DramWrite,
}

#[derive(LogicBlock)]
pub struct Bypass {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub map_valid: Signal<In, Bit>,
    pub map_ready: Signal<Out, Bit>,
    pub map_frame: Signal<In, Bits<40>>,
    pub dead_valid: Signal<In, Bit>,
    pub dead_ready: Signal<Out, Bit>,
    pub dead_frame: Signal<In, Bits<40>>,
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
    /// The metadata port: a frame's record read (`write` = 0) or written, through the cache.
    /// Records are {dead (bit 64), fresh mask (bits 63..0)}.
    pub meta_req_valid: Signal<Out, Bit>,
    pub meta_req_ready: Signal<In, Bit>,
    pub meta_req_write: Signal<Out, Bit>,
    pub meta_req_frame: Signal<Out, Bits<40>>,
    pub meta_req_wdata: Signal<Out, Bits<65>>,
    pub meta_rsp_valid: Signal<In, Bit>,
    pub meta_rsp_ready: Signal<Out, Bit>,
    pub meta_rsp_rdata: Signal<In, Bits<65>>,

    entries: BypassTable,
    state: DFF<BypassState>,
    frame_q: DFF<Bits<40>>,
    /// The request in `Lookup` is a map or dead event (else a cache-side access).
    event_q: DFF<Bit>,
    write_q: DFF<Bit>,
    /// The table's answer for the request, registered at the end of `Lookup`.
    hit_q: DFF<Bit>,
    hit_dead_q: DFF<Bit>,
    hit_fresh_q: DFF<Bits<64>>,
    hit_index_q: DFF<Bits<6>>,
    line_fresh_q: DFF<Bit>,
    new_dead: DFF<Bit>,
    victim_frame: DFF<Bits<40>>,
    /// The victim's fresh mask for its record; in `MetaWait`, the fetched record's.
    victim_fresh: DFF<Bits<64>>,
    victim_dead: DFF<Bit>,
    line: DFF<Bits<6>>,
    /// The request's line address (its physical address over 64).
    req_addr: DFF<Bits<46>>,
    data_q: DFF<Bits<512>>,
    bypass_counters: BypassCounters,
    bypass_decide: BypassDecide,
    bypass_dram: BypassDram,

    all_fresh: Constant<Bits<64>>,

    req_line: Signal<Local, Bits<6>>,
    /// The fresh mask an event writes: every line of a mapped frame, none of a dead one.
    new_fresh: Signal<Local, Bits<64>>,
}

impl Bypass {
    pub fn new(p: &Params) -> Result<Self, ParamError> {
        p.validate()?;
        Ok(Bypass {
            clock: Default::default(),
            rst: Default::default(),
            map_valid: Default::default(),
            map_ready: Default::default(),
            map_frame: Default::default(),
            dead_valid: Default::default(),
            dead_ready: Default::default(),
            dead_frame: Default::default(),
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
            entries: BypassTable::new(p.bypass as usize),
            state: Default::default(),
            frame_q: Default::default(),
            event_q: Default::default(),
            write_q: Default::default(),
            hit_q: Default::default(),
            hit_dead_q: Default::default(),
            hit_fresh_q: Default::default(),
            hit_index_q: Default::default(),
            line_fresh_q: Default::default(),
            new_dead: Default::default(),
            new_fresh: Default::default(),
            victim_frame: Default::default(),
            victim_fresh: Default::default(),
            victim_dead: Default::default(),
            line: Default::default(),
            req_addr: Default::default(),
            data_q: Default::default(),
            bypass_counters: BypassCounters::new(p),
            bypass_decide: BypassDecide::new(p),
            bypass_dram: BypassDram::new(p),
            all_fresh: Constant::new(Bits::<64>::mask()),
            req_line: Default::default(),
        })
    }
}

impl Logic for Bypass {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            frame_q,
            event_q,
            write_q,
            hit_q,
            hit_dead_q,
            hit_fresh_q,
            hit_index_q,
            line_fresh_q,
            new_dead,
            victim_frame,
            victim_fresh,
            victim_dead,
            line,
            req_addr,
            data_q
        );
        clock!(self, clock, entries, bypass_counters);
        // The table is looked up in the cycle after a request is taken, with its frame from
        // a register, so a request's decision never starts at the ports.
        self.entries.lk_frame.next = self.frame_q.q.val();
        self.entries.rst.next = self.rst.val();
        self.entries.wr_en.next = false;
        self.entries.wr_index.next = self.hit_index_q.q.val();
        self.entries.wr_dead.next = false;
        self.entries.wr_frame.next = self.entries.lk_frame.val();
        self.entries.wr_fresh.next = self.all_fresh.val();
        self.entries.advance_rr.next = false;
        // The decision on a looked-up request, from registers only.
        self.bypass_decide.event_q.next = self.event_q.q.val();
        self.bypass_decide.write_q.next = self.write_q.q.val();
        self.bypass_decide.new_dead.next = self.new_dead.q.val();
        self.bypass_decide.hit_q.next = self.hit_q.q.val();
        self.bypass_decide.hit_dead_q.next = self.hit_dead_q.q.val();
        self.bypass_decide.hit_fresh_q.next = self.hit_fresh_q.q.val();
        self.bypass_decide.hit_index_q.next = self.hit_index_q.q.val();
        self.bypass_decide.line_fresh_q.next = self.line_fresh_q.q.val();
        self.bypass_decide.req_line.next = self.req_addr.q.val().get_bits::<6>(0);
        self.bypass_decide.rr_valid.next = self.entries.rr_valid.val();
        self.bypass_decide.rr_index.next = self.entries.rr_index.val();
        self.bypass_counters.rst.next = self.rst.val();
        self.bypass_counters.inc_bypassed.next = false;
        self.bypass_counters.inc_dropped.next = false;
        // The DRAM side, from registers and ports only.
        self.bypass_dram.state.next = self.state.q.val();
        self.bypass_dram.line.next = self.line.q.val();
        self.bypass_dram.frame_q.next = self.frame_q.q.val();
        self.bypass_dram.req_addr.next = self.req_addr.q.val();
        self.bypass_dram.data_q.next = self.data_q.q.val();
        self.bypass_dram.dram_req_ready.next = self.dram_req_ready.val();
        self.bypass_dram.dram_rsp_valid.next = self.dram_rsp_valid.val();
        self.bypass_dram.mem_rsp_ready.next = self.mem_rsp_ready.val();
        self.bypass_counters.inc_zero.next = self.bypass_dram.inc_zero.val();
        self.bypass_counters.inc_reads.next = self.bypass_dram.inc_reads.val();
        self.bypass_counters.inc_writes.next = self.bypass_dram.inc_writes.val();
        self.dram_req_valid.next = self.bypass_dram.dram_req_valid.val();
        self.dram_req_write.next = self.bypass_dram.dram_req_write.val();
        self.dram_req_addr.next = self.bypass_dram.dram_req_addr.val();
        self.dram_req_wdata.next = self.bypass_dram.dram_req_wdata.val();
        self.dram_rsp_ready.next = self.bypass_dram.dram_rsp_ready.val();
        self.mem_rsp_valid.next = self.bypass_dram.mem_rsp_valid.val();

        self.map_ready.next = false;
        self.dead_ready.next = false;
        self.mem_req_ready.next = false;
        self.mem_rsp_rdata.next = self.data_q.q.val();
        self.meta_req_valid.next = false;
        self.meta_req_write.next = false;
        self.meta_req_frame.next = self.frame_q.q.val();
        self.meta_req_wdata.next = (bit_cast::<65, 1>(self.victim_dead.q.val().into()) << 64)
            | bit_cast::<65, 64>(self.victim_fresh.q.val());
        self.meta_rsp_ready.next = false;
        self.cnt_reads_bypassed.next = self.bypass_counters.bypassed.val();
        self.cnt_writebacks_dropped.next = self.bypass_counters.dropped.val();
        self.cnt_zero_lines.next = self.bypass_counters.zero.val();
        self.cnt_dram_reads.next = self.bypass_counters.reads.val();
        self.cnt_dram_writes.next = self.bypass_counters.writes.val();

        self.req_line.next = self.req_addr.q.val().get_bits::<6>(0);
        self.new_fresh.next = 0.into();
        if !self.new_dead.q.val() {
            self.new_fresh.next = self.all_fresh.val();
        }

        match self.state.q.val() {
            BypassState::Idle => {
                // Take one request: map and dead events first (they come from the page allocator
                // before the program can touch the frame), then the cache side.
                self.new_dead.d.next = !self.map_valid.val();
                self.event_q.d.next = self.map_valid.val() | self.dead_valid.val();
                self.write_q.d.next = self.mem_req_write.val();
                self.req_addr.d.next = self.mem_req_addr.val().get_bits::<46>(6);
                self.data_q.d.next = self.mem_req_wdata.val();
                self.frame_q.d.next = self.mem_req_addr.val().get_bits::<40>(12);
                if self.dead_valid.val() {
                    self.frame_q.d.next = self.dead_frame.val();
                }
                if self.map_valid.val() {
                    self.frame_q.d.next = self.map_frame.val();
                }
                self.map_ready.next = self.map_valid.val();
                self.dead_ready.next = !self.map_valid.val();
                self.mem_req_ready.next = !self.map_valid.val() & !self.dead_valid.val();
                if self.map_valid.val() | self.dead_valid.val() | self.mem_req_valid.val() {
                    self.state.d.next = BypassState::Lookup;
                }
            }
            BypassState::Lookup => {
                // The CAM's answer goes to registers; `Decide` acts on it.
                self.hit_q.d.next = self.entries.lk_hit.val();
                self.hit_dead_q.d.next = self.entries.lk_dead.val();
                self.hit_fresh_q.d.next = self.entries.lk_fresh.val();
                self.hit_index_q.d.next = self.entries.lk_index.val();
                self.line_fresh_q.d.next = self
                    .entries
                    .lk_fresh
                    .val()
                    .get_bit(self.req_line.val().index());
                self.state.d.next = BypassState::Decide;
            }
            BypassState::Decide => {
                self.state.d.next = self.bypass_decide.next_state.val();
                if self.bypass_decide.clear_data.val() {
                    self.data_q.d.next = 0.into();
                }
                if self.bypass_decide.zero_line.val() {
                    self.line.d.next = 0.into();
                }
                // The round-robin victim is taken whatever happens: only VictimWrite reads it,
                // and only after a decision that goes there.
                self.victim_frame.d.next = self.entries.rr_frame.val();
                self.victim_fresh.d.next = self.entries.rr_fresh.val();
                self.victim_dead.d.next = self.entries.rr_dead.val();
                self.entries.wr_en.next = self.bypass_decide.wr_en.val();
                self.entries.wr_index.next = self.bypass_decide.wr_index.val();
                self.entries.wr_dead.next = self.bypass_decide.wr_dead.val();
                self.entries.wr_fresh.next = self.bypass_decide.wr_fresh.val();
                self.entries.advance_rr.next = self.bypass_decide.advance_rr.val();
                self.bypass_counters.inc_dropped.next = self.bypass_decide.drop.val();
                self.bypass_counters.inc_bypassed.next = self.bypass_decide.bypass.val();
            }
            BypassState::VictimWrite => {
                // The victim's record goes to memory before its slot is reused; the data is
                // {dead, fresh} of the victim whatever the state (the port's default).
                self.meta_req_valid.next = true;
                self.meta_req_write.next = true;
                self.meta_req_frame.next = self.victim_frame.q.val();
                if self.meta_req_ready.val() {
                    self.state.d.next = BypassState::MetaRead;
                    if self.event_q.q.val() {
                        self.state.d.next = BypassState::Install;
                    }
                }
            }
            BypassState::MetaRead => {
                self.meta_req_valid.next = true;
                if self.meta_req_ready.val() {
                    self.state.d.next = BypassState::MetaWait;
                }
            }
            BypassState::MetaWait => {
                // Loaded every waiting cycle: nothing reads them before the record arrives.
                self.meta_rsp_ready.next = true;
                self.victim_fresh.d.next = self.meta_rsp_rdata.val().get_bits::<64>(0);
                self.new_dead.d.next = self.meta_rsp_rdata.val().get_bit(64);
                if self.meta_rsp_valid.val() {
                    self.state.d.next = BypassState::Install;
                }
            }
            BypassState::Install => {
                // The event's entry, or the fetched record, takes the victim's slot; a request
                // is then looked up again (it hits).
                self.entries.wr_en.next = true;
                self.entries.wr_index.next = self.entries.rr_index.val();
                self.entries.wr_frame.next = self.frame_q.q.val();
                self.entries.wr_dead.next = self.new_dead.q.val();
                self.entries.wr_fresh.next = self.victim_fresh.q.val();
                self.entries.advance_rr.next = true;
                self.state.d.next = BypassState::Lookup;
                if self.event_q.q.val() {
                    self.entries.wr_fresh.next = self.new_fresh.val();
                    self.state.d.next = BypassState::Idle;
                }
            }
            _ => {
                self.state.d.next = BypassState::Idle;
            }
        }
        if self.bypass_dram.owns.val() {
            self.state.d.next = self.bypass_dram.next_state.val();
        }
        if self.bypass_dram.load_data.val() {
            self.data_q.d.next = self.dram_rsp_rdata.val();
        }
        if self.bypass_dram.next_line.val() {
            self.line.d.next = self.line.q.val() + 1;
        }
        if self.rst.val() {
            self.state.d.next = BypassState::Idle;
        }
    }
}
