//! Emits the Verilog of every design, verilates it and compiles it with the C++ shim.
//!
//! The compiled model is cached under `build/sim/<design>-<key>/`, where the key hashes the
//! Verilog text, the Verilator flags, the shim template and `verilator --version`. When all four
//! are unchanged a rebuild reuses the archive and runs neither Verilator nor the C++ compiler.

#[path = "src/shim_cases.rs"]
mod shim_cases;
use shim_cases::ShimPort;

use memento_hw::emit::{variant_verilog, Variant};
use memento_runs::{sweep_variants, variants_with, workspace_list, workspace_sweep};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/common.rs"]
mod common;
use common::{hash_hex as hash, TRACE_FLAGS, VERILATOR_FLAGS as FLAGS};
const SHIM_TEMPLATE: &str = include_str!("src/shim.cpp.in");

struct PortDecl {
    name: String,
    input: bool,
    width: u32,
}

/// How the linked models are built: the Verilator and the choices the shim is compiled with.
struct Build {
    verilator: String,
    root: String,
    version: String,
    coverage: bool,
    trace: bool,
    evals: u32,
}

impl Build {
    /// From the features and the environment: `MEMENTO_VERILATOR` names the Verilator (default:
    /// the one on `PATH`); the `trace` feature builds models that write waveforms themselves (else
    /// a waveform run gets a tracing build at run time); `MEMENTO_EVALS` = 3 keeps the falling
    /// edge's evaluation (default 2: folded into the next settle).
    fn from_env() -> Build {
        println!("cargo:rerun-if-env-changed=MEMENTO_VERILATOR");
        println!("cargo:rerun-if-env-changed=MEMENTO_EVALS");
        let verilator = std::env::var("MEMENTO_VERILATOR").unwrap_or_else(|_| "verilator".into());
        let version = run_capture(Command::new(&verilator).arg("--version")).unwrap_or_else(|e| {
            panic!("{verilator} not found ({e}): run `make deps` or scripts/install-deps.sh first")
        });
        let root = run_capture(Command::new(&verilator).args(["--getenv", "VERILATOR_ROOT"]))
            .unwrap_or_else(|e| panic!("{verilator} --getenv VERILATOR_ROOT: {e}"))
            .trim()
            .to_string();
        let evals = match std::env::var("MEMENTO_EVALS").as_deref() {
            Err(_) | Ok("2") => 2,
            Ok("3") => 3,
            Ok(other) => panic!("MEMENTO_EVALS={other}: it takes 2 or 3"),
        };
        Build {
            verilator,
            root,
            version: version.trim().to_string(),
            coverage: std::env::var("CARGO_FEATURE_COVERAGE").is_ok(),
            trace: std::env::var("CARGO_FEATURE_TRACE").is_ok(),
            evals,
        }
    }

    fn flags(&self) -> Vec<&'static str> {
        let mut flags: Vec<&str> = FLAGS.to_vec();
        if self.trace {
            flags.extend(TRACE_FLAGS);
        }
        if self.coverage {
            flags.push("--coverage");
        }
        flags
    }

    /// Defines of the runtime, the models and the shim.
    fn defines(&self, b: &mut cc::Build) {
        let bit = |on: bool| if on { "1" } else { "0" };
        b.define("VM_TRACE", bit(self.trace))
            .define("VM_TRACE_FST", bit(self.trace))
            .define("VM_TRACE_VCD", "0")
            .define("VM_TRACE_SAIF", "0")
            .define("VM_SC", "0")
            .define("VM_TIMING", "0")
            .define("VM_COVERAGE", bit(self.coverage))
            .define("MEMENTO_EVALS", self.evals.to_string().as_str())
            .define("MEMENTO_MUTSEL", "0");
    }

    /// Everything that shapes a compiled model besides its Verilog and shim.
    fn key(&self) -> String {
        format!(
            "{} | {} | {} | evals {} | cov {} | trace {}",
            self.version,
            self.root,
            self.flags().join(" "),
            self.evals,
            self.coverage,
            self.trace
        )
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/shim.cpp.in");
    println!("cargo:rerun-if-changed=../hw/lint/waivers.vlt");
    println!("cargo:rerun-if-env-changed=PATH");

    let build = Build::from_env();
    let flags = build.flags();
    let mut bindings = String::new();
    let rt_lib = build_runtime(&root, &build);
    println!("cargo:rerun-if-changed=../tb/regressions.toml");
    let list = workspace_list(&root).unwrap_or_else(|e| panic!("the regression list: {e}"));
    let mut all: Vec<Variant> = variants_with(&list);
    if std::env::var("CARGO_FEATURE_SWEEP").is_ok() {
        // `make sweep`: a memento_top for every point of tb/sweep.toml as well.
        println!("cargo:rerun-if-changed=../tb/sweep.toml");
        let sweep = workspace_sweep(&root).unwrap_or_else(|e| panic!("the sweep list: {e}"));
        let extra = sweep_variants(&sweep, &all);
        all.extend(extra);
    }
    for variant in &all {
        let name = variant.name.as_str();
        let text = variant_verilog(variant).expect("the project's variants validate");
        let vdir = root.join("build/verilog");
        std::fs::create_dir_all(&vdir).unwrap();
        let vfile = vdir.join(format!("{name}.v"));
        if std::fs::read_to_string(&vfile).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&vfile, &text).unwrap();
        }
        let ports = parse_ports(&text, name);
        let shim = render_shim(name, &ports);
        let key = hash(&[text.as_bytes(), build.key().as_bytes(), shim.as_bytes()]);
        let cache = root
            .join("build/sim")
            .join(format!("{name}-{}", &key[..16]));
        let lib = format!("memento_{name}");
        if !cache.join(format!("lib{lib}.a")).exists() {
            verilate(name, &vfile, &cache, &build.verilator, &flags);
            compile_model(name, &cache, &shim, &build, &lib);
        }
        println!("cargo:rustc-link-search=native={}", cache.display());
        println!("cargo:rustc-link-lib=static={lib}");
        write_bindings(&mut bindings, name, &ports);
    }
    println!("cargo:rustc-link-search=native={}", rt_lib.0.display());
    println!("cargo:rustc-link-lib=static={}", rt_lib.1);
    println!("cargo:rustc-link-lib=stdc++");
    println!("cargo:rustc-link-lib=z");
    println!("cargo:rustc-link-lib=pthread");
    println!("cargo:rustc-link-lib=atomic");
    write_variant_table(&mut bindings, &all);
    let _ = writeln!(
        bindings,
        "/// How the linked models were built.\npub const LINKED: LinkedBuild = LinkedBuild {{ trace: {}, evals: {}, verilator: {:?}, coverage: {} }};",
        build.trace, build.evals, build.version, build.coverage
    );
    std::fs::write(out_dir.join("bindings.rs"), bindings).unwrap();
}

