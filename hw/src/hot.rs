//! The HOT (header table): one entry per size class, the arena each class allocates from.
//!
//! An entry packs the arena's base VA, its live count, a dirty bit and its `OBJS`-bit bitmap:
//!
//! ```text
//!  bit  0..48   base      arena base VA
//!  bit 48..57   count     live objects (0..=256)
//!  bit 57       dirty     differs from the header line in memory
//!  bit 64..320  bitmap    1 = live
//!  bit 320..328 nxt       the lowest free object, kept ready for the next alloc (meaningless
//!                         when the arena is full, count == OBJS)
//! ```
//!
//! The entry for class `c` is read one cycle after `rd_index = c`; see [`ClassRam`] for the
//! forwarding that keeps back-to-back commands of one class consistent. Storage: 64 x 328 RAM bits,
//! of which only those an entry can have set are kept ([`kept_bits`]).

use crate::class_ram::ClassRam;
use crate::params::Params;
use rust_hdl::prelude::*;

/// The HOT storage.
pub type Hot = ClassRam<Bits<328>>;

/// The HOT: write-first (back-to-back commands of one class), keeping only the bits an entry
/// can have set ([`kept_bits`]); an invalid entry's data is not zeroed, as the object allocator
/// reads an entry's fields only when `rd_valid` says the class has one.
pub fn new(p: &Params) -> Hot {
    ClassRam::default().keeping(kept_bits(p)).unzeroed()
}

/// The bits a HOT entry can have set: the base's page-aligned VA bits (an arena starts on a
/// page), the count's bits up to OBJS, the dirty bit, OBJS bitmap bits and the 8-bit `nxt`.
/// Bits 58..64 are padding. At the default parameters 18 of the 328 bits are always zero.
pub fn kept_bits(p: &Params) -> Bits<328> {
    let page_bits = p.page_bits();
    let objs = p.objs as usize;
    let count_bits = p.count_bits();
    (0..328).fold(Bits::<328>::default(), |k, i| {
        let keep = match i {
            0..=47 => i >= page_bits && i < p.va_bits as usize,
            48..=56 => i - 48 < count_bits,
            57 => true,
            58..=63 => false,
            64..=319 => i - 64 < objs,
            _ => true,
        };
        k.replace_bit(i, keep)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At the default parameters (OBJS = 256) an entry keeps the base's bits 12..48, the whole
    /// 9-bit count, the dirty bit, the 256-bit bitmap and nxt; with 32 objects the count keeps
    /// 6 bits and the bitmap 32.
    #[test]
    fn kept_bits_are_the_page_aligned_base_and_the_fields_up_to_objs() {
        let kept = |p: &Params| -> Vec<usize> {
            let k = kept_bits(p);
            (0..328).filter(|&i| k.get_bit(i)).collect()
        };
        let expect: Vec<usize> = (12..48).chain(48..58).chain(64..328).collect();
        assert_eq!(kept(&Params::default()), expect);
        let small = Params {
            objs: 32,
            ..Params::default()
        };
        let expect: Vec<usize> = (12..48)
            .chain(48..54)
            .chain(57..58)
            .chain(64..96)
            .chain(320..328)
            .collect();
        assert_eq!(kept(&small), expect);
    }
}
