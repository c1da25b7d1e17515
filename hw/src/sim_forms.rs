//! Two rewrites of rust-hdl's Verilog into forms that Verilator evaluates a 32-bit word at a time.
//! Each gives the same value, bit for bit, and synthesizes to the same gates; only the
//! simulator's work changes.
//!
//! Verilator stores a vector wider than 64 bits as an array of 32-bit words. A left shift of such
//! a vector by an amount that is not a multiple of 32 goes through its general routine
//! (`_vl_insert_WW`), which loops over every word of the whole vector; that routine was 13% of a
//! `memento_top` run. rust-hdl writes two things that way:
//!
//! - **Packing a field into a wide struct**: `(((X) & W'hff..ff) << 32'hK)`, the field `X` masked to
//!   the struct's width `W` and shifted to its offset `K`. A concatenation `({X, K'h0})` is the
//!   same value in the struct's bits (the mask only truncates to `W`, which the assignment to the
//!   `W`-bit struct does too), and Verilator copies it word by word.
//! - **Writing one bit at a variable index**: `(B & ~(1 << (I)) | ((V) << (I)))`, from
//!   `replace_bit`. It becomes a call of a function written per 32-bit word: the word the index's
//!   upper bits name gets the bit, the others keep theirs.
//!
//! Only vectors wider than 64 bits are rewritten (narrower ones are one machine word for
//! Verilator already), and a bit write only where the vector's width is a multiple of 32 and the
//! index is declared in the same module.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The Verilog `text` with both rewrites applied in every module.
pub fn rewrite(text: &str) -> String {
    // Every module then starts after a newline, the first one too.
    let text = format!("\n{text}");
    let mut out = String::with_capacity(text.len() + 4096);
    let mut rest = text.as_str();
    while let Some(start) = rest.find("\nmodule ") {
        out.push_str(&rest[..start + 1]);
        let body = &rest[start + 1..];
        let end = body
            .find("\nendmodule")
            .map_or(body.len(), |e| e + "\nendmodule".len());
        out.push_str(&rewrite_module(&body[..end]));
        rest = &body[end..];
    }
    out.push_str(rest);
    out.split_off(1)
}

/// One module: the packings, the bit writes, and the bit-write functions it now calls, declared
/// after its port list.
fn rewrite_module(m: &str) -> String {
    let widths = declared_widths(m);
    let packed = rewrite_packing(m);
    let (text, used) = rewrite_bit_writes(&packed, &widths);
    if used.is_empty() {
        return text;
    }
    let Some(ports_end) = text.find(");\n") else {
        return text;
    };
    let mut funcs = String::new();
    for (n, iw) in used {
        funcs.push_str(&bit_write_function(n, iw));
    }
    format!(
        "{}{}{}",
        &text[..ports_end + 3],
        funcs,
        &text[ports_end + 3..]
    )
}

