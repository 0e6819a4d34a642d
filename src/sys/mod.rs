//! Every call that differs by platform, behind one small interface with a
//! portable fallback: folder handles for the walk (`unix.rs`; elsewhere
//! by path, `portable.rs`), file stamps, write-behind, the cache's
//! exchange of two files, a file's link count, the open-file limit,
//! whether a process is alive, the machine's name, the signals that stop a
//! service, and
//! telling a service manager (systemd) how the service is doing. No other
//! module names `cfg`, `rustix`, `libc` or `sd_notify`.

use std::ffi::OsStr;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;

#[cfg(not(unix))]
mod portable;
#[cfg(not(unix))]
use portable as imp;

pub use imp::{
    exchange, host_name, link_count, open_files_limit, process_alive, service_state, stamp,
    watchdog_interval, write_behind, Folder, Handle,
};

/// What a service tells its manager (systemd's `sd_notify`; nothing where
/// there is none, or when not started by one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState<'a> {
    /// Started (serving, or a tick done), with a status line; sent again,
    /// it updates the status.
    Ready(&'a str),
    /// Still alive: the watchdog's ping.
    Alive,
    /// Shutting down.
    Stopping,
}

/// Folder handles that listed files may hold at once, waiting to be stamped.
#[cfg_attr(not(unix), allow(dead_code))] // files are stated by path there
pub const SHARED_FOLDERS: usize = 64;

/// What an entry of a folder is, links followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    File,
    /// Anything else: a device, a socket, a dangling link.
    Other,
}

/// True for a hidden name (a dot file): never listed.
pub fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Waits for Ctrl-C, or SIGTERM where there is one.
pub async fn stop_signal() {
    imp::stop_signal().await
}

/// Sorts `list` (ranges of names in `names`, with what they are) by the
/// names' bytes. A folder's names often share a long prefix (a wire
/// service's story numbers), so they are first sorted by the sixteen bytes
/// after the prefix they all share, and only runs that tie there are
/// compared whole.
#[cfg_attr(not(unix), allow(dead_code))] // the portable entries sort whole names
fn sort_names<T: Copy>(names: &[u8], list: &mut Vec<(std::ops::Range<usize>, T)>) {
    let name = |i: usize| &names[list[i].0.clone()];
    let Some(first) = list.first().map(|(r, _)| &names[r.clone()]) else {
        return;
    };
    let shared = (1..list.len()).fold(first.len(), |shared, i| {
        let n = name(i);
        first[..shared]
            .iter()
            .zip(n)
            .take_while(|(a, b)| a == b)
            .count()
    });
    let mut keys: Vec<(u128, usize)> = (0..list.len())
        .map(|i| {
            let rest = &name(i)[shared..];
            let mut key = [0u8; 16];
            let len = rest.len().min(16);
            key[..len].copy_from_slice(&rest[..len]);
            // No name holds a NUL byte, so the padding sorts a shorter
            // name first, as byte order does.
            (u128::from_be_bytes(key), i)
        })
        .collect();
    keys.sort_unstable_by_key(|&(key, _)| key);
    let mut start = 0;
    while start < keys.len() {
        let key = keys[start].0;
        let end = start + keys[start..].iter().take_while(|k| k.0 == key).count();
        if end - start > 1 {
            keys[start..end].sort_unstable_by(|a, b| name(a.1).cmp(name(b.1)));
        }
        start = end;
    }
    let sorted = keys.iter().map(|&(_, i)| list[i].clone()).collect();
    *list = sorted;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_byte_order() {
        // Long shared prefixes, ties past the first eight bytes after
        // them, names that begin others, bytes above ASCII.
        let mut rng = 7u64;
        let mut next = |n: u64| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        for round in 0..200 {
            let prefix = ["", "AEN2020", "x", "AEN20200101000000"][round % 4];
            let alphabet = [b'0', b'1', b'9', b'.', b'a', 0xc3, 0xff];
            let mut names = Vec::new();
            let mut list = Vec::new();
            for i in 0..next(40) {
                let start = names.len();
                names.extend_from_slice(prefix.as_bytes());
                // Often the same sixteen bytes next, or a name ending there.
                let middles: [&[u8]; 4] = [
                    b"0000000000000000",
                    b"000000000000000",
                    b"0000000000000001",
                    b"",
                ];
                names.extend_from_slice(middles[next(4) as usize]);
                for _ in 0..next(6) {
                    names.push(alphabet[next(alphabet.len() as u64) as usize]);
                }
                list.push((start..names.len(), i));
            }
            let mut expected = list.clone();
            expected.sort_by(|a, b| names[a.0.clone()].cmp(&names[b.0.clone()]));
            sort_names(&names, &mut list);
            let text = |l: &[(std::ops::Range<usize>, u64)]| -> Vec<Vec<u8>> {
                l.iter().map(|(r, _)| names[r.clone()].to_vec()).collect()
            };
            assert_eq!(text(&list), text(&expected), "round {round}");
        }
    }
}
