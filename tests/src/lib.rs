//! Integration tests live in `tests/`, trybuild cases in `ui/`; the library
//! holds test support shared with the examples' tests (a fault-injecting
//! proxy). This crate's documentation is the workspace README, so that its
//! code blocks are compiled and run by `cargo test` like any doctest.
#![doc = include_str!("../../README.md")]

pub mod proxy;
