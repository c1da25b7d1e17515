//! Code coverage from a `--coverage` build (`make coverage`): merges every model's points with
//! `verilator_coverage`, writes annotated sources, and sums line and toggle points per block.
//!
//! A block is a module of the design; rust-hdl's one-register modules (`hoa$state`, ...) are
//! folded into the block that owns them, as in the synthesis report.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Default, Clone, Serialize)]
pub struct BlockCoverage {
    pub block: String,
    pub lines: u64,
    pub lines_hit: u64,
    pub toggles: u64,
    pub toggles_hit: u64,
}

impl BlockCoverage {
    pub fn line_pct(&self) -> f64 {
        pct(self.lines_hit, self.lines)
    }
    pub fn toggle_pct(&self) -> f64 {
        pct(self.toggles_hit, self.toggles)
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// Merges `dir/*.dat` into `dir/merged.dat` and annotates sources into `dir/annotated`.
pub fn merge(dir: &Path) -> Result<PathBuf> {
    let inputs = dat_files(dir)?;
    if inputs.is_empty() {
        bail!(
            "{} holds no coverage data: build with `--features memento-sim/coverage` and run",
            dir.display()
        );
    }
    merge_files(&inputs, dir)
}

/// The coverage points files (`*.dat`, not a merge's own) in `dir`.
pub fn dat_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}: run `make coverage`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dat") && !p.ends_with("merged.dat"))
        .collect();
    inputs.sort();
    Ok(inputs)
}

/// Merges `inputs` with `verilator_coverage` into `dir/merged.dat` and annotates sources into
/// `dir/annotated`.
pub fn merge_files(inputs: &[PathBuf], dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let merged = dir.join("merged.dat");
    let st = Command::new("verilator_coverage")
        .arg("--write")
        .arg(&merged)
        .args(inputs)
        .status()
        .context("running verilator_coverage")?;
    if !st.success() {
        bail!("verilator_coverage could not merge {} files", inputs.len());
    }
    let st = Command::new("verilator_coverage")
        .arg("--annotate")
        .arg(dir.join("annotated"))
        .arg(&merged)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running verilator_coverage --annotate")?;
    if !st.success() {
        bail!("verilator_coverage --annotate failed");
    }
    Ok(merged)
}

/// Line and toggle points per block of the merged data, each block named `design.block.sub`.
pub fn per_block(merged: &Path) -> Result<Vec<BlockCoverage>> {
    let text = std::fs::read(merged).with_context(|| format!("reading {}", merged.display()))?;
    let text = String::from_utf8_lossy(&text);
    // module -> (kind -> (points, hit)), and module -> its signals (to spot register modules).
    let mut raw: BTreeMap<String, BlockCoverage> = BTreeMap::new();
    let mut signals: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("C '")) {
        let Some(end) = line.rfind('\'') else {
            continue;
        };
        let keys = &line[3..end];
        let count: u64 = line[end + 1..].trim().parse().unwrap_or(0);
        let mut page = "";
        let mut obj = "";
        for kv in keys.split('\u{1}') {
            let mut it = kv.splitn(2, '\u{2}');
            match (it.next(), it.next()) {
                (Some("page"), Some(v)) => page = v,
                (Some("o"), Some(v)) => obj = v,
                _ => {}
            }
        }
        let Some((kind, module)) = page.split_once('/') else {
            continue;
        };
        let b = raw
            .entry(module.to_string())
            .or_insert_with(|| BlockCoverage {
                block: module.to_string(),
                ..Default::default()
            });
        match kind {
            "v_line" | "v_branch" => {
                b.lines += 1;
                b.lines_hit += (count > 0) as u64;
            }
            "v_toggle" => {
                b.toggles += 1;
                b.toggles_hit += (count > 0) as u64;
                signals
                    .entry(module.to_string())
                    .or_default()
                    .push(obj.split(['[', ':']).next().unwrap_or(obj).to_string());
            }
            _ => {}
        }
    }
    // Fold one-register modules (only d, q, clock toggle) into their owner.
    let is_register = |m: &str| {
        signals
            .get(m)
            .is_some_and(|s| s.iter().all(|n| matches!(n.as_str(), "d" | "q" | "clock")))
    };
    let mut out: BTreeMap<String, BlockCoverage> = BTreeMap::new();
    for (m, b) in &raw {
        let owner = if is_register(m) {
            m.rsplit_once('$').map_or(m.as_str(), |(p, _)| p)
        } else {
            m.as_str()
        };
        let name = owner.replace('$', ".");
        let e = out.entry(name.clone()).or_insert_with(|| BlockCoverage {
            block: name,
            ..Default::default()
        });
        e.lines += b.lines;
        e.lines_hit += b.lines_hit;
        e.toggles += b.toggles;
        e.toggles_hit += b.toggles_hit;
    }
    Ok(out.into_values().collect())
}
