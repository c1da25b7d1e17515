//! What other flows need of the emitted Verilog (event-driven simulators such as Icarus, FPGA and
//! ASIC tools), applied to every variant by [`crate::emit`]:
//!
//! - [`constant_always`]: an `always @(*)` block that assigns only constants has no sensitivity,
//!   so under the language's event semantics it never runs and its outputs stay X (Verilator
//!   evaluates it anyway). Such a block becomes continuous assignments, and the signals it drove
//!   become wires.
//! - [`rename_modules`]: module names with a prefix (two variants in one design), and
//!   `top__child__grandchild` instead of rust-hdl's `top$child$grandchild` for tools that mishandle
//!   `$` in identifiers.

/// A sized literal such as `1'b0`, `344'd0` or `48'h0`.
fn is_literal(s: &str) -> bool {
    let Some((width, rest)) = s.split_once('\'') else {
        return false;
    };
    let mut chars = rest.chars();
    !width.is_empty()
        && width.chars().all(|c| c.is_ascii_digit())
        && matches!(chars.next(), Some('b' | 'd' | 'h' | 'o'))
        && chars.clone().next().is_some()
        && chars.all(|c| c.is_ascii_hexdigit() || c == '_')
}

/// `name = literal;` as (name, literal).
fn constant_assignment(line: &str) -> Option<(&str, &str)> {
    let (lhs, rhs) = line.trim().strip_suffix(';')?.split_once('=')?;
    let (lhs, rhs) = (lhs.trim(), rhs.trim());
    let ident = !lhs.is_empty() && lhs.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (ident && is_literal(rhs)).then_some((lhs, rhs))
}

/// Rewrites every constant-only `always @(*) begin ... end` block into `assign`s, turning the
/// `output reg` / `reg` declarations of what it drove into wires.
pub fn constant_always(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    // Declarations to turn into wires, per module (cleared at each `endmodule`).
    let mut module_start = 0;
    let mut wires: Vec<String> = vec![];
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim_start().starts_with("module ") {
            module_start = out.len();
            wires.clear();
        }
        if line.trim() == "always @(*) begin" {
            let mut j = i + 1;
            let mut assigns = vec![];
            while j < lines.len() {
                match constant_assignment(lines[j]) {
                    Some(a) => assigns.push(a),
                    None => break,
                }
                j += 1;
            }
            if !assigns.is_empty() && j < lines.len() && lines[j].trim() == "end" {
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push(format!(
                    "{indent}// Constants as continuous assignments (a combinational block that reads nothing never runs under event semantics)."
                ));
                for (name, value) in &assigns {
                    out.push(format!("{indent}assign {name} = {value};"));
                    wires.push(name.to_string());
                }
                i = j + 1;
                continue;
            }
        }
        if line.trim_start().starts_with("endmodule") && !wires.is_empty() {
            for l in &mut out[module_start..] {
                if let Some(w) = as_wire(l, &wires) {
                    *l = w;
                }
            }
            wires.clear();
        }
        out.push(line.to_string());
        i += 1;
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// `output reg [..] name;` or `reg [..] name;` as a wire, when `name` is one of `wires`.
fn as_wire(line: &str, wires: &[String]) -> Option<String> {
    let t = line.trim_start();
    let kw = if t.starts_with("output reg ") {
        "output reg"
    } else if t.starts_with("reg ") {
        "reg"
    } else {
        return None;
    };
    let name = t.trim_end().strip_suffix(';')?.rsplit(' ').next()?;
    if !wires.iter().any(|w| w == name) {
        return None;
    }
    let wire = if kw == "reg" { "wire" } else { "output wire" };
    Some(line.replacen(kw, wire, 1))
}

/// The names of the modules `text` defines.
pub fn module_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("module "))
        .filter_map(|rest| rest.split(['(', ' ', ';']).next())
        .map(str::to_string)
        .collect()
}

/// The identifiers of `text` (runs of letters, digits, `_` and `$` that do not start with `$`,
/// so system tasks are not among them) with `f` applied; everything else is copied.
fn map_identifiers(text: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 20);
    let mut ident = String::new();
    let mut flush = |ident: &mut String, out: &mut String| {
        match f(ident) {
            Some(n) => out.push_str(&n),
            None => out.push_str(ident),
        }
        ident.clear();
    };
    for c in text.chars() {
        let starts = ident.is_empty();
        if c.is_ascii_alphanumeric() || c == '_' || (c == '$' && !starts) {
            // A `$` after a non-identifier character starts a system task: copied whole.
            ident.push(c);
        } else {
            flush(&mut ident, &mut out);
            out.push(c);
        }
    }
    flush(&mut ident, &mut out);
    out
}

