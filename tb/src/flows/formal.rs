//! `memento formal`: the blocks' formal properties (`hw/formal/<block>.sv`, beside the RTL they
//! protect) checked with `yosys-smtbmc` and z3 on the emitted Verilog.
//!
//! Each check names a variant, the module of that variant the properties wrap (its instance path,
//! so that the block is checked as the design instantiates it, at that variant's parameters),
//! and the macros the property file reads. The flow per check, in `build/formal/<check>/`:
//! Yosys reads the variant (`-formal -DSYNTHESIS`: a block's own invariants, under `ifdef FORMAL`,
//! come in, its simulation-only `$error` checks stay out) and the property file
//! (`read_verilog -formal -sv`), `prep`s the
//! wrapper, maps memories to flops and writes SMT-LIB 2; then `yosys-smtbmc -s z3` runs bounded
//! model checking to the check's depth (a failure writes the counterexample as `cex.vcd`) and, when
//! that passes, k-induction at the same depth. A property set is **proven** when the induction
//! closes, **bounded** when only BMC passed (no failure within the depth), **failed** with a
//! counterexample.

use anyhow::{bail, Context, Result};
use memento_hw::emit::{variant_verilog, Design, Variant};
use memento_runs::workspace_list;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One property set on one block of one variant.
#[derive(Clone, Debug)]
pub struct Check {
    pub name: &'static str,
    /// The design and the parameter set (of `tb/regressions.toml`) of the variant checked; its
    /// Verilog is generated for the check (`<design>_<params>`, as `memento emit` names it).
    pub design: Design,
    pub params: &'static str,
    /// The wrapped module's path below the variant's top (`core$hpa$pool$stack`); empty for the
    /// top itself.
    pub module: &'static str,
    /// The property file under `hw/formal/` and its top module.
    pub props: &'static str,
    pub top: &'static str,
    /// Macros besides `DUT`.
    pub defines: &'static [(&'static str, &'static str)],
    /// Steps of BMC and of induction.
    pub depth: u32,
    /// Run by `make test` (seconds, not minutes).
    pub fast: bool,
    /// Try k-induction after BMC. Off where the reference model follows one item whose place in
    /// the block's memory it cannot name, so the induction cannot close and would only cost time.
    pub induct: bool,
}

/// Every check `memento formal` knows.
pub const CHECKS: &[Check] = &[
    Check {
        name: "frame_stack",
        design: Design::MementoTop,
        params: "small",
        module: "core$hpa$pool$stack",
        props: "frame_stack.sv",
        top: "frame_stack_fpv",
        defines: &[("DEPTH", "16")],
        // One more than the pool holds, so that every fill level, full included, is reached.
        depth: 18,
        fast: true,
        induct: true,
    },
    Check {
        name: "page_pool",
        design: Design::MementoTop,
        params: "small",
        module: "core$hpa$pool",
        props: "page_pool.sv",
        top: "page_pool_fpv",
        defines: &[("POOL", "16")],
        depth: 20,
        fast: false,
        induct: true,
    },
    Check {
        name: "header_cache",
        design: Design::ObjectAlloc,
        params: "fpv_hdc4",
        module: "hdc",
        props: "header_cache.sv",
        top: "header_cache_fpv",
        defines: &[("HDC", "4")],
        // Four inserts fill the cache; the rest evict, update, remove and clear.
        depth: 8,
        fast: false,
        induct: false,
    },
    Check {
        name: "bypass",
        design: Design::Bypass,
        params: "small",
        module: "",
        props: "bypass.sv",
        top: "bypass_fpv",
        defines: &[("BYPASS", "4")],
        // Five map or dead events (three cycles each) wrap the 4-entry table's round robin.
        depth: 16,
        fast: false,
        induct: false,
    },
    Check {
        name: "object_alloc",
        design: Design::ObjectAlloc,
        params: "mut_hoa",
        module: "",
        props: "object_alloc.sv",
        top: "object_alloc_fpv",
        defines: &[],
        // A free that misses the HOT (accepted, s1, execute, header request, header answer,
        // write or answer) with a command behind it; step 9 alone took more than 8 minutes.
        depth: 9,
        fast: false,
        induct: false,
    },
];

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// k-induction closed: the properties hold in every reachable state.
    Proven,
    /// No failure within the depth; induction did not close.
    Bounded,
    /// A counterexample (its VCD).
    Failed,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub variant: String,
    pub module: String,
    pub depth: u32,
    pub verdict: Verdict,
    /// The assertion that failed, as yosys-smtbmc names it.
    pub failed_assertion: Option<String>,
    pub counterexample: Option<PathBuf>,
    /// Why induction did not close, when it did not (the assertion it broke).
    pub induction: String,
    pub seconds: f64,
}

