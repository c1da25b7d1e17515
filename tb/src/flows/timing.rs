//! `memento timing`: the logic levels of the longest path in one cycle, per block and per design,
//! against the budget of SPEC section 10 (`STAGE_LEVELS`).
//!
//! Each module of an emitted design is synthesized on its own by Yosys (`synth` up to its fine
//! mapping, then ABC onto two-input gates and muxes), its children left as black boxes, and the
//! netlist is cached under `build/timing/cache/` by the hash of the module's text (its variant's
//! name taken out, so that the same block in two designs is synthesized once). The levels are
//! then composed bottom-up through [`timing_graph`](crate::flows::timing_graph): a child contributes
//! its output depths, its input depths and its input-to-output arcs. Memories (the RAM arrays of
//! `class_ram` and `frame_stack`) are kept as Yosys memories, not mapped to flops: their read data
//! starts a path and their address, data and enable end one, as a RAM macro whose access takes
//! the cycle. See docs/timing.md.

use crate::flows::timing_graph::{analyse, standalone_paths, Abstraction, Path};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path as FsPath, PathBuf};
use std::process::Command;

/// The gates ABC maps onto (two-input gates and a 2:1 mux; an inverter is always available).
pub const GATES: &str = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX";
/// Changes whenever the synthesis script or the analysis changes, so that old netlists go.
const SCRIPT_VERSION: &str = "timing-2";
/// ABC's mapping, delay-driven with unit gate delays. ABC's default script for `-g` (`&nf`)
/// recovers area and turns a Brent-Kung adder back into a ripple chain (72 levels for 39 bits,
/// where this script gives 18); see docs/timing.md.
pub const ABC_SCRIPT: &str = "+strash;dch;map,-D,1";
/// The name a module is synthesized under (its children are `blk$child`).
const NORMAL: &str = "blk";

/// One module of an emitted file.
#[derive(Clone, Debug)]
struct ModuleText {
    name: String,
    text: String,
    /// Child module types it instantiates.
    children: Vec<String>,
    /// Port widths by name.
    widths: HashMap<String, usize>,
}

/// Splits an emitted Verilog file into its modules.
fn split_modules(text: &str) -> Result<Vec<ModuleText>> {
    let mut mods = vec![];
    let mut cur: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("module ") {
            let name = rest.split('(').next().unwrap_or("").trim().to_string();
            cur = Some((name, String::new()));
        }
        if let Some((_, body)) = cur.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
        if line.starts_with("endmodule") {
            let (name, body) = cur.take().context("endmodule without module")?;
            mods.push(ModuleText {
                widths: port_widths(&body),
                name,
                text: body,
                children: vec![],
            });
        }
    }
    let names: Vec<String> = mods.iter().map(|m| m.name.clone()).collect();
    for m in &mut mods {
        m.children = names
            .iter()
            .filter(|n| *n != &m.name && m.text.contains(&format!("\n    {n} ")))
            .cloned()
            .collect();
    }
    Ok(mods)
}

/// The port declarations of a rust-hdl module: its "Module arguments" section, which ends at the
/// first blank line (a template's functions declare inputs of their own further down).
fn port_decls(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.contains("// Module arguments"))
        .skip(1)
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("input ") || l.starts_with("output ") || l.starts_with("inout "))
        .collect()
}

fn port_widths(text: &str) -> HashMap<String, usize> {
    port_decls(text)
        .into_iter()
        .filter_map(|l| {
            let l = l.trim_end_matches(';');
            let name = l.split_whitespace().last()?.to_string();
            let width = match (l.find('['), l.find(':')) {
                (Some(a), Some(b)) if a < b => l[a + 1..b].trim().parse::<usize>().ok()? + 1,
                _ => 1,
            };
            Some((name, width))
        })
        .collect()
}

/// A black box with the ports of `m`.
fn stub(m: &ModuleText) -> String {
    let header = m.text.lines().next().unwrap_or("");
    let decls: Vec<String> = port_decls(&m.text)
        .into_iter()
        .map(|d| d.replace("output reg ", "output wire "))
        .map(|d| format!("    {d}"))
        .collect();
    format!(
        "(* blackbox *)\n{header}\n{}\nendmodule\n",
        decls.join("\n")
    )
}

