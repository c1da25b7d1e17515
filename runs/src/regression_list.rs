//! The regression list file (`tb/regressions.toml`): named parameter sets and the tests that use
//! them. The Verilator build reads it to know which parameter sets to generate and verilate; the
//! regression runner reads it to know what to run. This module is the one parser of that file.
//!
//! ```toml
//! [params.small]          # a named parameter set; keys are the SPEC names in lower case,
//! objs = 32               # a key left out keeps its default
//! pool = 16
//! cnt_bits = 12           # the bypass's counter width (not a SPEC name; default 32)
//!
//! [[test]]
//! name = "top_small"      # unique
//! design = "memento_top"  # memento_top | memento_core | object_alloc | bypass
//! params = "small"        # "default" or a [params.*] name
//! seeds = 64
//! ops = 100000            # commands per seed
//! stalls = true           # random stalls on every port (default true)
//! exit_every = 25000      # mean commands per function (0: no exit but the final one)
//! mix = [50, 40, 10]      # weights of alloc, free, bad free (bypass: map, dead, cache access)
//! classes = [56, 63]      # allocate only from these size classes
//! class_pairs = true      # each phase allocates from two classes one bit apart
//! edges = true            # with class_pairs: some phases fill both classes' arenas, then free
//!                         # into a full arena with an alloc of the pair right behind
//! mrs = 0x7fc000000000    # region base (aligned to the region; default 2^44)
//! first_frame = 0xfe00000 # the first frame number the OS hands out (default 0x1000)
//! seeded_addresses = true # instead: MRS and the first frame drawn from each seed
//! seeded_watermarks = true # the pool's LOW and HIGH drawn from each seed, written after reset
//! dead_access = 2         # bypass: one cache access in this many goes to a reclaimed frame
//! reset_every = 0         # bypass: reset the unit after every N events at a quiet point (0: never)
//!
//! [lists]
//! default = ["top_small"] # `memento regress --list default`
//! ```

use memento_hw::emit::Design;
use memento_hw::Params;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Overrides {
    va_bits: Option<u32>,
    pa_bits: Option<u32>,
    line: Option<u64>,
    page: Option<u64>,
    classes: Option<u32>,
    objs: Option<u32>,
    lane_bits: Option<u32>,
    pool: Option<u32>,
    low: Option<u32>,
    high: Option<u32>,
    bypass: Option<u32>,
    hdc: Option<u32>,
    bypass_on: Option<bool>,
    dram_zero: Option<bool>,
    cnt_bits: Option<u32>,
}

