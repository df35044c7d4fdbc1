//! Connection URLs of database connectors and state stores: their credentials
//! (the password, and query parameters such as `?password=` or `?sslpassword=`)
//! are registered as secrets (so no error can print them) and redacted
//! wherever a URL is shown.

use std::ops::Range;

use faucet_credentials::percent_decode;

/// The byte ranges of `url`'s credentials, as written: the userinfo password
/// (`scheme://user:password@host/…`) and the values of the query parameters
/// whose names are credentials (faucet-credentials' rule, as at build time).
fn credentials(url: &str) -> Vec<Range<usize>> {
    faucet_credentials::url_credentials(url).into_iter().map(|c| c.value).collect()
}

/// Registers the credentials of `url` (as written and percent-decoded) as
/// secrets, so error messages never carry them.
pub fn register_password(url: &str) {
    for range in credentials(url) {
        crate::secret::registry::register(&url[range.clone()]);
        crate::secret::registry::register(&percent_decode(&url[range]));
    }
}

/// `url` with its credentials replaced by `***`, for logs and `Debug` output
/// (host, database and the other parameters stay readable).
pub fn redact(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut at = 0;
    for range in credentials(url) {
        out.push_str(&url[at..range.start]);
        out.push_str("***");
        at = range.end;
    }
    out.push_str(&url[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_only_the_credentials() {
        assert_eq!(redact("postgres://u:s3cret@h:5432/db?x=1"), "postgres://u:***@h:5432/db?x=1");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("redis://:pw%40x@h/0"), "redis://:***@h/0");
        assert_eq!(redact("mysql://h/db?password=x@y"), "mysql://h/db?password=***");
        assert_eq!(
            redact("postgres://u@h/db?sslmode=require&password=pw&sslpassword=k&sslkey=/k.pem#f"),
            "postgres://u@h/db?sslmode=require&password=***&sslpassword=***&sslkey=/k.pem#f"
        );
        assert_eq!(
            redact("postgres://u@h/db?pass%77ord=pw&password="),
            "postgres://u@h/db?pass%77ord=***&password="
        );
        assert_eq!(redact("postgres://u:a:b@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:@h/db"), "postgres://u:@h/db");
        // No `scheme://`: no userinfo, but the query is still read.
        assert_eq!(redact("h/db?password=pw&x=1"), "h/db?password=***&x=1");
    }

    /// The mysql and state-store configs print their URLs through [`redact`]
    /// (the postgres ones: `postgres::tests`).
    #[cfg(all(feature = "mysql", feature = "state-postgres", feature = "state-redis"))]
    #[test]
    fn configs_hide_a_query_password_in_debug() {
        let secret = "QueryPw-Debug-6620";
        let mysql = crate::config::sql::MySqlSourceConfig {
            connection_url: format!("mysql://root@127.0.0.1/db?password={secret}"),
            input: crate::config::sql::SourceInput::Table { schema: None, name: "t".into() },
            replication_key: None,
            batch_size: 10,
        };
        let postgres_state = crate::state::PostgresStoreConfig {
            url: format!("postgres://app@127.0.0.1/db?sslmode=disable&password={secret}"),
            table: "faucet_state".into(),
            ensure_table: false,
        };
        let redis_state = crate::state::RedisStoreConfig {
            url: format!("redis://:{secret}@127.0.0.1:6379/0"),
            namespace: "n".into(),
        };
        for debug in [format!("{mysql:?}"), format!("{postgres_state:?}"), format!("{redis_state:?}")] {
            assert!(!debug.contains(secret) && debug.contains("***"), "{debug}");
        }
    }

    #[test]
    fn registered_credentials_are_scrubbed() {
        register_password("postgres://u:hunter%2Fxyz@h/db?password=query-pw-5581");
        let e = crate::FaucetError::sink("failed with hunter/xyz and hunter%2Fxyz, then query-pw-5581");
        assert_eq!(e.message(), "failed with *** and ***, then ***");
    }
}