/// What Yosys is given for module `m` (renamed to [`NORMAL`]) and the cache key of its netlist.
fn synth_input(m: &ModuleText, all: &HashMap<String, &ModuleText>) -> (String, String) {
    let mut text = m.text.clone();
    for c in &m.children {
        text.push_str(&stub(all[c]));
    }
    let text = text.replace(&m.name, NORMAL);
    let key = hex(&Sha256::digest(
        format!("{SCRIPT_VERSION}\n{text}").as_bytes(),
    ));
    (text, key)
}

fn hex(b: &[u8]) -> String {
    b.iter().take(12).map(|x| format!("{x:02x}")).collect()
}

/// Synthesizes one module's text with Yosys and returns its netlist, from the cache when there.
fn netlist(text: &str, key: &str, cache: &FsPath) -> Result<Value> {
    let json = cache.join(format!("{key}.json"));
    if let Ok(t) = std::fs::read_to_string(&json) {
        if let Ok(v) = serde_json::from_str(&t) {
            return Ok(v);
        }
    }
    std::fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    let v = cache.join(format!("{key}.v"));
    std::fs::write(&v, text)?;
    let tmp = cache.join(format!("{key}.json.tmp"));
    let script = format!(
        "read_verilog {v}; synth -top {NORMAL} -run begin:fine; opt -fast -full; techmap; \
         opt -fast; abc -script {ABC_SCRIPT} -g {GATES}; opt_clean; write_json {tmp}",
        v = v.display(),
        tmp = tmp.display()
    );
    let out = Command::new("yosys")
        .args(["-q", "-l"])
        .arg(cache.join(format!("{key}.log")))
        .args(["-p", &script])
        .output()
        .context("running yosys (install it with scripts/install-deps.sh)")?;
    if !out.status.success() {
        bail!(
            "yosys failed on {} (log {}): {}",
            v.display(),
            cache.join(format!("{key}.log")).display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::rename(&tmp, &json)?;
    let _ = std::fs::remove_file(&v);
    let t = std::fs::read_to_string(&json)?;
    serde_json::from_str(&t).with_context(|| format!("parsing {}", json.display()))
}

/// One row of the report: a block seen alone, or a whole design.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub block: String,
    pub levels: u32,
    pub from: String,
    pub to: String,
    pub cells: u64,
    pub flops: u64,
    pub memory_bits: u64,
    /// Every end whose worst path is over the budget, with that path.
    pub over: Vec<Path>,
    /// How deep each port of the block is used: an output's deepest arrival (from inside or
    /// through from an input), an input's deepest way to an end (inside or out through).
    pub ports: Vec<PortDepth>,
}

/// The depth at one port of a block.
#[derive(Clone, Debug, Serialize)]
pub struct PortDepth {
    pub port: String,
    pub output: bool,
    pub levels: u32,
}

/// A design's rows: the design as a whole (its ports and registers as the bounds), then its blocks.
#[derive(Clone, Debug, Serialize)]
pub struct DesignTiming {
    pub design: String,
    pub params: String,
    pub whole: Option<Row>,
    pub blocks: Vec<Row>,
}

/// What to analyse.
pub struct TimingPlan {
    /// Variant name, its parameters' summary and its Verilog file.
    pub designs: Vec<(String, String, PathBuf)>,
    /// Only blocks (or designs) of this name.
    pub only: Option<String>,
    pub budget: u32,
    pub cache: PathBuf,
    pub jobs: usize,
    pub progress: bool,
}

/// A rust-hdl register (`d`, `q`, `clock` and nothing else) or a constant ROM: folded into the
/// block that owns it instead of getting a row.
fn is_part(m: &ModuleText) -> bool {
    let mut ports: Vec<&String> = m.widths.keys().collect();
    ports.sort();
    ports == ["clock", "d", "q"] || m.name.ends_with("_rom")
}

fn block_name(design: &str, module: &str) -> String {
    module
        .strip_prefix(&format!("{design}$"))
        .unwrap_or(module)
        .replace('$', ".")
}

fn selected(plan: &TimingPlan, design: &str, m: &ModuleText) -> bool {
    match &plan.only {
        None => true,
        Some(o) => {
            o == design && m.name == design
                || block_name(design, &m.name).rsplit('.').next() == Some(o.as_str())
        }
    }
}

/// Runs the analysis of every design of the plan.
pub fn run(plan: &TimingPlan) -> Result<Vec<DesignTiming>> {
    let mut parsed = vec![];
    for (name, params, file) in &plan.designs {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading {} (run `make verilog` first)", file.display()))?;
        let mods = split_modules(&text).with_context(|| format!("splitting {}", file.display()))?;
        parsed.push((name.clone(), params.clone(), mods));
    }
    // Every module a selected block needs, once per distinct text.
    let mut jobs: Vec<(String, String)> = vec![];
    let mut seen = BTreeSet::new();
    for (name, _, mods) in &parsed {
        let by_name: HashMap<String, &ModuleText> =
            mods.iter().map(|m| (m.name.clone(), m)).collect();
        for m in mods.iter().filter(|m| selected(plan, name, m)) {
            for n in subtree(m, &by_name) {
                let (text, key) = synth_input(by_name[&n], &by_name);
                if seen.insert(key.clone()) {
                    jobs.push((text, key));
                }
            }
        }
    }
    let bar = crate::flows::bench::progress_bar(jobs.len() as u64, plan.progress);
    bar.set_message("modules synthesized");
    let netlists = crate::flows::bench::parallel(plan.jobs, &jobs, |(text, key)| {
        let r = netlist(text, key, &plan.cache);
        bar.inc(1);
        r.map(|n| (key.clone(), n))
    });
    bar.finish_and_clear();
    let netlists: HashMap<String, Value> = netlists.into_iter().collect::<Result<_>>()?;

    let mut out = vec![];
    for (name, params, mods) in &parsed {
        let by_name: HashMap<String, &ModuleText> =
            mods.iter().map(|m| (m.name.clone(), m)).collect();
        let mut memo: HashMap<String, Abstraction> = HashMap::new();
        let mut design = DesignTiming {
            design: name.clone(),
            params: params.clone(),
            whole: None,
            blocks: vec![],
        };
        for m in mods.iter().filter(|m| selected(plan, name, m)) {
            let a = abstraction(m, &by_name, &netlists, &mut memo)
                .with_context(|| format!("timing of {name}"))?;
            let row = row_of(&block_name(name, &m.name), &a, &m.widths, plan.budget);
            if m.name == *name {
                design.whole = Some(Row {
                    block: name.clone(),
                    ..row
                });
            } else if !is_part(m) && (row.cells, row.flops, row.memory_bits) != (0, 0, 0) {
                // A block with nothing in it (the header cache at HDC = 0) gets no row.
                design.blocks.push(row);
            }
        }
        design.blocks.sort_by(|a, b| a.block.cmp(&b.block));
        if design.whole.is_some() || !design.blocks.is_empty() {
            out.push(design);
        }
    }
    Ok(out)
}

/// `m` and every module under it, children first.
fn subtree(m: &ModuleText, by_name: &HashMap<String, &ModuleText>) -> Vec<String> {
    let mut out = vec![];
    for c in &m.children {
        for n in subtree(by_name[c], by_name) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out.push(m.name.clone());
    out
}

fn abstraction(
    m: &ModuleText,
    by_name: &HashMap<String, &ModuleText>,
    netlists: &HashMap<String, Value>,
    memo: &mut HashMap<String, Abstraction>,
) -> Result<Abstraction> {
    if let Some(a) = memo.get(&m.name) {
        return Ok(a.clone());
    }
    let mut children = HashMap::new();
    for c in &m.children {
        let a = abstraction(by_name[c], by_name, netlists, memo)?;
        children.insert(c.replace(&m.name, NORMAL), a);
    }
    let (_, key) = synth_input(m, by_name);
    let a = analyse(&netlists[&key], NORMAL, &children)
        .with_context(|| format!("module {}", m.name))?;
    memo.insert(m.name.clone(), a.clone());
    Ok(a)
}

fn port_depths(a: &Abstraction) -> Vec<PortDepth> {
    let mut depth: HashMap<(String, bool), u32> = HashMap::new();
    let mut note = |port: &str, output: bool, l: u32| {
        let e = depth.entry((port.to_string(), output)).or_insert(0);
        *e = (*e).max(l);
    };
    for ((p, _), (l, _)) in &a.out_arrival {
        note(p, true, *l);
    }
    for ((p, _), (l, _)) in &a.in_required {
        note(p, false, *l);
    }
    for ((i, _), (o, _), l) in &a.arcs {
        note(i, false, *l);
        note(o, true, *l);
    }
    let mut v: Vec<PortDepth> = depth
        .into_iter()
        .map(|((port, output), levels)| PortDepth {
            port,
            output,
            levels,
        })
        .collect();
    v.sort_by(|a, b| b.levels.cmp(&a.levels).then(a.port.cmp(&b.port)));
    v
}

fn row_of(block: &str, a: &Abstraction, widths: &HashMap<String, usize>, budget: u32) -> Row {
    let paths = standalone_paths(a, widths);
    let worst = paths.first().cloned().unwrap_or(Path {
        levels: 0,
        from: "-".into(),
        to: "-".into(),
    });
    Row {
        block: block.to_string(),
        levels: worst.levels,
        from: worst.from,
        to: worst.to,
        cells: a.cells,
        flops: a.flops,
        memory_bits: a.memory_bits,
        over: paths.into_iter().filter(|p| p.levels > budget).collect(),
        ports: port_depths(a),
    }
}

/// The report as a table a person reads.
pub fn table(designs: &[DesignTiming], budget: u32) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<32} {:>6} {:>8} {:>7} {:>9}  longest path (budget {budget} levels)",
        "design / block", "levels", "cells", "flops", "mem bits"
    );
    let line = |s: &mut String, name: &str, r: &Row| {
        let mark = if r.levels > budget { " OVER" } else { "" };
        let _ = writeln!(
            s,
            "{:<32} {:>6} {:>8} {:>7} {:>9}  {} -> {}{mark}",
            name, r.levels, r.cells, r.flops, r.memory_bits, r.from, r.to
        );
    };
    for d in designs {
        let _ = writeln!(s, "{} ({})", d.design, d.params);
        if let Some(w) = &d.whole {
            line(&mut s, "  (whole design)", w);
        }
        for b in &d.blocks {
            line(&mut s, &format!("  {}", b.block), b);
        }
    }
    s
}

