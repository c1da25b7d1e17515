//! The depth budget of SPEC section 10 on the blocks that synthesize in seconds, so that a change
//! which deepens one of them fails CI (`memento timing --check` covers every block and design).

use memento_hw::emit::{variant_verilog, Design, Variant};
use memento_hw::params::{Params, STAGE_LEVELS};
use memento_tb::flows::timing::{run, table, violations, TimingPlan};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Emits the object allocator for `params` under build/test/timing and returns the plan entry.
fn design(name: &str, params: Params) -> (String, String, PathBuf) {
    let v = Variant {
        name: name.into(),
        design: Design::ObjectAlloc,
        params,
    };
    let dir = root().join("build/test/timing");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.v"));
    std::fs::write(&file, variant_verilog(&v).unwrap()).unwrap();
    (name.into(), v.params.summary(), file)
}

#[test]
fn fast_blocks_fit_the_stage_budget() {
    let designs = vec![
        design("object_alloc", Params::default()),
        design("object_alloc_corner", Params::corner()),
    ];
    for block in ["lowest_free", "slot_calc", "size_class"] {
        let plan = TimingPlan {
            designs: designs.clone(),
            only: Some(block.into()),
            budget: STAGE_LEVELS,
            cache: root().join("build/timing/cache"),
            jobs: 2,
            progress: false,
        };
        let result = run(&plan).unwrap();
        let rows: Vec<_> = result.iter().flat_map(|d| &d.blocks).collect();
        assert_eq!(rows.len(), 2, "{block} is in both designs");
        for r in &rows {
            assert!(r.cells > 0, "{block} synthesized to nothing");
        }
        let bad = violations(&result);
        assert!(
            bad.is_empty(),
            "{block} is deeper than {STAGE_LEVELS} levels:\n{}\n{}",
            bad.join("\n"),
            table(&result, STAGE_LEVELS)
        );
    }
}
