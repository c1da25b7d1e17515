//! Running a program under the interposer and turning its logs into traces and summaries.

use crate::raw::{field, to_trace, RawLog};
use crate::{Baseline, Calls, Faults, Summary};
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `memento capture` runs.
pub struct Options {
    pub command: Vec<OsString>,
    /// The main process's trace (`.rep`, or `.rep.gz` with `gzip`); forks get `<stem>.<pid>.rep`.
    pub out: PathBuf,
    pub gzip: bool,
    /// Also capture programs the captured ones exec.
    pub follow_exec: bool,
    /// `KEY=VALUE` set for the captured run only.
    pub env: Vec<(String, String)>,
    /// Plain runs (no interposer, no `env`) that time the program as it is; 0 for none.
    pub baseline_runs: usize,
    /// Where the interposer library is written.
    pub lib_dir: PathBuf,
    /// Keep the raw logs (else they are removed once converted).
    pub keep_raw: bool,
    /// Send the captured run's standard output to this file (else it is ours).
    pub stdout: Option<PathBuf>,
}

/// One process's trace and summary, written.
pub struct Captured {
    pub trace: PathBuf,
    pub json: PathBuf,
    pub summary: Summary,
}

/// The whole capture.
pub struct Outcome {
    pub traces: Vec<Captured>,
    /// Logs that made no trace, with the reason.
    pub skipped: Vec<String>,
    /// How the main process ended.
    pub ended: String,
    /// Its exit code, or 128 + the signal.
    pub code: i32,
    pub raw_dir: PathBuf,
}

pub fn fenced_tsc() -> u64 {
    // SAFETY: lfence and rdtsc have no preconditions on x86-64.
    unsafe {
        use std::arch::x86_64::{_mm_lfence, _rdtsc};
        _mm_lfence();
        let t = _rdtsc();
        _mm_lfence();
        t
    }
}

/// The calling thread's minor faults so far.
pub fn thread_minflt() -> u64 {
    // SAFETY: getrusage writes the struct we pass.
    unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut r);
        r.ru_minflt as u64
    }
}

/// The TSC's rate, measured against the monotonic clock over 50 ms.
pub fn tsc_hz() -> f64 {
    let (t0, c0) = (Instant::now(), fenced_tsc());
    std::thread::sleep(std::time::Duration::from_millis(50));
    let (c1, dt) = (fenced_tsc(), t0.elapsed().as_secs_f64());
    (c1 - c0) as f64 / dt
}

pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => "another signal",
    }
}

/// A finished child: its wait status, wall time and rusage.
struct Finished {
    status: i32,
    seconds: f64,
    minflt: u64,
}

/// Starts `cmd` and waits for it with wait4, ignoring SIGINT and SIGQUIT meanwhile (like `time`:
/// the program gets them, and this process lives on to write what it left).
fn run_and_wait(mut cmd: std::process::Command, what: &str) -> Result<Finished> {
    let started = Instant::now();
    let child = cmd.spawn().with_context(|| format!("cannot run {what}"))?;
    let pid = child.id() as libc::pid_t;
    // SAFETY: plain libc calls on our own child; the old dispositions are put back.
    unsafe {
        let old_int = libc::signal(libc::SIGINT, libc::SIG_IGN);
        let old_quit = libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        let mut status = 0;
        let mut ru: libc::rusage = std::mem::zeroed();
        let r = loop {
            let r = libc::wait4(pid, &mut status, 0, &mut ru);
            if r >= 0 || *libc::__errno_location() != libc::EINTR {
                break r;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        libc::signal(libc::SIGINT, old_int);
        libc::signal(libc::SIGQUIT, old_quit);
        if r < 0 {
            bail!("waiting for {what}: {}", std::io::Error::last_os_error());
        }
        Ok(Finished {
            status,
            seconds,
            minflt: ru.ru_minflt as u64,
        })
    }
}

fn ended_text(status: i32) -> (String, i32) {
    if libc::WIFSIGNALED(status) {
        let s = libc::WTERMSIG(status);
        (format!("signal {s} ({})", signal_name(s)), 128 + s)
    } else {
        let c = libc::WEXITSTATUS(status);
        (format!("exit {c}"), c)
    }
}

fn shell_words(command: &[OsString]) -> String {
    let all = command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
        .replace('\n', "; ");
    // A long inline script is named by its start.
    match all.char_indices().nth(100) {
        Some((at, _)) => format!("{}...", &all[..at]),
        None => all,
    }
}

/// Runs the command under the interposer, then writes a trace and a summary per process.
pub fn capture(o: &Options, mut say: impl FnMut(&str)) -> Result<Outcome> {
    if o.command.is_empty() {
        bail!("no command to capture (memento capture [options] -- CMD ARGS...)");
    }
    let what = shell_words(&o.command);
    let lib = crate::install(&o.lib_dir)?;
    let raw_dir = fresh_raw_dir(&o.out)?;
    let cmd = preloaded(o, &lib, &raw_dir)?;
    say(&format!("capture: running {what}"));
    let fin = match run_and_wait(cmd, &what) {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&raw_dir);
            return Err(e);
        }
    };
    let (ended, code) = ended_text(fin.status);
    say(&format!(
        "capture: {what}: {ended} after {:.3} s",
        fin.seconds
    ));
    let (logs, mut skipped) = read_logs(&raw_dir)?;
    let facts = RunFacts {
        command: &o.command,
        env: &o.env,
        fin: &fin,
        ended: &ended,
        hz_measured: tsc_hz(),
        fault_cost: crate::fault_cycles(),
    };
    let mut traces = write_traces(o, &logs, &raw_dir, &facts, &mut skipped)?;
    if let (true, Some(main)) = (
        o.baseline_runs > 0 && code == 0,
        traces.iter_mut().find(|t| t.summary.main),
    ) {
        add_baselines(o, main, &mut say)?;
    }
    if !o.keep_raw {
        let _ = std::fs::remove_dir_all(&raw_dir);
    }
    Ok(Outcome {
        traces,
        skipped,
        ended,
        code,
        raw_dir,
    })
}

