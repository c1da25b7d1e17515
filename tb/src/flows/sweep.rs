//! `memento sweep`: the traces through `memento_top` at every point of `tb/sweep.toml`, with hit
//! rates, cycles per command, header and DRAM traffic, and area from Yosys.
//!
//! Every point is a generated variant; a binary built without the `sweep` feature of `memento-sim`
//! has only the points that are also regression variants, and the sweep says which are missing
//! and how to build them (`make sweep` does). Area is the sum of Yosys `synth` cells and flops over
//! the design's modules, cached under `build/sweep/synth/` by the Verilog's hash.

use crate::env::traffic::Mode;
use crate::flows::bench::{hw_replay, parallel, progress_bar, read_traces, HwRun, Profile};
use crate::stimulus::trace::Trace;
use anyhow::{bail, Context, Result};
use memento_hw::emit::{variant_verilog, Design, Variant};
use memento_hw::Params;
use memento_runs::sweep_list::SweepList;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Area of one design.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Area {
    pub cells: u64,
    pub flops: u64,
    /// The deepest one-cycle path in two-input gate levels (`make timing`'s method): the clock
    /// the point's cycle counts are worth.
    #[serde(default)]
    pub levels: u32,
}

/// One trace at one point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PointTrace {
    pub trace: String,
    pub run: HwRun,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PointResult {
    pub axis: String,
    pub label: String,
    pub params: String,
    pub traces: Vec<PointTrace>,
    pub area: Option<Area>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepReport {
    pub seed: u64,
    pub profile: Profile,
    pub traces: Vec<String>,
    pub points: Vec<PointResult>,
    /// The first point (in sweep order) whose free hit rate reaches the target on every trace named
    /// in `target_traces`.
    pub target_free_hit_rate: f64,
    pub target_traces: Vec<String>,
    pub reaches_target: Option<String>,
    pub seconds: f64,
}

pub struct SweepPlan {
    pub sweep: SweepList,
    pub traces: Vec<PathBuf>,
    pub profile: Profile,
    pub seed: u64,
    pub jobs: usize,
    pub synth: bool,
    pub work: PathBuf,
    /// The workspace (for `make timing`'s netlist cache).
    pub root: PathBuf,
    pub progress: bool,
    /// Traces whose free hit rate must reach `target` (the paper's 83% on Python).
    pub target_traces: Vec<String>,
    pub target: f64,
}

/// Yosys area of `params`' memento_top, cached by the Verilog's hash, and its gate levels per
/// cycle (the workspace `root` holds `make timing`'s netlist cache).
pub fn area(params: &Params, work: &Path, root: &Path) -> Result<Area> {
    let v = Variant {
        name: "memento_top".into(),
        design: Design::MementoTop,
        params: params.clone(),
    };
    let text = variant_verilog(&v)?;
    let key: String = Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = work.join("synth");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let cached = dir.join(format!("{key}.json"));
    if let Ok(t) = std::fs::read_to_string(&cached) {
        if let Ok(a @ Area { levels: 1.., .. }) = serde_json::from_str(&t) {
            return Ok(a);
        }
    }
    let levels = crate::flows::timing::design_levels(
        &[(format!("sweep_{key}"), Design::MementoTop, params.clone())],
        root,
        1,
    )?[0];
    let vdir = dir.join(&key);
    std::fs::create_dir_all(&vdir)?;
    let vfile = vdir.join("memento_top.v");
    std::fs::write(&vfile, text)?;
    let rows = crate::flows::synth::synth(&vfile, "memento_top", &vdir)?;
    let a = Area {
        cells: rows.iter().map(|r| r.cells).sum(),
        flops: rows.iter().map(|r| r.flops).sum(),
        levels,
    };
    std::fs::write(&cached, serde_json::to_string(&a)?)?;
    let _ = std::fs::remove_dir_all(&vdir);
    Ok(a)
}

enum Job {
    Replay(usize, usize),
    Synth(usize),
}

enum Done {
    Run(Box<HwRun>),
    Area(Area),
}

/// Every point's `memento_top` is compiled in (the `sweep` feature).
fn check_built(plan: &SweepPlan) -> Result<()> {
    let missing: Vec<String> = plan
        .sweep
        .axes
        .iter()
        .flat_map(|a| a.points.iter().map(move |p| (a, p)))
        .filter(|(_, p)| memento_sim::model_for(Design::MementoTop, &p.params).is_none())
        .map(|(_, p)| p.label.clone())
        .collect();
    if !missing.is_empty() {
        bail!(
            "no Verilated memento_top for {} sweep point(s): {}. Build with the sweep feature: \
             `make sweep` (or cargo build --release -p memento-tb --features memento-sim/sweep)",
            missing.len(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// A replay of every trace at every distinct design, and its Yosys area: (runs by design and
/// trace, area by design).
type Results = (Vec<Vec<HwRun>>, Vec<Option<Area>>);

/// Runs every job in parallel, stopping at the first failure.
fn run_jobs(plan: &SweepPlan, distinct: &[Params], traces: &[(String, Trace)]) -> Result<Results> {
    let mut jobs = vec![];
    for i in 0..distinct.len() {
        if plan.synth {
            jobs.push(Job::Synth(i));
        }
        for t in 0..traces.len() {
            jobs.push(Job::Replay(i, t));
        }
    }
    let bar = progress_bar(jobs.len() as u64, plan.progress);
    let failed = AtomicBool::new(false);
    let done = parallel(plan.jobs, &jobs, |job| {
        if failed.load(Ordering::Relaxed) {
            return Err(anyhow::anyhow!("not run: an earlier run failed"));
        }
        let r = match *job {
            Job::Synth(i) => {
                bar.set_message(format!("Yosys: {}", distinct[i].summary()));
                area(&distinct[i], &plan.work, &plan.root).map(Done::Area)
            }
            Job::Replay(i, t) => {
                let (name, trace) = &traces[t];
                bar.set_message(format!("{name}: {}", distinct[i].summary()));
                hw_replay(
                    trace,
                    name,
                    &plan.profile,
                    &distinct[i],
                    Mode::On,
                    plan.seed,
                )
                .map(|st| Done::Run(Box::new(HwRun::of(Mode::On, &st))))
                .map_err(|e| e.context(format!("sweep point {}", distinct[i].summary())))
            }
        };
        failed.fetch_or(r.is_err(), Ordering::Relaxed);
        bar.inc(1);
        r
    });
    bar.finish_and_clear();
    let mut runs: Vec<Vec<Option<HwRun>>> =
        distinct.iter().map(|_| vec![None; traces.len()]).collect();
    let mut areas: Vec<Option<Area>> = vec![None; distinct.len()];
    let mut first_error = None;
    for (job, r) in jobs.iter().zip(done) {
        match (job, r) {
            (Job::Synth(i), Ok(Done::Area(a))) => areas[*i] = Some(a),
            (Job::Replay(i, t), Ok(Done::Run(h))) => runs[*i][*t] = Some(*h),
            (_, Err(e)) => {
                if first_error.is_none() && !e.to_string().starts_with("not run") {
                    first_error = Some(e);
                }
            }
            _ => unreachable!("a job's result matches its kind"),
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let runs: Vec<Vec<HwRun>> = runs
        .into_iter()
        .map(|v| {
            v.into_iter()
                .map(|r| r.expect("every replay ran"))
                .collect()
        })
        .collect();
    Ok((runs, areas))
}

/// The points of every axis with their replays and areas, and the first point whose target
/// traces all reach the target free hit rate.
fn points(
    plan: &SweepPlan,
    distinct: &[Params],
    traces: &[(String, Trace)],
    (runs, areas): &Results,
) -> (Vec<PointResult>, Option<String>) {
    let mut points = vec![];
    let mut reaches = None;
    for a in &plan.sweep.axes {
        for p in &a.points {
            let i = distinct.iter().position(|d| *d == p.params).unwrap();
            let pt = PointResult {
                axis: a.name.clone(),
                label: p.label.clone(),
                params: p.params.summary(),
                traces: traces
                    .iter()
                    .zip(&runs[i])
                    .map(|((n, _), r)| PointTrace {
                        trace: n.clone(),
                        run: r.clone(),
                    })
                    .collect(),
                area: areas[i].clone(),
            };
            let targets: Vec<&PointTrace> = pt
                .traces
                .iter()
                .filter(|t| plan.target_traces.contains(&t.trace))
                .collect();
            if reaches.is_none()
                && !targets.is_empty()
                && targets.iter().all(|t| t.run.free_hit_rate >= plan.target)
            {
                reaches = Some(p.label.clone());
            }
            points.push(pt);
        }
    }
    (points, reaches)
}

pub fn sweep(plan: &SweepPlan) -> Result<SweepReport> {
    let started = std::time::Instant::now();
    let distinct = plan.sweep.distinct_params();
    check_built(plan)?;
    let traces = read_traces(&plan.traces)?;
    let results = run_jobs(plan, &distinct, &traces)?;
    let (points, reaches) = points(plan, &distinct, &traces, &results);
    Ok(SweepReport {
        seed: plan.seed,
        profile: plan.profile.clone(),
        traces: traces.iter().map(|(n, _)| n.clone()).collect(),
        points,
        target_free_hit_rate: plan.target,
        target_traces: plan.target_traces.clone(),
        reaches_target: reaches,
        seconds: started.elapsed().as_secs_f64(),
    })
}
