//! The page mapper: maps a page on first touch, creates arenas' first pages, and reclaims every
//! frame of the region at exit.
//!
//! ```text
//!                +-------------+
//!  walk_req_* -->|             |--> walk_rsp_valid / frame / err   (MMU fault in, frame out)
//!  arena_req_*-->| page_mapper |--> arena_rsp_valid                (HOA: map a new arena)
//!  exit_valid -->|             |--> exit_ready
//!  pte_rsp_* --->|  4-level    |--> pte_req_valid/write/addr/wdata (8-byte table entries)
//!                |  walker     |--> take_valid, give_valid/frame   (to the page pool)
//!                +-------------+
//! ```
//!
//! The region has its own 4-level radix table (9 index bits a level, 8-byte entries: bit 0
//! present, bits 12.. the frame number) whose root frame is written on the config port
//! (`cfg_sel` 1; `cfg_sel` 0 is `MRS`).
//!
//! - **Map** (a walker fault or an arena's first page): a VA outside the region answers `err`.
//!   Otherwise the walk reads from the root down. At the first missing entry it takes a frame from
//!   the pool and writes the entry; below a new table every entry is known to be missing (a fresh
//!   frame reads as zero), so it takes and links without reading. The frame taken last is the data
//!   frame, and the answer. Frames are taken top-down: tables, then the data page. An entry found
//!   present at the leaf is answered as it is.
//! - **Events**: every frame taken is announced on `map_evt_*` before its entry is written, and
//!   every frame reclaimed on `dead_evt_*` before it goes back to the pool (for the bypass).
//! - **Exit**: a depth-first walk of the whole table in index order. Each data frame is given
//!   back as its leaf entry is read; a table frame after its subtree; a root entry is then written
//!   zero. The root is empty afterwards and no frame is lost or given twice.
//!
//! Requests are taken one at a time, exit first, then faults, then arenas, and only in a cycle in
//! which the pool neither offers a drain (so an offered drain is never withdrawn) nor takes a
//! refill frame (so the order of refills and requests is plain at the ports). Storage: about 400 flops.

use crate::params::Params;
use crate::reclaim_cursor::ReclaimCursor;
use crate::reclaim_step::ReclaimStep;
use rust_hdl::prelude::*;

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum MapState {
    Idle,
    Check,
    WalkRead,
    WalkWait,
    Take,
    Announce,
    Link,
    Respond,
    RcRead,
    RcWait,
    RcDeadData,
    RcGiveData,
    RcNext,
    RcDeadTable,
    RcGiveTable,
    RcClear,
}

#[derive(LogicBlock)]
pub struct PageMapper {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_sel: Signal<In, Bits<2>>,
    pub cfg_data: Signal<In, Bits<64>>,
    pub walk_req_valid: Signal<In, Bit>,
    pub walk_req_ready: Signal<Out, Bit>,
    pub walk_req_va: Signal<In, Bits<48>>,
    pub walk_rsp_valid: Signal<Out, Bit>,
    pub walk_rsp_ready: Signal<In, Bit>,
    pub walk_rsp_frame: Signal<Out, Bits<40>>,
    pub walk_rsp_err: Signal<Out, Bit>,
    pub arena_req_valid: Signal<In, Bit>,
    pub arena_req_ready: Signal<Out, Bit>,
    pub arena_req_va: Signal<In, Bits<48>>,
    pub arena_rsp_valid: Signal<Out, Bit>,
    pub arena_rsp_ready: Signal<In, Bit>,
    pub exit_valid: Signal<In, Bit>,
    pub exit_ready: Signal<Out, Bit>,
    pub pte_req_valid: Signal<Out, Bit>,
    pub pte_req_ready: Signal<In, Bit>,
    pub pte_req_write: Signal<Out, Bit>,
    pub pte_req_addr: Signal<Out, Bits<52>>,
    pub pte_req_wdata: Signal<Out, Bits<64>>,
    pub pte_rsp_valid: Signal<In, Bit>,
    pub pte_rsp_ready: Signal<Out, Bit>,
    pub pte_rsp_rdata: Signal<In, Bits<64>>,
    /// To the pool: a walk or reclaim is in progress.
    pub busy: Signal<Out, Bit>,
    pub pool_drain_valid: Signal<In, Bit>,
    pub pool_refill_fire: Signal<In, Bit>,
    pub take_valid: Signal<Out, Bit>,
    pub take_ready: Signal<In, Bit>,
    pub take_frame: Signal<In, Bits<40>>,
    pub give_valid: Signal<Out, Bit>,
    pub give_ready: Signal<In, Bit>,
    pub give_frame: Signal<Out, Bits<40>>,
    /// To the bypass: a frame is about to be linked (it reads as zero from now on).
    pub map_evt_valid: Signal<Out, Bit>,
    pub map_evt_ready: Signal<In, Bit>,
    pub map_evt_frame: Signal<Out, Bits<40>>,
    /// To the bypass: a frame is reclaimed at exit (its lines are dead).
    pub dead_evt_valid: Signal<Out, Bit>,
    pub dead_evt_ready: Signal<In, Bit>,
    pub dead_evt_frame: Signal<Out, Bits<40>>,

