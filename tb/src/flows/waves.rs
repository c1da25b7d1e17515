//! Waveforms for people: a GTKWave save file that groups a dump's signals by block, read from the
//! dump's own hierarchy (so it always matches the design that wrote it).
//!
//! `gtkwave build/waves/<case>.fst build/waves/memento.gtkw` opens with one collapsed group per
//! block (the top's ports first, then each sub-block's signals); rust-hdl's one-register modules
//! (`d`, `q`, `clock` only) are left out.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// (scope path, [(signal path, width)]) in dump order.
type Groups = Vec<(String, Vec<(String, u32)>)>;

fn header_lines(wave: &Path) -> Result<Vec<String>> {
    let mut out = vec![];
    if wave.extension().is_some_and(|e| e == "vcd") {
        let f = std::fs::File::open(wave).with_context(|| format!("opening {}", wave.display()))?;
        for line in BufReader::new(f).lines() {
            let line = line?;
            let end = line.contains("$enddefinitions");
            out.push(line);
            if end {
                return Ok(out);
            }
        }
        bail!("{}: no $enddefinitions in the VCD header", wave.display());
    }
    let mut child = Command::new("fst2vcd")
        .arg("-f")
        .arg(wave)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("running fst2vcd (from gtkwave; scripts/install-deps.sh installs it)")?;
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let end = line.contains("$enddefinitions");
        out.push(line);
        if end {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    if !out.iter().any(|l| l.contains("$enddefinitions")) {
        bail!("{}: fst2vcd gave no header", wave.display());
    }
    Ok(out)
}

fn groups(lines: &[String]) -> Groups {
    let mut scopes: Vec<String> = vec![];
    let mut groups: Groups = vec![];
    for l in lines {
        let t: Vec<&str> = l.split_whitespace().collect();
        match t.first().copied() {
            Some("$scope") if t.len() >= 3 => scopes.push(t[2].to_string()),
            Some("$upscope") => {
                scopes.pop();
            }
            Some("$var") if t.len() >= 5 => {
                let scope = scopes.join(".");
                let width: u32 = t[2].parse().unwrap_or(1);
                let name = if t.len() >= 7 && t[5].starts_with('[') {
                    format!("{}{}", t[4], t[5])
                } else {
                    t[4].to_string()
                };
                let path = format!("{scope}.{name}");
                match groups.iter_mut().find(|(s, _)| *s == scope) {
                    Some((_, v)) => v.push((path, width)),
                    None => groups.push((scope, vec![(path, width)])),
                }
            }
            _ => {}
        }
    }
    // One-register modules of rust-hdl hold only d, q and clock.
    groups.retain(|(_, v)| {
        !v.iter().all(|(p, _)| {
            let leaf = p.rsplit('.').next().unwrap_or("");
            let base = leaf.split('[').next().unwrap_or(leaf);
            matches!(base, "d" | "q" | "clock")
        })
    });
    groups
}

/// Writes a GTKWave save file for `wave` to `out`; returns the number of groups.
pub fn save_file(wave: &Path, out: &Path) -> Result<usize> {
    let g = groups(&header_lines(wave)?);
    let mut f =
        std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    writeln!(
        f,
        "[*] memento-rtl: signals grouped per block, written by `memento waves`"
    )?;
    writeln!(f, "[dumpfile] \"{}\"", wave.display())?;
    for (i, (scope, sigs)) in g.iter().enumerate() {
        // 0x800000 opens a group, 0x1000000 closes it; 0x200 is a blank/label row; the first
        // group (the top's ports) starts open, the others closed (0x1800000 flags a closed group).
        let open = if i == 0 { "@800200" } else { "@c00200" };
        writeln!(f, "{open}\n-{scope}")?;
        for (path, width) in sigs {
            writeln!(f, "{}\n{path}", if *width == 1 { "@28" } else { "@22" })?;
        }
        writeln!(f, "@1000200\n-{scope}")?;
    }
    Ok(g.len())
}
