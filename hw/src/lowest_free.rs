//! Lowest-free-bit search: the priority encoder that picks the object an alloc returns.
//!
//! ```text
//!              +-------------+
//!  bitmap ---->| lowest_free |----> index (lowest i < OBJS clear in the searched bitmap)
//!  set_en ---->|             |----> found (some i < OBJS is clear)
//!  set_index ->|             |
//!  alt ------->|             |
//!  use_alt --->+-------------+
//! ```
//!
//! The searched bitmap is `alt` when `use_alt`, else `bitmap` with bit `set_index` set when
//! `set_en`: the object allocator searches the HOT entry's bitmap as an alloc leaves it, or a
//! popped arena's header. Choosing the source inside the block keeps the parent's inputs to it
//! straight from flops, so Verilator sees no combinational loop through the parent's logic.
//! Bits at and above `OBJS` are ignored. Combinational, no storage. Built as a binary tree (like
//! common_cells' `lzc`): level `l` has `256 >> l` nodes, each holding "some bit below me is free"
//! and the `l`-bit index of the lowest free one; a node takes its lower child when that child has
//! a free bit. Each level is written as whole-vector operations (see [`tree_verilog`]). The depth is one OR and one 2:1 mux a level, 8 levels for 256 bits, where a loop
//! of overriding `if`s would be a 256-deep chain. `make timing` measures it (docs/timing.md).
//!
//! A Verilog template (like the RAMs) because rust-hdl's `#[hdl_gen]` cannot build a local one
//! bit at a time without a false combinational loop.

use crate::params::{Params, MAX_OBJS};
use rust_hdl::prelude::*;

/// Levels of the tree over the 256-bit bitmap.
const LEVELS: usize = 8;

/// Finds the lowest clear bit of an arena bitmap.
#[derive(LogicBlock)]
pub struct LowestFree {
    /// Allocation bitmap, 1 = live.
    pub bitmap: Signal<In, Bits<256>>,
    /// Set bit `set_index` of `bitmap` before the search.
    pub set_en: Signal<In, Bit>,
    pub set_index: Signal<In, Bits<8>>,
    /// Search `alt` instead.
    pub alt: Signal<In, Bits<256>>,
    pub use_alt: Signal<In, Bit>,
    /// Lowest free object index, meaningful when `found`.
    pub index: Signal<Out, Bits<8>>,
    /// At least one of the `OBJS` objects is free.
    pub found: Signal<Out, Bit>,
    _objs: usize,
}

impl LowestFree {
    pub fn new(p: &Params) -> Self {
        LowestFree {
            bitmap: Default::default(),
            set_en: Default::default(),
            set_index: Default::default(),
            alt: Default::default(),
            use_alt: Default::default(),
            index: Default::default(),
            found: Default::default(),
            _objs: p.objs.min(MAX_OBJS) as usize,
        }
    }
}

/// The lowest clear bit of `bitmap` below `objs`, as the tree computes it.
pub fn lowest_clear(bitmap: Bits<256>, objs: usize) -> Option<usize> {
    (0..objs).find(|&i| !bitmap.get_bit(i))
}

impl Logic for LowestFree {
    fn update(&mut self) {
        let mut src = self.bitmap.val();
        if self.set_en.val() {
            src = src.replace_bit(self.set_index.val().index(), true);
        }
        if self.use_alt.val() {
            src = self.alt.val();
        }
        match lowest_clear(src, self._objs) {
            Some(i) => {
                self.index.next = (i as u64).to_bits();
                self.found.next = true;
            }
            None => {
                self.index.next = 0.into();
                self.found.next = false;
            }
        }
    }

    fn connect(&mut self) {
        self.index.connect();
        self.found.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(tree_verilog(self._objs))
    }
}

