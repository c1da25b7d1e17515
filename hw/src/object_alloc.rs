//! The object allocator (HOA): `obj.alloc size` and `obj.free ptr` served from arenas whose
//! headers are cached in the HOT.
//!
//! ```text
//!                  +---------------------------------------------------+
//!  cfg_*      ---->|  size_class   slot_calc   stride ROM               |
//!  cmd_valid  ---->|  hoa_pipe: decode, handshakes                     |----> rsp_valid
//!  cmd_ready  <----|                                                   |<---- rsp_ready
//!  cmd_op/arg ---->|  hot (64 x 328b)   class_table (64 x 96b)   hdc   |----> rsp_status / rsp_ptr
//!                  |  hoa_exec: execute stage (obj_offset, lowest_free)|
//!  hdr_req_*  <----|  hoa_line: header line    hoa_miss: miss states   |----> arena_req_valid / va
//!  hdr_rsp_*  ---->|                                                   |<---- arena_req_ready
//!                  |  pipeline registers (s1_, ex_), state, line_q     |<---- arena_rsp_valid
//!                  +---------------------------------------------------+----> arena_rsp_ready
//! ```
//!
//! This block holds the registers and the RAMs and wires the sub-blocks, which are
//! combinational: `hoa_exec` decides the executing command (an answer from the HOT or a miss),
//! `hoa_miss` drives the ports and the RAMs' writes in the miss states, `hoa_line` is the header
//! line's datapath, and `hoa_pipe` decodes the command on the port and moves the pipeline. Where a
//! sub-block's deep output meets others, it enters the last multiplexer (docs/timing.md: each
//! module is synthesized on its own, so a late input cannot be moved up across a boundary).
//!
//! Ports (one clock, synchronous active-high `rst`, valid/ready everywhere):
//! - `cfg_valid`, `cfg_sel`, `cfg_data`: config write; `cfg_sel = 0` sets `MRS`, the region base.
//! - `cmd_*`: `op` 0 ALLOC (`arg` = size), 1 FREE (`arg` = pointer), 2 EXIT; op 3 is answered INVALID.
//! - `rsp_*`: `status` 0 OK, 1 FALLBACK, 2 INVALID, 3 DOUBLE_FREE; `ptr` the object (ALLOC OK), else 0.
//!   Responses come back in command order.
//! - `hdr_req_*`: read (`write` = 0) or write one 64-byte header line at virtual address `addr`.
//!   `hdr_rsp_*` returns read data; writes have no response.
//! - `arena_req_*`: ask the page allocator to map the first page of a new arena at `va`;
//!   `arena_rsp_valid` says it is mapped (its header reads as zero).
//! - `exit_valid` / `exit_ready`: an EXIT hands the end of the function to the page allocator,
//!   which reclaims the region; EXIT is answered once that handshake is done.
//!
//! Pipeline (docs/design.md, docs/timing.md): a command is accepted in cycle `t` (its class is
//! decoded and its pointer enters `slot_calc`), waits in `s1_` registers in `t+1` while the HOT
//! and the class table are read for it, and executes in `t+2` with the entry, when a hit is
//! answered. A command is accepted in every cycle the one ahead moves on, so hits of any mix
//! run at one per cycle, two cycles from acceptance to answer. Every HOT entry keeps its lowest
//! free object (`nxt`) ready, so an alloc takes it without a search and the search for the next
//! one runs while the answer leaves. A miss stays in the FSM until its header traffic is done;
//! the command behind it waits in `s1_` and reads the RAMs again when the miss is done.
//!
//! Parameters: `CLASSES`, `OBJS`, `LANE_BITS`, `LINE`, `PAGE` (see [`Params`]); checked by
//! [`ObjectAlloc::new`].

use crate::class_table::ClassTable;
use crate::header_cache::HeaderCache;
use crate::hoa_exec::HoaExec;
use crate::hoa_line::HoaLine;
use crate::hoa_miss::HoaMiss;
use crate::hoa_pipe::HoaPipe;
use crate::hot::Hot;
use crate::params::{ParamError, Params};
use crate::size_class::SizeClass;
use crate::slot_calc::SlotCalc;
use rust_hdl::prelude::*;