fn run(cmd: &mut Command, what: &str, log: &Path) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("running {what} (run `make deps`)"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(log, &text).with_context(|| format!("writing {}", log.display()))?;
    Ok(text)
}

/// The variant's name and Verilog.
fn variant(root: &Path, c: &Check) -> Result<(String, String)> {
    let list = workspace_list(root).map_err(anyhow::Error::msg)?;
    let params = list.params.get(c.params).with_context(|| {
        format!(
            "{}: no parameter set {:?} in tb/regressions.toml",
            c.name, c.params
        )
    })?;
    let name = if c.params == "default" {
        c.design.name().to_string()
    } else {
        format!("{}_{}", c.design.name(), c.params)
    };
    let v = Variant {
        name: name.clone(),
        design: c.design,
        params: params.clone(),
    };
    let text = variant_verilog(&v).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    Ok((name, text))
}

/// Writes the SMT-LIB model of `c` into `dir`; the variant's name.
fn model(root: &Path, c: &Check, dir: &Path) -> Result<(PathBuf, String)> {
    let (name, text) = variant(root, c)?;
    let variant = dir.join("design.v");
    std::fs::write(&variant, &text)?;
    let props = root.join("hw/formal").join(c.props);
    let dut = if c.module.is_empty() {
        name.clone()
    } else {
        format!("{name}${}", c.module)
    };
    if !text.contains(&format!("module {dut}(")) {
        bail!(
            "{}: {name} has no module {dut} (was the block renamed?)",
            c.name
        );
    }
    let mut defines = format!("-DDUT={dut}");
    for (k, v) in c.defines {
        defines.push_str(&format!(" -D{k}={v}"));
    }
    let smt = dir.join("model.smt2");
    let script = dir.join("model.ys");
    std::fs::write(
        &script,
        format!(
            "read_verilog -formal -DSYNTHESIS {defines} {}\nread_verilog -formal -sv {defines} {}\nprep -top {}\nmemory_map\nopt -fast\nasync2sync\ndffunmap\nwrite_smt2 -wires {}\n",
            variant.display(),
            props.display(),
            c.top,
            smt.display()
        ),
    )?;
    let out = run(
        Command::new("yosys")
            .arg("-q")
            .arg("-l")
            .arg(dir.join("yosys.log"))
            .arg(&script),
        "yosys",
        &dir.join("yosys.out"),
    )?;
    if !smt.exists() {
        bail!(
            "{}: Yosys wrote no model (log {}): {}",
            c.name,
            dir.join("yosys.log").display(),
            out.trim()
        );
    }
    Ok((smt, name))
}

/// The assertion a failing yosys-smtbmc run names.
fn failed_assertion(log: &str) -> Option<String> {
    log.lines().find_map(|l| {
        l.split_once("Assert failed in ")
            .map(|(_, a)| a.trim().to_string())
    })
}

fn smtbmc(
    smt: &Path,
    depth: u32,
    induction: bool,
    vcd: &Path,
    log: &Path,
) -> Result<(bool, String)> {
    let mut cmd = Command::new("yosys-smtbmc");
    // `--unroll` hands z3 plain bit-vectors instead of a state datatype with uninterpreted
    // functions: the bypass's first step went from minutes unfinished to under a second.
    cmd.arg("-s").arg("z3").arg("--unroll");
    if induction {
        cmd.arg("-i");
    }
    cmd.arg("-t")
        .arg(depth.to_string())
        .arg("--dump-vcd")
        .arg(vcd)
        .arg(smt);
    let text = run(&mut cmd, "yosys-smtbmc", log)?;
    if text.contains("Status: PASSED") {
        Ok((true, text))
    } else if text.contains("Status: FAILED") {
        Ok((false, text))
    } else {
        bail!(
            "yosys-smtbmc on {} ended without a status (log {}): {}",
            smt.display(),
            log.display(),
            text.lines().last().unwrap_or("")
        )
    }
}

