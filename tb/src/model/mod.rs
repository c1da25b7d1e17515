//! Golden models, written from the behavioural contract (docs/design.md), never from the RTL.
pub mod bypass;
pub mod object_alloc;
pub mod page_alloc;
