#!/usr/bin/env bash
# The census of faucet-stream's own example configs: runs `faucet-gen check`
# over every pipeline config among faucet-cli 1.17.0's examples and sorts each
# into one class:
#   compiles        compiles unchanged
#   not-yet         fails only with "not supported by faucet yet" errors
#   fails           fails otherwise (its errors are printed)
# and says, for each, whether it uses only connector types faucet has (a
# `file` type counts as one, though faucet-stream's path-based `file` is
# another connector than faucet's `file` object store: those are counted too).
#
# Not part of CI (it needs the published crate unpacked in ~/.cargo/registry:
# `cargo install faucet-cli@1.17.0 --no-default-features` or `cargo fetch` of
# a crate depending on it unpacks it).
#
# Usage: bench/upstream-census.sh [FAUCET_GEN_BINARY]
#   Without an argument the CLI of this checkout is built and used.
#   FAUCET_CENSUS_VERBOSE=1 also prints the errors of "not-yet" files.
set -euo pipefail

cd "$(dirname "$0")/.."
examples=$(ls -d "$HOME"/.cargo/registry/src/*/faucet-cli-1.17.0/examples 2>/dev/null | head -1 || true)
if [[ -z "$examples" ]]; then
    echo "faucet-cli 1.17.0 is not unpacked under ~/.cargo/registry/src; nothing to count" >&2
    exit 0
fi
bin=${1:-}
if [[ -z "$bin" ]]; then
    cargo build -q -p faucet-gen-cli
    bin="${CARGO_TARGET_DIR:-target}/debug/faucet-gen"
fi

python3 - "$bin" "$examples" <<'PY'
import os, re, subprocess, sys
import yaml

binary, root = sys.argv[1], sys.argv[2]
verbose = os.environ.get("FAUCET_CENSUS_VERBOSE") == "1"

# The connector types faucet generates (faucet-gen/src/connectors/mod.rs).
SOURCES = {"csv", "jsonl", "s3", "gcs", "azure", "azure-blob", "file", "memory", "rest",
           "postgres", "postgres_cdc", "postgres-cdc", "kafka", "sqlite", "mysql"}
SINKS = {"jsonl", "csv", "stdout", "sqlite", "s3", "gcs", "azure", "azure-blob", "file",
         "memory", "postgres", "kafka", "mysql"}

def connectors(node, role=None, out=None):
    """Every (role, type) of a source or sink block in the config; faucet-stream's
    path-based `file` connector (not faucet's `file` object store) as `file(path)`."""
    out = [] if out is None else out
    if isinstance(node, dict):
        if role and isinstance(node.get("type"), str):
            config = node.get("config") if isinstance(node.get("config"), dict) else {}
            path_file = node["type"] == "file" and "path" in config and "root" not in config
            out.append((role, "file(path)" if path_file else node["type"]))
        for key, value in node.items():
            if key in ("source", "sink"):
                connectors(value, key, out)
            elif key in ("sources", "sinks") and isinstance(value, dict):
                for template in value.values():
                    connectors(template, key[:-1], out)
            elif key in ("discover",):
                connectors(value, None, out)
            elif key not in ("transforms", "config"):
                connectors(value, None, out)
    elif isinstance(node, list):
        for item in node:
            connectors(item, None, out)
    return out

files = []
for dirpath, _, names in os.walk(root):
    for name in sorted(names):
        if name.endswith((".yaml", ".yml")):
            files.append(os.path.join(dirpath, name))
files.sort()

rows = []
for path in files:
    try:
        doc = yaml.safe_load(open(path))
    except Exception:
        continue
    if not isinstance(doc, dict) or "pipeline" not in doc:
        continue
    used = connectors(doc)
    pipeline = doc.get("pipeline") or {}
    if not used and not (isinstance(pipeline, dict) and "nodes" in pipeline) and "extends" not in doc:
        continue  # no source or sink anywhere: a `faucet serve` base, not a pipeline
    has_all = all(t in (SOURCES if r == "source" else SINKS) or t == "file(path)" for r, t in used)
    path_file = any(t == "file(path)" for _, t in used)
    run = subprocess.run([binary, "check", path], capture_output=True, text=True)
    text = run.stdout + run.stderr
    errors = [m for m in re.findall(r"^error: (.*)$", text, re.M)
              if not re.match(r"\d+ of \d+ file\(s\) have errors", m)]
    if run.returncode == 0 and not errors:
        verdict = "compiles"
    elif errors and all(re.search(r"not supported by faucet('s [a-z ]+)? yet|does not support the .* yet", e) for e in errors):
        verdict = "not-yet"
    else:
        verdict = "fails"
    rows.append((os.path.relpath(path, root), has_all, verdict, errors, text, path_file))

def count(subset, verdict):
    return sum(1 for r in subset if r[2] == verdict)

for label, subset in (("only connectors faucet has", [r for r in rows if r[1]]),
                      ("  of which without faucet-stream's path `file`", [r for r in rows if r[1] and not r[5]]),
                      ("other connectors too", [r for r in rows if not r[1]])):
    print(f"== {label}: {len(subset)} configs")
    for verdict in ("compiles", "not-yet", "fails"):
        print(f"   {verdict:9} {count(subset, verdict)}")
print()
for name, has_all, verdict, errors, text, _ in rows:
    print(f"{verdict:9} {'has' if has_all else 'lacks':5} {name}")
    if verdict == "fails" or (verbose and verdict == "not-yet"):
        for e in errors:
            print(f"            - {e}")
PY
