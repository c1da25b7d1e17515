//! The object allocator's miss states: everything between `Exec` and the answer of a command the
//! HOT could not serve. Combinational: from the state and the allocator's registers, ports and
//! sub-blocks, the ports' values, the writes of the HOT, the class table and the header cache,
//! and the registers' next values. In `Idle` and `Exec` every output is at rest (the execute
//! stage is `hoa_exec`).
//!
//! ```text
//!  state, use_pop, arena_sent, status_q ---->|          |----> rsp_valid, rsp_status
//!  line_q, src_va, mrs, hot_base, next_bump >|          |----> hdr_req_*, hdr_rsp_ready
//!  hdr_req_ready, hdr_rsp_valid, hdr_rdata ->|          |----> arena_req_valid, arena_rsp_ready,
//!  arena_req_ready, arena_rsp_valid, ------->| hoa_miss |      exit_valid
//!  exit_ready, rsp_ready                     |          |----> hot_wr_*, hot_clear, ct_wr_*,
//!  hdc_lk_hit, hdc_lk_line, hdc_victim_* --->|          |      ct_clear, hdc_*, reread
//!  rd_live, rd_full, freed_line, ---------->|          |----> next_state, line_d,
//!  pop_ct, push_ct (hoa_line)                |          |      arena_sent_d, status_d
//! ```
//!
//! - ALLOC: `AllocEvict` writes the evicted (full) entry's header back; `PopReq` takes the list
//!   head's line from the header cache or asks the header port for it (`PopWait`), and `PopHit`
//!   installs it in the HOT and the class table; `NewReq` asks the page allocator for a new
//!   arena and `NewWait` installs it. Both go back to `Exec`, which answers from the HOT.
//! - FREE: `FreeReq` looks the header up in the header cache (`FreeHit` answers from it) or asks
//!   the header port (`FreeWait`); the freed line is written back (`FreeWrite`) or, with a header
//!   cache, installed in it after its victim is written back (`FreeInstall`). A full arena that
//!   gets a free slot joins the front of the class's available list.
//! - EXIT: `ExitReq` hands the exit to the page allocator and empties the HOT, the class table
//!   and the header cache. `Respond` gives the registered status.
//!
//! The state changes that wait on a late condition (a header-cache hit, the exit's and the
//! arena's answers) are the allocator's (`object_alloc`), after everything else.

