//! Runs a block's Verilog under Icarus Verilog (or Verilator) with a testbench and returns what the testbench
//! printed, one line per vector: the blocks' own tests use it on the emitted Verilog, and the
//! mutation campaign on a mutated block cut out of a design (`memento mutate`).

use std::path::Path;
use std::process::Command;

/// The seed of a randomized test: `MEMENTO_SEED` replays one, otherwise a fresh one (every
/// failure message prints it).
pub fn seed() -> u64 {
    match std::env::var("MEMENTO_SEED") {
        Ok(s) => {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            }
            .expect("MEMENTO_SEED is a u64 (decimal or 0x-hex)")
        }
        Err(_) => {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                ^ ((std::process::id() as u64) << 32)
        }
    }
}

/// xorshift64 step (the tests' only generator; seeded by [`seed`]).
pub fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// Compiles `tb` (a testbench module `tb` that instantiates module `top`) with `design` under
/// `build/test/<name>/`, writes `vectors` to `vectors.hex` there for `$readmemh`, runs it and
/// returns the lines it wrote to `out.txt`. The tests' form of [`run_in`]: a failure panics.
#[cfg(test)]
pub fn run(name: &str, tb: &str, design: &str, vectors: &str) -> Vec<String> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../build/test")
        .join(name);
    run_in(&dir, tb, design, vectors).unwrap_or_else(|e| panic!("{e}"))
}

/// The simulator a block bench runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sim {
    /// Icarus Verilog (`iverilog -g2012`, then `vvp`): no build step worth the name, slow.
    Icarus,
    /// Verilator (`--binary --timing`): about 6 s to build, then two orders of magnitude
    /// faster than Icarus; the bench of millions of pointers runs under it.
    Verilator,
}

/// [`run`] in directory `dir`, with an error that names the step and the directory.
pub fn run_in(dir: &Path, tb: &str, design: &str, vectors: &str) -> Result<Vec<String>, String> {
    run_with(Sim::Icarus, dir, tb, design, vectors)
}

/// [`run_in`] under simulator `sim`.
pub fn run_with(
    sim: Sim,
    dir: &Path,
    tb: &str,
    design: &str,
    vectors: &str,
) -> Result<Vec<String>, String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(dir.join("vectors.hex"), vectors).map_err(io)?;
    std::fs::write(dir.join("tb.v"), format!("{tb}\n{design}")).map_err(io)?;
    let _ = std::fs::remove_file(dir.join("out.txt"));
    let step = |prog: &str, args: &[&str]| -> Result<(), String> {
        let out = Command::new(prog)
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("running {prog} (scripts/install-deps.sh installs it): {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{prog} failed in {}: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    match sim {
        Sim::Icarus => {
            step("iverilog", &["-g2012", "-o", "sim.vvp", "tb.v"])?;
            step("vvp", &["-n", "sim.vvp"])?;
        }
        Sim::Verilator => {
            // Yosys's netlists and the templates leave widths and unused bits that Verilator
            // warns about; the bench's verdict is its output, not the lint.
            step(
                "verilator",
                &[
                    "--binary",
                    "--timing",
                    "-Wno-fatal",
                    "-Wno-lint",
                    "-Wno-style",
                    "--top-module",
                    "tb",
                    "-O2",
                    "-o",
                    "sim",
                    "tb.v",
                ],
            )?;
            step("./obj_dir/sim", &[])?;
        }
    }
    Ok(std::fs::read_to_string(dir.join("out.txt"))
        .map_err(io)?
        .lines()
        .map(str::to_string)
        .collect())
}