/// Command opcodes on `cmd_op`.
pub const OP_ALLOC: u64 = 0;
pub const OP_FREE: u64 = 1;
pub const OP_EXIT: u64 = 2;
/// The fourth encoding, which SPEC leaves undefined: answered INVALID, changing nothing.
pub const OP_RESERVED: u64 = 3;
/// Response codes on `rsp_status`.
pub const ST_OK: u64 = 0;
pub const ST_FALLBACK: u64 = 1;
pub const ST_INVALID: u64 = 2;
pub const ST_DOUBLE_FREE: u64 = 3;
/// Header line fields (bit offsets in the 512-bit little-endian line).
pub const HDR_BITMAP: usize = 0;
pub const HDR_NEXT: usize = 256;
pub const HDR_COUNT: usize = 320;
pub const HDR_STATE: usize = 336;
/// Arena states in the header's state byte.
pub const ARENA_IN_HOT: u64 = 0;
pub const ARENA_AVAILABLE: u64 = 1;
pub const ARENA_FULL: u64 = 2;

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum HoaState {
    Idle,
    Exec,
    AllocEvict,
    PopReq,
    PopHit,
    PopWait,
    NewReq,
    NewWait,
    FreeReq,
    FreeHit,
    FreeWait,
    FreeWrite,
    FreeInstall,
    ExitReq,
    Respond,
}

/// The object allocator.
#[derive(LogicBlock)]
pub struct ObjectAlloc {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_sel: Signal<In, Bits<2>>,
    pub cfg_data: Signal<In, Bits<64>>,
    pub cmd_valid: Signal<In, Bit>,
    pub cmd_ready: Signal<Out, Bit>,
    pub cmd_op: Signal<In, Bits<2>>,
    pub cmd_arg: Signal<In, Bits<64>>,
    pub rsp_valid: Signal<Out, Bit>,
    pub rsp_ready: Signal<In, Bit>,
    pub rsp_status: Signal<Out, Bits<2>>,
    pub rsp_ptr: Signal<Out, Bits<64>>,
    pub hdr_req_valid: Signal<Out, Bit>,
    pub hdr_req_ready: Signal<In, Bit>,
    pub hdr_req_write: Signal<Out, Bit>,
    pub hdr_req_addr: Signal<Out, Bits<48>>,
    pub hdr_req_wdata: Signal<Out, Bits<512>>,
    pub hdr_rsp_valid: Signal<In, Bit>,
    pub hdr_rsp_ready: Signal<Out, Bit>,
    pub hdr_rsp_rdata: Signal<In, Bits<512>>,
    pub arena_req_valid: Signal<Out, Bit>,
    pub arena_req_ready: Signal<In, Bit>,
    pub arena_req_va: Signal<Out, Bits<48>>,
    pub arena_rsp_valid: Signal<In, Bit>,
    pub arena_rsp_ready: Signal<Out, Bit>,
    pub exit_valid: Signal<Out, Bit>,
    pub exit_ready: Signal<In, Bit>,

    size_class: SizeClass,
    slot_calc: SlotCalc,
    stride_rom: ROM<Bits<48>, 6>,
    hot: Hot,
    class_table: ClassTable,
    hdc: HeaderCache,
    hoa_exec: HoaExec,
    hoa_line: HoaLine,
    hoa_miss: HoaMiss,
    hoa_pipe: HoaPipe,

    state: DFF<HoaState>,
    /// No reset: configuration writes it before the first command (SPEC), so its value after
    /// reset is nobody's.
    mrs: DFF<Bits<48>>,
    s1_valid: DFF<Bit>,
    s1_op: DFF<Bits<2>>,
    s1_arg: DFF<Bits<64>>,
    s1_cls: DFF<Bits<6>>,
    s1_oversize: DFF<Bit>,
    ex_stride: DFF<Bits<48>>,
    /// The bits a stride can have set: it is a whole number of pages, at most a lane.
    stride_kept: Constant<Bits<48>>,
    ex_op: DFF<Bits<2>>,
    ex_arg: DFF<Bits<64>>,
    ex_cls: DFF<Bits<6>>,
    ex_oversize: DFF<Bit>,
    use_pop: DFF<Bit>,
    /// The page allocator took this arena request (`NewReq` moves on a cycle later, so the
    /// state's next value never waits for `arena_req_ready`, which is deep in the page pool).
    arena_sent: DFF<Bit>,
    src_va: DFF<Bits<48>>,
    rsp_status_q: DFF<Bits<2>>,
    line_q: DFF<Bits<344>>,

