//! The command interface (`cmd_*` in, `rsp_*` out): the core's `obj.alloc` / `obj.free` / exit
//! commands and the allocator's answers.

use super::{port, Sink, Source};
use crate::model::object_alloc::{Op, Response, Status};
use memento_hw::object_alloc::{
    OP_ALLOC, OP_EXIT, OP_FREE, OP_RESERVED, ST_DOUBLE_FREE, ST_FALLBACK, ST_INVALID, ST_OK,
};
use memento_sim::{Model, Port, VTable};
use rand_chacha::ChaCha8Rng;

pub struct CommandAgent {
    cmd: Source,
    op: Port,
    arg: Port,
    rsp: Sink,
    status: Port,
    ptr: Port,
}

/// The opcode and argument of `op` on the command port.
fn encode(op: Op) -> (u64, u64) {
    match op {
        Op::Alloc(s) => (OP_ALLOC, s),
        Op::Free(ptr) => (OP_FREE, ptr),
        Op::Exit => (OP_EXIT, 0),
        Op::Reserved(a) => (OP_RESERVED, a),
    }
}

impl CommandAgent {
    /// The ports of `vt`; the core refuses an answer in a cycle with chance `rsp_stall`.
    pub fn of(vt: &VTable, rsp_stall: f64) -> Self {
        CommandAgent {
            cmd: Source::of(vt, "cmd", 0.0),
            op: port(vt, "cmd_op"),
            arg: port(vt, "cmd_arg"),
            rsp: Sink::of(vt, "rsp", rsp_stall),
            status: port(vt, "rsp_status"),
            ptr: port(vt, "rsp_ptr"),
        }
    }

    /// Driver: `op` on the command port (`None`: none this cycle), then the response's ready.
    pub fn drive(&mut self, dut: &mut Model, rng: &mut ChaCha8Rng, op: Option<Op>) {
        let op = self.cmd.offer(dut, rng, op);
        let (opc, arg) = op.map_or((0, 0), encode);
        dut.poke(self.op, opc);
        dut.poke(self.arg, arg);
        self.rsp.drive(dut, rng);
    }

    /// Monitor: the command on offer was taken this cycle.
    pub fn accepted(&self, dut: &mut Model) -> bool {
        self.cmd.fired(dut)
    }

    /// Monitor: an answer is on offer this cycle (taken or not).
    pub fn offering(&self, dut: &mut Model) -> bool {
        self.rsp.valid(dut)
    }

    /// Monitor: the answer the core takes this cycle.
    pub fn response(&self, dut: &mut Model) -> Option<Response> {
        if !self.rsp.fired(dut) {
            return None;
        }
        let status = match dut.peek(self.status) {
            ST_OK => Status::Ok,
            ST_FALLBACK => Status::Fallback,
            ST_INVALID => Status::Invalid,
            ST_DOUBLE_FREE => Status::DoubleFree,
            _ => unreachable!("2-bit status"),
        };
        Some(Response {
            status,
            ptr: dut.peek(self.ptr),
        })
    }
}