impl Overrides {
    /// The set keys as `NAME=value`, in SPEC order (for labels).
    pub(crate) fn label(&self) -> String {
        let mut parts = vec![];
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        };
        put("VA_BITS", self.va_bits.map(|v| v.to_string()));
        put("PA_BITS", self.pa_bits.map(|v| v.to_string()));
        put("LINE", self.line.map(|v| v.to_string()));
        put("PAGE", self.page.map(|v| v.to_string()));
        put("CLASSES", self.classes.map(|v| v.to_string()));
        put("OBJS", self.objs.map(|v| v.to_string()));
        put("LANE_BITS", self.lane_bits.map(|v| v.to_string()));
        put("POOL", self.pool.map(|v| v.to_string()));
        put("LOW", self.low.map(|v| v.to_string()));
        put("HIGH", self.high.map(|v| v.to_string()));
        put("BYPASS", self.bypass.map(|v| v.to_string()));
        put("HDC", self.hdc.map(|v| v.to_string()));
        put("BYPASS_ON", self.bypass_on.map(|v| v.to_string()));
        put("DRAM_ZERO", self.dram_zero.map(|v| v.to_string()));
        put("CNT_BITS", self.cnt_bits.map(|v| v.to_string()));
        if parts.is_empty() {
            "defaults".into()
        } else {
            parts.join(" ")
        }
    }

    pub(crate) fn apply(&self) -> Params {
        let d = Params::default();
        Params {
            va_bits: self.va_bits.unwrap_or(d.va_bits),
            pa_bits: self.pa_bits.unwrap_or(d.pa_bits),
            line: self.line.unwrap_or(d.line),
            page: self.page.unwrap_or(d.page),
            classes: self.classes.unwrap_or(d.classes),
            objs: self.objs.unwrap_or(d.objs),
            lane_bits: self.lane_bits.unwrap_or(d.lane_bits),
            pool: self.pool.unwrap_or(d.pool),
            low: self.low.unwrap_or(d.low),
            high: self.high.unwrap_or(d.high),
            bypass: self.bypass.unwrap_or(d.bypass),
            hdc: self.hdc.unwrap_or(d.hdc),
            bypass_on: self.bypass_on.unwrap_or(d.bypass_on),
            dram_zero: self.dram_zero.unwrap_or(d.dram_zero),
            cnt_bits: self.cnt_bits.unwrap_or(d.cnt_bits),
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: String,
    design: String,
    params: String,
    seeds: u64,
    ops: u64,
    #[serde(default = "yes")]
    stalls: bool,
    #[serde(default)]
    exit_every: Option<u64>,
    #[serde(default)]
    mix: Option<[u32; 3]>,
    #[serde(default)]
    classes: Option<[u64; 2]>,
    #[serde(default)]
    class_pairs: bool,
    #[serde(default)]
    edges: bool,
    #[serde(default)]
    mrs: Option<u64>,
    #[serde(default)]
    first_frame: Option<u64>,
    #[serde(default)]
    seeded_addresses: bool,
    #[serde(default)]
    seeded_watermarks: bool,
    #[serde(default)]
    dead_access: Option<u32>,
    #[serde(default)]
    reset_every: Option<u64>,
    #[serde(default)]
    llc_kib: Option<u64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    params: BTreeMap<String, Overrides>,
    #[serde(default)]
    test: Vec<RawTest>,
    #[serde(default)]
    lists: BTreeMap<String, Vec<String>>,
}

/// One test of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSpec {
    pub name: String,
    pub design: Design,
    pub params_name: String,
    pub params: Params,
    pub seeds: u64,
    pub ops: u64,
    pub stalls: bool,
    /// Mean commands per function; `None` keeps the stimulus default.
    pub exit_every: Option<u64>,
    /// Weights of alloc, free and bad free; `None` keeps the stimulus default.
    pub mix: Option<[u32; 3]>,
    /// Allocate only from this range of size classes; `None`: all of them.
    pub classes: Option<[u64; 2]>,
    /// Each phase of the stream allocates from two classes whose numbers differ in one bit
    /// (back-to-back commands of one class, and of classes a one-bit compare tells apart).
    pub class_pairs: bool,
    /// With `class_pairs`: half the phases take both classes to the edge where the arena in
    /// the HOT is full, then free into another full arena of one (it becomes available: a class
    /// table write) with an alloc of the pair right behind it, which must read that entry.
    pub edges: bool,
    /// The region base (default 2^44).
    pub mrs: Option<u64>,
    /// The first frame number the OS hands out (default 0x1000).
    pub first_frame: Option<u64>,
    /// The region base and the first frame are drawn from each seed (every address bit above
    /// the region's size, and every frame bit, is then 0 in some seeds and 1 in others).
    pub seeded_addresses: bool,
    /// The pool's watermarks are drawn from each seed (`1 <= LOW < HIGH < POOL`) and written on
    /// the config port after reset, instead of the parameters' reset values staying.
    pub seeded_watermarks: bool,
    /// Bypass: one cache access in this many goes to a reclaimed frame; `None`: the harness's
    /// default.
    pub dead_access: Option<u32>,
    /// Bypass: the unit is reset at the first quiet point after every this many events (0:
    /// never); `None`: the env's default.
    pub reset_every: Option<u64>,
    /// memento_top: the last-level cache model's size in KiB (16 ways of 64-byte lines); `None`:
    /// 2 MiB. A small cache sends lines of every kind to DRAM and back all the time.
    pub llc_kib: Option<u64>,
}

/// The whole file, checked.
#[derive(Debug, Clone)]
pub struct RegressionList {
    pub params: BTreeMap<String, Params>,
    pub tests: Vec<TestSpec>,
    pub lists: BTreeMap<String, Vec<String>>,
}

/// The design a list names.
pub fn design_by_name(name: &str) -> Option<Design> {
    match name {
        "memento_top" => Some(Design::MementoTop),
        "memento_core" => Some(Design::MementoCore),
        "object_alloc" => Some(Design::ObjectAlloc),
        "bypass" => Some(Design::Bypass),
        _ => None,
    }
}