    /// The bits MRS can have set: it is aligned to the region and below 2^VA_BITS.
    mrs_kept: Constant<Bits<48>>,
    /// The bits of a header cache tag (`header_cache::tag_kept`): an arena's offset in the region.
    tag_kept: Constant<Bits<48>>,
}

impl ObjectAlloc {
    /// Builds the allocator for `p`, refusing a parameter set that does not validate.
    pub fn new(p: &Params) -> Result<Self, ParamError> {
        p.validate()?;
        Ok(ObjectAlloc {
            clock: Default::default(),
            rst: Default::default(),
            cfg_valid: Default::default(),
            cfg_sel: Default::default(),
            cfg_data: Default::default(),
            cmd_valid: Default::default(),
            cmd_ready: Default::default(),
            cmd_op: Default::default(),
            cmd_arg: Default::default(),
            rsp_valid: Default::default(),
            rsp_ready: Default::default(),
            rsp_status: Default::default(),
            rsp_ptr: Default::default(),
            hdr_req_valid: Default::default(),
            hdr_req_ready: Default::default(),
            hdr_req_write: Default::default(),
            hdr_req_addr: Default::default(),
            hdr_req_wdata: Default::default(),
            hdr_rsp_valid: Default::default(),
            hdr_rsp_ready: Default::default(),
            hdr_rsp_rdata: Default::default(),
            arena_req_valid: Default::default(),
            arena_req_ready: Default::default(),
            arena_req_va: Default::default(),
            arena_rsp_valid: Default::default(),
            arena_rsp_ready: Default::default(),
            exit_valid: Default::default(),
            exit_ready: Default::default(),
            size_class: SizeClass::new(p),
            slot_calc: SlotCalc::new(p),
            stride_rom: (0..64u32)
                .map(|c| p.stride(c.min(p.classes - 1)).to_bits::<48>())
                .into(),
            hot: crate::hot::new(p),
            class_table: crate::class_table::new(p),
            hdc: HeaderCache::new(p),
            hoa_exec: HoaExec::new(p),
            hoa_line: HoaLine::new(p),
            hoa_miss: HoaMiss::new(p),
            hoa_pipe: HoaPipe::new(p),
            state: Default::default(),
            mrs: Default::default(),
            s1_valid: Default::default(),
            s1_op: Default::default(),
            s1_arg: Default::default(),
            s1_cls: Default::default(),
            s1_oversize: Default::default(),
            ex_stride: Default::default(),
            stride_kept: Constant::new(
                (((1u64 << (p.lane_bits + 1)) - 1) & !(p.page - 1)).to_bits(),
            ),
            ex_op: Default::default(),
            ex_arg: Default::default(),
            ex_cls: Default::default(),
            ex_oversize: Default::default(),
            use_pop: Default::default(),
            arena_sent: Default::default(),
            src_va: Default::default(),
            rsp_status_q: Default::default(),
            line_q: Default::default(),
            mrs_kept: Constant::new(
                (((1u64 << p.va_bits) - 1) & !((1u64 << p.region_log2()) - 1)).to_bits(),
            ),
            tag_kept: Constant::new(crate::header_cache::tag_kept(p)),
        })
    }
}

