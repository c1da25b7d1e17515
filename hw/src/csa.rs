//! Carry-save reduction for the generated multipliers (`slot_calc`, `obj_offset`).
//!
//! A multiplier written as `*` becomes an array of adders in Yosys (46 gate levels for 16 x 8
//! bits). These blocks instead list their partial products by column and reduce them with
//! [`carry_save`] to two rows, which one adder then sums: the depth grows with the number of
//! Dadda stages (6 for 17 rows), not with the width.

use std::fmt::Write as _;

/// Reduces columns of bits (column `w` has weight `2^w`, each bit a Verilog expression) to two
/// rows with Dadda's schedule of full and half adders, dropping carries out of the top column.
/// Every stage brings each column to the next lower height of 2, 3, 4, 6, 9, 13, ... and adds
/// one adder's depth, never a ripple. Inside a column the shallowest bits go first and the
/// deepest to the adder input with the shortest way through. Wires are named `<prefix><k>_s`
/// and `<prefix><k>_c`; the returned columns hold at most two bits each.
pub fn carry_save(cols: Vec<Vec<String>>, prefix: &str, v: &mut String) -> Vec<Vec<String>> {
    let width = cols.len();
    let mut cols: Vec<Vec<(String, u32)>> = cols
        .into_iter()
        .map(|c| c.into_iter().map(|b| (b, 0)).collect())
        .collect();
    let mut targets = vec![2usize];
    let tallest = cols.iter().map(Vec::len).max().unwrap_or(0);
    while *targets.last().unwrap() < tallest {
        let d = *targets.last().unwrap();
        targets.push(d * 3 / 2);
    }
    targets.pop();
    let mut k = 0;
    for &d in targets.iter().rev() {
        let mut next: Vec<Vec<(String, u32)>> = vec![vec![]; width];
        for w in 0..width {
            let mut bits = std::mem::take(&mut cols[w]);
            bits.sort_by_key(|b| b.1);
            let mut h = bits.len() + next[w].len();
            let mut rest = bits.as_slice();
            while h > d && rest.len() >= 2 {
                let full = h - d >= 2 && rest.len() >= 3;
                let n = if full { 3 } else { 2 };
                let depth = rest[..n].iter().map(|b| b.1).max().unwrap();
                let (s, c) = (format!("{prefix}{k}_s"), format!("{prefix}{k}_c"));
                if full {
                    let (a, b, x) = (&rest[0].0, &rest[1].0, &rest[2].0);
                    let _ = writeln!(v, "wire {s} = ({a} ^ {b}) ^ {x};");
                    let _ = writeln!(v, "wire {c} = ({a} & {b}) | ({x} & ({a} ^ {b}));");
                    h -= 2;
                } else {
                    let (a, b) = (&rest[0].0, &rest[1].0);
                    let _ = writeln!(v, "wire {s} = {a} ^ {b};");
                    let _ = writeln!(v, "wire {c} = {a} & {b};");
                    h -= 1;
                }
                rest = &rest[n..];
                next[w].push((s, depth + 2));
                if w + 1 < width {
                    next[w + 1].push((c, depth + 2));
                }
                k += 1;
            }
            next[w].extend(rest.iter().cloned());
        }
        cols = next;
    }
    cols.into_iter()
        .map(|c| c.into_iter().map(|b| b.0).collect())
        .collect()
}

/// Row `r` (0 or 1) of reduced columns as a Verilog concatenation, most significant bit first.
pub fn row(cols: &[Vec<String>], r: usize) -> String {
    let bits: Vec<String> = cols
        .iter()
        .rev()
        .map(|c| c.get(r).cloned().unwrap_or_else(|| "1'b0".into()))
        .collect();
    format!("{{{}}}", bits.join(", "))
}
