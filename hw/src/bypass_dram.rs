//! The bypass's DRAM side: in the states that talk to DRAM or answer the cache, the port
//! outputs, the state after, and what to load. Combinational; every input is a register of the
//! bypass or a port.
//!
//! ```text
//!  state, line, frame_q, req_addr, data_q -->|             |----> dram_req_valid / write / addr / wdata
//!  dram_req_ready, dram_rsp_valid ---------->| bypass_dram |----> dram_rsp_ready, mem_rsp_valid
//!  mem_rsp_ready ---------------------------->|             |----> owns, next_state, load_data,
//!                                            +-------------+      inc_zero, inc_reads, inc_writes
//! ```
//!
//! - `DramRead`: the request's line is read (`inc_reads`), then `DramWait` loads the data
//!   (`load_data`) until DRAM answers, and `Respond` hands it (or the zeros of a bypassed fill)
//!   to the cache.
//! - `DramWrite`: a writeback's line goes to DRAM (`inc_writes`).
//! - `OffZero` (the `off-dram` baseline only): a mapped frame's 64 lines are written with zeros,
//!   one a cycle the port takes (`next_line`, `inc_zero`, `inc_writes`).
//!
//! `owns` says the state is one of these, so that `next_state` is the state after it. Outside them the
//! ports carry their idle values: no request, the request's line address and data.

use crate::bypass::BypassState;
use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BypassDram {
    pub state: Signal<In, BypassState>,
    pub line: Signal<In, Bits<6>>,
    pub frame_q: Signal<In, Bits<40>>,
    pub req_addr: Signal<In, Bits<46>>,
    pub data_q: Signal<In, Bits<512>>,
    pub dram_req_ready: Signal<In, Bit>,
    pub dram_rsp_valid: Signal<In, Bit>,
    pub mem_rsp_ready: Signal<In, Bit>,
    pub dram_req_valid: Signal<Out, Bit>,
    pub dram_req_write: Signal<Out, Bit>,
    pub dram_req_addr: Signal<Out, Bits<52>>,
    pub dram_req_wdata: Signal<Out, Bits<512>>,
    pub dram_rsp_ready: Signal<Out, Bit>,
    pub mem_rsp_valid: Signal<Out, Bit>,
    pub owns: Signal<Out, Bit>,
    pub next_state: Signal<Out, BypassState>,
    pub load_data: Signal<Out, Bit>,
    pub next_line: Signal<Out, Bit>,
    pub inc_zero: Signal<Out, Bit>,
    pub inc_reads: Signal<Out, Bit>,
    pub inc_writes: Signal<Out, Bit>,
    /// `OffZero` is reachable (the bypass off, frames zeroed in DRAM).
    zeroes: Constant<Bit>,
}

impl BypassDram {
    pub fn new(p: &Params) -> Self {
        BypassDram {
            state: Default::default(),
            line: Default::default(),
            frame_q: Default::default(),
            req_addr: Default::default(),
            data_q: Default::default(),
            dram_req_ready: Default::default(),
            dram_rsp_valid: Default::default(),
            mem_rsp_ready: Default::default(),
            dram_req_valid: Default::default(),
            dram_req_write: Default::default(),
            dram_req_addr: Default::default(),
            dram_req_wdata: Default::default(),
            dram_rsp_ready: Default::default(),
            mem_rsp_valid: Default::default(),
            owns: Default::default(),
            next_state: Default::default(),
            load_data: Default::default(),
            next_line: Default::default(),
            inc_zero: Default::default(),
            inc_reads: Default::default(),
            inc_writes: Default::default(),
            zeroes: Constant::new(!p.bypass_on && p.dram_zero),
        }
    }
}

impl Logic for BypassDram {
    #[hdl_gen]
    fn update(&mut self) {
        self.dram_req_valid.next = false;
        self.dram_req_write.next = false;
        self.dram_req_addr.next = bit_cast::<52, 46>(self.req_addr.val()) << 6;
        self.dram_req_wdata.next = self.data_q.val();
        self.dram_rsp_ready.next = false;
        self.mem_rsp_valid.next = false;
        self.owns.next = true;
        self.next_state.next = self.state.val();
        self.load_data.next = false;
        self.next_line.next = false;
        self.inc_zero.next = false;
        self.inc_reads.next = false;
        self.inc_writes.next = false;
        match self.state.val() {
            BypassState::OffZero => {
                // No bypass: the mapped frame is zeroed in DRAM, line by line. (Only reached
                // off-dram: otherwise the arm is folded away.)
                if self.zeroes.val() {
                    self.dram_req_valid.next = true;
                    self.dram_req_write.next = true;
                    self.dram_req_addr.next = (bit_cast::<52, 40>(self.frame_q.val()) << 12)
                        | (bit_cast::<52, 6>(self.line.val()) << 6);
                    self.dram_req_wdata.next = 0.into();
                    if self.dram_req_ready.val() {
                        self.inc_zero.next = true;
                        self.inc_writes.next = true;
                        self.next_line.next = true;
                        if self.line.val() == 63 {
                            self.next_state.next = BypassState::Idle;
                        }
                    }
                }
            }
            BypassState::DramRead => {
                self.dram_req_valid.next = true;
                if self.dram_req_ready.val() {
                    self.inc_reads.next = true;
                    self.next_state.next = BypassState::DramWait;
                }
            }
            BypassState::DramWait => {
                self.dram_rsp_ready.next = true;
                // Loaded every waiting cycle: nobody reads data_q before DRAM answers.
                self.load_data.next = true;
                if self.dram_rsp_valid.val() {
                    self.next_state.next = BypassState::Respond;
                }
            }
            BypassState::Respond => {
                self.mem_rsp_valid.next = true;
                if self.mem_rsp_ready.val() {
                    self.next_state.next = BypassState::Idle;
                }
            }
            BypassState::DramWrite => {
                self.dram_req_valid.next = true;
                self.dram_req_write.next = true;
                if self.dram_req_ready.val() {
                    self.inc_writes.next = true;
                    self.next_state.next = BypassState::Idle;
                }
            }
            _ => {
                self.owns.next = false;
            }
        }
    }
}
