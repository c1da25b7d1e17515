//! `memento bench` end to end on a trace it has never seen: a plain-text malloc-lab file written
//! here from a seeded stream, through the Verilated memento_top and the three software allocators.

use memento_tb::env::traffic::Kind;
use memento_tb::flows::bench::{bench, BenchPlan, Profile};
use memento_tb::seed;
use rand::Rng;
use std::fmt::Write;

/// A plain malloc-lab trace: `n` objects allocated in random sizes, half freed, some reallocated.
fn trace_text(s: u64, n: usize) -> (String, usize) {
    let mut rng = seed::rng(s, 77);
    let mut body = String::new();
    let mut live = vec![];
    let mut ops = 0;
    for id in 0..n {
        let size = if rng.gen_bool(0.05) {
            rng.gen_range(513..3000)
        } else {
            rng.gen_range(1..=512)
        };
        writeln!(body, "a {id} {size}").unwrap();
        live.push(id);
        ops += 1;
        if rng.gen_bool(0.1) {
            let k = live[rng.gen_range(0..live.len())];
            writeln!(body, "r {k} {}", rng.gen_range(1..=600)).unwrap();
            ops += 1;
        }
        if rng.gen_bool(0.5) {
            let k = live.swap_remove(rng.gen_range(0..live.len()));
            writeln!(body, "f {k}").unwrap();
            ops += 1;
        }
    }
    (format!("0\n{n}\n{ops}\n1\n{body}"), ops)
}

#[test]
fn bench_runs_a_new_plain_trace_and_writes_both_reports() {
    let s = seed::seed();
    let dir = std::env::temp_dir().join(format!("memento-bench-{}-{s}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (text, ops) = trace_text(s, 3000);
    let path = dir.join("fresh.trace");
    std::fs::write(&path, text).unwrap();
    let plan = BenchPlan {
        traces: vec![path],
        profile: Profile::parse("default").unwrap(),
        params: memento_hw::Params::default(),
        params_name: "default".into(),
        seed: s,
        jobs: 2,
        reps: 1,
        levels_root: None,
        progress: false,
        exe: env!("CARGO_BIN_EXE_memento").into(),
        clock_hz: None,
        pricing: Default::default(),
    };
    let r = bench(&plan).unwrap_or_else(|e| {
        panic!("seed {s}: {e:#}\n  replay: MEMENTO_SEED={s} cargo test --release -p memento-tb --test bench")
    });
    let t = &r.traces[0];
    assert_eq!(t.trace, "fresh.trace");
    assert_eq!(t.operations, ops as u64);
    // Every trace op is at least one command, plus the final EXIT.
    assert!(t.hw_on.commands > ops as u64, "seed {s}");
    assert_eq!(t.hw_on.commands, t.hw_off.commands, "seed {s}");
    // The bypass changes memory traffic, never what the allocator answers.
    assert_eq!(t.hw_on.alloc_hit_rate, t.hw_off.alloc_hit_rate, "seed {s}");
    assert!(t.hw_on.all.p50 >= 1 && t.hw_on.mean_with_faults >= t.hw_on.all.mean);
    assert!(
        t.hw_on.pages_mapped > 0 && t.hw_on.walker_faults > 0,
        "seed {s}"
    );
    assert_eq!(t.hw_on.commands, t.hw_off_dram.commands, "seed {s}");
    let (on, off, dram) = (&t.hw_on.traffic, &t.hw_off.traffic, &t.hw_off_dram.traffic);
    assert!(
        on.total_reads() < dram.total_reads(),
        "seed {s}: the bypass saved no reads against zeroing in DRAM"
    );
    let ideal = t.hw_on.ideal.total();
    assert!(
        ideal <= on.total() && ideal <= off.total(),
        "seed {s}: the ideal is a floor: {ideal}, on {on:?}, off {off:?}"
    );
    let meta = on.reads_of(Kind::Meta) + on.writes_of(Kind::Meta);
    assert_eq!(on.total() - meta, t.hw_on.dram_reads + t.hw_on.dram_writes);
    assert_eq!(t.software.len(), 3);
    for sw in &t.software {
        assert_eq!(sw.warm.ops, ops as u64, "{}", sw.allocator);
        assert_eq!(sw.cold.ops, ops as u64, "{}", sw.allocator);
        for (w, ratio) in [
            (&sw.warm_whole, sw.warm_ratio),
            (&sw.cold_whole, sw.cold_ratio),
        ] {
            assert_eq!(ratio.is_some(), w.measurable, "{}: {w:?}", sw.allocator);
            assert!(ratio.is_none_or(|x| x.is_finite() && x > 0.0), "{ratio:?}");
        }
        for w in [&sw.warm_whole, &sw.cold_whole] {
            assert_eq!(w.ops, ops as u64, "{}", sw.allocator);
            assert!(w.runs.len() >= memento_tb::flows::swbench::MIN_WHOLE_RUNS);
            assert!(w.min <= w.median && w.median <= w.max, "{w:?}");
        }
    }
    memento_tb::report::bench::write(&r, &dir).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bench.json")).unwrap()).unwrap();
    assert_eq!(json["traces"][0]["hw_on"]["commands"], t.hw_on.commands);
    let html = std::fs::read_to_string(dir.join("bench.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "a bar chart, the stacked traffic and one histogram"
    );
    assert!(html.contains("fresh.trace") && html.contains("jemalloc"));
    std::fs::remove_dir_all(&dir).unwrap();
}