/// An empty folder for the logs, beside the trace: `.<stem>.raw-<our pid>`.
fn fresh_raw_dir(out: &Path) -> Result<PathBuf> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let raw_dir = dir.join(format!(".{}.raw-{}", crate::stem(out), std::process::id()));
    let _ = std::fs::remove_dir_all(&raw_dir);
    std::fs::create_dir_all(&raw_dir).with_context(|| format!("creating {}", raw_dir.display()))?;
    Ok(raw_dir)
}

/// The command with the interposer preloaded, logging into `raw_dir`, and `--env` set.
fn preloaded(o: &Options, lib: &Path, raw_dir: &Path) -> Result<std::process::Command> {
    let mut cmd = std::process::Command::new(&o.command[0]);
    cmd.args(&o.command[1..]);
    let preload = match std::env::var("LD_PRELOAD") {
        Ok(old) if !old.is_empty() => format!("{}:{old}", lib.display()),
        _ => lib.display().to_string(),
    };
    cmd.env("LD_PRELOAD", preload)
        .env("MEMENTO_CAPTURE_DIR", raw_dir.canonicalize()?)
        .env("MEMENTO_CAPTURE_LIB", lib)
        .env(
            "MEMENTO_CAPTURE_FOLLOW_EXEC",
            if o.follow_exec { "1" } else { "0" },
        );
    for (k, v) in &o.env {
        cmd.env(k, v);
    }
    if let Some(f) = &o.stdout {
        cmd.stdout(std::fs::File::create(f).with_context(|| format!("creating {}", f.display()))?);
    }
    Ok(cmd)
}

/// Every log in `raw_dir`, in name order, and why each unreadable one made no trace.
fn read_logs(raw_dir: &Path) -> Result<(Vec<RawLog>, Vec<String>)> {
    let mut names: Vec<_> = std::fs::read_dir(raw_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "raw"))
        .collect();
    names.sort();
    let (mut logs, mut skipped) = (vec![], vec![]);
    for p in names {
        match RawLog::read(&p) {
            Ok(l) => logs.push(l),
            Err(e) => skipped.push(format!("{e:#}")),
        }
    }
    Ok((logs, skipped))
}

/// A trace and a summary for the main process (the last image of the pid we started) and for
/// every other process that made an allocation call; the others go to `skipped`.
fn write_traces(
    o: &Options,
    logs: &[RawLog],
    raw_dir: &Path,
    facts: &RunFacts,
    skipped: &mut Vec<String>,
) -> Result<Vec<Captured>> {
    let main_pid = main_pid(logs, raw_dir, &o.command)?;
    let main_gen = logs
        .iter()
        .filter(|l| Some(l.pid()) == main_pid)
        .map(|l| l.generation())
        .max();
    let mut traces = vec![];
    for log in logs {
        let main = Some(log.pid()) == main_pid && Some(log.generation()) == main_gen;
        if log.records.is_empty() && !main {
            skipped.push(format!(
                "process {} ({}) made no allocation call while captured",
                log.pid(),
                log.comm()
            ));
            continue;
        }
        let path = trace_path(&o.out, o.gzip, main, log);
        traces.push(write_one(log, &path, main, facts)?);
    }
    Ok(traces)
}

