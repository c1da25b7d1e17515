//! The object allocator (HOA): `obj.alloc size` and `obj.free ptr` served from arenas whose
//! headers are cached in the HOT.
//!
//! ```text
//!                  +---------------------------------------------+
//!  cfg_*      ---->|                                             |
//!  cmd_valid  ---->|  size_class   lowest_free   slot_calc       |----> rsp_valid
//!  cmd_ready  <----|                                             |<---- rsp_ready
//!  cmd_op/arg ---->|  hot (64 x 320b)   class_table (64 x 96b)   |----> rsp_status / rsp_ptr
//!                  |                                             |
//!  hdr_req_*  <----|               control FSM                   |----> arena_req_valid / va
//!  hdr_rsp_*  ---->|                                             |<---- arena_req_ready
//!                  |                                             |<---- arena_rsp_valid
//!                  +---------------------------------------------+----> arena_rsp_ready
//! ```
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
use crate::hot::Hot;
use crate::lowest_free::LowestFree;
use crate::obj_offset::ObjOffset;
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
    lowest_free: LowestFree,
    slot_calc: SlotCalc,
    obj_offset: ObjOffset,
    stride_rom: ROM<Bits<48>, 6>,
    hot: Hot,
    class_table: ClassTable,
    hdc: HeaderCache,

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

    lane_bits: Constant<Bits<8>>,
    region_log2: Constant<Bits<8>>,
    /// The bits MRS can have set: it is aligned to the region and below 2^VA_BITS.
    mrs_kept: Constant<Bits<48>>,
    /// The bits a header line can have set (`header_cache::line_kept`): the freed line keeps
    /// only those.
    line_kept: Constant<Bits<344>>,
    /// The bits of a header cache tag (`header_cache::tag_kept`): an arena's offset in the region.
    tag_kept: Constant<Bits<48>>,
    class_mask: Constant<Bits<64>>,
    lane_mask: Constant<Bits<64>>,
    objs: Constant<Bits<9>>,
    /// A full arena's bitmap: OBJS ones.
    full_bitmap: Constant<Bits<256>>,
    has_hdc: Constant<Bit>,

    accept: Signal<Local, Bit>,
    done: Signal<Local, Bit>,
    s2_free: Signal<Local, Bit>,
    reread: Signal<Local, Bit>,
    s1_adv: Signal<Local, Bit>,
    ptr_cls: Signal<Local, Bits<64>>,
    dec_cls: Signal<Local, Bits<6>>,
    lane_off: Signal<Local, Bits<64>>,
    hot_base: Signal<Local, Bits<48>>,
    hot_count: Signal<Local, Bits<9>>,
    hot_dirty: Signal<Local, Bit>,
    hot_bitmap: Signal<Local, Bits<256>>,
    hot_live: Signal<Local, Bit>,
    hot_nxt: Signal<Local, Bits<8>>,
    hot_full: Signal<Local, Bit>,
    /// The entry's count after an alloc and after a free, at the count's own width (an
    /// expression inside the 328-bit entry would be computed at 328 bits).
    hot_inc: Signal<Local, Bits<9>>,
    /// A late condition decides the next state, and which one it is (see the end of update).
    late: Signal<Local, Bit>,
    late_state: Signal<Local, HoaState>,
    hot_dec: Signal<Local, Bits<9>>,
    taken_bitmap: Signal<Local, Bits<256>>,
    freed_bitmap: Signal<Local, Bits<256>>,
    freed_nxt: Signal<Local, Bits<8>>,
    lane_room: Signal<Local, Bit>,
    region_base: Signal<Local, Bits<48>>,
    ct_head: Signal<Local, Bits<48>>,
    ct_bump: Signal<Local, Bits<48>>,
    lane_base: Signal<Local, Bits<48>>,
    next_bump: Signal<Local, Bits<48>>,
    alloc_ptr: Signal<Local, Bits<64>>,
    free_base: Signal<Local, Bits<48>>,
    free_invalid: Signal<Local, Bit>,
    slot_live: Signal<Local, Bit>,
    src_line: Signal<Local, Bits<344>>,
    hdc_hit: Signal<Local, Bit>,
    rd_bitmap: Signal<Local, Bits<256>>,
    rd_next: Signal<Local, Bits<64>>,
    rd_count: Signal<Local, Bits<16>>,
    /// The line's count after a free, at its own width.
    rd_dec: Signal<Local, Bits<16>>,
    rd_state: Signal<Local, Bits<8>>,
    new_next: Signal<Local, Bits<64>>,
    new_state: Signal<Local, Bits<8>>,
    rd_live: Signal<Local, Bit>,
    freed_line: Signal<Local, Bits<344>>,
    pop_hot: Signal<Local, Bits<328>>,
    pop_ct: Signal<Local, Bits<96>>,
    push_ct: Signal<Local, Bits<96>>,
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
            lowest_free: LowestFree::new(p),
            slot_calc: SlotCalc::new(p),
            obj_offset: ObjOffset::new(p),
            stride_rom: (0..64u32)
                .map(|c| p.stride(c.min(p.classes - 1)).to_bits::<48>())
                .into(),
            hot: crate::hot::new(p),
            class_table: crate::class_table::new(p),
            hdc: HeaderCache::new(p),
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
            lane_bits: Constant::new((p.lane_bits as u64).to_bits()),
            region_log2: Constant::new((p.region_log2() as u64).to_bits()),
            mrs_kept: Constant::new(
                (((1u64 << p.va_bits) - 1) & !((1u64 << p.region_log2()) - 1)).to_bits(),
            ),
            line_kept: Constant::new(crate::header_cache::line_kept(p)),
            tag_kept: Constant::new(crate::header_cache::tag_kept(p)),
            class_mask: Constant::new((p.classes as u64 - 1).to_bits()),
            lane_mask: Constant::new(((1u64 << p.lane_bits) - 1).to_bits()),
            objs: Constant::new((p.objs as u64).to_bits()),
            full_bitmap: Constant::new(
                (0..p.objs as usize).fold(Bits::<256>::default(), |b, i| b.replace_bit(i, true)),
            ),
            has_hdc: Constant::new(p.hdc > 0),
            accept: Default::default(),
            done: Default::default(),
            s2_free: Default::default(),
            reread: Default::default(),
            s1_adv: Default::default(),
            ptr_cls: Default::default(),
            dec_cls: Default::default(),
            lane_off: Default::default(),
            hot_base: Default::default(),
            hot_count: Default::default(),
            hot_inc: Default::default(),
            late: Default::default(),
            late_state: Default::default(),
            hot_dec: Default::default(),
            hot_dirty: Default::default(),
            hot_bitmap: Default::default(),
            hot_live: Default::default(),
            hot_nxt: Default::default(),
            hot_full: Default::default(),
            taken_bitmap: Default::default(),
            freed_bitmap: Default::default(),
            freed_nxt: Default::default(),
            lane_room: Default::default(),
            region_base: Default::default(),
            ct_head: Default::default(),
            ct_bump: Default::default(),
            lane_base: Default::default(),
            next_bump: Default::default(),
            alloc_ptr: Default::default(),
            free_base: Default::default(),
            free_invalid: Default::default(),
            slot_live: Default::default(),
            src_line: Default::default(),
            hdc_hit: Default::default(),
            rd_bitmap: Default::default(),
            rd_next: Default::default(),
            rd_count: Default::default(),
            rd_dec: Default::default(),
            rd_state: Default::default(),
            new_next: Default::default(),
            new_state: Default::default(),
            rd_live: Default::default(),
            freed_line: Default::default(),
            pop_hot: Default::default(),
            pop_ct: Default::default(),
            push_ct: Default::default(),
        })
    }
}

