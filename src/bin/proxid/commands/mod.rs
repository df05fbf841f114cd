//! One module per command; each exposes functions taking the parsed operands and
//! returning the exit status. main.rs's `dispatch` calls them.

pub mod accept;
pub mod authorize;
pub mod check_config;
pub mod completions;
pub mod principal;
pub mod resolve;