/// The plain runs of the command (and, with `--env`, with it set) into the main summary.
fn add_baselines(o: &Options, main: &mut Captured, say: &mut impl FnMut(&str)) -> Result<()> {
    let (what, runs) = (shell_words(&o.command), o.baseline_runs);
    say(&format!(
        "capture: timing {runs} plain runs of {what} (no interposer) for the baseline"
    ));
    main.summary.baseline = Some(baseline(&o.command, &[], runs)?);
    if !o.env.is_empty() {
        say(&format!(
            "capture: timing {runs} plain runs with {} (no interposer)",
            main.summary.env.join(" ")
        ));
        main.summary.baseline_with_env = Some(baseline(&o.command, &o.env, runs)?);
    }
    write_json(&main.json, &main.summary)
}

/// The pid of the process the capture started: the log of the process whose parent is us.
fn main_pid(logs: &[RawLog], raw_dir: &Path, command: &[OsString]) -> Result<Option<u32>> {
    let me = std::process::id() as u64;
    let main = logs
        .iter()
        .find(|l| l.get(field::PPID) == me)
        .map(|l| l.pid());
    if main.is_none() && logs.is_empty() {
        bail!(
            "{} wrote no capture log into {}: it is not a dynamically linked program that loads \
             the C library (a static binary, or a setuid one that ignores LD_PRELOAD), or it \
             ended before the interposer started",
            shell_words(command),
            raw_dir.display()
        );
    }
    Ok(main)
}

fn trace_path(out: &Path, gzip: bool, main: bool, log: &RawLog) -> PathBuf {
    let ext = if gzip { "rep.gz" } else { "rep" };
    let stem = crate::stem(out);
    let name = if main {
        format!("{stem}.{ext}")
    } else if log.generation() > 0 {
        format!("{stem}.{}-{}.{ext}", log.pid(), log.generation())
    } else {
        format!("{stem}.{}.{ext}", log.pid())
    };
    out.with_file_name(name)
}

/// What the summary of each process needs from the run.
struct RunFacts<'a> {
    command: &'a [OsString],
    env: &'a [(String, String)],
    fin: &'a Finished,
    ended: &'a str,
    hz_measured: f64,
    fault_cost: f64,
}

fn write_one(log: &RawLog, path: &Path, main: bool, c: &RunFacts) -> Result<Captured> {
    let t = to_trace(log)?;
    write_trace(path, &t.text)?;
    let summary = summarise(log, &t, path, main, c);
    let json = crate::json_path_for(path);
    write_json(&json, &summary)?;
    Ok(Captured {
        trace: path.to_path_buf(),
        json,
        summary,
    })
}

fn write_trace(path: &Path, text: &str) -> Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    if path.extension().is_some_and(|x| x == "gz") {
        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
        gz.write_all(text.as_bytes())?;
        gz.finish()?.flush()?;
    } else {
        w.write_all(text.as_bytes())?;
        w.flush()?;
    }
    Ok(())
}

fn write_json(path: &Path, s: &Summary) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(s)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// The TSC's rate over the run: from the log's own start and end when the exit handlers ran
/// (and the run lasted over 1 ms), else as measured by this process.
fn tsc_rate(log: &RawLog, measured: f64) -> f64 {
    let g = |f| log.get(f);
    if log.exited() && g(field::END_NS) > g(field::START_NS) + 1_000_000 {
        (g(field::END_TSC) - g(field::START_TSC)) as f64 * 1e9
            / (g(field::END_NS) - g(field::START_NS)) as f64
    } else {
        measured
    }
}

/// TSC cycles from the interposer's start to the exit, or to the last call.
fn run_cycles(log: &RawLog) -> u64 {
    let last = log.get(field::LAST_TSC);
    let end = if log.exited() {
        log.get(field::END_TSC).max(last)
    } else {
        last
    };
    end.saturating_sub(log.get(field::START_TSC))
}