impl Logic for ObjectAlloc {
    #[hdl_gen]
    fn update(&mut self) {
        // Ops 0 ALLOC 1 FREE 2 EXIT. The execute stage is `hoa_exec`, the header line's datapath
        // `hoa_line`, the miss states `hoa_miss`; this block holds the pipeline registers, the
        // RAMs, the handshakes and the late conditions.
        dff_setup!(
            self,
            clock,
            state,
            mrs,
            s1_valid,
            s1_op,
            s1_arg,
            s1_cls,
            s1_oversize,
            ex_stride,
            ex_op,
            ex_arg,
            ex_cls,
            ex_oversize,
            use_pop,
            arena_sent,
            src_va,
            rsp_status_q,
            line_q
        );
        clock!(self, clock, hot, class_table, hdc);
        self.hot.rst.next = self.rst.val();
        self.class_table.rst.next = self.rst.val();
        self.hdc.rst.next = self.rst.val();
        // The header cache's tags are offsets in the region: MRS is the same for every arena.
        self.hdc.lk_tag.next = self.src_va.q.val() & self.tag_kept.val();

        // Combinational sub-blocks take their inputs from flops, ports and other sub-blocks'
        // outputs only, assigned first, so that Verilator orders the parent's block after theirs
        // without a false loop.
        self.size_class.size.next = self.cmd_arg.val();
        // The pointer decode starts in the cycle a command is accepted, from the command port.
        self.slot_calc.clock.next = self.clock.val();
        self.slot_calc.cls.next = self.hoa_pipe.ptr_cls.val();
        self.slot_calc.lane_off.next = self.hoa_pipe.lane_off.val();
        self.slot_calc.load.next = self.hoa_pipe.accept.val();
        self.slot_calc.advance.next = self.hoa_pipe.s1_adv.val();
        // Per-class constants of the command moving up, looked up while it waits in s1_.
        self.stride_rom.address.next = self.s1_cls.q.val();
        self.hoa_exec.hot_data.next = self.hot.rd_data.val();
        self.hoa_exec.hot_valid.next = self.hot.rd_valid.val();
        self.hoa_exec.ct_data.next = self.class_table.rd_data.val();
        self.hoa_exec.ex_op.next = self.ex_op.q.val();
        self.hoa_exec.ex_arg.next = self.ex_arg.q.val();
        self.hoa_exec.ex_cls.next = self.ex_cls.q.val();
        self.hoa_exec.ex_oversize.next = self.ex_oversize.q.val();
        self.hoa_exec.ex_stride.next = self.ex_stride.q.val();
        self.hoa_exec.mrs.next = self.mrs.q.val();
        self.hoa_exec.status_q.next = self.rsp_status_q.q.val();
        self.hoa_exec.rsp_ready.next = self.rsp_ready.val();
        self.hoa_exec.active.next = self.state.q.val() == HoaState::Exec;
        self.hoa_exec.miss_rsp_valid.next = self.hoa_miss.rsp_valid.val();
        self.hoa_exec.miss_wr_en.next = self.hoa_miss.hot_wr_en.val();
        self.hoa_exec.miss_wr_data.next = self.hoa_miss.hot_wr_data.val();
        self.hoa_exec.arena_off.next = self.slot_calc.arena_off.val();
        self.hoa_exec.slot.next = self.slot_calc.slot.val();
        self.hoa_exec.in_header.next = self.slot_calc.in_header.val();
        self.hoa_exec.misaligned.next = self.slot_calc.misaligned.val();
        self.hoa_exec.past_end.next = self.slot_calc.past_end.val();
        self.hoa_exec.pop_bitmap.next = self.line_q.q.val().get_bits::<256>(0);
        self.hoa_exec.pop_count.next = self.line_q.q.val().get_bits::<9>(320);
        self.hoa_exec.pop_va.next = self.src_va.q.val();
        self.hoa_exec.pop_hit.next = self.state.q.val() == HoaState::PopHit;
        self.hoa_line.state.next = self.state.q.val();
        self.hoa_line.hdr_rdata.next = self.hdr_rsp_rdata.val().get_bits::<344>(0);
        self.hoa_line.line_q.next = self.line_q.q.val();
        self.hoa_line.slot.next = self.slot_calc.slot.val();
        self.hoa_line.ct_data.next = self.class_table.rd_data.val();
        self.hoa_line.src_va.next = self.src_va.q.val();
        self.hoa_miss.state.next = self.state.q.val();
        self.hoa_miss.use_pop.next = self.use_pop.q.val();
        self.hoa_miss.arena_sent.next = self.arena_sent.q.val();
        self.hoa_miss.status_q.next = self.rsp_status_q.q.val();
        self.hoa_miss.line_q.next = self.line_q.q.val();
        self.hoa_miss.src_va.next = self.src_va.q.val();
        self.hoa_miss.mrs.next = self.mrs.q.val();
        self.hoa_miss.hot_base.next = self.hoa_exec.hot_base.val();
        self.hoa_miss.next_bump.next = self.hoa_exec.next_bump.val();
        self.hoa_miss.hdr_req_ready.next = self.hdr_req_ready.val();
        self.hoa_miss.hdr_rsp_valid.next = self.hdr_rsp_valid.val();
        self.hoa_miss.hdr_rdata.next = self.hdr_rsp_rdata.val().get_bits::<344>(0);
        self.hoa_miss.arena_req_ready.next = self.arena_req_ready.val();
        self.hoa_miss.arena_rsp_valid.next = self.arena_rsp_valid.val();
        self.hoa_miss.exit_ready.next = self.exit_ready.val();
        self.hoa_miss.rsp_ready.next = self.rsp_ready.val();
        self.hoa_miss.hdc_lk_hit.next = self.hdc.lk_hit.val();
        self.hoa_miss.hdc_lk_line.next = self.hdc.lk_line.val();
        self.hoa_miss.hdc_victim_valid.next = self.hdc.victim_valid.val();
        self.hoa_miss.hdc_victim_tag.next = self.hdc.victim_tag.val();
        self.hoa_miss.hdc_victim_line.next = self.hdc.victim_line.val();
        self.hoa_miss.rd_live.next = self.hoa_line.rd_live.val();
        self.hoa_miss.rd_full.next = self.hoa_line.rd_full.val();
        self.hoa_miss.freed_line.next = self.hoa_line.freed_line.val();
        self.hoa_miss.pop_ct.next = self.hoa_line.pop_ct.val();
        self.hoa_miss.push_ct.next = self.hoa_line.push_ct.val();
        self.hoa_pipe.state.next = self.state.q.val();
        self.hoa_pipe.s1_valid.next = self.s1_valid.q.val();
        self.hoa_pipe.cmd_valid.next = self.cmd_valid.val();
        self.hoa_pipe.cmd_op.next = self.cmd_op.val();
        self.hoa_pipe.cmd_arg.next = self.cmd_arg.val();
        self.hoa_pipe.size_cls.next = self.size_class.cls.val();
        self.hoa_pipe.rsp_ready.next = self.rsp_ready.val();
        self.hoa_pipe.rsp_valid.next = self.hoa_exec.rsp_valid.val();
        self.hoa_pipe.exec_miss.next = self.hoa_exec.miss.val();
        self.hoa_pipe.exec_state.next = self.hoa_exec.miss_state.val();
        self.hoa_pipe.rst.next = self.rst.val();
        self.hoa_pipe.lk_hit.next = self.hdc.lk_hit.val();
        self.hoa_pipe.exit_ready.next = self.exit_ready.val();
        self.hoa_pipe.arena_rsp_valid.next = self.arena_rsp_valid.val();

        // The ports and the RAMs' writes as the miss states set them (at rest in Idle and Exec),
        // and the registers' next values.
        self.rsp_valid.next = self.hoa_exec.rsp_valid.val();
        self.cmd_ready.next = self.hoa_pipe.cmd_ready.val();
        self.rsp_status.next = self.hoa_miss.rsp_status.val();
        self.rsp_ptr.next = 0.into();
        self.hdr_req_valid.next = self.hoa_miss.hdr_req_valid.val();
        self.hdr_req_write.next = self.hoa_miss.hdr_req_write.val();
        self.hdr_req_addr.next = self.hoa_miss.hdr_req_addr.val();
        self.hdr_req_wdata.next = self.hoa_miss.hdr_req_wdata.val();
        self.hdr_rsp_ready.next = self.hoa_miss.hdr_rsp_ready.val();
        self.arena_req_valid.next = self.hoa_miss.arena_req_valid.val();
        self.arena_req_va.next = self.src_va.q.val();
        self.arena_rsp_ready.next = self.hoa_miss.arena_rsp_ready.val();
        self.exit_valid.next = self.hoa_miss.exit_valid.val();
        self.hot.wr_en.next = self.hoa_exec.hot_wr_en.val();
        self.hot.wr_index.next = self.ex_cls.q.val();
        self.hot.wr_data.next = self.hoa_exec.hot_wr_data.val();
        self.hot.clear_all.next = self.hoa_miss.hot_clear.val();
        self.class_table.wr_en.next = self.hoa_miss.ct_wr_en.val();
        self.class_table.wr_index.next = self.ex_cls.q.val();
        self.class_table.wr_data.next = self.hoa_miss.ct_wr_data.val();
        self.class_table.clear_all.next = self.hoa_miss.ct_clear.val();
        self.hdc.wr_line.next = self.hoa_miss.hdc_wr_line.val();
        self.hdc.upd_en.next = self.hoa_miss.hdc_upd.val();
        self.hdc.ins_en.next = self.hoa_miss.hdc_ins.val();
        self.hdc.rm_en.next = self.hoa_miss.hdc_rm.val();
        self.hdc.clear_all.next = self.hoa_miss.hdc_clear.val();
        self.state.d.next = self.hoa_miss.next_state.val();
        self.line_q.d.next = self.hoa_miss.line_d.val();
        self.arena_sent.d.next = self.hoa_miss.arena_sent_d.val();
        self.rsp_status_q.d.next = self.hoa_miss.status_d.val();

        if self.cfg_valid.val() & (self.cfg_sel.val() == 0) {
            self.mrs.d.next = self.cfg_data.val().get_bits::<48>(0) & self.mrs_kept.val();
        }

        // The execute stage: an answer from the HOT, or a miss.
        if self.state.q.val() == HoaState::Exec {
            self.rsp_status.next = self.hoa_exec.rsp_status.val();
            self.rsp_ptr.next = self.hoa_exec.rsp_ptr.val();
            if self.hoa_exec.set_va.val() {
                self.src_va.d.next = self.hoa_exec.miss_va.val();
            }
            if self.hoa_exec.alloc_miss.val() {
                self.use_pop.d.next = self.hoa_exec.use_pop.val();
            }
        }

        // The handshakes (`hoa_pipe`) move the pipeline; the RAMs read for the command in s1_
        // when it moves up, the HOT again for the executing one when a miss has installed its
        // arena (the class table's new entry is not needed: the command is then served from the
        // HOT). Otherwise their outputs hold the executing command's entries. The class table is
        // written only in states that answer nothing, so it is never read in the cycle it is
        // written.
        self.hot.rd_index.next = self.s1_cls.q.val();
        self.class_table.rd_index.next = self.s1_cls.q.val();
        if self.hoa_miss.reread.val() {
            self.hot.rd_index.next = self.ex_cls.q.val();
        }
        self.hot.rd_en.next = self.hoa_pipe.s1_adv.val() | self.hoa_miss.reread.val();
        self.class_table.rd_en.next = self.hoa_pipe.s1_adv.val();
        if self.hoa_pipe.s1_adv.val() {
            self.ex_op.d.next = self.s1_op.q.val();
            self.ex_arg.d.next = self.s1_arg.q.val();
            self.ex_oversize.d.next = self.s1_oversize.q.val();
            self.ex_cls.d.next = self.s1_cls.q.val();
            // Only the bits a stride can have: the class table keeps no bump bit above LANE_BITS,
            // so the ROM's others are bits nothing could tell apart.
            self.ex_stride.d.next = self.stride_rom.data.val() & self.stride_kept.val();
        }
        if self.hoa_pipe.accept.val() {
            self.s1_op.d.next = self.cmd_op.val();
            self.s1_arg.d.next = self.cmd_arg.val();
            self.s1_oversize.d.next = self.size_class.oversize.val();
            self.s1_cls.d.next = self.hoa_pipe.dec_cls.val();
        }
        // The next state: the miss states' unless `hoa_pipe` overrides it (last, so that the
        // miss states' deep multiplexer passes one more only).
        if self.hoa_pipe.ovr.val() {
            self.state.d.next = self.hoa_pipe.ovr_state.val();
        }
        self.s1_valid.d.next = self.hoa_pipe.s1_valid_d.val();
        if self.rst.val() {
            self.arena_sent.d.next = false;
        }
    }
}
