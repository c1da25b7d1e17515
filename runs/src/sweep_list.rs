//! The design-space sweep's points (`tb/sweep.toml`): axes, each a list of parameter overrides of
//! the defaults. `memento sweep` replays traces through every point; the `sweep` feature of
//! `memento-sim` generates and verilates a `memento_top` for every point.
//!
//! ```toml
//! [[axis]]
//! name = "HDC"                       # what the axis varies, as plots label it
//! points = [{ hdc = 0 }, { hdc = 8 }] # SPEC parameters in lower case; the rest keep the defaults
//! ```

use crate::regression_list::Overrides;
use memento_hw::Params;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    axis: Vec<RawAxis>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAxis {
    name: String,
    points: Vec<Overrides>,
}

/// One point: its label (`HDC=8`) and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    pub label: String,
    pub params: Params,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub name: String,
    pub points: Vec<SweepPoint>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SweepList {
    pub axes: Vec<Axis>,
}

impl SweepList {
    /// Parses and checks the file's text; errors name the file, the axis and the point.
    pub fn parse(text: &str, file: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let mut axes = vec![];
        for a in raw.axis {
            if a.points.is_empty() {
                return Err(format!("{file}: axis {:?} has no points", a.name));
            }
            let mut points = vec![];
            for (i, o) in a.points.iter().enumerate() {
                let params = o.apply();
                params.validate().map_err(|e| {
                    format!(
                        "{file}: axis {:?}, point {} ({}): {e}",
                        a.name,
                        i + 1,
                        o.label()
                    )
                })?;
                points.push(SweepPoint {
                    label: o.label(),
                    params,
                });
            }
            axes.push(Axis {
                name: a.name,
                points,
            });
        }
        Ok(SweepList { axes })
    }

    /// Every distinct parameter set of the sweep, in order of first appearance.
    pub fn distinct_params(&self) -> Vec<Params> {
        let mut out: Vec<Params> = vec![];
        for p in self.axes.iter().flat_map(|a| &a.points) {
            if !out.contains(&p.params) {
                out.push(p.params.clone());
            }
        }
        out
    }
}

/// The sweep list at its place in the workspace, parsed.
pub fn workspace_sweep(root: &std::path::Path) -> Result<SweepList, String> {
    let path = root.join("tb/sweep.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    SweepList::parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_axes_and_labels_points() {
        let s = SweepList::parse(
            "[[axis]]\nname = \"HDC\"\npoints = [{ hdc = 0 }, { hdc = 8 }]\n\
             [[axis]]\nname = \"POOL\"\npoints = [{ pool = 16, low = 4, high = 12 }]\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(s.axes.len(), 2);
        assert_eq!(s.axes[0].points[1].label, "HDC=8");
        assert_eq!(s.axes[0].points[1].params.hdc, 8);
        assert_eq!(s.axes[1].points[0].label, "POOL=16 LOW=4 HIGH=12");
        // HDC=0 is the default design: one distinct set fewer than points.
        assert_eq!(s.distinct_params().len(), 3);
    }

    #[test]
    fn rejects_bad_points_with_the_place() {
        let e = SweepList::parse(
            "[[axis]]\nname = \"HDC\"\npoints = [{ hdc = 40 }]\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(e.contains("axis \"HDC\", point 1 (HDC=40)"), "{e}");
        assert!(e.contains("HDC"), "{e}");
        let e = SweepList::parse("[[axis]]\nname = \"X\"\npoints = [{ hot = 4 }]\n", "t.toml")
            .unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }
}
