//! A private PostgreSQL server with `wal_level=logical` for the CDC tests:
//! the machine's server runs with `wal_level=replica`, and changing it needs
//! a restart. Started once per test process from the installed binaries
//! (`pg_config --bindir`) in a temp dir on a free port, as the `postgres`
//! user when the tests run as root (the server refuses root); a watchdog
//! process stops it and removes the directory once the test process is gone.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The running server.
#[derive(Debug)]
pub struct Server {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The server, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(start)
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `sh -c script`, as the `postgres` user when running as root.
fn shell(script: &str) -> Command {
    let mut cmd;
    if as_root() {
        cmd = Command::new("su");
        cmd.args(["postgres", "-s", "/bin/sh", "-c", script]);
    } else {
        cmd = Command::new("sh");
        cmd.args(["-c", script]);
    }
    cmd
}

fn start() -> Server {
    let bindir =
        Command::new("pg_config").arg("--bindir").output().expect("pg_config (PostgreSQL's binaries)");
    let bindir = String::from_utf8_lossy(&bindir.stdout).trim().to_owned();
    let dir = std::env::temp_dir().join(format!("faucet-pg-logical-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    run(Command::new("chmod").arg("777").arg(&dir), "chmod");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = dir.join("data");
    run(
        &mut shell(&format!(
            "{bindir}/initdb -D {} -U postgres --auth=trust -E UTF8 --no-sync >/dev/null",
            data.display()
        )),
        "initdb",
    );
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c wal_level=logical \
         -c max_replication_slots=64 -c max_wal_senders=16 -c max_connections=300 -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    );
    run(
        &mut shell(&format!(
            "{bindir}/pg_ctl -D {} -l {}/server.log -w start -o '{options}' >/dev/null",
            data.display(),
            dir.display()
        )),
        "pg_ctl start",
    );
    // Stop the server and remove its files once this process has exited.
    let stop = format!("{bindir}/pg_ctl -D {} -m immediate stop", data.display());
    let stop = if as_root() { format!("su postgres -s /bin/sh -c '{stop}'") } else { stop };
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    // `setsid --fork` detaches the watchdog and returns at once.
    Command::new("setsid")
        .args(["--fork", "sh", "-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the server's watchdog");
    Server { port, dir }
}

impl Server {
    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh database named after `prefix` and returns its name.
    pub fn database(&self, prefix: &str) -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("{prefix}_{}", nanos % 1_000_000_000_000);
        run(
            Command::new("psql").args([
                "-X",
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ]),
            "CREATE DATABASE",
        );
        name
    }

    /// Where the server keeps its files.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}
