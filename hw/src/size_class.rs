//! Size-class decode: `obj.alloc size` to a class index.
//!
//! ```text
//!            +------------+
//!  size ---->| size_class |----> cls      (6 bits)
//!  (64 bits) |            |----> oversize (size > 8*CLASSES: software serves it)
//!            +------------+
//! ```
//!
//! `size == 0` is class 0; `1..=8*CLASSES` is class `(size-1)/8`. Purely combinational: one
//! comparator and a subtract-and-shift, no storage.

use crate::params::{Params, CLASS_GRANULE};
use rust_hdl::prelude::*;

/// Combinational size-to-class decoder.
#[derive(LogicBlock)]
pub struct SizeClass {
    /// Requested size in bytes.
    pub size: Signal<In, Bits<64>>,
    /// Size class, valid when `oversize` is low.
    pub cls: Signal<Out, Bits<6>>,
    /// The size is above the largest class.
    pub oversize: Signal<Out, Bit>,
    max_size: Constant<Bits<64>>,
    granules: Signal<Local, Bits<64>>,
}

impl SizeClass {
    pub fn new(p: &Params) -> Self {
        SizeClass {
            size: Default::default(),
            cls: Default::default(),
            oversize: Default::default(),
            max_size: Constant::new((CLASS_GRANULE * p.classes as u64).to_bits()),
            granules: Default::default(),
        }
    }
}

impl Logic for SizeClass {
    #[hdl_gen]
    fn update(&mut self) {
        // rust-hdl slices only named signals, so the shifted value goes through a local.
        self.granules.next = (self.size.val() - 1) >> 3;
        self.oversize.next = self.size.val() > self.max_size.val();
        self.cls.next = 0.into();
        if self.size.val() != 0 {
            self.cls.next = self.granules.val().get_bits::<6>(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(uut: &mut SizeClass, size: u64) -> (u64, bool) {
        uut.size.next = size.to_bits();
        uut.update_all();
        uut.update_all();
        (uut.cls.val().index() as u64, uut.oversize.val())
    }

    #[test]
    fn every_size_up_to_oversize() {
        let p = Params::default();
        let mut uut = SizeClass::new(&p);
        uut.connect_all();
        assert_eq!(decode(&mut uut, 0), (0, false));
        for size in 1..=512u64 {
            assert_eq!(
                decode(&mut uut, size),
                ((size - 1) / 8, false),
                "size {size}"
            );
        }
        assert!(decode(&mut uut, 513).1);
        assert!(decode(&mut uut, u64::MAX).1);
    }
}