use crate::object_alloc::HoaState;
use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct HoaMiss {
    pub state: Signal<In, HoaState>,
    pub use_pop: Signal<In, Bit>,
    pub arena_sent: Signal<In, Bit>,
    pub status_q: Signal<In, Bits<2>>,
    pub line_q: Signal<In, Bits<344>>,
    pub src_va: Signal<In, Bits<48>>,
    pub mrs: Signal<In, Bits<48>>,
    pub hot_base: Signal<In, Bits<48>>,
    pub next_bump: Signal<In, Bits<48>>,
    pub hdr_req_ready: Signal<In, Bit>,
    pub hdr_rsp_valid: Signal<In, Bit>,
    pub hdr_rdata: Signal<In, Bits<344>>,
    pub arena_req_ready: Signal<In, Bit>,
    pub arena_rsp_valid: Signal<In, Bit>,
    pub exit_ready: Signal<In, Bit>,
    pub rsp_ready: Signal<In, Bit>,
    pub hdc_lk_hit: Signal<In, Bit>,
    pub hdc_lk_line: Signal<In, Bits<344>>,
    pub hdc_victim_valid: Signal<In, Bit>,
    pub hdc_victim_tag: Signal<In, Bits<48>>,
    pub hdc_victim_line: Signal<In, Bits<344>>,
    pub rd_live: Signal<In, Bit>,
    pub rd_full: Signal<In, Bit>,
    pub freed_line: Signal<In, Bits<344>>,
    pub pop_ct: Signal<In, Bits<96>>,
    pub push_ct: Signal<In, Bits<96>>,

    pub rsp_valid: Signal<Out, Bit>,
    pub rsp_status: Signal<Out, Bits<2>>,
    pub hdr_req_valid: Signal<Out, Bit>,
    pub hdr_req_write: Signal<Out, Bit>,
    pub hdr_req_addr: Signal<Out, Bits<48>>,
    pub hdr_req_wdata: Signal<Out, Bits<512>>,
    pub hdr_rsp_ready: Signal<Out, Bit>,
    pub arena_req_valid: Signal<Out, Bit>,
    pub arena_rsp_ready: Signal<Out, Bit>,
    pub exit_valid: Signal<Out, Bit>,
    pub hot_wr_en: Signal<Out, Bit>,
    pub hot_wr_data: Signal<Out, Bits<328>>,
    pub hot_clear: Signal<Out, Bit>,
    pub ct_wr_en: Signal<Out, Bit>,
    pub ct_wr_data: Signal<Out, Bits<96>>,
    pub ct_clear: Signal<Out, Bit>,
    pub hdc_wr_line: Signal<Out, Bits<344>>,
    pub hdc_upd: Signal<Out, Bit>,
    pub hdc_ins: Signal<Out, Bit>,
    pub hdc_rm: Signal<Out, Bit>,
    pub hdc_clear: Signal<Out, Bit>,
    /// The HOT is read again for the executing command (its arena was just installed).
    pub reread: Signal<Out, Bit>,
    /// The registers' next values; each is its register's value where nothing changes it.
    pub next_state: Signal<Out, HoaState>,
    pub line_d: Signal<Out, Bits<344>>,
    pub arena_sent_d: Signal<Out, Bit>,
    pub status_d: Signal<Out, Bits<2>>,

    /// A header line's bits (`header_cache::line_kept`).
    line_kept: Constant<Bits<344>>,
    objs: Constant<Bits<9>>,
    /// A full arena's bitmap: OBJS ones.
    full_bitmap: Constant<Bits<256>>,
    has_hdc: Constant<Bit>,
    /// The header cache holds the line `FreeReq` or `PopReq` looks up (`hoa_pipe` makes the
    /// same decision for the next state).
    hdc_hit: Signal<Local, Bit>,
}

impl HoaMiss {
    pub fn new(p: &Params) -> Self {
        HoaMiss {
            state: Default::default(),
            use_pop: Default::default(),
            arena_sent: Default::default(),
            status_q: Default::default(),
            line_q: Default::default(),
            src_va: Default::default(),
            mrs: Default::default(),
            hot_base: Default::default(),
            next_bump: Default::default(),
            hdr_req_ready: Default::default(),
            hdr_rsp_valid: Default::default(),
            hdr_rdata: Default::default(),
            arena_req_ready: Default::default(),
            arena_rsp_valid: Default::default(),
            exit_ready: Default::default(),
            rsp_ready: Default::default(),
            hdc_lk_hit: Default::default(),
            hdc_lk_line: Default::default(),
            hdc_victim_valid: Default::default(),
            hdc_victim_tag: Default::default(),
            hdc_victim_line: Default::default(),
            rd_live: Default::default(),
            rd_full: Default::default(),
            freed_line: Default::default(),
            pop_ct: Default::default(),
            push_ct: Default::default(),
            rsp_valid: Default::default(),
            rsp_status: Default::default(),
            hdr_req_valid: Default::default(),
            hdr_req_write: Default::default(),
            hdr_req_addr: Default::default(),
            hdr_req_wdata: Default::default(),
            hdr_rsp_ready: Default::default(),
            arena_req_valid: Default::default(),
            arena_rsp_ready: Default::default(),
            exit_valid: Default::default(),
            hot_wr_en: Default::default(),
            hot_wr_data: Default::default(),
            hot_clear: Default::default(),
            ct_wr_en: Default::default(),
            ct_wr_data: Default::default(),
            ct_clear: Default::default(),
            hdc_wr_line: Default::default(),
            hdc_upd: Default::default(),
            hdc_ins: Default::default(),
            hdc_rm: Default::default(),
            hdc_clear: Default::default(),
            reread: Default::default(),
            next_state: Default::default(),
            line_d: Default::default(),
            arena_sent_d: Default::default(),
            status_d: Default::default(),
            line_kept: Constant::new(crate::header_cache::line_kept(p)),
            objs: Constant::new((p.objs as u64).to_bits()),
            full_bitmap: Constant::new(
                (0..p.objs as usize).fold(Bits::<256>::default(), |b, i| b.replace_bit(i, true)),
            ),
            has_hdc: Constant::new(p.hdc > 0),
            hdc_hit: Default::default(),
        }
    }
}

