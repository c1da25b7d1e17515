//! The regression list in the workspace parses, and every test in it has a compiled model.

use memento_hw::emit::workspace_list;
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