/// The checks of one test's settings against its design and parameters; errors name the file
/// and the test.
fn check_test(file: &str, t: &RawTest, design: Design, p: &Params) -> Result<(), String> {
    if let Some(m) = t.mrs {
        let region = 1u64 << p.region_log2();
        if m % region != 0 || m + region > 1 << p.va_bits {
            return Err(format!(
                "{file}: test {:?}: mrs {m:#x} must be aligned to the region ({region:#x} bytes) and end below 2^VA_BITS",
                t.name
            ));
        }
    }
    if t.first_frame
        .is_some_and(|f| f + (1 << 20) > 1 << (p.pa_bits - 12))
    {
        return Err(format!(
            "{file}: test {:?}: first_frame leaves fewer than 2^20 frames below 2^(PA_BITS-12)",
            t.name
        ));
    }
    if t.class_pairs && t.classes.is_some() {
        return Err(format!(
            "{file}: test {:?}: class_pairs picks the classes; set either it or classes",
            t.name
        ));
    }
    if t.edges && !t.class_pairs {
        return Err(format!(
            "{file}: test {:?}: edges works on the pair of classes class_pairs picks; set class_pairs too",
            t.name
        ));
    }
    if t.seeded_addresses && (t.mrs.is_some() || t.first_frame.is_some()) {
        return Err(format!(
            "{file}: test {:?}: seeded_addresses draws mrs and first_frame from the seed; set either that or them",
            t.name
        ));
    }
    if t.seeded_watermarks && !matches!(design, Design::MementoCore | Design::MementoTop) {
        return Err(format!(
            "{file}: test {:?}: seeded_watermarks needs a design with the page pool and the core harness (memento_core, memento_top)",
            t.name
        ));
    }
    if t.dead_access.is_some() && design != Design::Bypass {
        return Err(format!(
            "{file}: test {:?}: dead_access is the bypass harness's; the design is not bypass",
            t.name
        ));
    }
    if let Some(k) = t.llc_kib {
        if design != Design::MementoTop {
            return Err(format!(
                "{file}: test {:?}: llc_kib sizes memento_top's cache model; the design is not memento_top",
                t.name
            ));
        }
        if !k.is_power_of_two() || k < 1 {
            return Err(format!(
                "{file}: test {:?}: llc_kib {k} must be a power of two (16 ways of 64-byte lines in a power-of-two number of sets)",
                t.name
            ));
        }
    }
    if t.reset_every.is_some() && design != Design::Bypass {
        return Err(format!(
            "{file}: test {:?}: reset_every is the bypass env's; the design is not bypass",
            t.name
        ));
    }
    if t.dead_access == Some(0) {
        return Err(format!(
            "{file}: test {:?}: dead_access is one access in N: N must be at least 1",
            t.name
        ));
    }
    if t.seeds == 0 || t.ops == 0 {
        return Err(format!(
            "{file}: test {:?}: seeds and ops must be at least 1",
            t.name
        ));
    }
    Ok(())
}

impl RegressionList {
    /// Parses and checks the file's text; errors name the file and what is wrong.
    pub fn parse(text: &str, file: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let mut params = BTreeMap::new();
        params.insert("default".to_string(), Params::default());
        for (name, o) in &raw.params {
            let p = o.apply();
            p.validate()
                .map_err(|e| format!("{file}: [params.{name}]: {e}"))?;
            params.insert(name.clone(), p);
        }
        let mut tests: Vec<TestSpec> = vec![];
        for t in &raw.test {
            let design = design_by_name(&t.design).ok_or_else(|| {
                format!("{file}: test {:?}: design {:?} is not memento_top, memento_core, object_alloc or bypass", t.name, t.design)
            })?;
            let p = params.get(&t.params).ok_or_else(|| {
                format!(
                    "{file}: test {:?}: parameter set {:?} is not defined (add [params.{}])",
                    t.name, t.params, t.params
                )
            })?;
            if tests.iter().any(|o| o.name == t.name) {
                return Err(format!("{file}: test {:?} is defined twice", t.name));
            }
            check_test(file, t, design, p)?;
            tests.push(TestSpec {
                name: t.name.clone(),
                design,
                params_name: t.params.clone(),
                params: p.clone(),
                seeds: t.seeds,
                ops: t.ops,
                stalls: t.stalls,
                exit_every: t.exit_every,
                mix: t.mix,
                classes: t.classes,
                class_pairs: t.class_pairs,
                edges: t.edges,
                mrs: t.mrs,
                first_frame: t.first_frame,
                seeded_addresses: t.seeded_addresses,
                seeded_watermarks: t.seeded_watermarks,
                dead_access: t.dead_access,
                reset_every: t.reset_every,
                llc_kib: t.llc_kib,
            });
        }
        for (list, names) in &raw.lists {
            for n in names {
                if !tests.iter().any(|t| &t.name == n) {
                    return Err(format!(
                        "{file}: list {list:?} names test {n:?}, which is not defined"
                    ));
                }
            }
        }
        Ok(RegressionList {
            params,
            tests,
            lists: raw.lists,
        })
    }

