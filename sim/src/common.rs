//! What `build.rs` (the models linked at build time) and the crate (models built at run time)
//! share: the Verilator flags every model is built with, and the cache keys.

/// Verilator flags of every model (tracing, coverage and mutant builds add theirs).
pub const VERILATOR_FLAGS: &[&str] = &[
    "--cc",
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "fast",
    "--noassert",
    "-Wno-fatal",
    "-Wno-WIDTH",
];

/// Verilator flags of a model that writes waveforms.
pub const TRACE_FLAGS: &[&str] = &["--trace-fst", "--trace-structs"];

/// SHA-256 of length-prefixed parts, in hex: the key of a cached build.
pub fn hash_hex(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
