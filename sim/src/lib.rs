//! Verilator models of the Memento designs and a safe handle to drive them from Rust.
//!
//! `build.rs` verilates the Verilog that `memento-hw` emits and links it with a generated C++
//! shim. [`Model`] owns one Verilated instance (with its own `VerilatedContext`) and offers:
//! poke inputs, [`Model::settle`] the combinational logic, peek outputs, [`Model::step`] one
//! clock edge, and waveforms on and off ([`Model::trace_on`]).
//!
//! A cycle is: poke the inputs, `settle()`, peek outputs (they may depend on this cycle's inputs),
//! then `step()`.

use std::ffi::{c_char, c_void, CString};
use std::path::{Path, PathBuf};

/// A port of a generated top module.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub id: u32,
    pub width: u32,
    pub input: bool,
    pub name: &'static str,
}

impl Port {
    /// 32-bit words the port's value occupies.
    pub fn words(&self) -> usize {
        self.width.div_ceil(32).max(2) as usize
    }
}

/// The entry points of one compiled model.
#[doc(hidden)]
pub struct VTable {
    pub name: &'static str,
    pub new: unsafe extern "C" fn() -> *mut c_void,
    pub free: unsafe extern "C" fn(*mut c_void),
    pub settle: unsafe extern "C" fn(*mut c_void),
    pub step: unsafe extern "C" fn(*mut c_void),
    pub poke: unsafe extern "C" fn(*mut c_void, u32, *const u32),
    pub peek: unsafe extern "C" fn(*mut c_void, u32, *mut u32),
    pub trace_open: unsafe extern "C" fn(*mut c_void, *const c_char) -> i32,
    pub trace_close: unsafe extern "C" fn(*mut c_void),
    pub error_count: unsafe extern "C" fn(*mut c_void) -> i32,
    pub coverage_write: unsafe extern "C" fn(*mut c_void, *const c_char) -> i32,
    pub ports: &'static [Port],
}

impl VTable {
    /// The port called `name`, if the design has one.
    pub fn port(&self, name: &str) -> Option<Port> {
        self.ports.iter().find(|p| p.name == name).copied()
    }
}

/// How the models linked into this program were built (`sim/build.rs`).
#[derive(Copy, Clone, Debug)]
pub struct LinkedBuild {
    /// Verilated with `--trace-fst`: they write waveforms themselves.
    pub trace: bool,
    /// Evaluations a clock cycle (see the shim).
    pub evals: u32,
    /// What the Verilator they were built with prints for `--version`.
    pub verilator: &'static str,
    /// Verilated with `--coverage`.
    pub coverage: bool,
}

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

mod common;
pub mod dynamic;
pub mod record;
mod shim_cases;

/// The project this crate was built in: run-time builds cache under its `build/sim/`.
pub const PROJECT_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

pub use common::hash_hex;

/// The linked model called `name`: its design and parameters.
fn linked_variant(name: &str) -> Option<memento_hw::emit::Variant> {
    variant_table()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, design, params)| memento_hw::emit::Variant {
            name: n.to_string(),
            design,
            params,
        })
}

type BuiltKey = (String, dynamic::Flavor);
static BUILT: std::sync::Mutex<Vec<(BuiltKey, dynamic::Loaded)>> =
    std::sync::Mutex::new(Vec::new());

/// The linked model `vt` built again as `flavor` at run time (verilated, compiled and cached
/// under `build/sim/dyn/`, then loaded). The first call for a design and flavor in a process
/// builds or finds the library; later calls return the same table.
pub fn build_flavor(
    vt: &'static VTable,
    flavor: &dynamic::Flavor,
) -> Result<dynamic::Loaded, String> {
    let variant = linked_variant(vt.name)
        .ok_or_else(|| format!("{} is not a model linked into this program", vt.name))?;
    // One build at a time: two threads asking for the same library must not both make it.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let key = (vt.name.to_string(), flavor.clone());
    if let Some((_, l)) = built.iter().find(|(k, _)| *k == key) {
        return Ok(*l);
    }
    let text = memento_hw::emit::variant_verilog_as(&variant, flavor.sim_forms)
        .map_err(|e| e.to_string())?;
    let base = Path::new(PROJECT_ROOT).join("build/sim/dyn");
    let dir = base.join(format!(
        "{}-{}",
        vt.name,
        &hash_hex(&[text.as_bytes()])[..16]
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let vfile = dir.join(format!("{}.v", vt.name));
    std::fs::write(&vfile, &text).map_err(|e| format!("{}: {e}", vfile.display()))?;
    let lib = dynamic::build(vt.name, &vfile, vt.ports, &dir, &base, flavor)?;
    let loaded = dynamic::load(&lib, vt.name, vt.ports)?;
    built.push((key, loaded));
    Ok(loaded)
}

/// A model of the same design as `vt` that can write waveforms: `vt` itself when the linked
/// models are built with tracing, else a tracing build made at run time ([`build_flavor`]; the
/// first waveform of a design costs one Verilator and C++ build, cached under `build/sim/dyn/`).
/// A model substituted at run time (a mutant) is returned as it is.
pub fn with_tracing(vt: &'static VTable) -> Result<&'static VTable, String> {
    let linked = VARIANTS.iter().any(|(_, t)| std::ptr::eq(*t, vt));
    if LINKED.trace || !linked {
        return Ok(vt);
    }
    let flavor = dynamic::Flavor {
        verilator: dynamic::Verilator::on_path()?,
        trace: true,
        evals: 3,
        mutsel: false,
        cxx_opt: 1,
        sim_forms: true,
    };
    build_flavor(vt, &flavor).map(|l| l.vt)
}

/// The compiled model of `design` built for `params`, if the project builds that variant
/// (see `memento_hw::emit::variants`).
pub fn model_for(
    design: memento_hw::emit::Design,
    params: &memento_hw::Params,
) -> Option<&'static VTable> {
    if let Some(vt) = dynamic::substitute_for(design, params) {
        return Some(vt);
    }
    let name = variant_table()
        .into_iter()
        .find(|(_, d, p)| *d == design && p == params)?
        .0;
    VARIANTS.iter().find(|(n, _)| *n == name).map(|(_, vt)| *vt)
}

/// Waveform file formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WaveFormat {
    /// FST, written directly by Verilator (compact).
    Fst,
    /// VCD, converted from FST with GTKWave's `fst2vcd` when tracing stops.
    Vcd,
}

impl WaveFormat {
    pub fn extension(self) -> &'static str {
        match self {
            WaveFormat::Fst => "fst",
            WaveFormat::Vcd => "vcd",
        }
    }
}

