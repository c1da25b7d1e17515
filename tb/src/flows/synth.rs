//! `make synth`: Yosys `synth` of each emitted design, with cells, flip-flops and memory bits per
//! block (module). Memory bits come from a pass that stops after `proc`, while memories are still memories; cells and flops
//! from the full `synth`, where memories have become flops and logic.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Serialize)]
pub struct BlockArea {
    pub block: String,
    pub cells: u64,
    pub flops: u64,
    pub memory_bits: u64,
}

fn yosys_stat(verilog: &Path, top: &str, script: &str, out: &Path) -> Result<Value> {
    let cmd = format!(
        "read_verilog {}; hierarchy -top {top}; {script}; tee -q -o {} stat -json",
        verilog.display(),
        out.display()
    );
    let st = Command::new("yosys")
        .args(["-q", "-p", &cmd])
        .status()
        .context("running yosys (install it with scripts/install-deps.sh)")?;
    if !st.success() {
        bail!("yosys failed on {}", verilog.display());
    }
    let text =
        std::fs::read_to_string(out).with_context(|| format!("reading {}", out.display()))?;
    // Yosys 0.23 writes its hierarchy listing as bare text inside the "design" object of
    // `stat -json`; only the "modules" object (which closes first) is well-formed, so parse that.
    let modules_end = text
        .find("\n   },")
        .with_context(|| format!("no modules object in {}", out.display()))?;
    let json = format!("{}\n   }}\n}}", &text[..modules_end]);
    serde_json::from_str(&json).with_context(|| format!("parsing {}", out.display()))
}

/// Synthesizes `top` from `verilog` and returns one row per module, the top last.
pub fn synth(verilog: &Path, top: &str, work: &Path) -> Result<Vec<BlockArea>> {
    std::fs::create_dir_all(work)?;
    let mem = yosys_stat(verilog, top, "proc", &work.join(format!("{top}.mem.json")))?;
    let full = yosys_stat(
        verilog,
        top,
        &format!("synth -top {top}"),
        &work.join(format!("{top}.synth.json")),
    )?;
    let modules = full["modules"]
        .as_object()
        .context("yosys stat has no modules")?;
    let mut own: Vec<(String, BlockArea)> = vec![];
    for (name, m) in modules {
        let name = name.trim_start_matches('\\');
        let by_type = m["num_cells_by_type"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut cells = 0;
        let mut flops = 0;
        for (ty, n) in &by_type {
            let n = n.as_u64().unwrap_or(0);
            if ty.starts_with('$') {
                cells += n;
                if ty.contains("DFF") || ty.contains("DLATCH") {
                    flops += n;
                }
            }
        }
        let memory_bits = mem["modules"][format!("\\{name}")]["num_memory_bits"]
            .as_u64()
            .unwrap_or(0);
        let block = name
            .strip_prefix(&format!("{top}$"))
            .unwrap_or(name)
            .to_string();
        own.push((
            block.clone(),
            BlockArea {
                block,
                cells,
                flops,
                memory_bits,
            },
        ));
    }
    // rust-hdl makes every register its own module (`hoa$mrs`): fold those, and constant ROMs,
    // into the block that owns them, so that each row is a block of the design.
    let is_part = |b: &BlockArea| {
        b.block != top && ((b.cells == b.flops && b.flops > 0) || b.block.ends_with("_rom"))
    };
    let mut rows: Vec<BlockArea> = vec![];
    for (_, b) in own.iter().filter(|(_, b)| !is_part(b)) {
        rows.push(BlockArea {
            block: b.block.clone(),
            cells: b.cells,
            flops: b.flops,
            memory_bits: b.memory_bits,
        });
    }
    for (_, part) in own.iter().filter(|(_, b)| is_part(b)) {
        let parent = part.block.rsplit_once('$').map(|(p, _)| p).unwrap_or(top);
        let parent = if rows.iter().any(|r| r.block == parent) {
            parent.to_string()
        } else {
            top.to_string()
        };
        if let Some(r) = rows.iter_mut().find(|r| r.block == parent) {
            r.cells += part.cells;
            r.flops += part.flops;
            r.memory_bits += part.memory_bits;
        } else {
            rows.push(BlockArea {
                block: parent,
                cells: part.cells,
                flops: part.flops,
                memory_bits: part.memory_bits,
            });
        }
    }
    // Blocks that only wire their children together report nothing of their own.
    rows.retain(|r| r.cells > 0 || r.block == top);
    rows.sort_by_key(|r| (r.block == top, r.block.clone()));
    Ok(rows)
}
