//! `memento xsim`: the emitted Verilog in a second simulator, cycle by cycle.
//!
//! A test's seed runs through its harness on the Verilated model, which records every input port
//! and every output port just before each rising edge ([`memento_sim::record`]). The same
//! variant's emitted Verilog then runs under Icarus Verilog in a generated plain-Verilog testbench
//! that applies the recorded inputs (`$readmemh`) and writes the outputs each cycle (`$fwrite`).
//! Every output is compared on every cycle from the first release of reset, and no output may be
//! X or Z there. The first difference is reported with its cycle, port and both values, and with a
//! VCD window from each simulator around it.

use crate::flows::regress::run_seed;
use anyhow::{bail, Context, Result};
use memento_hw::emit::{variant_verilog_named, Naming, Variant};
use memento_runs::TestSpec;
use memento_sim::record::{words_of, Recording};
use memento_sim::Port;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Cycles of the VCD windows before and after the first difference.
pub const WINDOW_BEFORE: usize = 24;
pub const WINDOW_AFTER: usize = 4;

/// The first output that differs.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    pub cycle: usize,
    pub port: String,
    /// Values in hex; Icarus's may hold `x` or `z` digits.
    pub verilator: String,
    pub icarus: String,
}

/// One test's cross-simulation.
#[derive(Clone, Debug, Serialize)]
pub struct XsimResult {
    pub test: String,
    pub seed: u64,
    /// The variant (top module before any prefix).
    pub design: String,
    pub top: String,
    pub cycles: usize,
    /// The first cycle compared: the first with reset released.
    pub from: usize,
    pub outputs: usize,
    pub output_bits: u32,
    pub inputs: usize,
    pub input_bits: u32,
    pub difference: Option<Difference>,
    /// Differences over the whole window (cycles with at least one).
    pub cycles_differing: usize,
    /// Output ports of the instances inside the design, checked for X every cycle after reset.
    pub inner_ports: usize,
    /// Each inner port that was X after reset, at the first cycle it was, earliest first. A
    /// register loaded only by its first use (a RAM's read register) is X until then: this is
    /// reported, not a failure.
    pub inner_x: Vec<InnerX>,
    /// The inner ports that were X on every cycle after reset: logic that never evaluates (an
    /// `always @(*)` with no inputs) or that reads only storage never written. A failure.
    pub inner_stuck: Vec<InnerX>,
    /// The VCD windows (Verilator, Icarus) when something differed.
    pub vcd: Option<(PathBuf, PathBuf)>,
    pub verilator_seconds: f64,
    pub icarus_seconds: f64,
    pub dir: PathBuf,
}

/// A port inside the design that Icarus had X (or Z) after reset.
#[derive(Clone, Debug, Serialize)]
pub struct InnerX {
    pub cycle: usize,
    /// Instance path and port, from the top (`hdc.lk_hit`).
    pub port: String,
}

impl XsimResult {
    pub fn passed(&self) -> bool {
        self.difference.is_none() && self.inner_stuck.is_empty()
    }
}

