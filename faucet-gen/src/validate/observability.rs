//! `observability:`: the Prometheus exporter and tracing subscriber the
//! generated `main` installs.

use crate::diag::Diagnostics;
use crate::ir;
use crate::load::{Node, Value};
use crate::read::{Fields, text};
use crate::settings::Setting;
use crate::spec::{Field, Kind, Spec};

static PROMETHEUS: Spec = Spec {
    name: "observability.prometheus",
    doc: "A Prometheus scrape endpoint (`/metrics`), served while the generated `main()` runs.",
    fields: &[
        Field::req(
            "listen",
            Kind::Text,
            "The socket address to listen on, e.g. `127.0.0.1:9000` (`${env:…}` is read at start).",
        ),
        Field::opt(
            "buckets",
            Kind::List(&Kind::Number(0.0, f64::INFINITY)),
            "Histogram buckets in seconds, increasing (default: the exporter's).",
        ),
    ],
    variants: &[],
};

static TRACING: Spec = Spec {
    name: "observability.tracing",
    doc: "A `tracing` subscriber printing to stderr.",
    fields: &[Field::opt("level", Kind::OneOf(ir::TracingLevel::VALUES), "The most verbose level printed.")
        .default("\"info\"")],
    variants: &[],
};

/// `observability:`.
pub(crate) static OBSERVABILITY: Spec = Spec {
    name: "observability",
    doc: "What the generated `main()` installs; `run()` / `run_with()` install nothing, so a library user keeps control.",
    fields: &[
        Field::opt("prometheus", Kind::Object(&PROMETHEUS), "A Prometheus scrape endpoint."),
        Field::opt("tracing", Kind::Object(&TRACING), "A tracing subscriber on stderr."),
        Field::not_yet("otel"),
    ],
    variants: &[],
};

/// Validates `observability:`.
pub(super) fn observability(
    node: &Node,
    key_loc: &crate::diag::Loc,
    diags: &mut Diagnostics,
) -> Option<ir::Observability> {
    let mut f = Fields::with_spec(node, &OBSERVABILITY, "`observability`", diags)?;
    let prometheus = f.get("prometheus").map(|n| {
        let mut p = Fields::with_spec(n, &PROMETHEUS, "`observability.prometheus`", diags)?;
        let listen = p.require("listen", diags).and_then(|n| {
            let t = text(n, "listen", diags)?;
            if let Some(lit) = t.as_literal()
                && let Err(e) = lit.parse::<std::net::SocketAddr>()
            {
                diags.error_help(
                    &n.loc,
                    format!("`listen` {lit:?} is not a socket address: {e}"),
                    "write an IP address and a port, e.g. `127.0.0.1:9000` (or `0.0.0.0:9000` for every interface)",
                );
                return None;
            }
            Some(t)
        });
        let buckets = p.get("buckets").map(|n| buckets(n, diags));
        p.finish(diags);
        Some((listen?, flatten_opt_vec(buckets)?))
    });
    let level = f.get("tracing").map(|n| {
        let mut t = Fields::with_spec(n, &TRACING, "`observability.tracing`", diags)?;
        let level = t.get("level").map(|n| <ir::TracingLevel as Setting>::read(n, "level", diags));
        t.finish(diags);
        match level {
            Some(l) => l.map(Some),
            None => Some(None),
        }
    });
    f.finish(diags);
    let (listen, buckets) = match prometheus {
        Some(p) => {
            let (listen, buckets) = p?;
            (Some(listen), buckets)
        }
        None => (None, None),
    };
    let level = match level {
        Some(l) => l?,
        None => None,
    };
    Some(ir::Observability {
        loc: Some(key_loc.clone()),
        prometheus_listen: listen,
        prometheus_buckets: buckets,
        tracing_level: level,
    })
}

fn flatten_opt_vec(v: Option<Option<Vec<f64>>>) -> Option<Option<Vec<f64>>> {
    match v {
        None => Some(None),
        Some(Some(v)) => Some(Some(v)),
        Some(None) => None,
    }
}

/// Histogram buckets: a non-empty, increasing list of non-negative seconds.
fn buckets(node: &Node, diags: &mut Diagnostics) -> Option<Vec<f64>> {
    let help = "write increasing numbers of seconds, e.g. `[0.005, 0.05, 0.5, 5]`";
    let Value::Seq(items) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`buckets` must be a list, found {}", node.value.kind_name()),
            help,
        );
        return None;
    };
    let mut out: Vec<f64> = Vec::with_capacity(items.len());
    for item in items {
        let v = match item.value {
            Value::Int(i) if i >= 0 => i as f64,
            Value::Float(x) if x.is_finite() && x >= 0.0 => x,
            _ => {
                diags.error_help(&item.loc, "a bucket must be a non-negative number of seconds", help);
                return None;
            }
        };
        if out.last().is_some_and(|last| *last >= v) {
            diags.error_help(&item.loc, "`buckets` must be increasing", help);
            return None;
        }
        out.push(v);
    }
    if out.is_empty() {
        diags.error_help(&node.loc, "`buckets` is empty", help);
        return None;
    }
    Some(out)
}
