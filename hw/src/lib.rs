//! The Memento hardware blocks, described with rust-hdl, and their Verilog emission.
//!
//! One file per block: [`size_class`], [`hot`], [`lowest_free`], [`slot_calc`], [`class_table`]
//! (with the shared [`class_ram`] storage) and the control FSM in [`object_alloc`]; the page
//! allocator's [`page_pool`] (on [`frame_stack`]) and [`page_mapper`], joined in [`page_alloc`];
//! both together in [`memento_core`]. The main-memory [`bypass`] (on [`bypass_table`]). [`params`]
//! holds the generator parameters and their checks, [`emit`] writes Verilog.
pub mod bypass;
pub mod bypass_counters;
pub mod bypass_decide;
pub mod bypass_dram;
pub mod bypass_table;
pub mod class_ram;
pub mod class_table;
pub mod csa;
pub mod emit;
pub mod frame_stack;
pub mod header_cache;
pub mod hoa_exec;
pub mod hoa_line;
pub mod hoa_miss;
pub mod hoa_pipe;
pub mod hot;
pub mod icarus;
pub mod lowest_free;
pub mod memento_core;
pub mod memento_top;
pub mod obj_offset;
pub mod object_alloc;
pub mod page_alloc;
pub mod page_mapper;
pub mod page_pool;
pub mod params;
pub mod portable;
pub mod reclaim_cursor;
pub mod reclaim_step;
pub mod sim_forms;
pub mod size_class;
pub mod slot_calc;

pub use params::{ParamError, Params};
