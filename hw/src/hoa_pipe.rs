//! The object allocator's pipeline control: the class of the command on the port, the
//! handshakes that move commands from the port to `s1_` and from `s1_` to the execute stage, and
//! the override of the next state. Combinational; every input is a register of the allocator, a
//! port, or an output of `size_class`, `hoa_exec` or the header cache.
//!
//! ```text
//!  cmd_valid, cmd_op, cmd_arg, size_cls -->|          |----> dec_cls, ptr_cls, lane_off
//!  state, s1_valid, rsp_valid, rsp_ready ->| hoa_pipe |----> cmd_ready, accept, s1_adv,
//!  exec_miss, exec_state, rst, lk_hit, --->|          |      s1_valid_d
//!  exit_ready, arena_rsp_valid             |          |----> ovr, ovr_state
//! ```
//!
//! - A command's class is its size's for an alloc and its pointer's lane for a free; the pointer
//!   decode (`slot_calc`) starts from `ptr_cls` and `lane_off` in the cycle it is accepted.
//! - The executing command leaves when its answer is taken; the one in `s1_` moves up when the
//!   execute stage is idle or being left (`s1_adv`), and a new command enters `s1_` when `s1_` is
//!   empty or moving up (`accept`).
//! - The late conditions (a header-cache hit, a CAM over the tags; the exit's and the arena's
//!   answers, from the page allocator's arbitration; reset) choose the next state after
//!   everything else; where they go depends on the state alone.
//! - `ovr`: the next state is `ovr_state`, not the miss states' (`hoa_miss`): a late condition,
//!   a command moving up (`Exec`) or leaving (`Idle`), or the execute stage's miss.
//!
//! Every output that depends on the answer is computed twice, as if no answer is on offer
//! (`_n`) and as if one is (`_t`, taken when `rsp_ready`), and `rsp_valid`, the execute stage's
//! deepest output, chooses in the last multiplexer: a Shannon expansion on `rsp_valid`, one gate
//! after it (docs/timing.md). An answer is on offer only in `Exec`, `FreeHit` and `Respond`,
//! where the only late condition is reset and the execute stage has not missed, so the `_t`
//! side needs neither.

use crate::object_alloc::HoaState;
use crate::params::Params;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct HoaPipe {
    pub state: Signal<In, HoaState>,
    pub s1_valid: Signal<In, Bit>,
    pub cmd_valid: Signal<In, Bit>,
    pub cmd_op: Signal<In, Bits<2>>,
    pub cmd_arg: Signal<In, Bits<64>>,
    /// The class of the size on the port (`size_class`).
    pub size_cls: Signal<In, Bits<6>>,
    pub rsp_ready: Signal<In, Bit>,
    /// The answer offered (`hoa_exec` passes the miss states' on outside `Exec`).
    pub rsp_valid: Signal<In, Bit>,
    /// The execute stage leaves `Exec` for `exec_state`.
    pub exec_miss: Signal<In, Bit>,
    pub exec_state: Signal<In, HoaState>,
    pub rst: Signal<In, Bit>,
    /// The header cache's lookup hit (whatever the state).
    pub lk_hit: Signal<In, Bit>,
    pub exit_ready: Signal<In, Bit>,
    pub arena_rsp_valid: Signal<In, Bit>,
    pub s1_adv: Signal<Out, Bit>,
    pub cmd_ready: Signal<Out, Bit>,
    pub accept: Signal<Out, Bit>,
    /// `s1_valid`'s next value.
    pub s1_valid_d: Signal<Out, Bit>,
    pub dec_cls: Signal<Out, Bits<6>>,
    pub ptr_cls: Signal<Out, Bits<6>>,
    pub lane_off: Signal<Out, Bits<48>>,
    /// The state's next value is `ovr_state`, not the miss states' (`hoa_miss`): a late
    /// condition, a command moving up or leaving, or the execute stage's miss.
    pub ovr: Signal<Out, Bit>,
    pub ovr_state: Signal<Out, HoaState>,
    lane_bits: Constant<Bits<8>>,
    class_mask: Constant<Bits<64>>,
    lane_mask: Constant<Bits<64>>,
    idle: Signal<Local, Bit>,
    s1_adv_n: Signal<Local, Bit>,
    s1_adv_t: Signal<Local, Bit>,
    accept_n: Signal<Local, Bit>,
    accept_t: Signal<Local, Bit>,
    late: Signal<Local, Bit>,
    late_state: Signal<Local, HoaState>,
    ovr_state_n: Signal<Local, HoaState>,
    ptr_cls_wide: Signal<Local, Bits<64>>,
    lane_off_wide: Signal<Local, Bits<64>>,
}

