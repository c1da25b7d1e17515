//! Pointer to slot: from a pointer's offset in its lane to arena base and object index, with no
//! divider, as a two-stage pipeline.
//!
//! ```text
//!             +-----------+
//!  load  ---->| slot_calc |----> arena_off   lane offset of the arena's base
//!  advance --->|           |
//!  cls   ---->|           |----> slot        object index (offset - LINE) / size(cls)
//!  lane_off ->|  ROM x64  |----> in_header   the pointer falls in the header line
//!             |  s1_ regs |----> misaligned  not on an object boundary
//!             +-----------+----> past_end    slot >= OBJS
//! ```
//!
//! The arena is `STRIDE(cls)`-aligned, so its base is a mask. The slot is `n / (cls+1)` with
//! `n = (offset - LINE) / 8 < 2^16`; it is `(n * m) >> 22` with the per-class reciprocal
//! `m = ceil(2^22 / (cls+1))`, exact for every `n < 2^16` and divisor `<= 64`
//! (Granlund-Montgomery: `k = 16 + ceil(log2 64)`). The same product tells whether `n` is a
//! multiple of the divisor: its low 22 bits are below `m` exactly when it is (both facts are
//! checked exhaustively by the tests), so no multiply back is needed.
//!
//! Latency: `load` takes `cls` and `lane_off` into the first stage; `advance` (in a later cycle,
//! or the same cycle as the next `load`) moves the first stage's result to the outputs, which
//! hold until the next `advance`: the object allocator loads in the cycle it accepts a command and
//! advances when the command moves to execution. In the load cycle the block looks up the ROM,
//! masks the offset and reduces the partial products of `a * m - 8m` (`a = offset / 8`, the
//! `- LINE` folded in as one more row) with a carry-save tree to two rows (`s1_`); the advance
//! cycle adds the two rows, tests the remainder and registers the answers (`s2_`). A multiplier written as `*` becomes an array of adders in
//! Yosys (46 levels for 16 x 8 bits); the tree keeps each cycle within `STAGE_LEVELS`.
//!
//! Storage: a 64-entry constant ROM (stride mask, reciprocal, `2^22 - m`, `-8m`), 193 flops. A Verilog
//! template because the tree is generated.

use crate::csa::carry_save;
use crate::params::Params;
use rust_hdl::prelude::*;

/// Shift of the reciprocal multiply.
pub const RECIP_SHIFT: u32 = 22;
/// Bits of the product `a * m - 8m` (it is below `2^38`).
const PROD_BITS: usize = 39;
/// Bits of `a`, the offset in 8-byte units.
const A_BITS: usize = 16;
/// Bits of the reciprocal (`2^22` for divisor 1).
const M_BITS: usize = 23;

/// The reciprocal the ROM holds for divisor `d` (class + 1).
pub fn reciprocal(d: u64) -> u64 {
    (1u64 << RECIP_SHIFT).div_ceil(d)
}

/// What the block answers for a lane offset, computed the way the tree does (the reference of
/// the tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotDecode {
    pub arena_off: u64,
    pub slot: u64,
    pub in_header: bool,
    pub misaligned: bool,
    pub past_end: bool,
}

/// The decode of `lane_off` in class `cls`: stride mask `mask`, `objs` objects an arena.
pub fn decode(cls: u64, lane_off: u64, mask: u64, objs: u64) -> SlotDecode {
    let m = reciprocal(cls + 1);
    let in_arena = lane_off & mask;
    let a = (in_arena >> 3) & ((1 << A_BITS) - 1);
    let prod = (a * m).wrapping_sub(8 * m) & ((1 << PROD_BITS) - 1);
    let q = (prod >> RECIP_SHIFT) & 0xffff;
    SlotDecode {
        arena_off: lane_off & !mask & ((1 << 48) - 1),
        slot: q & 0xff,
        in_header: in_arena < 64,
        misaligned: in_arena & 7 != 0 || prod & ((1 << RECIP_SHIFT) - 1) >= m,
        past_end: q >= objs,
    }
}

