//! Longest paths in one synthesized module (Yosys JSON after ABC onto two-input gates), with the
//! module's children seen through their [`Abstraction`]s.
//!
//! Every gate is one level (a buffer none). A path starts at a flop's output, a memory's read
//! data, an input port or a child's output, and ends at a flop's or memory's input, an output port
//! or a child's input. A child is replaced by what its own analysis found: how deep each of its
//! outputs is driven from inside it, how deep each input goes before it reaches a register inside
//! it, and its input-to-output arcs. Composing modules this way gives the same longest path as
//! flattening, except that no constant crosses a module boundary, so a composed figure can only be
//! higher (never lower) than the flat one.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// A pin of a module's port: the port's name and the bit.
pub type Pin = (String, usize);

/// A path inside one cycle: its levels, where it starts and where it ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Path {
    pub levels: u32,
    pub from: String,
    pub to: String,
}

/// A module as its parent sees it, for timing.
#[derive(Clone, Debug, Default)]
pub struct Abstraction {
    /// Output pin: levels from the deepest start inside the module, and that start.
    pub out_arrival: HashMap<Pin, (u32, String)>,
    /// Input pin: levels to the deepest end inside the module, and that end.
    pub in_required: HashMap<Pin, (u32, String)>,
    /// Combinational arcs: input pin, output pin, levels.
    pub arcs: Vec<(Pin, Pin, u32)>,
    /// The worst path to each end that lies wholly inside the module.
    pub internal: Vec<Path>,
    /// Gates, flop bits and memory bits, the children's included.
    pub cells: u64,
    pub flops: u64,
    pub memory_bits: u64,
}

/// The name of a pin as reports print it.
pub fn pin_name(p: &Pin, width: usize) -> String {
    if width <= 1 {
        p.0.clone()
    } else {
        format!("{}[{}]", p.0, p.1)
    }
}

fn is_gate(ty: &str) -> Option<u32> {
    match ty {
        "$_BUF_" => Some(0),
        "$_NOT_" | "$_AND_" | "$_NAND_" | "$_OR_" | "$_NOR_" | "$_XOR_" | "$_XNOR_"
        | "$_ANDNOT_" | "$_ORNOT_" | "$_MUX_" | "$_NMUX_" => Some(1),
        _ => None,
    }
}

fn is_flop(ty: &str) -> bool {
    ty.starts_with('$')
        && (ty.contains("DFF")
            || ty.contains("DLATCH")
            || ty.starts_with("$_SR_")
            || matches!(
                ty,
                "$dff" | "$dffe" | "$sdff" | "$sdffe" | "$sdffce" | "$adff" | "$adffe" | "$dlatch"
            ))
}

fn is_memory(ty: &str) -> bool {
    matches!(ty, "$mem" | "$mem_v2")
}

/// Cells that describe checks, not hardware.
fn is_ignored(ty: &str) -> bool {
    matches!(
        ty,
        "$assert" | "$assume" | "$cover" | "$live" | "$fair" | "$print" | "$check" | "$scopeinfo"
    )
}

/// The bit graph of one module.
#[derive(Default)]
struct Graph {
    index: HashMap<u64, usize>,
    names: Vec<String>,
    fanout: Vec<Vec<(usize, u32)>>,
    fanin: Vec<Vec<(usize, u32)>>,
    /// Where paths start: levels already spent and the start's name.
    source: Vec<Option<(u32, String)>>,
    /// Where paths end: node, levels still to go, the end's name.
    sinks: Vec<(usize, u32, String)>,
}

impl Graph {
    fn node(&mut self, bit: u64) -> usize {
        if let Some(&i) = self.index.get(&bit) {
            return i;
        }
        let i = self.names.len();
        self.index.insert(bit, i);
        self.names.push(format!("${bit}"));
        self.fanout.push(vec![]);
        self.fanin.push(vec![]);
        self.source.push(None);
        i
    }

    fn edge(&mut self, from: usize, to: usize, levels: u32) {
        self.fanout[from].push((to, levels));
        self.fanin[to].push((from, levels));
    }

