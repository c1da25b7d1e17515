//! `memento mutate`: how many wrong designs the regression lets through.
//!
//! Mutants are made the way YosysHQ's `mcy` makes them. Each design of the `mutate` list
//! (`tb/regressions.toml`) is read by Yosys, flattened, and `mutate -list N -seed S` picks `N`
//! mutations over the cells of each block (a block is a module of the design and its registers;
//! a block the list's smaller design already has is mutated there only). All of a design's
//! mutants go into one netlist, mutant `k` active when the input `mutsel` is `k` (`mutate -ctrl`),
//! which is verilated once into a shared library ([`memento_sim::dynamic`]). Each mutant then runs
//! the design's tests of the list, with the seeds fixed by the campaign's seed, against the golden
//! models; it is killed by the first seed that fails (a mismatch, a watchdog, or a panic of the
//! harness). Mutant 0, no mutation, must pass them all first.
//!
//! Results are kept in `build/mutate/` by the hash of the mutant netlist and of the tests, so a
//! rerun (or a run after an interruption) only runs what is not known yet.

use crate::flows::regress::{esc, run_seed};
use anyhow::{bail, Context, Result};
use memento_hw::emit::{variant_verilog, Design, Variant};
use memento_runs::regression_list::TestSpec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What to run.
pub struct MutatePlan {
    /// The tests of the `mutate` list, in list order (smaller designs first).
    pub tests: Vec<TestSpec>,
    /// Only the blocks of this name.
    pub only: Option<String>,
    /// Mutants per block.
    pub count: usize,
    /// Cycles of the bounded equivalence check of survivors (0: none).
    pub equiv_depth: u32,
    /// The proofs' soundness check: the block proofs run on up to this many killed mutants of
    /// each block, and proving any of them is an error (0: none).
    pub check_proofs: usize,
    pub seed: u64,
    pub jobs: usize,
    pub root: PathBuf,
    pub progress: bool,
}

/// The fate of one mutant.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A seed failed: which test and seed, and what differed.
    Killed {
        test: String,
        seed: u64,
        what: String,
    },
    /// Every seed of every test passed. `cex`: the miter's counterexample (a VCD of inputs that
    /// make an output differ), once the equivalence check has run.
    Survived {
        cex: Option<PathBuf>,
        /// The version of the block-level proof that was tried and did not succeed (0: none
        /// yet; [`BLOCK_PROOF_VERSION`]). A survivor tried with an older one is tried again.
        #[serde(default)]
        block_version: u32,
        /// The key of the block bench ([`bench_key`]) it was run through, every answer passing,
        /// or that refused it (a cut whose ports the wrapper does not connect; the run says
        /// so). `None`: not benched (a block without a bench: never). A survivor benched with
        /// another version of the bench is benched again; the list's verdicts do not depend on
        /// the bench, so a change to it reruns no test.
        #[serde(default)]
        bench: Option<String>,
    },
    /// Survived, and a miter of the design and the mutant showed no difference at any output
    /// for `depth` cycles from an all-zero state under any inputs (`yosys-smtbmc -s z3`).
    Equivalent { depth: u32 },
    /// Survived, and the mutated block, cut out of the design with every signal that crosses its
    /// boundary as a port, was proven to answer exactly as the original for every input and, for
    /// a block with state, every reachable state (registers paired with their twins, or a miter
    /// of the two blocks' outputs: [`block_equivalent`]). Equivalent in every design that holds
    /// the block.
    BlockEquivalent,
    /// Survived, and its block's bench, sweeping every input the design can give the block,
    /// found every one of `cases` answers right, with the mutation on a cell of the block's
    /// datapath (an operator, not a register, a memory or a multiplexer, which may sequence the
    /// registers): a proof by exhaustion that the mutant answers as the design does.
    BenchEquivalent { bench: String, cases: u64 },
}

/// One mutant: its block, the Yosys mutation and where it is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mutant {
    pub index: u32,
    pub block: String,
    pub design: String,
    /// The `mutate -mode ...` command (without `-ctrl`).
    pub mutation: String,
    pub mode: String,
    pub wire: String,
    /// Source locations from Yosys `src` attributes (emitted Verilog, file:line.col-line.col).
    pub src: Vec<String>,
    pub outcome: Option<Outcome>,
}

/// Per block: what happened to its mutants.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BlockRow {
    pub block: String,
    pub design: String,
    pub made: usize,
    pub killed: usize,
    pub survived: usize,
    /// Survivors proven equivalent (bounded): left out of the kill rate.
    pub equivalent: usize,
    pub not_built: usize,
    /// Killed over made (equivalent ones left out once proven).
    pub kill_rate: f64,
}

#[derive(Debug, Serialize)]
pub struct MutateReport {
    pub seed: u64,
    pub count_per_block: usize,
    pub tests: Vec<String>,
    pub blocks: Vec<BlockRow>,
    pub mutants: Vec<Mutant>,
    pub seconds: f64,
}

/// Canonical block names: the last instance name of a path, as the report calls it.
fn canonical(design: Design, path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or("");
    let name = match last {
        "" => design.name(),
        "hoa" | "stride_rom" | "room_rom" => "object_alloc",
        "hdc" => "header_cache",
        "hpa" => "page_alloc",
        "mapper" => "page_mapper",
        "pool" => "page_pool",
        "stack" => "frame_stack",
        "byp" => "bypass",
        "entries" => "bypass_table",
        "cursor" => "reclaim_cursor",
        "reclaim" => "reclaim_step",
        "core" => "memento_core",
        other => other,
    };
    name.to_string()
}

/// Instance paths of the registers of an emitted design: the rust-hdl flops, modules whose
/// ports are `(d,q,clock)`, named `top$a$b` for path `a.b`.
fn register_paths(verilog: &str, top: &str) -> BTreeSet<String> {
    verilog
        .lines()
        .filter_map(|l| l.strip_prefix("module "))
        .filter(|l| l.ends_with("(d,q,clock);"))
        .filter_map(|l| l.split('(').next())
        .filter_map(|m| m.strip_prefix(top))
        .map(|m| m.trim_start_matches('$').replace('$', "."))
        .collect()
}

/// The instance path of a flattened cell name (`$flatten\hoa.\hdc.$and$...` is `hoa.hdc`).
fn cell_path(cell: &str) -> String {
    if !cell.starts_with('$') {
        // A cell named after the wire it drives (`hpa.pool.low.q[7:0]$dff`): the wire's path.
        let wire = cell.split(['[', '$']).next().unwrap_or("");
        return wire.rsplit_once('.').map_or("", |(p, _)| p).to_string();
    }
    let rest = cell.strip_prefix("$flatten").unwrap_or(cell);
    let mut parts = vec![];
    let mut s = rest;
    while let Some(r) = s.strip_prefix('\\') {
        match r.find('.') {
            Some(dot) => {
                parts.push(&r[..dot]);
                s = &r[dot + 1..];
            }
            None => break,
        }
    }
    parts.join(".")
}

/// The block path a cell belongs to: its path without trailing register instances.
fn block_path(path: &str, registers: &BTreeSet<String>) -> String {
    let mut p = path.to_string();
    while !p.is_empty() && registers.contains(&p) {
        p = match p.rfind('.') {
            Some(i) => p[..i].to_string(),
            None => String::new(),
        };
    }
    p
}

/// A Yosys selection pattern of every cell under instance path `path`: the cells `flatten`
/// named `$flatten\a.\b.$...`, and the memories `memory_collect` makes of their ports, named
/// for the memory (`\a.b.mem`; without them a block's memory fell outside its cut).
fn path_pattern(path: &str) -> String {
    if path.is_empty() {
        "c:*".into()
    } else {
        let inner: Vec<String> = path.split('.').map(|p| format!("?{p}.")).collect();
        format!("c:$flatten{}* c:{path}.* %u", inner.join(""))
    }
}

/// The selection of the cells of one canonical block: its paths, less every path under them
/// that belongs to another block.
fn block_selection(paths: &[String], others: &[String]) -> String {
    // Yosys selections are a stack: `a b %u` is the union, `a b %d` the difference.
    let mut out = path_pattern(&paths[0]);
    for p in &paths[1..] {
        out = format!("{out} {} %u", path_pattern(p));
    }
    for o in others {
        if paths
            .iter()
            .any(|p| p.is_empty() || o.starts_with(&format!("{p}.")))
        {
            out = format!("{out} {} %d", path_pattern(o));
        }
    }
    out
}

/// The blocks written as whole-vector operations for the simulator's sake (docs/timing.md): the
/// lowest-free tree keeps node `n` of level `l` at bit `n << l` of a 256-bit vector and computes
/// every lane, and the carry-save trees add whole rows; the lanes between are read by nothing.
/// Mutating such a lane is an equivalent mutant by construction, and they were most of these
/// blocks' lists. So in these modules (before flattening, so that the gates keep their module's
/// name) bitwise logic, muxes and reductions are mapped to one-bit gates, and `opt_clean` then
/// removes the gates nothing reads, as synthesis does.
const VECTOR_BLOCKS: [&str; 1] = ["lowest_free"];

fn simple_gates() -> String {
    let types = "t:$and t:$or t:$xor t:$xnor t:$not t:$mux t:$reduce_and t:$reduce_or t:$reduce_xor t:$reduce_xnor t:$reduce_bool t:$logic_not t:$logic_and t:$logic_or";
    VECTOR_BLOCKS
        .iter()
        .map(|b| {
            let sel: Vec<String> = types.split(' ').map(|t| format!("*${b}/{t}")).collect();
            format!("simplemap {}\n", sel.join(" "))
        })
        .chain(NARROWED_BLOCKS.iter().map(|b| format!("wreduce *${b}\n")))
        .collect()
}

/// Blocks whose word-level cells compute more bits than anything reads (`size_class` computes a
/// 64-bit granule count and uses six bits of it): `wreduce` narrows those cells to the bits read,
/// as synthesis does, so that mutations of the unread bits are not offered.
const NARROWED_BLOCKS: [&str; 1] = ["size_class"];