/// The process's minor faults less the capture's own: from its exit handler, else (the main
/// process) from `wait4`, else unknown.
fn faults_total(log: &RawLog, main: bool, fin: &Finished) -> Option<u64> {
    let own = log.get(field::CAPTURE_FAULTS);
    if log.exited() {
        Some(log.get(field::MINFLT_END).saturating_sub(own))
    } else if main {
        Some(fin.minflt.saturating_sub(own))
    } else {
        None
    }
}

fn calls_by_kind(log: &RawLog) -> std::collections::BTreeMap<String, Calls> {
    log.per_kind()
        .into_iter()
        .map(|(k, calls, cycles, faults)| {
            (
                k.to_string(),
                Calls {
                    calls,
                    cycles,
                    faults,
                },
            )
        })
        .collect()
}

/// How the process ended: the wait status for the main process (with a word when it exited
/// without its exit handlers), else what its log says.
fn ended_of(log: &RawLog, main: bool, status: &str) -> String {
    match (main, log.exited()) {
        (true, false) if status.starts_with("exit") => format!(
            "{status}, but its exit handlers did not run: it called _exit, or exec'd a program \
             (captured only with --follow-exec)"
        ),
        (true, _) => status.to_string(),
        (false, true) => "exit (its exit handlers ran)".into(),
        (false, false) => {
            "ended without running its exit handlers (a signal, _exit or an exec)".into()
        }
    }
}

fn summarise(
    log: &RawLog,
    t: &crate::raw::TraceText,
    path: &Path,
    main: bool,
    c: &RunFacts,
) -> Summary {
    let g = |f| log.get(f);
    let hz = tsc_rate(log, c.hz_measured);
    let tsc_cycles = run_cycles(log);
    let wall = tsc_cycles as f64 / hz;
    let process_wall = main.then_some(c.fin.seconds);
    let overhead = g(field::OVERHEAD_CYCLES);
    let calls = calls_by_kind(log);
    Summary {
        format: Summary::FORMAT.into(),
        command: c
            .command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        env: c.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        pid: log.pid(),
        ppid: g(field::PPID) as u32,
        process: log.comm(),
        main,
        ended: ended_of(log, main, c.ended),
        trace: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        operations: t.ops,
        ids: t.ids,
        allocs: t.allocs,
        frees: t.frees,
        reallocs: t.reallocs,
        live_at_end: t.live,
        tsc_hz: hz,
        tsc_cycles,
        wall_seconds: wall,
        process_wall_seconds: process_wall,
        overhead_cycles: overhead,
        program_seconds: (process_wall.unwrap_or(wall) - overhead as f64 / hz).max(0.0),
        threads: g(field::THREADS),
        allocator_cycles: calls.values().map(|k| k.cycles).sum(),
        faults: Faults {
            total: faults_total(log, main, c.fin),
            in_calls: calls.values().map(|k| k.faults).sum(),
            in_served_calls: g(field::SERVED_FAULTS),
            capture: g(field::CAPTURE_FAULTS),
            cycles_each: c.fault_cost,
        },
        calls,
        served: Calls {
            calls: g(field::SERVED_CALLS),
            cycles: g(field::SERVED_CYCLES),
            faults: g(field::SERVED_FAULTS),
        },
        untracked_frees: g(field::UNTRACKED_FREES),
        untracked_reallocs: g(field::UNTRACKED_REALLOCS),
        failed_calls: g(field::FAILED_CALLS),
        aligned_calls: g(field::ALIGNED_CALLS),
        truncated: g(field::TRUNCATED) != 0,
        window_cycles: g(field::WINDOW_CYCLES),
        baseline: None,
        baseline_with_env: None,
    }
}

/// Times `runs` plain runs of the command with `env` set (output discarded); fails if one fails.
fn baseline(command: &[OsString], env: &[(String, String)], runs: usize) -> Result<Baseline> {
    let what = shell_words(command);
    let mut seconds = vec![];
    for k in 0..runs {
        let mut cmd = std::process::Command::new(&command[0]);
        cmd.args(&command[1..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let f = run_and_wait(cmd, &what)?;
        if f.status != 0 {
            bail!(
                "plain run {} of {what} for the baseline: {} (the captured run's result is \
                 written; --baseline-runs 0 leaves the baseline out)",
                k + 1,
                ended_text(f.status).0
            );
        }
        seconds.push(f.seconds);
    }
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    Ok(Baseline { seconds, median })
}
