//! The bench's reports: a text summary for the terminal, `bench.json` for machines and
//! `bench.html` with SVG plots (plotters) for people.

use crate::flows::bench::{BenchReport, TraceResult};
use crate::flows::sweep::SweepReport;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// A change in percent with its sign (`+1.2%`).
pub fn signed_pct(x: f64) -> String {
    format!("{:+.1}%", 100.0 * x)
}

/// The terminal summary: one block per trace.
pub fn text(r: &BenchReport) -> String {
    let mut o = String::new();
    let p = &r.paper;
    let _ = writeln!(
        o,
        "hardware cycles below are counted {}",
        crate::flows::bench::Levels::text(&r.levels)
    );
    for t in &r.traces {
        let h = &t.hw_on;
        let _ = writeln!(
            o,
            "{}: {} trace operations, {} commands",
            t.trace, t.operations, h.commands
        );
        for (name, s) in [("all", &h.all), ("alloc", &h.alloc), ("free", &h.free)] {
            let _ = writeln!(
                o,
                "  hardware cycles per command ({name:>5}): mean {:.2}, p50 {}, p99 {}, max {}",
                s.mean, s.p50, s.p99, s.max
            );
        }
        let _ = writeln!(
            o,
            "  first-touch faults served {} (mean {:.1} cycles); mean per command with them {:.2}",
            h.walker_faults, h.walk.mean, h.mean_with_faults
        );
        let _ = writeln!(
            o,
            "  hit rate (answered with no header-port traffic) alloc {} (paper {}), free {} (paper {}); arena-list work alloc {} (paper <{}), free {} (paper <{})",
            pct(h.alloc_hit_rate),
            pct(p.alloc_hit_rate),
            pct(h.free_hit_rate),
            pct(p.free_hit_rate),
            pct(h.alloc_list_share),
            pct(p.alloc_list_share_below),
            pct(h.free_list_share),
            pct(p.free_list_share_below)
        );
        let _ = writeln!(
            o,
            "  pages mapped {}, tables {}; DRAM lines by kind, reads/writes:",
            h.pages_mapped, h.tables_allocated
        );
        o.push_str(&crate::env::traffic::table(
            &traffic_rows(t),
            &t.hw_off.traffic,
            "    ",
        ));
        let _ = writeln!(
            o,
            "  against off: on {} (reads {}, writes {}), ideal {}{}; against off-dram: on {} (paper {})",
            signed_pct(t.dram_total_change),
            signed_pct(t.dram_read_change),
            signed_pct(t.dram_write_change),
            signed_pct(t.ideal_total_change),
            t.ideal_share
                .map(|x| format!(", {} of the ideal saving", pct(x)))
                .unwrap_or_default(),
            signed_pct(t.dram_total_change_vs_dram),
            signed_pct(p.dram_traffic_change)
        );
        for s in &t.software {
            let _ = writeln!(
                o,
                "  {:<9} whole replay, ticks/op: warm {} ({} hardware), cold {} ({}); per call: warm mean {:.1} p50 {}, cold mean {:.1} p50 {}",
                s.allocator,
                whole_text(&s.warm_whole),
                ratio_text(s.warm_ratio),
                whole_text(&s.cold_whole),
                ratio_text(s.cold_ratio),
                s.warm.all.mean,
                s.warm.all.p50,
                s.cold.all.mean,
                s.cold.all.p50
            );
        }
        if let Some(e) = &t.estimate {
            o.push_str(&crate::report::estimate::text(e));
        }
    }
    o
}

/// A whole-replay figure: the median and, in brackets, the lowest and highest pair and how many
/// pairs had the allocator dearer; where the pairs show no cost, "not measurable here" first.
/// A trace's traffic rows: each mode, then the ideal.
fn traffic_rows(t: &TraceResult) -> Vec<(String, crate::env::traffic::Traffic)> {
    let mut rows: Vec<_> = [&t.hw_on, &t.hw_off, &t.hw_off_dram]
        .iter()
        .map(|h| (h.mode.clone(), h.traffic.clone()))
        .collect();
    rows.push(("ideal".into(), t.hw_on.ideal.clone()));
    rows
}