    /// The tests of list `name`, in list order.
    pub fn list(&self, name: &str) -> Result<Vec<&TestSpec>, String> {
        let names = self.lists.get(name).ok_or_else(|| {
            format!(
                "no list {name:?} (lists: {})",
                self.lists.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
        Ok(names
            .iter()
            .map(|n| self.tests.iter().find(|t| &t.name == n).unwrap())
            .collect())
    }

    pub fn test(&self, name: &str) -> Result<&TestSpec, String> {
        self.tests.iter().find(|t| t.name == name).ok_or_else(|| {
            format!(
                "no test {name:?} (tests: {})",
                self.tests
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

/// The regression list at its place in the workspace, parsed.
pub fn workspace_list(root: &std::path::Path) -> Result<RegressionList, String> {
    let path = root.join("tb/regressions.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    RegressionList::parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sets_tests_and_lists() {
        let l = RegressionList::parse(
            "[params.small]\nobjs = 32\nlane_bits = 15\n\n[[test]]\nname = \"a\"\ndesign = \"memento_top\"\nparams = \"small\"\nseeds = 2\nops = 10\n\n[lists]\ndefault = [\"a\"]\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(l.params["small"].objs, 32);
        assert_eq!(
            l.params["small"].pool, 64,
            "unnamed keys keep their default"
        );
        assert_eq!(l.list("default").unwrap()[0].design, Design::MementoTop);
        assert!(l.tests[0].stalls);
    }

    #[test]
    fn errors_name_the_problem() {
        let bad_param = RegressionList::parse("[params.x]\nobjs = 100\n", "t.toml").unwrap_err();
        assert!(
            bad_param.contains("[params.x]") && bad_param.contains("OBJS"),
            "{bad_param}"
        );
        let unknown = RegressionList::parse("[params.x]\nobjz = 1\n", "t.toml").unwrap_err();
        assert!(unknown.contains("objz"), "{unknown}");
        let missing = RegressionList::parse(
            "[[test]]\nname = \"a\"\ndesign = \"memento_top\"\nparams = \"nope\"\nseeds = 1\nops = 1\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(missing.contains("\"nope\" is not defined"), "{missing}");
        let test = |extra: &str| {
            RegressionList::parse(
                &format!("[[test]]\nname = \"a\"\ndesign = \"memento_top\"\nparams = \"default\"\nseeds = 1\nops = 1\n{extra}\n"),
                "t.toml",
            )
        };
        assert!(test("mrs = 0x7fc000000000").is_ok());
        assert_eq!(test("llc_kib = 64").unwrap().tests[0].llc_kib, Some(64));
        assert!(test("llc_kib = 48")
            .unwrap_err()
            .contains("llc_kib 48 must be a power of two"));
        assert!(test("mrs = 0x7fc000001000")
            .unwrap_err()
            .contains("aligned to the region"));
        assert!(test("first_frame = 0xfffffff")
            .unwrap_err()
            .contains("fewer than 2^20 frames"));
        assert!(test("seeded_addresses = true").is_ok());
        assert!(test("seeded_addresses = true\nmrs = 0x7fc000000000")
            .unwrap_err()
            .contains("either that or them"));
        assert!(test("seeded_watermarks = true").is_ok());
        assert!(test("seeded_watermarks = true")
            .map(|l| l.tests[0].seeded_watermarks)
            .unwrap());
        assert!(test("class_pairs = true").is_ok());
        assert!(test("class_pairs = true\nclasses = [0, 1]")
            .unwrap_err()
            .contains("either it or classes"));
        assert!(test("class_pairs = true\nedges = true")
            .map(|l| l.tests[0].edges)
            .unwrap());
        assert!(test("edges = true")
            .unwrap_err()
            .contains("set class_pairs too"));
    }
}