    fn start(&mut self, n: usize, levels: u32, name: String) {
        if self.source[n].as_ref().is_none_or(|(l, _)| levels > *l) {
            self.source[n] = Some((levels, name));
        }
    }

    /// Nodes in an order where every edge goes forward; a loop is an error naming a node on it.
    fn topo_order(&self) -> Result<Vec<usize>> {
        let mut indeg: Vec<usize> = self.fanin.iter().map(|f| f.len()).collect();
        let mut order: Vec<usize> = (0..indeg.len()).filter(|&i| indeg[i] == 0).collect();
        let mut k = 0;
        while k < order.len() {
            let u = order[k];
            k += 1;
            for &(v, _) in &self.fanout[u] {
                indeg[v] -= 1;
                if indeg[v] == 0 {
                    order.push(v);
                }
            }
        }
        if order.len() != indeg.len() {
            let on_loop = (0..indeg.len()).find(|&i| indeg[i] > 0).unwrap();
            bail!("combinational loop through {}", self.names[on_loop]);
        }
        Ok(order)
    }
}

fn bits(v: &Value) -> Vec<Option<u64>> {
    v.as_array()
        .map(|a| a.iter().map(|b| b.as_u64()).collect())
        .unwrap_or_default()
}

/// Public names of the module's nets, one per bit (a port's name first).
fn name_bits(module: &Value, g: &mut Graph) {
    let mut best: HashMap<u64, (u8, String)> = HashMap::new();
    if let Some(nets) = module["netnames"].as_object() {
        for (name, net) in nets {
            let hidden = net["hide_name"].as_u64() == Some(1);
            let b = bits(&net["bits"]);
            let width = b.len();
            for (k, bit) in b.into_iter().enumerate() {
                let Some(bit) = bit else { continue };
                let rank = if hidden { 2 } else { 1 };
                let n = pin_name(&(name.clone(), k), width);
                let better = best
                    .get(&bit)
                    .is_none_or(|(r, old)| rank < *r || (rank == *r && n.len() < old.len()));
                if better {
                    best.insert(bit, (rank, n));
                }
            }
        }
    }
    if let Some(ports) = module["ports"].as_object() {
        for (name, port) in ports {
            let b = bits(&port["bits"]);
            let width = b.len();
            for (k, bit) in b.into_iter().enumerate() {
                if let Some(bit) = bit {
                    best.insert(bit, (0, pin_name(&(name.clone(), k), width)));
                }
            }
        }
    }
    let mut best: Vec<(u64, (u8, String))> = best.into_iter().collect();
    best.sort();
    for (bit, (_, name)) in best {
        let n = g.node(bit);
        g.names[n] = name;
    }
}

/// Counts of one module's own cells.
#[derive(Default)]
struct Own {
    cells: u64,
    flops: u64,
    memory_bits: u64,
}

/// One cell's connections split by direction, as graph nodes.
struct CellPins {
    outs: Vec<usize>,
    /// Every input bit with the port it is on.
    ins: Vec<(String, usize)>,
}

fn cell_pins(g: &mut Graph, cell: &Value) -> Result<CellPins> {
    let conns = cell["connections"]
        .as_object()
        .context("a cell without connections")?;
    let dirs = &cell["port_directions"];
    let mut pins = CellPins {
        outs: vec![],
        ins: vec![],
    };
    for (p, v) in conns {
        let out = dirs[p.as_str()].as_str() == Some("output");
        for b in bits(v).into_iter().flatten() {
            let n = g.node(b);
            if out {
                pins.outs.push(n);
            } else {
                pins.ins.push((p.clone(), n));
            }
        }
    }
    Ok(pins)
}

fn add_cell(
    g: &mut Graph,
    own: &mut Own,
    inst: &str,
    cell: &Value,
    children: &HashMap<String, Abstraction>,
) -> Result<()> {
    let ty = cell["type"].as_str().unwrap_or("");
    let inst = inst.trim_start_matches('\\');
    if is_ignored(ty) {
        return Ok(());
    }
    if let Some(levels) = is_gate(ty) {
        own.cells += 1;
        let pins = cell_pins(g, cell)?;
        for &o in &pins.outs {
            for (_, i) in &pins.ins {
                g.edge(*i, o, levels);
            }
        }
        return Ok(());
    }
    if is_flop(ty) || is_memory(ty) {
        return add_storage(g, own, inst, cell);
    }
    let Some(child) = children.get(ty) else {
        bail!("cell {inst} has type {ty}, which is neither a gate, a flop, a memory nor a child module");
    };
    add_child(g, own, inst, cell, child)
}