struct Tracing {
    path: PathBuf,
    format: WaveFormat,
}

/// One running instance of a Verilated design.
pub struct Model {
    raw: *mut c_void,
    vt: &'static VTable,
    cycle: u64,
    tracing: Option<Tracing>,
    recorder: Option<Box<record::Recorder>>,
}

// The Verilated instance has its own context and is only touched through `&mut self`.
unsafe impl Send for Model {}

impl Model {
    /// A fresh instance of the design whose entry points are `vt` (for example
    /// `&memento_sim::object_alloc::VTABLE`).
    pub fn new(vt: &'static VTable) -> Self {
        let raw = unsafe { (vt.new)() };
        assert!(!raw.is_null(), "model {} failed to construct", vt.name);
        dynamic::on_new(vt, raw);
        Model {
            raw,
            vt,
            cycle: 0,
            tracing: None,
            recorder: record::take_arm().map(|n| Box::new(record::Recorder::new(vt, n))),
        }
    }

    /// Name of the design.
    pub fn name(&self) -> &'static str {
        self.vt.name
    }

    /// Rising edges since construction.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// Drives an input of up to 64 bits.
    pub fn poke(&mut self, port: Port, value: u64) {
        debug_assert!(port.input, "{} is an output", port.name);
        debug_assert!(port.width <= 64, "{} is wide: use poke_wide", port.name);
        let w = [value as u32, (value >> 32) as u32];
        unsafe { (self.vt.poke)(self.raw, port.id, w.as_ptr()) }
    }

    /// Drives a wide input from little-endian 32-bit words.
    pub fn poke_wide(&mut self, port: Port, words: &[u32]) {
        assert!(port.input, "{} is an output", port.name);
        assert!(
            words.len() >= port.width.div_ceil(32) as usize,
            "{} needs {} bits",
            port.name,
            port.width
        );
        unsafe { (self.vt.poke)(self.raw, port.id, words.as_ptr()) }
    }

    /// Samples a port of up to 64 bits.
    pub fn peek(&mut self, port: Port) -> u64 {
        debug_assert!(port.width <= 64, "{} is wide: use peek_wide", port.name);
        let mut w = [0u32; 2];
        unsafe { (self.vt.peek)(self.raw, port.id, w.as_mut_ptr()) }
        w[0] as u64 | ((w[1] as u64) << 32)
    }

    /// Samples a wide port into little-endian 32-bit words.
    pub fn peek_wide(&mut self, port: Port, words: &mut [u32]) {
        assert!(
            words.len() >= port.width.div_ceil(32) as usize,
            "{} needs {} bits",
            port.name,
            port.width
        );
        unsafe { (self.vt.peek)(self.raw, port.id, words.as_mut_ptr()) }
    }

    /// RTL assertion failures (`$error`) so far. Verilator prints each one's message on stdout.
    pub fn rtl_errors(&mut self) -> u32 {
        unsafe { (self.vt.error_count)(self.raw) as u32 }
    }

    fn port_named(&self, name: &str) -> Port {
        self.vt
            .port(name)
            .unwrap_or_else(|| panic!("{} has no port {name}", self.vt.name))
    }

    /// Holds `rst` high for two rising edges, then releases it.
    pub fn reset(&mut self) {
        let rst = self.port_named("rst");
        self.poke(rst, 1);
        for _ in 0..2 {
            self.settle();
            self.step();
        }
        self.poke(rst, 0);
    }

    /// Writes config registers, one `(cfg_sel, cfg_data)` a cycle, through the config port.
    pub fn configure(&mut self, writes: &[(u64, u64)]) {
        let (valid, sel, data) = (
            self.port_named("cfg_valid"),
            self.port_named("cfg_sel"),
            self.port_named("cfg_data"),
        );
        for &(s, d) in writes {
            self.poke(valid, 1);
            self.poke(sel, s);
            self.poke(data, d);
            self.settle();
            self.step();
        }
        self.poke(valid, 0);
    }

    /// Evaluates the combinational logic for the inputs poked so far.
    pub fn settle(&mut self) {
        unsafe { (self.vt.settle)(self.raw) }
    }

    /// One rising clock edge.
    pub fn step(&mut self) {
        if self.recorder.as_ref().is_some_and(|r| r.wants_more()) {
            // The inputs as the harness left them, and the outputs they settle to.
            self.settle();
            let (vt, raw) = (self.vt, self.raw);
            if let Some(r) = self.recorder.as_mut() {
                r.sample(|p, w| unsafe { (vt.peek)(raw, p.id, w.as_mut_ptr()) });
            }
        }
        unsafe { (self.vt.step)(self.raw) }
        self.cycle += 1;
    }

    /// Starts writing a waveform to `path` (its extension is replaced by the format's).
    pub fn trace_on(&mut self, path: &Path, format: WaveFormat) -> std::io::Result<PathBuf> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let target = path.with_extension(format.extension());
        let fst = path.with_extension("fst");
        let c = CString::new(fst.to_string_lossy().as_bytes()).expect("path without NUL");
        if unsafe { (self.vt.trace_open)(self.raw, c.as_ptr()) } != 0 {
            return Err(std::io::Error::other(format!(
                "cannot open {}",
                fst.display()
            )));
        }
        self.tracing = Some(Tracing { path: fst, format });
        Ok(target)
    }

    /// Stops tracing and finishes the file (converting to VCD if that was asked for).
    pub fn trace_off(&mut self) -> std::io::Result<()> {
        unsafe { (self.vt.trace_close)(self.raw) }
        if let Some(t) = self.tracing.take() {
            strip_fst_date(&t.path)?;
            if t.format == WaveFormat::Vcd {
                let vcd = t.path.with_extension("vcd");
                let status = std::process::Command::new("fst2vcd")
                    .arg("-f")
                    .arg(&t.path)
                    .arg("-o")
                    .arg(&vcd)
                    .status()
                    .map_err(|e| std::io::Error::other(format!("fst2vcd (from gtkwave): {e}")))?;
                if !status.success() {
                    return Err(std::io::Error::other(format!(
                        "fst2vcd failed on {}",
                        t.path.display()
                    )));
                }
                std::fs::remove_file(&t.path)?;
            }
        }
        Ok(())
    }
}