/// Whether a listed mutation makes a circuit Yosys can write: not a memory port's clock (a
/// write port on another clock than its memory's other ports, which Yosys 0.23 asserts against),
/// not an asynchronous read port's enable (which must be 1).
fn is_circuit(mutation: &str) -> bool {
    let read = mutation.contains("$memrd");
    let memory = read || mutation.contains("memwr");
    let clock = mutation.contains(" -port CLK ");
    let enable = mutation.contains(" -port EN ");
    !(memory && clock || read && enable)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn yosys(script: &Path, log: &Path) -> Result<()> {
    let out = Command::new("yosys")
        .arg("-q")
        .arg("-l")
        .arg(log)
        .arg(script)
        .output()
        .context("running yosys (run `make deps`)")?;
    if !out.status.success() {
        bail!(
            "yosys {} failed (log {}): {}",
            script.display(),
            log.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// One design of the list with its tests.
struct Group<'a> {
    design: Design,
    params_name: String,
    params: memento_hw::Params,
    tests: Vec<&'a TestSpec>,
}

fn groups(tests: &[TestSpec]) -> Vec<Group<'_>> {
    let mut out: Vec<Group> = vec![];
    for t in tests {
        match out
            .iter_mut()
            .find(|g| g.design == t.design && g.params == t.params)
        {
            Some(g) => g.tests.push(t),
            None => out.push(Group {
                design: t.design,
                params_name: t.params_name.clone(),
                params: t.params.clone(),
                tests: vec![t],
            }),
        }
    }
    out
}

/// Parses one line of `mutate -list` output.
fn parse_mutation(line: &str) -> (String, String, Vec<String>) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let arg = |k: &str| {
        words
            .iter()
            .position(|w| *w == k)
            .and_then(|i| words.get(i + 1))
            .map(|s| s.to_string())
    };
    let mode = arg("-mode").unwrap_or_default();
    let wire = match (arg("-wire"), arg("-wirebit")) {
        (Some(w), Some(b)) => format!("{w}[{b}]"),
        (Some(w), None) => w,
        _ => format!(
            "{} port {}[{}]",
            arg("-cell").unwrap_or_default(),
            arg("-port").unwrap_or_default(),
            arg("-portbit").unwrap_or_default()
        ),
    };
    let src = words
        .iter()
        .enumerate()
        .filter(|(_, w)| **w == "-src")
        .filter_map(|(i, _)| words.get(i + 1))
        .filter(|s| !s.ends_with(":0.0-0.0"))
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
        .collect();
    (mode, wire, src)
}

/// A design's mutants: lists made per block, then every mutant built into one netlist.
struct Built {
    mutants: Vec<Mutant>,
    /// The flattened design before mutation.
    il: PathBuf,
    netlist: PathBuf,
    top: String,
    key: String,
    /// Each block's cells, as a Yosys selection in the flattened design.
    selections: BTreeMap<String, String>,
}

/// What synthesis does to the flattened design before any gate is made, and mcy's `prep` in
/// part: flop bits that every reachable state holds at one value become that constant
/// (`opt_dff -sat`, the flop types left alone), and cells lose the upper bits that are constant
/// zero or read by nothing (`wreduce`). Without it the mutants of a block were in good part bits
/// no input can move: a 13-bit watermark register that keeps 7 bits, a 32-bit `count + 1` of a
/// 7-bit count, MRS's bits under the region's alignment. A flop of which only some bits are
/// kept is a new cell, `$auto$ff.cc...`; it is named after the register it keeps bits of
/// (`rename -wire`: `hpa.pool.low.q[7:0]$dff`), so that it stays in its block.
const CONSTANT_BITS: &str = "opt_expr -mux_undef\nopt_dff -sat -nodffe -nosdff\nwreduce\nopt_clean\nrename -wire c:$auto$ff.cc*\n";

/// Flattens the design into `il` (RTLIL) and groups its cells' instance paths by block.
fn flatten(
    design: Design,
    top: &str,
    vfile: &Path,
    registers: &BTreeSet<String>,
    dir: &Path,
    il: &Path,
) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let cells_file = dir.join("cells.txt");
    let script = dir.join("flatten.ys");
    std::fs::write(
        &script,
        format!(
            "read_verilog {}\nhierarchy -top {top}\nproc\n{}opt_clean\nflatten\n{}wreduce t:$mem*\nopt_clean\nwrite_rtlil {}\ntee -q -o {} select -list c:*\n",
            vfile.display(),
            simple_gates(),
            CONSTANT_BITS,
            il.display(),
            cells_file.display()
        ),
    )?;
    yosys(&script, &dir.join("flatten.log"))?;
    let cells = std::fs::read_to_string(&cells_file)?;
    let mut paths: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in cells.lines() {
        let name = c.split_once('/').map_or(c, |(_, n)| n);
        let bp = block_path(&cell_path(name), registers);
        paths.entry(canonical(design, &bp)).or_default().insert(bp);
    }
    Ok(paths)
}

fn make_mutants(
    plan: &MutatePlan,
    g: &Group,
    claimed: &mut BTreeSet<String>,
    dir: &Path,
) -> Result<Built> {
    let top = format!("{}_{}", g.design.name(), g.params_name);
    let v = Variant {
        name: top.clone(),
        design: g.design,
        params: g.params.clone(),
    };
    let text = variant_verilog(&v).map_err(|e| anyhow::anyhow!("{top}: {e}"))?;
    std::fs::create_dir_all(dir)?;
    let vfile = dir.join(format!("{top}.v"));
    std::fs::write(&vfile, &text)?;
    let registers = register_paths(&text, &top);

    let il = dir.join("design.il");
    let paths = flatten(g.design, &top, &vfile, &registers, dir, &il)?;
    let all_paths: Vec<String> = paths.values().flatten().cloned().collect();

    // One list per block this design owns.
    let mut script = format!("read_rtlil {}\n", il.display());
    let mut owned = vec![];
    let mut selections = BTreeMap::new();
    for (block, ps) in &paths {
        if claimed.contains(block) || plan.only.as_ref().is_some_and(|o| o != block) {
            continue;
        }
        let ps: Vec<String> = ps.iter().cloned().collect();
        let others: Vec<String> = all_paths
            .iter()
            .filter(|p| !ps.contains(p))
            .cloned()
            .collect();
        let list = dir.join(format!("list_{block}.txt"));
        // A memory's initial contents are not logic: a mutant there is not hardware.
        script.push_str(&format!(
            "mutate -list {} -seed {} -o {} {} t:$meminit* %d\n",
            plan.count,
            plan.seed % (1 << 31),
            list.display(),
            block_selection(&ps, &others)
        ));
        selections.insert(block.clone(), block_selection(&ps, &others));
        owned.push((block.clone(), list));
    }
    for (b, _) in &owned {
        claimed.insert(b.clone());
    }
    let list_script = dir.join("lists.ys");
    std::fs::write(&list_script, &script)?;
    yosys(&list_script, &dir.join("lists.log"))?;

    let mut mutants = vec![];
    let mut apply = format!("read_rtlil {}\n", il.display());
    for (block, list) in &owned {
        for line in std::fs::read_to_string(list)?.lines() {
            let line = line.trim();
            if !line.starts_with("mutate ") || !is_circuit(line) {
                continue;
            }
            let index = mutants.len() as u32 + 1;
            let (mode, wire, src) = parse_mutation(line);
            apply.push_str(&format!("{line} -ctrl mutsel 16 {index}\n"));
            mutants.push(Mutant {
                index,
                block: block.clone(),
                design: top.clone(),
                mutation: line.to_string(),
                mode,
                wire,
                src,
                outcome: None,
            });
        }
    }
    let netlist = dir.join(format!("{top}_mutants.v"));
    apply.push_str(&format!("write_verilog -noattr {}\n", netlist.display()));
    let apply_script = dir.join("apply.ys");
    std::fs::write(&apply_script, &apply)?;
    yosys(&apply_script, &dir.join("apply.log"))?;
    let net_text = std::fs::read(&netlist)?;
    let key = hex(&Sha256::digest(&net_text))[..16].to_string();
    Ok(Built {
        mutants,
        il,
        netlist,
        top,
        key,
        selections,
    })
}

/// The testbench code a design's verdicts depend on (its harness, environment and golden models,
/// the stimulus and the runner, and the bench of a block it holds): part of the results' key, so
/// that a verdict reached with an older testbench is not reused, while a change to another
/// design's harness leaves it alone.
fn testbench(design: Design) -> Vec<&'static str> {
    let mut files = vec![
        include_str!("regress.rs"),
        include_str!("../stimulus/mod.rs"),
        include_str!("../envs/mod.rs"),
        include_str!("../scoreboard.rs"),
        include_str!("../agents/mod.rs"),
        include_str!("../env/mod.rs"),
    ];
    files.extend(match design {
        Design::ObjectAlloc => vec![
            include_str!("../envs/object_alloc/mod.rs"),
            include_str!("../envs/object_alloc/env.rs"),
            include_str!("../envs/object_alloc/scoreboard.rs"),
            include_str!("../agents/arena.rs"),
            include_str!("../agents/command.rs"),
            include_str!("../agents/header.rs"),
            include_str!("../env/header_mem.rs"),
            include_str!("../env/arena.rs"),
            include_str!("../env/timing.rs"),
            include_str!("../model/object_alloc.rs"),
        ],
        Design::Bypass => vec![
            include_str!("../envs/bypass/mod.rs"),
            include_str!("../envs/bypass/env.rs"),
            include_str!("../envs/bypass/plan.rs"),
            include_str!("../agents/bypass.rs"),
            include_str!("../env/dram.rs"),
            include_str!("../model/bypass.rs"),
        ],
        Design::PageAlloc => vec![
            include_str!("../envs/page_alloc/mod.rs"),
            include_str!("../envs/page_alloc/env.rs"),
            include_str!("../envs/page_alloc/os_side.rs"),
            include_str!("../envs/page_alloc/scoreboard.rs"),
            include_str!("../envs/page_alloc/stream.rs"),
            include_str!("../agents/arena.rs"),
            include_str!("../agents/table.rs"),
            include_str!("../agents/events.rs"),
            include_str!("../agents/pool.rs"),
            include_str!("../agents/walker.rs"),
            include_str!("../env/os.rs"),
            include_str!("../env/table_mem.rs"),
            include_str!("../model/page_alloc.rs"),
        ],
        Design::MementoCore | Design::MementoTop => vec![
            include_str!("../envs/core/mod.rs"),
            include_str!("../envs/core/env.rs"),
            include_str!("../envs/core/program.rs"),
            include_str!("../envs/core/scoreboard.rs"),
            include_str!("../envs/page_alloc/os_side.rs"),
            include_str!("../envs/page_alloc/scoreboard.rs"),
            include_str!("../agents/command.rs"),
            include_str!("../agents/header.rs"),
            include_str!("../agents/table.rs"),
            include_str!("../agents/events.rs"),
            include_str!("../agents/pool.rs"),
            include_str!("../agents/walker.rs"),
            include_str!("../agents/bypass.rs"),
            include_str!("../env/header_mem.rs"),
            include_str!("../env/os.rs"),
            include_str!("../env/table_mem.rs"),
            include_str!("../env/mmu.rs"),
            include_str!("../env/mem_path.rs"),
            include_str!("../env/llc.rs"),
            include_str!("../env/dram.rs"),
            include_str!("../env/timing.rs"),
            include_str!("../model/object_alloc.rs"),
            include_str!("../model/page_alloc.rs"),
            include_str!("../model/bypass.rs"),
        ],
    });
    files
}