/// A flop or a memory: its outputs start paths, its inputs end them (but for the address of an
/// asynchronous read, which leads on to the data).
fn add_storage(g: &mut Graph, own: &mut Own, inst: &str, cell: &Value) -> Result<()> {
    let ty = cell["type"].as_str().unwrap_or("");
    let pins = cell_pins(g, cell)?;
    let par = &cell["parameters"];
    let name = if is_memory(ty) {
        par["MEMID"]
            .as_str()
            .unwrap_or(inst)
            .trim_start_matches('\\')
            .to_string()
    } else {
        pins.outs
            .first()
            .map(|&o| g.names[o].clone())
            .unwrap_or(inst.into())
    };
    let mut async_addr = false;
    if is_memory(ty) {
        let size = param_u64(&par["SIZE"]);
        own.memory_bits += param_u64(&par["WIDTH"]) * size;
        async_reads(g, cell, &name, size)?;
        async_addr = param_bits(&par["RD_CLK_ENABLE"])
            .iter()
            .take(param_u64(&par["RD_PORTS"]) as usize)
            .any(|c| !c);
    } else {
        own.flops += pins.outs.len() as u64;
        for &o in &pins.outs {
            let n = g.names[o].clone();
            g.start(o, 0, n);
        }
    }
    for (p, n) in &pins.ins {
        if !(async_addr && p == "RD_ADDR") {
            g.sinks.push((*n, 0, name.clone()));
        }
    }
    Ok(())
}

/// A child module, seen through its abstraction: its output depths start paths, its input
/// depths end them, its arcs are edges.
fn add_child(
    g: &mut Graph,
    own: &mut Own,
    inst: &str,
    cell: &Value,
    child: &Abstraction,
) -> Result<()> {
    let conns = cell["connections"]
        .as_object()
        .context("a cell without connections")?;
    let mut pin_node: HashMap<Pin, usize> = HashMap::new();
    for (p, v) in conns {
        for (k, b) in bits(v).into_iter().enumerate() {
            if let Some(b) = b {
                pin_node.insert((p.clone(), k), g.node(b));
            }
        }
    }
    for (pin, (levels, start)) in &child.out_arrival {
        if let Some(&n) = pin_node.get(pin) {
            g.start(n, *levels, format!("{inst}.{start}"));
        }
    }
    for (pin, (levels, end)) in &child.in_required {
        if let Some(&n) = pin_node.get(pin) {
            g.sinks.push((n, *levels, format!("{inst}.{end}")));
        }
    }
    for (i, o, levels) in &child.arcs {
        if let (Some(&a), Some(&b)) = (pin_node.get(i), pin_node.get(o)) {
            g.edge(a, b, *levels);
        }
    }
    own.cells += child.cells;
    own.flops += child.flops;
    own.memory_bits += child.memory_bits;
    Ok(())
}

