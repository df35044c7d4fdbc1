#!/usr/bin/env bash
# faucet's benchmark harness (issue 9). Builds the generator, the compiled
# scenarios and the hand-written references in release, generates the seeded
# CSV, runs every scenario next to its reference (and faucet-cli 1.17.0, the
# peer, when it can be installed), checks that the outputs hold the same
# records, and prints a table. See BENCHMARKS.md.
#
#   bench/run.sh                  A, B, C and D at 1M rows, E at 100k and 10M rows
#   bench/run.sh --smoke          A, B, C and D at 10k rows, one run each, no peer (CI)
#   bench/run.sh --rows 200000 --only "A D" --e-sizes "100000 1000000" --runs 3
#
# B and C (PostgreSQL) use database faucet_bench on 127.0.0.1:5432
# (FAUCET_BENCH_PG_URL overrides it), created and loaded from the seeded CSV.
# Environment: FAUCET_BENCH_SKIP_PEER=1 skips faucet-cli; FAUCET_BENCH_DIR is
# where data and outputs go (default target/bench/run); CARGO_TARGET_DIR
# defaults to target/bench so the release build leaves the shared debug
# artifacts alone. Timings never fail the script; a failed run or a parity
# mismatch does.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

smoke=0 rows=1000000 only="A B C D E" e_sizes="100000 10000000" runs=5 warmup=1 seed=42
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1 ;;
    --rows) rows=$2; shift ;;
    --only) only=$2; shift ;;
    --e-sizes) e_sizes=$2; shift ;;
    --runs) runs=$2; shift ;;
    --seed) seed=$2; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$smoke" = 1 ]; then
  rows=10000 only="A B C D" runs=1 warmup=0
  export FAUCET_BENCH_SKIP_PEER=1
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/bench}
work=${FAUCET_BENCH_DIR:-$root/target/bench/run}
bin=$CARGO_TARGET_DIR/release
mkdir -p "$work/data" "$work/out"