/// The tables of every compiled variant: by (design, parameters) and by module name.
fn write_variant_table(bindings: &mut String, all: &[Variant]) {
    let names: Vec<String> = all
        .iter()
        .map(|v| format!("(\"{0}\", &{0}::VTABLE)", v.name))
        .collect();
    let table: Vec<String> = all
        .iter()
        .map(|v| {
            format!(
                "(\"{}\", memento_hw::emit::Design::{:?}, memento_hw::{:?})",
                v.name, v.design, v.params
            )
        })
        .collect();
    let _ = writeln!(
        *bindings,
        "/// Every compiled variant: module name, design, parameters."
    );
    let _ = writeln!(
        *bindings,
        "pub fn variant_table() -> Vec<(&'static str, memento_hw::emit::Design, memento_hw::Params)> {{ vec![{}] }}",
        table.join(", ")
    );
    let _ = writeln!(*bindings, "/// Every compiled variant by module name.");
    let _ = writeln!(
        *bindings,
        "pub const VARIANTS: &[(&str, &VTable)] = &[{}];",
        names.join(", ")
    );
}

fn run_capture(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The Verilator runtime (verilated.cpp, the FST writer when tracing), built once per Verilator
/// and build choices.
fn build_runtime(root: &Path, build: &Build) -> (PathBuf, String) {
    let key = hash(&[build.key().as_bytes(), b"runtime-v2"]);
    let dir = root
        .join("build/sim")
        .join(format!("runtime-{}", &key[..16]));
    let lib = "memento_verilated".to_string();
    if !dir.join(format!("lib{lib}.a")).exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let inc = Path::new(&build.root).join("include");
        let mut b = cc::Build::new();
        b.cpp(true)
            .std("c++17")
            .opt_level(2)
            .warnings(false)
            .cargo_metadata(false)
            .out_dir(&dir)
            .include(&inc)
            .include(inc.join("vltstd"))
            .file(inc.join("verilated.cpp"))
            .file(inc.join("verilated_threads.cpp"));
        build.defines(&mut b);
        if build.trace {
            b.file(inc.join("verilated_fst_c.cpp"));
        }
        if build.coverage {
            b.file(inc.join("verilated_cov.cpp"));
        }
        b.compile(&lib);
    }
    (dir, lib)
}

fn verilate(name: &str, vfile: &Path, cache: &Path, verilator: &str, flags: &[&str]) {
    let obj = cache.join("obj");
    std::fs::create_dir_all(&obj).unwrap();
    let status = Command::new(verilator)
        .args(flags)
        .arg("--prefix")
        .arg(format!("V{name}"))
        .arg("--top-module")
        .arg(name)
        .arg("--Mdir")
        .arg(&obj)
        .arg(vfile)
        .status()
        .expect("run verilator");
    assert!(status.success(), "verilator failed on {}", vfile.display());
}

