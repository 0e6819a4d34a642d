//! Fuzz target `render`: see `checks::Target::Render` in fuzz/checks.rs.
#![no_main]

#[path = "../checks.rs"]
mod checks;

#[global_allocator]
static ALLOC: checks::Counting = checks::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::Target::Render.check(data, &checks::Budget::FUZZ);
});