/// The results known for a netlist and test set, kept in `build/mutate/results-<key>.json`.
fn results_path(root: &Path, built: &Built, tests: &[&TestSpec], seed: u64) -> PathBuf {
    let design = tests
        .first()
        .map(|t| t.design)
        .unwrap_or(Design::MementoTop);
    let bench = hex(&Sha256::digest(testbench(design).concat().as_bytes()));
    let spec = format!("{tests:?} seed {seed} testbench {bench}");
    let tkey = hex(&Sha256::digest(spec.as_bytes()))[..16].to_string();
    root.join(format!(
        "build/mutate/results-{}-{}-{tkey}.json",
        built.top, built.key
    ))
}

fn load_results(path: &Path) -> BTreeMap<u32, Outcome> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Runs mutant `k` (0: none) through every seed of `tests`; the first failure kills it.
fn run_mutant(g: &Group, loaded: memento_sim::dynamic::Loaded, k: u32, seed: u64) -> Outcome {
    let _sub = memento_sim::dynamic::Substitute::new(g.design, &g.params, loaded, k);
    for t in &g.tests {
        for i in 0..t.seeds {
            let s = seed.wrapping_add(i);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_seed(t, s, None)));
            let what = match r {
                Ok(Ok(_)) => continue,
                Ok(Err(m)) => format!("{}: expected {}, got {}", m.what, m.expected, m.got),
                Err(p) => format!(
                    "harness panic: {}",
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                ),
            };
            return Outcome::Killed {
                test: t.name.clone(),
                seed: s,
                what,
            };
        }
    }
    Outcome::Survived {
        cex: None,
        block_version: 0,
        bench: None,
    }
}

/// Whether a surviving mutant is equivalent to the design for `depth` cycles: a miter of the two
/// (`miter -equiv`), memories as flops, every flop starting at zero, checked by `yosys-smtbmc`
/// with z3. Returns `Ok(true)` when no output differs, `Ok(false)` with a counterexample VCD.
fn equivalent(dir: &Path, il: &Path, top: &str, m: &Mutant, depth: u32) -> Result<bool> {
    std::fs::create_dir_all(dir)?;
    let mutation = m
        .mutation
        .replace(&format!("-module {top} "), "-module gate ");
    let smt2 = dir.join(format!("miter_{}.smt2", m.index));
    let script = dir.join(format!("miter_{}.ys", m.index));
    std::fs::write(
        &script,
        format!(
            "read_rtlil {}\ncopy {top} gate\nrename {top} gold\n{mutation}\n\
             miter -equiv -flatten -make_assert -ignore_gold_x gold gate miter\n\
             hierarchy -top miter\nmemory_map\nopt_clean\nsetundef -zero -init\n\
             setundef -zero -undriven\nwrite_smt2 -wires {}\n",
            il.display(),
            smt2.display()
        ),
    )?;
    yosys(&script, &dir.join(format!("miter_{}.log", m.index)))?;
    let vcd = dir.join(format!("cex_{}.vcd", m.index));
    let out = Command::new("yosys-smtbmc")
        .args(["-s", "z3", "-t", &depth.to_string(), "--dump-vcd"])
        .arg(&vcd)
        .arg(&smt2)
        .output()
        .context("running yosys-smtbmc (run `make deps`)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Status: PASSED") {
        Ok(true)
    } else if text.contains("Status: FAILED") {
        Ok(false)
    } else {
        bail!(
            "yosys-smtbmc on {} gave no status: {}",
            smt2.display(),
            text.lines().last().unwrap_or("")
        )
    }
}

/// Steps of the block-level induction before giving up (a block that does not close within them
/// stays a survivor).
const BLOCK_INDUCTION_STEPS: u32 = 8;

/// Seconds the whole proof of one mutant may take, and one SAT instance of it (the HOT and the
/// class table, their memories as flops, make large ones); past it the mutant stays a survivor.
const BLOCK_PROOF_SECONDS: u32 = 20;

/// The version of the block-level proof: 1 was the miter alone, 2 adds the state-matching
/// induction first, 3 the everted registers' combinational check before both, 4 the cut's ports
/// only the bits the design reads (`splitnets`) and memories mapped before the block is copied
/// (their flops paired by name), 5 the rest of the design constant-folded before the cut, the
/// cut reduced to its ports' cone of influence one bit at a time, and memory ports' mutations
/// applied to the collected memory (before, they named a cell that was gone, and were refused).
/// 6 the mutant's own cone first (the cell and what it drives up to the next registers), and the
/// rest of the design deleted once the block is cut out (every pass had also run over it), 7 a
/// block's collected memories inside its cut (they had been outside every block's but the top's).
const BLOCK_PROOF_VERSION: u32 = 7;

/// Cycles of the state-matching proof's base case and induction.
const MATCHED_SEQ: u32 = 2;

/// Seconds the state-matching proof of one mutant may take.
const MATCHED_PROOF_SECONDS: u32 = 60;

/// The script lines that cut mutant `m`'s block out of the design twice, `gold_blk` and a
/// mutated `gate_blk` (the block is cut out once and copied, so that both sides have the same
/// ports whatever the mutation disconnects), with the memories mapped to flops; its ports are the
/// bits of the boundary's wires that the rest of the design reads. Unless the
/// mutation is on a memory's own cell, the memories are mapped before the copy, so that their
/// flops have the same names on both sides and the proofs can pair them (mapped after it, each
/// side's flops got names of their own, and every mutant of a block with a memory was refused).
fn cut_block(built: &Built, m: &Mutant, sel: &str) -> Vec<String> {
    let top = &built.top;
    // A memory port's mutation names a cell `memory_collect` merges into the memory's.
    let collected = collected_mutation(&built.il, &m.mutation).unwrap_or(None);
    let mutation = collected
        .as_deref()
        .unwrap_or(&m.mutation)
        .replace(&format!("-module {top} "), "-module gate_blk ");
    let on_memory = on_memory(built, m);
    let mut lines = vec![
        format!("read_rtlil {}", built.il.display()),
        "memory_collect".into(),
        format!("cd {top}"),
        // One wire a bit, and the bits nothing reads dropped: the cut's ports are then the bits
        // the rest of the design reads, not every bit of a wire of which it reads some (a
        // difference in a bit no one reads is no difference in the design).
        "splitnets".into(),
        // The rest of the design folded bit by bit: a bit it masks with a constant, or never
        // uses, is not a port of the cut (the block's own cells, which the mutation names, are
        // left as they are).
        format!("opt_expr -fine {sel} %n"),
        format!("wreduce {sel} %n"),
        format!("opt_expr -fine {sel} %n"),
        "opt_clean".into(),
        format!("submod -name gold_blk {sel}"),
        "cd ..".into(),
        // The rest of the design is not compared: every pass below works on the two cuts only.
        format!("delete {top}"),
    ];
    if !on_memory {
        lines.extend(["memory_map".into(), "opt_clean".into()]);
    }
    lines.extend(["copy gold_blk gate_blk".into(), mutation]);
    if on_memory {
        lines.extend(["memory_map".into(), "opt_clean".into()]);
    }
    // Registers and gates one bit each, then everything that reaches no port dropped: the cone
    // of influence of the ports (a register bit that only feeds itself, a padding bit of a RAM
    // entry, goes; on both sides, by the same rule).
    lines.extend([
        format!("simplemap {BIT_CELLS}"),
        // Constants folded gate by gate first, so that a bit ANDed with a constant zero (a
        // RAM's unkept bit) reaches nothing.
        "opt_expr -fine".into(),
        "opt_clean".into(),
    ]);
    lines
}

/// The cells `simplemap` splits into one cell a bit before a proof's cone-of-influence cut
/// (arithmetic and comparisons stay whole).
const BIT_CELLS: &str =
    "t:$*dff* t:$mux t:$and t:$or t:$not t:$xor t:$xnor t:$reduce_and t:$reduce_or t:$logic_not";

/// What a block proof came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proof {
    Proven,
    /// It ran to its end and did not prove equivalence (a counterexample, or a step that does
    /// not close).
    NotProven,
    /// Cut off at its time limit.
    TimedOut,
}

/// Runs a block-proof script under coreutils' `timeout` (an induction over a block with wide
/// state runs one SAT instance a step): proven when Yosys succeeded and its log holds `needle`.
fn run_proof(script: &Path, log: &Path, seconds: u32, needle: &str) -> Result<Proof> {
    let out = Command::new("timeout")
        .arg(seconds.to_string())
        .arg("yosys")
        .arg("-q")
        .arg("-l")
        .arg(log)
        .arg(script)
        .output()
        .context("running yosys under timeout (run `make deps`)")?;
    let text = std::fs::read_to_string(log).unwrap_or_default();
    Ok(if out.status.success() && text.contains(needle) {
        Proof::Proven
    } else if out.status.code() == Some(124) {
        Proof::TimedOut
    } else {
        Proof::NotProven
    })
}