/// A memory's read ports: a clocked one's data starts a path (a RAM macro's output register); an
/// asynchronous one (a ROM, a register file read without a register) is a mux tree of
/// `ceil(log2 SIZE)` levels from the address and from the stored bits, unless its address is a
/// constant, when it is the stored bits themselves.
fn async_reads(g: &mut Graph, cell: &Value, name: &str, size: u64) -> Result<()> {
    let par = &cell["parameters"];
    let ports = param_u64(&par["RD_PORTS"]) as usize;
    let abits = param_u64(&par["ABITS"]) as usize;
    let width = param_u64(&par["WIDTH"]) as usize;
    let clocked = param_bits(&par["RD_CLK_ENABLE"]);
    let addr = bits(&cell["connections"]["RD_ADDR"]);
    let data = bits(&cell["connections"]["RD_DATA"]);
    let levels = 64 - size.max(1).saturating_sub(1).leading_zeros();
    for p in 0..ports {
        let is_clocked = clocked.get(p).copied().unwrap_or(true);
        let outs: Vec<usize> = data
            .iter()
            .skip(p * width)
            .take(width)
            .flatten()
            .map(|&b| g.node(b))
            .collect();
        if is_clocked {
            for o in outs {
                g.start(o, 0, name.to_string());
            }
            continue;
        }
        let ins: Vec<usize> = addr
            .iter()
            .skip(p * abits)
            .take(abits)
            .flatten()
            .map(|&b| g.node(b))
            .collect();
        // A read at a constant address (a CAM comparing every entry) is the entry's flops.
        let levels = if ins.is_empty() { 0 } else { levels };
        for &o in &outs {
            g.start(o, levels, name.to_string());
            for &i in &ins {
                g.edge(i, o, levels);
            }
        }
    }
    Ok(())
}

/// A parameter as bits, least significant first.
fn param_bits(v: &Value) -> Vec<bool> {
    match v {
        Value::String(s) => s.trim().chars().rev().map(|c| c == '1').collect(),
        Value::Number(n) => {
            let x = n.as_u64().unwrap_or(0);
            (0..64).map(|k| x >> k & 1 == 1).collect()
        }
        _ => vec![],
    }
}

fn param_u64(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        // Yosys writes wide or odd parameters as binary strings.
        Value::String(s) => u64::from_str_radix(s.trim(), 2).unwrap_or(0),
        _ => 0,
    }
}

/// Keeps the worst path per end (the end's signal, its bit dropped).
fn worst_per_end(paths: impl IntoIterator<Item = Path>) -> Vec<Path> {
    let mut by_end: HashMap<String, Path> = HashMap::new();
    for p in paths {
        let key = p.to.split('[').next().unwrap_or(&p.to).to_string();
        let better = by_end.get(&key).is_none_or(|q| {
            p.levels > q.levels || (p.levels == q.levels && (&p.from, &p.to) < (&q.from, &q.to))
        });
        if better {
            by_end.insert(key, p);
        }
    }
    let mut v: Vec<Path> = by_end.into_values().collect();
    v.sort_by(|a, b| b.levels.cmp(&a.levels).then(a.to.cmp(&b.to)));
    v
}

/// Analyses module `name` of a Yosys JSON netlist. `children` holds the abstraction of every
/// child module by the type name its cells carry.
pub fn analyse(
    netlist: &Value,
    name: &str,
    children: &HashMap<String, Abstraction>,
) -> Result<Abstraction> {
    let module = &netlist["modules"][name];
    if module.is_null() {
        bail!("the netlist has no module {name}");
    }
    let mut g = Graph::default();
    name_bits(module, &mut g);
    let mut own = Own::default();
    if let Some(cells) = module["cells"].as_object() {
        for (inst, cell) in cells {
            add_cell(&mut g, &mut own, inst, cell, children)
                .with_context(|| format!("in module {name}"))?;
        }
    }
    let mut inputs: Vec<(Pin, usize)> = vec![];
    let mut outputs: Vec<(Pin, usize, usize)> = vec![];
    if let Some(ports) = module["ports"].as_object() {
        for (p, port) in ports {
            let b = bits(&port["bits"]);
            let width = b.len();
            for (k, bit) in b.into_iter().enumerate() {
                let Some(bit) = bit else { continue };
                let n = g.node(bit);
                match port["direction"].as_str() {
                    Some("input") => inputs.push(((p.clone(), k), n)),
                    Some("output") => outputs.push(((p.clone(), k), n, width)),
                    _ => {}
                }
            }
        }
    }
    let order = g
        .topo_order()
        .with_context(|| format!("in module {name}"))?;
    let arrival = forward(&g, &order);
    let required = backward(&g, &order);

    let internal = worst_per_end(g.sinks.iter().filter_map(|(n, req, end)| {
        arrival[*n].as_ref().map(|(l, from)| Path {
            levels: l + req,
            from: from.clone(),
            to: end.clone(),
        })
    }));
    let mut out_arrival = HashMap::new();
    for (pin, n, _) in &outputs {
        if let Some(a) = &arrival[*n] {
            out_arrival.insert(pin.clone(), a.clone());
        }
    }
    let mut in_required = HashMap::new();
    for (pin, n) in &inputs {
        if let Some(r) = &required[*n] {
            in_required.insert(pin.clone(), r.clone());
        }
    }
    let arcs = arcs(&g, &order, &inputs, &outputs);
    Ok(Abstraction {
        out_arrival,
        in_required,
        arcs,
        internal,
        cells: own.cells,
        flops: own.flops,
        memory_bits: own.memory_bits,
    })
}