/// The FST writer stamps the wall-clock date into the header (119 bytes at offset 202, after the
/// tag, the section length, seven 64-bit fields, the timescale and the 128-byte version). A fixed
/// text replaces it, so that two runs with the same seed give byte-identical waveforms.
fn strip_fst_date(path: &Path) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    const DATE_OFFSET: u64 = 202;
    const DATE_SIZE: usize = 119;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let mut tag = [0u8; 1];
    f.read_exact(&mut tag)?;
    if tag[0] != 0 {
        return Err(std::io::Error::other(format!(
            "{}: not an FST header block",
            path.display()
        )));
    }
    let mut date = [0u8; DATE_SIZE];
    let text = b"memento-rtl: no wall-clock date\n";
    date[..text.len()].copy_from_slice(text);
    f.seek(SeekFrom::Start(DATE_OFFSET))?;
    f.write_all(&date)
}

/// Where a `--coverage` build writes each model's points when the model is dropped, unless
/// [`set_coverage_dir`] says elsewhere.
pub const COVERAGE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../build/coverage");

static COVERAGE_TO: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// Models dropped from now on write their coverage points (a `--coverage` build) to `dir`
/// instead of [`COVERAGE_DIR`]: a shard of a regression keeps its own beside its report.
pub fn set_coverage_dir(dir: &Path) {
    *COVERAGE_TO.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.to_path_buf());
}

/// Where coverage points go now.
pub fn coverage_dir() -> PathBuf {
    COVERAGE_TO
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| PathBuf::from(COVERAGE_DIR))
}

impl Model {
    /// A `--coverage` build (`make coverage`) writes this model's coverage points to
    /// `<coverage_dir()>/<design>-<pid>-<n>.dat`; other builds do nothing.
    fn write_coverage(&mut self) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if !cfg!(feature = "coverage") {
            return;
        }
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = coverage_dir();
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{}-{}-{n}.dat", self.vt.name, std::process::id()));
        let c = CString::new(path.to_string_lossy().as_bytes()).expect("path without NUL");
        unsafe { (self.vt.coverage_write)(self.raw, c.as_ptr()) };
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        if let Some(r) = self.recorder.take() {
            record::finished(r.rec);
        }
        let _ = self.trace_off();
        self.write_coverage();
        unsafe { (self.vt.free)(self.raw) }
    }
}