/// Two-cycle pointer-to-slot decode.
#[derive(LogicBlock)]
pub struct SlotCalc {
    pub clock: Signal<In, Clock>,
    pub load: Signal<In, Bit>,
    pub advance: Signal<In, Bit>,
    pub cls: Signal<In, Bits<6>>,
    pub lane_off: Signal<In, Bits<48>>,
    pub arena_off: Signal<Out, Bits<48>>,
    pub slot: Signal<Out, Bits<8>>,
    pub in_header: Signal<Out, Bit>,
    pub misaligned: Signal<Out, Bit>,
    pub past_end: Signal<Out, Bit>,
    _masks: Vec<u64>,
    _objs: u64,
    _s1: SlotDecode,
    _out: SlotDecode,
}

impl SlotCalc {
    pub fn new(p: &Params) -> Self {
        SlotCalc {
            clock: Default::default(),
            load: Default::default(),
            advance: Default::default(),
            cls: Default::default(),
            lane_off: Default::default(),
            arena_off: Default::default(),
            slot: Default::default(),
            in_header: Default::default(),
            misaligned: Default::default(),
            past_end: Default::default(),
            _masks: (0..64u32)
                .map(|c| p.stride(c.min(p.classes - 1)) - 1)
                .collect(),
            _objs: p.objs as u64,
            _s1: SlotDecode::default(),
            _out: SlotDecode {
                in_header: true,
                ..Default::default()
            },
        }
    }
}

impl Logic for SlotCalc {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.advance.val() {
                self._out = self._s1;
            }
            if self.load.val() {
                let c = self.cls.val().index() as u64;
                self._s1 = decode(
                    c,
                    self.lane_off.val().to_u64(),
                    self._masks[c as usize],
                    self._objs,
                );
            }
        }
        let h = self._out;
        self.arena_off.next = h.arena_off.to_bits();
        self.slot.next = h.slot.to_bits();
        self.in_header.next = h.in_header;
        self.misaligned.next = h.misaligned;
        self.past_end.next = h.past_end;
    }

    fn connect(&mut self) {
        self.arena_off.connect();
        self.slot.connect();
        self.in_header.connect();
        self.misaligned.connect();
        self.past_end.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(slot_verilog(&self._masks, self._objs))
    }
}

