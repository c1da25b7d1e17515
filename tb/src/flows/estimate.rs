//! What Memento would save a captured program (`memento capture`): its time and its bill under a
//! per-use price, from the capture's measurements and the hardware's cycles for the same stream.
//!
//! With the program's run time T, the cycles A inside the allocator calls the hardware would
//! answer (their page faults taken out), the F page faults inside those calls at c cycles each,
//! and the hardware's cycles H for the same stream at a clock f:
//! `T_memento = T - A - F*c + H/f` (docs/capture.md says what this leaves out).

use memento_capture::Summary;
use serde::Serialize;

/// A per-use price. The default is x86 AWS Lambda's.
#[derive(Clone, Debug, Serialize)]
pub struct Pricing {
    /// Dollars per GB-second.
    pub gb_second: f64,
    /// Dollars per million requests.
    pub per_million_requests: f64,
    /// The billing granularity in milliseconds (the duration is rounded up to it).
    pub billing_ms: f64,
    /// The function's configured memory in MB.
    pub memory_mb: f64,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            gb_second: 0.0000166667,
            per_million_requests: 0.20,
            billing_ms: 1.0,
            memory_mb: 128.0,
        }
    }
}

impl Pricing {
    /// Dollars for one million invocations that each run `seconds`.
    pub fn per_million(&self, seconds: f64) -> f64 {
        let ms = (seconds.max(0.0) * 1000.0 / self.billing_ms).ceil() * self.billing_ms;
        let per_call = ms / 1000.0 * self.memory_mb / 1024.0 * self.gb_second
            + self.per_million_requests / 1e6;
        per_call * 1e6
    }
}

/// The paper's mean function speed-up and cost change.
pub const PAPER_TIME: f64 = -0.16;
pub const PAPER_COST: f64 = -0.29;

/// The estimate for one captured trace.
#[derive(Clone, Debug, Serialize)]
pub struct Estimate {
    /// The capture summary it was computed from.
    pub summary: String,
    pub pricing: Pricing,
    /// The hardware's clock, Hz.
    pub clock_hz: f64,
    /// Where `clock_hz` comes from.
    pub clock_source: String,
    /// The program's time as it is: the plain runs' median, else the captured run's own time.
    pub before_seconds: f64,
    pub before_source: String,
    /// The time the subtraction starts from: the plain runs' median of the program as it was
    /// captured (with `--env`), else the captured run's time less the capture's overhead.
    pub start_seconds: f64,
    pub start_source: String,
    /// A: the served calls' cycles with their page faults taken out, in seconds.
    pub allocator_seconds: f64,
    /// F and F*c in seconds.
    pub faults: u64,
    pub fault_cycles_each: f64,
    pub fault_seconds: f64,
    /// H (latency of every command plus the page walker's cycles) and H/f.
    pub hardware_cycles: u64,
    pub hardware_seconds: f64,
    pub after_seconds: f64,
    pub time_change: f64,
    pub cost_before: f64,
    pub cost_after: f64,
    pub cost_change: f64,
    pub paper_time: f64,
    pub paper_cost: f64,
    /// The served calls' share of all recorded allocator calls.
    pub served_share: f64,
    /// Caveats that apply to this capture (threads, forks, a crash, no baseline).
    pub notes: Vec<String>,
}

/// A time and where it comes from.
struct Timed {
    seconds: f64,
    source: String,
}

/// The program's time today (the plain runs as it is) and the time the subtraction starts from
/// (the plain runs of the program as it was captured, with `--env`), with the notes they need.
fn times(s: &Summary, notes: &mut Vec<String>) -> (Timed, Timed) {
    let captured = || Timed {
        seconds: s.program_seconds,
        source: "the captured run less the capture's overhead".into(),
    };
    let before = match &s.baseline {
        Some(b) => Timed {
            seconds: b.median,
            source: format!(
                "median of {} plain runs without the interposer",
                b.seconds.len()
            ),
        },
        None => {
            notes.push(
                "no plain runs: the time before is the captured run's less the capture's \
                 overhead"
                    .into(),
            );
            captured()
        }
    };
    let start = match (&s.baseline_with_env, &s.baseline) {
        (Some(b), _) => Timed {
            seconds: b.median,
            source: format!(
                "median of {} plain runs with {}",
                b.seconds.len(),
                s.env.join(" ")
            ),
        },
        (None, Some(_)) if s.env.is_empty() => Timed {
            seconds: before.seconds,
            source: before.source.clone(),
        },
        _ => captured(),
    };
    if !s.env.is_empty() {
        notes.push(format!(
            "the captured run set {}: the saving is taken from that program ({:.4} s) and set \
             against the program as it is ({:.4} s)",
            s.env.join(" "),
            start.seconds,
            before.seconds
        ));
    }
    (before, start)
}

