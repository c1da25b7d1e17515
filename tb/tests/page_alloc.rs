//! The page allocator's RTL (Verilated) against its golden model, with random stalls on every
//! port. Seeds come from `MEMENTO_SEED` or are fresh and printed on failure.

use memento_tb::envs::page_alloc::{run, PageRunConfig, PageStream, PageTiming};
use memento_tb::seed;

fn replay_hint(test: &str, seed: u64) -> String {
    format!(
        "replay: MEMENTO_SEED={seed} cargo test --release -p memento-tb --test page_alloc {test}"
    )
}

fn check(
    test: &str,
    s: u64,
    requests: u64,
    exit_every: u64,
    starve: bool,
) -> memento_tb::envs::page_alloc::PageRunStats {
    let cfg = PageRunConfig::new(s, PageTiming::stressed(starve));
    let mut stream = PageStream::new(s, requests, &cfg.params, cfg.mrs, exit_every);
    run(&cfg, &mut stream).unwrap_or_else(|m| panic!("seed {s}: {m}\n{}", replay_hint(test, s)))
}

#[test]
fn fault_storms_with_exits() {
    let s = seed::seed();
    let st = check("fault_storms_with_exits", s, 6_000, 1_500, false);
    let m = &st.model;
    assert!(
        m.exits >= 2 && m.tables_allocated > 0 && m.out_of_region > 0,
        "seed {s}: {st:?}"
    );
    assert!(
        m.frames_returned_at_exit > 0 && m.already_mapped > 0,
        "seed {s}: {st:?}"
    );
}

/// LOW and HIGH rewritten on the config port (4 and 12 instead of 16 and 48): refill requests ask
/// for `12 - count` and frames drain above 12, as the model predicts with the new values.
#[test]
fn runtime_watermarks_from_the_config_port() {
    let s = seed::seed();
    let mut cfg = PageRunConfig::new(s, PageTiming::stressed(false));
    cfg.watermarks = Some((4, 12));
    let mut stream = PageStream::new(s, 4_000, &cfg.params, cfg.mrs, 1_000);
    let st = run(&cfg, &mut stream).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("runtime_watermarks_from_the_config_port", s)
        )
    });
    let m = &st.model;
    assert!(
        m.refill_requests > 0 && m.frames_drained > 0 && m.exits >= 2,
        "seed {s}: {st:?}"
    );
}

#[test]
fn starved_pool_stalls_and_recovers() {
    let s = seed::seed();
    let st = check("starved_pool_stalls_and_recovers", s, 1_500, 0, true);
    assert!(
        st.starved_cycles > 0 && st.model.starved_walks > 0,
        "seed {s}: the pool ran empty: {st:?}"
    );
}

/// A function maps pages, exits in the middle of its work, and a second function touches the same
/// VAs: every one is mapped afresh (new tables, nothing found already mapped), and at the end all
/// frames are back.
#[test]
fn second_function_sees_none_of_the_first_ones_mappings() {
    use memento_tb::envs::page_alloc::PageReq;
    let s = seed::seed();
    let cfg = PageRunConfig::new(s, PageTiming::stressed(false));
    let vas: Vec<u64> = (0..40u64)
        .map(|i| cfg.mrs + ((i % 5) << 32) + (i << 12))
        .collect();
    let mut reqs: Vec<PageReq> = vas.iter().map(|&v| PageReq::Walk(v)).collect();
    reqs.push(PageReq::Exit);
    reqs.extend(vas.iter().map(|&v| PageReq::Walk(v)));
    reqs.push(PageReq::Exit);
    let st = run(&cfg, &mut reqs.into_iter()).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("second_function_sees_none_of_the_first_ones_mappings", s)
        )
    });
    let m = &st.model;
    assert_eq!(
        m.already_mapped, 0,
        "seed {s}: a page of the first function was still mapped"
    );
    assert_eq!(m.pages_mapped, 80, "seed {s}");
    // Each function builds its own tables: the root's child, one L2 table per lane, one L1 table
    // per lane (the pages of a lane sit within 2 MiB).
    assert_eq!(m.tables_allocated, 2 * (1 + 5 + 5), "seed {s}");
    assert_eq!(m.frames_returned_at_exit, 2 * (40 + 11), "seed {s}");
}
