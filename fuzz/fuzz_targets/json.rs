//! Fuzz target `json`: see `checks::Target::Json` in fuzz/checks.rs.
#![no_main]

#[path = "../checks.rs"]
mod checks;

#[global_allocator]
static ALLOC: checks::Counting = checks::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::Target::Json.check(data, &checks::Budget::FUZZ);
});