/// One stacked bar per (trace, row): the DRAM lines of each kind, reads and writes together.
pub fn stacked_traffic(r: &BenchReport) -> Result<String> {
    use crate::env::traffic::Kind;
    let rows: Vec<Vec<(String, crate::env::traffic::Traffic)>> =
        r.traces.iter().map(traffic_rows).collect();
    let per = rows.first().map_or(1, |r| r.len());
    let n = (rows.len() * (per + 1)) as f64;
    let hi = rows
        .iter()
        .flatten()
        .map(|(_, t)| t.total())
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.25;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (860, 400)).into_drawing_area();
        root.fill(&WHITE)?;
        let labels: Vec<String> = rows
            .iter()
            .zip(&r.traces)
            .flat_map(|(rs, t)| {
                rs.iter()
                    .map(|(m, _)| format!("{} {m}", t.trace.trim_end_matches("_fn")))
                    .chain(std::iter::once(String::new()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "DRAM lines by kind: bypass on, the two baselines, and the ideal",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..n, 0.0..hi)?;
        let names = labels.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len() * 2 + 1)
            .x_label_style(("sans-serif", 10))
            .x_label_formatter(&move |x| centre_label(&names, *x))
            .y_desc("64-byte lines")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (j, k) in Kind::ALL.into_iter().enumerate() {
            let c = COLORS[j % COLORS.len()];
            let bars: Vec<Rectangle<(f64, f64)>> = rows
                .iter()
                .enumerate()
                .flat_map(|(g, rs)| {
                    rs.iter().enumerate().map(move |(i, (_, t))| {
                        let below: u64 = Kind::ALL[..j]
                            .iter()
                            .map(|&b| t.reads_of(b) + t.writes_of(b))
                            .sum();
                        let x0 = (g * (per + 1) + i) as f64 + 0.1;
                        let y0 = below as f64;
                        let y1 = y0 + (t.reads_of(k) + t.writes_of(k)) as f64;
                        Rectangle::new([(x0, y0), (x0 + 0.8, y1)], c.filled())
                    })
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(k.name())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

fn whole_text(w: &crate::flows::swbench::Whole) -> String {
    let spread = format!(
        "[{:.1}..{:.1}, dearer in {} of {} pairs]",
        w.min,
        w.max,
        w.dearer,
        w.runs.len()
    );
    match w.figure() {
        Some(x) => format!("{x:.1} {spread}"),
        None => format!("not measurable here (median {:.1} {spread})", w.median),
    }
}

/// A ratio to the hardware, or a dash where the software figure is not measurable.
fn ratio_text(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |x| format!("{x:.1}x"))
}

/// `bench.json` and `bench.html` in `dir`; a `sweep.json` there (from `memento sweep`) adds the
/// sweep's section to the page.
pub fn write(r: &BenchReport, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = dir.join("bench.json");
    std::fs::write(&json, serde_json::to_string_pretty(r)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let sweep_json = dir.join("sweep.json");
    let sweep: Option<SweepReport> = match std::fs::read_to_string(&sweep_json) {
        Ok(t) => Some(serde_json::from_str(&t).with_context(|| {
            format!("reading {} (run `make sweep` again)", sweep_json.display())
        })?),
        Err(_) => None,
    };
    let html = dir.join("bench.html");
    std::fs::write(&html, html_page(r, sweep.as_ref())?)
        .with_context(|| format!("writing {}", html.display()))?;
    Ok(())
}

const COLORS: [RGBColor; 7] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0xff, 0x98, 0x96),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x98, 0xdf, 0x8a),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xc5, 0xb0, 0xd5),
];

/// Grouped bars on a log scale: `groups` along x, one bar per series in each group.
/// The name of the group whose centre is at `x` (group `i` spans `i..i + 1`), else nothing.
fn centre_label(names: &[String], x: f64) -> String {
    let i = (x - 0.5).round();
    if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
        names[i as usize].clone()
    } else {
        String::new()
    }
}

