//! Test support shared by the translator's robustness tests and the fuzz
//! targets in fuzz/ (which include this directory by path): the table-driven
//! config generator, the pct.conf grammar checker, LXC's command splitting and
//! the fuzz entry points.
#![allow(dead_code)]

pub mod entry;
pub mod gen;
pub mod lxc_split;
pub mod pct_grammar;
pub mod shell;