/// The testbench's `inner_x.txt`: every inner port that was ever X after reset, and those of
/// them that were X on every cycle, each earliest first.
fn inner_xs(dir: &Path) -> Result<(Vec<InnerX>, Vec<InnerX>)> {
    let path = dir.join("inner_x.txt");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let stuck: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("stuck "))
        .map(str::to_string)
        .collect();
    let mut v = text
        .lines()
        .filter(|l| !l.starts_with("stuck "))
        .map(|l| {
            let (c, p) = l
                .split_once(' ')
                .with_context(|| format!("{}: {l:?}", path.display()))?;
            Ok(InnerX {
                cycle: c.parse()?,
                port: p.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    v.sort_by(|a, b| (a.cycle, &a.port).cmp(&(b.cycle, &b.port)));
    let stuck_x = v
        .iter()
        .filter(|x| stuck.contains(&x.port))
        .cloned()
        .collect();
    Ok((v, stuck_x))
}

/// Bits of a concatenation `{p0, p1, ...}` (p0 most significant) from ports' words, as
/// a little-endian bit vector.
fn concat_bits(ports: &[Port], row: &[u32]) -> Vec<bool> {
    let parts = Recording::split(ports, row);
    let mut bits = vec![];
    for (p, w) in ports.iter().zip(parts).rev() {
        for b in 0..p.width as usize {
            bits.push(w[b / 32] >> (b % 32) & 1 == 1);
        }
    }
    bits
}

/// Little-endian bits as hex, most significant digit first, `digits` long.
fn hex_of(bits: &[bool]) -> String {
    let known: Vec<(bool, bool)> = bits.iter().map(|&b| (b, false)).collect();
    hex_of_4state(&known)
}

/// Little-endian (value, unknown) bits as hex, most significant digit first; a digit with an
/// unknown bit is `x`.
fn hex_of_4state(bits: &[(bool, bool)]) -> String {
    (0..bits.len().div_ceil(4).max(1))
        .rev()
        .map(|d| {
            let nib = &bits[(4 * d).min(bits.len())..(4 * d + 4).min(bits.len())];
            if nib.iter().any(|b| b.1) {
                'x'
            } else {
                let v = nib
                    .iter()
                    .enumerate()
                    .fold(0, |v, (k, b)| v | (u32::from(b.0) << k));
                char::from_digit(v, 16).unwrap()
            }
        })
        .collect()
}

/// A hex line from Icarus as little-endian (value, unknown) bits; an `x`, `X`, `z` or `Z` digit
/// makes its four bits unknown.
fn parse_hex(line: &str, width: usize) -> Result<Vec<(bool, bool)>> {
    let mut bits = Vec::with_capacity(width);
    for c in line.trim().chars().rev() {
        let (v, unknown) = match c {
            'x' | 'X' | 'z' | 'Z' => (0, true),
            c => (
                c.to_digit(16)
                    .with_context(|| format!("{c:?} in Icarus's output line {line:?}"))?,
                false,
            ),
        };
        for k in 0..4 {
            bits.push((v >> k & 1 == 1, unknown));
        }
    }
    bits.resize(width, (false, true));
    Ok(bits)
}

/// The output ports of every module instance below `top` (paths from the top, such as
/// `hdc.lk_hit`), read from the emitted Verilog: the testbench checks that none is X after
/// reset, since an X inside can hide behind Verilog's `if (x)` and never reach a top-level port.
pub fn inner_outputs(verilog: &str, top: &str) -> Vec<String> {
    use std::collections::HashMap;
    let names: std::collections::HashSet<String> = memento_hw::portable::module_names(verilog)
        .into_iter()
        .collect();
    let mut outputs: HashMap<String, Vec<String>> = HashMap::new();
    let mut instances: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in verilog.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("module ") {
            current = rest.split('(').next().map(str::to_string);
            continue;
        }
        let Some(m) = &current else { continue };
        if t.starts_with("endmodule") {
            current = None;
        } else if t.starts_with("output ") {
            if let Some(n) = t.trim_end_matches(';').rsplit(' ').next() {
                outputs.entry(m.clone()).or_default().push(n.to_string());
            }
        } else if let Some(head) = t.strip_suffix('(') {
            if let Some((module, inst)) = head.split_once(' ') {
                if names.contains(module) && !inst.contains(' ') {
                    instances
                        .entry(m.clone())
                        .or_default()
                        .push((module.to_string(), inst.to_string()));
                }
            }
        }
    }
    let mut out = vec![];
    let mut stack: Vec<(String, String)> = vec![(top.to_string(), String::new())];
    while let Some((module, path)) = stack.pop() {
        for (child, inst) in instances.get(&module).into_iter().flatten() {
            let p = if path.is_empty() {
                inst.clone()
            } else {
                format!("{path}.{inst}")
            };
            for o in outputs.get(child).into_iter().flatten() {
                out.push(format!("{p}.{o}"));
            }
            stack.push((child.clone(), p));
        }
    }
    out.sort();
    out
}

/// The testbench's header: its registers for the inputs, wires for the outputs, and the design
/// instance with every port connected.
fn tb_ports(top: &str, rec: &Recording) -> String {
    let in_bits: u32 = rec.inputs.iter().map(|p| p.width).sum();
    let decl = |kind: &str, prefix: &str, p: &Port| {
        if p.width == 1 {
            format!("  {kind} {prefix}{};\n", p.name)
        } else {
            format!("  {kind} [{}:0] {prefix}{};\n", p.width - 1, p.name)
        }
    };
    let mut o = format!(
        "// Generated by `memento xsim`: the recorded inputs of {} on every cycle.\n\
         `timescale 1ns/1ns\nmodule memento_xsim_tb;\n  localparam CYCLES = {};\n  reg clock = 1'b0;\n  \
         reg [{}:0] vec [0:CYCLES-1];\n",
        rec.design,
        rec.cycles,
        in_bits - 1
    );
    for p in &rec.inputs {
        o += &decl("reg", "i_", p);
    }
    for p in &rec.outputs {
        o += &decl("wire", "o_", p);
    }
    let conns: Vec<String> = std::iter::once("    .clock(clock)".to_string())
        .chain(
            rec.inputs
                .iter()
                .map(|p| format!("    .{0}(i_{0})", p.name)),
        )
        .chain(
            rec.outputs
                .iter()
                .map(|p| format!("    .{0}(o_{0})", p.name)),
        )
        .collect();
    let _ = writeln!(o, "  {top} dut(\n{}\n  );", conns.join(",\n"));
    o
}

/// The tasks that watch the ports inside the design: `check_inner` each cycle after reset
/// (the first cycle each is X, and whether it was ever not), `stuck_inner` at the end (those X
/// on every cycle).
fn tb_inner_tasks(inner: &[String]) -> String {
    let mut o = String::from("  task check_inner;\n  begin\n");
    for (k, p) in inner.iter().enumerate() {
        let _ = writeln!(
            o,
            "    if ((^(dut.{p})) === 1'bx) begin if (!xseen[{k}]) begin xseen[{k}] = 1'b1; $fwrite(fx, \"%0d {p}\\n\", k); end end else defined[{k}] = 1'b1;"
        );
    }
    o += "  end\n  endtask\n  task stuck_inner;\n  begin\n";
    for (k, p) in inner.iter().enumerate() {
        let _ = writeln!(
            o,
            "    if (xseen[{k}] && !defined[{k}]) $fwrite(fx, \"stuck {p}\\n\");"
        );
    }
    o + "  end\n  endtask\n"
}

/// The plain-Verilog testbench around `top` that plays `cycles` rows of `inputs.hex` and writes
/// `outputs.hex`; from cycle `from` on it writes the first cycle each of `inner` (ports inside
/// the design) is X to `inner_x.txt`. `+dump_from=K +dump_to=L` writes `icarus.vcd` for those
/// cycles.
pub fn testbench(top: &str, rec: &Recording, from: usize, inner: &[String]) -> String {
    let names = |ports: &[Port], prefix: &str| {
        ports
            .iter()
            .map(|p| format!("{prefix}{}", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut o = tb_ports(top, rec);
    let _ = writeln!(
        o,
        "  localparam FROM = {from};\n  reg [{}:0] xseen, defined;\n  integer k, f, fx, from, to;\n  \
         initial begin\n    $readmemh(\"inputs.hex\", vec);\n    xseen = 0;\n    defined = 0;\n    \
         f = $fopen(\"outputs.hex\", \"w\");\n    fx = $fopen(\"inner_x.txt\", \"w\");\n    \
         if (!$value$plusargs(\"dump_from=%d\", from)) from = -1;\n    \
         if (!$value$plusargs(\"dump_to=%d\", to)) to = -1;\n    \
         if (from >= 0) begin $dumpfile(\"icarus.vcd\"); $dumpvars(0, dut); $dumpoff; end\n    \
         for (k = 0; k < CYCLES; k = k + 1) begin\n      \
         if (k == from) $dumpon;\n      \
         {{{}}} = vec[k];\n      \
         #5;\n      \
         $fwrite(f, \"%h\\n\", {{{}}});\n      \
         if (k >= FROM) check_inner;\n      \
         clock = 1'b1;\n      #5;\n      clock = 1'b0;\n      \
         if (k == to) $dumpoff;\n    \
         end\n    stuck_inner;\n    $fclose(f);\n    $fclose(fx);\n    $finish;\n  end",
        inner.len().max(1) - 1,
        names(&rec.inputs, "i_"),
        names(&rec.outputs, "o_")
    );
    o + &tb_inner_tasks(inner) + "endmodule\n"
}

/// The first cycle after the first release of reset (`rst` high, then low).
fn reset_released(rec: &Recording) -> usize {
    let Some(k) = rec.inputs.iter().position(|p| p.name == "rst") else {
        return 0;
    };
    let mut seen_high = false;
    for c in 0..rec.cycles {
        let high = Recording::split(&rec.inputs, rec.input_row(c))[k][0] & 1 == 1;
        if high {
            seen_high = true;
        } else if seen_high {
            return c;
        }
    }
    rec.cycles
}

/// Compares Icarus's `outputs.hex` with the recording from cycle `from`: the first difference
/// and the number of cycles with any.
fn compare(rec: &Recording, text: &str, from: usize) -> Result<(Option<Difference>, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != rec.cycles {
        bail!(
            "Icarus wrote {} cycles of outputs, {} were played",
            lines.len(),
            rec.cycles
        );
    }
    let width: usize = rec.outputs.iter().map(|p| p.width as usize).sum();
    let mut first = None;
    let mut differing = 0;
    for (c, line) in lines.iter().enumerate().skip(from) {
        let icarus = parse_hex(line, width)?;
        let ours = concat_bits(&rec.outputs, rec.output_row(c));
        // Port k sits above the ports after it in the concatenation.
        let mut at = width;
        let mut any = false;
        for p in &rec.outputs {
            let w = p.width as usize;
            at -= w;
            let theirs = &icarus[at..at + w];
            let mine = &ours[at..at + w];
            let same = theirs.iter().zip(mine).all(|(&(v, x), &m)| !x && v == m);
            if !same && first.is_none() {
                first = Some(Difference {
                    cycle: c,
                    port: p.name.to_string(),
                    verilator: hex_of(mine),
                    icarus: hex_of_4state(theirs),
                });
            }
            any |= !same;
        }
        differing += usize::from(any);
    }
    Ok((first, differing))
}

fn run(cmd: &mut std::process::Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("running {what} (scripts/install-deps.sh installs it)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Writes the recorded inputs, the testbench and the design into `dir`, compiles them with
/// `iverilog -g2012` and runs `vvp`; returns the outputs' text.
fn icarus(
    rec: &Recording,
    verilog: &str,
    top: &str,
    (from, inner): (usize, &[String]),
    dir: &Path,
) -> Result<String> {
    let mut hex = String::new();
    for c in 0..rec.cycles {
        hex += &hex_of(&concat_bits(&rec.inputs, rec.input_row(c)));
        hex.push('\n');
    }
    std::fs::write(dir.join("inputs.hex"), hex)?;
    std::fs::write(dir.join("tb.v"), testbench(top, rec, from, inner))?;
    std::fs::write(dir.join("design.v"), verilog)?;
    let warnings = run(
        std::process::Command::new("iverilog")
            .current_dir(dir)
            .args([
                "-g2012",
                "-o",
                "xsim.vvp",
                "-s",
                "memento_xsim_tb",
                "tb.v",
                "design.v",
            ]),
        "iverilog",
    )?;
    std::fs::write(dir.join("iverilog.log"), &warnings)?;
    run(
        std::process::Command::new("vvp")
            .current_dir(dir)
            .args(["-n", "xsim.vvp"]),
        "vvp",
    )?;
    std::fs::read_to_string(dir.join("outputs.hex"))
        .with_context(|| format!("reading {}", dir.join("outputs.hex").display()))
}

/// The recording replayed on a tracing build of the Verilated model, with a VCD of cycles
/// `from..=to`; checks that the replay gives the recorded outputs.
fn verilator_window(
    t: &TestSpec,
    rec: &Recording,
    (from, to): (usize, usize),
    dir: &Path,
) -> Result<PathBuf> {
    let vt = memento_sim::model_for(t.design, &t.params)
        .with_context(|| format!("no Verilated model of {}", rec.design))?;
    let traced = memento_sim::with_tracing(vt).map_err(anyhow::Error::msg)?;
    let mut m = memento_sim::Model::new(traced);
    let mut path = dir.join("verilator.vcd");
    let mut buf = vec![0u32; 2];
    for c in 0..=to.min(rec.cycles - 1) {
        for (p, w) in rec
            .inputs
            .iter()
            .zip(Recording::split(&rec.inputs, rec.input_row(c)))
        {
            let mut words = w.to_vec();
            words.resize(words.len().max(2), 0);
            m.poke_wide(*p, &words);
        }
        m.settle();
        if c == from {
            path = m.trace_on(&dir.join("verilator.vcd"), memento_sim::WaveFormat::Vcd)?;
        }
        for (p, w) in rec
            .outputs
            .iter()
            .zip(Recording::split(&rec.outputs, rec.output_row(c)))
        {
            buf.resize(words_of(p).max(2), 0);
            m.peek_wide(*p, &mut buf);
            if buf[..w.len()] != *w {
                bail!(
                    "replaying the recording on the tracing model: {} differs at cycle {c}",
                    p.name
                );
            }
        }
        m.step();
    }
    m.trace_off()?;
    Ok(path)
}

/// One seed of `t` through its harness on the Verilated model, recording its first `cycles`
/// cycles; the golden models check every cycle as in a regression.
fn record(t: &TestSpec, seed: u64, cycles: usize) -> Result<Recording> {
    let mut spec = t.clone();
    // A command takes at least a cycle: this many keep the harness running past the window.
    spec.ops = spec.ops.min(cycles as u64).max(1);
    memento_sim::record::arm(cycles);
    run_seed(&spec, seed, None).map_err(|m| {
        anyhow::anyhow!(
            "{} seed {seed}: the Verilated run disagrees with the golden model: {m:?}",
            t.name
        )
    })?;
    memento_sim::record::take().context("the harness's model recorded nothing")
}

/// The VCD windows around `cycle` from both simulators: (Verilator's, Icarus's).
fn vcd_windows(
    t: &TestSpec,
    rec: &Recording,
    cycle: usize,
    dir: &Path,
) -> Result<(PathBuf, PathBuf)> {
    let window = (
        cycle.saturating_sub(WINDOW_BEFORE),
        (cycle + WINDOW_AFTER).min(rec.cycles - 1),
    );
    run(
        std::process::Command::new("vvp").current_dir(dir).args([
            "-n",
            "xsim.vvp",
            &format!("+dump_from={}", window.0),
            &format!("+dump_to={}", window.1),
        ]),
        "vvp (the VCD window)",
    )?;
    let v = verilator_window(t, rec, window, dir)?;
    Ok((v, dir.join("icarus.vcd")))
}

/// Cross-simulates one seed of `t` for `cycles` cycles; the files go to `dir`.
pub fn xsim_test(
    t: &TestSpec,
    seed: u64,
    cycles: usize,
    naming: &Naming,
    dir: &Path,
) -> Result<XsimResult> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let started = std::time::Instant::now();
    let rec = record(t, seed, cycles)?;
    let verilator_seconds = started.elapsed().as_secs_f64();
    let variant = Variant {
        name: rec.design.to_string(),
        design: t.design,
        params: t.params.clone(),
    };
    let top = naming.top(&variant);
    let verilog = variant_verilog_named(&variant, naming).map_err(anyhow::Error::msg)?;
    let started = std::time::Instant::now();
    let from = reset_released(&rec);
    let inner = inner_outputs(&verilog, &top);
    let text = icarus(&rec, &verilog, &top, (from, &inner), dir)?;
    let icarus_seconds = started.elapsed().as_secs_f64();
    let (difference, cycles_differing) = compare(&rec, &text, from)?;
    let (inner_x, inner_stuck) = inner_xs(dir)?;
    let first_bad = difference
        .iter()
        .map(|d| d.cycle)
        .chain(inner_stuck.first().map(|x| x.cycle))
        .min();
    let vcd = match first_bad {
        Some(cycle) => Some(vcd_windows(t, &rec, cycle, dir)?),
        None => None,
    };
    Ok(XsimResult {
        test: t.name.clone(),
        seed,
        design: rec.design.to_string(),
        top,
        cycles: rec.cycles,
        from,
        outputs: rec.outputs.len(),
        output_bits: rec.outputs.iter().map(|p| p.width).sum(),
        inputs: rec.inputs.len(),
        input_bits: rec.inputs.iter().map(|p| p.width).sum(),
        difference,
        cycles_differing,
        inner_ports: inner.len(),
        inner_x,
        inner_stuck,
        vcd,
        verilator_seconds,
        icarus_seconds,
        dir: dir.to_path_buf(),
    })
}

/// One line a person reads.
pub fn summary(r: &XsimResult) -> String {
    let mut s = format!(
        "{:<22} {:<27} {} cycles ({} compared from cycle {}), {} outputs ({} bits), {} inner ports: ",
        r.test,
        r.top,
        r.cycles,
        r.cycles.saturating_sub(r.from),
        r.from,
        r.outputs,
        r.output_bits,
        r.inner_ports
    );
    if r.passed() {
        s += "every output equal on every cycle, no X on any output";
        if !r.inner_x.is_empty() {
            let _ = write!(
                s,
                "; {} inner ports X only until first loaded",
                r.inner_x.len()
            );
        }
    }
    let mut first = None;
    if let Some(d) = &r.difference {
        let _ = write!(
            s,
            "DIFFERENT first at cycle {}, port {}: Verilator {}, Icarus {} ({} cycles differ)",
            d.cycle, d.port, d.verilator, d.icarus, r.cycles_differing
        );
        first = Some(d.cycle);
    }
    if let Some(x) = r.inner_stuck.first() {
        let _ = write!(
            s,
            "{}X inside on every cycle from cycle {}: {} ({} inner ports never defined after reset: {})",
            if first.is_some() { "; " } else { "" },
            x.cycle,
            x.port,
            r.inner_stuck.len(),
            r.inner_stuck
                .iter()
                .take(6)
                .map(|x| x.port.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        first = Some(first.map_or(x.cycle, |c: usize| c.min(x.cycle)));
    }
    if let (Some(c), Some((v, i))) = (first, &r.vcd) {
        let _ = write!(
            s,
            "\n    VCD windows (cycles {}..={}): {} and {}",
            c.saturating_sub(WINDOW_BEFORE),
            c + WINDOW_AFTER,
            v.display(),
            i.display()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_unknown_digits_are_unknown_bits() {
        let bits: Vec<bool> = (0..10).map(|k| k % 3 == 0).collect();
        let h = hex_of(&bits);
        assert_eq!(h, "249");
        let back = parse_hex(&h, 10).unwrap();
        assert_eq!(back.iter().map(|b| b.0).collect::<Vec<_>>(), bits);
        let x = parse_hex("1x", 8).unwrap();
        assert!(x[..4].iter().all(|b| b.1) && x[4..].iter().all(|b| !b.1));
        assert!(parse_hex("1g", 8).is_err());
    }
}