impl Logic for HoaMiss {
    #[hdl_gen]
    fn update(&mut self) {
        // At rest: every output is assigned before the case.
        self.rsp_valid.next = false;
        self.rsp_status.next = self.status_q.val();
        self.hdr_req_valid.next = false;
        self.hdr_req_write.next = false;
        self.hdr_req_addr.next = self.src_va.val();
        self.hdr_req_wdata.next = bit_cast::<512, 344>(self.line_q.val());
        self.hdr_rsp_ready.next = false;
        self.arena_req_valid.next = false;
        self.arena_rsp_ready.next = false;
        self.exit_valid.next = false;
        self.hot_wr_en.next = false;
        self.hot_wr_data.next = 0.into();
        self.hot_clear.next = false;
        self.ct_wr_en.next = false;
        self.ct_wr_data.next = 0.into();
        self.ct_clear.next = false;
        self.hdc_wr_line.next = self.line_q.val();
        self.hdc_upd.next = false;
        self.hdc_ins.next = false;
        self.hdc_rm.next = false;
        self.hdc_clear.next = false;
        self.reread.next = false;
        self.next_state.next = self.state.val();
        self.line_d.next = self.line_q.val();
        self.arena_sent_d.next = self.arena_sent.val();
        self.status_d.next = self.status_q.val();
        self.hdc_hit.next = self.hdc_lk_hit.val()
            & ((self.state.val() == HoaState::FreeReq) | (self.state.val() == HoaState::PopReq));

        match self.state.val() {
            HoaState::Idle => {}
            HoaState::Exec => {}
            HoaState::AllocEvict => {
                // The full entry leaves the HOT: its header becomes FULL (all OBJS objects
                // taken: only a full entry is evicted) with no next arena. Its bitmap is then
                // OBJS ones, a constant like its count.
                self.hdr_req_valid.next = true;
                self.hdr_req_write.next = true;
                self.hdr_req_addr.next = self.hot_base.val();
                self.hdr_req_wdata.next = bit_cast::<512, 256>(self.full_bitmap.val())
                    | (bit_cast::<512, 9>(self.objs.val()) << 320)
                    | (bit_cast::<512, 8>(2.into()) << 336);
                if self.hdr_req_ready.val() {
                    if self.use_pop.val() {
                        self.next_state.next = HoaState::PopReq;
                    } else {
                        self.next_state.next = HoaState::NewReq;
                    }
                }
            }
            HoaState::PopReq => {
                if self.hdc_hit.val() {
                    // The head's header is in the header cache: it leaves the cache now and
                    // goes into the HOT from line_q in the next cycle.
                    self.hdc_rm.next = true;
                    self.line_d.next = self.hdc_lk_line.val();
                } else {
                    self.hdr_req_valid.next = true;
                }
                // A hit goes to PopHit instead (the allocator's late conditions).
                if self.hdr_req_ready.val() {
                    self.next_state.next = HoaState::PopWait;
                }
            }
            HoaState::PopHit => {
                self.hot_wr_en.next = true;
                // The entry is built in hoa_exec (the popped line's, with its first free object).
                self.ct_wr_en.next = true;
                self.ct_wr_data.next = self.pop_ct.val();
                self.next_state.next = HoaState::Exec;
                self.reread.next = true;
            }
            HoaState::PopWait => {
                // The header line is registered; PopHit installs it as from the cache. (line_q
                // is nobody's until the line arrives.)
                self.hdr_rsp_ready.next = true;
                self.line_d.next = self.hdr_rdata.val() & self.line_kept.val();
                if self.hdr_rsp_valid.val() {
                    self.next_state.next = HoaState::PopHit;
                }
            }
            HoaState::NewReq => {
                // The handshake only sets `arena_sent`; the state moves on from that flop. The
                // page allocator cannot answer in the cycle after it takes the request.
                self.arena_req_valid.next = !self.arena_sent.val();
                if self.arena_req_ready.val() {
                    self.arena_sent_d.next = true;
                }
                if self.arena_sent.val() {
                    self.arena_sent_d.next = false;
                    self.next_state.next = HoaState::NewWait;
                }
            }
            HoaState::NewWait => {
                self.arena_rsp_ready.next = true;
                if self.arena_rsp_valid.val() {
                    self.hot_wr_en.next = true;
                    self.hot_wr_data.next = bit_cast::<328, 48>(self.src_va.val());
                    self.ct_wr_en.next = true;
                    // A new arena is made only when the class has no available one: the head
                    // stays 0.
                    self.ct_wr_data.next = bit_cast::<96, 48>(self.next_bump.val()) << 48;
                    self.reread.next = true;
                }
            }
            HoaState::FreeReq => {
                if self.hdc_hit.val() {
                    // Header cache hit: the cached line goes to line_q, and FreeHit answers.
                    self.line_d.next = self.hdc_lk_line.val();
                } else {
                    self.hdr_req_valid.next = true;
                }
                // A hit goes to FreeHit instead (the allocator's late conditions).
                if self.hdr_req_ready.val() {
                    self.next_state.next = HoaState::FreeWait;
                }
            }
            HoaState::FreeHit => {
                // Answered from the cached line; the line in the cache changes when the answer
                // is taken. A rejected free changes nothing. A line in the cache is never FULL:
                // it came in through a free (which makes a FULL arena AVAILABLE) and leaves when
                // its arena is popped. So a free answered here never makes its arena available,
                // and the class table is not written.
                self.rsp_valid.next = true;
                if self.rd_live.val() {
                    self.rsp_status.next = 0.into();
                    self.hdc_upd.next = self.rsp_ready.val();
                    self.hdc_wr_line.next = self.freed_line.val();
                } else {
                    self.rsp_status.next = 3.into();
                }
            }
            HoaState::FreeWait => {
                self.hdr_rsp_ready.next = true;
                // line_q is nobody's until the line arrives, and after a rejected free.
                self.line_d.next = self.freed_line.val();
                if self.hdr_rsp_valid.val() {
                    if self.rd_live.val() {
                        if self.rd_full.val() {
                            // A full arena with a free slot joins the front of the available list.
                            self.ct_wr_en.next = true;
                            self.ct_wr_data.next = self.push_ct.val();
                        }
                        self.next_state.next = HoaState::FreeWrite;
                        if self.has_hdc.val() {
                            self.next_state.next = HoaState::FreeInstall;
                        }
                    } else {
                        self.status_d.next = 3.into();
                        self.next_state.next = HoaState::Respond;
                    }
                }
            }
            HoaState::FreeWrite => {
                self.hdr_req_valid.next = true;
                self.hdr_req_write.next = true;
                if self.hdr_req_ready.val() {
                    self.status_d.next = 0.into();
                    self.next_state.next = HoaState::Respond;
                }
            }
            HoaState::FreeInstall => {
                // The updated line goes into the header cache; a valid victim is written back
                // first (in the cycle the header port takes it). Only the valid bit depends on
                // the victim: what the request carries while it is not valid is nobody's.
                self.hdr_req_write.next = true;
                self.hdr_req_addr.next = self.hdc_victim_tag.val() | self.mrs.val();
                self.hdr_req_wdata.next = bit_cast::<512, 344>(self.hdc_victim_line.val());
                if self.hdc_victim_valid.val() {
                    self.hdr_req_valid.next = true;
                }
                if !self.hdc_victim_valid.val() | self.hdr_req_ready.val() {
                    self.hdc_ins.next = true;
                    self.status_d.next = 0.into();
                    self.next_state.next = HoaState::Respond;
                }
            }
            HoaState::ExitReq => {
                // The page allocator takes the exit (it reclaims the region); the HOT and the
                // class table empty in the same cycle.
                self.exit_valid.next = true;
                if self.exit_ready.val() {
                    self.hot_clear.next = true;
                    self.ct_clear.next = true;
                    self.hdc_clear.next = true;
                    self.status_d.next = 0.into();
                }
            }
            HoaState::Respond => {
                self.rsp_valid.next = true;
            }
            _ => {
                self.next_state.next = HoaState::Idle;
            }
        }
    }
}
