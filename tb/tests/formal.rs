//! The fast formal checks (`memento formal --fast`): each must be proven or bounded, never fail.

use memento_tb::flows::formal::{check, select, Verdict};
use std::path::PathBuf;

#[test]
fn fast_formal_checks_find_no_counterexample() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let checks = select(&[], true).unwrap();
    assert!(!checks.is_empty());
    for c in checks {
        let r = check(&root, c).unwrap();
        assert_ne!(
            r.verdict,
            Verdict::Failed,
            "{}: {:?} fails, counterexample {:?} (rerun: memento formal --only {})",
            c.name,
            r.failed_assertion,
            r.counterexample,
            c.name
        );
    }
}
