//! The emitted Verilog under a second simulator: a short `memento xsim` of the object allocator
//! without a header cache (whose empty cache was once an `always @(*)` of constants that never
//! runs under event semantics) and of `memento_top`, in the flat, prefixed names a flow takes.
//! Every output must equal Verilator's on every cycle after reset, and none may be X.

use memento_hw::emit::Naming;
use memento_tb::flows::xsim::{summary, xsim_test};
use memento_tb::seed;

fn check(test: &str, cycles: usize) {
    let s = seed::seed();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rl = memento_runs::workspace_list(&root).unwrap();
    let t = rl.test(test).unwrap().clone();
    let naming = Naming {
        prefix: "mx_".into(),
        flat: true,
    };
    let dir = std::env::temp_dir().join(format!("memento-xsim-{test}-{}", std::process::id()));
    let r = xsim_test(&t, s, cycles, &naming, &dir).unwrap_or_else(|e| {
        panic!("seed {s}: {e:#}\n  replay: MEMENTO_SEED={s} cargo test --release -p memento-tb --test xsim")
    });
    assert_eq!(r.cycles, cycles, "seed {s}");
    assert!(
        r.from > 0 && r.from < 8,
        "seed {s}: reset released at cycle {}",
        r.from
    );
    assert!(r.outputs > 10, "seed {s}");
    assert_eq!(r.top, format!("mx_{}", r.design));
    let design = std::fs::read_to_string(dir.join("design.v")).unwrap();
    assert!(
        !design.contains("$q") && design.contains(&format!("module mx_{}__", r.design)),
        "seed {s}: the flat names did not reach the Verilog Icarus ran"
    );
    assert!(
        r.passed(),
        "seed {s}: {}\n  replay: memento xsim --test {test} --seed {s} --cycles {cycles} --prefix mx_ --flat-names",
        summary(&r)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn object_alloc_without_a_header_cache_matches_under_icarus() {
    check("hoa_hdc0", 1500);
}

#[test]
fn memento_top_matches_under_icarus() {
    check("top", 1500);
}