/// The block as Verilog.
fn slot_verilog(masks: &[u64], objs: u64) -> String {
    use std::fmt::Write as _;
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// Per class: stride mask, reciprocal m, k = 2^22 - m mod 2^22, and -8m mod 2^{PROD_BITS} (a function, so that\n\
         // the lookup is a continuous assignment every simulator evaluates at time zero)."
    );
    let _ = writeln!(
        v,
        "function [{}:0] rom;\n   input [5:0] c;\n   case (c)",
        48 + M_BITS + 22 + PROD_BITS - 1
    );
    for (c, mask) in masks.iter().enumerate() {
        let m = reciprocal(c as u64 + 1);
        let neg = (8 * m).wrapping_neg() & ((1 << PROD_BITS) - 1);
        let k = m.wrapping_neg() & ((1 << 22) - 1);
        let _ = writeln!(
            v,
            "   6'd{c}: rom = {{48'h{mask:x}, {M_BITS}'h{m:x}, 22'h{k:x}, {PROD_BITS}'h{neg:x}}};"
        );
    }
    let _ = writeln!(
        v,
        "   default: rom = {{48'h0, {M_BITS}'h0, 22'h0, {PROD_BITS}'h0}};\n   endcase\nendfunction"
    );
    let _ = writeln!(v, "wire [47:0] rom_mask;");
    let _ = writeln!(v, "wire [{}:0] rom_m;", M_BITS - 1);
    let _ = writeln!(v, "wire [21:0] rom_k;");
    let _ = writeln!(v, "wire [{}:0] rom_neg;", PROD_BITS - 1);
    let _ = writeln!(v, "assign {{rom_mask, rom_m, rom_k, rom_neg}} = rom(cls);");
    let _ = writeln!(v, "wire [47:0] in_arena = lane_off & rom_mask;");
    let _ = writeln!(v, "wire [{}:0] a = in_arena[{}:3];", A_BITS - 1, A_BITS + 2);
    let _ = writeln!(
        v,
        "// Partial products of a * m, and -8m, reduced to two rows."
    );
    // Row i is a[i] ? m << i : 0, as a vector; the last row is -8m.
    let mut rows: Vec<String> = (0..A_BITS)
        .map(|i| {
            format!(
                "({{{PROD_BITS}{{a[{i}]}}}} & ({{{z}'d0, rom_m}} << {i}))",
                z = PROD_BITS - M_BITS
            )
        })
        .collect();
    rows.push("rom_neg".into());
    let [sum, carry] = carry_save(rows, PROD_BITS, "fa", &mut v);
    let _ = writeln!(v, "wire [{}:0] csa_sum = {sum};", PROD_BITS - 1);
    let _ = writeln!(v, "wire [{}:0] csa_carry = {carry};", PROD_BITS - 1);
    let _ = writeln!(
        v,
        "\
reg [{pb}:0] s1_sum;
reg [{pb}:0] s1_carry;
reg [21:0] s1_k;
reg [47:0] s1_arena_off;
reg s1_in_header;
reg s1_low_bits;
initial begin
   s1_sum = {PROD_BITS}'h0; s1_carry = {PROD_BITS}'h0; s1_k = 22'h0; s1_arena_off = 48'h0;
   s1_in_header = 1'b1; s1_low_bits = 1'b0;
end
always @(posedge clock) begin
   if (load) begin
      s1_sum <= csa_sum;
      s1_carry <= csa_carry;
      s1_k <= rom_k;
      s1_arena_off <= lane_off & ~rom_mask;
      s1_in_header <= in_arena[47:6] == 42'h0;
      s1_low_bits <= in_arena[2:0] != 3'h0;
   end
end
// Second cycle: the product and the quotient; the remainder test runs beside the add. With
// f = prod mod 2^22 and k = 2^22 - m, f >= m exactly when f + k carries past bit 22, so the
// test is the carry of lo + k (k < 2^22: m > 2^16 for every divisor but 1, whose k is 0) against the carry of lo alone (lo = the two rows' low 22 bits,
// added once with one carry-save layer for k) instead of a compare after the add.
wire [{pb}:0] prod = s1_sum + s1_carry;
wire [21:0] rem_x = s1_sum[21:0] ^ s1_carry[21:0] ^ s1_k;
wire [22:0] rem_y = {{(s1_sum[21:0] & s1_carry[21:0]) | (s1_k & (s1_sum[21:0] ^ s1_carry[21:0])), 1'b0}};
wire [23:0] rem_u = {{2'b0, rem_x}} + {{1'b0, rem_y}};
wire [22:0] rem_lo = {{1'b0, s1_sum[21:0]}} + {{1'b0, s1_carry[21:0]}};
// The remainder test reads only the carries of rem_u and rem_lo; the quotient only bits 22..37.
wire unused_ok = &{{1'b0, prod[{pb}:38], prod[21:0], rem_u[21:0], rem_lo[21:0]}};
reg [47:0] s2_arena_off;
reg [7:0] s2_slot;
reg s2_in_header;
reg s2_misaligned;
reg s2_past_end;
initial begin
   s2_arena_off = 48'h0; s2_slot = 8'h0; s2_in_header = 1'b1; s2_misaligned = 1'b0;
   s2_past_end = 1'b0;
end
always @(posedge clock) begin
   if (advance) begin
      s2_arena_off <= s1_arena_off;
      s2_slot <= prod[29:22];
      s2_in_header <= s1_in_header;
      s2_misaligned <= s1_low_bits | (rem_u[23:22] > {{1'b0, rem_lo[22]}});
      s2_past_end <= prod[37:22] >= 16'd{objs};
   end
end
always @(*) begin
   arena_off = s2_arena_off;
   slot = s2_slot;
   in_header = s2_in_header;
   misaligned = s2_misaligned;
   past_end = s2_past_end;
end",
        pb = PROD_BITS - 1,
    );
    v
}

/// The block's bench, for its own tests (on the emitted block) and for the mutation campaign (on
/// a mutated block cut out of the object allocator). Every pointer it tries is one a `free` can
/// carry: an offset inside the lane, so the same bench judges the block alone and the block in
/// its design. The testbench checks each answer itself, against plain division (the contract the
/// tests hold [`decode`] to), and writes only the first difference and the count of answers it
/// checked.
pub mod bench {
    use crate::icarus::{next, Sim};
    use crate::params::Params;
    use std::fmt::Write as _;
    use std::path::Path;

    /// Which lane offsets the bench sweeps in order, pipelined (a `load` and an `advance` every
    /// cycle, as the object allocator drives the block back to back), after the random cases.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Sweep {
        /// None: the random cases only.
        None,
        /// Every byte of one arena per class, at a seeded arena base: every value the multiply
        /// and the remainder test can be given.
        OneArena,
        /// Every byte of every lane: every input the object allocator can give the block
        /// (`lane_off` is the pointer masked to the lane, `cls` its lane). `2^LANE_BITS` x
        /// `CLASSES` answers: 33.5 million at `LANE_BITS` = 19, about 10 s under Verilator.
        WholeLane,
    }

    /// What the bench found.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Verdict {
        /// The first answer that differs: the class, the offset, what was expected and what came.
        Differs(String),
        /// Every one of `cases` answers agreed.
        Agrees { cases: u64 },
    }

    /// The random cases: for every class, in an arena drawn in the lane, the first, last and
    /// `random` seeded random objects and the bytes around them, the header, the arena's end, and
    /// `random` seeded random offsets anywhere in the lane. `(class, lane offset)` pairs.
    pub fn cases(p: &Params, seed: u64, random: usize) -> Vec<(u64, u64)> {
        let mut x = seed | 1;
        let lane = 1u64 << p.lane_bits;
        let objs = p.objs as u64;
        let mut cases = vec![];
        for c in 0..p.classes {
            let stride = p.stride(c);
            let size = p.obj_size(c);
            let base = next(&mut x) % (lane / stride) * stride;
            let mut slots: Vec<u64> = vec![0, 1, 2, objs - 1, objs];
            slots.extend((0..random).map(|_| next(&mut x) % objs));
            for i in slots {
                let off = p.line + i * size;
                for d in [0u64, 1, 7, 8, size - 1] {
                    if off + d < stride {
                        cases.push((c as u64, base + off + d));
                    }
                }
            }
            for off in [0, 1, 8, 63, stride - 1] {
                cases.push((c as u64, base + off));
            }
            cases.extend((0..random).map(|_| (c as u64, next(&mut x) % lane)));
        }
        cases
    }

    /// The sweep's range of lane offsets per class, `[lo, hi)`.
    fn sweep_ranges(p: &Params, seed: u64, sweep: Sweep) -> Vec<(u64, u64)> {
        let lane = 1u64 << p.lane_bits;
        let mut x = seed.rotate_left(17) | 1;
        (0..p.classes)
            .map(|c| match sweep {
                Sweep::None => (0, 0),
                Sweep::WholeLane => (0, lane),
                Sweep::OneArena => {
                    let stride = p.stride(c);
                    let base = next(&mut x) % (lane / stride) * stride;
                    (base, base + stride)
                }
            })
            .collect()
    }

    /// A Verilog function of the class: `name(c)` is `values[c]`, 48 bits.
    fn class_function(name: &str, values: impl Iterator<Item = u64>) -> String {
        let mut v = format!("function [47:0] {name};\n   input [5:0] c;\n   case (c)\n");
        for (c, x) in values.enumerate() {
            let _ = writeln!(v, "   6'd{c}: {name} = 48'h{x:x};");
        }
        v + "   default: " + name + " = 48'h0;\n   endcase\nendfunction\n"
    }

    /// The testbench: `n` random cases from `vectors.hex`, each loaded, advanced with the inputs
    /// inverted (the outputs must not follow them), then loaded again without an advance (the
    /// outputs must hold); then the sweep, pipelined. It ends with `checked <answers>`.
    fn testbench(p: &Params, n: usize, ranges: &[(u64, u64)]) -> String {
        let strides = class_function("stride_of", (0..p.classes).map(|c| p.stride(c)));
        let los = class_function("sweep_lo", ranges.iter().map(|r| r.0));
        let his = class_function("sweep_hi", ranges.iter().map(|r| r.1));
        format!(
            "\
module tb;
reg [55:0] vec [0:{last}];
reg clock = 0, load = 0, advance = 0;
reg [5:0] cls = 0;
reg [47:0] lane_off = 0;
wire [47:0] arena_off;
wire [7:0] slot;
wire in_header, misaligned, past_end;
integer f, c;
reg [63:0] k, checked;
reg bad;
top uut(.clock(clock), .load(load), .advance(advance), .cls(cls), .lane_off(lane_off),
   .arena_off(arena_off), .slot(slot), .in_header(in_header),
   .misaligned(misaligned), .past_end(past_end));
{strides}{los}{his}
// The outputs against the contract for class c and lane offset off: the arena's base, whether
// the pointer is in the header; outside it the object index, whether it is off an object boundary
// and whether the index is past the arena's last object.
task check(input [5:0] c, input [47:0] off);
   reg [47:0] mask, in_arena, size, n, q;
   reg [7:0] e_slot;
   reg e_hdr, e_mis, e_past, ok;
   begin
      mask = stride_of(c) - 48'd1;
      size = 48'd8 * ({{42'd0, c}} + 48'd1);
      in_arena = off & mask;
      e_hdr = in_arena < 48'd{line};
      n = in_arena - 48'd{line};
      q = n / size;
      e_slot = q[7:0];
      e_mis = (n % size) != 48'd0;
      e_past = q >= 48'd{objs};
      ok = arena_off == (off & ~mask) && in_header == e_hdr
         && (e_hdr || (slot == e_slot && misaligned == e_mis && past_end == e_past));
      checked = checked + 1;
      if (!ok && !bad) begin
         bad = 1;
         $fwrite(f, \"class %0d lane offset %0h: expected (arena_off slot in_header misaligned past_end) %0h %0d %0d %0d %0d, got %0h %0d %0d %0d %0d\\n\",
            c, off, off & ~mask, e_slot, e_hdr, e_mis, e_past,
            arena_off, slot, in_header, misaligned, past_end);
      end
   end
endtask
initial begin
   $readmemh(\"vectors.hex\", vec);
   f = $fopen(\"out.txt\", \"w\");
   checked = 0;
   bad = 0;
   for (k = 0; k < {n}; k = k + 1) begin
      {{cls, lane_off}} = vec[k][53:0]; load = 1; #1 clock = 1; #1 clock = 0;
      load = 0; advance = 1; cls = ~cls; lane_off = ~lane_off; #1 clock = 1; #1 clock = 0;
      advance = 0; load = 1; #1 clock = 1; #1 clock = 0; load = 0; #1;
      check(vec[k][53:48], vec[k][47:0]);
   end
   for (c = 0; c < {classes} && !bad; c = c + 1) begin
      for (k = {{16'd0, sweep_lo(c[5:0])}}; k < {{16'd0, sweep_hi(c[5:0])}} && !bad; k = k + 1) begin
         cls = c[5:0]; lane_off = k[47:0]; load = 1; advance = 1; #1 clock = 1; #1 clock = 0; #1;
         if (k != {{16'd0, sweep_lo(c[5:0])}}) check(c[5:0], k[47:0] - 48'd1);
      end
      if (sweep_hi(c[5:0]) != sweep_lo(c[5:0])) begin
         load = 0; advance = 1; #1 clock = 1; #1 clock = 0; #1;
         check(c[5:0], sweep_hi(c[5:0]) - 48'd1);
      end
      advance = 0;
   end
   $fwrite(f, \"checked %0d\\n\", checked);
   $fclose(f);
   $finish;
end
endmodule
",
            last = n.max(1) - 1,
            line = p.line,
            objs = p.objs,
            classes = p.classes,
        )
    }

    /// Runs `verilog` (a module `top` with the block's ports) under `sim` in `dir`: the random
    /// [`cases`] (`random` of each kind per class, from `seed`), then `sweep`. `Err` when the
    /// bench could not run or did not check every answer.
    pub fn run(
        p: &Params,
        verilog: &str,
        dir: &Path,
        seed: u64,
        random: usize,
        sweep: Sweep,
        sim: Sim,
    ) -> Result<Verdict, String> {
        let cases = cases(p, seed, random);
        let ranges = sweep_ranges(p, seed, sweep);
        let vectors: String = cases
            .iter()
            .map(|(c, off)| format!("{c:02x}{off:012x}\n"))
            .collect();
        let tb = testbench(p, cases.len(), &ranges);
        let got = crate::icarus::run_with(sim, dir, &tb, verilog, &vectors)?;
        if let Some(diff) = got.iter().find(|l| l.starts_with("class ")) {
            return Ok(Verdict::Differs(diff.clone()));
        }
        let want = cases.len() as u64 + ranges.iter().map(|(lo, hi)| hi - lo).sum::<u64>();
        match got.last().and_then(|l| l.strip_prefix("checked ")) {
            Some(n) if n.trim().parse::<u64>() == Ok(want) => Ok(Verdict::Agrees { cases: want }),
            _ => Err(format!(
                "the testbench in {} ended with {:?}, not `checked {want}`",
                dir.display(),
                got.last()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reciprocal is exact for every numerator the block can see and every divisor, and its
    /// fraction tells multiples apart.
    #[test]
    fn reciprocal_divides_and_tests_remainders_exactly() {
        for d in 1..=64u64 {
            let m = reciprocal(d);
            for n in 0..1u64 << 16 {
                assert_eq!((n * m) >> RECIP_SHIFT, n / d, "n {n} d {d}");
                let frac = (n * m) & ((1 << RECIP_SHIFT) - 1);
                assert_eq!(frac < m, n % d == 0, "n {n} d {d}");
            }
        }
    }

    /// [`decode`] against plain division for every class and every byte offset of an arena
    /// (and of the arena after it, to check the base mask).
    #[test]
    fn decode_every_class_and_offset() {
        let p = Params::default();
        for c in 0..p.classes {
            let stride = p.stride(c);
            let size = p.obj_size(c);
            let arena = 3 * stride;
            for off in 0..stride {
                let d = decode(c as u64, arena + off, stride - 1, p.objs as u64);
                let ctx = format!("class {c} offset {off}");
                assert_eq!(d.arena_off, arena, "{ctx}");
                let in_header = off < p.line;
                assert_eq!(d.in_header, in_header, "{ctx}");
                if in_header {
                    continue;
                }
                let q = off - p.line;
                assert_eq!(d.misaligned, q % size != 0, "{ctx}");
                if q % size == 0 {
                    let slot = q / size;
                    assert_eq!(d.past_end, slot >= p.objs as u64, "{ctx}");
                    if slot < p.objs as u64 {
                        assert_eq!(d.slot, slot, "{ctx}");
                    }
                }
            }
        }
    }

    /// The emitted block against the contract: under Icarus on the random cases at the default
    /// and the corner parameters, and under Verilator on every lane offset of every class at the
    /// corner parameters (2 million answers).
    #[test]
    fn emitted_block_matches_the_contract() {
        use crate::icarus::Sim;
        let seed = crate::icarus::seed();
        let runs = [
            (Params::default(), bench::Sweep::None, Sim::Icarus),
            (Params::corner(), bench::Sweep::None, Sim::Icarus),
            (Params::corner(), bench::Sweep::WholeLane, Sim::Verilator),
        ];
        for (p, sweep, sim) in runs {
            let verilog = emitted(&p);
            let dir = test_dir(&format!("slot_calc_{}_{sim:?}", p.objs));
            let v = bench::run(&p, &verilog, &dir, seed, 16, sweep, sim).unwrap();
            assert!(
                matches!(v, bench::Verdict::Agrees { .. }),
                "OBJS {} {sim:?} {sweep:?}: {v:?} (replay: MEMENTO_SEED={seed} cargo test --release -p memento-hw slot_calc)",
                p.objs
            );
        }
    }

    /// The bench sees a block broken in one answer of 2 million: the past-the-end compare made
    /// strict, wrong only for the first object past the arena's last, which the sweep meets.
    #[test]
    fn bench_finds_a_broken_block() {
        use crate::icarus::Sim;
        let seed = crate::icarus::seed();
        let p = Params::corner();
        let good = format!("prod[37:22] >= 16'd{}", p.objs);
        let verilog = emitted(&p);
        assert!(verilog.contains(&good), "the template's compare changed");
        let broken = verilog.replace(&good, &format!("prod[37:22] > 16'd{}", p.objs));
        let dir = test_dir("slot_calc_broken");
        let v = bench::run(
            &p,
            &broken,
            &dir,
            seed,
            0,
            bench::Sweep::OneArena,
            Sim::Verilator,
        )
        .unwrap();
        match v {
            bench::Verdict::Differs(d) => assert!(d.contains("expected"), "{d}"),
            other => panic!("the broken block passed: {other:?} (replay: MEMENTO_SEED={seed})"),
        }
    }

    fn emitted(p: &Params) -> String {
        let mut uut = SlotCalc::new(p);
        uut.connect_all();
        generate_verilog(&uut)
    }

    fn test_dir(name: &str) -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../build/test/{name}"))
    }
}
