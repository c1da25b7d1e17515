//! `memento capture` end to end: a threaded C program that makes every wrapped call (built here,
//! tests/capture/allocs.c) is captured, its traces read back under the format's rules and
//! replayed through the Verilated memento_top with both golden models checking every cycle; the
//! summaries are checked against the traces and against what the program says it did. A fork, an
//! exec, a crash and SIGKILL each leave the traces they should.

use memento_capture::run::{capture, Options, Outcome};
use memento_capture::Summary;
use memento_tb::env::traffic::Mode;
use memento_tb::flows::bench::{hw_replay, Profile};
use memento_tb::seed;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("memento-capture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Builds tests/capture/allocs.c into `dir` with the system's C compiler.
fn build_program(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/capture/allocs.c");
    let exe = dir.join("allocs");
    let out = std::process::Command::new("cc")
        .args(["-O2", "-fno-builtin", "-pthread", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("running cc");
    assert!(
        out.status.success(),
        "cc {}: {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Captures `allocs MODE CALLS SEED`, with the program's stdout kept in `dir/stdout`.
fn run(dir: &Path, mode: &str, calls: u64, s: u64, baseline_runs: usize) -> Outcome {
    let exe = build_program(dir);
    let o = Options {
        command: vec![
            exe.into(),
            mode.into(),
            calls.to_string().into(),
            s.to_string().into(),
        ],
        out: dir.join("allocs.rep"),
        gzip: false,
        follow_exec: false,
        env: vec![],
        baseline_runs,
        lib_dir: dir.join("lib"),
        keep_raw: false,
        // The program's own output goes to a file, so that the test can read its counts.
        stdout: Some(dir.join("stdout")),
    };
    capture(&o, |_| {}).unwrap_or_else(|e| panic!("seed {s}: capture of allocs {mode}: {e:#}"))
}

/// What the program printed: `who kind count` lines.
fn printed(dir: &Path, who: &str) -> BTreeMap<String, u64> {
    std::fs::read_to_string(dir.join("stdout"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            if w.next()? != who {
                return None;
            }
            Some((w.next()?.to_string(), w.next()?.parse().ok()?))
        })
        .collect()
}

/// The summary agrees with its trace, and its figures make sense.
fn check_summary(s: &Summary, trace: &Path, seed: u64) -> memento_tb::stimulus::trace::Trace {
    use memento_tb::stimulus::trace::TraceOp;
    let t = memento_tb::stimulus::trace::read(trace)
        .unwrap_or_else(|e| panic!("seed {seed}: the trace does not read back: {e:#}"));
    let count = |f: fn(&TraceOp) -> bool| t.ops.iter().filter(|o| f(o)).count() as u64;
    assert_eq!(s.operations, t.ops.len() as u64, "seed {seed}");
    assert_eq!(s.ids, t.ids as u64, "seed {seed}");
    assert_eq!(s.allocs, count(|o| matches!(o, TraceOp::Alloc { .. })));
    assert_eq!(s.frees, count(|o| matches!(o, TraceOp::Free { .. })));
    assert_eq!(s.reallocs, count(|o| matches!(o, TraceOp::Realloc { .. })));
    assert_eq!(s.ids, s.allocs, "seed {seed}: every allocation is a new id");
    assert_eq!(s.live_at_end, s.allocs - s.frees, "seed {seed}");
    // Every alloc, free and realloc in the trace is one recorded call (a realloc to 0 is a free);
    // frees of objects from before the capture are counted, not traced.
    let calls: u64 = s.calls.values().map(|c| c.calls).sum();
    assert_eq!(
        calls,
        s.operations + s.untracked_frees,
        "seed {seed}: {s:#?}"
    );
    let cycles: u64 = s.calls.values().map(|c| c.cycles).sum();
    assert_eq!(s.allocator_cycles, cycles);
    // Allocator cycles are summed over the threads (each thread's calls are timed on its own
    // clock), so they stay below the run's cycles times the threads that made calls.
    assert!(s.threads >= 1, "seed {seed}: {s:#?}");
    assert!(
        s.allocator_cycles > 0 && s.allocator_cycles < s.tsc_cycles * s.threads,
        "seed {seed}: {s:#?}"
    );
    assert!(s.served.calls <= calls && s.served.cycles <= s.allocator_cycles);
    assert!(s.served.calls > 0, "seed {seed}: no call of at most 512 B");
    assert!(s.faults.in_served_calls <= s.faults.in_calls);
    if let Some(total) = s.faults.total {
        assert!(s.faults.in_calls <= total, "seed {seed}: {:?}", s.faults);
    }
    assert!(
        s.faults.cycles_each > 100.0,
        "seed {seed}: a fault cannot cost {:?}",
        s.faults
    );
    assert!(
        s.tsc_hz > 1e8 && s.tsc_hz < 1e10,
        "seed {seed}: TSC at {} Hz",
        s.tsc_hz
    );
    assert!(s.wall_seconds > 0.0 && s.program_seconds >= 0.0);
    assert!(!s.truncated);
    t
}

/// Every trace op replays through memento_top with both golden models checking every cycle.
fn replay(t: &memento_tb::stimulus::trace::Trace, name: &str, s: u64) -> u64 {
    let stats = hw_replay(
        t,
        name,
        &Profile::parse("default").unwrap(),
        &memento_hw::Params::default(),
        Mode::On,
        s,
    )
    .unwrap_or_else(|e| {
        panic!("seed {s}: {e:#}\n  replay: MEMENTO_SEED={s} cargo test --release -p memento-tb --test capture")
    });
    stats.hoa.commands
}

#[test]
fn a_threaded_program_with_every_call_is_captured_and_replays_with_no_mismatch() {
    let s = seed::seed();
    let dir = scratch("threads");
    let out = run(&dir, "threads", 1500, s, 1);
    assert_eq!(out.ended, "exit 0", "seed {s}");
    assert_eq!(out.traces.len(), 1, "seed {s}: skipped {:?}", out.skipped);
    let c = &out.traces[0];
    let sum = &c.summary;
    assert!(sum.main && sum.threads >= 4, "seed {s}: {sum:#?}");
    // The program's own calls are all there (the C library adds some of its own).
    let mine = printed(&dir, "main");
    assert_eq!(mine.len(), 10, "seed {s}: the program printed {mine:?}");
    for (kind, n) in &mine {
        let got = sum.calls[kind].calls;
        assert!(
            got >= *n,
            "seed {s}: {kind}: {got} recorded, the program made {n}"
        );
        assert!(
            *n > 0 || kind == "pvalloc" || kind == "valloc",
            "seed {s}: no {kind}"
        );
    }
    for kind in [
        "reallocarray",
        "valloc",
        "pvalloc",
        "aligned_alloc",
        "memalign",
    ] {
        assert_eq!(sum.calls[kind].calls, mine[kind], "seed {s}: {kind}");
    }
    assert_eq!(
        sum.aligned_calls,
        [
            "posix_memalign",
            "aligned_alloc",
            "memalign",
            "valloc",
            "pvalloc"
        ]
        .iter()
        .map(|k| sum.calls[*k].calls)
        .sum::<u64>()
    );
    let b = sum.baseline.as_ref().expect("one plain run");
    assert_eq!(b.seconds.len(), 1);
    assert!(b.median > 0.0);
    // The JSON on disk is the summary.
    let back = Summary::read(&c.json).unwrap();
    assert_eq!(
        (&back.calls, &back.served, &back.faults),
        (&sum.calls, &sum.served, &sum.faults)
    );
    assert_eq!(
        (back.operations, back.pid, &back.trace),
        (sum.operations, sum.pid, &sum.trace)
    );
    let t = check_summary(sum, &c.trace, s);
    let commands = replay(&t, "allocs", s);
    assert!(commands > sum.served.calls / 2, "seed {s}");
    // The estimate is made of these numbers.
    let e = memento_tb::flows::estimate::estimate(sum, "x", 1000, None, &Default::default());
    let a = e.allocator_seconds + e.fault_seconds;
    assert!(
        (a - sum.served.cycles as f64 / sum.tsc_hz).abs() < 1e-9,
        "{e:#?}"
    );
    assert!((e.after_seconds - (b.median - a + 1000.0 / sum.tsc_hz)).abs() < 1e-9);
    assert!(e.cost_after <= e.cost_before, "{e:#?}");
}

#[test]
fn a_fork_gets_its_own_trace_and_an_exec_is_not_followed() {
    let s = seed::seed();
    let dir = scratch("fork");
    let out = run(&dir, "fork", 300, s, 0);
    assert_eq!(out.ended, "exit 0", "seed {s}");
    let names: Vec<_> = out.traces.iter().map(|c| c.summary.trace.clone()).collect();
    assert_eq!(
        out.traces.len(),
        2,
        "seed {s}: {names:?}, skipped {:?}",
        out.skipped
    );
    let child = out.traces.iter().find(|c| !c.summary.main).unwrap();
    assert_eq!(
        child.summary.trace,
        format!("allocs.{}.rep", child.summary.pid),
        "seed {s}"
    );
    // The child's trace holds its own 100 allocations and 50 frees, none of the parent's.
    assert_eq!((child.summary.allocs, child.summary.frees), (100, 50));
    let t = check_summary(&child.summary, &child.trace, s);
    replay(&t, "allocs-child", s);
    // The second fork exec'd /bin/true: no trace of `true`.
    assert!(
        out.traces.iter().all(|c| c.summary.process != "true"),
        "seed {s}: {names:?}"
    );
    for c in &out.traces {
        assert_eq!(c.summary.process, "allocs");
    }
}

#[test]
fn a_crash_and_a_kill_leave_a_readable_trace_of_what_ran() {
    let s = seed::seed();
    for (mode, ended) in [
        ("segv", "signal 11 (SIGSEGV)"),
        ("kill", "signal 9 (SIGKILL)"),
    ] {
        let dir = scratch(mode);
        let out = run(&dir, mode, 400, s, 3);
        assert_eq!(out.ended, ended, "seed {s}");
        assert_eq!(out.code, 128 + if mode == "segv" { 11 } else { 9 });
        let c = &out.traces[0];
        assert!(c.summary.ended.starts_with(ended), "{}", c.summary.ended);
        assert!(
            c.summary.baseline.is_none(),
            "no plain runs of a program that crashed"
        );
        // Everything the program did before it died is in the trace.
        let mine = printed(&dir, "crash");
        let t = check_summary(&c.summary, &c.trace, s);
        let theirs = mine["malloc"] + mine["calloc"] + mine["posix_memalign"];
        assert!(
            c.summary.allocs >= theirs,
            "seed {s}: {mode}: {} allocations traced, the program made at least {theirs}",
            c.summary.allocs
        );
        replay(&t, mode, s);
    }
}
