//! Carry-save reduction for the generated multipliers (`slot_calc`, `obj_offset`).
//!
//! A multiplier written as `*` becomes an array of adders in Yosys (46 gate levels for 16 x 8
//! bits). These blocks instead list their partial products as rows and reduce them with
//! [`carry_save`] to two rows, which one adder then sums: the depth grows with the number of
//! carry-save stages (6 for 17 rows), not with the width.
//!
//! The rows are whole vectors and every stage is a layer of vector full adders (a Wallace tree),
//! so a simulator evaluates a stage as a few word operations. A tree written bit by bit (Dadda's
//! schedule, one wire per full adder) has the same number of stages and measured the same
//! depth, but Verilator evaluated its 2,000 single-bit wires one by one, three times a cycle:
//! most of a regression's run time (docs/timing.md).

use std::fmt::Write as _;

/// Reduces `rows` (Verilog expressions of `width` bits each, summed modulo `2^width`) to two
/// rows, three at a time: each group of three becomes a sum row `a ^ b ^ c` and a carry row
/// `maj(a, b, c) << 1`, and rows left over pass to the next stage, until two remain. Wires are
/// named `<prefix><stage>_<k>s` and `..c`; returns the two rows' names (or expressions).
pub fn carry_save(rows: Vec<String>, width: usize, prefix: &str, v: &mut String) -> [String; 2] {
    let top = width - 1;
    let mut rows = rows;
    let mut stage = 0;
    while rows.len() > 2 {
        // Rows left over skipped a stage: they go first, so that the next stage takes them.
        let it = rows.chunks_exact(3);
        let mut next: Vec<String> = it.remainder().to_vec();
        for (k, g) in it.enumerate() {
            let (a, b, c) = (&g[0], &g[1], &g[2]);
            let (s, cy) = (
                format!("{prefix}{stage}_{k}s"),
                format!("{prefix}{stage}_{k}c"),
            );
            let _ = writeln!(v, "wire [{top}:0] {s} = ({a}) ^ ({b}) ^ ({c});");
            let _ = writeln!(
                v,
                "wire [{top}:0] {cy} = (({a}) & ({b}) | ({c}) & (({a}) ^ ({b}))) << 1;"
            );
            next.push(s);
            next.push(cy);
        }
        rows = next;
        stage += 1;
    }
    while rows.len() < 2 {
        rows.push(format!("{width}'d0"));
    }
    [rows[0].clone(), rows[1].clone()]
}
