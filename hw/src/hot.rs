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
//! forwarding that keeps back-to-back commands of one class consistent. Storage: 64 x 328 RAM bits.

use crate::class_ram::ClassRam;
use rust_hdl::prelude::*;

/// The HOT storage.
pub type Hot = ClassRam<Bits<328>>;
