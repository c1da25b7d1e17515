//! The `switch` cases of a shim's poke and peek entry points, shared by `build.rs` (models linked
//! at build time) and `dynamic.rs` (models loaded at run time).

use std::fmt::Write as _;

/// One port as the shim sees it: its id (the `case` label), name, width and direction.
pub struct ShimPort<'a> {
    pub id: u32,
    pub name: &'a str,
    pub width: u32,
    pub input: bool,
}

/// The poke cases and the peek cases, one line each.
pub fn cases<'a>(ports: impl IntoIterator<Item = ShimPort<'a>>) -> (String, String) {
    let (mut poke, mut peek) = (String::new(), String::new());
    for p in ports {
        let (id, n) = (p.id, p.name);
        if p.width > 64 {
            let words = p.width.div_ceil(32);
            if p.input {
                let _ = writeln!(
                    poke,
                    "    case {id}: for (int i = 0; i < {words}; ++i) m->top->{n}[i] = w[i]; break;"
                );
            }
            let _ = writeln!(
                peek,
                "    case {id}: for (int i = 0; i < {words}; ++i) w[i] = m->top->{n}[i]; break;"
            );
        } else {
            if p.input && n != "clock" {
                let _ = writeln!(
                    poke,
                    "    case {id}: m->top->{n} = (uint64_t)w[0] | ((uint64_t)w[1] << 32); break;"
                );
            }
            let _ = writeln!(
                peek,
                "    case {id}: {{ uint64_t v = m->top->{n}; w[0] = (uint32_t)v; w[1] = (uint32_t)(v >> 32); }} break;"
            );
        }
    }
    (poke, peek)
}
