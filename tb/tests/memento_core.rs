//! `memento_core` (object allocator + page allocator) end to end, with the MMU model writing and
//! checking every object through its mapped frames. Seeds come from `MEMENTO_SEED` or are fresh
//! and printed on failure.

use memento_tb::envs::core::{run, CoreRunConfig, CoreRunStats};
use memento_tb::model::object_alloc::Geometry;
use memento_tb::seed;
use memento_tb::stimulus::{Mix, RandomStream};
use std::path::PathBuf;

fn replay_hint(test: &str, seed: u64) -> String {
    format!(
        "replay: MEMENTO_SEED={seed} cargo test --release -p memento-tb --test memento_core {test}"
    )
}

fn random(test: &str, s: u64, ops: u64, corner: bool, exit_every: u64) -> CoreRunStats {
    let mut cfg = CoreRunConfig::new(s, true);
    if corner {
        cfg.params = memento_hw::Params::corner();
    }
    let mix = Mix {
        exit_every,
        ..Mix::default()
    };
    let mut stim = RandomStream::new(s, ops, Geometry::from(&cfg.params), cfg.mrs, mix);
    run(&cfg, &mut stim, None).unwrap_or_else(|m| panic!("seed {s}: {m}\n{}", replay_hint(test, s)))
}

#[test]
fn random_commands_map_real_pages_and_keep_object_data() {
    let s = seed::seed();
    let st = random(
        "random_commands_map_real_pages_and_keep_object_data",
        s,
        30_000,
        false,
        10_000,
    );
    assert!(
        st.objects_checked > 500 && st.walker_faults > 0,
        "seed {s}: {st:?}"
    );
    assert!(
        st.pages.exits >= 2 && st.pages.frames_returned_at_exit > 0,
        "seed {s}: {st:?}"
    );
    assert_eq!(st.frames_lost, 0);
}

#[test]
fn corner_parameters_with_exits_in_heavy_use() {
    let s = seed::seed();
    let st = random(
        "corner_parameters_with_exits_in_heavy_use",
        s,
        8_000,
        true,
        1_500,
    );
    assert!(
        st.hoa.arena_creations > 10 && st.pages.pages_mapped > 10,
        "seed {s}: {st:?}"
    );
}

#[test]
fn shared_trace_replays_on_real_pages() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces/perl_fn.rep.gz");
    let t = memento_tb::stimulus::trace::read(&path).unwrap();
    let cfg = CoreRunConfig::new(1, false);
    let mut stim = memento_tb::stimulus::trace::TraceReplay::new(&t, cfg.mrs, cfg.params.lane_bits);
    let st = run(&cfg, &mut stim, None).unwrap_or_else(|m| panic!("perl_fn: {m}"));
    assert_eq!(st.pages.exits, 1);
    assert!(st.pages.pages_mapped > 0 && st.pages.frames_returned_at_exit > 0);
    assert_eq!(st.frames_lost, 0);
}