/// Longest-path relaxation: every node in `order` takes the best of its own `init` and, over
/// its `edges`, a neighbour's value plus the edge's levels. The value carries a label index.
fn relax(
    mut val: Vec<Option<(u32, usize)>>,
    order: impl Iterator<Item = usize>,
    edges: &[Vec<(usize, u32)>],
) -> Vec<Option<(u32, usize)>> {
    for u in order {
        let mut best = val[u];
        for &(p, w) in &edges[u] {
            if let Some((l, s)) = val[p] {
                if best.is_none_or(|(b, _)| l + w > b) {
                    best = Some((l + w, s));
                }
            }
        }
        val[u] = best;
    }
    val
}

/// Deepest arrival at every node from any start, with the start.
fn forward(g: &Graph, order: &[usize]) -> Vec<Option<(u32, String)>> {
    let mut starts: Vec<&String> = vec![];
    let init = g
        .source
        .iter()
        .map(|s| {
            s.as_ref().map(|(l, name)| {
                starts.push(name);
                (*l, starts.len() - 1)
            })
        })
        .collect();
    relax(init, order.iter().copied(), &g.fanin)
        .into_iter()
        .map(|a| a.map(|(l, s)| (l, starts[s].clone())))
        .collect()
}

/// Deepest way from every node to any end, with the end.
fn backward(g: &Graph, order: &[usize]) -> Vec<Option<(u32, String)>> {
    let mut init: Vec<Option<(u32, usize)>> = vec![None; g.names.len()];
    for (k, (n, req, _)) in g.sinks.iter().enumerate() {
        if init[*n].is_none_or(|(r, _)| *req > r) {
            init[*n] = Some((*req, k));
        }
    }
    relax(init, order.iter().rev().copied(), &g.fanout)
        .into_iter()
        .map(|r| r.map(|(l, e)| (l, g.sinks[e].2.clone())))
        .collect()
}

/// Input-to-output arcs: for every output bit, the deepest way back to each input bit.
fn arcs(
    g: &Graph,
    order: &[usize],
    inputs: &[(Pin, usize)],
    outputs: &[(Pin, usize, usize)],
) -> Vec<(Pin, Pin, u32)> {
    let mut pos = vec![0usize; g.names.len()];
    for (k, &u) in order.iter().enumerate() {
        pos[u] = k;
    }
    let input_of: HashMap<usize, &Pin> = inputs.iter().map(|(p, n)| (*n, p)).collect();
    let mut dist: Vec<Option<u32>> = vec![None; g.names.len()];
    let mut out = vec![];
    for (opin, o, _) in outputs {
        let mut cone = vec![*o];
        dist[*o] = Some(0);
        let mut k = 0;
        while k < cone.len() {
            let v = cone[k];
            k += 1;
            for &(u, _) in &g.fanin[v] {
                if dist[u].is_none() {
                    dist[u] = Some(0);
                    cone.push(u);
                }
            }
        }
        cone.sort_by_key(|&u| std::cmp::Reverse(pos[u]));
        for &u in &cone {
            if u == *o {
                continue;
            }
            let d = g.fanout[u]
                .iter()
                .filter(|(v, _)| *v == *o || (dist[*v].is_some() && pos[*v] > pos[u]))
                .filter_map(|(v, w)| dist[*v].map(|d| d + w))
                .max();
            dist[u] = d;
        }
        for &u in &cone {
            if let (Some(ipin), Some(d)) = (input_of.get(&u), dist[u]) {
                out.push(((*ipin).clone(), opin.clone(), d));
            }
        }
        for &u in &cone {
            dist[u] = None;
        }
    }
    out
}

