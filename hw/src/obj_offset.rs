//! An object's offset in its arena from its index and class, with no multiplier array.
//!
//! ```text
//!           +------------+
//!  index -->| obj_offset |----> off = LINE + index * 8 * (cls + 1)
//!  cls   -->|            |
//!           +------------+
//! ```
//!
//! `off / 8 = index * cls + index + LINE / 8`: the six partial-product rows of `index * cls`, the
//! row `index` and the constant are reduced by a carry-save tree ([`crate::csa`]) to two rows
//! and added once. Combinational, no storage; the object allocator forms the pointer of an
//! alloc that hits the HOT with it (`base | off`, the base being aligned to the arena's stride).

use crate::csa::carry_save;
use crate::params::Params;
use rust_hdl::prelude::*;

/// Bits of `off / 8` (`255 * 64 + 8 < 2^14`).
const UNITS_BITS: usize = 14;

/// `LINE + index * 8 * (cls + 1)`.
pub fn offset(index: u64, cls: u64, line: u64) -> u64 {
    line + index * 8 * (cls + 1)
}

#[derive(LogicBlock)]
pub struct ObjOffset {
    pub index: Signal<In, Bits<8>>,
    pub cls: Signal<In, Bits<6>>,
    pub off: Signal<Out, Bits<17>>,
    _line: u64,
}

impl ObjOffset {
    pub fn new(p: &Params) -> Self {
        ObjOffset {
            index: Default::default(),
            cls: Default::default(),
            off: Default::default(),
            _line: p.line,
        }
    }
}

impl Logic for ObjOffset {
    fn update(&mut self) {
        let o = offset(
            self.index.val().to_u64(),
            self.cls.val().to_u64(),
            self._line,
        );
        self.off.next = o.to_bits();
    }

    fn connect(&mut self) {
        self.off.connect();
    }

    fn hdl(&self) -> Verilog {
        use std::fmt::Write as _;
        let mut v = String::new();
        // Row j is cls[j] ? index << j : 0; then index itself and the constant LINE / 8.
        let w = UNITS_BITS;
        let mut rows: Vec<String> = (0..6)
            .map(|j| {
                format!(
                    "({{{w}{{cls[{j}]}}}} & ({{{z}'d0, index}} << {j}))",
                    z = w - 8
                )
            })
            .collect();
        rows.push(format!("{{{z}'d0, index}}", z = w - 8));
        rows.push(format!("{w}'d{}", self._line / 8));
        let [a, b] = carry_save(rows, w, "ofa", &mut v);
        let _ = writeln!(v, "wire [{}:0] units = {a} + {b};", w - 1);
        let _ = writeln!(v, "always @(*) begin\n   off = {{units, 3'b000}};\nend");
        Verilog::Custom(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The emitted block in Icarus Verilog for every index and class.
    #[test]
    fn emitted_block_matches_offset() {
        let p = Params::default();
        let mut uut = ObjOffset::new(&p);
        uut.connect_all();
        let verilog = generate_verilog(&uut);
        let cases: Vec<(u64, u64)> = (0..64u64)
            .flat_map(|c| (0..256u64).map(move |i| (i, c)))
            .collect();
        let vectors: String = cases
            .iter()
            .map(|(i, c)| format!("{c:02x}{i:02x}\n"))
            .collect();
        let tb = format!(
            "module tb;\n\
             reg [15:0] vec [0:{last}];\n\
             reg [7:0] index; reg [5:0] cls;\n\
             wire [16:0] off;\n\
             integer k, f;\n\
             top uut(.index(index), .cls(cls), .off(off));\n\
             initial begin\n\
             $readmemh(\"vectors.hex\", vec);\n\
             f = $fopen(\"out.txt\", \"w\");\n\
             for (k = 0; k <= {last}; k = k + 1) begin\n\
             cls = vec[k][13:8]; index = vec[k][7:0]; #1; $fwrite(f, \"%0d\\n\", off);\n\
             end\n\
             $fclose(f); $finish;\n\
             end\n\
             endmodule\n",
            last = cases.len() - 1
        );
        let got = crate::icarus::run("obj_offset", &tb, &verilog, &vectors);
        assert_eq!(got.len(), cases.len());
        for ((i, c), line) in cases.iter().zip(got) {
            assert_eq!(
                line,
                offset(*i, *c, p.line).to_string(),
                "index {i} class {c}"
            );
        }
    }
}