    state: DFF<MapState>,
    mrs: DFF<Bits<48>>,
    root: DFF<Bits<40>>,
    from_arena: DFF<Bit>,
    /// The page number of the VA being mapped: the walk reads no bit of the page offset.
    vpn: DFF<Bits<36>>,
    level: DFF<Bits<3>>,
    walk_table: DFF<Bits<40>>,
    frame: DFF<Bits<40>>,
    err: DFF<Bit>,
    /// Where the reclaim walk is, and its next move.
    cursor: ReclaimCursor,
    reclaim: ReclaimStep,

    region_log2: Constant<Bits<8>>,
    /// log2 of the region's size in pages.
    region_pages_log2: Constant<Bits<8>>,

    start: Signal<Local, Bit>,
    walk_idx: Signal<Local, Bits<9>>,
    walk_addr: Signal<Local, Bits<52>>,
    rd_present: Signal<Local, Bit>,
    rd_frame: Signal<Local, Bits<40>>,
}

impl PageMapper {
    pub fn new(p: &Params) -> Self {
        PageMapper {
            clock: Default::default(),
            rst: Default::default(),
            cfg_valid: Default::default(),
            cfg_sel: Default::default(),
            cfg_data: Default::default(),
            walk_req_valid: Default::default(),
            walk_req_ready: Default::default(),
            walk_req_va: Default::default(),
            walk_rsp_valid: Default::default(),
            walk_rsp_ready: Default::default(),
            walk_rsp_frame: Default::default(),
            walk_rsp_err: Default::default(),
            arena_req_valid: Default::default(),
            arena_req_ready: Default::default(),
            arena_req_va: Default::default(),
            arena_rsp_valid: Default::default(),
            arena_rsp_ready: Default::default(),
            exit_valid: Default::default(),
            exit_ready: Default::default(),
            pte_req_valid: Default::default(),
            pte_req_ready: Default::default(),
            pte_req_write: Default::default(),
            pte_req_addr: Default::default(),
            pte_req_wdata: Default::default(),
            pte_rsp_valid: Default::default(),
            pte_rsp_ready: Default::default(),
            pte_rsp_rdata: Default::default(),
            busy: Default::default(),
            pool_drain_valid: Default::default(),
            pool_refill_fire: Default::default(),
            take_valid: Default::default(),
            take_ready: Default::default(),
            take_frame: Default::default(),
            give_valid: Default::default(),
            give_ready: Default::default(),
            give_frame: Default::default(),
            map_evt_valid: Default::default(),
            map_evt_ready: Default::default(),
            map_evt_frame: Default::default(),
            dead_evt_valid: Default::default(),
            dead_evt_ready: Default::default(),
            dead_evt_frame: Default::default(),
            state: Default::default(),
            mrs: Default::default(),
            root: Default::default(),
            from_arena: Default::default(),
            vpn: Default::default(),
            level: Default::default(),
            walk_table: Default::default(),
            frame: Default::default(),
            err: Default::default(),
            cursor: Default::default(),
            reclaim: Default::default(),
            region_log2: Constant::new((p.region_log2() as u64).to_bits()),
            region_pages_log2: Constant::new(
                ((p.region_log2() - p.page_bits() as u32) as u64).to_bits(),
            ),
            start: Default::default(),
            walk_idx: Default::default(),
            walk_addr: Default::default(),
            rd_present: Default::default(),
            rd_frame: Default::default(),
        }
    }
}

