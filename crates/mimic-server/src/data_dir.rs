//! The data directory holds secrets (the store, the master key, bootstrap.json): it is the
//! owner's alone, 0700, and everything in it 0600 (directories 0700). A directory an older
//! version created (0755, files 0644) is tightened on start.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

/// Creates `dir` (0700) or tightens an existing one and everything under it.
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    tighten(dir, 0).with_context(|| format!("cannot restrict the data directory {} to its owner", dir.display()))
}

/// Deep enough for anything Mimic writes; a deeper tree is the user's own.
const MAX_DEPTH: usize = 4;

fn tighten(dir: &Path, depth: usize) -> std::io::Result<()> {
    set_mode(dir, 0o700)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        // Not followed: a symbolic link is left alone (its target may be anywhere).
        let kind = entry.file_type()?;
        if kind.is_dir() && depth < MAX_DEPTH {
            tighten(&entry.path(), depth + 1)?;
        } else if kind.is_file() {
            set_mode(&entry.path(), 0o600)?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    let current = std::fs::symlink_metadata(path)?.permissions().mode() & 0o777;
    // Only ever narrows: a file the owner made 0400 stays 0400.
    let narrowed = current & mode;
    if narrowed != current {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(narrowed))?;
    }
    Ok(())
}

/// Writes a file readable only by its owner (secrets: keys, bootstrap.json).
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_open_directory_is_tightened() {
        let dir = std::env::temp_dir().join(format!("mimic-dd-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("mimic.db"), b"x").unwrap();
        std::fs::set_permissions(dir.join("mimic.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(dir.join("sub/f"), b"x").unwrap();
        prepare(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("sub")), 0o700);
        assert_eq!(mode(&dir.join("mimic.db")), 0o600);
        assert_eq!(mode(&dir.join("sub/f")), 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