/// Runs one check.
pub fn check(root: &Path, c: &Check) -> Result<CheckResult> {
    let started = Instant::now();
    let dir = root.join("build/formal").join(c.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let (smt, name) = model(root, c, &dir)?;
    let cex = dir.join("cex.vcd");
    let _ = std::fs::remove_file(&cex);
    let (bmc_ok, bmc_log) = smtbmc(&smt, c.depth, false, &cex, &dir.join("bmc.log"))?;
    let mut r = CheckResult {
        name: c.name.into(),
        variant: name,
        module: c.module.into(),
        depth: c.depth,
        verdict: Verdict::Failed,
        failed_assertion: None,
        counterexample: None,
        induction: String::new(),
        seconds: 0.0,
    };
    if !bmc_ok {
        r.failed_assertion = failed_assertion(&bmc_log);
        r.counterexample = cex.exists().then_some(cex);
    } else if !c.induct {
        r.verdict = Verdict::Bounded;
        r.induction =
            "not tried (the reference model cannot name its item's place in the block)".into();
    } else {
        let ind_vcd = dir.join("induction.vcd");
        let (ind_ok, ind_log) = smtbmc(&smt, c.depth, true, &ind_vcd, &dir.join("induction.log"))?;
        if ind_ok {
            r.verdict = Verdict::Proven;
            r.induction = format!("closed at depth {}", c.depth);
        } else {
            r.verdict = Verdict::Bounded;
            r.induction = format!(
                "did not close at depth {} ({} fails from an unreachable state; trace {})",
                c.depth,
                failed_assertion(&ind_log).unwrap_or_else(|| "an assertion".into()),
                ind_vcd.display()
            );
        }
    }
    r.seconds = started.elapsed().as_secs_f64();
    Ok(r)
}

/// The checks `only` names (all when empty; only the fast ones with `fast`).
pub fn select(only: &[String], fast: bool) -> Result<Vec<&'static Check>> {
    for o in only {
        if !CHECKS.iter().any(|c| c.name == o) {
            bail!(
                "no formal check named {o:?} (there are: {})",
                CHECKS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(CHECKS
        .iter()
        .filter(|c| only.is_empty() || only.iter().any(|o| o == c.name))
        .filter(|c| !fast || c.fast)
        .collect())
}

/// A table of results, one line a check.
pub fn table(results: &[CheckResult]) -> String {
    let mut o = format!(
        "{:<14} {:<20} {:<24} {:>5} {:<8} {:>7}  detail\n",
        "check", "variant", "module", "depth", "verdict", "seconds"
    );
    for r in results {
        let detail = match r.verdict {
            Verdict::Failed => format!(
                "{} fails; counterexample {}",
                r.failed_assertion.as_deref().unwrap_or("an assertion"),
                r.counterexample
                    .as_ref()
                    .map_or("(none written)".into(), |p| p.display().to_string())
            ),
            _ => format!("induction {}", r.induction),
        };
        o.push_str(&format!(
            "{:<14} {:<20} {:<24} {:>5} {:<8} {:>7.1}  {}\n",
            r.name,
            r.variant,
            r.module,
            r.depth,
            format!("{:?}", r.verdict).to_lowercase(),
            r.seconds,
            detail
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtbmc_failures_name_their_assertion() {
        let log = "##   0:00:06  Assert failed in frame_stack_fpv: FrameStackNoLoss_A\n##   0:00:07  Status: FAILED\n";
        assert_eq!(
            failed_assertion(log).as_deref(),
            Some("frame_stack_fpv: FrameStackNoLoss_A")
        );
        assert!(select(&["nope".into()], false).is_err());
        assert!(!select(&[], true).unwrap().is_empty());
    }
}
