//! `memento capture`: runs a program with the allocation interposer (src/interpose.c) preloaded,
//! then turns each process's log into a malloc-lab trace (`traces/FORMAT.md`) with a JSON of what
//! the run cost beside it ([`Summary`]).

pub mod raw;
pub mod run;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The interposer, built by build.rs.
pub const LIB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libmemento_capture.so"));

/// Objects of at most this many bytes are the hardware's (larger ones fall back to software).
pub const MAX_OBJECT: u64 = 512;

/// Writes the interposer into `dir` (once per build of it: the name carries its hash) and returns
/// its path.
pub fn install(dir: &Path) -> Result<PathBuf> {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(LIB);
    let hex: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("libmemento_capture-{hex}.so"));
    if !path.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = dir.join(format!(".libmemento_capture-{hex}.{}", std::process::id()));
        std::fs::write(&tmp, LIB).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path.canonicalize()?)
}

/// A trace's name without `.gz` and `.rep`.
pub fn stem(trace: &Path) -> String {
    trace
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
        .trim_end_matches(".gz")
        .trim_end_matches(".rep")
        .to_string()
}

/// The capture JSON that goes with a trace: `x.rep.gz` and `x.rep` both have `x.json`.
pub fn json_path_for(trace: &Path) -> PathBuf {
    trace.with_file_name(format!("{}.json", stem(trace)))
}

/// Calls, cycles inside the real call and minor faults inside it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Calls {
    pub calls: u64,
    pub cycles: u64,
    pub faults: u64,
}

/// Minor page faults of the process.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Faults {
    /// All of the process's, from `getrusage` (none when it could not be read at the end).
    pub total: Option<u64>,
    /// Inside the recorded allocator calls.
    pub in_calls: u64,
    /// Inside the calls the hardware would answer (a part of `in_calls`).
    pub in_served_calls: u64,
    /// The capture's own (its log and table mappings), left out of everything else.
    pub capture: u64,
    /// The machine's cost of one first-touch fault of a 4 KiB anonymous page, in TSC cycles.
    pub cycles_each: f64,
}

/// Plain runs of the command with no interposer, timed start to exit (output discarded).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Baseline {
    pub seconds: Vec<f64>,
    pub median: f64,
}

/// What one process of a captured run did and cost (the JSON beside its trace).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub format: String,
    pub command: Vec<String>,
    /// Environment variables set for the captured run only (`--env`).
    pub env: Vec<String>,
    pub pid: u32,
    pub ppid: u32,
    /// The process name (`comm`).
    pub process: String,
    /// The process `memento capture` started (the others are its forks).
    pub main: bool,
    /// How the process ended: `exit N`, `signal N (NAME)`, or that its exit handlers never ran.
    pub ended: String,
    pub trace: String,
    pub operations: u64,
    pub ids: u64,
    pub allocs: u64,
    pub frees: u64,
    pub reallocs: u64,
    /// Objects live at the end (freed by the exit).
    pub live_at_end: u64,
    /// The TSC's rate over the run, Hz.
    pub tsc_hz: f64,
    /// TSC cycles from the interposer's start to the process's exit (or its last call).
    pub tsc_cycles: u64,
    pub wall_seconds: f64,
    /// The process's wall time as `memento capture` measured it, start to exit (main process).
    pub process_wall_seconds: Option<f64>,
    /// The capture's own cycles around the recorded calls, summed over the threads.
    pub overhead_cycles: u64,
    /// The program's own time: the run's wall time less the capture's overhead (at least 0; with
    /// several threads the overhead overlaps, and this is only a lower bound).
    pub program_seconds: f64,
    /// Threads that made a recorded call.
    pub threads: u64,
    /// Every recorded call, by kind.
    pub calls: BTreeMap<String, Calls>,
    /// Cycles inside every recorded allocator call.
    pub allocator_cycles: u64,
    /// The calls the hardware would answer: allocations of at most 512 B, frees of such objects
    /// and reallocs with both sizes at most 512 B.
    pub served: Calls,
    pub faults: Faults,
    pub untracked_frees: u64,
    pub untracked_reallocs: u64,
    pub failed_calls: u64,
    /// posix_memalign, aligned_alloc, memalign, valloc and pvalloc calls (recorded by size).
    pub aligned_calls: u64,
    /// The log ran out of room and recording stopped early.
    pub truncated: bool,
    /// An empty timed window's TSC cycles, taken off every call's cycles.
    pub window_cycles: u64,
    /// Plain runs of the program as it is (no interposer, no `env`).
    pub baseline: Option<Baseline>,
    /// Plain runs with `env` set (no interposer): the program as it was captured.
    pub baseline_with_env: Option<Baseline>,
}

impl Summary {
    pub const FORMAT: &'static str = "memento-capture/1";

    /// The share of the recorded calls the hardware would answer.
    pub fn served_share(&self) -> f64 {
        self.served.calls as f64 / self.calls.values().map(|k| k.calls).sum::<u64>().max(1) as f64
    }

    pub fn read(path: &Path) -> Result<Summary> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let s: Summary = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a capture summary", path.display()))?;
        if s.format != Self::FORMAT {
            anyhow::bail!(
                "{}: format {:?}, expected {:?}",
                path.display(),
                s.format,
                Self::FORMAT
            );
        }
        Ok(s)
    }
}

/// The cost of a first-touch minor fault on this machine, in TSC cycles: touches fresh 4 KiB
/// anonymous pages (huge pages off) and divides the cycles by the faults `getrusage` counted.
pub fn fault_cycles() -> f64 {
    const PAGES: usize = 8192;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        // SAFETY: a private anonymous mapping of our own, unmapped before returning.
        unsafe {
            let len = PAGES * 4096;
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                continue;
            }
            libc::madvise(p, len, libc::MADV_NOHUGEPAGE);
            let f0 = run::thread_minflt();
            let t0 = run::fenced_tsc();
            for k in 0..PAGES {
                std::ptr::write_volatile((p as *mut u8).add(k * 4096), 1);
            }
            let t1 = run::fenced_tsc();
            let faults = run::thread_minflt() - f0;
            libc::munmap(p, len);
            if faults > 0 {
                best = best.min((t1 - t0) as f64 / faults as f64);
            }
        }
    }
    if best.is_finite() {
        best
    } else {
        0.0
    }
}