pub fn grouped_bars(
    title: &str,
    y_desc: &str,
    groups: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (860, 380)).into_drawing_area();
        root.fill(&WHITE)?;
        let all: Vec<f64> = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| *v > 0.0)
            .collect();
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min).min(1.0) * 0.5;
        let hi = all.iter().copied().fold(1.0, f64::max) * 60.0;
        let n = groups.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..n, (lo..hi).log_scale())?;
        let names = groups.to_vec();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.len() * 2 + 1)
            .x_label_formatter(&move |x| centre_label(&names, *x))
            .y_desc(y_desc)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        let k = series.len() as f64;
        let w = 0.8 / k;
        for (j, (name, vals)) in series.iter().enumerate() {
            let c = COLORS[j % COLORS.len()];
            chart
                .draw_series(vals.iter().enumerate().map(|(i, &v)| {
                    let x0 = i as f64 + 0.1 + j as f64 * w;
                    Rectangle::new([(x0, lo), (x0 + w * 0.9, v.max(lo))], c.filled())
                }))?
                .label(name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// Commands per latency for alloc and free (log scale), latencies above `cap` in the last bar.
fn latency_histogram(t: &TraceResult, cap: usize) -> Result<String> {
    let fold = |h: &[u64]| -> Vec<u64> {
        let mut v = vec![0u64; cap + 2];
        for (i, &c) in h.iter().enumerate() {
            v[i.min(cap + 1)] += c;
        }
        v
    };
    let (a, f) = (fold(&t.hw_on.alloc_hist), fold(&t.hw_on.free_hist));
    let max = a.iter().chain(&f).copied().max().unwrap_or(1).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (860, 340)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{}: cycles per command (bars past {cap} hold everything longer)",
                    t.trace
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..(cap + 2) as f64, (0.5..max * 12.0).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("cycles from acceptance to answer")
            .y_desc("commands")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_label_formatter(&|x| format!("{}", x.floor() as u64))
            .draw()?;
        for (j, (name, v)) in [("alloc", &a), ("free", &f)].into_iter().enumerate() {
            let c = COLORS[j * 3];
            chart
                .draw_series(v.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| {
                    let x0 = i as f64 + 0.05 + j as f64 * 0.45;
                    Rectangle::new([(x0, 0.5), (x0 + 0.42, n as f64)], c.filled())
                }))?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// HTML-escaped text (also for the other report sections).
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The table of each trace's hardware figure beside the three allocators' (whole replays with
/// their spread, the ratios, and the per-call view).
fn software_table(r: &BenchReport) -> String {
    let mut o = String::new();
    o.push_str("<h2>Hardware against software</h2><table><tr><th>trace</th><th>allocator</th><th>warm, whole replay (ticks per op) [lowest..highest]</th><th>cold, whole replay</th><th>warm / hardware</th><th>cold / hardware</th><th>per call, warm mean / p50 / p99</th><th>per call, cold mean / p50 / p99</th></tr>");
    for t in &r.traces {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>memento (hardware)</td><td colspan=2>{:.2} cycles per command with faults ({:.2} without), p50 {}</td><td>1.0x</td><td>1.0x</td><td colspan=2></td></tr>",
            esc(&t.trace),
            t.hw_on.mean_with_faults,
            t.hw_on.all.mean,
            t.hw_on.all.p50
        );
        for s in &t.software {
            let _ = write!(
                o,
                "<tr><td></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} / {} / {}</td><td>{:.1} / {} / {}</td></tr>",
                esc(&s.allocator),
                esc(&whole_text(&s.warm_whole)),
                esc(&whole_text(&s.cold_whole)),
                ratio_text(s.warm_ratio),
                ratio_text(s.cold_ratio),
                s.warm.all.mean,
                s.warm.all.p50,
                s.warm.all.p99,
                s.cold.all.mean,
                s.cold.all.p50,
                s.cold.all.p99
            );
        }
    }
    o.push_str("</table>");
    o
}

/// The page's head and the run's description.
fn intro(r: &BenchReport) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>memento bench</title><style>{STYLE}</style></head><body>\
         <h1>memento bench</h1>\
         <p>Profile <b>{}</b> (header port {} cycles, page-table port {}, DRAM {}, OS refill {}{}), \
         seed {}, parameter set <b>{}</b> ({}). {} traces in {:.0} s. Software on {}{}; software is timed in \
         time-stamp-counter ticks per operation over whole replays, each less a replay through an empty \
         allocator that hands out the same addresses (median of at least 5 such pairs, lowest and highest in \
         brackets; a figure only where a sign test over the pairs shows a cost at the 5% level, else \
         &ldquo;not measurable here&rdquo; and no ratio; per-call figures beside them), \
         hardware in its own clock cycles, counted {}.</p>",
        esc(&r.profile.name),
        r.profile.header,
        r.profile.table,
        r.profile.dram,
        r.profile.os,
        if r.profile.stalls {
            "; random stalls on every port"
        } else {
            ""
        },
        r.seed,
        esc(&r.params_name),
        esc(&r.params),
        r.traces.len(),
        r.seconds,
        esc(&r.cpu),
        r.tsc_mhz
            .map(|m| format!(" ({m:.0} MHz)"))
            .unwrap_or_default(),
        esc(&crate::flows::bench::Levels::text(&r.levels))
    );
    o
}

/// The hardware's latencies and hit rates per trace, against the paper's.
fn hardware_tables(r: &BenchReport) -> String {
    let mut o = String::new();
    let p = &r.paper;
    o.push_str("<h2>Hardware</h2><table><tr><th>trace</th><th>commands</th><th>mean</th><th>p50</th><th>p99</th><th>max</th><th>alloc mean / p50 / p99 / max</th><th>free mean / p50 / p99 / max</th><th>first-touch faults (mean cycles)</th><th>mean with faults</th></tr>");
    for t in &r.traces {
        let h = &t.hw_on;
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2} / {} / {} / {}</td><td>{:.2} / {} / {} / {}</td><td>{} ({:.1})</td><td>{:.2}</td></tr>",
            esc(&t.trace),
            h.commands,
            h.all.mean,
            h.all.p50,
            h.all.p99,
            h.all.max,
            h.alloc.mean,
            h.alloc.p50,
            h.alloc.p99,
            h.alloc.max,
            h.free.mean,
            h.free.p50,
            h.free.p99,
            h.free.max,
            h.walker_faults,
            h.walk.mean,
            h.mean_with_faults
        );
    }
    o.push_str("</table>");
    o.push_str("<table><tr><th>trace</th><th>alloc hit</th><th>free hit (HOT or header cache)</th><th>alloc needing arena-list work</th><th>free needing arena-list work</th><th>pages mapped</th><th>tables</th><th>header reads / writes</th></tr>");
    for t in &r.traces {
        let h = &t.hw_on;
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td></tr>",
            esc(&t.trace),
            pct(h.alloc_hit_rate),
            pct(h.free_hit_rate),
            pct(h.alloc_list_share),
            pct(h.free_list_share),
            h.pages_mapped,
            h.tables_allocated,
            h.header_reads,
            h.header_writes
        );
    }
    let _ = write!(
        o,
        "<tr><td>paper</td><td>{}</td><td>{}</td><td>&lt;{}</td><td>&lt;{}</td><td></td><td></td><td></td></tr></table>",
        pct(p.alloc_hit_rate),
        pct(p.free_hit_rate),
        pct(p.alloc_list_share_below),
        pct(p.free_list_share_below)
    );
    o
}