/// The tree as Verilog, in whole-vector operations: node `n` of level `l` sits at bit `n << l`
/// of `f<l>` ("some bit below is free") and of `x<l>_<j>` (bit `j` of the index of the lowest
/// free one); the bits in between are don't-cares that synthesis removes, as nothing reads them.
/// A node's lower child sits at its own position and its upper child `2^(l-1)` above, so a
/// level is one shift, one OR and one mux per index bit over the whole vector. Written node by
/// node (a `generate` loop) the same tree cost Verilator a separate operation for each of its
/// 511 nodes, every cycle; synthesized, the two are the same gates.
fn tree_verilog(objs: usize) -> String {
    use std::fmt::Write as _;
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// Free bits below OBJS = {objs}; node n of level l sits at bit n << l."
    );
    // The bit `set_index` as one 32-bit word placed by the index's upper bits: a variable shift
    // of the whole 256-bit vector costs Verilator a loop over all its words (see sim_forms).
    let _ = writeln!(
        v,
        "wire [31:0] set_word = {{31'd0, set_en}} << set_index[4:0];"
    );
    let words: Vec<String> = (0..8)
        .rev()
        .map(|w| format!("(set_index[7:5] == 3'd{w}) ? set_word : 32'd0"))
        .collect();
    let _ = writeln!(v, "wire [255:0] taken = bitmap | {{{}}};", words.join(", "));
    let _ = writeln!(v, "wire [255:0] src = use_alt ? alt : taken;");
    if objs == 256 {
        let _ = writeln!(v, "wire [255:0] f0 = ~src;");
    } else {
        let _ = writeln!(
            v,
            "wire [255:0] f0 = ~src & {{{{{pad}{{1'b0}}}}, {{{objs}{{1'b1}}}}}};",
            pad = 256 - objs
        );
    }
    for l in 1..LEVELS {
        let (p, s) = (l - 1, 1usize << (l - 1));
        let _ = writeln!(v, "wire [255:0] f{l} = f{p} | (f{p} >> {s});");
        for j in 0..p {
            let _ = writeln!(
                v,
                "wire [255:0] x{l}_{j} = (f{p} & x{p}_{j}) | (~f{p} & (x{p}_{j} >> {s}));"
            );
        }
        let _ = writeln!(v, "wire [255:0] x{l}_{p} = ~f{p};");
    }
    // The root, the one node of the last level, from its two children at bits 0 and 128.
    let (l, p, s) = (LEVELS, LEVELS - 1, 1usize << (LEVELS - 1));
    let _ = writeln!(v, "wire f{l} = f{p}[0] | f{p}[{s}];");
    for j in 0..p {
        let _ = writeln!(v, "wire x{l}_{j} = f{p}[0] ? x{p}_{j}[0] : x{p}_{j}[{s}];");
    }
    let _ = writeln!(v, "wire x{l}_{p} = ~f{p}[0];");
    // The root reads two bits of the level below; the rest are the don't-cares (lint names them).
    let below: Vec<String> = (0..p).map(|j| format!("x{p}_{j}")).collect();
    let _ = writeln!(v, "wire unused_ok = &{{1'b0, f{p}, {}}};", below.join(", "));
    let index: Vec<String> = (0..LEVELS)
        .rev()
        .map(|j| format!("x{LEVELS}_{j}"))
        .collect();
    let _ = writeln!(v, "always @(*) begin");
    let _ = writeln!(v, "   found = f{LEVELS};");
    let _ = writeln!(v, "   index = {{{}}};", index.join(", "));
    let _ = writeln!(v, "end");
    v
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

    /// The emitted tree itself, run in Icarus Verilog, against [`lowest_clear`] on bitmaps with
    /// every single free bit, runs of live bits and seeded random fills, for every `OBJS`.
    #[test]
    fn emitted_tree_matches_lowest_clear() {
        let seed = crate::icarus::seed();
        for objs in [32u32, 64, 128, 256] {
            let p = Params {
                objs,
                ..Params::default()
            };
            let mut uut = LowestFree::new(&p);
            uut.connect_all();
            let verilog = generate_verilog(&uut);
            let mut cases: Vec<Bits<256>> = vec![Bits::default(), !Bits::<256>::default()];
            for i in 0..256 {
                cases.push((!Bits::<256>::default()).replace_bit(i, false));
                let mut run = Bits::<256>::default();
                for k in 0..i {
                    run = run.replace_bit(k, true);
                }
                cases.push(run);
            }
            let mut x = (seed ^ objs as u64) | 1;
            for _ in 0..200 {
                let mut b = Bits::<256>::default();
                // xorshift64: dense fills, so the lowest free bit lands anywhere.
                for k in 0..256 {
                    b = b.replace_bit(k, !crate::icarus::next(&mut x).is_multiple_of(16));
                }
                cases.push(b);
            }
            let hex = |b: &Bits<256>| -> String {
                (0..64)
                    .rev()
                    .map(|k| format!("{:x}", b.get_bits::<4>(4 * k).to_u64()))
                    .collect()
            };
            let vectors: String = cases.iter().map(|b| hex(b) + "\n").collect();
            let tb = format!(
                "module tb;\n\
                 reg [255:0] vec [0:{last}];\n\
                 reg [255:0] bitmap, alt;\n\
                 reg set_en, use_alt;\n\
                 reg [7:0] set_index;\n\
                 wire [7:0] index;\n\
                 wire found;\n\
                 integer k, f;\n\
                 top uut(.bitmap(bitmap), .set_en(set_en), .set_index(set_index), .alt(alt),\n\
                 .use_alt(use_alt), .index(index), .found(found));\n\
                 initial begin\n\
                 $readmemh(\"vectors.hex\", vec);\n\
                 f = $fopen(\"out.txt\", \"w\");\n\
                 for (k = 0; k <= {last}; k = k + 1) begin\n\
                 bitmap = vec[k]; alt = ~vec[k]; use_alt = 0; set_en = 0; set_index = k;\n\
                 #1; $fwrite(f, \"%0d %0d\\n\", index, found);\n\
                 set_en = 1; #1; $fwrite(f, \"%0d %0d\\n\", index, found);\n\
                 bitmap = ~vec[k]; alt = vec[k]; use_alt = 1; #1; $fwrite(f, \"%0d %0d\\n\", index, found);\n\
                 end\n\
                 $fclose(f); $finish;\n\
                 end\n\
                 endmodule\n",
                last = cases.len() - 1
            );
            let got: Vec<(usize, bool)> =
                crate::icarus::run(&format!("lowest_free_{objs}"), &tb, &verilog, &vectors)
                    .iter()
                    .map(|l| {
                        let mut w = l.split_whitespace();
                        (w.next().unwrap().parse().unwrap(), w.next() == Some("1"))
                    })
                    .collect();
            assert_eq!(got.len(), 3 * cases.len());
            let mut want_all = vec![];
            for (k, b) in cases.iter().enumerate() {
                want_all.push(*b);
                want_all.push(b.replace_bit(k % 256, true));
                want_all.push(*b);
            }
            for (b, (index, found)) in want_all.iter().zip(got) {
                let want = lowest_clear(*b, objs as usize);
                assert_eq!(found, want.is_some(), "OBJS {objs} case {b:?} (replay: MEMENTO_SEED={seed} cargo test --release -p memento-hw lowest_free)");
                if let Some(i) = want {
                    assert_eq!(index, i, "OBJS {objs} case {b:?} (replay: MEMENTO_SEED={seed} cargo test --release -p memento-hw lowest_free)");
                }
            }
        }
    }
}
