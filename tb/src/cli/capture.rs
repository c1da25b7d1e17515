//! `memento capture`: a program's allocations as traces, with what the run cost beside them.

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::PathBuf;

/// `memento capture`'s arguments.
#[derive(clap::Args)]
pub struct CaptureArgs {
    /// The trace of the process the command starts (default: build/capture/<program>.rep); its
    /// forks write <stem>.<pid>.rep beside it, and each trace has <stem>.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the traces gzip-compressed (.rep.gz).
    #[arg(long)]
    pub gzip: bool,
    /// Also capture the programs the captured ones exec (each a trace named by its pid).
    #[arg(long)]
    pub follow_exec: bool,
    /// KEY=VALUE set for the captured run only, not for the plain runs (e.g.
    /// PYTHONMALLOC=malloc, so that python's small objects go through malloc).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Plain runs of the command (no interposer, output discarded) that time the program as it
    /// is; the median is the estimate's time today. 0 leaves them out.
    #[arg(long, default_value_t = 5)]
    pub baseline_runs: usize,
    /// Keep the interposer's raw logs.
    #[arg(long)]
    pub keep_raw: bool,
    /// The command and its arguments (after `--`).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<OsString>,
}

fn parse_env(env: &[String]) -> Result<Vec<(String, String)>> {
    env.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("--env {kv:?}: expected KEY=VALUE"),
        })
        .collect()
}

/// A note for python, whose small objects bypass malloc unless PYTHONMALLOC=malloc.
fn python_note(a: &CaptureArgs, env: &[(String, String)]) -> Option<String> {
    let prog = std::path::Path::new(&a.command[0])
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let set =
        env.iter().any(|(k, _)| k == "PYTHONMALLOC") || std::env::var_os("PYTHONMALLOC").is_some();
    (prog.starts_with("python") && !set).then(|| {
        "capture: note: python serves objects of up to 512 B from its own pymalloc arenas, which \
         this capture does not see; --env PYTHONMALLOC=malloc sends them through malloc for the \
         captured run only (the plain runs keep python's default)"
            .to_string()
    })
}

/// `memento capture`. Returns the program's exit code (128 + signal when a signal ended it).
pub fn capture(a: CaptureArgs) -> Result<i32> {
    let env = parse_env(&a.env)?;
    let program = std::path::Path::new(&a.command[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "program".into());
    let ext = if a.gzip { "rep.gz" } else { "rep" };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("build/capture/{program}.{ext}")));
    if let Some(n) = python_note(&a, &env) {
        eprintln!("{n}");
    }
    let o = memento_capture::run::Options {
        command: a.command.clone(),
        out,
        gzip: a.gzip,
        follow_exec: a.follow_exec,
        env,
        baseline_runs: a.baseline_runs,
        lib_dir: PathBuf::from("build/capture/lib"),
        keep_raw: a.keep_raw,
        stdout: None,
    };
    let outcome = memento_capture::run::capture(&o, |m| eprintln!("{m}"))?;
    for c in &outcome.traces {
        // Every trace written must read back under the format's rules.
        let t = crate::stimulus::trace::read(&c.trace)
            .with_context(|| format!("the trace just written, {}", c.trace.display()))?;
        if t.ops.len() as u64 != c.summary.operations {
            bail!(
                "{}: {} operations read back, {} written",
                c.trace.display(),
                t.ops.len(),
                c.summary.operations
            );
        }
        print!("{}", summary_text(c));
    }
    for s in &outcome.skipped {
        println!("capture: no trace: {s}");
    }
    if outcome.code != 0 {
        println!(
            "capture: the program ended with {}; its traces hold what it did up to then",
            outcome.ended
        );
    }
    if let Some(main) = outcome.traces.iter().find(|c| c.summary.main) {
        println!(
            "capture: next: memento bench {} --reps 0 replays it through the hardware and \
             estimates the saving",
            main.trace.display()
        );
    }
    Ok(outcome.code)
}

fn summary_text(c: &memento_capture::run::Captured) -> String {
    let s = &c.summary;
    let mut o = format!(
        "{}{} (pid {}, {}): {} operations ({} allocs, {} frees, {} reallocs, {} live at exit), {}\n",
        c.trace.display(),
        if s.main { "" } else { " [fork]" },
        s.pid,
        s.process,
        s.operations,
        s.allocs,
        s.frees,
        s.reallocs,
        s.live_at_end,
        s.ended
    );
    let hz = s.tsc_hz;
    o += &format!(
        "  run {:.4} s ({} TSC cycles at {:.3} GHz), program {:.4} s after the capture's overhead{}\n",
        s.process_wall_seconds.unwrap_or(s.wall_seconds),
        s.tsc_cycles,
        hz / 1e9,
        s.program_seconds,
        s.baseline
            .as_ref()
            .map(|b| format!(", plain runs: median {:.4} s of {}", b.median, b.seconds.len()))
            .unwrap_or_default()
    );
    o += &format!(
        "  allocator calls {:.4} s ({} cycles); the hardware's share ({:.1}% of calls): {:.4} s\n",
        s.allocator_cycles as f64 / hz,
        s.allocator_cycles,
        100.0 * s.served_share(),
        s.served.cycles as f64 / hz
    );
    o += &format!(
        "  minor faults {} ({} inside allocator calls, {} inside the hardware's share; {:.0} cycles each); capture's own {}\n",
        s.faults
            .total
            .map(|t| t.to_string())
            .unwrap_or_else(|| "unknown".into()),
        s.faults.in_calls,
        s.faults.in_served_calls,
        s.faults.cycles_each,
        s.faults.capture
    );
    if s.untracked_frees + s.untracked_reallocs + s.failed_calls + s.aligned_calls > 0 {
        o += &format!(
            "  frees of objects from before the capture {}, reallocs of them {}, failed calls {}, aligned requests {}\n",
            s.untracked_frees, s.untracked_reallocs, s.failed_calls, s.aligned_calls
        );
    }
    if s.truncated {
        o += "  the log ran out of room: the trace stops early\n";
    }
    o += &format!("  summary: {}\n", c.json.display());
    o
}
