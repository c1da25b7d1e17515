//! Pointer to slot: from a pointer's offset in its lane to arena base and object index, with no
//! divider.
//!
//! ```text
//!             +-----------+
//!  cls  ----->| slot_calc |----> arena_off   lane offset of the arena's base
//!  lane_off ->|           |----> slot        object index (offset - LINE) / size(cls)
//!             |  ROM x64  |----> in_header   the pointer falls in the header line
//!             |           |----> misaligned  not on an object boundary
//!             |           |----> past_end    slot >= OBJS
//!             |           |----> stride_mask STRIDE(cls) - 1
//!             +-----------+
//! ```
//!
//! The arena is `STRIDE(cls)`-aligned, so its base is a mask. The slot is `n / (cls+1)` with
//! `n = (offset - LINE) / 8 < 2^16`; it is computed as `(n * m) >> 22` with the per-class
//! reciprocal `m = ceil(2^22 / (cls+1))`, exact for every `n < 2^16` and divisor `<= 64`
//! (Granlund-Montgomery: `k = 16 + ceil(log2 64)`). The product is formed from two 16x16
//! multipliers. The remainder check multiplies back (`slot * (cls+1) == n`).
//!
//! Storage: two 64-entry constant ROMs (48-bit stride masks, 32-bit reciprocals).

use crate::params::Params;
use rust_hdl::prelude::*;

/// Shift of the reciprocal multiply.
pub const RECIP_SHIFT: u32 = 22;

/// The reciprocal the ROM holds for divisor `d` (class + 1).
pub fn reciprocal(d: u64) -> u64 {
    (1u64 << RECIP_SHIFT).div_ceil(d)
}

/// Combinational pointer-to-slot decode.
#[derive(LogicBlock)]
pub struct SlotCalc {
    pub cls: Signal<In, Bits<6>>,
    pub lane_off: Signal<In, Bits<48>>,
    pub arena_off: Signal<Out, Bits<48>>,
    pub slot: Signal<Out, Bits<8>>,
    pub in_header: Signal<Out, Bit>,
    pub misaligned: Signal<Out, Bit>,
    pub past_end: Signal<Out, Bit>,
    pub stride_mask: Signal<Out, Bits<48>>,
    stride_rom: ROM<Bits<48>, 6>,
    recip_rom: ROM<Bits<32>, 6>,
    line: Constant<Bits<48>>,
    objs: Constant<Bits<16>>,
    in_arena: Signal<Local, Bits<48>>,
    from_first: Signal<Local, Bits<48>>,
    n: Signal<Local, Bits<16>>,
    recip: Signal<Local, Bits<32>>,
    prod_hi: Signal<Local, Bits<32>>,
    prod_lo: Signal<Local, Bits<32>>,
    quotient: Signal<Local, Bits<64>>,
    quot16: Signal<Local, Bits<16>>,
    divisor: Signal<Local, Bits<16>>,
    back: Signal<Local, Bits<32>>,
}

impl SlotCalc {
    pub fn new(p: &Params) -> Self {
        let masks = (0..64u32).map(|c| {
            let c = c.min(p.classes - 1);
            (p.stride(c) - 1).to_bits::<48>()
        });
        let recips = (0..64u64).map(|c| reciprocal(c + 1).to_bits::<32>());
        SlotCalc {
            cls: Default::default(),
            lane_off: Default::default(),
            arena_off: Default::default(),
            slot: Default::default(),
            in_header: Default::default(),
            misaligned: Default::default(),
            past_end: Default::default(),
            stride_mask: Default::default(),
            stride_rom: masks.into(),
            recip_rom: recips.into(),
            line: Constant::new(p.line.to_bits()),
            objs: Constant::new((p.objs as u64).to_bits()),
            in_arena: Default::default(),
            from_first: Default::default(),
            n: Default::default(),
            recip: Default::default(),
            prod_hi: Default::default(),
            prod_lo: Default::default(),
            quotient: Default::default(),
            quot16: Default::default(),
            divisor: Default::default(),
            back: Default::default(),
        }
    }
}

impl Logic for SlotCalc {
    #[hdl_gen]
    fn update(&mut self) {
        self.stride_rom.address.next = self.cls.val();
        self.recip_rom.address.next = self.cls.val();
        self.stride_mask.next = self.stride_rom.data.val();
        self.in_arena.next = self.lane_off.val() & self.stride_rom.data.val();
        self.arena_off.next = self.lane_off.val() & !self.stride_rom.data.val();
        self.in_header.next = self.in_arena.val() < self.line.val();
        self.from_first.next = self.in_arena.val() - self.line.val();
        self.n.next = self.from_first.val().get_bits::<16>(3);
        self.recip.next = self.recip_rom.data.val();
        self.prod_hi.next = self.n.val() * self.recip.val().get_bits::<16>(16);
        self.prod_lo.next = self.n.val() * self.recip.val().get_bits::<16>(0);
        self.quotient.next =
            (bit_cast::<64, 32>(self.prod_hi.val()) << 16) + bit_cast::<64, 32>(self.prod_lo.val());
        self.quot16.next = self.quotient.val().get_bits::<16>(22);
        self.divisor.next = bit_cast::<16, 6>(self.cls.val()) + 1;
        self.back.next = self.quot16.val() * self.divisor.val();
        self.misaligned.next = (self.from_first.val().get_bits::<3>(0) != 0)
            | (self.back.val() != bit_cast::<32, 16>(self.n.val()));
        self.past_end.next = self.quot16.val() >= self.objs.val();
        self.slot.next = self.quot16.val().get_bits::<8>(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reciprocal is exact for every numerator the block can see and every divisor.
    #[test]
    fn reciprocal_divides_exactly() {
        for d in 1..=64u64 {
            let m = reciprocal(d);
            for n in 0..1u64 << 16 {
                assert_eq!((n * m) >> RECIP_SHIFT, n / d, "n {n} d {d}");
            }
        }
    }

    /// The RTL block, simulated by rust-hdl, against plain division for every class and every
    /// byte offset of an arena (and of the arena after it, to check the base mask).
    #[test]
    fn every_class_and_offset() {
        let p = Params::default();
        let mut uut = SlotCalc::new(&p);
        uut.connect_all();
        for c in 0..p.classes {
            let stride = p.stride(c);
            let size = p.obj_size(c);
            let arena = 3 * stride;
            for off in 0..stride {
                uut.cls.next = (c as u64).to_bits();
                uut.lane_off.next = (arena + off).to_bits();
                for _ in 0..4 {
                    uut.update_all();
                }
                let ctx = format!("class {c} offset {off}");
                assert_eq!(uut.arena_off.val().to_u64(), arena, "{ctx}");
                assert_eq!(uut.stride_mask.val().to_u64(), stride - 1, "{ctx}");
                let in_header = off < p.line;
                assert_eq!(uut.in_header.val(), in_header, "{ctx}");
                if in_header {
                    continue;
                }
                let q = off - p.line;
                assert_eq!(uut.misaligned.val(), q % size != 0, "{ctx}");
                if q % size == 0 {
                    let slot = q / size;
                    assert_eq!(uut.past_end.val(), slot >= p.objs as u64, "{ctx}");
                    if slot < p.objs as u64 {
                        assert_eq!(uut.slot.val().to_u64(), slot, "{ctx}");
                    }
                }
            }
        }
    }
}
