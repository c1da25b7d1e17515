//! The object allocator's pipeline control: the class of the command on the port, and the
//! handshakes that move commands from the port to `s1_` and from `s1_` to the execute stage, with
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
//! - The handshakes and the next-state override are `hoa_step`'s, computed twice: `if_answer`
//!   for an answer taken this cycle (`taken = rsp_ready`), `if_none` for none. `rsp_valid`, the
//!   execute stage's deepest output, chooses between them in the last multiplexer (a Shannon
//!   expansion on `rsp_valid`: the same function, one gate after it; docs/timing.md).

use crate::hoa_step::HoaStep;
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
    if_answer: HoaStep,
    if_none: HoaStep,
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
            if_answer: Default::default(),
            if_none: Default::default(),
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

        // The step if the answer offered is taken, and if none is.
        self.if_answer.taken.next = self.rsp_ready.val();
        self.if_none.taken.next = false;
        self.if_answer.state.next = self.state.val();
        self.if_none.state.next = self.state.val();
        self.if_answer.s1_valid.next = self.s1_valid.val();
        self.if_none.s1_valid.next = self.s1_valid.val();
        self.if_answer.cmd_valid.next = self.cmd_valid.val();
        self.if_none.cmd_valid.next = self.cmd_valid.val();
        self.if_answer.exec_miss.next = self.exec_miss.val();
        self.if_none.exec_miss.next = self.exec_miss.val();
        self.if_answer.exec_state.next = self.exec_state.val();
        self.if_none.exec_state.next = self.exec_state.val();
        self.if_answer.rst.next = self.rst.val();
        self.if_none.rst.next = self.rst.val();
        self.if_answer.lk_hit.next = self.lk_hit.val();
        self.if_none.lk_hit.next = self.lk_hit.val();
        self.if_answer.exit_ready.next = self.exit_ready.val();
        self.if_none.exit_ready.next = self.exit_ready.val();
        self.if_answer.arena_rsp_valid.next = self.arena_rsp_valid.val();
        self.if_none.arena_rsp_valid.next = self.arena_rsp_valid.val();

        self.s1_adv.next = self.if_none.s1_adv.val();
        self.cmd_ready.next = self.if_none.cmd_ready.val();
        self.accept.next = self.if_none.accept.val();
        self.s1_valid_d.next = self.if_none.s1_valid_d.val();
        self.ovr.next = self.if_none.ovr.val();
        self.ovr_state.next = self.if_none.ovr_state.val();
        if self.rsp_valid.val() {
            self.s1_adv.next = self.if_answer.s1_adv.val();
            self.cmd_ready.next = self.if_answer.cmd_ready.val();
            self.accept.next = self.if_answer.accept.val();
            self.s1_valid_d.next = self.if_answer.s1_valid_d.val();
            self.ovr.next = self.if_answer.ovr.val();
            self.ovr_state.next = self.if_answer.ovr_state.val();
        }
    }
}