/// Whether mutant `m` is equivalent at its block's boundary: first in its own cone
/// ([`cone_equivalent`]), then over the whole block. Three proofs, each only when the
/// one before fails or runs out of time: [`everted_equivalent`] (registers paired and cut open, one
/// combinational check, seconds), [`matched_equivalent`] (registers paired, with induction over
/// two cycles) and [`miter_equivalent`] (outputs only; only after a time-out). (When the second
/// runs to its end without a proof, the third has never found one either: for a block without
/// registers the two ask the same question, and with registers the miter's induction has not
/// closed on any survivor.) All are sound (a proof holds in every design that holds the block)
/// but not complete: a difference only unreachable inputs show is reported as a survivor.
fn block_equivalent(dir: &Path, built: &Built, m: &Mutant) -> Result<Proof> {
    std::fs::create_dir_all(dir)?;
    if cone_equivalent(dir, built, m)? == Proof::Proven {
        return Ok(Proof::Proven);
    }
    let everted = everted_equivalent(dir, built, m)?;
    if everted == Proof::Proven {
        return Ok(Proof::Proven);
    }
    let matched = match matched_equivalent(dir, built, m)? {
        Proof::TimedOut => match miter_equivalent(dir, built, m)? {
            Proof::Proven => Proof::Proven,
            _ => Proof::TimedOut,
        },
        p => p,
    };
    // Not proven, and cut off somewhere: no verdict to keep (a busier machine times out more).
    Ok(
        if matched == Proof::NotProven && everted == Proof::TimedOut {
            Proof::TimedOut
        } else {
            matched
        },
    )
}

/// Where a mutant's own cone stops: registers and memories (their inputs are the cone's outputs).
const CONE_STOPS: &str =
    "$dff,$dffe,$adff,$adffe,$sdff,$sdffe,$sdffce,$aldff,$aldffe,$dffsr,$dffsre,$mem_v2";

/// The selection of the mutated cell and everything it drives up to the next register, memory or
/// port: `c:<cell> %co*:-<stops>`, the name's characters that a selection reads as syntax (`/`,
/// `\`, `*`, `?`, `[`, `]`) matched by `?`.
fn cone_selection(mutation: &str) -> Option<String> {
    let pattern: String = mutation_arg(mutation, "-cell")?
        .chars()
        .map(|c| if "/\\*?[]".contains(c) { '?' } else { c })
        .collect();
    Some(format!("c:{pattern} %co*:-{CONE_STOPS}"))
}

/// The mutant's own cone, proven first: the mutated cell and the logic it drives up to the next
/// registers, memories and ports, cut out with every signal it reads as an input and every signal
/// read outside it as an output (the registers' next values among them), then compared as in
/// [`everted_equivalent`]. Equal outputs for every input make every register load and every port
/// of the design the same in every cycle, so the mutant is equivalent; it can prove a mutant
/// whose effect the logic right after it masks (a constant bit a mask clears, a bit shifted out)
/// in a block too big to bit-blast whole in a minute (the object allocator's own logic). A memory's
/// own mutant is left to the block proofs.
fn cone_equivalent(dir: &Path, built: &Built, m: &Mutant) -> Result<Proof> {
    match cone_selection(&m.mutation) {
        Some(sel) if !on_memory(built, m) => everted_proof(dir, built, m, &sel, "cone"),
        _ => Ok(Proof::NotProven),
    }
}

/// Seconds each step of the everted proof (Yosys, then ABC) may take.
const EVERTED_PROOF_SECONDS: u32 = 60;

/// The register-correspondence proof: every register of both blocks is cut open into an input
/// (its output, shared by the two) and an output (its next value), the registers of the original
/// and the copy being paired by name (`expose -dff -evert-dff`); the two are then one
/// combinational miter, bit-blasted and proven by ABC (`iprove`, with structural hashing and
/// SAT sweeping, which a multiplier's miter needs: `sat` did not finish the slot decode's in a
/// minute). Equal next values and outputs for every input and every state, with the registers'
/// initial values equal (the mutant is a copy), make the two blocks equal in every cycle. It
/// cannot prove a mutant whose registers differ in a state never reached (the matched proof's
/// induction can).
fn everted_equivalent(dir: &Path, built: &Built, m: &Mutant) -> Result<Proof> {
    everted_proof(dir, built, m, &built.selections[&m.block], "everted")
}

/// The register-correspondence proof of [`everted_equivalent`] on the cut `sel`, its files
/// named `{name}_{index}`.
fn everted_proof(dir: &Path, built: &Built, m: &Mutant, sel: &str, name: &str) -> Result<Proof> {
    let k = m.index;
    let aig = dir.join(format!("{name}_{k}.aig"));
    let mut lines = cut_block(built, m, sel);
    lines.extend([
        "dffunmap".into(),
        "expose -dff -evert-dff gold_blk gate_blk".into(),
        // The everted registers are left driving nothing; a register still connected stays.
        "opt_clean".into(),
        // Every register must have been cut open, or the check below would be sequential.
        "select -assert-none gold_blk/t:$*dff* gate_blk/t:$*dff* gold_blk/t:$_*DFF* gate_blk/t:$_*DFF*".into(),
        "miter -equiv -flatten gold_blk gate_blk miter".into(),
        "hierarchy -top miter".into(),
        "opt -fast".into(),
        "techmap".into(),
        "opt -fast".into(),
        "aigmap".into(),
        "opt_clean".into(),
        format!("write_aiger -zinit {}", aig.display()),
    ]);
    let script = dir.join(format!("{name}_{k}.ys"));
    std::fs::write(&script, lines.join("\n") + "\n")?;
    let log = dir.join(format!("{name}_{k}.log"));
    let made = Command::new("timeout")
        .arg(EVERTED_PROOF_SECONDS.to_string())
        .args(["yosys", "-q", "-l"])
        .arg(&log)
        .arg(&script)
        .output()
        .context("running yosys under timeout (run `make deps`)")?;
    if made.status.code() == Some(124) {
        return Ok(Proof::TimedOut);
    }
    if !made.status.success() {
        // The copy's registers could not all be paired (a mutation that leaves a register
        // without a twin): no proof this way.
        return Ok(Proof::NotProven);
    }
    let out = Command::new("timeout")
        .arg(EVERTED_PROOF_SECONDS.to_string())
        .arg("yosys-abc")
        .arg("-c")
        .arg(format!("read_aiger {}; strash; iprove", aig.display()))
        .output()
        .context("running yosys-abc (Yosys ships it; run `make deps`)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    std::fs::write(dir.join(format!("{name}_{k}.abc.log")), text.as_bytes())?;
    Ok(if out.status.code() == Some(124) {
        Proof::TimedOut
    } else if text.contains("UNSATISFIABLE") {
        Proof::Proven
    } else {
        Proof::NotProven
    })
}

/// The state-matching proof: every register of the original block is paired with the same
/// register of the mutated copy, and so is every port (`equiv_make`, with every other wire and
/// every cell kept out of the pairing, so that a difference the logic masks before a register or
/// an output is no difference). Then:
/// - base case: from the registers' initial values (zero where the design gives none), every
///   pair agrees for the first [`MATCHED_SEQ`] cycles under any inputs (`equiv_miter -assert`,
///   `sat -seq`);
/// - induction: from any state in which every pair agreed for [`MATCHED_SEQ`] cycles, they agree
///   in the next (`equiv_simple`, `equiv_induct`), which closes at once when the mutation only
///   touches logic whose value no register or output sees, or a register that always holds the
///   value the mutation forces (the recency matrix's diagonal, say).
///
/// Together the two say that the pairs, outputs among them, never differ.
fn matched_equivalent(dir: &Path, built: &Built, m: &Mutant) -> Result<Proof> {
    let k = m.index;
    let file = |what: &str| dir.join(format!("matched_{k}_{what}"));
    let (all, keep, black) = (file("all.txt"), file("keep.txt"), file("black.txt"));
    let (a_sorted, k_sorted) = (file("all.sorted"), file("keep.sorted"));
    let mut lines = cut_block(built, m, &built.selections[&m.block]);
    lines.extend([
        format!("tee -q -o {} select -list gold_blk/w:* gold_blk/c:*", all.display()),
        format!(
            "tee -q -o {} select -list gold_blk/t:$*dff* gold_blk/t:$_*DFF* %u %co:+[Q] gold_blk/w:* %i gold_blk/x:* %u",
            keep.display()
        ),
        // Everything but the registers' outputs and the ports stays unpaired.
        format!(
            "!sed 's|^gold_blk/||' {a} | sort > {as_}; sed 's|^gold_blk/||' {k} | sort > {ks}; comm -23 {as_} {ks} > {b}",
            a = all.display(),
            k = keep.display(),
            as_ = a_sorted.display(),
            ks = k_sorted.display(),
            b = black.display()
        ),
        format!(
            "equiv_make -inames -blacklist {} gold_blk gate_blk equiv",
            black.display()
        ),
        "equiv_miter -assert base equiv".into(),
        format!("sat -seq {MATCHED_SEQ} -prove-asserts -set-init-zero -verify base"),
        format!("equiv_simple -seq {MATCHED_SEQ} equiv"),
        format!("equiv_induct -seq {MATCHED_SEQ} equiv"),
        "equiv_status -assert equiv".into(),
    ]);
    let script = file("proof.ys");
    std::fs::write(&script, lines.join("\n") + "\n")?;
    run_proof(
        &script,
        &file("proof.log"),
        MATCHED_PROOF_SECONDS,
        "Equivalence successfully proven",
    )
}

/// The miter proof: a miter of the two blocks (`miter -equiv`, outputs only) proven by temporal
/// induction from the reset values (`sat -tempinduct`).
fn miter_equivalent(dir: &Path, built: &Built, m: &Mutant) -> Result<Proof> {
    let mut lines = cut_block(built, m, &built.selections[&m.block]);
    lines.extend([
        "miter -equiv -flatten -make_assert -ignore_gold_x gold_blk gate_blk miter".into(),
        "hierarchy -top miter".into(),
        format!(
            "sat -tempinduct -prove-asserts -set-init-zero -maxsteps {BLOCK_INDUCTION_STEPS} -timeout {BLOCK_PROOF_SECONDS} -verify miter"
        ),
    ]);
    let script = dir.join(format!("block_{}.ys", m.index));
    std::fs::write(&script, lines.join("\n") + "\n")?;
    // `-verify` makes an unproven property an error; any other error (a pass that does not take
    // the block) also leaves the mutant a survivor.
    run_proof(
        &script,
        &dir.join(format!("block_{}.log", m.index)),
        BLOCK_PROOF_SECONDS,
        "SUCCESS",
    )
}

/// Builds, loads and runs one design's mutants, filling in their outcomes.
fn run_group(plan: &MutatePlan, g: &Group, built: &mut Built) -> Result<()> {
    let vt = memento_sim::model_for(g.design, &g.params).with_context(|| {
        format!(
            "no compiled {} for the parameter set {}",
            g.design.name(),
            g.params_name
        )
    })?;
    let dir = plan
        .root
        .join(format!("build/mutate/{}-{}", built.top, built.key));
    let runtime = plan.root.join("build/mutate/runtime");
    if plan.progress {
        eprintln!(
            "mutate {}: {} mutants, building the model ({} )",
            built.top,
            built.mutants.len(),
            dir.display()
        );
    }
    // -O1: a mutant netlist runs a few seeds, so a faster C++ build pays.
    let flavor = memento_sim::dynamic::Flavor {
        verilator: memento_sim::dynamic::Verilator::on_path().map_err(anyhow::Error::msg)?,
        trace: false,
        evals: 2,
        mutsel: true,
        cxx_opt: 1,
        sim_forms: true,
    };
    let lib = memento_sim::dynamic::build(
        &built.top,
        &built.netlist,
        vt.ports,
        &dir,
        &runtime,
        &flavor,
    )
    .map_err(anyhow::Error::msg)?;
    let loaded =
        memento_sim::dynamic::load(&lib, &built.top, vt.ports).map_err(anyhow::Error::msg)?;
    let seed = plan.seed;
    if let Outcome::Killed { test, seed, what } = run_mutant(g, loaded, 0, seed) {
        bail!(
            "{}: the mutant netlist fails with no mutation selected ({test}, seed {seed}: {what}); \
             Yosys's netlist of the design does not behave as the emitted Verilog",
            built.top
        );
    }
    let path = results_path(&plan.root, built, &g.tests, seed);
    let known = Mutex::new(load_results(&path));
    let todo: Vec<u32> = built
        .mutants
        .iter()
        .map(|m| m.index)
        .filter(|k| !known.lock().unwrap().contains_key(k))
        .collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..plan.jobs.max(1) {
            s.spawn(|| {
                while let Some(&k) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let o = run_mutant(g, loaded, k, seed);
                    let mut kn = known.lock().unwrap();
                    kn.insert(k, o);
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    if n.is_multiple_of(10) || n == todo.len() {
                        let _ = std::fs::write(&path, serde_json::to_string(&*kn).unwrap());
                        if plan.progress {
                            eprintln!(
                                "[{:>6.0} s] {}: {n}/{} mutants run",
                                started.elapsed().as_secs_f64(),
                                built.top,
                                todo.len()
                            );
                        }
                    }
                }
            });
        }
    });
    let mut known = known.into_inner().unwrap();
    check_survivors(plan, g, built, &dir, &mut known, &path)?;
    if plan.check_proofs > 0 {
        check_proofs(plan, built, &dir, &known)?;
    }
    for m in &mut built.mutants {
        m.outcome = known.get(&m.index).cloned();
    }
    Ok(())
}

