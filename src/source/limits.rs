//! The limits that keep every article's cost linear in its size, and the
//! cheap checks that enforce them before the expensive parsers run.
//!
//! The parsers an article goes through are not linear in every input:
//! serde_yaml_ng's scanner (libyaml) walks every open flow collection for
//! every token, pulldown-cmark walks every open block quote and list, and
//! html5ever (under ammonia) walks its stack of open elements for many
//! tags and compares every attribute with the ones before it. Each check
//! here is one linear pass that bounds what the parser will have to walk,
//! and turns an article past a limit into an error instead of a hang.
//! Each check is built to overestimate what it bounds rather than
//! underestimate it; where that matters, a closer look decides.

/// Largest article file read, in bytes (4 MiB): a bigger file is an error,
/// and is not read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;