log() { printf '\n==> %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
apt_install() { # apt_install PACKAGE: best effort, quiet
  have apt-get || return 1
  apt-get install -y -qq "$1" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$1" >/dev/null 2>&1; }
}

# --- tools -----------------------------------------------------------------
have hyperfine || apt_install hyperfine || true
have jq || apt_install jq || true
[ -x /usr/bin/time ] || apt_install time || true
use_hyperfine=0
if have hyperfine && have jq; then
  use_hyperfine=1
elif [ "$smoke" = 1 ]; then
  echo "hyperfine or jq is missing: smoke mode times single runs with GNU time instead" >&2
else
  echo "run.sh: hyperfine and jq are required (apt-get install -y hyperfine jq)" >&2
  exit 1
fi
if [ ! -x /usr/bin/time ]; then
  echo "run.sh: GNU time is required for peak RSS (apt-get install -y time)" >&2
  exit 1
fi

log "machine"
machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(rustc --version)"
echo "$machine" >&2

# --- build -----------------------------------------------------------------
log "build (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release -p faucet-bench --bins

# --- the peer ----------------------------------------------------------------
peer_dir=${XDG_CACHE_HOME:-$HOME/.cache}/faucet/bench-peer
peer=
peer_note=
if [ "${FAUCET_BENCH_SKIP_PEER:-0}" = 1 ]; then
  peer_note="faucet-cli skipped (FAUCET_BENCH_SKIP_PEER=1 or --smoke)"
elif [ -x "$peer_dir/bin/faucet" ]; then
  peer=$peer_dir/bin/faucet
elif [ -f "$peer_dir/install.failed" ]; then
  peer_note="faucet-cli 1.17.0 unavailable: its install failed before ($(head -n1 "$peer_dir/install.failed")); log in $peer_dir/install.log, delete $peer_dir/install.failed to retry"
else
  log "installing faucet-cli 1.17.0 into $peer_dir (first use; a long build)"
  mkdir -p "$peer_dir"
  if cargo install faucet-cli --version 1.17.0 --locked --ignore-rust-version --no-default-features \
      --features "source-csv,sink-jsonl,source-postgres,sink-postgres,transforms" \
      --root "$peer_dir" --target-dir "$peer_dir/target" >"$peer_dir/install.log" 2>&1; then
    peer=$peer_dir/bin/faucet
  else
    echo "$(rustc --version); $(grep -m1 '^error' "$peer_dir/install.log" || echo 'see the log')" >"$peer_dir/install.failed"
    peer_note="faucet-cli 1.17.0 unavailable: the install failed ($(head -n1 "$peer_dir/install.failed")); log in $peer_dir/install.log"
  fi
fi
[ -n "$peer_note" ] && echo "$peer_note" >&2

# --- data ------------------------------------------------------------------
dataset() { # dataset ROWS: prints the path of the seeded CSV, generating it once
  local file=$work/data/bench-$1-seed$seed.csv
  if [ ! -s "$file" ]; then
    log "generating $1 rows (seed $seed)"
    "$bin/gen-data" --rows "$1" --seed "$seed" --out "$file.tmp" && mv "$file.tmp" "$file"
  fi
  echo "$file"
}

# --- measuring -------------------------------------------------------------
results=$work/results.tsv
: >"$results"
failed=0

# measure SCENARIO ROWS PROGRAM OUT CMD...: one run under GNU time (peak RSS,
# and the output checked for parity), then hyperfine for the median wall time.
# $before_run (a shell command, empty by default) runs before every run too.
before_run=
measure() {
  local scenario=$1 n=$2 program=$3 out=$4; shift 4
  local cmd
  cmd=$(printf '%q ' "$@")
  rm -f "$out"
  [ -z "$before_run" ] || bash -c "$before_run"
  local tfile=$work/out/time.txt
  if ! /usr/bin/time -f '%e %M' -o "$tfile" "$@" >"$work/out/last.log" 2>&1; then
    echo "FAILED: $scenario $program: $cmd" >&2
    cat "$work/out/last.log" >&2
    failed=1
    return 0
  fi
  local wall rss
  read -r wall rss <"$tfile"
  local median=$wall
  if [ "$use_hyperfine" = 1 ] && [ "$runs" -gt 1 ]; then
    local json=$work/out/hyperfine.json
    hyperfine --style basic --warmup "$warmup" --runs "$runs" \
      --prepare "rm -f $(printf '%q' "$out")${before_run:+; $before_run}" \
      --export-json "$json" "$cmd" >&2
    median=$(jq '.results[0].median' "$json")
    # Leave the output of a complete run behind for the parity check.
    rm -f "$out"
    [ -z "$before_run" ] || bash -c "$before_run"
    "$@" >/dev/null 2>&1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$scenario" "$n" "$program" "$median" "$rss" >>"$results"
  printf '%s %s rows, %s: median %ss, peak %s KiB\n' "$scenario" "$n" "$program" "$median" "$rss" >&2
}

# parity SCENARIO N EXPECTED ACTUAL PROGRAM
parity() {
  local count
  if [ ! -f "$4" ]; then
    echo "PARITY FAILED: $1 $5 wrote no output ($4)" >&2
    failed=1
  elif count=$("$bin/bench-parity" "$3" "$4"); then
    if [ "$count" != "$2" ]; then
      echo "PARITY FAILED: $1 $5 wrote $count records, the input has $2" >&2
      failed=1
    else
      echo "parity: $1 $5 = reference ($count records, key-sorted)" >&2
    fi
  else
    echo "PARITY FAILED: $1 $5 differs from the reference" >&2
    failed=1
  fi
}

# scenario LABEL KIND ROWS: KIND is a or d.
scenario() {
  local label=$1 kind=$2 n=$3
  local input
  input=$(dataset "$n")
  local o_ref=$work/out/$label-$n-reference.jsonl o_fct=$work/out/$label-$n-faucet.jsonl o_peer=$work/out/$label-$n-faucet-cli.jsonl
  log "scenario $label: $n rows"
  measure "$label" "$n" reference "$o_ref" "$bin/reference_$kind" "$input" "$o_ref"
  measure "$label" "$n" faucet "$o_fct" env BENCH_IN="$input" BENCH_OUT="$o_fct" "$bin/faucet_$kind"
  parity "$label" "$n" "$o_ref" "$o_fct" faucet
  if [ -n "$peer" ]; then
    measure "$label" "$n" faucet-cli "$o_peer" env BENCH_IN="$input" BENCH_OUT="$o_peer" "$peer" run "bench/peer/bench_$kind.yaml"
    parity "$label" "$n" "$o_ref" "$o_peer" faucet-cli
  fi
  rm -f "$o_ref" "$o_fct" "$o_peer"
}

# --- PostgreSQL (B, C) ----------------------------------------------------------
pg_url=${FAUCET_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/faucet_bench}
psql_bench() { psql "$pg_url" -v ON_ERROR_STOP=1 -qAtX "$@"; }

# pg_load ROWS: table `bench` holds the seeded CSV of ROWS rows (loaded once
# per size); `bench_dest` (faucet's target) and `bench_dest_ref` (the
# reference's) are `bench` with `created_at` as text, as faucet-stream's benchmark has them.
pg_load() {
  local input
  input=$(dataset "$1")
  local db=${pg_url##*/}
  db=${db%%\?*}
  if [ -z "$(psql "${pg_url%/*}/postgres" -qAtX -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    psql "${pg_url%/*}/postgres" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\""
  fi
  local tag="$1 rows, seed $seed"
  if [ "$(psql_bench -c "SELECT obj_description(to_regclass('bench'))" 2>/dev/null)" != "$tag" ]; then
    log "loading $1 rows into PostgreSQL ($pg_url, table bench)"
    psql_bench <<SQL
DROP TABLE IF EXISTS bench, bench_dest, bench_dest_ref;
CREATE TABLE bench (id bigint PRIMARY KEY, first_name text, country text, amount double precision,
                    created_at timestamptz, active boolean, attributes jsonb);
\copy bench FROM '$input' (FORMAT csv, HEADER true)
CREATE TABLE bench_dest (id bigint, first_name text, country text, amount double precision,
                         created_at text, active boolean, attributes jsonb);
CREATE TABLE bench_dest_ref (LIKE bench_dest);
COMMENT ON TABLE bench IS '$tag';
VACUUM ANALYZE bench;
SQL
  fi
}

# table_rows TABLE OUT: the table's rows as JSON Lines, in id order, for the parity check.
table_rows() {
  psql_bench -c "SELECT row_to_json(t) FROM (SELECT * FROM $1 ORDER BY id) t" >"$2"
}

# pg_scenario LABEL KIND ROWS: B (PostgreSQL -> JSON Lines) or C (PostgreSQL -> PostgreSQL).
pg_scenario() {
  local label=$1 kind=$2 n=$3
  pg_load "$n"
  local o_ref=$work/out/$label-$n-reference.jsonl o_fct=$work/out/$label-$n-faucet.jsonl o_peer=$work/out/$label-$n-faucet-cli.jsonl
  local peer_yaml=bench/peer/bench_$kind.yaml
  [ -f "$peer_yaml" ] || peer_yaml=bench/scenarios/bench_$kind.yaml
  log "scenario $label: $n rows"
  if [ "$kind" = b ]; then
    measure "$label" "$n" reference "$o_ref" "$bin/reference_b" "$pg_url" "$o_ref"
    measure "$label" "$n" faucet "$o_fct" env BENCH_PG_URL="$pg_url" BENCH_OUT="$o_fct" "$bin/faucet_b"
    parity "$label" "$n" "$o_ref" "$o_fct" faucet
    if [ -n "$peer" ]; then
      measure "$label" "$n" faucet-cli "$o_peer" env BENCH_PG_URL="$pg_url" BENCH_OUT="$o_peer" "$peer" run "$peer_yaml"
      parity "$label" "$n" "$o_ref" "$o_peer" faucet-cli
    fi
  else
    before_run="psql $(printf '%q' "$pg_url") -qX -c 'TRUNCATE bench_dest, bench_dest_ref'"
    measure "$label" "$n" reference "$o_ref" "$bin/reference_c" "$pg_url" bench_dest_ref
    table_rows bench_dest_ref "$o_ref"
    measure "$label" "$n" faucet "$o_fct" env BENCH_PG_URL="$pg_url" "$bin/faucet_c"
    table_rows bench_dest "$o_fct"
    parity "$label" "$n" "$o_ref" "$o_fct" faucet
    if [ -n "$peer" ]; then
      measure "$label" "$n" faucet-cli "$o_peer" env BENCH_PG_URL="$pg_url" "$peer" run "$peer_yaml"
      table_rows bench_dest "$o_peer"
      parity "$label" "$n" "$o_ref" "$o_peer" faucet-cli
    fi
    before_run=
  fi
  rm -f "$o_ref" "$o_fct" "$o_peer"
}

for s in $only; do
  case $s in
    A|a) scenario A a "$rows" ;;
    B|b) pg_scenario B b "$rows" ;;
    C|c) pg_scenario C c "$rows" ;;
    D|d) scenario D d "$rows" ;;
    E|e) for n in $e_sizes; do scenario E a "$n"; done ;;
    *) echo "run.sh: unknown scenario $s" >&2; exit 2 ;;
  esac
done

# --- the table ---------------------------------------------------------------
log "results ($machine; $([ "$use_hyperfine" = 1 ] && [ "$runs" -gt 1 ] && echo "hyperfine median of $runs runs after $warmup warm-up" || echo "one run"))"
awk -F'\t' '
  { key = $1 FS $2; sc[NR] = $1; n[NR] = $2; prog[NR] = $3; med[NR] = $4; rss[NR] = $5
    if ($3 == "reference") ref[key] = $4; if ($3 == "faucet-cli") cli[key] = $4 }
  function ratio(a, b) { return (b == "" || a == 0 || b == 0) ? "–" : sprintf("%.2f×", b / a) }
  END {
    print "| scenario | rows | program | median wall s | rows/s | peak MiB | × reference | × faucet-cli |"
    print "|---|---:|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= NR; i++) {
      key = sc[i] FS n[i]
      rate = med[i] > 0 ? sprintf("%d", n[i] / med[i]) : "–"
      printf "| %s | %d | %s | %.3f | %s | %.1f | %s | %s |\n", sc[i], n[i], prog[i], med[i],
        rate, rss[i] / 1024, ratio(med[i], ref[key]), ratio(med[i], cli[key])
    }
  }' "$results" | tee "$work/results.md"
echo "(× = rows/s relative to that program; above 1 is faster. Raw rows: $results)"
[ -n "$peer_note" ] && echo "$peer_note"

if [ "$failed" = 1 ]; then
  echo "run.sh: a run failed or an output differs from the reference" >&2
  exit 1
fi
