//! The bench's section for captured traces: the function's time and cost today and with Memento.

use super::bench::signed_pct;
use crate::flows::bench::BenchReport;
use crate::flows::estimate::Estimate;
use std::fmt::Write as _;

fn pricing_text(e: &Estimate) -> String {
    let p = &e.pricing;
    format!(
        "{} MB at ${}/GB-s billed per {} ms, ${:.2} per million requests",
        p.memory_mb, p.gb_second, p.billing_ms, p.per_million_requests
    )
}

/// The terminal's table for one trace.
pub fn text(e: &Estimate) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "  with Memento (estimate from {}; hardware at {:.2} GHz, {}):",
        e.summary,
        e.clock_hz / 1e9,
        e.clock_source
    );
    let _ = writeln!(
        o,
        "    {:<14} {:>12} {:>26}",
        "", "time", "cost per 10^6 invocations"
    );
    let _ = writeln!(
        o,
        "    {:<14} {:>12} {:>26}",
        "today",
        ms(e.before_seconds),
        format!("${:.4}", e.cost_before)
    );
    let _ = writeln!(
        o,
        "    {:<14} {:>12} {:>26}",
        "with Memento",
        ms(e.after_seconds),
        format!("${:.4}", e.cost_after)
    );
    let _ = writeln!(
        o,
        "    {:<14} {:>12} {:>26}",
        "change",
        signed_pct(e.time_change),
        signed_pct(e.cost_change)
    );
    let _ = writeln!(
        o,
        "    {:<14} {:>12} {:>26}",
        "paper (mean)",
        signed_pct(e.paper_time),
        signed_pct(e.paper_cost)
    );
    let _ = writeln!(
        o,
        "    T {} ({}) - A {} (allocator calls the hardware answers, {:.1}% of calls, \
         faults out) - F*c {} ({} faults x {:.0} cycles) + H/f {} ({} cycles)",
        ms(e.start_seconds),
        e.start_source,
        ms(e.allocator_seconds),
        100.0 * e.served_share,
        ms(e.fault_seconds),
        e.faults,
        e.fault_cycles_each,
        ms(e.hardware_seconds),
        e.hardware_cycles
    );
    let _ = writeln!(o, "    price: {}", pricing_text(e));
    for n in &e.notes {
        let _ = writeln!(o, "    note: {n}");
    }
    o
}

/// Milliseconds, as the tables show them.
fn ms(seconds: f64) -> String {
    format!("{:.2} ms", seconds * 1e3)
}

/// Bars of the program today, as captured (when `--env` changed it) and with Memento, split into
/// the parts of the estimate.
fn bars(e: &Estimate) -> String {
    let width = 520.0;
    let scale = width / e.before_seconds.max(e.start_seconds).max(1e-12);
    let rest = (e.start_seconds - e.allocator_seconds - e.fault_seconds).max(0.0);
    let split = vec![
        ("rest of the program", rest, "#9bb7d4"),
        (
            "allocator calls the hardware answers (A)",
            e.allocator_seconds,
            "#d9534f",
        ),
        ("page faults inside them (F*c)", e.fault_seconds, "#f0ad4e"),
    ];
    let mut rows = vec![];
    if e.start_seconds == e.before_seconds {
        rows.push(("today".to_string(), split));
    } else {
        rows.push((
            "today".to_string(),
            vec![("the program as it is", e.before_seconds, "#9bb7d4")],
        ));
        rows.push(("as captured".to_string(), split));
    }
    rows.push((
        "with Memento".to_string(),
        vec![
            ("rest of the program", rest, "#9bb7d4"),
            ("the hardware (H/f)", e.hardware_seconds, "#5cb85c"),
        ],
    ));
    let height = 40.0 * rows.len() as f64 + 30.0;
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">",
        width + 220.0
    );
    for (row, (label, parts)) in rows.iter().enumerate() {
        let y = 8.0 + row as f64 * 40.0;
        let _ = write!(o, "<text x=\"0\" y=\"{}\">{label}</text>", y + 18.0);
        let mut x = 110.0;
        let mut total = 0.0;
        for (name, secs, colour) in parts {
            let w = secs * scale;
            let _ = write!(
                o,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"26\" fill=\"{colour}\"><title>{name}: {}</title></rect>",
                ms(*secs)
            );
            x += w;
            total += secs;
        }
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{}\">{}</text>",
            x + 6.0,
            y + 18.0,
            ms(total)
        );
    }
    let _ = write!(
        o,
        "<text x=\"110\" y=\"{}\" fill=\"#555\">blue: the rest of the program; red: A; orange: F*c; green: H/f</text></svg>",
        height - 8.0
    );
    o
}

/// The HTML section for every captured trace, or nothing when there is none.
pub fn html(r: &BenchReport) -> String {
    let captured: Vec<_> = r
        .traces
        .iter()
        .filter_map(|t| t.estimate.as_ref().map(|e| (t, e)))
        .collect();
    if captured.is_empty() {
        return String::new();
    }
    let mut o = String::from(
        "<h2>Captured programs with Memento (estimate)</h2><p class=note>T &minus; A &minus; F&middot;c + H/f: \
         the program's time, less the cycles inside the allocator calls the hardware would answer \
         (their page faults taken out and counted as F&middot;c), plus the hardware's cycles for the \
         same stream at its clock. docs/capture.md says what it leaves out.</p>\
         <table><tr><th>trace</th><th>today</th><th>with Memento</th><th>time</th><th>paper</th>\
         <th>cost per 10<sup>6</sup> invocations, today</th><th>with Memento</th><th>cost</th><th>paper</th>\
         <th>A</th><th>F &times; c</th><th>H / f</th></tr>",
    );
    for (t, e) in &captured {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>${:.4}</td><td>${:.4}</td><td>{}</td><td>{}</td><td>{}</td><td>{} &times; {:.0} cycles</td><td>{} cycles</td></tr>",
            super::bench::esc(&t.trace),
            ms(e.before_seconds),
            ms(e.after_seconds),
            signed_pct(e.time_change),
            signed_pct(e.paper_time),
            e.cost_before,
            e.cost_after,
            signed_pct(e.cost_change),
            signed_pct(e.paper_cost),
            ms(e.allocator_seconds),
            e.faults,
            e.fault_cycles_each,
            e.hardware_cycles
        );
    }
    o.push_str("</table>");
    for (t, e) in &captured {
        let _ = write!(
            o,
            "<h3>{}</h3><p class=note>Price: {}. Hardware at {:.2} GHz ({}).</p>{}",
            super::bench::esc(&t.trace),
            super::bench::esc(&pricing_text(e)),
            e.clock_hz / 1e9,
            super::bench::esc(&e.clock_source),
            bars(e)
        );
        for n in &e.notes {
            let _ = write!(o, "<p class=note>{}</p>", super::bench::esc(n));
        }
    }
    o
}
