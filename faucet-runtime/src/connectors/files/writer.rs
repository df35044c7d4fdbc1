//! An append-only local file with a durable, truncatable length.
//!
//! Both file sinks write through [`FileWriter`]: bytes go into a 64 KiB
//! buffer, [`FileWriter::flush`] makes them durable and reports the file's
//! length (the sink's checkpoint), and [`FileWriter::open`] truncates the file
//! back to such a length on resume, which discards whatever a crashed run wrote
//! after its last confirmed page.
//!
//! A `path` that is a symbolic link is refused, not followed: truncating
//! through it would destroy whatever file the link points to (one planted by
//! someone else included). Links among the parent directories are followed.
//!
//! Plain `std::fs` on the calling task, not `tokio::fs` or `spawn_blocking`:
//! writing a page into a buffer costs microseconds, and the one syscall-heavy
//! step (`sync_data`) happens once per page. Routing every write through the
//! blocking pool would cost more than it saves.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{FaucetError, Result};

/// The error for a sink `path` that is a symbolic link.
fn symlink_refused(path: &Path) -> FaucetError {
    FaucetError::sink(format!(
        "{} is a symbolic link: file sinks do not write through links, which would truncate the file \
         it points to; set `path` to the file itself",
        path.display()
    ))
}

/// Opens `path` for appending (creating it when `create`), refusing a
/// symbolic link: one found before opening, or one swapped in meanwhile (the
/// opened file is then not the one `path` names), before a byte is changed.
fn open_append(path: &Path, create: bool) -> io::Result<File> {
    let refused = || io::Error::other(symlink_refused(path).message().to_owned());
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => return Err(refused()),
        Ok(_) => {}
        Err(e) if create && e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let file = OpenOptions::new().create(create).append(true).open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (opened, named) = (file.metadata()?, fs::symlink_metadata(path)?);
        if (opened.dev(), opened.ino()) != (named.dev(), named.ino()) {
            return Err(refused());
        }
    }
    Ok(file)
}

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
        let existing = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(symlink_refused(&path)),
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
        let file = open_append(&writer.path, false)
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
            let file = open_append(&self.path, true)?;
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

    /// Both file sinks refuse a `path` that is a symbolic link, whether it is
    /// there when the sink opens or planted before its first write, and leave
    /// the link's target untouched; a link among the parent directories is fine.
    #[cfg(unix)]
    #[tokio::test]
    async fn sinks_refuse_to_write_through_a_symlink() {
        use serde_json::json;

        use crate::connectors::files::{CsvSink, CsvSinkConfig, JsonlSink, JsonlSinkConfig};
        use crate::page::CommitToken;
        use crate::sink::{OpenContext, Writes};

        async fn run<K: Writes>(mut sink: K) -> crate::Result<()> {
            sink.open(OpenContext { scope: "s", checkpoint: None }).await?;
            sink.write_batch(&[json!({"id": 1})], CommitToken { seq: 1, part: 0 }).await?;
            sink.flush().await.map(|_| ())
        }
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious.txt");
        for name in ["out.jsonl", "out.csv"] {
            let path = dir.path().join(name);
            let sink =
                |path: &Path| -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::Result<()>>>> {
                    let path = path.to_str().unwrap().to_owned();
                    if name.ends_with("jsonl") {
                        Box::pin(run(JsonlSink::new(JsonlSinkConfig::new(path))))
                    } else {
                        Box::pin(run(CsvSink::new(CsvSinkConfig::new(path))))
                    }
                };
            // A link present when the sink opens.
            fs::write(&precious, "keep me\n").unwrap();
            std::os::unix::fs::symlink(&precious, &path).unwrap();
            let error = sink(&path).await.unwrap_err();
            assert!(
                error.message().contains("is a symbolic link: file sinks do not write through links"),
                "{error}"
            );
            assert_eq!(read(&precious), "keep me\n");
            // A link planted between opening (no file yet) and the first write.
            fs::remove_file(&path).unwrap();
            let mut w = FileWriter::open(&path, None, false).unwrap();
            std::os::unix::fs::symlink(&precious, &path).unwrap();
            let error = w.write_all(b"x\n").unwrap_err();
            assert!(error.to_string().contains("is a symbolic link"), "{error}");
            assert_eq!(read(&precious), "keep me\n");
            fs::remove_file(&path).unwrap();
        }
        // A symlinked parent directory is followed.
        let real = dir.path().join("real");
        fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("linked")).unwrap();
        let path = dir.path().join("linked/out.jsonl");
        run(JsonlSink::new(JsonlSinkConfig::new(path.to_str().unwrap()))).await.unwrap();
        assert_eq!(read(&real.join("out.jsonl")), "{\"id\":1}\n");
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
