//! Verilog emission: builds a block for a parameter set and writes it as one Verilog file.
//! [`variants`] lists every design and parameter set the project generates and verilates.
//!
//! rust-hdl always names the top module `top` and its children `top$child`; emission renames
//! them after the block (`object_alloc`, `object_alloc$hot`, ...) so that several generated
//! designs can sit side by side and the file name matches the module.

use crate::bypass::Bypass;
use crate::memento_core::MementoCore;
use crate::memento_top::MementoTop;
use crate::object_alloc::ObjectAlloc;
use crate::page_alloc::PageAlloc;
use crate::params::{ParamError, Params};
use rust_hdl::prelude::*;

/// The blocks that can be emitted as a Verilog top.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Design {
    ObjectAlloc,
    PageAlloc,
    MementoCore,
    Bypass,
    MementoTop,
}

impl Design {
    /// The design's name in the regression list and in variant names.
    pub fn name(self) -> &'static str {
        match self {
            Design::MementoTop => "memento_top",
            Design::MementoCore => "memento_core",
            Design::ObjectAlloc => "object_alloc",
            Design::PageAlloc => "page_alloc",
            Design::Bypass => "bypass",
        }
    }
}

/// A generated design: a block, the parameters it is built for and its module name.
#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    pub design: Design,
    pub params: Params,
}

/// Every variant the project builds: the defaults, and a corner-case parameter set whose small
/// arenas and short lanes make full arenas, available lists and full lanes frequent.
pub fn variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "object_alloc".into(),
            design: Design::ObjectAlloc,
            params: Params::default(),
        },
        Variant {
            name: "object_alloc_corner".into(),
            design: Design::ObjectAlloc,
            params: Params::corner(),
        },
        Variant {
            name: "page_alloc".into(),
            design: Design::PageAlloc,
            params: Params::default(),
        },
        Variant {
            name: "memento_core".into(),
            design: Design::MementoCore,
            params: Params::default(),
        },
        Variant {
            name: "memento_core_corner".into(),
            design: Design::MementoCore,
            params: Params::corner(),
        },
        Variant {
            name: "memento_top".into(),
            design: Design::MementoTop,
            params: Params::default(),
        },
        Variant {
            name: "memento_top_bypass_off".into(),
            design: Design::MementoTop,
            params: Params {
                bypass_on: false,
                ..Params::default()
            },
        },
        Variant {
            name: "memento_top_bypass_off_dram".into(),
            design: Design::MementoTop,
            params: Params {
                bypass_on: false,
                dram_zero: true,
                ..Params::default()
            },
        },
        Variant {
            name: "bypass".into(),
            design: Design::Bypass,
            params: Params::default(),
        },
        Variant {
            name: "bypass_off".into(),
            design: Design::Bypass,
            params: Params {
                bypass_on: false,
                ..Params::default()
            },
        },
        Variant {
            name: "bypass_off_dram".into(),
            design: Design::Bypass,
            params: Params {
                bypass_on: false,
                dram_zero: true,
                ..Params::default()
            },
        },
        Variant {
            name: "bypass_small".into(),
            design: Design::Bypass,
            params: Params {
                bypass: 4,
                ..Params::default()
            },
        },
    ]
}

/// Generates the Verilog of a variant, its top module named after it, in the forms Verilator
/// evaluates a word at a time ([`crate::sim_forms`]).
pub fn variant_verilog(v: &Variant) -> Result<String, ParamError> {
    variant_verilog_as(v, true)
}

/// The Verilog of a variant, with or without the [`crate::sim_forms`] rewrites (without: as
/// rust-hdl writes it; `memento bench-sim` times both). Constant-only `always @(*)` blocks are
/// continuous assignments either way ([`crate::portable::constant_always`]).
pub fn variant_verilog_as(v: &Variant, sim_forms: bool) -> Result<String, ParamError> {
    let raw = raw_verilog(v.design, &v.params)?;
    let text = if sim_forms {
        crate::sim_forms::rewrite(&raw)
    } else {
        raw
    };
    Ok(crate::portable::constant_always(&rename_top(
        &text, &v.name,
    )))
}

/// How `memento emit` names the modules of a variant: `prefix` before every module name, and
/// with `flat`, `__` for rust-hdl's `$` ([`crate::portable::rename_modules`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Naming {
    pub prefix: String,
    pub flat: bool,
}

impl Naming {
    /// The name the variant's top module gets.
    pub fn top(&self, v: &Variant) -> String {
        format!("{}{}", self.prefix, v.name)
    }
}

/// The Verilog of a variant with its modules named as `naming` says.
pub fn variant_verilog_named(v: &Variant, naming: &Naming) -> Result<String, String> {
    let text = variant_verilog(v).map_err(|e| e.to_string())?;
    if naming == &Naming::default() {
        return Ok(text);
    }
    crate::portable::rename_modules(&text, &naming.prefix, naming.flat)
}

fn raw_verilog(design: Design, params: &Params) -> Result<String, ParamError> {
    let text = match design {
        Design::ObjectAlloc => {
            let mut uut = ObjectAlloc::new(params)?;
            uut.connect_all();
            generate_verilog(&uut)
        }
        Design::PageAlloc => {
            let mut uut = PageAlloc::new(params)?;
            uut.connect_all();
            generate_verilog(&uut)
        }
        Design::MementoCore => {
            let mut uut = MementoCore::new(params)?;
            uut.connect_all();
            generate_verilog(&uut)
        }
        Design::Bypass => {
            let mut uut = Bypass::new(params)?;
            uut.connect_all();
            generate_verilog(&uut)
        }
        Design::MementoTop => {
            let mut uut = MementoTop::new(params)?;
            uut.connect_all();
            generate_verilog(&uut)
        }
    };
    Ok(text)
}

fn rename_top(text: &str, name: &str) -> String {
    let header = "// Generated by memento-hw from rust-hdl. Do not edit: change hw/src and run `make verilog`.\n";
    header.to_string()
        + &text
            .replace("module top(", &format!("module {name}("))
            .replace("module top$", &format!("module {name}$"))
            .replace("endmodule // top", &format!("endmodule // {name}"))
            .replace("\ntop$", &format!("\n{name}$"))
            .replace(" top$", &format!(" {name}$"))
}
