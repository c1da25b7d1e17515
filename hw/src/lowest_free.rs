//! Lowest-free-bit search: the priority encoder that picks the object an alloc returns.
//!
//! ```text
//!              +-------------+
//!  bitmap ---->| lowest_free |----> index (lowest i < OBJS with bitmap[i] == 0)
//!  (256 bits)  |             |----> found (some i < OBJS is clear)
//!              +-------------+
//! ```
//!
//! Bits at and above `OBJS` are ignored. Combinational; a 256-input priority encoder, no storage.

use crate::params::{Params, MAX_OBJS};
use rust_hdl::prelude::*;

/// Finds the lowest clear bit of an arena bitmap.
#[derive(LogicBlock)]
pub struct LowestFree {
    /// Allocation bitmap, 1 = live.
    pub bitmap: Signal<In, Bits<256>>,
    /// Lowest free object index, meaningful when `found`.
    pub index: Signal<Out, Bits<8>>,
    /// At least one of the `OBJS` objects is free.
    pub found: Signal<Out, Bit>,
    objs_mask: Constant<Bits<256>>,
    free: Signal<Local, Bits<256>>,
}

impl LowestFree {
    pub fn new(p: &Params) -> Self {
        let mut mask = Bits::<256>::default();
        for i in 0..p.objs.min(MAX_OBJS) as usize {
            mask = mask.replace_bit(i, true);
        }
        LowestFree {
            bitmap: Default::default(),
            index: Default::default(),
            found: Default::default(),
            objs_mask: Constant::new(mask),
            free: Default::default(),
        }
    }
}

impl Logic for LowestFree {
    #[hdl_gen]
    fn update(&mut self) {
        self.free.next = !self.bitmap.val() & self.objs_mask.val();
        self.found.next = self.free.val().any();
        self.index.next = 0.into();
        // Scan from the top so that the last match, the lowest index, wins.
        for i in 0..256 {
            if self.free.val().get_bit(255 - i) {
                self.index.next = (255 - i).to_bits();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(uut: &mut LowestFree, bitmap: Bits<256>) -> (usize, bool) {
        uut.bitmap.next = bitmap;
        uut.update_all();
        uut.update_all();
        (uut.index.val().index(), uut.found.val())
    }

    #[test]
    fn picks_lowest_clear_bit_below_objs() {
        let p = Params {
            objs: 64,
            ..Params::default()
        };
        let mut uut = LowestFree::new(&p);
        uut.connect_all();
        let mut bitmap = Bits::<256>::default();
        for i in 0..64 {
            assert_eq!(search(&mut uut, bitmap), (i, true));
            bitmap = bitmap.replace_bit(i, true);
        }
        assert!(
            !search(&mut uut, bitmap).1,
            "a full 64-object arena has no free bit"
        );
        assert_eq!(search(&mut uut, bitmap.replace_bit(17, false)), (17, true));
    }
}
