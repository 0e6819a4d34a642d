//! Fuzz target `wire`: see `checks::Target::Wire` in fuzz/checks.rs.
#![no_main]

#[path = "../checks.rs"]
mod checks;

#[global_allocator]
static ALLOC: checks::Counting = checks::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::Target::Wire.check(data, &checks::Budget::FUZZ);
});