/// A block bench: the parameters, the Verilog (a module `top` with the block's ports), the
/// directory and the seed, to the first difference from the block's reference, none, or why it
/// could not run.
type BenchFn =
    fn(&memento_hw::Params, &str, &Path, u64) -> std::result::Result<BenchVerdict, String>;

/// What a block bench found for a mutant.
enum BenchVerdict {
    /// The first answer that differs from the block's reference.
    Differs(String),
    /// Every answer agreed, on a sample of the inputs.
    Agrees,
    /// Every answer agreed, on every input the design can give the block (`cases` answers).
    AgreesOnEveryInput { cases: u64 },
}

/// A block with a bench of its own: its mutants that survive the list are cut out of the design
/// (as the block proof cuts them), put inside a module with the block's own ports, and run
/// through the block's bench against its reference function before any proof is tried.
struct BlockBench {
    block: &'static str,
    design: Design,
    /// Module `top` with the block's emitted ports around the cut-out `gate_blk`, whose ports
    /// are the design's wires that cross the block's boundary.
    wrapper: &'static str,
    /// The cut's ports the wrapper connects, in Yosys's order: a cut with another port set (a
    /// mutation that left a signal outside it) is refused rather than run with an input undriven.
    ports: &'static [&'static str],
    /// The bench: the first difference, none, or why it could not run.
    run: BenchFn,
}

/// Random objects and random offsets per class in a mutant's bench (the block's own test uses
/// 16): about 64 x 2,100 pointers, before the sweep.
const BENCH_RANDOM: usize = 300;

/// The most answers a bench sweeps to cover every input (`CLASSES << LANE_BITS`): 2^26, about
/// 20 s under Verilator. Above it, one arena per class (every value of the multiply).
const BENCH_SWEEP_MAX: u64 = 1 << 26;

/// The slot decode's bench for a mutant: the random cases, then every lane offset of every class
/// when that is at most [`BENCH_SWEEP_MAX`] answers, else every byte of one arena per class;
/// under Verilator.
fn slot_calc_bench(
    p: &memento_hw::Params,
    verilog: &str,
    dir: &Path,
    seed: u64,
) -> std::result::Result<BenchVerdict, String> {
    use memento_hw::slot_calc::bench::{run, Sweep, Verdict};
    let every = (p.classes as u64) << p.lane_bits <= BENCH_SWEEP_MAX;
    let sweep = if every {
        Sweep::WholeLane
    } else {
        Sweep::OneArena
    };
    let sim = memento_hw::icarus::Sim::Verilator;
    Ok(
        match run(p, verilog, dir, seed, BENCH_RANDOM, sweep, sim)? {
            Verdict::Differs(d) => BenchVerdict::Differs(d),
            Verdict::Agrees { cases } if every => BenchVerdict::AgreesOnEveryInput { cases },
            Verdict::Agrees { .. } => BenchVerdict::Agrees,
        },
    )
}

/// The blocks with a bench. The slot decode's cut has the block's own `cls` and `lane_off`
/// inputs as ports (the pointer's bits above and below the lane's width): since the flow runs
/// `wreduce`, the object allocator's wider `ptr_cls` and `lane_off` wires that fed them are
/// narrowed to the block's widths and take the block's names.
const BENCHES: &[BlockBench] = &[BlockBench {
    block: "slot_calc",
    design: Design::ObjectAlloc,
    wrapper: "module top(input clock, input load, input advance, input [5:0] cls,\n\
              input [47:0] lane_off, output [47:0] arena_off, output [7:0] slot,\n\
              output in_header, output misaligned, output past_end);\n\
              gate_blk b(.clock(clock), .\\slot_calc.lane_off (lane_off), .\\slot_calc.cls (cls),\n\
              .\\slot_calc.load (load), .\\slot_calc.advance (advance),\n\
              .\\slot_calc.s2_arena_off (arena_off), .\\slot_calc.s2_slot (slot),\n\
              .\\slot_calc.s2_in_header (in_header), .\\slot_calc.s2_misaligned (misaligned),\n\
              .\\slot_calc.s2_past_end (past_end));\n\
              endmodule\n",
    ports: &[
        "clock",
        "slot_calc.advance",
        "slot_calc.cls",
        "slot_calc.lane_off",
        "slot_calc.load",
        "slot_calc.s2_arena_off",
        "slot_calc.s2_in_header",
        "slot_calc.s2_misaligned",
        "slot_calc.s2_past_end",
        "slot_calc.s2_slot",
    ],
    run: slot_calc_bench,
}];

