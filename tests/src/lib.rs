//! Integration tests live in `tests/`, trybuild cases in `ui/`. This crate's
//! documentation is the workspace README, so that its code blocks are
//! compiled and run by `cargo test` like any doctest.
#![doc = include_str!("../../README.md")]
