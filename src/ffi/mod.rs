//! The foreign front doors. They convert and forward to the core handle (`Core`);
//! no decision is made here. Every exported C function runs behind `panic::catch`, the
//! one place a panic is stopped before it can reach a C caller; JNI methods run inside
//! the `jni` crate's `with_env`, which catches panics and throws them into Java.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod c;
#[cfg(feature = "jni")]
pub mod jni;
pub(crate) mod panic;

/// The core object every face holds, one per handle (`proxid_resolver` in C, a
/// `long` in Java). The one place the faces name it.
pub(crate) type Core = crate::Proxid;