/// Cycles per operation: the hardware against each software allocator, warm and cold.
fn cycles_chart(r: &BenchReport) -> Result<String> {
    let groups: Vec<String> = r.traces.iter().map(|t| t.trace.clone()).collect();
    let mut series = vec![(
        "memento".to_string(),
        r.traces.iter().map(|t| t.hw_on.mean_with_faults).collect(),
    )];
    if let Some(first) = r.traces.first() {
        for (k, s) in first.software.iter().enumerate() {
            for (warm, label) in [(true, "warm"), (false, "cold")] {
                series.push((
                    format!("{} {label}", s.allocator),
                    r.traces
                        .iter()
                        .map(|t| {
                            let x = &t.software[k];
                            let w = if warm { &x.warm_whole } else { &x.cold_whole };
                            w.figure().unwrap_or(0.0)
                        })
                        .collect(),
                ));
            }
        }
    }
    grouped_bars(
        "cycles per operation: hardware (mean) against software (whole replays, median; no bar where not measurable)",
        "cycles (log)",
        &groups,
        &series,
    )
}

/// DRAM traffic by kind and memory mode, the ideal, and the stacked bars.
fn traffic_section(r: &BenchReport) -> Result<String> {
    let mut o = String::new();
    let p = &r.paper;
    o.push_str(
        "<h2>DRAM traffic</h2><p>Every access the hardware causes goes through one last-level cache \
         model to DRAM (object data, header lines, page-table entries, bypass metadata). <b>off</b> is \
         the headline baseline: the OS zeroes each mapped page with 64 full-line stores through the \
         cache. <b>off-dram</b> zeroes pages straight in DRAM. <b>ideal</b> is what no bypass could \
         avoid of the bypass-on run's cache traffic: no zeroing, no fill of a line never written \
         since its frame was mapped, no writeback to a reclaimed frame.</p>\
         <table><tr><th>trace</th><th>mode</th>",
    );
    for k in crate::env::traffic::Kind::ALL {
        let _ = write!(o, "<th>{} r / w</th>", k.name());
    }
    o.push_str("<th>total</th><th>against off</th></tr>");
    for t in &r.traces {
        for (m, tr) in traffic_rows(t) {
            let _ = write!(o, "<tr><td>{}</td><td>{m}</td>", esc(&t.trace));
            for k in crate::env::traffic::Kind::ALL {
                let _ = write!(o, "<td>{} / {}</td>", tr.reads_of(k), tr.writes_of(k));
            }
            let _ = write!(
                o,
                "<td>{}</td><td>{}</td></tr>",
                tr.total(),
                signed_pct(crate::flows::bench::change(
                    tr.total(),
                    t.hw_off.traffic.total()
                ))
            );
        }
        let _ = write!(
            o,
            "<tr><td>{}</td><td colspan=\"8\">bypass on: {} reads bypassed, {} writebacks dropped, {} zero lines; {}</td></tr>",
            esc(&t.trace),
            t.hw_on.reads_bypassed,
            t.hw_on.writebacks_dropped,
            t.hw_on.zero_lines,
            t.ideal_share
                .map(|x| format!("{} of the ideal saving against off", pct(x)))
                .unwrap_or_else(|| "the ideal saves nothing against off".into())
        );
    }
    let _ = write!(
        o,
        "<tr><td>paper</td><td colspan=\"8\">main-memory traffic {}</td></tr></table>",
        signed_pct(p.dram_traffic_change)
    );
    o.push_str(&stacked_traffic(r)?);
    Ok(o)
}

