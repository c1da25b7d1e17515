//! One cycle of the object allocator's pipeline control, for a given answer handshake: whether
//! the command waiting in `s1_` moves up, whether a new one enters, and what overrides the miss
//! states' next state. Combinational. `hoa_pipe` instantiates it twice, for an answer taken this
//! cycle and for none, and lets the answer's `rsp_valid` (the execute stage's deepest output)
//! choose in the last multiplexer.
//!
//! ```text
//!  taken, state, s1_valid, cmd_valid ---->|          |----> s1_adv, cmd_ready, accept,
//!  exec_miss, exec_state ----------------->| hoa_step |      s1_valid_d
//!  rst, lk_hit, exit_ready, -------------->|          |----> ovr, ovr_state
//!  arena_rsp_valid                         |          |
//! ```
//!
//! - The executing command leaves when its answer is taken (`taken`); the one in `s1_` moves up
//!   when the execute stage is idle or being left (`s1_adv`), and a new command enters `s1_` when
//!   `s1_` is empty or moving up (`accept`).
//! - The late conditions (a header-cache hit, a CAM over the tags; the exit's and the arena's
//!   answers, from the page allocator's arbitration; reset) choose the next state after
//!   everything else; where they go depends on the state alone. In these states no answer is
//!   given, so `taken` and `s1_adv` are false.
//! - `ovr`: the next state is `ovr_state`, not the miss states': a late condition, a command
//!   moving up (`Exec`) or leaving (`Idle`), or the execute stage's miss (`exec_state`).

use crate::object_alloc::HoaState;
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct HoaStep {
    pub taken: Signal<In, Bit>,
    pub state: Signal<In, HoaState>,
    pub s1_valid: Signal<In, Bit>,
    pub cmd_valid: Signal<In, Bit>,
    pub exec_miss: Signal<In, Bit>,
    pub exec_state: Signal<In, HoaState>,
    pub rst: Signal<In, Bit>,
    pub lk_hit: Signal<In, Bit>,
    pub exit_ready: Signal<In, Bit>,
    pub arena_rsp_valid: Signal<In, Bit>,
    pub s1_adv: Signal<Out, Bit>,
    pub cmd_ready: Signal<Out, Bit>,
    pub accept: Signal<Out, Bit>,
    pub s1_valid_d: Signal<Out, Bit>,
    pub ovr: Signal<Out, Bit>,
    pub ovr_state: Signal<Out, HoaState>,
    late: Signal<Local, Bit>,
    late_state: Signal<Local, HoaState>,
}

impl Logic for HoaStep {
    #[hdl_gen]
    fn update(&mut self) {
        self.s1_adv.next =
            self.s1_valid.val() & ((self.state.val() == HoaState::Idle) | self.taken.val());
        self.cmd_ready.next = !self.s1_valid.val() | self.s1_adv.val();
        self.accept.next = self.cmd_valid.val() & self.cmd_ready.val();
        self.s1_valid_d.next = self.s1_valid.val();
        if self.s1_adv.val() {
            self.s1_valid_d.next = false;
        }
        if self.accept.val() {
            self.s1_valid_d.next = true;
        }
        if self.rst.val() {
            self.s1_valid_d.next = false;
        }

        self.late_state.next = HoaState::Idle;
        if self.state.val() == HoaState::FreeReq {
            self.late_state.next = HoaState::FreeHit;
        }
        if self.state.val() == HoaState::PopReq {
            self.late_state.next = HoaState::PopHit;
        }
        if self.state.val() == HoaState::ExitReq {
            self.late_state.next = HoaState::Respond;
        }
        if self.state.val() == HoaState::NewWait {
            self.late_state.next = HoaState::Exec;
        }
        if self.rst.val() {
            self.late_state.next = HoaState::Idle;
        }
        self.late.next = self.rst.val()
            | (self.lk_hit.val()
                & ((self.state.val() == HoaState::FreeReq)
                    | (self.state.val() == HoaState::PopReq)))
            | ((self.state.val() == HoaState::ExitReq) & self.exit_ready.val())
            | ((self.state.val() == HoaState::NewWait) & self.arena_rsp_valid.val());
        // The last one wins, in the order the allocator applies them.
        self.ovr_state.next = self.exec_state.val();
        if self.taken.val() {
            self.ovr_state.next = HoaState::Idle;
        }
        if self.s1_adv.val() {
            self.ovr_state.next = HoaState::Exec;
        }
        if self.late.val() {
            self.ovr_state.next = self.late_state.val();
        }
        self.ovr.next = self.late.val()
            | self.s1_adv.val()
            | self.taken.val()
            | ((self.state.val() == HoaState::Exec) & self.exec_miss.val());
    }
}