/// Every module name with `prefix` before it and, with `flat`, every `$` inside an identifier
/// (module, signal and enum names alike) written `__`. Fails when two names would become one.
pub fn rename_modules(text: &str, prefix: &str, flat: bool) -> Result<String, String> {
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || prefix.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(format!(
            "prefix {prefix:?}: a Verilog identifier's start (letters, digits, _; not a digit first)"
        ));
    }
    let modules: std::collections::HashSet<String> = module_names(text).into_iter().collect();
    let flatten = |n: &str| {
        if flat {
            n.replace('$', "__")
        } else {
            n.to_string()
        }
    };
    let rename = |n: &str| -> Option<String> {
        if modules.contains(n) {
            Some(format!("{prefix}{}", flatten(n)))
        } else if flat && n.contains('$') && !n.starts_with(|c: char| c.is_ascii_digit()) {
            Some(flatten(n))
        } else {
            None
        }
    };
    // Two identifiers that would get one name: check every identifier of the text.
    let mut all = std::collections::HashSet::new();
    map_identifiers(text, |n| {
        all.insert(n.to_string());
        None
    });
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    for n in &all {
        let new = rename(n).unwrap_or_else(|| n.clone());
        if let Some(other) = seen.insert(new.clone(), n.clone()) {
            if other != *n {
                return Err(format!("{other} and {n} would both be named {new}"));
            }
        }
    }
    Ok(map_identifiers(text, rename))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "module t$hdc(clock,lk_hit,lk_line);\n    input wire  clock;\n    output reg  lk_hit;\n    output reg  [343:0] lk_line;\n    reg  [3:0] spare;\n    always @(*) begin\n       lk_hit = 1'b0;\n       lk_line = 344'd0;\n    end\nendmodule // t$hdc\n";

    #[test]
    fn a_constant_only_always_becomes_assigns_and_its_regs_wires() {
        let s = constant_always(EMPTY);
        assert!(s.contains("assign lk_hit = 1'b0;"), "{s}");
        assert!(s.contains("assign lk_line = 344'd0;"), "{s}");
        assert!(s.contains("output wire  lk_hit;"), "{s}");
        assert!(s.contains("output wire  [343:0] lk_line;"), "{s}");
        assert!(s.contains("reg  [3:0] spare;"), "only what it drove: {s}");
        assert!(!s.contains("always @(*)"), "{s}");
    }

    #[test]
    fn an_always_that_reads_a_signal_is_left_alone() {
        let text = "module m(a,y);\n    input wire a;\n    output reg y;\n    always @(*) begin\n       y = 1'b0;\n       y = a;\n    end\nendmodule\n";
        assert_eq!(constant_always(text), text);
        assert!(
            is_literal("48'h0") && is_literal("1'b0") && !is_literal("a") && !is_literal("1'b")
        );
    }

    #[test]
    fn renaming_reaches_declarations_instances_and_endmodule_comments() {
        let text = "module t(x);\n  t$a a(.x(x));\n  $display(\"t$a\");\nendmodule // t\nmodule t$a(x);\n  t$a$b b();\nendmodule // t$a\nmodule t$a$b();\nendmodule\n";
        let r = rename_modules(text, "P_", true).unwrap();
        assert!(r.contains("module P_t(x)"), "{r}");
        assert!(r.contains("P_t__a a(.x(x))"), "{r}");
        assert!(r.contains("module P_t__a__b()"), "{r}");
        assert!(r.contains("endmodule // P_t__a"), "{r}");
        assert!(
            r.contains("$display(\"P_t__a\")"),
            "system tasks keep their names: {r}"
        );
        assert_eq!(module_names(&r), vec!["P_t", "P_t__a", "P_t__a__b"], "{r}");
        let kept = rename_modules(text, "x", false).unwrap();
        assert!(kept.contains("module xt$a$b()"), "{kept}");
        assert!(rename_modules(text, "9a", false).is_err());
        let clash = "module t$a_();\nendmodule\nmodule t__a_();\nendmodule\n";
        assert!(rename_modules(clash, "", true).is_err());
        // Signals and enum names lose their `$` too; numbers such as 32'h0 are not identifiers.
        let sig = "module t(x);\n  localparam S$Idle = 32'h0;\n  reg a$q;\n  always @(*) a$q = x & S$Idle;\nendmodule\n";
        let r = rename_modules(sig, "", true).unwrap();
        assert!(
            r.contains("localparam S__Idle = 32'h0;") && r.contains("a__q = x & S__Idle"),
            "{r}"
        );
        assert!(!r.contains('$'), "{r}");
    }
}
