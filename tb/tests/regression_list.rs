//! The regression list in the workspace parses, and every test in it has a compiled model.

use memento_runs::workspace_list;
use std::path::PathBuf;

#[test]
fn every_test_of_the_list_has_a_compiled_model() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let list = workspace_list(&root).unwrap();
    assert!(!list.list("default").unwrap().is_empty());
    for t in &list.tests {
        assert!(
            memento_sim::model_for(t.design, &t.params).is_some(),
            "test {} ({:?}, {}) has no compiled model",
            t.name,
            t.design,
            t.params.summary()
        );
    }
}

/// A seed's commands, recorded as a script and played back through the same design and
/// environment, give the same run: what the shrinker cuts down is the run that failed.
#[test]
fn a_recorded_script_plays_back_to_the_same_run() {
    use memento_tb::flows::regress::{random_stream, run_stimulus};
    use memento_tb::stimulus::shrink::{indexed, parse, to_text, Playback, Recording};
    use memento_tb::stimulus::Stimulus;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let list = workspace_list(&root).unwrap();
    let seed = memento_tb::seed::seed();
    for name in ["hoa_hdc_tiny", "core_corner"] {
        let mut t = list.test(name).unwrap().clone();
        t.ops = 3000;
        let mut stream = random_stream(&t, seed);
        let mut rec = Recording::new(&mut stream as &mut dyn Stimulus);
        let a = run_stimulus(&t, seed, None, &mut rec).unwrap_or_else(|m| {
            panic!("{name} seed {seed}: {m} (replay: MEMENTO_SEED={seed} cargo test --release --test regression_list)")
        });
        let text = to_text(&rec.cmds, "recorded");
        let cmds = parse(&text, "recorded").unwrap();
        assert_eq!(cmds, rec.cmds);
        assert!(
            cmds.iter()
                .any(|c| matches!(c, memento_tb::stimulus::shrink::Cmd::FreeOf { .. })),
            "{name}: frees of allocated objects are recorded as references"
        );
        let b = run_stimulus(&t, seed, None, &mut Playback::new(&indexed(&cmds))).unwrap();
        assert_eq!(
            (
                a.hoa.commands,
                a.hoa.cycles,
                a.hoa.alloc_hits,
                a.hoa.free_hits
            ),
            (
                b.hoa.commands,
                b.hoa.cycles,
                b.hoa.alloc_hits,
                b.hoa.free_hits
            ),
            "{name} seed {seed}"
        );
    }
}
