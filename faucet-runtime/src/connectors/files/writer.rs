//! An append-only local file with a durable, truncatable length.
//!
//! Both file sinks write through [`FileWriter`]: bytes go into a 64 KiB
//! buffer, [`FileWriter::flush`] makes them durable and reports the file's
//! length (the sink's checkpoint), and [`FileWriter::open`] truncates the file
//! back to such a length on resume, which discards whatever a crashed run wrote
//! after its last confirmed page.
//!
//! Plain `std::fs` on the calling task, not `tokio::fs` or `spawn_blocking`:
//! writing a page into a buffer costs microseconds, and the one syscall-heavy
//! step (`sync_data`) happens once per page. Routing every write through the
//! blocking pool would cost more than it saves.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{FaucetError, Result};

/// Size of the write buffer.
const BUFFER: usize = 64 * 1024;

/// An append-only local file whose length is known at all times.
///
/// The file is created lazily by the first write when it does not exist yet,
/// so a run that writes nothing leaves no empty file behind.
#[derive(Debug)]
pub(crate) struct FileWriter {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    /// Bytes in the file plus bytes in the buffer.
    len: u64,
    /// On lazy creation: keep what appeared at `path` meanwhile (append) or truncate it.
    append: bool,
    /// The file was created by this writer and its directory entry is not yet durable.
    dir_sync_pending: bool,
}

impl FileWriter {
    /// Opens `path` for appending, creating its parent directories.
    ///
    /// With `checkpoint_len` the file is truncated to that length (a resumed
    /// run discards what was written after the last confirmed page); a file
    /// shorter than the checkpoint is an error. Without one the file is
    /// truncated to zero, unless `append` keeps its content.
    pub(crate) fn open(path: impl AsRef<Path>, checkpoint_len: Option<u64>, append: bool) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .map_err(|e| FaucetError::sink(format!("creating directory {}: {e}", parent.display())))?;
        }
        let existing = match fs::metadata(&path) {
            Ok(meta) => Some(meta.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(FaucetError::sink(format!("reading {}: {e}", path.display()))),
        };
        let mut writer = FileWriter { path, file: None, len: 0, append, dir_sync_pending: false };
        let Some(current) = existing else {
            return match checkpoint_len {
                Some(len) if len > 0 => Err(writer.changed_behind_our_back(len, None)),
                _ => Ok(writer),
            };
        };
        let target = match checkpoint_len {
            Some(len) if current < len => return Err(writer.changed_behind_our_back(len, Some(current))),
            Some(len) => len,
            None if append => current,
            None => 0,
        };
        let file = OpenOptions::new()
            .append(true)
            .open(&writer.path)
            .map_err(|e| FaucetError::sink(format!("opening {}: {e}", writer.path.display())))?;
        if target != current {
            file.set_len(target).map_err(|e| {
                FaucetError::sink(format!("truncating {} to {target} bytes: {e}", writer.path.display()))
            })?;
        }
        writer.file = Some(BufWriter::with_capacity(BUFFER, file));
        writer.len = target;
        Ok(writer)
    }

    fn changed_behind_our_back(&self, expected: u64, actual: Option<u64>) -> FaucetError {
        let actual = match actual {
            Some(n) => format!("is only {n} bytes long"),
            None => "does not exist".to_owned(),
        };
        FaucetError::sink(format!(
            "{} {actual} but faucet's last checkpoint says it held {expected} bytes: the file was changed \
             behind faucet's back; restore it, or reset the pipeline's state to start over",
            self.path.display()
        ))
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length, buffered bytes included.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Flushes the buffer and syncs the file (and, once after creating it, its
    /// directory), so everything written so far survives a crash; returns the length.
    pub(crate) fn flush(&mut self) -> Result<u64> {
        let Some(file) = self.file.as_mut() else {
            return Ok(self.len);
        };
        let path = &self.path;
        file.flush().map_err(|e| FaucetError::sink(format!("writing {}: {e}", path.display())))?;
        file.get_ref()
            .sync_data()
            .map_err(|e| FaucetError::sink(format!("syncing {}: {e}", path.display())))?;
        if self.dir_sync_pending {
            sync_parent(path).map_err(|e| {
                FaucetError::sink(format!("syncing the directory of {}: {e}", path.display()))
            })?;
            self.dir_sync_pending = false;
        }
        Ok(self.len)
    }

    /// The buffered file, created on first use.
    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        if self.file.is_none() {
            let file = OpenOptions::new().create(true).append(true).open(&self.path)?;
            let found = file.metadata()?.len();
            if self.append {
                self.len = found;
            } else if found > 0 {
                file.set_len(0)?;
            }
            self.dir_sync_pending = true;
            self.file = Some(BufWriter::with_capacity(BUFFER, file));
        }
        Ok(self.file.as_mut().expect("the file was just opened"))
    }
}

impl Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file()?.write(buf)?;
        self.len += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file()?.write_all(buf)?;
        self.len += buf.len() as u64;
        Ok(())
    }

    /// Moves buffered bytes to the OS without syncing; [`FileWriter::flush`]
    /// (the inherent method) is the durable one.
    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// Makes a new directory entry durable (a no-op where directories cannot be opened).
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    #[tokio::test]
    async fn lazily_creates_the_file_and_its_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.txt");
        let mut w = FileWriter::open(&path, None, false).unwrap();
        assert!(path.parent().unwrap().is_dir());
        assert!(!path.exists());
        assert_eq!(w.flush().unwrap(), 0);
        assert!(!path.exists(), "a writer that wrote nothing must not create the file");
        w.write_all(b"hello\n").unwrap();
        assert_eq!(w.len(), 6);
        assert_eq!(w.flush().unwrap(), 6);
        assert_eq!(read(&path), "hello\n");
    }

    #[tokio::test]
    async fn truncates_unless_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        fs::write(&path, "old\n").unwrap();
        let mut w = FileWriter::open(&path, None, true).unwrap();
        assert_eq!(w.len(), 4);
        w.write_all(b"new\n").unwrap();
        assert_eq!(w.flush().unwrap(), 8);
        drop(w);
        assert_eq!(read(&path), "old\nnew\n");

        let mut w = FileWriter::open(&path, None, false).unwrap();
        assert_eq!(w.len(), 0);
        assert_eq!(read(&path), "", "truncation on a first run happens in open");
        w.write_all(b"x").unwrap();
        assert_eq!(w.flush().unwrap(), 1);
        assert_eq!(read(&path), "x");
    }

    #[tokio::test]
    async fn checkpoint_truncates_and_detects_a_shorter_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        fs::write(&path, "0123456789").unwrap();
        let w = FileWriter::open(&path, Some(4), false).unwrap();
        assert_eq!(w.len(), 4);
        assert_eq!(read(&path), "0123");
        drop(w);

        let err = FileWriter::open(&path, Some(5), false).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Sink);
        assert!(err.message().contains("behind faucet's back"), "{err}");

        let missing = dir.path().join("missing.txt");
        let err = FileWriter::open(&missing, Some(3), false).unwrap_err();
        assert!(err.message().contains("does not exist"), "{err}");
        FileWriter::open(&missing, Some(0), false).unwrap();
    }
}
