//! The object allocator's RTL (Verilated) against its golden model.
//!
//! Every random test takes its seed from `MEMENTO_SEED`, or a fresh one that it prints on failure
//! with the command that replays it.

use memento_sim::WaveFormat;
use memento_tb::env::EnvTiming;
use memento_tb::envs::object_alloc::{run, ObjectAllocEnv, RunConfig};
use memento_tb::envs::TraceWindow;
use memento_tb::model::object_alloc::{Geometry, ObjectAllocModel, Op, Status};
use memento_tb::seed;
use memento_tb::stimulus::{Mix, RandomStream};
use memento_tb::stimulus::{Next, Stimulus};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

fn replay_hint(test: &str, seed: u64) -> String {
    format!(
        "replay: MEMENTO_SEED={seed} cargo test --release -p memento-tb --test object_alloc {test}"
    )
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn random_streams_with_stalls_on_every_port() {
    let s = seed::seed();
    for i in 0..4 {
        let cfg = RunConfig::new(s + i, EnvTiming::stressed());
        let mut stim = RandomStream::new(
            s + i,
            25_000,
            Geometry::from(&cfg.params),
            cfg.mrs,
            Mix::default(),
        );
        let stats = run(&cfg, &mut stim, None).unwrap_or_else(|m| {
            panic!(
                "seed {}: {m}\n{}",
                s + i,
                replay_hint("random_streams_with_stalls_on_every_port", s)
            )
        });
        assert_eq!(stats.commands, 25_000);
        assert!(
            stats.invalid > 0 && stats.double_frees > 0,
            "seed {}: the stream exercises bad frees",
            s + i
        );
    }
}

/// Small arenas and short lanes: every path of the allocator, including a full lane, comes often.
#[test]
fn corner_parameters_reach_every_path() {
    let s = seed::seed();
    let mut cfg = RunConfig::new(s, EnvTiming::stressed());
    cfg.params = memento_hw::Params::corner();
    let mut stim = RandomStream::new(
        s,
        60_000,
        Geometry::from(&cfg.params),
        cfg.mrs,
        Mix::default(),
    );
    let stats = run(&cfg, &mut stim, None).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("corner_parameters_reach_every_path", s)
        )
    });
    for path in [
        "AllocHit",
        "AllocPop",
        "AllocNew",
        "AllocLaneFull",
        "AllocOversize",
        "AllocEvictDirty",
        "FreeHit",
        "FreeMiss",
        "FreeMissPush",
        "DoubleFreeHit",
        "DoubleFreeMiss",
        "FreeInvalid(OutOfRegion)",
        "FreeInvalid(InHeader)",
        "FreeInvalid(Misaligned)",
        "FreeInvalid(PastEnd)",
        "FreeInvalid(NotCreated)",
    ] {
        assert!(
            stats.paths.get(path).copied().unwrap_or(0) > 0,
            "path {path} never taken: {:?}\n{}",
            stats.paths,
            replay_hint("corner_parameters_reach_every_path", s)
        );
    }
}

/// A 2-entry header cache on small arenas: hits, write-backs of the least recently used line and
/// pops out of the cache all come often, and every header write is checked against the model.
#[test]
fn header_cache_paths_match_the_model() {
    let s = seed::seed();
    let list = memento_runs::workspace_list(&root()).unwrap();
    let params = list.params["hdc_tiny"].clone();
    assert!(params.hdc > 0);
    let mut cfg = RunConfig::new(s, EnvTiming::stressed());
    cfg.params = params;
    let mix = Mix {
        alloc: 45,
        free: 45,
        ..Mix::default()
    };
    let mut stim = RandomStream::new(s, 60_000, Geometry::from(&cfg.params), cfg.mrs, mix);
    let stats = run(&cfg, &mut stim, None).unwrap_or_else(|m| {
        panic!(
            "seed {s}: {m}\n{}",
            replay_hint("header_cache_paths_match_the_model", s)
        )
    });
    for path in [
        "FreeCached",
        "DoubleFreeCached",
        "HdcEvict",
        "HdcPop",
        "FreeMissPush",
    ] {
        assert!(
            stats.paths.get(path).copied().unwrap_or(0) > 0,
            "path {path} never taken: {:?}\n{}",
            stats.paths,
            replay_hint("header_cache_paths_match_the_model", s)
        );
    }
}

