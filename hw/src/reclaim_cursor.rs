//! The reclaim walk's position in the page table: at each level below the root the table being
//! walked, and at every level the index of the entry being read. At exit the page mapper walks
//! the whole table depth first in index order; this block holds where it is.
//!
//! ```text
//!  level, root --------->|                |----> tbl (at `level`)
//!  child, start, ------->| reclaim_cursor |----> addr (the entry's physical address)
//!  descend, step         | 3 x 40 + 4 x 9 |----> last (idx is the table's last entry)
//! ```
//!
//! - `start`: a reclaim starts at the root's entry 0.
//! - `descend`: the entry at `level` is a table (`child`): the level below starts at its entry 0.
//! - `step`: the next entry at `level`. The leaf index steps whatever the level: above the leaves
//!   it is nobody's until a descent clears it.
//!
//! Latency: the position moves the cycle after its command; `tbl`, `addr` and `last`
//! follow `level` in the same cycle. Storage: 156 flops.

use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct ReclaimCursor {
    pub clock: Signal<In, Clock>,
    /// The walk's level: 4 is the root, 1 the leaves.
    pub level: Signal<In, Bits<3>>,
    pub root: Signal<In, Bits<40>>,
    pub child: Signal<In, Bits<40>>,
    pub start: Signal<In, Bit>,
    pub descend: Signal<In, Bit>,
    pub step: Signal<In, Bit>,
    pub tbl: Signal<Out, Bits<40>>,
    pub addr: Signal<Out, Bits<52>>,
    pub last: Signal<Out, Bit>,
    tbl1: DFF<Bits<40>>,
    tbl2: DFF<Bits<40>>,
    tbl3: DFF<Bits<40>>,
    idx1: DFF<Bits<9>>,
    idx2: DFF<Bits<9>>,
    idx3: DFF<Bits<9>>,
    idx4: DFF<Bits<9>>,
    idx: Signal<Local, Bits<9>>,
}

impl Logic for ReclaimCursor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, tbl1, tbl2, tbl3, idx1, idx2, idx3, idx4);
        self.tbl.next = self.tbl1.q.val();
        self.idx.next = self.idx1.q.val();
        if self.level.val() == 2 {
            self.tbl.next = self.tbl2.q.val();
            self.idx.next = self.idx2.q.val();
        }
        if self.level.val() == 3 {
            self.tbl.next = self.tbl3.q.val();
            self.idx.next = self.idx3.q.val();
        }
        if self.level.val() == 4 {
            self.tbl.next = self.root.val();
            self.idx.next = self.idx4.q.val();
        }
        self.addr.next =
            (bit_cast::<52, 40>(self.tbl.val()) << 12) | (bit_cast::<52, 9>(self.idx.val()) << 3);
        self.last.next = self.idx.val() == 511;
        if self.start.val() {
            self.idx4.d.next = 0.into();
        }
        if self.descend.val() {
            if self.level.val() == 4 {
                self.tbl3.d.next = self.child.val();
                self.idx3.d.next = 0.into();
            }
            if self.level.val() == 3 {
                self.tbl2.d.next = self.child.val();
                self.idx2.d.next = 0.into();
            }
            if self.level.val() == 2 {
                self.tbl1.d.next = self.child.val();
                self.idx1.d.next = 0.into();
            }
        }
        if self.step.val() {
            self.idx1.d.next = self.idx1.q.val() + 1;
            if self.level.val() == 2 {
                self.idx2.d.next = self.idx2.q.val() + 1;
            }
            if self.level.val() == 3 {
                self.idx3.d.next = self.idx3.q.val() + 1;
            }
            if self.level.val() == 4 {
                self.idx4.d.next = self.idx4.q.val() + 1;
            }
        }
    }
}
