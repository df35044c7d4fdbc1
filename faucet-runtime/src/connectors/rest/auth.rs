//! How requests authenticate; the OAuth2 token cache.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use tokio::time::Instant;

use super::{Auth, OAuth2Config};
use crate::error::{FaucetError, Result};
use crate::secret::SecretString;

/// A cached OAuth2 access token.
pub(super) struct Token {
    header: HeaderValue,
    refresh_at: Option<Instant>,
}

impl Token {
    /// A token valid for `expires_in`, refreshed after `ratio` of it.
    pub(super) fn new(access_token: &str, expires_in: Option<Duration>, ratio: f64) -> Result<Self> {
        crate::secret::register(access_token);
        let header = bearer(access_token)?;
        let ratio = if ratio.is_nan() { 1.0 } else { ratio.clamp(0.0, 1.0) };
        // A lifetime too long to add to now never needs a refresh.
        let refresh_at = expires_in.and_then(|d| Instant::now().checked_add(d.mul_f64(ratio)));
        Ok(Token { header, refresh_at })
    }
}

/// The auth as applied to requests: headers built once, the token cached.
pub(super) struct AuthState {
    header: Option<(HeaderName, HeaderValue)>,
    basic: Option<(String, SecretString)>,
    query: Option<(String, SecretString)>,
    oauth2: Option<OAuth2Config>,
    token: Option<Token>,
}

fn bearer(token: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| FaucetError::config("the bearer token is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

impl AuthState {
    pub(super) fn new(auth: &Auth) -> Result<Self> {
        let mut state = AuthState { header: None, basic: None, query: None, oauth2: None, token: None };
        match auth {
            Auth::None => {}
            Auth::Bearer { token } => state.header = Some((AUTHORIZATION, bearer(token.expose())?)),
            Auth::Basic { username, password } => {
                // A server may echo the header: its base64 is scrubbed with the pair.
                crate::secret::register(&format!("{username}:{}", password.expose()));
                state.basic = Some((username.clone(), password.clone()));
            }
            Auth::ApiKey { header, value } => {
                let name = HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| FaucetError::config(format!("`{header}` is not a valid header name")))?;
                let mut value = HeaderValue::from_str(value.expose())
                    .map_err(|_| FaucetError::config("the API key is not a valid header value"))?;
                value.set_sensitive(true);
                state.header = Some((name, value));
            }
            Auth::ApiKeyQuery { param, value } => state.query = Some((param.clone(), value.clone())),
            Auth::OAuth2(config) => state.oauth2 = Some(config.clone()),
        }
        Ok(state)
    }

    /// The OAuth2 settings when a token must be fetched before the next request.
    pub(super) fn needs_token(&self) -> Option<&OAuth2Config> {
        let oauth2 = self.oauth2.as_ref()?;
        match &self.token {
            Some(t) if t.refresh_at.is_none_or(|at| Instant::now() < at) => None,
            _ => Some(oauth2),
        }
    }

    pub(super) fn store(&mut self, token: Token) {
        self.token = Some(token);
    }

    /// Forgets the cached token (after a 401); true when there was one to forget.
    pub(super) fn invalidate(&mut self) -> bool {
        self.oauth2.is_some() && self.token.take().is_some()
    }

    /// Adds the credentials to a request.
    pub(super) fn apply(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some((name, value)) = &self.header {
            request = request.header(name, value.clone());
        }
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, token.header.clone());
        }
        if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password.expose()));
        }
        request
    }

    /// The URL with the `api_key_query` parameter set (replacing any copy a next link echoed).
    pub(super) fn url(&self, url: &url::Url) -> url::Url {
        let Some((param, value)) = &self.query else {
            return url.clone();
        };
        let mut url = url.clone();
        if url.query_pairs().any(|(k, _)| k == param.as_str()) {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != param.as_str())
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            url.set_query(None);
            if !kept.is_empty() {
                url.query_pairs_mut().extend_pairs(kept);
            }
        }
        url.query_pairs_mut().append_pair(param, value.expose());
        url
    }
}
