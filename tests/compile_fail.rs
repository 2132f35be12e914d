//! The `Send` bounds that keep the loop sound are enforced by the compiler:
//! each program under `tests/compile_fail/` must be rejected, with the
//! error recorded beside it in a `.stderr` file.
//!
//! Regenerate the expected errors after a deliberate change with
//! `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn send_bounds_reject_non_send_work() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