fn compile_model(name: &str, cache: &Path, shim: &str, build: &Build, lib: &str) {
    let obj = cache.join("obj");
    let shim_path = cache.join(format!("{name}_shim.cpp"));
    std::fs::write(&shim_path, shim).unwrap();
    let classes = std::fs::read_to_string(obj.join(format!("V{name}_classes.mk"))).unwrap();
    let mut files = vec![];
    for var in [
        "VM_CLASSES_FAST",
        "VM_CLASSES_SLOW",
        "VM_SUPPORT_FAST",
        "VM_SUPPORT_SLOW",
    ] {
        files.extend(make_list(&classes, var));
    }
    let inc = Path::new(&build.root).join("include");
    let mut b = cc::Build::new();
    b.cpp(true)
        .std("c++17")
        .opt_level(2)
        .warnings(false)
        .cargo_metadata(false)
        .out_dir(cache)
        .include(&inc)
        .include(inc.join("vltstd"))
        .include(&obj)
        .file(&shim_path);
    build.defines(&mut b);
    for f in files {
        b.file(obj.join(format!("{f}.cpp")));
    }
    b.compile(lib);
}

/// The words of a `VAR += a b c` list in a Verilator `_classes.mk`.
fn make_list(mk: &str, var: &str) -> Vec<String> {
    let mut out = vec![];
    let mut active = false;
    for line in mk.lines() {
        let t = line.trim();
        if t.starts_with(var) && t.contains('=') {
            active = true;
            continue;
        }
        if active {
            let word = t.trim_end_matches('\\').trim();
            if !word.is_empty() {
                out.push(word.to_string());
            }
            if !t.ends_with('\\') {
                active = false;
            }
        }
    }
    out
}

/// Port declarations of the top module, in order, from rust-hdl's `input wire [N:0] name;` lines.
fn parse_ports(text: &str, name: &str) -> Vec<PortDecl> {
    let start = text.find(&format!("module {name}(")).expect("top module");
    let body = &text[start..];
    let end = body.find("endmodule").unwrap();
    let mut ports = vec![];
    for line in body[..end].lines() {
        let t = line.trim().trim_end_matches(';');
        let (input, rest) = if let Some(r) = t.strip_prefix("input wire") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("output reg") {
            (false, r)
        } else if let Some(r) = t.strip_prefix("output wire") {
            (false, r)
        } else {
            continue;
        };
        let rest = rest.trim();
        let (width, pname) = if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').unwrap();
            let msb: u32 = r[..close]
                .split(':')
                .next()
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            (msb + 1, r[close + 1..].trim())
        } else {
            (1, rest)
        };
        ports.push(PortDecl {
            name: pname.to_string(),
            input,
            width,
        });
    }
    ports
}

fn render_shim(name: &str, ports: &[PortDecl]) -> String {
    let (poke, peek) = shim_cases::cases(ports.iter().enumerate().map(|(id, p)| ShimPort {
        id: id as u32,
        name: &p.name,
        width: p.width,
        input: p.input,
    }));
    SHIM_TEMPLATE
        .replace("@NAME@", name)
        .replace("@POKE_CASES@", &poke)
        .replace("@PEEK_CASES@", &peek)
}

fn write_bindings(out: &mut String, name: &str, ports: &[PortDecl]) {
    let _ = writeln!(out, "/// Ports and entry points of the `{name}` model.");
    let _ = writeln!(out, "pub mod {name} {{");
    let _ = writeln!(out, "    use crate::Port;");
    for (id, p) in ports.iter().enumerate() {
        let _ = writeln!(
            out,
            "    pub const {}: Port = Port {{ id: {id}, width: {}, input: {}, name: \"{}\" }};",
            p.name.to_uppercase(),
            p.width,
            p.input,
            p.name
        );
    }
    let list: Vec<String> = ports.iter().map(|p| p.name.to_uppercase()).collect();
    let _ = writeln!(
        out,
        "    pub const PORTS: &[Port] = &[{}];",
        list.join(", ")
    );
    let _ = writeln!(out, "    extern \"C\" {{");
    for f in [
        "fn {n}_new() -> *mut core::ffi::c_void;",
        "fn {n}_free(m: *mut core::ffi::c_void);",
        "fn {n}_settle(m: *mut core::ffi::c_void);",
        "fn {n}_step(m: *mut core::ffi::c_void);",
        "fn {n}_poke(m: *mut core::ffi::c_void, port: u32, words: *const u32);",
        "fn {n}_peek(m: *mut core::ffi::c_void, port: u32, words: *mut u32);",
        "fn {n}_trace_open(m: *mut core::ffi::c_void, path: *const core::ffi::c_char) -> i32;",
        "fn {n}_trace_close(m: *mut core::ffi::c_void);",
        "fn {n}_error_count(m: *mut core::ffi::c_void) -> i32;",
        "fn {n}_coverage_write(m: *mut core::ffi::c_void, path: *const core::ffi::c_char) -> i32;",
    ] {
        let _ = writeln!(out, "        pub {}", f.replace("{n}", name));
    }
    let _ = writeln!(out, "    }}");
    let _ = writeln!(
        out,
        "    pub const VTABLE: crate::VTable = crate::VTable {{ name: \"{name}\", new: {name}_new, free: {name}_free, settle: {name}_settle, step: {name}_step, poke: {name}_poke, peek: {name}_peek, trace_open: {name}_trace_open, trace_close: {name}_trace_close, error_count: {name}_error_count, coverage_write: {name}_coverage_write, ports: PORTS }};"
    );
    let _ = writeln!(out, "}}");
}