impl Logic for PageMapper {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state, mrs, root, from_arena, vpn, level, walk_table, frame, err);
        clock!(self, clock, cursor);
        // Outputs toward the pool come from flops only, first (see docs/design.md on false loops).
        self.busy.next = self.state.q.val() != MapState::Idle;
        self.take_valid.next = self.state.q.val() == MapState::Take;
        self.give_valid.next = (self.state.q.val() == MapState::RcGiveData)
            | (self.state.q.val() == MapState::RcGiveTable);
        self.give_frame.next = self.frame.q.val();
        self.map_evt_valid.next = self.state.q.val() == MapState::Announce;
        self.map_evt_frame.next = self.frame.q.val();
        self.dead_evt_valid.next = (self.state.q.val() == MapState::RcDeadData)
            | (self.state.q.val() == MapState::RcDeadTable);
        self.dead_evt_frame.next = self.frame.q.val();

        self.walk_req_ready.next = false;
        self.arena_req_ready.next = false;
        self.exit_ready.next = false;
        self.walk_rsp_valid.next = false;
        self.walk_rsp_frame.next = self.frame.q.val();
        self.walk_rsp_err.next = self.err.q.val();
        self.arena_rsp_valid.next = false;
        self.pte_req_valid.next = false;
        self.pte_req_write.next = false;
        self.pte_req_addr.next = 0.into();
        self.pte_req_wdata.next = 0.into();
        self.pte_rsp_ready.next = false;

        // Index bits of the VA at the walk's level (level 4 is the root).
        self.walk_idx.next = self.vpn.q.val().get_bits::<9>(0);
        if self.level.q.val() == 2 {
            self.walk_idx.next = self.vpn.q.val().get_bits::<9>(9);
        }
        if self.level.q.val() == 3 {
            self.walk_idx.next = self.vpn.q.val().get_bits::<9>(18);
        }
        if self.level.q.val() == 4 {
            self.walk_idx.next = self.vpn.q.val().get_bits::<9>(27);
        }
        self.walk_addr.next = (bit_cast::<52, 40>(self.walk_table.q.val()) << 12)
            | (bit_cast::<52, 9>(self.walk_idx.val()) << 3);
        // The reclaim walk: its position, and its step in the Rc* states, from registers and
        // ports only.
        self.cursor.level.next = self.level.q.val();
        self.cursor.root.next = self.root.q.val();
        self.cursor.child.next = self.pte_rsp_rdata.val().get_bits::<40>(12);
        self.cursor.start.next = false;
        self.reclaim.state.next = self.state.q.val();
        self.reclaim.level.next = self.level.q.val();
        self.reclaim.last.next = self.cursor.last.val();
        self.reclaim.addr.next = self.cursor.addr.val();
        self.reclaim.pte_req_ready.next = self.pte_req_ready.val();
        self.reclaim.pte_rsp_valid.next = self.pte_rsp_valid.val();
        self.reclaim.present.next = self.pte_rsp_rdata.val().get_bit(0);
        self.reclaim.dead_evt_ready.next = self.dead_evt_ready.val();
        self.reclaim.give_ready.next = self.give_ready.val();
        self.cursor.descend.next = self.reclaim.descend.val();
        self.cursor.step.next = self.reclaim.step.val();
        self.rd_present.next = self.pte_rsp_rdata.val().get_bit(0);
        self.rd_frame.next = self.pte_rsp_rdata.val().get_bits::<40>(12);

        if self.cfg_valid.val() & (self.cfg_sel.val() == 0) {
            self.mrs.d.next = self.cfg_data.val().get_bits::<48>(0);
        }
        if self.cfg_valid.val() & (self.cfg_sel.val() == 1) {
            self.root.d.next = self.cfg_data.val().get_bits::<40>(0);
        }

        self.start.next = !self.pool_drain_valid.val() & !self.pool_refill_fire.val();
        // The page of the next map request, loaded in every Idle cycle (a walk before an arena,
        // as Idle takes them): it is read from Check on, and Idle leaves for Check only with the
        // request it took, so no state but Idle needs to choose whether it holds.
        if self.state.q.val() == MapState::Idle {
            self.from_arena.d.next = !self.walk_req_valid.val();
            self.vpn.d.next = self.arena_req_va.val().get_bits::<36>(12);
            if self.walk_req_valid.val() {
                self.vpn.d.next = self.walk_req_va.val().get_bits::<36>(12);
            }
        }
        match self.state.q.val() {
            MapState::Idle => {
                if self.start.val() {
                    if self.exit_valid.val() {
                        self.exit_ready.next = true;
                        self.level.d.next = 4.into();
                        self.cursor.start.next = true;
                        self.state.d.next = MapState::RcRead;
                    } else if self.walk_req_valid.val() {
                        self.walk_req_ready.next = true;
                        self.state.d.next = MapState::Check;
                    } else if self.arena_req_valid.val() {
                        self.arena_req_ready.next = true;
                        self.state.d.next = MapState::Check;
                    }
                }
            }
            MapState::Check => {
                self.level.d.next = 4.into();
                self.walk_table.d.next = self.root.q.val();
                self.err.d.next = false;
                if (bit_cast::<48, 36>(self.vpn.q.val()) >> self.region_pages_log2.val())
                    != (self.mrs.q.val() >> self.region_log2.val())
                {
                    self.err.d.next = true;
                    self.frame.d.next = 0.into();
                    self.state.d.next = MapState::Respond;
                } else {
                    self.state.d.next = MapState::WalkRead;
                }
            }
            MapState::WalkRead => {
                self.pte_req_valid.next = true;
                self.pte_req_addr.next = self.walk_addr.val();
                if self.pte_req_ready.val() {
                    self.state.d.next = MapState::WalkWait;
                }
            }
            MapState::WalkWait => {
                self.pte_rsp_ready.next = true;
                // `frame` is nobody's until a leaf's answer (or Take) loads it: it takes the
                // table port's data in every waiting cycle.
                self.frame.d.next = self.rd_frame.val();
                if self.pte_rsp_valid.val() {
                    if self.rd_present.val() {
                        if self.level.q.val() == 1 {
                            self.state.d.next = MapState::Respond;
                        } else {
                            self.walk_table.d.next = self.rd_frame.val();
                            self.level.d.next = self.level.q.val() - 1;
                            self.state.d.next = MapState::WalkRead;
                        }
                    } else {
                        self.state.d.next = MapState::Take;
                    }
                }
            }
            MapState::Take => {
                if self.take_ready.val() {
                    self.frame.d.next = self.take_frame.val();
                    self.state.d.next = MapState::Announce;
                }
            }
            MapState::Announce => {
                if self.map_evt_ready.val() {
                    self.state.d.next = MapState::Link;
                }
            }
            MapState::Link => {
                self.pte_req_valid.next = true;
                self.pte_req_write.next = true;
                self.pte_req_addr.next = self.walk_addr.val();
                self.pte_req_wdata.next = (bit_cast::<64, 40>(self.frame.q.val()) << 12) | 1;
                if self.pte_req_ready.val() {
                    // The new table is empty: the levels below it are missing too. (After the
                    // leaf, the walk table is nobody's until the next walk loads the root.)
                    self.walk_table.d.next = self.frame.q.val();
                    if self.level.q.val() == 1 {
                        self.state.d.next = MapState::Respond;
                    } else {
                        self.level.d.next = self.level.q.val() - 1;
                        self.state.d.next = MapState::Take;
                    }
                }
            }
            MapState::Respond => {
                if self.from_arena.q.val() {
                    self.arena_rsp_valid.next = true;
                    if self.arena_rsp_ready.val() {
                        self.state.d.next = MapState::Idle;
                    }
                } else {
                    self.walk_rsp_valid.next = true;
                    if self.walk_rsp_ready.val() {
                        self.state.d.next = MapState::Idle;
                    }
                }
            }
            _ => {
                self.state.d.next = MapState::Idle;
            }
        }
        if self.reclaim.owns.val() {
            self.state.d.next = self.reclaim.next_state.val();
            self.pte_req_valid.next = self.reclaim.pte_req_valid.val();
            self.pte_req_write.next = self.reclaim.pte_req_write.val();
            self.pte_req_addr.next = self.reclaim.pte_req_addr.val();
            self.pte_rsp_ready.next = self.reclaim.pte_rsp_ready.val();
        }
        if self.reclaim.load_rsp.val() {
            self.frame.d.next = self.rd_frame.val();
        }
        if self.reclaim.load_table.val() {
            self.frame.d.next = self.cursor.tbl.val();
        }
        if self.reclaim.down.val() {
            self.level.d.next = self.level.q.val() - 1;
        }
        if self.reclaim.up.val() {
            self.level.d.next = self.level.q.val() + 1;
        }
        if self.rst.val() {
            self.state.d.next = MapState::Idle;
            self.mrs.d.next = 0.into();
            self.root.d.next = 0.into();
        }
    }
}
