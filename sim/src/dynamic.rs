//! Models built at run time: a Verilog file verilated and compiled into a shared library, loaded
//! with `dlopen` and driven through the same [`VTable`] as the models linked at build time.
//!
//! The mutation runner uses it. Its Verilog is a design with every mutant of a block built in,
//! each behind `mutsel == k` (Yosys `mutate -ctrl`), so one library serves all of them: a
//! [`Substitute`] makes [`crate::model_for`] hand out the library's table instead of the linked
//! model of that design, and makes every [`crate::Model`] it builds select mutant `k` on this
//! thread. The library's ports keep the linked model's ids (matched by name), so every harness
//! drives it unchanged; `mutsel` is not among them.

use crate::shim_cases::ShimPort;
use crate::{Port, VTable};
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The C++ shim of a run-time model: the entry points of `VTable` plus `<name>_select`.
const SHIM: &str = r#"// Shim of a model built at run time by memento-sim (dynamic.rs).
#include <cstdint>
#include "V@NAME@.h"
#include "verilated.h"

namespace {
struct Model {
    VerilatedContext* ctx;
    V@NAME@* top;
};
}

extern "C" {
void* @NAME@_new() {
    Model* m = new Model;
    m->ctx = new VerilatedContext;
    m->ctx->errorLimit(1 << 30);
    m->top = new V@NAME@(m->ctx, "@NAME@");
    m->top->clock = 0;
    m->top->mutsel = 0;
    m->top->eval();
    return m;
}
void @NAME@_free(void* p) {
    Model* m = static_cast<Model*>(p);
    m->top->final();
    delete m->top;
    delete m->ctx;
    delete m;
}
void @NAME@_settle(void* p) { static_cast<Model*>(p)->top->eval(); }
void @NAME@_step(void* p) {
    Model* m = static_cast<Model*>(p);
    m->top->clock = 1;
    m->top->eval();
    m->top->clock = 0;
    m->top->eval();
}
void @NAME@_select(void* p, uint32_t k) {
    Model* m = static_cast<Model*>(p);
    m->top->mutsel = k;
    m->top->eval();
}
void @NAME@_poke(void* p, uint32_t port, const uint32_t* w) {
    Model* m = static_cast<Model*>(p);
    switch (port) {
@POKE@
    default: break;
    }
}
void @NAME@_peek(void* p, uint32_t port, uint32_t* w) {
    Model* m = static_cast<Model*>(p);
    switch (port) {
@PEEK@
    default: break;
    }
}
int @NAME@_trace_open(void*, const char*) { return -1; }
void @NAME@_trace_close(void*) {}
int @NAME@_error_count(void* p) { return static_cast<Model*>(p)->ctx->errorCount(); }
int @NAME@_coverage_write(void*, const char*) { return 0; }
}
"#;

/// A model loaded from a shared library: its table and its mutant selector.
#[derive(Clone, Copy)]
pub struct Loaded {
    pub vt: &'static VTable,
    select: unsafe extern "C" fn(*mut c_void, u32),
}

/// The shim for a top module `name` whose ports are `ports` (ids kept), plus `mutsel`.
fn shim(name: &str, ports: &[Port]) -> String {
    let (poke, peek) = crate::shim_cases::cases(ports.iter().map(|p| ShimPort {
        id: p.id,
        name: p.name,
        width: p.width,
        input: p.input,
    }));
    SHIM.replace("@NAME@", name)
        .replace("@POKE@", &poke)
        .replace("@PEEK@", &peek)
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

fn verilator_root() -> Result<PathBuf, String> {
    let out = Command::new("verilator")
        .args(["--getenv", "VERILATOR_ROOT"])
        .output()
        .map_err(|e| format!("verilator not found ({e}): run `make deps`"))?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}

/// The Verilator runtime compiled once as position-independent objects under `dir`.
fn runtime_objects(dir: &Path, root: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let inc = root.join("include");
    let mut objs = vec![];
    for src in ["verilated.cpp", "verilated_threads.cpp"] {
        let obj = dir.join(src.replace(".cpp", ".o"));
        if !obj.exists() {
            let tmp = obj.with_extension("o.tmp");
            run(
                Command::new("g++")
                    .args(["-std=c++17", "-O2", "-fPIC", "-c"])
                    .arg(format!("-I{}", inc.display()))
                    .arg(format!("-I{}", inc.join("vltstd").display()))
                    .arg(inc.join(src))
                    .arg("-o")
                    .arg(&tmp),
                &format!("compiling the Verilator runtime ({src})"),
                &dir.join(format!("{src}.log")),
            )?;
            std::fs::rename(&tmp, &obj).map_err(|e| format!("{}: {e}", obj.display()))?;
        }
        objs.push(obj);
    }
    Ok(objs)
}

/// Verilates `verilog` (top module `name`, with a `mutsel` input) and compiles it with its shim
/// into `dir/lib<name>.so`, keeping the port ids of `ports`. `runtime` caches the Verilator
/// runtime's objects between builds. Returns the library's path; a library already there is
/// reused (the caller puts a content hash in `dir`).
pub fn build(
    name: &str,
    verilog: &Path,
    ports: &[Port],
    dir: &Path,
    runtime: &Path,
) -> Result<PathBuf, String> {
    let lib = dir.join(format!("lib{name}.so"));
    if lib.exists() {
        return Ok(lib);
    }
    let root = verilator_root()?;
    let rt = runtime_objects(runtime, &root)?;
    let obj = dir.join("obj");
    std::fs::create_dir_all(&obj).map_err(|e| format!("{}: {e}", obj.display()))?;
    run(
        Command::new("verilator")
            .args(["--cc", "-O3", "--x-assign", "fast", "--x-initial", "fast"])
            .args(["-Wno-fatal", "-Wno-WIDTH", "-Wno-UNOPTFLAT"])
            .arg("--prefix")
            .arg(format!("V{name}"))
            .arg("--top-module")
            .arg(name)
            .arg("--Mdir")
            .arg(&obj)
            .arg(verilog),
        &format!("verilating {}", verilog.display()),
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
    let inc = root.join("include");
    let tmp = dir.join(format!("lib{name}.so.tmp"));
    run(
        Command::new("g++")
            .args(["-std=c++17", "-O1", "-fPIC", "-shared", "-Wl,-Bsymbolic"])
            .arg(format!("-I{}", inc.display()))
            .arg(format!("-I{}", inc.join("vltstd").display()))
            .arg(format!("-I{}", obj.display()))
            .arg(&shim_path)
            .args(&sources)
            .args(&rt)
            .args(["-lpthread", "-o"])
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
        select: sym(handle, &f("select"))?,
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
                unsafe { (s.loaded.select)(raw, s.mutant) }
            }
        }
    })
}