/// The ports of module `name` in Yosys's `write_verilog` output, as written in its header.
fn module_ports(verilog: &str, name: &str) -> Vec<String> {
    let head = format!("module {name}(");
    verilog
        .find(&head)
        .and_then(|i| {
            let rest = &verilog[i + head.len()..];
            rest.find(");").map(|j| &rest[..j])
        })
        .map(|list| {
            list.split(',')
                .map(|p| p.trim().trim_start_matches('\\').trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The cut's ports with a port of the wrapper's that the cut names by an alias put back under
/// the wrapper's name, and the wrapper to match: a net the block shares with another (the slot
/// decode's `advance` is the class table's read enable) takes one of its names in the cut, the
/// other's as likely as the block's. An alias is a `connect` of the two names in the flattened
/// design, so the port is the same net.
fn alias_ports(b: &BlockBench, ports: Vec<String>, il: &Path) -> Result<(Vec<String>, String)> {
    let missing: Vec<&str> = b
        .ports
        .iter()
        .copied()
        .filter(|p| !ports.iter().any(|q| q == p))
        .collect();
    let extra: Vec<String> = ports
        .iter()
        .filter(|q| !b.ports.contains(&q.as_str()))
        .cloned()
        .collect();
    if missing.is_empty() || missing.len() != extra.len() {
        return Ok((ports, b.wrapper.to_string()));
    }
    let text = std::fs::read_to_string(il).with_context(|| il.display().to_string())?;
    let connected = |a: &str, z: &str| {
        text.lines()
            .map(str::trim)
            .any(|l| l == format!("connect \\{a} \\{z}") || l == format!("connect \\{z} \\{a}"))
    };
    let mut ports = ports;
    let mut wrapper = b.wrapper.to_string();
    for m in missing {
        let Some(e) = extra.iter().find(|e| connected(m, e)) else {
            continue;
        };
        wrapper = wrapper.replace(&format!("\\{m} "), &format!("\\{e} "));
        for q in ports.iter_mut().filter(|q| *q == e) {
            *q = m.to_string();
        }
    }
    ports.sort();
    Ok((ports, wrapper))
}

/// The version of how a mutant is cut out and wired for its bench: 2 maps a port named by an
/// alias back to the wrapper's name ([`alias_ports`]).
const BENCH_CUT_VERSION: u32 = 2;

/// The version of the block benches: a hash of their code and of how a mutant is cut out for
/// them (this file's bench settings), so that a survivor is benched again when either changes.
fn bench_key() -> String {
    let mut h = Sha256::new();
    for src in [
        include_str!("../../../hw/src/slot_calc.rs"),
        include_str!("../../../hw/src/icarus.rs"),
    ] {
        h.update(src.as_bytes());
    }
    h.update(format!("{BENCH_RANDOM} {BENCH_SWEEP_MAX} {BENCH_CUT_VERSION}").as_bytes());
    format!("{:x}", h.finalize())[..16].to_string()
}

/// The bench's name in a verdict.
fn bench_name(b: &BlockBench) -> String {
    format!("{} block bench", b.block)
}

/// Runs mutant `m` of a block with a bench through it: `Killed` when an answer differs, `None`
/// when all agree. An error (the cut's ports not those the wrapper names, Icarus missing) is
/// an error, not a verdict.
fn bench_mutant(
    b: &BlockBench,
    g: &Group,
    dir: &Path,
    built: &Built,
    m: &Mutant,
    seed: u64,
) -> Result<Option<Outcome>> {
    let mdir = dir.join(format!("bench_{}", m.index));
    std::fs::create_dir_all(&mdir)?;
    let vfile = mdir.join("gate_blk.v");
    // Mutated before the memories are collected (a mutation of a memory port names a cell that
    // collecting removes), then cut out alone with the cells the mutation added (outside the
    // cut, the mutated bit would be a new input of it, left undriven).
    let top = &built.top;
    let lines = [
        format!("read_rtlil {}", built.il.display()),
        format!("select -set before {top}/c:*"),
        m.mutation.clone(),
        format!("select -set added {top}/c:* @before %d"),
        "memory_collect".into(),
        format!("cd {top}"),
        format!(
            "submod -name gate_blk {} @added %u",
            built.selections[&m.block]
        ),
        "cd ..".into(),
        "memory_map".into(),
        "opt_clean".into(),
        format!("delete {top}"),
        format!("write_verilog -noattr {}", vfile.display()),
    ];
    let script = mdir.join("cut.ys");
    std::fs::write(&script, lines.join("\n") + "\n")?;
    yosys(&script, &mdir.join("cut.log"))?;
    let cut = std::fs::read_to_string(&vfile)?;
    let ports = module_ports(&cut, "gate_blk");
    let (ports, wrapper) = alias_ports(b, ports, &built.il)?;
    if ports != b.ports {
        // Not a verdict: the mutant stays a survivor, and the run says why.
        eprintln!(
            "{} of mutant {} not run: the cut has ports {ports:?}, the wrapper connects {:?} ({})",
            bench_name(b),
            m.index,
            b.ports,
            vfile.display()
        );
        return Ok(None);
    }
    let verilog = format!("{wrapper}\n{cut}");
    match (b.run)(&g.params, &verilog, &mdir, seed) {
        Ok(BenchVerdict::Differs(what)) => Ok(Some(Outcome::Killed {
            test: bench_name(b),
            seed,
            what,
        })),
        Ok(BenchVerdict::Agrees) => Ok(None),
        Ok(BenchVerdict::AgreesOnEveryInput { cases }) => {
            let cell = mutated_cell(&built.il, &m.mutation)?;
            Ok(datapath_cell(&cell).then(|| Outcome::BenchEquivalent {
                bench: bench_name(b),
                cases,
            }))
        }
        Err(e) => bail!("{} of mutant {}: {e}", bench_name(b), m.index),
    }
}

/// The cell `mutation` (a `mutate -mode ... -cell NAME ...` command) names, from the flattened
/// design's RTLIL: its type and its parameter lines.
fn mutated_cell(il: &Path, mutation: &str) -> Result<(String, Vec<String>)> {
    let name = mutation_arg(mutation, "-cell")
        .with_context(|| format!("no -cell in mutation {mutation:?}"))?;
    il_cells(il)?
        .into_iter()
        .find(|(_, cell, _)| *cell == name)
        .map(|(kind, _, params)| (kind, params))
        .with_context(|| format!("cell {name} not in {}", il.display()))
}

/// The word after `flag` in a `mutate` command.
fn mutation_arg<'a>(mutation: &'a str, flag: &str) -> Option<&'a str> {
    let mut words = mutation.split_whitespace();
    words.by_ref().find(|w| *w == flag)?;
    words.next()
}

/// Whether mutant `m`'s cell is a memory or one of its ports (not known: treated as one).
fn on_memory(built: &Built, m: &Mutant) -> bool {
    mutated_cell(&built.il, &m.mutation)
        .map(|(kind, _)| kind.starts_with("$mem"))
        .unwrap_or(true)
}

/// Every cell of a design's RTLIL: its type, its name and its parameter lines.
fn il_cells(il: &Path) -> Result<Vec<(String, String, Vec<String>)>> {
    let text = std::fs::read_to_string(il).with_context(|| il.display().to_string())?;
    let mut cells = Vec::new();
    let mut lines = text.lines().map(str::trim).peekable();
    while let Some(l) = lines.next() {
        let Some((kind, name)) = l.strip_prefix("cell ").and_then(|c| c.split_once(' ')) else {
            continue;
        };
        let mut params = Vec::new();
        while let Some(p) = lines.next_if(|l| l.starts_with("parameter ")) {
            params.push(p.to_string());
        }
        cells.push((kind.to_string(), name.to_string(), params));
    }
    Ok(cells)
}

/// The value of parameter `name` among a cell's parameter lines.
fn param<'a>(params: &'a [String], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find_map(|p| p.strip_prefix(&format!("parameter \\{name} ")))
}

/// Mutation `mutation` of a memory port (a `$memwr` or `$memrd` cell of the flattened design)
/// as the same mutation of the memory cell `memory_collect` makes of them (`$mem_v2`, named for
/// the memory, its ports' signals side by side: write port `i`'s data bits at `WR_DATA[i * WIDTH
/// ..]`). `None` for a mutation of any other cell, or of a read port of a memory with several
/// (their order in the collected cell is not known).
fn collected_mutation(il: &Path, mutation: &str) -> Result<Option<String>> {
    let mut words: Vec<String> = mutation.split_whitespace().map(str::to_string).collect();
    let at = |words: &[String], k: &str| words.iter().position(|w| w == k).map(|i| i + 1);
    let cell_at = at(&words, "-cell").with_context(|| format!("no -cell in {mutation:?}"))?;
    let cells = il_cells(il)?;
    let Some((kind, _, params)) = cells.iter().find(|(_, n, _)| *n == words[cell_at]) else {
        bail!("cell {} not in {}", words[cell_at], il.display());
    };
    let write = kind.starts_with("$memwr");
    if !write && !kind.starts_with("$memrd") {
        return Ok(None);
    }
    let memid = param(params, "MEMID").context("a memory port without MEMID")?;
    let number = |name: &str| -> Result<u64> {
        param(params, name)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("memory port {} without {name}", words[cell_at]))
    };
    let (width, abits) = (number("WIDTH")?, number("ABITS")?);
    let mut ports: Vec<(u64, &String)> = cells
        .iter()
        .filter(|(k, _, p)| k == kind && param(p, "MEMID") == Some(memid))
        .map(|(_, n, p)| {
            (
                param(p, "PORTID").and_then(|v| v.parse().ok()).unwrap_or(0),
                n,
            )
        })
        .collect();
    if !write && ports.len() > 1 {
        return Ok(None);
    }
    ports.sort();
    let index = ports
        .iter()
        .position(|(_, n)| **n == words[cell_at])
        .unwrap_or(0) as u64;
    let side = if write { "WR_" } else { "RD_" };
    let port_at = at(&words, "-port").context("no -port")?;
    let (port, stride) = match words[port_at].as_str() {
        "DATA" => ("DATA", width),
        "ADDR" => ("ADDR", abits),
        "EN" if write => ("EN", width),
        other => (other, 1),
    };
    words[port_at] = format!("{side}{port}");
    for flag in ["-portbit", "-ctrlbit"] {
        if let Some(i) = at(&words, flag) {
            let bit: u64 = words[i]
                .parse()
                .context("a port bit that is not a number")?;
            words[i] = (index * stride + bit).to_string();
        }
    }
    // The memory's name without its RTLIL escape (`mutate` escapes the name it is given).
    let name = memid.trim_matches('"').replace("\\\\", "\\");
    words[cell_at] = name.strip_prefix('\\').unwrap_or(&name).to_string();
    Ok(Some(words.join(" ")))
}

/// A cell of a block's datapath: an operator, or an asynchronous read of a memory (a ROM's
/// lookup), whose mutation changes what a register or an output is given but never when a
/// register loads. Registers, memories' other ports and multiplexers (which hold a register's
/// enable after `proc`) are not.
fn datapath_cell((kind, params): &(String, Vec<String>)) -> bool {
    if kind.starts_with("$memrd") {
        return params.iter().any(|p| p == "parameter \\CLK_ENABLE 0");
    }
    kind.starts_with('$')
        && !["dff", "mem", "mux", "latch", "sr"]
            .iter()
            .any(|k| kind.contains(k))
}