/// Every path over the budget, one line each, naming the design, the block and the path.
pub fn violations(designs: &[DesignTiming]) -> Vec<String> {
    let mut v = vec![];
    for d in designs {
        for r in d.whole.iter().chain(&d.blocks) {
            for p in &r.over {
                v.push(format!(
                    "{} / {}: {} levels, {} -> {}",
                    d.design, r.block, p.levels, p.from, p.to
                ));
            }
        }
    }
    v
}

/// The deepest one-cycle path, in gate levels, of each design as a whole: the clock a cycle count
/// measured on that design is worth. Each `(name, design, params)` is emitted under
/// `build/timing/designs/` and analysed like `make timing` does, sharing its netlist cache, so a
/// design `make timing` has seen costs a few seconds.
pub fn design_levels(
    designs: &[(String, memento_hw::emit::Design, memento_hw::Params)],
    root: &FsPath,
    jobs: usize,
) -> Result<Vec<u32>> {
    let dir = root.join("build/timing/designs");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files = vec![];
    for (name, design, params) in designs {
        let v = memento_hw::emit::Variant {
            name: name.clone(),
            design: *design,
            params: params.clone(),
        };
        let text =
            memento_hw::emit::variant_verilog(&v).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let file = dir.join(format!("{name}.v"));
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
        files.push((name.clone(), params.summary(), file));
    }
    let plan = TimingPlan {
        designs: files,
        only: None,
        budget: memento_hw::params::STAGE_LEVELS,
        cache: root.join("build/timing/cache"),
        jobs,
        progress: false,
    };
    run(&plan)?
        .iter()
        .map(|d| {
            d.whole
                .as_ref()
                .map(|w| w.levels)
                .with_context(|| format!("{}: no whole-design row", d.design))
        })
        .collect()
}
