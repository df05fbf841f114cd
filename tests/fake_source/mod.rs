//! An in-memory registry for tests that need users with particular groups: the one
//! the library's own unit tests use (`proxid::testing`).
#![allow(unused_imports)] // each test crate that includes this uses a different part

pub use proxid::testing::{resolver, user, with_config, FakeSource};