#[test]
fn shared_traces_replay_with_zero_mismatches() {
    for name in ["ast_fn", "xml_fn", "perl_fn"] {
        let path = root().join(format!("traces/{name}.rep.gz"));
        let t = memento_tb::stimulus::trace::read(&path).unwrap();
        let cfg = RunConfig::new(1, EnvTiming::fixed(4, 30));
        let mut stim =
            memento_tb::stimulus::trace::TraceReplay::new(&t, cfg.mrs, cfg.params.lane_bits);
        let stats = run(&cfg, &mut stim, None).unwrap_or_else(|m| panic!("{name}: {m}"));
        assert_eq!(stats.exits, 1, "{name}: the replay ends with EXIT");
        assert!(
            stats.alloc_hit_rate() > 0.99,
            "{name}: alloc hit rate {}",
            stats.alloc_hit_rate()
        );
    }
}

#[test]
fn command_log_is_deterministic_for_a_seed() {
    let log = |s: u64| {
        let cfg = RunConfig::new(s, EnvTiming::stressed());
        let mut stim = RandomStream::new(
            s,
            3_000,
            Geometry::from(&cfg.params),
            cfg.mrs,
            Mix::default(),
        );
        let mut out = Vec::new();
        run(&cfg, &mut stim, Some(&mut out)).unwrap();
        out
    };
    let s = seed::seed();
    assert_eq!(
        log(s),
        log(s),
        "{}",
        replay_hint("command_log_is_deterministic_for_a_seed", s)
    );
}

#[test]
fn waveform_window_is_written_in_fst_and_vcd() {
    let s = seed::seed();
    for format in [WaveFormat::Fst, WaveFormat::Vcd] {
        let path = root().join(format!(
            "build/waves/test-window-{s}.{}",
            format.extension()
        ));
        let _ = std::fs::remove_file(&path);
        let mut cfg = RunConfig::new(s, EnvTiming::stressed());
        cfg.trace = Some(TraceWindow {
            from: 100,
            to: 300,
            path: path.clone(),
            format,
        });
        let mut stim = RandomStream::new(
            s,
            1_000,
            Geometry::from(&cfg.params),
            cfg.mrs,
            Mix::default(),
        );
        run(&cfg, &mut stim, None).unwrap();
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(meta.len() > 1000, "{} holds a waveform", path.display());
        if format == WaveFormat::Vcd {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.contains("cmd_valid") && text.contains("#"),
                "VCD has signals and time steps"
            );
        }
        std::fs::remove_file(&path).unwrap();
    }
}

/// A stimulus of exactly one command.
struct Once(Option<Op>);

impl Stimulus for Once {
    fn next(&mut self) -> Next {
        match self.0.take() {
            Some(op) => Next::Cmd(op),
            None => Next::Done,
        }
    }
}

/// The environment seed of the state-machine test (init_test has no other way in).
static ENV_SEED: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug)]
struct RefState {
    model: ObjectAllocModel,
    live: Vec<u64>,
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = RefState;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<RefState> {
        let g = Geometry::from(&memento_hw::Params::corner());
        Just(RefState {
            model: ObjectAllocModel::new(g, 1 << 44),
            live: vec![],
        })
        .boxed()
    }

    fn transitions(state: &RefState) -> BoxedStrategy<Op> {
        // Two small classes most of the time, so that 32-object arenas fill, leave the HOT, come
        // back through the available list, and the short lanes run out.
        let size = prop_oneof![8 => 1u64..=16, 2 => 0u64..=600];
        let alloc = size.prop_map(Op::Alloc);
        let raw =
            prop_oneof![any::<u64>(), (1u64 << 44)..(1u64 << 44) + (1 << 40)].prop_map(Op::Free);
        if state.live.is_empty() {
            prop_oneof![8 => alloc, 1 => raw, 1 => Just(Op::Exit)].boxed()
        } else {
            let live = proptest::sample::select(state.live.clone());
            let near =
                (live.clone(), -80i64..80).prop_map(|(p, d)| Op::Free(p.wrapping_add_signed(d)));
            prop_oneof![
                10 => alloc,
                8 => live.prop_map(Op::Free),
                2 => near,
                1 => raw,
                1 => Just(Op::Exit),
            ]
            .boxed()
        }
    }

