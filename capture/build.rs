//! Builds the interposer (src/interpose.c) as a shared library with the C compiler the `cc` crate
//! finds; the library's bytes are embedded in the crate (`memento_capture::LIB`).

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let lib = out.join("libmemento_capture.so");
    println!("cargo:rerun-if-changed=src/interpose.c");
    let compiler = cc::Build::new()
        .opt_level(2)
        .pic(true)
        .cargo_metadata(false)
        .get_compiler();
    let status = compiler
        .to_command()
        .args([
            "-shared", "-fPIC", "-O2", "-g0", "-Wall", "-Wextra", "-Werror",
        ])
        .args(["-fvisibility=default", "-o"])
        .arg(&lib)
        .arg("src/interpose.c")
        .args(["-ldl", "-lpthread"])
        .status()
        .expect("running the C compiler for the capture library");
    assert!(
        status.success(),
        "the capture library (src/interpose.c) did not compile"
    );
}
