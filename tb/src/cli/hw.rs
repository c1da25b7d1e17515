//! Emission, lint, synthesis and timing of the generated Verilog.

use super::{all_variants, root};
use anyhow::{bail, Context, Result};
use memento_hw::emit::{variant_verilog_named, Naming};
use std::path::Path;

/// How `memento emit` names modules (and how `memento lint` and `memento xsim` find them).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct NamingArgs {
    /// Put this before every module name (two variants, or a variant and your own modules, in
    /// one design without clashes).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Write `top__child__grandchild` instead of `top$child$grandchild` (for tools that
    /// mishandle `$` in identifiers).
    #[arg(long)]
    pub flat_names: bool,
}

impl NamingArgs {
    pub fn naming(&self) -> Naming {
        Naming {
            prefix: self.prefix.clone(),
            flat: self.flat_names,
        }
    }
}

/// `memento emit`: the Verilog of every variant.
pub fn emit(out: &Path, naming: &Naming) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for v in all_variants()? {
        let text = variant_verilog_named(&v, naming).map_err(anyhow::Error::msg)?;
        let path = out.join(format!("{}.v", naming.top(&v)));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `memento lint`: Verilator's lint of every variant with the project's waivers.
pub fn lint(dir: &Path, naming: &Naming) -> Result<()> {
    let waivers = root().join("hw/lint/waivers.vlt");
    for variant in all_variants()? {
        let v = dir.join(format!("{}.v", naming.top(&variant)));
        if !v.exists() {
            bail!("{} does not exist: run `make verilog` first", v.display());
        }
        let st = std::process::Command::new("verilator")
            .args([
                "--lint-only",
                "-Wall",
                "--top-module",
                &naming.top(&variant),
            ])
            .arg(&waivers)
            .arg(&v)
            .status()
            .context("running verilator (install it with scripts/install-deps.sh)")?;
        if !st.success() {
            bail!("lint failed on {}", v.display());
        }
        println!("lint clean: {}", v.display());
    }
    Ok(())
}

/// `memento synth`: Yosys cells, flip-flops and memory bits per block.
pub fn synth(dir: &Path, report: &Path, only: Option<String>) -> Result<()> {
    let mut all = vec![];
    for variant in all_variants()?
        .into_iter()
        .filter(|v| only.as_deref().is_none_or(|o| o == v.name))
    {
        let v = dir.join(format!("{}.v", variant.name));
        if !v.exists() {
            bail!("{} does not exist: run `make verilog` first", v.display());
        }
        let rows = crate::flows::synth::synth(&v, &variant.name, &root().join("build/synth"))?;
        println!(
            "{}: Yosys synth ({})",
            variant.name,
            variant.params.summary()
        );
        println!(
            "  {:<16} {:>9} {:>9} {:>12}",
            "block", "cells", "flops", "memory bits"
        );
        for r in &rows {
            println!(
                "  {:<16} {:>9} {:>9} {:>12}",
                r.block, r.cells, r.flops, r.memory_bits
            );
        }
        all.push(serde_json::json!({ "design": variant.name, "blocks": rows }));
    }
    if let Some(p) = report.parent() {
        std::fs::create_dir_all(p)?;
    }
    std::fs::write(report, serde_json::to_string_pretty(&all)?)?;
    println!("report: {}", report.display());
    Ok(())
}

pub fn timing(
    dir: &std::path::Path,
    report: &std::path::Path,
    check: bool,
    only: Option<String>,
    budget: u32,
    jobs: usize,
) -> Result<()> {
    use crate::flows::timing;
    let mut designs = vec![];
    for v in all_variants()? {
        let file = dir.join(format!("{}.v", v.name));
        if !file.exists() {
            bail!(
                "{} does not exist: run `make verilog` first",
                file.display()
            );
        }
        designs.push((v.name.clone(), v.params.summary(), file));
    }
    let plan = timing::TimingPlan {
        designs,
        only,
        budget,
        cache: root().join("build/timing/cache"),
        jobs,
        progress: true,
    };
    let started = std::time::Instant::now();
    let result = timing::run(&plan)?;
    print!("{}", timing::table(&result, budget));
    if let Some(p) = report.parent() {
        std::fs::create_dir_all(p)?;
    }
    let json = serde_json::json!({ "stage_levels": budget, "designs": result });
    std::fs::write(report, serde_json::to_string_pretty(&json)?)?;
    println!(
        "report: {} ({:.0} s)",
        report.display(),
        started.elapsed().as_secs_f64()
    );
    let bad = timing::violations(&result);
    if check && !bad.is_empty() {
        for b in &bad {
            eprintln!("over {budget} levels: {b}");
        }
        bail!("{} paths over the budget of {budget} levels", bad.len());
    }
    if check {
        println!("every path within {budget} levels");
    }
    Ok(())
}