fn html_page(r: &BenchReport, sweep: Option<&SweepReport>) -> Result<String> {
    let mut o = intro(r);
    o.push_str(&crate::report::estimate::html(r));
    o.push_str(&hardware_tables(r));
    o.push_str(&software_table(r));
    o.push_str(&cycles_chart(r)?);
    o.push_str(&traffic_section(r)?);
    o.push_str("<h2>Latency per op</h2>");
    for t in &r.traces {
        o.push_str(&latency_histogram(t, 40)?);
    }
    match sweep {
        Some(sw) => o.push_str(&sweep_section(sw)?),
        None => o.push_str(
            "<h2>Design-space sweep</h2><p class=note>No sweep.json beside this page: run <code>make sweep</code>, then the bench again.</p>",
        ),
    }
    o.push_str("<p class=note>Written by <code>memento bench</code>; the numbers are in bench.json beside this page.</p></body></html>");
    Ok(o)
}

/// Lines over categorical points (`labels` along x), one per series; `None` values are skipped.
pub fn line_chart(
    title: &str,
    y_desc: &str,
    labels: &[String],
    series: &[(String, Vec<Option<f64>>)],
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (540, 300)).into_drawing_area();
        root.fill(&WHITE)?;
        let vals: Vec<f64> = series
            .iter()
            .flat_map(|(_, v)| v.iter().flatten().copied())
            .collect();
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.15).max(hi.abs() * 0.02).max(1e-9);
        let n = labels.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(62)
            .build_cartesian_2d(-0.5..n - 0.5, (lo - pad)..(hi + pad * 2.5))?;
        let names = labels.to_vec();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len() * 2 + 1)
            .x_label_formatter(&move |x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                    names[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_desc(y_desc)
            .draw()?;
        for (j, (name, v)) in series.iter().enumerate() {
            let c = COLORS[(j * 2) % COLORS.len()];
            let pts: Vec<(f64, f64)> = v
                .iter()
                .enumerate()
                .filter_map(|(i, y)| y.map(|y| (i as f64, y)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], c.stroke_width(2))
                });
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// The sweep as a section of a page: the table and, per axis, hit rates, cycles, DRAM and area.
/// The sweep's section of the bench page: what ran, a table of every point, a chart per axis.
pub fn sweep_section(r: &SweepReport) -> Result<String> {
    let mut o = String::new();
    let _ = write!(
        o,
        "<h2>Design-space sweep</h2><p>memento_top at every point of tb/sweep.toml, bypass on, \
         profile {}, seed {}, {:.0} s. Free hit target {} on {}: {}.</p>",
        esc(&r.profile.name),
        r.seed,
        r.seconds,
        pct(r.target_free_hit_rate),
        esc(&r.target_traces.join(", ")),
        match &r.reaches_target {
            Some(p) => format!("first reached at <b>{}</b>", esc(p)),
            None => "<b>not reached</b> by any point".into(),
        }
    );
    o.push_str(&sweep_table(r));
    let mut axes: Vec<&str> = vec![];
    for p in &r.points {
        if !axes.contains(&p.axis.as_str()) {
            axes.push(&p.axis);
        }
    }
    for axis in axes {
        o.push_str(&axis_charts(r, axis)?);
    }
    Ok(o)
}

/// Every point's area, levels and per-trace figures.
fn sweep_table(r: &SweepReport) -> String {
    let mut o = String::new();
    o.push_str("<table><tr><th>axis</th><th>point</th><th>cells</th><th>flops</th><th>gate levels per cycle</th>");
    for t in &r.traces {
        let _ = write!(
            o,
            "<th>{0}: free hit / alloc hit</th><th>{0}: cycles per command (with faults), p50</th><th>{0}: header reads+writes</th><th>{0}: DRAM lines</th>",
            esc(t)
        );
    }
    o.push_str("</tr>");
    for p in &r.points {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(&p.axis),
            esc(&p.label),
            p.area.as_ref().map_or("-".into(), |a| a.cells.to_string()),
            p.area.as_ref().map_or("-".into(), |a| a.flops.to_string()),
            p.area.as_ref().map_or("-".into(), levels_cell)
        );
        for t in &p.traces {
            let h = &t.run;
            let _ = write!(
                o,
                "<td>{} / {}</td><td>{:.2} ({:.2}), {}</td><td>{}</td><td>{}</td>",
                pct(h.free_hit_rate),
                pct(h.alloc_hit_rate),
                h.all.mean,
                h.mean_with_faults,
                h.all.p50,
                h.header_reads + h.header_writes,
                h.traffic.total()
            );
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");
    o
}

/// One axis's charts: free hit rate, cycles per command, DRAM lines and area over its points.
fn axis_charts(r: &SweepReport, axis: &str) -> Result<String> {
    let mut o = String::new();
    let pts: Vec<_> = r.points.iter().filter(|p| p.axis == axis).collect();
    let labels: Vec<String> = pts.iter().map(|p| p.label.clone()).collect();
    let per_trace =
        |f: &dyn Fn(&crate::flows::bench::HwRun) -> f64| -> Vec<(String, Vec<Option<f64>>)> {
            r.traces
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    (
                        t.clone(),
                        pts.iter().map(|p| Some(f(&p.traces[k].run))).collect(),
                    )
                })
                .collect()
        };
    let _ = write!(o, "<h3>{}</h3><div>", esc(axis));
    o.push_str(&line_chart(
        &format!("{axis}: free hit rate (%)"),
        "%",
        &labels,
        &per_trace(&|h| 100.0 * h.free_hit_rate),
    )?);
    o.push_str(&line_chart(
        &format!("{axis}: cycles per command (with faults)"),
        "cycles",
        &labels,
        &per_trace(&|h| h.mean_with_faults),
    )?);
    o.push_str(&line_chart(
        &format!("{axis}: DRAM lines (bypass on)"),
        "lines",
        &labels,
        &per_trace(&|h| (h.traffic.total()) as f64),
    )?);
    o.push_str(&line_chart(
        &format!("{axis}: area (Yosys cells)"),
        "cells",
        &labels,
        &[(
            "memento_top".to_string(),
            pts.iter()
                .map(|p| p.area.as_ref().map(|a| a.cells as f64))
                .collect(),
        )],
    )?);
    o.push_str("</div>");
    Ok(o)
}

