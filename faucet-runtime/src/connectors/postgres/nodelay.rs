//! Turns Nagle's algorithm off on a PostgreSQL connection's socket.
//!
//! sqlx 0.9.0 opens its TCP sockets without `TCP_NODELAY` (0.8 set it; the
//! fix is upstream but not released). Without it every `COPY` costs about
//! 40 ms: `CopyDone` is a small write that Nagle holds back until the server
//! acknowledges the last data segment, which the server's delayed ACK sends
//! only after its timer. With 5,000-row pages that is 8 s of waiting per
//! million rows. sqlx does not hand out its socket, so this finds it: the
//! server reports the connection's client port, and the one TCP socket of this
//! process whose local and peer ports are that pair is the connection's.
//!
//! Best effort and Linux only: when the socket cannot be found the connection
//! works as before, only slower. Remove once a sqlx release sets the option.

use sqlx::postgres::PgConnection;

/// Sets `TCP_NODELAY` on `conn`'s socket when it is a TCP connection.
pub(super) async fn set_nodelay(conn: &mut PgConnection) {
    #[cfg(target_os = "linux")]
    {
        let ports: Result<(Option<i32>, Option<i32>), _> =
            sqlx::query_as("SELECT inet_client_port(), inet_server_port()").fetch_one(&mut *conn).await;
        // NULL ports: a Unix-domain socket, where Nagle does not apply.
        if let Ok((Some(client), Some(server))) = ports
            && let (Ok(client), Ok(server)) = (u16::try_from(client), u16::try_from(server))
            && !linux::set_on_socket(client, server)
        {
            tracing::debug!(client, server, "postgres: TCP socket not found, TCP_NODELAY not set");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = conn;
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::{BorrowedFd, RawFd};

    use socket2::SockRef;

    /// Sets `TCP_NODELAY` on the socket of this process connected from local
    /// port `local` to peer port `peer`; false when there is none.
    pub(super) fn set_on_socket(local: u16, peer: u16) -> bool {
        let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return false };
        for entry in entries.flatten() {
            let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<RawFd>().ok()) else {
                continue;
            };
            // SAFETY: `fd` is listed as open in this process and is only used for the
            // duration of this iteration for getsockname/getpeername/setsockopt,
            // which read or set socket options and never close it. Should another
            // thread close and reuse the number meanwhile, the calls fail
            // (EBADF/ENOTSOCK) or look at the new socket, whose ports then differ.
            #[allow(unsafe_code)]
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let socket = SockRef::from(&fd);
            let port = |addr: std::io::Result<socket2::SockAddr>| addr.ok()?.as_socket().map(|a| a.port());
            if port(socket.local_addr()) == Some(local) && port(socket.peer_addr()) == Some(peer) {
                return socket.set_tcp_nodelay(true).is_ok();
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::ConnectOptions;
    use sqlx::postgres::PgConnectOptions;

    use super::*;
    use crate::connectors::postgres::testdb::URL;

    /// After `set_nodelay`, exactly the connection's own socket has the option.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn sets_the_option_on_the_connections_socket() {
        let mut conn = PgConnectOptions::from_str(URL).unwrap().connect().await.expect("PostgreSQL");
        let (client,): (i32,) =
            sqlx::query_as("SELECT inet_client_port()").fetch_one(&mut conn).await.unwrap();
        let nodelay = || {
            let entries = std::fs::read_dir("/proc/self/fd").unwrap();
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .find_map(|fd| {
                    #[allow(unsafe_code)]
                    // SAFETY: as in `set_on_socket`; the test's own connection stays open.
                    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                    let socket = socket2::SockRef::from(&fd);
                    let local = socket.local_addr().ok()?.as_socket()?.port();
                    (i32::from(local) == client).then(|| socket.tcp_nodelay().unwrap())
                })
                .expect("the connection's socket is found")
        };
        assert!(!nodelay(), "sqlx 0.9.0 leaves Nagle on; if a release sets it, delete this module");
        set_nodelay(&mut conn).await;
        assert!(nodelay());
    }
}
