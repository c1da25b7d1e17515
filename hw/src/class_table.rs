//! The class table: per size class the head of the available list and the bump pointer.
//!
//! ```text
//!  bit  0..48   head   VA of the first AVAILABLE arena of the class, 0 = none
//!  bit 48..96   bump   lane offset of the next arena to create
//! ```
//!
//! An entry that is not valid (never written since reset or exit) reads as head 0, bump 0. That
//! is how `EXIT` resets every bump pointer in one cycle. Storage: 64 x 96 RAM bits.
//! No entry is read in the cycle it is written ([`new`]).

use crate::class_ram::ClassRam;
use rust_hdl::prelude::*;

/// The class-table storage.
pub type ClassTable = ClassRam<Bits<96>>;

/// The class table, without write-first forwarding: the object allocator writes it only in
/// states that answer nothing (a pop, a new arena, a free that fetched its header), so the next
/// command never reads an entry in the cycle one is written.
pub fn new() -> ClassTable {
    ClassRam::read_first()
}