/// `sweep.json` and `sweep.html` in `dir`.
pub fn write_sweep(r: &SweepReport, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = dir.join("sweep.json");
    std::fs::write(&json, serde_json::to_string_pretty(r)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>memento sweep</title><style>{STYLE}</style></head><body><h1>memento sweep</h1>{}</body></html>",
        sweep_section(r)?
    );
    let path = dir.join("sweep.html");
    std::fs::write(&path, html).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A sweep point's gate levels per cycle, marked when they are over SPEC's budget: that point's
/// cycle counts are not worth a core's clock.
fn levels_cell(a: &crate::flows::sweep::Area) -> String {
    if a.levels > memento_hw::params::STAGE_LEVELS {
        format!("{} OVER", a.levels)
    } else {
        a.levels.to_string()
    }
}

/// The terminal summary of a sweep.
pub fn sweep_text(r: &SweepReport) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "{:<8} {:<26} {:>9} {:>8} {:>7}",
        "axis", "point", "cells", "flops", "levels"
    );
    for t in &r.traces {
        let _ = write!(o, " | {:^34}", t);
    }
    o.push('\n');
    let _ = write!(o, "{:<8} {:<26} {:>9} {:>8} {:>7}", "", "", "", "", "");
    for _ in &r.traces {
        let _ = write!(
            o,
            " | {:>7} {:>7} {:>6} {:>11}",
            "free", "alloc", "cyc", "DRAM"
        );
    }
    o.push('\n');
    for p in &r.points {
        let _ = write!(
            o,
            "{:<8} {:<26} {:>9} {:>8} {:>7}",
            p.axis,
            p.label,
            p.area.as_ref().map_or("-".into(), |a| a.cells.to_string()),
            p.area.as_ref().map_or("-".into(), |a| a.flops.to_string()),
            p.area.as_ref().map_or("-".into(), levels_cell)
        );
        for t in &p.traces {
            let h = &t.run;
            let _ = write!(
                o,
                " | {:>6.2}% {:>6.2}% {:>6.2} {:>11}",
                100.0 * h.free_hit_rate,
                100.0 * h.alloc_hit_rate,
                h.mean_with_faults,
                h.traffic.total()
            );
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "free hit rate {} on {}: {}",
        pct(r.target_free_hit_rate),
        r.target_traces.join(", "),
        r.reaches_target
            .as_deref()
            .map_or("not reached".to_string(), |p| format!(
                "first reached at {p}"
            ))
    );
    o
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1200px}\
table{border-collapse:collapse;margin:1em 0;font-size:90%}\
td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}\
th{background:#eee} td:first-child,th:first-child{text-align:left}\
.note{color:#555;font-size:90%}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::bench::{HwRun, Profile};
    use crate::flows::swbench::Summary;
    use crate::flows::sweep::{Area, PointResult, PointTrace};

    fn run(free_hit: f64) -> HwRun {
        let s = Summary {
            n: 10,
            mean: 1.5,
            p50: 1,
            p99: 8,
            max: 9,
        };
        HwRun {
            bypass: true,
            commands: 10,
            cycles: 20,
            all: s.clone(),
            alloc: s.clone(),
            free: s.clone(),
            alloc_hist: vec![0, 5],
            free_hist: vec![0, 3, 2],
            walker_faults: 1,
            walk: s,
            mean_with_faults: 2.0,
            alloc_hit_rate: 0.99,
            free_hit_rate: free_hit,
            alloc_list_share: 0.01,
            free_list_share: 0.005,
            fallbacks: 0,
            pages_mapped: 3,
            tables_allocated: 4,
            header_reads: 5,
            header_writes: 6,
            dram_reads: 7,
            dram_writes: 8,
            reads_bypassed: 1,
            writebacks_dropped: 1,
            zero_lines: 1,
            mode: "on".into(),
            traffic: Default::default(),
            ideal: Default::default(),
        }
    }

    #[test]
    fn sweep_section_has_a_table_row_per_point_and_four_plots_per_axis() {
        let point = |axis: &str, label: &str, hit: f64| PointResult {
            axis: axis.into(),
            label: label.into(),
            params: String::new(),
            traces: vec![PointTrace {
                trace: "ast_fn".into(),
                run: run(hit),
            }],
            area: Some(Area {
                cells: 1000,
                flops: 100,
                levels: 23,
            }),
        };
        let r = SweepReport {
            seed: 1,
            profile: Profile::parse("default").unwrap(),
            traces: vec!["ast_fn".into()],
            points: vec![
                point("HDC", "HDC=0", 0.55),
                point("HDC", "HDC=8", 0.96),
                point("OBJS", "OBJS=32", 0.5),
            ],
            target_free_hit_rate: 0.83,
            target_traces: vec!["ast_fn".into()],
            reaches_target: Some("HDC=8".into()),
            seconds: 1.0,
        };
        let html = sweep_section(&r).unwrap();
        assert_eq!(
            html.matches("<svg").count(),
            8,
            "four plots for each of two axes"
        );
        assert_eq!(
            html.matches("<tr>").count(),
            4,
            "a header row and three points"
        );
        assert!(html.contains("first reached at <b>HDC=8</b>"));
        let text = sweep_text(&r);
        assert!(text.contains("96.00%") && text.contains("first reached at HDC=8"));
        assert!(!text.contains("OVER"), "every point is at 23 levels");
        let mut deep = r.clone();
        deep.points[1].area.as_mut().unwrap().levels = 42;
        assert!(sweep_text(&deep).contains("42 OVER"));
        assert!(sweep_section(&deep).unwrap().contains("42 OVER"));
    }
}
