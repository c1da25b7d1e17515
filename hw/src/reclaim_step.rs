//! The page mapper's reclaim at exit, one state at a time: in the `Rc*` states, the table port
//! and the events, the state after, and how the walk's position and level move. Combinational;
//! its inputs are the mapper's registers, its cursor's position and the ports.
//!
//! ```text
//!  state, level, last, addr, table ------->|              |----> owns, next_state
//!  pte_req_ready, pte_rsp_valid, --------->| reclaim_step |----> pte_req_valid / write / addr,
//!  present, dead_evt_ready,          |              |      pte_rsp_ready
//!  give_ready                              |              |----> load_rsp, load_table, up, down,
//!                                          +--------------+      descend, step
//! ```
//!
//! The walk (`docs/design.md`): read the entry at the cursor (`RcRead`, `RcWait`); a present
//! leaf's data frame is announced dead and given back (`RcDeadData`, `RcGiveData`); a present
//! table entry is descended into; then the next entry (`RcNext`). After a table's last entry its
//! own frame is announced and given back (`RcDeadTable`, `RcGiveTable`) and the walk goes up; a
//! root entry whose subtree is done is written zero (`RcClear`). The root's last entry ends it.
//!
//! `owns` says the state is one of these, so that the outputs apply. `load_rsp`: the frame
//! register takes the answer's frame (every waiting cycle; read only after a leaf's answer).
//! `load_table`: it takes the finished table's frame.

use crate::page_mapper::MapState;
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct ReclaimStep {
    pub state: Signal<In, MapState>,
    pub level: Signal<In, Bits<3>>,
    pub last: Signal<In, Bit>,
    pub addr: Signal<In, Bits<52>>,
    pub pte_req_ready: Signal<In, Bit>,
    pub pte_rsp_valid: Signal<In, Bit>,
    /// The table port's answer is a present entry.
    pub present: Signal<In, Bit>,
    pub dead_evt_ready: Signal<In, Bit>,
    pub give_ready: Signal<In, Bit>,
    pub owns: Signal<Out, Bit>,
    pub next_state: Signal<Out, MapState>,
    pub pte_req_valid: Signal<Out, Bit>,
    pub pte_req_write: Signal<Out, Bit>,
    pub pte_req_addr: Signal<Out, Bits<52>>,
    pub pte_rsp_ready: Signal<Out, Bit>,
    pub load_rsp: Signal<Out, Bit>,
    pub load_table: Signal<Out, Bit>,
    pub up: Signal<Out, Bit>,
    pub down: Signal<Out, Bit>,
    pub descend: Signal<Out, Bit>,
    pub step: Signal<Out, Bit>,
}

impl Logic for ReclaimStep {
    #[hdl_gen]
    fn update(&mut self) {
        self.owns.next = true;
        self.next_state.next = self.state.val();
        self.pte_req_valid.next = false;
        self.pte_req_write.next = false;
        self.pte_req_addr.next = 0.into();
        self.pte_rsp_ready.next = false;
        self.load_rsp.next = false;
        self.load_table.next = false;
        self.up.next = false;
        self.down.next = false;
        self.descend.next = false;
        self.step.next = false;
        match self.state.val() {
            MapState::RcRead => {
                self.pte_req_valid.next = true;
                self.pte_req_addr.next = self.addr.val();
                if self.pte_req_ready.val() {
                    self.next_state.next = MapState::RcWait;
                }
            }
            MapState::RcWait => {
                self.pte_rsp_ready.next = true;
                self.load_rsp.next = true;
                if self.pte_rsp_valid.val() {
                    if self.present.val() {
                        if self.level.val() == 1 {
                            self.next_state.next = MapState::RcDeadData;
                        } else {
                            // Descend into the child table.
                            self.descend.next = true;
                            self.down.next = true;
                            self.next_state.next = MapState::RcRead;
                        }
                    } else {
                        self.next_state.next = MapState::RcNext;
                    }
                }
            }
            MapState::RcDeadData => {
                if self.dead_evt_ready.val() {
                    self.next_state.next = MapState::RcGiveData;
                }
            }
            MapState::RcDeadTable => {
                if self.dead_evt_ready.val() {
                    self.next_state.next = MapState::RcGiveTable;
                }
            }
            MapState::RcGiveData => {
                if self.give_ready.val() {
                    self.next_state.next = MapState::RcNext;
                }
            }
            MapState::RcNext => {
                if self.last.val() {
                    if self.level.val() == 4 {
                        self.next_state.next = MapState::Idle;
                    } else {
                        // This table is done: give its frame back, then continue in the parent.
                        self.load_table.next = true;
                        self.next_state.next = MapState::RcDeadTable;
                    }
                } else {
                    self.step.next = true;
                    self.next_state.next = MapState::RcRead;
                }
            }
            MapState::RcGiveTable => {
                if self.give_ready.val() {
                    self.up.next = true;
                    self.next_state.next = MapState::RcNext;
                    if self.level.val() == 3 {
                        self.next_state.next = MapState::RcClear;
                    }
                }
            }
            MapState::RcClear => {
                // The subtree under this root entry is reclaimed: empty the entry.
                self.pte_req_valid.next = true;
                self.pte_req_write.next = true;
                self.pte_req_addr.next = self.addr.val();
                if self.pte_req_ready.val() {
                    self.next_state.next = MapState::RcNext;
                }
            }
            _ => {
                self.owns.next = false;
            }
        }
    }
}
