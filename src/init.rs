//! `wirefeed init DIR`: a new project folder with a working `config.toml`
//! and one sample wire story, ready for `wirefeed build`.
//!
//! Not part of the build pipeline; it only writes starter files and never
//! overwrites one.

use std::fs;
use std::path::{Path, PathBuf};

const CONFIG: &str = include_str!("init/config.toml");
const STORY: &str = include_str!("../articles/wire/2026/10/AEN20261014000300315.txt");

/// The config file name `init` writes unless told another (`-c`).
pub const DEFAULT_CONFIG: &str = "config.toml";

/// A starter file that could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// `-c` named a path, not a file name.
    #[error("{}: give a file name: init writes the config inside the new folder", .0.display())]
    ConfigName(PathBuf),
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

/// Creates `dir` (if needed) with the config under the file name `config`
/// (`config.toml` unless `-c` says otherwise) and
/// `articles/wire/AEN20261014000300315.txt`; returns the files written.
pub fn init(dir: &Path, config: &Path) -> Result<Vec<PathBuf>, InitError> {
    let mut parts = config.components();
    let name_only = matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(_)), None)
    );
    if !name_only {
        return Err(InitError::ConfigName(config.to_owned()));
    }
    let files = [
        (dir.join(config), CONFIG),
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
