//! `wirefeed init DIR`: a new project folder with a working `config.toml`
//! and one sample wire story, ready for `wirefeed build`.
//!
//! Not part of the build pipeline; it only writes starter files and never
//! overwrites one.

use std::fs;
use std::path::{Path, PathBuf};

const CONFIG: &str = include_str!("init/config.toml");
const STORY: &str = include_str!("../articles/wire/2026/10/AEN20261014000300315.txt");

/// A starter file that could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Refusing to overwrite.
    #[error("{}: already exists; init never overwrites a file", .0.display())]
    Exists(PathBuf),
    /// An I/O failure.
    #[error("{}: cannot create: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Creates `dir` (if needed) with `config.toml` and
/// `articles/wire/AEN20261014000300315.txt`; returns the files written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    let files = [
        (dir.join("config.toml"), CONFIG),
        (dir.join("articles/wire/AEN20261014000300315.txt"), STORY),
    ];
    for (path, _) in &files {
        if path.exists() {
            return Err(InitError::Exists(path.clone()));
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        let io = |source| InitError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        fs::write(&path, text).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}