/// Every survivor of a block with a bench (not yet proven equivalent) through its bench.
fn bench_survivors(
    plan: &MutatePlan,
    g: &Group,
    built: &Built,
    dir: &Path,
    known: &mut BTreeMap<u32, Outcome>,
) -> Result<()> {
    let bench_of = |m: &Mutant| {
        BENCHES
            .iter()
            .find(|b| b.block == m.block && b.design == g.design)
    };
    let current = bench_key();
    let todo: Vec<&Mutant> = built
        .mutants
        .iter()
        .filter(|m| {
            matches!(
                known.get(&m.index),
                Some(Outcome::Survived {
                    cex: None,
                    bench,
                    ..
                }) if bench.as_deref() != Some(current.as_str())
            )
        })
        .filter(|m| bench_of(m).is_some())
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    if plan.progress {
        eprintln!(
            "{}: {} survivors of blocks with a bench, running each through it...",
            built.top,
            todo.len()
        );
    }
    // Like the proofs, a bench's verdict depends on the netlist, the mutation, the bench and the
    // seed, not on the tests: kept per netlist, keyed by the bench's version and the seed.
    let key = format!("{} {}", bench_key(), plan.seed);
    let cache_path = dir.join("benches.json");
    let mut cache: BTreeMap<u32, (String, Option<Outcome>)> = std::fs::read_to_string(&cache_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut found: Vec<(u32, Result<Option<Outcome>>)> = vec![];
    let mut fresh = vec![];
    for m in todo {
        match cache.get(&m.index).filter(|(k, _)| *k == key) {
            Some((_, o)) => found.push((m.index, Ok(o.clone()))),
            None => fresh.push(m),
        }
    }
    let bdir = dir.join("block-bench");
    let run = par_map(&fresh, plan.jobs, |m| {
        let b = bench_of(m).expect("filtered to blocks with a bench");
        let r = bench_mutant(b, g, &bdir, built, m, plan.seed);
        if plan.progress {
            let verdict = match &r {
                Ok(Some(Outcome::Killed { .. })) => "killed",
                Ok(Some(_)) => "equivalent on every input",
                Ok(None) => "survives",
                Err(_) => "could not run",
            };
            eprintln!(
                "{}: mutant {} {verdict} ({})",
                built.top,
                m.index,
                bench_name(b)
            );
        }
        r
    });
    for (k, r) in run {
        if let Ok(o) = &r {
            cache.insert(k, (key.clone(), o.clone()));
        }
        found.push((k, r));
    }
    std::fs::write(&cache_path, serde_json::to_string(&cache)?)?;
    for (k, r) in found {
        match r? {
            Some(o) => known.insert(k, o),
            None => known.insert(
                k,
                Outcome::Survived {
                    cex: None,
                    block_version: BLOCK_PROOF_VERSION,
                    bench: Some(bench_key()),
                },
            ),
        };
    }
    Ok(())
}

/// What follows the list for a survivor: the block proofs, then the block's bench for those not
/// proven equivalent, then the bounded equivalence check of the design.
fn check_survivors(
    plan: &MutatePlan,
    g: &Group,
    built: &Built,
    dir: &Path,
    known: &mut BTreeMap<u32, Outcome>,
    path: &Path,
) -> Result<()> {
    block_check(plan, built, dir, known)?;
    std::fs::write(path, serde_json::to_string(&*known)?)?;
    bench_survivors(plan, g, built, dir, known)?;
    std::fs::write(path, serde_json::to_string(&*known)?)?;
    if plan.equiv_depth == 0 {
        return Ok(());
    }
    let todo = open_survivors(built, known, |_| true);
    let edir = dir.join("equiv");
    let found = par_map(&todo, plan.jobs, |m| {
        equivalent(&edir, &built.il, &built.top, m, plan.equiv_depth)
    });
    for (k, r) in found {
        let o = match r? {
            true => Outcome::Equivalent {
                depth: plan.equiv_depth,
            },
            false => Outcome::Survived {
                cex: Some(edir.join(format!("cex_{k}.vcd"))),
                block_version: BLOCK_PROOF_VERSION,
                bench: Some(bench_key()),
            },
        };
        if plan.progress {
            eprintln!("{}: mutant {k} {:?}", built.top, o);
        }
        known.insert(k, o);
    }
    std::fs::write(path, serde_json::to_string(&*known)?)?;
    Ok(())
}

/// The survivors with no counterexample yet whose block-proof state passes `want`.
fn open_survivors<'a>(
    built: &'a Built,
    known: &BTreeMap<u32, Outcome>,
    want: impl Fn(bool) -> bool,
) -> Vec<&'a Mutant> {
    built
        .mutants
        .iter()
        .filter(|m| {
            matches!(known.get(&m.index), Some(&Outcome::Survived { cex: None, block_version, .. })
                if want(block_version >= BLOCK_PROOF_VERSION))
        })
        .collect()
}

/// `f` over `items` on `jobs` threads: each item's index with its result, in no set order.
fn par_map<R: Send>(
    items: &[&Mutant],
    jobs: usize,
    f: impl Fn(&Mutant) -> R + Sync,
) -> Vec<(u32, R)> {
    let next = AtomicUsize::new(0);
    let found = Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                while let Some(m) = items.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let r = f(m);
                    found.lock().unwrap().push((m.index, r));
                }
            });
        }
    });
    found.into_inner().unwrap()
}

/// The block proofs' soundness check: up to `plan.check_proofs` killed mutants of each block
/// (the first by index) through [`block_equivalent`]. A killed mutant differs from the design at
/// its ports, so a proof of one would be a proof of something false: an error naming it.
fn check_proofs(
    plan: &MutatePlan,
    built: &Built,
    dir: &Path,
    known: &BTreeMap<u32, Outcome>,
) -> Result<()> {
    let mut per_block: BTreeMap<&str, Vec<&Mutant>> = BTreeMap::new();
    for m in &built.mutants {
        if matches!(known.get(&m.index), Some(Outcome::Killed { .. })) {
            let v = per_block.entry(m.block.as_str()).or_default();
            if v.len() < plan.check_proofs {
                v.push(m);
            }
        }
    }
    let todo: Vec<&Mutant> = per_block.values().flatten().copied().collect();
    let pdir = dir.join("check-proofs");
    let found = par_map(&todo, plan.jobs, |m| block_equivalent(&pdir, built, m));
    let mut tally: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    let mut proven = vec![];
    for (k, r) in found {
        let m = todo.iter().find(|m| m.index == k).expect("ran from todo");
        let t = tally.entry(m.block.as_str()).or_default();
        t[0] += 1;
        match r? {
            Proof::Proven => {
                t[1] += 1;
                proven.push(format!("{k} ({}: {})", m.block, m.mutation));
            }
            Proof::NotProven => t[2] += 1,
            Proof::TimedOut => t[3] += 1,
        }
    }
    for (b, [n, p, np, to]) in &tally {
        println!(
            "check-proofs {}: {b}: {n} killed mutants, {p} proven, {np} not proven, {to} timed out",
            built.top
        );
    }
    if !proven.is_empty() {
        bail!(
            "{}: the block proofs proved killed mutants equivalent (unsound): {}",
            built.top,
            proven.join("; ")
        );
    }
    Ok(())
}

/// A block proof's verdict, kept per netlist: the proof's version and whether it proved the
/// mutant equivalent.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ProofRecord {
    version: u32,
    proven: bool,
}

