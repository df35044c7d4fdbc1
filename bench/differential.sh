#!/usr/bin/env bash
# The differential suite (issue 19): every config in bench/differential/ run
# through faucet and through faucet-cli 1.17.0 on the same inputs, and what
# each left behind (files, PostgreSQL tables, SQLite tables, DLQ and state
# files, stdout, exit statuses) compared record by record after key-sorted
# normalization, value types and number text included. Prints a table: case,
# records, differences, the first differing record. Not run by CI (.ci/run):
# the peer takes a long first build.
#
#   bench/differential.sh                 every case
#   bench/differential.sh flatten pg_types   only these
#   bench/differential.sh --record        also rewrite bench/differential/expected/
#                                         from faucet-cli's outputs
#
# faucet-cli is installed once into ~/.cache/faucet/diff-peer (bench/peer.sh).
# Without it (FAUCET_DIFF_SKIP_PEER=1, or its install failed) the comparison
# with faucet-cli is skipped, saying why, and faucet's outputs are compared
# with the ones recorded from faucet-cli in bench/differential/expected/.
# PostgreSQL: database faucet_diff on 127.0.0.1:5432 (FAUCET_DIFF_PG_URL
# overrides it), one schema per case and program. Work files go to
# $CARGO_TARGET_DIR/differential (default target/differential), never into
# the repository. Exits 1 when a case differs without a `# diff: known:` note (or a note is stale).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
case ${1:-} in -h|--help) sed -n '2,22p' "$0"; exit 0 ;; esac

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
work=$CARGO_TARGET_DIR/differential
pg_url=${FAUCET_DIFF_PG_URL:-postgres://postgres@127.0.0.1:5432/faucet_diff}

# shellcheck source=bench/peer.sh
. "$root/bench/peer.sh"
peer= peer_note=
if [ "${FAUCET_DIFF_SKIP_PEER:-0}" = 1 ]; then
  peer_note="faucet-cli skipped (FAUCET_DIFF_SKIP_PEER=1)"
else
  peer_locate diff-peer "source-csv,sink-jsonl,sink-csv,sink-stdout,source-postgres,sink-postgres,source-sqlite,sink-sqlite,transforms"
fi

printf '\n==> %s\n' "build (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build -p faucet-bench --bin differential
args=(suite --work "$work" --pg-url "$pg_url")
if [ -n "$peer" ]; then
  args+=(--peer "$peer")
else
  echo "$peer_note" >&2
  echo "the differential comparison with faucet-cli is skipped; faucet is checked against the outputs recorded from it (bench/differential/expected/)" >&2
  for arg in "$@"; do
    [ "$arg" != --record ] || { echo "differential.sh: --record needs faucet-cli" >&2; exit 2; }
  done
fi
exec "$CARGO_TARGET_DIR/debug/differential" "${args[@]}" "$@"
