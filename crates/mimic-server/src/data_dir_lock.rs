//! One `mimic serve` per data directory: the server holds an exclusive `flock` on
//! `DATA_DIR/serve.lock` (which holds its PID) for its whole life, so a second server on the
//! same directory stops before touching anything, naming the first one's PID; and the client
//! commands can tell a running server from an `endpoints.json` a killed one left behind. The
//! kernel drops the lock when the process dies, however it dies, so it is never stale.
//!
//! The lock file is never removed (removing it would let two servers lock two different files).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const LOCK_FILE: &str = "serve.lock";

/// Held by the running server; dropping it (or the process ending) releases the directory.
pub struct DataDirLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another mimic serve{} is running with the data directory {}: stop it first, or give this one another --data-dir", pid_phrase(*.pid), .dir.display())]
    Running { dir: PathBuf, pid: Option<u32> },
    #[error("cannot lock {}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

fn pid_phrase(pid: Option<u32>) -> String {
    pid.map(|p| format!(" (PID {p})")).unwrap_or_default()
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

impl DataDirLock {
    /// Takes the directory for this process, or says which process has it. Client commands
    /// probe the lock with a brief shared lock (`holder`), so a busy lock is retried for a
    /// moment before it counts as another server's.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io { path: path.clone(), source };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(&path).map_err(io)?;
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Running { dir: dir.to_path_buf(), pid: read_pid(&mut file) });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

/// Whether a server holds `dir`, and its PID when it has written it. `None`: no server runs
/// with this directory (whatever `endpoints.json` says).
pub fn holder(dir: &Path) -> Option<Option<u32>> {
    let mut file = File::open(dir.join(LOCK_FILE)).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => Some(read_pid(&mut file)),
        // A filesystem without locks: assume the server runs, as before locking existed.
        Err(TryLockError::Error(_)) => Some(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder_and_a_released_lock_is_free() {
        let dir = std::env::temp_dir().join(format!("mimic-lock-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(holder(&dir), None, "no lock file yet");
        let first = DataDirLock::acquire(&dir).unwrap();
        assert_eq!(holder(&dir), Some(Some(std::process::id())));
        match DataDirLock::acquire(&dir) {
            Err(LockError::Running { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("second acquire: {:?}", other.map(|_| ())),
        }
        drop(first);
        assert_eq!(holder(&dir), None);
        let _again = DataDirLock::acquire(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