/// The block-level proof for every survivor not checked yet.
fn block_check(
    plan: &MutatePlan,
    built: &Built,
    dir: &Path,
    known: &mut BTreeMap<u32, Outcome>,
) -> Result<()> {
    let todo = open_survivors(built, known, |tried| !tried);
    if todo.is_empty() {
        return Ok(());
    }
    if plan.progress {
        eprintln!(
            "{}: {} survivors, proving each at its block's boundary...",
            built.top,
            todo.len()
        );
    }
    // A proof depends on the netlist and the mutation alone, not on the tests: kept per netlist
    // (in its directory), so that a change to the tests reruns the tests and not the proofs.
    let cache_path = dir.join("proofs.json");
    let mut cache: BTreeMap<u32, ProofRecord> = std::fs::read_to_string(&cache_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let cached = |m: &Mutant| {
        cache
            .get(&m.index)
            .filter(|r| r.version == BLOCK_PROOF_VERSION)
            .map(|r| r.proven)
    };
    let verdict = |p: bool| if p { Proof::Proven } else { Proof::NotProven };
    let mut found: Vec<(u32, Result<Proof>)> = todo
        .iter()
        .filter_map(|m| cached(m).map(|p| (m.index, Ok(verdict(p)))))
        .collect();
    let fresh: Vec<&Mutant> = todo
        .iter()
        .copied()
        .filter(|m| cached(m).is_none())
        .collect();
    if plan.progress && !found.is_empty() {
        eprintln!(
            "{}: {} of them already tried at this netlist ({})",
            built.top,
            found.len(),
            cache_path.display()
        );
    }
    let bdir = dir.join("block-equiv");
    for (k, r) in par_map(&fresh, plan.jobs, |m| block_equivalent(&bdir, built, m)) {
        // A proof cut off at its time limit is no verdict: not kept, tried again next run.
        if let Ok(p @ (Proof::Proven | Proof::NotProven)) = &r {
            cache.insert(
                k,
                ProofRecord {
                    version: BLOCK_PROOF_VERSION,
                    proven: *p == Proof::Proven,
                },
            );
        }
        found.push((k, r));
    }
    std::fs::write(&cache_path, serde_json::to_string(&cache)?)?;
    let mut proven = 0;
    for (k, r) in found {
        let o = match r? {
            Proof::Proven => {
                proven += 1;
                Outcome::BlockEquivalent
            }
            // Tried: not proven, or cut off (then marked untried, so a rerun tries again).
            p => Outcome::Survived {
                cex: None,
                block_version: if p == Proof::TimedOut {
                    0
                } else {
                    BLOCK_PROOF_VERSION
                },
                bench: None,
            },
        };
        known.insert(k, o);
    }
    if plan.progress {
        eprintln!(
            "{}: {proven} of {} survivors proven equivalent at their block",
            built.top,
            todo.len()
        );
    }
    Ok(())
}

/// Makes, builds and runs every mutant of the plan.
pub fn run(plan: &MutatePlan) -> Result<MutateReport> {
    let started = std::time::Instant::now();
    let mut claimed = BTreeSet::new();
    let mut mutants = vec![];
    for g in groups(&plan.tests) {
        let top = format!("{}_{}", g.design.name(), g.params_name);
        let dir = plan.root.join(format!("build/mutate/make-{top}"));
        let mut built = make_mutants(plan, &g, &mut claimed, &dir)?;
        if built.mutants.is_empty() {
            continue;
        }
        run_group(plan, &g, &mut built)?;
        mutants.extend(built.mutants);
    }
    if mutants.is_empty() {
        bail!(
            "no mutants: no block called {:?} in the designs of the mutate list",
            plan.only.as_deref().unwrap_or("")
        );
    }
    let mut rows: BTreeMap<String, BlockRow> = BTreeMap::new();
    for m in &mutants {
        let r = rows.entry(m.block.clone()).or_insert_with(|| BlockRow {
            block: m.block.clone(),
            design: m.design.clone(),
            ..Default::default()
        });
        r.made += 1;
        match &m.outcome {
            Some(Outcome::Killed { .. }) => r.killed += 1,
            Some(Outcome::Survived { .. }) => r.survived += 1,
            Some(
                Outcome::Equivalent { .. }
                | Outcome::BlockEquivalent
                | Outcome::BenchEquivalent { .. },
            ) => r.equivalent += 1,
            None => r.not_built += 1,
        }
    }
    let blocks = rows
        .into_values()
        .map(|mut r| {
            let judged = r.killed + r.survived;
            r.kill_rate = if judged == 0 {
                0.0
            } else {
                r.killed as f64 / judged as f64
            };
            r
        })
        .collect();
    Ok(MutateReport {
        seed: plan.seed,
        count_per_block: plan.count,
        tests: plan.tests.iter().map(|t| t.name.clone()).collect(),
        blocks,
        mutants,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The per-block table as text.
pub fn table(r: &MutateReport) -> String {
    let mut s = format!(
        "{:<16} {:<22} {:>5} {:>6} {:>8} {:>10} {:>9} {:>9}\n",
        "block", "design", "made", "killed", "survived", "equivalent", "not built", "kill rate"
    );
    for b in &r.blocks {
        s.push_str(&format!(
            "{:<16} {:<22} {:>5} {:>6} {:>8} {:>10} {:>9} {:>8.1}%\n",
            b.block,
            b.design,
            b.made,
            b.killed,
            b.survived,
            b.equivalent,
            b.not_built,
            100.0 * b.kill_rate
        ));
    }
    s
}

/// The report as a page: the table per block, then every survivor.
pub fn html(r: &MutateReport) -> String {
    let mut rows = String::new();
    for b in &r.blocks {
        let cls = if b.kill_rate >= 0.95 { "ok" } else { "low" };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{cls}\">{:.1}%</td></tr>\n",
            esc(&b.block), esc(&b.design), b.made, b.killed, b.survived, b.equivalent, b.not_built, 100.0 * b.kill_rate
        ));
    }
    let mut surv = String::new();
    for m in r
        .mutants
        .iter()
        .filter(|m| matches!(m.outcome, Some(Outcome::Survived { .. })))
    {
        surv.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            m.index,
            esc(&m.block),
            esc(&m.mode),
            esc(&m.wire),
            esc(&m.src.join(" "))
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>memento mutate</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child,td:nth-child(2){{text-align:left}}\
         .ok{{background:#dfd}}.low{{background:#fdd}}</style></head><body>\
         <h1>Mutation testing</h1><p>Seed {} ({} mutants a block, Yosys <code>mutate</code>), tests: {}. {:.0} s.</p>\
         <table><tr><th>block</th><th>design</th><th>made</th><th>killed</th><th>survived</th><th>equivalent</th><th>not built</th><th>kill rate</th></tr>\n{rows}</table>\
         <h2>Survivors</h2><table><tr><th>#</th><th>block</th><th>mode</th><th>wire</th><th>source (emitted Verilog)</th></tr>\n{surv}</table>\
         </body></html>\n",
        r.seed,
        r.count_per_block,
        esc(&r.tests.join(", ")),
        r.seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory port's mutation becomes the same mutation of the collected memory: write port
    /// 1's data bit 3 is bit WIDTH + 3 of WR_DATA, and so is its control bit; a read port of a
    /// memory with two is left alone, and so is any other cell.
    #[test]
    fn memory_port_mutations_name_the_collected_memory() {
        let dir = std::env::temp_dir().join(format!("collected_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let il = dir.join("design.il");
        let port = |kind: &str, name: &str, id: u32| {
            format!(
                "  cell {kind} {name}\n    parameter \\ABITS 6\n    parameter \\MEMID \"\\\\blk.mem\"\n    parameter \\PORTID {id}\n    parameter \\WIDTH 40\n  end\n"
            )
        };
        let text = format!(
            "module \\top\n{}{}{}{}  cell $and $and$1\n  end\nend\n",
            port("$memwr_v2", "$w1", 1),
            port("$memwr_v2", "$w0", 0),
            port("$memrd_v2", "$r0", 0),
            port("$memrd_v2", "$r1", 0),
        );
        std::fs::write(&il, text).unwrap();
        let m = |cell: &str, port: &str| {
            format!(
                "mutate -mode cnot1 -module top -cell {cell} -port {port} -portbit 3 -ctrlbit 7"
            )
        };
        assert_eq!(
            collected_mutation(&il, &m("$w1", "DATA")).unwrap().as_deref(),
            Some("mutate -mode cnot1 -module top -cell blk.mem -port WR_DATA -portbit 43 -ctrlbit 47")
        );
        assert_eq!(
            collected_mutation(&il, &m("$w0", "ADDR"))
                .unwrap()
                .as_deref(),
            Some(
                "mutate -mode cnot1 -module top -cell blk.mem -port WR_ADDR -portbit 3 -ctrlbit 7"
            )
        );
        assert_eq!(collected_mutation(&il, &m("$r1", "DATA")).unwrap(), None);
        assert_eq!(collected_mutation(&il, &m("$and$1", "A")).unwrap(), None);
        assert!(collected_mutation(&il, &m("$gone", "A")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A port the cut names by another name of the same net is put back under the wrapper's
    /// name; a port that is not an alias in the design leaves the cut refused.
    #[test]
    fn bench_ports_named_by_an_alias_are_mapped_back() {
        let b = &BENCHES[0];
        let dir = std::env::temp_dir().join(format!("alias_ports_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let il = dir.join("design.il");
        let renamed = |to: &str| -> Vec<String> {
            let mut v: Vec<String> = b
                .ports
                .iter()
                .map(|p| if *p == "slot_calc.advance" { to } else { p }.to_string())
                .collect();
            v.sort();
            v
        };
        std::fs::write(&il, "  connect \\slot_calc.advance \\class_table.rd_en\n").unwrap();
        let (ports, wrapper) = alias_ports(b, renamed("class_table.rd_en"), &il).unwrap();
        assert_eq!(ports, b.ports);
        assert!(
            wrapper.contains("\\class_table.rd_en (advance)"),
            "{wrapper}"
        );
        let (ports, _) = alias_ports(b, renamed("hot.rd_en"), &il).unwrap();
        assert_ne!(ports, b.ports, "not an alias in the design");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Only an operator or a ROM's lookup counts as datapath for a proof by exhaustion: a
    /// register, a clocked read, a write port or a multiplexer may change when a register loads.
    #[test]
    fn datapath_cells_are_operators_and_asynchronous_reads() {
        let cell = |k: &str, p: &[&str]| (k.to_string(), p.iter().map(|s| s.to_string()).collect());
        assert!(datapath_cell(&cell("$xor", &[])));
        assert!(datapath_cell(&cell("$and", &["parameter \\A_WIDTH 39"])));
        assert!(datapath_cell(&cell("$sshr", &[])));
        assert!(datapath_cell(&cell(
            "$memrd_v2",
            &["parameter \\CLK_ENABLE 0"]
        )));
        assert!(!datapath_cell(&cell(
            "$memrd_v2",
            &["parameter \\CLK_ENABLE 1"]
        )));
        assert!(!datapath_cell(&cell("$memwr_v2", &[])));
        assert!(!datapath_cell(&cell("$mux", &[])));
        assert!(!datapath_cell(&cell("$pmux", &[])));
        assert!(!datapath_cell(&cell("$dff", &[])));
        assert!(!datapath_cell(&cell("$dffe", &[])));
        assert!(!datapath_cell(&cell("\\fa", &[])));
    }

    #[test]
    fn memory_clocks_and_async_read_enables_are_not_mutated() {
        let clk = "mutate -mode inv -module t -cell $flatten\\e.$auto$proc_memwr.cc:45:proc_memwr$2143 -port CLK -portbit 0";
        let en_rd = "mutate -mode inv -module t -cell $flatten\\e.$memrd$\\valid$x.v:576$255 -port EN -portbit 0";
        let en_wr = "mutate -mode const1 -module t -cell $flatten\\e.$auto$proc_memwr.cc:45:proc_memwr$2145 -port EN -portbit 0";
        let addr = "mutate -mode const1 -module t -cell $flatten\\e.$memrd$\\valid$x.v:576$251 -port ADDR -portbit 1";
        assert!(!is_circuit(clk));
        assert!(!is_circuit(en_rd));
        assert!(is_circuit(en_wr));
        assert!(is_circuit(addr));
    }

    #[test]
    fn cell_paths_and_blocks() {
        assert_eq!(cell_path("$flatten\\hoa.\\hdc.$and$x.v:1$2"), "hoa.hdc");
        assert_eq!(cell_path("$procmux$3881_CMP0"), "");
        assert_eq!(cell_path("$flatten\\state.$procdff$1"), "state");
        assert_eq!(cell_path("hpa.pool.low.q[7:0]$dff"), "hpa.pool.low");
        assert_eq!(
            cell_path("hoa.line_q.q[32:0]$\\hoa.line_q.q[304:268]$dff"),
            "hoa.line_q"
        );
        assert_eq!(cell_path("q[3:0]$dff"), "");
        let regs: BTreeSet<String> = ["state", "hoa.state", "hpa.pool.low"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(block_path("state", &regs), "");
        assert_eq!(block_path("hpa.pool.low", &regs), "hpa.pool");
        assert_eq!(block_path("hoa.hdc", &regs), "hoa.hdc");
        assert_eq!(canonical(Design::MementoCore, "hoa"), "object_alloc");
        assert_eq!(canonical(Design::ObjectAlloc, ""), "object_alloc");
        assert_eq!(
            canonical(Design::MementoCore, "hpa.pool.stack"),
            "frame_stack"
        );
    }

    #[test]
    fn selections_leave_out_other_blocks() {
        assert_eq!(
            path_pattern("hoa.hdc"),
            "c:$flatten?hoa.?hdc.* c:hoa.hdc.* %u"
        );
        let s = block_selection(
            &["hoa".into(), "hoa.room_rom".into()],
            &["hoa.hdc".into(), "hpa".into(), "".into()],
        );
        assert_eq!(
            s,
            "c:$flatten?hoa.* c:hoa.* %u c:$flatten?hoa.?room_rom.* c:hoa.room_rom.* %u %u \
             c:$flatten?hoa.?hdc.* c:hoa.hdc.* %u %d"
        );
        let s = block_selection(&["".into()], &["hdc".into()]);
        assert_eq!(s, "c:* c:$flatten?hdc.* c:hdc.* %u %d");
    }

    #[test]
    fn registers_are_found_by_their_ports() {
        let v = "module t(clock,a);\nmodule t$state(d,q,clock);\nmodule t$hoa$src_va(d,q,clock);\nmodule t$hoa$hdc(clock,rst);\n";
        let r = register_paths(v, "t");
        assert!(r.contains("state") && r.contains("hoa.src_va") && !r.contains("hoa.hdc"));
    }
}