    fn apply(mut state: RefState, op: &Op) -> RefState {
        let e = state.model.apply(*op);
        match *op {
            Op::Alloc(_) if e.rsp.status == Status::Ok => state.live.push(e.rsp.ptr),
            Op::Free(p) if e.rsp.status == Status::Ok => state.live.retain(|&x| x != p),
            Op::Exit => state.live.clear(),
            _ => {}
        }
        state
    }
}

struct Hardware;

impl StateMachineTest for Hardware {
    type SystemUnderTest = ObjectAllocEnv;
    type Reference = Reference;

    fn init_test(_: &RefState) -> ObjectAllocEnv {
        ObjectAllocEnv::new(RunConfig::new(
            ENV_SEED.load(Ordering::SeqCst),
            EnvTiming::stressed(),
        ))
    }

    fn apply(mut bench: ObjectAllocEnv, _: &RefState, op: Op) -> ObjectAllocEnv {
        if let Err(m) = bench.run(&mut Once(Some(op)), None) {
            panic!("{m}");
        }
        bench
    }
}

#[test]
fn state_machine_against_the_model_shrinks() {
    let s = seed::seed();
    ENV_SEED.store(s, Ordering::SeqCst);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&s.to_le_bytes());
    let config = Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    let result = runner.run(
        &Reference::sequential_strategy(1..400),
        |(state, transitions, seen)| {
            Hardware::test_sequential(config.clone(), state, transitions, seen);
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!(
            "{e}\n{}",
            replay_hint("state_machine_against_the_model_shrinks", s)
        );
    }
}

/// The shim evaluates a cycle's falling edge with the next settle (two evaluations a cycle). A
/// step straight after a step must still give the model a rising edge: two instances get the same
/// random inputs every cycle, one settles every cycle and the other only every third, and their
/// outputs must agree whenever both have settled.
#[test]
fn a_step_without_a_settle_still_gets_its_rising_edge() {
    use memento_sim::Model;
    use rand::Rng as _;
    let s = seed::seed();
    let vt = &memento_sim::object_alloc::VTABLE;
    let (mut a, mut b) = (Model::new(vt), Model::new(vt));
    a.reset();
    b.reset();
    let mut rng = seed::rng(s, 0x5e7);
    let inputs: Vec<_> = vt
        .ports
        .iter()
        .filter(|p| p.input && p.name != "clock" && p.name != "rst")
        .copied()
        .collect();
    let outputs: Vec<_> = vt.ports.iter().filter(|p| !p.input).copied().collect();
    let mut compared = 0;
    for cycle in 0..3_000u64 {
        for p in &inputs {
            let words: Vec<u32> = (0..p.words()).map(|_| rng.gen()).collect();
            let mut w = words.clone();
            if p.width % 32 != 0 {
                let last = (p.width / 32) as usize;
                w[last] &= (1u32 << (p.width % 32)) - 1;
                for x in w.iter_mut().skip(last + 1) {
                    *x = 0;
                }
            }
            a.poke_wide(*p, &w);
            b.poke_wide(*p, &w);
        }
        a.settle();
        if cycle % 3 == 0 {
            b.settle();
            for p in &outputs {
                let (mut x, mut y) = (vec![0u32; p.words()], vec![0u32; p.words()]);
                a.peek_wide(*p, &mut x);
                b.peek_wide(*p, &mut y);
                assert_eq!(
                    x,
                    y,
                    "cycle {cycle}: {} differs between the instance that settled every cycle and the one that did not\n{}",
                    p.name,
                    replay_hint("a_step_without_a_settle_still_gets_its_rising_edge", s)
                );
                compared += 1;
            }
        }
        a.step();
        b.step();
    }
    assert!(compared > 1000);
}