/// The served calls' cycles split into A and F*c, in seconds: A + F*c is their measured time.
fn served_split(s: &Summary, notes: &mut Vec<String>) -> (f64, f64) {
    let c = s.faults.cycles_each;
    let fault_cycles = s.served.faults as f64 * c;
    let net = s.served.cycles as f64 - fault_cycles;
    if net < 0.0 {
        notes.push(format!(
            "the measured fault cost ({c:.0} cycles) exceeds the served calls' cycles: their \
             allocator time is taken as 0"
        ));
    }
    (
        net.max(0.0) / s.tsc_hz,
        (s.served.cycles as f64).min(fault_cycles) / s.tsc_hz,
    )
}

/// Caveats of the run itself: threads, and an end that was not a normal exit.
fn run_notes(s: &Summary, notes: &mut Vec<String>) {
    if s.threads > 1 {
        notes.push(format!(
            "{} threads made allocator calls: A, F and H are summed over them, so where they ran \
             in parallel the saving in wall time is smaller than this",
            s.threads
        ));
    }
    if !s.ended.starts_with("exit 0") && !s.ended.starts_with("exit (") {
        notes.push(format!(
            "the process did not finish normally ({}): the figures cover its run up to then",
            s.ended
        ));
    }
}

/// The estimate of a capture whose stream took the hardware `hardware_cycles`; `clock_hz` is the
/// hardware's clock (default: the capture machine's TSC rate).
pub fn estimate(
    s: &Summary,
    summary_path: &str,
    hardware_cycles: u64,
    clock_hz: Option<f64>,
    pricing: &Pricing,
) -> Estimate {
    let (clock_hz, clock_source) = match clock_hz {
        Some(f) => (f, "--clock-ghz".to_string()),
        None => (
            s.tsc_hz,
            "the capture machine's TSC rate (its core's nominal clock)".into(),
        ),
    };
    let mut notes = vec![];
    let (before, start) = times(s, &mut notes);
    let (allocator_seconds, fault_seconds) = served_split(s, &mut notes);
    run_notes(s, &mut notes);
    let hardware_seconds = hardware_cycles as f64 / clock_hz;
    let after_seconds = start.seconds - allocator_seconds - fault_seconds + hardware_seconds;
    let cost_before = pricing.per_million(before.seconds);
    let cost_after = pricing.per_million(after_seconds);
    Estimate {
        summary: summary_path.into(),
        pricing: pricing.clone(),
        clock_hz,
        clock_source,
        before_seconds: before.seconds,
        before_source: before.source,
        start_seconds: start.seconds,
        start_source: start.source,
        allocator_seconds,
        faults: s.served.faults,
        fault_cycles_each: s.faults.cycles_each,
        fault_seconds,
        hardware_cycles,
        hardware_seconds,
        after_seconds,
        time_change: after_seconds / before.seconds - 1.0,
        cost_before,
        cost_after,
        cost_change: cost_after / cost_before - 1.0,
        paper_time: PAPER_TIME,
        paper_cost: PAPER_COST,
        served_share: s.served_share(),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_bills_whole_milliseconds_plus_the_request() {
        let p = Pricing::default();
        // 100.2 ms bills 101 ms: 0.101 s * 0.125 GB * $0.0000166667 + $0.0000002, per million.
        let want = (0.101 * 0.125 * 0.0000166667 + 0.2e-6) * 1e6;
        assert!(
            (p.per_million(0.1002) - want).abs() < 1e-9,
            "{}",
            p.per_million(0.1002)
        );
        assert!(p.per_million(0.1) < p.per_million(0.1002));
        assert!((p.per_million(0.0) - 0.2).abs() < 1e-12);
    }
}
