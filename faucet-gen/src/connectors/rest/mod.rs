//! `rest`: JSON over HTTP(S), with pagination, auth, retries and incremental replication.
//!
//! The settings are declared here; their value types live beside: URL,
//! header and JSONPath checks ([`checks`]), request and retry values
//! ([`values`]), JSON bodies ([`json`]), [`pagination`], [`auth`] and
//! [`replication`].

pub mod auth;
pub mod checks;
pub mod json;
pub mod pagination;
pub mod replication;
pub mod values;

use proc_macro2::TokenStream;
use quote::quote;

use self::auth::Auth;
use self::checks::{BaseUrl, JsonPath, UrlPath};
use self::json::Json;
use self::pagination::Pagination;
use self::replication::Incremental;
use self::values::{
    AnyCase, Headers, List, Method, NoPartitions, QueryParams, RateLimit, Statuses, Timeout, Wait,
};
use super::registry::Connector;
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::read::Fields;
use crate::settings::values::Int;
use crate::settings::{Declared, Flatten, settings};
use crate::spec::Spec;

settings! {
    /// JSON over HTTP(S), with pagination, auth, retries and incremental replication.
    pub struct RestSource("source.rest") {
        /// What the runtime is given.
        runtime: Flatten<RestConfig>,
        /// Accepted for faucet-stream compatibility, and not used.
        compat: Flatten<Compat>,
    }
    not_yet: [
        "query_params_multi", "schema", "partition_concurrency", "tls", "response_format",
        "csv_delimiter", "csv_has_headers", "excel_sheet", "excel_header_row", "replication_bind",
        "odata", "decode", "async_job", "window", "trusted_hosts", "allow_missing_records_path",
        "allow_repeated_pages", "assume_ordered", "retry_on_response", "on_missing_key", "requests",
        "csv_quote", "csv_null_values", "drop_key_prefixes", "record_ancestors", "records_multi",
        "op_field", "records_route", "persist_cursor", "discovery",
    ]
}

settings! {
    /// The `rest` source's runtime settings.
    pub struct RestConfig("rest.config") => rest::RestSourceConfig {
        /// Scheme, host and base path, e.g. `https://api.example.com/v1`.
        base_url: BaseUrl,
        /// Appended to `base_url`.
        path: UrlPath = "",
        /// The HTTP method.
        method: AnyCase = Method::Get,
        /// Request headers (secrets through `${env:…}`).
        headers: Headers,
        /// Query parameters.
        query_params: QueryParams,
        /// A JSON body (strings may hold `${env:…}`).
        body: Option<Json>,
        /// JSONPath of the records, e.g. `$.data[*]`.
        records_path: Option<JsonPath>,
        /// How the next page is requested.
        pagination: Pagination,
        /// Pages per run at most.
        max_pages: Option<Int<1, { u32::MAX as i64 }>>,
        /// Pages without records in a row that end pagination.
        max_empty_pages: Int<1, { u32::MAX as i64 }> = 10,
        /// Request timeout in seconds.
        timeout: Timeout = Timeout::secs(30),
        /// Retries of a failed request.
        max_retries: Int<0, 100> = 3,
        /// Backoff base in seconds.
        retry_backoff: Wait = Wait::secs(1),
        /// Longest `Retry-After` honoured, in seconds.
        max_retry_after: Wait = Wait::secs(60),
        /// Retry POST and PATCH too.
        retry_non_idempotent: bool = false,
        /// The largest response body read; a larger one fails the run.
        max_response_bytes: Int<1024, { 1 << 40 }> = 64u64 << 20,
        /// Least seconds between requests.
        request_delay: Wait = Wait::secs(0),
        /// Statuses that end pagination quietly.
        tolerated_http_errors: Statuses,
        /// A request rate cap.
        rate_limit: Option<RateLimit>,
        /// Incremental replication: `replication_method`, `replication_key`,
        /// `start_replication_value` and `replication_param`.
        replication: Incremental,
        /// Credentials.
        auth: Auth,
        /// The stream's name, in the log line that ends each run's pagination.
        name: Option<String>,
    }
}

settings! {
    /// Keys faucet-stream configs carry that faucet accepts and ignores: the
    /// state key is the driver's (`pipeline::row`), and schema inference is
    /// not a faucet feature.
    pub struct Compat("rest.compat") {
        /// Accepted for faucet-stream compatibility (the key is `pipeline::row`).
        state_key: Option<String>,
        /// Accepted for faucet-stream compatibility.
        primary_keys: Option<List<String>>,
        /// Accepted for faucet-stream compatibility.
        schema_sample_size: Option<Int<0, { i64::MAX }>>,
        /// Only an empty list is accepted for now.
        partitions: Option<NoPartitions>,
    }
}

impl Connector for RestSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(config, <Self as Declared>::spec(), what, diags)?;
        let source = Self::read(&mut f, diags);
        f.finish(diags);
        let source = source?;
        // `CursorInBody` writes the cursor into the body, which must be a map.
        let rest = &source.runtime.0;
        if let (Pagination::CursorInBody(_), Some(body)) = (&rest.pagination, &rest.body)
            && !matches!(body, Json::Map(_))
        {
            diags.error(&config.loc, "`CursorInBody` pagination needs `body` to be a map");
            return None;
        }
        Some(source)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "rest",
            "`rest` source",
            loc,
            self.runtime.0.config(g),
            quote!(#rt::connectors::rest::RestSource::new(config)?),
        )
    }
}
