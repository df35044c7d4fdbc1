//! The file state store.
//!
//! Each key is one file, `{dir}/{key}.json`, holding the bookmark as compact
//! JSON; `:` in a key is written `%3A` so the name is valid everywhere. A `put`
//! writes a temporary file next to the target, syncs it, renames it over the
//! target and syncs the directory: a crash leaves either the old bookmark or
//! the new one, never a torn file, and a returned `put` survives power loss.
//! Stray `.tmp` files from a crash are never read, and the first `get` of a
//! key removes those of that key left by other processes.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::store::StateStore;
use crate::error::{FaucetError, Result};

/// Numbers temporary files, so concurrent `put`s of one process never share one.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// One JSON file per key under a directory, written atomically.
///
/// Keys are checked with [`super::store::validate_key`]. Writes are atomic and
/// durable (temporary file, `fsync`, rename, directory `fsync`); the file work
/// runs on tokio's blocking pool so it never stalls the runtime.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store under `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore { dir: dir.into() }
    }

    /// The file holding `key` (already validated).
    fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", key.replace(':', "%3A")))
    }
}

/// Runs blocking file work on tokio's blocking pool.
async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FaucetError::state(format!("file state store task failed: {e}")))?
}

fn io_error(action: &str, path: &Path, error: io::Error) -> FaucetError {
    FaucetError::state(format!("cannot {action} state file {}: {error}", path.display()))
}

fn read(path: &Path) -> Result<Option<Value>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, e)),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        FaucetError::state(format!("corrupt state file {}: not valid JSON: {e}", path.display()))
    })
}

/// Removes the temporary files of `path` that a process other than this one
/// left behind (`{name}.{pid}.{n}.tmp`: it crashed between write and rename).
/// This process's own are in flight and stay. Best effort: a file that cannot
/// be removed is left as it was, since it is never read.
fn remove_stray_tmp(dir: &Path, path: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return };
    let Ok(entries) = fs::read_dir(dir) else { return };
    let own = std::process::id().to_string();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(stray) = file_name.to_str() else { continue };
        let Some(middle) = stray.strip_prefix(name).and_then(|rest| rest.strip_prefix('.')) else { continue };
        let Some((pid, n)) = middle.strip_suffix(".tmp").and_then(|m| m.split_once('.')) else { continue };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(pid) && digits(n) && pid != own {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a new temporary file of `path`'s in `tmp_dir` (created
/// if missing), synced: `{name}.{pid}.{n}.tmp`, so concurrent writers never
/// share one and [`remove_stray_tmp`] knows whose it is.
fn write_tmp(tmp_dir: &Path, path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    fs::create_dir_all(tmp_dir).map_err(|e| {
        FaucetError::state(format!("cannot create state directory {}: {e}", tmp_dir.display()))
    })?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(format!(".{}.{}.tmp", std::process::id(), TMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
    let tmp = tmp_dir.join(tmp_name);
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(io_error("write", &tmp, e))
        }
    }
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = write_tmp(dir, path, bytes)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_error("replace", path, e));
    }
    sync_dir(dir)
}

/// Writes `bytes` to `path` unless it exists: a synced temporary file is
/// hard-linked to `path`, which fails when `path` exists, so of processes
/// racing on one directory exactly one creates the file, and it is never torn.
///
/// The temporary file is made in `dir/.creating/`, where the clean-up of a
/// `get` (which removes other processes' temporary files beside the keys)
/// cannot take it from under the link; one left there by a crash is removed
/// by a later create once it is an hour old.
fn create_exclusive(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let creating = dir.join(".creating");
    remove_stale(&creating, std::time::Duration::from_secs(3600));
    let tmp = write_tmp(&creating, path, bytes)?;
    let linked = match fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        other => other.map(|()| true),
    };
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(true) => sync_dir(dir),
        Ok(false) => Ok(()),
        Err(e) => Err(io_error("create", path, e)),
    }
}

/// Removes the files in `dir` last modified more than `age` ago. Best effort.
fn remove_stale(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let old =
            entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|e| e > age));
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Makes a rename or removal in `dir` durable.
///
/// Only Unix can open and sync a directory; elsewhere the rename itself is
/// what the platform offers.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| FaucetError::state(format!("cannot sync state directory {}: {e}", dir.display())))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn remove(dir: &Path, path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("delete", path, e)),
    }
}

