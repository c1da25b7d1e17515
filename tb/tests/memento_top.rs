//! `memento_top`: object allocator -> page allocator -> bypass -> DRAM, with a last-level-cache
//! model above the bypass. Object data and header lines flow through the cache and the bypass into
//! a DRAM whose never-written lines hold stale garbage; every fill is checked against the last value
//! written since its frame was mapped, or zero. Seeds come from `MEMENTO_SEED` or are fresh.

use memento_hw::emit::Design;
use memento_tb::env::traffic::{Kind, Mode};
use memento_tb::envs::core::{run, CoreRunConfig, CoreRunStats};
use memento_tb::model::object_alloc::Geometry;
use memento_tb::seed;
use memento_tb::stimulus::{Mix, RandomStream};
use std::path::PathBuf;

fn replay_hint(test: &str, seed: u64) -> String {
    format!(
        "replay: MEMENTO_SEED={seed} cargo test --release -p memento-tb --test memento_top {test}"
    )
}

fn top(s: u64, mode: Mode) -> CoreRunConfig {
    let mut cfg = CoreRunConfig::new(s, true);
    cfg.design = Design::MementoTop;
    mode.apply(&mut cfg.params);
    cfg
}

#[test]
fn full_path_with_exits_keeps_every_read_fresh_or_last_written() {
    let s = seed::seed();
    for mode in Mode::ALL {
        let mut cfg = top(s, mode);
        // A 64 KiB cache, so that lines of every kind are evicted and fetched again all the time.
        cfg.llc = memento_tb::env::llc::LlcConfig {
            bytes: 64 << 10,
            ways: 8,
            line: 64,
        };
        let mix = Mix {
            exit_every: 8_000,
            ..Mix::default()
        };
        let mut stim = RandomStream::new(s, 25_000, Geometry::from(&cfg.params), cfg.mrs, mix);
        let st: CoreRunStats = run(&cfg, &mut stim, None).unwrap_or_else(|m| {
            panic!(
                "seed {s} (bypass {}): {m}\n{}",
                mode.name(),
                replay_hint(
                    "full_path_with_exits_keeps_every_read_fresh_or_last_written",
                    s
                )
            )
        });
        let b = &st.mem.bypass;
        assert!(
            st.mem.fills_checked > 100 && st.pages.exits >= 3,
            "seed {s}: {st:?}"
        );
        let mem = &st.mem;
        assert!(
            mem.table_reads > 100 && mem.table_writes > 100,
            "seed {s}: table entries go through the cache: {mem:?}"
        );
        assert!(
            mem.traffic.reads_of(Kind::Table) + mem.traffic.writes_of(Kind::Table) > 0,
            "seed {s}: table lines reach DRAM: {mem:?}"
        );
        match mode {
            Mode::On => assert!(
                b.reads_bypassed > 0
                    && b.writebacks_dropped > 0
                    && mem.record_reads > 0
                    && mem.record_writes > 0,
                "seed {s}: {st:?}"
            ),
            Mode::OffDram => assert_eq!(
                b.zero_lines,
                64 * (st.pages.pages_mapped + st.pages.tables_allocated),
                "seed {s}"
            ),
            Mode::Off => assert!(
                b.zero_lines == 0 && mem.traffic.writes_of(Kind::Zeroing) > 0,
                "seed {s}: the OS's zero lines are written back from the cache: {mem:?}"
            ),
        }
        // Record lines reach DRAM on their own channel, not through the unit.
        let meta = mem.traffic.reads_of(Kind::Meta) + mem.traffic.writes_of(Kind::Meta);
        assert_eq!(
            mem.traffic.total() - meta,
            b.dram_reads + b.dram_writes,
            "seed {s}: every DRAM access at the unit has a kind"
        );
    }
}

#[test]
fn trace_through_the_full_path_with_the_bypass_on_and_off() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces/perl_fn.rep.gz");
    let t = memento_tb::stimulus::trace::read(&path).unwrap();
    let mut dram = vec![];
    let mut ideal = 0;
    for mode in Mode::ALL {
        let mut cfg = CoreRunConfig::new(1, false);
        cfg.design = Design::MementoTop;
        mode.apply(&mut cfg.params);
        let mut stim =
            memento_tb::stimulus::trace::TraceReplay::new(&t, cfg.mrs, cfg.params.lane_bits);
        let st = run(&cfg, &mut stim, None)
            .unwrap_or_else(|m| panic!("perl_fn (bypass {}): {m}", mode.name()));
        dram.push(st.mem.traffic.total());
        if mode == Mode::On {
            ideal = st.mem.ideal.total();
        }
    }
    // Against the OS zeroing through the cache (SPEC section 6's baseline) the bypass saves, and
    // no more than the ideal.
    assert!(
        ideal <= dram[0] && dram[0] < dram[1] && dram[0] < dram[2],
        "the bypass saves DRAM traffic, no more than the ideal: ideal {ideal}, \
         on {}, off {}, off-dram {}",
        dram[0],
        dram[1],
        dram[2]
    );
}

/// Two runs with the same seed give byte-identical command logs and waveforms.
#[test]
fn same_seed_gives_identical_logs_and_waveforms() {
    use memento_sim::WaveFormat;
    use memento_tb::envs::TraceWindow;
    let s = seed::seed();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/waves");
    let once = |k: u32| {
        let mut cfg = top(s, Mode::On);
        let path = dir.join(format!("determinism-{s}-{k}.fst"));
        cfg.trace = Some(TraceWindow {
            from: 0,
            to: 4_000,
            path: path.clone(),
            format: WaveFormat::Fst,
        });
        let mut stim = RandomStream::new(
            s,
            2_000,
            Geometry::from(&cfg.params),
            cfg.mrs,
            Mix::default(),
        );
        let mut log = Vec::new();
        run(&cfg, &mut stim, Some(&mut log)).unwrap_or_else(|m| panic!("seed {s}: {m}"));
        let wave = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        (log, wave)
    };
    let (a, b) = (once(1), once(2));
    assert!(!a.0.is_empty() && a.1.len() > 1000);
    assert_eq!(
        a.0,
        b.0,
        "seed {s}: command logs differ\n{}",
        replay_hint("same_seed_gives_identical_logs_and_waveforms", s)
    );
    assert!(
        a.1 == b.1,
        "seed {s}: waveforms differ\n{}",
        replay_hint("same_seed_gives_identical_logs_and_waveforms", s)
    );
}
