//! The foreign front doors. They convert and forward to [`crate::Resolver`]; no
//! decision is made here. Every exported function runs behind `panic::catch`, the
//! one place a panic is stopped before it can reach a foreign caller.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod c;
pub(crate) mod panic;
