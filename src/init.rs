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

/// What `.gitignore` gets: the state wirefeed keeps beside its output (the
/// build cache and its spare, the manifest, the outbox, the lock) and the
/// temporary files of a write in progress, in whatever folder they are.
pub const GITIGNORE: &str = "\
# wirefeed's state beside its output: build cache, manifest, outbox, lock
.wirefeed-*
# files being written (.NAME.PID.tmp), renamed into place when complete
.*.tmp
";

/// Creates `dir` (if needed) with the config under the file name `config`
/// (`config.toml` unless `-c` says otherwise),
/// `articles/wire/AEN20261014000300315.txt`, and a `.gitignore` for
/// wirefeed's state files unless the folder has one; returns the files
/// written.
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
    let gitignore = dir.join(".gitignore");
    let gitignore = (!gitignore.exists()).then_some((gitignore, GITIGNORE));
    let mut written = Vec::new();
    for (path, text) in files.into_iter().chain(gitignore) {
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
