//! What to run: the run-description data of the workspace, parsed and checked. The regression
//! list (`tb/regressions.toml`: named parameter sets, tests, lists) and the sweep list
//! (`tb/sweep.toml`: the design-space axes) describe runs, not hardware. The Verilator build
//! (`memento-sim`) reads them to know which design variants to generate and verilate, and the
//! testbench (`memento-tb`) to know what to run. Data flows one way: `memento-hw` (the blocks and
//! their emission) is below this crate, `memento-sim` and `memento-tb` above it.

pub mod regression_list;
pub mod sweep_list;

use memento_hw::emit::{variants, Design, Variant};
pub use regression_list::{workspace_list, RegressionList, TestSpec};
pub use sweep_list::{workspace_sweep, SweepList};

/// The built-in variants and one per (design, parameter set) that the regression list's tests
/// use and the built-in ones do not cover, named `<design>_<set>`.
pub fn variants_with(list: &regression_list::RegressionList) -> Vec<Variant> {
    let mut all = variants();
    for t in &list.tests {
        if !all
            .iter()
            .any(|v| v.design == t.design && v.params == t.params)
        {
            all.push(Variant {
                name: format!("{}_{}", t.design.name(), t.params_name),
                design: t.design,
                params: t.params.clone(),
            });
        }
    }
    for (i, v) in all.iter().enumerate() {
        assert!(
            !all[..i].iter().any(|o| o.name == v.name),
            "two generated variants are called {}",
            v.name
        );
    }
    all
}

/// The sweep's `memento_top` variants that `all` does not already have, named
/// `memento_top_sweep_<n>`.
pub fn sweep_variants(s: &sweep_list::SweepList, all: &[Variant]) -> Vec<Variant> {
    s.distinct_params()
        .into_iter()
        .filter(|p| {
            !all.iter()
                .any(|v| v.design == Design::MementoTop && v.params == *p)
        })
        .enumerate()
        .map(|(i, params)| Variant {
            name: format!("memento_top_sweep_{i}"),
            design: Design::MementoTop,
            params,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use memento_hw::emit::variant_verilog;

    /// Every built-in variant and every one the regression list adds elaborates, and its file
    /// names its top module after it (written to build/test/emit/ for a look or a timing run).
    #[test]
    fn every_variant_emits_with_its_name() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let list = workspace_list(&root).unwrap();
        let dir = root.join("build/test/emit");
        std::fs::create_dir_all(&dir).unwrap();
        for v in variants_with(&list) {
            let text = variant_verilog(&v).unwrap();
            assert!(
                text.contains(&format!("\nmodule {}(", v.name)),
                "{} has no module of its name",
                v.name
            );
            assert!(
                !text.contains("module top("),
                "{} kept rust-hdl's top",
                v.name
            );
            std::fs::write(dir.join(format!("{}.v", v.name)), text).unwrap();
        }
    }
}
