//! Compile-time checks of `#[process_manager]` and the derives: every pass
//! case compiles and runs, every fail case fails with the expected message.
//! Paths are relative to this crate's root, where cargo runs its tests.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