/// The width of every vector declared `[N:0] name` in the module (ports, regs and wires).
fn declared_widths(m: &str) -> BTreeMap<String, u32> {
    let mut w = BTreeMap::new();
    for line in m.lines() {
        let t = line.trim();
        let Some(open) = t.find('[') else { continue };
        let head = &t[..open];
        if !(head.starts_with("input")
            || head.starts_with("output")
            || head.starts_with("reg")
            || head.starts_with("wire"))
        {
            continue;
        }
        let Some(close) = t[open..].find(']') else {
            continue;
        };
        let range = &t[open + 1..open + close];
        let Some((msb, lsb)) = range.split_once(':') else {
            continue;
        };
        let (Ok(msb), Ok(0)) = (msb.trim().parse::<u32>(), lsb.trim().parse::<u32>()) else {
            continue;
        };
        let name = t[open + close + 1..].trim().trim_end_matches(';').trim();
        if is_ident(name) {
            w.insert(name.to_string(), msb + 1);
        }
    }
    w
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A literal such as `1'b1` or `9'h1ff`.
fn is_literal(s: &str) -> bool {
    match s.split_once('\'') {
        Some((w, v)) => {
            w.chars().all(|c| c.is_ascii_digit())
                && v.len() > 1
                && matches!(&v[..1], "b" | "h" | "d")
                && v[1..].chars().all(|c| c.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// `(((X) & W'hff..ff) << 32'hK)` at the start of `s`: its length, `X`, `W` and `K`.
fn match_packing(s: &str) -> Option<(usize, &str, u32, u32)> {
    let r = s.strip_prefix("(((")?;
    let close = r.find(')')?;
    let x = &r[..close];
    if !(is_ident(x) || is_literal(x)) {
        return None;
    }
    let r = r[close..].strip_prefix(") & ")?;
    let tick = r.find("'h")?;
    let w: u32 = r[..tick].parse().ok()?;
    let r = &r[tick + 2..];
    let fs = r.find(|c: char| c != 'f').unwrap_or(r.len());
    if fs * 4 < w as usize || fs * 4 >= w as usize + 4 {
        return None;
    }
    let r = r[fs..].strip_prefix(") << 32'h")?;
    let hex = r.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(r.len());
    let k = u32::from_str_radix(&r[..hex], 16).ok()?;
    r[hex..].strip_prefix(')')?;
    let len = s.len() - r.len() + hex + 1;
    Some((len, x, w, k))
}

fn rewrite_packing(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    let mut i = 0;
    while let Some(p) = m[i..].find("(((") {
        let at = i + p;
        out.push_str(&m[i..at]);
        match match_packing(&m[at..]) {
            Some((len, x, w, k)) if w > 64 && k % 32 != 0 && k < w => {
                let _ = write!(out, "({{{x}, {k}'h0}})");
                i = at + len;
            }
            _ => {
                out.push('(');
                i = at + 1;
            }
        }
    }
    out.push_str(&m[i..]);
    out
}

/// `(B & ~(1 << (I)) | ((V) << (I)))` at the start of `s`: its length, `B`, `I` and `V`.
fn match_bit_write(s: &str) -> Option<(usize, &str, &str, &str)> {
    let r = s.strip_prefix('(')?;
    let sp = r.find(' ')?;
    let b = &r[..sp];
    let r = r[sp..].strip_prefix(" & ~(1 << (")?;
    let close = r.find(')')?;
    let i = &r[..close];
    let r = r[close..].strip_prefix(")) | ((")?;
    let close = r.find(')')?;
    let v = &r[..close];
    let r = r[close..].strip_prefix(") << (")?;
    let r = r.strip_prefix(i)?;
    let r = r.strip_prefix(")))")?;
    if !(is_ident(b) && is_ident(i) && (is_ident(v) || is_literal(v))) {
        return None;
    }
    Some((s.len() - r.len(), b, i, v))
}

/// The rewritten module and the (width, index width) of every bit-write function it calls.
fn rewrite_bit_writes(m: &str, widths: &BTreeMap<String, u32>) -> (String, Vec<(u32, u32)>) {
    let mut out = String::with_capacity(m.len());
    let mut used = vec![];
    let mut i = 0;
    while let Some(p) = m[i..].find(" & ~(1 << (") {
        // The match starts at the '(' before the vector's name.
        let Some(open) = m[i..i + p].rfind('(') else {
            out.push_str(&m[i..i + p + 1]);
            i += p + 1;
            continue;
        };
        let at = i + open;
        let fits = match_bit_write(&m[at..]).and_then(|(len, b, idx, v)| {
            let n = *widths.get(b)?;
            let iw = *widths.get(idx).unwrap_or(&1);
            let words = n / 32;
            let word_bits = 32 - (words - 1).leading_zeros();
            (n > 64 && n % 32 == 0 && iw >= 5 + word_bits).then_some((len, b, idx, v, n, iw))
        });
        match fits {
            Some((len, b, idx, v, n, iw)) => {
                out.push_str(&m[i..at]);
                let _ = write!(out, "memento_bit_write_{n}_{iw}({b}, {idx}, {v})");
                if !used.contains(&(n, iw)) {
                    used.push((n, iw));
                }
                i = at + len;
            }
            None => {
                out.push_str(&m[i..i + p + 1]);
                i += p + 1;
            }
        }
    }
    out.push_str(&m[i..]);
    (out, used)
}

/// `b` with bit `i` set to `v`, for an `n`-bit `b` and an `iw`-bit `i`, one 32-bit word at a
/// time. An index at or above `n` changes nothing, as the shift it replaces does.
fn bit_write_function(n: u32, iw: u32) -> String {
    let name = format!("memento_bit_write_{n}_{iw}");
    let mut f = String::new();
    let _ = writeln!(
        f,
        "    // b with bit i set to v, a 32-bit word at a time (memento-hw sim_forms)."
    );
    let _ = writeln!(
        f,
        "    function [{}:0] {name}(input [{}:0] b, input [{}:0] i, input v);",
        n - 1,
        n - 1,
        iw - 1
    );
    let _ = writeln!(f, "        begin");
    let _ = writeln!(f, "            {name} = b;");
    let sel_w = iw - 5;
    for w in 0..n / 32 {
        let lo = w * 32;
        let _ = writeln!(
            f,
            "            if (i[{}:5] == {sel_w}'d{w}) {name}[{}:{lo}] = v ? (b[{}:{lo}] | (32'd1 << i[4:0])) : (b[{}:{lo}] & ~(32'd1 << i[4:0]));",
            iw - 1,
            lo + 31,
            lo + 31,
            lo + 31
        );
    }
    let _ = writeln!(f, "        end");
    let _ = writeln!(f, "    endfunction");
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_becomes_a_concatenation_only_when_wide_and_unaligned() {
        let m = "module m(a);\n    x = (((hot_inc) & 328'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff) << 32'h30) | (((y) & 328'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff) << 32'h40) | (((1'b1) & 328'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff) << 32'h39) | (((z) & 52'hfffffffffffff) << 32'h6);\nendmodule";
        let r = rewrite_packing(m);
        assert!(r.contains("({hot_inc, 48'h0})"), "{r}");
        assert!(r.contains("({1'b1, 57'h0})"), "{r}");
        assert!(r.contains("(((y) & 328'h"), "aligned shifts stay: {r}");
        assert!(r.contains("(((z) & 52'h"), "narrow vectors stay: {r}");
    }

    #[test]
    fn bit_write_becomes_a_word_function_with_its_declaration() {
        let m = "module m(b, i);\n    input wire  [255:0] b;\n    input wire  [7:0] i;\n    reg  [255:0] t;\n    reg  [15:0] n;\n    always @(*) begin\n        t = (b & ~(1 << (i)) | ((1'b1) << (i)));\n        n = (n & ~(1 << (i)) | ((1'b0) << (i)));\n    end\nendmodule";
        let r = rewrite(m);
        assert!(
            r.contains("t = memento_bit_write_256_8(b, i, 1'b1);"),
            "{r}"
        );
        assert!(
            r.contains("n = (n & ~(1 << (i))"),
            "16-bit vectors stay: {r}"
        );
        assert_eq!(
            r.matches("function [255:0] memento_bit_write_256_8")
                .count(),
            1
        );
        assert!(r.contains("if (i[7:5] == 3'd7) memento_bit_write_256_8[255:224]"));
    }

    /// Each word of the vector is written by exactly one branch, chosen by its number.
    #[test]
    fn bit_write_function_covers_every_word_once() {
        let f = bit_write_function(256, 8);
        let lines: Vec<&str> = f.lines().filter(|l| l.contains("if (i[")).collect();
        assert_eq!(lines.len(), 8);
        for (w, l) in lines.iter().enumerate() {
            assert!(l.contains(&format!("3'd{w})")), "{l}");
            assert!(l.contains(&format!("[{}:{}]", w * 32 + 31, w * 32)), "{l}");
        }
    }
}