impl Logic for ObjectAlloc {
    #[hdl_gen]
    fn update(&mut self) {
        // Field offsets are literals here (rust-hdl emits a named constant as a signal name):
        // HOT entry base 0, count 48, dirty 57, bitmap 64, nxt 320; class table head 0, bump 48;
        // header line bitmap 0, next 256, count 320, state 336; ops 0 ALLOC 1 FREE 2 EXIT;
        // status 0 OK 1 FALLBACK 2 INVALID 3 DOUBLE_FREE; arena state 1 AVAILABLE 2 FULL.
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

        // Combinational sub-blocks take their inputs from flops and ports only, assigned first,
        // so that Verilator orders the parent's block after theirs without a false loop.
        self.size_class.size.next = self.cmd_arg.val();
        // The pointer decode starts in the cycle a command is accepted, from the command port.
        self.slot_calc.clock.next = self.clock.val();
        self.ptr_cls.next = (self.cmd_arg.val() >> self.lane_bits.val()) & self.class_mask.val();
        self.slot_calc.cls.next = self.ptr_cls.val().get_bits::<6>(0);
        self.lane_off.next = self.cmd_arg.val() & self.lane_mask.val();
        self.slot_calc.lane_off.next = self.lane_off.val().get_bits::<48>(0);
        // Per-class constants of the command moving up, looked up while it waits in s1_.
        self.stride_rom.address.next = self.s1_cls.q.val();
        self.obj_offset.index.next = self.hot.rd_data.val().get_bits::<8>(320);
        // The lowest free object of the bitmap an alloc leaves, or of a popped arena's line.
        self.lowest_free.bitmap.next = self.hot.rd_data.val().get_bits::<256>(64);
        self.lowest_free.set_en.next = true;
        self.lowest_free.set_index.next = self.hot.rd_data.val().get_bits::<8>(320);
        self.lowest_free.alt.next = self.line_q.q.val().get_bits::<256>(0);
        self.lowest_free.use_alt.next = self.state.q.val() == HoaState::PopHit;
        self.obj_offset.cls.next = self.ex_cls.q.val();

        // Defaults: every output and sub-block input is assigned before any branch.
        self.rsp_valid.next = false;
        self.rsp_status.next = self.rsp_status_q.q.val();
        self.rsp_ptr.next = 0.into();
        self.hdr_req_valid.next = false;
        self.hdr_req_write.next = false;
        self.hdr_req_addr.next = self.src_va.q.val();
        self.hdr_req_wdata.next = bit_cast::<512, 344>(self.line_q.q.val());
        self.hdr_rsp_ready.next = false;
        self.arena_req_valid.next = false;
        self.arena_req_va.next = self.src_va.q.val();
        self.arena_rsp_ready.next = false;
        self.exit_valid.next = false;
        self.hot.wr_en.next = false;
        self.hot.wr_index.next = self.ex_cls.q.val();
        self.hot.wr_data.next = 0.into();
        self.hot.clear_all.next = false;
        self.class_table.wr_en.next = false;
        self.class_table.wr_index.next = self.ex_cls.q.val();
        self.class_table.wr_data.next = 0.into();
        self.class_table.clear_all.next = false;
        self.hdc.wr_line.next = self.line_q.q.val();
        self.hdc.upd_en.next = false;
        self.hdc.ins_en.next = false;
        self.hdc.rm_en.next = false;
        self.hdc.clear_all.next = false;
        self.reread.next = false;

        if self.cfg_valid.val() & (self.cfg_sel.val() == 0) {
            self.mrs.d.next = self.cfg_data.val().get_bits::<48>(0) & self.mrs_kept.val();
        }

        // The class of the command on the port: the size's for an alloc, the pointer's lane for
        // a free.
        self.dec_cls.next = self.size_class.cls.val();
        if self.cmd_op.val() == 1 {
            self.dec_cls.next = self.ptr_cls.val().get_bits::<6>(0);
        }

        // The entry of the executing command's class.
        self.hot_base.next = self.hot.rd_data.val().get_bits::<48>(0);
        self.hot_count.next = self.hot.rd_data.val().get_bits::<9>(48);
        self.hot_dirty.next = self.hot.rd_data.val().get_bit(57);
        self.hot_bitmap.next = self.hot.rd_data.val().get_bits::<256>(64);
        self.hot_nxt.next = self.hot.rd_data.val().get_bits::<8>(320);
        self.hot_live.next = self.hot.rd_valid.val();
        self.hot_full.next = self.hot_count.val() == self.objs.val();
        self.hot_inc.next = self.hot_count.val() + 1;
        self.hot_dec.next = self.hot_count.val() - 1;
        // An invalid class-table entry reads as zero: no available arena, bump pointer 0.
        self.ct_head.next = self.class_table.rd_data.val().get_bits::<48>(0);
        self.ct_bump.next = self.class_table.rd_data.val().get_bits::<48>(48);
        // MRS is aligned to the region and a lane's base to its lane, so these sums are ORs.
        self.lane_base.next =
            self.mrs.q.val() | (bit_cast::<48, 6>(self.ex_cls.q.val()) << self.lane_bits.val());

        // Alloc: the entry's ready lowest free object; the bitmap once it is taken, whose own
        // lowest free object becomes the entry's next.
        self.alloc_ptr.next =
            bit_cast::<64, 48>(self.hot_base.val() | bit_cast::<48, 17>(self.obj_offset.off.val()));
        self.taken_bitmap.next = self
            .hot_bitmap
            .val()
            .replace_bit(self.hot_nxt.val().index(), true);
        self.next_bump.next = self.ct_bump.val() + self.ex_stride.q.val();
        // A bump pointer is a multiple of its class's stride, a power of two no larger than the
        // lane: the lane has room for one more arena exactly when the pointer is below the lane's
        // end, bit LANE_BITS clear (it is the highest bit the class table keeps).
        self.lane_room.next = !self.ct_bump.val().get_bit(self.lane_bits.val().index());

        // Free: decode the pointer of the executing command. The arena's base keeps the
        // pointer's bits above its lane offset (a pointer outside the region is INVALID anyway).
        self.region_base.next =
            self.ex_arg.q.val().get_bits::<48>(0) & !self.lane_mask.val().get_bits::<48>(0);
        self.free_base.next = self.region_base.val() | self.slot_calc.arena_off.val();
        self.free_invalid.next = ((self.ex_arg.q.val() >> self.region_log2.val())
            != (bit_cast::<64, 48>(self.mrs.q.val()) >> self.region_log2.val()))
            | self.slot_calc.in_header.val()
            | self.slot_calc.misaligned.val()
            | self.slot_calc.past_end.val()
            | (self.slot_calc.arena_off.val() >= self.ct_bump.val());
        self.slot_live.next = self
            .hot_bitmap
            .val()
            .get_bit(self.slot_calc.slot.val().index());
        self.freed_bitmap.next = self
            .hot_bitmap
            .val()
            .replace_bit(self.slot_calc.slot.val().index(), false);
        self.freed_nxt.next = self.hot_nxt.val();
        if self.hot_full.val() | (self.slot_calc.slot.val() < self.hot_nxt.val()) {
            self.freed_nxt.next = self.slot_calc.slot.val();
        }

        // The header line: as the header cache gave it (registered in line_q by FreeReq or
        // PopReq), else as the header port returns it.
        self.hdc_hit.next = self.hdc.lk_hit.val()
            & ((self.state.q.val() == HoaState::FreeReq)
                | (self.state.q.val() == HoaState::PopReq));
        self.src_line.next = self.hdr_rsp_rdata.val().get_bits::<344>(0);
        if (self.state.q.val() == HoaState::FreeHit) | (self.state.q.val() == HoaState::PopHit) {
            self.src_line.next = self.line_q.q.val();
        }
        self.rd_bitmap.next = self.src_line.val().get_bits::<256>(0);
        self.rd_next.next = self.src_line.val().get_bits::<64>(256);
        self.rd_count.next = self.src_line.val().get_bits::<16>(320);
        self.rd_dec.next = self.rd_count.val() - 1;
        self.rd_state.next = self.src_line.val().get_bits::<8>(336);
        self.new_next.next = self.rd_next.val();
        self.new_state.next = self.rd_state.val();
        if self.rd_state.val() == 2 {
            self.new_next.next = bit_cast::<64, 48>(self.ct_head.val());
            self.new_state.next = 1.into();
        }
        // What the line read (or cached) becomes: after a free of the executing pointer's slot,
        // or as the HOT entry and class-table entry of a popped arena; and the class-table entry
        // that pushes the arena at src_va on its available list.
        self.rd_live.next = self
            .rd_bitmap
            .val()
            .get_bit(self.slot_calc.slot.val().index());
        // Only the bits a line can have set (the header cache stores no other, and memory's are
        // zero): the rest of the fields' bits are constant zeros, not logic.
        self.freed_line.next = (bit_cast::<344, 256>(
            self.rd_bitmap
                .val()
                .replace_bit(self.slot_calc.slot.val().index(), false),
        ) | (bit_cast::<344, 64>(self.new_next.val()) << 256)
            | (bit_cast::<344, 16>(self.rd_dec.val()) << 320)
            | (bit_cast::<344, 8>(self.new_state.val()) << 336))
            & self.line_kept.val();
        self.pop_hot.next = (bit_cast::<328, 256>(self.rd_bitmap.val()) << 64)
            | bit_cast::<328, 48>(self.src_va.q.val())
            | (bit_cast::<328, 9>(self.rd_count.val().get_bits::<9>(0)) << 48)
            | (bit_cast::<328, 8>(self.lowest_free.index.val()) << 320);
        self.pop_ct.next = bit_cast::<96, 48>(self.rd_next.val().get_bits::<48>(0))
            | (bit_cast::<96, 48>(self.ct_bump.val()) << 48);
        self.push_ct.next = bit_cast::<96, 48>(self.src_va.q.val())
            | (bit_cast::<96, 48>(self.ct_bump.val()) << 48);

        match self.state.q.val() {
            HoaState::Idle => {}
            HoaState::Exec => {
                if self.ex_op.q.val() == 0 {
                    if self.ex_oversize.q.val() {
                        self.rsp_valid.next = true;
                        self.rsp_status.next = 1.into();
                    } else if self.hot_live.val() & !self.hot_full.val() {
                        self.rsp_valid.next = true;
                        self.rsp_status.next = 0.into();
                        self.rsp_ptr.next = self.alloc_ptr.val();
                        self.hot.wr_en.next = self.rsp_ready.val();
                        self.hot.wr_data.next = (bit_cast::<328, 256>(self.taken_bitmap.val())
                            << 64)
                            | bit_cast::<328, 48>(self.hot_base.val())
                            | (bit_cast::<328, 9>(self.hot_inc.val()) << 48)
                            | (bit_cast::<328, 1>(true.into()) << 57)
                            | (bit_cast::<328, 8>(self.lowest_free.index.val()) << 320);
                    } else if (self.ct_head.val() != 0) | self.lane_room.val() {
                        // Miss with somewhere to go: the available list first, else a new arena.
                        self.use_pop.d.next = self.ct_head.val() != 0;
                        self.src_va.d.next = self.lane_base.val() | self.ct_bump.val();
                        if self.ct_head.val() != 0 {
                            self.src_va.d.next = self.ct_head.val();
                        }
                        if self.hot_live.val() & self.hot_dirty.val() {
                            self.state.d.next = HoaState::AllocEvict;
                        } else if self.ct_head.val() != 0 {
                            self.state.d.next = HoaState::PopReq;
                        } else {
                            self.state.d.next = HoaState::NewReq;
                        }
                    } else {
                        // The lane has no room for another arena: software serves it.
                        self.rsp_valid.next = true;
                        self.rsp_status.next = 1.into();
                    }
                } else if self.ex_op.q.val() == 1 {
                    if self.free_invalid.val() {
                        self.rsp_valid.next = true;
                        self.rsp_status.next = 2.into();
                    } else if self.hot_live.val() & (self.hot_base.val() == self.free_base.val()) {
                        self.rsp_valid.next = true;
                        // The entry after the free; written only when the slot was live (a
                        // rejected free changes nothing), so it need not depend on that.
                        self.hot.wr_data.next = (bit_cast::<328, 256>(self.freed_bitmap.val())
                            << 64)
                            | bit_cast::<328, 48>(self.hot_base.val())
                            | (bit_cast::<328, 9>(self.hot_dec.val()) << 48)
                            | (bit_cast::<328, 1>(true.into()) << 57)
                            | (bit_cast::<328, 8>(self.freed_nxt.val()) << 320);
                        if self.slot_live.val() {
                            self.rsp_status.next = 0.into();
                            self.hot.wr_en.next = self.rsp_ready.val();
                        } else {
                            self.rsp_status.next = 3.into();
                        }
                    } else {
                        self.src_va.d.next = self.free_base.val();
                        self.state.d.next = HoaState::FreeReq;
                    }
                } else if self.ex_op.q.val() == 2 {
                    self.state.d.next = HoaState::ExitReq;
                } else {
                    self.rsp_valid.next = true;
                    self.rsp_status.next = 2.into();
                }
            }
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
                    if self.use_pop.q.val() {
                        self.state.d.next = HoaState::PopReq;
                    } else {
                        self.state.d.next = HoaState::NewReq;
                    }
                }
            }
            HoaState::PopReq => {
                if self.hdc_hit.val() {
                    // The head's header is in the header cache: it leaves the cache now and
                    // goes into the HOT from line_q in the next cycle.
                    self.hdc.rm_en.next = true;
                    self.line_q.d.next = self.hdc.lk_line.val();
                } else {
                    self.hdr_req_valid.next = true;
                }
                // A hit goes to PopHit instead (after this case: the late conditions).
                if self.hdr_req_ready.val() {
                    self.state.d.next = HoaState::PopWait;
                }
            }
            HoaState::PopHit => {
                self.hot.wr_en.next = true;
                self.hot.wr_data.next = self.pop_hot.val();
                self.class_table.wr_en.next = true;
                self.class_table.wr_data.next = self.pop_ct.val();
                self.state.d.next = HoaState::Exec;
                self.reread.next = true;
            }
            HoaState::PopWait => {
                // The header line is registered; PopHit installs it as from the cache. (line_q
                // is nobody's until the line arrives.)
                self.hdr_rsp_ready.next = true;
                self.line_q.d.next =
                    self.hdr_rsp_rdata.val().get_bits::<344>(0) & self.line_kept.val();
                if self.hdr_rsp_valid.val() {
                    self.state.d.next = HoaState::PopHit;
                }
            }
            HoaState::NewReq => {
                // The handshake only sets `arena_sent`; the state moves on from that flop. The
                // page allocator cannot answer in the cycle after it takes the request.
                self.arena_req_valid.next = !self.arena_sent.q.val();
                if self.arena_req_ready.val() {
                    self.arena_sent.d.next = true;
                }
                if self.arena_sent.q.val() {
                    self.arena_sent.d.next = false;
                    self.state.d.next = HoaState::NewWait;
                }
            }
            HoaState::NewWait => {
                self.arena_rsp_ready.next = true;
                if self.arena_rsp_valid.val() {
                    self.hot.wr_en.next = true;
                    self.hot.wr_data.next = bit_cast::<328, 48>(self.src_va.q.val());
                    self.class_table.wr_en.next = true;
                    // A new arena is made only when the class has no available one: the head
                    // stays 0.
                    self.class_table.wr_data.next = bit_cast::<96, 48>(self.next_bump.val()) << 48;
                    self.reread.next = true;
                }
            }
            HoaState::FreeReq => {
                if self.hdc_hit.val() {
                    // Header cache hit: the cached line goes to line_q, and FreeHit answers.
                    self.line_q.d.next = self.hdc.lk_line.val();
                } else {
                    self.hdr_req_valid.next = true;
                }
                // A hit goes to FreeHit instead (after this case: the late conditions).
                if self.hdr_req_ready.val() {
                    self.state.d.next = HoaState::FreeWait;
                }
            }
            HoaState::FreeHit => {
                // Answered from the cached line; the line in the cache and the class table
                // change when the answer is taken. A rejected free changes nothing.
                self.rsp_valid.next = true;
                // A line in the cache is never FULL: it came in through a free (which makes a
                // FULL arena AVAILABLE) and leaves when its arena is popped. So a free answered
                // here never makes its arena available, and the class table is not written.
                if self.rd_live.val() {
                    self.rsp_status.next = 0.into();
                    self.hdc.upd_en.next = self.rsp_ready.val();
                    self.hdc.wr_line.next = self.freed_line.val();
                } else {
                    self.rsp_status.next = 3.into();
                }
            }
            HoaState::FreeWait => {
                self.hdr_rsp_ready.next = true;
                // line_q is nobody's until the line arrives, and after a rejected free.
                self.line_q.d.next = self.freed_line.val();
                if self.hdr_rsp_valid.val() {
                    if self.rd_live.val() {
                        if self.rd_state.val() == 2 {
                            // A full arena with a free slot joins the front of the available list.
                            self.class_table.wr_en.next = true;
                            self.class_table.wr_data.next = self.push_ct.val();
                        }
                        self.state.d.next = HoaState::FreeWrite;
                        if self.has_hdc.val() {
                            self.state.d.next = HoaState::FreeInstall;
                        }
                    } else {
                        self.rsp_status_q.d.next = 3.into();
                        self.state.d.next = HoaState::Respond;
                    }
                }
            }
            HoaState::FreeWrite => {
                self.hdr_req_valid.next = true;
                self.hdr_req_write.next = true;
                if self.hdr_req_ready.val() {
                    self.rsp_status_q.d.next = 0.into();
                    self.state.d.next = HoaState::Respond;
                }
            }
            HoaState::FreeInstall => {
                // The updated line goes into the header cache; a valid victim is written back
                // first (in the cycle the header port takes it). Only the valid bit depends on
                // the victim: what the request carries while it is not valid is nobody's.
                self.hdr_req_write.next = true;
                self.hdr_req_addr.next = self.hdc.victim_tag.val() | self.mrs.q.val();
                self.hdr_req_wdata.next = bit_cast::<512, 344>(self.hdc.victim_line.val());
                if self.hdc.victim_valid.val() {
                    self.hdr_req_valid.next = true;
                }
                if !self.hdc.victim_valid.val() | self.hdr_req_ready.val() {
                    self.hdc.ins_en.next = true;
                    self.rsp_status_q.d.next = 0.into();
                    self.state.d.next = HoaState::Respond;
                }
            }
            HoaState::ExitReq => {
                // The page allocator takes the exit (it reclaims the region); the HOT and the
                // class table empty in the same cycle.
                self.exit_valid.next = true;
                if self.exit_ready.val() {
                    self.hot.clear_all.next = true;
                    self.class_table.clear_all.next = true;
                    self.hdc.clear_all.next = true;
                    self.rsp_status_q.d.next = 0.into();
                }
            }
            HoaState::Respond => {
                self.rsp_valid.next = true;
            }
            _ => {
                self.state.d.next = HoaState::Idle;
            }
        }

        // Handshakes. The executing command leaves when its answer is taken; the one waiting in
        // s1_ moves up when the execute stage is free this cycle (it reads the RAMs for it now),
        // and a new command enters s1_ when s1_ is empty or moving up.
        self.done.next = self.rsp_valid.val() & self.rsp_ready.val();
        self.s2_free.next = (self.state.q.val() == HoaState::Idle) | self.done.val();
        self.s1_adv.next = self.s1_valid.q.val() & self.s2_free.val();
        self.cmd_ready.next = !self.s1_valid.q.val() | self.s1_adv.val();
        self.accept.next = self.cmd_valid.val() & self.cmd_ready.val();
        self.slot_calc.load.next = self.accept.val();
        self.slot_calc.advance.next = self.s1_adv.val();
        // The RAMs read for the command in s1_ when it moves up; the HOT again for the executing
        // one when a miss has installed its arena (the class table's new entry is not needed:
        // the command is then served from the HOT). Otherwise their outputs hold the executing
        // command's entries. The class table is written only in states that answer nothing, so
        // it is never read in the cycle it is written.
        self.hot.rd_index.next = self.s1_cls.q.val();
        self.class_table.rd_index.next = self.s1_cls.q.val();
        if self.reread.val() {
            self.hot.rd_index.next = self.ex_cls.q.val();
        }
        self.hot.rd_en.next = self.s1_adv.val() | self.reread.val();
        self.class_table.rd_en.next = self.s1_adv.val();
        if self.done.val() {
            self.state.d.next = HoaState::Idle;
        }
        if self.s1_adv.val() {
            self.state.d.next = HoaState::Exec;
            self.ex_op.d.next = self.s1_op.q.val();
            self.ex_arg.d.next = self.s1_arg.q.val();
            self.ex_oversize.d.next = self.s1_oversize.q.val();
            self.ex_cls.d.next = self.s1_cls.q.val();
            // Only the bits a stride can have: the class table keeps no bump bit above LANE_BITS,
            // so the ROM's others are bits nothing could tell apart.
            self.ex_stride.d.next = self.stride_rom.data.val() & self.stride_kept.val();
            self.s1_valid.d.next = false;
        }
        if self.accept.val() {
            self.s1_valid.d.next = true;
            self.s1_op.d.next = self.cmd_op.val();
            self.s1_arg.d.next = self.cmd_arg.val();
            self.s1_oversize.d.next = self.size_class.oversize.val();
            self.s1_cls.d.next = self.dec_cls.val();
        }
        // The late conditions: a header-cache hit (a CAM over the tags), the exit's and the
        // arena's answers (from the page allocator's arbitration) and reset choose the next
        // state in one multiplexer after the case on the state, so that they do not pass through
        // its wide one; where they go depends on the state alone. In these states no answer is
        // given, so `done` and `s1_adv` above are false.
        self.late_state.next = HoaState::Idle;
        if self.state.q.val() == HoaState::FreeReq {
            self.late_state.next = HoaState::FreeHit;
        }
        if self.state.q.val() == HoaState::PopReq {
            self.late_state.next = HoaState::PopHit;
        }
        if self.state.q.val() == HoaState::ExitReq {
            self.late_state.next = HoaState::Respond;
        }
        if self.state.q.val() == HoaState::NewWait {
            self.late_state.next = HoaState::Exec;
        }
        if self.rst.val() {
            self.late_state.next = HoaState::Idle;
        }
        self.late.next = self.rst.val()
            | self.hdc_hit.val()
            | ((self.state.q.val() == HoaState::ExitReq) & self.exit_ready.val())
            | ((self.state.q.val() == HoaState::NewWait) & self.arena_rsp_valid.val());
        if self.late.val() {
            self.state.d.next = self.late_state.val();
        }
        if self.rst.val() {
            self.s1_valid.d.next = false;
            self.arena_sent.d.next = false;
        }
    }
}
