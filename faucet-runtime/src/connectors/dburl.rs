//! Connection URLs of database connectors and state stores: the password is
//! registered as a secret (so no error can print it) and redacted wherever a
//! URL is shown.

/// The password of `url` (`scheme://user:password@host/…`), if any, as written.
fn password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let userinfo = authority.rsplit_once('@')?.0;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// Percent-decodes `s`; invalid escapes stay as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Registers the password of `url` (as written and percent-decoded) with
/// [`crate::secret`], so error messages never carry it.
pub fn register_password(url: &str) {
    if let Some(password) = password(url) {
        crate::secret::register(password);
        crate::secret::register(&percent_decode(password));
    }
}

/// `url` with its password replaced by `***`, for logs and `Debug` output.
pub fn redact(url: &str) -> String {
    match password(url) {
        Some(password) => {
            let start = password.as_ptr() as usize - url.as_ptr() as usize;
            format!("{}***{}", &url[..start], &url[start + password.len()..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_only_the_password() {
        assert_eq!(redact("postgres://u:s3cret@h:5432/db?x=1"), "postgres://u:***@h:5432/db?x=1");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("redis://:pw%40x@h/0"), "redis://:***@h/0");
        assert_eq!(redact("mysql://h/db?password=x@y"), "mysql://h/db?password=x@y");
        assert_eq!(password("postgres://u:a:b@h/db"), Some("a:b"));
        assert_eq!(percent_decode("pw%40x%zz"), "pw@x%zz");
    }

    #[test]
    fn registered_passwords_are_scrubbed() {
        register_password("postgres://u:hunter%2Fxyz@h/db");
        let e = crate::FaucetError::sink("failed with hunter/xyz and hunter%2Fxyz");
        assert_eq!(e.message(), "failed with *** and ***");
    }
}
