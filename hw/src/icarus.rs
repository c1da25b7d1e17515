//! Test support: runs a block's emitted Verilog under Icarus Verilog with a testbench and returns
//! what the testbench printed, one line per vector. Only the tests use it.

use std::path::PathBuf;

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
/// returns the lines it wrote to `out.txt`.
pub fn run(name: &str, tb: &str, design: &str, vectors: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../build/test")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vectors.hex"), vectors).unwrap();
    std::fs::write(dir.join("tb.v"), format!("{tb}\n{design}")).unwrap();
    let st = std::process::Command::new("iverilog")
        .args(["-g2012", "-o", "sim.vvp", "tb.v"])
        .current_dir(&dir)
        .status()
        .expect("running iverilog (scripts/install-deps.sh installs it)");
    assert!(st.success(), "iverilog failed in {}", dir.display());
    let st = std::process::Command::new("vvp")
        .args(["-n", "sim.vvp"])
        .current_dir(&dir)
        .status()
        .expect("running vvp");
    assert!(st.success(), "vvp failed in {}", dir.display());
    std::fs::read_to_string(dir.join("out.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}