/// Every path of a module seen alone, its ports as the cycle's bounds: the internal ones, input
/// ports to ends, starts to output ports and ports through; the worst per end, worst first.
pub fn standalone_paths(a: &Abstraction, widths: &HashMap<String, usize>) -> Vec<Path> {
    let name = |p: &Pin| pin_name(p, widths.get(&p.0).copied().unwrap_or(1));
    let mut all: Vec<Path> = a.internal.clone();
    for (pin, (l, end)) in &a.in_required {
        all.push(Path {
            levels: *l,
            from: name(pin),
            to: end.clone(),
        });
    }
    for (pin, (l, start)) in &a.out_arrival {
        all.push(Path {
            levels: *l,
            from: start.clone(),
            to: name(pin),
        });
    }
    for (i, o, l) in &a.arcs {
        all.push(Path {
            levels: *l,
            from: name(i),
            to: name(o),
        });
    }
    worst_per_end(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gate(ty: &str, a: u64, b: u64, y: u64) -> Value {
        json!({"type": ty, "port_directions": {"A": "input", "B": "input", "Y": "output"},
               "connections": {"A": [a], "B": [b], "Y": [y]}})
    }

    /// in -> AND -> flop q; q -> AND -> OR -> out, and in -> XOR -> out directly; a child with
    /// an arc of 5 levels and an output 7 levels deep sits after the flop.
    fn netlist() -> Value {
        json!({"modules": {"m": {
            "ports": {"i": {"direction": "input", "bits": [2]},
                      "o": {"direction": "output", "bits": [6]},
                      "c": {"direction": "output", "bits": [9]}},
            "netnames": {"q": {"hide_name": 0, "bits": [4]}},
            "cells": {
                "g1": gate("$_AND_", 2, 2, 3),
                "ff": {"type": "$_DFF_P_", "port_directions": {"C": "input", "D": "input", "Q": "output"},
                       "connections": {"C": [1], "D": [3], "Q": [4]}},
                "g2": gate("$_AND_", 4, 4, 5),
                "g3": gate("$_OR_", 5, 2, 6),
                "kid": {"type": "k", "port_directions": {"x": "input", "y": "output"},
                        "connections": {"x": [4], "y": [9]}}
            }
        }}})
    }

    #[test]
    fn levels_arcs_and_children_compose() {
        let mut kid = Abstraction::default();
        kid.out_arrival.insert(("y".into(), 0), (7, "r".into()));
        kid.arcs.push((("x".into(), 0), ("y".into(), 0), 5));
        let children = HashMap::from([("k".to_string(), kid)]);
        let a = analyse(&netlist(), "m", &children).unwrap();
        assert_eq!(a.in_required[&("i".into(), 0)], (1, "q".into()));
        assert_eq!(a.out_arrival[&("o".into(), 0)], (2, "q".into()));
        // The child's own output (7) is deeper than the flop through its arc (0 + 5).
        assert_eq!(a.out_arrival[&("c".into(), 0)], (7, "kid.r".into()));
        assert_eq!(a.arcs, vec![(("i".into(), 0), ("o".into(), 0), 1)]);
        assert_eq!((a.cells, a.flops), (3, 1));
        let widths = HashMap::new();
        let worst = &standalone_paths(&a, &widths)[0];
        assert_eq!((worst.levels, worst.to.as_str()), (7, "c"));
    }

    #[test]
    fn a_loop_is_an_error_naming_a_node() {
        let n = json!({"modules": {"m": {"ports": {}, "netnames": {"w": {"hide_name": 0, "bits": [3]}},
            "cells": {"g": gate("$_AND_", 3, 2, 3)}}}});
        let e = analyse(&n, "m", &HashMap::new()).unwrap_err();
        assert!(
            format!("{e:#}").contains("combinational loop through w"),
            "{e:#}"
        );
    }
}