impl StateStore for FileStore {
    fn store_name(&self) -> &'static str {
        "file"
    }

    async fn get(&self, key: &str) -> Result<Option<Value>> {
        super::store::validate_key(key)?;
        let path = self.path_of(key);
        let dir = self.dir.clone();
        blocking(move || {
            remove_stray_tmp(&dir, &path);
            read(&path)
        })
        .await
    }

    async fn put(&self, key: &str, value: &Value) -> Result<()> {
        super::store::validate_key(key)?;
        let path = self.path_of(key);
        let bytes = serde_json::to_vec(value)
            .map_err(|e| FaucetError::state(format!("cannot encode state for {}: {e}", path.display())))?;
        let dir = self.dir.clone();
        blocking(move || write_atomic(&dir, &path, &bytes)).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        super::store::validate_key(key)?;
        let path = self.path_of(key);
        let dir = self.dir.clone();
        blocking(move || remove(&dir, &path)).await
    }

    async fn put_if_absent(&self, key: &str, value: &Value) -> Result<Value> {
        super::store::validate_key(key)?;
        let path = self.path_of(key);
        let bytes = serde_json::to_vec(value)
            .map_err(|e| FaucetError::state(format!("cannot encode state for {}: {e}", path.display())))?;
        let dir = self.dir.clone();
        blocking(move || {
            create_exclusive(&dir, &path, &bytes)?;
            read(&path)?.ok_or_else(|| {
                FaucetError::state(format!("{} vanished right after it was created", path.display()))
            })
        })
        .await
    }

    fn relocate(&mut self, dir: &Path) -> bool {
        self.dir = dir.to_path_buf();
        true
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        assert_eq!(store.store_name(), "file");
        let value = json!({"offset": 42, "files": ["a", "b"], "nested": {"x": null}});
        store.put("orders", &value).await.unwrap();
        assert_eq!(store.get("orders").await.unwrap(), Some(value.clone()));
        // Compact JSON on disk.
        let text = fs::read_to_string(dir.path().join("orders.json")).unwrap();
        assert_eq!(text, serde_json::to_string(&value).unwrap());
        assert!(!text.contains(' ') && !text.contains('\n'));
    }

    #[tokio::test]
    async fn racing_creates_agree_on_the_first_value() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("state"));
        let store = &store;
        let creates =
            (0..16).map(|i| async move { store.put_if_absent("p::shards", &json!({"i": i})).await });
        let got: Vec<Value> =
            futures_util::future::join_all(creates).await.into_iter().map(|r| r.unwrap()).collect();
        assert!(got.iter().all(|g| *g == got[0]), "{got:?}");
        assert_eq!(store.get("p::shards").await.unwrap().as_ref(), Some(&got[0]));
        assert_eq!(store.put_if_absent("p::shards", &json!(0)).await.unwrap(), got[0]);
        assert_eq!(file_names(&dir.path().join("state")), [".creating", "p%3A%3Ashards.json"]);
        assert!(file_names(&dir.path().join("state/.creating")).is_empty(), "no temporary file is left");
    }

    #[tokio::test]
    async fn creates_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a").join("b");
        let store = FileStore::new(&nested);
        store.put("k", &json!(1)).await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(json!(1)));
        assert!(nested.join("k.json").is_file());
    }

    #[tokio::test]
    async fn missing_key_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        assert_eq!(store.get("absent").await.unwrap(), None);
        // Nor does a missing directory fail a read.
        let store = FileStore::new(dir.path().join("not-there"));
        assert_eq!(store.get("absent").await.unwrap(), None);
    }

    #[tokio::test]
    async fn put_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        store.put("k", &json!({"v": 1})).await.unwrap();
        store.put("k", &json!({"v": 2})).await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(json!({"v": 2})));
        assert_eq!(file_names(dir.path()), ["k.json"]);
    }

    #[tokio::test]
    async fn delete_removes_and_tolerates_missing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        store.put("k", &json!(true)).await.unwrap();
        store.delete("k").await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), None);
        assert!(file_names(dir.path()).is_empty());
        store.delete("k").await.unwrap();
        store.delete("never").await.unwrap();
        FileStore::new(dir.path().join("no-dir")).delete("k").await.unwrap();
    }

    #[tokio::test]
    async fn colons_are_encoded_in_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        store.put("pipeline::row-0", &json!({"p": 1})).await.unwrap();
        assert_eq!(file_names(dir.path()), ["pipeline%3A%3Arow-0.json"]);
        assert_eq!(store.get("pipeline::row-0").await.unwrap(), Some(json!({"p": 1})));
        // A distinct key does not alias it.
        assert_eq!(store.get("pipeline:row-0").await.unwrap(), None);
        store.delete("pipeline::row-0").await.unwrap();
        assert!(file_names(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn put_leaves_no_tmp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        for i in 0..5 {
            store.put("a:b", &json!(i)).await.unwrap();
            store.put("c", &json!(i)).await.unwrap();
        }
        assert_eq!(file_names(dir.path()), ["a%3Ab.json", "c.json"]);
    }

    #[tokio::test]
    async fn concurrent_puts_stay_valid() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(FileStore::new(dir.path()));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.put("k", &json!({"i": i})).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let got = store.get("k").await.unwrap().unwrap();
        assert!(got["i"].as_i64().is_some_and(|i| (0..16).contains(&i)), "{got}");
        assert_eq!(file_names(dir.path()), ["k.json"]);
    }

    #[tokio::test]
    async fn stray_tmp_files_are_ignored_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        store.put("k", &json!({"good": true})).await.unwrap();
        // What a crash between write and rename leaves behind.
        fs::write(dir.path().join("k.json.999.0.tmp"), b"{\"good\": fal").unwrap();
        fs::write(dir.path().join("other.json.1.2.tmp"), b"{}").unwrap();
        // This process's own temporary file (a `put` in flight) stays, as does another key's.
        let own = format!("k.json.{}.7.tmp", std::process::id());
        fs::write(dir.path().join(&own), b"{}").unwrap();
        fs::write(dir.path().join("k.json.1.2.json.3.4.tmp"), b"{}").unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(json!({"good": true})));
        assert_eq!(
            file_names(dir.path()),
            ["k.json", "k.json.1.2.json.3.4.tmp", own.as_str(), "other.json.1.2.tmp"]
        );
        assert_eq!(store.get("other").await.unwrap(), None);
        assert_eq!(file_names(dir.path()), ["k.json", "k.json.1.2.json.3.4.tmp", own.as_str()]);
        store.put("k", &json!({"good": 2})).await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(json!({"good": 2})));
    }

    #[tokio::test]
    async fn invalid_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let long = "x".repeat(257);
        for key in ["", "../escape", "a/b", ".hidden", "sp ace", long.as_str()] {
            let err = store.put(key, &json!(1)).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::State, "{key:?}");
            assert_eq!(store.get(key).await.unwrap_err().kind(), ErrorKind::State, "{key:?}");
            assert_eq!(store.delete(key).await.unwrap_err().kind(), ErrorKind::State, "{key:?}");
        }
        assert!(file_names(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn corrupt_file_is_a_state_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let path = dir.path().join("k.json");
        fs::write(&path, b"{\"offset\": 4").unwrap();
        let err = store.get("k").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::State);
        assert!(err.message().contains(&path.display().to_string()), "{err}");
        // An empty file is corrupt too.
        fs::write(&path, b"").unwrap();
        assert_eq!(store.get("k").await.unwrap_err().kind(), ErrorKind::State);
        // A put repairs it.
        store.put("k", &json!(7)).await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(json!(7)));
    }

    #[tokio::test]
    async fn unreadable_path_is_a_state_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        // A directory where the file should be.
        fs::create_dir(dir.path().join("k.json")).unwrap();
        let err = store.get("k").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::State);
        assert!(err.message().contains("k.json"), "{err}");
        let err = store.put("k", &json!(1)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::State);
        assert!(err.message().contains("k.json"), "{err}");
        // The failed put cleaned up its temporary file.
        assert_eq!(file_names(dir.path()), ["k.json"]);
    }
}