impl HoaPipe {
    pub fn new(p: &Params) -> Self {
        HoaPipe {
            state: Default::default(),
            s1_valid: Default::default(),
            cmd_valid: Default::default(),
            cmd_op: Default::default(),
            cmd_arg: Default::default(),
            size_cls: Default::default(),
            rsp_ready: Default::default(),
            rsp_valid: Default::default(),
            exec_miss: Default::default(),
            exec_state: Default::default(),
            rst: Default::default(),
            lk_hit: Default::default(),
            exit_ready: Default::default(),
            arena_rsp_valid: Default::default(),
            s1_adv: Default::default(),
            cmd_ready: Default::default(),
            accept: Default::default(),
            s1_valid_d: Default::default(),
            dec_cls: Default::default(),
            ptr_cls: Default::default(),
            lane_off: Default::default(),
            ovr: Default::default(),
            ovr_state: Default::default(),
            lane_bits: Constant::new((p.lane_bits as u64).to_bits()),
            class_mask: Constant::new((p.classes as u64 - 1).to_bits()),
            lane_mask: Constant::new(((1u64 << p.lane_bits) - 1).to_bits()),
            idle: Default::default(),
            s1_adv_n: Default::default(),
            s1_adv_t: Default::default(),
            accept_n: Default::default(),
            accept_t: Default::default(),
            late: Default::default(),
            late_state: Default::default(),
            ovr_state_n: Default::default(),
            ptr_cls_wide: Default::default(),
            lane_off_wide: Default::default(),
        }
    }
}

impl Logic for HoaPipe {
    #[hdl_gen]
    fn update(&mut self) {
        self.ptr_cls_wide.next =
            (self.cmd_arg.val() >> self.lane_bits.val()) & self.class_mask.val();
        self.ptr_cls.next = self.ptr_cls_wide.val().get_bits::<6>(0);
        self.lane_off_wide.next = self.cmd_arg.val() & self.lane_mask.val();
        self.lane_off.next = self.lane_off_wide.val().get_bits::<48>(0);
        self.dec_cls.next = self.size_cls.val();
        if self.cmd_op.val() == 1 {
            self.dec_cls.next = self.ptr_cls.val();
        }

        self.idle.next = self.state.val() == HoaState::Idle;
        self.s1_adv_n.next = self.s1_valid.val() & self.idle.val();
        self.s1_adv_t.next = self.s1_valid.val() & (self.idle.val() | self.rsp_ready.val());
        self.accept_n.next = self.cmd_valid.val() & (!self.s1_valid.val() | self.s1_adv_n.val());
        self.accept_t.next = self.cmd_valid.val() & (!self.s1_valid.val() | self.s1_adv_t.val());

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
        // The last one wins: the late conditions, a command moving up, the execute stage's miss.
        self.ovr_state_n.next = self.exec_state.val();
        if self.s1_adv_n.val() {
            self.ovr_state_n.next = HoaState::Exec;
        }
        if self.late.val() {
            self.ovr_state_n.next = self.late_state.val();
        }

        self.s1_adv.next = self.s1_adv_n.val();
        self.accept.next = self.accept_n.val();
        self.cmd_ready.next = !self.s1_valid.val() | self.s1_adv_n.val();
        self.s1_valid_d.next =
            !self.rst.val() & (self.accept_n.val() | (self.s1_valid.val() & !self.s1_adv_n.val()));
        self.ovr.next = self.late.val()
            | self.s1_adv_n.val()
            | ((self.state.val() == HoaState::Exec) & self.exec_miss.val());
        self.ovr_state.next = self.ovr_state_n.val();
        if self.rsp_valid.val() {
            // An answer on offer: the command moves up, or the executing one leaves (to Idle)
            // when its answer is taken; reset wins.
            self.s1_adv.next = self.s1_adv_t.val();
            self.accept.next = self.accept_t.val();
            self.cmd_ready.next = !self.s1_valid.val() | self.s1_adv_t.val();
            self.s1_valid_d.next = !self.rst.val()
                & (self.accept_t.val() | (self.s1_valid.val() & !self.s1_adv_t.val()));
            self.ovr.next = self.rst.val() | self.s1_adv_t.val() | self.rsp_ready.val();
            self.ovr_state.next = HoaState::Idle;
            if self.s1_adv_t.val() & !self.rst.val() {
                self.ovr_state.next = HoaState::Exec;
            }
        }
    }
}
