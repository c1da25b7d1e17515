//! The class table: per size class the head of the available list and the bump pointer.
//!
//! ```text
//!  bit  0..48   head   VA of the first AVAILABLE arena of the class, 0 = none
//!  bit 48..96   bump   lane offset of the next arena to create
//! ```
//!
//! An entry that is not valid (never written since reset or exit) reads as head 0, bump 0. That
//! is how `EXIT` resets every bump pointer in one cycle. Storage: 64 x 96 RAM bits, of which only
//! those an entry can have set are kept ([`kept_bits`]): the others are written and read as zero,
//! so an implementation need not store them.
//! No entry is read in the cycle it is written ([`new`]).

use crate::class_ram::ClassRam;
use crate::params::Params;
use rust_hdl::prelude::*;

/// The class-table storage.
pub type ClassTable = ClassRam<Bits<96>>;

/// The class table, without write-first forwarding: the object allocator writes it only in
/// states that answer nothing (a pop, a new arena, a free that fetched its header), so the next
/// command never reads an entry in the cycle one is written. It keeps only the bits an entry can
/// have set ([`kept_bits`]).
pub fn new(p: &Params) -> ClassTable {
    ClassRam::read_first().keeping(kept_bits(p))
}

/// The bits a class-table entry can have set: a head is an arena's VA (page-aligned, below
/// 2^VA_BITS), a bump pointer a page-aligned lane offset of at most 2^LANE_BITS (a lane its last
/// arena fills to the end leaves it there). 39 of the 96 bits are always zero at the default
/// parameters: they are written as zero and read as zero.
pub fn kept_bits(p: &Params) -> Bits<96> {
    let page_bits = p.page_bits();
    (0..96).fold(Bits::<96>::default(), |k, i| {
        let keep = if i < 48 {
            i >= page_bits && i < p.va_bits as usize
        } else {
            i - 48 >= page_bits && i - 48 <= p.lane_bits as usize
        };
        k.replace_bit(i, keep)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At the default parameters the head keeps bits 12..48 and the bump pointer its bits
    /// 12..=32 (entry bits 60..=80).
    #[test]
    fn kept_bits_are_the_page_aligned_head_and_bump() {
        let k = kept_bits(&Params::default());
        let kept: Vec<usize> = (0..96).filter(|&i| k.get_bit(i)).collect();
        let expect: Vec<usize> = (12..48).chain(60..=80).collect();
        assert_eq!(kept, expect);
    }
}
